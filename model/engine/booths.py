"""The booths and the queue of one channel at a crossing: a pool of booths, one FIFO queue.

Each channel (cars, buses, pedestrians) is a pool of booths with its own
first-come first-served queue. The number of open booths follows the
channel's schedule; a closure makes it zero for a while. Fewer booths never
cut a service short: a booth that finishes above the new count simply takes
no one next. Queue length on the road is ``vehicles x spacing / lanes``
(lanes and spacing may change during the run).

Booth pools are written by hand rather than as ``simpy.Resource`` because the
capacity changes over time and waiting parties can leave (renege); the pool
fires each waiting party's ``turn`` event as a SimPy request would, with True
when a booth takes it or False when its patience ran out first.
Every change of the queue is reported to the ``on_change`` callback, which
the simulation uses to record the exact queue series.
"""

from __future__ import annotations

from collections import deque
from typing import Callable

import simpy

from .entities import INF, Party
from .patience import PatienceTimer

__all__ = ["Ticket", "BoothPool"]


class Ticket:
    """A party's place in a queue. ``turn`` fires with True when a booth takes the party, or with
    False when its patience runs out first (it has then left the queue)."""

    __slots__ = ("pool", "party", "turn", "active", "joined_at")

    def __init__(self, pool: "BoothPool", party: Party, turn: simpy.Event, joined_at: float):
        self.pool, self.party, self.turn, self.active, self.joined_at = pool, party, turn, True, joined_at

    def expire(self) -> None:
        """Patience ran out: leave the queue unless a booth took the party already (or the pool's
        ``patience_runs_out`` keeps it there: some of its people walked on)."""
        if self.active and not (self.pool.patience_runs_out is not None and self.pool.patience_runs_out(self)):
            self.pool.leave(self)
            self.turn.succeed(False)


class BoothPool:
    """The booths and the queue of one channel at one crossing."""

    def __init__(
        self,
        env: simpy.Environment,
        crossing: str,
        mode: str,
        booths: int,
        service,
        spacing_m: float,
        lanes: int,
        on_change: Callable[["BoothPool"], None],
        label: str | None = None,
    ):
        self.env, self.crossing, self.mode = env, crossing, mode
        self.label = label or mode  # its channel in the tables: the mode, or mode@stage at a later control
        self.service = service
        self.service_factor = None  # a mean-1 Sampler, attached by the simulation
        self.service_multiplier = self.inspection_multiplier = 1.0  # of the check regime in force in this channel
        self.booths = booths  # on the schedule
        self.closed = False
        self.booths_open = booths  # 0 while closed, else ``booths``
        self.busy = 0
        self.km_per_vehicle = spacing_m / 1000.0 / lanes if mode != "foot" else 0.0
        self.parties_waiting = 0
        self.people_waiting = 0
        self._queue: deque[Ticket] = deque()
        self._on_change = on_change
        self.log_key = -1  # its key in the queue log, given by the simulation
        self.stays: list[tuple] = []  # (party id, joined, left, how) per finished stay in this queue
        self._patience = PatienceTimer(env)
        #: called with a ticket whose patience ran out; True if the party stays (model.engine.walk_on)
        self.patience_runs_out: Callable[[Ticket], bool] | None = None

    @property
    def lengths_waiting(self) -> float:
        """The waiting vehicles in car lengths (here every vehicle is one; see model.engine.vehicles)."""
        return self.parties_waiting

    @property
    def queue_km(self) -> float:
        return self.lengths_waiting * self.km_per_vehicle

    def service_for(self, party: Party):
        """The service model of ``party`` at these booths."""
        return self.service

    def join(self, party: Party) -> simpy.Event | None:
        """Put ``party`` at the back of the queue and return its turn: an event that fires with True
        when a booth takes it, or False when ``party.patience_min`` runs out first.

        With nobody waiting and a booth free the party goes straight to it and
        there is no event to wait for (None): one event fewer for the loop.
        A party's patience is a deadline in the queue's :class:`PatienceTimer`,
        not a condition the party waits on nor a timeout of its own on the
        event heap: cheaper, and nothing is left behind when it is served.
        """
        env = self.env
        now = env.now
        if not self.parties_waiting and self.busy < self.booths_open:
            self.busy += 1
            self.stays.append((party.id, now, now, "served"))
            self._on_change(self)
            return None
        # no booth is free (booths never idle while anyone waits): queue up
        return self._queue_up(Ticket(self, party, env.event(), now))

    def _queue_up(self, ticket: Ticket, line: deque | None = None) -> simpy.Event:
        """Put ``ticket`` at the back of the queue (or of ``line``, a line of its own that counts in the
        queue), its patience on the timer; its turn event."""
        party = ticket.party
        (self._queue if line is None else line).append(ticket)
        self.parties_waiting += 1
        self.people_waiting += party.people
        self._on_change(self)
        if party.patience_min < INF:
            self._patience.add(ticket.joined_at + party.patience_min, ticket, self.parties_waiting)
        return ticket.turn

    def leave(self, ticket: Ticket) -> None:
        """Take a waiting party out of the queue (it reneged); O(1), skipped at dispatch."""
        if ticket.active:
            ticket.active = False
            self.parties_waiting -= 1
            self.people_waiting -= ticket.party.people
            self.stays.append((ticket.party.id, ticket.joined_at, self.env.now, "left"))
            self._on_change(self)

    def release(self) -> None:
        """A booth finished with its party and may take the next one."""
        self.busy -= 1
        self._dispatch()
        self._on_change(self)

    def waiting_tickets(self) -> list[Ticket]:
        """The tickets of the parties in the queue now, in the order booths would take them."""
        return [t for t in self._queue if t.active]

    def waiting_parties(self) -> list[Party]:
        """The parties in the queue now, front to back."""
        return [t.party for t in self.waiting_tickets()]

    def split_off(self, party: Party, walkers: Party) -> None:
        """``walkers`` left waiting ``party`` (to walk on), which keeps its place: their time in its vehicle so
        far is a stay of theirs in this queue (``how`` 'walked_on'), so people waiting are counted right."""
        joined = next(t.joined_at for t in self.waiting_tickets() if t.party is party)
        self.stays.append((walkers.id, joined, self.env.now, "walked_on"))
        self.people_waiting -= walkers.people
        self._on_change(self)

    def open_stays(self) -> list[tuple]:
        """Stays of the parties still in the queue now (the end of a run): not left yet."""
        return [(t.party.id, t.joined_at, float("nan"), "waiting") for t in self.waiting_tickets()]

    def set_booths(self, booths: int) -> None:
        self.booths = booths
        self.booths_open = 0 if self.closed else booths
        self._dispatch()
        self._on_change(self)

    def set_km_per_vehicle(self, km: float) -> None:
        """The lanes or the spacing changed: each waiting vehicle now takes ``km`` of road."""
        self.km_per_vehicle = km
        self._on_change(self)

    def set_closed(self, closed: bool) -> None:
        self.closed = closed
        self.booths_open = 0 if closed else self.booths
        self._dispatch()
        self._on_change(self)

    def _dispatch(self) -> None:
        queue, now = self._queue, self.env.now
        while queue and self.busy < self.booths_open:
            ticket = queue.popleft()
            if ticket.active:
                self._start(ticket, now)

    def _start(self, ticket: Ticket, now: float) -> None:
        """A booth takes the party of ``ticket`` (out of the queue already) now."""
        ticket.active = False
        self.busy += 1
        self.parties_waiting -= 1
        self.people_waiting -= ticket.party.people
        self.stays.append((ticket.party.id, ticket.joined_at, now, "served"))
        ticket.turn.succeed(True)
