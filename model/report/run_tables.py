"""Reading a run folder for the report: its scenario and the CSV tables, checked and with local times.

The report reads tables, never simulation objects, so it can be rebuilt from
a run folder alone. :func:`read_run` checks that the folder holds the files
and columns the report needs (:class:`ReportError` with a one-line reason if
not) and turns every date-time into a local, offset-free timestamp of the
scenario's time zone, as shown on every time axis.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..scenario import Scenario, load_scenario

__all__ = ["read_run", "RunTables", "ReportError", "REQUIRED_FILES", "PARTY_COLUMNS", "SUMMARY_COLUMNS", "KPI_COLUMNS"]

REQUIRED_FILES = ("scenario.toml", "parties.csv", "queues_summary.csv", "kpis.csv", "daily.csv")
PARTY_COLUMNS = ["replication", "origin", "mode", "people", "first_crossing", "crossing", "departed_at",
                 "arrived_at", "crossed_at", "outcome", "wait_h", "walked", "bus_id"]
SUMMARY_COLUMNS = ["crossing", "time"] + [f"{m}_{q}" for m in ("queue_km", "vehicles_waiting", "people_waiting")
                                          for q in ("mean", "median", "p05", "p95")]
KPI_COLUMNS = ["crossing", "kpi", "unit", "n", "mean", "sd", "ci95_low", "ci95_high", "replications"]


class ReportError(Exception):
    """A run folder the report cannot be built from, with a one-line reason."""


@dataclass(frozen=True)
class RunTables:
    """What the report reads from a run folder; times are local, offset-free date-times of the scenario's zone."""

    scenario: Scenario
    scenario_text: str
    parties: pd.DataFrame
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


def _local_times(text: pd.Series, zone: str) -> pd.Series:
    """ISO 8601 strings with offsets as local, offset-free timestamps (NaT where empty)."""
    return pd.to_datetime(text, format="ISO8601", utc=True).dt.tz_convert(zone).dt.tz_localize(None)


def _read_table(path: Path, columns: list[str], times: tuple[str, ...], zone: str, **options) -> pd.DataFrame:
    """One CSV table of a run folder with the columns the report needs, its date-times made local."""
    try:
        frame = pd.read_csv(path, **options)
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise ValueError(f"no column {', '.join(missing)}")
        for col in times:
            frame[col] = _local_times(frame[col], zone)
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise ReportError(f"{path}: cannot be read as a run table ({str(err).splitlines()[0]})") from None
    return frame


def read_run(folder: str | Path) -> RunTables:
    """Read the scenario and the tables the report needs from a run folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ReportError(f"{folder}: not a run folder (no such directory)")
    missing = [name for name in REQUIRED_FILES if not (folder / name).is_file()]
    if missing:
        raise ReportError(f"{folder}: not a complete run folder, missing {', '.join(missing)}")
    scenario = load_scenario(folder / "scenario.toml")
    zone = scenario.timezone
    categories = {c: "category" for c in ("origin", "mode", "first_crossing", "crossing", "outcome")}
    parties = _read_table(folder / "parties.csv", PARTY_COLUMNS, ("departed_at", "arrived_at", "crossed_at"), zone,
                          usecols=lambda c: c in PARTY_COLUMNS, dtype=categories)
    summary = _read_table(folder / "queues_summary.csv", SUMMARY_COLUMNS, ("time",), zone)
    kpis = _read_table(folder / "kpis.csv", KPI_COLUMNS, (), zone)
    daily = _read_table(folder / "daily.csv", ["crossing", "date", "people_crossed"], (), zone, dtype={"date": str})
    parties["channel"] = np.where(parties["walked"], "foot", parties["mode"])
    replications = int(kpis["replications"].max()) if len(kpis) else scenario.replications
    return RunTables(scenario, (folder / "scenario.toml").read_text(encoding="utf-8"), parties, summary, kpis, daily,
                     max(replications, 1))
