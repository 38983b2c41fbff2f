"""Verification of priority in the same queue against Cobham's exact mean waits.

Poisson arrivals of single-person cars, exponential service and ``c`` booths
with two classes, the first (a share of the cars) served before the other
when a booth frees, form a non-preemptive priority M/M/c queue. Its mean wait
per class is known exactly (:func:`model.analysis.theory.priority_waits`).
Each case is simulated over independent replications; the cars arriving
after a warm-up (and long enough before the end to be served) give one mean
wait per class and replication, and the t-based 95% interval over the
replications must contain the exact value.

``fifo=True`` runs the same cars through a plain first-come first-served
pool, labelled with the same shares after the run, to show that the check can
fail: both labels then wait as long as the M/M/c average.
"""

from __future__ import annotations

import numpy as np

from ..analysis.key_figures import mean_ci
from ..analysis.theory import priority_waits
from ..engine import simulate_replication
from ..scenario import Scenario
from .checks import CheckRow, _iso, _one_gate

__all__ = ["PRIORITY_CASES", "PRIORITY_QUICK", "priority_scenario", "class_waits", "check_priority"]

#: (utilisation, booths) per case; the first class's share; service minutes; days, the first ``warmup_days``
#: discarded and arrivals in the last ``tail_days`` left out (they may not be served by the end); replications.
PRIORITY_CASES = {"cases": ((0.7, 2), (0.9, 3)), "share": 0.2, "service_min": 10.0, "days": 30, "warmup_days": 3,
                  "tail_days": 1, "replications": 10}
#: ``validate --quick``: shorter runs and fewer replications (wider intervals), about a second.
PRIORITY_QUICK = {**PRIORITY_CASES, "days": 12, "warmup_days": 2, "replications": 8}


def priority_scenario(utilisation: float, booths: int, share: float, service_min: float, days: int,
                      fifo: bool = False, seed: int = 47) -> Scenario:
    """One gate with ``booths`` exponential booths at ``utilisation``; a class 'first' of ``share`` of the cars
    served first (``fifo``: no class, one queue)."""
    horizon = days * 1440.0
    per_h = utilisation * booths / service_min * 60.0
    origin = {"people": per_h * horizon / 60.0,
              "departures": [{"at": _iso(0), "people_per_h": per_h}, {"at": _iso(horizon), "people_per_h": per_h}]}
    car = {"booths": booths, "service": {"per_vehicle_min": service_min, "dist": "exponential"}}
    s = _one_gate("priority", horizon, origin, car, seed)
    if fifo:
        return s
    return Scenario.model_validate(s.model_dump(by_alias=True) | {"priority": [{"name": "first", "share": share,
                                                                               "modes": ["car"]}]})


def class_waits(s: Scenario, replication: int, case: dict = PRIORITY_CASES) -> tuple[float, float]:
    """Mean wait (min) of the first class and of the regular cars arriving between the warm-up and the tail.
    Without classes in ``s`` the cars are labelled after the run, each 'first' with the case's share."""
    p = simulate_replication(s, replication).parties
    arrived, wait = p["arrived_at"], p["service_start_at"] - p["arrived_at"]
    if "priority_class" in p:
        first = p["priority_class"] == "first"
    else:
        first = np.random.default_rng(replication).random(len(arrived)) < case["share"]
    measured = (arrived >= case["warmup_days"] * 1440.0) & (arrived < (case["days"] - case["tail_days"]) * 1440.0)
    return float(np.mean(wait[measured & first])), float(np.mean(wait[measured & ~first]))


def check_priority(case: dict = PRIORITY_CASES, fifo: bool = False) -> list[CheckRow]:
    """Per case and class, the simulated mean wait's 95% interval against Cobham's exact value."""
    rows = []
    reps = range(case["replications"])
    for utilisation, booths in case["cases"]:
        s = priority_scenario(utilisation, booths, case["share"], case["service_min"], case["days"], fifo)
        mu = 1.0 / case["service_min"]
        total = utilisation * booths * mu
        exact = priority_waits([case["share"] * total, (1 - case["share"]) * total], mu, booths)
        waits = np.array([class_waits(s, r, case) for r in reps])
        for k, label in enumerate(("first (priority)", "regular")):
            mean, lo, hi = mean_ci(waits[:, k])
            rows.append(CheckRow(
                "priority", f"Cobham: mean wait of the {label} class, utilisation {utilisation:g}, {booths} booths (min)",
                exact[k], mean, lo, hi, "95% CI contains exact", bool(lo <= exact[k] <= hi),
                f"non-preemptive priority M/M/{booths}: {case['share']:.0%} of cars in the first class, exponential "
                f"{case['service_min']:g} min; {case['days']} days, the first {case['warmup_days']} discarded"
                + ("; FIFO pool (labels only): must fail" if fifo else ""),
                replications=len(reps)))
    return rows
