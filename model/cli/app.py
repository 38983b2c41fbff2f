"""The ``app`` command: ``python -m model app [SCENARIO] [--port N]`` serves the what-if page on 127.0.0.1.

Only arguments and printing: the page is :mod:`model.app`, imported when the
command runs, so the other commands work without Dash installed. A bad
scenario or ``--set`` is refused before anything starts, in the same one line
as ``run``; Ctrl-C or SIGTERM stops the server and its worker processes.
"""

from __future__ import annotations

import argparse
import signal
import sys

from ..experiments import default_workers
from ..experiments.estimate import check_resources
from ..scenario.errors import one_line
from .options import DEFAULT_SCENARIO, UsageError, _non_negative_int, _positive_int

__all__ = ["add_app_options", "cmd_app"]


def _port(text: str) -> int:
    port = _non_negative_int(text)
    if port > 65535:
        raise argparse.ArgumentTypeError(f"{port} must be at most 65535 (0: any free port)")
    return port


def add_app_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", nargs="?", default=str(DEFAULT_SCENARIO), help=f"scenario TOML (default {DEFAULT_SCENARIO})")
    p.add_argument("--port", type=_port, default=8050, help="port on 127.0.0.1 (default 8050; 0: any free port)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a field of the loaded scenario, as for run (the page's baseline)")
    p.add_argument("--workers", type=_positive_int, default=None, help="worker processes for replications (default: all cores)")
    p.add_argument("--out", default="outputs", help="folder under which the page writes run folders (default outputs/)")


def cmd_app(args) -> int:
    """Load the scenario, then serve the page until stopped; prints the address to open."""
    try:
        import dash  # noqa: F401 - only to say clearly that the extra is missing

        from ..app import load, serve
    except ImportError as err:
        raise UsageError(f"the app needs Dash ({err.name} is missing): pip install '.[app]'") from None
    loaded = load(args.scenario, args.overrides)
    workers = args.workers or default_workers()
    _, note = check_resources(loaded.scenario, loaded.scenario.replications, 1, workers, True, loaded.source)
    if note:  # the page checks every change the same way, before running it
        print(f"warning: {one_line(loaded.source)}: {note}", file=sys.stderr)
    try:
        serve(loaded, args.port, workers, args.out, on_ready=lambda url: print(f"what-if page: {url}  (Ctrl-C stops it)", flush=True))
    except OSError as err:
        raise UsageError(f"cannot serve on 127.0.0.1:{args.port}: {err.strerror or err}") from None
    except KeyboardInterrupt as err:
        signum = getattr(err, "signum", signal.SIGINT)
        print(f"app stopped by {signal.Signals(signum).name}", file=sys.stderr)
        return 128 + signum
    return 0
