"""Buses: groups wait at their town's stop, a bus fills first come first boarded and drives to its crossing.

A bus leaves at each time of its ``timetable``, or as soon as
``trigger_people`` are waiting (then no sooner than ``min_headway_min`` after
the last). The bus is a :class:`Party` of its own, queued and checked in the
crossing's bus channel; its riders share its time-stamps from boarding on.
"""

from __future__ import annotations

from typing import Callable

import simpy

from ..scenario import BusService, Origin, Scenario
from .entities import Party
from .routes import RouteState

__all__ = ["BusStops"]


class BusStops:
    """Every origin's bus stop and the buses that left them.

    ``launch(bus, crossing, delay_min)`` starts a bus's life at its crossing
    after the trip.
    """

    def __init__(self, env: simpy.Environment, scenario: Scenario, routes: dict[str, dict[str, RouteState]],
                 walk_speed: Callable[[], float], launch: Callable[[Party, str, float], None]):
        self.env, self.scenario, self.routes, self.walk_speed, self.launch = env, scenario, routes, walk_speed, launch
        self.waiting: dict[str, list[Party]] = {o.name: [] for o in scenario.origins}
        self._waiting_people = {o.name: 0 for o in scenario.origins}
        self._arrival = {o.name: env.event() for o in scenario.origins}
        self.buses: list[Party] = []

    def start(self) -> None:
        """Start every origin's bus services."""
        for origin in self.scenario.origins:
            for service in origin.buses:
                if service.timetable:
                    self.env.process(self._timetable(origin, service))
                if service.trigger_people is not None:
                    self.env.process(self._trigger(origin, service))

    def arrive(self, origin: str, p: Party, _event=None) -> None:
        """Group ``p`` reaches its stop and waits there."""
        p.outcome = "waiting_at_end"  # at the bus stop: no crossing yet
        self.waiting[origin].append(p)
        self._waiting_people[origin] += p.people
        signal, self._arrival[origin] = self._arrival[origin], self.env.event()
        signal.succeed()

    def _board(self, origin: Origin, service: BusService) -> None:
        """Fill one bus from the stop (first come, first boarded) and send it on its way."""
        stop = self.waiting[origin.name]
        riders: list[Party] = []
        seats = service.capacity
        while stop and (not riders or stop[0].people <= seats):
            group = stop.pop(0)
            seats -= group.people
            riders.append(group)
        if not riders:
            return
        people = sum(g.people for g in riders)
        self._waiting_people[origin.name] -= people
        now = self.env.now
        bus = Party(-1 - len(self.buses), origin.name, "bus", people, now, riders=tuple(riders))
        bus.travel_mode = "bus"
        for g in riders:
            g.boarded_at, g.bus_id, g.outcome = now, len(self.buses), "travelling_at_end"
        self.buses.append(bus)
        route = self.routes[origin.name][service.crossing]
        self.launch(bus, service.crossing, route.travel_min(now, "bus", self.walk_speed))

    def _timetable(self, origin: Origin, service: BusService):
        for when in service.timetable:
            t = self.scenario.minutes(when)
            if t < self.env.now:
                continue
            yield self.env.timeout(t - self.env.now)
            self._board(origin, service)

    def _trigger(self, origin: Origin, service: BusService):
        while True:
            while self._waiting_people[origin.name] < service.trigger_people:
                yield self._arrival[origin.name]
            self._board(origin, service)
            if service.min_headway_min > 0:
                yield self.env.timeout(service.min_headway_min)
