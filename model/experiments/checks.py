"""Verification checks: does the engine compute what it claims?

* **M/M/c** cases built in code (constant Poisson departures, one person per
  car, exponential service, no travel, no behaviour): simulated mean wait,
  probability of waiting and mean queue against Erlang C. Each 95% interval
  must contain the exact value, and replications are added until the mean
  wait's half-width is within a set percentage of Erlang C's, so a pass
  bounds the error by that percentage.
* **Fluid**: a queue already waiting at the start served by fixed-time booths
  whose number changes on a schedule is deterministic, so queue vehicles and
  km must equal the fluid solution exactly at every service epoch.
* **Little's law and conservation** on a real scenario: queue series against
  party log, and every person in exactly one state at every instant.

Each check returns :class:`CheckRow` rows.
"""

from __future__ import annotations

import math
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Iterator

import numpy as np
import pandas as pd

from ..analysis import (
    ReplicationResult,
    crossing_series,
    fluid_queue,
    littles_law_by_crossing,
    mean_ci,
    mmc,
    queue_step,
    step_area,
    t_half_width,
    value_at,
)
from ..analysis.replication import table
from ..analysis.theory import MMc
from ..engine import simulate_replication
from ..scenario import Scenario, scenario_from_dict
from .replications import run_replications

__all__ = ["CheckRow", "MMcCase", "mmc_scenario", "mmc_cases", "mmc_pool", "Judgement", "judge", "replications_needed",
           "MMcResult", "run_mmc", "mmc_rows", "check_mmc", "FLUID_CASE", "fluid_scenario",
           "fluid_expected", "check_fluid", "check_little", "STATES", "party_states", "check_conservation"]

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
    """An M/M/c plan: utilisation, booths, customers per replication, replications to start with, and the
    mean wait's precision (95% half-width, % of Erlang C's) to add replications for, up to a cap."""

    utilisation: float
    booths: int
    customers: int
    replications: int
    service_min: float = 10.0
    precision_pct: float = 3.0
    max_replications: int = 400

    @property
    def arrival_per_min(self) -> float:
        return self.utilisation * self.booths / self.service_min

    @property
    def seed(self) -> int:
        """A seed per case, so that the cases' errors are independent (one seed would correlate them)."""
        return round(self.utilisation * 1000) * 1000 + self.booths

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

    def theory(self, service_min: float | None = None) -> MMc:
        """Erlang C figures of the case (per minute), for its own or another mean service time."""
        return mmc(self.arrival_per_min, 1.0 / (service_min or self.service_min), self.booths)


def mmc_scenario(case: MMcCase, seed: int | None = None) -> Scenario:
    """M/M/c as a scenario: flat Poisson departures, size 1, exponential service, no travel or behaviour.

    The queue starts at its steady-state mean (initial_queue), departures stop
    after warm-up + measurement, and the horizon leaves time for everyone to
    be served, so no measured wait is cut off. ``seed`` defaults to the case's.
    """
    theory = case.theory()
    stop = case.warmup_min + case.measure_min
    horizon = stop + 20 * (theory.wq + case.service_min) + 24 * 60
    rate_h = case.arrival_per_min * 60.0
    origin = {"departures": [{"at": _iso(0), "people_per_h": rate_h}, {"at": _iso(stop), "people_per_h": rate_h}]}
    car = {"booths": case.booths, "service": {"per_vehicle_min": case.service_min, "dist": "exponential"}}
    start_in_system = int(round(theory.l))
    extra = {"initial_queue": {"origin": "town", "car": start_in_system}} if start_in_system else None
    return _one_gate(f"mmc-rho{case.utilisation:g}-c{case.booths}", horizon, origin, car,
                     case.seed if seed is None else seed, extra)


def _mmc_measures(case: MMcCase, p: pd.DataFrame, queues: pd.DataFrame) -> tuple[float, float, float]:
    """(mean wait min, share who waited, time-average queue) of customers arriving after warm-up."""
    a, b = case.warmup_min, case.warmup_min + case.measure_min
    sel = p[(p["arrived_at"] >= a) & (p["arrived_at"] < b) & ~p["initial"]]
    wait_min = sel["wait_h"].to_numpy(dtype=float) * 60.0
    series = crossing_series(queues, columns=("vehicles_waiting",))
    lq = step_area(series["time"].to_numpy(), series["vehicles_waiting"].to_numpy(), a, b) / (b - a)
    return float(wait_min.mean()), float((wait_min > 0).mean()), lq


