"""Verification and validation: does the engine compute what it claims, and does a scenario match reality?

The built-in suite (``python -m model validate``) runs four kinds of check
and returns one row per check:

* **M/M/c** cases built in code (constant Poisson departures, one person per
  car, exponential service, no travel, no behaviour): simulated mean wait,
  probability of waiting and mean queue against Erlang C.
* **Fluid**: a queue already waiting at the start served by fixed-time booths
  whose number changes on a schedule is deterministic, so queue vehicles and
  km must equal the fluid solution exactly at every service epoch.
* **Little's law and conservation** on a real scenario: queue series against
  party log, and every person in exactly one state at every instant.
* **Calibration**: a scenario's *targets file* (reported facts, each with a
  kind of statistic, a place, date-times and a reported range) against the
  mean over replications, with a 95% interval.

Targets are data, not code: ``<scenario>.targets.toml`` beside a scenario
file holds them, and :func:`target_value` knows only generic kinds, so any
scenario can be validated against its own facts.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from scipy import stats

from .experiment import run_replications
from .metrics import crossing_series, step_total, t_half_width, value_at
from .records import RunRecords
from .scenario import Scenario, ScenarioError, load_scenario, scenario_from_dict
from .theory import fluid_queue, littles_law_by_crossing, mmc, step_area

__all__ = [
    "Target",
    "Targets",
    "load_targets",
    "targets_path_for",
    "target_value",
    "calibration_table",
    "CheckRow",
    "mmc_scenario",
    "MMcCase",
    "mmc_cases",
    "check_mmc",
    "fluid_scenario",
    "check_fluid",
    "check_little",
    "check_conservation",
    "party_states",
    "calibration_rows",
    "Suite",
    "run_suite",
    "validation_html",
    "write_validation",
]

# --- targets: reported facts as data -----------------------------------------------------------

TargetKind = Literal[
    "queue_km_at",
    "queue_vehicles_at",
    "queue_vehicles_mean_between",
    "peak_queue_km_between",
    "wait_of_arrivals_between",
    "people_crossed_on_day",
    "people_crossed_between",
    "people_crossed_by",
]

_UNITS = {
    "queue_km_at": "km",
    "queue_vehicles_at": "vehicles",
    "queue_vehicles_mean_between": "vehicles",
    "peak_queue_km_between": "km",
    "wait_of_arrivals_between": "h",
    "people_crossed_on_day": "people",
    "people_crossed_between": "people",
    "people_crossed_by": "people",
}


class Target(BaseModel):
    """One reported fact and the statistic of a run that measures it.

    ``crossing`` is a crossing name or ``all``; ``channel`` (car, bus, foot)
    narrows a queue to one channel. Times are local to the scenario's zone.
    The fact is matched when the mean over replications lies in [low, high];
    ``required = false`` shows a fact without failing on it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    fact: str
    source: str
    reported: str = Field(description="the reported value or range as words, for the table")
    kind: TargetKind
    crossing: str = "all"
    channel: Literal["car", "bus", "foot"] | None = None
    mode: Literal["car", "bus", "foot"] | None = Field(None, description="wait kinds: mode of travel")
    statistic: Literal["mean", "median", "p90", "max"] = "mean"
    at: datetime | None = None
    between: tuple[datetime, datetime] | None = None
    day: date | None = None
    low: float = -math.inf
    high: float = math.inf
    required: bool = True
    weight: float | None = Field(None, ge=0, description="weight in a calibration loss; default 1 if required, else 0")
    why: str = Field("", description="why this statistic measures the fact")

    @property
    def fit_weight(self) -> float:
        return self.weight if self.weight is not None else float(self.required)

    @model_validator(mode="after")
    def _times(self):
        needs = {
            "queue_km_at": "at", "queue_vehicles_at": "at", "people_crossed_by": "at",
            "queue_vehicles_mean_between": "between", "peak_queue_km_between": "between",
            "wait_of_arrivals_between": "between", "people_crossed_between": "between",
            "people_crossed_on_day": "day",
        }[self.kind]
        if getattr(self, needs) is None:
            raise ValueError(f"kind {self.kind!r} needs {needs!r}")
        if self.between is not None and self.between[1] <= self.between[0]:
            raise ValueError("between = [from, to] needs to > from")
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must be >= low ({self.low})")
        return self


