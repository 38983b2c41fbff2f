"""Queues by class: how many people of each priority class and each vehicle class wait at a crossing over time.

Where some parties go first (:mod:`model.scenario.priority`) or travel in
trucks (:mod:`model.scenario.vehicles`), a crossing's total queue hides
who waits: the regular class's queue is most of it. From one replication's
stays (each party's time in each queue it stood in), per crossing and class:

- ``class_queues``: people waiting in any queue of the crossing (every
  control and lane) at each grid time, per ``grouping`` (``priority`` or
  ``vehicle``) and class; summed over replications like the other chart
  tables (:mod:`.chart_tables`).
- the key figure ``peak_people_waiting_<class>``: the most people of the
  class waiting at the crossing at once (exact, not on the grid); for
  ``all``, at all crossings together.

A priority class counts as itself only where it is served first; at other
crossings it queues, and is counted, as ``regular``
(:func:`model.analysis.key_figures.effective_class`). Car parties in no
vehicle class are ``car``; buses, people on foot and passengers who left a
vehicle to walk on (once they are on foot) are in no vehicle class. Scenarios
with no class get neither.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..scenario import Scenario
from .burden import people_step, stays_with_people
from .key_figures import ALL_CROSSINGS, PEAK_CLASS_PREFIX, effective_class, value_at

__all__ = ["CLASS_TABLES", "CLASS_TIMES", "class_groupings", "class_queue_tables", "class_peak_kpis"]

#: The table's key columns (the rest add up across replications).
CLASS_TABLES = {"class_queues": ["crossing", "grouping", "class", "time"]}
#: Columns that are minutes from the start here and date-times in a run folder.
CLASS_TIMES = {"class_queues": ("time",)}


def class_groupings(scenario: Scenario) -> dict[str, list[str]]:
    """The scenario's class names per grouping, in the order listed (``regular`` and ``car`` last)."""
    out = {}
    if scenario.priority:
        out["priority"] = [pc.name for pc in scenario.priority] + ["regular"]
    if scenario.vehicle_classes:
        out["vehicle"] = [vc.name for vc in scenario.vehicle_classes] + ["car"]
    return out


def _stays_by_class(scenario: Scenario, parties: pd.DataFrame, stays: pd.DataFrame) -> dict[str, dict[str, np.ndarray]]:
    """Per grouping: each stay's crossing, class, people, and from/to (minutes; still waiting at the end: for ever)."""
    columns = {"priority": "priority_class", "vehicle": "vehicle_class"}
    groupings = class_groupings(scenario)
    s = stays_with_people(scenario, parties, stays, tuple(columns[g] for g in groupings))
    crossing = s["crossing"].to_numpy(dtype=object)
    left = np.where(np.isnan(stays["left_at"].to_numpy(dtype=float)), np.inf, s["left"].to_numpy(dtype=float))
    out = {}
    for grouping in groupings:
        names = s[columns[grouping]].to_numpy(dtype=object)
        if grouping == "priority":
            names = effective_class(scenario, {"priority_class": names, "crossing": crossing})
        else:  # vehicles: people in them, not those of their passengers who walk on
            names = np.where(s["foot"].to_numpy(), "", names)
        out[grouping] = {"crossing": crossing, "class": names, "people": s["people"].to_numpy(dtype=float),
                         "joined": s["joined"].to_numpy(dtype=float), "left": left}
    return out


def class_queue_tables(scenario: Scenario, parties: pd.DataFrame, stays: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """One replication's ``class_queues`` table (none if the scenario has no class)."""
    if not class_groupings(scenario):
        return {}
    grid = np.arange(0.0, scenario.horizon_min + 1e-9, scenario.grid_min)
    frames = []
    for grouping, s in _stays_by_class(scenario, parties, stays).items():
        for c in scenario.crossings:
            here = s["crossing"] == c.name
            for name in class_groupings(scenario)[grouping]:
                mine = here & (s["class"] == name)
                waiting = value_at(*people_step(s["joined"][mine], s["left"][mine], s["people"][mine]), grid)
                frames.append(pd.DataFrame({"crossing": c.name, "grouping": grouping, "class": name, "time": grid,
                                            "people_waiting": waiting.round().astype(np.int64)}))
    return {"class_queues": pd.concat(frames, ignore_index=True)}


def class_peak_kpis(scenario: Scenario, kpis: pd.DataFrame, parties: pd.DataFrame, stays: pd.DataFrame) -> pd.DataFrame:
    """``kpis`` (one replication's key figures) with ``peak_people_waiting_<class>`` filled in per crossing and ``all``;
    unchanged when the scenario has no class."""
    if not class_groupings(scenario):
        return kpis
    out = kpis.copy()
    for grouping, s in _stays_by_class(scenario, parties, stays).items():
        for name in class_groupings(scenario)[grouping]:
            mine = s["class"] == name
            column = f"{PEAK_CLASS_PREFIX}{name}"
            for crossing in [c.name for c in scenario.crossings] + [ALL_CROSSINGS]:
                sel = mine if crossing == ALL_CROSSINGS else mine & (s["crossing"] == crossing)
                steps = people_step(s["joined"][sel], s["left"][sel], s["people"][sel])
                out.loc[out["crossing"] == crossing, column] = max(0.0, float(steps[1].max()))
    return out
