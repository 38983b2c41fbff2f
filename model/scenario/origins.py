"""The origin sections of a scenario: where people leave from, when, how and in what parties.

An :class:`Origin` is a town or group of villages with a departure-rate curve
(people per hour, linear between breakpoints, optionally damped at night), a
split of its people over the modes car, bus and foot, party sizes per mode, the
buses the authorities run from it, and how its parties choose a crossing.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from .base import _Part, _Shares
from .distributions import DistributionSpec, party_size_problem
from .fields import (
    MAX_LIST,
    MAX_MINUTES,
    MAX_MULTIPLIER,
    MAX_PARTY,
    MAX_PEOPLE,
    MAX_RATE,
    MIN_RATE,
    Latitude,
    Longitude,
    Name,
    Real,
    Whole,
)
from .times import DateTime

__all__ = ["RatePoint", "DayNight", "ModeSplit", "PartySizes", "BusService", "Choice", "Origin"]


class RatePoint(_Part):
    """One breakpoint of a departure-rate curve; the rate is linear between breakpoints."""

    at: DateTime
    people_per_h: Real = Field(ge=0, le=MAX_RATE, description="departure rate at this instant, people per hour")

    @field_validator("people_per_h")
    @classmethod
    def _zero_or_real(cls, value: float) -> float:
        if 0 < value < MIN_RATE:
            raise ValueError(f"a rate is 0 or at least {MIN_RATE:g} people per hour")
        return value


class DayNight(_Part):
    """Multiplies the departure rate at night (local clock of the scenario time zone)."""

    day_starts_hour: Real = Field(6.0, ge=0, le=24)
    day_ends_hour: Real = Field(21.0, ge=0, le=24)
    night_multiplier: Real = Field(ge=0, le=MAX_MULTIPLIER, description="rate multiplier outside day hours")


class ModeSplit(_Shares):
    """Share of an origin's people that leave by each mode; sums to 1."""

    car: Real = Field(1.0, ge=0, le=1)
    bus: Real = Field(0.0, ge=0, le=1)
    foot: Real = Field(0.0, ge=0, le=1)


class PartySizes(_Part):
    """People per party by mode: occupants of a car, a group waiting for a bus, a group on foot."""

    car: DistributionSpec | None = None
    bus: DistributionSpec | None = None
    foot: DistributionSpec | None = None

    @field_validator("car", "bus", "foot")
    @classmethod
    def _whole_people(cls, spec):
        problem = None if spec is None else party_size_problem(spec, MAX_PARTY)
        if problem:
            raise ValueError(problem)
        return spec


class BusService(_Part):
    """Buses run by the authorities from an origin to one crossing.

    People of the origin's bus share wait at the origin. A bus leaves at each
    timetable time, or as soon as ``trigger_people`` are waiting, taking up to
    ``capacity`` of them (first come, first boarded).
    """

    crossing: Name
    capacity: Whole = Field(ge=1, le=MAX_PARTY, description="seats per bus, people")
    timetable: list[DateTime] = Field(default_factory=list, max_length=MAX_LIST)
    trigger_people: Whole | None = Field(None, ge=1, le=int(MAX_PEOPLE), description="leave when this many wait")
    min_headway_min: Real = Field(0.0, ge=0, le=MAX_MINUTES, description="minimum minutes between triggered buses")


class Choice(_Part):
    """How a party picks a crossing: fixed route shares, or informed logit choice."""

    method: Literal["shares", "informed"] = "shares"
    logit_scale_per_h: Real = Field(
        1.0, gt=0, le=MAX_MULTIPLIER, description="weight of one hour of expected travel + wait in the logit"
    )


class Origin(_Part):
    """A town or group of villages that people leave."""

    name: Name
    lat: Latitude
    lon: Longitude
    people: Real | None = Field(
        None, ge=0, le=MAX_PEOPLE, description="expected people leaving; the rate curve is rescaled to this total"
    )
    mode_split: ModeSplit = ModeSplit()
    party_size: PartySizes
    departures: list[RatePoint] = Field(min_length=2, max_length=MAX_LIST)
    day_night: DayNight | None = None
    choice: Choice = Choice()
    buses: list[BusService] = Field(default_factory=list, max_length=MAX_LIST)