class Targets(BaseModel):
    """A targets file: the scenario it belongs to, replications to run, and the facts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scenario: str | None = Field(None, description="scenario file, relative to the targets file")
    replications: int = Field(20, ge=2)
    targets: list[Target] = Field(min_length=1)


def targets_path_for(scenario_path: str | Path) -> Path:
    """``params/x.toml`` -> ``params/x.targets.toml``: where a scenario's facts live."""
    path = Path(scenario_path)
    return path.with_name(path.stem + ".targets.toml")


def load_targets(path: str | Path) -> Targets:
    """Read a targets file, or raise a one-line ScenarioError naming file and field."""
    path = Path(path)
    if not path.is_file():
        raise ScenarioError("", path.name, "targets file not found", str(path))
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        return Targets.model_validate(raw)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError("", "", f"TOML syntax error: {err}", str(path)) from None
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ScenarioError(loc, first.get("input", ""), first["msg"].removeprefix("Value error, "), str(path)) from None


def _local_minutes(scenario: Scenario, when: datetime | date) -> float:
    if not isinstance(when, datetime):
        when = datetime.combine(when, time())
    if when.tzinfo is None:
        when = when.replace(tzinfo=scenario.zone)
    return scenario.minutes(when)


def _queue_step(queues: pd.DataFrame, crossing: str, channel: str | None, column: str):
    q = queues if crossing == "all" else queues[queues["crossing"] == crossing]
    if channel is not None:
        q = q[q["channel"] == channel]
    if q.empty:
        raise ScenarioError("target crossing/channel", f"{crossing}/{channel}", "has no queue in this scenario")
    frames = [crossing_series(g, columns=(column,)) for _, g in q.groupby("crossing", sort=True)]
    t, v = step_total([(f["time"].to_numpy(), f[column].to_numpy()) for f in frames])
    return t, v


def target_value(target: Target, scenario: Scenario, parties: pd.DataFrame, queues: pd.DataFrame) -> float:
    """The statistic that measures ``target`` in one replication's minute-based tables."""
    k = target.kind
    where = parties if target.crossing == "all" else parties[parties["crossing"] == target.crossing]
    if k in ("queue_km_at", "queue_vehicles_at"):
        column = "queue_km" if k == "queue_km_at" else "vehicles_waiting"
        t, v = _queue_step(queues, target.crossing, target.channel, column)
        return float(value_at(t, v, _local_minutes(scenario, target.at)))
    if k in ("queue_vehicles_mean_between", "peak_queue_km_between"):
        a, b = (_local_minutes(scenario, x) for x in target.between)
        column = "vehicles_waiting" if k == "queue_vehicles_mean_between" else "queue_km"
        t, v = _queue_step(queues, target.crossing, target.channel, column)
        if k == "queue_vehicles_mean_between":
            return step_area(t, v, a, b) / (b - a)
        inside = v[(t >= a) & (t < b)]
        return float(max(value_at(t, v, a), inside.max() if len(inside) else 0.0))
    if k == "wait_of_arrivals_between":
        a, b = (_local_minutes(scenario, x) for x in target.between)
        sel = where[(where["arrived_at"] >= a) & (where["arrived_at"] < b) & (where["outcome"] == "crossed") & ~where["walked"]]
        if target.mode is not None:
            sel = sel[sel["mode"] == target.mode]
        w = sel["wait_h"].to_numpy(dtype=float)
        if not len(w):
            return math.nan
        return float({"mean": np.mean, "median": np.median, "max": np.max,
                      "p90": lambda x: np.quantile(x, 0.9)}[target.statistic](w))
    if k == "people_crossed_on_day":
        a = _local_minutes(scenario, target.day)
        b = _local_minutes(scenario, target.day + timedelta(days=1))
    elif k == "people_crossed_between":
        a, b = (_local_minutes(scenario, x) for x in target.between)
    else:
        a, b = -math.inf, _local_minutes(scenario, target.at)
    crossed = where["crossed_at"].to_numpy(dtype=float)
    return float(where["people"].to_numpy()[(crossed >= a) & (crossed < b)].sum())


def _mean_ci(x: np.ndarray) -> tuple[float, float, float]:
    x = x[~np.isnan(x)]
    if len(x) == 0:
        return math.nan, math.nan, math.nan
    mean = float(x.mean())
    if len(x) < 2:
        return mean, math.nan, math.nan
    half = t_half_width(x)
    return mean, mean - half, mean + half


