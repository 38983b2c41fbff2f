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

from ..scenario import MODES, Scenario
from .step_series import SERIES_COLUMNS, _area, _summed, crossing_series, queue_step, step_total, value_at  # noqa: F401 (re-exported)
from .student_t import t_quantile

__all__ = [
    "effective_class",
    "ALL_CROSSINGS",
    "PEAK_CLASS_PREFIX",
    "CLASS_KPI_UNITS",
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
    "class_kpis",
    "CONTROL_KPI_UNITS",
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
    "people_waiting_at_home_at_end": "people",
    "parties_crossed": "parties",
    "vehicles_crossed": "vehicles",
    "people_diverted": "people",
    "people_diverted_away": "people",
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
    "person_wait_mean_h": "h",
    "person_wait_p50_h": "h",
    "person_wait_p90_h": "h",
    "surge_people_served": "people",
    "surge_person_wait_mean_h": "h",
    "surge_person_wait_p50_h": "h",
    "surge_person_wait_p90_h": "h",
    "surge_person_wait_max_h": "h",
    "surge_cleared_at": "datetime",
    "person_hours_waiting": "person-hours",
    "people_waiting_at_night_max": "people",
}
TIME_KPIS = [k for k, unit in KPI_UNITS.items() if unit == "datetime"]
#: Key figures per priority and vehicle class, named prefix + class name (``wait_mean_h_officials``), and their units.
CLASS_KPI_UNITS = {"wait_mean_h_": "h", "wait_p90_h_": "h", "peak_people_waiting_": "people"}
CLASS_KPI_PREFIXES = tuple(CLASS_KPI_UNITS)
#: The most people of a class waiting at once (:mod:`model.analysis.classes`), also for ``regular`` and ``car``.
PEAK_CLASS_PREFIX = "peak_people_waiting_"
#: The key-figure rows of all crossings together.
ALL_CROSSINGS = "all"
#: Key figures per control in series, named prefix + channel (``control_wait_mean_h_car@entry``), and their units
#: (:func:`model.analysis.controls.control_kpis`).
CONTROL_KPI_UNITS = {"control_wait_mean_h_": "h", "control_peak_people_": "people"}


def class_kpis(scenario: Scenario) -> list[str]:
    """The per-class figures: of each priority class and ``regular`` (if the scenario has priority classes), then
    of each vehicle class (if it has any; the most people waiting also of plain ``car``s); none without."""
    names = ([pc.name for pc in scenario.priority] + ["regular"] if scenario.priority else [])
    names += [vc.name for vc in scenario.vehicle_classes]
    waits = [f"{prefix}{name}" for name in names for prefix in ("wait_mean_h_", "wait_p90_h_")]
    return waits + [f"{PEAK_CLASS_PREFIX}{name}" for name in names + (["car"] if scenario.vehicle_classes else [])]


def _vehicle_figures(scenario: Scenario, p: dict[str, np.ndarray]) -> dict[str, float]:
    """Mean and 90th-percentile wait (h) of the crossed parties of each vehicle class."""
    crossed = p["outcome"] == "crossed"
    out = {}
    for vc in scenario.vehicle_classes:
        w = p["wait_h"][crossed & (p["vehicle_class"] == vc.name)]
        out[f"wait_mean_h_{vc.name}"] = float(w.mean()) if len(w) else math.nan
        out[f"wait_p90_h_{vc.name}"] = float(np.quantile(w, 0.9)) if len(w) else math.nan
    return out


def effective_class(scenario: Scenario, p: dict[str, np.ndarray]) -> np.ndarray:
    """Each party's priority class where it queued (``p["crossing"]``): ``regular`` where its class is not served
    first (a class's ``crossings``), or where the table has no class column."""
    if "priority_class" not in p:
        return np.full(len(p["crossing"]), "regular", dtype=object)
    effective = p["priority_class"].copy()
    for pc in scenario.priority:
        if pc.crossings:
            effective[(effective == pc.name) & ~np.isin(p["crossing"], pc.crossings)] = "regular"
    return effective


def _class_figures(scenario: Scenario, p: dict[str, np.ndarray]) -> dict[str, float]:
    """Mean and 90th-percentile wait (h) of the crossed parties per class, each counted in the class it had where it
    crossed: a class not served first at that crossing (``crossings``) waited there as a regular party."""
    crossed = p["outcome"] == "crossed"
    effective = effective_class(scenario, p)
    out = {}
    for name in [pc.name for pc in scenario.priority] + ["regular"]:
        w = p["wait_h"][crossed & (effective == name)]
        out[f"wait_mean_h_{name}"] = float(w.mean()) if len(w) else math.nan
        out[f"wait_p90_h_{name}"] = float(np.quantile(w, 0.9)) if len(w) else math.nan
    return out


