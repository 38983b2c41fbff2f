"""Files of a run folder, created new and never through a link, and tables as CSV text.

Every file is created with ``O_CREAT | O_EXCL | O_NOFOLLOW``, so nothing is
clobbered or written through a symbolic link. CSV tables give date-times as
ISO 8601 with their offset and floats to 10 significant digits, so a
spreadsheet opens them and the same table gives the same bytes.

:func:`csv_text` writes the usual tables (numbers, text, date-times) itself,
column by column, giving exactly the bytes of pandas' ``to_csv`` with those
options, several times faster (pandas formats floats one Python call at a
time); any other table goes through ``to_csv``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..analysis import iso_strings

__all__ = ["create_file", "create_text", "csv_text", "write_table"]

_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
#: Characters that make the csv module quote a field (or might, in another Python): such tables go through pandas.
_QUOTED = (",", '"', "\n", "\r")


def create_file(path: str | Path) -> int:
    """A new file's descriptor; fails if anything, even a dangling symbolic link, has that name."""
    return os.open(path, _NEW_FILE, 0o666)


def create_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to a new file ``path``: never over an existing file, never through a link."""
    with open(create_file(Path(path)), "w", encoding="utf-8") as f:
        f.write(text)


def _pandas_csv_text(frame: pd.DataFrame, header: bool) -> str:
    """``frame`` as CSV through pandas' ``to_csv``: any table."""
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = iso_strings(out[col])
        elif out[col].dtype == object and len(out) and any(isinstance(v, pd.Timestamp) for v in out[col].head(50)):
            out[col] = out[col].map(lambda v: v.isoformat() if isinstance(v, pd.Timestamp) else v)
    return out.to_csv(index=False, header=header, float_format="%.10g", lineterminator="\n")


def _object_texts(values: np.ndarray) -> list[str]:
    """An object column's fields as ``to_csv`` writes them, Timestamps in ISO 8601 as :func:`_pandas_csv_text` gives."""
    items = values.tolist()
    stamps = any(isinstance(v, pd.Timestamp) for v in items[:50])
    texts = []
    for v, missing in zip(items, pd.isna(values).tolist()):
        if missing:
            texts.append("")
        elif isinstance(v, str):
            texts.append(v)
        elif stamps and isinstance(v, pd.Timestamp):
            texts.append(v.isoformat())
        else:
            texts.append(str(v))
    return texts


def _distinct_texts(codes: np.ndarray, texts: list[str]) -> list[str]:
    """``texts[code]`` for each code, empty for code -1 (missing)."""
    return np.array(texts + [""], dtype=object)[codes].tolist()


def _number_texts(values: np.ndarray) -> list[str]:
    """A numpy column of numbers or booleans as ``to_csv(float_format="%.10g", na_rep="")`` writes it; each
    distinct value of a long column (bit for bit, so ``-0.0`` is not ``0.0``) formatted once."""
    floats = values.dtype.kind == "f"
    if len(values) < 200:
        return ["%.10g" % v if v == v else "" for v in values.tolist()] if floats else list(map(str, values.tolist()))
    if floats:
        codes, distinct = pd.factorize(values.astype(np.float64, copy=False).view(np.int64))
        return _distinct_texts(codes, ["%.10g" % v if v == v else "" for v in distinct.view(np.float64).tolist()])
    codes, distinct = pd.factorize(values)
    return _distinct_texts(codes, list(map(str, distinct.tolist())))


def _column_texts(column: pd.Series) -> list[str] | None:
    """A column's fields as ``to_csv(float_format="%.10g", na_rep="")`` writes them, but numbers (:func:`_all_texts`
    takes those out together); None for a kind left to pandas."""
    dtype = column.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        return iso_strings(column).tolist()
    if isinstance(dtype, pd.StringDtype):
        codes, distinct = pd.factorize(column)
        return _distinct_texts(codes, distinct.to_numpy(dtype=object).tolist())
    if isinstance(dtype, np.dtype) and dtype.kind == "O":
        return _object_texts(column.to_numpy())
    return None


def _quoted(texts: list[str]) -> bool:
    """Whether any field would be quoted (or might be)."""
    joined = "".join(texts)
    return any(c in joined for c in _QUOTED)


def _all_texts(frame: pd.DataFrame) -> list[list[str]] | None:
    """Every column's fields (:func:`_column_texts`), numbers of one type taken out together; None if any column
    is of a kind left to pandas or has a field the csv module would quote."""
    dtypes = frame.dtypes.tolist()
    columns: list = [None] * len(dtypes)
    numbers: dict[np.dtype, list[int]] = {}
    for i, dtype in enumerate(dtypes):
        if isinstance(dtype, np.dtype) and dtype.kind in "fiub":
            numbers.setdefault(dtype, []).append(i)
    for where in numbers.values():
        block = frame.iloc[:, where].to_numpy() if len(where) > 1 else frame.iloc[:, where[0]].to_numpy()[:, None]
        for j, i in enumerate(where):
            columns[i] = _number_texts(block[:, j])
    for i in range(len(dtypes)):
        if columns[i] is None:
            texts = _column_texts(frame.iloc[:, i])
            if texts is None or _quoted(texts):
                return None
            columns[i] = texts
    return columns


def csv_text(frame: pd.DataFrame, header: bool = True) -> str:
    """``frame`` as CSV text: date-times as ISO 8601 with offset, floats to 10 significant digits."""
    labels = list(frame.columns)
    if (frame.columns.nlevels != 1 or not frame.columns.is_unique or len(labels) < 2  # a row of one empty field is quoted
            or not all(type(c) is str for c in labels) or _quoted(labels)):
        return _pandas_csv_text(frame, header)
    columns = _all_texts(frame)
    if columns is None:
        return _pandas_csv_text(frame, header)
    lines = [",".join(labels)] if header else []
    lines.extend(map(",".join, zip(*columns)))
    return "\n".join(lines) + "\n" if lines else ""


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """``frame`` as CSV (:func:`csv_text`) in a new file."""
    with open(create_file(Path(path)), "w", encoding="utf-8", newline="") as f:
        f.write(csv_text(frame))
