"""The small tables the report's charts are drawn from, built per replication and added up across them.

Every chart that used to read the per-party rows reads one of these instead,
so the report never touches per-party rows and the work is done where the
replication ran (a worker process). Each table holds counts of people or
parties, so the tables of several replications are combined by adding them
up (:func:`combine_chart_tables`): exact, and the same in any order.

- ``cumulative``: people who had set off towards, arrived at and crossed each
  crossing by each grid time, per channel and for ``all`` channels.
- ``hourly_crossed``: people crossed per local clock hour, crossing and channel.
- ``flows``: people (and those of them who walked) per origin, crossing first
  headed for, final crossing and outcome; diversions are its rows whose final
  crossing differs from the first.
- ``service``: people crossed and services given (a car, a group on foot, a
  whole bus) per crossing and channel: the people per service of the
  capacity line.
- ``waits``: parties per crossing, mode, arrival hour and wait bin (a
  histogram on :data:`WAIT_BIN_EDGES_H`), from which the wait distribution
  and the wait by hour are read (:func:`histogram_quantiles`).

Times are minutes from the scenario start here, date-times in the run's tables.
The channel of a party is ``foot`` if it left its vehicle and walked, else its mode.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..scenario import MODES, Scenario
from .group_sums import added_up

__all__ = ["chart_tables", "combine_chart_tables", "CHART_TABLES", "CHART_TIMES", "WAIT_BIN_EDGES_H",
           "histogram_quantiles", "grouped_quantiles", "wait_of_bin", "hour_start_min"]

#: Wait histogram bin edges in hours: no wait at all, (0, 6 s), then 600 bins growing by 2.4 % each up to 2,000 h.
WAIT_BIN_EDGES_H = np.concatenate([[0.0, 1e-12], np.geomspace(0.1 / 60.0, 2000.0, 601)])

#: Each chart table's key columns (the rest are counts that add up across replications).
CHART_TABLES = {
    "cumulative": ["crossing", "channel", "time"],
    "hourly_crossed": ["crossing", "channel", "hour"],
    "flows": ["origin", "first_crossing", "crossing", "outcome"],
    "service": ["crossing", "channel"],
    "waits": ["crossing", "mode", "hour", "bin"],
}
#: Columns that are minutes from the start here and date-times in a run folder.
CHART_TIMES = {"cumulative": ("time",), "hourly_crossed": ("hour",), "waits": ("hour",)}


def hour_start_min(scenario: Scenario, minutes: np.ndarray) -> np.ndarray:
    """The start of the local clock hour each time falls in, in minutes from the scenario start.

    Time zones are whole or half hours from UTC, and daylight saving moves
    them by whole hours, so the local hours start at a fixed minute of UTC
    hours: that of the scenario start.
    """
    start = pd.Timestamp(scenario.start).tz_convert(scenario.timezone)
    past = start.minute + start.second / 60.0  # minutes into its local hour at the start
    return np.floor((np.asarray(minutes, dtype=float) + past) / 60.0) * 60.0 - past


def _frame(**columns) -> pd.DataFrame:
    """A frame whose text columns stay ``object``: inferring pandas' string type would cost more than the grouping."""
    return pd.DataFrame({k: pd.Series(v, dtype=object) if getattr(v, "dtype", None) is np.dtype(object) else v for k, v in columns.items()})


def _channel(parties: pd.DataFrame) -> np.ndarray:
    return np.where(parties["walked"].to_numpy(dtype=bool), "foot", parties["mode"].to_numpy(dtype=object))


def _codes(values: np.ndarray, names: list[str]) -> np.ndarray:
    """Each value's index in ``names``, ``len(names)`` where it is none of them (or missing): one pass over the text."""
    codes, uniques = pd.factorize(values)
    index = {n: i for i, n in enumerate(names)}
    lookup = np.array([index.get(u, len(names)) for u in uniques] + [len(names)], dtype=np.int64)
    return lookup[codes]  # a missing value's code -1 takes the last entry


