"""Replications of a scenario, run serially, on worker processes or on a Dask cluster.

Replication ``r`` draws every random number from streams keyed by the
scenario seed and ``r`` alone, so the tables are the same whatever the
executor, the number of workers or the order in which replications finish:
every executor runs the same per-replication function, returns the same
compact records (never simulation objects) and the results are sorted by
replication before anything is joined.

Worker processes never outlive the run: an interrupted or failed run ends
its workers mid-replication (SIGTERM, then SIGKILL) before the exception goes
on, and each worker ends itself when the process that started it dies, even
by SIGKILL (``PR_SET_PDEATHSIG`` on Linux, and a thread that watches its
parent everywhere).
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import pkgutil
import signal
import sys
import threading
import time
from concurrent.futures import InvalidStateError, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from ..analysis import ReplicationResult, Results, build_results, summarise_replication
from ..engine import simulate_replication
from ..scenario import Scenario

__all__ = [
    "run_replication",
    "run_replications",
    "open_executor",
    "run_on",
    "simulate",
    "default_workers",
    "ExecutorError",
    "EXECUTORS",
]

#: Where replications can run.
EXECUTORS = ("process", "dask")

#: A replication to run: the scenario, its number, and what to run on its result where it ran (or None).
Job = tuple[Scenario, int, Callable | None]


class ExecutorError(Exception):
    """An executor that cannot be used: unknown name, Dask missing, scheduler unreachable."""


def default_workers() -> int:
    """Cores this process may use."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def run_replication(scenario: Scenario, replication: int = 0, extras: bool = True) -> ReplicationResult:
    """Simulate one replication of ``scenario`` and summarise it; streams depend on (seed, replication) only.

    ``extras=False`` leaves out what only a run folder needs (see :func:`model.analysis.summarise_replication`).
    """
    return summarise_replication(scenario, simulate_replication(scenario, replication), extras)


def _run_one(job: Job) -> ReplicationResult:
    """The one per-replication function every executor runs; ``prepare(scenario, result)`` after it, if given."""
    scenario, replication, prepare = job
    result = run_replication(scenario, replication)
    return prepare(scenario, result) if prepare else result


# --- executors: each yields the records of its jobs as they finish --------------------------


class _Serial:
    """Runs jobs one after another in this process."""

    slots = 1

    def completed(self, jobs: list[Job]) -> Iterator[ReplicationResult]:
        for job in jobs:
            yield _run_one(job)

    def map(self, fn: Callable, items: Iterable) -> list:
        """``fn`` of each item, in order."""
        return list(map(fn, items))


#: How long stopping a pool waits for its workers to end after SIGTERM, and then after SIGKILL.
STOP_TIMEOUT_S = 5.0
#: How long a stopped pool's manager thread is given to notice its dead workers unaided.
MANAGER_GRACE_S = 0.2
#: How often a worker checks that the process that started it is still its parent.
PARENT_POLL_S = 0.5
#: ``prctl`` option: the signal this process gets when its parent dies (linux/prctl.h).
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Linux: have the kernel send SIGKILL to this process when its parent dies, however it dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(ctypes.c_int(_PR_SET_PDEATHSIG), ctypes.c_ulong(signal.SIGKILL), ctypes.c_ulong(0), ctypes.c_ulong(0),
                   ctypes.c_ulong(0))
    except (OSError, AttributeError):  # no prctl: the watching thread is enough
        pass


