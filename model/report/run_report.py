"""The interactive report: one offline HTML page per run folder, built from its tables alone.

:func:`write_report` reads a run folder's ``scenario.toml`` and CSV tables
(never simulation objects), aggregates them to what the charts need (means
per replication, percentiles, hourly bins: no per-party rows reach the
page), and writes ``report.html`` with plotly.js embedded once, so the page
opens on a laptop with no connection. The page is a pure function of the
folder's files: the same tables give the same bytes (fixed div ids, no
build time stamp). When the folder has a ``manifest.json``, reading it
first checks every table against the manifest's checksums
(:func:`model.report.run_tables.read_run`); a run builds its own report
before its manifest exists. The scenario's SHA-256 on the page matches the
manifest's ``scenario_sha256``.
"""

from __future__ import annotations

import html
import math
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

from ..scenario import MODES
from .chart_frames import (
    booths_on_grid,
    capacity_events,
    capacity_line,
    capacity_steps,
    cumulative_curves,
    diversions,
    flows,
    hourly_throughput,
    map_queue,
    surge_window,
    wait_by_hour,
    wait_ecdf,
)
from .classes_section import classes_section
from .controls_section import controls_section
from .figures import (
    cumulative_figure,
    flow_figure,
    queue_figure,
    throughput_figure,
    wait_by_hour_figure,
    wait_distribution_figure,
)
from .map_figure import map_figure
from .queue_people import people_section
from .run_folder import RunFolderError, check_replaceable, replace_text, scenario_sha256
from .run_tables import ReportError, RunTables, read_run
from .style import MODE_LABEL, RESPONSIVE_SCRIPT, Clock, crossing_colours, fluid_figure, no_default_template, of_replications

__all__ = ["write_report", "build_report"]

PLOT_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["select2d", "lasso2d"]}


KPI_LABELS = {
    "people_departed": "people who set off towards it",
    "people_arrived": "people who reached the border",
    "people_crossed": "people crossed",
    "people_gave_up": "people who gave up",
    "people_waiting_at_end": "people still waiting at the end (in a queue, for a bus or at home)",
    "people_travelling_at_end": "people on the road at the end",
    "people_waiting_for_bus_at_end": "of those still waiting, at a bus stop",
    "people_waiting_at_home_at_end": "of those still waiting, at home behind a closed road",
    "parties_crossed": "parties crossed",
    "vehicles_crossed": "vehicles crossed",
    "people_diverted": "people who came here after leaving another crossing",
    "people_diverted_away": "people who left it for another crossing",
    "people_walked": "people who left their car and walked",
    "people_inspected": "people held for secondary inspection",
    "peak_queue_km": "peak queue on the road",
    "peak_queue_at": "time of the peak queue",
    "peak_vehicles_waiting": "peak vehicles waiting",
    "peak_people_waiting": "peak people waiting",
    "mean_queue_km": "time-average queue on the road",
    "wait_mean_h": "mean wait per party",
    "wait_p50_h": "median wait per party",
    "wait_p90_h": "90th percentile wait per party",
    "wait_p95_h": "95th percentile wait per party",
    "wait_max_h": "longest wait",
    "person_wait_mean_h": "mean wait per person",
    "person_wait_p50_h": "median wait per person",
    "person_wait_p90_h": "90th percentile wait per person",
    "surge_people_served": "people served who arrived in the surge",
    "surge_person_wait_mean_h": "surge: mean wait per person",
    "surge_person_wait_p50_h": "surge: median wait per person",
    "surge_person_wait_p90_h": "surge: 90th percentile wait per person",
    "surge_person_wait_max_h": "surge: longest wait",
    "surge_cleared_at": "surge queue cleared",
    "person_hours_waiting": "time spent waiting",
    "people_waiting_at_night_max": "most people waiting at 03:00",
}
#: How each share reads after "share of people who ...".
SHARE_VERBS = {"inspected": "were held for secondary inspection", "gave_up": "gave up",
               "diverted": "came here after leaving another crossing"}
