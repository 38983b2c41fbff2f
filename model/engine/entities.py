"""The travelling party: a car with its occupants, a group on foot, or a group riding a bus.

A :class:`Party` is created when it leaves its origin and carries its own
record: every time-stamp it passes (minutes from the scenario start, NaN until
reached) and how it ended. A bus is a :class:`Party` too, whose ``riders`` are
the groups it carries; their records copy the bus's time-stamps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Party", "OUTCOMES"]

NAN = math.nan
INF = math.inf

#: How a party's story can end (or stand at the end of the scenario).
OUTCOMES = ("crossed", "gave_up", "waiting_at_end", "travelling_at_end")


@dataclass(slots=True, eq=False)
class Party:
    """One party and its time-stamps; ``mode`` changes to ``foot`` if its people walk."""

    id: int
    origin: str
    mode: str
    people: int
    departed_at: float
    patience_min: float = INF
    balk_km: float = INF
    balk_people: float = INF
    first_crossing: str | None = None
    crossing: str | None = None
    boarded_at: float = NAN
    arrived_at: float = NAN
    service_start_at: float = NAN
    crossed_at: float = NAN
    gave_up_at: float = NAN
    outcome: str = "travelling_at_end"
    diversions: int = 0
    reroutes: int = 0
    walked: bool = False
    inspected: bool = False
    initial: bool = False
    travel_mode: str = ""  # the mode it set off in (``mode`` becomes foot if its people walk)
    bus_id: int = -1
    priority: int = 0  # its priority class: 0 regular, k the k-th class listed (model.engine.priority)
    later_wait_min: float = 0.0  # minutes waiting for the controls after the first (controls in series)
    vclass: int = 0  # its vehicle class: 0 a plain car (or not a car), k the k-th listed (model.engine.vehicles)
    split_from: int = -1  # for people who left a vehicle to walk on: the id of the vehicle's party
    riders: tuple["Party", ...] = ()
