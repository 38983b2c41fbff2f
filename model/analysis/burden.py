"""The burden of waiting: who stands in the queue, when, for how long, and through how many nights.

A queue at a border is people, not vehicles: families standing on foot in the
open or sitting in cars for days. This module turns one replication's stays
(one row per party per queue it stood in) into what a humanitarian planner
counts, per crossing and in total:

* people waiting at every local whole hour, on foot and in vehicles;
* person-hours waiting per local calendar day (on foot, in vehicles) and the
  most people waiting at once that day;
* people waiting overnight: everyone waiting at any moment of the night window
  (``[needs]``, default 22:00-06:00) of the night beginning that evening,
  counted once per night however long they stayed in it;
* the longest continuous wait per person (stays that follow each other without
  a gap, as a car's people who leave it and join the walkers' queue, are one
  wait; driving on to another crossing ends it), and how many people waited
  through one, two, three or more nights;
* people who crossed that day, and people in reception centres at night
  (those who crossed, times their origin's ``reception_share``, for
  ``reception_stay_days``);
* expected children, elderly people and people with disabilities among those
  waiting overnight, from the origins' shares (expected values, not draws).

A wait still going on at the end of the run is counted to the end (its length
is then a lower bound). Everything here is per replication, in minutes from
the start, and runs in the worker that ran the replication;
:func:`summarise_burden` combines replications into means with 95% intervals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from ..scenario import Scenario
from ..scenario.needs import VULNERABILITY
from .group_sums import group_ids, group_moments
from .key_figures import _name_codes, value_at
from .student_t import t_quantile

__all__ = [
    "ReplicationBurden",
    "replication_burden",
    "people_step",
    "stays_with_people",
    "summarise_burden",
    "summarise_columns",
    "local_days",
    "night_windows",
    "hour_marks",
    "weighted_quantile",
    "DAILY_COLUMNS",
    "RUN_COLUMNS",
    "HOURLY_COLUMNS",
    "WHOLE_RUN",
    "ALL",
]

#: The ``period`` of the rows that cover the whole run.
WHOLE_RUN = "whole run"
#: The ``crossing`` of the rows for all crossings together.
ALL = "all"
#: Figures per crossing and local date (the night is the one beginning that evening).
DAILY_COLUMNS = [
    "person_hours_waiting_h", "person_hours_on_foot_h", "person_hours_in_vehicles_h",
    "people_waiting_peak", "people_waiting_peak_on_foot",
    "people_waiting_overnight", "people_waiting_overnight_on_foot",
    "people_crossed", "people_in_reception_overnight",
]
#: Figures per crossing over the whole run.
RUN_COLUMNS = [
    "people_queued", "longest_wait_p50_h", "longest_wait_p90_h", "longest_wait_p95_h", "longest_wait_max_h",
    "people_waiting_1_night_or_more", "people_waiting_2_nights_or_more", "people_waiting_3_nights_or_more",
]
#: People waiting at each local whole hour.
HOURLY_COLUMNS = ["people_waiting", "people_waiting_on_foot", "people_waiting_in_vehicles"]


@dataclass
class ReplicationBurden:
    """One replication's burden tables (times in minutes from the start)."""

    hourly: pd.DataFrame  # replication, crossing, time, HOURLY_COLUMNS
    daily: pd.DataFrame  # replication, crossing, date, DAILY_COLUMNS (+ <group>_waiting_overnight)
    run: pd.DataFrame  # replication, crossing, RUN_COLUMNS


# --- the local clock ----------------------------------------------------------------------------


def _at(scenario: Scenario, day, hours: float) -> float:
    """Minutes from the start to ``hours`` after local midnight of ``day``."""
    local = datetime(day.year, day.month, day.day) + timedelta(hours=hours)
    return scenario.minutes(local.replace(tzinfo=scenario.zone))


def _dates(scenario: Scenario, before: int = 0) -> list:
    first = scenario.at(0).date() - timedelta(days=before)
    last = scenario.at(scenario.horizon_min - 1e-6).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def local_days(scenario: Scenario) -> list[tuple[str, float, float]]:
    """(date, from, to) of every local calendar day of the run, in minutes, clipped to the run."""
    h = scenario.horizon_min
    return [(d.isoformat(), max(0.0, _at(scenario, d, 0)), min(h, _at(scenario, d + timedelta(days=1), 0)))
            for d in _dates(scenario)]