TIME_FORMAT = "%a %d %b %H:%M"
KPI_GROUPS = {
    "people": "How many",
    "share": "Shares of the people whose journey is counted here",
    "queue": "Queue",
    "wait": "Waits, from arrival at the border to a booth",
    "other": "Clearance and burden",
}


def _kpi_group(kpi: str) -> str:
    """Which block of the key-figure table a figure belongs to, by its name."""
    for prefix, group in (("share_", "share"), ("wait_", "wait"), ("person_wait", "wait"), ("surge_person", "wait"),
                          ("surge_people", "wait"), ("peak_", "queue"), ("mean_queue", "queue"),
                          ("people_waiting_at_night", "other"), ("people_", "people"), ("parties_", "people"),
                          ("vehicles_", "people")):
        if kpi.startswith(prefix):
            return group
    return "other"


def _kpi_label(kpi: str) -> str:
    for prefix in ("wait_mean_h_", "wait_p90_h_", "peak_people_waiting_"):  # per mode, or per priority or vehicle class
        if kpi.startswith(prefix):
            mode = MODE_LABEL.get(kpi.removeprefix(prefix), kpi.removeprefix(prefix))
            return f"{KPI_LABELS[prefix.removesuffix('_')]}, {mode}"
    if kpi.startswith("share_"):
        what = kpi.removeprefix("share_")
        return f"share of people who {SHARE_VERBS.get(what, what.replace('_', ' '))}"
    return KPI_LABELS.get(kpi, kpi.replace("_", " "))


