"""A border crossing during a run: its controls' booths, check regimes, closures, gates and lanes.

A :class:`Control` owns one booth pool per channel (:mod:`.booths`),
behind a gate where the channel has a release quota or batches
(:mod:`.gates`), and the processes that follow the scenario's one-off lists:
booth schedules, check regimes and closures (for the whole crossing, or for
one channel where the rule names it), and changes of lanes and spacing on the
approach road. A :class:`CrossingPost` is the crossing's own control; the
controls that follow it in series are :class:`StagePost` objects, each with
the holding space before it. Recurring rules arrive here already expanded
into those lists (:mod:`model.scenario.recurring`).
"""

from __future__ import annotations

import numpy as np
import simpy

from ..scenario import MODES, Channel, Crossing, Scenario
from ..scenario.crossings import Stage
from ..scenario.recurring import quota_periods
from .booths import BoothPool, Ticket
from .gates import GatedPool, follow_release
from .holding import HoldingSpace
from .priority import PriorityPool, queue_levels
from .samplers import draw
from .vehicles import with_lengths

__all__ = ["Ticket", "BoothPool", "Control", "StagePost", "CrossingPost", "merge_windows", "random_closure_windows"]


class Control:
    """One control of a crossing (its own booths, or a stage after them): a booth pool per channel, the
    processes that change them (booth schedules, check regimes, closures for all or one channel) and any
    secondary inspection after them."""

    def __init__(self, env: simpy.Environment, scenario: Scenario, crossing: Crossing, spec: Crossing | Stage,
                 on_change, extra_closures=(), stage: str | None = None):
        self.env, self.stage = env, stage
        self.inspectors = self.holding = None  # secondary inspection after this control's booths, if any
        self.not_held_probability: dict[str, tuple[float, float]] = {}  # per mode: P(party not held), P(person not held)
        if spec.inspection is not None:
            self.not_held_probability = {
                mode: (1.0 - getattr(spec.inspection.party_probability, mode), 1.0 - getattr(spec.inspection.person_probability, mode))
                for mode in MODES
            }
            self.inspectors = simpy.Resource(env, spec.inspection.booths)
            self.holding = simpy.Resource(env, spec.inspection.holding_capacity)
        self.pools: dict[str, BoothPool] = {
            mode: _pool(env, scenario, crossing, spec.channel(mode), mode, on_change, stage)
            for mode in MODES if spec.channel(mode) is not None
        }
        regimes = sorted(((scenario.minutes(r.starts), r) for r in spec.regimes), key=lambda x: x[0])
        if regimes:
            env.process(self._follow_regimes(regimes))
        whole = [(scenario.minutes(w.starts), scenario.minutes(w.ends)) for w in spec.closures if w.channel is None]
        self.closure_windows = merge_windows(whole + list(extra_closures))
        scoped = {mode: [(scenario.minutes(w.starts), scenario.minutes(w.ends)) for w in spec.closures if w.channel == mode]
                  for mode in self.pools}
        #: per channel, the windows it is closed in (the control's, and its own)
        self.mode_windows = {mode: merge_windows(self.closure_windows + own) if own else self.closure_windows
                             for mode, own in scoped.items()}
        for mode, pool in self.pools.items():
            steps = [(scenario.minutes(s.at), s.booths) for s in spec.channel(mode).booth_schedule]
            if steps:
                env.process(self._follow_schedule(pool, steps))
        if any(scoped.values()):
            for mode, pool in self.pools.items():
                if self.mode_windows[mode]:
                    env.process(self._follow_closures(self.mode_windows[mode], [pool]))
        elif self.closure_windows:
            env.process(self._follow_closures(self.closure_windows, list(self.pools.values())))

    def _follow_regimes(self, regimes):
        for at, regime in regimes:
            if at > self.env.now:
                yield self.env.timeout(at - self.env.now)
            # the whole control: every channel, over any channel's own regime
            pools = self.ruled_pools(regime.channel)
            for pool in pools:
                pool.service_multiplier, pool.inspection_multiplier = regime.service_multiplier, regime.inspection_multiplier

    def ruled_pools(self, channel: str | None) -> list[BoothPool]:
        """The pools a regime for ``channel`` (None: all) applies to."""
        return [pool for mode, pool in self.pools.items() if channel in (None, mode)]

    def _follow_schedule(self, pool: BoothPool, steps: list[tuple[float, int]]):
        for at, booths in steps:
            if at > self.env.now:
                yield self.env.timeout(at - self.env.now)
            pool.set_booths(booths)

    def _follow_closures(self, windows: list[tuple[float, float]], pools: list[BoothPool]):
        for start, end in windows:
            if end <= self.env.now:
                continue
            if start > self.env.now:
                yield self.env.timeout(start - self.env.now)
            for pool in pools:
                pool.set_closed(True)
            yield self.env.timeout(end - self.env.now)
            for pool in pools:
                pool.set_closed(False)


