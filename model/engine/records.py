"""What a replication records: the party log, the stays in queues and the exact queue series.

Records are kept apart from the logic. During the run, :class:`QueueLog`
appends one flat tuple at every change of a queue; parties carry their own
time-stamps. At the end :class:`RunRecords` holds all three as numpy columns
(one array per field) with times in minutes from the scenario start: what the
engine hands over. Turning them into tables and figures is the analysis
layer's work.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter

import numpy as np

from .entities import Party

__all__ = ["QueueLog", "RunRecords", "Columns", "PARTY_COLUMNS", "PARTY_TIMES", "QUEUE_COLUMNS", "STAY_COLUMNS", "STAY_TIMES",
           "PRIORITY_COLUMN", "VEHICLE_COLUMN", "SPLIT_COLUMN", "party_columns"]

#: One table as numpy columns, in table order (the ``replication`` column is left to the reader).
Columns = dict[str, np.ndarray]

#: Columns of the party log, in order (times in minutes here, date-times in the tables).
PARTY_COLUMNS = [
    "party_id", "replication", "origin", "mode", "people", "first_crossing", "crossing",
    "departed_at", "boarded_at", "arrived_at", "service_start_at", "crossed_at", "gave_up_at",
    "outcome", "wait_h", "diverted", "diversions", "rerouted", "walked", "inspected", "initial", "bus_id",
]
#: The party log's last column, only in a scenario with priority classes: the class name, or "regular".
PRIORITY_COLUMN = "priority_class"
#: A last column only in a scenario with vehicle classes: the vehicle of a car party ("car" for a plain car), else "".
VEHICLE_COLUMN = "vehicle_class"
#: A last column only where people walk on (``walk_on``): the vehicle's party whose people these are, -1 if none.
SPLIT_COLUMN = "split_from"
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

    __slots__ = ("crossings", "_index", "_pools", "rows", "_km_steps")

    def __init__(self, crossings: list[str]):
        self.crossings = crossings
        self._index = {name: i for i, name in enumerate(crossings)}
        self._pools: list[tuple[int, str, float, bool]] = []  # (crossing index, channel, km per vehicle, on foot) by log key
        self.rows: list[tuple] = []
        self._km_steps: dict[int, list[tuple[float, float]]] = {}  # (time, km per vehicle) per log key, when lanes change

    def register(self, pool) -> None:
        """Give ``pool`` its key in the log; done once, before it first records."""
        pool.log_key = len(self._pools)
        self._pools.append((self._index[pool.crossing], pool.label, pool.km_per_vehicle, pool.mode == "foot"))

    def km_change(self, pool) -> None:
        """From now on a waiting vehicle of ``pool`` takes ``pool.km_per_vehicle`` of road (lanes or spacing changed)."""
        self._km_steps.setdefault(pool.log_key, []).append((pool.env.now, pool.km_per_vehicle))

    def record(self, pool) -> None:
        self.rows.append((
            pool.log_key,
            pool.env.now,
            pool.parties_waiting,
            pool.people_waiting,
            pool.booths_open,
            pool.busy,
            pool.lengths_waiting,
        ))

    def columns(self) -> Columns:
        """The series sorted by crossing, channel and time, one row per instant (empty: no columns)."""
        if not self.rows:
            return {}
        n = len(self.rows)
        key, time, parties, people, booths, busy, lengths = (
            np.fromiter(c, dtype=d, count=n)
            for c, d in zip(zip(*self.rows), (np.int64, float, np.int64, np.int64, np.int64, np.int64, float))
        )
        crossing_of, channel_of, km_of, foot_of = (np.array(c, dtype=d) for c, d in zip(zip(*self._pools), (int, object, float, bool)))
        # pools in (crossing, channel) order, channels alphabetical as the table is sorted
        rank = np.empty(len(self._pools), dtype=int)
        rank[sorted(range(len(self._pools)), key=lambda k: (crossing_of[k], channel_of[k]))] = np.arange(len(self._pools))
        order = np.lexsort((np.arange(len(time)), time, rank[key]))
        key, time = key[order], time[order]
        # several changes at one instant: keep the state after the last one
        last = np.ones(len(time), dtype=bool)
        last[:-1] = (key[1:] != key[:-1]) | (time[1:] != time[:-1])
        keep, key = order[last], key[last]
        parties, lengths = parties[keep], lengths[keep]  # vehicles, and their length in cars (the same without classes)
        channel = channel_of[key]
        time = time[last].astype(float)
        km = km_of[key]
        for k, steps in self._km_steps.items():  # lanes that change: the km per vehicle in force at each row
            rows = key == k
            at, value = (np.array(c, dtype=float) for c in zip(*steps))
            i = np.searchsorted(at, time[rows], side="right") - 1
            km[rows] = np.where(i >= 0, value[np.maximum(i, 0)], km_of[k])
        return {
            "crossing": np.array(self.crossings, dtype=object)[crossing_of[key]],
            "channel": channel,
            "time": time,
            "vehicles_waiting": np.where(foot_of[key], 0, parties),
            "people_waiting": people[keep],
            "queue_km": lengths * km,
            "booths_open": booths[keep],
            "in_service": busy[keep],
        }


def party_columns(columns: Columns) -> list[str]:
    """The party log's columns in order: :data:`PARTY_COLUMNS`, then those only some scenarios have (the
    priority class; ``split_from`` where people walk on) where ``columns`` has them."""
    return PARTY_COLUMNS + [c for c in (PRIORITY_COLUMN, VEHICLE_COLUMN, SPLIT_COLUMN) if c in columns]


def _copy_bus_record(bus: Party) -> None:
    """Riders share their bus's story from boarding on."""
    for g in bus.riders:
        g.first_crossing, g.crossing, g.priority = bus.first_crossing, bus.crossing, bus.priority
        g.arrived_at, g.service_start_at, g.crossed_at = bus.arrived_at, bus.service_start_at, bus.crossed_at
        g.gave_up_at, g.outcome, g.diversions = bus.gave_up_at, bus.outcome, bus.diversions
        g.walked, g.inspected, g.later_wait_min = bus.walked, bus.inspected, bus.later_wait_min


