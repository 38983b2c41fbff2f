"""The ``run``, ``report`` and ``validate`` commands and what they print.

``run`` resolves one scenario, runs its replications (a fixed number, or
``--replications auto --precision P`` until precise enough), writes a run
folder with its report and prints a summary per crossing. ``report`` rebuilds
a run folder's report.html from its tables; ``validate`` runs the
verification and validation suite. Only arguments and printing: the work is
in the experiments and report layers.
"""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from ..analysis import Results, build_results
from ..experiments import PrecisionCheck, default_workers, open_executor, replicate_to_precision, run_on, run_suite
from ..experiments.estimate import estimate
from ..experiments.one_more_booth import one_more_booth
from ..report import ReportError, RunFolder, write_report, write_run_files, write_table, write_validation
from ..report.brief import write_booth_effect, write_brief
from ..report.large_tables import LargeTables
from ..report.queue_people import write_queue_people
from ..report.run_folder import RunFolderError, check_destination
from ..report.run_tables import manifest_checksums
from ..scenario import Scenario
from .options import (
    DEFAULT_SCENARIO,
    UsageError,
    _positive_int,
    add_scenario_options,
    add_table_option,
    progress,
    scenario_from_args,
    validate_scenario,
)


def destination_checked(out: str, name: str, kind: str | None = None) -> None:
    """Before any simulation: a run folder can be made under ``out`` for ``name`` (one-line :class:`UsageError` if not).

    See :func:`model.report.run_folder.check_destination`: ``--out`` not empty,
    a writable folder or creatable, ``<out>/<name>`` a real folder or absent,
    the scenario's name one plain folder name.
    """
    try:
        check_destination(out, name, kind)
    except RunFolderError as err:
        raise UsageError(str(err)) from None


def written(write: Callable[[], Any], out: str) -> Any:
    """What ``write()`` returns (its run folder), or one line if writing fails after all (the disk filled, ``--out`` changed meanwhile)."""
    try:
        return write()
    except (RunFolderError, ReportError) as err:
        raise UsageError(f"{err}; no run folder was written") from None
    except OSError as err:
        raise UsageError(f"{err.filename or out}: cannot be written ({err.strerror or err}); no run folder was written") from None


