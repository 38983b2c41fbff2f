"""The report's "Waiting by class" section: who of each priority and vehicle class waits, when, and for how long.

Built from a run folder's ``charts/class_queues.csv`` (:mod:`model.analysis.classes`)
and the per-class key figures in ``kpis.csv``; runs of a scenario with no
priority or vehicle class have neither, and the section is left out.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..analysis.classes import class_groupings
from .style import TEMPLATE, intervals_note, of_replications

__all__ = ["classes_section"]

_GROUPING_TITLE = {"priority": "priority class", "vehicle": "vehicle"}
_COLOURS = ("#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")
_LAST_COLOUR = "#1f77b4"  # regular parties, plain cars: the bulk of the queue


def _read(folder: Path, zone: str) -> pd.DataFrame | None:
    path = folder / "charts" / "class_queues.csv"
    if not path.is_file():
        return None
    frame = pd.read_csv(path, keep_default_na=False)
    frame["time"] = pd.to_datetime(frame["time"], utc=True).dt.tz_convert(zone).dt.tz_localize(None)
    return frame


def _figure(queues: pd.DataFrame, grouping: str, names: list[str], crossings: list[str], replications: int) -> go.Figure:
    fig = make_subplots(rows=len(crossings), cols=1, shared_xaxes=True, vertical_spacing=0.08 if len(crossings) > 1 else 0.0,
                        subplot_titles=crossings)
    for row, crossing in enumerate(crossings, start=1):
        for k, name in enumerate(names):
            q = queues[(queues["crossing"] == crossing) & (queues["grouping"] == grouping) & (queues["class"] == name)]
            colour = _LAST_COLOUR if k == len(names) - 1 else _COLOURS[k % len(_COLOURS)]
            fig.add_trace(go.Scatter(x=q["time"], y=q["people_waiting"] / replications, name=name, legendgroup=name,
                                     showlegend=row == 1, line=dict(color=colour, width=2), line_shape="hv",
                                     hovertemplate="%{y:,.0f} people waiting<extra>" + html.escape(f"{crossing}: {name}")
                                     + "</extra>"), row=row, col=1)
        fig.update_yaxes(title_text="people waiting", rangemode="tozero", row=row, col=1)
    fig.update_layout(template=TEMPLATE, height=160 + 220 * len(crossings), margin=dict(t=60, b=40),
                      legend=dict(orientation="h", y=1.02 + 0.12 / len(crossings), title_text=_GROUPING_TITLE[grouping] + ":"))
    return fig


def _cell(kpis: pd.DataFrame, crossing: str, kpi: str, digits: int) -> str:
    row = kpis[(kpis["crossing"] == crossing) & (kpis["kpi"] == kpi)]
    if row.empty or math.isnan(float(row["mean"].iloc[0])):
        return "-"
    mean, low, high = (float(row[c].iloc[0]) for c in ("mean", "ci95_low", "ci95_high"))
    interval = f" ({low:,.{digits}f}&ndash;{high:,.{digits}f})" if not math.isnan(low) else ""
    return f"{mean:,.{digits}f}{interval}"


def _table(kpis: pd.DataFrame, groupings: dict[str, list[str]], crossings: list[str]) -> str:
    rows = []
    for grouping, names in groupings.items():
        for crossing in crossings + (["all"] if len(crossings) > 1 else []):  # one crossing: 'all' says it again
            for name in names:
                cells = [html.escape("all crossings" if crossing == "all" else crossing), html.escape(_GROUPING_TITLE[grouping]),
                         html.escape(name), _cell(kpis, crossing, f"wait_mean_h_{name}", 1),
                         _cell(kpis, crossing, f"wait_p90_h_{name}", 1), _cell(kpis, crossing, f"peak_people_waiting_{name}", 0)]
                rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    head = ("<tr><th>crossing</th><th>grouping</th><th>class</th><th>mean wait, h</th><th>p90 wait, h</th>"
            "<th>most people waiting at once (each replication's, mean)</th></tr>")
    return f'<div class="wide"><table class="kpis">{head}{"".join(rows)}</table></div>'


def classes_section(folder: str | Path, run, figure_html) -> list[tuple[str, str, str, str]]:
    """``[(anchor, title, how to read it, body)]`` for a run whose scenario has priority or vehicle classes (else
    empty). ``run``: the folder's :class:`~model.report.run_tables.RunTables`; ``figure_html(fig, key)`` embeds a chart."""
    s = run.scenario
    queues = _read(Path(folder), s.timezone)
    groupings = class_groupings(s)
    if queues is None or not groupings:
        return []
    waited = queues.groupby("crossing")["people_waiting"].max()
    crossings = [c.name for c in s.crossings if waited.get(c.name, 0) > 0]
    parts = []
    for grouping, names in groupings.items():
        if crossings:
            parts.append(f"<h3>People waiting, by {html.escape(_GROUPING_TITLE[grouping])}</h3>"
                         + figure_html(_figure(queues, grouping, names, crossings, run.replications), f"classes-{grouping}"))
    parts.append(_table(run.kpis, groupings, [c.name for c in s.crossings]))
    how = ("Who waits in each crossing's queues, by class: priority classes (served first in the same queue, or in a lane "
           "of their own; <code>regular</code> is everyone else) and vehicle classes (<code>car</code> is a plain car; "
           "buses and people on foot are in no vehicle class). A priority class counts as <code>regular</code> at "
           "crossings that do not serve it first. Charts: people waiting in any queue of the crossing (every control "
           f"and lane), {of_replications('mean', run.replications)}. Table: waits are of the parties that crossed, from arrival at the "
           "border to the booth; 'most people waiting at once' is each replication's most, exact (not on the chart's "
           f"grid), so it can stand above the peak of the chart's mean line; {intervals_note(run.replications)}. "
           "Tables: charts/class_queues.csv (sums over replications), kpis.csv.")
    return [("classes", "Waiting by class", how, "".join(parts))]
