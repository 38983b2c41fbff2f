"""Names a planner reads on the experiment pages: scenario parameters and key figures, with their units.

A parameter is named by its field's description in the scenario schema
(``model/scenario``, the single source of truth) with the places it belongs
to, found by walking ``Scenario.model_fields`` along its dotted key; a key
figure by the run report's own label (:data:`model.report.run_report.KPI_LABELS`,
one source for both) and the unit of :data:`model.analysis.KPI_UNITS`.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel

from ..analysis import KPI_UNITS
from ..scenario import Scenario
from .run_report import _kpi_label
from .style import MODE_LABEL

__all__ = ["param_label", "kpi_label"]

#: Units that a field's name carries, by suffix, and the words that show a description already names it.
_UNITS = {"_kmh": "km/h", "_km": "km", "_min": "min", "_h": "h", "_m": "m", "_hour": "h", "booths": "booths", "people": "people"}
_UNIT_WORDS = {"km/h": ("km/h",), "km": ("km", "kilomet"), "min": ("minute",), "h": ("hour",), "m": ("metre", "meter"),
               "booths": ("booth",), "people": ("people", "person")}
#: How one item of a list section is named when it has no name of its own (e.g. ``regimes.0`` -> check regime 1).
_ITEM = {"regimes": "check regime", "closures": "closure", "booth_schedule": "booth step", "departures": "rate point",
         "buses": "bus service", "routes": "route", "lengthened": "route change", "timetable": "departure"}
#: Readable names of fields that have no description.
_NAMES = {"lat": "latitude", "lon": "longitude", "road_km": "road length", "service_multiplier": "service time multiplier",
          "publish_every_min": "queue reports published every", "booths": "booths"}
_SECTION = {**MODE_LABEL, "service": "service time", "day_night": "day and night", "mode_split": "mode split",
            "party_size": "party size", "initial_queue": "initial queue", "inspection": "secondary inspection",
            "random_closures": "random closures"}


def _models(annotation) -> tuple[list[type[BaseModel]], bool]:
    """The schema models a field holds (several for a distribution's families), and whether it is a list of them."""
    if hasattr(annotation, "__metadata__"):  # Annotated[X, ...]
        return _models(annotation.__origin__)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        found = [_models(a) for a in typing.get_args(annotation) if a is not type(None)]
        return [m for ms, _ in found for m in ms], any(is_list for _, is_list in found)
    if origin in (list, tuple):
        args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        return (_models(args[0])[0] if args else []), True
    return ([annotation] if isinstance(annotation, type) and issubclass(annotation, BaseModel) else []), False


def _short(description: str) -> str:
    """A field description without its aside: "expected people leaving; the rate..." -> "expected people leaving"."""
    return description.split(";")[0].split(" (")[0].split(", e.g.")[0].strip()


def _readable(name: str) -> str:
    return name.replace("_", " ")


def _suffix(name: str) -> str:
    """The unit suffix of a field's name (``road_km`` -> ``_km``), if it has one."""
    return next((suffix for suffix in _UNITS if name.endswith(suffix) and suffix.startswith("_")), "")


def _unit_of(name: str) -> str:
    return next((u for suffix, u in _UNITS.items() if name.endswith(suffix)), "")


def param_label(key: str, scenario: Scenario | None = None) -> str:
    """A planner's name for a dotted scenario key, with its unit when the name does not already say it.

    Walks ``Scenario.model_fields`` along the key: list items are named by
    their ``name`` (or a route's origin -> crossing, found in ``scenario``), a
    channel by its mode, and the last field by its description in the schema
    (a readable form of its name where it has none): ``crossings.Logachevka.car.booths``
    -> "Logachevka, cars: booths open at the start". A key the schema does
    not know reads as its parts.
    """
    parts = key.split(".")
    models: list[type[BaseModel]] = [Scenario]
    node: Any = scenario
    places: list[str] = []
    described, unit, i = "", "", 0
    while i < len(parts):
        part = parts[i]
        info = next((f for m in models for name, f in m.model_fields.items() if part in (name, f.alias)), None)  # mean: mean_value
        if info is None:
            return " ".join(_readable(p) for p in parts)
        unit = _unit_of(part) or unit
        inner, is_list = _models(info.annotation)
        child = getattr(node, part, None) if node is not None else None
        if i == len(parts) - 1:  # the field itself
            name = _short(info.description) if info.description else _NAMES.get(part, _readable(part.removesuffix(_suffix(part))))
            if described:  # a number inside a described field (a distribution's mean)
                name = f"{described}, {name}"
            places_text = ", ".join(places)
            label = f"{places_text}: {name}" if places_text else name
            if unit and not any(w in label.lower() for w in _UNIT_WORDS.get(unit, (unit,))):
                label += f" ({unit})"
            return label
        if is_list and i + 1 < len(parts):  # an item of a list: a place, a regime, a route
            places.append(_item_name(part, parts[i + 1], child))
            node = _item(child, parts[i + 1])
            i += 2
        else:
            if info.description:
                described = _short(info.description)
            else:
                places.append(_SECTION.get(part, _readable(part.removesuffix(_suffix(part)))))
            node = child
            i += 1
        models = inner
    return " ".join(_readable(p) for p in parts)


def _item(items, ref: str):
    """The item of a list that ``ref`` names (by ``name`` or index), or None."""
    if not isinstance(items, (list, tuple)):
        return None
    named = [x for x in items if getattr(x, "name", None) == ref]
    if named:
        return named[0]
    if ref.lstrip("-").isdigit() and -len(items) <= int(ref) < len(items):
        return items[int(ref)]
    return None


def _item_name(section: str, ref: str, items) -> str:
    item = _item(items, ref)
    if item is not None and getattr(item, "origin", None) and getattr(item, "crossing", None) and section == "routes":
        return f"route {item.origin} -> {item.crossing}"
    name = getattr(item, "name", None) if item is not None else (None if ref.lstrip("-").isdigit() else ref)
    if section in ("crossings", "origins"):
        return name or ref
    what = _ITEM.get(section, _readable(section))
    if name:
        return f"{what} {name}"
    return f"{what} {int(ref) + 1}" if ref.lstrip("-").isdigit() and int(ref) >= 0 else f"{what} {ref}"


def _kpi_unit(kpi: str) -> str:
    unit = KPI_UNITS.get(kpi, "")
    return {"fraction": "%", "datetime": "local time"}.get(unit, unit)


def kpi_label(kpi: str, unit: bool = True) -> str:
    """A key figure by the run report's label, with its unit: ``wait_mean_h`` -> "mean wait (h)"."""
    text = _kpi_label(kpi)
    return f"{text} ({_kpi_unit(kpi)})" if unit and _kpi_unit(kpi) else text


