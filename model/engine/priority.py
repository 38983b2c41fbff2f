"""Priority classes during a run: who is in which class, and booths that serve the highest class first.

A party's class is drawn once, when it is created (:class:`ClassDraw`):
among the classes that apply to its origin, mode and departure time, in the
order listed, one uniform draw on the origin's own priority stream picks the
class whose share it falls in (or none: regular, 0). A share may differ by
origin and mode, and may be a distribution, drawn once per replication.
Buses are drawn as vehicles when they leave the stop; their riders take the
bus's class.

:class:`PriorityPool` is a :class:`~model.engine.booths.BoothPool` with one
FIFO queue per class served first at its channel, and one for everyone else
(regular parties, and classes served first only elsewhere). When a booth
frees it takes the first party still waiting in the highest class; a party
in service is never interrupted (non-preemptive). Only the channels where
some class is served first get one, so a scenario without classes runs the
plain pools and draws no random number more.
"""

from __future__ import annotations

from collections import deque

import simpy

from ..scenario import Scenario
from .booths import BoothPool, Ticket
from .entities import Party
from .samplers import draw
from .streams import StreamId, stream

__all__ = ["PriorityPool", "ClassDraw", "queue_levels"]


def queue_levels(scenario: Scenario, crossing: str, mode: str) -> tuple[int, ...] | None:
    """For a party of class k (0 regular), the index of its queue at the ``mode`` channel of ``crossing``
    (0 highest; the last holds regular parties and classes not served first here); None where no class is."""
    first = [k for k, pc in enumerate(scenario.priority, start=1) if pc.in_queue_at(crossing, mode)]
    if not first:
        return None
    level = {k: i for i, k in enumerate(first)}
    return tuple(level.get(k, len(first)) for k in range(len(scenario.priority) + 1))


class PriorityPool(BoothPool):
    """Booths that take the first waiting party of the highest class (see the module docstring)."""

    def __init__(self, *args, levels: tuple[int, ...], **kwargs):
        super().__init__(*args, **kwargs)
        self.levels = levels  # queue index by the party's class
        self._queues: list[deque[Ticket]] = [deque() for _ in range(max(levels) + 1)]
        self._queue = self._queues[-1]  # the regular queue (the base class reads no other once ours are used)

    def _queue_up(self, ticket: Ticket, line: deque | None = None) -> simpy.Event:
        """Put ``ticket`` at the back of its class's queue, its patience on the timer; its turn event."""
        return super()._queue_up(ticket, self._queues[self.levels[ticket.party.priority]] if line is None else line)

    def waiting_tickets(self) -> list[Ticket]:
        """The tickets waiting now, in the order booths would take them (highest class first)."""
        return [t for q in self._queues for t in q if t.active]

    def _next(self) -> Ticket | None:
        """The first party still waiting in the highest class (those whose patience ran out are dropped)."""
        for queue in self._queues:
            while queue:
                ticket = queue.popleft()
                if ticket.active:
                    return ticket
        return None

    def _dispatch(self) -> None:
        now = self.env.now
        while self.busy < self.booths_open:
            ticket = self._next()
            if ticket is None:
                return
            self._start(ticket, now)


class ClassDraw:
    """Draws each party's class in one replication: one uniform per eligible party on its origin's stream.

    A class's share for a party is the one its origin and mode get (the class's ``share``, or the first of its
    ``shares`` that matches); a share given as a distribution is drawn once, here, for the whole replication, on
    its own stream (the class's name and ``share``; an override's with its index), so a number share draws
    nothing more. The classes and shares that apply to an origin and mode are looked up once and kept.
    """

    def __init__(self, scenario: Scenario, replication: int):
        self.classes = list(scenario.priority)
        self.from_min = [None if pc.from_ is None else scenario.minutes(pc.from_) for pc in self.classes]
        self._seed, self._replication = scenario.seed, replication
        self._streams: dict[tuple[str, str], object] = {}
        #: The replication's value of each distribution share: (class number, None or the override's index).
        self._drawn: dict[tuple[int, int | None], float] = {}
        for k, pc in enumerate(self.classes, start=1):
            for i, share in [(None, pc.share), *enumerate(o.share for o in pc.shares)]:
                if not isinstance(share, (int, float)):
                    names = ("share",) if i is None else ("shares", i)
                    rng = stream(self._seed, replication, StreamId.PRIORITY, pc.name, *names)
                    self._drawn[k, i] = float(draw(share, rng, 1)[0])
        #: (origin, mode) -> the classes that can apply, in order: (class number, share, from minute or None).
        self._candidates: dict[tuple[str, str], list[tuple[int, float, float | None]]] = {}

    def share(self, k: int, origin: str, mode: str) -> float:
        """The share of the ``k``-th class (from 1) among parties of ``origin`` in ``mode`` in this replication."""
        pc = self.classes[k - 1]
        i, share = next(((i, o.share) for i, o in enumerate(pc.shares) if o.matches(origin, mode)), (None, pc.share))
        return float(share) if isinstance(share, (int, float)) else self._drawn[k, i]

    def _candidates_for(self, origin: str, mode: str) -> list[tuple[int, float, float | None]]:
        key = (origin, mode)
        found = self._candidates.get(key)
        if found is None:
            found = self._candidates[key] = [
                (k, self.share(k, origin, mode), f) for k, (pc, f) in enumerate(zip(self.classes, self.from_min), start=1)
                if pc.applies_to(origin, mode, 0.0, None)]
        return found

    def _rng(self, origin: str, kind: str):
        key = (origin, kind)
        if key not in self._streams:
            self._streams[key] = stream(self._seed, self._replication, StreamId.PRIORITY, origin, kind)
        return self._streams[key]

    def classify(self, p: Party, kind: str = "party") -> None:
        """Set ``p.priority`` (``kind``: 'party' or 'bus', for a bus vehicle, each on its own stream)."""
        t = p.departed_at
        applying = [(k, share) for k, share, f in self._candidates_for(p.origin, p.mode) if f is None or t >= f]
        if not applying:
            return
        u = self._rng(p.origin, kind).random()
        edge = 0.0
        for k, share in applying:
            edge += share
            if u < edge:
                p.priority = k
                return
