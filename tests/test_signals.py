"""Stopping a run: SIGINT, SIGTERM and SIGKILL of a real ``model run`` (and of a study) end it cleanly.

Each case starts ``.venv/bin/python -m model run`` as a subprocess in a session of its own, sends
the signal while the replications run on two worker processes or while the run folder is being
written, and checks what a user (or a scheduler) would: the exit code (130, 143, -9), no
complete-looking run folder, an earlier run folder byte-identical, and no process of the run left
a few seconds later (the parent and every worker it had). After SIGKILL a hidden ``.incomplete-*``
folder may stay: nothing cleans up after a process killed outright, and it is never taken for a run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest
from conftest import PARAMS, ROOT

from model.cli import main
from model.experiments.replications import STOP_TIMEOUT_S, open_executor

pytestmark = [pytest.mark.slow, pytest.mark.skipif(os.name != "posix", reason="POSIX signals and sessions")]

PYTHON = ROOT / ".venv" / "bin" / "python"
DEFAULT = PARAMS / "kharkiv_2022.toml"
#: Enough replications to keep two workers busy for several seconds.
BUSY = ["--replications", "40"]
#: Few replications, to reach the run folder soon (writing it, with the report, takes seconds).
QUICK = ["--replications", "2"]
#: How long the test waits for a process to appear or go, and for the run to reach a phase.
PATIENCE_S = 60
#: After the signal, every process of the run must be gone within this.
GONE_WITHIN_S = 5.0
EXPECTED_CODE = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGKILL: -signal.SIGKILL}


def alive(process: psutil.Process) -> bool:
    """Still running (a zombie waiting for its new parent to reap it does not count)."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


class Launched:
    """A command started as a real process in a new session; records every worker it is seen with."""

    def __init__(self, command: str, argv: list[str], out: Path):
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([str(PYTHON), "-m", "model", command, *argv, "--workers", "2", "--out", str(out), "--quiet"],
                                     cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.stderr,
                                     start_new_session=True)
        self.processes = {self.proc.pid: psutil.Process(self.proc.pid)}
        self.started = time.monotonic()

    def note_workers(self) -> list[psutil.Process]:
        try:
            children = self.processes[self.proc.pid].children(recursive=True)
        except psutil.NoSuchProcess:
            children = []
        for child in children:
            self.processes.setdefault(child.pid, child)
        return [c for c in children if alive(c)]

    def wait_until(self, ready, what: str) -> None:
        while not ready():
            self.note_workers()
            assert self.proc.poll() is None, f"the run ended (exit {self.proc.returncode}) before {what}"
            assert time.monotonic() - self.started < PATIENCE_S, f"no {what} after {PATIENCE_S} s"
            time.sleep(0.01)
        self.note_workers()

    def wait_for_workers(self, busy_s: float = 1.0) -> None:
        """Until two workers exist, then ``busy_s`` more, so they are in the middle of replications."""
        self.wait_until(lambda: len(self.note_workers()) >= 2, "two worker processes")
        time.sleep(busy_s)
        assert len(self.note_workers()) >= 2

    def wait_for_writing(self, parent: Path, before: set[str]) -> None:
        """Until the small tables appear in a new temporary run folder in ``parent`` (made before the replications,
        which write the large tables into it): the run is writing its tables and report."""
        self.wait_until(lambda: parent.is_dir() and any(p.name.startswith(".incomplete-") and p.name not in before
                                                        and (p / "kpis.csv").exists() for p in parent.iterdir()),
                        "small tables in a temporary run folder")

    def finish(self, sig: int) -> tuple[int, str, float]:
        """Send ``sig`` to the parent; its exit code, its stderr, and the seconds until every process is gone."""
        os.kill(self.proc.pid, sig)
        sent = time.monotonic()
        code = self.proc.wait(PATIENCE_S)
        while any(alive(p) for p in self.processes.values()) and time.monotonic() - sent < PATIENCE_S:
            time.sleep(0.01)
        gone = time.monotonic() - sent
        self.stderr.seek(0)
        return code, self.stderr.read().decode(), gone

    def kill_what_is_left(self) -> None:
        for process in self.processes.values():
            if alive(process):
                process.kill()
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait(PATIENCE_S)


@pytest.fixture
def launch():
    started: list[Launched] = []

    def start(command: str, argv: list[str], out: Path) -> Launched:
        started.append(Launched(command, argv, out))
        return started[-1]

    yield start
    for run in started:  # whatever the test did, no process of ours outlives it
        run.kill_what_is_left()


