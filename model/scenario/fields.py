"""The value types of the schema: finite numbers, whole counts, true/false, names and text, with their limits.

Every number a scenario gives is finite: ``inf`` and ``nan`` have no meaning in
any field (a NaN even slips through "sums to 1" checks), so :data:`Real` refuses
them, and refuses true/false and strings (TOML writes numbers without quotes).
Counts are :data:`Whole`: an integer, or a float with no fractional part (``3.0``
from a sweep), never ``true`` (read as 1) or ``1.5``. Names and text refuse
control and invisible characters (a newline in a name would break every
one-line message and every CSV), and are of bounded length.

The upper limits below are where a value stops being a scenario and becomes
a mistake or an attack: far above anything real, low enough that no product
of them overflows a float. Each is a module constant with its reason, used
through ``Field(le=...)`` so that the error names it. What a run needs in
memory and time is judged separately, before the run (``model.experiments.estimate``).
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StrictBool

__all__ = [
    "Real", "Whole", "Flag", "Name", "Label", "Text", "ScenarioName", "Latitude", "Longitude", "LatLon",
    "MAX_NUMBER", "MAX_PEOPLE", "MAX_RATE", "MAX_BOOTHS", "MAX_PARTY", "MAX_QUEUE", "MAX_MINUTES", "MAX_HOURS",
    "MAX_KM", "MAX_MULTIPLIER", "MAX_LIST", "MAX_PERIOD_DAYS", "MAX_POINTS", "MAX_SEED", "MIN_RATE",
    "TAKEN_CLASS_NAMES", "class_name_problem",
]

#: Any number in a distribution (hours, km/h, people, km): far above any real value, far below overflow.
MAX_NUMBER = 1e9
#: People leaving one origin: more than any country's population.
MAX_PEOPLE = 1e9
#: A departure rate, people per hour.
MAX_RATE = 1e9
#: A positive departure rate below this is a unit mistake; rescaling to ``people`` would overflow.
MIN_RATE = 1e-6
#: Booths (or inspectors) of one channel: the largest land crossings have a few hundred lanes.
MAX_BOOTHS = 1000
#: People in one party (a car, a group, a bus), and seats in a bus.
MAX_PARTY = 10_000
#: Parties already waiting in one queue at the start.
MAX_QUEUE = 100_000_000
#: A time in minutes (service, headway, report interval or delay): a week.
MAX_MINUTES = 10_080.0
#: A time in hours (closure hold, clearance hold): a year.
MAX_HOURS = 8_784.0
#: A length (a road in km, a jam spacing in m): far past any unit mistake, which only gets a warning.
MAX_KM = 1e7
#: A multiplier of rates, service times or probabilities.
MAX_MULTIPLIER = 1000.0
#: Items in one list of a scenario (breakpoints, steps, closures, timetable entries, values).
MAX_LIST = 10_000
#: [lat, lon] points of one line on the map (a border, a route's path).
MAX_POINTS = 100_000
#: The longest period a scenario may cover: a surge lasts days to months.
MAX_PERIOD_DAYS = 3660
#: The random seed: numpy takes any size, but a seed is a 64-bit number.
MAX_SEED = 2**63 - 1


def _real(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a number is needed, not true/false")
    if isinstance(value, str):
        raise ValueError("a number is needed, not a string (write it without quotes)")
    if isinstance(value, int) and abs(value) > 1e300:
        raise ValueError("a finite number of reasonable size is needed")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("a finite number is needed (inf and nan mean nothing here)")
    return value


def _whole(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("an integer (a whole number) is needed, not true/false")
    if isinstance(value, str):
        raise ValueError("an integer (a whole number) is needed, not a string (write it without quotes)")
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise ValueError("an integer (a whole number) is needed")
        if abs(value) > 2**63:
            raise ValueError("an integer of reasonable size is needed")
        return int(value)
    return value


#: A finite number: no inf, nan, true/false or string.
Real = Annotated[float, BeforeValidator(_real)]
#: A whole number (a count): an integer or an integral float; no true/false, 1.5 or string.
Whole = Annotated[int, BeforeValidator(_whole)]
#: true or false, nothing else (not 1, not "yes").
Flag = StrictBool


def _no_hidden(text: str, allow: str = "") -> str:
    for ch in text:
        if ch not in allow and unicodedata.category(ch)[0] == "C":
            raise ValueError(f"control or invisible character {ch!r} not allowed")
    return text


def _name(text: str) -> str:
    _no_hidden(text)
    if text != text.strip():
        raise ValueError("no spaces at the start or end of a name")
    return text


def _string(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("a string is needed (in quotes)")
    return value


#: A place's name (origins, crossings and the names that refer to them): one printable line.
Name = Annotated[str, BeforeValidator(_string), Field(min_length=1, max_length=100), AfterValidator(_name)]
#: A short label that may be empty (a regime's name, a closure's reason).
Label = Annotated[str, BeforeValidator(_string), Field(max_length=200), AfterValidator(_no_hidden)]
#: Free text over several lines (a description).
Text = Annotated[str, BeforeValidator(_string), Field(max_length=20_000),
                 AfterValidator(lambda t: _no_hidden(t, "\n\t"))]

_SCENARIO_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


def _scenario_name(text: str) -> str:
    if not _SCENARIO_NAME.fullmatch(text):  # starts with a letter or digit: never "." or ".."
        raise ValueError("a name for run folders: 1-100 letters, digits, '_', '-' or '.', starting with a letter "
                         "or digit (no '/', no '..')")
    return text


#: The scenario's name, used in run-folder names: never a path.
ScenarioName = Annotated[str, BeforeValidator(_string), AfterValidator(_scenario_name)]

Latitude = Annotated[float, BeforeValidator(_real), Field(ge=-90, le=90)]
Longitude = Annotated[float, BeforeValidator(_real), Field(ge=-180, le=180)]
#: A [lat, lon] point on the map.
LatLon = tuple[Latitude, Longitude]


#: A class name that becomes part of key-figure names (``wait_mean_h_<name>``): a short identifier.
_FIGURE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}")
#: Names a class may not take: parties in no priority class are ``regular``; the modes have figures of their own.
TAKEN_CLASS_NAMES = ("regular", "car", "bus", "foot")


def class_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a priority or vehicle class (None if it can)."""
    if not _FIGURE_NAME.fullmatch(name):
        return (f"name {name!r} must be a short identifier (a letter, then letters, digits or _; at most 40): it becomes "
                "part of key-figure names")
    if name in TAKEN_CLASS_NAMES:
        return (f"name {name!r} is taken ('regular': parties in no priority class; car, bus, foot: the modes, whose waits "
                "have figures of that name); choose another")
    return None

