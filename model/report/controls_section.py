"""The report's "Controls in series" section: each control's queue and waits, and which one held the flow when.

Built from a run folder's ``charts/controls.csv`` and ``charts/control_waits.csv``
(:mod:`model.analysis.controls`), which only runs of a scenario with stages
have; the section is left out otherwise.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..analysis.chart_tables import grouped_quantiles
from ..analysis.controls import control_channels, control_name
from ..scenario import MODES, Scenario
from .style import MODE_LABEL, TEMPLATE, of_replications

__all__ = ["controls_section"]

#: Line styles of the controls in order: the crossing's own, then each stage.
_DASHES = ("solid", "dash", "dot", "dashdot", "longdash")
_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b")


def _read(folder: Path, zone: str) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    charts = folder / "charts"
    if not (charts / "controls.csv").is_file() or not (charts / "control_waits.csv").is_file():
        return None
    controls = pd.read_csv(charts / "controls.csv", keep_default_na=False)
    controls["time"] = pd.to_datetime(controls["time"], utc=True).dt.tz_convert(zone).dt.tz_localize(None)
    return controls, pd.read_csv(charts / "control_waits.csv", keep_default_na=False)


def _figure(scenario: Scenario, crossing: str, controls: pd.DataFrame, replications: int) -> go.Figure:
    spec = scenario.crossing(crossing)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.65, 0.35], vertical_spacing=0.06)
    for mode in MODES:
        if spec.channel(mode) is None:
            continue
        for k, channel in enumerate(control_channels(spec, mode)):
            c = controls[(controls["crossing"] == crossing) & (controls["channel"] == channel)]
            name = f"{MODE_LABEL.get(mode, mode)}: {control_name(spec, channel)}"
            style = dict(color=_COLOURS[k % len(_COLOURS)], dash=_DASHES[MODES.index(mode) % len(_DASHES)], width=2)
            fig.add_trace(go.Scatter(x=c["time"], y=c["people_waiting"] / replications, name=name, legendgroup=name, line=style,
                                     line_shape="hv", hovertemplate="%{y:,.0f} people waiting<extra>" + html.escape(name) + "</extra>"),
                          row=1, col=1)
            fig.add_trace(go.Scatter(x=c["time"], y=100.0 * c["bottleneck"] / replications, name=name, legendgroup=name,
                                     showlegend=False, line=style, line_shape="hv",
                                     hovertemplate="bottleneck in %{y:.0f}% of replications<extra>" + html.escape(name) + "</extra>"),
                          row=2, col=1)
    fig.update_layout(template=TEMPLATE, height=460, margin=dict(t=40, b=40), legend=dict(orientation="h", y=1.1))
    fig.update_yaxes(title_text="people waiting (mean)", rangemode="tozero", row=1, col=1)
    fig.update_yaxes(title_text="bottleneck, % of reps", range=[0, 105], row=2, col=1)
    return fig


def _table(scenario: Scenario, waits: pd.DataFrame, controls: pd.DataFrame, replications: int) -> str:
    keys = ["crossing", "channel"]
    totals = waits.groupby(keys)[["parties", "wait_h"]].sum()
    median, p90 = (grouped_quantiles(waits, keys, level) for level in (0.5, 0.9))
    grid_h = scenario.grid_min / 60.0
    held = controls.groupby(keys)["bottleneck"].sum() * grid_h / replications
    rows = []
    for c in scenario.crossings:
        for mode in MODES:
            if not c.stages or c.channel(mode) is None:
                continue
            for channel in control_channels(c, mode):
                key = (c.name, channel)
                n = totals["parties"].get(key, 0)
                mean = totals["wait_h"].get(key, np.nan) / n if n else np.nan
                cells = [c.name, MODE_LABEL.get(mode, mode), control_name(c, channel), f"{n / replications:,.0f}",
                         f"{mean:,.1f}", f"{median.get(key, np.nan):,.1f}", f"{p90.get(key, np.nan):,.1f}", f"{held.get(key, 0.0):,.1f}"]
                rows.append("<tr>" + "".join(f"<td>{html.escape(x)}</td>" for x in cells) + "</tr>")
    head = ("<tr><th>crossing</th><th>channel</th><th>control</th><th>parties served</th>"
            "<th>mean wait, h</th><th>median wait, h</th><th>p90 wait, h</th><th>hours as bottleneck</th></tr>")
    return f'<div class="wide"><table class="kpis">{head}{"".join(rows)}</table></div>'


def controls_section(folder: str | Path, scenario: Scenario, replications: int, figure_html) -> list[tuple[str, str, str, str]]:
    """``[(anchor, title, how to read it, body)]`` for a run whose scenario has stages (else empty).
    ``figure_html(fig, key)`` embeds a chart as the report does."""
    tables = _read(Path(folder), scenario.timezone)
    if tables is None:
        return []
    controls, waits = tables
    parts = [f"<h3>{html.escape(c.name)}: people waiting before each control, and which control held the flow</h3>"
             + figure_html(_figure(scenario, c.name, controls, replications), f"controls-{i}")
             for i, c in enumerate(scenario.crossings) if c.stages]
    parts.append(_table(scenario, waits, controls, replications))
    how = ("Crossings with controls in series: a party passes the crossing's own control, then each stage, waiting before "
           "each (after the first, in the holding space between; when that space is full the booth before it stays "
           f"taken, blocking after service). Top: people waiting before each control ({of_replications('mean', replications)}; the "
           "queue before the first control stands on the approach road, the later ones in the holding space). Bottom: "
           "in what share of replications each control was the bottleneck: the first control, in the order parties pass "
           "them, whose open booths were all taken while someone waited before it and were not held back by a full "
           "holding space after it. Table: per control, parties served and hours as the bottleneck are means per "
           "replication; waits run from joining a control's queue until a booth there takes the party, over all "
           "replications. Tables: charts/controls.csv (sums over replications) and charts/control_waits.csv.")
    return [("controls", "Controls in series", how, "".join(parts))]
