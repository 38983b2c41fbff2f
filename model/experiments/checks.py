"""Verification checks: does the engine compute what it claims?

* **M/M/c** against Erlang C is in :mod:`.mmc_check` (it builds its cases
  with :func:`_one_gate` from here, as the other checks of the engine do).
* **Fluid**: a queue already waiting at the start served by fixed-time booths
  whose number changes on a schedule is deterministic, so queue vehicles and
  km must equal the fluid solution exactly at every service epoch.
* **Little's law and conservation** on a real scenario: queue series against
  party log, and every person in exactly one state at every instant.

Each check returns :class:`CheckRow` rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from ..analysis import (
    ReplicationResult,
    crossing_series,
    fluid_queue,
    littles_law_by_crossing,
    mean_ci,
    queue_step,
    value_at,
)
from ..scenario import Scenario, scenario_from_dict
from .replications import run_replications

__all__ = ["CheckRow", "FLUID_CASE", "fluid_scenario", "fluid_expected", "check_fluid", "check_little", "STATES",
           "party_states", "check_conservation"]

# --- check rows ----------------------------------------------------------------------------------


@dataclass
class CheckRow:
    """One line of ``validation.csv``."""

    group: str
    name: str
    expected: float
    simulated: float
    ci95_low: float
    ci95_high: float
    tolerance: str
    passed: bool
    note: str = ""
    verdict: str = ""
    replications: int | None = None  # replications the check used (M/M/c: as many as its precision needed)
    customers: int | None = None  # M/M/c: customers measured per replication
    half_width_pct: float = math.nan  # M/M/c: the 95% half-width as % of the exact value
    target_pct: float = math.nan  # M/M/c mean wait: the half-width allowed, % of the exact value

    def __post_init__(self):
        if not self.verdict:
            self.verdict = "pass" if self.passed else "FAIL"


# --- small scenarios built in code ----------------------------------------------------------------

_EPOCH = datetime(2000, 1, 3)  # a Monday; any fixed date works, the cases have no calendar


def _iso(minutes: float) -> str:
    return (_EPOCH + timedelta(minutes=minutes)).isoformat() + "+00:00"


def _one_gate(name: str, horizon_min: float, origin: dict, car: dict, seed: int, extra: dict | None = None) -> Scenario:
    """A one-origin, one-crossing, car-only scenario with no travel time and no behaviour."""
    crossing = {"name": "gate", "lat": 50.1, "lon": 30.1, "car": car, **(extra or {})}
    return scenario_from_dict({
        "name": name, "timezone": "UTC", "start": _iso(0), "end": _iso(horizon_min), "seed": seed,
        "origins": [{"name": "town", "lat": 50.0, "lon": 30.0, "mode_split": {"car": 1.0},
                     "party_size": {"car": {"dist": "fixed", "value": 1}}, **origin}],
        "crossings": [crossing],
        "routes": [{"origin": "town", "crossing": "gate", "road_km": 1.0,
                    "travel_time_h": {"dist": "fixed", "value": 0.0}, "share": 1.0}],
    }, name)


# --- fluid --------------------------------------------------------------------------------------

#: A queue waiting at the start, served by fixed 10-minute checks, booths stepping 2 -> 5 -> 1 -> 3.
FLUID_CASE = {"initial": 600, "service_min": 10.0, "steps": [(0, 2), (600, 5), (1200, 1), (1800, 3)],
              "spacing_m": 7.5, "lanes": 2, "horizon_min": 2880.0}


def fluid_scenario(case: dict = FLUID_CASE) -> Scenario:
    """Deterministic surge: ``initial`` cars already queued, fixed service, booths on a schedule, no departures."""
    origin = {"people": 0, "departures": [{"at": _iso(0), "people_per_h": 1}, {"at": _iso(60), "people_per_h": 1}]}
    first, *later = case["steps"]
    car = {"booths": first[1], "service": {"per_vehicle_min": case["service_min"], "dist": "fixed"},
           "booth_schedule": [{"at": _iso(t), "booths": b} for t, b in later]}
    extra = {"initial_queue": {"origin": "town", "car": case["initial"]},
             "car_spacing_m": case["spacing_m"], "approach_lanes": case["lanes"]}
    return _one_gate("fluid", case["horizon_min"], origin, car, 1, extra)


def fluid_expected(case: dict = FLUID_CASE, at: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(times, vehicles) of the fluid solution of :data:`FLUID_CASE`, at every service epoch by default."""
    times = np.array([t for t, _ in case["steps"]], dtype=float)
    capacity = np.array([b for _, b in case["steps"]], dtype=float) / case["service_min"]
    if at is None:
        at = np.arange(case["service_min"], case["horizon_min"], case["service_min"])
    return at, fluid_queue(times, np.zeros(len(times)), capacity, at, initial=case["initial"])