def _exit_when_orphaned(parent: int) -> None:
    """Poll the parent's pid; when this process is re-parented (its parent died), exit at once."""
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_S)
    os._exit(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _worker_started(parent_pid: int, start_method: str) -> None:
    """The pool's initializer, run in every worker before its first job; it touches no random state.

    Ctrl-C in a terminal signals the whole process group: workers ignore SIGINT and the parent
    stops them. SIGTERM kills (a forked worker would otherwise inherit the command line's
    handler, which raises). The worker dies with its parent: ``PR_SET_PDEATHSIG`` on Linux (the
    parent may have died before it was set, hence the check after it), and on every platform a
    daemon thread that exits when the parent's pid changes. With the ``forkserver`` start method
    the parent is the fork server, which exits when ``parent_pid`` does. (For the kernel the
    parent is the thread that started the worker: the pool starts them in the thread that first
    submits, which must outlive the pool, as it does in :func:`run_replications`.)
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        _die_with_parent()
    parent = os.getppid()
    if (parent != parent_pid and start_method != "forkserver") or not _alive(parent_pid):
        os._exit(1)  # the run that started this worker is already gone
    threading.Thread(target=_exit_when_orphaned, args=(parent,), name="exit-when-orphaned", daemon=True).start()


def _process_pool(workers: int) -> ProcessPoolExecutor:
    """A pool whose workers die with this process (see :func:`_worker_started`)."""
    context = multiprocessing.get_context()
    return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_worker_started,
                               initargs=(os.getpid(), context.get_start_method()))


def _quietly(call: Callable, *args) -> None:
    """``call(*args)``, ignoring a process that is already closed or reaped (by the pool's own thread)."""
    try:
        call(*args)
    except (ValueError, OSError):
        pass


def _quiet_about_cancelled_futures() -> None:
    """Keep a pool stopped on purpose from printing a traceback of its manager thread.

    When its workers die, Python 3.11's manager thread sets an exception on every job not yet
    run, cancelled ones too, which raises ``InvalidStateError`` and ends that thread (later Pythons
    ignore it). Whether it happens depends on which of the cancellation and the workers' death
    the thread sees first; either way the jobs are gone and the workers are reaped here.
    """
    earlier = threading.excepthook
    if getattr(earlier, "quiet_about_cancelled_futures", False):
        return

    def hook(args) -> None:
        if not (issubclass(args.exc_type, InvalidStateError) and type(args.thread).__module__ == "concurrent.futures.process"):
            earlier(args)

    hook.quiet_about_cancelled_futures = True
    threading.excepthook = hook


def _stop_pool(pool: ProcessPoolExecutor, timeout: float = STOP_TIMEOUT_S) -> None:
    """End ``pool`` now: cancel the jobs not started and terminate its workers mid-replication.

    ``shutdown(wait=False, cancel_futures=True)`` alone would leave each worker to finish its
    replication, so every worker gets SIGTERM, then SIGKILL if still alive after ``timeout``
    seconds, and is joined (reaped). The workers are read from the pool's ``_processes`` (not
    public, but the only handle on them) before ``shutdown`` drops it.
    """
    processes = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)
    results = getattr(pool, "_result_queue", None)
    _quiet_about_cancelled_futures()
    pool.shutdown(wait=False, cancel_futures=True)
    for end in ("terminate", "kill"):  # SIGTERM; SIGKILL for any still alive after the timeout
        for process in processes:
            _quietly(getattr(process, end))
        deadline = time.monotonic() + timeout
        for process in processes:
            _quietly(process.join, max(0.0, deadline - time.monotonic()))
        processes = [p for p in processes if p.exitcode is None]
        if not processes:
            break
    if manager is None or manager is threading.current_thread():
        return
    manager.join(MANAGER_GRACE_S)  # it notices the dead workers, fails the futures left and closes its queues
    if manager.is_alive() and results is not None:
        # A worker killed half-way through sending its result leaves the manager blocked reading
        # the rest of it for ever: with every worker gone, closing this process's own write end of
        # the result pipe ends that read (end of file), and the manager winds the pool up.
        _quietly(results._writer.close)
        manager.join(timeout)


class _Processes:
    """A pool of worker processes on this machine."""

    def __init__(self, pool: ProcessPoolExecutor, workers: int):
        self.pool, self.slots = pool, workers

    def completed(self, jobs: list[Job]) -> Iterator[ReplicationResult]:
        futures = [self.pool.submit(_run_one, job) for job in jobs]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            for future in futures:
                future.cancel()

    def map(self, fn: Callable, items: Iterable) -> list:
        """``fn`` (a module-level function) of each item on the workers, in order."""
        return list(self.pool.map(fn, items))


def _install_hint() -> str:
    """How to install this package into another Python environment, as one command."""
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file():  # a source checkout (``make venv`` installs it editable)
        return f"pip install -e {root}"
    return "pip install border-surge (the version installed here)"


def _causes(err: BaseException) -> Iterator[BaseException]:
    """``err`` and the exceptions it was raised from or while handling."""
    seen: set[int] = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        yield err
        err = err.__cause__ or err.__context__


def _one_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return f"{type(err).__name__}: {lines[0]}" if lines else type(err).__name__


def _dask_failure(err: BaseException, where: str = "the scheduler or a worker") -> ExecutorError:
    """One line for a failure on the Dask side: the scheduler (recent Dask versions unpickle the task
    graph there) or a worker cannot import the model, or a replication raised on a worker."""
    install = f"install this package in every Dask process's environment (the scheduler's and each worker's): {_install_hint()}"
    missing = next((e for e in _causes(err) if isinstance(e, ImportError)), None)
    if missing is not None or "deserializ" in str(err).lower():
        return ExecutorError(f"dask: {where} cannot import the model ({_one_line(missing or err)}); {install}")
    return ExecutorError(f"dask: a replication failed on the cluster ({_one_line(err)}); if the cluster runs another "
                         f"version of the model, {install}")


#: Imported by the scheduler and every worker before any job is sent: a missing install is then one
#: clear error, not a task graph the scheduler cannot unpickle or a worker that dies on its first task.
_PROBE = f"{__name__}:__name__"


def _check_cluster(client: Any) -> None:
    """Raise :class:`ExecutorError` unless the scheduler and every worker can import this module."""
    try:
        client.run_on_scheduler(pkgutil.resolve_name, _PROBE)
    except Exception as err:
        raise _dask_failure(err, "the scheduler") from err
    answers = client.run(pkgutil.resolve_name, _PROBE, on_error="return")
    failed = {address: err for address, err in answers.items() if isinstance(err, BaseException)}
    if failed:
        address, err = next(iter(failed.items()))
        others = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        raise _dask_failure(err, f"the worker at {address}{others}") from err


class _Dask:
    """A Dask distributed client; the scheduler and the workers must be able to import ``model``."""

    def __init__(self, client: Any):
        self.client = client
        _check_cluster(client)
        self.slots = max(1, sum(client.nthreads().values()))

    def completed(self, jobs: list[Job]) -> Iterator[ReplicationResult]:
        from distributed import as_completed as dask_completed

        futures = self.client.map(_run_one, jobs, pure=False)
        try:
            for future in dask_completed(futures, loop=self.client.loop):
                try:
                    records = future.result()
                except Exception as err:  # raised remotely (or by the scheduler), re-raised here
                    raise _dask_failure(err) from err
                yield records
        finally:
            self.client.cancel(futures)

    def map(self, fn: Callable, items: Iterable) -> list:
        """``fn`` (a module-level function) of each item on the cluster, in order."""
        return self.client.gather(self.client.map(fn, list(items), pure=False))


def _dask_client(scheduler: Any):
    """A client for ``scheduler`` (an address, a cluster object or a client) and whether we opened it."""
    try:
        from distributed import Client
    except ImportError:
        raise ExecutorError("executor 'dask' needs the optional extra: pip install '.[dask]'") from None
    if scheduler is None:
        raise ExecutorError("executor 'dask' needs a scheduler: an address such as tcp://10.0.0.5:8786, or a cluster object")
    if isinstance(scheduler, Client):
        return scheduler, False
    try:
        return Client(scheduler, timeout="15s", set_as_default=False), True
    except (OSError, TimeoutError, ValueError) as err:
        raise ExecutorError(f"Dask scheduler {scheduler!r} cannot be reached: {err}") from None


@contextmanager
def open_executor(executor: str = "process", workers: int = 1, scheduler: Any = None):
    """An executor for many batches of jobs: serial, a process pool, or a Dask client.

    ``executor="process"`` with ``workers <= 1`` runs in this process. Leaving the block on an
    exception (``KeyboardInterrupt`` included) terminates the worker processes at once, in the
    middle of their replications; leaving it normally waits for them to exit.
    ``executor="dask"`` needs ``scheduler``: an address, a ``LocalCluster`` (or
    any cluster object) or a ``Client`` the caller made; nothing is started here.
    """
    if executor not in EXECUTORS:
        raise ExecutorError(f"executor {executor!r} is not one of {', '.join(EXECUTORS)}")
    if executor == "dask":
        client, owned = _dask_client(scheduler)
        try:
            yield _Dask(client)
        finally:
            if owned:
                client.close()
    elif workers <= 1:
        yield _Serial()
    else:
        # what exists now (the imported modules above all) is left out of garbage collection while the pool lives:
        # the forked workers then never write to those inherited pages, so they stay shared, and collecting costs less
        gc.freeze()
        try:
            pool = _process_pool(workers)
            try:
                yield _Processes(pool, workers)
            except BaseException:  # interrupted (Ctrl-C, SIGTERM) or failed: no replication left is wanted
                _stop_pool(pool)
                raise
            pool.shutdown(wait=True, cancel_futures=True)
        finally:
            gc.unfreeze()


def run_on(runner, scenario: Scenario, replications: Iterable[int], on_done=None,
           in_order: Callable[[ReplicationResult], ReplicationResult] | None = None,
           prepare: Callable[[Scenario, ReplicationResult], ReplicationResult] | None = None) -> list[ReplicationResult]:
    """Run replications on an executor already opened with :func:`open_executor` (kept open across
    many scenarios, e.g. the points of a sweep, so its worker processes start only once); sorted by
    replication whatever order they finish in.

    ``on_done`` is called with each replication as it finishes; ``in_order`` with each in replication
    order, as soon as it and all before it have finished (a run writes its large tables so, while the
    workers go on), and what it returns is kept in its place. ``prepare(scenario, result)``, a module-level
    function (it is sent to the workers), runs where each replication ran, before its result is sent back.
    """
    reps = sorted(replications)
    done: dict[int, ReplicationResult] = {}
    kept: list[ReplicationResult] = []
    for rec in runner.completed([(scenario, r, prepare) for r in reps]):
        if on_done:
            on_done(rec)
        done[rec.replication] = rec
        while len(kept) < len(reps) and reps[len(kept)] in done:
            rec = done.pop(reps[len(kept)])
            kept.append(in_order(rec) if in_order else rec)
    return kept


def run_replications(
    scenario: Scenario,
    replications: Iterable[int],
    workers: int = 1,
    on_done: Callable[[ReplicationResult], None] | None = None,
    executor: str = "process",
    scheduler: Any = None,
) -> list[ReplicationResult]:
    """Run the given replication numbers; returns their records sorted by replication.

    ``executor`` is ``"process"`` (``workers`` local processes; 1 runs here) or
    ``"dask"`` (the cluster at ``scheduler``, an address or a cluster object).
    ``on_done`` is called with each replication's records as it finishes.
    """
    reps = list(replications)
    with open_executor(executor, min(workers, len(reps)), scheduler) as runner:
        return run_on(runner, scenario, reps, on_done)


def simulate(
    scenario: Scenario,
    replications: int | None = None,
    workers: int = 1,
    executor: str = "process",
    scheduler: Any = None,
) -> Results:
    """Run ``replications`` (default: the scenario's) and return every table as DataFrames."""
    n = scenario.replications if replications is None else replications
    return build_results(scenario, run_replications(scenario, range(n), workers, executor=executor, scheduler=scheduler))
