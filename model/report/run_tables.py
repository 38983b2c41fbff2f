"""Reading a run folder: the report's tables, checked and with local times, and any table for the API.

The report reads tables, never simulation objects and never per-party rows,
so it can be rebuilt from a run folder alone, fast, whatever ``--tables``
wrote: the small CSV tables and the chart tables under ``charts/``. :func:`read_run` checks that the folder holds the files
and columns the report needs, that every file its ``manifest.json`` lists
still has the checksum the run recorded (:func:`verify_checksums`), and that
the tables that always have rows have some (:class:`ReportError` with a
one-line reason if not); it turns every date-time into a local, offset-free
timestamp of the scenario's time zone, as shown on every time axis.

A folder without checksums (no ``manifest.json``, as while a run writes its
own report, or one written before checksums were recorded) is read
unchecked; :func:`manifest_checksums` tells it, and the ``report`` command
says so in a warning.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pandas as pd

from ..analysis.chart_tables import CHART_TABLES, CHART_TIMES
from ..scenario import Scenario, load_scenario
from .run_folder import LARGE_TABLES, file_sha256

__all__ = ["read_run", "read_table", "RunTables", "ReportError", "REQUIRED_FILES", "SUMMARY_COLUMNS", "KPI_COLUMNS",
           "CHART_COLUMNS", "manifest_checksums", "verify_checksums", "UNCHECKED_FILES"]

#: The chart tables' columns (:mod:`model.analysis.chart_tables`): keys, then counts.
CHART_COLUMNS = {name: keys + values for (name, keys), values in zip(CHART_TABLES.items(), (
    ["departed", "arrived", "crossed"], ["people"], ["people", "walked"], ["people", "services"], ["parties"]))}
REQUIRED_FILES = ("scenario.toml", "queues_summary.csv", "kpis.csv", "daily.csv") + tuple(f"charts/{n}.csv" for n in CHART_TABLES)
SUMMARY_COLUMNS = ["crossing", "time"] + [f"{m}_{q}" for m in ("queue_km", "vehicles_waiting", "people_waiting")
                                          for q in ("mean", "median", "p05", "p95")]
KPI_COLUMNS = ["crossing", "kpi", "unit", "n", "mean", "sd", "ci95_low", "ci95_high", "replications"]


#: Files a manifest lists but :func:`verify_checksums` does not check: the report command rebuilds them.
UNCHECKED_FILES = ("report.html", "brief.html")
_SHA256 = re.compile(r"[0-9a-f]{64}")


class ReportError(Exception):
    """A run folder the report cannot be built from, with a one-line reason."""


# --- checksums ---------------------------------------------------------------------------------


def manifest_checksums(folder: str | Path) -> dict[str, str] | None:
    """The ``checksums`` map of a run folder's ``manifest.json``: file name -> SHA-256.

    None when the folder has no ``manifest.json`` or its manifest no checksums
    (a run from before they were recorded); :class:`ReportError` when the
    manifest is not a regular file, not JSON or its checksums are malformed.
    """
    path = Path(folder) / "manifest.json"
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not stat.S_ISREG(mode):
        raise ReportError(f"{path}: not a regular file (a link or a folder); rerun the scenario")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ReportError(f"{path}: cannot be read as JSON ({str(err).splitlines()[0]}); rerun the scenario") from None
    if not isinstance(manifest, dict):
        raise ReportError(f"{path}: not a JSON object; rerun the scenario")
    sums = manifest.get("checksums")
    if sums is None:
        return None
    if not (isinstance(sums, dict) and all(isinstance(k, str) and isinstance(v, str) and _SHA256.fullmatch(v) for k, v in sums.items())):
        raise ReportError(f"{path}: 'checksums' is not a map of file names to SHA-256 hex digests; rerun the scenario")
    return sums


def verify_checksums(folder: str | Path) -> bool:
    """Check every file the manifest's checksums list (but :data:`UNCHECKED_FILES`) against its SHA-256.

    Returns False, checking nothing, for a folder without checksums (see
    :func:`manifest_checksums`), True when every file matches. A file that is
    missing, not a regular file, changed or cut, a checksum naming a path
    outside the folder, or a file the report reads that the checksums do not
    list, raises :class:`ReportError` naming it. Generic over the files: it
    checks whatever the manifest lists, whatever their format.
    """
    folder = Path(folder)
    sums = manifest_checksums(folder)
    if sums is None:
        return False
    unlisted = [name for name in REQUIRED_FILES if name not in sums]
    if unlisted:
        raise ReportError(f"{folder / unlisted[0]}: has no checksum in manifest.json (the manifest was changed); rerun the scenario")
    for name, digest in sorted(sums.items()):
        if name in UNCHECKED_FILES:
            continue
        rel = PurePosixPath(name)
        if not name or rel.is_absolute() or ".." in rel.parts or "\0" in name:
            raise ReportError(f"{folder / 'manifest.json'}: checksums name {name!r}, not a file of the run folder; rerun the scenario")
        path = folder / rel
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            raise ReportError(f"{path}: listed in manifest.json but missing; rerun the scenario") from None
        if not stat.S_ISREG(mode):
            raise ReportError(f"{path}: listed in manifest.json as a file but is not a regular file; rerun the scenario")
        try:
            actual = file_sha256(path)
        except OSError as err:
            raise ReportError(f"{path}: cannot be read ({err.strerror}); rerun the scenario") from None
        if actual != digest:
            raise ReportError(f"{path}: checksum does not match manifest.json (the file was changed or cut); rerun the scenario")
    return True


@dataclass(frozen=True)
class RunTables:
    """What the report reads from a run folder; times are local, offset-free date-times of the scenario's zone."""

    scenario: Scenario
    scenario_text: str
    charts: dict[str, pd.DataFrame]
    queues_summary: pd.DataFrame
    kpis: pd.DataFrame
    daily: pd.DataFrame
    replications: int

    @property
    def zone_label(self) -> str:
        offset = pd.Timestamp(self.scenario.start).tz_convert(self.scenario.timezone).strftime("%z")
        return f"{self.scenario.timezone}, UTC{offset[:3]}:{offset[3:]}"

    def local(self, when) -> pd.Timestamp:
        """A scenario date-time as a local, offset-free timestamp, as on every time axis."""
        return pd.Timestamp(when).tz_convert(self.scenario.timezone).tz_localize(None)


