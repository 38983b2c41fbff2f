"""Run folders and offline HTML pages for the experiment commands (sweep, compare, sensitivity, capacity).

Each page is one self-contained file: plotly.js is embedded once, figures
get sequential div ids (``fig-1``, ``fig-2``, ...) so the same results give
the same bytes, and axis titles carry units. Colours and the chart template
are the report's (:mod:`model.report.style`); the page shell is a small local
helper, as the report's page is built for a single run folder. Pages read
only the result tables, never the engine.
"""

from __future__ import annotations

import html
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from ..analysis import KPI_UNITS
from ..experiments import (
    CapacityResult,
    CompareResult,
    SensitivityResult,
    SweepResult,
    sweep_table,
)
from ..scenario import Scenario
from .run_folder import (
    RunFolder,
    scenario_sha256,
    scenario_toml,
    write_manifest,
    write_table,
)
from .style import PALETTE, TEMPLATE

__all__ = ["page", "write_study", "sweep_page", "compare_page", "sensitivity_page", "capacity_page", "param_label"]

#: Scenario and series colours, in order: the report's colour-blind-safe palette.
COLOURS = PALETTE
_UNITS = {"_kmh": "km/h", "_km": "km", "_min": "min", "_h": "h", "_m": "m", "_hour": "h", "booths": "booths", "people": "people"}


def param_label(key: str) -> str:
    """An axis title for a dotted key, with the unit its name carries (``..._min`` -> min)."""
    unit = next((u for suffix, u in _UNITS.items() if key.endswith(suffix)), "")
    return f"{key} ({unit})" if unit else key


def kpi_label(kpi: str) -> str:
    unit = KPI_UNITS[kpi]
    return kpi if unit == "datetime" else f"{kpi} ({unit})"


def page(title: str, blocks: list[str | go.Figure]) -> str:
    """A complete offline HTML page: ``blocks`` are HTML fragments or figures, in order."""
    parts, n = [], 0
    for block in blocks:
        if isinstance(block, go.Figure):
            n += 1
            block.update_layout(template=TEMPLATE)
            parts.append(pio.to_html(block, full_html=False, include_plotlyjs=False, div_id=f"fig-{n}",
                                     config={"displaylogo": False}))
        else:
            parts.append(block)
    style = ("body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}"
             "table{border-collapse:collapse;font-size:13px}td,th{padding:2px 8px;border-bottom:1px solid #ddd;"
             "text-align:right}th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}")
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{style}</style><script type=\"text/javascript\">{get_plotlyjs()}</script></head>\n"
            f"<body><h1>{html.escape(title)}</h1>\n" + "\n".join(parts) + "\n</body></html>\n")


def _p(text: str) -> str:
    return f"<p>{html.escape(text)}</p>"


def _table(frame: pd.DataFrame) -> str:
    table = frame.to_html(index=False, float_format=lambda x: f"{x:.4g}", na_rep="-", border=0)
    return f'<div style="overflow-x:auto">{table}</div>'


def _band(fig: go.Figure, x, low, high, colour: str, name: str, **where) -> None:
    """A shaded 95% band between ``low`` and ``high``."""
    fig.add_trace(go.Scatter(x=list(x) + list(x)[::-1], y=list(high) + list(low)[::-1], fill="toself", line={"width": 0},
                             fillcolor=colour, opacity=0.2, hoverinfo="skip", showlegend=False, name=name), **where)


# --- run folders -------------------------------------------------------------------------------


def write_study(
    out: str | Path,
    kind: str,
    scenarios: dict[str, Scenario],
    tables: dict[str, pd.DataFrame],
    pages: dict[str, str],
    info: dict[str, Any],
) -> Path:
    """A new run folder ``<out>/<first scenario>-<kind>/<timestamp>/`` with tables, pages and manifest.

    The resolved scenarios are written as TOML (``scenario.toml`` for one,
    ``scenarios/<label>.toml`` for several) and listed in ``manifest.json``
    with their seed and hash; ``info`` adds the command's own settings.
    """
    first = next(iter(scenarios.values()))
    started = datetime.now(timezone.utc).isoformat()
    run = RunFolder(out, f"{first.name}-{kind}")
    with run as folder:
        recorded = {}
        for label, s in scenarios.items():
            name = "scenario.toml" if len(scenarios) == 1 else f"scenarios/{label}.toml"
            text = scenario_toml(s)
            (folder / name).parent.mkdir(exist_ok=True)
            (folder / name).write_text(text, encoding="utf-8")
            recorded[label] = {"file": name, "name": s.name, "seed": s.seed, "replications": s.replications,
                               "sha256": scenario_sha256(text)}
        for name, frame in tables.items():
            write_table(frame, folder / name)
        for name, text in pages.items():
            (folder / name).write_text(text, encoding="utf-8")
        write_manifest(folder, {
            "command": info.get("command"),
            "kind": kind,
            "seeds": sorted({s.seed for s in scenarios.values()}),
            "replications": first.replications,
            "scenarios": recorded,
            **{k: v for k, v in info.items() if k != "command"},
            "started_at": info.get("started_at", started),
        })
    return run.path


