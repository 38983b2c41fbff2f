"""How a crossing is run beyond booths and closures: release quotas and batches, recurring rules, lanes.

* **Release** (:class:`Release`, on a channel): a gate in front of the
  booths. A :class:`Quota` lets at most ``parties`` start service per period
  (local wall-clock periods: a day is local midnight to midnight); a
  :class:`Batch` lets the first ``parties`` then waiting pass the gate at a
  set time (the column then goes through the booths as they free). A channel
  with batches releases no one between them.
* **Recurring rules** (:class:`RecurringBoothStep`, :class:`RecurringClosure`,
  :class:`RecurringRegime`, :class:`RecurringBatch`): a rule at a local time
  of day, on some weekdays, from/until a date-time, expanded at load time
  into the one-off lists (:mod:`.recurring`).
* **Lanes that change** (:class:`LanesStep`): from ``at`` on the queue
  stands in this many lanes (and at this spacing).

Times of day are local wall-clock times in the scenario's time zone, so
"17:00 daily" stays 17:00 across a daylight-saving change. A rule's optional
``channel`` (:data:`ChannelName`) limits it to one channel of the crossing;
the same field is where a rule could later name a stage of controls in series.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from .base import _Part
from .fields import MAX_BOOTHS, MAX_KM, MAX_LIST, MAX_MULTIPLIER, MAX_QUEUE, Label, Real, Whole
from .times import DateTime

__all__ = [
    "TimeOfDay", "WEEKDAYS", "ChannelName", "Quota", "Batch", "RecurringBatch", "Release", "RecurringBoothStep",
    "RecurringClosure", "RecurringRegime", "LanesStep",
]

#: Weekday names as a scenario writes them, Monday first (``datetime.weekday()`` order).
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: A channel a rule may be limited to (absent: the whole crossing).
ChannelName = Literal["car", "bus", "foot"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _time_of_day(value: Any) -> Any:
    if isinstance(value, datetime):
        raise ValueError("a time of day is needed (e.g. \"17:00\"), not a date-time")
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise ValueError("a local time of day is needed, without an offset (it is read in the scenario's time zone)")
        return value
    if isinstance(value, str):
        try:
            when = time.fromisoformat(value.strip())
        except ValueError:
            raise ValueError("a time of day is needed, e.g. \"17:00\" or \"06:30:00\"") from None
        if when.tzinfo is not None:
            raise ValueError("a local time of day is needed, without an offset (it is read in the scenario's time zone)")
        return when
    raise ValueError("a time of day is needed, e.g. \"17:00\" (in quotes) or 17:00:00")


#: A local wall-clock time of day: ``"17:00"``, ``"06:30:00"`` or a TOML local time ``17:00:00``.
TimeOfDay = Annotated[time, BeforeValidator(_time_of_day)]


class _Recurs(_Part):
    """When a recurring rule applies: on these weekdays (all by default), from/until a date-time (the whole run)."""

    weekdays: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS), min_length=1, max_length=7,
                                    description="days (of the local date the rule fires on) it applies: mon ... sun")
    from_: DateTime | None = Field(None, alias="from", description="first date-time it may fire (default: start)")
    until: DateTime | None = Field(None, description="it fires only before this date-time (default: end)")

    @model_validator(mode="after")
    def _bounds(self):
        if self.from_ is not None and self.until is not None and self.until <= self.from_:
            raise ValueError(f"until ({self.until.isoformat()}) must be after from ({self.from_.isoformat()})")
        return self


class Quota(_Recurs):
    """At most ``parties`` start service per period, in local wall-clock periods of ``period_h`` hours from
    local midnight (24: a calendar day, 23 or 25 hours long on a daylight-saving change). The weekdays and
    from/until say which periods have a quota (by the local start of the period); the others have none.
    Unused quota is not carried over."""

    parties: Whole = Field(ge=0, le=MAX_QUEUE, description="parties per period (vehicles for car and bus, groups for foot)")
    period_h: Real = Field(24.0, gt=0, le=24, description="period length in hours; must divide 24 (1, 2, 3, 4, 6, 8, 12, 24 ...)")

    @model_validator(mode="after")
    def _divides_a_day(self):
        per_day = 24.0 / self.period_h
        if abs(per_day - round(per_day)) > 1e-9:
            raise ValueError(f"period_h must divide 24 hours (1, 2, 3, 4, 6, 8, 12, 24 ...), got {self.period_h:g}")
        return self


class Batch(_Part):
    """At ``at`` the gate lets the first ``parties`` then waiting pass to the booths (a column); later arrivals
    wait for the next batch."""

    at: DateTime
    parties: Whole = Field(ge=0, le=MAX_QUEUE, description="parties released at once (vehicles for car and bus, groups for foot)")


class RecurringBatch(_Recurs):
    """A batch at a local time of day, e.g. 250 cars at 17:00 every day."""

    at: TimeOfDay = Field(description="local time of day")
    parties: Whole = Field(ge=0, le=MAX_QUEUE, description="parties released at once (vehicles for car and bus, groups for foot)")


class Release(_Part):
    """The gate in front of a channel's booths: quotas per period and/or batches at set times."""

    quotas: list[Quota] = Field(default_factory=list, max_length=MAX_LIST)
    batches: list[Batch] = Field(default_factory=list, max_length=MAX_LIST)
    recurring_batches: list[RecurringBatch] = Field(default_factory=list, max_length=MAX_LIST)


class RecurringBoothStep(_Recurs):
    """From ``at`` (local time of day) on, this many booths are staffed, e.g. 1 booth from 22:00 each night."""

    at: TimeOfDay = Field(description="local time of day")
    booths: Whole = Field(ge=0, le=MAX_BOOTHS)


class RecurringClosure(_Recurs):
    """A closure from ``starts`` to ``ends`` (local times of day; an end at or before the start is the next day),
    e.g. nights closed 22:00 to 06:00. ``channel`` limits it to one channel."""

    starts: TimeOfDay = Field(description="local time of day the closure starts")
    ends: TimeOfDay = Field(description="local time of day it ends (next day if not after starts)")
    channel: ChannelName | None = Field(None, description="car, bus or foot only (absent: the whole crossing)")
    reason: Label = ""


class RecurringRegime(_Recurs):
    """A check regime in force from ``starts`` (local time of day) on. ``channel`` limits it to one channel."""

    name: Label = ""
    starts: TimeOfDay = Field(description="local time of day")
    channel: ChannelName | None = Field(None, description="car, bus or foot only (absent: the whole crossing)")
    service_multiplier: Real = Field(1.0, gt=0, le=MAX_MULTIPLIER)
    inspection_multiplier: Real = Field(1.0, ge=0, le=MAX_MULTIPLIER, description="scales the inspection probabilities")


class LanesStep(_Part):
    """From ``at`` on, the queue on the approach road stands in ``lanes`` lanes and/or at new spacings
    (a field left out keeps its value); queue km = vehicles x spacing / lanes."""

    at: DateTime
    lanes: Whole | None = Field(None, ge=1, le=100, description="lanes the queue occupies from then on")
    car_spacing_m: Real | None = Field(None, gt=0, le=MAX_KM, description="road length per queued car from then on, metres")
    bus_spacing_m: Real | None = Field(None, gt=0, le=MAX_KM, description="road length per queued bus from then on, metres")

    @model_validator(mode="after")
    def _changes_something(self):
        if self.lanes is None and self.car_spacing_m is None and self.bus_spacing_m is None:
            raise ValueError("give lanes, car_spacing_m or bus_spacing_m (what changes at 'at')")
        return self
