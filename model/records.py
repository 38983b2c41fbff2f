"""What a replication records: the party log and the exact queue series.

Records are kept apart from the logic. During the run, :class:`QueueLog`
appends one flat tuple at every change of a queue; parties carry their own
time-stamps. At the end :class:`RunRecords` turns both into compact
DataFrames with times in minutes from the scenario start, which is what
worker processes send back. Converting minutes to real date-times is left to
the tables layer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .entities import Party
from .scenario import MODES

__all__ = ["QueueLog", "RunRecords", "PARTY_COLUMNS", "QUEUE_COLUMNS", "STAY_COLUMNS"]

#: Columns of the party log, in order (times in minutes here, date-times in the tables).
PARTY_COLUMNS = [
    "party_id", "replication", "origin", "mode", "people", "first_crossing", "crossing",
    "departed_at", "boarded_at", "arrived_at", "service_start_at", "crossed_at", "gave_up_at",
    "outcome", "wait_h", "diverted", "diversions", "rerouted", "walked", "inspected", "initial", "bus_id",
]
PARTY_TIMES = ["departed_at", "boarded_at", "arrived_at", "service_start_at", "crossed_at", "gave_up_at"]

#: Columns of the stays table: one row per party per queue it stood in (a diverted or walking party has several).
STAY_COLUMNS = ["replication", "party_id", "crossing", "channel", "joined_at", "left_at", "how"]
STAY_TIMES = ["joined_at", "left_at"]

#: Columns of the queue series, one row at every change.
QUEUE_COLUMNS = [
    "replication", "crossing", "channel", "time", "vehicles_waiting", "people_waiting",
    "queue_km", "booths_open", "in_service",
]


class QueueLog:
    """Appends the state of a booth pool every time it changes."""

    __slots__ = ("crossings", "_index", "rows")

    def __init__(self, crossings: list[str]):
        self.crossings = crossings
        self._index = {name: i for i, name in enumerate(crossings)}
        self.rows: list[tuple] = []

    def record(self, pool, at: float | None = None) -> None:
        self.rows.append(
            (
                self._index[pool.crossing],
                pool.mode,
                pool.env.now if at is None else at,
                pool.parties_waiting,
                pool.people_waiting,
                pool.km_per_vehicle,
                0 if pool.closed else pool.booths,
                pool.busy,
            )
        )

    def frame(self, replication: int) -> pd.DataFrame:
        cols = ["crossing", "channel", "time", "parties_waiting", "people_waiting", "km_per_vehicle", "booths_open", "in_service"]
        df = pd.DataFrame(self.rows, columns=cols)
        df["crossing"] = pd.Categorical.from_codes(df["crossing"].to_numpy(), categories=self.crossings).astype(str)
        df.insert(0, "replication", replication)
        on_foot = (df["channel"] == "foot").to_numpy()
        df["vehicles_waiting"] = np.where(on_foot, 0, df["parties_waiting"])
        df["queue_km"] = df["parties_waiting"] * df["km_per_vehicle"]
        # several changes at one instant: keep the state after the last one
        df = df.iloc[::-1].drop_duplicates(["crossing", "channel", "time"]).iloc[::-1]
        df = df.sort_values(["crossing", "channel", "time"], kind="stable").reset_index(drop=True)
        return df[QUEUE_COLUMNS]


def _copy_bus_record(bus: Party) -> None:
    """Riders share their bus's story from boarding on."""
    for g in bus.riders:
        g.first_crossing, g.crossing = bus.first_crossing, bus.crossing
        g.arrived_at, g.service_start_at, g.crossed_at = bus.arrived_at, bus.service_start_at, bus.crossed_at
        g.gave_up_at, g.outcome, g.diversions = bus.gave_up_at, bus.outcome, bus.diversions
        g.walked, g.inspected = bus.walked, bus.inspected


@dataclass
class RunRecords:
    """The compact result of one replication (times in minutes from the start).

    ``kpis`` and ``grid`` are this replication's key figures and resampled queue
    series; computing them where the replication ran lets worker processes
    share that work too.
    """

    replication: int
    parties: pd.DataFrame
    queues: pd.DataFrame
    stays: pd.DataFrame | None = None
    kpis: pd.DataFrame | None = None
    grid: pd.DataFrame | None = None

    def summarise(self, scenario) -> "RunRecords":
        """Fill ``kpis`` and ``grid`` from the tables (pure functions of :mod:`model.metrics`)."""
        from .metrics import queues_on_grid, replication_kpis

        self.kpis = replication_kpis(scenario, self.parties, self.queues)
        self.grid = queues_on_grid(scenario, self.queues)
        return self

    @classmethod
    def from_parties(cls, replication: int, parties: list[Party], buses: list[Party], queue_log: QueueLog,
                     stays: list[tuple] = ()) -> "RunRecords":
        for bus in buses:
            _copy_bus_record(bus)
        df = pd.DataFrame(
            {
                "party_id": [p.id for p in parties],
                "replication": replication,
                "origin": [p.origin for p in parties],
                "mode": [p.travel_mode for p in parties],
                "people": np.array([p.people for p in parties], dtype=np.int64),
                "first_crossing": [p.first_crossing for p in parties],
                "crossing": [p.crossing for p in parties],
                **{col: np.array([getattr(p, col) for p in parties], dtype=float) for col in PARTY_TIMES},
                "outcome": [p.outcome for p in parties],
                "diversions": np.array([p.diversions for p in parties], dtype=np.int64),
                "rerouted": np.array([p.reroutes > 0 for p in parties], dtype=bool),
                "walked": np.array([p.walked for p in parties], dtype=bool),
                "inspected": np.array([p.inspected for p in parties], dtype=bool),
                "initial": np.array([p.initial for p in parties], dtype=bool),
                "bus_id": np.array([p.bus_id for p in parties], dtype=np.int64),
            }
        )
        df["wait_h"] = (df["service_start_at"] - df["arrived_at"]) / 60.0
        df["diverted"] = df["diversions"] > 0
        stay_frame = pd.DataFrame(list(stays), columns=STAY_COLUMNS[1:])
        stay_frame.insert(0, "replication", replication)
        stay_frame = stay_frame.sort_values(["joined_at", "party_id", "crossing", "channel"], kind="stable").reset_index(drop=True)
        return cls(replication, df[PARTY_COLUMNS], queue_log.frame(replication), stay_frame[STAY_COLUMNS])


def modes_present(parties: pd.DataFrame) -> list[str]:
    return [m for m in MODES if (parties["mode"] == m).any()]
