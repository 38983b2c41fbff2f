"""The small frames the run report's charts are drawn from, derived from a run folder's tables.

Capacity per crossing and channel as a step function and the events that
change it (from the scenario), cumulative curves and the capacity line,
the wait distribution and wait by hour, hourly throughput, flows and
diversions, the map's queue frames, the surge window the time axes open on,
and the booths open on the queue grid. Everything is aggregated here (means
per replication, percentiles, hourly bins), so no per-party rows reach the
page and :mod:`model.report.figures` only draws.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..analysis.chart_tables import WAIT_BIN_EDGES_H, grouped_quantiles, histogram_quantiles
from ..scenario import MODES
from .run_tables import RunTables
from .style import MODE_LABEL, NO_CROSSING, Event

__all__ = [
    "people_per_service",
    "capacity_steps",
    "capacity_events",
    "cumulative_curves",
    "capacity_line",
    "MIN_CAPACITY_LINE_H",
    "wait_ecdf",
    "wait_by_hour",
    "hourly_throughput",
    "OUTCOME_NODES",
    "flows",
    "diversions",
    "map_queue",
    "surge_window",
    "booths_on_grid",
]


# --- capacity and events from the scenario ----------------------------------------------------


def people_per_service(run: RunTables, crossing: str) -> dict[str, float]:
    """Mean people served per booth service at a crossing, per channel: a car, a group on foot, a whole bus.

    Taken from the services given there (the ``service`` chart table); where
    none were, from the scenario (party-size means of the origins routed
    there, bus capacity).
    """
    done = run.charts["service"]
    done = done[(done["crossing"] == crossing) & (done["services"] > 0)].set_index("channel")
    s = run.scenario
    origins = [s.origin(r.origin) for r in s.routes if r.crossing == crossing]
    out = {}
    for mode in MODES:
        if mode in done.index:
            out[mode] = float(done.loc[mode, "people"] / done.loc[mode, "services"])
            continue
        if mode == "bus":
            spec = [b.capacity for o in s.origins for b in o.buses if b.crossing == crossing]
        else:
            spec = [getattr(o.party_size, mode).mean for o in origins if getattr(o.party_size, mode) is not None]
        out[mode] = float(np.mean(spec)) if spec else 1.0
    return out


def capacity_steps(run: RunTables, crossing: str) -> pd.DataFrame:
    """Capacity of a crossing in people per hour, per channel and in ``all``, at every change (step function).

    Also the booths open per channel (``booths_car`` ..., NaN: no such channel).

    Capacity of a channel = booths open x 60 / mean service minutes x people
    per service, where the mean service is (per vehicle + per person x
    people per service) x the check regime's multiplier; zero while closed.
    The last row repeats the last step at the scenario end, for drawing.
    """
    s = run.scenario
    spec = s.crossing(crossing)
    size = people_per_service(run, crossing)
    changes = {s.start, s.end}
    for mode in MODES:
        ch = spec.channel(mode)
        changes |= {b.at for b in ch.booth_schedule} if ch else set()
    changes |= {r.starts for r in spec.regimes} | {w.starts for w in spec.closures} | {w.ends for w in spec.closures}
    rows = []
    for t in sorted(x for x in changes if s.start <= x < s.end):
        row = {"time": run.local(t), "all": 0.0}
        for mode in MODES:
            ch = spec.channel(mode)
            if ch is None:
                row[mode], row[f"booths_{mode}"] = 0.0, math.nan
                continue
            closed = any(w.starts <= t < w.ends for w in spec.closures if w.channel in (None, mode))
            regime = [r for r in spec.regimes if r.starts <= t and r.channel in (None, mode)]
            multiplier = regime[-1].service_multiplier if regime else 1.0
            steps = [b for b in ch.booth_schedule if b.at <= t]
            booths = 0 if closed else (steps[-1].booths if steps else ch.booths)
            minutes = (ch.service.per_vehicle_min + ch.service.per_person_min * size[mode]) * multiplier
            row[mode], row[f"booths_{mode}"] = booths * 60.0 / minutes * size[mode], booths
            row["all"] += row[mode]
        rows.append(row)
    rows.append({**rows[-1], "time": run.local(s.end)})
    return pd.DataFrame(rows)


def capacity_events(run: RunTables) -> list[Event]:
    """Booth changes, check-regime changes, closures and route changes, for the time axes."""
    s, events = run.scenario, []
    for c in s.crossings:
        for mode in MODES:
            ch = c.channel(mode)
            for b in ch.booth_schedule if ch else []:
                events.append(Event(run.local(b.at), c.name, "booth change", f"{MODE_LABEL[mode]}: {b.booths} booths"))
        for r in c.regimes:
            events.append(Event(run.local(r.starts), c.name, "check-regime change",
                                (f"{MODE_LABEL[r.channel]}: " if r.channel else "")
                                + f"check regime '{r.name or 'unnamed'}', service time x {r.service_multiplier:g}"))
        for w in c.closures:
            scope = f"{MODE_LABEL[w.channel]}: " if w.channel else ""
            reason = f" ({w.reason})" if w.reason else ""
            # a whole crossing's closure is shaded; one channel's only marked (the rest of the crossing works)
            events.append(Event(run.local(w.starts), c.name, "closure", f"{scope}closed until {run.local(w.ends):%d %b %H:%M}{reason}",
                                until=run.local(w.ends) if w.channel is None else None))
    for r in s.routes:
        if r.closed_from:
            until = f" until {run.local(r.closed_until):%d %b %H:%M}" if r.closed_until else ""
            events.append(Event(run.local(r.closed_from), r.crossing, "route change", f"road from {r.origin} closed{until}"))
        for x in r.lengthened:
            events.append(Event(run.local(x.starts), r.crossing, "route change", f"road from {r.origin} now {x.road_km:g} km"))
    return sorted(events, key=lambda e: (e.at, e.crossing, e.kind))


# --- aggregation for the charts ---------------------------------------------------------------


def cumulative_curves(run: RunTables) -> pd.DataFrame:
    """People departed towards, arrived at and crossed each crossing by each grid time, mean per replication.

    One set of curves per channel a party ended in (``foot`` for people who
    left their car and walked) and one for ``all`` channels together.
    """
    c = run.charts["cumulative"]
    counts = c[["departed", "arrived", "crossed"]].astype(float) / run.replications
    return pd.concat([c[["crossing", "channel", "time"]], counts], axis=1)


#: Shortest capacity line drawn, in hours: where booths are far from full, it meets the arrivals within minutes.
MIN_CAPACITY_LINE_H = 6.0


def capacity_line(curves: pd.DataFrame, steps: pd.DataFrame, channel: str) -> pd.DataFrame:
    """People crossed had the channel worked at capacity from when its queue formed, until it met the arrivals.

    ``curves`` are one crossing's cumulative curves for ``channel`` and
    ``steps`` its capacity (people/h) as a step function. The queue forms
    when the gap between arrived and crossed first exceeds 5 % of its peak,
    walking back from the peak (or, with no gap, at the first arrival). The
    line rises at the capacity's rate and ends where it meets the arrived
    curve, when full capacity would have cleared the queue (but runs at
    least :data:`MIN_CAPACITY_LINE_H`, so a steep line is seen): where
    'crossed' runs along it, the booths are the bottleneck.
    """
    c = curves.reset_index(drop=True)
    arrived, crossed = c["arrived"].to_numpy(), c["crossed"].to_numpy()
    gap = arrived - crossed
    if len(c) == 0 or arrived[-1] <= 0:
        return pd.DataFrame(columns=["time", "people", "rate"])
    i = int(np.argmax(gap)) if gap.max() > 0 else int(np.argmax(arrived > 0))
    while i > 0 and gap[i - 1] > 0.05 * gap.max():
        i -= 1
    hours = (c["time"] - c["time"].iloc[0]).dt.total_seconds().to_numpy() / 3600.0
    step_hours = (steps["time"] - c["time"].iloc[0]).dt.total_seconds().to_numpy() / 3600.0
    rates = steps[channel].to_numpy(dtype=float)
    done = np.concatenate([[0.0], np.cumsum(rates[:-1] * np.diff(step_hours))])  # capacity used up to each step
    k = np.clip(np.searchsorted(step_hours, hours, side="right") - 1, 0, len(rates) - 1)
    capacity = done[k] + rates[k] * (hours - step_hours[k])
    line = crossed[i] + capacity - capacity[i]
    met = np.nonzero(line[i + 1 :] >= arrived[i + 1 :])[0]
    last = i + 1 + int(met[0]) if len(met) else len(c) - 1
    last = max(last, int(np.searchsorted(hours, hours[i] + MIN_CAPACITY_LINE_H)))  # long enough to see its slope
    top = c[["departed", "arrived", "crossed"]].to_numpy().max()
    keep = slice(i, min(last + 1, len(c)))
    people = line[keep]
    people = people[: int(np.searchsorted(people, top, side="right")) + 1].clip(max=top)
    return pd.DataFrame({"time": c["time"].to_numpy()[keep][: len(people)], "people": people,
                         "rate": rates[k[keep]][: len(people)]})


def wait_ecdf(run: RunTables, levels: int = 101) -> pd.DataFrame:
    """Quantiles of the wait (h) of parties that reached a booth, per crossing and mode, pooled over replications.

    Read from the wait histogram (:func:`model.analysis.chart_tables.histogram_quantiles`: within 1.2 %).
    """
    w = run.charts["waits"]
    share = np.linspace(0.0, 1.0, levels)
    frames = []
    for (c, m), g in w.groupby(["crossing", "mode"], sort=True):
        counts = np.bincount(g["bin"].to_numpy(), weights=g["parties"].to_numpy(), minlength=len(WAIT_BIN_EDGES_H) - 1)
        frames.append(pd.DataFrame({"crossing": c, "mode": m, "share": share, "wait_h": histogram_quantiles(counts, share)}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["crossing", "mode", "share", "wait_h"])


def wait_by_hour(run: RunTables) -> pd.DataFrame:
    """Median and 90th-percentile wait (h) of parties arriving at the border in each hour, per crossing and mode."""
    keys = ["crossing", "mode", "hour"]
    w = run.charts["waits"]
    out = pd.DataFrame({"median": grouped_quantiles(w, keys, 0.5), "p90": grouped_quantiles(w, keys, 0.9),
                        "parties": w.groupby(keys, sort=True)["parties"].sum() / run.replications})
    return out.reset_index()


def hourly_throughput(run: RunTables) -> pd.DataFrame:
    """People crossed per clock hour, per crossing and channel (mean per replication)."""
    h = run.charts["hourly_crossed"]
    hours = pd.date_range(run.local(run.scenario.start).floor("h"), run.local(run.scenario.end), freq="h", inclusive="left")
    table = h.pivot_table(index=["crossing", "hour"], columns="channel", values="people", aggfunc="sum", fill_value=0)
    table = table.reindex(columns=list(MODES), fill_value=0)
    full = pd.MultiIndex.from_product([[c.name for c in run.scenario.crossings], hours], names=["crossing", "hour"])
    return (table.reindex(full, fill_value=0) / run.replications).reset_index()


OUTCOME_NODES = {
    "gave_up": "gave up",
    "waiting_at_end": "still queueing at the end",
    "travelling_at_end": "on the road at the end",
}


def flows(run: RunTables) -> pd.DataFrame:
    """People per (origin, crossing first headed for, outcome), mean per replication, and how many of them walked."""
    f = run.charts["flows"]
    outcome = np.where(f["outcome"] == "crossed", "crossed at " + f["crossing"], f["outcome"].map(OUTCOME_NODES).fillna(f["outcome"]))
    frame = pd.DataFrame({"origin": f["origin"], "first": f["first_crossing"].replace("", NO_CROSSING), "outcome": outcome,
                          "people": f["people"], "walked": f["walked"]})
    out = frame.groupby(["origin", "first", "outcome"], sort=True)[["people", "walked"]].sum() / run.replications
    return out.reset_index()


def diversions(run: RunTables) -> pd.DataFrame:
    """People who left the crossing they first headed for for another: from, to, people (mean per replication)."""
    f = run.charts["flows"]
    moved = (f["first_crossing"] != "") & (f["crossing"] != "") & (f["first_crossing"] != f["crossing"])
    out = f[moved].groupby(["first_crossing", "crossing"], sort=True)["people"].sum() / run.replications
    return out.rename("people").reset_index().rename(columns={"first_crossing": "source", "crossing": "target"})


def map_queue(run: RunTables) -> pd.DataFrame:
    """Median queue per crossing on the full hours of the grid, the frames of the map."""
    s = run.queues_summary
    s = s[(s["time"].dt.minute == 0) & (s["time"].dt.second == 0)]
    return pd.DataFrame({"crossing": s["crossing"], "time": s["time"], "queue_km": s["queue_km_median"],
                         "vehicles": s["vehicles_waiting_median"], "people": s["people_waiting_median"]})


def surge_window(run: RunTables) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The whole local days from the first arrival at the border until 99 % have crossed and the queues are small.

    Arrivals and crossings are read from the cumulative curves (all channels,
    every crossing), so to the grid step. "Small" is under 1 % of the largest
    95th percentile of people waiting, so a trickle of single cars at the end
    does not stretch the window. Time axes open on it so the surge is not
    squeezed into a corner of a long scenario period; None when it covers
    most of the period anyway.
    """
    q, c = run.queues_summary, run.charts["cumulative"]
    busy = q.loc[q["people_waiting_p95"] > 0.01 * q["people_waiting_p95"].max(), "time"]
    total = c[c["channel"] == "all"].groupby("time", sort=True)[["arrived", "crossed"]].sum()
    if total.empty or total["crossed"].iloc[-1] <= 0 or total["arrived"].iloc[-1] <= 0:
        return None
    first = total.index[np.argmax(total["arrived"].to_numpy() > 0)]
    last = total.index[np.argmax(total["crossed"].to_numpy() >= 0.99 * total["crossed"].iloc[-1])]
    if not busy.empty:
        first, last = min(first, busy.min()), max(last, busy.max())
    start = max(first.floor("D"), run.local(run.scenario.start))
    end = min(last.ceil("D"), run.local(run.scenario.end))
    whole = run.local(run.scenario.end) - run.local(run.scenario.start)
    return (start, end) if end - start < 0.8 * whole else None


def booths_on_grid(run: RunTables, steps: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Booths open per channel at each crossing at each grid time (NaN: no such channel), for the queue chart's hover."""
    frames = []
    for crossing, st in steps.items():
        grid = run.queues_summary.loc[run.queues_summary["crossing"] == crossing, "time"]
        idx = np.clip(np.searchsorted(st["time"].to_numpy(), grid.to_numpy(), side="right") - 1, 0, None)
        frames.append(pd.DataFrame({"crossing": crossing, "time": grid.to_numpy(),
                                    **{m: st[f"booths_{m}"].to_numpy()[idx] for m in MODES}}))
    return pd.concat(frames, ignore_index=True)
