"""Replications of a scenario, run serially, on worker processes or on a Dask cluster.

Replication ``r`` draws every random number from streams keyed by the
scenario seed and ``r`` alone, so the tables are the same whatever the
executor, the number of workers or the order in which replications finish:
every executor runs the same per-replication function, returns the same
compact records (never simulation objects) and the results are sorted by
replication before anything is joined.

:func:`replicate_to_precision` is the sequential procedure for terminating
simulations: add replications until the 95% confidence-interval half-width of
each crossing's peak queue km and mean wait is within a given percentage of
its mean, with a cap. The rule is checked after every replication count, so
the count it stops at does not depend on how the replications were batched.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

import numpy as np
import pandas as pd

from ..analysis import (
    ReplicationResult,
    Results,
    build_results,
    summarise_replication,
    t_half_width,
)
from ..engine import simulate_replication
from ..scenario import Scenario

__all__ = [
    "run_replication",
    "run_replications",
    "open_executor",
    "run_on",
    "simulate",
    "default_workers",
    "replicate_to_precision",
    "precision_table",
    "PrecisionCheck",
    "ExecutorError",
    "EXECUTORS",
    "PRECISION_KPIS",
    "FIRST_CHECK",
]

#: Where replications can run.
EXECUTORS = ("process", "dask")
#: Figures whose interval half-width the sequential procedure controls, per crossing.
PRECISION_KPIS = ("peak_queue_km", "wait_mean_h")
#: Replications run before the stopping rule is first checked (Law recommends n0 >= 10).
FIRST_CHECK = 10

Job = tuple[Scenario, int]


class ExecutorError(Exception):
    """An executor that cannot be used: unknown name, Dask missing, scheduler unreachable."""


def default_workers() -> int:
    """Cores this process may use."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def run_replication(scenario: Scenario, replication: int = 0) -> ReplicationResult:
    """Simulate one replication of ``scenario`` and summarise it; streams depend on (seed, replication) only."""
    return summarise_replication(scenario, simulate_replication(scenario, replication))


def _run_one(job: Job) -> ReplicationResult:
    """The one per-replication function every executor runs."""
    scenario, replication = job
    return run_replication(scenario, replication)


# --- executors: each yields the records of its jobs as they finish --------------------------


class _Serial:
    """Runs jobs one after another in this process."""

    slots = 1

    def completed(self, jobs: list[Job]) -> Iterator[ReplicationResult]:
        for job in jobs:
            yield _run_one(job)


class _Processes:
    """A pool of worker processes on this machine."""

    def __init__(self, pool: ProcessPoolExecutor, workers: int):
        self.pool, self.slots = pool, workers

    def completed(self, jobs: list[Job]) -> Iterator[ReplicationResult]:
        futures = [self.pool.submit(_run_one, job) for job in jobs]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


class _Dask:
    """A Dask distributed client; the cluster's workers must be able to import ``model``."""

    def __init__(self, client: Any):
        self.client = client
        self.slots = max(1, sum(client.nthreads().values()))

    def completed(self, jobs: list[Job]) -> Iterator[ReplicationResult]:
        from distributed import as_completed as dask_completed

        futures = self.client.map(_run_one, jobs, pure=False)
        try:
            for future in dask_completed(futures, loop=self.client.loop):
                try:
                    records = future.result()
                except ImportError as err:
                    raise ExecutorError(f"a Dask worker cannot import the model ({err}); install this package on every worker") from None
                yield records
        finally:
            self.client.cancel(futures)


def _dask_client(scheduler: Any):
    """A client for ``scheduler`` (an address, a cluster object or a client) and whether we opened it."""
    try:
        from distributed import Client
    except ImportError:
        raise ExecutorError("executor 'dask' needs the optional extra: pip install '.[dask]'") from None
    if scheduler is None:
        raise ExecutorError("executor 'dask' needs a scheduler: an address such as tcp://10.0.0.5:8786, or a cluster object")
    if isinstance(scheduler, Client):
        return scheduler, False
    try:
        return Client(scheduler, timeout="15s", set_as_default=False), True
    except (OSError, TimeoutError, ValueError) as err:
        raise ExecutorError(f"Dask scheduler {scheduler!r} cannot be reached: {err}") from None