# --- pages -------------------------------------------------------------------------------------


def sweep_page(result: SweepResult, kpi: str, crossing: str) -> str:
    """One parameter: the figure's mean against it with its 95% band. Two: a heat map of the mean."""
    table = sweep_table(result, crossing, (kpi,))
    s = result.scenario
    intro = _p(f"{s.name}: {kpi} at {crossing}, mean of {s.replications} replications per point "
               f"(seed {s.seed}, common random numbers).")
    if len(result.axes) == 1:
        key = result.axes[0].key
        fig = go.Figure()
        numeric = pd.api.types.is_numeric_dtype(table[key])
        if numeric:
            _band(fig, table[key], table[f"{kpi}_ci95_low"], table[f"{kpi}_ci95_high"], COLOURS[0], "95% CI")
        fig.add_trace(go.Scatter(x=table[key] if numeric else table[key].astype(str), y=table[kpi], mode="lines+markers",
                                 name=f"{crossing} mean", line={"color": COLOURS[0]}))
        fig.update_layout(xaxis_title=param_label(key), yaxis_title=kpi_label(kpi),
                          title=f"{kpi} at {crossing} (band: 95% confidence interval of the mean)")
    else:
        k1, k2 = result.axes[0].key, result.axes[1].key
        grid = table.pivot(index=k2, columns=k1, values=kpi)
        fig = go.Figure(go.Heatmap(z=grid.to_numpy(), x=[str(v) for v in grid.columns], y=[str(v) for v in grid.index],
                                   colorbar={"title": kpi_label(kpi)}, texttemplate="%{z:.3g}"))
        fig.update_layout(xaxis_title=param_label(k1), yaxis_title=param_label(k2), title=f"{kpi} at {crossing}, mean")
    return page(f"Sweep: {s.name}", [intro, fig, _table(sweep_table(result, crossing))])


def compare_page(result: CompareResult, table: pd.DataFrame) -> str:
    """Queue km and cumulative people crossed per crossing, one line per scenario, and the side-by-side table."""
    crossings = list(dict.fromkeys(result.queues["crossing"]))
    labels = result.labels
    first = result.scenarios[labels[0]]
    figs = []
    for title, frame, y, unit in (("queue (mean, 5-95% band)", result.queues, "queue_km_mean", "km"),
                                  ("people crossed, cumulative (mean)", result.crossed, "people_crossed", "people")):
        names = crossings if y == "queue_km_mean" else crossings + ["all"]
        fig = make_subplots(rows=len(names), cols=1, shared_xaxes=True, subplot_titles=names, vertical_spacing=0.06)
        for row, crossing in enumerate(names, start=1):
            for i, label in enumerate(labels):
                g = frame[(frame["scenario"] == label) & (frame["crossing"] == crossing)]
                colour = COLOURS[i % len(COLOURS)]
                if y == "queue_km_mean":
                    _band(fig, g["time"], g["queue_km_p05"], g["queue_km_p95"], colour, label, row=row, col=1)
                fig.add_trace(go.Scatter(x=g["time"], y=g[y], name=label, legendgroup=label, showlegend=row == 1,
                                         line={"color": colour}), row=row, col=1)
            fig.update_yaxes(title_text=unit, row=row, col=1)
        fig.update_xaxes(title_text=f"local time ({first.timezone})", row=len(names), col=1)
        fig.update_layout(title=title, height=260 * len(names))
        figs.append(fig)
    intro = _p(f"Scenarios {', '.join(labels)}, all run with seed {first.seed} and {first.replications} replications "
               f"(common random numbers). Differences are to {labels[0]}; their 95% intervals are paired by replication.")
    return page("Compare: " + " vs ".join(labels), [intro, *figs, _table(table)])


