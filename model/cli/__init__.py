"""The command line: ``python -m model run [SCENARIO] [--seed N] [--set key=value ...] [--out DIR]``.

The top layer: it may import every other layer (app, report, experiments,
analysis, scenario; the app only inside its command, so the rest runs
without Dash) and holds no model logic; it parses arguments, calls the
model and prints. Here are the command table, the parser and the one place
where errors become exit codes: every bad input (a scenario file, an
override, an argument) ends with one line on stderr and exit code 2, and no
run folder. SIGINT (Ctrl-C) and SIGTERM (``timeout``, schedulers) end a
command cleanly with one line and exit code 130 or 143 (128 + the signal
number, as shells report it): the signal raises :class:`Interrupted` in the
main thread, so the worker processes are stopped and the temporary run folder
removed on the way out. A failed validation exits with 1. The commands are in
:mod:`.run` (run, report, validate), :mod:`.studies` (sweep, compare,
sensitivity, capacity) and :mod:`.app` (the what-if page); what they share is in :mod:`.options`.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Callable

from ..experiments import ExecutorError
from ..scenario import ScenarioError
from .app import add_app_options, cmd_app
from .options import (
    DEFAULT_SCENARIO,
    EXIT_BAD_INPUT,
    UsageError,
    _Parser,
    check_run_options,
    scenario_warnings_as_lines,
)
from .run import add_report_options, add_run_options, add_validate_options, cmd_report, cmd_run, cmd_validate
from .studies import (
    add_capacity_options,
    add_compare_options,
    add_sensitivity_options,
    add_sweep_options,
    cmd_capacity,
    cmd_compare,
    cmd_sensitivity,
    cmd_sweep,
)

__all__ = ["main", "console", "DEFAULT_SCENARIO", "Interrupted", "STOP_SIGNALS"]

#: Signals that end a command cleanly; its exit code is 128 + the signal number (130, 143).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """Raised in the main thread by a signal of :data:`STOP_SIGNALS`.

    A ``KeyboardInterrupt``, so everything that cleans up after Ctrl-C does the same for SIGTERM:
    the process pool stops its workers, the run folder's context manager removes its temporary
    folder.
    """

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextmanager
def _stop_signals_raise() -> Iterator[None]:
    """Within this block the first SIGINT or SIGTERM raises :class:`Interrupted`; any later one is
    ignored, so the clean-up it starts (bounded by timeouts) is not cut short. The previous handlers
    come back on the way out. Signals ignored on entry (``nohup``, a background job) stay ignored;
    handlers can only be set in the main thread, so elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    stopping = False

    def handler(signum, frame):
        nonlocal stopping
        if not stopping:
            stopping = True
            raise Interrupted(signum)

    previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    for sig, was in previous.items():
        if was is not signal.SIG_IGN:
            signal.signal(sig, handler)
    try:
        yield
    finally:
        stopping = True  # from here a signal is too late to stop anything
        for sig, was in previous.items():
            signal.signal(sig, signal.SIG_DFL if was is None else was)


COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable]] = {
    "run": ("run a scenario and write a run folder", add_run_options, cmd_run),
    "sweep": ("vary one or two parameters over values, with replications and common random numbers", add_sweep_options, cmd_sweep),
    "compare": ("run scenarios on the same random numbers and compare key figures (paired differences)", add_compare_options, cmd_compare),
    "sensitivity": ("rank parameters by their influence on a key figure (SALib Morris or Sobol')",
                    add_sensitivity_options, cmd_sensitivity),
    "capacity": ("find the fewest booths keeping a queue figure under a limit", add_capacity_options, cmd_capacity),
    "validate": ("check the engine against queueing theory and a scenario against its reported facts", add_validate_options, cmd_validate),
    "report": ("rebuild a run folder's report.html from its tables", add_report_options, cmd_report),
    "app": ("serve the what-if page on 127.0.0.1: change booths, departures, closures and see the queues (needs Dash)",
            add_app_options, cmd_app),
}


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m model", description="Border-crossing surge model")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name, (help_text, add_options, _) in COMMANDS.items():
        add_options(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def console() -> None:
    """The process entry (``python -m model``, ``border-surge``): :func:`main`, then exit with its code.

    The process ends at once (``os._exit``), its output flushed: by then every file is closed and
    every worker joined (or, after an interruption, stopped and the temporary folder removed).
    Python's own teardown would only free the objects of the run, a tenth of a second or more
    for nothing (it still runs under a profiler or a coverage tool, which write their data then),
    and after an interruption join threads of the stopped pool (the manager thread,
    once blocked for ever on a result a killed worker was half-way through sending, is now
    unblocked by ``_stop_pool``; this stays as a second guard).
    """
    code = main()
    if code <= 128 and (sys.getprofile() or sys.gettrace()):  # a profiler or coverage writes its data at exit
        sys.exit(code)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    with _stop_signals_raise():
        try:
            return _main(argv)
        except KeyboardInterrupt as err:
            signum = getattr(err, "signum", signal.SIGINT)
            print(f"interrupted by {signal.Signals(signum).name}; no run folder was written", file=sys.stderr)
            return 128 + signum


def _main(argv: list[str] | None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if hasattr(args, "executor"):
            check_run_options(args)
        with scenario_warnings_as_lines():
            return COMMANDS[args.command][2](args)
    except (ScenarioError, UsageError, ExecutorError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
