"""Command line: ``python -m model run [SCENARIO] [--seed N] [--set key=value ...] [--out DIR]``.

Experiments: ``sweep``, ``compare``, ``sensitivity`` and ``capacity`` (logic in
:mod:`model.study`, :mod:`model.sensitivity`, :mod:`model.capacity`).

Replications: ``--replications N`` or ``--replications auto --precision P
[--max-replications M]``; where they run: ``--workers K`` processes or
``--executor dask --scheduler ADDRESS``.

This module only parses arguments, calls the model and prints; it holds no
model logic. Every bad input (a scenario file, an override, an argument)
ends with one line on stderr and exit code 2, and no run folder.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import pandas as pd

from .analysis import KPI_UNITS, Results, build_results
from .experiments import (
    EXECUTORS,
    ExecutorError,
    PrecisionCheck,
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
    replicate_to_precision,
    run_replications,
    sample_size,
    sensitivity,
    sweep,
    sweep_table,
)
from .report import (
    capacity_page,
    compare_page,
    sensitivity_page,
    sweep_page,
    write_results,
    write_study,
    write_table,
)
from .scenario import Scenario, ScenarioError, load_scenario

__all__ = ["main", "DEFAULT_SCENARIO"]

DEFAULT_SCENARIO = Path("params") / "kharkiv_2022.toml"
EXIT_BAD_INPUT = 2


class UsageError(Exception):
    """A bad command-line argument."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, like a bad scenario
        raise UsageError(f"{self.prog}: {message}")