class StagePost(Control):
    """A control after the crossing's own, with the holding space before it (:class:`HoldingSpace`; None
    per channel where it has no limit)."""

    def __init__(self, env: simpy.Environment, scenario: Scenario, crossing: Crossing, spec: Stage, on_change):
        super().__init__(env, scenario, crossing, spec, on_change, stage=spec.name)
        self.space: dict[str, HoldingSpace | None] = {
            mode: HoldingSpace(env, pool, spec.holding(mode)) if spec.holding(mode) is not None else None
            for mode, pool in self.pools.items()
        }


class CrossingPost(Control):
    """One crossing during a run: its own control (booth pools, regimes, closures, inspection), the lanes of
    its approach road, and the stages that follow it (:class:`StagePost`).

    A priority class with ``form = "own_lane"`` and a vehicle class with ``lane = "own"`` have lanes of their own
    at the crossing's own control (:attr:`own_lanes`, :attr:`vehicle_lanes`): own booths (a fixed number, no
    schedule) and their own queue, reported as channel ``mode@<class>``, closed with the crossing and its channel
    and under its channel's check regimes, with no release gate. A priority lane stands beside the jam (no km), or
    with ``on_road`` is one lane of the approach road (its vehicles at the crossing's spacing);
    a vehicle class's lane is one lane of the approach road, its km = vehicles waiting x ``spacing_m`` (it does
    not follow the approach road's lanes schedule). A party whose priority class has a lane here takes it before
    any vehicle class's lane. Queue reports post each lane's wait apart, and the parties who would take a lane read
    its wait when they choose a crossing (:meth:`channel_of`). Later stages have no such lanes: the party passes them
    in its mode's channel."""

    def __init__(self, env: simpy.Environment, scenario: Scenario, spec: Crossing, on_change, extra_closures=(),
                 on_km_change=None):
        super().__init__(env, scenario, spec, spec, on_change, extra_closures)
        self.spec, self.name = spec, spec.name
        if spec.lanes_schedule:
            env.process(self._follow_lanes([(scenario.minutes(s.at), s) for s in spec.lanes_schedule], on_km_change))
        self.stages = [StagePost(env, scenario, spec, st, on_change) for st in spec.stages]
        #: lanes of their own of priority classes, by (mode, class number): booths and a queue beside the jam
        self.own_lanes: dict[tuple[str, int], BoothPool] = {}
        for k, pc in enumerate(scenario.priority, start=1):
            for mode in self.pools:
                if pc.own_lane_at(self.name, mode):
                    spacing_m, lanes = (spec.spacing_m(mode), 1) if pc.on_road else (0.0, spec.approach_lanes)
                    self.own_lanes[mode, k] = self._lane(env, mode, pc.name, pc.booths, pc.service or spec.channel(mode).service,
                                                         spacing_m, lanes, on_change)
        #: lanes of their own of vehicle classes (lane = "own"), by class number: a lane of the approach road with its
        #: own booths, its queue counted at the class's spacing on that one lane (car parties only)
        self.vehicle_lanes: dict[int, BoothPool] = {}
        if "car" in self.pools:
            for k, vc in enumerate(scenario.vehicle_classes, start=1):
                if vc.own_lane_at(self.name):
                    self.vehicle_lanes[k] = self._lane(env, "car", vc.name, vc.booths, vc.service or spec.channel("car").service,
                                                       vc.spacing_m, 1, on_change)

    def _lane(self, env, mode, name, booths, service, spacing_m, lanes, on_change) -> BoothPool:
        """A lane of its own of class ``name`` at the ``mode`` channel (channel ``mode@name``), closed whenever the
        crossing or that channel is."""
        lane = BoothPool(env, self.name, mode, booths, service, spacing_m, lanes, on_change, label=f"{mode}@{name}")
        if self.mode_windows[mode]:  # the crossing's closures (and its channel's) close the lane too
            env.process(self._follow_closures(self.mode_windows[mode], [lane]))
        return lane

    def ruled_pools(self, channel: str | None) -> list[BoothPool]:
        """As :meth:`Control.ruled_pools`, with the classes' own lanes of those channels (a vehicle class's lane is
        the car channel's: its check regimes apply there too)."""
        return (super().ruled_pools(channel) + [lane for (mode, _), lane in self.own_lanes.items() if channel in (None, mode)]
                + (list(self.vehicle_lanes.values()) if channel in (None, "car") else []))

    def pool_for(self, p) -> BoothPool:
        """The queue party ``p`` joins here: its priority class's own lane if it has one here; else, for a car party,
        its vehicle class's own lane if it has one here (a priority lane takes precedence over a vehicle lane); else
        its mode's channel. Only the crossing's own control has such lanes: at later stages the party queues in its
        mode's channel (:mod:`model.engine.lifecycle`)."""
        if self.own_lanes and (p.mode, p.priority) in self.own_lanes:
            return self.own_lanes[p.mode, p.priority]
        if self.vehicle_lanes and p.mode == "car" and p.vclass in self.vehicle_lanes:
            return self.vehicle_lanes[p.vclass]
        return self.pools[p.mode]

    def lanes(self) -> list[BoothPool]:
        """The classes' lanes of their own here: priority classes', then vehicle classes'."""
        return list(self.own_lanes.values()) + list(self.vehicle_lanes.values())

    def channel_of(self, p) -> str:
        """The channel whose queue party ``p`` would join here, as queue reports name it: its mode's, or its class's
        lane of its own (``mode@<class>``)."""
        return self.pool_for(p).label if self.own_lanes or self.vehicle_lanes else p.mode

    def all_pools(self) -> list[BoothPool]:
        """The pools of every control, in the order parties pass them (a class's own lane after its channel's;
        priority classes' lanes, then vehicle classes')."""
        return [pool for control in [self, *self.stages] for pool in control.pools.values()] + self.lanes()

    def is_closed_at(self, t: float, mode: str | None = None) -> bool:
        """Whether the crossing (or its ``mode`` channel) starts no service at ``t``."""
        return self.reopens_at(t, mode) > t

    def reopens_at(self, t: float, mode: str | None = None) -> float:
        """When the closure in force at ``t`` ends (``t`` itself if the crossing, or its ``mode`` channel, is open then)."""
        for a, b in self.closure_windows if mode is None else self.mode_windows.get(mode, self.closure_windows):
            if a <= t < b:
                return b
        return t

    def _follow_lanes(self, steps, on_km_change):
        """Lanes and spacing change: each waiting vehicle's share of road changes, and the series records it."""
        spec = self.spec
        lanes, spacing = spec.approach_lanes, {"car": spec.car_spacing_m, "bus": spec.bus_spacing_m}
        for at, step in steps:
            if at > self.env.now:
                yield self.env.timeout(at - self.env.now)
            lanes = step.lanes if step.lanes is not None else lanes
            spacing["car"] = step.car_spacing_m if step.car_spacing_m is not None else spacing["car"]
            spacing["bus"] = step.bus_spacing_m if step.bus_spacing_m is not None else spacing["bus"]
            for mode, pool in self.pools.items():
                if mode != "foot":
                    pool.set_km_per_vehicle(spacing[mode] / 1000.0 / lanes)
                    if on_km_change is not None:
                        on_km_change(pool)


