"""Experiments on a scenario: variants, parameter sweeps and paired comparisons.

Every experiment here runs scenario *variants*: the base scenario with a few
fields changed by dotted key, exactly as ``--set`` changes them, validated by
the same schema. Each variant is run with the base scenario's seed and
replication count, so replication ``r`` of every variant sees the same
departures, party sizes and service draws (common random numbers). A
difference between two variants is then measured replication by replication
(a paired difference), which removes most of the noise both share.

Functions return DataFrames and never print or write files; the command line
(:mod:`model.cli`) and the pages (:mod:`model.report.study_pages`) do that.
Per-replication key figures keep time figures (``peak_queue_at``,
``surge_cleared_at``) in minutes from the scenario start, as
:func:`model.analysis.key_figures.replication_kpis` gives them; summaries turn them into
date-times and differences into hours.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..analysis import (
    KPI_UNITS,
    TIME_KPIS,
    ReplicationResult,
    summarise_grid,
    summarise_kpis,
    summarise_with_dates,
    to_datetimes,
)
from ..analysis.student_t import t_quantile
from ..scenario import Scenario, ScenarioError, apply_overrides, scenario_from_dict
from .replications import run_on, run_replications

__all__ = [
    "KEY_KPIS",
    "Axis",
    "Runner",
    "SweepResult",
    "CompareResult",
    "variant",
    "current_value",
    "parse_value",
    "parse_vary",
    "check_crossing",
    "replication_table",
    "summarise",
    "difference_summary",
    "sweep",
    "sweep_table",
    "compare",
    "compare_table",
    "cumulative_crossed",
]

#: The key figures that study tables show side by side (every figure is in the long tables).
KEY_KPIS: tuple[str, ...] = (
    "peak_queue_km",
    "peak_queue_at",
    "surge_cleared_at",
    "surge_person_wait_mean_h",
    "wait_mean_h",
    "wait_p90_h",
    "people_crossed",
    "people_gave_up",
    "people_waiting_at_end",
    "person_hours_waiting",
)

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_RANGE = re.compile(rf"^\s*({_NUMBER})\s*:\s*({_NUMBER})\s*:\s*({_NUMBER})\s*$")
_MAX_POINTS = 10_000


# --- variants ----------------------------------------------------------------------------------


def variant(scenario: Scenario, changes: dict[str, Any], option: str = "--set") -> Scenario:
    """``scenario`` with the fields at dotted keys replaced, validated again by the schema.

    ``option`` names the command-line option in error messages, so a bad key
    in ``--vary`` is reported as ``--vary``, not ``--set``.
    """
    raw = scenario.model_dump(mode="python", by_alias=True, exclude_none=True)
    try:
        raw = apply_overrides(raw, changes)
    except ScenarioError as err:
        raise ScenarioError(err.field.replace("--set", option, 1), err.value, err.allowed) from None
    return scenario_from_dict(raw, option)


def current_value(scenario: Scenario, key: str, option: str = "--set") -> Any:
    """The value at a dotted key of ``scenario`` (list items by index or name), defaults included."""
    node: Any = scenario.model_dump(mode="python", by_alias=True)
    for depth, part in enumerate(key.split(".")):
        here = ".".join(key.split(".")[: depth + 1])
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list):
            names = [item.get("name") for item in node if isinstance(item, dict)]
            if part in names:
                node = node[names.index(part)]
            elif part.lstrip("-").isdigit() and -len(node) <= int(part) < len(node):
                node = node[int(part)]
            else:
                raise ScenarioError(f"{option} {here}", part, f"must be an index below {len(node)} or one of {names}")
        else:
            raise ScenarioError(f"{option} {key}", part, f"no such field at {here} (not a field of the scenario schema)")
    return node


def parse_value(text: str) -> Any:
    """Read ``text`` as an override value, exactly as ``--set`` does (TOML, else a string)."""
    return apply_overrides({}, [f"value={text}"])["value"]


@dataclass(frozen=True)
class Axis:
    """One varied parameter: a dotted key and the values it takes, in order."""

    key: str
    values: tuple[Any, ...]


def parse_vary(text: str) -> Axis:
    """``key=a:b:step`` (inclusive, numbers) or ``key=v1,v2,...`` (values as ``--set`` reads them)."""
    key, sep, spec = text.partition("=")
    key, spec = key.strip(), spec.strip()
    if not sep or not key or not spec:
        raise ScenarioError("--vary", text, "use dotted.key=a:b:step or dotted.key=v1,v2,...")
    match = _RANGE.match(spec)
    if match:
        return Axis(key, _range_values(text, *match.groups()))
    values = tuple(parse_value(part) for part in _split_top_level(spec))
    if any(v == "" for v in values):
        raise ScenarioError("--vary", text, "empty value in the list; use dotted.key=v1,v2,...")
    return Axis(key, values)


def _range_values(text: str, a: str, b: str, step: str) -> tuple[Any, ...]:
    as_int = all(re.fullmatch(r"[-+]?\d+", s) for s in (a, b, step))
    lo, hi, d = (int(s) if as_int else float(s) for s in (a, b, step))
    if d <= 0 or hi < lo:
        raise ScenarioError("--vary", text, "a range a:b:step needs a <= b and step > 0")
    n = math.floor((hi - lo) / d + 1e-9) + 1
    if n > _MAX_POINTS:
        raise ScenarioError("--vary", text, f"gives {n} values; at most {_MAX_POINTS}")
    return tuple(lo + i * d if as_int else round(lo + i * d, 12) for i in range(n))


def _split_top_level(spec: str) -> list[str]:
    """Split at commas that are not inside brackets, braces or quotes (TOML arrays stay whole)."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(spec):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(spec[start:i].strip())
            start = i + 1
    parts.append(spec[start:].strip())
    return parts