def calibration_table(scenario: Scenario, records: list[RunRecords], targets: Targets) -> pd.DataFrame:
    """One row per fact: reported range, simulated mean and 95% interval, inside or not."""
    rows = []
    for tg in targets.targets:
        values = np.array([target_value(tg, scenario, r.parties, r.queues) for r in records], dtype=float)
        mean, lo, hi = _mean_ci(values)
        rows.append({
            "name": tg.name, "fact": tg.fact, "source": tg.source, "reported": tg.reported,
            "kind": tg.kind, "crossing": tg.crossing, "unit": _UNITS[tg.kind],
            "low": tg.low, "high": tg.high, "mean": mean, "ci95_low": lo, "ci95_high": hi,
            "replications": len(values), "inside": bool(tg.low <= mean <= tg.high),
            "required": tg.required, "weight": tg.fit_weight, "why": tg.why,
        })
    return pd.DataFrame(rows)


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


def _mmc_measures(case: MMcCase, rec: RunRecords) -> tuple[float, float, float]:
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
    for k, (what, expected) in enumerate((("mean wait (min)", theory.wq), ("P(wait)", theory.p_wait), ("mean queue (vehicles)", theory.lq))):
        mean, lo, hi = _mean_ci(measures[:, k])
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


def check_little(scenario: Scenario, records: list[RunRecords]) -> list[CheckRow]:
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
        mean, lo, hi = _mean_ci(L)
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


def check_conservation(scenario: Scenario, records: list[RunRecords], step_min: float = 60.0) -> list[CheckRow]:
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
        t, v = _queue_step(r.queues, "all", None, "people_waiting")
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


def calibration_rows(table: pd.DataFrame) -> list[CheckRow]:
    """Check rows for the facts of a calibration table; a fact shown but not required never fails."""
    rows = []
    for t in table.itertuples():
        rng = f"[{t.low:g}, {t.high:g}] {t.unit}"
        verdict = ("pass" if t.inside else "FAIL") if t.required else ("shown: inside" if t.inside else "shown: outside")
        rows.append(CheckRow("calibration", f"{t.name}: {t.fact}", (max(t.low, 0) + t.high) / 2 if math.isfinite(t.high) else t.low,
                             t.mean, t.ci95_low, t.ci95_high, f"mean in {rng}",
                             bool(t.inside) or not t.required, "" if t.required else "shown, not required", verdict))
    return rows


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
        return pd.DataFrame([asdict(r) for r in self.rows])

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
    rows: list[CheckRow] = []
    for case in mmc_cases(quick):
        rows += check_mmc(case, workers)
    fluid_rows, curve = check_fluid()
    rows += fluid_rows
    reps = 2 if quick else (targets.replications if targets else scenario.replications)
    records = run_replications(scenario, range(reps), workers)
    rows += check_little(scenario, records)
    rows += check_conservation(scenario, records)
    table = None
    if targets is not None and not quick:
        table = calibration_table(scenario, records, targets)
        rows += calibration_rows(table)
    info = {"scenario_file": str(scenario_path), "targets_file": str(tpath) if targets else "",
            "replications": reps, "quick": quick}
    return Suite(rows, table, curve, _time.perf_counter() - t0, scenario.name, info)


# --- writing ------------------------------------------------------------------------------------


def _fmt(x) -> str:
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, float):
        if math.isnan(x):
            return ""
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return f"{x:.4g}"
    return str(x)


_CELL_CLASS = {"pass": "pass", "FAIL": "fail", "shown: outside": "shown", "shown: inside": "pass"}


