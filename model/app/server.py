"""Serving the page on this machine: worker processes, the loaded scenario's replications, the web server.

:func:`serve` starts the worker processes, runs the loaded scenario's first
replication (the page opens with it) and queues the rest, then serves the
page on ``127.0.0.1`` until the process is stopped. The web server runs on a
thread; the main thread only waits, so Ctrl-C and SIGTERM (which the command
line turns into an exception there) end the server and then terminate the
worker processes on the way out: nothing is left running.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

from werkzeug.serving import make_server

from .jobs import Runs, Sessions, WorkerPool
from .page import build_app
from .settings import Loaded

__all__ = ["serve", "HOST"]

#: The app listens on this machine only: it runs simulations for whoever can reach it.
HOST = "127.0.0.1"


def serve(loaded: Loaded, port: int = 8050, workers: int = 1, out: str = "outputs",
          on_ready: Callable[[str], None] = print) -> None:
    """Serve the what-if page for ``loaded`` on ``http://127.0.0.1:PORT/`` until interrupted.

    ``port`` 0 takes a free port; ``on_ready`` is given the address once the
    page can be opened. ``out`` is where "write a run folder" writes.
    """
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    with WorkerPool(workers) as pool:
        baseline = Runs(loaded.scenario, "", pool.executor)
        baseline.first_here()
        baseline.ensure(loaded.scenario.replications)
        app = build_app(loaded, baseline, Sessions(baseline, pool.executor), workers, out)
        server = make_server(HOST, port, app.server, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name="web-server", daemon=True)
        thread.start()
        on_ready(f"http://{HOST}:{server.server_port}/")
        try:
            while thread.is_alive():
                thread.join(0.5)
        finally:
            server.shutdown()
