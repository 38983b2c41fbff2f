"""The scenario: every parameter of a run, validated once and then frozen.

A scenario is a TOML file read into :class:`Scenario`, a pydantic model that is
the single source of truth for names, units (in field names: ``_min``, ``_h``,
``_km``, ``_m``, ``_kmh``) and allowed ranges. Its sections live in sibling
modules (origins, crossings, routes, behaviour); this one holds the top level.
Date-times written without an offset are read in the scenario's time zone.
Rules that tie fields together (routes naming real crossings, shares summing to
one) live in one validator, ``Scenario._cross_check``, and the checks below it.
Any problem becomes a :class:`ScenarioError` whose one-line message names the
file, the field, the value and what is allowed.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ModelWrapValidatorHandler, field_validator, model_validator

from .base import _Part
from .behaviour import Behaviour, Information, Walking
from .crossings import Crossing, _empty
from .errors import ScenarioError
from .fields import MAX_LIST, MAX_PERIOD_DAYS, MAX_POINTS, MAX_SEED, Label, LatLon, Real, ScenarioName, Text, Whole
from .key_figures import KeyFigureRules
from .metering import Metering, check_metering
from .needs import Needs
from .origins import Origin
from .priority import PriorityClass, check_priority
from .recurring import check_operations, expand_recurring
from .routes import Route
from .times import DateTime, local_zone
from .vehicles import VehicleClass, check_vehicle_classes
from .walk_on import WalkOn, check_walk_on

__all__ = ["MODES", "Scenario", "nobody_leaves"]

MODES: tuple[str, ...] = ("car", "bus", "foot")

#: What an IANA time-zone name looks like (never a path: no leading '/', no '..').
_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9][A-Za-z0-9_+-]*)*")


class Scenario(_Part):
    """Everything one run needs. Times are aware date-times; the engine works in minutes from ``start``."""

    name: ScenarioName = Field(description="used in run-folder names")
    title: Label | None = Field(
        None, description="a human title for reports, e.g. 'Kharkiv oblast to Belgorod oblast, September 2022'"
    )
    description: Text = ""
    timezone: str = Field(max_length=64, description="IANA time zone for local date-times and day/night, e.g. Europe/Moscow")
    start: DateTime
    end: DateTime
    seed: Whole = Field(ge=0, le=MAX_SEED)
    replications: Whole = Field(1, ge=1, le=100_000)
    grid_min: Real = Field(15.0, gt=0, le=MAX_PERIOD_DAYS * 1440, description="regular grid for resampled queue series, minutes")
    origins: list[Origin] = Field(min_length=1, max_length=MAX_LIST)
    crossings: list[Crossing] = Field(min_length=1, max_length=MAX_LIST)
    routes: list[Route] = Field(min_length=1, max_length=MAX_LIST)
    behaviour: Behaviour = Behaviour()
    information: Information = Information()
    walking: Walking = Walking()
    border: list[LatLon] = Field(default_factory=list, max_length=MAX_POINTS, description="[lat, lon] of the state border")
    key_figures: KeyFigureRules = KeyFigureRules()
    needs: Needs = Field(default_factory=Needs, description="what people waiting need: night window, standards, shares")
    metering: list[Metering] = Field(default_factory=list, max_length=MAX_LIST, exclude_if=_empty,
                                     description="control points up the road into a crossing (model.scenario.metering)")
    vehicle_classes: list[VehicleClass] = Field(default_factory=list, max_length=MAX_LIST, exclude_if=_empty,
                                                description="trucks and other vehicles in the car queue (model.scenario.vehicles)")
    walk_on: list[WalkOn] = Field(default_factory=list, max_length=MAX_LIST, exclude_if=_empty,
                                  description="passengers who leave their vehicle and walk on (model.scenario.walk_on)")
    priority: list[PriorityClass] = Field(default_factory=list, max_length=MAX_LIST, exclude_if=_empty,
                                          description="classes served first at some crossings (model.scenario.priority)")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            if not _ZONE_NAME.fullmatch(value):
                raise ValueError(value)
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Europe/Moscow") from None
        return value

    @model_validator(mode="wrap")
    @classmethod
    def _localise(cls, raw: Any, handler: ModelWrapValidatorHandler[Scenario]) -> Scenario:
        """Read offset-less date-times, wherever they are, in the scenario's own time zone."""
        zone = None
        if isinstance(raw, dict) and isinstance(raw.get("timezone"), str):
            try:
                zone = ZoneInfo(raw["timezone"]) if _ZONE_NAME.fullmatch(raw["timezone"]) else None
            except (ZoneInfoNotFoundError, ValueError, OSError):
                pass  # the timezone field reports it
        with local_zone(zone):
            return expand_recurring(handler(raw))

    @model_validator(mode="after")
    def _cross_check(self):
        _check_scenario(self)
        return self

    # --- time helpers used by the engine and the outputs ---

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def horizon_min(self) -> float:
        return self.minutes(self.end)

    def minutes(self, when: datetime) -> float:
        """Minutes from the scenario start to ``when`` (elapsed time: across a daylight-saving change too)."""
        return (when.astimezone(timezone.utc) - self.start.astimezone(timezone.utc)).total_seconds() / 60.0

    def at(self, minutes: float) -> datetime:
        """The local date-time ``minutes`` (elapsed) after the start."""
        return (self.start.astimezone(timezone.utc) + timedelta(minutes=minutes)).astimezone(self.zone)

    def crossing(self, name: str) -> Crossing:
        return next(c for c in self.crossings if c.name == name)

    def origin(self, name: str) -> Origin:
        return next(o for o in self.origins if o.name == name)


