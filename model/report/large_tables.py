"""The large tables (parties, queues, stays) written into a run folder one replication at a time.

A run writes each replication's rows as soon as that replication and all
before it have finished, so the parent process encodes them while the workers
still simulate, and no table of every party of every replication is ever held
whole. Parquet gets one row group per replication (time-zone-aware
timestamps to the millisecond, text dictionary-encoded, zstd), as Dask and
Spark write a partitioned table; ``--tables csv`` appends to a CSV as well.
The bytes depend only on the rows and their replication order, so one worker
or many give the same files, and so does :func:`write_large_tables` on a
:class:`~model.analysis.Results` held whole.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..analysis import ReplicationResult, Results
from ..analysis.tables import LARGE_TABLES, with_dates, without_large_tables
from ..scenario import Scenario
from .table_files import create_file, csv_text

__all__ = ["LargeTables", "write_large_tables", "stored_tables", "for_run_folder"]

#: Text columns' encoding: one dictionary type for every row group, whatever its number of distinct names.
_TEXT = pa.dictionary(pa.int32(), pa.string())
#: How the Parquet files are written (time stamps to the millisecond: the tables hold whole seconds).
_PARQUET = {"compression": "zstd", "coerce_timestamps": "ms", "allow_truncated_timestamps": False}


def _text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A text column dictionary-encoded, its dictionary (the replication's distinct names) sorted."""
    column = column.cast(pa.string())
    names = pc.unique(column).drop_null().sort()
    codes = pc.index_in(column, value_set=names).cast(pa.int32())
    return pa.chunked_array([pa.DictionaryArray.from_arrays(chunk, names) for chunk in codes.chunks], type=_TEXT)


def _column(name: str, column: pa.ChunkedArray, text: set[str]) -> pa.ChunkedArray:
    """One column as stored: text dictionary-encoded, date-times in nanoseconds (pandas gives a column with no
    date-time at all, such as no one giving up in a replication, a coarser unit), so every replication's row
    group has one schema."""
    if name in text:
        return _text(column)
    if pa.types.is_timestamp(column.type) and column.type.unit != "ns":
        return column.cast(pa.timestamp("ns", tz=column.type.tz))
    return column


def _arrow(frame: pd.DataFrame) -> pa.Table:
    """A dated table as Arrow, text dictionary-encoded (categorical when pandas reads it back)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    text = {c for c in frame.columns if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c].dtype)}
    return pa.table([_column(name, col, text) for name, col in zip(table.column_names, table.columns)], names=table.column_names)


def stored_tables(scenario: Scenario, result: ReplicationResult) -> dict[str, pa.Table]:
    """One replication's large tables as the run folder stores them: date-times, text dictionary-encoded."""
    return {name: _arrow(with_dates(scenario, getattr(result, name), name)) for name in LARGE_TABLES}


def for_run_folder(scenario: Scenario, result: ReplicationResult, keep: tuple[str, ...] = ()) -> ReplicationResult:
    """``result`` with its large tables as stored (:func:`stored_tables`) instead of as DataFrames, but those in ``keep``.

    Run where the replication ran (``run_on(..., prepare=...)``), so worker processes share that work and
    send back compact Arrow tables; the run's own process only compresses and writes them.
    """
    return replace(without_large_tables(result, keep), stored=stored_tables(scenario, result))


class _TableFile:
    """One large table's Parquet file (and CSV file, if wanted), appended a replication at a time."""

    def __init__(self, folder: Path, name: str, csv: bool):
        self.paths = {"parquet": folder / f"{name}.parquet", "csv": folder / f"{name}.csv" if csv else None}
        self.files: list = []  # open file objects, closed last
        self.parquet: pq.ParquetWriter | None = None
        self.csv = None
        self.columns: tuple[pa.Table, pd.DataFrame | None] | None = None  # the (empty) table, while no row has come

    def _open(self, kind: str, mode: str):
        f = open(create_file(self.paths[kind]), mode, **({"encoding": "utf-8", "newline": ""} if "b" not in mode else {}))
        self.files.append(f)
        return f

    def append(self, table: pa.Table, frame: pd.DataFrame | None = None) -> None:
        """One replication's rows as stored (and as a dated DataFrame, for the CSV); a replication without rows
        only records the columns."""
        if table.num_rows == 0:
            self.columns = self.columns or (table, frame)
            return
        self._write(table, frame)

    def _write(self, table: pa.Table, frame: pd.DataFrame | None) -> None:
        if self.parquet is None:
            self.parquet = pq.ParquetWriter(self._open("parquet", "wb"), table.schema, **_PARQUET)
        self.parquet.write_table(table, row_group_size=max(1, table.num_rows))
        if self.paths["csv"] is not None:
            first = self.csv is None
            self.csv = self.csv or self._open("csv", "w")
            self.csv.write(csv_text(frame, header=first))

    def close(self) -> None:
        """Finish the files; a table that never had a row is written with its columns only."""
        if self.parquet is None and self.columns is not None:
            self._write(*self.columns)
        if self.parquet is not None:
            self.parquet.close()
        for f in self.files:
            f.close()


class LargeTables:
    """Writes each replication's large tables into ``folder`` as it comes; replications must come in order.

    ``tables`` is a ``--tables`` mode (``summary`` writes none). :meth:`add` takes a replication with its
    tables as DataFrames or already as stored (:func:`for_run_folder`), and returns it without them but
    those in ``keep``, so they are not held for the rest of the run.
    """

    def __init__(self, scenario: Scenario, folder: str | Path, tables: str = "parquet", keep: tuple[str, ...] = ()):
        self.scenario, self.keep = scenario, keep
        self.files = _files(Path(folder), tables)
        self.next = None

    def prepare(self):
        """What the workers should run on each replication (``run_on(..., prepare=...)``), or None: the CSV
        of ``--tables csv`` is written from the DataFrames, so they come back whole then."""
        if not self.files or any(f.paths["csv"] for f in self.files.values()):
            return None
        return partial(for_run_folder, keep=self.keep)

    def add(self, result: ReplicationResult) -> ReplicationResult:
        if self.next is not None and result.replication < self.next:
            raise ValueError(f"replication {result.replication} came after {self.next - 1}: large tables are written in order")
        self.next = result.replication + 1
        # dated here unless the worker already stored them (never with --tables csv: see prepare)
        dated = {} if result.stored else {name: with_dates(self.scenario, getattr(result, name), name) for name in self.files}
        stored = result.stored or {name: _arrow(frame) for name, frame in dated.items()}
        for name, file in self.files.items():
            file.append(stored[name], dated.get(name))
        return without_large_tables(result, self.keep)

    def close(self) -> None:
        for file in self.files.values():
            file.close()

    def __enter__(self) -> LargeTables:
        return self

    def __exit__(self, *exc) -> bool:
        self.close()
        return False


def _files(folder: Path, tables: str) -> dict[str, _TableFile]:
    return {} if tables == "summary" else {name: _TableFile(folder, name, tables == "csv") for name in LARGE_TABLES}


def write_large_tables(results: Results, folder: Path, tables: str = "parquet") -> None:
    """The large tables of ``results`` (held whole, with date-times) into ``folder``, the same bytes as a run
    that wrote them replication by replication."""
    for name, file in _files(folder, tables).items():
        frame = getattr(results, name)
        for _, piece in frame.groupby("replication", sort=True) if len(frame) else [(None, frame)]:
            file.append(_arrow(piece), piece)
        file.close()
