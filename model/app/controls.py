"""The what-if page's controls, generated from the loaded scenario and its schema.

Each :class:`Control` is one input box of the page. It carries the dotted
``--set`` path it changes (shown as the box's ``data-path``), a label and a
unit taken from the schema (the field's ``description``, the unit suffix of
its name), the field's bounds as the allowed range, and the value the loaded
scenario has. Nothing here is a second copy of the schema: a field's facts are
read from the pydantic models (:func:`field_facts`), so a changed bound or
description shows on the page as it is.

The levers: booths per crossing and channel, a booth step "from when",
service times, check regimes, closures of a crossing, closures of a road,
each origin's people and the timing of its departures (shifted and stretched
as a whole), patience, and the number of replications. Controls that build a
list (a new booth step, a new closure, shifted departures) share their path,
each with its own ``part``.
"""

from __future__ import annotations

import math
import types
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel

from ..scenario import MODES, Scenario
from ..scenario.crossings import BoothStep
from ..scenario.fields import MAX_LIST

__all__ = ["Control", "FieldFacts", "field_facts", "model_field_facts", "build_controls", "unit_of", "local_text", "name_key"]

#: Unit suffixes of field names, as the README lists them, and how the page shows them.
UNITS = (("_kmh", "km/h"), ("_min", "min"), ("_km", "km"), ("_h", "h"), ("_m", "m"))
#: How far departures may be shifted, in hours either way; a week covers any surge's timing question.
MAX_SHIFT_H = 24 * 7
#: How much the departure curve may be stretched or squeezed in time.
STRETCH_RANGE = (0.1, 10.0)


@dataclass(frozen=True)
class FieldFacts:
    """What the schema says about one field: its text, unit, bounds and whether it is a whole number."""

    description: str
    unit: str
    low: float | None
    high: float | None
    low_open: bool
    integer: bool


@dataclass(frozen=True)
class Control:
    """One input box of the page.

    ``path`` is the ``--set`` path it changes; ``part`` tells the boxes apart
    that together build one list (``shift_h``/``stretch`` of an origin's
    departures, ``booths``/``at`` of a new booth step, ``starts``/``ends`` of a
    new closure); ``""`` for a box that sets its path directly. ``kind`` is
    ``number`` or ``datetime``; ``value`` is what the loaded scenario has
    (None: empty box). An ``optional`` box may be emptied: the field is then
    left out (a road that is not closed).
    """

    path: str
    part: str
    group: str
    label: str
    unit: str
    kind: str
    value: Any
    low: float | None = None
    high: float | None = None
    integer: bool = False
    help: str = ""
    optional: bool = False
    low_open: bool = False

    @property
    def key(self) -> str:
        return f"{self.path}#{self.part}" if self.part else self.path

    @property
    def range_text(self) -> str:
        """The allowed range as the page shows it, e.g. ``0 to 1000`` or ``> 0``."""
        if self.low is None and self.high is None:
            return ""
        low = "" if self.low is None else f"{self.low:,.10g}"
        high = "" if self.high is None else f"{self.high:,.10g}"
        if low and self.low_open:
            return f"> {low}" + (f" and <= {high}" if high else "")
        if low and high:
            return f"{low} to {high}"
        return f">= {low}" if low else f"<= {high}"


def unit_of(name: str) -> str:
    """The unit a field's name carries (``per_vehicle_min`` -> ``min``), or ``""``."""
    return next((unit for suffix, unit in UNITS if name.endswith(suffix)), "")


def _words(name: str) -> str:
    for suffix, _ in UNITS:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return name.replace("_", " ")


