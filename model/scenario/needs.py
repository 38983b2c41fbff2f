"""The needs section of a scenario: what the people in the queue need, as standards that are data.

A queue of thousands on a border road is a temporary settlement without
water, toilets, food or shelter. :class:`Needs` (``[needs]``) holds what a
humanitarian planner multiplies the queue by: the night window (when people
waiting need warmth and somewhere to sleep), the standards per person with
their source (by default the Sphere Handbook 2018: survival and basic water,
food energy, toilets, covered space), any item the user adds (blankets below
a night temperature, a hot drink per person per night), optional shares of
vulnerable people per origin, and the share of those who cross who need a
bed in a reception centre, and for how long.

Each item says what it is multiplied by (its ``basis``):

* ``person_days``: person-days spent waiting that day (person-hours / 24), for what
  is consumed (water, food);
* ``peak_people``: the most people waiting at once that day, for what is installed at
  the crossing (toilets, covered space); over the run the largest day counts;
* ``people_overnight``: people waiting at any moment of that day's night window, for
  what is handed out per night (blankets, hot drinks);
* ``people_in_reception``: people who crossed and sleep in a reception centre that
  night (beds); over the run the largest night counts.

``who`` narrows an item to the people waiting on foot (in the open) rather
than everyone waiting. Every default is such that a scenario without
``[needs]`` loads and runs as before.
"""

from __future__ import annotations

from datetime import date as Date
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from .base import _Part
from .errors import ScenarioError
from .fields import MAX_LIST, MAX_NUMBER, Flag, Label, Name, Real

__all__ = ["Needs", "NeedItem", "PeopleProfile", "OriginProfile", "NightLow", "SPHERE_2018", "BASES"]

#: What an item's quantity is multiplied by (see the module docstring).
BASES = ("person_days", "peak_people", "people_overnight", "people_in_reception")
#: Bases whose quantity over the whole run is the largest day's (installed or occupied), not the sum of days.
CAPACITY_BASES = ("peak_people", "people_in_reception")
#: A night low (degrees C) outside this is a typing mistake on Earth.
MIN_C, MAX_C = -90.0, 60.0
#: Days a person stays in a reception centre: beyond a year it is resettlement, not reception.
MAX_STAY_DAYS = 366.0

_SOURCE = "Sphere Handbook 2018"


def _identifier(text: str) -> str:
    if not text or not (text[0].isascii() and text[0].islower()) or not all(
            ch.isascii() and (ch.islower() or ch.isdigit() or ch == "_") for ch in text):
        raise ValueError("lower-case letters, digits and '_', starting with a letter (it names a CSV column)")
    return text


def _string(value):
    if not isinstance(value, str):
        raise ValueError("a string is needed (in quotes)")
    return value


#: An item's name or unit: part of a column name of needs.csv.
Identifier = Annotated[str, BeforeValidator(_string), Field(min_length=1, max_length=40), AfterValidator(_identifier)]


class NeedItem(_Part):
    """One standard or user item: ``quantity`` ``unit`` per ``per_people`` people on its ``basis``."""

    name: Identifier = Field(description="column name stem in needs.csv, e.g. water_survival (the column is NAME_UNIT)")
    unit: Identifier = Field(description="unit of the quantity, e.g. l, kcal, n (a count), m2")
    label: Label = Field("", description="what a reader calls it, e.g. 'drinking water (survival)'")
    quantity: Real = Field(gt=0, le=MAX_NUMBER, description="amount of the item, in ``unit``, for ``per_people`` people")
    per_people: Real = Field(1.0, gt=0, le=MAX_NUMBER, description="people the quantity serves (50: one toilet per 50 people)")
    basis: Literal["person_days", "peak_people", "people_overnight", "people_in_reception"] = Field(
        description="what the quantity is multiplied by: person-days waiting, the most people waiting at once, "
                    "people waiting overnight, or people in reception overnight")
    who: Literal["all", "on_foot"] = Field("all", description="everyone waiting, or only those waiting on foot (in the open)")
    round_up: Flag = Field(False, description="whole units per crossing and day (toilets, blankets)")
    below_c: Real | None = Field(None, ge=MIN_C, le=MAX_C, description="needed only on nights whose low is below this "
                                 "temperature, degrees C (a night with no low given counts as cold)")
    source: Label = Field("", description="where the standard comes from")

    @property
    def column(self) -> str:
        """The item's column in needs.csv: name and unit, e.g. ``water_survival_l``."""
        return f"{self.name}_{self.unit}"


