"""Verification checks: does the engine compute what it claims?

* **M/M/c** cases built in code (constant Poisson departures, one person per
  car, exponential service, no travel, no behaviour): simulated mean wait,
  probability of waiting and mean queue against Erlang C.
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
from scipy import stats

from ..analysis import (
    ReplicationResult,
    crossing_series,
    fluid_queue,
    littles_law_by_crossing,
    mean_ci,
    mmc,
    queue_step,
    step_area,
    value_at,
)
from ..scenario import Scenario, scenario_from_dict
from .replications import run_replications

__all__ = ["CheckRow", "MMcCase", "mmc_scenario", "mmc_cases", "check_mmc", "FLUID_CASE", "fluid_scenario", "fluid_expected",
           "check_fluid", "check_little", "STATES", "party_states", "check_conservation"]

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

    def __post_init__(self):
        if not self.verdict:
            self.verdict = "pass" if self.passed else "FAIL"


# --- M/M/c ---------------------------------------------------------------------------------------

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


@dataclass(frozen=True)
class MMcCase:
    """An M/M/c run plan: utilisation, booths, customers to measure per replication, replications."""

    utilisation: float
    booths: int
    customers: int
    replications: int
    service_min: float = 10.0

    @property
    def arrival_per_min(self) -> float:
        return self.utilisation * self.booths / self.service_min

    @property
    def relaxation_min(self) -> float:
        """Relaxation time of M/M/c, 1 / (c mu (1 - sqrt rho)^2) (Abate & Whitt 1987)."""
        return self.service_min / (self.booths * (1.0 - math.sqrt(self.utilisation)) ** 2)

    @property
    def warmup_min(self) -> float:
        return 2.0 * self.relaxation_min

    @property
    def measure_min(self) -> float:
        return self.customers / self.arrival_per_min


def mmc_scenario(case: MMcCase, seed: int = 1) -> Scenario:
    """M/M/c as a scenario: flat Poisson departures, size 1, exponential service, no travel or behaviour.

    The queue starts at its steady-state mean (initial_queue), departures stop
    after warm-up + measurement, and the horizon leaves time for everyone to
    be served, so no measured wait is cut off.
    """
    theory = mmc(case.arrival_per_min, 1.0 / case.service_min, case.booths)
    stop = case.warmup_min + case.measure_min
    horizon = stop + 20 * (theory.wq + case.service_min) + 24 * 60
    rate_h = case.arrival_per_min * 60.0
    origin = {"departures": [{"at": _iso(0), "people_per_h": rate_h}, {"at": _iso(stop), "people_per_h": rate_h}]}
    car = {"booths": case.booths, "service": {"per_vehicle_min": case.service_min, "dist": "exponential"}}
    start_in_system = int(round(theory.l))
    extra = {"initial_queue": {"origin": "town", "car": start_in_system}} if start_in_system else None
    return _one_gate(f"mmc-rho{case.utilisation:g}-c{case.booths}", horizon, origin, car, seed, extra)


def _mmc_measures(case: MMcCase, rec: ReplicationResult) -> tuple[float, float, float]:
    """(mean wait min, share who waited, time-average queue) of customers arriving after warm-up."""
    p = rec.parties
    a, b = case.warmup_min, case.warmup_min + case.measure_min
    sel = p[(p["arrived_at"] >= a) & (p["arrived_at"] < b) & ~p["initial"]]
    wait_min = sel["wait_h"].to_numpy(dtype=float) * 60.0
    series = crossing_series(rec.queues, columns=("vehicles_waiting",))
    lq = step_area(series["time"].to_numpy(), series["vehicles_waiting"].to_numpy(), a, b) / (b - a)
    return float(wait_min.mean()), float((wait_min > 0).mean()), lq


def check_mmc(case: MMcCase, workers: int = 1, z: float = 4.0) -> list[CheckRow]:
    """Simulated Wq, P(wait) and Lq of one M/M/c case against Erlang C.

    Tolerance: ``z`` standard errors of the mean across independent
    replications (z = 4: a correct engine fails a given check with
    probability about 0.3% for 10 replications, t with 9 df). The standard
    error shrinks like 1 / ((1 - rho) sqrt(customers)) (heavy-traffic
    variance of the mean wait, Whitt 1989), which is why high utilisations
    get more customers. The check keeps its power despite wide bands because
    Wq is steep in rho: a 5% error in service time at rho = 0.9 moves Wq by
    over 50%.
    """
    theory = mmc(case.arrival_per_min, 1.0 / case.service_min, case.booths)
    # a seed per case, so that the cases' errors are independent (one seed would correlate them)
    seed = round(case.utilisation * 1000) * 1000 + case.booths
    recs = run_replications(mmc_scenario(case, seed), range(case.replications), workers)
    measures = np.array([_mmc_measures(case, r) for r in recs])
    n = case.customers * case.replications
    rows = []
    measured = (("mean wait (min)", theory.wq), ("P(wait)", theory.p_wait), ("mean queue (vehicles)", theory.lq))
    for k, (what, expected) in enumerate(measured):
        mean, lo, hi = mean_ci(measures[:, k])
        se = (hi - mean) / stats.t.ppf(0.975, case.replications - 1)
        tol = z * se
        rows.append(CheckRow(
            "M/M/c", f"rho={case.utilisation:g} c={case.booths}: {what}", expected, mean, lo, hi,
            f"+/- {tol:.3g} ({z:g} SE, {case.replications} reps x {case.customers} customers)",
            bool(abs(mean - expected) <= tol), f"{n} customers after a warm-up of {case.warmup_min / 60:.1f} h",
        ))
    return rows


def mmc_cases(quick: bool) -> list[MMcCase]:
    """Utilisations 0.5, 0.8, 0.9, 0.95, each with two booth counts (one with --quick).

    Customers per case grow like 1 / (1 - rho)^2 so that the relative standard
    error of the mean wait is similar (a few per cent) across utilisations.
    """
    plan = [(0.5, 1, 4_000), (0.5, 4, 4_000), (0.8, 2, 10_000), (0.8, 6, 10_000),
            (0.9, 3, 20_000), (0.9, 10, 20_000), (0.95, 4, 40_000), (0.95, 16, 40_000)]
    if quick:
        return [MMcCase(rho, c, n // 8, 8) for rho, c, n in plan[1::2]]
    return [MMcCase(rho, c, n, 10) for rho, c, n in plan]


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

    (A party waiting at a bus stop at the end has outcome ``waiting_at_end`` and no crossing.)

    Checked every ``step_min`` minutes and at the horizon, in people. A second
    row checks the outcome each party has at the end against its stamps; a
    third, the people queued by the log against the queue series (the series
    may also hold parties that later moved on, whose stay the log cannot show).
    """
    end = scenario.horizon_min
    at = np.append(np.arange(0.0, end, step_min), end - 1e-6)
    worst = worst_outcome = 0.0
    series_gap: list[float] = []
    for r in records:
        s = party_states(r.parties, at)
        worst = max(worst, float(np.max(np.abs(s["departed"] - sum(s[k] for k in STATES)))))
        final = {k: v[-1] for k, v in s.items()}
        outcome = r.parties.groupby("outcome")["people"].sum()
        pairs = {"crossed": final["crossed"], "gave_up": final["gave_up"],
                 "waiting_at_end": final["queued"] + final["in_service"] + final["waiting_for_bus"],
                 "travelling_at_end": final["travelling"]}
        worst_outcome = max(worst_outcome, max(abs(float(outcome.get(k, 0)) - v) for k, v in pairs.items()))
        t, v = queue_step(r.queues, "all", None, "people_waiting")
        in_series = value_at(t, v, at)
        moved = r.parties[r.parties["first_crossing"] != r.parties["crossing"]]
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
