"""Sums, means and standard deviations by group, with numpy, giving pandas' groupby numbers bit for bit.

Joining many replications adds up and summarises many small frames, where
pandas' groupby costs far more in overhead than in arithmetic. These do the
same with numpy: floats are added by the compensated (Kahan) sum pandas'
groupby uses, in the same row order, and standard deviations by the same
Welford updates, so every table is what ``groupby`` gives. A table of a
kind they do not handle (other column types, missing keys) goes to pandas.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["added_up", "group_ids", "group_moments"]


#: The column types added up with numpy (others go to pandas).
_NUMBERS = frozenset({np.dtype(np.int64), np.dtype(np.float64)})


def added_up(frames: list[pd.DataFrame], keys: list[str]) -> pd.DataFrame:
    """The rows of ``frames`` added up key by key, sorted by key: ``concat(frames).groupby(keys, sort=True,
    dropna=False).sum().reset_index()``, the same numbers (floats by the same compensated sum, in row order), done
    with numpy; by pandas itself where the columns differ between frames or a key is missing or not plain."""
    first = frames[0]
    names, dtypes = list(first.columns), first.dtypes
    values = [c for c in names if c not in keys]
    plain = (all(c in names for c in keys) and all(dtypes[c] in _NUMBERS for c in values)
             and all(dtypes[c] in _NUMBERS or dtypes[c] == np.dtype(object) or isinstance(dtypes[c], pd.StringDtype) for c in keys)
             and all(list(f.columns) == names and f.dtypes.equals(dtypes) for f in frames[1:]))
    if not plain:
        return _added_up_by_pandas(frames, keys)
    if len(frames) > 1 and not any(isinstance(dtypes[c], pd.StringDtype) for c in keys):  # the same keys in each?
        columns = [{c: f[c].to_numpy() for c in names} for f in frames]
        head = columns[0]
        order = sorted(keys, key=lambda c: dtypes[c] == np.dtype(object))  # numbers first: cheaper to compare
        if all(len(f[keys[0]]) == len(head[keys[0]]) and all(bool((f[c] == head[c]).all()) for c in order)
               for f in columns[1:]):
            grouped = _grouped({c: first[c] for c in keys})
            if grouped is not None and len(grouped[1]) == len(first):  # else a key missing, or twice in a frame
                rows, key_rows = grouped[0], grouped[2]
                sums = {c: _sums_across([f[c] for f in columns])[rows] for c in values}
                return pd.DataFrame({**key_rows, **sums})
    joined = pd.concat(frames, ignore_index=True)
    grouped = _grouped({c: joined[c] for c in keys})
    if grouped is None:
        return _added_up_by_pandas(frames, keys)
    rows, starts, key_rows = grouped
    return pd.DataFrame({**key_rows, **{c: _sums(joined[c].to_numpy()[rows], starts) for c in values}})


def _added_up_by_pandas(frames: list[pd.DataFrame], keys: list[str]) -> pd.DataFrame:
    joined = pd.concat(frames, ignore_index=True)
    return joined.groupby(keys, sort=True, dropna=False)[[c for c in joined.columns if c not in keys]].sum().reset_index()


def _key_codes(columns: dict[str, pd.Series], sort: bool) -> tuple[np.ndarray, dict] | None:
    """One integer per row for its combination of the key ``columns`` (ordered as the keys sort, if ``sort``, else
    as they first appear), and each column's (codes, distinct values); None where a key is missing or there are
    too many combinations for one integer."""
    size = len(next(iter(columns.values())))
    combined, keys, span = np.zeros(size, dtype=np.int64), {}, 1
    for c, column in columns.items():
        codes, uniques = pd.factorize(column.array if isinstance(column.dtype, pd.StringDtype) else column.to_numpy(), sort=sort)
        span *= max(len(uniques), 1)
        if len(codes) and codes.min() < 0 or span >= 2 ** 62:
            return None
        combined = combined * max(len(uniques), 1) + codes
        keys[c] = (codes, uniques)
    return combined, keys


def _key_values(keys: dict, rows: np.ndarray) -> dict[str, pd.Index]:
    """Each key column's values at ``rows`` (one per group), as groupby's result has them."""
    return {c: pd.Index(uniques).take(codes[rows]) for c, (codes, uniques) in keys.items()}


def _grouped(columns: dict[str, pd.Series]):
    """(rows, starts, key columns): the rows sorted by key, stably; where each key's rows start among them; and each
    key's values as groupby's result has them. None where a key is missing (or text is not all strings)."""
    coded = _key_codes(columns, sort=True)
    if coded is None:
        return None
    combined, keys = coded
    if any(columns[c].dtype == object and not all(isinstance(u, str) for u in uniques) for c, (_, uniques) in keys.items()):
        return None
    rows = np.argsort(combined, kind="stable")
    ordered = combined[rows]
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1]))) if len(rows) else np.zeros(0, dtype=np.int64)
    return rows, starts, _key_values(keys, rows[starts])


def _sums_across(columns: list[np.ndarray]) -> np.ndarray:
    """Element by element sum of ``columns`` (one per frame, of the same keys), as :func:`_sums` adds a key's rows of
    the frames in turn."""
    if columns[0].dtype.kind in "iu":
        return np.sum(columns, axis=0)
    total, compensation = np.zeros(len(columns[0])), np.zeros(len(columns[0]))
    for column in columns:
        total, compensation = _kahan(total, compensation, column)
    return total


def _kahan(total: np.ndarray, compensation: np.ndarray, val: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One step of pandas' compensated sum (its groupby ``sum``): ``val`` added where it is not missing."""
    y = val - compensation
    t = total + y
    new = (t - total) - y
    new[new != new] = 0.0  # an infinite value: pandas drops the compensation
    ok = val == val
    return np.where(ok, t, total), np.where(ok, new, compensation)