#: The defaults: Sphere Handbook 2018 minimum standards (survival and basic water, food, toilets, covered space).
SPHERE_2018: tuple[NeedItem, ...] = (
    NeedItem(name="water_survival", unit="l", label="drinking water, survival (3 L per person per day)", quantity=3.0,
             basis="person_days", source=f"{_SOURCE}, WASH, water supply standard 2.1 and appendix: survival needs "
                                          "(drinking and food) 2.5-3 L per person per day; the upper figure"),
    NeedItem(name="water_basic", unit="l", label="water for drinking, cooking and hygiene (15 L per person per day)",
             quantity=15.0, basis="person_days",
             source=f"{_SOURCE}, WASH, water supply standard 2.1: at least 15 L per person per day "
                    "(basic needs 7.5-15 L; the upper figure)"),
    NeedItem(name="food", unit="kcal", label="food energy (2,100 kcal per person per day)", quantity=2100.0,
             basis="person_days", source=f"{_SOURCE}, food security and nutrition, food assistance standard 6.1: "
                                          "planning figure 2,100 kcal per person per day"),
    NeedItem(name="toilets", unit="n", label="toilets (1 per 50 people waiting at the busiest moment)", quantity=1.0,
             per_people=50.0, basis="peak_people", round_up=True,
             source=f"{_SOURCE}, WASH, excreta management standard 3.2: 1 toilet per 50 people at the start of an "
                    "emergency, 1 per 20 later (set per_people = 20 for a queue that lasts)"),
    NeedItem(name="covered_space", unit="m2", label="covered space for people on foot (3.5 m2 per person)",
             quantity=3.5, basis="peak_people", who="on_foot",
             source=f"{_SOURCE}, shelter and settlement standard 3: at least 3.5 m2 of covered living space per "
                    "person; here for those waiting on foot (people in cars and buses have a roof)"),
    NeedItem(name="reception_beds", unit="n", label="beds in reception centres after the crossing", quantity=1.0,
             basis="people_in_reception", round_up=True,
             source=f"{_SOURCE}, shelter and settlement standard 3 (one sleeping place per person); who needs one "
                    "is the scenario's reception_share"),
)


class PeopleProfile(_Part):
    """Who is among the people who leave: shares that overlap (a child may have a disability), and reception."""

    children_share: Real | None = Field(None, ge=0, le=1, description="share of people who are children (under 18)")
    elderly_share: Real | None = Field(None, ge=0, le=1, description="share of people who are elderly (over 60)")
    disability_share: Real | None = Field(None, ge=0, le=1, description="share of people with disabilities")
    reception_share: Real | None = Field(None, ge=0, le=1, description="share of those who cross who need a bed in a "
                                         "reception centre (nowhere else to go)")
    reception_stay_days: Real | None = Field(None, gt=0, le=MAX_STAY_DAYS,
                                             description="days a person stays in a reception centre after crossing")


class OriginProfile(PeopleProfile):
    """:class:`PeopleProfile` of one origin; fields left out take ``[needs.people]``'s."""

    origin: Name = Field(description="an origin's name")


class NightLow(_Part):
    """The lowest temperature of one night, named by the date on whose evening it begins."""

    date: Date
    low_c: Real = Field(ge=MIN_C, le=MAX_C, description="lowest air temperature of the night, degrees C")