def check_fluid(case: dict = FLUID_CASE) -> tuple[list[CheckRow], pd.DataFrame]:
    """Queue vehicles and km against the fluid solution, just before each service epoch.

    With fixed service s and every booth busy, services start only at
    multiples of s, so the number started before k s is exactly the fluid
    capacity integral; booth steps fall on epochs. Tolerance: 1e-9 (exact).
    """
    rec = run_replications(fluid_scenario(case), [0])[0]
    series = crossing_series(rec.queues, columns=("vehicles_waiting", "queue_km"))
    at, expected = fluid_expected(case)
    t = series["time"].to_numpy()
    before = np.searchsorted(t, at, side="left") - 1  # the value just before each epoch
    sim_v = series["vehicles_waiting"].to_numpy()[before]
    sim_km = series["queue_km"].to_numpy()[before]
    expected_km = expected * case["spacing_m"] / 1000.0 / case["lanes"]
    rows = []
    for what, sim, exp in (("queue vehicles", sim_v, expected), ("queue km", sim_km, expected_km)):
        err = float(np.max(np.abs(sim - exp)))
        rows.append(CheckRow("fluid", f"deterministic surge: {what} at {len(at)} epochs (max |error|)", 0.0, err,
                             err, err, "<= 1e-9 (exact)", err <= 1e-9,
                             f"initial {case['initial']} cars, booths {case['steps']}, fixed {case['service_min']:g} min"))
    curve = pd.DataFrame({"time_min": at, "fluid_vehicles": expected, "simulated_vehicles": sim_v})
    return rows, curve


# --- Little's law and conservation on a scenario ---------------------------------------------------


def check_little(scenario: Scenario, records: list[ReplicationResult]) -> list[CheckRow]:
    """Little's law per crossing: L from the queue series against lambda W from the stays log, exact to 1e-9."""
    end = scenario.horizon_min
    checks = [littles_law_by_crossing(r.parties, r.queues, r.stays, end) for r in records]
    rows = []
    for name in [c.name for c in scenario.crossings]:
        per = [c[name] for c in checks if name in c]
        if not per:
            continue
        L = np.array([c.time_average for c in per])
        lw = np.array([c.lambda_w for c in per])
        mean, lo, hi = mean_ci(L)
        tol = "exact (1e-9)"
        rows.append(CheckRow("Little", f"{scenario.name}: {name} people waiting, L vs lambda W", float(lw.mean()),
                             mean, lo, hi, tol, all(c.holds for c in per),
                             f"W = {np.mean([c.mean_time for c in per]) / 60:.2f} h incl. stays cut at the horizon; "
                             f"{len(per)} replications"))
    return rows


STATES = ("waiting_for_bus", "travelling", "queued", "in_service", "crossed", "gave_up")