@pytest.fixture(scope="module")
def earlier(tmp_path_factory):
    """An output folder holding one complete earlier run of the default scenario, and its bytes."""
    out = tmp_path_factory.mktemp("out")
    assert main(["run", str(DEFAULT), "--replications", "1", "--workers", "1", "--quiet", "--out", str(out)]) == 0
    (folder,) = [p for p in (out / "kharkiv_2022").iterdir() if not p.name.startswith(".")]
    assert (folder / "manifest.json").is_file()
    return out, folder, files(folder)


def assert_no_new_run(parent: Path, earlier_folder: Path | None, earlier_files: dict[str, bytes] | None, pid: int, sig: int) -> None:
    """Nothing under ``parent`` looks like a run but the earlier one, unchanged; after a catchable
    signal, no temporary folder of process ``pid`` is left either."""
    entries = list(parent.iterdir()) if parent.is_dir() else []
    runs = [p for p in entries if not p.name.startswith(".")]
    assert runs == ([earlier_folder] if earlier_folder else []), "a run folder appeared"
    assert all(p.name.startswith(".incomplete-") for p in entries if p not in runs)
    if earlier_folder:
        assert files(earlier_folder) == earlier_files
    if sig != signal.SIGKILL:
        assert not [p.name for p in entries if p.name.startswith(".incomplete-") and f"-{pid}-" in p.name]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=lambda s: s.name)
@pytest.mark.parametrize("phase", ["simulating", "writing"])
def test_a_signal_ends_the_run_its_workers_and_its_temporary_folder(phase, sig, earlier, launch):
    out, earlier_folder, earlier_files = earlier
    parent = out / "kharkiv_2022"
    before = {p.name for p in parent.iterdir()}
    run = launch("run", [str(DEFAULT), *(BUSY if phase == "simulating" else QUICK)], out)
    if phase == "simulating":
        run.wait_for_workers()
    else:
        run.wait_for_writing(parent, before)
    workers = len(run.processes) - 1
    code, err, gone = run.finish(sig)
    assert code == EXPECTED_CODE[sig], err
    if sig != signal.SIGKILL:
        assert err == f"interrupted by {sig.name}; no run folder was written\n"
    assert workers >= 2
    assert gone < GONE_WITHIN_S, f"{[p.pid for p in run.processes.values() if alive(p)]} still running {gone:.1f} s after {sig.name}"
    assert_no_new_run(parent, earlier_folder, earlier_files, run.proc.pid, sig)


def test_ctrl_c_in_a_terminal_signals_the_whole_process_group(tmp_path, launch):
    """A terminal sends SIGINT to every process of the foreground group: the workers ignore it and the run stops them."""
    run = launch("run", [str(DEFAULT), *BUSY], tmp_path)
    run.wait_for_workers()
    os.killpg(run.proc.pid, signal.SIGINT)
    code, err, gone = run.finish(0)  # signal 0: nothing more is sent, only the waiting
    assert (code, err) == (130, "interrupted by SIGINT; no run folder was written\n")
    assert gone < GONE_WITHIN_S
    assert_no_new_run(tmp_path / "kharkiv_2022", None, None, run.proc.pid, signal.SIGINT)


def test_sigterm_of_a_sweep_stops_its_workers(tmp_path, launch):
    run = launch("sweep", [str(DEFAULT), "--replications", "10", "--vary", "crossings.Logachevka.car.booths=4,5"], tmp_path)
    run.wait_for_workers()
    code, err, gone = run.finish(signal.SIGTERM)
    assert (code, err) == (143, "interrupted by SIGTERM; no run folder was written\n")
    assert gone < GONE_WITHIN_S
    assert_no_new_run(tmp_path / "kharkiv_2022-sweep", None, None, run.proc.pid, signal.SIGTERM)


# --- the worker side: stopped mid-job, and dead with their parent however it dies ----------------

ORPHAN = """
import sys, time
import model.experiments.replications as replications
if sys.argv[1] == "without-prctl":
    replications._die_with_parent = lambda: None  # forked workers inherit this: only the watching thread is left
with replications.open_executor("process", 2) as runner:
    futures = [runner.pool.submit(time.sleep, 120) for _ in range(2)]
    print("ready", flush=True)
    time.sleep(120)
"""