@contextmanager
def open_executor(executor: str = "process", workers: int = 1, scheduler: Any = None):
    """An executor for many batches of jobs: serial, a process pool, or a Dask client.

    ``executor="process"`` with ``workers <= 1`` runs in this process.
    ``executor="dask"`` needs ``scheduler``: an address, a ``LocalCluster`` (or
    any cluster object) or a ``Client`` the caller made; nothing is started here.
    """
    if executor not in EXECUTORS:
        raise ExecutorError(f"executor {executor!r} is not one of {', '.join(EXECUTORS)}")
    if executor == "dask":
        client, owned = _dask_client(scheduler)
        try:
            yield _Dask(client)
        finally:
            if owned:
                client.close()
    elif workers <= 1:
        yield _Serial()
    else:
        pool = ProcessPoolExecutor(max_workers=workers)
        try:
            yield _Processes(pool, workers)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def run_on(runner, scenario: Scenario, replications: Iterable[int], on_done=None) -> list[ReplicationResult]:
    """Run replications on an executor already opened with :func:`open_executor` (kept open across
    many scenarios, e.g. the points of a sweep, so its worker processes start only once)."""
    return _collect(runner, scenario, replications, on_done)


def _collect(runner, scenario: Scenario, replications: Iterable[int], on_done) -> list[ReplicationResult]:
    results: list[ReplicationResult] = []
    for rec in runner.completed([(scenario, r) for r in replications]):
        results.append(rec)
        if on_done:
            on_done(rec)
    return sorted(results, key=lambda r: r.replication)


def run_replications(
    scenario: Scenario,
    replications: Iterable[int],
    workers: int = 1,
    on_done: Callable[[ReplicationResult], None] | None = None,
    executor: str = "process",
    scheduler: Any = None,
) -> list[ReplicationResult]:
    """Run the given replication numbers; returns their records sorted by replication.

    ``executor`` is ``"process"`` (``workers`` local processes; 1 runs here) or
    ``"dask"`` (the cluster at ``scheduler``, an address or a cluster object).
    ``on_done`` is called with each replication's records as it finishes.
    """
    reps = list(replications)
    with open_executor(executor, min(workers, len(reps)), scheduler) as runner:
        return _collect(runner, scenario, reps, on_done)


def simulate(
    scenario: Scenario,
    replications: int | None = None,
    workers: int = 1,
    executor: str = "process",
    scheduler: Any = None,
) -> Results:
    """Run ``replications`` (default: the scenario's) and return every table as DataFrames."""
    n = scenario.replications if replications is None else replications
    return build_results(scenario, run_replications(scenario, range(n), workers, executor=executor, scheduler=scheduler))


# --- sequential procedure: replications until the intervals are narrow enough ----------------


@dataclass(frozen=True)
class PrecisionCheck:
    """How the sequential procedure ended.

    ``replications`` is the first count (from ``FIRST_CHECK`` or the cap) at
    which every controlled figure met the rule, or the cap. ``table`` has one
    row per crossing and figure at that count: n, mean, half_width,
    half_width_pct (of the mean) and status (``met``, ``not met``,
    ``skipped: mean 0``, ``skipped: no values``).
    """

    precision_pct: float
    max_replications: int
    replications: int
    met: bool
    run: int
    table: pd.DataFrame

    @property
    def skipped(self) -> pd.DataFrame:
        return self.table[self.table["status"].str.startswith("skipped")]

    @property
    def not_met(self) -> pd.DataFrame:
        return self.table[self.table["status"] == "not met"]


