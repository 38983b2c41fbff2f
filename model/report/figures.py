"""The run report's charts over time and of distributions: one function per figure, drawn from small aggregated tables.

Queue length, cumulative curves, the wait distribution and the wait by hour,
throughput against capacity, and the flow diagram (the map is in
:mod:`model.report.map_figure`). Nothing here reads files or knows about
replications of the engine: every function takes frames that
:mod:`model.report.chart_frames` has already aggregated from a run folder's
tables (times as local, offset-free date-times of the scenario's time zone,
counts as means per replication) and returns a plotly figure. Each crossing
keeps one colour in every chart (:func:`model.report.style.crossing_colours`),
and every axis title carries its unit.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..scenario import MODES
from .style import (
    CHANNEL_LABEL,
    EVENT_SYMBOLS,
    MODE_DASH,
    MODE_LABEL,
    NO_CROSSING,
    OUTCOME_COLOURS,
    SHORT_DATE_TICKS,
    Clock,
    Event,
    _finish,
    _rgba,
    _stamps,
    _values,
)

__all__ = [
    "queue_figure",
    "cumulative_figure",
    "wait_distribution_figure",
    "wait_by_hour_figure",
    "throughput_figure",
    "flow_figure",
]


# --- 1. queue length over time ----------------------------------------------------------------

QUEUE_MEASURES = {
    "queue_km": "queue on the road (km)",
    "vehicles_waiting": "vehicles waiting (vehicles)",
    "people_waiting": "people waiting, all channels (people)",
}


def queue_figure(
    summary: pd.DataFrame,
    booths: pd.DataFrame,
    events: list[Event],
    colours: dict[str, str],
    replications: int,
    clock: Clock,
) -> go.Figure:
    """Queue km per crossing over date-time: median line with a 5-95 % band; buttons switch to vehicles or people.

    ``summary`` is the run's queues_summary (local times); ``booths`` has per
    crossing and grid time the booths open per channel (NaN: no such
    channel), for the hover.
    Capacity events are vertical lines with a marker at the top of the plot.
    """
    fig = go.Figure()
    band = replications > 1
    roles: list[tuple[str | None, bool]] = []  # per trace: the measure it shows (None: always) and whether it is in the legend

    def add(trace: go.Scatter, measure: str | None, in_legend: bool) -> None:
        fig.add_trace(trace)
        roles.append((measure, in_legend))

    for crossing, colour in colours.items():
        s = summary[summary["crossing"] == crossing]
        if s.empty:
            continue
        b = booths[booths["crossing"] == crossing].set_index("time").reindex(s["time"])
        modes = [m for m in MODES if b[m].notna().any()]
        x = _stamps(s["time"])
        custom = np.column_stack([s["queue_km_median"], s["vehicles_waiting_median"], s["people_waiting_median"],
                                  *(b[m].fillna(0) for m in modes)]).astype(float).round(2).astype(np.float32)
        booth_text = ", ".join(f"{MODE_LABEL[m]} %{{customdata[{3 + k}]}}" for k, m in enumerate(modes))
        for measure in QUEUE_MEASURES:
            shown = measure == "queue_km"
            if band:
                add(go.Scatter(x=x, y=_values(s[f"{measure}_p95"]), mode="lines", line=dict(width=0), showlegend=False,
                               hoverinfo="skip", legendgroup=crossing, visible=shown), measure, False)
                add(go.Scatter(x=x, y=_values(s[f"{measure}_p05"]), mode="lines", line=dict(width=0), fill="tonexty",
                               fillcolor=_rgba(colour, 0.18), showlegend=False, hoverinfo="skip", legendgroup=crossing,
                               visible=shown), measure, False)
            add(go.Scatter(
                x=x, y=_values(s[f"{measure}_median"]), mode="lines", name=crossing, legendgroup=crossing,
                line=dict(color=colour, width=2), customdata=custom, visible=shown, showlegend=shown,
                hovertemplate=(f"<b>{crossing}</b>: %{{customdata[0]:.2f}} km, %{{customdata[1]:,.0f}} vehicles, "
                               f"%{{customdata[2]:,.0f}} people waiting; booths open: {booth_text}<extra></extra>"),
            ), measure, True)
    if band:
        add(go.Scatter(x=[None], y=[None], mode="lines", name="band: 5th-95th percentile of replications",
                       line=dict(color="rgba(120,120,120,0.35)", width=10)), None, True)
    for trace, in_legend in _event_traces(fig, events, colours):
        add(trace, None, in_legend)
    buttons = [
        dict(label=label.split(" (")[0], method="update",
             args=[{"visible": [r in (None, m) for r, _ in roles], "showlegend": [r in (None, m) and leg for r, leg in roles]},
                   {"yaxis.title.text": label}])
        for m, label in QUEUE_MEASURES.items()
    ]
    # the legend hangs from the top of the figure and the buttons stand on the plot, with room between them
    # for a legend of two lines (wide) or one entry a line (narrow): they never overprint each other
    menu = dict(type="buttons", direction="right", buttons=buttons, x=0, xanchor="left", y=1, yanchor="bottom",
                showactive=True, pad=dict(r=0, t=0, b=8))
    return _finish(
        fig, 500,
        xaxis=dict(**clock.axis(), rangeslider=dict(visible=True, thickness=0.07)),
        yaxis=dict(title=dict(text=QUEUE_MEASURES["queue_km"]), rangemode="tozero"),
        showlegend=True,
        legend=_legend_top(),
        yaxis2=dict(overlaying="y", range=[0, 1], visible=False, fixedrange=True),
        hovermode="x unified",
        updatemenus=[menu],
        margin=dict(t=140),
        narrow=dict(height=600, font=dict(size=11), legend=_legend_top(narrow=True), margin=dict(t=175, l=50, r=12),
                    xaxis=dict(tickformatstops=SHORT_DATE_TICKS, nticks=5),
                    updatemenus=[dict(menu, type="dropdown", direction="down", pad=dict(r=0, t=0, b=6))]),
    )


def _legend_top(narrow: bool = False, title: str = "") -> dict:
    """A legend hanging from the top edge of the figure: in rows (wide) or one entry a line (narrow)."""
    # (a legend in rows may start at the figure's left edge, for room; one a line must not: plotly.js fails on it)
    return dict(orientation="v" if narrow else "h", yref="container", y=1, yanchor="top", xref="paper" if narrow else "container",
                x=0, xanchor="left", title=dict(text=title, side="top" if title and not narrow else None),
                tracegroupgap=0 if narrow else 10)


def _event_traces(fig: go.Figure, events: list[Event], colours: dict[str, str]) -> list[tuple[go.Scatter, bool]]:
    """Event markers near the top of the plot (one row per crossing) with dotted lines and shaded closures.

    Returns (trace, in legend) pairs: per kind of event a grey legend-only
    entry, and the markers themselves in their crossing's colour.
    """
    names, traces = list(colours), []
    for e in events:
        colour = colours.get(e.crossing, "#666666")
        fig.add_vline(x=e.at, line=dict(color=colour, width=1, dash="dot"), opacity=0.7)
        if e.until is not None:
            fig.add_vrect(x0=e.at, x1=e.until, fillcolor=colour, opacity=0.12, line_width=0)
    for kind, symbol in EVENT_SYMBOLS.items():
        mine = [e for e in events if e.kind == kind]
        if not mine:
            continue
        traces.append((go.Scatter(x=[None], y=[None], yaxis="y2", mode="markers", name=kind, legendgroup=kind,
                                  marker=dict(symbol=symbol, size=10, color="#777777")), True))
        traces.append((go.Scatter(
            x=_stamps([e.at for e in mine]), y=[0.97 - 0.04 * names.index(e.crossing) if e.crossing in names else 0.97 for e in mine],
            yaxis="y2", mode="markers", name=kind, legendgroup=kind, showlegend=False,
            marker=dict(symbol=symbol, size=11, color=[colours.get(e.crossing, "#666666") for e in mine],
                        line=dict(color="white", width=1)),
            text=[f"<b>{e.crossing}</b>: {e.text}" for e in mine], hovertemplate="%{text}<extra></extra>",
        ), False))
    return traces


# --- 2. cumulative curves ---------------------------------------------------------------------

CURVES = {
    "departed": ("departed towards it", "dot"),
    "arrived": ("arrived at the border", "dash"),
    "crossed": ("crossed", "solid"),
}


def _small_multiples(titles: list[str], cols: int, panel_px: int, gap_px: int, ytitle: str, clock: Clock,
                     narrow: bool = False) -> tuple[go.Figure, int]:
    """A grid of panels, one per title, filled row by row, ``cols`` wide, and the height it needs in pixels.

    Every panel has a local date axis; the bottom panel of each column shows
    its tick labels and one of them (the middle column) the axis title, so
    titles never overprint; the first panel of each row carries ``ytitle``.
    Panel i has axes x{i+1}/y{i+1} whatever ``cols`` is, so the same traces
    fit the wide grid and the narrow one (a single column).
    """
    n = len(titles)
    rows = math.ceil(n / cols)
    plot_px = rows * panel_px + (rows - 1) * gap_px
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, shared_xaxes=True,
                        horizontal_spacing=0.07 if cols > 1 else 0.0, vertical_spacing=gap_px / plot_px if rows > 1 else 0.0)
    fig.update_annotations(font=dict(size=13 if narrow else 15))
    axis = clock.axis()
    axis["tickformatstops"] = SHORT_DATE_TICKS
    title = axis.pop("title")
    fig.update_xaxes(**axis, **(dict(nticks=5) if narrow else {}))
    fig.update_yaxes(rangemode="tozero")
    titled_col = (cols - 1) // 2
    for i in range(rows * cols):
        row, col = divmod(i, cols)
        where = dict(row=row + 1, col=col + 1)
        if i >= n:  # an empty cell of the last row
            fig.update_xaxes(visible=False, **where)
            fig.update_yaxes(visible=False, **where)
            continue
        bottom = i + cols >= n
        fig.update_xaxes(showticklabels=bottom, title=title if bottom and col == titled_col else None, **where)
        fig.update_yaxes(title_text=ytitle if col == 0 else None, **where)
    return fig, plot_px


def _grid_columns(n: int) -> int:
    return min(n, 3)


def cumulative_figure(curves: pd.DataFrame, capacity: dict[tuple[str, str], pd.DataFrame], colours: dict[str, str],
                      replications: int, clock: Clock) -> go.Figure:
    """Cumulative people departed towards, arrived at and crossed each crossing, with a capacity line; buttons pick the channel.

    ``curves`` has columns crossing, channel (``all`` or a mode), time,
    departed, arrived, crossed (mean per replication);
    ``capacity[(crossing, channel)]`` has time, people and rate of the
    capacity reference line. The car channel is shown first: its queue is the
    one on the road. Panels are side by side, in one column on a narrow screen.
    """
    names = [c for c in colours if c in set(curves["crossing"])]
    present = set(curves["channel"])
    channels = [ch for ch in ("car", "all", "bus", "foot") if ch in present and (ch != "all" or len(present) > 2)]
    cols = _grid_columns(len(names))
    fig, plot_px = _small_multiples(names, cols, 330, 70, "cumulative (people)", clock)
    shown_channel: list[str] = []
    for i, crossing in enumerate(names):
        row, col = divmod(i, cols)
        for channel in channels:
            c = curves[(curves["crossing"] == crossing) & (curves["channel"] == channel)]
            if c.empty:
                continue
            what = CHANNEL_LABEL[channel]
            for column, (label, dash) in CURVES.items():
                fig.add_trace(go.Scatter(
                    x=_stamps(c["time"]), y=_values(c[column], 1), mode="lines", name=label, legendgroup=column,
                    line=dict(color=colours[crossing], dash=dash, width=2), visible=channel == channels[0],
                    hovertemplate=f"{crossing}, {what}: %{{y:,.0f}} people {label}<extra></extra>",
                ), row=row + 1, col=col + 1)
                shown_channel.append(channel)
            cap = capacity.get((crossing, channel))
            if cap is not None and len(cap):
                fig.add_trace(go.Scatter(
                    x=_stamps(cap["time"]), y=_values(cap["people"], 1), mode="lines",
                    name="capacity of the booths, from when the queue formed", legendgroup="capacity",
                    line=dict(color="#555555", dash="dashdot", width=1.5),
                    visible=channel == channels[0], customdata=cap["rate"],
                    hovertemplate=f"{crossing}, {what} at capacity: %{{y:,.0f}} people (%{{customdata:,.0f}} people/h)<extra></extra>",
                ), row=row + 1, col=col + 1)
                shown_channel.append(channel)
    legend = {ch: _first_of_each(fig, [s == ch for s in shown_channel]) for ch in channels}
    for trace, flag in zip(fig.data, legend[channels[0]]):
        trace.showlegend = flag
    buttons = [dict(label=CHANNEL_LABEL[ch], method="update",
                    args=[{"visible": [s == ch for s in shown_channel], "showlegend": legend[ch]}]) for ch in channels]
    note = f"people ({f'mean of {replications} replications' if replications > 1 else 'one replication'}): "
    menus = [dict(type="buttons", direction="right", buttons=buttons, x=0, xanchor="left", y=1.0,
                  yanchor="bottom", pad=dict(b=30))] if len(buttons) > 1 else []
    top = 150 if menus else 100
    small, small_px = _small_multiples(names, 1, 220, 60, "cumulative (people)", clock, narrow=True)
    _finish(small, small_px + top + 110, hovermode="x unified", legend=_legend_top(True, note), font=dict(size=11),
            updatemenus=menus, margin=dict(t=top + 50, l=50, r=12, b=60))
    return _finish(fig, plot_px + top + 80, hovermode="x unified", legend=_legend_top(title=note),
                   updatemenus=menus, margin=dict(t=top, b=60), narrow=small.layout)


def _first_of_each(fig: go.Figure, visible: list[bool]) -> list[bool]:
    """Legend flags: among the visible traces, only the first of each legend group is listed."""
    seen: set[str] = set()
    flags = []
    for trace, shown in zip(fig.data, visible):
        flags.append(shown and trace.legendgroup not in seen)
        if shown:
            seen.add(trace.legendgroup)
    return flags


# --- 3. waiting times -------------------------------------------------------------------------


#: Ticks of the logarithmic wait axis, in hours, with readable labels.
WAIT_TICKS = {1 / 60: "1 min", 5 / 60: "5 min", 0.25: "15 min", 0.5: "30 min", 1: "1 h", 2: "2 h", 4: "4 h",
              8: "8 h", 16: "16 h", 32: "32 h", 64: "64 h", 128: "128 h"}
SHORTEST_WAIT_H = 1 / 60


def _per_crossing_and_mode(frame: pd.DataFrame, colours: dict[str, str]):
    """Rows of ``frame`` per crossing and mode, with a trace name and a line in the crossing's colour and the mode's dash."""
    for crossing, colour in colours.items():
        for mode in MODES:
            rows = frame[(frame["crossing"] == crossing) & (frame["mode"] == mode)]
            if not rows.empty:
                yield rows, f"{crossing}, {MODE_LABEL[mode]}", dict(color=colour, dash=MODE_DASH[mode], width=2)


def _legend_right() -> dict:
    return dict(orientation="v", x=1.02, xanchor="left", y=1, yanchor="top", tracegroupgap=2)


def wait_distribution_figure(ecdf: pd.DataFrame, colours: dict[str, str]) -> go.Figure:
    """Cumulative distribution of the wait at the border, per crossing (colour) and mode (dash).

    The wait axis is logarithmic so that minutes at a quiet crossing and a day
    at a jammed one both show; waits under a minute are drawn at one minute.
    """
    fig = go.Figure()
    for e, name, line in _per_crossing_and_mode(ecdf, colours):
        fig.add_trace(go.Scatter(
            x=np.maximum(e["wait_h"], SHORTEST_WAIT_H), y=e["share"] * 100, mode="lines", name=name, line=line,
            customdata=e["wait_h"], hovertemplate=f"{name}: %{{y:.0f}} % of parties waited at most %{{customdata:.2f}} h<extra></extra>",
        ))
    top = max(float(ecdf["wait_h"].max()) if len(ecdf) else 1.0, 1.0)
    ticks = [t for t in WAIT_TICKS if t <= top * 2]
    return _finish(fig, 420,
                   xaxis=dict(title=dict(text="wait from arrival at the border to a booth (h, logarithmic scale)"), type="log",
                              tickvals=ticks, ticktext=[WAIT_TICKS[t] for t in ticks], tickangle=0,
                              range=[math.log10(SHORTEST_WAIT_H) - 0.05, math.log10(top) + 0.05]),
                   yaxis=dict(title=dict(text="parties that waited at most this long (%)"), range=[0, 101]),
                   legend=_legend_right(), showlegend=True,
                   narrow=_narrow_legend_top(len(fig.data), xaxis=dict(tickangle=-60),
                                             yaxis=dict(title=dict(text="parties waiting at most this long (%)"))))


def wait_by_hour_figure(by_hour: pd.DataFrame, colours: dict[str, str], clock: Clock) -> go.Figure:
    """Median wait of the parties that reached the border in each hour, per crossing (colour) and mode (dash)."""
    fig = go.Figure()
    for h, name, line in _per_crossing_and_mode(by_hour, colours):
        fig.add_trace(go.Scatter(
            x=_stamps(h["hour"]), y=_values(h["median"]), mode="lines", line=line, name=name,
            customdata=_values(np.column_stack([h["p90"], h["parties"]]), 2),
            hovertemplate=(f"{name}: median %{{y:.1f}} h, 90th percentile %{{customdata[0]:.1f}} h "
                           "(%{customdata[1]:,.1f} parties per replication)<extra></extra>"),
        ))
    return _finish(fig, 420, xaxis=clock.axis("hour of arrival at the border"),
                   yaxis=dict(title=dict(text="median wait until a booth (h)"), rangemode="tozero"),
                   hovermode="x unified", legend=_legend_right(), showlegend=True,
                   narrow=_narrow_legend_top(len(fig.data), xaxis=dict(tickformatstops=SHORT_DATE_TICKS, nticks=5)))


def _narrow_legend_top(entries: int, **layout) -> dict:
    """The narrow layout of a single chart with a legend on the right: the legend above it, one entry a line."""
    return dict(height=330 + 17 * entries, font=dict(size=11), margin=dict(t=25 + 17 * entries, l=50, r=12),
                legend=dict(_legend_top(narrow=True), itemwidth=30, font=dict(size=10)), **layout)


# --- 4. throughput against capacity -------------------------------------------------------------

def throughput_figure(hourly: pd.DataFrame, capacity: dict[str, pd.DataFrame], channels: dict[str, list[str]],
                      colours: dict[str, str], replications: int, clock: Clock) -> go.Figure:
    """People crossed per hour (bars) against capacity (dashed step line): a row per crossing, a column per channel.

    ``hourly`` has crossing, hour and people crossed per channel (mean per
    replication); ``capacity[crossing]`` has the step points of the capacity
    in people per hour per channel; ``channels[crossing]`` lists its channels.
    """
    names = [c for c in colours if c in capacity]
    modes = [m for m in MODES if any(m in channels[c] for c in names)]
    titles = [f"{c}, {MODE_LABEL[m]}" + ("" if m in channels[c] else " (no such channel)") for c in names for m in modes]
    fig, plot_px = _small_multiples(titles, len(modes), 190, 70, "throughput (people/h)", clock)
    for i, crossing in enumerate(names):
        h, cap = hourly[hourly["crossing"] == crossing], capacity[crossing]
        for j, mode in enumerate(m for m in modes if m in channels[crossing]):
            col = modes.index(mode) + 1
            first = i == 0 and j == 0
            fig.add_trace(go.Bar(
                x=_stamps(h["hour"]), y=_values(h[mode], 2), name="people crossed per hour", legendgroup="crossed", showlegend=first,
                marker=dict(color=colours[crossing], line_width=0), offset=0, width=3_600_000,
                hovertemplate=f"{crossing}, {MODE_LABEL[mode]}: %{{y:,.1f}} people crossed<extra></extra>",
            ), row=i + 1, col=col)
            fig.add_trace(go.Scatter(
                x=_stamps(cap["time"]), y=_values(cap[mode], 2), mode="lines",
                line=dict(shape="hv", color="#333333", width=1.5, dash="dash"),
                name="capacity: booths x service rate", legendgroup="capacity", showlegend=first,
                hovertemplate=f"{crossing}, {MODE_LABEL[mode]}: capacity %{{y:,.0f}} people/h<extra></extra>",
            ), row=i + 1, col=col)
    note = f"mean of {replications} replications" if replications > 1 else "one replication"
    small, small_px = _small_multiples(titles, 1, 150, 60, "throughput (people/h)", clock, narrow=True)
    _finish(small, small_px + 190, bargap=0, hovermode="x unified", legend=_legend_top(True, f"{note}: "),
            font=dict(size=11), margin=dict(t=110, l=50, r=12, b=60))
    return _finish(fig, plot_px + 160, bargap=0, hovermode="x unified", legend=_legend_top(title=f"{note}: "),
                   margin=dict(t=110, b=60), narrow=small.layout)


# --- 5. flows ---------------------------------------------------------------------------------


def flow_figure(flows: pd.DataFrame, origins: list[str], colours: dict[str, str], replications: int) -> go.Figure:
    """Sankey diagram origin -> crossing first headed for -> outcome, in people (mean per replication).

    ``flows`` has columns origin, first (a crossing or :data:`NO_CROSSING`),
    outcome (``crossed at <crossing>`` or a key of :data:`OUTCOME_COLOURS`),
    people and walked (people who left their car and crossed on foot).
    """
    firsts = [c for c in colours if c in set(flows["first"])] + ([NO_CROSSING] if (flows["first"] == NO_CROSSING).any() else [])
    outcomes = [f"crossed at {c}" for c in colours] + list(OUTCOME_COLOURS)
    outcomes = [o for o in outcomes if o in set(flows["outcome"])]
    nodes = [o for o in origins if o in set(flows["origin"])] + firsts + outcomes
    index = {("origin", n): i for i, n in enumerate(nodes[: len(nodes) - len(firsts) - len(outcomes)])}
    index.update({("first", n): len(index) + i for i, n in enumerate(firsts)})
    index.update({("outcome", n): len(index) + i for i, n in enumerate(outcomes)})

    def node_colour(kind: str, name: str) -> str:
        if kind == "first":
            return colours.get(name, "#999999")
        if kind == "outcome":
            return colours.get(name.removeprefix("crossed at "), OUTCOME_COLOURS.get(name, "#BBBBBB"))
        return "#7F7F7F"

    first_leg = flows.groupby(["origin", "first"], sort=False)["people"].sum().reset_index()
    second_leg = flows.groupby(["first", "outcome"], sort=False)[["people", "walked"]].sum().reset_index()
    sources, targets, values, link_colours, labels = [], [], [], [], []
    for r in first_leg.itertuples():
        sources.append(index[("origin", r.origin)])
        targets.append(index[("first", r.first)])
        values.append(r.people)
        link_colours.append(_rgba(colours.get(r.first, "#999999"), 0.35))
        labels.append(f"{r.origin} set off towards {r.first}" if r.first != NO_CROSSING else f"{r.origin}: {NO_CROSSING}")
    for r in second_leg.itertuples():
        sources.append(index[("first", r.first)])
        targets.append(index[("outcome", r.outcome)])
        values.append(r.people)
        link_colours.append(_rgba(colours.get(r.first, "#999999"), 0.35))
        walked = f", {r.walked:,.0f} of them left their cars and walked" if r.walked >= 0.5 else ""
        labels.append(f"{r.first} -> {r.outcome}{walked}")
    kinds = [k for k, _ in sorted(index, key=index.get)]
    fig = go.Figure(go.Sankey(
        arrangement="snap",
        valueformat=",.0f",
        valuesuffix=" people",
        node=dict(label=nodes, color=[node_colour(k, n) for k, n in zip(kinds, nodes)], pad=14, thickness=16,
                  line=dict(color="white", width=0.5),
                  hovertemplate="%{label}: %{value}<extra></extra>"),
        link=dict(source=sources, target=targets, value=np.round(values, 1), color=link_colours, customdata=labels,
                  hovertemplate="%{customdata}: %{value}<extra></extra>"),
    ))
    note = f"people, mean of {replications} replications" if replications > 1 else "people"
    heading = dict(text=f"origin  ->  crossing first headed for  ->  outcome ({note})", x=0, y=1, yshift=8,
                   xref="paper", yref="paper", showarrow=False, xanchor="left", yanchor="bottom", font=dict(color="#555555"))
    fig.add_annotation(heading)
    # narrow: outcome nodes say only "crossed" (their colour is the crossing's), so their labels clear the crossings' labels
    short = ["crossed" if k == "outcome" and n.startswith("crossed at ") else n for k, n in zip(kinds, nodes)]
    return _finish(fig, 480, margin=dict(l=20, r=20, t=50, b=20), narrow_traces={0: {"node.label": short}},
                   narrow=dict(height=640, font=dict(size=10), margin=dict(l=4, r=4, t=56),
                               annotations=[dict(heading, text=f"origin -> crossing first headed for -> outcome<br>({note})",
                                                 align="left")]))
