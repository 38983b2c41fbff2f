"""Metering up the road: a control point on the roads into a crossing that lets only some parties through.

Police a few kilometres before a border often decide who may drive on
towards it: so many cars an hour, only local plates, a share of those who
ask. A :class:`Metering` is such a point on the routes into one crossing
(from some origins, or from all), for some modes. A party it controls is
let through when it is allowed (its origin is in ``pass_origins``, if given,
and a draw falls within ``pass_share``), at most ``vehicles_per_hour`` of
them, one every 60/vph minutes, in the order they came; the others wait in
the point's queue. A party not allowed is held there until the metering ends
(``refused = "hold"``) or is turned back (``"turn_back"``) and then does what a
party whose patience ran out does (divert, walk or give up, per the
behaviour). The point is in force from ``starts`` to ``ends`` (the whole run
by default); at ``ends`` everyone waiting at it drives on.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from .base import _Part
from .crossings import _empty
from .errors import ScenarioError, check_known
from .fields import MAX_LIST, MAX_RATE, Name, Real
from .operations import ChannelName
from .times import DateTime

__all__ = ["Metering", "check_metering", "METERING_FIELD"]


class Metering(_Part):
    """A control point up the road into ``crossing`` (see the module docstring)."""

    name: Name = Field(description="the control point; its queue is reported as channel mode@name (car@name)")
    crossing: Name = Field(description="the crossing whose incoming routes it controls")
    origins: list[Name] = Field(default_factory=list, max_length=MAX_LIST, exclude_if=_empty,
                                description="routes from these origins only (empty: every route into the crossing)")
    modes: list[ChannelName] = Field(default_factory=lambda: ["car", "bus"], max_length=3,
                                     description="the modes it controls: car, bus, foot")
    vehicles_per_hour: Real | None = Field(None, gt=0, le=MAX_RATE, description="parties let through per hour at "
                                           "most, one every 60/vph minutes (absent: no limit)")
    pass_share: Real = Field(1.0, ge=0, le=1, description="share of parties allowed through at all (drawn per party)")
    pass_origins: list[Name] = Field(default_factory=list, max_length=MAX_LIST, exclude_if=_empty,
                                     description="only parties from these origins are allowed (empty: any), e.g. local plates")
    refused: Literal["hold", "turn_back"] = Field("hold", description="a party not allowed: held at the point until "
                                                  "the metering ends, or turned back (then it diverts, walks or gives up)")
    starts: DateTime | None = Field(None, description="in force from (absent: the start)")
    ends: DateTime | None = Field(None, description="in force until; everyone held then drives on (absent: the end)")

    @model_validator(mode="after")
    def _limits_something(self):
        if not self.modes:
            raise ValueError("modes must name at least one of car, bus, foot")
        if len(set(self.modes)) != len(self.modes):
            raise ValueError(f"modes {self.modes} names a mode twice")
        if self.vehicles_per_hour is None and self.pass_share >= 1 and not self.pass_origins:
            raise ValueError("a metering must limit something: give vehicles_per_hour, a pass_share below 1 or pass_origins")
        if self.starts is not None and self.ends is not None and self.ends <= self.starts:
            raise ValueError(f"ends ({self.ends.isoformat()}) must be after starts ({self.starts.isoformat()})")
        return self


#: The field of the scenario that lists the control points.
METERING_FIELD = "metering"


def check_metering(s: Any) -> None:
    """Names unique; the crossing, origins and modes exist, and the crossing serves one of the modes. An origin
    need not have a route to the crossing: its parties may come there by diverting from another."""
    crossings = {c.name: c for c in s.crossings}
    origins = {o.name for o in s.origins}
    seen: set[str] = set()
    for m in s.metering:
        where = f"{METERING_FIELD}[{m.name}]"
        if m.name in seen:
            raise ScenarioError(f"{where}.name", m.name, "names of metering points must be unique")
        seen.add(m.name)
        if m.crossing not in crossings:
            raise ScenarioError(f"{where}.crossing", m.crossing, f"must be one of {sorted(crossings)}")
        crossing = crossings[m.crossing]
        if m.name in {st.name for st in crossing.stages}:
            raise ScenarioError(f"{where}.name", m.name, f"crossing {m.crossing!r} has a stage of that name; "
                                "give the metering point a name of its own")
        if not any(crossing.channel(mode) is not None for mode in m.modes):
            raise ScenarioError(f"{where}.modes", list(m.modes), f"crossing {m.crossing!r} has no channel for any of them, "
                                "so the point controls nobody")
        for field in ("origins", "pass_origins"):
            check_known(f"{where}.{field}", getattr(m, field), origins)
        for name in m.pass_origins:
            if m.origins and name not in m.origins:
                raise ScenarioError(f"{where}.pass_origins", name, f"is not among the origins it controls, {list(m.origins)}")