def _stay_columns(stays: list[tuple[str, str, list[tuple]]]) -> Columns:
    """The stays, given per queue as (crossing, channel, [(party id, joined, left, how), ...]), as one
    table in order of joining (then party, crossing, channel); empty: no columns."""
    rows = [row for _, _, queue in stays for row in queue]
    if not rows:
        return {}
    party_id, joined_at, left_at, how = zip(*rows)
    n = len(rows)
    queue_of_row = np.repeat(np.arange(len(stays)), [len(queue) for _, _, queue in stays])
    names = sorted({(crossing, channel) for crossing, channel, _ in stays})
    rank = np.array([names.index((crossing, channel)) for crossing, channel, _ in stays])[queue_of_row]
    party_id = np.fromiter(party_id, dtype=np.int64, count=n)
    joined_at = np.fromiter(joined_at, dtype=float, count=n)
    order = np.lexsort((rank, party_id, joined_at))
    rank = rank[order]
    return {
        "party_id": party_id[order],
        "crossing": np.array([c for c, _ in names], dtype=object)[rank],
        "channel": np.array([m for _, m in names], dtype=object)[rank],
        "joined_at": joined_at[order],
        "left_at": np.fromiter(left_at, dtype=float, count=n)[order],
        "how": np.array(how, dtype=object)[order],
    }


@dataclass
class RunRecords:
    """What one replication hands over: the party log, the stays and the queue series as numpy
    columns (times in minutes from the start; a table with no rows has no columns)."""

    replication: int
    parties: Columns
    queues: Columns
    stays: Columns

    @classmethod
    def from_parties(cls, replication: int, parties: list[Party], buses: list[Party], queue_log: QueueLog,
                     stays: list[tuple[str, str, list[tuple]]] = (), classes: list[str] | None = None,
                     split: bool = False, vehicles: list[str] | None = None) -> "RunRecords":
        """The records of a finished replication; ``classes``: the priority classes' names, if the scenario has
        any (the party log then gets a :data:`PRIORITY_COLUMN`)."""
        for bus in buses:
            _copy_bus_record(bus)
        party_list, n = parties, len(parties)
        text = ("origin", "travel_mode", "first_crossing", "crossing", "outcome")
        numbers = {"id": np.int64, "people": np.int64, **{t: float for t in PARTY_TIMES}, "diversions": np.int64,
                   "reroutes": np.int64, "walked": bool, "inspected": bool, "initial": bool, "bus_id": np.int64,
                   "later_wait_min": float}
        # field by field: transposing every party into tuples at once would hold the whole log twice
        col = {f: np.fromiter(map(attrgetter(f), parties), dtype=object, count=n) for f in text}
        col.update({f: np.fromiter(map(attrgetter(f), parties), dtype=dtype, count=n) for f, dtype in numbers.items()})
        parties = {
            "party_id": col["id"],
            "origin": col["origin"],
            "mode": col["travel_mode"],
            "people": col["people"],
            "first_crossing": col["first_crossing"],
            "crossing": col["crossing"],
            **{t: col[t] for t in PARTY_TIMES},
            "outcome": col["outcome"],
            # waiting for the first booth, and for each control after it (0 with one control)
            "wait_h": (col["service_start_at"] - col["arrived_at"] + col["later_wait_min"]) / 60.0,
            "diverted": col["diversions"] > 0,
            "diversions": col["diversions"],
            "rerouted": col["reroutes"] > 0,
            "walked": col["walked"],
            "inspected": col["inspected"],
            "initial": col["initial"],
            "bus_id": col["bus_id"],
        }
        if vehicles:
            names = np.array(["car", *vehicles], dtype=object)
            kind = names[np.fromiter(map(attrgetter("vclass"), party_list), dtype=np.int64, count=n)]
            parties[VEHICLE_COLUMN] = np.where(col["travel_mode"] == "car", kind, "")
        if split:
            parties[SPLIT_COLUMN] = np.fromiter(map(attrgetter("split_from"), party_list), dtype=np.int64, count=n)
        if classes:
            names = np.array(["regular", *classes], dtype=object)
            parties[PRIORITY_COLUMN] = names[np.fromiter(map(attrgetter("priority"), party_list), dtype=np.int64, count=n)]
        return cls(replication, parties, queue_log.columns(), _stay_columns(stays))