def check_crossing(scenario: Scenario, name: str, allow_all: bool = True) -> str:
    """``name`` if it is a crossing of ``scenario`` (or ``all``), else a one-line ScenarioError."""
    names = [c.name for c in scenario.crossings] + (["all"] if allow_all else [])
    if name not in names:
        raise ScenarioError("--crossing", name, f"must be one of {names}")
    return name


# --- running -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Runner:
    """How replications are run: workers, and executor/scheduler where the engine offers them.

    ``executor`` and ``scheduler`` are passed to :func:`run_replications` only
    when set, so a runner works whichever options that function has.
    ``on_done`` is called once per finished replication (a progress bar).
    """

    workers: int = 1
    executor: str | None = None
    scheduler: str | None = None
    on_done: Callable[[ReplicationResult], None] | None = None
    session: Any = None  # an executor from open_executor, kept open across scenarios; None: one per call

    def records(self, scenario: Scenario, each: Callable[[ReplicationResult], None] | None = None) -> list[ReplicationResult]:
        """Every replication of ``scenario``, sorted by replication number; ``each`` sees each as it finishes."""
        def done(rec: ReplicationResult) -> None:
            if each:
                each(rec)
            if self.on_done:
                self.on_done(rec)

        if self.session is not None:
            return run_on(self.session, scenario, range(scenario.replications), done)
        extra = {k: v for k, v in (("executor", self.executor), ("scheduler", self.scheduler)) if v is not None}
        return run_replications(scenario, range(scenario.replications), workers=self.workers, on_done=done, **extra)

    def kpis(self, scenario: Scenario) -> pd.DataFrame:
        """Key figures per replication and crossing (time figures in minutes)."""
        return replication_table(scenario, self.records(scenario))


def replication_table(scenario: Scenario, records: list[ReplicationResult]) -> pd.DataFrame:
    """Key figures per replication and crossing, as the workers computed them with each replication."""
    return pd.concat([r.kpis for r in records], ignore_index=True)


summarise = summarise_with_dates  # key figures across replications, time figures as date-times


def difference_summary(base: pd.DataFrame, other: pd.DataFrame, paired: bool = True) -> pd.DataFrame:
    """Mean of ``other - base`` per crossing and figure, with its 95% interval.

    Paired: the interval of the per-replication differences (valid because
    replication ``r`` of both shares its random numbers). Unpaired: Welch's
    interval, as if the two had been run with independent seeds; it is given
    to show what common random numbers gain. Time figures differ in hours.
    Replications where either figure is missing are left out of that figure.
    """
    keys = ["crossing", "replication"]
    a = base.set_index(keys).sort_index()
    b = other.set_index(keys).reindex(a.index)
    kpis = list(KPI_UNITS)
    scale = pd.Series({k: (1 / 60.0 if k in TIME_KPIS else 1.0) for k in kpis})
    a, b = a[kpis].astype(float) * scale, b[kpis].astype(float) * scale
    units = {k: ("h" if k in TIME_KPIS else u) for k, u in KPI_UNITS.items()}
    if paired:
        out = summarise_kpis((b - a).reset_index())
        out["unit"] = out["kpi"].map(units)
        return out[["crossing", "kpi", "unit", "n", "mean", "ci95_low", "ci95_high"]]
    rows = []
    for crossing in a.index.get_level_values("crossing").unique():
        for kpi in kpis:
            x = a.xs(crossing)[kpi].dropna().to_numpy()
            y = b.xs(crossing)[kpi].dropna().to_numpy()
            rows.append({"crossing": crossing, "kpi": kpi, "unit": units[kpi], "n": min(len(x), len(y)),
                         **_welch(x, y)})
    return pd.DataFrame(rows)