#: The shares a profile can give, in the order of the tables.
VULNERABILITY = ("children", "elderly", "disability")


class Needs(_Part):
    """What people waiting need (``[needs]``): the night window, the standards, user items, who is waiting."""

    night_starts_hour: Real = Field(22.0, ge=0, lt=24, description="local hour the night window begins (22 = 22:00)")
    night_ends_hour: Real = Field(6.0, ge=0, lt=24, description="local hour the night window ends, the next morning "
                                  "if earlier than night_starts_hour")
    standards: list[NeedItem] = Field(default_factory=lambda: list(SPHERE_2018), max_length=MAX_LIST,
                                      description="the standards used (default Sphere Handbook 2018); replace to change")
    items: list[NeedItem] = Field(default_factory=list, max_length=MAX_LIST,
                                  description="items added to the standards (blankets, hot drinks)")
    people: PeopleProfile = Field(PeopleProfile(), description="shares for every origin")
    origins: list[OriginProfile] = Field(default_factory=list, max_length=MAX_LIST, description="shares per origin")
    night_lows: list[NightLow] = Field(default_factory=list, max_length=MAX_LIST,
                                       description="night low temperatures, for items with below_c")

    @model_validator(mode="after")
    def _own_rules(self):
        if self.night_starts_hour == self.night_ends_hour:
            raise ValueError("night_starts_hour and night_ends_hour must differ (the night window would be empty)")
        return self

    @property
    def all_items(self) -> list[NeedItem]:
        """The standards, then the user's items."""
        return [*self.standards, *self.items]

    def profile(self, origin: str) -> PeopleProfile:
        """``origin``'s profile: its own fields where given, else ``[needs.people]``'s."""
        own = next((p for p in self.origins if p.origin == origin), None)
        if own is None:
            return self.people
        merged = {f: getattr(own, f) if getattr(own, f) is not None else getattr(self.people, f)
                  for f in PeopleProfile.model_fields}
        return PeopleProfile(**merged)

    def given(self, share: str) -> bool:
        """Whether any origin (or the default) gives ``share`` (e.g. ``children_share``)."""
        return getattr(self.people, share) is not None or any(getattr(p, share) is not None for p in self.origins)

    def night_low(self, day: Date) -> float | None:
        return next((n.low_c for n in self.night_lows if n.date == day), None)

    def check(self, origins: list[str]) -> None:
        """The rules tying ``[needs]`` to the rest of the scenario; ScenarioError with the field path."""
        seen: set[str] = set()
        for i, item in enumerate(self.all_items):
            where = f"needs.{'standards' if i < len(self.standards) else 'items'}" \
                    f"[{i if i < len(self.standards) else i - len(self.standards)}]"
            if item.column in seen:
                raise ScenarioError(f"{where}.name", item.name, f"column {item.column!r} is given twice; names (with "
                                    "units) must be unique across needs.standards and needs.items")
            seen.add(item.column)
        named: set[str] = set()
        for i, p in enumerate(self.origins):
            if p.origin not in origins:
                raise ScenarioError(f"needs.origins[{i}].origin", p.origin, f"must be one of {sorted(origins)}")
            if p.origin in named:
                raise ScenarioError(f"needs.origins[{i}].origin", p.origin, "one [[needs.origins]] per origin")
            named.add(p.origin)
        days: set[Date] = set()
        for i, n in enumerate(self.night_lows):
            if n.date in days:
                raise ScenarioError(f"needs.night_lows[{i}].date", n.date, "one low per night")
            days.add(n.date)
        for name in origins:
            p = self.profile(name)
            if p.reception_share and p.reception_stay_days is None:
                raise ScenarioError("needs.people.reception_stay_days" if not self.origins else
                                    f"needs (origin {name}).reception_stay_days", None,
                                    "a positive reception_share needs reception_stay_days (days in the centre)")
