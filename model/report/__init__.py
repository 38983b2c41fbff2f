"""The report layer: what a person reads, built from tables.

What is here: the run folder (tables written atomically with a manifest), the
interactive offline run report, its Plotly figures and the map, and the pages
of experiments and of the validation suite. The run report reads a run
folder's tables only, so it can be rebuilt from them.

May import: the experiments, analysis and scenario layers (and the engine's
column names), pandas and plotly.
"""

from .run_folder import (
                         RunFolder,
                         package_versions,
                         scenario_sha256,
                         scenario_toml,
                         write_manifest,
                         write_results,
                         write_run_files,
                         write_table,
)
from .run_report import build_report, write_report
from .run_tables import ReportError, read_run, read_table
from .study_pages import capacity_page, compare_page, sensitivity_page, sweep_page, write_study
from .validation_page import validation_html, write_validation

__all__ = [
    "RunFolder", "package_versions", "scenario_sha256", "scenario_toml", "write_manifest", "write_results", "write_run_files",
    "write_table",
    "ReportError", "build_report", "read_run", "read_table", "write_report",
    "capacity_page", "compare_page", "sensitivity_page", "sweep_page", "write_study", "validation_html", "write_validation",
]
