"""The scenario: every parameter of a run, validated once and then frozen.

A scenario is a TOML file read into :class:`Scenario`, a pydantic model that is
the single source of truth for names, units (in field names: ``_min``, ``_h``,
``_km``, ``_m``, ``_kmh``) and allowed ranges. Date-times written without an
offset are read in the scenario's time zone. Rules that tie fields together
(routes naming real crossings, shares summing to one) live in one validator,
``Scenario._cross_check``. Any problem becomes a :class:`ScenarioError` whose
one-line message names the file, the field, the value and what is allowed.
"""

from __future__ import annotations

import copy
import math
import tomllib
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .distributions import FAMILIES, DistributionSpec, Fixed

__all__ = [
    "MODES",
    "ScenarioError",
    "Scenario",
    "Origin",
    "Crossing",
    "Channel",
    "Route",
    "load_scenario",
    "scenario_from_dict",
    "read_scenario_dict",
    "apply_overrides",
]

MODES: tuple[str, ...] = ("car", "bus", "foot")


class ScenarioError(Exception):
    """A scenario (or an override) that cannot be run, with a one-line reason.

    Not a ``ValueError`` on purpose: pydantic lets it pass through validators
    untouched, so cross-field checks keep their own field path.
    """

    def __init__(self, field: str, value: Any, allowed: str, source: str | None = None):
        self.field, self.value, self.allowed, self.source = field, value, allowed, source
        super().__init__(self.message())

    def message(self) -> str:
        where = f"{self.source}: " if self.source else ""
        field = f"{self.field}: " if self.field else ""
        value = "" if self.value is _NO_VALUE else f"got {_short(self.value)}; "
        return f"{where}{field}{value}{self.allowed}"

    def with_source(self, source: str) -> "ScenarioError":
        return ScenarioError(self.field, self.value, self.allowed, source)


_NO_VALUE = object()


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# --- origins ---------------------------------------------------------------------------------


class RatePoint(_Part):
    """One breakpoint of a departure-rate curve; the rate is linear between breakpoints."""

    at: datetime
    people_per_h: float = Field(ge=0, description="departure rate at this instant, people per hour")


class DayNight(_Part):
    """Multiplies the departure rate at night (local clock of the scenario time zone)."""

    day_starts_hour: float = Field(6.0, ge=0, le=24)
    day_ends_hour: float = Field(21.0, ge=0, le=24)
    night_multiplier: float = Field(ge=0, description="rate multiplier outside day hours")


class _Shares(_Part):
    """A table of probabilities or shares that must sum to 1."""

    @model_validator(mode="after")
    def _sums_to_one(self):
        names = list(type(self).model_fields)
        total = sum(getattr(self, n) for n in names)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"{' + '.join(names)} must sum to 1, got {total:.6g}")
        return self


class ModeSplit(_Shares):
    """Share of an origin's people that leave by each mode; sums to 1."""

    car: float = Field(1.0, ge=0, le=1)
    bus: float = Field(0.0, ge=0, le=1)
    foot: float = Field(0.0, ge=0, le=1)


class PartySizes(_Part):
    """People per party by mode: occupants of a car, a group waiting for a bus, a group on foot."""

    car: DistributionSpec | None = None
    bus: DistributionSpec | None = None
    foot: DistributionSpec | None = None


class BusService(_Part):
    """Buses run by the authorities from an origin to one crossing.

    People of the origin's bus share wait at the origin. A bus leaves at each
    timetable time, or as soon as ``trigger_people`` are waiting, taking up to
    ``capacity`` of them (first come, first boarded).
    """

    crossing: str
    capacity: int = Field(ge=1, description="seats per bus, people")
    timetable: list[datetime] = Field(default_factory=list)
    trigger_people: int | None = Field(None, ge=1, description="leave when this many wait")
    min_headway_min: float = Field(0.0, ge=0, description="minimum minutes between triggered buses")


class Choice(_Part):
    """How a party picks a crossing: fixed route shares, or informed logit choice."""

    method: Literal["shares", "informed"] = "shares"
    logit_scale_per_h: float = Field(
        1.0, gt=0, description="weight of one hour of expected travel + wait in the logit"
    )


class Origin(_Part):
    """A town or group of villages that people leave."""

    name: str = Field(min_length=1)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    people: float | None = Field(
        None, ge=0, description="expected people leaving; the rate curve is rescaled to this total"
    )
    mode_split: ModeSplit = ModeSplit()
    party_size: PartySizes
    departures: list[RatePoint] = Field(min_length=2)
    day_night: DayNight | None = None
    choice: Choice = Choice()
    buses: list[BusService] = Field(default_factory=list)


# --- crossings -------------------------------------------------------------------------------


