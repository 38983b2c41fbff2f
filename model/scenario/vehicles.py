"""Vehicle classes: trucks, vans or minibuses in the same jam as the cars, each with its own length and check.

A :class:`VehicleClass` is a ``share`` of the car parties leaving some origins
(all by default) that travel in another kind of vehicle: it stands in the car
queue (shared lanes) but takes ``spacing_m`` of road instead of the car
spacing, so the queue's km counts each vehicle at its own length; it may
carry another number of people (``party_size``) and take another check at
the crossing's car booths (``service``). Each car party is drawn in a class
once, when it leaves, on a stream of its own; the others are plain cars.

``lane = "own"``: at each of its ``crossings`` (empty: every crossing with a
car channel) the class has a lane of its own on the approach road with
``booths`` of its own (with its ``service``, or the car channel's), reported
as channel ``car@<class>``: its queue km is its vehicles waiting x
``spacing_m`` on one lane, added to the crossing's queue on the road. The
crossing's closures (and its car channel's) close the lane too, and the car
channel's check regimes apply to it; its booths follow no schedule. Elsewhere
the class shares the car lanes. Later stages are passed in the car channel.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from .base import _Part
from .crossings import ServiceTime, _empty
from .distributions import DistributionSpec
from .errors import ScenarioError, check_known
from .fields import MAX_BOOTHS, MAX_KM, MAX_LIST, Name, Real, Whole, class_name_problem

__all__ = ["VehicleClass", "check_vehicle_classes", "CAR"]

#: What a car party in no vehicle class is called in the tables and key figures.
CAR = "car"


def _shared(value) -> bool:
    return value == "shared"


class VehicleClass(_Part):
    """A kind of vehicle in the car queue, or in a lane of its own (see the module docstring)."""

    name: Name = Field(description="e.g. truck; used in key-figure names (wait_mean_h_truck)")
    share: Real = Field(ge=0, le=1, description="share of the car parties it applies to that are this vehicle, drawn per party")
    origins: list[Name] = Field(default_factory=list, max_length=MAX_LIST, exclude_if=_empty,
                                description="car parties from these origins only (empty: every origin)")
    spacing_m: Real = Field(gt=0, le=MAX_KM, description="road length one such vehicle takes in the queue, metres")
    party_size: DistributionSpec | None = Field(None, description="people aboard (absent: the origin's car party size)")
    service: ServiceTime | None = Field(None, description="its check at the car booths, or at its own (absent: the car channel's)")
    lane: Literal["shared", "own"] = Field("shared", exclude_if=_shared,
                                           description="shared: stands in the car queue and is checked at the car booths; "
                                           "own: a lane of its own on the approach road with booths of its own")
    booths: Whole | None = Field(None, ge=1, le=MAX_BOOTHS,
                                 description="own: its booths at each crossing where it has the lane")
    crossings: list[Name] = Field(default_factory=list, max_length=MAX_LIST, exclude_if=_empty,
                                  description="own: crossings with the lane (empty: every crossing with a car channel); "
                                  "elsewhere it shares the car lanes")

    @model_validator(mode="after")
    def _well_formed(self):
        problem = class_name_problem(self.name)
        if problem:
            raise ValueError(problem)
        if self.lane == "own" and self.booths is None:
            raise ValueError("lane 'own' needs booths: how many booths the lane of its own has at each crossing")
        if self.lane == "shared" and (self.booths is not None or self.crossings):
            raise ValueError("booths and crossings are for lane 'own'; a class in the shared lanes uses the car booths "
                             "of every crossing")
        return self

    def own_lane_at(self, crossing: str) -> bool:
        """Whether the class has a lane of its own at ``crossing`` (which must have a car channel)."""
        return self.lane == "own" and (not self.crossings or crossing in self.crossings)


def check_vehicle_classes(s: Any) -> None:
    """Names unique and apart from priority classes'; origins exist; an own lane's crossings exist and have a car
    channel; shares per origin at most 1."""
    origins = {o.name for o in s.origins}
    crossings = {c.name: c for c in s.crossings}
    taken = {pc.name for pc in s.priority}
    seen: set[str] = set()
    for vc in s.vehicle_classes:
        where = f"vehicle_classes[{vc.name}]"
        if vc.name in seen or vc.name in taken:
            raise ScenarioError(f"{where}.name", vc.name, "must differ from every other vehicle or priority class's name")
        seen.add(vc.name)
        check_known(f"{where}.origins", vc.origins, origins)
        check_known(f"{where}.crossings", vc.crossings, crossings)
        for name in vc.crossings:
            if crossings[name].channel("car") is None:
                with_cars = sorted(c.name for c in s.crossings if c.channel("car") is not None)
                raise ScenarioError(f"{where}.crossings", name, f"has no car channel for the lane; must be one of {with_cars}")
    for o in s.origins:
        total = sum(vc.share for vc in s.vehicle_classes if not vc.origins or o.name in vc.origins)
        if total > 1 + 1e-9:
            raise ScenarioError("vehicle_classes.share", round(total, 6), f"the classes that apply to car parties from "
                                f"{o.name!r} have shares summing above 1")
