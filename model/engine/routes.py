"""Routes as the engine uses them: road length over time, closures and a draw of each trip's time.

A route joins an origin to a crossing. Its times are in minutes from the
scenario start; a trip's duration is drawn from the route's speed (or travel
time) distribution, on its own stream. People on foot walk the road at their
walking speed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from ..scenario import Route, Scenario
from .samplers import make_sampler
from .streams import StreamId, stream

__all__ = ["RouteState", "build_routes"]

INF = math.inf


@dataclass(frozen=True)
class RouteState:
    """A route in one replication: times in minutes, a draw of its speed or travel time."""

    spec: Route
    closed_from: float
    closed_until: float
    length_steps: list[tuple[float, float]]  # (from minute, road km), sorted
    draw: Callable[[], float]  # speed (km/h) or travel time (h)
    mean: float  # of the draw
    by_speed: bool

    def road_km(self, t: float) -> float:
        km = self.spec.road_km
        for since, length in self.length_steps:
            if t >= since:
                km = length
        return km

    def is_closed(self, t: float) -> bool:
        return self.closed_from <= t < self.closed_until

    def expected_travel_min(self, t: float) -> float:
        return self.road_km(t) / self.mean * 60.0 if self.by_speed else self.mean * 60.0

    def travel_min(self, t: float, mode: str, walk_kmh: Callable[[], float]) -> float:
        if mode == "foot":
            return self.road_km(t) / max(walk_kmh(), 1e-6) * 60.0
        if self.by_speed:
            return self.road_km(t) / max(self.draw(), 1e-6) * 60.0
        return self.draw() * 60.0


def build_routes(scenario: Scenario, replication: int) -> dict[str, dict[str, RouteState]]:
    """Every route of ``scenario``, by origin and then crossing, with its own travel stream."""
    routes: dict[str, dict[str, RouteState]] = {o.name: {} for o in scenario.origins}
    for r in scenario.routes:
        by_speed = r.speed_kmh is not None
        time_spec = r.speed_kmh if by_speed else r.travel_time_h
        routes[r.origin][r.crossing] = RouteState(
            spec=r,
            closed_from=scenario.minutes(r.closed_from) if r.closed_from else (0.0 if r.closed_until else INF),
            closed_until=scenario.minutes(r.closed_until) if r.closed_until else INF,
            length_steps=[(scenario.minutes(x.starts), x.road_km) for x in r.lengthened],
            draw=make_sampler(time_spec, stream(scenario.seed, replication, StreamId.TRAVEL, r.origin, r.crossing)),
            mean=time_spec.mean,
            by_speed=by_speed,
        )
    return routes
