"""Fit the default scenario's free parameters to the reported facts of its targets file.

Usage::

    .venv/bin/python scripts/calibrate.py [--replications 4] [--max-evals 150] [--workers 2]

What it does, so that anyone can repeat it:

1. Reads ``params/kharkiv_2022.toml`` and its facts ``params/kharkiv_2022.targets.toml``.
2. Varies the parameters of :data:`PARAMETERS` (no report gives them; each has
   a plausible range from ../shared/calibration/kharkiv_2022.md) through
   ``apply_overrides`` with dotted keys, never by editing the file.
3. Runs ``--replications`` replications per point with the *same* seeds
   (common random numbers), so that two points differ only by the
   parameters and the search sees a smooth objective.
4. Minimises the loss: for every fact, its weight (targets file: 1 if
   required) x [10 x (distance outside the reported range, in half-ranges)^2
   + 0.5 x (distance from the range's centre)^2]. The first term makes being
   inside the range dominant; the second keeps the fit away from the edges,
   so that 20 replications with other seeds (whose mean moves by about a
   third of the 4-replication interval) stay inside. Stage 1 fits the
   post-11 Sep flow (one parameter, bounded 1-D search on the total by
   16 Sep); stage 2 the rest by Nelder-Mead on parameters scaled to [0, 1]
   (clipped to their ranges); stage 3 repeats stage 1.
5. Prints the fitted values and the calibration table at the best point. The
   values are then written by hand into the scenario with the comment
   "fitted by scripts/calibrate.py".

The search starts from the values in the scenario file, so a re-run after
writing the fit back starts at the optimum and should stay there.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

import numpy as np
from scipy.optimize import minimize, minimize_scalar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from model.engine.arrivals import rate_curve  # noqa: E402
from model.experiments.calibration import calibration_table, load_targets  # noqa: E402
from model.experiments.replications import run_replications  # noqa: E402
from model.scenario import apply_overrides, read_scenario_dict, scenario_from_dict  # noqa: E402

SCENARIO = ROOT / "params" / "kharkiv_2022.toml"
TARGETS = ROOT / "params" / "kharkiv_2022.targets.toml"

LOGA = "crossings.Logachevka"
WEST = "origins.Kupiansk west bank.departures"
IZIUM = "origins.Izium and Balakliia.departures"
EAST = "origins.Kupiansk east bank"
#: The first wave towards Logachevka at the scale the scenario was written with (cal §4.2).
FIRST_WAVE = {"Kupiansk west bank": 2300, "Izium and Balakliia": 1500, "Dvorichna and Velykyi Burluk": 1500}
#: East-bank people who leave before 10 Sep 18:00 (the wave of cal §4.2), kept fixed by the tail parameter.
EAST_WAVE_PEOPLE = 948.0
EAST_TAIL_FROM = "2022-09-11T12:00:00"


def _at(text: str, hours: float = 0.0) -> datetime:
    return datetime.fromisoformat(text) + timedelta(hours=hours)


@dataclass(frozen=True)
class Parameter:
    """A fitted quantity: its range and how it becomes dotted overrides."""

    name: str
    low: float
    high: float
    unit: str
    overrides: Callable[[float], dict]
    reason: str


PARAMETERS = [
    Parameter("logachevka_check_min", 15.0, 30.0, "min per car of 3",
              lambda x: {f"{LOGA}.car.service.per_vehicle_min": x / 4, f"{LOGA}.car.service.per_person_min": x / 4},
              "filtration-mode car check (cal §4.1: 20 min, 15-30), split 1:1 between vehicle and person parts"),
    Parameter("logachevka_surge_multiplier", 0.12, 0.30, "x",
              lambda x: {f"{LOGA}.regimes.0.service_multiplier": x},
              "surge-mode checks after the governor's visit (cal §4.1: 3-6 min of 20)"),
    Parameter("logachevka_surge_start_h", 0.0, 5.0, "h after 10 Sep 18:00",
              lambda x: {f"{LOGA}.regimes.0.starts": _at("2022-09-10T18:00:00", x)},
              "the governor's visit on the evening of 10 Sep (cal §1, §4.1 '~20:00')"),
    Parameter("car_patience_mean_h", 20.0, 96.0, "h",
              lambda x: {"behaviour.car.patience_h.mean": x},
              "how long a car waits before its people walk, drive on or give up (no report; waits of days were endured)"),
    Parameter("early_departures_h", 0.0, 18.0, "h earlier",
              lambda x: {f"{WEST}.0.at": _at("2022-09-07T12:00:00", -x), f"{WEST}.1.at": _at("2022-09-08T12:00:00", -x),
                         f"{IZIUM}.1.at": _at("2022-09-07T18:00:00", -x)},
              "how early the first wave left Kupiansk west bank and Izium/Balakliia as the front broke (from 6 Sep, cal §1)"),
    Parameter("logachevka_volume_scale", 0.67, 1.4, "x",
              lambda x: {f"origins.{o}.people": round(n * x) for o, n in FIRST_WAVE.items()},
              "people of the first wave towards Logachevka (Kupiansk west 2,300, Izium/Balakliia 1,500, villages 1,500), "
              "within cal §4.2's ranges"),
    Parameter("east_bank_tail_per_h", 3.0, 80.0, "curve units",
              lambda x: {f"{EAST}.departures.5.people_per_h": x, f"{EAST}.departures.6.people_per_h": x,
                         f"{EAST}.people": round(east_people_for(x))},
              "east-bank departures from 11 Sep 12:00 (the 10 Sep queue gone) to 16 Sep, against its 40/h peak; "
              "the wave before stays at its share of cal §4.2's 1,200 (NTV 13 Sep: the flow continues; VZGLYAD: >22,000 by ~14 Sep)"),
]


def east_people_for(tail_per_h: float) -> float:
    """East-bank ``people`` that keeps EAST_WAVE_PEOPLE before 10 Sep 18:00 when the tail is ``tail_per_h``."""
    raw = apply_overrides(read_scenario_dict(SCENARIO), {
        f"{EAST}.departures.5.people_per_h": tail_per_h, f"{EAST}.departures.6.people_per_h": tail_per_h})
    scenario = scenario_from_dict(raw, str(SCENARIO))
    origin = scenario.origin(EAST.split(".", 1)[1])
    curve = rate_curve(scenario, origin)
    split = scenario.minutes(_at(EAST_TAIL_FROM).replace(tzinfo=scenario.zone))
    return EAST_WAVE_PEOPLE * curve.integral() / curve.integral(-math.inf, split)


def current_values(raw: dict) -> np.ndarray:
    """The parameters' values in the scenario file, read back through the same dotted paths."""
    def get(path: str):
        node = raw
        for part in path.split("."):
            node = node[int(part)] if isinstance(node, list) and part.isdigit() else (
                next(x for x in node if x.get("name") == part) if isinstance(node, list) else node[part])
        return node

    loga = get(f"{LOGA}.car.service")
    start = get(f"{LOGA}.regimes.0.starts").replace(tzinfo=None)
    west1 = get(f"{WEST}.1.at").replace(tzinfo=None)
    return np.array([
        loga["per_vehicle_min"] + 3 * loga["per_person_min"],  # mean car holds 3 (cal §4.3)
        get(f"{LOGA}.regimes.0.service_multiplier"),
        (start - _at("2022-09-10T18:00:00")).total_seconds() / 3600,
        get("behaviour.car.patience_h.mean"),
        (_at("2022-09-08T12:00:00") - west1).total_seconds() / 3600,
        get(f"origins.{next(iter(FIRST_WAVE))}.people") / next(iter(FIRST_WAVE.values())),
        get(f"{EAST}.departures.5.people_per_h"),
    ], dtype=float)