def _whole_number(minimum: int):
    """An argparse type: a whole number of at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} must be at least {minimum}")
        return value

    return parse


_positive_int = _whole_number(1)
_non_negative_int = _whole_number(0)


def _replications(text: str) -> int | str:
    return "auto" if text == "auto" else _positive_int(text)


def _percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value <= 100:
        raise argparse.ArgumentTypeError(f"{value:g} must be > 0 and <= 100 (per cent of the mean)")
    return value


def add_scenario_options(p: argparse.ArgumentParser, positional: bool = True) -> None:
    """Options every command that runs a scenario shares."""
    if positional:
        p.add_argument("scenario", nargs="?", default=str(DEFAULT_SCENARIO), help=f"scenario TOML (default {DEFAULT_SCENARIO})")
    p.add_argument("--seed", type=_non_negative_int, help="override the scenario seed")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override any scenario field by dotted path, e.g. crossings.NAME.car.booths=9")
    p.add_argument("--replications", type=_replications, metavar="N|auto",
                   help="number of replications (default: the scenario's), or auto with --precision")
    p.add_argument("--precision", type=_percent, metavar="P",
                   help="with --replications auto: stop when every crossing's 95%% CI half-width of peak queue km "
                        "and mean wait is within P%% of its mean")
    p.add_argument("--max-replications", type=_positive_int, default=100, metavar="M",
                   help="with --replications auto: stop here even if not precise (default 100)")
    p.add_argument("--workers", type=_positive_int, default=None, help="worker processes with --executor process (default: all cores)")
    p.add_argument("--executor", choices=EXECUTORS, default="process",
                   help="where replications run: local processes or a Dask cluster (pip install '.[dask]')")
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address for --executor dask, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--out", default="outputs", help="folder under which run folders are made (default outputs/)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def check_run_options(args) -> None:
    """Combinations of the replication and executor options that make no sense (one-line errors)."""
    auto = args.replications == "auto"
    if auto and args.precision is None:
        raise UsageError("--replications auto needs --precision P (per cent of the mean), e.g. --precision 5")
    if not auto and args.precision is not None:
        raise UsageError(f"--precision {args.precision:g} needs --replications auto")
    if auto and args.max_replications < 2:
        raise UsageError(f"--max-replications {args.max_replications} must be at least 2 (an interval needs two replications)")
    if args.executor == "dask" and not args.scheduler:
        raise UsageError("--executor dask needs --scheduler ADDRESS, e.g. tcp://10.0.0.5:8786")
    if args.executor != "dask" and args.scheduler:
        raise UsageError(f"--scheduler {args.scheduler} needs --executor dask")


def scenario_from_args(args, path: str | None = None) -> Scenario:
    overrides = list(args.overrides)
    if args.seed is not None:
        overrides.append(f"seed={args.seed}")
    if isinstance(args.replications, int):
        overrides.append(f"replications={args.replications}")
    return load_scenario(path or args.scenario, overrides)


def progress(total: int, quiet: bool, label: str):
    """A tqdm bar on stderr, or a no-op when quiet, not a terminal, or only one job."""
    if quiet or total <= 1 or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=label, unit="rep", file=sys.stderr, leave=False)


def run_scenario(scenario: Scenario, workers: int | None, quiet: bool, executor: str = "process", scheduler: str | None = None) -> Results:
    """All replications of ``scenario`` with a progress bar, as tables."""
    n = scenario.replications
    bar = progress(n, quiet, scenario.name)
    records = run_replications(scenario, range(n), workers or default_workers(), on_done=(lambda _: bar.update()) if bar else None,
                               executor=executor, scheduler=scheduler)
    if bar:
        bar.close()
    return build_results(scenario, records)


def run_to_precision(scenario: Scenario, args) -> tuple[Results, PrecisionCheck]:
    """Replications until precise enough (see :func:`model.experiment.replicate_to_precision`), as tables.

    The tables' scenario says how many replications were used, so its
    ``scenario.toml`` reruns them exactly.
    """
    bar = progress(args.max_replications, args.quiet, f"{scenario.name} (auto)")

    def on_batch(target: int) -> None:
        bar.total = target
        bar.refresh()

    records, check = replicate_to_precision(
        scenario, args.precision, args.max_replications, args.workers or default_workers(),
        on_done=(lambda _: bar.update()) if bar else None, executor=args.executor, scheduler=args.scheduler,
        on_batch=on_batch if bar else None,
    )
    if bar:
        bar.close()
    scenario = scenario.model_copy(update={"replications": check.replications})
    return build_results(scenario, records), check


def run_from_args(scenario: Scenario, args) -> tuple[Results, PrecisionCheck | None]:
    """The tables for the replication and executor options of ``args``; the check when auto."""
    if args.replications == "auto":
        return run_to_precision(scenario, args)
    return run_scenario(scenario, args.workers, args.quiet, args.executor, args.scheduler), None


def _report_writer() -> Callable[[Path], None] | None:
    try:
        from .report import write_report
    except ImportError:
        return None
    return write_report


def _precision_writer(check: PrecisionCheck | None) -> Callable[[Path], None] | None:
    """Writes ``precision.csv``, the stopping rule at the count used, for auto runs."""
    if check is None:
        return None
    return lambda folder: write_table(check.table.assign(precision_pct=check.precision_pct), folder / "precision.csv")


def _extras(*writers: Callable[[Path], None] | None) -> Callable[[Path], None] | None:
    """One run-folder writer that calls each of ``writers`` given."""
    present = [w for w in writers if w is not None]

    def write_all(folder: Path) -> None:
        for write in present:
            write(folder)

    return write_all if present else None


def cmd_run(args) -> int:
    scenario = scenario_from_args(args)
    started = datetime.now(timezone.utc).isoformat()
    t0 = time.perf_counter()
    results, check = run_from_args(scenario, args)
    workers = (args.workers or default_workers()) if args.executor == "process" else f"dask {args.scheduler}"
    folder = write_results(
        results,
        args.out,
        {"started_at": started, "source": args.scenario, "overrides": args.overrides, "workers": workers},
        extra=_extras(_report_writer(), _precision_writer(check)),
    )
    print_summary(results, time.perf_counter() - t0)
    if check is not None:
        print_precision(check)
    report = folder / "report.html"
    if report.exists():
        print(f"report: {report}")
    print(folder)
    return 0


def print_summary(results: Results, seconds: float) -> None:
    """People departed, crossed and waiting per crossing; peak queue and when."""
    k = results.kpis.set_index(["crossing", "kpi"])
    s = results.scenario
    print(f"{s.name}: {s.start:%Y-%m-%d %H:%M} to {s.end:%Y-%m-%d %H:%M} ({s.timezone}), seed {s.seed}, "
          f"{results.replications} replication(s), {seconds:.1f} s")
    print(f"{'crossing':<16}{'departed':>10}{'crossed':>10}{'waiting':>10}{'peak km':>9}  peak at (mean)")
    for name in [c.name for c in s.crossings] + ["all"]:
        def v(kpi):
            return k.loc[(name, kpi), "mean"]
        peak_at = v("peak_queue_at")
        when = "-" if pd.isna(peak_at) else peak_at.strftime("%Y-%m-%d %H:%M")  # no queue formed: NaT
        print(f"{name:<16}{v('people_departed'):>10.0f}{v('people_crossed'):>10.0f}{v('people_waiting_at_end'):>10.0f}"
              f"{v('peak_queue_km'):>9.2f}  {when}")


#: How the controlled figures are named in the summary.
PRECISION_LABELS = {"peak_queue_km": "peak queue km", "wait_mean_h": "mean wait"}


def print_precision(check: PrecisionCheck) -> None:
    """How many replications the sequential procedure needed, and what it skipped or missed."""
    figures = " and ".join(PRECISION_LABELS.values())
    if check.met:
        print(f"replications: auto, {check.replications} needed for 95% CI half-widths within {check.precision_pct:g}% "
              f"of the mean ({figures}, every crossing; cap {check.max_replications})")
    else:
        print(f"replications: auto, cap of {check.max_replications} reached before {check.precision_pct:g}% precision; not met: "
              + ", ".join(f"{r.crossing} {PRECISION_LABELS[r.kpi]} ({r.half_width_pct:.1f}%)" for r in check.not_met.itertuples()))
    if len(check.skipped):
        print("  skipped (no relative precision): "
              + ", ".join(f"{r.crossing} {PRECISION_LABELS[r.kpi]} ({r.status.removeprefix('skipped: ')})" for r in check.skipped.itertuples()))


# --- experiments: sweep, compare, sensitivity, capacity (logic in model/study.py and beside it) ------


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
    started, t0 = datetime.now(timezone.utc).isoformat(), time.perf_counter()
    reps = next(iter(scenarios.values())).replications
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
    return write_study(args.out, kind, scenarios, tables, pages, info), result


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


def add_compare_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="two or more scenario TOML files; differences are to the first")
    add_scenario_options(p, positional=False)


def cmd_compare(args) -> int:
    if len(args.scenarios) < 2:
        raise UsageError("compare needs at least two scenario files")
    stems = [Path(p).stem for p in args.scenarios]
    labels = [s if stems.count(s) == 1 else f"{s}-{stems[:i + 1].count(s)}" for i, s in enumerate(stems)]
    scenarios = {label: _study_scenario(args, path) for label, path in zip(labels, args.scenarios)}
    first = scenarios[labels[0]]

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
    _print_rows(t[t["kpi"].isin(["peak_queue_km", "wait_mean_h", "wait_p90_h", "people_crossed", "queue_cleared_at"])][cols])
    print(folder)
    return 0


def add_sensitivity_options(p: argparse.ArgumentParser) -> None:
    add_scenario_options(p)
    p.add_argument("--params", required=True, metavar="KEY1,KEY2,...", help="dotted keys of numeric parameters (two or more)")
    p.add_argument("--ranges", required=True, metavar="LO1:HI1,LO2:HI2,...", help="one range per parameter, in order")
    p.add_argument("--method", choices=["morris", "sobol"], default="morris", help="Morris screening (default) or Sobol' indices")
    p.add_argument("--samples", type=_positive_int, metavar="N",
                   help="Morris trajectories (default 10) or Sobol' base sample, a power of 2 (default 64)")
    p.add_argument("--kpi", default="peak_queue_km", choices=sorted(KPI_UNITS), metavar="KPI", help="output to explain (default peak_queue_km)")
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
    if r.booths is not None:
        print(f"booths needed: {r.booths}")
    elif r.saturated:
        print(f"not reachable with booths: from {r.evaluations['booths'].iloc[-2]} booths on, more change no replication "
              "(the queue is held by something else: inspection, closures, or it peaks before --from)")
    else:
        print(f"not reached with up to {args.max_booths} booths")
    print(folder)
    return 0


def add_validate_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", nargs="?", default=str(DEFAULT_SCENARIO),
                   help=f"scenario TOML whose <name>.targets.toml holds its facts (default {DEFAULT_SCENARIO})")
    p.add_argument("--out", default="outputs", help="folder under which the run folder is made (default outputs/)")
    p.add_argument("--quick", action="store_true", help="short M/M/c runs, 2 replications, no calibration (for tests)")
    p.add_argument("--workers", type=_positive_int, default=None, help="worker processes (default: all cores)")


def cmd_validate(args) -> int:
    """Run the verification and validation suite; exit 1 if any check fails."""
    from .experiments import run_suite
    from .report import write_validation

    suite = run_suite(args.scenario, quick=args.quick, workers=args.workers or default_workers())
    folder = write_validation(suite, args.out)
    failed = [r for r in suite.rows if not r.passed]
    for r in suite.rows:
        print(f"{r.verdict:<15}{r.group:<13}{r.name}")
    print(f"{len(suite.rows) - len(failed)}/{len(suite.rows)} checks passed in {suite.seconds:.0f} s")
    print(folder)
    return 1 if failed else 0


def add_report_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("folder", help="a run folder written by the run command, e.g. outputs/NAME/20300101T000000")


def cmd_report(args) -> int:
    """Rebuild a run folder's report.html from the tables in it."""
    from .report import ReportError, write_report

    try:
        path = write_report(args.folder)
    except ReportError as err:
        raise UsageError(str(err)) from None
    print(path)
    return 0


COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable]] = {
    "run": ("run a scenario and write a run folder", add_scenario_options, cmd_run),
    "sweep": ("vary one or two parameters over values, with replications and common random numbers", add_sweep_options, cmd_sweep),
    "compare": ("run scenarios on the same random numbers and compare key figures (paired differences)", add_compare_options, cmd_compare),
    "sensitivity": ("rank parameters by their influence on a key figure (SALib Morris or Sobol')", add_sensitivity_options, cmd_sensitivity),
    "capacity": ("find the fewest booths keeping a queue figure under a limit", add_capacity_options, cmd_capacity),
    "validate": ("check the engine against queueing theory and a scenario against its reported facts", add_validate_options, cmd_validate),
    "report": ("rebuild a run folder's report.html from its tables", add_report_options, cmd_report),
}


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m model", description="Border-crossing surge model")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name, (help_text, add_options, _) in COMMANDS.items():
        add_options(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if hasattr(args, "executor"):
            check_run_options(args)
        return COMMANDS[args.command][2](args)
    except (ScenarioError, UsageError, ExecutorError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted; no run folder was written", file=sys.stderr)
        return 130
