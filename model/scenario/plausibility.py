"""Plausible ranges of the unit-bearing values: allowed values that are surely unit mistakes.

The schema refuses what cannot be run; the table (``plausibility.toml``
beside this module, data rather than code) catches what runs but is
almost certainly a mistake, such as a car spacing of 0.008 (km in a metres
field) or a road of 45,000 km (metres in a km field). Each row names a field of
a section, the range a real value lies in (for a distribution: its mean), and
why, in words a user can check. :func:`implausible_values` lists the values of
a scenario outside their range; the loader turns each into one warning and the
run goes on. The ranges are wide on purpose: they catch factors of 60 or 1,000,
not unusual but real values.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from .behaviour import Behaviour, Information, ModeBehaviour, Walking
from .crossings import Crossing, Inspection, RandomClosures, ServiceTime
from .distributions import _Spec
from .key_figures import KeyFigureRules
from .operations import LanesStep, Quota
from .origins import BusService, PartySizes
from .routes import Route, RouteChange
from .schema import Scenario
from .vehicles import VehicleClass

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


#: The sections a range may name, by class name.
SECTIONS: dict[str, type[BaseModel]] = {cls.__name__: cls for cls in (
    Crossing, ServiceTime, Inspection, RandomClosures, Route, RouteChange, Behaviour, ModeBehaviour, Walking, Information,
    BusService, PartySizes, Scenario, KeyFigureRules, LanesStep, Quota, VehicleClass)}


def _load_ranges() -> dict[tuple[type[BaseModel], str], Plausible]:
    """The table of ``plausibility.toml`` beside this module (data, not code), keyed by (section, field)."""
    rows = tomllib.loads((Path(__file__).with_name("plausibility.toml")).read_text(encoding="utf-8"))["ranges"]
    return {(SECTIONS[r["section"]], r["field"]): Plausible(r["low"], r["high"], r["reason"], r.get("zero_ok", False))
            for r in rows}


#: (section, field) -> the plausible range of its value, or of its distribution's mean.
RANGES: dict[tuple[type[BaseModel], str], Plausible] = _load_ranges()


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
