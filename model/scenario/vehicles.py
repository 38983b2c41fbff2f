"""Vehicle classes: trucks, vans or minibuses in the same jam as the cars, each with its own length and check.

A :class:`VehicleClass` is a ``share`` of the car parties leaving some origins
(all by default) that travel in another kind of vehicle: it stands in the car
queue (shared lanes) but takes ``spacing_m`` of road instead of the car
spacing, so the queue's km counts each vehicle at its own length; it may
carry another number of people (``party_size``) and take another check at
the crossing's car booths (``service``). Each car party is drawn in a class
once, when it leaves, on a stream of its own; the others are plain cars.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from .base import _Part
from .crossings import ServiceTime, _empty
from .distributions import DistributionSpec
from .errors import ScenarioError
from .fields import MAX_KM, MAX_LIST, Name, Real, class_name_problem

__all__ = ["VehicleClass", "check_vehicle_classes", "CAR"]

#: What a car party in no vehicle class is called in the tables and key figures.
CAR = "car"


class VehicleClass(_Part):
    """A kind of vehicle in the car queue (see the module docstring)."""

    name: Name = Field(description="e.g. truck; used in key-figure names (wait_mean_h_truck)")
    share: Real = Field(ge=0, le=1, description="share of the car parties it applies to that are this vehicle, drawn per party")
    origins: list[Name] = Field(default_factory=list, max_length=MAX_LIST, exclude_if=_empty,
                                description="car parties from these origins only (empty: every origin)")
    spacing_m: Real = Field(gt=0, le=MAX_KM, description="road length one such vehicle takes in the queue, metres")
    party_size: DistributionSpec | None = Field(None, description="people aboard (absent: the origin's car party size)")
    service: ServiceTime | None = Field(None, description="its check at the car booths (absent: the car channel's)")

    @model_validator(mode="after")
    def _well_named(self):
        problem = class_name_problem(self.name)
        if problem:
            raise ValueError(problem)
        return self


def check_vehicle_classes(s: Any) -> None:
    """Names unique and apart from priority classes'; origins exist; shares per origin at most 1."""
    origins = {o.name for o in s.origins}
    taken = {pc.name for pc in s.priority}
    seen: set[str] = set()
    for vc in s.vehicle_classes:
        where = f"vehicle_classes[{vc.name}]"
        if vc.name in seen or vc.name in taken:
            raise ScenarioError(f"{where}.name", vc.name, "must differ from every other vehicle or priority class's name")
        seen.add(vc.name)
        for name in vc.origins:
            if name not in origins:
                raise ScenarioError(f"{where}.origins", name, f"must be one of {sorted(origins)}")
    for o in s.origins:
        total = sum(vc.share for vc in s.vehicle_classes if not vc.origins or o.name in vc.origins)
        if total > 1 + 1e-9:
            raise ScenarioError("vehicle_classes.share", round(total, 6), f"the classes that apply to car parties from "
                                f"{o.name!r} have shares summing above 1")
