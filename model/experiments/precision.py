"""Replications to a precision: the sequential procedure for terminating simulations.

Add replications until the 95% confidence-interval half-width of each
crossing's peak queue km and mean wait is within a given percentage of its
mean, with a cap. The rule is checked after every replication count, so the
count it stops at does not depend on how the replications were batched.
"""

from __future__ import annotations

import math
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..analysis import ReplicationResult, t_half_width
from ..scenario import Scenario
from .replications import open_executor, run_on

__all__ = ["replicate_to_precision", "precision_table", "PrecisionCheck", "PRECISION_KPIS", "FIRST_CHECK"]

#: Figures whose interval half-width the sequential procedure controls, per crossing.
PRECISION_KPIS = ("peak_queue_km", "wait_mean_h")
#: Replications run before the stopping rule is first checked (Law recommends n0 >= 10).
FIRST_CHECK = 10


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
    runner: Any = None,
) -> tuple[list[ReplicationResult], PrecisionCheck]:
    """Replications 0, 1, ... until every crossing's peak queue km and mean wait are precise enough.

    Batches are sized from the current estimate of the replications needed
    (at least one per worker, at most doubling) and run on one executor. After
    each batch the rule is checked at every count from ``first`` on, and the
    procedure stops at the first count that meets it; replications of the last
    batch beyond that count are dropped. The records returned are therefore
    exactly those of a direct run of that many replications, whatever the
    workers or batches. ``on_batch`` is told each new target count. ``runner``: an executor already open
    (:func:`model.experiments.open_executor`) to run on instead of opening one.
    """
    if not precision_pct > 0:
        raise ValueError(f"precision must be > 0 %, got {precision_pct}")
    if max_replications < 2:
        raise ValueError(f"max_replications must be at least 2, got {max_replications}")
    crossings = [c.name for c in scenario.crossings]
    first = max(2, min(first, max_replications))
    records: list[ReplicationResult] = []
    per_rep: list[pd.DataFrame] = []
    with nullcontext(runner) if runner is not None else open_executor(executor, workers, scheduler) as runner:
        target, checked = first, first - 1
        while True:
            if on_batch:
                on_batch(target)
            batch = run_on(runner, scenario, range(len(records), target), on_done)
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
