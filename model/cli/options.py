"""What every command shares: the parser, argument types, the scenario options.

The parser turns every bad argument into a :class:`UsageError` (one line,
exit code 2, like a bad scenario) instead of argparse's usage dump. The
scenario options (``--seed``, ``--set``, ``--replications``, ``--precision``,
``--workers``, ``--executor``, ...) are the same for ``run`` and the
experiments, and so is turning them into a resolved :class:`Scenario`.
Loading a scenario may warn of implausible values (:class:`ScenarioWarning`);
:func:`scenario_warnings_as_lines` shows each once, as one line on stderr.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..experiments import EXECUTORS
from ..scenario import Scenario, ScenarioWarning, load_scenario

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