class ServiceTime(_Part):
    """Service time of one party at a booth: (per vehicle + per person x size) x random factor.

    The random factor has mean 1 and the named family and cv; ``fixed`` makes it 1.
    """

    per_vehicle_min: float = Field(0.0, ge=0, description="minutes per party regardless of size")
    per_person_min: float = Field(0.0, ge=0, description="minutes per person in the party")
    dist: Literal["fixed", "exponential", "lognormal", "gamma", "uniform"] = "exponential"
    cv: float = Field(1.0, gt=0, le=10, description="coefficient of variation (ignored by fixed, exponential)")

    @model_validator(mode="after")
    def _positive(self):
        if self.per_vehicle_min + self.per_person_min <= 0:
            raise ValueError("per_vehicle_min + per_person_min must be > 0")
        return self


class BoothStep(_Part):
    """From ``at`` on, this many booths are staffed."""

    at: datetime
    booths: int = Field(ge=0)


class Channel(_Part):
    """Booths serving one kind of party (cars, buses or pedestrians) at a crossing."""

    booths: int = Field(ge=0, description="booths open at the start")
    booth_schedule: list[BoothStep] = Field(default_factory=list)
    service: ServiceTime


class Regime(_Part):
    """A check regime in force from ``starts`` on, scaling service and inspection."""

    name: str = ""
    starts: datetime
    service_multiplier: float = Field(1.0, gt=0)
    inspection_multiplier: float = Field(1.0, ge=0, description="scales the inspection probabilities")


class Closure(_Part):
    """A window in which the crossing starts no new service; the queue stays."""

    starts: datetime
    ends: datetime
    reason: str = ""


class RandomClosures(_Part):
    """Unscheduled closures (shelling, alarms): a Poisson number per day, each of random length."""

    per_day: float = Field(gt=0, description="expected closures per day")
    duration_h: DistributionSpec


class ModeProbability(_Part):
    car: float = Field(0.0, ge=0, le=1)
    bus: float = Field(0.0, ge=0, le=1)
    foot: float = Field(0.0, ge=0, le=1)


class Inspection(_Part):
    """Secondary inspection ("filtration"): a share of parties is held after primary service.

    P(held) = 1 - (1 - party_probability) x (1 - person_probability)^size, then
    scaled by the regime's ``inspection_multiplier``. Held vehicles wait in a
    holding area; when it is full, primary booths cannot release (they block).
    """

    booths: int = Field(ge=1)
    party_probability: ModeProbability = ModeProbability()
    person_probability: ModeProbability = ModeProbability()
    time_h: DistributionSpec
    holding_capacity: int = Field(ge=1, description="vehicles or groups the holding area holds")


class InitialQueue(_Part):
    """Parties already waiting at the start, in order; sizes drawn from ``origin``'s tables."""

    origin: str
    car: int = Field(0, ge=0)
    bus: int = Field(0, ge=0)
    foot: int = Field(0, ge=0)


class Crossing(_Part):
    """A road border crossing with separate channels for cars, buses and pedestrians."""

    name: str = Field(min_length=1)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    car: Channel | None = None
    bus: Channel | None = None
    foot: Channel | None = None
    regimes: list[Regime] = Field(default_factory=list)
    closures: list[Closure] = Field(default_factory=list)
    random_closures: RandomClosures | None = None
    car_spacing_m: float = Field(7.5, gt=0, description="road length per queued car, metres")
    bus_spacing_m: float = Field(15.0, gt=0, description="road length per queued bus, metres")
    approach_lanes: int = Field(1, ge=1, description="lanes the queue occupies on the approach road")
    inspection: Inspection | None = None
    initial_queue: InitialQueue | None = None

    def channel(self, mode: str) -> Channel | None:
        return getattr(self, mode)

    def spacing_m(self, mode: str) -> float:
        return {"car": self.car_spacing_m, "bus": self.bus_spacing_m}.get(mode, 0.0)


# --- routes and behaviour --------------------------------------------------------------------


class RouteChange(_Part):
    """From ``starts`` on the route is this long (a detour after a bridge is lost)."""

    starts: datetime
    road_km: float = Field(gt=0)


class Route(_Part):
    """A road from an origin to a crossing."""

    origin: str
    crossing: str
    road_km: float = Field(gt=0)
    speed_kmh: DistributionSpec | None = Field(None, description="vehicle speed; or give travel_time_h")
    travel_time_h: DistributionSpec | None = None
    share: float | None = Field(None, ge=0, le=1, description="share of the origin's parties (shares choice)")
    closed_from: datetime | None = None
    closed_until: datetime | None = None
    lengthened: list[RouteChange] = Field(default_factory=list)
    path: list[tuple[float, float]] = Field(default_factory=list, description="[lat, lon] points for the map")

    @model_validator(mode="after")
    def _one_travel_model(self):
        if (self.speed_kmh is None) == (self.travel_time_h is None):
            raise ValueError("give exactly one of speed_kmh or travel_time_h")
        return self


