"""The behaviour sections of a scenario: how people act in the queue and what they know.

Per mode, a party may balk (refuse a queue that is too long) or renege (leave
it when its patience runs out), and a reneging party diverts to another
crossing, leaves its vehicle to join the pedestrian queue, or gives up.
:class:`Information` describes the queue reports that informed choice reads;
:class:`Walking` the speed of parties on foot, on the road and when diverting.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from .base import _Part, _Shares
from .distributions import DistributionSpec, Fixed, speed_problem
from .fields import MAX_MINUTES, Flag, Real, Whole

__all__ = ["Renege", "ModeBehaviour", "Behaviour", "Information", "Walking"]


class Renege(_Shares):
    """What a party does when its patience runs out; probabilities sum to 1."""

    divert: Real = Field(0.0, ge=0, le=1)
    walk: Real = Field(0.0, ge=0, le=1)
    give_up: Real = Field(1.0, ge=0, le=1)


class ModeBehaviour(_Part):
    """Balking and reneging of one mode; leave a distribution out to switch it off."""

    balk_queue_km: DistributionSpec | None = Field(None, description="queue km a party refuses to join")
    balk_queue_people: DistributionSpec | None = Field(None, description="pedestrian queue a group refuses")
    patience_h: DistributionSpec | None = Field(None, description="hours a party waits before reneging")
    renege: Renege = Renege()


class Behaviour(_Part):
    """Behaviour in the queue, per mode, and how diversions between crossings travel."""

    car: ModeBehaviour = ModeBehaviour()
    bus: ModeBehaviour = ModeBehaviour()
    foot: ModeBehaviour = ModeBehaviour()
    max_diversions: Whole = Field(2, ge=0, le=100, description="after this many, a party that would divert gives up")
    diversion_road_factor: Real = Field(1.4, ge=1, le=100, description="road km / straight-line km between crossings")
    diversion_speed_kmh: DistributionSpec = Fixed(dist="fixed", value=40.0)

    @field_validator("diversion_speed_kmh")
    @classmethod
    def _moves(cls, spec):
        return _a_speed(spec)

    def mode(self, mode: str) -> ModeBehaviour:
        return getattr(self, mode)


class Information(_Part):
    """Queue reports on messaging channels, as used by informed choice."""

    enabled: Flag = Field(True, description="false: parties choose on travel time alone, knowing no queues")
    publish_every_min: Real = Field(60.0, ge=1, le=MAX_MINUTES, description="minutes between queue reports")
    delay_min: Real = Field(30.0, ge=0, le=MAX_MINUTES, description="age of a report when people read it")
    closure_known_after_min: Real = Field(0.0, ge=0, le=MAX_MINUTES, description="delay before people know of a closure")


class Walking(_Part):
    walk_speed_kmh: DistributionSpec = Fixed(dist="fixed", value=3.6)

    @field_validator("walk_speed_kmh")
    @classmethod
    def _moves(cls, spec):
        return _a_speed(spec)


def _a_speed(spec):
    problem = speed_problem(spec)
    if problem:
        raise ValueError(problem)
    return spec
