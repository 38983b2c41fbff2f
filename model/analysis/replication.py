"""One replication as tables: the engine's records as DataFrames, with their key figures and grid.

The engine hands over numpy columns (:class:`model.engine.RunRecords`).
:func:`summarise_replication` turns them into the party, queue and stay
tables (times still in minutes from the start) and computes the replication's
key figures, its queue series on the grid and the small tables the report's
charts are drawn from (:mod:`model.analysis.chart_tables`). Doing this where the
replication ran lets worker processes share that work too.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd

from ..engine import QUEUE_COLUMNS, STAY_COLUMNS, RunRecords
from ..engine.records import party_columns
from ..scenario import Scenario
from .burden import ReplicationBurden, replication_burden
from .chart_tables import chart_tables
from .classes import class_peak_kpis, class_queue_tables
from .controls import control_kpis, control_tables
from .key_figures import (
    crossing_series_by_replication,
    daily_crossings,
    queues_on_grid,
    replication_kpis,
)

__all__ = ["ReplicationResult", "summarise_replication", "completed", "table"]


def table(replication: int, columns: dict, names: list[str]) -> pd.DataFrame:
    """A record table with its ``replication`` column, columns in the order of ``names``."""
    if not columns:
        return pd.DataFrame(columns=names)
    # text stays ``object``: inferring pandas' string type costs more than the rest of the table
    return pd.DataFrame({c: replication if c == "replication" else
                         pd.Series(columns[c], dtype=object) if columns[c].dtype == object else columns[c] for c in names})


@dataclass
class ReplicationResult:
    """One replication's tables (times in minutes from the start), key figures and queue grid.

    The large tables (parties, queues, stays) are None once written to a run folder, or once turned into
    ``stored``: the same tables as the run folder stores them, built where the replication ran
    (:func:`model.report.large_tables.for_run_folder`).
    """

    replication: int
    parties: pd.DataFrame | None
    queues: pd.DataFrame | None
    stays: pd.DataFrame | None
    kpis: pd.DataFrame
    grid: pd.DataFrame
    charts: dict[str, pd.DataFrame] = field(default_factory=dict)
    daily: pd.DataFrame | None = None  # people and parties crossed per local day (model.analysis.key_figures.daily_crossings)
    burden: ReplicationBurden | None = None  # who waited when, for the needs (model.analysis.burden)
    stored: dict | None = None  # the large tables as a run folder stores them (Arrow tables by name)


def summarise_replication(scenario: Scenario, records: RunRecords, extras: bool = True) -> ReplicationResult:
    """The tables of ``records`` with this replication's key figures and grid.

    ``extras``: also the tables only a run folder and its report need (:func:`completed`); a caller that
    shows only key figures and queues (the what-if page) leaves them out, and :func:`completed` adds them
    later if that replication is written after all.
    """
    r = records.replication
    parties = table(r, records.parties, party_columns(records.parties))  # with priority_class if classes exist
    queues = table(r, records.queues, QUEUE_COLUMNS)
    stays = table(r, records.stays, STAY_COLUMNS)
    series = crossing_series_by_replication(scenario, queues)
    kpis = replication_kpis(scenario, parties, queues, series)
    kpis = class_peak_kpis(scenario, control_kpis(scenario, kpis, queues, stays), parties, stays)
    grid = queues_on_grid(scenario, queues, series=series)
    result = ReplicationResult(r, parties, queues, stays, kpis, grid)
    return completed(scenario, result) if extras else result


def completed(scenario: Scenario, result: ReplicationResult) -> ReplicationResult:
    """``result`` with the chart tables, daily crossings and burden a run folder needs, computed if missing."""
    if result.daily is not None:
        return result
    charts = (chart_tables(scenario, result.parties) | control_tables(scenario, result.queues, result.stays)
              | class_queue_tables(scenario, result.parties, result.stays))
    return replace(result, charts=charts, daily=daily_crossings(scenario, result.parties),
                   burden=replication_burden(scenario, result.parties, result.stays))
