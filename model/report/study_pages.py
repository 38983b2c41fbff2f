"""Run folders and offline HTML pages for the experiment commands (sweep, compare, sensitivity, capacity).

Each page is one self-contained file: plotly.js is embedded once, figures
get sequential div ids (``fig-1``, ``fig-2``, ...) so the same results give
the same bytes, and axis titles carry units. Colours and the chart template
are the report's (:mod:`model.report.style`); the page shell is a small local
helper, as the report's page is built for a single run folder. Pages read
only the result tables, never the engine.

Pages speak the planner's language: a parameter is named by its field's
description in the scenario schema with the places it belongs to
(``crossings.Logachevka.car.booths`` -> "Logachevka, cars: booths open at the
start"), a key figure by the run report's label with its unit. Tables show
the chosen figure and its difference first and at most :data:`MAX_COLUMNS`
columns; the CSV files in the run folder keep every column.
"""

from __future__ import annotations

import html
import math
import re
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
from ..experiments.studies import KEY_KPIS, current_value, difference_summary
from ..scenario import Scenario, ScenarioError
from .labels import _kpi_label, _kpi_unit, kpi_label, param_label
from .run_folder import (
    RunFolder,
    create_text,
    scenario_sha256,
    scenario_toml,
    write_manifest,
    write_table,
)
from .style import PALETTE, RESPONSIVE_SCRIPT, TEMPLATE, fluid_figure

__all__ = ["page", "write_study", "sweep_page", "compare_page", "sensitivity_page", "capacity_page", "param_label", "kpi_label"]

#: Scenario and series colours, in order: the report's colour-blind-safe palette.
COLOURS = PALETTE
#: Columns a page's table shows; the run folder's CSV files have them all.
MAX_COLUMNS = 8
#: Decimals of a figure in a table, by its unit (others: three significant digits).
_DECIMALS = {"km": 2, "h": 1, "people": 0, "vehicles": 0, "parties": 0, "person-hours": 0}


def _fmt(value, kpi: str | None = None, signed: bool = False) -> str:
    """A figure for a table: date-times local and short, shares in %, numbers to the precision of their unit."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, (pd.Timestamp, datetime)):
        return pd.Timestamp(value).strftime("%a %d %b %H:%M")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return {True: "yes", False: "no"}.get(value, str(value)) if isinstance(value, bool) else str(value)
    sign = "+" if signed else ""
    unit = "h" if signed and KPI_UNITS.get(kpi) == "datetime" else KPI_UNITS.get(kpi, "")
    if unit == "fraction":
        return f"{value:{sign}.1%}"
    if unit in _DECIMALS:
        return f"{value:{sign},.{_DECIMALS[unit]}f}" + (" h" if signed and KPI_UNITS.get(kpi) == "datetime" else "")
    return f"{value:{sign},.0f}" if float(value).is_integer() else f"{value:{sign}.3g}"


def _interval(low, high, kpi: str | None = None, signed: bool = False) -> str:
    if any(v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v)) for v in (low, high)):
        return "-"
    return f"{_fmt(low, kpi, signed)} to {_fmt(high, kpi, signed)}"


def page(title: str, blocks: list[str | go.Figure]) -> str:
    """A complete offline HTML page: ``blocks`` are HTML fragments or figures, in order."""
    parts, n = [], 0
    for block in blocks:
        if isinstance(block, go.Figure):
            n += 1
            block.update_layout(template=TEMPLATE)
            parts.append(fluid_figure(pio.to_html(block, full_html=False, include_plotlyjs=False, div_id=f"fig-{n}",
                                                  default_width="100%", config={"displaylogo": False, "responsive": True})))
        else:
            parts.append(block)
    style = ("body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;padding:0 12px;color:#222}"
             "table{border-collapse:collapse;font-size:13px}td,th{padding:2px 8px;border-bottom:1px solid #ddd;"
             "text-align:left;vertical-align:top}th{background:#f4f4f4}td.num{text-align:right}"
             ".wide{overflow-x:auto;max-width:100%}.note{color:#666;font-size:13px}code{font-size:12px}"
             "@page{size:A4;margin:12mm}@media print{body{margin:0;max-width:186mm;padding:0}.figure{break-inside:avoid}"
             ".modebar-container{display:none}}")
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{html.escape(title)}</title>"
            f"<style>{style}</style><script type=\"text/javascript\">{get_plotlyjs()}</script>"
            f"<script>{RESPONSIVE_SCRIPT}</script></head>\n"
            f"<body><h1>{html.escape(title)}</h1>\n" + "\n".join(parts) + "\n</body></html>\n")


def _p(text: str, cls: str = "") -> str:
    return f"<p{f' class={chr(34)}{cls}{chr(34)}' if cls else ''}>{html.escape(text)}</p>"


def _table(frame: pd.DataFrame, csv: str | None = None, what: str = "every column") -> str:
    """A table of at most :data:`MAX_COLUMNS` formatted columns (numbers right, words left), naming the full CSV."""
    shown = frame.iloc[:, :MAX_COLUMNS]

    def cell(value) -> str:
        text = str(value)
        number = bool(re.match(r"^[-+]?[\d.,]+(%| h)?( \(|$)", text)) or text in ("-", "reference")
        return f'<td class="num">{html.escape(text)}</td>' if number else f"<td>{html.escape(text)}</td>"

    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    body = "".join("<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in shown.itertuples(index=False))
    note = _p(f"The full table, {what}, is in {csv} in this run folder.", "note") if csv else ""
    return f'<div class="wide"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>{note}'


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
            (folder / name).parent.mkdir(exist_ok=True)  # inside the new temporary folder
            create_text(folder / name, text)
            recorded[label] = {"file": name, "name": s.name, "seed": s.seed, "replications": s.replications,
                               "sha256": scenario_sha256(text)}
        for name, frame in tables.items():
            write_table(frame, folder / name)
        for name, text in pages.items():
            create_text(folder / name, text)
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


def _baseline_value(scenario: Scenario, key: str):
    """The scenario's own value of a swept key (None if it has none there)."""
    try:
        return current_value(scenario, key)
    except ScenarioError:
        return None


