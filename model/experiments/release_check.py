"""Verification of release quotas, batches and metering up the road against their exact solutions.

With booths that never limit (many booths, a fixed service far shorter than
any gap) a gated channel releases parties exactly as its gate says: in
arrival order, each at the first instant at or after its arrival when the
quota of that period has room (or, with batches, at the first batch with
room). Given the arrival times of a run, :func:`release_times` computes those
instants exactly; the simulated service starts must equal them to the last
bit, no quota period may exceed its quota, and every start under batches
must fall at a batch time. With everyone waiting at the start (a constant
arrival stream of height M) the cumulative released at the end of day k is
min(M, N x (k + 1)): the classic fluid answer.

A metering point that lets ``vph`` vehicles an hour through is a queue with
a deterministic server of ``60 / vph`` minutes: the k-th car passes at
d_k = max(a_k, d_(k-1) + 60 / vph) (Lindley's recursion; those still
waiting when the metering ends pass then), which the simulated passes must
equal, and no clock hour may pass more than ``vph``.
"""

from __future__ import annotations

import numpy as np

from ..engine import simulate_replication
from ..scenario import Scenario, scenario_from_dict
from ..scenario.recurring import quota_periods
from .checks import CheckRow, _iso, _one_gate

__all__ = ["RELEASE_CASE", "release_scenario", "release_times", "check_release", "METERING_CASE", "check_metering"]

#: A queue of 1000 cars at the start plus 20 cars an hour, a quota of 300 a day (or a column of 300 at 17:00), 5 days.
RELEASE_CASE = {"initial": 1000, "per_h": 20.0, "quota": 300, "batch_at": "17:00", "days": 5, "booths": 1000,
                "service_min": 1e-3}


def release_scenario(case: dict = RELEASE_CASE, batches: bool = False) -> Scenario:
    """The case with a daily quota, or (``batches``) a daily column at ``batch_at`` instead."""
    horizon = case["days"] * 1440.0
    people = case["per_h"] * horizon / 60.0
    origin = {"people": people, "departures": [{"at": _iso(0), "people_per_h": case["per_h"]},
                                               {"at": _iso(horizon), "people_per_h": case["per_h"]}]}
    release = ({"recurring_batches": [{"at": case["batch_at"], "parties": case["quota"]}]} if batches
               else {"quotas": [{"parties": case["quota"], "period_h": 24}]})
    car = {"booths": case["booths"], "service": {"per_vehicle_min": case["service_min"], "dist": "fixed"}, "release": release}
    extra = {"initial_queue": {"origin": "town", "car": case["initial"]}}
    return _one_gate("batches" if batches else "quota", horizon, origin, car, 15, extra)


def release_times(arrived: np.ndarray, windows: list[tuple[float, float, int]]) -> np.ndarray:
    """When each party (in arrival order) passes the gate: the first instant >= its arrival, not before the one
    ahead of it, inside a window (start, end, quota) with room left; NaN if none. A batch is a window of length 0
    (its instant), a quota period a window of its length."""
    out = np.full(len(arrived), np.nan)
    used = [0] * len(windows)
    k, t = 0, -np.inf
    for i, a in enumerate(arrived):
        t = max(t, a)
        while k < len(windows):
            start, end, quota = windows[k]
            open_ = t <= start if end == start else t < end  # a batch not yet past, a period not yet over
            if open_ and used[k] < quota:
                break
            k += 1
        if k == len(windows):
            break
        t = max(t, windows[k][0])
        out[i] = t
        used[k] += 1
    return out


def _simulated(s: Scenario) -> tuple[np.ndarray, np.ndarray]:
    rec = simulate_replication(s, 0)
    p = rec.parties
    order = np.lexsort((p["party_id"], p["arrived_at"]))
    return p["arrived_at"][order], p["service_start_at"][order]