def overrides_for(values: np.ndarray) -> dict:
    out: dict = {}
    for p, x in zip(PARAMETERS, values):
        out.update(p.overrides(float(x)))
    return out


def loss(table) -> float:
    """Sum over facts of weight x [10 x (outside the range)^2 + 0.5 x (off centre)^2], distances in half-ranges.

    Weights come from the targets file: 1 for a required fact, less for a
    fact the model is fitted towards without being expected to match it.
    """
    total = 0.0
    for t in table.itertuples():
        if t.weight == 0:
            continue
        if math.isnan(t.mean):
            total += 100.0 * t.weight
        elif math.isfinite(t.high):
            centre, half = (t.low + t.high) / 2, (t.high - t.low) / 2
            d = (t.mean - centre) / half
            total += t.weight * (10 * max(0.0, abs(d) - 1) ** 2 + 0.5 * d * d)
        else:  # one-sided "more than": only the shortfall counts, in tenths of the bound
            total += t.weight * 10 * (max(0.0, t.low - t.mean) / (0.1 * t.low)) ** 2
    return total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--replications", type=int, default=4, help="replications per point, same seeds everywhere (CRN)")
    ap.add_argument("--max-evals", type=int, default=150)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)

    raw = read_scenario_dict(SCENARIO)
    targets = load_targets(TARGETS)
    lo = np.array([p.low for p in PARAMETERS])
    hi = np.array([p.high for p in PARAMETERS])
    x0 = np.clip(current_values(raw), lo, hi)
    cache: dict[tuple, tuple[float, object]] = {}

    def evaluate(values: np.ndarray):
        key = tuple(np.round(values, 4))
        if key not in cache:
            scenario = scenario_from_dict(apply_overrides(raw, overrides_for(values)), str(SCENARIO))
            records = run_replications(scenario, range(args.replications), args.workers)
            table = calibration_table(scenario, records, targets)
            cache[key] = (loss(table), table)
            print(f"[{len(cache):3d}] loss {cache[key][0]:9.3f}  " + "  ".join(f"{p.name}={v:.4g}" for p, v in zip(PARAMETERS, values)),
                  flush=True)
        return cache[key]

    t0 = time.perf_counter()
    tail = [p.name for p in PARAMETERS].index("east_bank_tail_per_h")
    rest = [i for i in range(len(PARAMETERS)) if i != tail]

    def fit_tail(x: np.ndarray) -> np.ndarray:
        """Stage 1 and 3: the post-11 Sep flow, a 1-D search on the total by 16 Sep (it hardly moves the rest)."""
        def f(r: float) -> float:
            y = x.copy()
            y[tail] = r
            return loss(evaluate(y)[1].query("name == 'belgorod_by_16sep'"))
        r = minimize_scalar(f, bounds=(lo[tail], hi[tail]), method="bounded", options={"xatol": 0.5, "maxiter": 15}).x
        y = x.copy()
        y[tail] = r
        return y

    def fit_rest(x: np.ndarray) -> np.ndarray:
        """Stage 2: Nelder-Mead on the other parameters, scaled to [0, 1], against every required fact."""
        def f(u: np.ndarray) -> float:
            y = x.copy()
            y[rest] = lo[rest] + np.clip(u, 0, 1) * (hi[rest] - lo[rest])
            return evaluate(y)[0]
        u0 = (x[rest] - lo[rest]) / (hi[rest] - lo[rest])
        simplex = [u0] + [np.clip(u0 + np.eye(len(u0))[i] * (0.25 if u0[i] < 0.75 else -0.25), 0, 1) for i in range(len(u0))]
        res = minimize(f, u0, method="Nelder-Mead",
                       options={"maxfev": args.max_evals, "initial_simplex": np.array(simplex), "xatol": 0.01, "fatol": 0.01})
        y = x.copy()
        y[rest] = lo[rest] + np.clip(res.x, 0, 1) * (hi[rest] - lo[rest])
        return y

    best = fit_tail(fit_rest(fit_tail(x0)))
    best_loss, table = evaluate(best)
    print(f"\nbest loss {best_loss:.3f} after {len(cache)} points, {time.perf_counter() - t0:.0f} s "
          f"({args.replications} replications per point, seed {raw['seed']})\n")
    print("fitted parameters:")
    for p, v in zip(PARAMETERS, best):
        print(f"  {p.name:<30}{v:10.4g}  {p.unit:<22}[{p.low:g}, {p.high:g}]  {p.reason}")
    print("\nas overrides:")
    for key, value in overrides_for(best).items():
        print(f"  {key} = {value.isoformat(timespec='minutes') if isinstance(value, datetime) else round(value, 4)}")
    print("\ncalibration at the fit:")
    cols = ["name", "low", "high", "mean", "ci95_low", "ci95_high", "inside", "required"]
    print(table[cols].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
