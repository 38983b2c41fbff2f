"""A gate in front of a channel's booths: release quotas per period and batches at set times.

Where an authority lets through at most N vehicles a day, or a column of N
at 17:00, the booths are not what limits the flow: a gate in front of them
is. :class:`GatedPool` is a :class:`~model.engine.booths.BoothPool` whose
booths take a waiting party only when the gate lets it pass:

* a **quota** of N parties per period: each party a booth takes uses one;
  when none is left, booths take no one until the next period starts (an
  unused quota is not carried over); outside every quota period there is no
  limit;
* **batches**: at a batch time the first N parties then waiting are let
  through (they keep their places and go to the booths as booths free: in
  quick succession with enough booths); parties arriving later wait for the
  next batch. With batches, no one passes between them.

Both may hold at once: a released party still needs quota. Only channels
with a release rule get a gate, so the others pay nothing for it.
"""

from __future__ import annotations

import simpy

from .booths import BoothPool, Ticket
from .entities import INF, Party

__all__ = ["GatedPool", "GateTicket", "follow_release"]


class GateTicket(Ticket):
    """A place in a gated queue; ``released`` once a batch let the party through the gate."""

    __slots__ = ("released",)

    def __init__(self, pool: "GatedPool", party: Party, turn: simpy.Event, joined_at: float):
        super().__init__(pool, party, turn, joined_at)
        self.released = False


class GatedPool(BoothPool):
    """Booths behind a gate: a quota of parties per period and/or batches (see the module docstring)."""

    def __init__(self, *args, batched: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.batched = batched  # the gate opens only for batches
        self.quota_left = INF  # parties that may still start service in this period
        self.started = 0  # parties taken by a booth so far (for checks)

    def _may_pass(self, ticket: GateTicket | None) -> bool:
        if self.quota_left <= 0:
            return False
        return not self.batched or (ticket is not None and ticket.released)

    def join(self, party: Party) -> simpy.Event | None:
        """As :meth:`BoothPool.join`, but straight to a free booth only if the gate lets the party pass."""
        now = self.env.now
        if not self.parties_waiting and self.busy < self.booths_open and self._may_pass(None):
            self.busy += 1
            self._take()
            self.stays.append((party.id, now, now, "served"))
            self._on_change(self)
            return None
        return self._queue_up(GateTicket(self, party, self.env.event(), now))

    def _take(self) -> None:
        self.quota_left -= 1
        self.started += 1

    def _dispatch(self) -> None:
        queue, now = self._queue, self.env.now
        while queue and self.busy < self.booths_open:
            ticket = queue[0]
            if not ticket.active:
                queue.popleft()
                continue
            if not self._may_pass(ticket):
                break
            queue.popleft()
            self._take()
            self._start(ticket, now)

    def set_quota(self, parties: float) -> None:
        """A new period begins with ``parties`` to let through (inf: no quota)."""
        self.quota_left = parties
        self._dispatch()
        self._on_change(self)

    def release_batch(self, parties: int) -> None:
        """Let the first ``parties`` waiting (not yet released) through the gate."""
        left = parties
        for ticket in self._queue:
            if left <= 0:
                break
            if ticket.active and not ticket.released:
                ticket.released = True
                left -= 1
        self._dispatch()
        self._on_change(self)


def follow_release(env: simpy.Environment, pool: GatedPool, quotas: list[tuple[float, float, int]], batches: list[tuple[float, int]]):
    """Start the processes that open quota periods and release batches, in minutes from the start."""
    if quotas:
        if quotas[0][0] <= env.now:  # in force already for the parties waiting at the start
            pool.quota_left = quotas[0][2]
        env.process(_follow_quotas(env, pool, quotas))
    if batches:
        env.process(_follow_batches(env, pool, batches))


def _follow_quotas(env: simpy.Environment, pool: GatedPool, periods: list[tuple[float, float, int]]):
    for i, (start, end, parties) in enumerate(periods):
        if start > env.now:
            yield env.timeout(start - env.now)
            pool.set_quota(parties)
        elif i:
            pool.set_quota(parties)
        following = periods[i + 1][0] if i + 1 < len(periods) else INF
        if following > end:  # a gap without quota follows
            yield env.timeout(end - env.now)
            pool.set_quota(INF)


def _follow_batches(env: simpy.Environment, pool: GatedPool, batches: list[tuple[float, int]]):
    for at, parties in batches:
        if at > env.now:
            yield env.timeout(at - env.now)
        pool.release_batch(parties)
