"""Replications of a scenario, run serially or on worker processes, joined in a fixed order.

Replication ``r`` draws every random number from streams keyed by the
scenario seed and ``r`` alone, so the tables are the same whatever the number
of workers or the order in which replications finish. Workers send back only
the compact minute-based records.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Iterable

from .records import RunRecords
from .scenario import Scenario
from .simulation import run_replication
from .tables import Results, build_results

__all__ = ["run_replications", "simulate", "default_workers"]


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def _run_one(args: tuple[Scenario, int]) -> RunRecords:
    scenario, replication = args
    return run_replication(scenario, replication)


def run_replications(
    scenario: Scenario,
    replications: Iterable[int],
    workers: int = 1,
    on_done: Callable[[RunRecords], None] | None = None,
) -> list[RunRecords]:
    """Run the given replication numbers; returns their records sorted by replication."""
    reps = list(replications)
    jobs = [(scenario, r) for r in reps]
    results: list[RunRecords] = []
    if workers <= 1 or len(reps) <= 1:
        for job in jobs:
            results.append(_run_one(job))
            if on_done:
                on_done(results[-1])
    else:
        with ProcessPoolExecutor(max_workers=min(workers, len(reps))) as pool:
            for rec in pool.map(_run_one, jobs, chunksize=1):
                results.append(rec)
                if on_done:
                    on_done(rec)
    return sorted(results, key=lambda r: r.replication)


def simulate(scenario: Scenario, replications: int | None = None, workers: int = 1) -> Results:
    """Run ``replications`` (default: the scenario's) and return every table as DataFrames."""
    n = scenario.replications if replications is None else replications
    return build_results(scenario, run_replications(scenario, range(n), workers))
