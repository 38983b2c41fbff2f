"""What every command shares: the parser, argument types, the scenario options.

The parser turns every bad argument into a :class:`UsageError` (one line,
exit code 2, like a bad scenario) instead of argparse's usage dump. The
scenario options (``--seed``, ``--set``, ``--replications``, ``--precision``,
``--workers``, ``--executor``, ...) are the same for ``run`` and the
experiments, and so is turning them into a resolved :class:`Scenario`.
Loading a scenario may warn of implausible values (:class:`ScenarioWarning`);
:func:`scenario_warnings_as_lines` shows each once, as one line on stderr.
Every scenario a command will simulate is sized first (:func:`check_size`):
one that cannot fit in memory is refused in one line, one that will take
long gets a one-line warning, before any work starts.
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..experiments import EXECUTORS, default_workers, parse_parameters, parse_vary, sample_size
from ..experiments.calibration import load_targets, targets_path_for
from ..experiments.estimate import MEMORY_SHARE, WORKER_BYTES, Estimate, check_resources, estimate, machine_memory
from ..experiments.studies import variant
from ..report.run_folder import TABLE_MODES
from ..scenario import Scenario, ScenarioError, ScenarioWarning, load_scenario
from ..scenario.errors import one_line
from ..scenario.fields import MAX_BOOTHS

DEFAULT_SCENARIO = Path("params") / "kharkiv_2022.toml"
EXIT_BAD_INPUT = 2


class UsageError(Exception):
    """A bad command-line argument."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, like a bad scenario (an argument may hold a line break)
        raise UsageError(one_line(f"{self.prog}: {message}"))


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


def add_table_option(p: argparse.ArgumentParser) -> None:
    """``--tables``: which tables a run folder gets (see :data:`model.report.run_folder.TABLE_MODES`)."""
    p.add_argument("--tables", choices=list(TABLE_MODES), default="parquet",
                   help="; ".join(f"{k}: {v}" for k, v in TABLE_MODES.items()) + " (default parquet)")


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


@contextmanager
def scenario_warnings_as_lines() -> Iterator[None]:
    """Within this block, each scenario warning is one line on stderr: ``warning: FILE: FIELD: got V; WHY``.

    A warning is shown once per field, value and reason, whichever file it came
    from: the run folder's own copy of the scenario, read back for the report,
    does not repeat it. Other warnings are shown as usual.
    """
    shown: set[tuple[str, str, str]] = set()
    with warnings.catch_warnings():
        warnings.simplefilter("always", ScenarioWarning)
        usual = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None):
            if not isinstance(message, ScenarioWarning):
                usual(message, category, filename, lineno, file, line)
                return
            key = (message.field, message.value, message.reason)
            if key not in shown:
                shown.add(key)
                print(f"warning: {message}", file=sys.stderr)

        warnings.showwarning = show
        yield


def scenario_from_args(args, path: str | None = None) -> Scenario:
    """The resolved scenario of a command that simulates it, sized before any work (:func:`check_size`)."""
    overrides = list(args.overrides)
    if args.seed is not None:
        overrides.append(f"seed={args.seed}")
    if isinstance(args.replications, int):
        overrides.append(f"replications={args.replications}")
    source = str(path or args.scenario)
    with warnings.catch_warnings(record=True) as caught:  # shown only if the scenario is not refused: one line
        warnings.simplefilter("always", ScenarioWarning)
        scenario = load_scenario(source, overrides)
        check_size(scenario, args, source)
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return scenario


#: Booth counts the capacity search tries, at most, for --max-booths M: steps of 1, 2, 4... then bisection.
def _capacity_evaluations(max_booths: int) -> int:
    return 2 * math.ceil(math.log2(max(max_booths, 2))) + 1