def _cumulative(scenario: Scenario, p: pd.DataFrame, channel: np.ndarray) -> pd.DataFrame:
    grid = np.arange(0.0, scenario.horizon_min + 1e-9, scenario.grid_min)
    cells = len(grid) + 1  # the grid times, and never (NaN or after the end)
    people = p["people"].to_numpy(dtype=np.int64)
    names, channels = [c.name for c in scenario.crossings], list(MODES)
    first = _codes(p["first_crossing"].to_numpy(dtype=object), names)
    final = _codes(p["crossing"].to_numpy(dtype=object), names)
    mode = _codes(np.asarray(channel, dtype=object), channels)  # len(channels): another channel, in ``all`` only
    crossed = p["outcome"].to_numpy(dtype=object) == "crossed"
    weights = people.astype(float)

    def counted(column: str, crossing: np.ndarray, mine: np.ndarray | None = None) -> np.ndarray:
        """People per crossing (all crossings and one more: none), channel (and one more: another) and first grid
        time at or after each time-stamp, counted from there on (never, if NaN or after the end): whole people,
        so the sums are exact in any order."""
        # the first grid time at or after each time-stamp: a party counts from there on (never, if NaN or after the end)
        cell = np.searchsorted(grid, p[column].to_numpy(dtype=float), side="left")
        key = (crossing * (len(channels) + 1) + mode) * cells + cell
        size = (len(names) + 1) * (len(channels) + 1) * cells
        if mine is None:
            sums = np.bincount(key, weights=weights, minlength=size)
        else:
            sums = np.bincount(key[mine], weights=weights[mine], minlength=size)
        sums = sums.reshape(len(names) + 1, len(channels) + 1, cells)
        by_channel = np.concatenate([sums.sum(axis=1, keepdims=True), sums], axis=1)[:, :, : len(grid)]  # "all" first
        return np.cumsum(by_channel, axis=2).astype(np.int64)

    departed, arrived, crossed_by = counted("departed_at", first), counted("arrived_at", final), counted("crossed_at", final, crossed)
    blocks = [(i, c.name, ch, 0 if ch == "all" else 1 + channels.index(ch))
              for i, c in enumerate(scenario.crossings) for ch in ["all"] + [m for m in MODES if c.channel(m) is not None]]
    return pd.DataFrame({
        "crossing": pd.Series(np.repeat(np.array([b[1] for b in blocks], dtype=object), len(grid)), dtype=object),
        "channel": pd.Series(np.repeat(np.array([b[2] for b in blocks], dtype=object), len(grid)), dtype=object),
        "time": np.tile(grid, len(blocks)),
        **{name: np.concatenate([table[i, j] for i, _, _, j in blocks])
           for name, table in (("departed", departed), ("arrived", arrived), ("crossed", crossed_by))},
    })


def _hourly_crossed(scenario: Scenario, p: pd.DataFrame, channel: np.ndarray) -> pd.DataFrame:
    crossed = p["outcome"].to_numpy(dtype=object) == "crossed"
    frame = _frame(crossing=p["crossing"].to_numpy(dtype=object)[crossed], channel=channel[crossed],
                   hour=hour_start_min(scenario, p["crossed_at"].to_numpy(dtype=float)[crossed]),
                   people=p["people"].to_numpy(dtype=np.int64)[crossed])
    return frame.groupby(["crossing", "channel", "hour"], sort=True)["people"].sum().reset_index()


def _flows(p: pd.DataFrame) -> pd.DataFrame:
    people = p["people"].to_numpy(dtype=np.int64)
    frame = _frame(origin=p["origin"].to_numpy(dtype=object), first_crossing=p["first_crossing"].fillna("").to_numpy(dtype=object),
                   crossing=p["crossing"].fillna("").to_numpy(dtype=object), outcome=p["outcome"].to_numpy(dtype=object),
                   people=people, walked=np.where(p["walked"].to_numpy(dtype=bool), people, 0))
    return frame.groupby(CHART_TABLES["flows"], sort=True)[["people", "walked"]].sum().reset_index()


def _service(p: pd.DataFrame, channel: np.ndarray) -> pd.DataFrame:
    crossed = p["outcome"].to_numpy(dtype=object) == "crossed"
    frame = _frame(crossing=p["crossing"].to_numpy(dtype=object)[crossed], channel=channel[crossed],
                   people=p["people"].to_numpy(dtype=np.int64)[crossed], bus_id=p["bus_id"].to_numpy(dtype=np.int64)[crossed])
    g = frame.groupby(["crossing", "channel"], sort=True)
    out = g.agg(people=("people", "sum"), services=("people", "size")).reset_index()
    buses = frame[frame["channel"].to_numpy(dtype=object) == "bus"].groupby("crossing")["bus_id"].nunique()  # a bus is one service
    is_bus = (out["channel"] == "bus").to_numpy()
    out["services"] = np.where(is_bus, out["crossing"].map(buses).fillna(0).to_numpy(), out["services"].to_numpy()).astype(np.int64)
    return out


