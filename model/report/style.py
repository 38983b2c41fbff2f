"""The look every chart shares: colours, fonts, template, mode styles, date axes and event markers.

Kept apart from the charts so that the run report's figures, its map and the
study pages look alike from one definition: Okabe-Ito colours with one colour
per crossing in every chart (:func:`crossing_colours`), a small white
template, the labels and dashes of the modes, local date axes
(:class:`Clock`), the capacity events marked on time axes (:class:`Event`),
and the helpers that put times and numbers on a chart compactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

__all__ = [
    "PALETTE",
    "TEMPLATE",
    "FONT",
    "MODE_DASH",
    "MODE_LABEL",
    "CHANNEL_LABEL",
    "OUTCOME_COLOURS",
    "NO_CROSSING",
    "EVENT_SYMBOLS",
    "DATE_TICKS",
    "SHORT_DATE_TICKS",
    "Event",
    "Clock",
    "crossing_colours",
]

#: Okabe-Ito colours, distinguishable with the common colour-vision deficiencies.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#8C6D1F", "#000000"]
MODE_DASH = {"car": "solid", "bus": "dash", "foot": "dot"}
MODE_LABEL = {"car": "cars", "bus": "buses", "foot": "on foot"}
CHANNEL_LABEL = {"all": "all channels", **MODE_LABEL}
#: Outcome nodes of the flow diagram that are not a crossing, with their colours.
OUTCOME_COLOURS = {
    "gave up": "#444444",
    "still queueing at the end": "#888888",
    "on the road at the end": "#AAAAAA",
}
#: The flow diagram's node for parties with no crossing first headed for (first_crossing empty).
NO_CROSSING = "no crossing reached"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
#: A small template instead of plotly's large built-in ones: white background, light grid.
_AXIS = dict(gridcolor="#E5E5E5", zerolinecolor="#BBBBBB", linecolor="#999999", showline=True, ticks="outside")
TEMPLATE = go.layout.Template(
    layout=dict(
        font=dict(family=FONT, size=13, color="#222222"),
        paper_bgcolor="white",
        plot_bgcolor="white",
        xaxis=_AXIS,
        yaxis=_AXIS,
        hoverlabel=dict(font=dict(family=FONT)),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
        margin=dict(l=70, r=30, t=50, b=50),
    )
)


@dataclass(frozen=True)
class Event:
    """Something that changes a crossing's capacity or demand at a date-time, marked on time axes."""

    at: pd.Timestamp
    crossing: str
    kind: str  # one of EVENT_SYMBOLS
    text: str
    until: pd.Timestamp | None = None  # end of a closure window


EVENT_SYMBOLS = {
    "booth change": "triangle-up",
    "check-regime change": "diamond",
    "closure": "square",
    "route change": "x",
}


def crossing_colours(names: list[str]) -> dict[str, str]:
    """One colour per crossing, in scenario order, used by every chart."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


#: Tick labels of date axes: weekday and date when zoomed out, date and clock time when zoomed in.
DATE_TICKS = [
    dict(dtickrange=[None, 43_200_000], value="%d %b %H:%M"),
    dict(dtickrange=[43_200_001, None], value="%a %d %b"),
]
#: The same for narrow panels: no weekday.
SHORT_DATE_TICKS = [DATE_TICKS[0], dict(DATE_TICKS[1], value="%d %b")]


@dataclass(frozen=True)
class Clock:
    """How the time axes read: the scenario's time zone, and the window they open on (None: the whole period)."""

    zone_label: str
    window: tuple[pd.Timestamp, pd.Timestamp] | None = None

    def axis(self, title: str = "date and time") -> dict:
        """A date axis in local time, its zone named in the title."""
        axis = dict(type="date", title=dict(text=f"{title} ({self.zone_label})"), hoverformat="%a %d %b %H:%M",
                    tickformatstops=DATE_TICKS)
        if self.window is not None:
            axis["range"] = [t.isoformat() for t in self.window]
        return axis


def _stamps(times) -> np.ndarray:
    """Local date-times as short strings for a date axis (minutes are enough, and half the size of ISO)."""
    return pd.Series(pd.to_datetime(pd.Series(times))).dt.strftime("%Y-%m-%d %H:%M").to_numpy(dtype=str)


def _values(values, digits: int = 3) -> np.ndarray:
    """Numbers rounded and in single precision: plenty for a chart, and half the bytes on the page."""
    return np.round(np.asarray(values, dtype=float), digits).astype(np.float32)


def _finish(fig: go.Figure, height: int, **layout) -> go.Figure:
    """The report's look (template, fonts, grid) and a fixed height, so the charts line up on the page."""
    fig.update_layout(template=TEMPLATE, height=height, **layout)
    return fig
