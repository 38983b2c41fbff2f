"""Priority classes: parties that a crossing serves before the others (officials, local plates, a paid lane).

In the surges of 2022 some parties had a way to the front of the queue. A
:class:`PriorityClass` is a share of the parties leaving some origins in some
modes (from a date-time on) that the booths of some crossings serve first.
Each party eligible for a class is drawn in it once, when it leaves, on a
stream of its own; a party in no class is *regular*.

``form = "same_queue"``: the class waits in the same queue, and when a booth
frees it takes the first party of the highest class waiting (classes rank in
the order listed, the first highest; regular parties last). Service is not
interrupted (non-preemptive).

``form = "own_lane"``: the class has a lane of its own at each crossing and
mode where it is served first: ``booths`` of its own (with the channel's
service, or ``service``) and its own queue, reported as channel
``mode@<class>``. The lane stands beside the jam, so its vehicles are not
added to the approach road's queue km (they are counted as vehicles and
people waiting).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from .base import _Part
from .crossings import ServiceTime, _empty
from .errors import ScenarioError
from .fields import MAX_BOOTHS, MAX_LIST, Name, Real, Whole, class_name_problem
from .operations import ChannelName
from .times import DateTime

__all__ = ["PriorityClass", "check_priority", "PRIORITY_FIELD", "REGULAR"]

#: The field of the scenario that lists the classes.
PRIORITY_FIELD = "priority"
#: What a party in no class is called in the tables and key figures (so no class may take the name).
REGULAR = "regular"


class PriorityClass(_Part):
    """A share of parties served first at some crossings (see the module docstring)."""

    name: Name = Field(description="the class, e.g. 'officials'; used in key-figure names (wait_mean_h_officials)")
    share: Real = Field(ge=0, le=1, description="share of the parties it applies to that are in the class, drawn per party")
    origins: list[Name] = Field(default_factory=list, max_length=MAX_LIST, exclude_if=_empty,
                                description="parties from these origins only (empty: every origin)")
    modes: list[ChannelName] = Field(default_factory=lambda: ["car", "bus", "foot"], max_length=3,
                                     description="the modes it applies to; also the channels where it is served first")
    from_: DateTime | None = Field(None, alias="from", description="parties departing from then on (absent: all)")
    crossings: list[Name] = Field(default_factory=list, max_length=MAX_LIST, exclude_if=_empty,
                                  description="crossings that serve it first (empty: all); elsewhere it queues as regular")
    form: Literal["same_queue", "own_lane"] = Field("same_queue", description="same_queue: served before lower classes "
                                                    "when a booth frees (non-preemptive); own_lane: booths and a queue of its own")
    booths: Whole | None = Field(None, ge=1, le=MAX_BOOTHS, description="own_lane: its booths at each crossing and mode")
    service: ServiceTime | None = Field(None, description="own_lane: service at its booths (absent: the channel's)")

    @model_validator(mode="after")
    def _well_formed(self):
        problem = class_name_problem(self.name)
        if problem:
            raise ValueError(problem)
        if not self.modes:
            raise ValueError("modes must name at least one of car, bus, foot")
        if len(set(self.modes)) != len(self.modes):
            raise ValueError(f"modes {self.modes} names a mode twice")
        if self.form == "own_lane" and self.booths is None:
            raise ValueError("form 'own_lane' needs booths: how many booths the lane of its own has at each crossing")
        if self.form == "same_queue" and (self.booths is not None or self.service is not None):
            raise ValueError("booths and service are for form 'own_lane'; a same_queue class uses the channel's booths")
        return self

    def applies_to(self, origin: str, mode: str, departed_at_min: float, from_min: float | None) -> bool:
        """Whether a party of ``origin`` and ``mode`` departing at ``departed_at_min`` may be drawn in the class."""
        return ((not self.origins or origin in self.origins) and mode in self.modes
                and (from_min is None or departed_at_min >= from_min))

    def served_first_at(self, crossing: str, mode: str) -> bool:
        """Whether the ``mode`` channel of ``crossing`` serves the class before lower ones (or in a lane of its own)."""
        return (not self.crossings or crossing in self.crossings) and mode in self.modes

    def in_queue_at(self, crossing: str, mode: str) -> bool:
        """Whether the class goes first in the shared queue of the ``mode`` channel of ``crossing``."""
        return self.form == "same_queue" and self.served_first_at(crossing, mode)

    def own_lane_at(self, crossing: str, mode: str) -> bool:
        """Whether the class has a lane of its own at the ``mode`` channel of ``crossing``."""
        return self.form == "own_lane" and self.served_first_at(crossing, mode)


def check_priority(s: Any) -> None:
    """Names unique; origins and crossings exist; each class is served first somewhere; its channels have no
    release gate (a gate's batches pass in queue order, which priority would contradict); and the shares of the
    classes that can apply to one party sum to at most 1 (one draw per party decides its class)."""
    crossings = {c.name: c for c in s.crossings}
    origins = {o.name for o in s.origins}
    seen: set[str] = set()
    for k, pc in enumerate(s.priority):
        where = f"{PRIORITY_FIELD}[{pc.name}]"
        if pc.name in seen:
            raise ScenarioError(f"{where}.name", pc.name, "names of priority classes must be unique")
        seen.add(pc.name)
        for name in pc.origins:
            if name not in origins:
                raise ScenarioError(f"{where}.origins", name, f"must be one of {sorted(origins)}")
        for name in pc.crossings:
            if name not in crossings:
                raise ScenarioError(f"{where}.crossings", name, f"must be one of {sorted(crossings)}")
        served = [(c, mode) for c in s.crossings for mode in pc.modes
                  if pc.served_first_at(c.name, mode) and c.channel(mode) is not None]
        if not served:
            raise ScenarioError(f"{where}.modes", list(pc.modes), "no crossing it names has a channel for any of them, "
                                "so the class is served first nowhere")
        for c, mode in served if pc.form == "same_queue" else ():  # an own lane has no gate of its own
            for control, spec in [(c.name, c), *((f"{c.name}.stages[{st.name}]", st) for st in c.stages)]:
                channel = spec.channel(mode)
                if channel is not None and channel.release is not None and (channel.release.quotas or channel.release.batches):
                    raise ScenarioError(f"{where}.crossings", c.name, f"{control}.{mode} has a release gate (quotas or "
                                        "batches); priority behind a gate is not supported: leave that crossing or mode out")
    for o in s.origins:
        for mode in ("car", "bus", "foot"):
            total = sum(pc.share for pc in s.priority if pc.applies_to(o.name, mode, 0.0, None))
            if total > 1 + 1e-9:
                raise ScenarioError(f"{PRIORITY_FIELD}.share", round(total, 6), f"the classes that apply to {mode} "
                                    f"parties from {o.name!r} have shares summing above 1")