def _mmc_replication(case: MMcCase, scenario: Scenario, r: int) -> tuple[float, float, float]:
    """One replication's three measures, computed where it ran (only three numbers travel back)."""
    records = simulate_replication(scenario, r)  # only the columns the measures read, to save time
    return _mmc_measures(case, table(r, records.parties, ["arrived_at", "initial", "wait_h"]),
                         table(r, records.queues, ["channel", "time", "vehicles_waiting"]))


class _Here:
    """Runs each job at once in this process, behind the same ``submit`` as a process pool."""

    def submit(self, fn, *args) -> Future:
        future: Future = Future()
        future.set_result(fn(*args))
        return future


@contextmanager
def mmc_pool(workers: int = 1) -> Iterator[ProcessPoolExecutor | _Here]:
    """Worker processes for the M/M/c replications, kept open across cases (1: run here)."""
    pool = ProcessPoolExecutor(max_workers=workers) if workers > 1 else _Here()
    try:
        yield pool
    finally:  # on an error, drop the replications not started yet
        if isinstance(pool, ProcessPoolExecutor):
            pool.shutdown(wait=True, cancel_futures=True)


@dataclass(frozen=True)
class Judgement:
    """A t-interval of per-replication values against an exact value, with a precision target (NaN: none)."""

    n: int
    mean: float
    half_width: float
    exact: float
    target: float  # the half-width allowed, in the values' unit
    confidence: float = 0.95

    low, high = property(lambda self: self.mean - self.half_width), property(lambda self: self.mean + self.half_width)
    contains = property(lambda self: bool(self.low <= self.exact <= self.high))
    precise = property(lambda self: bool(math.isnan(self.target) or self.half_width <= self.target))
    passed = property(lambda self: self.contains and self.precise)
    half_width_pct = property(lambda self: 100.0 * self.half_width / abs(self.exact) if self.exact else math.nan)


def judge(values, exact: float, precision_pct: float | None = None, confidence: float = 0.95) -> Judgement:
    """Judge independent per-replication ``values`` against ``exact``: a pure function, no simulation.

    Passes when the t-based ``confidence`` interval of their mean contains
    ``exact`` and, if ``precision_pct`` is given, its half-width is at most
    that percentage of ``exact``. Together these bound the error of a passing
    mean, |mean - exact| <= half-width <= precision_pct % of exact, so a bias
    larger than the target fails whatever the noise.
    """
    x = np.asarray(values, dtype=float)
    half = t_half_width(x, confidence) if len(x) > 1 else math.nan
    target = precision_pct / 100.0 * abs(exact) if precision_pct is not None else math.nan
    return Judgement(len(x), float(x.mean()) if len(x) else math.nan, half, float(exact), target, confidence)


def replications_needed(n: int, half_width: float, target: float) -> int:
    """Replications that a half-width ``half_width`` from ``n`` suggests for ``target``: ceil(n (h / target)^2)."""
    return math.ceil(n * (half_width / target) ** 2)


MMC_MEASURES = ("mean wait (min)", "P(wait)", "mean queue (vehicles)")


@dataclass(frozen=True)
class MMcResult:
    """One case after the sequential procedure: per-replication values (rows) and a judgement per measure."""

    case: MMcCase
    values: np.ndarray  # columns: mean wait (min), P(wait), mean queue (vehicles)
    judgements: tuple[Judgement, Judgement, Judgement]

    replications = property(lambda self: len(self.values))
    capped = property(lambda self: not self.judgements[0].precise)


def _sequential(case: MMcCase, exact: tuple[float, float, float]):
    """The procedure for one case as a generator: yields replication numbers to run, is sent their values."""
    values = np.asarray((yield range(case.replications)), dtype=float)
    while True:
        wait, n = judge(values[:, 0], exact[0], case.precision_pct), len(values)
        if wait.precise or n >= case.max_replications:
            return MMcResult(case, values, (wait, judge(values[:, 1], exact[1]), judge(values[:, 2], exact[2])))
        more = min(case.max_replications, 2 * n, max(n + 1, replications_needed(n, wait.half_width, wait.target)))
        values = np.vstack([values, (yield range(n, more))])