class Renege(_Shares):
    """What a party does when its patience runs out; probabilities sum to 1."""

    divert: float = Field(0.0, ge=0, le=1)
    walk: float = Field(0.0, ge=0, le=1)
    give_up: float = Field(1.0, ge=0, le=1)


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
    max_diversions: int = Field(2, ge=0, description="after this many, a party that would divert gives up")
    diversion_road_factor: float = Field(1.4, ge=1, description="road km / straight-line km between crossings")
    diversion_speed_kmh: DistributionSpec = Fixed(dist="fixed", value=40.0)

    def mode(self, mode: str) -> ModeBehaviour:
        return getattr(self, mode)


class Information(_Part):
    """Queue reports on messaging channels, as used by informed choice."""

    enabled: bool = Field(True, description="false: parties choose on travel time alone, knowing no queues")
    publish_every_min: float = Field(60.0, gt=0)
    delay_min: float = Field(30.0, ge=0, description="age of a report when people read it")
    closure_known_after_min: float = Field(0.0, ge=0, description="delay before people know of a closure")


class Walking(_Part):
    walk_speed_kmh: DistributionSpec = Fixed(dist="fixed", value=3.6)


class Scenario(_Part):
    """Everything one run needs. Times are aware date-times; the engine works in minutes from ``start``."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="used in run-folder names")
    description: str = ""
    timezone: str = Field(description="IANA time zone for local date-times and day/night, e.g. Europe/Moscow")
    start: datetime
    end: datetime
    seed: int = Field(ge=0)
    replications: int = Field(1, ge=1, le=100_000)
    grid_min: float = Field(15.0, gt=0, description="regular grid for resampled queue series, minutes")
    origins: list[Origin] = Field(min_length=1)
    crossings: list[Crossing] = Field(min_length=1)
    routes: list[Route] = Field(min_length=1)
    behaviour: Behaviour = Behaviour()
    information: Information = Information()
    walking: Walking = Walking()
    border: list[tuple[float, float]] = Field(default_factory=list, description="[lat, lon] of the state border")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Europe/Moscow") from None
        return value

    @model_validator(mode="before")
    @classmethod
    def _localise(cls, raw: Any) -> Any:
        """Read offset-less date-times in the scenario's own time zone."""
        if isinstance(raw, dict) and isinstance(raw.get("timezone"), str):
            try:
                zone = ZoneInfo(raw["timezone"])
            except (ZoneInfoNotFoundError, ValueError):
                return raw
            return _attach_zone(raw, zone)
        return raw

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
        """Minutes from the scenario start to ``when``."""
        return (when - self.start).total_seconds() / 60.0

    def at(self, minutes: float) -> datetime:
        """The local date-time ``minutes`` after the start."""
        return (self.start + timedelta(minutes=minutes)).astimezone(self.zone)

    def crossing(self, name: str) -> Crossing:
        return next(c for c in self.crossings if c.name == name)

    def origin(self, name: str) -> Origin:
        return next(o for o in self.origins if o.name == name)


def _attach_zone(node: Any, zone: ZoneInfo) -> Any:
    if isinstance(node, datetime):
        return node.replace(tzinfo=zone) if node.tzinfo is None else node
    if isinstance(node, dict):
        return {k: _attach_zone(v, zone) for k, v in node.items()}
    if isinstance(node, list):
        return [_attach_zone(v, zone) for v in node]
    return node


def _sorted_times(path: str, times: list[datetime]) -> None:
    for i in range(1, len(times)):
        if times[i] < times[i - 1]:
            raise ScenarioError(
                f"{path}[{i}]", times[i].isoformat(), f"must come after {times[i - 1].isoformat()} (in time order)"
            )


def _check_scenario(s: Scenario) -> None:
    """Every rule that ties fields together; raises ScenarioError with the field path."""
    if s.end <= s.start:
        raise ScenarioError("end", s.end.isoformat(), f"must be after start ({s.start.isoformat()})")
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


def _need_channel(crossing: Crossing, mode: str, field: str) -> None:
    if crossing.channel(mode) is None:
        raise ScenarioError(field, mode, f"crossing {crossing.name!r} has no {mode} channel; add [crossings.{mode}]")


def _need_size(origin: Origin, mode: str, field: str) -> None:
    if getattr(origin.party_size, mode) is None:
        raise ScenarioError(field, mode, f"origin {origin.name!r} needs party_size.{mode}")


# --- loading ---------------------------------------------------------------------------------


