"""Replications for the page: the first one at once, the rest on worker processes, stale ones cancelled.

:class:`Runs` holds the replications of one scenario as they finish. The
loaded scenario's runs (the baseline) are shared by every page: they are
fixed by the scenario, so sharing them mixes nothing. Each page (a browser
tab) has a token; :class:`Sessions` keeps, per token, the runs of the
settings that page shows now, keyed by those settings, and nothing else. When
a page's settings change, its old runs are cancelled: replications not yet
started are dropped; one already running ends within a replication, and its
result is discarded with the runs. A page whose token is unknown (the server
restarted, or the page was idle while many others came) simply starts again
from its own settings, so no page can ever be shown another page's results.

Replication ``r`` uses random streams keyed by (seed, r) only, so the
baseline and the changed settings see the same departures and draws: their
replication-by-replication differences are common-random-number pairs.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import ExitStack

from ..analysis import ReplicationResult
from ..experiments import open_executor, run_replication
from ..scenario import Scenario

__all__ = ["Runs", "Sessions", "WorkerPool", "MAX_SESSIONS"]

#: Pages whose runs are kept; the least recently seen beyond this are dropped (they recompute if they come back).
MAX_SESSIONS = 12


class WorkerPool:
    """Worker processes for the replications, started in the thread that builds this and ended with the app.

    Built on :func:`model.experiments.open_executor`, so the workers die with
    this process, even by SIGKILL, and leaving the ``with`` block on an
    exception (Ctrl-C, SIGTERM) terminates them mid-replication. With one
    worker the replications run on a thread of this process.
    """

    def __init__(self, workers: int):
        self.workers = max(1, workers)
        self._stack = ExitStack()
        self.executor: Executor

    def __enter__(self) -> WorkerPool:
        if self.workers > 1:
            runner = self._stack.enter_context(open_executor("process", self.workers))
            self.executor = runner.pool
            # start every worker now, from this long-lived thread: a worker dies with the thread that
            # started it (PR_SET_PDEATHSIG), and the server's request threads end after each request
            for f in [self.executor.submit(time.sleep, 0.05) for _ in range(self.workers)]:
                f.result()
        else:
            self.executor = self._stack.enter_context(ThreadPoolExecutor(1, thread_name_prefix="replication"))
        return self

    def __exit__(self, *exc) -> bool:
        return self._stack.__exit__(*exc)


class Runs:
    """The replications of one scenario (its ``replications`` field aside): those done and those under way.

    ``key`` names the settings that give the scenario (``""``: the loaded
    scenario). Thread-safe: the server's threads read it while the pool's
    thread adds results.
    """

    def __init__(self, scenario: Scenario, key: str, executor: Executor):
        self.scenario, self.key, self._executor = scenario, key, executor
        self._lock = threading.Lock()
        self._results: dict[int, ReplicationResult] = {}
        self._futures: dict[int, Future] = {}
        self.errors: list[str] = []
        self.cancelled = False
        self.started = time.perf_counter()
        self.first_s: float | None = None  # seconds from start to the first replication
        self._all_s: dict[int, float] = {}  # seconds from start until replications 0..n-1 were all done
        self.version = 0  # counts results; the page redraws when it changes

    # --- running ---

    def first_here(self) -> None:
        """Run replication 0 in the calling thread (the page's request), unless it is done or under way."""
        with self._lock:
            if 0 in self._results or 0 in self._futures:
                return
            future: Future = Future()
            self._futures[0] = future
        future.add_done_callback(lambda f: self._done(0, f))
        if not future.set_running_or_notify_cancel():  # cancelled already: the page moved on
            return
        try:  # a running future cannot be cancelled any more; its result is discarded if the runs are
            future.set_result(run_replication(self.scenario, 0, extras=False))  # the page shows no chart tables
        except Exception as err:  # noqa: BLE001 - shown on the page, never a crashed server
            future.set_exception(err)

    def ensure(self, n: int) -> None:
        """Submit every replication below ``n`` that is neither done nor under way."""
        with self._lock:
            if self.cancelled:
                return
            missing = [r for r in range(n) if r not in self._results and r not in self._futures]
            for r in missing:
                future = self._executor.submit(run_replication, self.scenario, r, False)
                self._futures[r] = future
                future.add_done_callback(lambda f, r=r: self._done(r, f))

    def _done(self, r: int, future: Future) -> None:
        if future.cancelled():
            with self._lock:
                self._futures.pop(r, None)
            return
        err = future.exception()
        with self._lock:
            self._futures.pop(r, None)
            if self.cancelled:
                return
            if err is not None:
                self.errors.append(f"replication {r}: {type(err).__name__}: {err}")
            else:
                self._results[r] = future.result()
                now = time.perf_counter() - self.started
                if r == 0:
                    self.first_s = now
                done = set(self._results)
                n = 1
                while n in done:
                    n += 1
                if 0 in done:
                    self._all_s.setdefault(n, now)
            self.version += 1

    def cancel(self) -> None:
        """Drop the replications not yet started; those running finish and are discarded."""
        with self._lock:
            self.cancelled = True
            futures = list(self._futures.values())
        for f in futures:
            f.cancel()

    # --- reading ---

    def results(self, n: int) -> list[ReplicationResult]:
        """The replications below ``n`` done so far, in replication order."""
        with self._lock:
            return [self._results[r] for r in sorted(self._results) if r < n]

    def count(self, n: int) -> int:
        with self._lock:
            return sum(1 for r in self._results if r < n)

    def seconds_for_all(self, n: int) -> float | None:
        """Seconds from start until replications 0..n-1 were all done (None: not yet)."""
        with self._lock:
            return next((s for k, s in sorted(self._all_s.items()) if k >= n), None)

    def wait(self, n: int, timeout: float) -> bool:
        """Wait until replications 0..n-1 are done (or failed); True if all are done."""
        self.ensure(n)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.count(n) >= n:
                return True
            if self.errors:
                return False
            time.sleep(0.05)
        return self.count(n) >= n


class Sessions:
    """Per page token, the runs of the settings that page shows; and the baseline runs every page shares."""

    def __init__(self, baseline: Runs, executor: Executor, limit: int = MAX_SESSIONS):
        self.baseline, self._executor, self._limit = baseline, executor, limit
        self._lock = threading.Lock()
        self._pages: OrderedDict[str, Runs] = OrderedDict()

    def runs_for(self, token: str, key: str, scenario: Scenario) -> tuple[Runs, bool]:
        """The runs page ``token`` shows for settings ``key``, and whether they are new (nothing run yet).

        New settings cancel the page's previous runs. The loaded scenario's
        settings (``key == ""``) are the shared baseline runs.
        """
        with self._lock:
            old = self._pages.get(token)
            if old is not None and old.key == key:
                self._pages.move_to_end(token)
                return old, False
            if old is not None and old is not self.baseline:
                old.cancel()
            runs = self.baseline if key == "" else Runs(scenario, key, self._executor)
            self._pages[token] = runs
            self._pages.move_to_end(token)
            while len(self._pages) > self._limit:
                _, dropped = self._pages.popitem(last=False)
                if dropped is not self.baseline:
                    dropped.cancel()
            return runs, runs is not self.baseline

    def __len__(self) -> int:
        return len(self._pages)