# --- reading ----------------------------------------------------------------------------------


#: The type pandas gives a column read as ``str``.
_TEXT = pd.Series([""], dtype=str).dtype


def _local_times(text: pd.Series, zone: str) -> pd.Series:
    """ISO 8601 strings with offsets as local, offset-free timestamps (NaT where empty).

    A column of text with no empty field is parsed a distinct time at a time (a time repeats for every crossing
    and channel); anything else, or a field that does not parse (for pandas' own message), all at once.
    """
    if text.dtype == _TEXT and len(text):
        codes, distinct = pd.factorize(text)
        if (codes >= 0).all():
            try:
                local = pd.to_datetime(distinct, format="ISO8601", utc=True).tz_convert(zone).tz_localize(None)
            except Exception:  # noqa: BLE001 - parsed all at once below, for pandas' own error
                pass
            else:
                return pd.Series(local.take(codes), index=text.index, name=text.name)
    return pd.to_datetime(text, format="ISO8601", utc=True).dt.tz_convert(zone).dt.tz_localize(None)


def _read_csv(path: Path, **options) -> pd.DataFrame:
    """``pd.read_csv(path, **options)``; columns typed ``str`` left to pandas' own guess when that gives text anyway
    (several times faster), read again as asked when it does not."""
    types = options.get("dtype")
    text = [c for c, t in types.items() if t is str] if isinstance(types, dict) else []
    if text:
        try:
            frame = pd.read_csv(path, **{**options, "dtype": {c: t for c, t in types.items() if t is not str}})
        except Exception:  # noqa: BLE001 - read again as asked below, for pandas' own error
            frame = None
        if frame is not None and frame.columns.is_unique and all(c in frame.columns and frame[c].dtype == _TEXT for c in text):
            return frame
    return pd.read_csv(path, **options)