def read_scenario_dict(path: str | Path) -> dict:
    """Read a scenario TOML into a dict, following ``extends`` (path relative to the file)."""
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise ScenarioError("", _NO_VALUE, "file not found", source)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError("", _NO_VALUE, f"TOML syntax error: {err}", source) from None
    except UnicodeDecodeError:
        raise ScenarioError("", _NO_VALUE, "not a UTF-8 text file", source) from None
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    if not isinstance(parent, str):
        raise ScenarioError("extends", parent, "must be a path to another scenario file", source)
    base = read_scenario_dict(path.parent / parent)
    return merge_scenarios(base, raw)


def merge_scenarios(base: dict, override: dict) -> dict:
    """Deep-merge ``override`` into ``base``; lists of named tables merge item by item by name."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        old = merged.get(key)
        if isinstance(old, dict) and isinstance(value, dict) and "dist" not in value:
            merged[key] = merge_scenarios(old, value)  # a distribution is replaced whole, never mixed
        elif _named_list(old) and _named_list(value):
            by_name = {item["name"]: i for i, item in enumerate(old)}
            result = list(old)
            for item in value:
                if item["name"] in by_name:
                    idx = by_name[item["name"]]
                    result[idx] = merge_scenarios(result[idx], item)
                else:
                    result.append(item)
            merged[key] = result
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _named_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) and "name" in v for v in value)


def _parse_value(text: str) -> Any:
    """Read an override's value as TOML (numbers, booleans, dates, arrays, tables), else as a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(raw: dict, overrides: list[str] | dict[str, Any]) -> dict:
    """Apply ``dotted.key=value`` overrides to a raw scenario dict.

    List items are addressed by index or by their ``name``:
    ``crossings.NAME.car.booths=5`` or ``routes.0.road_km=60``.
    """
    result = copy.deepcopy(raw)
    items = overrides.items() if isinstance(overrides, dict) else (_split_override(o) for o in overrides)
    for dotted, value in items:
        if isinstance(value, str) and not isinstance(overrides, dict):
            value = _parse_value(value)
        _set_path(result, dotted, value)
    return result


def _split_override(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ScenarioError("--set", text, "use dotted.key=value, e.g. crossings.NAME.car.booths=8")
    return key.strip(), value.strip()


def _set_path(node: Any, dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        here = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            idx = _list_index(node, part, here)
            if last:
                node[idx] = value
            else:
                node = node[idx]
        elif isinstance(node, dict):
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
        else:
            raise ScenarioError(f"--set {dotted}", value, f"{'.'.join(parts[:depth])} is a value, not a table")


def _list_index(items: list, part: str, here: str) -> int:
    if part.lstrip("-").isdigit():
        idx = int(part)
        if not -len(items) <= idx < len(items):
            raise ScenarioError(f"--set {here}", idx, f"index must be below {len(items)}")
        return idx
    names = [item.get("name") for item in items if isinstance(item, dict)]
    if part not in names:
        raise ScenarioError(f"--set {here}", part, f"must be an index or one of {names}")
    return names.index(part)


def _format_loc(raw: dict, loc: tuple) -> str:
    """Field path of a pydantic error, with list items named where they have a name."""
    out: list[str] = []
    node: Any = raw
    for part in loc:
        if isinstance(part, int):
            name = node[part].get("name") if isinstance(node, list) and part < len(node) and isinstance(node[part], dict) else None
            out[-1:] = [f"{out[-1] if out else ''}[{name if name else part}]"]
            node = node[part] if isinstance(node, list) and part < len(node) else None
        else:
            if part in FAMILIES:
                continue  # the discriminated-union tag pydantic adds to the path
            out.append(str(part))
            node = node.get(part) if isinstance(node, dict) else None
    return ".".join(out)


def scenario_from_dict(raw: dict, source: str = "<scenario>") -> Scenario:
    """Validate a raw dict into a frozen Scenario, or raise a one-line ScenarioError."""
    try:
        return Scenario.model_validate(raw)
    except ScenarioError as err:
        raise err.with_source(source) from None
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        field = _format_loc(raw, first["loc"])
        msg = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            msg = "unknown key (not a field of the scenario schema)"
        elif first["type"] == "missing":
            msg = "required field is missing"
        value = _NO_VALUE if first["type"] == "missing" else first.get("input", _NO_VALUE)
        if isinstance(value, dict):
            value = _NO_VALUE if first["type"] != "extra_forbidden" else value
        raise ScenarioError(field, value, msg, source) from None


def load_scenario(path: str | Path, overrides: list[str] | dict[str, Any] | None = None) -> Scenario:
    """Read, merge (``extends``), override (``--set``) and validate a scenario file."""
    raw = read_scenario_dict(path)
    if overrides:
        try:
            raw = apply_overrides(raw, overrides)
        except ScenarioError as err:
            raise err.with_source(str(path)) from None
    return scenario_from_dict(raw, str(path))


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))