def _format(value, unit: str, with_unit: bool = True) -> str:
    """One figure in its unit, for the tables (where the row names the unit) and the headline."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if unit.startswith("datetime"):
        return pd.Timestamp(value).strftime(TIME_FORMAT)
    if unit == "fraction":
        return f"{float(value):.1%}"
    text = {"km": f"{float(value):.2f}", "h": f"{float(value):.1f}"}.get(unit, f"{float(value):,.0f}")
    return f"{text} {unit}" if with_unit and unit in ("km", "h") else text


class _Kpis:
    """Looks up the across-replication summary of one key figure at one crossing (or ``all``)."""

    def __init__(self, run: RunTables):
        k = run.kpis.copy()
        times = k["unit"].str.startswith("datetime")
        for col in ("mean", "ci95_low", "ci95_high"):
            k[col] = k[col].astype(object)
            k.loc[times, col] = [run.local(v) if isinstance(v, str) and v else math.nan for v in k.loc[times, col]]
            k.loc[~times, col] = pd.to_numeric(k.loc[~times, col], errors="coerce")
        self.table = k.set_index(["crossing", "kpi"])

    def __contains__(self, key) -> bool:
        return key in self.table.index

    def mean(self, crossing: str, kpi: str):
        return self.table.loc[(crossing, kpi), "mean"] if (crossing, kpi) in self else math.nan

    def cell(self, crossing: str, kpi: str) -> str:
        """Mean, 95 % confidence half-width and, if some replications lack it, in how many it exists."""
        if (crossing, kpi) not in self:
            return "-"
        r = self.table.loc[(crossing, kpi)]
        text = html.escape(_format(r["mean"], r["unit"], with_unit=False))
        low, high = r["ci95_low"], r["ci95_high"]
        if r["n"] > 1 and not pd.isna(low) and not pd.isna(high) and r["sd"] > 0:
            half = (high - low) / 2
            if isinstance(half, pd.Timedelta):
                text += f' <span class="ci">&plusmn; {half.total_seconds() / 3600:.1f} h</span>'
            elif r["unit"] == "fraction":
                text += f' <span class="ci">&plusmn; {half:.1%}</span>'
            else:
                text += f' <span class="ci">&plusmn; {_format(half, r["unit"], with_unit=False)}</span>'
        if r["replications"] > 1 and (r["n"] < r["replications"] or kpi == "surge_cleared_at"):  # say how many runs reached it
            text += f' <span class="ci">({int(r["n"])} of {int(r["replications"])} runs)</span>'
        return text


def _headline(run: RunTables, k: _Kpis) -> str:
    """The four figures a reader wants first, as cards; each card's figures are of the place it names."""
    names = [c.name for c in run.scenario.crossings]
    rules = run.scenario.key_figures
    peaks = {c: k.mean(c, "peak_queue_km") for c in names}
    worst = max(names, key=lambda c: -1 if pd.isna(peaks[c]) else peaks[c])
    surge_waits = {c: k.mean(c, "surge_person_wait_p50_h") for c in names}
    longest = max(names, key=lambda c: -1 if pd.isna(surge_waits[c]) else surge_waits[c])
    peak_at = k.mean(worst, "peak_queue_at")
    # waiting at the end includes those at a bus stop or at home (their figures are parts of it)
    not_crossed = sum(float(np.nan_to_num(k.mean("all", f))) for f in ("people_waiting_at_end", "people_travelling_at_end"))
    if pd.isna(surge_waits[longest]):
        wait_value, wait_note = "no surge", f"no crossing's queue reached {rules.clearance_people:g} people"
    else:
        wait_value = _format(surge_waits[longest], "h")
        wait_note = (f"median wait of the {_format(k.mean(longest, 'surge_people_served'), 'people')} people who reached "
                     f"{longest} in its surge; 1 in 10 waited over {_format(k.mean(longest, 'surge_person_wait_p90_h'), 'h')}, "
                     f"the longest {_format(k.mean(longest, 'wait_max_h'), 'h')}")
    cleared = k.table.loc[("all", "surge_cleared_at")] if ("all", "surge_cleared_at") in k else None
    definition = f"fewer than {rules.clearance_people:g} people waiting, for {rules.clearance_hold_h:g} h on"
    if cleared is None or cleared["n"] == 0:
        clear_value, clear_note = "not cleared", f"no run reached {definition} at every crossing with a surge"
    else:
        when = {c: k.mean(c, "surge_cleared_at") for c in names}
        last = max((c for c in names if not pd.isna(when[c])), key=when.get)
        clear_value = _format(cleared["mean"], "datetime")
        clear_note = f"the last, at {last}: {definition} ({'mean over the runs' if cleared['replications'] > 1 else 'one run'}"
        clear_note += (f"; reached in {int(cleared['n'])} of {int(cleared['replications'])})"
                       if cleared["n"] < cleared["replications"] else ")")
    cards = [
        ("People crossed", _format(k.mean("all", "people_crossed"), "people"),
         f"of {_format(k.mean('all', 'people_departed'), 'people')} who set off; "
         f"{_format(k.mean('all', 'people_gave_up'), 'people')} gave up, "
         f"{_format(not_crossed, 'people')} still on the way at the end"),
        ("Peak queue", _format(peaks[worst], "km"),
         f"at {worst}, around {_format(peak_at, 'datetime')}" if peaks[worst] > 0 else "no vehicle queue formed"),
        ("Wait in the surge", wait_value, wait_note),
        ("Surge queues cleared", clear_value, clear_note),
    ]
    return "".join(
        f'<div class="card"><div class="label">{html.escape(a)}</div><div class="value">{html.escape(b)}</div>'
        f'<div class="note">{html.escape(c)}</div></div>'
        for a, b, c in cards
    )


def _kpi_table(run: RunTables, k: _Kpis, colours: dict[str, str]) -> str:
    """Every key figure of kpis.csv, a row each, a column per crossing and for all crossings."""
    columns = [c for c in colours] + ["all"]
    head = "".join(f'<th style="color:{colours.get(c, "#222")}">{html.escape(c if c != "all" else "all crossings")}</th>' for c in columns)
    units = run.kpis.drop_duplicates("kpi").set_index("kpi")["unit"]
    rows, group = [], None
    for kpi in sorted(dict.fromkeys(run.kpis["kpi"]), key=lambda name: list(KPI_GROUPS).index(_kpi_group(name))):
        if _kpi_group(kpi) != group:
            group = _kpi_group(kpi)
            rows.append(f'<tr class="group"><th colspan="{len(columns) + 1}">{html.escape(KPI_GROUPS[group])}</th></tr>')
        unit = {"fraction": "%", "datetime": "local time"}.get(units[kpi].split(" ")[0], units[kpi])
        rows.append(f"<tr><th>{html.escape(_kpi_label(kpi))} <span class=\"unit\">({html.escape(unit)})</span></th>"
                    + "".join(f"<td>{k.cell(c, kpi)}</td>" for c in columns) + "</tr>")
    body = "".join(rows)
    return f'<table class="kpis"><thead><tr><th>key figure (unit)</th>{head}</tr></thead><tbody>{body}</tbody></table>'


