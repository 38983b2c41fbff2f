"""The look every chart shares: colours, fonts, template, mode styles, date axes and event markers.

Kept apart from the charts so that the run report's figures, its map and the
study pages look alike from one definition: Okabe-Ito colours with one colour
per crossing in every chart (:func:`crossing_colours`), a small white
template, the labels and dashes of the modes, local date axes
(:class:`Clock`), the capacity events marked on time axes (:class:`Event`),
the helpers that put times and numbers on a chart compactly, and the words for what
a line or a table shows over the replications (one replication has no mean or interval).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

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
    "NARROW_PX",
    "RESPONSIVE_SCRIPT",
    "fluid_figure",
    "of_replications",
    "intervals_note",
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
#: Axes make room for their tick labels and titles (automargin), so titles never sit on the ticks.
_AXIS = dict(gridcolor="#E5E5E5", zerolinecolor="#BBBBBB", linecolor="#999999", showline=True, ticks="outside",
             automargin=True, title=dict(standoff=8))
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


def of_replications(statistic: str, replications: int, word: str = "replication") -> str:
    """What a line or marker shows, as a page says it: "mean of the replications", or "one replication" (``word``:
    "run" on the planner's brief)."""
    return f"{statistic} of the {word}s" if replications > 1 else f"one {word}"


def intervals_note(replications: int) -> str:
    """How a table's figures read: means with their intervals, or one replication's values."""
    return ("means with the 95 % interval across replications in brackets" if replications > 1 else
            "the values of the one replication (more replications give intervals)")


def _stamps(times) -> np.ndarray:
    """Local date-times as short strings for a date axis (minutes are enough, and half the size of ISO)."""
    minutes = pd.to_datetime(pd.Series(times)).to_numpy().astype("datetime64[m]")  # local, offset-free
    return np.char.replace(np.datetime_as_string(minutes, unit="m"), "T", " ")  # numpy's, ten times faster than strftime


def _values(values, digits: int = 3) -> np.ndarray:
    """Numbers rounded and in single precision: plenty for a chart, and half the bytes on the page."""
    return np.round(np.asarray(values, dtype=float), digits).astype(np.float32)


@contextmanager
def no_default_template() -> Iterator[None]:
    """While the report's figures are built, plotly's default template is off.

    Every figure gets :data:`TEMPLATE` in :func:`_finish`, replacing the
    default one whole, so the page is the same; but each ``go.Figure`` would
    first copy and validate the large default, half the time of a report.
    """
    before = pio.templates.default
    pio.templates.default = "none"
    try:
        yield
    finally:
        pio.templates.default = before


def _finish(fig: go.Figure, height: int, narrow: go.Layout | dict | None = None, reset: tuple[str, ...] = (),
            narrow_traces: dict[int, dict] | None = None, **layout) -> go.Figure:
    """The report's look (template, fonts, grid) and a fixed height, so the charts line up on the page.

    ``narrow`` is the layout for a container narrower than :data:`NARROW_PX`
    (a phone): either a whole layout (a grid of panels drawn with fewer
    columns) or changes to the wide one (smaller fonts, legends moved). The
    figure keeps both in ``layout.meta`` as updates for ``Plotly.relayout``
    (:data:`RESPONSIVE_SCRIPT` applies them), so a page reflows its charts
    as its width changes and when it is printed. ``reset`` names layout
    attributes set again on every switch even where both layouts agree (the
    ranges of a map, which plotly.js widens to fill the plot);
    ``narrow_traces`` maps a trace's index to attributes it takes when narrow.
    """
    fig.update_layout(template=TEMPLATE, height=height, **layout)
    if narrow is not None:
        small = go.Figure(layout=narrow) if isinstance(narrow, go.Layout) else go.Figure(layout=fig.layout).update_layout(**narrow)
        small.update_layout(template=TEMPLATE)
        for name, axis in small.layout.to_plotly_json().items():  # long axis titles take two lines: "what<br>(unit)"
            text = axis.get("title", {}).get("text") if name.startswith(("xaxis", "yaxis")) else None
            if text and len(text) > NARROW_TITLE_CHARS and " (" in text and "<br>" not in text:
                head, _, unit = text.rpartition(" (")
                small.layout[name].title.text = f"{head}<br>({unit}"
        meta = _layout_switch(fig.layout, small.layout, reset)
        if narrow_traces:  # as Plotly.restyle takes them: {attribute: [value]}, [trace index]
            meta["traces"] = {mode: [[{k: [v if mode == "narrow" else fig.data[i][k]] for k, v in changes.items()}, [i]]
                                     for i, changes in narrow_traces.items()] for mode in ("narrow", "wide")}
        fig.update_layout(meta=meta)
    return fig


#: Below this width in CSS pixels a chart takes its narrow layout (phones); A4 paper (about 700 px) is wide.
NARROW_PX = 600
#: Axis titles longer than this break before their unit in the narrow layout.
NARROW_TITLE_CHARS = 34
#: Lists of the layout whose items are relayouted one attribute at a time; others are replaced whole
#: (menus: plotly.js does not redraw a menu whose type changes attribute by attribute).
_ITEM_LISTS = ("annotations", "shapes", "sliders")


def _flat(value, key: str = ""):
    """(dotted key, leaf value) pairs of a layout, as ``Plotly.relayout`` names attributes."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _flat(v, f"{key}.{k}" if key else k)
    elif isinstance(value, (list, tuple)) and key in _ITEM_LISTS:
        for i, v in enumerate(value):
            yield from _flat(v, f"{key}[{i}]")
    else:
        yield key, value


def _layout_switch(wide: go.Layout, narrow: go.Layout, reset: tuple[str, ...] = ()) -> dict:
    """The attributes in which two layouts differ (and those in ``reset``), as ``Plotly.relayout`` updates to each."""
    a, b = ({k: v for k, v in _flat(lay.to_plotly_json()) if not k.startswith(("template", "meta"))} for lay in (wide, narrow))
    keys = [k for k in dict.fromkeys([*a, *b]) if a.get(k) != b.get(k) or k in reset]
    return {"narrow": {k: b.get(k) for k in keys}, "wide": {k: a.get(k) for k in keys}}


#: Fits every chart of a page to its width: the narrow or wide layout of ``layout.meta`` (see :func:`_finish`)
#: on load and resize, and the width of an A4 page less 12 mm margins (186 mm) while the page is printed.
#: ``data-layout`` on the root element says which is drawn ("screen" or "print") once the charts are redrawn.
RESPONSIVE_SCRIPT = """(function () {
  var NARROW = %d, PRINT = Math.floor(186 * 96 / 25.4), printing = false, timer = null;
  function graphs() { return Array.prototype.slice.call(document.querySelectorAll('.js-plotly-plot')); }
  // the layout update and trace restyles that take a chart to the layout for this width ({} and [] if it has it)
  function switchTo(gd, width) {
    var meta = (gd.layout && gd.layout.meta) || {}, mode = width < NARROW ? 'narrow' : 'wide';
    if (!meta.narrow || (gd.getAttribute('data-mode') || 'wide') === mode) { return [{}, []]; }
    gd.setAttribute('data-mode', mode);
    var update = Object.assign({}, meta[mode]);
    if (update.updatemenus) {  // a menu keeps the button the reader chose
      update.updatemenus = update.updatemenus.map(function (menu, i) {
        var now = (gd.layout.updatemenus || [])[i];
        return now && now.active !== undefined ? Object.assign({}, menu, {active: now.active}) : menu;
      });
    }
    return [update, meta.traces ? meta.traces[mode] : []];
  }
  function redraw(print) {
    var done = graphs().filter(function (gd) { return gd._fullLayout; }).map(function (gd) {
      var change = switchTo(gd, print ? PRINT : gd.clientWidth), update = change[0];
      if (print) { update.width = PRINT; } else if (gd.layout.width) { update.width = null; }
      if (!Object.keys(update).length) { return null; }
      // menus are cleared first: plotly.js leaves the buttons of a menu drawn when it becomes a drop-down
      var cleared = update.updatemenus ? Plotly.relayout(gd, {updatemenus: []}) : Promise.resolve();
      return cleared.then(function () { return Plotly.relayout(gd, update); }).then(function () {
        return Promise.all(change[1].map(function (r) { return Plotly.restyle(gd, r[0], r[1]); }));
      }).then(function () {
        if (print && gd.data.some(function (t) { return t.type === 'sankey'; })) {
          // a Sankey diagram redrawn in place moves its flows over half a second, too late for the paper: drawn afresh
          var data = gd.data, layout = gd.layout, config = gd._context;
          Plotly.purge(gd);
          return Plotly.newPlot(gd, data, layout, config);
        }
        if (!print) { return Plotly.Plots.resize(gd); }
      }).catch(function (e) { console.error('relayout of ' + gd.id + ': ' + e); });
    });
    Promise.all(done).then(function () { document.documentElement.setAttribute('data-layout', print ? 'print' : 'screen'); });
  }
  function printMode(on) { if (on !== printing) { printing = on; redraw(on); } }
  window.addEventListener('load', function () { printing = window.matchMedia('print').matches; redraw(printing); });
  window.addEventListener('resize', function () {
    clearTimeout(timer);
    timer = setTimeout(function () { if (!printing) { redraw(false); } }, 150);
  });
  window.addEventListener('beforeprint', function () { printMode(true); });
  window.addEventListener('afterprint', function () { printMode(false); });
  window.matchMedia('print').addEventListener('change', function (e) { printMode(e.matches); });
})();""" % NARROW_PX


def fluid_figure(html: str) -> str:
    """A chart's HTML from ``plotly.io.to_html`` whose outer box follows the chart instead of its first height.

    plotly gives the box a fixed height; a chart that grows on a narrow page
    (panels in one column) would overprint what follows it.
    """
    return re.sub(r'^<div style="height:[^"]*">', '<div class="figure">', html, count=1)
