"""The run report's map: origins, routes, crossings and the border, with the queues animated over time.

A module of its own because it is unlike the other charts: it draws the
scenario's geography rather than a table, and it is returned as a plain dict
with hand-built animation frames (hundreds of them, so plotly's per-object
validation is skipped). Plain longitude/latitude axes, no map tiles, so the
page works offline.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..scenario import Scenario
from .style import _finish, of_replications

__all__ = ["map_figure"]


def map_figure(scenario: Scenario, queue: pd.DataFrame, colours: dict[str, str], replications: int,
               diversions: pd.DataFrame | None = None) -> dict:
    """Origins, routes, crossings and the border in longitude/latitude, with the queue over time as frames.

    No map tiles: plain axes whose aspect ratio corrects for latitude, so the
    page works offline. ``queue`` has crossing, time (the frame times),
    queue_km, vehicles and people (medians across replications). Each
    crossing is a marker whose size and fill show its queue km and whose
    outline is the crossing's colour; play and the slider move through time.
    """
    fig = go.Figure()
    if scenario.border:
        lat, lon = zip(*scenario.border)
        fig.add_trace(go.Scatter(x=lon, y=lat, mode="lines", name="state border (from the scenario)",
                                 line=dict(color="#444444", width=2, dash="dash"), hoverinfo="skip"))
    origins = {o.name: o for o in scenario.origins}
    crossings = {c.name: c for c in scenario.crossings}
    for crossing, colour in colours.items():
        xs, ys, texts = [], [], []
        for r in (r for r in scenario.routes if r.crossing == crossing):
            points = list(r.path) or [(origins[r.origin].lat, origins[r.origin].lon), (crossings[crossing].lat, crossings[crossing].lon)]
            ys += [p[0] for p in points] + [None]
            xs += [p[1] for p in points] + [None]
            texts += [f"{r.origin} -> {crossing}: {r.road_km:g} km by road"] * len(points) + [None]
        if xs:
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(color=colour, width=2.5), opacity=0.55,
                                     name=f"routes to {crossing}", showlegend=False, text=texts,
                                     hovertemplate="%{text}<extra></extra>"))
    _diversion_traces(fig, crossings, diversions, colours)
    people = np.array([o.people or 0.0 for o in scenario.origins])
    fig.add_trace(go.Scatter(
        x=[o.lon for o in scenario.origins], y=[o.lat for o in scenario.origins], mode="markers+text",
        name="origins (size: people leaving)", text=[o.name for o in scenario.origins],
        textposition=_label_positions(scenario), textfont=dict(size=11, color="#444444"),
        marker=dict(color="#9E9E9E", size=8 + 22 * np.sqrt(people / max(people.max(), 1.0)), line=dict(color="white", width=1)),
        customdata=people, hovertemplate="%{text}: %{customdata:,.0f} people leaving<extra></extra>",
    ))
    names = list(colours)
    wide = {col: queue.pivot_table(index="time", columns="crossing", values=col, aggfunc="first").reindex(columns=names).fillna(0.0)
            for col in ("queue_km", "vehicles", "people")}
    times = list(wide["queue_km"].index)
    cmax = max(float(wide["queue_km"].to_numpy().max()), 0.1)
    marker_style = _queue_marker_style(names, crossings, colours, replications)
    peak = int(np.argmax(wide["queue_km"].sum(axis=1).to_numpy()))  # the map opens on the longest total queue
    first = _queue_state(wide, times[peak], names, cmax)
    marker_style["marker"].update(first.pop("marker"))
    # its legend entry is drawn by a stand-in: plotly.js cannot draw a legend symbol from a colour axis
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=marker_style["name"], showlegend=True,
                             marker=dict(color="#FD8D3C", size=12, line=dict(color="#777777", width=3))))
    fig.add_trace(go.Scatter(**marker_style, **first, showlegend=False))
    animated = len(fig.data) - 1
    points = [(c.lat, c.lon) for c in scenario.crossings] + [(o.lat, o.lon) for o in scenario.origins] + list(scenario.border)
    points += [p for r in scenario.routes for p in r.path]
    lats, lons = [p[0] for p in points], [p[1] for p in points]
    mid_lat = (min(lats) + max(lats)) / 2
    play = dict(frame=dict(duration=120, redraw=False), transition=dict(duration=0), fromcurrent=True, mode="immediate")
    pause = dict(frame=dict(duration=0, redraw=False), transition=dict(duration=0), mode="immediate")
    slider = dict(
        active=peak, x=0.1, len=0.9, y=0, yanchor="top", pad=dict(t=60, b=10), ticklen=3, minorticklen=0,
        font=dict(color="rgba(0,0,0,0)", size=1),  # step labels hidden: hundreds would overlap; currentvalue shows the time
        currentvalue=dict(prefix="queue at ", font=dict(size=14, color="#222222"), xanchor="left"),
    )  # its steps, one per frame, are added to the finished figure: hundreds of them are slow to validate
    menu = dict(type="buttons", direction="left", x=0.1, xanchor="right", y=0, yanchor="top", pad=dict(t=68, r=10),
                showactive=False, buttons=[dict(label="Play", method="animate", args=[None, play]),
                                           dict(label="Pause", method="animate", args=[[None], pause])])
    _finish(
        fig, 640,
        xaxis=dict(title=dict(text="longitude (degrees east)"), zeroline=False, range=_padded(lons)),
        yaxis=dict(title=dict(text="latitude (degrees north)"), scaleanchor="x", scaleratio=1 / math.cos(math.radians(mid_lat)),
                   zeroline=False, range=_padded(lats)),
        legend=dict(orientation="h", yref="container", y=1, yanchor="top", x=0),
        updatemenus=[menu],
        sliders=[slider],
        margin=dict(b=160, t=70),
        coloraxis=dict(cmin=0, cmax=cmax, colorscale="YlOrRd", colorbar=dict(title=dict(text="queue (km)"), thickness=14, len=0.6)),
        # narrow: the legend one entry a line, Play and Pause on their own line above a full-width slider, so the map keeps the width
        reset=("xaxis.range", "yaxis.range"),
        narrow=dict(height=560, font=dict(size=11), legend=dict(orientation="v"), margin=dict(t=100, l=50, r=12, b=190),
                    xaxis=dict(range=_padded(lons, 0.2)), yaxis=dict(range=_padded(lats, 0.12)),  # room for the labels
                    updatemenus=[dict(menu, x=0, xanchor="left", pad=dict(t=50, r=0))],
                    sliders=[dict(slider, x=0, len=1, pad=dict(t=100, b=10))],
                    coloraxis=dict(colorbar=dict(thickness=8, title=dict(side="right")))),
    )

    spec = fig.to_dict()
    spec["layout"]["sliders"][0]["steps"] = [dict(method="animate", label=_frame_name(t), args=[[_frame_name(t)], pause])
                                             for t in times]
    spec["frames"] = [
        {"name": _frame_name(t), "traces": [animated], "data": [_queue_state(wide, t, names, cmax)]} for t in times
    ]
    return spec


def _diversion_traces(fig: go.Figure, crossings: dict, diversions: pd.DataFrame | None, colours: dict[str, str]) -> None:
    """Dotted lines from the crossing people first headed for to the one they moved to, width by people."""
    if diversions is None or diversions.empty:
        return
    biggest = max(float(diversions["people"].max()), 1e-9)
    for i, row in enumerate(diversions.itertuples(index=False)):
        a, b = crossings[row.source], crossings[row.target]
        text = f"diverted {row.source} -> {row.target}: {row.people:,.0f} people (mean per replication)"
        fig.add_trace(go.Scatter(
            x=[a.lon, (a.lon + b.lon) / 2, b.lon], y=[a.lat, (a.lat + b.lat) / 2 + 0.03, b.lat], mode="lines+markers",
            line=dict(color=colours[row.target], width=1.5 + 8 * math.sqrt(row.people / biggest), dash="dot", shape="spline"),
            marker=dict(symbol=["circle", "circle", "arrow"], angleref="previous", size=[0, 0, 14], color=colours[row.target]),
            name="diversions between crossings (width: people)", legendgroup="diversions", showlegend=i == 0,
            text=[text] * 3, hovertemplate="%{text}<extra></extra>",
        ))


def _padded(values: list[float], share: float = 0.08) -> list[float]:
    """An axis range around ``values`` with room for labels."""
    low, high = min(values), max(values)
    pad = max((high - low) * share, 0.05)
    return [low - pad, high + pad]


def _frame_name(t: pd.Timestamp) -> str:
    return pd.Timestamp(t).strftime("%a %d %b %Y %H:%M")


def _queue_marker_style(names: list[str], crossings: dict, colours: dict[str, str], replications: int) -> dict:
    """What the crossings' queue markers keep through the animation: place, outline colour, hover.

    Their fill is on the layout's colour axis, so its colour bar can move when the page is narrow.
    """
    what = of_replications("median", replications)
    return dict(
        x=[crossings[n].lon for n in names], y=[crossings[n].lat for n in names], mode="markers+text",
        name="crossings (size and colour: queue km)", textposition="top center",
        textfont=dict(size=12, color=[colours[n] for n in names]), hovertext=names,
        marker=dict(coloraxis="coloraxis", opacity=0.9, line=dict(color=[colours[n] for n in names], width=3)),
        hovertemplate=("<b>%{hovertext}</b>: %{customdata[0]:.2f} km, %{customdata[1]:,.0f} vehicles, "
                       f"%{{customdata[2]:,.0f}} people waiting ({what})<extra></extra>"),
    )


def _queue_state(wide: dict[str, pd.DataFrame], t, names: list[str], cmax: float) -> dict:
    """The crossings' queue markers at time ``t``: size and fill by queue km, outline in the crossing's colour.

    A plain dict, not a plotly object: the map has hundreds of frames and
    plotly's per-object validation would cost seconds.
    """
    km, vehicles, people = (wide[col].loc[t].to_numpy(dtype=float) for col in ("queue_km", "vehicles", "people"))
    return {
        "text": [f"<b>{n}</b> {k:.1f} km" for n, k in zip(names, km)],
        "customdata": np.column_stack([km, vehicles, people]).round(3).tolist(),
        "marker": {"size": (12 + 48 * np.sqrt(km / cmax)).round(2).tolist(), "color": km.round(3).tolist()},
    }


def _label_positions(scenario: Scenario, near_deg: float = 0.15) -> list[str]:
    """Text positions for origin labels: neighbours closer than ``near_deg`` get labels on opposite sides."""
    positions = []
    for o in scenario.origins:
        near = [p for p in scenario.origins if p is not o and abs(p.lat - o.lat) < near_deg and abs(p.lon - o.lon) < near_deg]
        if not near:
            positions.append("bottom center")
        else:
            positions.append("middle left" if all(o.lon <= p.lon for p in near) else "middle right")
    return positions