class PhaseTimer:
    """Wall seconds spent in each phase of a run, for manifest.json (``timing_s``) and the benchmark."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, phase: str):
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[phase] = round(self.seconds.get(phase, 0.0) + time.perf_counter() - t0, 3)

    def timed(self, phase: str, write: Callable[[Path], None]) -> Callable[[Path], None]:
        """``write`` timed as ``phase``."""
        def timed_write(folder: Path) -> None:
            with self(phase):
                write(folder)
        return timed_write


#: Phases of a run that no one times: a stand-in with the same calls.
UNTIMED = PhaseTimer()


def run_scenario(scenario: Scenario, runner, quiet: bool, timing: PhaseTimer = UNTIMED, large: LargeTables | None = None) -> Results:
    """All replications of ``scenario`` on ``runner`` with a progress bar, as tables; each replication's large tables
    go to ``large`` as soon as it and those before it are done."""
    n = scenario.replications
    bar = progress(n, quiet, scenario.name)
    records = run_on(runner, scenario, range(n), on_done=(lambda _: bar.update()) if bar else None,
                     in_order=large.add if large else None, prepare=large.prepare() if large else None)
    if bar:
        bar.close()
    with timing("tables"):
        return build_results(scenario, records)


def run_to_precision(scenario: Scenario, args, runner, timing: PhaseTimer = UNTIMED,
                     large: LargeTables | None = None) -> tuple[Results, PrecisionCheck]:
    """Replications until precise enough (see :func:`model.experiments.replicate_to_precision`), as tables.

    The tables' scenario says how many replications were used, so its
    ``scenario.toml`` reruns them exactly. ``large`` gets the replications kept, once their count is known.
    """
    bar = progress(args.max_replications, args.quiet, f"{scenario.name} (auto)")

    def on_batch(target: int) -> None:
        bar.total = target
        bar.refresh()

    records, check = replicate_to_precision(
        scenario, args.precision, args.max_replications, runner.slots,
        on_done=(lambda _: bar.update()) if bar else None, on_batch=on_batch if bar else None, runner=runner,
    )
    if bar:
        bar.close()
    scenario = scenario.model_copy(update={"replications": check.replications})
    with timing("tables"):
        return build_results(scenario, [large.add(r) for r in records] if large else records), check


def run_from_args(scenario: Scenario, args, runner, timing: PhaseTimer = UNTIMED,
                  large: LargeTables | None = None) -> tuple[Results, PrecisionCheck | None]:
    """The tables for the replication options of ``args`` on ``runner``; the check when auto."""
    if args.replications == "auto":
        return run_to_precision(scenario, args, runner, timing, large)
    return run_scenario(scenario, runner, args.quiet, timing, large), None


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


#: ``--brief auto`` makes the brief when the run is estimated to take at most this long on one worker: the paired run
#: doubles it.
BRIEF_AUTO_S = 30.0


def brief_wanted(scenario: Scenario, args) -> bool:
    """Whether to make the brief (and its paired run): ``--brief on``, or ``auto`` for a run estimated short."""
    choice = getattr(args, "brief", "off")
    if choice != "auto":
        return choice == "on"
    # one worker's estimate, so whether a folder has a brief never depends on the number of workers
    seconds = estimate(scenario, workers=1).seconds
    if seconds > BRIEF_AUTO_S and not args.quiet:
        print(f"no brief.html: the run is estimated at {seconds:.0f} s and the brief's paired run would double it "
              "(--brief on to make it)", file=sys.stderr)
    return seconds <= BRIEF_AUTO_S


def booth_effect(results: Results, args, runner=None):
    """The paired run with one more booth at the bottleneck, for the brief (None if the run has no burden tables), on
    ``runner`` (the run's own executor) if given."""
    if results.burden is None:
        return None
    bar = progress(results.replications, args.quiet, f"{results.scenario.name} (+1 booth, for the brief)")
    effect = one_more_booth(results.scenario, results, args.workers or default_workers(), executor=args.executor,
                            scheduler=args.scheduler, on_done=(lambda _: bar.update()) if bar else None, runner=runner)
    if bar:
        bar.close()
    return effect


def add_run_options(p: argparse.ArgumentParser) -> None:
    add_scenario_options(p)
    add_table_option(p)
    p.add_argument("--brief", choices=["auto", "on", "off"], default="auto",
                   help="on: also brief.html, a one-page A4 brief on the people in the queue, with a paired run with one "
                        f"more booth at the bottleneck (doubles the simulation time); off: neither; auto (default): on "
                        f"when the run is estimated to take at most {BRIEF_AUTO_S:g} s on one worker")


def cmd_run(args) -> int:
    scenario = scenario_from_args(args)
    destination_checked(args.out, scenario.name)
    started = datetime.now(timezone.utc).isoformat()
    t0 = time.perf_counter()
    timing = PhaseTimer()
    brief = brief_wanted(scenario, args)
    workers = (args.workers or default_workers()) if args.executor == "process" else f"dask {args.scheduler}"
    run_folder = RunFolder(args.out, scenario.name)
    # no more worker processes than replications: one replication runs here, its records never pickled
    slots = args.workers or default_workers()
    slots = slots if args.replications == "auto" else min(slots, scenario.replications)

    def run_and_write() -> tuple[Path, Results, PrecisionCheck | None]:
        """The run folder is made first: each replication's large tables go into it as soon as they can, on one
        executor that then builds the report's sections too."""
        with open_executor(args.executor, slots, args.scheduler) as runner, run_folder as folder:
            with LargeTables(scenario, folder, args.tables, keep=("queues",) if brief else ()) as large:
                with timing("replications and tables"):
                    results, check = run_from_args(scenario, args, runner, timing, large)
            with timing("paired run for the brief"):
                effect = booth_effect(results, args, runner) if brief else None
            def sections(build, jobs):  # the report's sections, built on the workers
                with timing("report sections"):
                    return runner.map(build, jobs)

            report = timing.timed("report", lambda f: write_report(f, map_parts=sections))
            write_run_files(results, folder, {"started_at": started, "source": args.scenario, "overrides": args.overrides,
                                              "workers": workers, "timing_s": timing.seconds},
                            extra=_extras(write_queue_people(results), report, _precision_writer(check),
                                          write_booth_effect(effect), write_brief if effect is not None else None),
                            tables=args.tables)
        return run_folder.path, results, check

    folder, results, check = written(run_and_write, args.out)
    print_summary(results, time.perf_counter() - t0)
    if check is not None:
        print_precision(check)
    report = folder / "report.html"
    if report.exists():
        print(f"report: {report}")
    if (folder / "brief.html").exists():
        print(f"brief: {folder / 'brief.html'}")
    print(folder)
    return 0


def print_summary(results: Results, seconds: float) -> None:
    """People departed, crossed and waiting per crossing; peak queue and when."""
    k = results.kpis.set_index(["crossing", "kpi"])
    s = results.scenario
    reps = results.replications
    shown = f"{reps} replications, figures are their means" if reps > 1 else "1 replication, its figures"
    print(f"{s.name}: {s.start:%Y-%m-%d %H:%M} to {s.end:%Y-%m-%d %H:%M} ({s.timezone}), seed {s.seed}, "
          f"{shown}, {seconds:.1f} s")
    print(f"{'crossing':<16}{'departed':>10}{'crossed':>10}{'waiting':>10}{'peak km':>9}  {'peak at':<18}"
          f"{'surge cleared':<26}surge wait, median per person")
    for name in [c.name for c in s.crossings] + ["all"]:
        def v(kpi):
            return k.loc[(name, kpi), "mean"]

        def when(kpi):  # a time figure that no replication reached is NaT
            return "-" if pd.isna(v(kpi)) else v(kpi).strftime("%Y-%m-%d %H:%M")

        n, of = k.loc[(name, "surge_cleared_at"), ["n", "replications"]]
        cleared = when("surge_cleared_at") + (f" ({n}/{of})" if 0 < n < of else "")
        wait = "-" if pd.isna(v("surge_person_wait_p50_h")) else f"{v('surge_person_wait_p50_h'):.1f} h"
        print(f"{name:<16}{v('people_departed'):>10.0f}{v('people_crossed'):>10.0f}{v('people_waiting_at_end'):>10.0f}"
              f"{v('peak_queue_km'):>9.2f}  {when('peak_queue_at'):<18}{cleared:<26}{wait}")


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
              + ", ".join(f"{r.crossing} {PRECISION_LABELS[r.kpi]} ({r.status.removeprefix('skipped: ')})"
                          for r in check.skipped.itertuples()))