def _sorted_times(path: str, times: list[datetime]) -> None:
    for i in range(1, len(times)):
        if times[i].astimezone(timezone.utc) < times[i - 1].astimezone(timezone.utc):  # elapsed order, across DST
            raise ScenarioError(
                f"{path}[{i}]", times[i].isoformat(), f"must come after {times[i - 1].isoformat()} (in time order)"
            )


def _check_scenario(s: Scenario) -> None:
    """Every rule that ties fields together; raises ScenarioError with the field path."""
    if s.end <= s.start:
        raise ScenarioError("end", s.end.isoformat(), f"must be after start ({s.start.isoformat()})")
    if s.end - s.start > timedelta(days=MAX_PERIOD_DAYS):
        raise ScenarioError("end", s.end.isoformat(), f"must be at most {MAX_PERIOD_DAYS} days after start ({s.start.isoformat()})")
    if s.grid_min > s.horizon_min:
        raise ScenarioError("grid_min", s.grid_min, f"must be at most the period from start to end, {s.horizon_min:g} min")
    for kind, items in (("origins", s.origins), ("crossings", s.crossings)):
        seen: set[str] = set()
        for i, item in enumerate(items):
            if item.name in seen:
                raise ScenarioError(f"{kind}[{i}].name", item.name, "names must be unique")
            seen.add(item.name)
    crossings = {c.name: c for c in s.crossings}
    origins = {o.name: o for o in s.origins}

    for i, c in enumerate(s.crossings):
        where = f"crossings[{c.name}]"
        if c.car is None and c.bus is None and c.foot is None:
            raise ScenarioError(where, c.name, "needs at least one channel: car, bus or foot")
        for mode in MODES:
            ch = c.channel(mode)
            if ch is not None:
                _sorted_times(f"{where}.{mode}.booth_schedule", [b.at for b in ch.booth_schedule])
        _sorted_times(f"{where}.regimes", [r.starts for r in c.regimes])
        for j, w in enumerate(c.closures):
            if w.ends <= w.starts:
                raise ScenarioError(f"{where}.closures[{j}].ends", w.ends.isoformat(), "must be after starts")
        if c.initial_queue is not None:
            q = c.initial_queue
            if q.origin not in origins:
                raise ScenarioError(f"{where}.initial_queue.origin", q.origin, f"must be one of {sorted(origins)}")
            for mode in MODES:
                if getattr(q, mode) > 0:
                    _need_channel(c, mode, f"{where}.initial_queue.{mode}")
                    _need_size(origins[q.origin], mode, f"{where}.initial_queue.{mode}")

    routes_by_origin: dict[str, list[Route]] = {name: [] for name in origins}
    for i, r in enumerate(s.routes):
        where = f"routes[{i}]"
        if r.origin not in origins:
            raise ScenarioError(f"{where}.origin", r.origin, f"must be one of {sorted(origins)}")
        if r.crossing not in crossings:
            raise ScenarioError(f"{where}.crossing", r.crossing, f"must be one of {sorted(crossings)}")
        if any(x.crossing == r.crossing for x in routes_by_origin[r.origin]):
            raise ScenarioError(f"{where}.crossing", r.crossing, f"origin {r.origin!r} has a route to it already; "
                                "one route per origin and crossing (a longer road later: lengthened)")
        _sorted_times(f"{where}.lengthened", [x.starts for x in r.lengthened])
        if r.closed_from and r.closed_until and r.closed_until <= r.closed_from:
            raise ScenarioError(f"{where}.closed_until", r.closed_until.isoformat(), "must be after closed_from")
        routes_by_origin[r.origin].append(r)

    for o in s.origins:
        where = f"origins[{o.name}]"
        _sorted_times(f"{where}.departures", [p.at for p in o.departures])
        if o.people is not None and o.people > 0 and not any(p.people_per_h > 0 for p in o.departures):
            raise ScenarioError(f"{where}.departures", "all zero", "need a positive rate somewhere to send people")
        routes = routes_by_origin[o.name]
        if not routes:
            raise ScenarioError(f"{where}", o.name, "needs at least one route in [[routes]]")
        for mode in ("car", "foot"):
            if getattr(o.mode_split, mode) > 0:
                _need_size(o, mode, f"{where}.mode_split.{mode}")
                for r in routes:
                    _need_channel(crossings[r.crossing], mode, f"{where}.mode_split.{mode}")
        if o.mode_split.bus > 0:
            _need_size(o, "bus", f"{where}.mode_split.bus")
            if not o.buses:
                raise ScenarioError(f"{where}.buses", [], "a positive bus share needs at least one [[origins.buses]]")
        for j, b in enumerate(o.buses):
            bw = f"{where}.buses[{j}]"
            if b.crossing not in crossings:
                raise ScenarioError(f"{bw}.crossing", b.crossing, f"must be one of {sorted(crossings)}")
            _need_channel(crossings[b.crossing], "bus", f"{bw}.crossing")
            if b.crossing not in {r.crossing for r in routes}:
                raise ScenarioError(f"{bw}.crossing", b.crossing,
                                    f"origin {o.name!r} has no route to it; add a [[routes]] from {o.name!r} to {b.crossing!r}")
            if not b.timetable and b.trigger_people is None:
                raise ScenarioError(bw, "no timetable or trigger_people", "give a timetable or trigger_people")
            _sorted_times(f"{bw}.timetable", b.timetable)
        if o.choice.method == "shares":
            shares = [r.share for r in routes]
            if any(x is None for x in shares):
                raise ScenarioError(
                    f"routes (origin {o.name}).share", None, "every route needs a share when choice.method = 'shares'"
                )
            total = sum(shares)
            if abs(total - 1.0) > 1e-6:
                raise ScenarioError(f"routes (origin {o.name}).share", round(total, 6), "shares of an origin's routes must sum to 1")
    check_operations(s)
    check_metering(s)
    check_priority(s)
    check_walk_on(s)
    check_vehicle_classes(s)
    s.needs.check(list(origins))


