"""Passengers who walk on: a policy from which the people of a car leave it and cross on foot.

In the surges of 2022 a measure such as "pedestrians allowed at every
crossing from 12:00" made passengers leave the cars in the jam and walk past
it to the pedestrian lane, while the driver (and anyone who stays) kept the
car's place. A :class:`WalkOn` rule says from when (``starts``), at which
crossings (all with a pedestrian channel by default), for which modes
(cars), what share of parties split, and how many people stay with each
vehicle (``stay``, the driver by default). A party with no more people than
``stay`` does not split. With ``when = "policy"``, parties already in the
queue split at ``starts`` and parties arriving later split on arrival, before
they join the queue. With ``when = "patience"``, a party splits when its
patience runs out in the queue (after ``starts``): the walkers go, the
driver stays in the car's place and waits on (without patience); a party
that does not split (the share, or too few people) reneges as before.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .base import _Part
from .crossings import _empty
from .distributions import support
from .errors import ScenarioError, check_known
from .fields import MAX_LIST, MAX_PARTY, Label, Name, Real, Whole
from .times import DateTime

__all__ = ["WalkOn", "check_walk_on"]


class WalkOn(_Part):
    """From ``starts`` on, a share of the vehicles' parties split: all but ``stay`` people walk to the
    pedestrian channel, the rest keep the vehicle's place (see the module docstring)."""

    name: Label = Field("", description="what the measure was, for the reader")
    starts: DateTime | None = Field(None, description="from when (absent: the start)")
    crossings: list[Name] = Field(default_factory=list, max_length=MAX_LIST, exclude_if=_empty,
                                  description="where (empty: every crossing with a pedestrian channel)")
    modes: list[Literal["car"]] = Field(default_factory=lambda: ["car"], min_length=1, max_length=1,
                                        description="vehicles whose people may walk on: cars (a bus's riders stay on it)")
    share: Real = Field(1.0, gt=0, le=1, description="share of those parties that split (drawn per party)")
    stay: Whole = Field(1, ge=1, le=MAX_PARTY, description="people who stay with the vehicle (the driver)")
    when: Literal["policy", "patience"] = Field("policy", description="policy: parties split from starts on; patience: "
                                                "a party splits when its patience runs out in the queue (after starts)")


def largest_party(spec) -> float:
    """The most people a party size ``spec`` can give (draws are rounded to whole people; a family with no upper
    bound: :data:`MAX_PARTY`)."""
    bounds = support(spec)
    return round(bounds[1]) if bounds is not None else MAX_PARTY


def check_walk_on(s: Any) -> None:
    """The crossings named exist and have a pedestrian channel; rules do not overlap in crossing and mode; and
    some car party can be larger than ``stay`` (else the rule would split nobody: more people would walk on
    than any party has)."""
    sizes = [o.party_size.car for o in s.origins if o.mode_split.car > 0 and o.party_size.car is not None]
    sizes += [vc.party_size for vc in s.vehicle_classes if vc.party_size is not None]
    largest = max((largest_party(spec) for spec in sizes), default=None)
    crossings = {c.name: c for c in s.crossings}
    with_foot = sorted(n for n, c in crossings.items() if c.foot is not None)
    seen: dict[tuple[str, str, str], int] = {}
    for j, rule in enumerate(s.walk_on):
        if largest is not None and rule.stay >= largest:
            raise ScenarioError(f"walk_on[{j}].stay", rule.stay, f"must be below the largest car party ({largest:g} "
                                f"people): with {rule.stay} staying in each car nobody is left to walk on")
        check_known(f"walk_on[{j}].crossings", rule.crossings, crossings)
        for name in rule.crossings:
            if crossings[name].foot is None:
                raise ScenarioError(f"walk_on[{j}].crossings", name, f"has no foot channel to walk on to; one of {with_foot}")
        if not rule.crossings and not with_foot:
            raise ScenarioError(f"walk_on[{j}].crossings", "[] (every crossing)", "no crossing has a foot channel to walk "
                                "on to; add one or remove the rule")
        for name in rule.crossings or with_foot:
            for mode in rule.modes:
                if (name, mode, rule.when) in seen:
                    raise ScenarioError(f"walk_on[{j}].crossings", name, f"walk_on[{seen[name, mode, rule.when]}] already "
                                        f"applies to {mode} parties there; one rule per crossing, mode and when")
                seen[name, mode, rule.when] = j
