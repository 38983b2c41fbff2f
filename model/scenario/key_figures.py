"""The key-figure section of a scenario: definitions of key figures that are choices, as settings.

Some key figures need a rule that no measurement fixes, such as when a queue
counts as cleared. :class:`KeyFigureRules` holds those rules so that a scenario
states them and a run folder records them; the analysis layer computes the
figures from them.
"""

from __future__ import annotations

from pydantic import Field

from .base import _Part
from .fields import MAX_HOURS, MAX_PEOPLE, Real

__all__ = ["KeyFigureRules"]


class KeyFigureRules(_Part):
    """Rules that define key figures (``[key_figures]``)."""

    clearance_people: Real = Field(
        50.0, gt=0, le=MAX_PEOPLE,
        description="a crossing's surge queue counts as cleared once fewer than this many people wait there "
                    "(all channels together) and stay fewer for clearance_hold_h hours",
    )
    clearance_hold_h: Real = Field(
        6.0, gt=0, le=MAX_HOURS,
        description="a cleared queue has fewer than clearance_people waiting and stays fewer for at least this many hours",
    )
