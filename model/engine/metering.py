"""Control points up the road into a crossing: police who let only some parties drive on to the border.

A :class:`MeterPoint` stands on the routes into one crossing (from some
origins or all) and controls some modes (:mod:`model.scenario.metering`). A
party it controls is allowed or not (its origin, a draw on the point's own
stream); an allowed party passes at once if no allowed party waits before it
and the last one passed at least 60/vph minutes ago, else it queues, first
come first through. A party not allowed is held in the point's queue, beside
the allowed ones and never blocking them, until the metering ends; or it is
turned back at once. Each point has one :class:`MeterPool` per mode: a booth
pool (:mod:`.booths`) whose one "booth" is the headway, so that its queue is
logged, reported in km (vehicles x the crossing's spacing / approach lanes)
and recorded as stays like any other, as channel ``mode@point``.

A party's patience applies to the point's queue as it does to any queue
(when it runs out the party leaves and reneges); :class:`MeterPoints` sends
each party through the points of the crossing it reaches, once per arrival
there (a party that diverts meets the next crossing's points; one that
leaves its car in the crossing's queue is past them already).
"""

from __future__ import annotations

import math

import simpy

from ..scenario import Scenario
from ..scenario.metering import Metering
from .booths import BoothPool, Ticket
from .entities import Party
from .samplers import UNIT_UNIFORM, make_sampler
from .streams import StreamId, stream

__all__ = ["MeterPool", "MeterPoint", "MeterPoints"]

INF = math.inf


class HeldTicket(Ticket):
    """A place beside the queue of a metering point for a party not allowed through: it waits to the end."""

    __slots__ = ()


class MeterPool(BoothPool):
    """The queue of one mode at a metering point: one party through every ``headway_min`` (None: no limit),
    FIFO; held parties count in the queue but wait beside it until :meth:`lift`."""

    def __init__(self, env: simpy.Environment, crossing: str, mode: str, headway_min: float | None,
                 spacing_m: float, lanes: int, on_change, label: str, in_force: bool):
        super().__init__(env, crossing, mode, 1, None, spacing_m, lanes, on_change, label=label)
        self.headway_min = headway_min
        self.booths_open = 1 if in_force else 0
        self._held: list[HeldTicket] = []
        self._held_waiting = 0  # of ``parties_waiting``: those held beside the queue

    def join(self, party: Party, allowed: bool = True) -> simpy.Event | None:
        """Queue ``party`` (held beside the queue if not ``allowed``); its turn event, or None if it passes now."""
        now = self.env.now
        if allowed and self.busy < self.booths_open and self.parties_waiting == self._held_waiting:
            self._let_through(party.id, now, now)
            self._on_change(self)
            return None
        if allowed:
            return self._queue_up(Ticket(self, party, self.env.event(), now))
        self._held_waiting += 1  # counted in the queue, but beside it, not in line
        return self._queue_up(HeldTicket(self, party, self.env.event(), now), self._held)

    def leave(self, ticket: Ticket) -> None:
        """As :meth:`BoothPool.leave`; a held party's patience ran out (it is no longer held either)."""
        if ticket.active and isinstance(ticket, HeldTicket):
            self._held_waiting -= 1
        super().leave(ticket)

    def _let_through(self, party_id: int, joined: float, now: float) -> None:
        """One party passes now; the next may pass one headway later."""
        self.stays.append((party_id, joined, now, "served"))
        if self.headway_min is not None:
            self.busy += 1
            self.env.timeout(self.headway_min).callbacks.append(self._headway_over)

    def _headway_over(self, _event) -> None:
        """One headway after a pass: the next allowed party may go."""
        self.busy -= 1
        self._dispatch()
        self._on_change(self)

    def _start(self, ticket: Ticket, now: float) -> None:
        """The party of ``ticket`` passes now (the one "booth" is the headway)."""
        ticket.active = False
        self.parties_waiting -= 1
        self.people_waiting -= ticket.party.people
        self._let_through(ticket.party.id, ticket.joined_at, now)
        ticket.turn.succeed(True)

    def open_stays(self) -> list[tuple]:
        return super().open_stays() + [(t.party.id, t.joined_at, math.nan, "waiting") for t in self._held if t.active]

    def lift(self) -> None:
        """The metering ends: everyone waiting, allowed or held, drives on now; from now on nobody is stopped."""
        now = self.env.now
        self.booths_open = 0
        for ticket in [*self._queue, *self._held]:
            if ticket.active:
                ticket.active = False
                self.stays.append((ticket.party.id, ticket.joined_at, now, "served"))
                ticket.turn.succeed(True)
        self._queue.clear()
        self._held.clear()
        self.parties_waiting = self.people_waiting = self._held_waiting = 0
        self._on_change(self)


