"""Verification and validation: does the engine compute what it claims, and does a scenario match reality?

The built-in suite (``python -m model validate``) runs seven kinds of check
and returns one row per check:

* **M/M/c** cases built in code (constant Poisson departures, one person per
  car, exponential service, no travel, no behaviour): simulated mean wait,
  probability of waiting and mean queue against Erlang C; each 95% interval
  must contain the exact value, with replications added until the mean
  wait's half-width is within 3% of Erlang C's (5% at utilisation 0.95).
* **Fluid**: a queue already waiting at the start served by fixed-time booths
  whose number changes on a schedule is deterministic, so queue vehicles and
  km must equal the fluid solution exactly at every service epoch.
* **Release quotas and batches**: a daily quota and a daily batch with
  booths that never limit release parties exactly when the fluid solution
  says (every service start, exactly), and no day exceeds its quota; a
  metering point passes cars exactly as Lindley's recursion with its fixed
  headway says.
* **Controls in series**: the waits before two M/M/1 controls in series
  against Jackson's product form, and blocking after service with 0 and 1
  places between against the exact two-station Markov chain.
* **Priority classes**: the mean wait per class of a non-preemptive
  priority M/M/c queue (two classes, two utilisations) against Cobham's
  formula, each inside a 95% interval.
* **Little's law and conservation** on a real scenario: queue series against
  party log, and every person in exactly one state at every instant.
* **Calibration**: a scenario's *targets file* (reported facts, each with a
  kind of statistic, a place, date-times and a reported range) against the
  mean over replications, with a 95% interval.

The checks are in :mod:`.checks`, the facts in :mod:`.calibration`; the
page is drawn by the report layer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from ..scenario import load_scenario
from .calibration import (
    calibration_rows,
    calibration_table,
    load_targets,
    targets_path_for,
)
from .checks import CheckRow, check_conservation, check_fluid, check_little
from .mmc_check import check_mmc, mmc_cases
from .priority_check import PRIORITY_CASES, PRIORITY_QUICK, check_priority
from .release_check import check_metering, check_release
from .replications import run_replications
from .series_check import check_series

__all__ = ["Suite", "run_suite"]

# --- the suite ----------------------------------------------------------------------------------


@dataclass
class Suite:
    """Everything ``validate`` writes: check rows, the calibration table and chart data."""

    rows: list[CheckRow]
    calibration: pd.DataFrame | None
    fluid_curve: pd.DataFrame
    seconds: float = 0.0
    scenario: str = ""
    info: dict = field(default_factory=dict)

    @property
    def table(self) -> pd.DataFrame:
        """One row per check; counts are whole numbers, blank where they do not apply."""
        t = pd.DataFrame([asdict(r) for r in self.rows])
        for col in ("replications", "customers"):
            t[col] = [getattr(r, col) if getattr(r, col) is not None else "" for r in self.rows]
        return t

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.rows)


def run_suite(scenario_path: str | Path, quick: bool = False, workers: int = 1, overrides: list[str] | None = None) -> Suite:
    """Run every check. ``quick`` runs shorter M/M/c cases, two replications of the scenario, no calibration.

    The scenario's facts come from its targets file (:func:`targets_path_for`);
    a scenario without one is checked for Little's law and conservation only.
    """
    import time as _time

    t0 = _time.perf_counter()
    scenario = load_scenario(scenario_path, overrides or [])
    tpath = targets_path_for(scenario_path)
    targets = load_targets(tpath) if tpath.is_file() else None
    rows: list[CheckRow] = check_mmc(mmc_cases(quick), workers)  # every case at once on the workers
    fluid_rows, curve = check_fluid()
    rows += fluid_rows
    rows += check_release() + check_metering()
    rows += check_series()
    rows += check_priority(PRIORITY_QUICK if quick else PRIORITY_CASES)
    reps = 2 if quick else (targets.replications if targets else scenario.replications)
    records = run_replications(scenario, range(reps), workers)
    rows += check_little(scenario, records)
    rows += check_conservation(scenario, records)
    table = None
    if targets is not None and not quick:
        table = calibration_table(scenario, records, targets)
        rows += calibration_rows(table)
    for row in rows:  # the replications behind each check (M/M/c rows carry their own)
        if row.replications is None:
            row.replications = 1 if row.group == "fluid" else reps
    info = {"scenario_file": str(scenario_path), "targets_file": str(tpath) if targets else "",
            "replications": reps, "quick": quick}
    return Suite(rows, table, curve, _time.perf_counter() - t0, scenario.name, info)
