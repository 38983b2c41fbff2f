"""Named random streams: one per random activity, derived from (seed, replication) alone.

Each activity draws from its own numpy Generator, keyed by the scenario seed,
the replication number, the activity (an append-only :class:`StreamId`) and
the names of the places involved (hashed, so adding an origin never shifts
another's numbers). Two scenarios run with the same seed therefore see the
same departures, sizes and patience draws: common random numbers.
"""

from __future__ import annotations

import zlib
from enum import IntEnum

import numpy as np

__all__ = ["StreamId", "stream"]


class StreamId(IntEnum):
    """Random activities. Append only: renumbering would change every result."""

    DEPARTURE_TIMES = 0
    DEPARTURE_MODES = 1
    PARTY_SIZES = 2
    TRAVEL = 3
    SERVICE = 4
    CHOICE = 5
    PATIENCE = 6
    BALKING = 7
    RENEGING = 8
    INSPECTION_DRAW = 9
    INSPECTION_TIME = 10
    INITIAL_QUEUE = 11
    DIVERSION_TRAVEL = 12
    RANDOM_CLOSURES = 13
    METERING = 14
    PRIORITY = 15
    WALK_ON = 16
    VEHICLE_CLASS = 17


def _key(name: str | int) -> int:
    return name if isinstance(name, int) else zlib.crc32(name.encode("utf-8"))


def stream(seed: int, replication: int, activity: StreamId, *names: str | int) -> np.random.Generator:
    """The Generator for ``activity`` at the places ``names`` in replication ``replication``."""
    key = (int(replication), int(activity), *(_key(n) for n in names))
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=key))