def _study_variants(scenario: Scenario, args) -> tuple[list[tuple[str, Scenario]], int]:
    """The scenarios a command runs that may differ in size from ``scenario`` (each point of a sweep, the
    corners of a sensitivity range), labelled; and how many variants it runs in all. A bad --vary or
    --params is left to the command, which reports it."""
    command = getattr(args, "command", "run")
    try:
        if command == "sweep":
            axes = [parse_vary(text) for text in args.vary[:2]]
            points = list(itertools.product(*(a.values for a in axes)))
            if len(points) > 200:  # the corners and the middle stand for the rest
                points = list(itertools.product(*((a.values[0], a.values[len(a.values) // 2], a.values[-1]) for a in axes)))
            total = math.prod(len(a.values) for a in axes)
            return [(", ".join(f"--vary {a.key}={v}" for a, v in zip(axes, p)),
                     variant(scenario, {a.key: v for a, v in zip(axes, p)}, "--vary")) for p in points], total
        if command == "sensitivity":
            params = parse_parameters(scenario, args.params, args.ranges)
            corners = [[p.low for p in params], [p.high for p in params]]
            total = sample_size(len(params), args.method, args.samples)
            return [(f"--ranges at {'low' if i == 0 else 'high'} ends",
                     variant(scenario, {p.key: round(x) if p.integer else x for p, x in zip(params, row)}, "--ranges"))
                    for i, row in enumerate(corners)], total
    except ScenarioError:
        return [], 1
    if command == "compare":
        return [], len(args.scenarios)
    if command == "capacity":
        return [], _capacity_evaluations(args.max_booths)
    return [], 1


def validate_scenario(args) -> Scenario:
    """The scenario ``validate`` checks (``args.scenario``), sized like a run before the suite starts:
    two replications with ``--quick``, else as many as its targets file asks (or its own)."""
    source = str(args.scenario)
    scenario = load_scenario(source)
    reps = scenario.replications
    if getattr(args, "quick", False):
        reps = 2
    else:
        try:
            path = targets_path_for(source)
            reps = load_targets(path).replications if path.is_file() else reps
        except Exception:  # noqa: BLE001 - a bad targets file is the suite's to report, in its own words
            pass
    _, note = check_resources(scenario, reps, 1, getattr(args, "workers", None) or default_workers(), False, source)
    if note:
        print(f"warning: {one_line(source)}: {note}", file=sys.stderr)
    return scenario


def check_size(scenario: Scenario, args, source: str) -> Estimate:
    """Refuse (one-line :class:`ScenarioError`, exit 2) a command on ``scenario`` that cannot fit in this machine's
    memory; print one warning line if it will take long or needs more memory than is free now.

    Counts what the command will run: ``--replications auto`` up to
    ``--max-replications``, the points of a sweep, the variants of a sensitivity
    analysis or a capacity search, the scenarios compared, on ``--workers``.
    """
    command = getattr(args, "command", "run")
    if command == "capacity" and args.max_booths > MAX_BOOTHS:
        raise UsageError(f"--max-booths {args.max_booths} must be at most {MAX_BOOTHS} (the most booths a channel may have)")
    reps = args.max_replications if args.replications == "auto" else scenario.replications
    workers = 1 if getattr(args, "executor", "process") == "dask" else (args.workers or default_workers())
    tables = command == "run"
    candidates, variants = _study_variants(scenario, args)
    label, worst = max([("", scenario), *candidates],  # the biggest; the scenario itself on a tie
                       key=lambda c: (estimate(c[1], reps, variants, workers, tables).memory_bytes, c[0] == ""))
    where = f"{source} ({label})" if label else source
    if workers * WORKER_BYTES > MEMORY_SHARE * machine_memory()[0]:  # a process pool starts all its workers at once
        raise UsageError(f"--workers {workers}: each worker process needs about {WORKER_BYTES / 1e6:.0f} MB; at most "
                         f"{int(MEMORY_SHARE * machine_memory()[0] // WORKER_BYTES)} fit in this machine's memory")
    try:
        est, note = check_resources(worst, reps, variants, workers, tables, where)
    except ScenarioError as err:
        if err.field == "replications" and args.replications == "auto":
            raise ScenarioError("--max-replications", err.value, err.allowed, err.source) from None
        raise
    if note:
        print(f"warning: {one_line(where)}: {note}", file=sys.stderr)
    return est


def progress(total: int, quiet: bool, label: str):
    """A tqdm bar on stderr, or a no-op when quiet, not a terminal, or only one job."""
    if quiet or total <= 1 or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=label, unit="rep", file=sys.stderr, leave=False)
