"""Key figures of a run, computed after it from the records alone.

Everything here is a pure function of the minute-based party log and queue
series (the engine's records as tables, :mod:`model.analysis.replication`).
Queue series are step functions, exact at every change; time averages use the area under them (Law's method), not
samples. People still queued or on the road at the end are counted as such,
never dropped, and waits are measured only for those who reached a booth.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from ..scenario import MODES, Scenario, ScenarioError

__all__ = [
    "queue_step",
    "mean_ci",
    "step_total",
    "crossing_series",
    "crossing_series_by_replication",
    "replication_kpis",
    "summarise_kpis",
    "t_half_width",
    "value_at",
    "queues_on_grid",
    "summarise_grid",
    "daily_crossings",
    "KPI_UNITS",
    "TIME_KPIS",
]

#: Unit of every key figure; ``minutes`` figures become date-times in the tables.
KPI_UNITS: dict[str, str] = {
    "people_departed": "people",
    "people_arrived": "people",
    "people_crossed": "people",
    "people_gave_up": "people",
    "people_waiting_at_end": "people",
    "people_travelling_at_end": "people",
    "people_waiting_for_bus_at_end": "people",
    "parties_crossed": "parties",
    "vehicles_crossed": "vehicles",
    "people_diverted": "people",
    "people_walked": "people",
    "people_inspected": "people",
    "share_crossed": "fraction",
    "share_gave_up": "fraction",
    "share_diverted": "fraction",
    "share_walked": "fraction",
    "share_inspected": "fraction",
    "peak_queue_km": "km",
    "peak_queue_at": "datetime",
    "peak_vehicles_waiting": "vehicles",
    "peak_people_waiting": "people",
    "mean_queue_km": "km",
    "wait_mean_h": "h",
    "wait_p50_h": "h",
    "wait_p90_h": "h",
    "wait_p95_h": "h",
    "wait_max_h": "h",
    **{f"wait_mean_h_{m}": "h" for m in MODES},
    **{f"wait_p90_h_{m}": "h" for m in MODES},
    "queue_cleared_at": "datetime",
    "person_hours_waiting": "person-hours",
    "people_waiting_at_night_max": "people",
}
TIME_KPIS = [k for k, unit in KPI_UNITS.items() if unit == "datetime"]


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
        idx = np.searchsorted(t, times, side="right") - 1
        started = (idx >= 0).reshape(-1, *([1] * (v.ndim - 1)))
        total += np.where(started, v[np.clip(idx, 0, None)], 0.0)
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


def _cleared_at(times: np.ndarray, waiting: np.ndarray) -> float:
    """When the queue last became empty and stayed so; NaN if it never queued or is not empty at the end."""
    if len(waiting) == 0 or waiting[-1] > 0 or not (waiting > 0).any():
        return math.nan
    last_busy = int(np.nonzero(waiting > 0)[0][-1])
    return float(times[last_busy + 1])


def _night_minutes(scenario: Scenario, hour: int = 3) -> np.ndarray:
    """Minutes of every local ``hour``:00 in the scenario period."""
    first = scenario.at(0).replace(hour=hour, minute=0, second=0, microsecond=0)
    t0 = scenario.minutes(first)
    return np.array([t for t in np.arange(t0, scenario.horizon_min, 1440.0) if t >= 0])


def value_at(times: np.ndarray, values: np.ndarray, at: np.ndarray | float) -> np.ndarray:
    """A right-continuous step function (``values`` from each of ``times`` on) at ``at``; zero before it starts."""
    idx = np.searchsorted(times, at, side="right") - 1
    return np.where(idx >= 0, values[np.clip(idx, 0, None)], 0.0)


def _party_arrays(p: pd.DataFrame) -> dict[str, np.ndarray]:
    """The columns of the party log the key figures need, as numpy arrays (one conversion, many masks)."""
    return {
        "people": p["people"].to_numpy(dtype=float),
        "outcome": p["outcome"].to_numpy(dtype=object),
        "mode": p["mode"].to_numpy(dtype=object),
        "walked": p["walked"].to_numpy(dtype=bool),
        "arrived_at": p["arrived_at"].to_numpy(dtype=float),
        "crossing": p["crossing"].to_numpy(dtype=object),
        "no_crossing": p["crossing"].isna().to_numpy(),
        "first_crossing": p["first_crossing"].to_numpy(dtype=object),
        "bus_id": p["bus_id"].to_numpy(),
        "diverted": p["diverted"].to_numpy(dtype=bool),
        "inspected": p["inspected"].to_numpy(dtype=bool),
        "wait_h": p["wait_h"].to_numpy(dtype=float),
    }


def _party_figures(p: dict[str, np.ndarray], people_departed: float) -> dict[str, float]:
    """Figures of the parties ``p`` (arrays of :func:`_party_arrays`, already selected)."""
    people, outcome, mode, walked = p["people"], p["outcome"], p["mode"], p["walked"]
    crossed = outcome == "crossed"
    out = {
        "people_departed": people_departed,
        "people_arrived": float(people[~np.isnan(p["arrived_at"])].sum()),
        **{f"people_{o}": float(people[outcome == o].sum()) for o in ("crossed", "gave_up", "waiting_at_end", "travelling_at_end")},
        "people_waiting_for_bus_at_end": float(people[(outcome == "waiting_at_end") & p["no_crossing"]].sum()),
        "parties_crossed": float(crossed.sum()),
        "vehicles_crossed": float(((mode == "car") & crossed & ~walked).sum()
                                  + len(np.unique(p["bus_id"][crossed & (mode == "bus")]))),
        "people_diverted": float(people[p["diverted"]].sum()),
        "people_walked": float(people[walked].sum()),
        "people_inspected": float(people[p["inspected"]].sum()),
    }
    # shares of the people whose journey is counted here (final crossing, or everyone for "all"),
    # so that people who diverted into a crossing count in its numerator and denominator alike
    total = float(people.sum())
    for what in ("crossed", "gave_up", "diverted", "walked", "inspected"):
        out[f"share_{what}"] = out[f"people_{what}"] / total if total else math.nan
    wait = p["wait_h"]
    waits = wait[crossed]
    if len(waits):
        p50, p90, p95 = np.quantile(waits, [0.5, 0.9, 0.95])
        out.update(wait_mean_h=float(waits.mean()), wait_p50_h=float(p50), wait_p90_h=float(p90),
                   wait_p95_h=float(p95), wait_max_h=float(waits.max()))
    else:
        out.update({f"wait_{s}_h": math.nan for s in ("mean", "p50", "p90", "p95", "max")})
    for m in MODES:
        w = wait[crossed & (mode == m)]
        out[f"wait_mean_h_{m}"] = float(w.mean()) if len(w) else math.nan
        out[f"wait_p90_h_{m}"] = float(np.quantile(w, 0.9)) if len(w) else math.nan
    return out


def _queue_figures(series: pd.DataFrame, horizon: float, nights: np.ndarray) -> dict[str, float]:
    t, km = series["time"].to_numpy(), series["queue_km"].to_numpy()
    people = series["people_waiting"].to_numpy()
    vehicles = series["vehicles_waiting"].to_numpy()
    peak = int(np.argmax(km)) if len(km) else 0
    waiting = vehicles + people
    return {
        "peak_queue_km": float(km[peak]) if len(km) else 0.0,
        "peak_queue_at": float(t[peak]) if len(km) and km[peak] > 0 else math.nan,
        "peak_vehicles_waiting": float(vehicles.max()) if len(vehicles) else 0.0,
        "peak_people_waiting": float(people.max()) if len(people) else 0.0,
        "mean_queue_km": _area(t, km, horizon) / horizon,
        "queue_cleared_at": _cleared_at(t, waiting),
        "person_hours_waiting": _area(t, people, horizon) / 60.0,
        "people_waiting_at_night_max": float(value_at(t, people, nights).max()) if len(nights) else 0.0,
    }


def _split(frame: pd.DataFrame, column: str) -> dict:
    """Rows of ``frame`` by the value of ``column`` (one pass, not one comparison per value)."""
    return {key: rows for key, rows in frame.groupby(column, sort=False, observed=True)}


def crossing_series_by_replication(scenario: Scenario, queues: pd.DataFrame) -> dict[tuple, pd.DataFrame]:
    """:func:`crossing_series` of every (replication, crossing) that has a queue series."""
    out = {}
    for rep, q_rep in queues.groupby("replication", sort=True):
        by_crossing = _split(q_rep, "crossing")
        for c in scenario.crossings:
            if c.name in by_crossing:
                out[rep, c.name] = crossing_series(by_crossing[c.name])
    return out


def replication_kpis(scenario: Scenario, parties: pd.DataFrame, queues: pd.DataFrame,
                     series: dict[tuple, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Key figures per replication and crossing (plus ``all``); time figures in minutes.

    ``series`` is :func:`crossing_series_by_replication` of ``queues``, if already at hand.
    """
    horizon = scenario.horizon_min
    nights = _night_minutes(scenario)
    empty_series = crossing_series(queues.iloc[:0])
    series = crossing_series_by_replication(scenario, queues) if series is None else series
    rows = []
    for rep, p_rep in parties.groupby("replication", sort=True):
        p = _party_arrays(p_rep)
        series_list = []
        for c in scenario.crossings:
            series_list.append(series.get((rep, c.name), empty_series))
            here = p["crossing"] == c.name
            departed = float(p["people"][p["first_crossing"] == c.name].sum())
            figures = _party_figures({k: v[here] for k, v in p.items()}, departed)
            rows.append({"replication": rep, "crossing": c.name, **figures, **_queue_figures(series_list[-1], horizon, nights)})
        all_series = _summed(series_list)
        rows.append({"replication": rep, "crossing": "all", **_party_figures(p, float(p["people"].sum())),
                     **_queue_figures(all_series, horizon, nights)})
    return pd.DataFrame(rows, columns=["replication", "crossing", *KPI_UNITS])