def _sums(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Sum of each run of ``values`` from each of ``starts`` to the next: integers exactly, floats as pandas' groupby
    adds them (Kahan's compensated sum in row order, missing values left out)."""
    if values.dtype.kind in "iu":
        return np.add.reduceat(values, starts) if len(values) else np.zeros(0, dtype=values.dtype)
    counts = np.diff(np.append(starts, len(values)))
    total, compensation = np.zeros(len(starts)), np.zeros(len(starts))
    for k in range(int(counts.max()) if len(counts) else 0):
        has = np.flatnonzero(counts > k)
        total[has], compensation[has] = _kahan(total[has], compensation[has], values[starts[has] + k])
    return total


def group_ids(frame: pd.DataFrame, by: list[str]) -> tuple[np.ndarray, dict]:
    """Each row's group of ``by`` (numbered in order of first appearance) and each group's ``by`` values, as
    ``groupby(by, sort=False)`` and ``reset_index`` give them."""
    coded = _key_codes({c: frame[c] for c in by}, sort=False)
    if coded is None:
        raise ValueError(f"a missing value in {', '.join(by)}, or too many groups")
    combined, keys = coded
    ids, _ = pd.factorize(combined)
    first = np.zeros(ids.max() + 1 if len(ids) else 0, dtype=np.int64)
    first[ids[::-1]] = np.arange(len(ids))[::-1]  # each group's first row
    return ids, _key_values(keys, first)


def group_moments(ids: np.ndarray, groups: int, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per group and column: mean (compensated sum / count), sd (Welford, ddof 1) and count of the non-missing
    ``values``, adding each group's rows in row order as pandas' groupby does."""
    rows = np.argsort(ids, kind="stable")
    counts = np.bincount(ids, minlength=groups)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])) if groups else np.zeros(0, dtype=np.int64)
    k = values.shape[1]
    total, compensation, welford, m2 = (np.zeros((groups, k)) for _ in range(4))
    n = np.zeros((groups, k), dtype=np.int64)
    for pos in range(int(counts.max()) if groups else 0):
        has = np.flatnonzero(counts > pos)
        val = values[rows[starts[has] + pos]]
        ok = val == val
        total[has], compensation[has] = _kahan(total[has], compensation[has], val)
        nobs = n[has] + ok
        old = welford[has]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = old + (val - old) / nobs
            m2_new = m2[has] + (val - mean) * (val - old)
        welford[has], m2[has], n[has] = np.where(ok, mean, old), np.where(ok, m2_new, m2[has]), nobs
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(n > 0, total / n, np.nan)
        sd = np.where(n > 1, np.sqrt(m2 / (n - 1)), np.nan)
    return means, sd, n