def run_mmc(cases: Iterable[MMcCase], pool: ProcessPoolExecutor | _Here | None = None) -> list[MMcResult]:
    """The sequential procedure, for every case at once so that the workers never wait for one case.

    Each case starts with ``case.replications``; while the 95% half-width h of
    its mean wait exceeds the target t (``precision_pct`` % of Erlang C's), it
    runs more, up to ceil(n (h / t)^2) (at least one more, at most double, at
    most ``max_replications``), with new replication numbers so the earlier
    ones are kept; each has its own warm-up. A case's next batch depends only
    on its own values, so the result is the same whatever the workers. P(wait)
    and mean queue are judged on the same replications, on their interval.
    """
    cases, pool = list(cases), pool or _Here()
    scenarios = [mmc_scenario(c) for c in cases]
    procs = [_sequential(c, (t.wq, t.p_wait, t.lq)) for c in cases for t in [c.theory()]]
    results: list[MMcResult | None] = [None] * len(cases)
    futures: dict[Future, tuple[int, int]] = {}
    got: list[dict[int, tuple]] = [{} for _ in cases]
    batch = [0] * len(cases)

    def start(k: int, reps: range) -> None:
        batch[k] = len(reps)
        for r in reps:
            futures[pool.submit(_mmc_replication, cases[k], scenarios[k], r)] = (k, r)

    for k, proc in enumerate(procs):
        start(k, next(proc))
    while futures:
        for future in wait(futures, return_when=FIRST_COMPLETED).done:
            k, r = futures.pop(future)
            got[k][r] = future.result()
            if len(got[k]) == batch[k]:
                values = [got[k].pop(r) for r in sorted(got[k])]
                try:
                    start(k, procs[k].send(values))
                except StopIteration as stop:
                    results[k] = stop.value
    return results  # type: ignore[return-value]


def mmc_rows(result: MMcResult) -> list[CheckRow]:
    """Three rows per case; each says what it was judged on, the replications needed and the target."""
    case, n = result.case, result.replications
    plan, conf = f"{n} reps x {case.customers} customers", f"{result.judgements[0].confidence:.0%} CI contains Erlang C"
    cap = f"; precision NOT reached: cap of {case.max_replications} replications hit" if result.capped else ""
    rows = []
    for what, j in zip(MMC_MEASURES, result.judgements):
        wq = what == MMC_MEASURES[0]
        tol = (f"{conf} and half-width <= {case.precision_pct:g}% of it ({plan})" if wq else
               f"{conf} (on the {plan} set by the mean wait's {case.precision_pct:g}% precision)") + cap
        rows.append(CheckRow(
            "M/M/c", f"rho={case.utilisation:g} c={case.booths}: {what}", j.exact, j.mean, j.low, j.high, tol, j.passed,
            f"{n * case.customers} customers after a warm-up of {case.warmup_min / 60:.1f} h each; seed {case.seed}",
            replications=n, customers=case.customers, half_width_pct=j.half_width_pct,
            target_pct=case.precision_pct if wq else math.nan))
    return rows


def check_mmc(cases: MMcCase | Iterable[MMcCase], workers: int = 1) -> list[CheckRow]:
    """Simulated Wq, P(wait) and Lq of M/M/c cases against Erlang C (see :func:`run_mmc`), three rows each.

    A passing mean wait is within ``precision_pct`` % of Erlang C's (its
    interval contains the exact value and is no wider than that), so a bias
    of that size fails. (The earlier rule, 4 standard errors of 10
    replications, let errors of 11-36 % pass.)
    """
    with mmc_pool(workers) as pool:
        results = run_mmc([cases] if isinstance(cases, MMcCase) else cases, pool)
    return [row for result in results for row in mmc_rows(result)]


def mmc_cases(quick: bool) -> list[MMcCase]:
    """Utilisations 0.5, 0.8, 0.9, 0.95, each with two booth counts (one with --quick).

    The mean wait is measured to 3% at utilisation up to 0.9 and 5% at 0.95
    (with --quick, 20% and 30%). Customers per replication grow with the
    relaxation time so that warm-up is a small share of each replication.
    """
    plan = [(0.5, 1, 4_000), (0.5, 4, 4_000), (0.8, 2, 10_000), (0.8, 6, 10_000),
            (0.9, 3, 20_000), (0.9, 10, 20_000), (0.95, 4, 40_000), (0.95, 16, 40_000)]
    if quick:
        return [MMcCase(rho, c, n // 4, 10, precision_pct=20.0 if rho <= 0.9 else 30.0, max_replications=200)
                for rho, c, n in plan[1::2]]
    return [MMcCase(rho, c, n, 10, precision_pct=3.0 if rho <= 0.9 else 5.0) for rho, c, n in plan]


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