def surge_cleared_at(times: np.ndarray, people: np.ndarray, threshold: float, hold_min: float, horizon: float) -> float:
    """When a surge queue cleared: after its peak, the first time fewer than ``threshold`` people wait and
    stay fewer for ``hold_min`` minutes (within the run). NaN if it never reached ``threshold`` or had not
    cleared so by the end.

    ``times``/``people`` is a right-continuous step series. Taking the peak first keeps an early lull
    from counting as clearance; asking for a hold keeps a short dip inside the surge from counting, and a
    later small queue (one car on a quiet day) from moving the date.
    """
    if len(people) == 0 or people.max() < threshold:
        return math.nan
    peak = int(np.argmax(people))
    t, below = times[peak:], (people[peak:] < threshold).astype(np.int8)
    edges = np.diff(np.concatenate(([0], below, [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)  # runs below, stop exclusive
    start_t = t[starts]
    stop_t = np.where(stops < len(t), t[np.minimum(stops, len(t) - 1)], horizon)
    held = stop_t - start_t >= hold_min
    return float(start_t[held][0]) if held.any() else math.nan


def surge_arrivals(times: np.ndarray, people: np.ndarray, arrived_at: np.ndarray, threshold: float, cleared_at: float,
                   horizon: float) -> np.ndarray:
    """Whether each arrival came in the surge window: from the first time ``threshold`` people waited until
    the surge queue cleared (``cleared_at``; the end of the run if it had not). No surge, no window."""
    reached = np.flatnonzero(people >= threshold)
    if not len(reached):
        return np.zeros(len(arrived_at), dtype=bool)
    end = horizon if math.isnan(cleared_at) else cleared_at
    return (arrived_at >= times[reached[0]]) & (arrived_at < end)


def _night_minutes(scenario: Scenario, hour: int = 3) -> np.ndarray:
    """Minutes of every local ``hour``:00 in the scenario period."""
    first = scenario.at(0).replace(hour=hour, minute=0, second=0, microsecond=0)
    t0 = scenario.minutes(first)
    return np.array([t for t in np.arange(t0, scenario.horizon_min, 1440.0) if t >= 0])


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
        **{c: p[c].to_numpy(dtype=object) for c in ("priority_class", "vehicle_class") if c in p},
    }


def _first_crossing_figures(p: dict[str, np.ndarray], chose: np.ndarray) -> dict[str, float]:
    """Figures of the parties that first chose a crossing (``chose``): who set off for it, who left it for another."""
    return {"people_departed": float(p["people"][chose].sum()),
            "people_diverted_away": float(p["people"][chose & p["diverted_away"]].sum())}


_OUTCOMES = ("crossed", "gave_up", "waiting_at_end", "travelling_at_end")


def _text_masks(p: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``p`` (arrays of :func:`_party_arrays`) with a mask per outcome and mode (``outcome=crossed``,
    ``mode=bus``): compared once for all parties, then selected with the rest rather than compared per crossing."""
    return p | {f"outcome={o}": p["outcome"] == o for o in _OUTCOMES} | {f"mode={m}": p["mode"] == m for m in MODES}


def _party_figures(p: dict[str, np.ndarray]) -> dict[str, float]:
    """Figures of the parties ``p`` (arrays of :func:`_party_arrays`, selected by final crossing; with the masks of
    :func:`_text_masks`, or they are made here)."""
    if "outcome=crossed" not in p:
        p = _text_masks(p)
    people, walked = p["people"], p["walked"]
    crossed = p["outcome=crossed"]
    bus = p["mode=bus"]
    nowhere = p["outcome=waiting_at_end"] & p["no_crossing"]  # waiting, but not at a crossing: at a bus stop or home
    out = {
        "people_arrived": float(people[~np.isnan(p["arrived_at"])].sum()),
        **{f"people_{o}": float(people[p[f"outcome={o}"]].sum()) for o in _OUTCOMES},
        "people_waiting_for_bus_at_end": float(people[nowhere & bus].sum()),
        "people_waiting_at_home_at_end": float(people[nowhere & ~bus].sum()),
        "parties_crossed": float(crossed.sum()),
        "vehicles_crossed": float((p["mode=car"] & crossed & ~walked).sum()
                                  + len(np.unique(p["bus_id"][crossed & bus]))),
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
        w = wait[crossed & p[f"mode={m}"]]
        out[f"wait_mean_h_{m}"] = float(w.mean()) if len(w) else math.nan
        out[f"wait_p90_h_{m}"] = float(np.quantile(w, 0.9)) if len(w) else math.nan
    out.update(_person_waits(waits, people[crossed], "person_wait", ("mean", "p50", "p90")))
    surge = crossed & p["surge"]
    out["surge_people_served"] = float(people[surge].sum())
    out.update(_person_waits(wait[surge], people[surge], "surge_person_wait", ("mean", "p50", "p90", "max")))
    return out


def _person_waits(waits: np.ndarray, people: np.ndarray, prefix: str, stats: tuple[str, ...]) -> dict[str, float]:
    """Wait figures counting each person once (a party's wait weighted by its people), in hours."""
    if not people.sum():
        return {f"{prefix}_{s}_h": math.nan for s in stats}
    per_person = np.repeat(waits, people.astype(np.int64))
    values = {"mean": per_person.mean(), "max": per_person.max()}
    values.update(zip(("p50", "p90"), np.quantile(per_person, [0.5, 0.9])))
    return {f"{prefix}_{s}_h": float(values[s]) for s in stats}


def _queue_figures(series: pd.DataFrame, horizon: float, nights: np.ndarray, clearance: tuple[float, float]) -> dict[str, float]:
    t, km = series["time"].to_numpy(), series["queue_km"].to_numpy()
    people = series["people_waiting"].to_numpy()
    vehicles = series["vehicles_waiting"].to_numpy()
    peak = int(np.argmax(km)) if len(km) else 0
    return {
        "peak_queue_km": float(km[peak]) if len(km) else 0.0,
        "peak_queue_at": float(t[peak]) if len(km) and km[peak] > 0 else math.nan,
        "peak_vehicles_waiting": float(vehicles.max()) if len(vehicles) else 0.0,
        "peak_people_waiting": float(people.max()) if len(people) else 0.0,
        "mean_queue_km": _area(t, km, horizon) / horizon,
        "surge_cleared_at": surge_cleared_at(t, people, *clearance, horizon),
        "person_hours_waiting": _area(t, people, horizon) / 60.0,
        "people_waiting_at_night_max": float(value_at(t, people, nights).max()) if len(nights) else 0.0,
    }


def _all_cleared_at(by_crossing: list[dict[str, float]], threshold: float) -> float:
    """When the last crossing's surge queue cleared (NaN if one with a surge had not, or none had a surge)."""
    surged = [f["surge_cleared_at"] for f in by_crossing if f["peak_people_waiting"] >= threshold]
    return max(surged) if surged and not any(math.isnan(x) for x in surged) else math.nan


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


def _name_codes(values: np.ndarray, names: list[str]) -> np.ndarray:
    """Each value's index in ``names`` (-1 where it is none of them, or missing): one pass over the text, so that
    a crossing's rows are found by comparing numbers."""
    codes, uniques = pd.factorize(values)
    index = {n: i for i, n in enumerate(names)}
    lookup = np.array([index.get(u, -1) for u in uniques] + [-1], dtype=np.int64)
    return lookup[codes]  # a missing value's code -1 takes the last entry


def replication_kpis(scenario: Scenario, parties: pd.DataFrame, queues: pd.DataFrame,
                     series: dict[tuple, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Key figures per replication and crossing (plus ``all``); time figures in minutes.

    ``series`` is :func:`crossing_series_by_replication` of ``queues``, if already at hand.
    """
    horizon = scenario.horizon_min
    nights = _night_minutes(scenario)
    rules = scenario.key_figures
    clearance = (rules.clearance_people, rules.clearance_hold_h * 60.0)
    empty_series = crossing_series(queues.iloc[:0])
    series = crossing_series_by_replication(scenario, queues) if series is None else series
    rows = []
    by_rep = dict(iter(parties.groupby("replication", sort=True)))
    def by_class(q: dict[str, np.ndarray]) -> dict[str, float]:  # figures per priority and per vehicle class
        return ((_class_figures(scenario, q) if scenario.priority else {})
                | (_vehicle_figures(scenario, q) if scenario.vehicle_classes else {}))
    names = [c.name for c in scenario.crossings]
    # the columns the figures per crossing read (the text ones only where the class figures compare them)
    per_crossing = None if scenario.priority or scenario.vehicle_classes else {
        "people", "walked", "arrived_at", "no_crossing", "bus_id", "diverted", "inspected", "wait_h", "surge",
        *(f"outcome={o}" for o in _OUTCOMES), *(f"mode={m}" for m in MODES)}
    for rep in sorted(set(by_rep) | set(queues["replication"].unique())):  # a replication may have no party at all
        p = _text_masks(_party_arrays(by_rep.get(rep, parties.iloc[:0])))
        p["surge"] = np.zeros(len(p["people"]), dtype=bool)
        p["diverted_away"] = p["diverted"] & (p["crossing"] != p["first_crossing"])
        final, first = _name_codes(p["crossing"], names), _name_codes(p["first_crossing"], names)
        series_list, queue_figures = [], []
        for i, c in enumerate(scenario.crossings):
            s = series.get((rep, c.name), empty_series)
            here = final == i
            series_list.append(s)
            queue_figures.append(_queue_figures(s, horizon, nights, clearance))
            p["surge"][here] = surge_arrivals(s["time"].to_numpy(), s["people_waiting"].to_numpy(), p["arrived_at"][here],
                                              rules.clearance_people, queue_figures[-1]["surge_cleared_at"], horizon)
            mine = {k: v[here] for k, v in p.items() if per_crossing is None or k in per_crossing}
            rows.append({"replication": rep, "crossing": c.name, **_first_crossing_figures(p, first == i),
                         **_party_figures(mine), **queue_figures[-1], **by_class(mine)})
        everyone = np.ones(len(p["people"]), dtype=bool)
        all_figures = {**_first_crossing_figures(p, everyone), **_party_figures(p),
                       **_queue_figures(_summed(series_list), horizon, nights, clearance)}
        all_figures["surge_cleared_at"] = _all_cleared_at(queue_figures, rules.clearance_people)
        rows.append({"replication": rep, "crossing": ALL_CROSSINGS, **all_figures, **by_class(p)})
    return pd.DataFrame(rows, columns=["replication", "crossing", *KPI_UNITS, *class_kpis(scenario)])


def t_half_width(x: np.ndarray, confidence: float = 0.95) -> float:
    """Half-width of the t-interval for the mean of ``x`` (NaN for fewer than 2 values)."""
    n = len(x)
    return float(_half_width(x.std(ddof=1), n, confidence)) if n > 1 else math.nan


def _half_width(sd, n: int, confidence: float):
    """Half-width of the t-interval for a mean of ``n`` (at least 2) values with standard deviation ``sd`` (a number
    or an array of them)."""
    return t_quantile(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n)


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
    # figures only some scenarios have: per priority class, per control in series (model.analysis.controls)
    per_class = {c: unit for c in per_rep.columns for prefix, unit in CLASS_KPI_UNITS.items()
                 if c.startswith(prefix) and c not in KPI_UNITS}
    per_class |= {c: unit for c in per_rep.columns for prefix, unit in CONTROL_KPI_UNITS.items() if c.startswith(prefix)}
    kpis = list(KPI_UNITS | per_class)
    units = list((KPI_UNITS | per_class).values())
    crossings = per_rep["crossing"].to_numpy(dtype=object)
    everything = per_rep[kpis].to_numpy(dtype=float)
    rows = []
    for crossing in pd.unique(crossings):  # in order of first appearance, as groupby(sort=False)
        if crossing is None or crossing != crossing:  # groupby leaves out a missing crossing
            continue
        x_all = everything[crossings == crossing].T.copy()  # a row per figure: each reduced as on its own
        whole = ~np.isnan(x_all).any(axis=1)
        complete = zip(*_column_stats(x_all[whole], confidence))  # the figures with no missing value, in order
        for j, kpi in enumerate(kpis):
            x = x_all[j]  # with missing values, left out: this figure on its own
            stats = next(complete) if whole[j] else next(zip(*_column_stats(x[~np.isnan(x)][None, :], confidence)))
            rows.append((crossing, kpi, units[j], *stats, x_all.shape[1]))
    names = ("crossing", "kpi", "unit", "n", "mean", "sd", "ci95_low", "ci95_high", "p10", "p90", "replications")
    return pd.DataFrame({name: list(column) for name, column in zip(names, zip(*rows))}) if rows else pd.DataFrame()


def _column_stats(x: np.ndarray, confidence: float) -> list:
    """n, mean, sd, interval and 10th/90th percentiles of each row of ``x`` (no missing values), as numpy gives them
    for each row on its own."""
    n = x.shape[1]
    nan = np.full(len(x), math.nan)
    mean = x.mean(axis=1) if n else nan
    sd = x.std(ddof=1, axis=1) if n > 1 else nan
    half = _half_width(sd, n, confidence) if n > 1 else nan
    p10, p90 = (np.quantile(x, q, axis=1) if n else nan for q in (0.1, 0.9))
    return [np.full(len(x), n), mean, sd, mean - half, mean + half, p10, p90]


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
    crossed = parties[["replication", "crossing", "people", "crossed_at"]][parties["outcome"].to_numpy(dtype=object) == "crossed"]
    start = pd.Timestamp(scenario.start).tz_convert(scenario.timezone)
    day = (start + pd.to_timedelta(crossed["crossed_at"], unit="min")).dt.tz_localize(None).dt.normalize()  # local midnight
    out = (
        crossed.assign(date=day.to_numpy())
        .groupby(["replication", "crossing", "date"], sort=True)
        .agg(people_crossed=("people", "sum"), parties_crossed=("people", "size"))
        .reset_index()
    )
    out["date"] = out["date"].dt.strftime("%Y-%m-%d").astype(object)  # the few days, not every party
    return out
