"""The holding space before a later control: finite room between two controls in series.

A party served at one control moves on only when the space before the next
has room for it; until then it stays at the booth it was served at, which
takes no one else (blocking after service). The room counts the parties
(people, for pedestrians) waiting for the next control; a party that finds a
booth free there, with nobody waiting, goes straight to it and needs no room,
so a space of 0 still passes parties one by one to free booths.

Blocked parties move on in the order they finished. The space admits them
itself, joining each to the next control's queue the moment there is room,
so no other party can take that room in between: it looks again whenever
that control's queue changes.
"""

from __future__ import annotations

from collections import deque

import simpy

from .booths import BoothPool
from .entities import Party

__all__ = ["HoldingSpace"]


class HoldingSpace:
    """Room for ``capacity`` parties (people if ``foot``) waiting for the booths of ``pool``."""

    def __init__(self, env: simpy.Environment, pool: BoothPool, capacity: int):
        self.env, self.pool, self.capacity = env, pool, capacity
        self.foot = pool.mode == "foot"
        self._blocked: deque[tuple[Party, simpy.Event]] = deque()  # at the booth before, in the order they finished
        self._admitting = False
        record = pool._on_change

        def on_change(changed: BoothPool) -> None:
            record(changed)
            self._admit()

        pool._on_change = on_change

    def enter(self, party: Party) -> simpy.Event:
        """An event that fires, once there is room, with the party's turn at the next control (None: a booth
        took it at once), as :meth:`BoothPool.join` gives it."""
        moved = self.env.event()
        self._blocked.append((party, moved))
        self._admit()
        return moved

    def _has_room(self, party: Party) -> bool:
        pool = self.pool
        if not pool.parties_waiting and pool.busy < pool.booths_open:
            return True  # straight to a free booth
        used, size = (pool.people_waiting, party.people) if self.foot else (pool.parties_waiting, 1)
        return used + size <= self.capacity

    def _admit(self) -> None:
        if self._admitting:
            return
        self._admitting = True
        try:
            while self._blocked and self._has_room(self._blocked[0][0]):
                party, moved = self._blocked.popleft()
                moved.succeed(self.pool.join(party))
        finally:
            self._admitting = False
