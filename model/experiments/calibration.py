"""Calibration: a scenario's reported facts (its targets file) against the simulation.

A *targets file* (``<scenario>.targets.toml`` beside a scenario file) holds
reported facts, each with a kind of statistic, a place, date-times and a
reported range. Targets are data, not code: :func:`target_value` knows only
generic kinds, so any scenario can be validated against its own facts. The
calibration table gives the mean over replications with a 95% interval.
"""

from __future__ import annotations

import math
import tomllib
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..analysis import (
    ReplicationResult,
    mean_ci,
    queue_step,
    step_area,
    value_at,
)
from ..scenario import Scenario, ScenarioError
from .checks import CheckRow

__all__ = ["Target", "Targets", "targets_path_for", "load_targets", "target_value", "calibration_table", "calibration_rows"]

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


def target_value(target: Target, scenario: Scenario, parties: pd.DataFrame, queues: pd.DataFrame) -> float:
    """The statistic that measures ``target`` in one replication's minute-based tables."""
    k = target.kind
    where = parties if target.crossing == "all" else parties[parties["crossing"] == target.crossing]
    if k in ("queue_km_at", "queue_vehicles_at"):
        column = "queue_km" if k == "queue_km_at" else "vehicles_waiting"
        t, v = queue_step(queues, target.crossing, target.channel, column)
        return float(value_at(t, v, _local_minutes(scenario, target.at)))
    if k in ("queue_vehicles_mean_between", "peak_queue_km_between"):
        a, b = (_local_minutes(scenario, x) for x in target.between)
        column = "vehicles_waiting" if k == "queue_vehicles_mean_between" else "queue_km"
        t, v = queue_step(queues, target.crossing, target.channel, column)
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


def calibration_table(scenario: Scenario, records: list[ReplicationResult], targets: Targets) -> pd.DataFrame:
    """One row per fact: reported range, simulated mean and 95% interval, inside or not."""
    rows = []
    for tg in targets.targets:
        values = np.array([target_value(tg, scenario, r.parties, r.queues) for r in records], dtype=float)
        mean, lo, hi = mean_ci(values)
        rows.append({
            "name": tg.name, "fact": tg.fact, "source": tg.source, "reported": tg.reported,
            "kind": tg.kind, "crossing": tg.crossing, "unit": _UNITS[tg.kind],
            "low": tg.low, "high": tg.high, "mean": mean, "ci95_low": lo, "ci95_high": hi,
            "replications": len(values), "inside": bool(tg.low <= mean <= tg.high),
            "required": tg.required, "weight": tg.fit_weight, "why": tg.why,
        })
    return pd.DataFrame(rows)


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
