"""Command line: ``python -m model run [SCENARIO] [--seed N] [--set key=value ...] [--out DIR]``.

This module only parses arguments, calls the model and prints; it holds no
model logic. Every bad input (a scenario file, an override, an argument)
ends with one line on stderr and exit code 2, and no run folder.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from .experiment import default_workers, run_replications
from .outputs import write_results
from .scenario import Scenario, ScenarioError, load_scenario
from .tables import Results, build_results

__all__ = ["main", "DEFAULT_SCENARIO"]

DEFAULT_SCENARIO = Path("params") / "kharkiv_2022.toml"
EXIT_BAD_INPUT = 2


class UsageError(Exception):
    """A bad command-line argument."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, like a bad scenario
        raise UsageError(f"{self.prog}: {message}")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} must be 0 or more")
    return value


def add_scenario_options(p: argparse.ArgumentParser, positional: bool = True) -> None:
    """Options every command that runs a scenario shares."""
    if positional:
        p.add_argument("scenario", nargs="?", default=str(DEFAULT_SCENARIO), help=f"scenario TOML (default {DEFAULT_SCENARIO})")
    p.add_argument("--seed", type=_non_negative_int, help="override the scenario seed")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override any scenario field by dotted path, e.g. crossings.Shebekino.car.booths=9")
    p.add_argument("--replications", type=_positive_int, help="number of replications (default: the scenario's)")
    p.add_argument("--workers", type=_positive_int, default=None, help="worker processes (default: all cores)")
    p.add_argument("--out", default="outputs", help="folder under which run folders are made (default outputs/)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def scenario_from_args(args, path: str | None = None) -> Scenario:
    overrides = list(args.overrides)
    if args.seed is not None:
        overrides.append(f"seed={args.seed}")
    if args.replications is not None:
        overrides.append(f"replications={args.replications}")
    return load_scenario(path or args.scenario, overrides)


def progress(total: int, quiet: bool, label: str):
    """A tqdm bar on stderr, or a no-op when quiet, not a terminal, or only one job."""
    if quiet or total <= 1 or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=label, unit="rep", file=sys.stderr, leave=False)


def run_scenario(scenario: Scenario, workers: int | None, quiet: bool) -> Results:
    """All replications of ``scenario`` with a progress bar, as tables."""
    n = scenario.replications
    bar = progress(n, quiet, scenario.name)
    records = run_replications(scenario, range(n), workers or default_workers(), on_done=(lambda _: bar.update()) if bar else None)
    if bar:
        bar.close()
    return build_results(scenario, records)


def _report_writer() -> Callable[[Path], None] | None:
    try:
        from .report import write_report
    except ImportError:
        return None
    return write_report


def cmd_run(args) -> int:
    scenario = scenario_from_args(args)
    started = datetime.now(timezone.utc).isoformat()
    t0 = time.perf_counter()
    results = run_scenario(scenario, args.workers, args.quiet)
    folder = write_results(
        results,
        args.out,
        {"started_at": started, "source": args.scenario, "overrides": args.overrides, "workers": args.workers or default_workers()},
        extra=_report_writer(),
    )
    print_summary(results, time.perf_counter() - t0)
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
        when = peak_at.strftime("%Y-%m-%d %H:%M") if hasattr(peak_at, "strftime") else "-"
        print(f"{name:<16}{v('people_departed'):>10.0f}{v('people_crossed'):>10.0f}{v('people_waiting_at_end'):>10.0f}"
              f"{v('peak_queue_km'):>9.2f}  {when}")


COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable]] = {
    "run": ("run a scenario and write a run folder", add_scenario_options, cmd_run),
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
        return COMMANDS[args.command][2](args)
    except (ScenarioError, UsageError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted; no run folder was written", file=sys.stderr)
        return 130