def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) and not isinstance(b, bool):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def _baseline_point(result: SweepResult) -> tuple[int | None, list]:
    """The sweep point at the scenario's own values of every varied key (None if it was not tried), and those values."""
    values = [_baseline_value(result.scenario, a.key) for a in result.axes]
    for row in result.points.to_dict("records"):
        if all(_same(row[a.key], v) for a, v in zip(result.axes, values)):
            return int(row["point"]), values
    return None, values


def _paired_differences(result: SweepResult, crossing: str, kpi: str, base: int) -> dict[int, tuple[float, float, float]]:
    """Per point, the mean difference of ``kpi`` to point ``base`` and its paired 95% interval (time figures in h)."""
    rep = result.by_replication
    first = rep[rep["point"] == base].drop(columns="point")
    out = {}
    for point in result.points["point"]:
        d = difference_summary(first, rep[rep["point"] == point].drop(columns="point"))
        row = d[(d["crossing"] == crossing) & (d["kpi"] == kpi)]
        out[int(point)] = tuple(float(row[c].iloc[0]) if len(row) else math.nan for c in ("mean", "ci95_low", "ci95_high"))
    return out


def _where(crossing: str) -> str:
    return "all crossings" if crossing == "all" else crossing


def sweep_page(result: SweepResult, kpi: str, crossing: str) -> str:
    """One parameter: the figure's mean against it with its 95% band, the baseline marked. Two: a heat map of the mean.

    The table has a row per point: the varied values, the chosen figure's
    mean, its 95% interval and its paired difference to the baseline (the
    scenario's own values; the first point if they were not tried), then
    other key figures' means, :data:`MAX_COLUMNS` columns in all.
    """
    s = result.scenario
    table = sweep_table(result, crossing, tuple(dict.fromkeys((kpi, *KEY_KPIS))))
    labels = {a.key: param_label(a.key, s) for a in result.axes}
    base, base_values = _baseline_point(result)
    ref = base if base is not None else int(result.points["point"].iloc[0])
    diffs = _paired_differences(result, crossing, kpi, ref)
    figure = kpi_label(kpi)
    intro = _p(f"{s.name}: {_kpi_label(kpi)} at {_where(crossing)} against "
               f"{' and '.join(labels.values())}, mean of {s.replications} replications per point "
               f"(seed {s.seed}, common random numbers: every point sees the same surge).")
    keys = _p("Varied: " + "; ".join(f"{labels[a.key]} = {a.key}" for a in result.axes)
              + ". The baseline is the scenario's own value" + ("s" if len(result.axes) > 1 else "")
              + (": " + ", ".join(_fmt(v) for v in base_values) + "." if None not in base_values else "."), "note")
    if len(result.axes) == 1:
        key = result.axes[0].key
        fig = go.Figure()
        numeric = pd.api.types.is_numeric_dtype(table[key]) and not pd.api.types.is_bool_dtype(table[key])
        x = table[key] if numeric else table[key].astype(str)
        if numeric and KPI_UNITS.get(kpi) != "datetime":
            _band(fig, table[key], table[f"{kpi}_ci95_low"], table[f"{kpi}_ci95_high"], COLOURS[0], "95% CI")
        fig.add_trace(go.Scatter(x=x, y=table[kpi], mode="lines+markers", name=f"{_where(crossing)}, mean",
                                 line={"color": COLOURS[0]}))
        _mark_baseline(fig, base_values[0], numeric, x, table, kpi, base)
        fig.update_layout(xaxis_title=labels[key], yaxis_title=figure, showlegend=False,
                          title=f"{_kpi_label(kpi)} at {_where(crossing)} (band: 95% confidence interval of the mean)")
    else:
        k1, k2 = result.axes[0].key, result.axes[1].key
        grid = table.pivot(index=k2, columns=k1, values=kpi)
        fig = go.Figure(go.Heatmap(z=grid.to_numpy(), x=[str(v) for v in grid.columns], y=[str(v) for v in grid.index],
                                   colorbar={"title": {"text": figure}}, texttemplate="%{z:.3g}"))
        if base is not None:
            fig.add_trace(go.Scatter(x=[str(base_values[0])], y=[str(base_values[1])], mode="markers+text", text=["baseline"],
                                     textposition="top center", name="baseline (the scenario's own values)",
                                     marker={"symbol": "circle-open", "size": 22, "color": "#000000", "line": {"width": 2}}))
        fig.update_layout(xaxis_title=labels[k1], yaxis_title=labels[k2], title=f"{_kpi_label(kpi)} at {_where(crossing)}, mean",
                          xaxis={"type": "category"}, yaxis={"type": "category"}, legend={"orientation": "h", "y": -0.25})
    rows = []
    others = [k for k in KEY_KPIS if k != kpi][: max(0, MAX_COLUMNS - len(result.axes) - 3)]
    ref_text = "baseline" if base is not None else f"{labels[result.axes[0].key]} = {_fmt(table[result.axes[0].key].iloc[0])}"
    diff_unit = "h" if KPI_UNITS.get(kpi) == "datetime" else _kpi_unit(kpi)
    for row in table.to_dict("records"):
        point = int(row["point"])
        cells = {labels[a.key]: _fmt(row[a.key]) + (" (baseline)" if point == base else "") for a in result.axes}
        d = diffs[point]
        cells[figure] = _fmt(row[kpi], kpi)
        cells["95% interval"] = _interval(row[f"{kpi}_ci95_low"], row[f"{kpi}_ci95_high"], kpi)
        cells[f"difference to {ref_text} ({diff_unit}, paired 95% interval)"] = (
            "reference" if point == ref else "-" if math.isnan(d[0])
            else f"{_fmt(d[0], kpi, signed=True)} ({_interval(d[1], d[2], kpi, signed=True)})")
        cells.update({kpi_label(k): _fmt(row[k], k) for k in others})
        rows.append(cells)
    return page(f"Sweep: {s.name}", [intro, keys, fig, _table(pd.DataFrame(rows), "sweep.csv", "every key figure with its 95% interval")])


