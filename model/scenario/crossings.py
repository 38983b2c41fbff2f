"""The crossing sections of a scenario: booths, their service, and what slows or stops them.

A :class:`Crossing` has one :class:`Channel` of booths per mode it serves (cars,
buses, pedestrians), each with a staffing schedule and a service-time model.
Check regimes scale service and inspection from a given time on; closures,
scheduled or random, stop new service; secondary inspection may hold parties
after primary service; a queue may already be waiting at the start.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from .base import _Part
from .distributions import DistributionSpec
from .times import DateTime

__all__ = [
    "ServiceTime",
    "BoothStep",
    "Channel",
    "Regime",
    "Closure",
    "RandomClosures",
    "ModeProbability",
    "Inspection",
    "InitialQueue",
    "Crossing",
]


class ServiceTime(_Part):
    """Service time of one party at a booth: (per vehicle + per person x size) x random factor.

    The random factor has mean 1 and the named family and cv; ``fixed`` makes it 1.
    """

    per_vehicle_min: float = Field(0.0, ge=0, description="minutes per party regardless of size")
    per_person_min: float = Field(0.0, ge=0, description="minutes per person in the party")
    dist: Literal["fixed", "exponential", "lognormal", "gamma", "uniform"] = "exponential"
    cv: float = Field(1.0, gt=0, le=10, description="coefficient of variation (ignored by fixed, exponential)")

    @model_validator(mode="after")
    def _positive(self):
        if self.per_vehicle_min + self.per_person_min <= 0:
            raise ValueError("per_vehicle_min + per_person_min must be > 0")
        return self


class BoothStep(_Part):
    """From ``at`` on, this many booths are staffed."""

    at: DateTime
    booths: int = Field(ge=0)


class Channel(_Part):
    """Booths serving one kind of party (cars, buses or pedestrians) at a crossing."""

    booths: int = Field(ge=0, description="booths open at the start")
    booth_schedule: list[BoothStep] = Field(default_factory=list)
    service: ServiceTime


class Regime(_Part):
    """A check regime in force from ``starts`` on, scaling service and inspection."""

    name: str = ""
    starts: DateTime
    service_multiplier: float = Field(1.0, gt=0)
    inspection_multiplier: float = Field(1.0, ge=0, description="scales the inspection probabilities")


class Closure(_Part):
    """A window in which the crossing starts no new service; the queue stays."""

    starts: DateTime
    ends: DateTime
    reason: str = ""


class RandomClosures(_Part):
    """Unscheduled closures (shelling, alarms): a Poisson number per day, each of random length."""

    per_day: float = Field(gt=0, description="expected closures per day")
    duration_h: DistributionSpec


class ModeProbability(_Part):
    car: float = Field(0.0, ge=0, le=1)
    bus: float = Field(0.0, ge=0, le=1)
    foot: float = Field(0.0, ge=0, le=1)


class Inspection(_Part):
    """Secondary inspection ("filtration"): a share of parties is held after primary service.

    P(held) = 1 - (1 - party_probability) x (1 - person_probability)^size, then
    scaled by the regime's ``inspection_multiplier``. Held vehicles wait in a
    holding area; when it is full, primary booths cannot release (they block).
    """

    booths: int = Field(ge=1)
    party_probability: ModeProbability = ModeProbability()
    person_probability: ModeProbability = ModeProbability()
    time_h: DistributionSpec
    holding_capacity: int = Field(ge=1, description="vehicles or groups the holding area holds")


class InitialQueue(_Part):
    """Parties already waiting at the start, in order; sizes drawn from ``origin``'s tables."""

    origin: str
    car: int = Field(0, ge=0)
    bus: int = Field(0, ge=0)
    foot: int = Field(0, ge=0)


class Crossing(_Part):
    """A road border crossing with separate channels for cars, buses and pedestrians."""

    name: str = Field(min_length=1)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    car: Channel | None = None
    bus: Channel | None = None
    foot: Channel | None = None
    regimes: list[Regime] = Field(default_factory=list)
    closures: list[Closure] = Field(default_factory=list)
    random_closures: RandomClosures | None = None
    car_spacing_m: float = Field(7.5, gt=0, description="road length per queued car, metres")
    bus_spacing_m: float = Field(15.0, gt=0, description="road length per queued bus, metres")
    approach_lanes: int = Field(1, ge=1, description="lanes the queue occupies on the approach road")
    inspection: Inspection | None = None
    initial_queue: InitialQueue | None = None

    def channel(self, mode: str) -> Channel | None:
        return getattr(self, mode)

    def spacing_m(self, mode: str) -> float:
        return {"car": self.car_spacing_m, "bus": self.bus_spacing_m}.get(mode, 0.0)