def night_windows(scenario: Scenario) -> list[tuple[str, float, float]]:
    """(date, from, to) of every night window that overlaps the run, named by the date of its evening, clipped.

    A window that does not pass midnight (e.g. 00:00-05:00) belongs to its own date.
    """
    n, h = scenario.needs, scenario.horizon_min
    spans = n.night_ends_hour <= n.night_starts_hour
    out = []
    for d in _dates(scenario, before=1 if spans else 0):
        a = _at(scenario, d, n.night_starts_hour)
        b = _at(scenario, d + timedelta(days=1) if spans else d, n.night_ends_hour)
        if min(b, h) > max(a, 0.0):
            out.append((d.isoformat(), max(a, 0.0), min(b, h)))
    return out


def hour_marks(scenario: Scenario) -> np.ndarray:
    """Minutes of every local whole hour inside the run."""
    marks = [_at(scenario, d, hour) for d in _dates(scenario) for hour in range(24)]
    return np.array(sorted({m for m in marks if 0 <= m < scenario.horizon_min}), dtype=float)


# --- step functions of people waiting -------------------------------------------------------------


def people_step(joined: np.ndarray, left: np.ndarray, people: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """People waiting as a right-continuous step function (times, values) of stays [joined, left)."""
    times = np.concatenate([joined, left])
    if not len(times):
        return np.zeros(1), np.zeros(1)
    change = np.concatenate([people, -people]).astype(float)
    t, inverse = np.unique(times, return_inverse=True)
    delta = np.zeros(len(t))
    np.add.at(delta, inverse, change)
    return t, np.round(np.cumsum(delta), 9)


def _area(t: np.ndarray, v: np.ndarray, a: float, b: float) -> float:
    """Integral of the step function over [a, b)."""
    edges = np.clip(np.append(t, np.inf), a, b)
    return float(np.sum(v * np.diff(edges)))


def _peak(t: np.ndarray, v: np.ndarray, a: float, b: float) -> float:
    """Largest value of the step function on [a, b)."""
    inside = v[(t > a) & (t < b)]
    return float(max(value_at(t, v, a), inside.max() if len(inside) else 0.0))


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The ``q`` quantile of ``values`` each counted ``weights`` times: the smallest value with at least a share
    ``q`` of the weight at or below it (numpy's 'inverted_cdf' on the repeated values). NaN if no weight."""
    return _weighted_quantiles(values, weights, (q,))[0]


def _weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs) -> list[float]:
    """:func:`weighted_quantile` at each of ``qs``, sorting once."""
    keep = weights > 0
    values, weights = values[keep], weights[keep]
    if not len(values):
        return [math.nan for _ in qs]
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    ordered = values[order]
    return [float(ordered[np.searchsorted(cum, q * cum[-1] - 1e-9 * cum[-1], side="left")]) for q in qs]


# --- one replication ----------------------------------------------------------------------------


def stays_with_people(scenario: Scenario, parties: pd.DataFrame, stays: pd.DataFrame,
                      columns: tuple[str, ...] = ("origin",)) -> pd.DataFrame:
    """The stays with the people of the party (a bus: its riders) and its ``columns`` (a bus: its first rider's),
    in the order of ``stays``; still waiting ones to the end of the run."""
    if stays.empty:
        return pd.DataFrame({"key": np.array([], dtype=np.int64), "crossing": [], "foot": np.array([], dtype=bool),
                             "joined": [], "left": [], "people": [], **{c: [] for c in columns}})
    few = parties[["party_id", "bus_id", "people", *columns]]  # not every column copied by the steps below
    by_id = few.set_index("party_id")[["people", *columns]]
    riders = few[few["bus_id"] >= 0]
    by_bus = riders.groupby("bus_id").agg(people=("people", "sum"), **{c: (c, "first") for c in columns})
    by_bus.index = -1 - by_bus.index.to_numpy()  # a bus's party id
    who = pd.concat([by_id, by_bus]).reindex(stays["party_id"].to_numpy())
    return pd.DataFrame({  # text kept as ``object``: pandas' string type would cost more than all the rest
        "key": stays["party_id"].to_numpy(dtype=np.int64),
        "crossing": pd.Series(stays["crossing"].to_numpy(dtype=object), dtype=object),
        "foot": stays["channel"].to_numpy(dtype=object) == "foot",
        "joined": stays["joined_at"].to_numpy(dtype=float),
        "left": np.nan_to_num(stays["left_at"].to_numpy(dtype=float), nan=scenario.horizon_min),
        "people": who["people"].fillna(0).to_numpy(dtype=float),
        **{c: pd.Series(who[c].to_numpy(dtype=object), dtype=object) for c in columns},
    })


def _episodes(s: pd.DataFrame) -> pd.DataFrame:
    """Continuous waits: a party's stays that follow each other with no gap, merged; crossing of the last stay."""
    s = s.sort_values(["key", "joined", "left"], kind="stable")
    key, joined, left = s["key"].to_numpy(), s["joined"].to_numpy(), s["left"].to_numpy()
    new = np.ones(len(s), dtype=bool)
    new[1:] = (key[1:] != key[:-1]) | (joined[1:] > left[:-1] + 1e-9)
    episode = np.cumsum(new)
    e = s.assign(episode=episode).groupby("episode", sort=True).agg(
        key=("key", "first"), crossing=("crossing", "last"), people=("people", "first"),
        start=("joined", "min"), end=("left", "max"))
    e["hours"] = (e["end"] - e["start"]) / 60.0
    return e

def _longest_waits(key: np.ndarray, joined: np.ndarray, left: np.ndarray, people: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per party (by ``key``, ascending): its longest continuous wait (h, as :func:`_episodes` merges them) and its
    people; the same numbers as grouping :func:`_episodes` by key, without building frames."""
    if not len(key):
        return np.zeros(0), np.zeros(0)
    order = np.lexsort((left, joined, key))
    k, j, lt, p = key[order], joined[order], left[order], people[order]
    new = np.ones(len(k), dtype=bool)
    new[1:] = (k[1:] != k[:-1]) | (j[1:] > lt[:-1] + 1e-9)
    starts = np.flatnonzero(new)
    hours = (np.maximum.reduceat(lt, starts) - np.minimum.reduceat(j, starts)) / 60.0
    ek = k[starts]
    first = np.flatnonzero(np.concatenate(([True], ek[1:] != ek[:-1])))
    return np.maximum.reduceat(hours, first), p[starts][first]


def _overnight(s: pd.DataFrame, a: float, b: float) -> pd.DataFrame:
    """The stays that overlap [a, b) for some time."""
    return s[np.maximum(s["joined"].to_numpy(), a) < np.minimum(s["left"].to_numpy(), b)]


def _people(rows: pd.DataFrame, by: list[str]) -> pd.Series:
    """People of the distinct parties in ``rows``, per ``by`` (a party in two rows counts once)."""
    return rows.drop_duplicates([*by, "key"]).groupby(by, sort=False)["people"].sum()


def _shares(scenario: Scenario, field: str) -> dict[str, float]:
    return {o.name: (getattr(scenario.needs.profile(o.name), field) or 0.0) for o in scenario.origins}


def _mapped(values: np.ndarray, mapping: dict[str, float]) -> np.ndarray:
    """``values`` mapped by ``mapping`` as floats, 0 where missing (``Series.map(mapping).fillna(0.0)``), once per
    distinct value."""
    codes, uniques = pd.factorize(values)
    lookup = np.array([float(mapping[u]) if u in mapping else 0.0 for u in uniques] + [0.0], dtype=float)
    return lookup[codes]


def _distinct(key: np.ndarray, people: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys of some stays and the people of each (the same in every stay of a party)."""
    keys, first = np.unique(key, return_index=True)
    return keys, people[first]


def replication_burden(scenario: Scenario, parties: pd.DataFrame, stays: pd.DataFrame) -> ReplicationBurden:
    """The burden tables of one replication from its party and stay tables (times in minutes)."""
    rep = int(parties["replication"].iloc[0]) if len(parties) else int(stays["replication"].iloc[0]) if len(stays) else 0
    s = stays_with_people(scenario, parties, stays)
    names = [c.name for c in scenario.crossings]
    # the stays as arrays, with the index of their crossing in ``names``: a group is a mask, not a frame
    code = _name_codes(s["crossing"].to_numpy(dtype=object), names)
    s_key, s_foot = s["key"].to_numpy(dtype=np.int64), s["foot"].to_numpy(dtype=bool)
    s_joined, s_left, s_people = (s[c].to_numpy(dtype=float) for c in ("joined", "left", "people"))
    groups = {c: code == i for i, c in enumerate(names)} | {ALL: None}
    days, nights, marks = local_days(scenario), night_windows(scenario), hour_marks(scenario)
    vulnerable = [g for g in VULNERABILITY if scenario.needs.given(f"{g}_share")]

    hourly, daily, run = [], [], []
    # the stays that overlap each night window for some time (as :func:`_overnight`)
    night_rows = {d: np.maximum(s_joined, a) < np.minimum(s_left, b) for d, a, b in nights}
    crossed = parties["outcome"].to_numpy(dtype=object) == "crossed"  # numpy compares text faster than pandas
    crossed_code = _name_codes(parties["crossing"].to_numpy(dtype=object)[crossed], names)
    origin = parties["origin"].to_numpy(dtype=object)[crossed]
    reception = _mapped(origin, _shares(scenario, "reception_share"))
    stay_days = _mapped(origin, _shares(scenario, "reception_stay_days"))
    all_crossed_at = parties["crossed_at"].to_numpy(dtype=float)[crossed]
    all_crossers = parties["people"].to_numpy(dtype=float)[crossed]
    for i, (c, mask) in enumerate(groups.items()):
        if mask is None:
            key, foot, joined, left, people = s_key, s_foot, s_joined, s_left, s_people
        else:
            key, foot, joined, left, people = s_key[mask], s_foot[mask], s_joined[mask], s_left[mask], s_people[mask]
        steps = {k: people_step(joined[m], left[m], people[m])
                 for k, m in (("all", np.ones(len(key), dtype=bool)), ("foot", foot), ("vehicles", ~foot))}
        at = {k: value_at(*steps[k], marks) for k in steps}
        hourly.append(pd.DataFrame({"replication": rep, "crossing": c, "time": marks, "people_waiting": at["all"],
                                    "people_waiting_on_foot": at["foot"], "people_waiting_in_vehicles": at["vehicles"]}))
        here = np.ones(len(all_crossers), dtype=bool) if c == ALL else crossed_code == i
        t_crossed = all_crossed_at[here]
        crossers = all_crossers[here]
        received, leave_at = crossers * reception[here], t_crossed + stay_days[here] * 1440.0
        by_date = {d: {} for d, _, _ in days} | {d: {} for d, _, _ in nights}
        for d, a, b in days:
            by_date[d].update({
                "person_hours_waiting_h": _area(*steps["all"], a, b) / 60.0,
                "person_hours_on_foot_h": _area(*steps["foot"], a, b) / 60.0,
                "person_hours_in_vehicles_h": _area(*steps["vehicles"], a, b) / 60.0,
                "people_waiting_peak": _peak(*steps["all"], a, b),
                "people_waiting_peak_on_foot": _peak(*steps["foot"], a, b),
                "people_crossed": float(crossers[(t_crossed >= a) & (t_crossed < b)].sum()),
            })
        night_keys, night_people = [], []
        for d, a, b in nights:
            tonight = night_rows[d] if mask is None else night_rows[d] & mask
            keys, their_people = _distinct(s_key[tonight], s_people[tonight])
            night_keys.append(keys)
            night_people.append(their_people)
            on_foot = tonight & s_foot
            extra = {}
            if vulnerable:
                by_origin = _people(s[tonight], ["origin"])
                extra = {f"{v}_waiting_overnight": float(sum(n * _shares(scenario, f"{v}_share").get(o, 0.0)
                                                             for o, n in by_origin.items())) for v in vulnerable}
            by_date[d].update({
                "people_waiting_overnight": float(their_people.sum()),
                "people_waiting_overnight_on_foot": float(_distinct(s_key[on_foot], s_people[on_foot])[1].sum()),
                "people_in_reception_overnight": float(np.sum(received[(t_crossed < b) & (leave_at > a)])),
                **extra,
            })
        for d in sorted(by_date):
            daily.append({"replication": rep, "crossing": c, "date": d, **by_date[d]})
        if np.isnan(joined).any():  # not from the engine; the frame route skips missing values as before
            e = _episodes(s if mask is None else s[mask])
            longest = e.groupby("key", sort=True).agg(hours=("hours", "max"), people=("people", "first"))
            hours, weight = longest["hours"].to_numpy(), longest["people"].to_numpy()
        else:
            hours, weight = _longest_waits(key, joined, left, people)
        # nights each party waited through, and its people
        keys, first, counts = np.unique(np.concatenate([np.zeros(0, dtype=np.int64), *night_keys]),
                                        return_index=True, return_counts=True)
        counted = np.concatenate([np.zeros(0), *night_people])[first]
        run.append({
            "replication": rep, "crossing": c, "people_queued": float(weight.sum()),
            **dict(zip((f"longest_wait_p{q}_h" for q in (50, 90, 95)), _weighted_quantiles(hours, weight, (0.5, 0.9, 0.95)))),
            "longest_wait_max_h": float(hours[weight > 0].max()) if (weight > 0).any() else math.nan,
            **{f"people_waiting_{k}_night{'s' if k > 1 else ''}_or_more": float(counted[counts >= k].sum())
               for k in (1, 2, 3)},
        })
    daily_frame = pd.DataFrame(daily)
    for col in DAILY_COLUMNS:  # a date outside the run (an evening before the start) or a night after it: nothing
        daily_frame[col] = daily_frame[col].fillna(0.0) if col in daily_frame else 0.0
    return ReplicationBurden(pd.concat(hourly, ignore_index=True), daily_frame, pd.DataFrame(run))


# --- across replications ------------------------------------------------------------------------


def summarise_columns(frame: pd.DataFrame, by: list[str], columns: list[str]) -> pd.DataFrame:
    """Mean and 95% t-interval across replications of each of ``columns``, per ``by``: columns COL,
    COL_ci95_low, COL_ci95_high (one replication: no interval), as :func:`model.analysis.key_figures.mean_ci`
    gives them (missing values left out), for all groups at once, groups in the order they first appear.

    The numbers are those of pandas' ``groupby(by, sort=False)`` ``mean``, ``std`` and ``count`` (a compensated
    sum and Welford's updates, row by row), computed with numpy a position in the groups at a time."""
    ids, keys = group_ids(frame, by)
    values = frame[columns].to_numpy(dtype=float)
    mean, sd, n = group_moments(ids, len(next(iter(keys.values()))), values)
    lookup = {k: t_quantile(0.975, k - 1) if k > 1 else math.nan for k in np.unique(n).tolist()}
    t = np.array([lookup[k] for k in n.ravel().tolist()], dtype=float).reshape(n.shape)
    half = t * sd / np.sqrt(n)
    parts = dict(keys)
    for j, col in enumerate(columns):
        parts[col] = mean[:, j]
        parts[f"{col}_ci95_low"] = mean[:, j] - half[:, j]
        parts[f"{col}_ci95_high"] = mean[:, j] + half[:, j]
    return pd.DataFrame(parts)


def _whole_run(daily: pd.DataFrame, run: pd.DataFrame) -> pd.DataFrame:
    """Per replication and crossing, the daily figures over the whole run next to the run figures."""
    g = daily.groupby(["replication", "crossing"], sort=False)
    total = g[[c for c in DAILY_COLUMNS if c.startswith("person_hours") or c == "people_crossed"]].sum()
    peaks = g[["people_waiting_peak", "people_waiting_peak_on_foot", "people_in_reception_overnight"]].max()
    return run.merge(pd.concat([total, peaks], axis=1).reset_index(), on=["replication", "crossing"], how="left")


def summarise_burden(scenario: Scenario, parts: list[ReplicationBurden]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(burden, burden_hourly, daily by replication): the replications combined.

    ``burden``: a row per crossing (and ``all``) per date, then a ``whole run``
    row (person-hours and people crossed summed; peaks and reception the largest
    day; the run figures); mean and 95% interval of each figure. ``burden_hourly``:
    people waiting at each local whole hour with intervals, ``night`` marking the
    hours inside the night window. Times stay in minutes here.
    """
    daily = pd.concat([p.daily for p in parts], ignore_index=True)
    run = pd.concat([p.run for p in parts], ignore_index=True)
    hourly = pd.concat([p.hourly for p in parts], ignore_index=True)
    extra = [c for c in daily.columns if c.endswith("_waiting_overnight") and c not in DAILY_COLUMNS]
    per_day = summarise_columns(daily, ["crossing", "date"], DAILY_COLUMNS + extra).rename(columns={"date": "period"})
    whole = summarise_columns(_whole_run(daily, run), ["crossing"], [
        c for c in DAILY_COLUMNS + RUN_COLUMNS if c not in ("people_waiting_overnight", "people_waiting_overnight_on_foot")])
    whole.insert(1, "period", WHOLE_RUN)
    burden = pd.concat([per_day, whole], ignore_index=True)
    order = {c: i for i, c in enumerate([c.name for c in scenario.crossings] + [ALL])}
    burden = burden.sort_values("crossing", key=lambda x: x.map(order), kind="stable").reset_index(drop=True)
    by_hour = summarise_columns(hourly, ["crossing", "time"], HOURLY_COLUMNS)
    nights = night_windows(scenario)
    t = by_hour["time"].to_numpy()
    by_hour.insert(2, "night", np.any([(t >= a) & (t < b) for _, a, b in nights], axis=0) if nights else False)
    return burden, by_hour, daily
