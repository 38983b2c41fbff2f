"""The route sections of a scenario: roads from origins to crossings, and great-circle distance.

A :class:`Route` gives a road's length and how fast parties travel it (a speed
or a travel time, as a distribution), its share of the origin's parties, and
when it is closed or lengthened by a detour. :func:`haversine_km` is the
straight-line distance the engine scales into road distance when a party
diverts from one crossing to another.
"""

from __future__ import annotations

import math

from pydantic import Field, field_validator, model_validator

from .base import _Part
from .distributions import DistributionSpec, speed_problem
from .fields import MAX_KM, MAX_LIST, MAX_POINTS, LatLon, Name, Real
from .times import DateTime

__all__ = ["RouteChange", "Route", "haversine_km"]


class RouteChange(_Part):
    """From ``starts`` on the route is this long (a detour after a bridge is lost)."""

    starts: DateTime
    road_km: Real = Field(gt=0, le=MAX_KM)


class Route(_Part):
    """A road from an origin to a crossing."""

    origin: Name
    crossing: Name
    road_km: Real = Field(gt=0, le=MAX_KM)
    speed_kmh: DistributionSpec | None = Field(None, description="vehicle speed; or give travel_time_h")
    travel_time_h: DistributionSpec | None = None
    share: Real | None = Field(None, ge=0, le=1, description="share of the origin's parties (shares choice)")
    closed_from: DateTime | None = None
    closed_until: DateTime | None = None
    lengthened: list[RouteChange] = Field(default_factory=list, max_length=MAX_LIST)
    path: list[LatLon] = Field(default_factory=list, max_length=MAX_POINTS, description="[lat, lon] points for the map")

    @field_validator("speed_kmh")
    @classmethod
    def _moves(cls, spec):
        problem = None if spec is None else speed_problem(spec)
        if problem:
            raise ValueError(problem)
        return spec

    @model_validator(mode="after")
    def _one_travel_model(self):
        if (self.speed_kmh is None) == (self.travel_time_h is None):
            raise ValueError("give exactly one of speed_kmh or travel_time_h")
        return self


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))
