"""Queue series as step functions: a value that holds from each time on until the next.

The engine logs a channel's queue at every change; these functions add such
series exactly (at every change of any of them), pick one crossing or channel,
integrate them and read them at given times. Times are minutes from the start.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..scenario import ScenarioError

__all__ = ["SERIES_COLUMNS", "step_total", "crossing_series", "queue_step", "value_at"]


def step_total(series: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Sum of right-continuous step functions given as (times, values); zero before a series starts.

    ``values`` may have several columns (shape ``(len(times), k)``): all are summed in one pass.
    """
    series = [(t, v) for t, v in series if len(t)]
    if not series:
        return np.zeros(1), np.zeros(1)
    times = np.unique(np.concatenate([t for t, _ in series]))
    total = np.zeros((len(times), *series[0][1].shape[1:]))
    for t, v in series:
        # from the series' first time on only: before it, it adds 0.0, which leaves a sum begun at +0.0 unchanged
        start = np.searchsorted(times, t[0], side="left")
        total[start:] += v[np.searchsorted(t, times[start:], side="right") - 1]
    return times, total


SERIES_COLUMNS = ("queue_km", "vehicles_waiting", "people_waiting", "booths_open")


def _summed(parts: list[pd.DataFrame], columns=SERIES_COLUMNS) -> pd.DataFrame:
    """The sum of several queue step series (each with ``time`` and ``columns``), exact at every change."""
    columns = list(columns)
    return _series_frame(step_total([(f["time"].to_numpy(dtype=float), f[columns].to_numpy(dtype=float)) for f in parts]), columns)


def _series_frame(summed: tuple[np.ndarray, np.ndarray], columns: list[str]) -> pd.DataFrame:
    times, total = summed
    total = total.reshape(len(times), -1) if total.ndim == 2 else np.zeros((len(times), len(columns)))
    return pd.DataFrame({"time": times, **{col: total[:, j] for j, col in enumerate(columns)}})


def crossing_series(queues: pd.DataFrame, columns=SERIES_COLUMNS) -> pd.DataFrame:
    """One crossing's queue summed over its channels, exact at every change (time in minutes)."""
    columns = list(columns)
    channel = queues["channel"].to_numpy(dtype=object)
    time, values = queues["time"].to_numpy(dtype=float), queues[columns].to_numpy(dtype=float)
    return _series_frame(step_total([(time[here], values[here]) for here in (channel == c for c in pd.unique(channel))]), columns)


def queue_step(queues: pd.DataFrame, crossing: str, channel: str | None, column: str) -> tuple[np.ndarray, np.ndarray]:
    """The step series (times, values) of ``column`` at ``crossing`` (or ``all``), one channel or all summed."""
    q = queues if crossing == "all" else queues[queues["crossing"] == crossing]
    if channel is not None:
        q = q[q["channel"] == channel]
    if q.empty:
        raise ScenarioError("target crossing/channel", f"{crossing}/{channel}", "has no queue in this scenario")
    frames = [crossing_series(g, columns=(column,)) for _, g in q.groupby("crossing", sort=True)]
    t, v = step_total([(f["time"].to_numpy(), f[column].to_numpy()) for f in frames])
    return t, v


def _area(times: np.ndarray, values: np.ndarray, horizon: float) -> float:
    """Integral of a step function from its first time to ``horizon``."""
    if len(times) == 0:
        return 0.0
    edges = np.append(np.minimum(times, horizon), horizon)
    return float(np.sum(values * np.diff(edges)))


def value_at(times: np.ndarray, values: np.ndarray, at: np.ndarray | float) -> np.ndarray:
    """A right-continuous step function (``values`` from each of ``times`` on) at ``at``; zero before it starts."""
    idx = np.searchsorted(times, at, side="right") - 1
    return np.where(idx >= 0, values[np.clip(idx, 0, None)], 0.0)