def _daily_table(run: RunTables, colours: dict[str, str]) -> str:
    """People crossed per local calendar day and crossing, mean per replication."""
    d = run.daily.pivot_table(index="date", columns="crossing", values="people_crossed", aggfunc="sum", fill_value=0)
    d = d.reindex(columns=list(colours), fill_value=0) / run.replications
    d["all crossings"] = d.sum(axis=1)
    head = "".join(f'<th style="color:{colours.get(c, "#222")}">{html.escape(c)}</th>' for c in d.columns)
    body = "".join(
        f"<tr><th>{pd.Timestamp(day):%a %d %b %Y}</th>" + "".join(f"<td>{v:,.0f}</td>" for v in row) + "</tr>"
        for day, row in zip(d.index, d.to_numpy())
    )
    return f'<table class="daily"><thead><tr><th>date (local)</th>{head}</tr></thead><tbody>{body}</tbody></table>'


def _figure_html(fig: go.Figure | dict, key: str) -> str:
    """One chart as a div and its script, without plotly.js (embedded once per page) and with a fixed id."""
    return fluid_figure(pio.to_html(fig, full_html=False, include_plotlyjs=False, include_mathjax=False, div_id=f"figure-{key}",
                                    config=PLOT_CONFIG, auto_play=False, default_width="100%", validate=False))


def _steps(run: RunTables) -> dict[str, pd.DataFrame]:
    return {c.name: capacity_steps(run, c.name) for c in run.scenario.crossings}


def _clock(run: RunTables) -> Clock:
    return Clock(run.zone_label, surge_window(run))


# Each section job below takes (folder, run, colours) and returns its [(anchor, title, how to read it, body html)]:
# module-level, so a process pool can run them (see build_report); what sections share is rebuilt in each.


def _queues(folder: str, run: RunTables, colours: dict[str, str]) -> list[tuple[str, str, str, str]]:
    reps, steps, clock = run.replications, _steps(run), _clock(run)
    band = "the line is the median of the replications and the band holds 90 % of them (5th to 95th percentile); " if reps > 1 else ""
    return [("queues", "Queue on the road",
             f"Length of the queue of cars and buses on the approach road of each crossing; {band}"
             "the buttons switch to vehicles or to people waiting (people include pedestrians). Markers at the top and dotted "
             "lines show booth changes, check-regime changes, closures (a whole crossing's shaded) and route changes; hover over them. "
             + ("Time axes open on the days of the surge (until 99 % of those who crossed had crossed): drag the range slider "
                "below, or double-click a chart, to see the whole scenario period." if clock.window else ""),
             _figure_html(queue_figure(run.queues_summary, booths_on_grid(run, steps), capacity_events(run), colours, reps, clock),
                          "queues"))]


def _cumulative(folder: str, run: RunTables, colours: dict[str, str]) -> list[tuple[str, str, str, str]]:
    steps, curves = _steps(run), cumulative_curves(run)
    lines = {key: capacity_line(g, steps[key[0]], key[1]) for key, g in curves.groupby(["crossing", "channel"], sort=False)}
    return [("cumulative", "Cumulative curves",
             "People who set off towards each crossing, reached it, and crossed it, per channel (buttons; 'on foot' includes "
             "people who left their cars and walked). The vertical gap between 'arrived' and 'crossed' is the number waiting "
             "(plus those who gave up); the horizontal gap is roughly the wait. The dash-dot line is what the channel's booths "
             "could process from the moment its queue formed: where 'crossed' runs along it, the booths are the bottleneck.",
             _figure_html(cumulative_figure(curves, lines, colours, run.replications, _clock(run)), "cumulative"))]