def party_states(parties: pd.DataFrame, at: np.ndarray) -> dict[str, np.ndarray]:
    """People in each state at each instant in ``at`` (minutes), from the party log's time-stamps alone.

    States are read independently from each stamp (a bus rider travels from
    boarding, anyone else from departure; queued from arrival to service
    start or giving up; ...), so a party with missing or out-of-order stamps
    is counted twice or not at all, and conservation fails.
    """
    inf = np.inf
    people = parties["people"].to_numpy(dtype=float)
    dep, board, arr, ss, cr, gu = (parties[c].to_numpy(dtype=float) for c in
                                   ("departed_at", "boarded_at", "arrived_at", "service_start_at", "crossed_at", "gave_up_at"))
    bus = parties["mode"].to_numpy() == "bus"
    fill = lambda x: np.where(np.isnan(x), inf, x)  # noqa: E731 - "not yet" is +inf
    start_travel = np.where(bus, fill(board), dep)
    end_travel = np.minimum(fill(arr), np.where(np.isnan(arr), fill(gu), inf))
    end_queue = np.minimum(fill(ss), fill(gu))
    spans = {
        "departed": (dep, np.full(len(dep), inf)),
        "waiting_for_bus": (np.where(bus, dep, inf), fill(board)),
        "travelling": (start_travel, end_travel),
        "queued": (fill(arr), end_queue),
        "in_service": (fill(ss), fill(cr)),
        "crossed": (fill(cr), np.full(len(dep), inf)),
        "gave_up": (fill(gu), np.full(len(dep), inf)),
    }
    t = np.asarray(at, dtype=float)[:, None]
    return {k: ((a[None, :] <= t) & (t < b[None, :])) @ people for k, (a, b) in spans.items()}


def check_conservation(scenario: Scenario, records: list[ReplicationResult], step_min: float = 60.0) -> list[CheckRow]:
    """Nobody created or lost: departed = bus stop + travelling + queued + in service + crossed + gave up.

    (A party waiting at a bus stop, or at home for a closed road to reopen, at the end has outcome
    ``waiting_at_end`` and no crossing.)

    Checked every ``step_min`` minutes and at the horizon, in people. A second
    row checks the outcome each party has at the end against its stamps; a
    third, the people queued by the log against the queue series (the series
    may hold parties that later moved on, diverted or walking on, whose stay the log cannot show;
    the queues before later controls in series are left out, as the stamps
    count those people in service).
    """
    end = scenario.horizon_min
    at = np.append(np.arange(0.0, end, step_min), end - 1e-6)
    worst = worst_outcome = 0.0
    series_gap: list[float] = []
    later = {f"{m}@{st.name}" for c in scenario.crossings for st in c.stages for m in ("car", "bus", "foot")}
    for r in records:
        s = party_states(r.parties, at)
        worst = max(worst, float(np.max(np.abs(s["departed"] - sum(s[k] for k in STATES)))))
        final = {k: v[-1] for k, v in s.items()}
        outcome = r.parties.groupby("outcome")["people"].sum()
        # at home with every road closed: no stamp after departure, so the stamps read "travelling"
        home = r.parties.loc[(r.parties["outcome"] == "waiting_at_end") & r.parties["crossing"].isna()
                             & (r.parties["mode"] != "bus"), "people"].sum()
        pairs = {"crossed": final["crossed"], "gave_up": final["gave_up"],
                 "waiting_at_end": final["queued"] + final["in_service"] + final["waiting_for_bus"] + home,
                 "travelling_at_end": final["travelling"] - home}
        worst_outcome = max(worst_outcome, max(abs(float(outcome.get(k, 0)) - v) for k, v in pairs.items()))
        # the queues before a crossing's later controls hold people the stamps count as in service
        t, v = queue_step(r.queues[~r.queues["channel"].isin(later)] if later else r.queues, "all", None, "people_waiting")
        in_series = value_at(t, v, at)
        moved = r.parties[(r.parties["first_crossing"] != r.parties["crossing"]) | (r.parties.get("split_from", -1) >= 0)]
        slack = party_states(moved, at)["travelling"] if len(moved) else np.zeros(len(at))
        gap = in_series - s["queued"]
        series_gap.append(float(np.max(np.where(gap < 0, -gap, np.maximum(gap - slack, 0.0)))))
    n = len(records)
    note = f"{len(at)} instants x {n} replications"
    return [
        CheckRow("conservation", f"{scenario.name}: departed = sum of states (max |error|, people)", 0.0, worst,
                 worst, worst, "0 (exact)", worst == 0.0, note),
        CheckRow("conservation", f"{scenario.name}: outcome at end = state from time-stamps (max |error|, people)", 0.0,
                 worst_outcome, worst_outcome, worst_outcome, "0 (exact)", worst_outcome == 0.0, f"{n} replications"),
        CheckRow("conservation", f"{scenario.name}: queued by log vs queue series (max excess, people)", 0.0,
                 max(series_gap), max(series_gap), max(series_gap), "0 beyond people who moved on", max(series_gap) == 0.0, note),
    ]
