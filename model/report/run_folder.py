"""Run folders: every run writes a new folder, completely or not at all, and only under ``--out``.

A run folder ``<out>/<scenario name>/<timestamp>/`` holds the resolved
scenario (``scenario.toml``), a ``manifest.json`` (seed, versions, scenario
hash, timing, the files and their SHA-256 checksums) and the tables: the
large per-party and per-change tables (``parties``, ``stays``, ``queues``) as
Parquet, with time-zone-aware timestamps and dictionary-encoded names, and
the small ones as CSV so a spreadsheet opens them (:data:`TABLE_MODES` says
what ``--tables`` changes); the report's chart tables under ``charts/``.
It is written under a hidden temporary name in the same parent and renamed
only when complete, so an interrupted run leaves no half-written folder and an
earlier run is never overwritten.

Safety rules, as the careful command-line tools keep them:
:func:`check_destination` tells, before any work, whether a run folder can be
made (``--out`` a folder or creatable and writable; ``<out>/<name>`` a real
folder or absent; a name that is one plain path part). Every file is created
new (``O_CREAT | O_EXCL | O_NOFOLLOW``), so nothing is clobbered or written
through a symbolic link; a file that is rewritten (``report.html``) is written
to a temporary file beside it and renamed over it (:func:`replace_text`). The
temporary folder's name carries the writing process (pid, start time, the
boot and pid namespace it runs in) and a random token, so two runs never share
one, and a new run removes those whose process is provably dead
(:func:`remove_stale`).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import secrets
import shutil
import socket
import stat
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

import tomli_w

from ..analysis import Results
from ..scenario import Scenario
from .large_tables import write_large_tables
from .table_files import create_file, create_text, write_table

__all__ = ["scenario_toml", "scenario_sha256", "RunFolder", "RunFolderError", "check_destination", "remove_stale",
           "write_results", "write_run_files", "write_manifest", "write_table",
           "TABLE_MODES", "LARGE_TABLES", "create_text", "replace_text", "check_replaceable", "file_sha256",
           "package_versions"]

_PACKAGES = ["simpy", "numpy", "pandas", "pyarrow", "plotly", "pydantic", "scipy", "tomli_w", "tqdm", "SALib", "dask",
             "distributed"]

#: The tables with a row per party, per stay in a queue or per change of a queue: Parquet, or none with ``summary``.
LARGE_TABLES = ("parties", "queues", "stays")
#: What ``--tables`` may be: the large tables as Parquet (the default), as Parquet and CSV, or not at all.
TABLE_MODES = {
    "parquet": "parties, queues and stays as Parquet; the small tables as CSV",
    "csv": "parties, queues and stays as Parquet and as CSV; the small tables as CSV",
    "summary": "no per-party tables (parties, queues, stays): only the small tables, the chart tables and the report",
}


def scenario_sha256(toml_text: str) -> str:
    """The hash that identifies a resolved scenario in manifests and reports."""
    return hashlib.sha256(toml_text.encode("utf-8")).hexdigest()


def scenario_toml(scenario: Scenario) -> str:
    """The resolved scenario as TOML text that loads back to the same scenario."""
    data = scenario.model_dump(mode="python", by_alias=True, exclude_none=True)
    return tomli_w.dumps(_plain(data))


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _plain(v) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return [_plain(v) for v in node]
    return node


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


class RunFolderError(Exception):
    """A destination a run folder cannot be written to safely, with a one-line reason."""


# --- files: created new, never through a link ---------------------------------------------------

def _kind(mode: int) -> str:
    kinds = [(stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a folder"), (stat.S_ISREG, "a file"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a pipe"),
             (stat.S_ISSOCK, "a socket")]
    return next((name for test, name in kinds if test(mode)), "not a file")


def replace_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically: a temporary file in the same folder, renamed over ``path``.

    Refuses (:class:`RunFolderError`) when ``path`` exists and is not a regular
    file, e.g. a symbolic link: the link's target is never written. The new file
    keeps the old one's permission bits.
    """
    path = Path(path)
    old = check_replaceable(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(create_file(tmp), "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if old is not None:
            os.chmod(tmp, stat.S_IMODE(old.st_mode))
        check_replaceable(path)  # again, just before: rename replaces a link itself, but say so instead
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def check_replaceable(path: str | Path) -> os.stat_result | None:
    """``path``'s status if it is a regular file, None if absent; otherwise :class:`RunFolderError` (a link, a folder...)."""
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    if stat.S_ISLNK(st.st_mode):
        raise RunFolderError(f"{path}: is a symbolic link; it is never written through (remove the link and run again)")
    if not stat.S_ISREG(st.st_mode):
        raise RunFolderError(f"{path}: exists and is {_kind(st.st_mode)}, not a regular file (remove it and run again)")
    return st


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, as lowercase hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- where a run folder goes ---------------------------------------------------------------------

#: What a scenario's name may be to name its run folders: one plain path part.
NAME_RULE = "one folder name: not empty, not '.' or '..', not starting with '.', no '/', '\\' or control characters, at most 200 bytes"


def _check_name(name: str) -> None:
    """``name`` is one plain path part, so ``<out>/<name>`` stays under ``out``."""
    bad = (not name or name.startswith(".") or any(c in "/\\" or ord(c) < 32 or ord(c) == 127 for c in name)
           or len(name.encode("utf-8", "surrogatepass")) > 200)
    if bad:
        raise RunFolderError(f"name = {name!r}: the scenario's name cannot name a run folder under --out (allowed: {NAME_RULE})")


def _check_out(out: str | Path) -> None:
    """``out`` is (or can be made) a folder this process may write in.

    An ``out`` that exists is followed like any path typed on a command line
    (it may be a link to a folder); the parts of it that are missing will be
    created, and the nearest existing part must be a writable folder.
    """
    text = os.fspath(out)
    if text == "":
        raise RunFolderError("--out '': empty; name the folder under which run folders are made, e.g. --out outputs")
    if "\0" in text:
        raise RunFolderError(f"--out {text!r}: contains a NUL character")
    part = Path(text)
    while not os.path.lexists(part) and part.parent != part:
        part = part.parent
    where = "" if part == Path(text) else f" (its part {part})"
    if os.path.islink(part) and not os.path.exists(part):
        raise RunFolderError(f"--out {text}{where}: is a symbolic link to nowhere; name a folder")
    if not part.is_dir():
        try:
            kind = _kind(os.stat(part).st_mode)
        except OSError as err:
            kind = err.strerror or "not reachable"
        raise RunFolderError(f"--out {text}{where}: is {kind}, not a folder; name a folder under which run folders are made")
    if not os.access(part, os.W_OK | os.X_OK):
        raise RunFolderError(f"--out {text}{where}: folder is not writable by this user")


def check_destination(out: str | Path, name: str, kind: str | None = None) -> Path:
    """Check, before any work, that a run folder can be made in ``<out>/<name>`` (``<out>/<name>-<kind>`` for
    an experiment of that kind); returns that path.

    ``out`` must be a writable folder or creatable (see :func:`_check_out`);
    ``name`` one plain path part (:data:`NAME_RULE`); ``<out>/<name>`` absent or
    a real, writable folder: not a file, not a symbolic link (run folders are
    never written through one). Raises :class:`RunFolderError` with a one-line
    reason; writes nothing.
    """
    _check_out(out)
    _check_name(name)
    parent = Path(out) / (name if kind is None else f"{name}-{kind}")
    try:
        st = os.lstat(parent)
    except FileNotFoundError:
        return parent
    if stat.S_ISLNK(st.st_mode):
        target = "to nowhere" if not os.path.exists(parent) else "to a folder"
        raise RunFolderError(f"{parent}: is a symbolic link {target}; run folders are never written through a link "
                             "(remove it or choose another --out)")
    if not stat.S_ISDIR(st.st_mode):
        raise RunFolderError(f"{parent}: is {_kind(st.st_mode)}, not a folder; remove it or choose another --out")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise RunFolderError(f"{parent}: folder is not writable by this user")
    return parent


# --- temporary folders and their owners ------------------------------------------------------------

TEMP_PREFIX = ".incomplete-"
#: ``.incomplete-<stamp>-<pid>-<process start>-<where>-<token>``; ``where`` is the boot and pid namespace.
_TEMP_NAME = re.compile(re.escape(TEMP_PREFIX) + r"(\d{8}T\d{6})-(\d+)-(\d+)-([0-9a-f]{8})-([0-9a-f]{8})")


def _process_start(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks after boot, /proc/PID/stat field 22); None if unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def _where() -> str:
    """Eight hex digits naming where pids mean the same processes: this boot of this machine and pid namespace.

    Without /proc (not Linux), the host name stands in for it.
    """
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as f:
            place = f.read().strip() + os.readlink("/proc/self/ns/pid")
    except OSError:
        place = "host " + socket.gethostname()
    return hashlib.sha256(place.encode("utf-8")).hexdigest()[:8]


def _provably_dead(pid: int, start: int) -> bool:
    """Whether the process that wrote a temporary folder is gone: its pid is unused, or used by a later process."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # PermissionError: alive, another user's
        pass
    now = _process_start(pid)  # None: no /proc, or it ended just now (the next run will see that)
    return now is not None and start != 0 and now != start


def remove_stale(parent: Path) -> list[Path]:
    """Remove temporary folders in ``parent`` whose writing process is provably dead; returns them.

    Only folders named by :func:`RunFolder` on this boot, machine and pid
    namespace are judged (a pid means nothing elsewhere), and only removed when
    that pid is not alive or now belongs to a process that started later
    (pid reuse). Others, and any older-style name, are left alone.
    """
    removed, here = [], _where()
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return removed
    for entry in entries:
        m = _TEMP_NAME.fullmatch(entry.name)
        if not m or m.group(4) != here or not entry.is_dir(follow_symlinks=False):
            continue
        if _provably_dead(int(m.group(2)), int(m.group(3))):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(Path(entry.path))
    return removed


class RunFolder:
    """``with RunFolder(out, name) as tmp:`` fill ``tmp``; on success it becomes ``self.path``.

    On error the temporary folder is removed and nothing appears under ``out``.
    Entering checks the destination again (:func:`check_destination`), makes
    ``<out>/<name>`` (never through a link), removes stale temporary folders
    of dead runs there (:func:`remove_stale`) and makes this run's own.
    """

    def __init__(self, out: str | Path, scenario_name: str, now: datetime | None = None):
        if os.fspath(out) == "":
            _check_out(out)  # refuses: an empty out would be the current folder
        _check_name(scenario_name)
        self.out = out
        self.parent = Path(out) / scenario_name
        self.stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%S")
        self.path: Path | None = None
        self._tmp: Path | None = None

    def __enter__(self) -> Path:
        check_destination(self.out, self.parent.name)
        Path(self.out).mkdir(parents=True, exist_ok=True)
        try:
            os.mkdir(self.parent)
        except FileExistsError:
            pass
        if not stat.S_ISDIR(os.lstat(self.parent).st_mode):  # replaced since the check
            raise RunFolderError(f"{self.parent}: is no longer a folder; run folders are never written through a link")
        remove_stale(self.parent)
        pid = os.getpid()
        tmp = self.parent / f"{TEMP_PREFIX}{self.stamp}-{pid}-{_process_start(pid) or 0}-{_where()}-{secrets.token_hex(4)}"
        os.mkdir(tmp)
        self._tmp = tmp
        return tmp

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            return False
        try:
            self.path = _rename_unique(self._tmp, self.parent, self.stamp)
        except BaseException:
            shutil.rmtree(self._tmp, ignore_errors=True)
            raise
        return False


def _rename_unique(tmp: Path, parent: Path, stamp: str) -> Path:
    for n in range(1, 10_000):
        final = parent / (stamp if n == 1 else f"{stamp}-{n}")
        try:
            os.rename(tmp, final)  # fails if final exists (a folder with files, a file, a link)
            return final
        except OSError:
            if not os.path.lexists(final):
                raise
    raise RuntimeError(f"could not find a free run folder name under {parent}")


def write_results(
    results: Results,
    out: str | Path,
    run_info: dict[str, Any],
    extra: Callable[[Path], None] | None = None,
    tables: str = "parquet",
) -> Path:
    """Write every table, the resolved scenario and the manifest into a new run folder; returns its path.

    ``tables`` is one of :data:`TABLE_MODES`.
    """
    if tables not in TABLE_MODES:
        raise ValueError(f"tables={tables!r}: must be one of {', '.join(TABLE_MODES)}")
    run_folder = RunFolder(out, results.scenario.name)
    with run_folder as folder:
        write_run_files(results, folder, run_info, extra, tables)
    return run_folder.path


def write_run_files(
    results: Results,
    folder: Path,
    run_info: dict[str, Any],
    extra: Callable[[Path], None] | None = None,
    tables: str = "parquet",
) -> None:
    """Fill a run folder being written (``with RunFolder(...) as folder``): the tables (the large ones unless they
    were written replication by replication as the run went, :class:`~model.report.large_tables.LargeTables`),
    the resolved scenario, what ``extra(folder)`` writes (the report), and last the manifest."""
    scenario = results.scenario
    started = run_info.get("started_at") or datetime.now(timezone.utc).isoformat()
    toml_text = scenario_toml(scenario)
    create_text(folder / "scenario.toml", toml_text)
    small = {
        "kpis.csv": results.kpis,
        "kpis_by_replication.csv": results.kpis_by_replication,
        "queues_summary.csv": results.queues_summary,
        "daily.csv": results.daily,
    }
    if results.parties is not None:
        write_large_tables(results, folder, tables)
    for name, frame in small.items():
        write_table(frame, folder / name)
    (folder / "charts").mkdir()
    for name, frame in results.charts.items():
        write_table(frame, folder / "charts" / f"{name}.csv")
    if extra is not None:
        extra(folder)
    write_manifest(folder, {
        "scenario": scenario.name,
        "seed": scenario.seed,
        "replications": results.replications,
        "scenario_sha256": scenario_sha256(toml_text),
        "source": run_info.get("source"),
        "overrides": run_info.get("overrides", []),
        "workers": run_info.get("workers"),
        "tables": tables,
        "command": run_info.get("command"),
        "started_at": started,
        "timing_s": run_info.get("timing_s"),
    })


def write_manifest(folder: Path, fields: dict[str, Any]) -> None:
    """``manifest.json``: the run's own ``fields`` plus versions, command line, finish time, file list and checksums.

    ``checksums`` maps every file of the folder (but the manifest itself) to
    its SHA-256, so a reader can tell a changed or cut file from the one the
    run wrote (:func:`model.report.run_tables.verify_checksums`).
    """
    now = datetime.now(timezone.utc).isoformat()
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    manifest = {
        **fields,
        "command": fields.get("command") or " ".join(sys.argv),
        "versions": package_versions(),
        "started_at": fields.get("started_at") or now,
        "finished_at": now,
        "files": files + ["manifest.json"],
        "checksums": {name: file_sha256(folder / name) for name in files},
    }
    create_text(folder / "manifest.json", json.dumps(manifest, indent=2, default=str) + "\n")