class MeterPoint:
    """One control point up the road (a :class:`~model.scenario.metering.Metering` during a run)."""

    def __init__(self, env: simpy.Environment, scenario: Scenario, spec: Metering, replication: int, on_change):
        self.env, self.spec = env, spec
        crossing = scenario.crossing(spec.crossing)
        self.origins = frozenset(spec.origins) or None
        self.pass_origins = frozenset(spec.pass_origins) or None
        self.pass_share = spec.pass_share
        self.draw = make_sampler(UNIT_UNIFORM, stream(scenario.seed, replication, StreamId.METERING, spec.name))
        starts = scenario.minutes(spec.starts) if spec.starts is not None else 0.0
        ends = scenario.minutes(spec.ends) if spec.ends is not None else INF
        self.in_force = starts <= 0.0 < ends
        headway = 60.0 / spec.vehicles_per_hour if spec.vehicles_per_hour is not None else None
        self.pools = {
            mode: MeterPool(env, crossing.name, mode, headway, crossing.spacing_m(mode), crossing.approach_lanes,
                            on_change, f"{mode}@{spec.name}", self.in_force)
            for mode in spec.modes if crossing.channel(mode) is not None
        }
        if starts > 0.0 or ends < INF:
            env.process(self._follow_window(starts, ends))

    def controls(self, p: Party) -> bool:
        """Whether ``p`` (on its way into the crossing now) is stopped here."""
        return self.in_force and p.mode in self.pools and (self.origins is None or p.origin in self.origins)

    def passes(self, p: Party):
        """Stop ``p`` here (a generator): True once it is let through, False if turned back or out of patience."""
        allowed = self.pass_origins is None or p.origin in self.pass_origins
        if self.pass_share < 1.0:
            allowed = self.draw() < self.pass_share and allowed  # drawn for every party: common random numbers
        pool = self.pools[p.mode]
        if not allowed and self.spec.refused == "turn_back":
            now = self.env.now
            pool.stays.append((p.id, now, now, "left"))
            return False
        turn = pool.join(p, allowed)
        if turn is None:
            return True
        p.outcome = "waiting_at_end"
        return (yield turn)

    def _follow_window(self, starts: float, ends: float):
        """Put the point in force at ``starts`` and lift it at ``ends`` (minutes from the start)."""
        if starts > self.env.now:
            yield self.env.timeout(starts - self.env.now)
            self.in_force = True
            for pool in self.pools.values():
                pool.set_booths(1)
        if ends < INF:
            yield self.env.timeout(max(0.0, ends - self.env.now))
            self.in_force = False
            for pool in self.pools.values():
                pool.lift()


class MeterPoints:
    """Every metering point of a replication, by the crossing whose roads they stand on."""

    def __init__(self, env: simpy.Environment, scenario: Scenario, replication: int, on_change):
        self.by_crossing: dict[str, list[MeterPoint]] = {}
        for spec in scenario.metering:
            self.by_crossing.setdefault(spec.crossing, []).append(MeterPoint(env, scenario, spec, replication, on_change))
        self._passed: dict[int, tuple[str, int]] = {}  # party id -> (crossing, diversions) of the arrival it passed

    def pools(self) -> list[MeterPool]:
        """The queues of every point, in scenario order."""
        return [pool for points in self.by_crossing.values() for point in points for pool in point.pools.values()]

    def pass_through(self, p: Party, crossing: str):
        """Take ``p``, arriving at ``crossing``, through the points on its road there (a generator): True once it
        has passed them all (at once where none stops it), False if one turned it back or its patience ran out."""
        points = self.by_crossing.get(crossing)
        if points is None or (p.initial and not p.diversions):  # no point here, or already queueing at the start
            return True
        visit = (crossing, p.diversions)
        if self._passed.get(p.id) == visit:  # past the points already (it left its car in the crossing's queue)
            return True
        for point in points:
            if point.controls(p) and not (yield from point.passes(p)):
                return False
        self._passed[p.id] = visit
        return True
