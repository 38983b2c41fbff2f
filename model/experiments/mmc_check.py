"""M/M/c verification: does the engine queue as Erlang C says it should?

Cases built in code (constant Poisson departures, one person per car,
exponential service, no travel, no behaviour): the simulated mean wait,
probability of waiting and mean queue against Erlang C. Each 95% interval
must contain the exact value, and replications are added until the mean
wait's half-width is within a set percentage of Erlang C's, so a pass bounds
the error by that percentage (:func:`run_mmc`).
"""

from __future__ import annotations

import math
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterable, Iterator

import numpy as np
import pandas as pd

from ..analysis import crossing_series, mmc, step_area, t_half_width
from ..analysis.replication import table
from ..analysis.theory import MMc
from ..engine import simulate_replication
from ..scenario import Scenario
from .checks import CheckRow, _iso, _one_gate

__all__ = ["MMcCase", "mmc_scenario", "mmc_cases", "mmc_pool", "Judgement", "judge", "replications_needed",
           "MMcResult", "run_mmc", "mmc_rows", "check_mmc"]


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