def _mark_baseline(fig: go.Figure, value, numeric: bool, x, table: pd.DataFrame, kpi: str, base: int | None) -> None:
    """A dotted vertical line at the scenario's own value labelled "baseline" (a ringed point on a list of values)."""
    if value is None:
        return
    if numeric and isinstance(value, (int, float)) and not isinstance(value, bool):
        fig.add_vline(x=value, line={"color": "#555555", "dash": "dot", "width": 1.5},
                      annotation={"text": "baseline", "font": {"color": "#555555"}}, annotation_position="top")
        return
    if base is not None:
        y = table.loc[table["point"] == base, kpi]
        fig.add_trace(go.Scatter(x=[str(value)], y=y, mode="markers+text", text=["baseline"], textposition="top center",
                                 name="baseline", marker={"symbol": "circle-open", "size": 16, "color": "#000000"}))


def compare_page(result: CompareResult, table: pd.DataFrame) -> str:
    """Queue km and cumulative people crossed per crossing, one line per scenario, and the differences table."""
    crossings = list(dict.fromkeys(result.queues["crossing"]))
    labels = result.labels
    first = result.scenarios[labels[0]]
    figs = []
    for title, frame, y, unit in (("Queue on the road (mean, 5-95% band)", result.queues, "queue_km_mean", "queue on the road (km)"),
                                  ("People crossed, cumulative (mean)", result.crossed, "people_crossed", "people crossed (people)")):
        names = crossings if y == "queue_km_mean" else crossings + ["all"]
        fig = make_subplots(rows=len(names), cols=1, shared_xaxes=True, subplot_titles=[_where(n) for n in names],
                            vertical_spacing=0.06)
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
    others = labels[1:]
    diffs = others[: MAX_COLUMNS - 2]
    means = labels[: max(0, MAX_COLUMNS - 2 - len(diffs))]
    rows = []
    ordered = table.assign(_all=table["crossing"] != "all").sort_values(["_all"], kind="stable")
    for r in ordered.to_dict("records"):
        kpi = r["kpi"]
        cells = {"key figure": kpi_label(kpi), "crossing": _where(r["crossing"])}
        for label in diffs:
            d = r.get(f"{label}:diff")
            cells[f"{label} - {labels[0]} (paired 95% interval)"] = (
                "-" if d is None or (isinstance(d, float) and math.isnan(d))
                else f"{_fmt(d, kpi, signed=True)} ({_interval(r[f'{label}:diff_ci95_low'], r[f'{label}:diff_ci95_high'], kpi, True)})")
        cells.update({label: _fmt(r[f"{label}:mean"], kpi) for label in means})
        rows.append(cells)
    full = _table(pd.DataFrame(rows), "compare.csv", "every scenario's means and 95% intervals")
    return page("Compare: " + " vs ".join(labels), [intro, *figs, full])