def _waits(folder: str, run: RunTables, colours: dict[str, str]) -> list[tuple[str, str, str, str]]:
    return [("waits", "Waiting times",
             "Wait from arrival at the border to the start of service at a booth, for parties that reached a booth, per crossing "
             "(colour) and mode (line style). Top: the share of parties that waited at most a given time (note the logarithmic "
             "time axis). Bottom: the median wait of the parties that arrived at the border in each hour.",
             _figure_html(wait_distribution_figure(wait_ecdf(run), colours), "wait-distribution")
             + _figure_html(wait_by_hour_figure(wait_by_hour(run), colours, _clock(run)), "wait-by-hour"))]


def _throughput(folder: str, run: RunTables, colours: dict[str, str]) -> list[tuple[str, str, str, str]]:
    channels = {c.name: [m for m in MODES if c.channel(m) is not None] for c in run.scenario.crossings}
    figure = throughput_figure(hourly_throughput(run), _steps(run), channels, colours, run.replications, _clock(run))
    return [("throughput", "Throughput against capacity",
             "People crossed in each clock hour (bars) against the capacity of the booths (dashed), per crossing and channel: "
             "booths open x service rate x people per car, group or bus, with the check regime in force. Bars below the line "
             "while that channel has a queue mean the booths were not the only limit (secondary inspection holding the booths).",
             _figure_html(figure, "throughput") + f'<h3>People crossed per day</h3><div class="wide">{_daily_table(run, colours)}</div>')]


def _flows(folder: str, run: RunTables, colours: dict[str, str]) -> list[tuple[str, str, str, str]]:
    return [("flows", "Flows",
             "Where people came from, which crossing they first headed for, and how their journey ended: crossed (where), gave "
             "up, or still on the way when the scenario ends. Flows into a different crossing than the one first headed for "
             "are diversions. Hover over a flow for its size.",
             _figure_html(flow_figure(flows(run), [o.name for o in run.scenario.origins], colours, run.replications), "flows"))]


def _map(folder: str, run: RunTables, colours: dict[str, str]) -> list[tuple[str, str, str, str]]:
    return [("map", "Map",
             "Origins (grey, sized by people leaving), routes (coloured by crossing), the state border and the crossings, "
             f"whose marker size and fill show the queue on the road ({of_replications('median', run.replications)}). "
             "Dotted lines between "
             "crossings are diversions, as wide as the people who moved (hover for the number). The map opens at the "
             "longest total queue; press Play to run from the start, or drag the slider.",
             _figure_html(map_figure(run.scenario, map_queue(run), colours, run.replications, diversions(run)), "map"))]


def _figures(folder: str, run: RunTables, colours: dict[str, str]) -> list[tuple[str, str, str, str]]:
    reps, rules = run.replications, run.scenario.key_figures
    return [("figures", "Key figures per crossing",
             f"Mean over {reps} replication{'s' if reps > 1 else ''}"
             + (" with the half-width of its 95 % confidence interval (&plusmn;)" if reps > 1 else "")
             + ". A crossing's figures count the people whose journey ended there (crossed, gave up or still waiting there); "
             "'people who set off towards it' and 'who left it for another crossing' count those who first headed for it; "
             "'all crossings' counts everyone. Waits run from reaching the crossing to reaching a booth, for those who crossed: "
             "per party, or per person (each party's wait counted once for each of its people). "
             f"A crossing's <b>surge queue cleared</b> the first time after its peak that fewer than "
             f"{rules.clearance_people:g} people waited there and stayed fewer for "
             f"{rules.clearance_hold_h:g} h (scenario settings <code>[key_figures]</code>); for all crossings, "
             "when the last one cleared. The <b>surge</b> waits count the people who arrived from the first time that many "
             "waited until it cleared. Where a figure exists in only some runs, the cell says in how many.",
             f'<div class="wide">{_kpi_table(run, _Kpis(run), colours)}</div>')]


def _people(folder: str, run: RunTables, colours: dict[str, str]) -> list[tuple[str, str, str, str]]:
    return people_section(folder, _figure_html)


def _controls(folder: str, run: RunTables, colours: dict[str, str]) -> list[tuple[str, str, str, str]]:
    return controls_section(folder, run.scenario, run.replications, _figure_html)


def _classes(folder: str, run: RunTables, colours: dict[str, str]) -> list[tuple[str, str, str, str]]:
    return classes_section(folder, run, _figure_html)


