"""The crossing sections of a scenario: booths, their service, and what slows or stops them.

A :class:`Crossing` has one :class:`Channel` of booths per mode it serves (cars,
buses, pedestrians), each with a staffing schedule and a service-time model.
Check regimes scale service and inspection from a given time on; closures,
scheduled or random, stop new service; secondary inspection may hold parties
after primary service; a queue may already be waiting at the start. Release
quotas and batches, recurring rules, channel-scoped rules and lanes that
change are in :mod:`.operations`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from .base import _Part
from .distributions import DistributionSpec
from .fields import (
    MAX_BOOTHS,
    MAX_KM,
    MAX_LIST,
    MAX_MINUTES,
    MAX_MULTIPLIER,
    MAX_QUEUE,
    Label,
    Latitude,
    Longitude,
    Name,
    Real,
    Whole,
)
from .operations import ChannelName, LanesStep, RecurringBoothStep, RecurringClosure, RecurringRegime, Release
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
    "Stage",
    "Crossing",
]


# An optional list that is left out of a dumped scenario when empty, so that a scenario using none of the
# newer options dumps (and hashes) as before they existed.
def _empty(value) -> bool:
    return not value


class ServiceTime(_Part):
    """Service time of one party at a booth: (per vehicle + per person x size) x random factor.

    The random factor has mean 1 and the named family and cv; ``fixed`` makes it 1.
    """

    per_vehicle_min: Real = Field(0.0, ge=0, le=MAX_MINUTES, description="minutes per party regardless of size")
    per_person_min: Real = Field(0.0, ge=0, le=MAX_MINUTES, description="minutes per person in the party")
    dist: Literal["fixed", "exponential", "lognormal", "gamma", "uniform"] = "exponential"
    cv: Real = Field(1.0, gt=0, le=10, description="coefficient of variation (ignored by fixed, exponential)")

    @model_validator(mode="after")
    def _positive(self):
        if self.per_vehicle_min + self.per_person_min <= 0:
            raise ValueError("per_vehicle_min + per_person_min must be > 0")
        return self


class BoothStep(_Part):
    """From ``at`` on, this many booths are staffed."""

    at: DateTime
    booths: Whole = Field(ge=0, le=MAX_BOOTHS)


class Channel(_Part):
    """Booths serving one kind of party (cars, buses or pedestrians) at a crossing."""

    booths: Whole = Field(ge=0, le=MAX_BOOTHS, description="booths open at the start")
    booth_schedule: list[BoothStep] = Field(default_factory=list, max_length=MAX_LIST)
    recurring_booths: list[RecurringBoothStep] = Field(default_factory=list, max_length=MAX_LIST, exclude_if=_empty,
                                                       description="booth steps at local times of day, expanded into booth_schedule")
    service: ServiceTime
    release: Release | None = Field(None, description="quotas per period and batches at set times (absent: no gate)")


class Regime(_Part):
    """A check regime in force from ``starts`` on, scaling service and inspection; in one channel only if
    ``channel`` is given. The latest regime that applies to a channel is in force there."""

    name: Label = ""
    starts: DateTime
    channel: ChannelName | None = Field(None, description="car, bus or foot only (absent: the whole crossing)")
    service_multiplier: Real = Field(1.0, gt=0, le=MAX_MULTIPLIER)
    inspection_multiplier: Real = Field(1.0, ge=0, le=MAX_MULTIPLIER, description="scales the inspection probabilities")


class Closure(_Part):
    """A window in which the crossing (or only its ``channel``) starts no new service; the queue stays."""

    starts: DateTime
    ends: DateTime
    channel: ChannelName | None = Field(None, description="car, bus or foot only (absent: the whole crossing)")
    reason: Label = ""


class RandomClosures(_Part):
    """Unscheduled closures (shelling, alarms): a Poisson number per day, each of random length."""

    per_day: Real = Field(gt=0, le=1440, description="expected closures per day")
    duration_h: DistributionSpec


class ModeProbability(_Part):
    car: Real = Field(0.0, ge=0, le=1)
    bus: Real = Field(0.0, ge=0, le=1)
    foot: Real = Field(0.0, ge=0, le=1)


class Inspection(_Part):
    """Secondary inspection ("filtration"): a share of parties is held after primary service.

    P(held) = 1 - (1 - party_probability) x (1 - person_probability)^size, then
    scaled by the regime's ``inspection_multiplier``. Held vehicles wait in a
    holding area; when it is full, primary booths cannot release (they block).
    """

    booths: Whole = Field(ge=1, le=MAX_BOOTHS)
    party_probability: ModeProbability = ModeProbability()
    person_probability: ModeProbability = ModeProbability()
    time_h: DistributionSpec
    holding_capacity: Whole = Field(ge=1, le=MAX_QUEUE, description="vehicles or groups the holding area holds")


class InitialQueue(_Part):
    """Parties already waiting at the start, in order; sizes drawn from ``origin``'s tables."""

    origin: Name
    car: Whole = Field(0, ge=0, le=MAX_QUEUE)
    bus: Whole = Field(0, ge=0, le=MAX_QUEUE)
    foot: Whole = Field(0, ge=0, le=MAX_QUEUE)


