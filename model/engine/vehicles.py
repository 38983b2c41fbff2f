"""Vehicle classes during a run: which car party is which vehicle, and car queues that measure road by vehicle.

:class:`VehicleDraw` draws each car party's class once, when it is launched
(on its origin's own stream, like the priority classes), and redraws its
people where the class has a party size of its own. A car channel's pool
gets :class:`VehicleLengths` where the scenario has classes: it counts the
queue in car lengths (a truck of 15 m behind cars of 7.5 m counts 2), so the
queue's km is car lengths x km per car, and checks each class with its own
service. A class with ``lane = "own"`` has, at its crossings, a lane and
booths of its own instead (:class:`model.engine.crossing.CrossingPost`), so
it never enters the car pool there. Scenarios without classes run the plain
pools and draw nothing.
"""

from __future__ import annotations

from functools import cache

from ..scenario import Scenario
from .booths import BoothPool, Ticket
from .entities import Party
from .samplers import make_sampler
from .streams import StreamId, stream

__all__ = ["VehicleDraw", "VehicleLengths", "with_lengths"]


class VehicleDraw:
    """Draws the vehicle class of each car party of one replication (0: a plain car)."""

    def __init__(self, scenario: Scenario, replication: int):
        self.classes = list(scenario.vehicle_classes)
        self._seed, self._replication = scenario.seed, replication
        self._streams: dict[str, object] = {}
        self._sizes = [make_sampler(vc.party_size, stream(scenario.seed, replication, StreamId.VEHICLE_CLASS, vc.name, "size"))
                       if vc.party_size is not None else None for vc in self.classes]

    def classify(self, p: Party) -> None:
        if p.mode != "car":
            return
        applying = [(k, vc.share) for k, vc in enumerate(self.classes, start=1) if not vc.origins or p.origin in vc.origins]
        if not applying:
            return
        if p.origin not in self._streams:
            self._streams[p.origin] = stream(self._seed, self._replication, StreamId.VEHICLE_CLASS, p.origin)
        u, edge = self._streams[p.origin].random(), 0.0
        for k, share in applying:
            edge += share
            if u < edge:
                p.vclass = k
                if self._sizes[k - 1] is not None:
                    p.people = max(1, int(round(self._sizes[k - 1]())))
                return


class VehicleLengths:
    """A booth pool mixin counting its queue in car lengths (``lengths[k]`` per class k, 1 for a car) and
    checking each class with ``services[k]`` (None: the channel's)."""

    lengths: tuple[float, ...] = (1.0,)
    services: tuple = (None,)
    _length_waiting = 0.0

    @property
    def lengths_waiting(self) -> float:
        return self._length_waiting

    def service_for(self, p: Party):
        return self.services[p.vclass] or self.service

    def _queue_up(self, ticket: Ticket, line=None):
        self._length_waiting += self.lengths[ticket.party.vclass]
        return super()._queue_up(ticket, line)

    def leave(self, ticket: Ticket) -> None:
        if ticket.active:
            self._less(ticket)
        super().leave(ticket)

    def _start(self, ticket: Ticket, now: float) -> None:
        self._less(ticket)
        super()._start(ticket, now)

    def _less(self, ticket: Ticket) -> None:
        # back to exactly 0 with nobody left, so that sums of fractions never drift
        self._length_waiting = self._length_waiting - self.lengths[ticket.party.vclass] if self.parties_waiting > 1 else 0.0


@cache
def with_lengths(pool_class: type[BoothPool]) -> type[BoothPool]:
    """``pool_class`` with :class:`VehicleLengths` mixed in."""
    return type(f"Vehicle{pool_class.__name__}", (VehicleLengths, pool_class), {})
