"""The validation page: the verdict, every check, the calibration table and charts, in one offline file."""

from __future__ import annotations

import html
import math
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from ..experiments import Suite
from .run_folder import RunFolder, create_text, write_table

__all__ = ["validation_html", "write_validation"]

def _fmt(x) -> str:
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, float):
        if math.isnan(x):
            return ""
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return f"{x:.4g}"
    return str(x)


_CELL_CLASS = {"pass": "pass", "FAIL": "fail", "shown: outside": "shown", "shown: inside": "pass"}


def _html_table(frame: pd.DataFrame) -> str:
    """A plain HTML table; a ``verdict`` column is coloured (pass green, FAIL red, shown-but-outside amber)."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for col, value in zip(frame.columns, row):
            text = html.escape(_fmt(value))
            cls = _CELL_CLASS.get(text, "") if col == "verdict" else ""
            cells.append(f"<td class='{cls}'>{text}</td>" if cls else f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _figures(suite: Suite) -> list:
    """An M/M/c chart (simulated against Erlang C, log scale), the fluid case, and the facts against their ranges."""
    figs = []
    t = suite.table
    m = t[(t["group"] == "M/M/c") & t["name"].str.endswith("mean wait (min)")]
    if len(m):
        fig = go.Figure()
        top = float(max(m["expected"].max(), m["ci95_high"].max())) * 1.2
        fig.add_scatter(x=[0.05, top], y=[0.05, top], mode="lines", name="simulated = Erlang C", line={"dash": "dot"})
        fig.add_scatter(x=m["expected"], y=m["simulated"], mode="markers", name="simulated mean, 95% interval",
                        text=m["name"].str.replace(": mean wait (min)", ""),
                        error_y={"type": "data", "symmetric": False, "array": m["ci95_high"] - m["simulated"],
                                 "arrayminus": m["simulated"] - m["ci95_low"]})
        fig.update_layout(title="M/M/c: mean wait, simulated against Erlang C (minutes)",
                          xaxis={"title": "Erlang C", "type": "log"}, yaxis={"title": "simulated", "type": "log"})
        figs.append(fig)
    c = suite.fluid_curve
    fig = go.Figure()
    fig.add_scatter(x=c["time_min"] / 60, y=c["fluid_vehicles"], mode="lines", name="fluid solution",
                    line={"width": 8, "color": "rgba(99,110,250,0.35)"})
    fig.add_scatter(x=c["time_min"] / 60, y=c["simulated_vehicles"], mode="markers", name="simulated, before each epoch",
                    marker={"size": 3, "color": "black"})
    fig.update_layout(title="Deterministic surge: queue (vehicles) against the fluid solution",
                      xaxis={"title": "hours from start"}, yaxis={"title": "vehicles waiting"})
    figs.append(fig)
    cal = suite.calibration
    if cal is not None and len(cal):
        finite = cal[np.isfinite(cal["high"])]
        lo, hi = finite["low"].clip(lower=0), finite["high"]
        scale = (hi - lo).where(hi > lo, 1.0)
        fig = go.Figure()
        fig.add_bar(y=finite["name"], x=[1.0] * len(finite), base=[0.0] * len(finite), orientation="h",
                    name="reported range", opacity=0.3)
        fig.add_scatter(y=finite["name"], x=(finite["mean"] - lo) / scale, mode="markers", name="simulated mean, 95% interval",
                        error_x={"type": "data", "symmetric": False, "array": (finite["ci95_high"] - finite["mean"]) / scale,
                                 "arrayminus": (finite["mean"] - finite["ci95_low"]) / scale})
        fig.update_layout(title="Facts: simulated against the reported range (0 = low end, 1 = high end)",
                          xaxis={"title": "position in the reported range"}, height=120 + 40 * len(finite))
        figs.append(fig)
    return figs


def _chance_note(suite: Suite) -> str:
    """How many interval checks there are, and how many of them an exact engine would fail by chance alone."""
    intervals = sum(r.group == "M/M/c" for r in suite.rows)
    if not intervals:
        return ""
    return (f"<p>The {intervals} M/M/c rows are each judged on a 95% interval, so even an exact engine would see about 1 in "
            f"20 of them miss the exact value by chance ({intervals * 0.05:.1f} expected in all): a single miss whose mean is "
            "within the precision target of the exact value is weak evidence of a fault, several are strong. The seeds "
            "are fixed, so the suite gives the same verdicts every time it runs.</p>")


def validation_html(suite: Suite) -> str:
    """A self-contained page: verdict, every check, the calibration table and charts (plotly.js embedded once)."""
    failed = [r for r in suite.rows if not r.passed]
    verdict = "all checks passed" if not failed else f"{len(failed)} check(s) FAILED"
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>validation: {html.escape(suite.scenario)}</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;font-size:13px}"
        "td,th{border:1px solid #ccc;padding:3px 6px;text-align:left}.fail{background:#f8d0d0}.pass{background:#d8f0d8}"
        ".shown{background:#fbe8c0}</style>",
        f"<script type='text/javascript'>{get_plotlyjs()}</script></head><body>",
        f"<h1>Verification and validation: {html.escape(suite.scenario)}</h1>",
        f"<p><b>{verdict}</b> ({len(suite.rows)} checks, {suite.seconds:.0f} s). "
        f"Scenario file {html.escape(suite.info.get('scenario_file', ''))}, "
        f"{suite.info.get('replications')} replication(s){', quick mode' if suite.info.get('quick') else ''}.</p>",
    ]
    if suite.calibration is not None:
        cal = suite.calibration.assign(verdict=[r.verdict for r in suite.rows if r.group == "calibration"])
        cal = cal[["fact", "source", "reported", "crossing", "unit", "mean", "ci95_low", "ci95_high", "verdict", "why"]]
        parts += ["<h2>Reported facts against the simulation</h2>",
                  "<p>mean and 95% interval over the replications; a fact passes when the mean lies in the reported range. "
                  "'shown' facts are reported for honesty but not required (see why).</p>", _html_table(cal)]
    parts += ["<h2>Every check</h2>", _chance_note(suite), _html_table(suite.table.drop(columns="passed"))]
    for fig in _figures(suite):
        parts.append(fig.to_html(full_html=False, include_plotlyjs=False))
    parts.append("</body></html>")
    return "\n".join(parts)


def write_validation(suite: Suite, out: str | Path) -> Path:
    """Write ``validation.csv``, ``calibration.csv`` (if any) and ``validation.html`` into a new run folder."""
    run = RunFolder(out, f"{suite.scenario}-validation")
    with run as folder:
        write_table(suite.table, folder / "validation.csv")
        if suite.calibration is not None:
            write_table(suite.calibration, folder / "calibration.csv")
        create_text(folder / "validation.html", validation_html(suite))
    return run.path