def _waits(scenario: Scenario, p: pd.DataFrame) -> pd.DataFrame:
    wait = p["wait_h"].to_numpy(dtype=float)
    ok = ~np.isnan(wait)
    frame = _frame(crossing=p["crossing"].to_numpy(dtype=object)[ok], mode=p["mode"].to_numpy(dtype=object)[ok],
                   hour=hour_start_min(scenario, p["arrived_at"].to_numpy(dtype=float)[ok]),
                   bin=np.searchsorted(WAIT_BIN_EDGES_H, wait[ok], side="right") - 1)
    frame["bin"] = frame["bin"].clip(0, len(WAIT_BIN_EDGES_H) - 2)
    return frame.groupby(CHART_TABLES["waits"], sort=True).size().rename("parties").reset_index()


def chart_tables(scenario: Scenario, parties: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """One replication's chart tables from its party table (times in minutes from the start)."""
    p = parties
    channel = _channel(p)
    return {
        "cumulative": _cumulative(scenario, p, channel),
        "hourly_crossed": _hourly_crossed(scenario, p, channel),
        "flows": _flows(p),
        "service": _service(p, channel),
        "waits": _waits(scenario, p),
    }


def combine_chart_tables(pieces: list[dict[str, pd.DataFrame]], optional: dict[str, list[str]] | None = None) -> dict[str, pd.DataFrame]:
    """The chart tables of several replications added up, key by key (sorted by key); ``optional``: more
    tables (name: key columns) to add up where the pieces have them."""
    out = {}
    # the tables every run has, then those of ``optional`` that the pieces hold (a scenario's mechanisms add them)
    present = {name: keys for name, keys in (optional or {}).items() if pieces and name in pieces[0]}
    for name, keys in {**CHART_TABLES, **present}.items():
        frames = [piece[name] for piece in pieces if len(piece[name])]
        if not frames:
            out[name] = pieces[0][name].iloc[0:0] if pieces else pd.DataFrame(columns=keys)
            continue
        out[name] = added_up(frames, keys)
    return out


def histogram_quantiles(counts: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Quantiles (hours) at ``levels`` (0-1) of waits counted per bin of :data:`WAIT_BIN_EDGES_H`.

    The inverted-CDF quantile (the smallest wait that at least that share of
    parties waited at most; a wait some party had), read as the geometric
    middle of its bin: within 1.2 % of the exact value, and exactly 0 for
    parties that did not wait at all.
    """
    counts = np.asarray(counts, dtype=float)
    total = counts.sum()
    if total <= 0:
        return np.full(len(levels), np.nan)
    cum = np.cumsum(counts)
    rank = np.maximum(np.ceil(np.asarray(levels, dtype=float) * total - 1e-9), 1.0)  # 1-based, as for the inverted CDF
    return wait_of_bin(np.minimum(np.searchsorted(cum, rank, side="left"), len(counts) - 1))


def wait_of_bin(b: np.ndarray) -> np.ndarray:
    """The wait (h) a histogram bin stands for: 0 for no wait, else the middle of the bin (geometric where it can)."""
    b = np.asarray(b, dtype=np.int64)
    low, high = WAIT_BIN_EDGES_H[b], WAIT_BIN_EDGES_H[b + 1]
    return np.where(b == 0, 0.0, np.where(b == 1, high / 2.0, np.sqrt(low * high)))


def grouped_quantiles(histogram: pd.DataFrame, keys: list[str], level: float) -> pd.Series:
    """The inverted-CDF wait quantile at ``level`` per group of a sparse histogram (rows: keys, ``bin``, ``parties``)."""
    h = histogram.sort_values([*keys, "bin"], kind="stable")
    g = h.groupby(keys, sort=True)["parties"]
    rank = np.maximum(np.ceil(level * g.transform("sum").to_numpy() - 1e-9), 1.0)
    reached = h[g.cumsum().to_numpy() >= rank]
    first = reached.groupby(keys, sort=True)["bin"].first()
    return pd.Series(wait_of_bin(first.to_numpy()), index=first.index)