def _people_in_period(s: Scenario, o: Origin) -> float:
    """People expected to leave ``o`` between start and end, from its breakpoints (day/night left out)."""
    points = [(s.minutes(p.at), p.people_per_h / 60.0) for p in o.departures]
    total = inside = 0.0
    for (t0, r0), (t1, r1) in zip(points, points[1:]):
        if t1 <= t0:
            continue
        total += (r0 + r1) / 2 * (t1 - t0)
        lo, hi = max(t0, 0.0), min(t1, s.horizon_min)
        if hi > lo:
            ra, rb = (r0 + (r1 - r0) * (x - t0) / (t1 - t0) for x in (lo, hi))
            inside += (ra + rb) / 2 * (hi - lo)
    if o.people is None:
        return inside
    return o.people * inside / total if total > 0 else 0.0


def nobody_leaves(s: Scenario) -> tuple[str, str, str] | None:
    """(field, value, reason) when fewer than one person is expected to leave inside the period and nobody waits
    at the start: allowed (the run shows empty queues) but surely a mistake, so the loader warns; else None."""
    if any(c.initial_queue is not None and c.initial_queue.car + c.initial_queue.bus + c.initial_queue.foot > 0
           for c in s.crossings):
        return None
    people = sum(_people_in_period(s, o) for o in s.origins)
    if people >= 1:
        return None
    first = s.origins[0]
    field = "origins.departures" if len(s.origins) > 1 else \
        f"origins[{first.name}].{'people' if first.people is not None and first.people < 1 else 'departures'}"
    return (field, f"{people:.3g} people expected to leave between start and end",
            "nobody to simulate: the run will show empty queues (check the departure date-times against start "
            "and end, and people)")


def _need_channel(crossing: Crossing, mode: str, field: str) -> None:
    if crossing.channel(mode) is None:
        raise ScenarioError(field, mode, f"crossing {crossing.name!r} has no {mode} channel; add [crossings.{mode}]")


def _need_size(origin: Origin, mode: str, field: str) -> None:
    if getattr(origin.party_size, mode) is None:
        raise ScenarioError(field, mode, f"origin {origin.name!r} needs party_size.{mode}")
