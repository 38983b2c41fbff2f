"""Date-times in a scenario: every unambiguous form, read in the scenario's time zone.

Every date-time field of the schema has the type :data:`DateTime`. It takes a
TOML date-time (local or with an offset) or a string in any ISO 8601 form with
a time: ``2022-09-06T08:00``, ``2022-09-06 08:00``, ``2022-09-06T08:00:00+03:00``,
``...Z``. A date-time without an offset is read in the time zone of the
scenario being validated (:func:`local_zone`, set by the top-level model). A
date alone is refused, since it could mean the start or the end of that day;
so is a number (a count of seconds would silently land in 1970).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, tzinfo
from typing import Annotated, Any

from pydantic import BeforeValidator

__all__ = ["DateTime", "local_zone", "read_datetime"]

_ZONE: ContextVar[tzinfo | None] = ContextVar("scenario_zone", default=None)

#: Date-times outside these years are mistakes (and near year 1 or 9999, shifting a time zone overflows).
FIRST_YEAR, LAST_YEAR = 1900, 2199

_FORMS = "e.g. 2022-09-06T08:00:00, 2022-09-06 08:00 or 2022-09-06T08:00:00+03:00"


@contextmanager
def local_zone(zone: tzinfo | None) -> Iterator[None]:
    """Within this block, date-times without an offset are read in ``zone``."""
    token = _ZONE.set(zone)
    try:
        yield
    finally:
        _ZONE.reset(token)


def _bare_date(day: date) -> str:
    return f"a date-time is needed, e.g. {day.isoformat()}T00:00:00 (a date alone is ambiguous)"


def _to_datetime(value: Any) -> Any:
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, date):
        raise ValueError(_bare_date(value))
    elif isinstance(value, str):
        text = value.strip()
        try:
            day = date.fromisoformat(text)
        except ValueError:
            pass
        else:
            raise ValueError(_bare_date(day))
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"a date-time is needed, {_FORMS}") from None
    elif isinstance(value, (int, float)):
        raise ValueError(f"a date-time is needed, not a number; {_FORMS}")
    else:
        return value  # pydantic names the wrong type
    if not FIRST_YEAR <= when.year <= LAST_YEAR:
        raise ValueError(f"a date-time from {FIRST_YEAR} to {LAST_YEAR} is needed")
    zone = _ZONE.get()
    if when.tzinfo is None and zone is not None:
        when = when.replace(tzinfo=zone)
    return when


def read_datetime(value: Any, zone: tzinfo) -> datetime:
    """``value`` read as a scenario date-time field reads it (e.g. a command-line option); ValueError says why not."""
    with local_zone(zone):
        when = _to_datetime(value)
    if not isinstance(when, datetime):
        raise ValueError(f"a date-time is needed, {_FORMS}")
    return when


#: A date-time field: any unambiguous form; without an offset, in the scenario's time zone.
DateTime = Annotated[datetime, BeforeValidator(_to_datetime)]