def _read_table(path: Path, columns: list[str], times: tuple[str, ...], zone: str, rows: bool = True, **options) -> pd.DataFrame:
    """One CSV table of a run folder with the columns the report needs, its date-times made local.

    ``rows``: the table always has rows in a run, so one with only a header was cut.
    """
    try:
        frame = _read_csv(path, **options)
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise ValueError(f"no column {', '.join(missing)}")
        if rows and frame.empty:
            raise ReportError(f"{path}: has a header but no rows (the file was cut or emptied); rerun the scenario")
        for col in times:
            frame[col] = _local_times(frame[col], zone)
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise ReportError(f"{path}: cannot be read as a run table ({str(err).splitlines()[0]})") from None
    return frame


def read_run(folder: str | Path) -> RunTables:
    """Read the scenario and the tables the report needs from a run folder, first checking its checksums."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ReportError(f"{folder}: not a run folder (no such directory)")
    missing = [name for name in REQUIRED_FILES if not (folder / name).is_file()]
    if missing:
        raise ReportError(f"{folder}: not a complete run folder, missing {', '.join(missing)}")
    verify_checksums(folder)
    scenario = load_scenario(folder / "scenario.toml")
    zone = scenario.timezone
    charts = {}
    for name, columns in CHART_COLUMNS.items():
        # typed, so that a run in which nobody left (no rows) reads as empty numbers, not text
        times = CHART_TIMES.get(name, ())
        types = {c: "int64" if c in columns[len(CHART_TABLES[name]):] or c == "bin" else str for c in columns if c not in times}
        charts[name] = _read_table(folder / "charts" / f"{name}.csv", columns, CHART_TIMES.get(name, ()), zone, rows=False,
                                   dtype=types, keep_default_na=False)
    summary = _read_table(folder / "queues_summary.csv", SUMMARY_COLUMNS, ("time",), zone)
    kpis = _read_table(folder / "kpis.csv", KPI_COLUMNS, (), zone)
    daily = _read_table(folder / "daily.csv", ["crossing", "date", "people_crossed"], (), zone, rows=False, dtype={"date": str})
    replications = int(kpis["replications"].max()) if len(kpis) else scenario.replications
    return RunTables(scenario, (folder / "scenario.toml").read_text(encoding="utf-8"), charts, summary, kpis, daily,
                     max(replications, 1))


def read_table(folder: str | Path, name: str) -> pd.DataFrame:
    """One table of a run folder by name (``parties``, ``kpis``, ...), whichever format the run wrote it in.

    Parquet where there is one (``parties``, ``queues``, ``stays``), else
    CSV; date-times come back time-zone-aware in the scenario's zone either
    way. Checksums are checked first, as for the report.
    """
    folder = Path(folder)
    verify_checksums(folder)
    parquet, csv = folder / f"{name}.parquet", folder / f"{name}.csv"
    if parquet.is_file():
        return pd.read_parquet(parquet)
    if not csv.is_file():
        hint = " (the run wrote --tables summary)" if name in LARGE_TABLES else ""
        raise ReportError(f"{folder}: has no table {name!r}{hint}")
    zone = load_scenario(folder / "scenario.toml").timezone
    frame = pd.read_csv(csv)
    for col in frame.columns:
        if col.endswith("_at") or col in ("time", "hour", "joined_at", "left_at"):
            frame[col] = pd.to_datetime(frame[col], format="ISO8601", utc=True).dt.tz_convert(zone)
    return frame
