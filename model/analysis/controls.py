"""Controls in series: each control's queue over time, the waits before it, and which control held the flow.

For a crossing with stages (:class:`model.scenario.crossings.Stage`), a party
passes its own control (channel ``car``) and then each stage (``car@entry``).
Per replication, on the scenario's grid, two tables that add up across
replications like the other chart tables (:mod:`.chart_tables`):

- ``controls``: per crossing, channel (``car``, ``car@entry``, ...) and grid
  time, the people and vehicles waiting before that control, and
  ``bottleneck`` = 1 if it held the flow of its mode then. A control is
  *saturated* when someone waits before it and every open booth of it is
  taken; the bottleneck is the first saturated control, in the order parties
  pass them, whose booths are not held back by a full holding space after it
  (a full space moves the blame to the control after it). Summed over
  replications, ``bottleneck`` counts the replications.
- ``control_waits``: per crossing, channel and wait bin, the parties that
  reached a booth of that control after waiting that long (the histogram of
  :data:`.chart_tables.WAIT_BIN_EDGES_H`), and their hours waited in all.

Only crossings with stages are in them; scenarios without stages get none.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..scenario import MODES, Crossing, Scenario
from .chart_tables import WAIT_BIN_EDGES_H
from .key_figures import CONTROL_KPI_UNITS

__all__ = ["CONTROL_TABLES", "CONTROL_TIMES", "control_tables", "control_channels", "control_name",
           "control_kpis"]

#: Each table's key columns (the rest add up across replications).
CONTROL_TABLES = {"controls": ["crossing", "channel", "time"], "control_waits": ["crossing", "channel", "bin"]}
#: Columns that are minutes from the start here and date-times in a run folder.
CONTROL_TIMES = {"controls": ("time",)}



def control_channels(crossing: Crossing, mode: str) -> list[str]:
    """The channels a ``mode`` party passes at ``crossing``, in order: ``mode``, then ``mode@stage`` for each stage
    with such a channel."""
    return [mode] + [f"{mode}@{st.name}" for st in crossing.stages if st.channel(mode) is not None]


def control_name(crossing: Crossing, channel: str) -> str:
    """The control a channel belongs to: its stage, or the crossing's own (``first_stage``, else 'own control')."""
    return channel.split("@", 1)[1] if "@" in channel else (crossing.first_stage or "own control")


def _state_at(times: np.ndarray, values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """A step series' value at each grid time (0 before its first row)."""
    i = np.searchsorted(times, grid, side="right") - 1
    return np.where(i >= 0, values[np.maximum(i, 0)], 0)


def _controls(scenario: Scenario, queues: pd.DataFrame, crossings: list[Crossing]) -> pd.DataFrame:
    grid = np.arange(0.0, scenario.horizon_min + 1e-9, scenario.grid_min)
    rows = []
    groups = {key: g for key, g in queues.groupby(["crossing", "channel"], sort=False)}
    for c in crossings:
        for mode in MODES:
            if c.channel(mode) is None:
                continue
            chain = control_channels(c, mode)
            states = {}
            for channel in chain:
                g = groups.get((c.name, channel))
                t = g["time"].to_numpy(dtype=float) if g is not None else np.zeros(0)
                states[channel] = {col: _state_at(t, g[col].to_numpy(), grid) if g is not None else np.zeros(len(grid), dtype=np.int64)
                                   for col in ("people_waiting", "vehicles_waiting", "booths_open", "in_service")}
            saturated = np.array([(s["people_waiting"] > 0) & (s["in_service"] >= s["booths_open"]) for s in states.values()])
            room = [None] + [st.holding(mode) for st in c.stages if st.channel(mode) is not None]
            unit = "people_waiting" if mode == "foot" else "vehicles_waiting"
            full_after = np.array([np.zeros(len(grid), dtype=bool) if k + 1 == len(chain) or room[k + 1] is None
                                   else states[chain[k + 1]][unit] >= room[k + 1] for k in range(len(chain))])
            # the first saturated control not held back by a full space after it (-1: none)
            holding_flow = saturated & ~full_after
            last = np.where(holding_flow.any(axis=0), np.argmax(holding_flow, axis=0), -1)
            for k, channel in enumerate(chain):
                rows.append(pd.DataFrame({"crossing": c.name, "channel": channel, "time": grid,
                                          "people_waiting": states[channel]["people_waiting"].astype(np.int64),
                                          "vehicles_waiting": states[channel]["vehicles_waiting"].astype(np.int64),
                                          "bottleneck": (last == k).astype(np.int64)}))
    return pd.concat(rows, ignore_index=True)


def _control_waits(stays: pd.DataFrame, crossings: list[Crossing]) -> pd.DataFrame:
    names = [c.name for c in crossings]
    served = stays[(stays["how"] == "served") & stays["crossing"].isin(names)]
    wait_h = (served["left_at"].to_numpy(dtype=float) - served["joined_at"].to_numpy(dtype=float)) / 60.0
    bins = np.searchsorted(WAIT_BIN_EDGES_H, wait_h, side="right") - 1
    frame = pd.DataFrame({"crossing": served["crossing"].to_numpy(dtype=object), "channel": served["channel"].to_numpy(dtype=object),
                          "bin": bins.astype(np.int64), "parties": np.ones(len(wait_h), dtype=np.int64), "wait_h": wait_h})
    return frame.groupby(CONTROL_TABLES["control_waits"], sort=True).sum().reset_index()


def control_tables(scenario: Scenario, queues: pd.DataFrame, stays: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """One replication's ``controls`` and ``control_waits`` tables (none if no crossing has stages)."""
    crossings = [c for c in scenario.crossings if c.stages]
    if not crossings:
        return {}
    return {"controls": _controls(scenario, queues, crossings), "control_waits": _control_waits(stays, crossings)}


def control_kpis(scenario: Scenario, kpis: pd.DataFrame, queues: pd.DataFrame, stays: pd.DataFrame) -> pd.DataFrame:
    """``kpis`` (one replication's key figures) with, for each crossing with stages and each control's channel,
    the mean wait before it (h, of the parties a booth there took) and the most people waiting before it at
    once; NaN in the rows of other crossings and ``all``. Unchanged when no crossing has stages."""
    crossings = [c for c in scenario.crossings if c.stages]
    if not crossings:
        return kpis
    served = stays[stays["how"] == "served"]
    wait_h = (served["left_at"] - served["joined_at"]) / 60.0
    mean_wait = wait_h.groupby([served["crossing"], served["channel"]]).mean()
    peak = queues.groupby(["crossing", "channel"])["people_waiting"].max()
    out = kpis.copy()
    for c in crossings:
        here = out["crossing"] == c.name
        for mode in MODES:
            if c.channel(mode) is None:
                continue
            for channel in control_channels(c, mode):
                for prefix, values in zip(CONTROL_KPI_UNITS, (mean_wait, peak)):
                    name = f"{prefix}{channel}"
                    if name not in out:
                        out[name] = np.nan
                    out.loc[here, name] = float(values.get((c.name, channel), np.nan))
    return out