#: The sections top to bottom, and the order their jobs are handed out in: the slowest first, so a pool ends sooner.
PAGE = (_queues, _controls, _classes, _cumulative, _waits, _throughput, _flows, _map, _people, _figures)
SLOWEST_FIRST = (_cumulative, _throughput, _people, _queues, _controls, _waits, _map, _classes, _flows, _figures)
#: Jobs whose charts are built with plotly's default template on, as they always were (the others: off).
_DEFAULT_TEMPLATE = (_people, _controls, _classes)


def _build(job: tuple) -> list[tuple[str, str, str, str]]:
    """Run one section job ``(function, folder, run, colours)``, with the template context the page always had."""
    fn, *args = job
    with nullcontext() if fn in _DEFAULT_TEMPLATE else no_default_template():
        return fn(*args)


STYLE = """
.wide{overflow-x:auto;max-width:100%}
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;color:#222;margin:0;background:#f6f6f4;-webkit-text-size-adjust:100%}
main,header,nav,footer{max-width:1280px;margin:0 auto;padding:0 20px}
header{padding-top:18px}h1{font-size:1.6rem;margin:.2em 0}h2{font-size:1.25rem;margin:0 0 .3em}h3{font-size:1rem;margin:1em 0 .4em}
.meta{color:#555;margin:.2em 0 .8em;overflow-wrap:anywhere}.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(230px,100%),1fr));gap:12px;margin:12px 0}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:0}.card .label{color:#555;font-size:.85rem;text-transform:uppercase;letter-spacing:.03em}
.card .value{font-size:1.7rem;font-weight:600;margin:.1em 0}.card .note{color:#555;font-size:.85rem}
nav{position:sticky;top:0;background:#f6f6f4;border-bottom:1px solid #ddd;z-index:10;padding-top:6px;padding-bottom:6px}
nav a{margin-right:14px;color:#0b5394;text-decoration:none;font-size:.95rem}nav a:hover{text-decoration:underline}
section{background:#fff;border:1px solid #ddd;border-radius:6px;padding:14px 16px;margin:16px 0;scroll-margin-top:44px;min-width:0}
section p.how{color:#444;margin:.2em 0 .6em;max-width:1100px;font-size:.95rem}
.figure,.js-plotly-plot{width:100%;max-width:100%}.pair{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(520px,100%),1fr));gap:10px}
table{border-collapse:collapse;font-size:.88rem;margin:.4em 0}th,td{padding:3px 10px;border-bottom:1px solid #eee;text-align:right;white-space:nowrap}
tbody th,thead th:first-child{text-align:left;font-weight:normal}thead th{font-weight:600;border-bottom:2px solid #ccc}
tbody tr:nth-child(even){background:#fafafa}tr.group th{font-weight:600;background:#eef2f6;padding-top:6px}.ci,.unit{color:#888;font-size:.8rem}
details{margin:.5em 0}summary{cursor:pointer;color:#0b5394}pre{background:#fafafa;border:1px solid #eee;padding:10px;overflow:auto;max-height:600px;font-size:.8rem}
footer{color:#777;font-size:.8rem;padding-bottom:30px}
@media (max-width:640px){
main,header,nav,footer{padding:0 8px}h1{font-size:1.3rem}section{padding:10px 8px;margin:10px 0}section p.how{font-size:.9rem}
.cards{grid-template-columns:1fr 1fr;gap:8px}.card{padding:8px 10px}.card .value{font-size:1.25rem}.card .label,.card .note{font-size:.75rem}
nav{overflow-x:auto;white-space:nowrap;scrollbar-width:thin}nav a{font-size:.9rem;margin-right:10px}
table{font-size:.8rem}th,td{padding:3px 6px}table.kpis tbody th{white-space:normal;min-width:11em}
table.kpis tbody th,table.kpis thead th:first-child{position:sticky;left:0;z-index:1;background:#fff}table.kpis tbody tr:nth-child(even) th{background:#fafafa}table.kpis tr.group th{background:#eef2f6}
}
@page{size:A4;margin:12mm}
@media print{
body{background:#fff;font-size:10pt}main,header,footer{max-width:186mm;margin:0;padding:0}nav,.modebar-container{display:none}
.cards{grid-template-columns:repeat(4,1fr);gap:6px}.card{padding:6px 8px;break-inside:avoid}.card .value{font-size:1.2rem}
section{border:0;border-radius:0;padding:0;margin:0 0 8mm}h2,h3,section p.how{break-after:avoid}
.figure,tr,.card{break-inside:avoid}.wide{overflow:visible}table{font-size:8pt;max-width:100%}th,td{padding:2px 5px;white-space:normal}
table.kpis td{min-width:5em}
details:not([open]){display:none}pre{max-height:none;white-space:pre-wrap}
}
"""  # noqa: E501 (the page's CSS, one rule group a line)