def sensitivity_page(result: SensitivityResult) -> str:
    """Bars of the indices, most influential on top, with their bootstrap 95% intervals."""
    idx = result.indices.iloc[::-1]
    names = [param_label(k) for k in idx["parameter"]]
    unit = _kpi_unit(result.kpi)
    fig = go.Figure()
    if result.method == "morris":
        fig.add_trace(go.Bar(y=names, x=idx["mu_star"], orientation="h", name="mu*",
                             error_x={"type": "data", "array": idx["mu_star_conf"]}, marker_color=COLOURS[0]))
        fig.update_layout(xaxis_title=f"Morris mu*: mean absolute effect on {_kpi_label(result.kpi)} ({unit})")
    else:
        for i, (col, name) in enumerate((("S1", "first order S1"), ("ST", "total ST"))):
            fig.add_trace(go.Bar(y=names, x=idx[col], orientation="h", name=name,
                                 error_x={"type": "data", "array": idx[f"{col}_conf"]}, marker_color=COLOURS[i]))
        fig.update_layout(xaxis_title="Sobol' index (share of variance, 0-1)", barmode="group")
    fig.update_layout(title=f"Influence on {_kpi_label(result.kpi)} at {_where(result.crossing)}", yaxis_title="parameter",
                      height=200 + 60 * len(idx), yaxis={"automargin": True})
    intro = _p(f"{result.method.title()} method, {len(result.points)} scenario variants; ranked by "
               f"{'mu*' if result.method == 'morris' else 'ST'}, the influence on {kpi_label(result.kpi)} "
               f"at {_where(result.crossing)}.")
    keys = _p("Parameters: " + "; ".join(f"{param_label(k)} = {k}" for k in result.indices["parameter"]), "note")
    rows = []
    for r in result.indices.to_dict("records"):
        cells = {"rank": r["rank"], "parameter": param_label(r["parameter"]), "range": f"{_fmt(r['low'])} to {_fmt(r['high'])}"}
        if result.method == "morris":
            cells.update({f"mu* ({unit})": _fmt(r["mu_star"]), "mu* 95% half-width": _fmt(r["mu_star_conf"]),
                          f"mu ({unit})": _fmt(r["mu"]), f"sigma ({unit})": _fmt(r["sigma"])})
        else:
            cells.update({"total ST": _fmt(r["ST"]), "ST 95% half-width": _fmt(r["ST_conf"]),
                          "first order S1": _fmt(r["S1"]), "S1 95% half-width": _fmt(r["S1_conf"])})
        rows.append(cells)
    full = _table(pd.DataFrame(rows), "sensitivity.csv", "with the parameters' keys")
    return page(f"Sensitivity of {_kpi_label(result.kpi)}", [intro, keys, fig, full])


