"""Files of a run folder, created new and never through a link, and tables as CSV text.

Every file is created with ``O_CREAT | O_EXCL | O_NOFOLLOW``, so nothing is
clobbered or written through a symbolic link. CSV tables give date-times as
ISO 8601 with their offset and floats to 10 significant digits, so a
spreadsheet opens them and the same table gives the same bytes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ..analysis import iso_strings

__all__ = ["create_file", "create_text", "csv_text", "write_table"]

_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def create_file(path: str | Path) -> int:
    """A new file's descriptor; fails if anything, even a dangling symbolic link, has that name."""
    return os.open(path, _NEW_FILE, 0o666)


def create_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to a new file ``path``: never over an existing file, never through a link."""
    with open(create_file(Path(path)), "w", encoding="utf-8") as f:
        f.write(text)


def csv_text(frame: pd.DataFrame, header: bool = True) -> str:
    """``frame`` as CSV text: date-times as ISO 8601 with offset, floats to 10 significant digits."""
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = iso_strings(out[col])
        elif out[col].dtype == object and len(out) and any(isinstance(v, pd.Timestamp) for v in out[col].head(50)):
            out[col] = out[col].map(lambda v: v.isoformat() if isinstance(v, pd.Timestamp) else v)
    return out.to_csv(index=False, header=header, float_format="%.10g", lineterminator="\n")


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """``frame`` as CSV (:func:`csv_text`) in a new file."""
    with open(create_file(Path(path)), "w", encoding="utf-8", newline="") as f:
        f.write(csv_text(frame))
