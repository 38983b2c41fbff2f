"""The command line: ``python -m model run [SCENARIO] [--seed N] [--set key=value ...] [--out DIR]``.

The top layer: it may import every other layer (report, experiments,
analysis, scenario) and holds no model logic; it parses arguments, calls the
model and prints. Here are the command table, the parser and the one place
where errors become exit codes: every bad input (a scenario file, an
override, an argument) ends with one line on stderr and exit code 2, and no
run folder. The commands are in :mod:`.run` (run, report, validate) and
:mod:`.studies` (sweep, compare, sensitivity, capacity); what they share is in
:mod:`.options`.
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable

from ..experiments import ExecutorError
from ..scenario import ScenarioError
from .options import (
    DEFAULT_SCENARIO,
    EXIT_BAD_INPUT,
    UsageError,
    _Parser,
    add_scenario_options,
    check_run_options,
    scenario_warnings_as_lines,
)
from .run import add_report_options, add_validate_options, cmd_report, cmd_run, cmd_validate
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

__all__ = ["main", "DEFAULT_SCENARIO"]


COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable]] = {
    "run": ("run a scenario and write a run folder", add_scenario_options, cmd_run),
    "sweep": ("vary one or two parameters over values, with replications and common random numbers", add_sweep_options, cmd_sweep),
    "compare": ("run scenarios on the same random numbers and compare key figures (paired differences)", add_compare_options, cmd_compare),
    "sensitivity": ("rank parameters by their influence on a key figure (SALib Morris or Sobol')",
                    add_sensitivity_options, cmd_sensitivity),
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
        with scenario_warnings_as_lines():
            return COMMANDS[args.command][2](args)
    except (ScenarioError, UsageError, ExecutorError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted; no run folder was written", file=sys.stderr)
        return 130