def precision_table(per_rep: pd.DataFrame, crossings: list[str], precision_pct: float, confidence: float = 0.95) -> pd.DataFrame:
    """The stopping rule for each crossing and controlled figure, from per-replication key figures.

    A figure meets the rule when its interval half-width is at most
    ``precision_pct`` % of |mean|. A figure whose mean is 0 (no queue in any
    replication) or that has no values (nobody crossed) cannot be measured
    relative to its mean and is skipped, not waited for.
    """
    rows = []
    for crossing in crossings:
        g = per_rep[per_rep["crossing"] == crossing]
        for kpi in PRECISION_KPIS:
            x = g[kpi].to_numpy(dtype=float)
            x = x[~np.isnan(x)]
            mean = float(x.mean()) if len(x) else math.nan
            half = t_half_width(x, confidence)
            if not len(x):
                status = "skipped: no values"
            elif mean == 0:
                status = "skipped: mean 0"
            else:
                status = "met" if half <= precision_pct / 100.0 * abs(mean) else "not met"
            rows.append({
                "crossing": crossing, "kpi": kpi, "n": len(x), "mean": mean, "half_width": half,
                "half_width_pct": 100.0 * half / abs(mean) if mean else math.nan, "status": status,
            })
    return pd.DataFrame(rows, columns=["crossing", "kpi", "n", "mean", "half_width", "half_width_pct", "status"])


def _next_target(table: pd.DataFrame, done: int, slots: int, cap: int, precision_pct: float) -> int:
    """How many replications to have after the next batch: the estimate n (h / target)^2, at most double."""
    late = table[table["status"] == "not met"]
    ratio = late["half_width"] / (precision_pct / 100.0 * late["mean"].abs())
    estimate = (late["n"] * ratio**2).max()
    need = math.ceil(estimate) if np.isfinite(estimate) else done + slots
    return min(cap, max(done + slots, min(need, 2 * done)))


def replicate_to_precision(
    scenario: Scenario,
    precision_pct: float,
    max_replications: int,
    workers: int = 1,
    on_done: Callable[[ReplicationResult], None] | None = None,
    executor: str = "process",
    scheduler: Any = None,
    first: int = FIRST_CHECK,
    on_batch: Callable[[int], None] | None = None,
) -> tuple[list[ReplicationResult], PrecisionCheck]:
    """Replications 0, 1, ... until every crossing's peak queue km and mean wait are precise enough.

    Batches are sized from the current estimate of the replications needed
    (at least one per worker, at most doubling) and run on one executor. After
    each batch the rule is checked at every count from ``first`` on, and the
    procedure stops at the first count that meets it; replications of the last
    batch beyond that count are dropped. The records returned are therefore
    exactly those of a direct run of that many replications, whatever the
    workers or batches. ``on_batch`` is told each new target count.
    """
    if not precision_pct > 0:
        raise ValueError(f"precision must be > 0 %, got {precision_pct}")
    if max_replications < 2:
        raise ValueError(f"max_replications must be at least 2, got {max_replications}")
    crossings = [c.name for c in scenario.crossings]
    first = max(2, min(first, max_replications))
    records: list[ReplicationResult] = []
    per_rep: list[pd.DataFrame] = []
    with open_executor(executor, workers, scheduler) as runner:
        target, checked = first, first - 1
        while True:
            if on_batch:
                on_batch(target)
            batch = _collect(runner, scenario, range(len(records), target), on_done)
            records += batch
            per_rep += [rec.kpis for rec in batch]
            every = pd.concat(per_rep, ignore_index=True)
            for n in range(checked + 1, target + 1):
                table = precision_table(every[every["replication"] < n], crossings, precision_pct)
                if not (table["status"] == "not met").any():
                    return records[:n], PrecisionCheck(precision_pct, max_replications, n, True, len(records), table)
            checked = target
            if target >= max_replications:
                return records, PrecisionCheck(precision_pct, max_replications, target, False, len(records), table)
            target = _next_target(table, target, runner.slots, max_replications, precision_pct)