def build_report(folder: str | Path, map_parts=map) -> str:
    """The report page of a run folder as HTML text (a pure function of the folder's files).

    ``map_parts(fn, jobs)``, like the builtin :func:`map` (results in order), runs the sections' jobs: pass a process
    pool's ``map`` to build them in parallel; the page is the same byte for byte.
    """
    run = read_run(folder)
    s = run.scenario
    colours = crossing_colours([c.name for c in s.crossings])
    k = _Kpis(run)
    built = dict(zip(SLOWEST_FIRST, map_parts(_build, [(fn, str(folder), run, colours) for fn in SLOWEST_FIRST])))
    sections = [part for fn in PAGE for part in built[fn]]
    sha = scenario_sha256(run.scenario_text)
    period = f"{run.local(s.start):%a %d %b %Y %H:%M} to {run.local(s.end):%a %d %b %Y %H:%M} ({run.zone_label})"
    nav = "".join(f'<a href="#{a}">{html.escape(t)}</a>' for a, t, _, _ in sections) + '<a href="#scenario">Scenario</a>'
    body = "".join(
        f'<section id="{a}"><h2>{html.escape(t)}</h2><p class="how">{how}</p>{content}</section>' for a, t, how, content in sections
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(s.title or s.name)}: border-crossing surge report</title><link rel="icon" href="data:,">
<style>{STYLE}</style>
<script>window.PlotlyConfig = {{MathJaxConfig: 'local'}};</script>
<script>{get_plotlyjs()}</script>
<script>{RESPONSIVE_SCRIPT}</script>
</head><body>
<header><h1>{html.escape(s.title or s.name)}</h1><div class="meta">{html.escape(s.description)}</div>
<div class="meta">{html.escape(period)} &middot; seed {s.seed} &middot; {run.replications} replication{'s' if run.replications > 1 else ''}</div>
<div class="cards">{_headline(run, k)}</div></header>
<nav>{nav}</nav>
<main>{body}
<section id="scenario"><h2>Scenario</h2><p class="how">The resolved scenario of this run (defaults filled in, overrides applied),
exactly as in the run folder's scenario.toml (SHA-256 {sha[:16]}&hellip;).</p>
<details><summary>Show scenario.toml</summary><pre>{html.escape(run.scenario_text)}</pre></details></section>
</main>
<footer>Built from the tables of this run folder; rebuild with <code>python -m model report RUN_FOLDER</code>. Charts by plotly.js, embedded.</footer>
</body></html>
"""  # noqa: E501 (the page's HTML, byte for byte)


def write_report(folder: str | Path, map_parts=map) -> Path:
    """Write ``report.html`` into a run folder from its tables; returns its path.

    The page is written to a temporary file in the folder and renamed over
    ``report.html``, so a reader sees the old page or the new one, never half.
    An existing ``report.html`` that is a symbolic link or not a regular file
    is refused (:class:`ReportError`), before any work: a link's target is
    never written. ``map_parts``: as for :func:`build_report`.
    """
    folder = Path(folder)
    path = folder / "report.html"
    try:
        check_replaceable(path)
        text = build_report(folder, map_parts)
        replace_text(path, text)
    except RunFolderError as err:
        raise ReportError(str(err)) from None
    except OSError as err:
        raise ReportError(f"{err.filename or path}: cannot be written ({err.strerror or err})") from None
    return path