def _model_in(annotation: Any, raw: Any) -> Any:
    """The pydantic model inside an annotation (``X | None``, ``list[X]``, a distribution union by its ``dist``)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _model_in(get_args(annotation)[0], raw)
    if origin in (list, tuple):
        return _model_in(get_args(annotation)[0], raw)
    if origin in (Union, types.UnionType):
        args = [get_args(a)[0] if get_origin(a) is Annotated else a for a in get_args(annotation)]
        if len(args) == 2 and type(None) in args:  # X | None: X
            return _model_in(next(a for a in args if a is not type(None)), raw)
        models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        if len(models) > 1 and isinstance(raw, dict):  # a distribution: the family named by ``dist``
            for m in models:
                if raw.get("dist") in get_args(m.model_fields["dist"].annotation):
                    return m
        return models[0] if models else None
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _field(model: type[BaseModel], key: str):
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return name, info
    raise KeyError(f"{model.__name__} has no field {key!r}")


def _is_list(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        return any(_is_list(a) for a in get_args(annotation))
    return origin in (list, tuple)


def field_facts(path: str, raw: dict) -> FieldFacts:
    """The schema's facts on the field at a dotted ``--set`` path (list items by name or index) of ``raw``.

    ``raw`` is the scenario as a dict; it picks the family of a distribution
    (``behaviour.car.patience_h.mean`` is a lognormal's mean if ``dist`` says so).
    """
    model, node, parts = Scenario, raw, path.split(".")
    i = 0
    while True:
        name, info = _field(model, parts[i])
        node = node.get(parts[i]) if isinstance(node, dict) else None
        if i == len(parts) - 1:
            break
        if _is_list(info.annotation):
            i += 1  # the item's name or index
            node = _item(node, parts[i])
        model = _model_in(info.annotation, node)
        i += 1
    return model_field_facts(model, parts[-1])


def model_field_facts(model: type[BaseModel], key: str) -> FieldFacts:
    """The schema's facts on field ``key`` (its name or alias) of a section's model."""
    name, info = _field(model, key)
    low = high = None
    low_open = False
    for m in info.metadata:
        if isinstance(m, annotated_types.Ge):
            low = float(m.ge)
        elif isinstance(m, annotated_types.Gt):
            low, low_open = float(m.gt), True
        elif isinstance(m, annotated_types.Le):
            high = float(m.le)
        elif isinstance(m, annotated_types.Lt):
            high = float(m.lt)
    annotation = info.annotation
    integer = annotation is int or (get_origin(annotation) in (Union, types.UnionType) and int in get_args(annotation))
    return FieldFacts(info.description or _words(info.alias or name), unit_of(name), low, high, low_open, integer)


def _item(items: Any, key: str) -> Any:
    if not isinstance(items, list):
        return None
    for item in items:
        if isinstance(item, dict) and item.get("name") == key:
            return item
    return items[int(key)] if key.lstrip("-").isdigit() and -len(items) <= int(key) < len(items) else None


def name_key(items: list, index: int) -> str:
    """How a ``--set`` path names list item ``index``: by its ``name`` when that is a plain word, else by index."""
    name = getattr(items[index], "name", None)
    return name if isinstance(name, str) and name and not set(name) & set(".=") and not name.lstrip("-").isdigit() else str(index)


def local_text(scenario: Scenario, when) -> str:
    """A date-time as the page shows and reads it: local to the scenario, ``2022-09-10 21:29``."""
    return "" if when is None else when.astimezone(scenario.zone).strftime("%Y-%m-%d %H:%M")


def _number(path: str, raw: dict, group: str, value: Any, prefix: str = "", unit: str | None = None, help: str = "") -> Control:
    """A box for one number field: the schema's description (after ``prefix``) as its label, its bounds as the range."""
    facts = field_facts(path, raw)
    return Control(path, "", group, prefix + facts.description, facts.unit if unit is None else unit, "number", value,
                   facts.low, facts.high, facts.integer, help, low_open=facts.low_open)


def build_controls(scenario: Scenario, raw: dict) -> list[Control]:
    """Every control of the page, in page order, for the loaded ``scenario`` (``raw``: it as a dict, for the schema walk)."""
    out = [_number("replications", raw, "Run", scenario.replications,
                   help="replication r uses the same random numbers in the loaded run and in the changed one")]
    for i, c in enumerate(scenario.crossings):
        where = f"crossings.{name_key(scenario.crossings, i)}"
        group = f"Crossing {c.name}"
        for mode in MODES:
            ch = c.channel(mode)
            if ch is None:
                continue
            out.append(_number(f"{where}.{mode}.booths", raw, group, ch.booths, f"{mode}: "))
            for j, step in enumerate(ch.booth_schedule):
                out.append(_number(f"{where}.{mode}.booth_schedule.{j}.booths", raw, group, step.booths, f"{mode}: step {j + 1}: booths "))
                out.append(Control(f"{where}.{mode}.booth_schedule.{j}.at", "", group, f"{mode}: step {j + 1}: from (local date-time)", "",
                                   "datetime", local_text(scenario, step.at)))
            if len(ch.booth_schedule) < MAX_LIST:
                step = model_field_facts(BoothStep, "booths")
                out.append(Control(f"{where}.{mode}.booth_schedule", "booths", group, f"{mode}: then booths", "", "number", None,
                                   step.low, step.high, True, "a new step of the booth schedule: this many booths ..."))
                out.append(Control(f"{where}.{mode}.booth_schedule", "at", group, f"{mode}: ... from (local date-time)", "",
                                   "datetime", None, help="... from this local date-time on (empty: no new step)"))
            for field in ("per_vehicle_min", "per_person_min"):
                out.append(_number(f"{where}.{mode}.service.{field}", raw, group, getattr(ch.service, field), f"{mode} service: "))
        for j, r in enumerate(c.regimes):
            label = f"regime '{r.name}'" if r.name else f"regime {j + 1}"
            out.append(Control(f"{where}.regimes.{j}.starts", "", group, f"{label}: starts (local date-time)", "", "datetime",
                               local_text(scenario, r.starts)))
            out.append(_number(f"{where}.regimes.{j}.service_multiplier", raw, group, r.service_multiplier, f"{label}: ", "x",
                               "service times are multiplied by this from the regime's start"))
            out.append(_number(f"{where}.regimes.{j}.inspection_multiplier", raw, group, r.inspection_multiplier, f"{label}: ", "x"))
        out.append(Control(f"{where}.closures", "starts", group, "closed from (local date-time)", "", "datetime", None,
                           help="a new closure: no new service from ... (empty: none)"))
        out.append(Control(f"{where}.closures", "ends", group, "... until (local date-time)", "", "datetime", None,
                           help="... until this local date-time; the queue stays"))
    for i, o in enumerate(scenario.origins):
        where = f"origins.{name_key(scenario.origins, i)}"
        group = f"Origin {o.name}"
        out.append(_number(f"{where}.people", raw, group, o.people, unit="people"))
        out.append(Control(f"{where}.departures", "shift_h", group, "shift departures later by", "h", "number", 0.0,
                           -MAX_SHIFT_H, MAX_SHIFT_H, False, "every breakpoint of the departure curve moves by this many hours "
                           "(negative: earlier)"))
        out.append(Control(f"{where}.departures", "stretch", group, "stretch departures in time by", "x", "number", 1.0,
                           *STRETCH_RANGE, False, "the curve lasts this many times as long from its first breakpoint; "
                           "the same people leave (the rate is divided by it)"))
    for i, r in enumerate(scenario.routes):
        group = "Roads"
        label = f"{r.origin} to {r.crossing}"
        out.append(Control(f"routes.{i}.closed_from", "", group, f"{label}: closed from (local date-time)", "", "datetime",
                           local_text(scenario, r.closed_from), help="empty: open", optional=True))
        out.append(Control(f"routes.{i}.closed_until", "", group, f"{label}: closed until (local date-time)", "", "datetime",
                           local_text(scenario, r.closed_until), help="empty: for good", optional=True))
    for mode in MODES:
        patience = scenario.behaviour.mode(mode).patience_h
        if patience is None:
            continue
        spec = patience.model_dump(by_alias=True)
        for key, value in spec.items():
            if key == "dist" or not isinstance(value, (int, float)) or isinstance(value, bool):
                continue
            path = f"behaviour.{mode}.patience_h.{key}"
            out.append(_number(path, raw, "Behaviour", value, f"{mode}: patience ({spec['dist']}): ",
                               "" if key == "cv" else "h", "hours a party waits before reneging"))
    return [_finite(c) for c in out]


def _finite(c: Control) -> Control:
    """A control whose number is shown as is (a float that is whole shows without ``.0`` for counts)."""
    if c.kind == "number" and isinstance(c.value, float) and c.integer and math.isfinite(c.value) and c.value.is_integer():
        return Control(**{**c.__dict__, "value": int(c.value)})
    return c
