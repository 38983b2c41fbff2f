"""The tables a run produces, with real date-times, built from the replications' records.

:func:`build_results` joins the compact per-replication records, computes the
key figures and the resampled queue series, and turns minutes from the start
into time-zone-aware timestamps. :class:`Results` is what the Python API
returns and what :mod:`model.report.run_folder` writes to a run folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..engine import PARTY_TIMES, STAY_TIMES
from ..scenario import Scenario
from .chart_tables import CHART_TIMES, combine_chart_tables
from .classes import CLASS_TABLES, CLASS_TIMES
from .controls import CONTROL_TABLES, CONTROL_TIMES
from .key_figures import TIME_KPIS, summarise_grid, summarise_kpis
from .needs import queue_needs
from .replication import ReplicationResult, completed

__all__ = ["Results", "build_results", "summarise_with_dates", "to_datetimes", "iso_strings", "LARGE_TABLES", "with_dates",
           "without_large_tables"]

#: The tables with a row per party, per stay in a queue or per change of a queue, and their time columns.
LARGE_TABLES = {"parties": PARTY_TIMES, "queues": ["time"], "stays": STAY_TIMES}


@dataclass
class Results:
    """Every table of a run. Times are pandas timestamps in the scenario's time zone."""

    scenario: Scenario
    #: The large tables (:data:`LARGE_TABLES`); None for one that was written to a run folder replication by
    #: replication as they finished (the command line's runs) and not kept.
    parties: pd.DataFrame | None
    queues: pd.DataFrame | None
    stays: pd.DataFrame | None
    kpis: pd.DataFrame
    kpis_by_replication: pd.DataFrame
    queues_grid: pd.DataFrame
    queues_summary: pd.DataFrame
    daily: pd.DataFrame
    #: The report's chart tables (:mod:`model.analysis.chart_tables`), added up over the replications.
    charts: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: What people in the queue went through and need (:mod:`model.analysis.burden`, :mod:`model.analysis.needs`).
    burden: pd.DataFrame | None = None
    burden_hourly: pd.DataFrame | None = None
    needs: pd.DataFrame | None = None
    needs_by_replication: pd.DataFrame | None = None

    @property
    def replications(self) -> int:
        return int(self.kpis_by_replication["replication"].nunique())


def to_datetimes(scenario: Scenario, minutes: pd.Series | np.ndarray) -> pd.Series:
    """Minutes from the scenario start as timestamps in the scenario's zone, to the second."""
    start = pd.Timestamp(scenario.start).tz_convert(scenario.timezone)
    delta = pd.to_timedelta(pd.Series(minutes, dtype=float).to_numpy() * 60.0, unit="s").round("s")
    return pd.Series(start + delta, index=getattr(minutes, "index", None))


def with_dates(scenario: Scenario, frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Large table ``name`` (times in minutes from the start) with its time columns as date-times, in a new frame."""
    out = frame.copy()
    for col in LARGE_TABLES[name]:
        out[col] = to_datetimes(scenario, frame[col]).array
    return out


def without_large_tables(result: ReplicationResult, keep: tuple[str, ...] = ()) -> ReplicationResult:
    """``result`` without its large tables but those in ``keep`` (once they are written), to free their memory."""
    return replace(result, stored=None, **{name: None for name in LARGE_TABLES if name not in keep})


def _joined(scenario: Scenario, records: list[ReplicationResult], name: str) -> pd.DataFrame | None:
    """Large table ``name`` of every replication with date-times, or None if a replication no longer has it."""
    frames = [getattr(r, name) for r in records]
    if any(f is None for f in frames):
        return None
    return with_dates(scenario, pd.concat(frames, ignore_index=True), name)


def iso_strings(stamps: pd.Series) -> pd.Series:
    """ISO 8601 with the offset (``2030-05-01T19:24:00+03:00``); empty where missing.

    Vectorised: each distinct time is formatted once (a time repeats for every
    crossing and channel), its local wall time by numpy and its offset (which
    changes across daylight-saving switches) from the few distinct offsets, far
    faster than ``strftime`` row by row.
    """
    codes, distinct = pd.factorize(stamps)
    local = distinct.tz_localize(None)
    offset_s = (local.asi8 - distinct.asi8) / (np.timedelta64(1, "s") // np.timedelta64(1, distinct.unit))
    wall = np.datetime_as_string(local.to_numpy().astype("datetime64[s]"), unit="s").tolist()
    suffix = {s: _offset_text(s) for s in set(offset_s.tolist())}
    texts = np.array([w + suffix[s] for w, s in zip(wall, offset_s.tolist())] + [""], dtype=object)
    return pd.Series(texts[codes], index=stamps.index, dtype=object)  # code -1 (missing): the last, empty


def _offset_text(seconds: float) -> str:
    sign = "-" if seconds < 0 else "+"
    minutes = int(round(abs(seconds) / 60))
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def summarise_with_dates(scenario: Scenario, per_rep: pd.DataFrame) -> pd.DataFrame:
    """Key figures across replications (:func:`model.analysis.key_figures.summarise_kpis`), time figures as date-times.

    ``per_rep`` has time figures in minutes from the start; their sd is given in hours.
    """
    out = summarise_kpis(per_rep)
    times = out["kpi"].isin(TIME_KPIS)
    cols = ["mean", "ci95_low", "ci95_high", "p10", "p90"]
    out = out.astype({c: object for c in cols})
    for col in cols:
        out.loc[times, col] = to_datetimes(scenario, out.loc[times, col].astype(float)).to_numpy()
    out.loc[times, "sd"] = out.loc[times, "sd"].astype(float) / 60.0
    out.loc[times, "unit"] = "datetime (sd in h)"
    return out


def build_results(scenario: Scenario, records: list[ReplicationResult]) -> Results:
    """Join the replications (in replication order) and compute every table."""
    records = sorted((completed(scenario, r) for r in records), key=lambda r: r.replication)
    parties, queues, stays = (_joined(scenario, records, name) for name in LARGE_TABLES)
    per_rep = pd.concat([r.kpis for r in records], ignore_index=True)
    summary = summarise_with_dates(scenario, per_rep)
    grid = pd.concat([r.grid for r in records], ignore_index=True)
    grid_summary = summarise_grid(grid)
    daily = pd.concat([r.daily for r in records], ignore_index=True)

    for col in TIME_KPIS:
        per_rep[col] = to_datetimes(scenario, per_rep[col])
    grid["time"] = to_datetimes(scenario, grid["time"])
    grid_summary["time"] = to_datetimes(scenario, grid_summary["time"])
    charts = combine_chart_tables([r.charts for r in records], CONTROL_TABLES | CLASS_TABLES)
    for name, cols in (CHART_TIMES | CONTROL_TIMES | CLASS_TIMES).items():
        for col in cols:
            if name in charts:
                charts[name][col] = to_datetimes(scenario, charts[name][col]).array
    people = queue_needs(scenario, [r.burden for r in records]) if all(r.burden for r in records) else {}
    return Results(scenario, parties, queues, stays, summary, per_rep, grid, grid_summary, daily, charts=charts, **people)
