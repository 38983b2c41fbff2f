"""The one-page brief: what the people in the queue will need, for a reader who plans, not models.

``brief.html`` is one printable A4 page built from a run folder's files alone
(``scenario.toml``, ``burden.csv``, ``burden_hourly.csv``, ``needs.csv`` and,
when the run made it, ``one_more_booth.csv``): where and when the queue
peaks, how many people will wait overnight and where, the needs on the worst
day by the scenario's standards, and what one more booth at the bottleneck
changes. It has no scripts and no external resources; its chart is inline
SVG, so it prints as it shows. :func:`write_booth_effect` writes the paired
run's table; :func:`write_brief` writes the page.
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from ..analysis.burden import ALL, WHOLE_RUN
from ..analysis.needs import PEAK_DAY
from ..experiments.one_more_booth import BoothEffect
from .queue_people import QueuePeople, figure_text, read_queue_people
from .run_folder import create_text, replace_text, write_table
from .style import MODE_LABEL, crossing_colours, of_replications

__all__ = ["write_booth_effect", "build_brief", "write_brief", "worst_day", "BOOTH_FILE"]

BOOTH_FILE = "one_more_booth.csv"


def write_booth_effect(effect: BoothEffect | None):
    """A run-folder writer of one_more_booth.csv (None when there is no paired run)."""
    if effect is None:
        return None

    def write(folder: Path) -> None:
        write_table(effect.table.assign(booth_crossing=effect.crossing, booth_channel=effect.channel,
                                        booths_before=effect.booths), folder / BOOTH_FILE)

    return write


def worst_day(q: QueuePeople) -> str | None:
    """The date with the most person-days waiting at all crossings together (None if nobody waited)."""
    n = q.needs[(q.needs["crossing"] == ALL) & ~q.needs["period"].isin([PEAK_DAY, WHOLE_RUN])]
    if n.empty or n["person_days_waiting"].max() < 0.05:
        return None
    return str(n.loc[n["person_days_waiting"].idxmax(), "period"])


def _n(x: float, digits: int = 0) -> str:
    return "-" if pd.isna(x) else f"{max(float(x), 0.0):,.{digits}f}"


def _svg_chart(q: QueuePeople, colours: dict[str, str], width: int = 700, height: int = 150) -> str:
    """People waiting at each hour per crossing, nights shaded, as inline SVG."""
    h = q.hourly
    total = h[h["crossing"] == ALL].reset_index(drop=True)
    busy = total[total["people_waiting"] > max(0.5, 0.02 * total["people_waiting"].max())]["time"]
    if busy.empty:
        return ""
    t0, t1 = busy.min().floor("D"), busy.max().ceil("D")
    if t1 <= t0:
        t1 = t0 + pd.Timedelta(days=1)
    left, right, top, bottom = 46, 8, 8, 22
    span = (t1 - t0).total_seconds()
    ymax = max(h.loc[h["crossing"] != ALL, "people_waiting"].max(), 1.0)

    def x(t) -> float:
        return left + (width - left - right) * (t - t0).total_seconds() / span

    def y(v) -> float:
        return top + (height - top - bottom) * (1 - v / ymax)

    parts = []
    night = total[(total["time"] >= t0) & (total["time"] <= t1)]
    for t, is_night in zip(night["time"], night["night"]):
        if is_night:
            parts.append(f'<rect x="{x(t):.1f}" y="{top}" width="{x(t + pd.Timedelta(hours=1)) - x(t):.2f}" '
                         f'height="{height - top - bottom}" fill="#1f2a44" fill-opacity="0.09"/>')
    day = t0
    while day <= t1 - pd.Timedelta(hours=6):
        parts.append(f'<line x1="{x(day):.1f}" x2="{x(day):.1f}" y1="{top}" y2="{height - bottom}" stroke="#ccc" stroke-width="0.5"/>'
                     f'<text x="{x(day) + 3:.1f}" y="{height - 8}" font-size="10" fill="#555">{day:%a %d %b}</text>')
        day += pd.Timedelta(days=1)
    for frac in (0.0, 0.5, 1.0):
        parts.append(f'<text x="{left - 4}" y="{y(ymax * frac) + 3:.1f}" font-size="10" text-anchor="end" fill="#555">'
                     f'{ymax * frac:,.0f}</text>')
    for c in q.crossings:
        g = h[(h["crossing"] == c) & (h["time"] >= t0) & (h["time"] <= t1)]
        if g["people_waiting"].max() < 0.5:
            continue
        points = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in zip(g["time"], g["people_waiting"]))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colours[c]}" stroke-width="1.6"/>')
    legend = " ".join(f'<span style="color:{colours[c]}">&#9644; {html.escape(c)}</span>' for c in q.crossings
                      if h.loc[h["crossing"] == c, "people_waiting"].max() >= 0.5)
    return (f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="people waiting by hour">'
            f'<line x1="{left}" x2="{left}" y1="{top}" y2="{height - bottom}" stroke="#999"/>{"".join(parts)}</svg>'
            f'<div class="legend">{legend} &middot; <span class="night">&#9632;</span> night &middot; people waiting, '
            f'hour by hour ({of_replications("mean", q.scenario.replications, "run")})</div>')


def _peak(q: QueuePeople) -> tuple[str, pd.Series] | None:
    """The crossing and hour with the most people waiting (mean of the runs)."""
    h = q.hourly[q.hourly["crossing"] != ALL]
    if h.empty or h["people_waiting"].max() < 0.5:
        return None
    row = h.loc[h["people_waiting"].idxmax()]
    return str(row["crossing"]), row


def _night_label(d: str) -> str:
    day = pd.Timestamp(d)
    return f"the night of {day:%a %d} to {day + pd.Timedelta(days=1):%a %d %b}"


def _key_points(q: QueuePeople) -> list[str]:
    points = []
    peak = _peak(q)
    if peak is None:
        return ["Nobody is expected to wait in a queue in this scenario."]
    c, row = peak
    points.append(f"<b>The queue peaks at {html.escape(c)}</b> around <b>{row['time']:%a %d %b %H:00}</b>: about "
                  f"<b>{figure_text(row, 'people_waiting')}</b> people waiting, {_n(row['people_waiting_on_foot'])} of "
                  "them on foot in the open (counted on the hour; the table below gives the most waiting at any "
                  "moment of its day, which can be a little higher).")
    whole = q.row(q.burden, ALL, WHOLE_RUN)
    nights = q.burden[(q.burden["crossing"] == ALL) & (q.burden["period"] != WHOLE_RUN)]
    if whole is not None and whole["people_waiting_1_night_or_more"] >= 0.5 and not nights.empty:
        worst = nights.loc[nights["people_waiting_overnight"].idxmax()]
        at = {x: q.row(q.burden, x, worst["period"]) for x in q.crossings}
        where = max(at, key=lambda x: -1 if at[x] is None else at[x]["people_waiting_overnight"])
        points.append(f"<b>{figure_text(whole, 'people_waiting_1_night_or_more')}</b> people will spend at least one night "
                      f"in a queue, {figure_text(whole, 'people_waiting_2_nights_or_more')} of them two nights or more. "
                      f"The worst is {_night_label(worst['period'])}: <b>{figure_text(worst, 'people_waiting_overnight')}</b> "
                      f"people waiting, most at {html.escape(where)} "
                      f"({_n(at[where]['people_waiting_overnight'])}, {_n(at[where]['people_waiting_overnight_on_foot'])} on foot).")
    else:
        points.append("Nobody is expected to wait in a queue overnight.")
    if whole is not None:
        place = q.row(q.burden, c, WHOLE_RUN)
        points.append(f"At {html.escape(c)}, 1 person in 10 waits more than <b>{_n(place['longest_wait_p90_h'], 0)} hours</b> "
                      f"without a break; the longest wait is about {_n(place['longest_wait_max_h'], 0)} hours.")
        if whole["people_in_reception_overnight"] >= 0.5:
            points.append(f"After crossing, up to <b>{figure_text(whole, 'people_in_reception_overnight')}</b> people a night "
                          "need a bed in a reception centre.")
    return points


_TOTAL = " class=total"
_NEEDS_NOTE = "Means of the runs; their 95% intervals are in needs.csv and the report."


def _cell(tag: str, text: str, total: bool = False) -> str:
    return f"<{tag}{_TOTAL if total else ''}>{text}</{tag}>"


def _needs_block(q: QueuePeople, day: str | None) -> str:
    """The needs of the worst day per crossing: crossings as rows, and on a narrow screen the same table turned
    (needs as rows, crossings as columns) so that a phone shows it without scrolling sideways."""
    if day is None:
        return ""
    items = q.scenario.needs.all_items
    columns = [("people_waiting_peak", "most waiting at once", "people"),
               ("people_waiting_overnight", "waiting overnight (night after)", "people"),
               *((i.column, (i.label or i.name).split(" (")[0], i.unit) for i in items)]
    places = []  # (name, is the total, texts in the order of columns)
    for c in q.crossings + [ALL]:
        r = q.row(q.needs, c, day)
        if r is None or (c != ALL and r["person_days_waiting"] < 0.05 and r["people_waiting_overnight"] < 0.5):
            continue
        places.append(("all crossings" if c == ALL else c, c == ALL, [figure_text(r, col, interval=False) for col, _, _ in columns]))
    heads = [f"{html.escape(name)}<br><span class='unit'>{html.escape(unit)}</span>" for _, name, unit in columns]
    wide = "".join(f"<tr{_TOTAL if is_all else ''}><th>{html.escape(name)}</th>{''.join(_cell('td', t) for t in texts)}</tr>"
                   for name, is_all, texts in places)
    long = "".join(f"<tr><th>{head}</th>{''.join(_cell('td', texts[k], is_all) for _, is_all, texts in places)}</tr>"
                   for k, head in enumerate(heads))
    return (f"<h2>Needs on the worst day, {pd.Timestamp(day):%A %d %B %Y}</h2><div class='fits'>"
            f"<table class='wide'><thead><tr><th>crossing</th>{''.join(_cell('th', h) for h in heads)}</tr></thead>"
            f"<tbody>{wide}</tbody></table>"
            f"<table class='long'><thead><tr><th></th>{''.join(_cell('th', html.escape(n), a) for n, a, _ in places)}</tr></thead>"
            f"<tbody>{long}</tbody></table></div>"
            f"<p class='unit'>{_NEEDS_NOTE if q.scenario.replications > 1 else 'From the one run.'}</p>")


_BOOTH_ROWS = {
    "people_waiting_peak": ("most people waiting at once", "people", 0),
    "people_waiting_overnight": ("people waiting on the worst night", "people", 0),
    "person_days_waiting": ("person-days spent waiting", "person-days", 0),
    "water_basic_l": ("water on the worst day", "L", 0),
    "toilets_n": ("toilets on the worst day", "", 0),
    "person_wait_p90_h": ("wait of 1 person in 10 at {c}, longer than", "h", 1),
    "surge_cleared_after_start_h": ("queues cleared after the start", "h", 1),
}


def _booth_block(folder: Path) -> str:
    path = folder / BOOTH_FILE
    if not path.is_file():
        return ""
    t = pd.read_csv(path)
    if t.empty:
        return ""
    c, ch, b = t["booth_crossing"].iloc[0], t["booth_channel"].iloc[0], int(t["booths_before"].iloc[0])
    rows = []
    for r in t.itertuples():
        if r.figure not in _BOOTH_ROWS:
            continue
        label, unit, digits = _BOOTH_ROWS[r.figure]
        change = "-" if pd.isna(r.difference) else f"{r.difference:+,.{digits}f}"
        if not pd.isna(r.difference_ci95_low):
            change += f" <span class='ci'>({r.difference_ci95_low:+,.{digits}f} to {r.difference_ci95_high:+,.{digits}f})</span>"
        rows.append(f"<tr><th>{html.escape(label.format(c=c))} <span class='unit'>{unit}</span></th>"
                    f"<td>{_n(r.baseline, digits)}</td><td>{_n(r.with_booth, digits)}</td><td>{change}</td></tr>")
    what = MODE_LABEL.get(ch, ch).removesuffix("s") if ch != "foot" else "pedestrian"
    interval = " (95% interval)" if t["difference_ci95_low"].notna().any() else ""  # none from one run
    return (f"<h2>What one more booth changes</h2><p>One more {html.escape(what)} booth at {html.escape(c)} "
            f"({b} &rarr; {b + 1} at the start, one more at every step of its staffing), where people waited longest; the "
            f"same surge simulated again (same random numbers), so the change is measured run by run.</p>"
            f"<table><thead><tr><th></th><th>as planned</th><th>one more booth</th><th>change{interval}</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


STYLE = """
@page{size:A4;margin:11mm 12mm}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;color:#1d1d1d;margin:0 auto;max-width:186mm;font-size:9.2pt;line-height:1.32;padding:4mm 0}
h1{font-size:14pt;margin:0 0 1mm}h2{font-size:10.5pt;margin:3.2mm 0 1.2mm;color:#0b3d6e}.meta{color:#555;font-size:8.4pt;margin-bottom:2mm}
ul.points{margin:1mm 0 0 0;padding-left:5mm}ul.points li{margin:0.6mm 0}
table{border-collapse:collapse;width:100%;font-size:8.2pt}th,td{padding:1.1mm 1.4mm;border-bottom:0.3mm solid #e3e3e3;text-align:right;vertical-align:top}
thead th{font-weight:600;border-bottom:0.5mm solid #bbb;vertical-align:bottom}tbody th{text-align:left;font-weight:normal}th:first-child{text-align:left}
tr.total td,tr.total th{font-weight:600;background:#f3f6f9}.ci,.unit{color:#777;font-size:7.4pt;font-weight:normal}
.legend{font-size:8pt;color:#444;margin-top:0.5mm}.night{color:#c9ccd3}svg{display:block}
.foot{font-size:7.4pt;color:#555;margin-top:2.5mm;border-top:0.3mm solid #ddd;padding-top:1.2mm}p{margin:0.8mm 0}
.fits{overflow-x:auto}table.long{display:none}td.total,th.total{font-weight:600;background:#f3f6f9}
@media screen and (max-width:640px){body{padding:4mm 3mm}table.wide{display:none}table.long{display:table;font-size:7.4pt}table.long th,table.long td{padding:0.9mm 0.9mm}table.long tbody th{width:30%}}
@media print{body{padding:0}}
"""  # noqa: E501 (the page's CSS)


def _what_figures_are(reps: int) -> str:
    if reps == 1:
        return "Figures are from one simulated run of the surge, so they have no intervals: run more replications for them."
    return (f"Figures are the mean of {reps} simulated runs of the same surge; ranges in brackets are 95% intervals of that "
            "mean, not the range of what may happen.")


def build_brief(folder: str | Path) -> str | None:
    """The brief of a run folder as HTML text (None if the folder has no burden tables)."""
    folder = Path(folder)
    q = read_queue_people(folder)
    if q is None:
        return None
    s = q.scenario
    colours = crossing_colours(q.crossings)
    reps = int(s.replications)
    n = s.needs
    night = f"{int(n.night_starts_hour):02d}:{round(n.night_starts_hour % 1 * 60):02d}", \
            f"{int(n.night_ends_hour):02d}:{round(n.night_ends_hour % 1 * 60):02d}"
    points = "".join(f"<li>{p}</li>" for p in _key_points(q))
    sources = "; ".join(sorted({i.source.split(",")[0] for i in n.all_items if i.source}))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(s.title or s.name)}: people in the queue (brief)</title><link rel="icon" href="data:,">
<style>{STYLE}</style></head><body>
<h1>People in the queue: what they will need</h1>
<div class="meta">{html.escape(s.title or s.name)} &middot; {pd.Timestamp(s.start).tz_convert(s.timezone):%d %b %Y} to
{pd.Timestamp(s.end).tz_convert(s.timezone):%d %b %Y} ({html.escape(s.timezone)} time) &middot; simulation, {reps} run{'s' if reps != 1 else ''}</div>
<ul class="points">{points}</ul>
<h2>People waiting, hour by hour</h2>
{_svg_chart(q, colours)}
{_needs_block(q, worst_day(q))}
{_booth_block(folder)}
<div class="foot">{_what_figures_are(reps)} Night: {night[0]}&ndash;{night[1]}; someone waiting at any moment of it
counts once. Water and food scale with the time people spend waiting; toilets and covered space with the most people
waiting at once (covered space for those on foot; people in vehicles have a roof); standards from {html.escape(sources or
'the scenario')} (scenario section [needs]). Full tables: needs.csv, burden.csv, burden_hourly.csv; details in report.html.</div>
</body></html>
"""  # noqa: E501 (the page's HTML)


def write_brief(folder: str | Path, replace: bool = False) -> Path | None:
    """Write ``brief.html`` into a run folder from its files; its path, or None if the folder has no burden tables.

    ``replace``: rebuild an existing brief (``model report``), atomically as the report is.
    """
    text = build_brief(folder)
    if text is None:
        return None
    path = Path(folder) / "brief.html"
    (replace_text if replace else create_text)(path, text)
    return path
