"""What the page shows, from replications: the queue chart (loaded faint, current bold) and the key figures.

The chart is the run report's queue chart (:func:`model.report.figures.queue_figure`)
drawn twice on one set of axes: the loaded scenario's median lines and
5-95% bands faint, the current settings' bold on top, with the report's
crossing colours and the capacity events of the current settings. The
measure (km, vehicles, people) is chosen on the page, so only its traces
are sent. The key figures are the mean and 95% interval of each side and the
mean of the paired differences (current minus loaded, replication by
replication: common random numbers) with its 95% interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..analysis import ReplicationResult, mean_ci, summarise_grid, to_datetimes
from ..report.chart_frames import capacity_events
from ..report.figures import QUEUE_MEASURES, queue_figure
from ..report.style import Clock, _rgba, crossing_colours, no_default_template
from ..scenario import MODES, Scenario

__all__ = ["KEY_FIGURES", "MEASURES", "Side", "side", "loaded_layer", "whatif_figure", "key_figure_rows", "zone_label", "local"]

#: The key figures side by side: figure, label, unit (``time``: a date-time, its difference in hours).
KEY_FIGURES: tuple[tuple[str, str, str], ...] = (
    ("peak_queue_km", "peak queue", "km"),
    ("peak_queue_at", "peak queue at", "time"),
    ("surge_cleared_at", "surge queue cleared at", "time"),
    ("surge_person_wait_p50_h", "wait in the surge, median person", "h"),
    ("surge_person_wait_p90_h", "wait in the surge, 90th percentile person", "h"),
    ("people_waiting_at_end", "people still waiting at the end", "people"),
)
MEASURES = dict(QUEUE_MEASURES)


@dataclass(frozen=True)
class Side:
    """One side of the comparison: its queue summary (local times), key figures per replication, and count."""

    summary: pd.DataFrame
    kpis: pd.DataFrame
    replications: int


def zone_label(scenario: Scenario) -> str:
    offset = pd.Timestamp(scenario.start).tz_convert(scenario.timezone).strftime("%z")
    return f"{scenario.timezone}, UTC{offset[:3]}:{offset[3:]}"


def local(scenario: Scenario, when) -> pd.Timestamp:
    """A date-time as a local, offset-free timestamp of the scenario's zone, as on every time axis."""
    return pd.Timestamp(when).tz_convert(scenario.timezone).tz_localize(None)


def side(scenario: Scenario, results: list[ReplicationResult]) -> Side:
    """The summary of ``results`` (replications of ``scenario``) the chart and the figures need."""
    grid = summarise_grid(pd.concat([r.grid for r in results], ignore_index=True))
    grid["time"] = to_datetimes(scenario, grid["time"]).dt.tz_localize(None).to_numpy()
    kpis = pd.concat([r.kpis for r in results], ignore_index=True)
    return Side(grid, kpis, len(results))


def _booths(scenario: Scenario, times: pd.Series) -> pd.DataFrame:
    """Booths open per channel at each crossing and time (NaN: no such channel; 0 while closed), for the hover."""
    t = times.to_numpy()

    def at(when) -> np.datetime64:
        return np.datetime64(local(scenario, when))

    frames = []
    for c in scenario.crossings:
        row = {"crossing": c.name, "time": t}
        for mode in MODES:
            ch = c.channel(mode)
            if ch is None:
                row[mode] = np.nan
                continue
            booths = np.full(len(t), float(ch.booths))
            for step in ch.booth_schedule:
                booths[t >= at(step.at)] = step.booths
            for w in c.closures:
                booths[(t >= at(w.starts)) & (t < at(w.ends))] = 0
            row[mode] = booths
        frames.append(pd.DataFrame(row))
    return pd.concat(frames, ignore_index=True)


