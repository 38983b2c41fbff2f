"""The page: its layout (controls, chart, key figures, buttons) and the callbacks that answer the controls.

Every browser tab gets a token when it loads the page; the settings live in
the tab (its boxes) and the server keeps, per token, only the replications of
those settings (:class:`.jobs.Sessions`). One callback answers everything that
changes what is shown (a box, the measure, the tick that polls while
replications finish): it reads the boxes, turns them into ``--set`` changes,
validates them as ``run`` would, runs the first replication at once when the
settings are new, and draws what is done. A bad box is refused with the
command line's own message and leaves the chart as it was.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from ..analysis import build_results
from ..report import write_report, write_results
from ..scenario import ScenarioError
from .controls import Control
from .jobs import Runs, Sessions
from .settings import Change, Loaded, changes_from, command_line, resolve, settings_toml
from .views import MEASURES, Side, key_figure_rows, loaded_layer, side, whatif_figure

__all__ = ["build_app", "TICK_MS"]

#: How often a page asks for replications that finished, while some are under way.
TICK_MS = 500
#: While bands fill in, the chart is redrawn at most this often (drawing takes CPU from the replications).
REDRAW_S = 1.5
#: The longest a "write a run folder" waits for the replications it needs.
WRITE_TIMEOUT_S = 600
_TOKEN = re.compile(r"[A-Za-z0-9_-]{8,64}")

CSS = """
body { margin: 0; font-family: system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif; color: #222; }
.app { display: grid; grid-template-columns: 370px 1fr; min-height: 100vh; }
aside { background: #f6f6f4; border-right: 1px solid #ddd; padding: 10px 12px; overflow-y: auto; max-height: 100vh;
        position: sticky; top: 0; box-sizing: border-box; }
main { padding: 10px 18px; min-width: 0; }
h1 { font-size: 1.25rem; margin: 4px 0; } h2 { font-size: 1.05rem; margin: 14px 0 6px; }
details { border-top: 1px solid #ddd; padding: 4px 0; } summary { cursor: pointer; font-weight: 600; padding: 3px 0; }
.control { display: grid; grid-template-columns: 1fr 132px; gap: 2px 8px; align-items: center; margin: 4px 0; font-size: 0.85rem; }
.control input { width: 100%; box-sizing: border-box; padding: 2px 4px; font-size: 0.85rem; border: 1px solid #bbb; border-radius: 3px; }
.control.bad input { border: 2px solid #c0392b; background: #fdecea; }
.control .hint { grid-column: 1 / span 2; color: #666; font-size: 0.75rem; margin-top: -2px; }
.status { color: #444; font-size: 0.9rem; } .status b { color: #000; }
.message { white-space: pre-wrap; font-family: ui-monospace, monospace; font-size: 0.85rem; margin: 6px 0; }
.message.error { color: #a8271b; background: #fdecea; padding: 6px 8px; border-radius: 4px; }
.message.warning { color: #7a5600; background: #fff6dd; padding: 6px 8px; border-radius: 4px; }
table.figures { border-collapse: collapse; font-size: 0.85rem; width: 100%; }
table.figures th, table.figures td { padding: 3px 8px; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
table.figures td.num { font-variant-numeric: tabular-nums; }
table.figures tr.group th { background: #f1f1ef; }
td[data-direction=lower] { color: #1a6e3a; } td[data-direction=higher] { color: #a8271b; }
.buttons button { margin: 8px 8px 8px 0; padding: 6px 12px; font-size: 0.9rem; cursor: pointer; }
pre.command { white-space: pre-wrap; word-break: break-all; font-size: 0.75rem; background: #f6f6f4; padding: 6px 8px; }
@media (max-width: 800px) { .app { grid-template-columns: 1fr; } aside { position: static; max-height: none; } }
"""


def _box(i: int, c: Control) -> html.Div:
    """One control: label, input and hint, with its ``--set`` path as ``data-path``."""
    text = c.label + (f" ({c.unit})" if c.unit else "")
    hint = " ".join(x for x in (f"allowed: {c.range_text}." if c.range_text else "", c.help) if x)
    box = dcc.Input(id={"type": "ctl", "index": i}, value=c.value, type="number" if c.kind == "number" else "text",
                    step="any" if c.kind == "number" else None, debounce=0.25 if c.kind == "number" else True,
                    placeholder="YYYY-MM-DD HH:MM" if c.kind == "datetime" else "", autoComplete="off")
    return html.Div([html.Label(text, title=c.path), box, html.Div(hint, className="hint") if hint else None],
                    id={"type": "box", "index": i}, className="control", title=c.help or c.label,
                    **{"data-path": c.path, "data-part": c.part})


def _controls(loaded: Loaded) -> list:
    groups: dict[str, list] = {}
    for i, c in enumerate(loaded.controls):
        groups.setdefault(c.group, []).append(_box(i, c))
    return [html.Details([html.Summary(name), *boxes], open=n < 2) for n, (name, boxes) in enumerate(groups.items())]


def _layout(loaded: Loaded, first: dict) -> html.Div:
    s = loaded.scenario
    return html.Div(className="app", children=[
        dcc.Store(id="token", data=secrets.token_urlsafe(16)),
        dcc.Store(id="shown", data=None),
        dcc.Interval(id="tick", interval=TICK_MS, disabled=False),
        dcc.Download(id="download"),
        html.Aside([html.H1("What if ...?"), html.Div(f"{s.title or s.name} ({loaded.source})", className="status"),
                    html.Button("Back to the loaded scenario", id="reset"), *_controls(loaded)]),
        html.Main([
            html.Div(id="status", className="status", children="starting ..."),
            html.Div(id="message"),
            dcc.RadioItems(id="measure", value="queue_km", inline=True, inputStyle={"margin": "0 4px 0 12px"},
                           options=[{"label": label, "value": key} for key, label in MEASURES.items()]),
            dcc.Graph(id="chart", figure=first, config={"displaylogo": False, "responsive": True}, style={"height": "560px"}),
            html.H2("Key figures: the loaded scenario, the current settings, and the difference (paired, 95% interval)"),
            html.Div(id="figures"),
            html.Div(className="buttons", children=[
                html.Button("Download the settings (TOML)", id="save"),
                html.Button("Write a run folder with its report", id="write"),
            ]),
            dcc.Loading(html.Div(id="written", className="message")),
            html.H2("The same run from the command line"),
            html.Pre(id="command", className="command"),
        ]),
    ])


def _figures_table(rows: list[dict]) -> html.Table:
    head = html.Tr([html.Th("key figure"), html.Th("loaded scenario"), html.Th("current settings"),
                    html.Th("difference (95% interval)")])
    body, crossing = [], None
    for r in rows:
        if r["crossing"] != crossing:
            crossing = r["crossing"]
            body.append(html.Tr(html.Th("all crossings" if crossing == "all" else crossing, colSpan=4), className="group"))
        attrs = {"data-crossing": r["crossing"], "data-kpi": r["kpi"]}
        body.append(html.Tr([
            html.Td(r["label"]),
            html.Td(r["loaded_text"], className="num", **{"data-value": r["loaded"]}),
            html.Td(r["now_text"], className="num", **{"data-value": r["now"]}),
            html.Td(r["difference_text"], className="num",
                    **{"data-value": r["difference"], "data-direction": r["direction"]}),
        ], **attrs))
    return html.Table([html.Thead(head), html.Tbody(body)], className="figures")


def _bad_boxes(loaded: Loaded, err: ScenarioError) -> list[str]:
    """The class of every box: ``control bad`` for those the error names (by path, as far as it can be told)."""
    field = re.sub(r"\[([^\]]*)\]", r".\1", err.field or "").split(" ")[0]
    return ["control bad" if field and (field == c.path or field.startswith(c.path + ".")) else "control"
            for c in loaded.controls]


def _key(changes: list[Change]) -> str:
    """What the replications depend on: the changes but the number of replications ("" for none)."""
    kept = [[c.path, c.text] for c in changes if c.path != "replications"]
    return json.dumps(kept) if kept else ""


class _Faint:
    """The loaded scenario's layer of the chart, drawn once per replication count and measure (it is the same for all)."""

    def __init__(self, loaded: Loaded, baseline: Runs):
        self.loaded, self.baseline, self._lock, self._cache = loaded, baseline, threading.Lock(), {}

    def side_and_layer(self, n: int, measure: str) -> tuple[Side, list[dict]]:
        results = self.baseline.results(n)
        key = (len(results), n, measure)
        with self._lock:
            if key not in self._cache:
                base = side(self.loaded.scenario, results)
                self._cache = {key: (base, loaded_layer(self.loaded.scenario, base, measure))}
            return self._cache[key]


def build_app(loaded: Loaded, baseline: Runs, sessions: Sessions, workers: int, out: str) -> Dash:
    """The Dash app for ``loaded``: the baseline runs are shared, each tab's own runs are in ``sessions``."""
    app = Dash(__name__, title=f"What if: {loaded.scenario.name}", update_title=None, assets_ignore=".*")
    app.index_string = app.index_string.replace("{%css%}", "{%css%}<style>" + CSS + "</style>")
    faint = _Faint(loaded, baseline)

    def layout() -> html.Div:
        """A new page: a new token, and the chart of the loaded scenario as far as it has run."""
        n = loaded.scenario.replications
        figure = {}
        if baseline.count(n):
            base, layer = faint.side_and_layer(n, "queue_km")
            figure = whatif_figure(loaded.scenario, loaded.scenario, base, None, "queue_km", layer)
        return _layout(loaded, figure)

    app.layout = layout

    resolved: dict[str, tuple] = {}  # the last few settings resolved (every tick asks again)

    def settings(values: list) -> tuple[list[Change], object, list[str]]:
        """The page's boxes as changes, the scenario they give and its warnings; ScenarioError if refused."""
        key = json.dumps(values, default=str)
        if key not in resolved:
            changes = changes_from(loaded, {c.key: v for c, v in zip(loaded.controls, values)})
            scenario, notes = resolve(loaded, changes, workers)
            if len(resolved) >= 32:
                resolved.clear()
            resolved[key] = (changes, scenario, notes)
        return resolved[key]

    @app.callback(
        Output("chart", "figure"), Output("figures", "children"), Output("status", "children"), Output("message", "children"),
        Output("message", "className"), Output("command", "children"), Output("tick", "disabled"), Output("shown", "data"),
        Output({"type": "box", "index": ALL}, "className"),
        Input({"type": "ctl", "index": ALL}, "value"), Input("tick", "n_intervals"), Input("measure", "value"),
        State("token", "data"), State("shown", "data"),
    )
    def update(values, _tick, measure, token, shown):
        if not isinstance(token, str) or not _TOKEN.fullmatch(token) or measure not in MEASURES:
            raise PreventUpdate
        try:
            changes, scenario, notes = settings(values)
        except ScenarioError as err:
            return (no_update, no_update, no_update, f"error: {err}", "message error", no_update, True, no_update,
                    _bad_boxes(loaded, err))
        n = scenario.replications
        runs, new = sessions.runs_for(token, _key(changes), scenario)
        if new:
            runs.first_here()
        runs.ensure(n)
        baseline.ensure(n)
        done, done_base = runs.count(n), baseline.count(n)
        drawn = [runs.key, runs.version, done_base, n, measure]
        complete = done >= n and done_base >= n
        boxes = ["control"] * len(loaded.controls)
        message = "\n".join([*(f"error: {e}" for e in runs.errors[:3]), *(f"warning: {w}" for w in notes)])
        style = "message error" if runs.errors else "message warning" if notes else "message"
        last = shown if isinstance(shown, dict) else {}
        filling = ctx.triggered_id == "tick" and last.get("drawn", [None])[0] == runs.key and not complete
        if last.get("drawn") == drawn or done == 0 or done_base == 0 or (filling and time.time() - last.get("at", 0) < REDRAW_S):
            status = _status(runs, baseline, n) if last.get("drawn") != drawn else no_update
            return (no_update, no_update, status, message, style, command_line(loaded, changes), complete, no_update, boxes)
        base, layer = faint.side_and_layer(n, measure)
        current = side(scenario, runs.results(n))
        figure = whatif_figure(scenario, loaded.scenario, base, current, measure, layer)
        table = _figures_table(key_figure_rows(scenario, base, current))
        return (figure, table, _status(runs, baseline, n), message, style, command_line(loaded, changes), complete,
                {"drawn": drawn, "at": time.time()}, boxes)

    @app.callback(Output({"type": "ctl", "index": ALL}, "value"), Input("reset", "n_clicks"), prevent_initial_call=True)
    def reset(_clicks):
        return [c.value for c in loaded.controls]

    @app.callback(Output("download", "data"), Input("save", "n_clicks"), State({"type": "ctl", "index": ALL}, "value"),
                  prevent_initial_call=True)
    def download(_clicks, values):
        try:
            changes, _, _ = settings(values)
        except ScenarioError:
            raise PreventUpdate from None  # the page shows the error already
        return dcc.send_string(settings_toml(loaded, changes), f"{loaded.scenario.name}_whatif.toml")

    @app.callback(Output("written", "children"), Input("write", "n_clicks"), State({"type": "ctl", "index": ALL}, "value"),
                  State("token", "data"), prevent_initial_call=True)
    def write(_clicks, values, token):
        if ctx.triggered_id != "write" or not isinstance(token, str) or not _TOKEN.fullmatch(token):
            raise PreventUpdate
        try:
            changes, scenario, _ = settings(values)
        except ScenarioError as err:
            return f"error: {err}"
        runs, new = sessions.runs_for(token, _key(changes), scenario)
        if new:
            runs.first_here()
        n = scenario.replications
        if not runs.wait(n, WRITE_TIMEOUT_S):
            return f"error: the replications did not finish ({'; '.join(runs.errors[:1]) or 'timed out'}); no run folder was written"
        started = datetime.now(timezone.utc).isoformat()
        try:
            folder = write_results(build_results(scenario, runs.results(n)), out,
                                   {"started_at": started, "source": loaded.source,
                                    "overrides": [*loaded.overrides, *(f"{c.path}={c.text}" for c in changes)],
                                    "workers": workers, "command": command_line(loaded, changes)},
                                   extra=write_report)
        except Exception as err:  # noqa: BLE001 - a full disk or a bad --out is shown, never a crashed server
            return f"error: {err}; no run folder was written"
        return f"run folder: {folder}\nreport: {Path(folder) / 'report.html'}"

    return app


def _status(runs: Runs, baseline: Runs, n: int) -> html.Span:
    """Progress of both sides, with the seconds the current settings took, also as data attributes for tests."""
    done, done_base = runs.count(n), baseline.count(n)
    first, every = runs.first_s, runs.seconds_for_all(n)
    timing = []
    if first is not None and runs is not baseline:
        timing.append(f"first replication in {first:.2f} s")
    if every is not None and runs is not baseline:
        timing.append(f"all {n} in {every:.1f} s")
    return html.Span([
        html.B(f"current settings: {done} of {n} replications"), f" ({', '.join(timing)})" if timing else "",
        f"; loaded scenario: {done_base} of {n}", "" if done >= n and done_base >= n else " ... bands fill in as they finish",
    ], **{"data-done": done, "data-total": n, "data-loaded-done": done_base, "data-key": runs.key or "loaded",
          "data-first-s": "" if first is None else f"{first:.3f}", "data-all-s": "" if every is None else f"{every:.3f}",
          "data-time": f"{time.time():.3f}"})
