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
people waiting); with ``on_road = true`` it is a lane of the approach road
of its own instead, its vehicles at the crossing's spacing, in the km.

A class's ``share`` is a number, or a distribution when it is uncertain: a
distribution is drawn once per replication (the same all run long) on a
stream of its own, so replications spread over the range. ``shares`` gives
another share to some origins and modes (:class:`ClassShare`, the first that
matches).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Field, TypeAdapter, WrapValidator, model_validator

from .base import _Part
from .crossings import ServiceTime, _empty
from .distributions import DistributionSpec, _Spec, support
from .errors import ScenarioError, check_known
from .fields import MAX_BOOTHS, MAX_LIST, Name, Real, Whole, class_name_problem
from .operations import ChannelName
from .times import DateTime

__all__ = ["PriorityClass", "ClassShare", "Share", "share_range", "check_priority", "PRIORITY_FIELD", "REGULAR"]

#: The field of the scenario that lists the classes.
PRIORITY_FIELD = "priority"
#: What a party in no class is called in the tables and key figures (so no class may take the name).
REGULAR = "regular"

#: What a share may be, for the messages.
_SHARE_ALLOWED = ("a share is a number from 0 to 1, or a distribution inside [0, 1]: fixed, uniform, triangular or "
                  "discrete (e.g. { dist = \"uniform\", low = 0.02, high = 0.08 })")
_NUMBER = TypeAdapter(Real)
_DISTRIBUTION = TypeAdapter(DistributionSpec)


def _share(value: Any, handler: Any) -> Any:
    """A number from 0 to 1, or a distribution spec (its support is checked with the scenario, by
    :func:`check_priority`, so that the message names the class). Parsed here rather than as a plain union so
    that an error points at ``share`` itself, not at a member of the union."""
    if isinstance(value, _Spec):
        return value
    if isinstance(value, dict):
        return _DISTRIBUTION.validate_python(value)
    number = _NUMBER.validate_python(value)
    if not 0 <= number <= 1:
        raise ValueError(_SHARE_ALLOWED)
    return number


#: A share of parties: a number from 0 to 1, or a distribution drawn once per replication.
Share = Annotated[Union[Real, DistributionSpec], WrapValidator(_share)]


def share_range(share: float | Any) -> tuple[float, float] | None:
    """The least and the greatest value ``share`` can take (a number: itself); None for a family whose values
    have no upper bound (exponential, lognormal, gamma)."""
    return (float(share), float(share)) if isinstance(share, (int, float)) else support(share)


_SHARE_HELP = ("share of the parties it applies to that are in the class, drawn per party: a number from 0 to 1, or, "
               "when uncertain, a distribution drawn once per replication (the same all run long) whose values lie "
               "in [0, 1]: fixed, uniform, triangular or discrete (exponential, lognormal and gamma are refused: "
               "they reach above 1, and clipping would change their mean)")


class ClassShare(_Part):
    """Another share of a class for some origins and modes: the first of a class's ``shares`` that matches a
    party gives its share; a party none matches has the class's ``share``."""

    origins: list[Name] = Field(default_factory=list, max_length=MAX_LIST, exclude_if=_empty,
                                description="parties from these origins (empty: every origin the class applies to)")
    modes: list[ChannelName] = Field(default_factory=list, max_length=3, exclude_if=_empty,
                                     description="parties in these modes (empty: every mode of the class)")
    share: Share = Field(description=_SHARE_HELP)

    def matches(self, origin: str, mode: str) -> bool:
        """Whether the override applies to parties of ``origin`` in ``mode``."""
        return (not self.origins or origin in self.origins) and (not self.modes or mode in self.modes)