def add_validate_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", nargs="?", default=str(DEFAULT_SCENARIO),
                   help=f"scenario TOML whose <name>.targets.toml holds its facts (default {DEFAULT_SCENARIO})")
    p.add_argument("--out", default="outputs", help="folder under which the run folder is made (default outputs/)")
    p.add_argument("--quick", action="store_true", help="short M/M/c runs, 2 replications, no calibration (for tests)")
    p.add_argument("--workers", type=_positive_int, default=None, help="worker processes (default: all cores)")


def cmd_validate(args) -> int:
    """Run the verification and validation suite; exit 1 if any check fails."""
    destination_checked(args.out, validate_scenario(args).name, "validation")
    suite = run_suite(args.scenario, quick=args.quick, workers=args.workers or default_workers())
    folder = written(lambda: write_validation(suite, args.out), args.out)
    failed = [r for r in suite.rows if not r.passed]
    for r in suite.rows:
        print(f"{r.verdict:<15}{r.group:<13}{r.name}")
    print(f"{len(suite.rows) - len(failed)}/{len(suite.rows)} checks passed in {suite.seconds:.0f} s")
    print(folder)
    return 1 if failed else 0


def add_report_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("folder", help="a run folder written by the run command, e.g. outputs/NAME/20300101T000000")


def cmd_report(args) -> int:
    """Rebuild a run folder's report.html (and brief.html, if it has one) from its tables, checked against the manifest.

    A folder without checksums (older runs, or tables copied without their
    manifest) is still reported, with a warning that its tables were not checked.
    """
    try:
        path = write_report(args.folder)
        # the brief, where the run made one (its paired run's figures are in one_more_booth.csv)
        brief = write_brief(args.folder, replace=True) if (Path(args.folder) / "brief.html").is_file() else None
        checked = manifest_checksums(args.folder) is not None
    except RunFolderError as err:
        raise UsageError(str(err)) from None
    except ReportError as err:
        raise UsageError(str(err)) from None
    if not checked:
        what = "manifest.json has no checksums" if (Path(args.folder) / "manifest.json").exists() else "has no manifest.json"
        print(f"warning: {args.folder}: {what} (a run from before checksums were recorded, or copied without them): "
              "its tables were read unchecked", file=sys.stderr)
    if brief is not None:
        print(brief)
    print(path)
    return 0
