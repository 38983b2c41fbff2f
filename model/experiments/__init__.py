"""The experiments layer: many replications, and the questions asked of them.

What is here: replications on worker processes or a Dask cluster (the same
numbers whatever the executor), replications to a precision, sweeps and
paired comparisons, sensitivity analysis, the booth-capacity search, and the
verification and validation suite.

May import: the analysis, engine and scenario layers. No charts, pages or
console; results are tables and small dataclasses that the report layer draws.
"""

from .capacity import CapacityResult, booth_variant, find_booths, question
from .precision import PrecisionCheck, replicate_to_precision
from .replications import EXECUTORS, ExecutorError, default_workers, open_executor, run_on, run_replication, run_replications, simulate
from .sensitivity import SensitivityResult, parse_parameters, sample_size, sensitivity
from .studies import CompareResult, Runner, SweepResult, check_crossing, compare, compare_table, parse_vary, sweep, sweep_table
from .validation import Suite, run_suite

__all__ = [
    "run_replication", "run_replications", "run_on", "simulate", "EXECUTORS", "ExecutorError", "PrecisionCheck", "default_workers",
    "open_executor", "replicate_to_precision", "Runner", "SweepResult", "CompareResult", "check_crossing", "compare",
    "compare_table", "parse_vary", "sweep", "sweep_table", "SensitivityResult", "parse_parameters", "sample_size",
    "sensitivity", "CapacityResult", "booth_variant", "find_booths", "question", "Suite", "run_suite",
]
