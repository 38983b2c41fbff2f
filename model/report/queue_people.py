"""People in the queue: the burden and needs tables of a run folder, and the report's section on them.

:func:`write_queue_people` writes ``burden.csv`` (per crossing and local date,
then the whole run), ``burden_hourly.csv`` (people waiting at every local
whole hour, ``night`` marking the night window) and ``needs.csv`` (the
scenario's standards applied per crossing and date, the peak day and the
whole run), each figure with its 95% interval and its unit in its column
name. :func:`read_queue_people` reads them back (with the scenario) for the
report section :func:`people_section` and the one-page brief
(:mod:`model.report.brief`); both are built from the folder's files alone.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from ..analysis import Results
from ..analysis.burden import ALL, WHOLE_RUN
from ..analysis.needs import PEAK_DAY
from ..scenario import Scenario, load_scenario
from .run_folder import write_table
from .run_tables import ReportError
from .style import TEMPLATE, crossing_colours, intervals_note, of_replications

__all__ = ["write_queue_people", "read_queue_people", "QueuePeople", "people_section", "figure_text", "FILES"]

FILES = ("burden.csv", "burden_hourly.csv", "needs.csv")


def write_queue_people(results: Results):
    """A run-folder writer (for ``write_results(extra=...)``) of burden.csv, burden_hourly.csv and needs.csv;
    None when ``results`` has no burden tables."""
    if results.burden is None:
        return None

    def write(folder: Path) -> None:
        write_table(results.burden, folder / "burden.csv")
        write_table(results.burden_hourly, folder / "burden_hourly.csv")
        write_table(results.needs, folder / "needs.csv")

    return write


@dataclass(frozen=True)
class QueuePeople:
    """What the section and the brief read from a run folder; hourly times local and offset-free."""

    scenario: Scenario
    burden: pd.DataFrame
    hourly: pd.DataFrame
    needs: pd.DataFrame

    @property
    def crossings(self) -> list[str]:
        return [c.name for c in self.scenario.crossings]

    def __post_init__(self):
        object.__setattr__(self, "_rows", {})  # per table (by id): the position of each (crossing, period), found once

    def row(self, table: pd.DataFrame, crossing: str, period: str) -> pd.Series | None:
        """The first row of ``table`` (one of this object's) for ``crossing`` and ``period``; None if it has none."""
        rows = self._rows.get(id(table))
        if rows is None:
            rows = self._rows[id(table)] = {}
            for i, key in enumerate(zip(table["crossing"], table["period"])):
                rows.setdefault(key, i)
        at = rows.get((crossing, period))
        return None if at is None else table.iloc[at]

    def dates(self) -> list[str]:
        """Dates on which anyone waited (or waited overnight) anywhere."""
        b = self.burden[(self.burden["crossing"] == ALL) & ~self.burden["period"].isin([WHOLE_RUN])]
        busy = (b["person_hours_waiting_h"] > 0.05) | (b["people_waiting_overnight"] >= 0.5)
        return list(b.loc[busy, "period"])


def read_queue_people(folder: str | Path) -> QueuePeople | None:
    """The burden and needs tables of a run folder; None if it has none (a run from before they existed)."""
    folder = Path(folder)
    if not all((folder / name).is_file() for name in FILES):
        return None
    scenario = load_scenario(folder / "scenario.toml")
    try:
        burden = pd.read_csv(folder / "burden.csv", dtype={"period": str, "crossing": str})
        needs = pd.read_csv(folder / "needs.csv", dtype={"period": str, "crossing": str})
        hourly = pd.read_csv(folder / "burden_hourly.csv", dtype={"crossing": str})
        hourly["time"] = pd.to_datetime(hourly["time"], format="ISO8601", utc=True).dt.tz_convert(
            scenario.timezone).dt.tz_localize(None)
    except (ValueError, KeyError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise ReportError(f"{folder}: burden or needs table cannot be read ({str(err).splitlines()[0]}); rerun the scenario") from None
    return QueuePeople(scenario, burden, hourly, needs)


def figure_text(row: pd.Series | None, column: str, digits: int = 0, interval: bool = True) -> str:
    """``mean`` with its 95% interval (``1,234 (1,100-1,360)``), as text; '-' when missing."""
    if row is None or column not in row or pd.isna(row[column]):
        return "-"

    def f(x: float) -> str:
        return f"{max(x, 0.0):,.{digits}f}"

    low, high = row.get(f"{column}_ci95_low"), row.get(f"{column}_ci95_high")
    if not interval or pd.isna(low) or pd.isna(high) or math.isclose(low, high) or f(low) == f(high):
        return f(row[column])
    return f'{f(row[column])} <span class="ci">({f(low)}&ndash;{f(high)})</span>'


def people_figure(q: QueuePeople, colours: dict[str, str]) -> go.Figure:
    """People waiting at each hour per crossing (on foot dotted), nights shaded."""
    fig = go.Figure()
    h = q.hourly
    total = h[h["crossing"] == ALL]
    busy = total[total["people_waiting"] > max(0.5, 0.02 * total["people_waiting"].max())]["time"]
    for c in q.crossings:
        g = h[h["crossing"] == c]
        if g["people_waiting"].max() < 0.5:
            continue
        fig.add_trace(go.Scatter(x=g["time"], y=g["people_waiting"], name=c, mode="lines", line=dict(color=colours[c]),
                                 hovertemplate=f"{c}: %{{y:,.0f}} people waiting<extra>%{{x|%a %d %b %H:%M}}</extra>"))
        if g["people_waiting_on_foot"].max() >= 0.5:
            fig.add_trace(go.Scatter(x=g["time"], y=g["people_waiting_on_foot"], name=f"{c}, on foot", mode="lines",
                                     line=dict(color=colours[c], dash="dot"),
                                     hovertemplate=f"{c}: %{{y:,.0f}} on foot<extra>%{{x|%a %d %b %H:%M}}</extra>"))
    nights = h[h["crossing"] == ALL][["time", "night"]].reset_index(drop=True)
    starts = nights.index[nights["night"] & ~nights["night"].shift(1, fill_value=False)]
    for i in starts:
        end = nights.index[(nights.index > i) & ~nights["night"]]
        until = nights["time"].iloc[end[0]] if len(end) else nights["time"].iloc[-1]
        fig.add_vrect(x0=nights["time"].iloc[i], x1=until, fillcolor="#1f2a44", opacity=0.08, line_width=0, layer="below")
    window = [busy.min() - pd.Timedelta(hours=12), busy.max() + pd.Timedelta(hours=12)] if len(busy) else None
    fig.update_layout(template=TEMPLATE, height=380, yaxis_title="people waiting", hovermode="x unified",
                      xaxis=dict(type="date", range=window, hoverformat="%a %d %b %H:%M"),
                      margin=dict(l=70, r=20, t=40, b=40))
    return fig


def _nights_table(q: QueuePeople, colours: dict[str, str]) -> str:
    """People waiting overnight per night and crossing (on foot in brackets), then the whole run."""
    n = q.scenario.needs
    cols = q.crossings + [ALL]
    head = "".join(f'<th style="color:{colours.get(c, "#222")}">{html.escape(c if c != ALL else "all crossings")}</th>'
                   for c in cols)
    rows = []
    for d in q.dates():
        if all((r := q.row(q.burden, c, d)) is None or r["people_waiting_overnight"] < 0.5 for c in cols):
            continue
        rows.append(f"<tr><th>{pd.Timestamp(d):%a %d %b} &rarr; {pd.Timestamp(d) + pd.Timedelta(days=1):%a %d}</th>" + "".join(
            f"<td>{figure_text(q.row(q.burden, c, d), 'people_waiting_overnight')}</td>" for c in cols) + "</tr>")
    whole = {c: q.row(q.burden, c, WHOLE_RUN) for c in cols}
    for label, col, digits in (("waited 1 night or more", "people_waiting_1_night_or_more", 0),
                               ("waited 2 nights or more", "people_waiting_2_nights_or_more", 0),
                               ("waited 3 nights or more", "people_waiting_3_nights_or_more", 0),
                               ("longest wait per person, median (h)", "longest_wait_p50_h", 1),
                               ("longest wait per person, 90th percentile (h)", "longest_wait_p90_h", 1),
                               ("longest wait of anyone (h)", "longest_wait_max_h", 1)):
        rows.append(f'<tr><th>{label}</th>' + "".join(f"<td>{figure_text(whole[c], col, digits)}</td>" for c in cols) + "</tr>")
    night = f"{n.night_starts_hour:05.2f}".replace(".", ":")[:5], f"{n.night_ends_hour:05.2f}".replace(".", ":")[:5]
    caption = (f"People waiting at any moment between {night[0]} and {night[1]} (night beginning on the date shown), "
               "counted once per night; then over the whole run")
    return (f'<table class="needs"><caption>{caption}</caption><thead><tr><th>night</th>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def needs_table(q: QueuePeople, crossing: str, periods: list[str], interval: bool = True) -> str:
    """One crossing's needs, a row per period, a column per item (with its unit)."""
    items = q.scenario.needs.all_items
    head = "".join(f'<th style="white-space:normal;min-width:5.5em" title="{html.escape(i.label)}: {html.escape(i.source)}">'
                   f'{html.escape((i.label or i.name).split(" (")[0])} <span class="unit">({html.escape(i.unit)})</span></th>'
                   for i in items)
    rows = []
    for p in periods:
        r = q.row(q.needs, crossing, p)
        if r is None:
            continue
        label = p if p in (PEAK_DAY, WHOLE_RUN) else f"{pd.Timestamp(p):%a %d %b}"
        cells = "".join(f"<td>{figure_text(r, i.column, 0, interval)}</td>" for i in items)
        rows.append(f"<tr><th>{html.escape(label)}</th><td>{figure_text(r, 'person_days_waiting', 0, interval)}</td>"
                    f"<td>{figure_text(r, 'people_waiting_peak', 0, interval)}</td>{cells}</tr>")
    return (f'<table class="needs"><thead style="white-space:normal"><tr><th>day</th><th>person-days waiting</th>'
            f'<th>most people waiting at once</th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>')


def people_section(folder: str | Path, figure_html) -> list[tuple[str, str, str, str]]:
    """The report's "People in the queue" section as ``[(anchor, title, how to read it, body)]`` (empty if the
    folder has no burden tables). ``figure_html(fig, key)`` embeds a chart as the report does."""
    q = read_queue_people(folder)
    if q is None:
        return []
    colours = crossing_colours(q.crossings)
    dates = q.dates()
    parts = [figure_html(people_figure(q, colours), "people-waiting"), "<h3>Nights in the queue</h3>",
             f'<div class="wide">{_nights_table(q, colours)}</div>']
    for c in q.crossings + [ALL]:
        whole = q.row(q.needs, c, WHOLE_RUN)
        if whole is None or whole["person_days_waiting"] < 0.05:
            continue
        title = "All crossings" if c == ALL else c
        parts.append(f"<h3>Needs at {html.escape(title)}</h3>" if c != ALL else "<h3>Needs, all crossings together</h3>")
        parts.append(f'<div class="wide">{needs_table(q, c, dates + [PEAK_DAY, WHOLE_RUN])}</div>')
    sources = "".join(f"<li><b>{html.escape(i.label or i.name)}</b> ({html.escape(i.column)}): "
                      f"{html.escape(i.source or 'no source given')}</li>" for i in q.scenario.needs.all_items)
    parts.append(f"<details><summary>Standards used and their sources</summary><ul>{sources}</ul></details>")
    reps = int(q.scenario.replications)
    how = (f"People waiting in each crossing's queues at every whole hour ({of_replications('mean', reps)}; dotted: of whom on foot, "
           "in the open), nights shaded; who waited overnight; and what they need by the scenario's standards "
           "(<code>[needs]</code>, by default the Sphere Handbook 2018). Water and food scale with the person-days spent "
           "waiting; toilets and covered space with the most people waiting at once that day (installed per crossing; "
           "the whole run keeps the largest day); per-night items with the people waiting overnight; beds with those who "
           f"crossed and need reception. Figures are {intervals_note(reps)}; "
           "'peak day' is each figure's largest day. Tables: burden.csv, burden_hourly.csv and needs.csv.")
    return [("people", "People in the queue", how, "".join(parts))]