@pytest.mark.parametrize("how, within_s", [("with-prctl", 1.0), ("without-prctl", 2.0)])
def test_workers_die_with_a_parent_killed_outright(how, within_s):
    """SIGKILL runs no code in the parent: on Linux the kernel kills the workers (PR_SET_PDEATHSIG);
    elsewhere, or if that failed, each worker's thread sees it was re-parented within half a second."""
    if how == "with-prctl" and not sys.platform.startswith("linux"):
        pytest.skip("PR_SET_PDEATHSIG is Linux only")
    proc = subprocess.Popen([str(PYTHON), "-c", ORPHAN, how], cwd=ROOT, stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        workers = psutil.Process(proc.pid).children()
        assert len(workers) == 2
        os.kill(proc.pid, signal.SIGKILL)
        killed = time.monotonic()
        proc.wait(PATIENCE_S)
        while any(alive(w) for w in workers) and time.monotonic() - killed < PATIENCE_S:
            time.sleep(0.01)
        assert time.monotonic() - killed < within_s
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(PATIENCE_S)


def test_an_interrupted_pool_terminates_its_workers_mid_job():
    """Leaving the executor on an exception does not wait for the jobs running (here two minutes long)."""
    with pytest.raises(KeyboardInterrupt):
        with open_executor("process", 2) as runner:
            futures = [runner.pool.submit(time.sleep, 120) for _ in range(4)]
            workers = list(runner.pool._processes.values())
            time.sleep(0.3)
            started = time.monotonic()
            raise KeyboardInterrupt
    assert time.monotonic() - started < STOP_TIMEOUT_S
    assert all(w.exitcode is not None for w in workers)
    assert all(f.cancelled() or f.done() for f in futures)


def test_stopping_a_pool_whose_manager_waits_on_a_half_sent_result_is_quick():
    """A worker killed half-way through sending its result leaves the pool's manager thread reading the
    rest for ever (seen in CI as a 5 s stop, about one SIGINT in twelve): stopping still takes well under a
    second, and the manager ends. The half-sent result is written here by hand: a header announcing a
    megabyte, then ten bytes."""
    import struct

    with pytest.raises(KeyboardInterrupt):
        with open_executor("process", 2) as runner:
            assert runner.pool.submit(abs, -1).result() == 1  # the workers and the manager are running
            manager = runner.pool._executor_manager_thread
            os.write(runner.pool._result_queue._writer.fileno(), struct.pack("!i", 1_000_000) + b"x" * 10)
            time.sleep(0.3)
            assert manager.is_alive()
            started = time.monotonic()
            raise KeyboardInterrupt
    assert time.monotonic() - started < 1.0
    assert not manager.is_alive()


def test_the_command_line_puts_back_the_signal_handlers_it_found(tmp_path):
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    assert main(["run", str(tmp_path / "missing.toml"), "--out", str(tmp_path)]) == 2
    assert {sig: signal.getsignal(sig) for sig in before} == before


def test_the_process_ends_at_once_without_joining_the_pool_threads_or_freeing_every_object(monkeypatch):
    """The entry point ends the process with os._exit, its output flushed: after an interruption a normal exit would
    join the pool's result thread, which can wait for ever on a result a killed worker was half-way through sending
    (seen about once in five interrupted runs of the default scenario before this); after a run it would only free
    its objects. Under a profiler or a coverage tool it exits normally, so they can write their data."""
    import model.cli as cli

    ended = []
    monkeypatch.setattr(cli.os, "_exit", lambda code: ended.append(code))
    for code in (130, 0, 2):
        monkeypatch.setattr(cli, "main", lambda code=code: code)
        cli.console()
    assert ended == [130, 0, 2]
    monkeypatch.setattr(cli.sys, "gettrace", lambda: print)  # as under coverage
    with pytest.raises(SystemExit) as done:
        cli.console()
    assert done.value.code == 2 and ended == [130, 0, 2]


def test_a_stopped_pool_does_not_print_the_manager_threads_cancelled_future_error():
    """Python 3.11's pool manager thread raises InvalidStateError on a cancelled job when the workers it had die;
    a pool stopped on purpose keeps that quiet, and passes any other thread's error to the hook it had."""
    import threading
    from concurrent.futures import InvalidStateError

    from model.experiments.replications import _quiet_about_cancelled_futures

    before, seen = threading.excepthook, []
    try:
        threading.excepthook = lambda args: seen.append(args.exc_type)
        _quiet_about_cancelled_futures()
        _quiet_about_cancelled_futures()  # once is enough: not wrapped twice
        manager = type("_ExecutorManagerThread", (threading.Thread,), {"__module__": "concurrent.futures.process"})()
        threading.excepthook(threading.ExceptHookArgs([InvalidStateError, InvalidStateError("CANCELLED"), None, manager]))
        threading.excepthook(threading.ExceptHookArgs([ValueError, ValueError("other"), None, threading.Thread(name="t")]))
        assert seen == [ValueError]
    finally:
        threading.excepthook = before
