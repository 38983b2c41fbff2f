"""Plausible ranges of the unit-bearing values: allowed values that are surely unit mistakes.

The schema refuses what cannot be run; this table catches what runs but is
almost certainly a mistake, such as a car spacing of 0.008 (km in a metres
field) or a road of 45,000 km (metres in a km field). Each row names a field of
a section, the range a real value lies in (for a distribution: its mean), and
why, in words a user can check. :func:`implausible_values` lists the values of
a scenario outside their range; the loader turns each into one warning and the
run goes on. The ranges are wide on purpose: they catch factors of 60 or 1,000,
not unusual but real values.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from .behaviour import Behaviour, Information, ModeBehaviour, Walking
from .crossings import Crossing, Inspection, RandomClosures, ServiceTime
from .distributions import _Spec
from .key_figures import KeyFigureRules
from .origins import BusService, PartySizes
from .routes import Route, RouteChange
from .schema import Scenario

__all__ = ["Plausible", "RANGES", "implausible_values"]


@dataclass(frozen=True)
class Plausible:
    """A value (or a distribution's mean) is plausible from ``low`` to ``high``; 0 too if ``zero_ok``.

    ``reason`` says why, with ``{range}`` where the range goes.
    """

    low: float
    high: float
    reason: str
    zero_ok: bool = False

    def accepts(self, value: float) -> bool:
        return (self.zero_ok and value == 0) or self.low <= value <= self.high

    def message(self) -> str:
        return self.reason.format(range=f"{self.low:,g}-{self.high:,g}")


_SPEED = "vehicles average {range} km/h on the road: is this in km/h?"
_ROAD = "a road from a town to a border crossing is {range} km long: is this in km?"

#: (section, field) -> the plausible range of its value, or of its distribution's mean.
RANGES: dict[tuple[type[BaseModel], str], Plausible] = {
    (Crossing, "car_spacing_m"): Plausible(5, 15, "a car takes {range} m of road in a jam: is this in metres?"),
    (Crossing, "bus_spacing_m"): Plausible(10, 30, "a bus takes {range} m of road in a jam: is this in metres?"),
    (ServiceTime, "per_vehicle_min"): Plausible(
        0.05, 240, "a booth takes {range} min per vehicle or group (or 0): is this in minutes?", zero_ok=True),
    (ServiceTime, "per_person_min"): Plausible(
        0.02, 120, "a booth takes {range} min per person (or 0): is this in minutes?", zero_ok=True),
    (Inspection, "time_h"): Plausible(0.005, 240, "secondary inspection holds a party {range} h: is this in hours?"),
    (RandomClosures, "duration_h"): Plausible(0.01, 336, "a closure lasts {range} h: is this in hours?"),
    (Route, "road_km"): Plausible(0.01, 3000, _ROAD),
    (RouteChange, "road_km"): Plausible(0.01, 3000, _ROAD),
    (Route, "speed_kmh"): Plausible(2, 150, _SPEED),
    (Route, "travel_time_h"): Plausible(
        0.01, 72, "a trip to a crossing takes {range} h (or 0 for none): is this in hours?", zero_ok=True),
    (Behaviour, "diversion_speed_kmh"): Plausible(2, 150, _SPEED),
    (Behaviour, "diversion_road_factor"): Plausible(1, 3, "a road is {range} times the straight-line distance"),
    (ModeBehaviour, "patience_h"): Plausible(0.1, 720, "people wait {range} h before they give up: is this in hours?"),
    (ModeBehaviour, "balk_queue_km"): Plausible(0.01, 300, "a queue too long to join is {range} km: is this in km?"),
    (Walking, "walk_speed_kmh"): Plausible(1.5, 8, "people walk {range} km/h: is this in km/h (1 m/s is 3.6 km/h)?"),
    (Information, "publish_every_min"): Plausible(1, 10_080, "queue reports come every {range} min: is this in minutes?"),
    (Information, "delay_min"): Plausible(0, 10_080, "a report reaches people {range} min late: is this in minutes?"),
    (Information, "closure_known_after_min"): Plausible(
        0, 10_080, "people learn of a closure {range} min after it starts: is this in minutes?"),
    (BusService, "min_headway_min"): Plausible(0, 1440, "buses leave {range} min apart at least: is this in minutes?"),
    (BusService, "capacity"): Plausible(5, 150, "a bus seats {range} people"),
    (PartySizes, "car"): Plausible(1, 9, "a car carries {range} people on average"),
    (PartySizes, "bus"): Plausible(1, 100, "a group waiting for a bus is {range} people on average"),
    (PartySizes, "foot"): Plausible(1, 50, "a group on foot is {range} people on average"),
    (Scenario, "grid_min"): Plausible(1, 1440, "the chart grid is {range} min: is this in minutes?"),
    (KeyFigureRules, "clearance_hold_h"): Plausible(
        0.1, 168, "a queue stays short {range} h to count as cleared: is this in hours?"),
}


def implausible_values(scenario: Scenario) -> list[tuple[str, str, str]]:
    """(field path, value as text, reason) for every value of ``scenario`` outside its plausible range.

    Field paths are written as in errors: list items by name where they have one.
    """
    found: list[tuple[str, str, str]] = []
    _check(scenario, "", found)
    return found


def _check(node: BaseModel, path: str, found: list[tuple[str, str, str]]) -> None:
    for name in type(node).model_fields:
        value = getattr(node, name)
        here = f"{path}.{name}" if path else name
        rule = RANGES.get((type(node), name))
        if rule is not None and value is not None:
            number = value.mean if isinstance(value, _Spec) else value
            if not rule.accepts(number):
                shown = f"{number:g}" if not isinstance(value, _Spec) or value.dist == "fixed" else f"mean {number:g}"
                found.append((here, shown, rule.message()))
        if isinstance(value, BaseModel) and not isinstance(value, _Spec):
            _check(value, here, found)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, BaseModel):
                    _check(item, f"{here}[{getattr(item, 'name', None) or i}]", found)