def sensitivity_page(result: SensitivityResult) -> str:
    """Bars of the indices, most influential on top, with their bootstrap 95% intervals."""
    idx = result.indices.iloc[::-1]
    unit = KPI_UNITS[result.kpi]
    fig = go.Figure()
    if result.method == "morris":
        fig.add_trace(go.Bar(y=idx["parameter"], x=idx["mu_star"], orientation="h", name="mu*",
                             error_x={"type": "data", "array": idx["mu_star_conf"]}, marker_color=COLOURS[0]))
        fig.update_layout(xaxis_title=f"Morris mu* of {result.kpi} ({unit})")
    else:
        for i, (col, name) in enumerate((("S1", "first order S1"), ("ST", "total ST"))):
            fig.add_trace(go.Bar(y=idx["parameter"], x=idx[col], orientation="h", name=name,
                                 error_x={"type": "data", "array": idx[f"{col}_conf"]}, marker_color=COLOURS[i]))
        fig.update_layout(xaxis_title="Sobol' index (share of variance, 0-1)", barmode="group")
    fig.update_layout(title=f"Influence on {result.kpi} at {result.crossing}", yaxis_title="parameter",
                      height=200 + 60 * len(idx), margin={"l": 320})
    intro = _p(f"{result.method.title()} method, {len(result.points)} scenario variants; ranked by "
               f"{'mu*' if result.method == 'morris' else 'ST'}.")
    return page(f"Sensitivity of {result.kpi}", [intro, fig, _table(result.indices)])


def capacity_page(result: CapacityResult) -> str:
    """The share of replications meeting the limit per count tried, and the queue with the answer."""
    q, ev = result.question, result.evaluations
    axis = f"{q.channel} booths at {q.crossing} (booths)"
    share = go.Figure(go.Scatter(x=ev["booths"], y=ev["share_meeting"], mode="markers", marker={
        "size": 11, "color": [COLOURS[2] if f else COLOURS[1] for f in ev["feasible"]]}, name="share meeting"))
    share.add_hline(y=q.share, line_dash="dash", annotation_text=f"required {q.share:.0%}")
    share.update_layout(title=f"Share of replications with {q.figure} <= {q.limit:g} {q.unit} (green: enough)",
                        xaxis={"title": axis, "dtick": 1}, yaxis={"title": "share of replications (0-1)", "range": [-0.05, 1.05]})
    per_rep = go.Figure(go.Scatter(x=result.by_replication["booths"], y=result.by_replication["figure"], mode="markers",
                                   marker={"color": COLOURS[0], "opacity": 0.5}, name="replication"))
    per_rep.add_hline(y=q.limit, line_dash="dash", annotation_text=f"limit {q.limit:g} {q.unit}")
    per_rep.update_layout(title=f"{q.figure} per replication", xaxis={"title": axis, "dtick": 1},
                          yaxis_title=f"{q.figure} ({q.unit})")
    g = result.queues
    shown = int(g["booths"].iloc[0]) if len(g) else None
    queue = go.Figure()
    _band(queue, g["time"], g["queue_km_p05"], g["queue_km_p95"], COLOURS[0], "5-95%")
    queue.add_trace(go.Scatter(x=g["time"], y=g["queue_km_mean"], name="mean", line={"color": COLOURS[0]}))
    if q.figure == "peak_queue_km":
        queue.add_hline(y=q.limit, line_dash="dash", annotation_text=f"limit {q.limit:g} km")
    queue.update_layout(title=f"Queue at {q.crossing} with {shown} {q.channel} booths (mean, 5-95% band)",
                        xaxis_title=f"local time ({result.scenario.timezone})", yaxis_title="queue (km)")
    when = "for the whole period" if q.start is None else f"from {q.start.isoformat()}"
    goal = (f"{q.crossing}: {q.figure} at most {q.limit:g} {q.unit} in at least {q.share:.0%} of "
            f"{result.scenario.replications} replications")
    if result.booths is not None:
        intro = f"{goal} needs {result.booths} {q.channel} booths {when} (the scenario has {result.base_booths})."
    elif result.saturated:
        intro = (f"{goal} cannot be reached with {q.channel} booths {when}: from {int(ev['booths'].iloc[-2])} booths on, "
                 "more change no replication, so something else holds the queue (inspection, closures, or a peak before "
                 "the booths are added).")
    else:
        intro = f"{goal} is not reached with up to {shown} {q.channel} booths {when}."
    intro = _p(intro)
    return page(f"Booths needed at {q.crossing}", [intro, share, per_rep, queue, _table(ev)])
