"""The analysis layer: what the records mean, as tables of figures.

What is here: each replication's records as tables, its key figures and its
queue series on a regular grid; the summary across replications with
t-intervals and percentiles; tables with real date-times; and queueing
theory (Erlang C, the fluid queue, Little's law) to check the engine against.

May import: the engine and scenario layers, numpy, pandas and scipy. No files,
charts or console.
"""

from .key_figures import (
                          KPI_UNITS,
                          TIME_KPIS,
                          crossing_series,
                          crossing_series_by_replication,
                          mean_ci,
                          queue_step,
                          queues_on_grid,
                          replication_kpis,
                          step_total,
                          summarise_grid,
                          summarise_kpis,
                          t_half_width,
                          value_at,
)
from .replication import ReplicationResult, summarise_replication
from .tables import Results, build_results, iso_strings, summarise_with_dates, to_datetimes
from .theory import fluid_queue, littles_law, littles_law_by_crossing, mmc, step_area

__all__ = [
    "ReplicationResult", "summarise_replication", "Results", "build_results", "iso_strings", "summarise_with_dates",
    "to_datetimes", "KPI_UNITS", "TIME_KPIS", "crossing_series", "crossing_series_by_replication", "queues_on_grid",
    "mean_ci", "queue_step", "replication_kpis", "step_total", "summarise_grid", "summarise_kpis", "t_half_width", "value_at",
    "fluid_queue", "littles_law", "littles_law_by_crossing", "mmc", "step_area",
]