def t_half_width(x: np.ndarray, confidence: float = 0.95) -> float:
    """Half-width of the t-interval for the mean of ``x`` (NaN for fewer than 2 values)."""
    n = len(x)
    return float(stats.t.ppf(0.5 + confidence / 2, n - 1) * x.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan


def mean_ci(x: np.ndarray) -> tuple[float, float, float]:
    """Mean and 95% t-interval of the non-NaN values of ``x`` (NaN where too few)."""
    x = x[~np.isnan(x)]
    if len(x) == 0:
        return math.nan, math.nan, math.nan
    mean = float(x.mean())
    if len(x) < 2:
        return mean, math.nan, math.nan
    half = t_half_width(x)
    return mean, mean - half, mean + half


def summarise_kpis(per_rep: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Mean, sd, t-based confidence interval and 10th/90th percentiles of each figure across replications."""
    rows = []
    for crossing, g in per_rep.groupby("crossing", sort=False):
        for kpi, unit in KPI_UNITS.items():
            x = g[kpi].to_numpy(dtype=float)
            x = x[~np.isnan(x)]
            n = len(x)
            mean = float(x.mean()) if n else math.nan
            sd = float(x.std(ddof=1)) if n > 1 else math.nan
            half = t_half_width(x, confidence)
            rows.append({
                "crossing": crossing, "kpi": kpi, "unit": unit, "n": n, "mean": mean, "sd": sd,
                "ci95_low": mean - half, "ci95_high": mean + half,
                "p10": float(np.quantile(x, 0.1)) if n else math.nan,
                "p90": float(np.quantile(x, 0.9)) if n else math.nan,
                "replications": int(len(g)),
            })
    return pd.DataFrame(rows)


def queues_on_grid(scenario: Scenario, queues: pd.DataFrame, grid_min: float | None = None,
                   series: dict[tuple, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Each crossing's total queue (km, vehicles, people, booths) per replication on a regular grid.

    ``series`` is :func:`crossing_series_by_replication` of ``queues``, if already at hand.
    """
    step = grid_min or scenario.grid_min
    grid = np.arange(0.0, scenario.horizon_min + 1e-9, step)
    series = crossing_series_by_replication(scenario, queues) if series is None else series
    frames = []
    for (rep, crossing), s in series.items():
        t = s["time"].to_numpy()
        frame = {"replication": rep, "crossing": crossing, "time": grid}
        for col in ("queue_km", "vehicles_waiting", "people_waiting", "booths_open"):
            frame[col] = value_at(t, s[col].to_numpy(), grid)
        frames.append(pd.DataFrame(frame))
    return pd.concat(frames, ignore_index=True)


def summarise_grid(grid: pd.DataFrame) -> pd.DataFrame:
    """Mean, median, 5th and 95th percentiles across replications at each grid time."""
    values = ["queue_km", "vehicles_waiting", "people_waiting"]
    g = grid.groupby(["crossing", "time"], sort=True)[values]
    parts = {
        "mean": g.mean(),
        "median": g.median(),
        "p05": g.quantile(0.05),
        "p95": g.quantile(0.95),
    }
    out = pd.concat({k: v for k, v in parts.items()}, axis=1)
    out.columns = [f"{col}_{stat}" for stat, col in out.columns]
    return out.reset_index()


def daily_crossings(scenario: Scenario, parties: pd.DataFrame) -> pd.DataFrame:
    """People and parties crossed per local calendar day, crossing and replication."""
    crossed = parties[parties["outcome"] == "crossed"]
    start = pd.Timestamp(scenario.start).tz_convert(scenario.timezone)
    day = (start + pd.to_timedelta(crossed["crossed_at"], unit="min")).dt.strftime("%Y-%m-%d")
    out = (
        crossed.assign(date=day.to_numpy())
        .groupby(["replication", "crossing", "date"], sort=True)
        .agg(people_crossed=("people", "sum"), parties_crossed=("people", "size"))
        .reset_index()
    )
    return out