def _pool(env: simpy.Environment, scenario: Scenario, spec: Crossing, channel: Channel, mode: str, on_change,
          stage: str | None = None) -> BoothPool:
    """The booths of a ``mode`` channel of crossing ``spec`` (at a later ``stage``: its queue stands in the
    holding space, not on the approach road), behind a gate if the channel has a release quota or batches, serving
    classes in order where some priority class is served first."""
    spacing_m = spec.spacing_m(mode) if stage is None else 0.0
    args = (env, spec.name, mode, channel.booths, channel.service, spacing_m, spec.approach_lanes, on_change)
    label = mode if stage is None else f"{mode}@{stage}"
    release = channel.release
    gated = release is not None and bool(release.quotas or release.batches)
    levels = queue_levels(scenario, spec.name, mode) if scenario.priority and not gated else None
    if gated:
        pool_class, extra = GatedPool, {"batched": bool(release.batches)}
    elif levels is not None:  # some class is served first here (never behind a gate: the scenario refuses it)
        pool_class, extra = PriorityPool, {"levels": levels}
    else:
        pool_class, extra = BoothPool, {}
    if scenario.vehicle_classes and mode == "car" and stage is None:
        # in the car queue on the approach road, other vehicles (trucks...) are measured by their own length
        pool = with_lengths(pool_class)(*args, label=label, **extra)
        pool.lengths = (1.0, *(vc.spacing_m / spec.car_spacing_m for vc in scenario.vehicle_classes))
        pool.services = (None, *(vc.service for vc in scenario.vehicle_classes))
    else:
        pool = pool_class(*args, label=label, **extra)
    if gated:
        quotas = [(scenario.minutes(a), scenario.minutes(b), n) for a, b, n in quota_periods(scenario, release.quotas)]
        follow_release(env, pool, quotas, [(scenario.minutes(b.at), b.parties) for b in release.batches])
    return pool


def merge_windows(windows: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Sorted, non-overlapping (start, end) windows covering the same time as ``windows``."""
    merged: list[tuple[float, float]] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def random_closure_windows(spec: Crossing, horizon_min: float, rng) -> list[tuple[float, float]]:
    """Closure windows of a Poisson process of ``per_day`` closures with random durations."""
    rc = spec.random_closures
    if rc is None:
        return []
    n = rng.poisson(rc.per_day * horizon_min / 1440.0)
    starts = np.sort(rng.uniform(0.0, horizon_min, n))
    hours = draw(rc.duration_h, rng, n)
    return [(float(s), float(s + 60.0 * h)) for s, h in zip(starts, hours)]