def check_release(case: dict = RELEASE_CASE) -> list[CheckRow]:
    """Quota and batches against :func:`release_times`: max |error| of every start (exact), the most any
    period released against its quota, and the starts that fall off a batch time."""
    rows = []
    s = release_scenario(case)
    arrived, started = _simulated(s)
    periods = [(s.minutes(a), s.minutes(b), n) for a, b, n in quota_periods(s, s.crossings[0].car.release.quotas)]
    expected = release_times(arrived, periods)
    err = _max_error(started, expected)
    per_period = [int(np.sum((started >= a) & (started < b))) for a, b, _ in periods]
    over = max(c - n for c, (_, _, n) in zip(per_period, periods))
    note = f"{case['initial']} cars waiting + {case['per_h']:g}/h, quota {case['quota']} a day, {case['days']} days"
    rows.append(CheckRow("release", "daily quota: every service start against the fluid solution (max |error|, min)",
                         0.0, err, err, err, "== 0 (exact)", err == 0.0, note, replications=1))
    rows.append(CheckRow("release", "daily quota: most released in a day above the quota (parties)", 0.0, float(over),
                         float(over), float(over), "<= 0", over <= 0, f"released per day {per_period}", replications=1))
    b = release_scenario(case, batches=True)
    arrived, started = _simulated(b)
    times = [b.minutes(x.at) for x in b.crossings[0].car.release.batches]
    expected = release_times(arrived, [(t, t, case["quota"]) for t in times])
    err = _max_error(started, expected)
    off = int(np.sum(~np.isin(started[~np.isnan(started)], times)))
    rows.append(CheckRow("release", "daily batch: every service start against the fluid solution (max |error|, min)",
                         0.0, err, err, err, "== 0 (exact)", err == 0.0 and off == 0,
                         f"a column of {case['quota']} at {case['batch_at']} each day; {off} starts off a batch time",
                         replications=1))
    return rows


def _max_error(simulated: np.ndarray, expected: np.ndarray) -> float:
    """Largest |simulated - expected|; a start where none is expected (or none where one is) is infinite."""
    both = np.isnan(simulated) & np.isnan(expected)
    if np.any(np.isnan(simulated) != np.isnan(expected)):
        return float("inf")
    diff = np.abs(simulated[~both] - expected[~both])
    return float(diff.max()) if len(diff) else 0.0


#: Poisson arrivals of 40 cars an hour for two days into a point that lets 30 an hour through, from 06:00 to 30:00.
METERING_CASE = {"per_h": 40.0, "vph": 30.0, "days": 2, "starts_min": 360.0, "ends_min": 1800.0}


def check_metering(case: dict = METERING_CASE) -> list[CheckRow]:
    """Every pass through a metering point against Lindley's recursion (exact), and the most passed in a clock hour."""
    horizon = case["days"] * 1440.0
    origin = {"people": case["per_h"] * horizon / 60.0,
              "departures": [{"at": _iso(0), "people_per_h": case["per_h"]}, {"at": _iso(horizon), "people_per_h": case["per_h"]}]}
    car = {"booths": 1000, "service": {"per_vehicle_min": 1e-3, "dist": "fixed"}}
    raw = _one_gate("metering", horizon, origin, car, 17).model_dump(mode="json", by_alias=True, exclude_none=True)
    raw["metering"] = [{"name": "police", "crossing": "gate", "vehicles_per_hour": case["vph"],
                        "starts": _iso(case["starts_min"]), "ends": _iso(case["ends_min"])}]
    s = scenario_from_dict(raw, "metering")
    stays = simulate_replication(s, 0).stays
    mine = (stays["channel"] == "car@police") & (stays["how"] == "served")
    joined, left = stays["joined_at"][mine], stays["left_at"][mine]
    order = np.lexsort((stays["party_id"][mine], joined))
    joined, left = joined[order], left[order]
    headway, expected, last = 60.0 / case["vph"], np.empty(len(joined)), -np.inf
    for k, a in enumerate(joined):
        last = expected[k] = max(a, last + headway)
    expected = np.minimum(expected, case["ends_min"])  # when the metering ends, everyone still waiting drives on
    err = _max_error(left, expected)
    hours = np.floor(left[left < case["ends_min"]] / 60.0)
    most = int(np.bincount(hours.astype(int)).max()) if len(hours) else 0
    note = f"Poisson {case['per_h']:g}/h into {case['vph']:g} vehicles/h for {(case['ends_min'] - case['starts_min']) / 60:g} h"
    return [CheckRow("release", "metering: every pass against Lindley's recursion with a fixed headway (max |error|, min)",
                     0.0, err, err, err, "<= 1e-9", err <= 1e-9, note, replications=1),
            CheckRow("release", "metering: most vehicles passed in a clock hour above the rate", 0.0, float(most - case["vph"]),
                     float(most - case["vph"]), float(most - case["vph"]), "<= 0", most <= case["vph"],
                     f"{len(left)} passes; at most {most} in an hour", replications=1)]
