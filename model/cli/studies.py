"""The experiment commands: ``sweep``, ``compare``, ``sensitivity`` and ``capacity``.

Each resolves its scenarios, hands a runner to the study in the experiments
layer (:mod:`model.experiments`: studies, sensitivity, capacity), writes the
study's run folder with its page (:mod:`model.report`) and prints its table.
Experiments need a fixed ``--replications N``: the same replications for
every variant is what makes their differences paired.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import pandas as pd

from ..analysis import KPI_UNITS
from ..experiments import (
    Runner,
    booth_variant,
    check_crossing,
    compare,
    compare_table,
    default_workers,
    find_booths,
    open_executor,
    parse_parameters,
    parse_vary,
    question,
    sample_size,
    sensitivity,
    sweep,
    sweep_table,
)
from ..experiments.studies import current_value
from ..report import capacity_page, compare_page, sensitivity_page, sweep_page, write_study
from ..scenario import Scenario, ScenarioError, load_scenario
from .options import UsageError, _positive_int, add_scenario_options, progress, scenario_from_args
from .run import destination_checked, written


def _study_scenario(args, path: str | None = None) -> Scenario:
    """The resolved scenario of an experiment command; ``--replications auto`` is for ``run`` only."""
    if args.replications == "auto":
        raise UsageError("--replications auto is for the run command; experiments need a fixed --replications N")
    return scenario_from_args(args, path)


def _run_study(args, kind: str, scenarios: dict[str, Scenario], total: int | None, work: Callable[[Runner], tuple]) -> tuple[Path, object]:
    """Run ``work`` with a progress bar and the run options of ``args``; write its run folder.

    ``work`` returns (result, tables, pages, manifest info) and may add
    scenarios it resolved (the capacity answer) to ``scenarios``. With
    ``total`` None the bar grows by one scenario's replications whenever it
    fills (the capacity search does not know its length). Returns the folder and the result.
    """
    first = next(iter(scenarios.values()))
    destination_checked(args.out, first.name, kind)  # before any simulation
    started, t0 = datetime.now(timezone.utc).isoformat(), time.perf_counter()
    reps = first.replications
    bar = progress(total or reps, args.quiet, kind)

    def tick(_) -> None:
        bar.update()
        if total is None and bar.n >= bar.total:
            bar.total += reps
            bar.refresh()

    executor = getattr(args, "executor", None)
    workers = args.workers or default_workers()
    try:
        with open_executor(executor or "process", workers, getattr(args, "scheduler", None)) as session:
            runner = Runner(workers=workers, executor=executor, scheduler=getattr(args, "scheduler", None),
                            on_done=tick if bar else None, session=session)
            result, tables, pages, info = work(runner)
    finally:
        if bar:
            bar.close()
    info = {"started_at": started, "seconds": round(time.perf_counter() - t0, 1), "overrides": args.overrides,
            "workers": runner.workers, "executor": executor, "scheduler": getattr(args, "scheduler", None), **info}
    return written(lambda: write_study(args.out, kind, scenarios, tables, pages, info), args.out), result


def _show(value) -> str:
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def _print_rows(frame: pd.DataFrame) -> None:
    widths = {c: max(len(str(c)), *(len(_show(v)) for v in frame[c])) for c in frame.columns}
    print("  ".join(f"{c:>{widths[c]}}" for c in frame.columns))
    for _, row in frame.iterrows():
        print("  ".join(f"{_show(row[c]):>{widths[c]}}" for c in frame.columns))


def add_sweep_options(p: argparse.ArgumentParser) -> None:
    add_scenario_options(p)
    p.add_argument("--vary", action="append", required=True, metavar="KEY=A:B:STEP|KEY=V1,V2",
                   help="parameter to vary (dotted key as in --set): an inclusive range or a list; give one or two")
    p.add_argument("--kpi", default="peak_queue_km", choices=sorted(KPI_UNITS), metavar="KPI",
                   help="key figure charted in sweep.html (default peak_queue_km)")
    p.add_argument("--crossing", help="crossing for sweep.csv and the chart (default: the one the first --vary names, else all)")


def cmd_sweep(args) -> int:
    scenario = _study_scenario(args)
    if len(args.vary) > 2:
        raise UsageError(f"--vary given {len(args.vary)} times; a sweep varies one or two parameters")
    axes = [parse_vary(text) for text in args.vary]
    named = [c.name for c in scenario.crossings if f".{c.name}." in f".{axes[0].key}."]
    crossing = check_crossing(scenario, args.crossing or (named[0] if named else "all"))
    points = math.prod(len(a.values) for a in axes)

    def work(runner):
        result = sweep(scenario, axes, runner)
        table = sweep_table(result, crossing)
        tables = {"sweep.csv": table, "sweep_kpis.csv": result.kpis, "sweep_by_replication.csv": result.by_replication}
        info = {"vary": args.vary, "kpi": args.kpi, "crossing": crossing}
        return table, tables, {"sweep.html": sweep_page(result, args.kpi, crossing)}, info

    folder, table = _run_study(args, "sweep", {"base": scenario}, points * scenario.replications, work)
    cols = [a.key for a in axes] + [args.kpi, f"{args.kpi}_ci95_low", f"{args.kpi}_ci95_high"]
    print(f"{scenario.name}: sweep of {points} points x {scenario.replications} replications, {crossing}")
    _print_rows(table[cols])
    print(folder)
    return 0


COMPARE_SEMANTICS = (
    "--set, --seed and --replications apply to every scenario compared: use them for what the comparison "
    "should share (replications, seed, a smaller surge). Every scenario runs on the first one's seed and "
    "replications, so replication r of each sees the same surge. A --set on a field where the scenarios "
    "differ makes them equal there, so that difference is no longer compared: a warning on stderr says so, "
    "and another when the scenarios are identical after the overrides (every difference is then 0). To "
    "change one scenario only, write a variant file that starts with extends = \"other.toml\"."
)


def add_compare_options(p: argparse.ArgumentParser) -> None:
    p.epilog = COMPARE_SEMANTICS
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="two or more scenario TOML files; differences are to the first")
    add_scenario_options(p, positional=False)


#: Fields that name or describe a scenario and change nothing it simulates.
_LABEL_FIELDS = ("name", "title", "description")
#: Fields compare sets to the first scenario's on every scenario, whatever the files or overrides say.
_SHARED_FIELDS = ("seed", "replications")
_ABSENT = object()


def _short(value, width: int = 60) -> str:
    text = "absent" if value is _ABSENT else json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 3] + "..."


def _value_at(scenario: Scenario, key: str):
    try:
        return current_value(scenario, key)
    except ScenarioError:
        return _ABSENT


def _compare_warnings(args, labels: list[str], scenarios: dict[str, Scenario]) -> list[str]:
    """What the overrides do to the comparison: one line per override that erases a difference
    between the scenarios, and one if they are identical once the overrides are applied."""
    lines = []
    overrides = [(o.partition("=")[0].strip(), f"--set {o}") for o in args.overrides]
    if overrides:
        try:
            files = {label: load_scenario(path) for label, path in zip(labels, args.scenarios)}
        except ScenarioError:  # valid only with the overrides: nothing to compare them against
            files = {}
        for key, option in overrides:
            if not files or key in _SHARED_FIELDS:
                continue
            values = {label: _value_at(s, key) for label, s in files.items()}
            if any(v != values[labels[0]] for v in values.values()):
                shown = ", ".join(f"{label}: {_short(v)}" for label, v in values.items())
                lines.append(f"warning: {option} sets a field on which the compared scenarios differ ({shown}); "
                             "it applies to every scenario, so that difference is not compared")

    def model_fields(s: Scenario) -> dict:
        dump = s.model_dump(mode="json")
        return {k: v for k, v in dump.items() if k not in _LABEL_FIELDS + _SHARED_FIELDS}

    fields = [model_fields(s) for s in scenarios.values()]
    if all(f == fields[0] for f in fields[1:]):
        after = " after the overrides" if args.overrides else ""
        lines.append(f"warning: the compared scenarios are identical{after} (apart from names and seed): "
                     "every difference will be 0")
    return lines


def cmd_compare(args) -> int:
    if len(args.scenarios) < 2:
        raise UsageError("compare needs at least two scenario files")
    stems = [Path(p).stem for p in args.scenarios]
    labels = [s if stems.count(s) == 1 else f"{s}-{stems[:i + 1].count(s)}" for i, s in enumerate(stems)]
    scenarios = {label: _study_scenario(args, path) for label, path in zip(labels, args.scenarios)}
    first = scenarios[labels[0]]
    for line in _compare_warnings(args, labels, scenarios):
        print(line, file=sys.stderr)

    def work(runner):
        result = compare(scenarios, runner)
        scenarios.update(result.scenarios)  # record what ran: every scenario on the first one's seed
        table = compare_table(result)
        tables = {"compare.csv": table, "compare_kpis.csv": result.kpis, "compare_by_replication.csv": result.by_replication,
                  "compare_queues.csv": result.queues, "compare_crossed.csv": result.crossed}
        return table, tables, {"compare.html": compare_page(result, table)}, {"sources": dict(zip(labels, args.scenarios))}

    folder, t = _run_study(args, "compare", scenarios, len(scenarios) * first.replications, work)
    print(f"compare, seed {first.seed}, {first.replications} replications each; differences to {labels[0]} "
          "with paired 95% intervals")
    cols = ["crossing", "kpi", f"{labels[0]}:mean"]
    for label in labels[1:]:
        cols += [f"{label}:mean", f"{label}:diff", f"{label}:diff_ci95_low", f"{label}:diff_ci95_high"]
    _print_rows(t[t["kpi"].isin(["peak_queue_km", "wait_mean_h", "wait_p90_h", "people_crossed", "surge_cleared_at"])][cols])
    print(folder)
    return 0


def add_sensitivity_options(p: argparse.ArgumentParser) -> None:
    add_scenario_options(p)
    p.add_argument("--params", required=True, metavar="KEY1,KEY2,...", help="dotted keys of numeric parameters (two or more)")
    p.add_argument("--ranges", required=True, metavar="LO1:HI1,LO2:HI2,...", help="one range per parameter, in order")
    p.add_argument("--method", choices=["morris", "sobol"], default="morris", help="Morris screening (default) or Sobol' indices")
    p.add_argument("--samples", type=_positive_int, metavar="N",
                   help="Morris trajectories (default 10) or Sobol' base sample, a power of 2 (default 64)")
    p.add_argument("--kpi", default="peak_queue_km", choices=sorted(KPI_UNITS), metavar="KPI",
                   help="output to explain (default peak_queue_km)")
    p.add_argument("--crossing", default="all", help="crossing of the output, or all (default)")


def cmd_sensitivity(args) -> int:
    scenario = _study_scenario(args)
    params = parse_parameters(scenario, args.params, args.ranges)
    check_crossing(scenario, args.crossing)
    variants = sample_size(len(params), args.method, args.samples)

    def work(runner):
        result = sensitivity(scenario, params, runner, args.kpi, args.crossing, args.method, args.samples)
        tables = {"sensitivity.csv": result.indices, "sensitivity_points.csv": result.points}
        info = {"method": args.method, "samples": args.samples, "kpi": args.kpi, "crossing": args.crossing,
                "params": [p.__dict__ for p in params]}
        return result, tables, {"sensitivity.html": sensitivity_page(result)}, info

    folder, r = _run_study(args, "sensitivity", {"base": scenario}, variants * scenario.replications, work)
    print(f"{scenario.name}: {args.method} sensitivity of {args.kpi} at {args.crossing}, {len(r.points)} variants x "
          f"{scenario.replications} replications")
    _print_rows(r.indices.drop(columns=["kpi", "unit", "crossing"]))
    if r.points[args.kpi].isna().any():
        print(f"warning: {args.kpi} is missing at some points (e.g. no queue cleared); indices may be NaN", file=sys.stderr)
    print(folder)
    return 0


def add_capacity_options(p: argparse.ArgumentParser) -> None:
    add_scenario_options(p)
    p.add_argument("--crossing", required=True, help="crossing whose booths are searched")
    p.add_argument("--channel", default="car", choices=["car", "bus", "foot"], help="booths of this channel (default car)")
    limit = p.add_mutually_exclusive_group(required=True)
    limit.add_argument("--max-queue-km", type=float, metavar="X", help="limit on the crossing's peak queue, km")
    limit.add_argument("--max-wait-h", type=float, metavar="Y", help="limit on the channel's 90th-percentile wait, h")
    p.add_argument("--from", dest="start", metavar="DATETIME",
                   help="add booths from this local date-time on, e.g. 2030-05-01T08:00 (default: constant booths)")
    p.add_argument("--share", type=float, default=0.9, help="share of replications that must meet the limit (default 0.9)")
    p.add_argument("--max-booths", type=_positive_int, default=200, help="give up above this many booths (default 200)")


def cmd_capacity(args) -> int:
    scenario = _study_scenario(args)
    q = question(scenario, args.crossing, args.channel, args.max_queue_km, args.max_wait_h, args.start, args.share)
    scenarios = {"base": scenario}

    def work(runner):
        result = find_booths(scenario, q, runner, args.max_booths)
        if result.booths is not None:
            scenarios["answer"] = booth_variant(scenario, q, result.booths)
        tables = {"capacity.csv": result.evaluations, "capacity_by_replication.csv": result.by_replication,
                  "capacity_queue.csv": result.queues}
        info = {"question": {**q.__dict__, "start": q.start.isoformat() if q.start else None}, "booths": result.booths}
        return result, tables, {"capacity.html": capacity_page(result)}, info

    folder, r = _run_study(args, "capacity", scenarios, None, work)
    when = "constant" if q.start is None else f"from {q.start.isoformat()}"
    print(f"{scenario.name}: {q.crossing} {q.channel} booths ({when}) for {q.figure} <= {q.limit:g} {q.unit} "
          f"in >= {q.share:.0%} of {scenario.replications} replications")
    _print_rows(r.evaluations)
    print(f"booths needed: {r.booths}" if r.booths is not None else r.reason)
    print(folder)
    return 0