def _welch(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Mean of y - x and Welch's 95% interval for two independent samples."""
    if len(x) < 2 or len(y) < 2:
        return {"mean": math.nan, "ci95_low": math.nan, "ci95_high": math.nan}
    vx, vy = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
    mean = float(y.mean() - x.mean())
    se = math.sqrt(vx + vy)
    if se == 0:
        return {"mean": mean, "ci95_low": mean, "ci95_high": mean}
    dof = (vx + vy) ** 2 / (vx**2 / (len(x) - 1) + vy**2 / (len(y) - 1))
    half = float(t_quantile(0.975, dof) * se)
    return {"mean": mean, "ci95_low": mean - half, "ci95_high": mean + half}


# --- sweeps ------------------------------------------------------------------------------------


@dataclass
class SweepResult:
    """A sweep: its points, every figure per point and replication, and their summaries."""

    scenario: Scenario
    axes: list[Axis]
    points: pd.DataFrame  # point, <key1>[, <key2>]
    by_replication: pd.DataFrame  # point, replication, crossing, every figure (time figures in minutes)
    kpis: pd.DataFrame  # point, crossing, kpi, unit, n, mean, sd, ci95_low, ci95_high, p10, p90


def sweep(scenario: Scenario, axes: list[Axis], runner: Runner) -> SweepResult:
    """Run every combination of the axes' values with replications and common random numbers.

    All variants are built (and so validated) before any replication runs, so
    a bad key or value fails at once.
    """
    if not 1 <= len(axes) <= 2:
        raise ScenarioError("--vary", len(axes), "give one or two --vary")
    if len({a.key for a in axes}) < len(axes):
        raise ScenarioError("--vary", axes[0].key, "vary two different keys")
    combos = list(itertools.product(*(a.values for a in axes)))
    variants = [variant(scenario, {a.key: v for a, v in zip(axes, combo)}, "--vary") for combo in combos]
    points = pd.DataFrame([{"point": i, **{a.key: v for a, v in zip(axes, combo)}} for i, combo in enumerate(combos)])
    per_rep, summaries = [], []
    for i, v in enumerate(variants):
        table = runner.kpis(v)
        per_rep.append(table.assign(point=i))
        summaries.append(summarise(v, table).assign(point=i))
    by_rep = pd.concat(per_rep, ignore_index=True)
    kpis = pd.concat(summaries, ignore_index=True)
    return SweepResult(scenario, axes, points, _first(by_rep, "point"), _first(kpis, "point"))


def _first(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """``frame`` with ``column`` moved to the front."""
    return frame[[column, *[c for c in frame.columns if c != column]]]


def sweep_table(result: SweepResult, crossing: str = "all", kpis: tuple[str, ...] = KEY_KPIS) -> pd.DataFrame:
    """One row per point: the varied values and, for one crossing, each figure's mean and 95% interval."""
    check_crossing(result.scenario, crossing)
    k = result.kpis[result.kpis["crossing"] == crossing].set_index(["point", "kpi"])
    rows = []
    for point in result.points.to_dict("records"):  # records keep each column's type (booths stay whole)
        row = {**point, "replications": result.scenario.replications}
        for kpi in kpis:
            s = k.loc[(point["point"], kpi)]
            row[kpi], row[f"{kpi}_ci95_low"], row[f"{kpi}_ci95_high"] = s["mean"], s["ci95_low"], s["ci95_high"]
            if kpi in TIME_KPIS:
                row[f"{kpi}_n"] = s["n"]  # replications in which it happened at all
        rows.append(row)
    out = pd.DataFrame(rows)
    for kpi in set(kpis) & set(TIME_KPIS):
        for col in (kpi, f"{kpi}_ci95_low", f"{kpi}_ci95_high"):
            out[col] = pd.to_datetime(out[col], utc=True).dt.tz_convert(result.scenario.timezone)
    return out.assign(crossing=crossing)


# --- comparisons -------------------------------------------------------------------------------


@dataclass
class CompareResult:
    """Several scenarios run on the same random numbers, and their differences to the first."""

    scenarios: dict[str, Scenario]
    by_replication: pd.DataFrame  # scenario, replication, crossing, every figure
    kpis: pd.DataFrame  # scenario, crossing, kpi, unit, n, mean, ci95_low, ci95_high, diff..., diff_unpaired...
    queues: pd.DataFrame  # scenario, crossing, time, queue_km_mean/_p05/_p95, ... (time as date-time)
    crossed: pd.DataFrame  # scenario, crossing, time, people_crossed (mean cumulative)

    @property
    def labels(self) -> list[str]:
        return list(self.scenarios)


def compare(scenarios: dict[str, Scenario], runner: Runner) -> CompareResult:
    """Run each scenario with the first one's seed and replications; differences are to the first.

    Forcing one seed on all is what makes the comparison fair: every scenario
    sees the same surge, so differences come from what differs, not from luck.
    """
    if len(scenarios) < 2:
        raise ScenarioError("compare", len(scenarios), "give at least two scenarios")
    first = next(iter(scenarios.values()))
    same = {"seed": first.seed, "replications": first.replications}
    runs = {label: variant(s, same) for label, s in scenarios.items()}
    per_rep, queues, crossed, kpis = {}, [], [], []
    for label, s in runs.items():
        records = runner.records(s)
        per_rep[label] = replication_table(s, records)
        parties = pd.concat([r.parties for r in records], ignore_index=True)
        grid = summarise_grid(pd.concat([r.grid for r in records], ignore_index=True))
        grid["time"] = to_datetimes(s, grid["time"])
        queues.append(grid.assign(scenario=label))
        crossed.append(cumulative_crossed(s, parties).assign(scenario=label))
    base = per_rep[next(iter(runs))]
    for label, s in runs.items():
        summary = summarise(s, per_rep[label])[["crossing", "kpi", "unit", "n", "mean", "ci95_low", "ci95_high"]]
        keys = ["crossing", "kpi"]
        paired = difference_summary(base, per_rep[label]).set_index(keys)
        unpaired = difference_summary(base, per_rep[label], paired=False).set_index(keys)
        summary = summary.join(paired[["unit", "mean", "ci95_low", "ci95_high"]].add_prefix("diff_"), on=keys)
        summary = summary.join(unpaired[["ci95_low", "ci95_high"]].add_prefix("diff_unpaired_"), on=keys)
        kpis.append(summary.assign(scenario=label))
    by_rep = pd.concat([t.assign(scenario=label) for label, t in per_rep.items()], ignore_index=True)
    tables = [by_rep, *(pd.concat(f, ignore_index=True) for f in (kpis, queues, crossed))]
    return CompareResult(runs, *(_first(t, "scenario") for t in tables))


def compare_table(result: CompareResult, kpis: tuple[str, ...] = KEY_KPIS) -> pd.DataFrame:
    """Key figures side by side: one row per crossing and figure, columns per scenario.

    For each scenario: mean and 95% interval; for each after the first: the
    difference to the first and the 95% interval of the paired difference.
    """
    k = result.kpis.set_index(["scenario", "crossing", "kpi"])
    crossings = list(dict.fromkeys(result.kpis["crossing"]))
    rows = pd.MultiIndex.from_product([crossings, list(kpis)], names=["crossing", "kpi"])
    out = rows.to_frame(index=False)
    out["unit"] = k.loc[result.labels[0]].reindex(rows)["unit"].to_numpy()
    for n, label in enumerate(result.labels):
        s = k.loc[label].reindex(rows)
        for col in ["mean", "ci95_low", "ci95_high"] + (["diff_mean", "diff_ci95_low", "diff_ci95_high"] if n else []):
            out[f"{label}:{col.replace('diff_mean', 'diff')}"] = s[col].to_numpy()
    return out


def cumulative_crossed(scenario: Scenario, parties: pd.DataFrame) -> pd.DataFrame:
    """People crossed by each grid time, per crossing and in total, averaged over replications.

    ``parties`` is the minute-based party log of all replications; times come
    back as date-times in the scenario's zone.
    """
    grid = np.arange(0.0, scenario.horizon_min + 1e-9, scenario.grid_min)
    reps = max(parties["replication"].nunique(), 1)
    crossed = parties[parties["outcome"] == "crossed"]
    frames = []
    groups = [(c.name, crossed[crossed["crossing"] == c.name]) for c in scenario.crossings] + [("all", crossed)]
    for name, g in groups:
        g = g.sort_values("crossed_at", kind="stable")
        total = np.concatenate([[0.0], np.cumsum(g["people"].to_numpy(dtype=float))])
        idx = np.searchsorted(g["crossed_at"].to_numpy(), grid, side="right")
        frames.append(pd.DataFrame({"crossing": name, "time": grid, "people_crossed": total[idx] / reps}))
    out = pd.concat(frames, ignore_index=True)
    out["time"] = to_datetimes(scenario, out["time"])
    return out