_BOOTHS = {"car": "car", "bus": "bus", "foot": "pedestrian"}


def capacity_page(result: CapacityResult) -> str:
    """The share of replications meeting the limit per count tried, and the queue with the answer.

    The booth axes are categories: only the counts the search tried, in order.
    """
    q, ev = result.question, result.evaluations.sort_values("booths")
    figure = kpi_label(q.figure, unit=False)
    what = f"{_BOOTHS.get(q.channel, q.channel)} booths at {q.crossing}"
    tried = [str(int(b)) for b in ev["booths"]]
    axis = {"title": {"text": f"{what} (counts tried)"}, "type": "category", "categoryorder": "array", "categoryarray": tried}
    share = go.Figure(go.Scatter(x=tried, y=ev["share_meeting"], mode="markers", marker={
        "size": 11, "color": [COLOURS[2] if f else COLOURS[1] for f in ev["feasible"]]}, name="share meeting"))
    share.add_hline(y=q.share, line_dash="dash", annotation_text=f"required {q.share:.0%}")
    share.update_layout(title=f"Share of replications with {figure} at most {q.limit:g} {q.unit} (green: enough)",
                        xaxis=axis, yaxis={"title": {"text": "share of replications (0-1)"}, "range": [-0.05, 1.05]})
    per_rep = go.Figure(go.Scatter(x=[str(int(b)) for b in result.by_replication["booths"]], y=result.by_replication["figure"],
                                   mode="markers", marker={"color": COLOURS[0], "opacity": 0.5}, name="replication"))
    per_rep.add_hline(y=q.limit, line_dash="dash", annotation_text=f"limit {q.limit:g} {q.unit}")
    per_rep.update_layout(title=f"{figure[:1].upper()}{figure[1:]} per replication", xaxis=axis,
                          yaxis={"title": {"text": f"{figure} ({q.unit})"}})
    g = result.queues
    shown = int(g["booths"].iloc[0]) if len(g) else None
    queue = go.Figure()
    _band(queue, g["time"], g["queue_km_p05"], g["queue_km_p95"], COLOURS[0], "5-95%")
    queue.add_trace(go.Scatter(x=g["time"], y=g["queue_km_mean"], name="mean", line={"color": COLOURS[0]}))
    if q.figure == "peak_queue_km":
        queue.add_hline(y=q.limit, line_dash="dash", annotation_text=f"limit {q.limit:g} km")
    queue.update_layout(title=f"Queue at {q.crossing} with {shown} {what.split(' at ')[0]} (mean, 5-95% band)",
                        xaxis_title=f"local time ({result.scenario.timezone})", yaxis_title="queue on the road (km)")
    when = "for the whole period" if q.start is None else f"from {q.start.isoformat()}"
    goal = f"{q.crossing}: {figure} at most {q.limit:g} {q.unit} in at least {q.share:.0%} of {result.scenario.replications} replications"
    if result.booths is not None:
        intro = f"{goal} needs {result.booths} {what.split(' at ')[0]} {when} (the scenario has {result.base_booths})."
    else:
        intro = f"{goal}: {result.reason}."
    rows = [{"booths": int(r["booths"]), "share of replications meeting the limit": f"{r['share_meeting']:.0%}",
             f"enough (at least {q.share:.0%})": "yes" if r["feasible"] else "no",
             f"{figure}, mean ({q.unit})": _fmt(r["mean"]), f"90th percentile ({q.unit})": _fmt(r["p90"]),
             f"highest ({q.unit})": _fmt(r["max"]), "booths added": int(r["added"]),
             "surge queue cleared (mean)": "-" if pd.isna(r["surge_cleared_at"]) else
             f"{r['surge_cleared_at']:%a %d %b %H:%M} ({r['surge_cleared_replications']} of {result.scenario.replications})"}
            for r in ev.to_dict("records")]
    full = _table(pd.DataFrame(rows), "capacity.csv", "every count tried")
    return page(f"Booths needed at {q.crossing}", [_p(intro), share, per_rep, queue, full])