class PriorityClass(_Part):
    """A share of parties served first at some crossings (see the module docstring)."""

    name: Name = Field(description="the class, e.g. 'officials'; used in key-figure names (wait_mean_h_officials)")
    share: Share = Field(description=_SHARE_HELP)
    shares: list[ClassShare] = Field(default_factory=list, max_length=MAX_LIST, exclude_if=_empty,
                                     description="other shares for some origins and modes (the first that matches "
                                     "a party; none: the class's share)")
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
    on_road: bool = Field(False, exclude_if=lambda v: not v,
                          description="own_lane: its queue stands in a lane of the approach road of its own, one vehicle "
                          "per the crossing's spacing, and counts in the queue km (false: a reserved lane beside the jam, "
                          "no km)")

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
        if self.form == "same_queue" and (self.booths is not None or self.service is not None or self.on_road):
            raise ValueError("booths, service and on_road are for form 'own_lane'; a same_queue class uses the channel's "
                             "booths and queue")
        return self

    def applies_to(self, origin: str, mode: str, departed_at_min: float, from_min: float | None) -> bool:
        """Whether a party of ``origin`` and ``mode`` departing at ``departed_at_min`` may be drawn in the class."""
        return ((not self.origins or origin in self.origins) and mode in self.modes
                and (from_min is None or departed_at_min >= from_min))

    def share_for(self, origin: str, mode: str) -> float | Any:
        """The share (a number or a distribution) of parties of ``origin`` in ``mode``: the first of ``shares``
        that matches, else ``share``."""
        return next((o.share for o in self.shares if o.matches(origin, mode)), self.share)

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
    release gate (a gate's batches pass in queue order, which priority would contradict); its shares lie in
    [0, 1] and its overrides name its own origins and modes; and the shares of the classes that can apply to one
    party sum to at most 1 (one draw per party decides its class), each at the greatest value it can take for
    that party's origin and mode (its override's, if one matches)."""
    crossings = {c.name: c for c in s.crossings}
    origins = {o.name for o in s.origins}
    seen: set[str] = set()
    for k, pc in enumerate(s.priority):
        where = f"{PRIORITY_FIELD}[{pc.name}]"
        if pc.name in seen:
            raise ScenarioError(f"{where}.name", pc.name, "names of priority classes must be unique")
        seen.add(pc.name)
        check_known(f"{where}.origins", pc.origins, origins)
        check_known(f"{where}.crossings", pc.crossings, crossings)
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
        _check_shares(pc, where, origins)
    for o in s.origins:
        for mode in ("car", "bus", "foot"):
            total = sum(share_range(pc.share_for(o.name, mode))[1] for pc in s.priority
                        if pc.applies_to(o.name, mode, 0.0, None))
            if total > 1 + 1e-9:
                raise ScenarioError(f"{PRIORITY_FIELD}.share", round(total, 6), f"the classes that apply to {mode} "
                                    f"parties from {o.name!r} have shares summing above 1 (a distribution counts "
                                    "with its greatest value)")


def _check_shares(pc: PriorityClass, where: str, origins: set[str]) -> None:
    """Each share of ``pc`` a number or a distribution inside [0, 1]; its overrides' origins exist (and are the
    class's, if it names some) and their modes are the class's."""
    for field, share in [(f"{where}.share", pc.share), *((f"{where}.shares[{i}].share", o.share)
                                                          for i, o in enumerate(pc.shares))]:
        support = share_range(share)
        if support is None or support[1] > 1:
            shown = share.model_dump(by_alias=True) if isinstance(share, _Spec) else share
            reach = "has no upper bound" if support is None else f"reaches {support[1]:g}"
            kind = f"a {share.dist} share" if isinstance(share, _Spec) else "the share"
            raise ScenarioError(field, shown, f"{kind} {reach}; {_SHARE_ALLOWED}")
    for i, o in enumerate(pc.shares):
        allowed = pc.origins or sorted(origins)
        for name in o.origins:
            if name not in allowed:
                raise ScenarioError(f"{where}.shares[{i}].origins", name, f"must be one of {allowed}"
                                    + (" (the class's origins)" if pc.origins else ""))
        for mode in o.modes:
            if mode not in pc.modes:
                raise ScenarioError(f"{where}.shares[{i}].modes", mode, f"must be one of the class's modes {list(pc.modes)}")
        if len(set(o.modes)) != len(o.modes):
            raise ScenarioError(f"{where}.shares[{i}].modes", list(o.modes), "names a mode twice")