def _window(scenario: Scenario, summary: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The whole local days in which anyone waits (above 1% of the largest 95th percentile), for the axis to open on."""
    busy = summary.loc[summary["people_waiting_p95"] > 0.01 * summary["people_waiting_p95"].max(), "time"]
    if busy.empty:
        return None
    start, end = local(scenario, scenario.start), local(scenario, scenario.end)
    first, last = max(busy.min().floor("D"), start), min(busy.max().ceil("D"), end)
    return (first, last) if last - first < 0.8 * (end - start) else None


def _for_measure(fig: go.Figure, measure: str) -> tuple[list[dict], str]:
    """The traces of ``fig`` that show ``measure`` (as its menu button would show them), as dicts, and the axis title."""
    button = next(b for b in fig.layout.updatemenus[0].buttons if b.args[1]["yaxis.title.text"] == MEASURES[measure])
    visible, legend = button.args[0]["visible"], button.args[0]["showlegend"]
    traces = []
    for trace, shown, in_legend in zip(fig.data, visible, legend):
        if shown:
            traces.append({**trace.to_plotly_json(), "visible": True, "showlegend": bool(in_legend)})
    return traces, MEASURES[measure]


def _clock(scenario: Scenario, loaded: Scenario, base: Side) -> Clock:
    return Clock(zone_label(scenario), _window(loaded, base.summary))


def loaded_layer(loaded: Scenario, base: Side, measure: str = "queue_km") -> list[dict]:
    """The loaded scenario's traces: median lines dotted and faint, bands fainter, named "(loaded)"."""
    colours = crossing_colours([c.name for c in loaded.crossings])
    with no_default_template():
        fig = queue_figure(base.summary, _booths(loaded, base.summary["time"].drop_duplicates()), [], colours, base.replications,
                           _clock(loaded, loaded, base))
    out = []
    for t in _for_measure(fig, measure)[0]:
        if str(t.get("name", "")).startswith("band"):
            continue  # the current layer names the bands
        colour = colours.get(t.get("legendgroup"), "#777777")
        t.update(legendgroup=f"{t.get('legendgroup')} (loaded)", opacity=0.6)
        if t.get("fill") == "tonexty":
            t["fillcolor"] = _rgba(colour, 0.10)
        elif t.get("hovertemplate"):
            t.update(name=f"{t['name']} (loaded)", line=dict(color=colour, width=1.3, dash="dot"),
                     hovertemplate="loaded: " + t["hovertemplate"])
        out.append(t)
    return out


def whatif_figure(scenario: Scenario, loaded: Scenario, base: Side, current: Side | None, measure: str = "queue_km",
                  faint: list[dict] | None = None) -> dict:
    """The queue chart as a figure dict: the loaded scenario faint (``faint``: :func:`loaded_layer`, if at hand),
    the current settings bold on top, with the current settings' capacity events."""
    colours = crossing_colours([c.name for c in loaded.crossings])
    faint = loaded_layer(loaded, base, measure) if faint is None else faint
    events = capacity_events(SimpleNamespace(scenario=scenario, local=lambda when: local(scenario, when)))
    shown = current or base
    with no_default_template():
        fig = queue_figure(shown.summary, _booths(scenario, shown.summary["time"].drop_duplicates()), events, colours,
                           shown.replications, _clock(scenario, loaded, base))
    bold, title = _for_measure(fig, measure)
    if current is None:  # nothing run yet for the current settings: only the events and the legend entries
        bold = [t for t in bold if t.get("yaxis") == "y2" or str(t.get("name", "")).startswith("band")]
    for t in bold:
        if t.get("hovertemplate") and t.get("fill") != "tonexty" and t.get("yaxis") != "y2":
            t["line"] = {**t.get("line", {}), "width": 2.6}
            t["hovertemplate"] = "now: " + t["hovertemplate"]
    layout = fig.layout.to_plotly_json()
    layout.pop("height", None)  # the page's box sets it
    layout.update(updatemenus=[], uirevision="whatif", autosize=True, margin={**layout.get("margin", {}), "t": 110})
    layout.pop("meta", None)
    layout["yaxis"] = {**layout.get("yaxis", {}), "title": {"text": title}}
    return {"data": faint + bold, "layout": layout}


# --- key figures -----------------------------------------------------------------------------------


def _summary(kpis: pd.DataFrame, crossing: str, kpi: str) -> tuple[float, float, float, int, int]:
    rows = kpis[kpis["crossing"] == crossing]
    x = rows[kpi].to_numpy(dtype=float)
    return (*mean_ci(x), int((~np.isnan(x)).sum()), len(x))


def key_figure_rows(scenario: Scenario, base: Side, current: Side) -> list[dict]:
    """One row per crossing (``all`` first) and key figure: loaded and current mean with 95% interval, and the
    paired difference (current minus loaded, over the replications both have) with its 95% interval, as numbers
    (time figures in minutes from the start, differences in hours) and as text."""
    rows = []
    pairs = base.kpis.merge(current.kpis, on=["replication", "crossing"], suffixes=("_a", "_b"))
    for crossing in ["all", *(c.name for c in scenario.crossings)]:
        here = pairs[pairs["crossing"] == crossing]
        for kpi, label, unit in KEY_FIGURES:
            x, y = _summary(base.kpis, crossing, kpi), _summary(current.kpis, crossing, kpi)
            diff = (here[f"{kpi}_b"] - here[f"{kpi}_a"]).to_numpy(dtype=float) / (60.0 if unit == "time" else 1.0)
            z = (*mean_ci(diff), int((~np.isnan(diff)).sum()), len(diff))
            rows.append({
                "crossing": crossing, "kpi": kpi, "label": label, "unit": "h" if unit == "time" else unit,
                "loaded": x[0], "now": y[0], "difference": z[0], "difference_low": z[1], "difference_high": z[2],
                "loaded_text": _value(scenario, x, unit), "now_text": _value(scenario, y, unit),
                "difference_text": _difference(z, unit), "direction": _direction(z),
            })
    return rows


def _number(v: float, unit: str) -> str:
    """A number as the table shows it: people whole, other figures to 2 decimals below 100; never "-0"."""
    digits = 0 if unit == "people" or abs(v) >= 100 else 2
    return f"{round(v, digits) + 0.0:,.{digits}f}"


def _value(scenario: Scenario, figure: tuple, unit: str) -> str:
    """Mean and 95% interval (of ``figure`` = mean, low, high, n, replications); a date-time as a local time ± hours.

    A figure some replications never reached (a queue that never cleared) says in how many it was.
    """
    mean, low, high, n, of = figure
    if n == 0:
        return "never" if unit == "time" else "-"
    reached = f" (in {n} of {of})" if n < of else ""
    if unit == "time":
        half = (high - low) / 2 / 60.0
        return scenario.at(mean).strftime("%a %d %b %H:%M") + ("" if math.isnan(half) else f" ± {half:.1f} h") + reached
    interval = "" if math.isnan(low) else f" ({_number(low, unit)} to {_number(high, unit)})"
    return f"{_number(mean, unit)} {unit}{interval}{reached}"


def _difference(figure: tuple, unit: str) -> str:
    mean, low, high, n, _ = figure
    if n == 0 or math.isnan(mean):
        return "-"
    unit = "h" if unit == "time" else unit
    text = f"{'+' if mean > 0 else ''}{_number(mean, unit)} {unit}"
    if math.isnan(low):
        return text + " (one pair: no interval yet)"
    return f"{text} ({_number(low, unit)} to {_number(high, unit)})"


def _direction(figure: tuple) -> str:
    """``lower``/``higher`` when the 95% interval of the difference excludes 0; ``same`` when it holds 0."""
    mean, low, high = figure[:3]
    if math.isnan(low) or math.isnan(high):
        return "same" if mean == 0 else "unsure"
    return "lower" if high < 0 else "higher" if low > 0 else "same"