def _html_table(frame: pd.DataFrame) -> str:
    """A plain HTML table; a ``verdict`` column is coloured (pass green, FAIL red, shown-but-outside amber)."""
    import html

    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for col, value in zip(frame.columns, row):
            text = html.escape(_fmt(value))
            cls = _CELL_CLASS.get(text, "") if col == "verdict" else ""
            cells.append(f"<td class='{cls}'>{text}</td>" if cls else f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _figures(suite: Suite) -> list:
    """An M/M/c chart (simulated against Erlang C, log scale), the fluid case, and the facts against their ranges."""
    import plotly.graph_objects as go

    figs = []
    t = suite.table
    m = t[(t["group"] == "M/M/c") & t["name"].str.endswith("mean wait (min)")]
    if len(m):
        fig = go.Figure()
        top = float(max(m["expected"].max(), m["ci95_high"].max())) * 1.2
        fig.add_scatter(x=[0.05, top], y=[0.05, top], mode="lines", name="simulated = Erlang C", line={"dash": "dot"})
        fig.add_scatter(x=m["expected"], y=m["simulated"], mode="markers", name="simulated mean, 95% interval",
                        text=m["name"].str.replace(": mean wait (min)", ""),
                        error_y={"type": "data", "symmetric": False, "array": m["ci95_high"] - m["simulated"],
                                 "arrayminus": m["simulated"] - m["ci95_low"]})
        fig.update_layout(title="M/M/c: mean wait, simulated against Erlang C (minutes)",
                          xaxis={"title": "Erlang C", "type": "log"}, yaxis={"title": "simulated", "type": "log"})
        figs.append(fig)
    c = suite.fluid_curve
    fig = go.Figure()
    fig.add_scatter(x=c["time_min"] / 60, y=c["fluid_vehicles"], mode="lines", name="fluid solution",
                    line={"width": 8, "color": "rgba(99,110,250,0.35)"})
    fig.add_scatter(x=c["time_min"] / 60, y=c["simulated_vehicles"], mode="markers", name="simulated, before each epoch",
                    marker={"size": 3, "color": "black"})
    fig.update_layout(title="Deterministic surge: queue (vehicles) against the fluid solution",
                      xaxis={"title": "hours from start"}, yaxis={"title": "vehicles waiting"})
    figs.append(fig)
    cal = suite.calibration
    if cal is not None and len(cal):
        finite = cal[np.isfinite(cal["high"])]
        lo, hi = finite["low"].clip(lower=0), finite["high"]
        scale = (hi - lo).where(hi > lo, 1.0)
        fig = go.Figure()
        fig.add_bar(y=finite["name"], x=[1.0] * len(finite), base=[0.0] * len(finite), orientation="h",
                    name="reported range", opacity=0.3)
        fig.add_scatter(y=finite["name"], x=(finite["mean"] - lo) / scale, mode="markers", name="simulated mean, 95% interval",
                        error_x={"type": "data", "symmetric": False, "array": (finite["ci95_high"] - finite["mean"]) / scale,
                                 "arrayminus": (finite["mean"] - finite["ci95_low"]) / scale})
        fig.update_layout(title="Facts: simulated against the reported range (0 = low end, 1 = high end)",
                          xaxis={"title": "position in the reported range"}, height=120 + 40 * len(finite))
        figs.append(fig)
    return figs


def validation_html(suite: Suite) -> str:
    """A self-contained page: verdict, every check, the calibration table and charts (plotly.js embedded once)."""
    import html

    from plotly.offline import get_plotlyjs

    failed = [r for r in suite.rows if not r.passed]
    verdict = "all checks passed" if not failed else f"{len(failed)} check(s) FAILED"
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>validation: {html.escape(suite.scenario)}</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;font-size:13px}"
        "td,th{border:1px solid #ccc;padding:3px 6px;text-align:left}.fail{background:#f8d0d0}.pass{background:#d8f0d8}"
        ".shown{background:#fbe8c0}</style>",
        f"<script type='text/javascript'>{get_plotlyjs()}</script></head><body>",
        f"<h1>Verification and validation: {html.escape(suite.scenario)}</h1>",
        f"<p><b>{verdict}</b> ({len(suite.rows)} checks, {suite.seconds:.0f} s). "
        f"Scenario file {html.escape(suite.info.get('scenario_file', ''))}, "
        f"{suite.info.get('replications')} replication(s){', quick mode' if suite.info.get('quick') else ''}.</p>",
    ]
    if suite.calibration is not None:
        cal = suite.calibration.assign(verdict=[r.verdict for r in suite.rows if r.group == "calibration"])
        cal = cal[["fact", "source", "reported", "crossing", "unit", "mean", "ci95_low", "ci95_high", "verdict", "why"]]
        parts += ["<h2>Reported facts against the simulation</h2>",
                  "<p>mean and 95% interval over the replications; a fact passes when the mean lies in the reported range. "
                  "'shown' facts are reported for honesty but not required (see why).</p>", _html_table(cal)]
    parts += ["<h2>Every check</h2>", _html_table(suite.table.drop(columns="passed"))]
    for fig in _figures(suite):
        parts.append(fig.to_html(full_html=False, include_plotlyjs=False))
    parts.append("</body></html>")
    return "\n".join(parts)


def write_validation(suite: Suite, out: str | Path) -> Path:
    """Write ``validation.csv``, ``calibration.csv`` (if any) and ``validation.html`` into a new run folder."""
    from .outputs import RunFolder, write_table

    run = RunFolder(out, f"{suite.scenario}-validation")
    with run as folder:
        write_table(suite.table, folder / "validation.csv")
        if suite.calibration is not None:
            write_table(suite.calibration, folder / "calibration.csv")
        (folder / "validation.html").write_text(validation_html(suite), encoding="utf-8")
    return run.path
