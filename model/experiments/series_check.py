"""Verification of controls in series against exact answers: Jackson waits and the blocking chain.

* **Jackson.** Two exponential single booths in series fed by Poisson
  arrivals, with no limit on the holding space between, form a Jackson
  network: each is an M/M/1 queue of its own (the departures of a stable
  M/M/1 queue are Poisson), so the mean wait before each is rho / (mu - lambda).
* **Blocking after service.** With an endless queue before the first booth
  and 0 or 1 places between, the throughput is that of a small Markov chain
  solved exactly (:func:`model.analysis.theory.tandem_blocking_throughput`);
  the first booth is blocked for the share 1 - throughput / mu1 of the time.

Each simulated figure is a mean over replications with its 95% t-interval,
which must contain the exact value.
"""

from __future__ import annotations

import numpy as np

from ..analysis.key_figures import mean_ci
from ..analysis.theory import mmc, tandem_blocking_throughput
from ..engine import simulate_replication
from ..scenario import Scenario
from .checks import CheckRow, _iso, _one_gate

__all__ = ["SERIES_CASE", "series_scenario", "check_series"]

#: Arrivals per hour, service minutes of the two booths, days (the first is warm-up), replications.
SERIES_CASE = {"per_h": 30.0, "first_min": 1.5, "second_min": 1.2, "days": 10, "replications": 10,
               "blocking_first_min": 5.0, "blocking_second_min": 4.0, "queue": 5000}


def series_scenario(per_h: float, first_min: float, second_min: float, days: int, holding: int | None = None,
                    queue: int = 0, seed: int = 31) -> Scenario:
    """One gate with a second control ('entry') after it, each one exponential booth; Poisson arrivals at
    ``per_h`` and/or ``queue`` cars waiting at the start."""
    horizon = days * 1440.0
    origin = {"people": per_h * horizon / 60.0,
              "departures": [{"at": _iso(0), "people_per_h": per_h}, {"at": _iso(horizon), "people_per_h": per_h}]}
    car = {"booths": 1, "service": {"per_vehicle_min": first_min, "dist": "exponential"}}
    entry = {"name": "entry", "car": {"booths": 1, "service": {"per_vehicle_min": second_min, "dist": "exponential"}}}
    if holding is not None:
        entry["holding_vehicles"] = holding
    extra = {"first_stage": "exit", "stages": [entry]}
    if queue:
        extra["initial_queue"] = {"origin": "town", "car": queue}
    return _one_gate("series", horizon, origin, car, seed, extra)


def _waits(s: Scenario, replication: int) -> dict[str, float]:
    stays = simulate_replication(s, replication).stays
    done = (stays["how"] == "served") & (stays["joined_at"] >= 1440.0)  # after a day of warm-up
    wait = stays["left_at"] - stays["joined_at"]
    return {channel: float(wait[done & (stays["channel"] == channel)].mean()) for channel in ("car", "car@entry")}


def _throughput_per_min(s: Scenario, replication: int) -> float:
    p = simulate_replication(s, replication).parties
    crossed = p["crossed_at"][p["outcome"] == "crossed"]
    return float(((crossed >= 1440.0) & (crossed < s.horizon_min)).sum() / (s.horizon_min - 1440.0))


def check_series(case: dict = SERIES_CASE) -> list[CheckRow]:
    """Jackson waits before each of two M/M/1 controls in series, and the blocking chain's throughput with 0 and
    1 places between two booths, against their exact values."""
    reps = range(case["replications"])
    rows = []
    s = series_scenario(case["per_h"], case["first_min"], case["second_min"], case["days"])
    waits = [_waits(s, r) for r in reps]
    for channel, service_min, label in (("car", case["first_min"], "first"), ("car@entry", case["second_min"], "second")):
        exact = mmc(case["per_h"], 60.0 / service_min, 1).wq * 60.0
        mean, lo, hi = mean_ci(np.array([w[channel] for w in waits]))
        rows.append(CheckRow("series", f"Jackson: mean wait before the {label} of two M/M/1 controls in series (min)",
                             exact, mean, lo, hi, "95% CI contains exact", lo <= exact <= hi,
                             f"Poisson {case['per_h']:g}/h, services {case['first_min']:g} and {case['second_min']:g} min, "
                             f"no limit between; {case['days']} days, the first discarded"))
    mu1, mu2 = 1.0 / case["blocking_first_min"], 1.0 / case["blocking_second_min"]
    for holding in (0, 1):
        b = series_scenario(0.01, case["blocking_first_min"], case["blocking_second_min"], case["days"], holding, case["queue"])
        exact = 1.0 - tandem_blocking_throughput(mu1, mu2, holding) / mu1
        mean, lo, hi = mean_ci(np.array([1.0 - _throughput_per_min(b, r) / mu1 for r in reps]))
        rows.append(CheckRow("series", f"blocking after service, {holding} place{'s' if holding != 1 else ''} between: share of "
                             "time the first booth is blocked", exact, mean, lo, hi, "95% CI contains exact", lo <= exact <= hi,
                             f"endless queue, exponential {case['blocking_first_min']:g} then {case['blocking_second_min']:g} min; "
                             "exact: the two-station Markov chain"))
    return rows