class Stage(_Part):
    """A further control after the crossing's own booths (controls in series), e.g. the other state's entry
    after one state's exit, with the holding space before it.

    A party served at the control before moves into the holding space and then queues here; when the
    space is full it stays at the booth it was served at, which takes no one else meanwhile (blocking
    after service). A mode with no channel here passes this stage. Regimes and closures here apply to
    this stage only (the crossing's own apply to its first control).
    """

    name: Name = Field(description="the control, e.g. entry; its queues are reported as channel@name (car@entry)")
    car: Channel | None = None
    bus: Channel | None = None
    foot: Channel | None = None
    holding_vehicles: Whole | None = Field(None, ge=0, le=MAX_QUEUE, description="cars and buses the space before this "
                                           "stage holds while they wait for it (absent: no limit)")
    holding_people: Whole | None = Field(None, ge=0, le=MAX_QUEUE, description="pedestrians the space before this stage "
                                         "holds while they wait for it (absent: no limit)")
    regimes: list[Regime] = Field(default_factory=list, max_length=MAX_LIST)
    closures: list[Closure] = Field(default_factory=list, max_length=MAX_LIST)
    recurring_regimes: list[RecurringRegime] = Field(default_factory=list, max_length=MAX_LIST, exclude_if=_empty,
                                                     description="regimes at local times of day, expanded into regimes")
    recurring_closures: list[RecurringClosure] = Field(default_factory=list, max_length=MAX_LIST, exclude_if=_empty,
                                                       description="closures at local times of day, expanded into closures")
    inspection: Inspection | None = Field(None, description="secondary inspection after this stage's booths")

    def channel(self, mode: str) -> Channel | None:
        return getattr(self, mode)

    def holding(self, mode: str) -> int | None:
        """What the space before this stage holds of ``mode`` (people for foot, vehicles otherwise; None: no limit)."""
        return self.holding_people if mode == "foot" else self.holding_vehicles


class Crossing(_Part):
    """A road border crossing with separate channels for cars, buses and pedestrians; optionally further
    controls after its own (``stages``), passed in order."""

    name: Name
    lat: Latitude
    lon: Longitude
    car: Channel | None = None
    bus: Channel | None = None
    foot: Channel | None = None
    regimes: list[Regime] = Field(default_factory=list, max_length=MAX_LIST)
    closures: list[Closure] = Field(default_factory=list, max_length=MAX_LIST)
    recurring_regimes: list[RecurringRegime] = Field(default_factory=list, max_length=MAX_LIST, exclude_if=_empty,
                                                     description="regimes at local times of day, expanded into regimes")
    recurring_closures: list[RecurringClosure] = Field(default_factory=list, max_length=MAX_LIST, exclude_if=_empty,
                                                       description="closures at local times of day, expanded into closures")
    random_closures: RandomClosures | None = None
    car_spacing_m: Real = Field(7.5, gt=0, le=MAX_KM, description="road length per queued car, metres")
    bus_spacing_m: Real = Field(15.0, gt=0, le=MAX_KM, description="road length per queued bus, metres")
    approach_lanes: Whole = Field(1, ge=1, le=100, description="lanes the queue occupies on the approach road")
    lanes_schedule: list[LanesStep] = Field(default_factory=list, max_length=MAX_LIST, exclude_if=_empty,
                                            description="changes of lanes (and spacing) at given date-times, in time order")
    inspection: Inspection | None = None
    initial_queue: InitialQueue | None = None
    first_stage: Label = Field("", exclude_if=_empty, description="name of the crossing's own control when stages "
                               "follow it, e.g. exit (reports only)")
    stages: list[Stage] = Field(default_factory=list, max_length=20, exclude_if=_empty,
                                description="controls after the crossing's own, in the order parties pass them")

    @model_validator(mode="after")
    def _stages_serve_its_modes(self):
        names = [st.name for st in self.stages]
        for j, st in enumerate(self.stages):
            if names.index(st.name) != j:
                raise ValueError(f"stages[{j}].name {st.name!r} is used twice; each stage needs its own name")
            for mode in ("car", "bus", "foot"):
                if st.channel(mode) is not None and self.channel(mode) is None:
                    raise ValueError(f"stages[{j}].{mode}: the crossing's own control has no {mode} channel, so no {mode} "
                                     "party reaches this stage; remove it or add the channel to the crossing")
        return self

    def channel(self, mode: str) -> Channel | None:
        return getattr(self, mode)

    def spacing_m(self, mode: str) -> float:
        return {"car": self.car_spacing_m, "bus": self.bus_spacing_m}.get(mode, 0.0)
