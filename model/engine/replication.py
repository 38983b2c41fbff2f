"""One replication of the surge: build the crossings, release the parties, run to the end.

``run_replication(scenario, replication)`` is a pure function: the same
scenario and replication number give the same records, with no file, chart or
console work. The life of a party is :meth:`Surge.party`, which reads in the
order of the real process: depart, choose a crossing, travel, join the queue
(or balk), wait (or renege: divert, walk, give up), be served, maybe be held
for secondary inspection, cross.
"""

from __future__ import annotations

import bisect
import gc
import logging
import math
from dataclasses import dataclass
from functools import partial
from typing import Callable

import numpy as np
import simpy

from ..scenario import MODES, BusService, Origin, Route, Scenario, haversine_km
from .arrivals import party_sizes, sample_departures
from .crossing import BoothPool, CrossingPost, random_closure_windows
from .entities import Party
from .process import start
from .records import QueueLog, RunRecords
from .samplers import UNIT_UNIFORM, draw, make_sampler, unit_mean_spec
from .streams import StreamId, stream

__all__ = ["simulate_replication", "Surge"]

log = logging.getLogger(__name__)
INF = math.inf


@dataclass(frozen=True)
class _RouteState:
    """A route as the engine uses it: times in minutes, a draw of its speed or travel time."""

    spec: Route
    closed_from: float
    closed_until: float
    length_steps: list[tuple[float, float]]  # (from minute, road km), sorted
    draw: Callable[[], float]  # speed (km/h) or travel time (h)
    mean: float  # of the draw
    by_speed: bool

    def road_km(self, t: float) -> float:
        km = self.spec.road_km
        for start, length in self.length_steps:
            if t >= start:
                km = length
        return km

    def is_closed(self, t: float) -> bool:
        return self.closed_from <= t < self.closed_until

    def expected_travel_min(self, t: float) -> float:
        return self.road_km(t) / self.mean * 60.0 if self.by_speed else self.mean * 60.0

    def travel_min(self, t: float, mode: str, walk_kmh: Callable[[], float]) -> float:
        if mode == "foot":
            return self.road_km(t) / max(walk_kmh(), 1e-6) * 60.0
        if self.by_speed:
            return self.road_km(t) / max(self.draw(), 1e-6) * 60.0
        return self.draw() * 60.0


class Surge:
    """The state of one replication: environment, crossings, routes, samplers and logs."""

    def __init__(self, scenario: Scenario, replication: int):
        self.scenario, self.replication = scenario, replication
        self.env = simpy.Environment()
        seed = scenario.seed
        self.queue_log = QueueLog([c.name for c in scenario.crossings])
        self.posts = {
            c.name: CrossingPost(
                self.env, scenario, c, self.queue_log.record,
                random_closure_windows(c, scenario.horizon_min, stream(seed, replication, StreamId.RANDOM_CLOSURES, c.name)),
            )
            for c in scenario.crossings
        }
        for post in self.posts.values():
            for pool in post.pools.values():
                self.queue_log.register(pool)
        self.origins = {o.name: o for o in scenario.origins}
        self.parties: list[Party] = []
        self.buses: list[Party] = []
        self.bus_stops: dict[str, list[Party]] = {o.name: [] for o in scenario.origins}
        self._bus_waiting_people = {o.name: 0 for o in scenario.origins}
        self._bus_signal = {o.name: self.env.event() for o in scenario.origins}
        self.routes: dict[str, dict[str, _RouteState]] = {o.name: {} for o in scenario.origins}
        for r in scenario.routes:
            by_speed = r.speed_kmh is not None
            time_spec = r.speed_kmh if by_speed else r.travel_time_h
            self.routes[r.origin][r.crossing] = _RouteState(
                spec=r,
                closed_from=scenario.minutes(r.closed_from) if r.closed_from else (0.0 if r.closed_until else INF),
                closed_until=scenario.minutes(r.closed_until) if r.closed_until else INF,
                length_steps=[(scenario.minutes(x.starts), x.road_km) for x in r.lengthened],
                draw=make_sampler(time_spec, stream(seed, replication, StreamId.TRAVEL, r.origin, r.crossing)),
                mean=time_spec.mean,
                by_speed=by_speed,
            )
        self._route_options = {
            (o, mode): [(name, r, self.posts[name]) for name, r in routes.items() if mode in self.posts[name].pools]
            for o, routes in self.routes.items()
            for mode in MODES
        }
        self._only_route = {  # a single route that can never close: no choice to make
            key: options[0][0]
            for key, options in self._route_options.items()
            if len(options) == 1 and options[0][1].closed_from == INF and not options[0][2].closure_windows
        }
        self.walk_speed = make_sampler(scenario.walking.walk_speed_kmh, stream(seed, replication, StreamId.TRAVEL, "walking"))
        self.diversion_speed = make_sampler(
            scenario.behaviour.diversion_speed_kmh, stream(seed, replication, StreamId.DIVERSION_TRAVEL)
        )
        for c in scenario.crossings:
            for mode, pool in self.posts[c.name].pools.items():
                pool.service_factor = make_sampler(
                    unit_mean_spec(pool.service.dist, pool.service.cv), stream(seed, replication, StreamId.SERVICE, c.name, mode)
                )
        self.draw_renege = make_sampler(UNIT_UNIFORM, stream(seed, replication, StreamId.RENEGING, "renege"))
        self.draw_inspect = make_sampler(UNIT_UNIFORM, stream(seed, replication, StreamId.INSPECTION_DRAW, "inspect"))
        self.choice_uniform = {
            o.name: make_sampler(UNIT_UNIFORM, stream(seed, replication, StreamId.CHOICE, o.name)) for o in scenario.origins
        }
        self.inspection_time = {
            c.name: make_sampler(c.inspection.time_h, stream(seed, replication, StreamId.INSPECTION_TIME, c.name))
            for c in scenario.crossings
            if c.inspection is not None
        }
        self._next_id = 0
        self._report_times: list[float] = []  # when each report was posted
        self._reports: list[dict[tuple[str, str], float]] = []  # wait (h) per (crossing, channel), per report
        self._needs_reports = any(o.choice.method == "informed" for o in scenario.origins) or any(
            scenario.behaviour.mode(m).renege.divert > 0
            or scenario.behaviour.mode(m).balk_queue_km is not None
            or scenario.behaviour.mode(m).balk_queue_people is not None
            for m in MODES
        )

    # --- the life of one party --------------------------------------------------------------

    def party(self, p: Party, crossing: str | None = None):
        """Depart, travel, queue, be served, cross: the lifecycle of one party (or one bus)."""
        env = self.env
        excluded: tuple[str, ...] = ()
        while crossing is None:  # leave home: pick a route and drive (or walk) it
            crossing = self._choose_route(p, excluded)
            if crossing is None:
                return self._give_up(p)
            p.first_crossing = p.first_crossing or crossing
            route = self.routes[p.origin][crossing]
            now = env.now
            road_cut = route.is_closed(now)
            travel_min = route.travel_min(now, p.mode, self.walk_speed)
            if travel_min > 0:
                yield env.timeout(travel_min)
            if road_cut:  # out to the cut and back again, then choose anew
                p.reroutes += 1
                excluded, crossing = excluded + (crossing,), None
        p.first_crossing = p.first_crossing or crossing
        p.arrived_at = env.now
        while True:
            post = self.posts[crossing]
            pool = post.pools[p.mode]
            p.crossing = crossing
            if (p.balk_km < INF or p.balk_people < INF) and self._balks(p, pool):
                crossing = yield from self._divert(p, crossing)
                if crossing is None:
                    return self._give_up(p)
                p.arrived_at = env.now
                continue
            p.outcome = "waiting_at_end"
            turn = pool.join(p)
            if turn is None or (yield turn):  # a booth was free, or took the party before its patience ran out
                break
            action = self._renege_action(p)
            if action == "walk" and "foot" in post.pools:
                p.mode, p.walked, p.patience_min, p.balk_people = "foot", True, INF, INF
                continue
            if action == "divert":
                crossing = yield from self._divert(p, crossing)
                if crossing is not None:
                    p.arrived_at = env.now
                    continue
            return self._give_up(p)

        p.service_start_at = env.now
        service = pool.service
        mean_min = service.per_vehicle_min + service.per_person_min * p.people
        yield env.timeout(mean_min * post.service_multiplier * pool.service_factor())
        if post.inspectors is not None and self._held_for_inspection(p, post):
            p.inspected = True
            slot = post.holding.request()
            yield slot  # the booth stays blocked until the holding area has room
            pool.release()
            with post.inspectors.request() as inspector:
                yield inspector
                yield env.timeout(self.inspection_time[crossing]() * 60.0)
            post.holding.release(slot)
        else:
            pool.release()
        p.crossed_at = env.now
        p.outcome = "crossed"

    # --- decisions --------------------------------------------------------------------------

    def _choose_route(self, p: Party, excluded: tuple[str, ...]) -> str | None:
        """A crossing for party ``p`` leaving its origin now, by fixed shares or informed logit."""
        draw = self.choice_uniform[p.origin]()  # drawn even when there is no choice: common random numbers
        key = (p.origin, p.mode)
        only = self._only_route.get(key)
        if only is not None and not excluded:
            return only
        origin, mode = self.origins[p.origin], p.mode
        now = self.env.now
        known = now - self.scenario.information.closure_known_after_min
        options = [
            (name, r)
            for name, r, post in self._route_options[key]
            if not (name in excluded or r.is_closed(known) or post.is_closed_at(known))
        ]
        if not options:
            return None
        if len(options) == 1:
            return options[0][0]
        if origin.choice.method == "shares":
            weights = [r.spec.share or 0.0 for _, r in options]
            if sum(weights) <= 0:
                weights = [1.0] * len(options)
        else:
            waits = self._known_waits_h()
            costs_h = [r.expected_travel_min(now) / 60.0 + waits.get((name, mode), 0.0) for name, r in options]
            weights = _logit_weights(costs_h, origin.choice.logit_scale_per_h)
        return options[_pick(weights, draw)][0]

    def _divert(self, p: Party, here: str):
        """Drive on to another crossing chosen on reported waits; None if there is none or too many tries."""
        behaviour = self.scenario.behaviour
        if p.diversions >= behaviour.max_diversions:
            return None
        now = self.env.now
        known = now - self.scenario.information.closure_known_after_min
        here_spec = self.posts[here].spec
        options, costs_h = [], []
        waits = self._known_waits_h()
        for name, post in self.posts.items():
            if name == here or p.mode not in post.pools or post.is_closed_at(known):
                continue
            km = haversine_km(here_spec.lat, here_spec.lon, post.spec.lat, post.spec.lon) * behaviour.diversion_road_factor
            speed = behaviour.diversion_speed_kmh.mean if p.mode != "foot" else self.scenario.walking.walk_speed_kmh.mean
            options.append((name, km))
            costs_h.append(km / speed + waits.get((name, p.mode), 0.0))
        if not options:
            return None
        scale = self.origins[p.origin].choice.logit_scale_per_h
        name, km = options[_pick(_logit_weights(costs_h, scale), self.choice_uniform[p.origin]())]
        speed = self.diversion_speed() if p.mode != "foot" else self.walk_speed()
        p.diversions += 1
        p.outcome = "travelling_at_end"
        yield self.env.timeout(km / max(speed, 1e-6) * 60.0)
        return name

    def _balks(self, p: Party, pool: BoothPool) -> bool:
        if p.mode == "foot":
            return pool.people_waiting > p.balk_people
        return pool.queue_km > p.balk_km

    def _renege_action(self, p: Party) -> str:
        renege = self.scenario.behaviour.mode(p.mode).renege
        u = self.draw_renege()
        if u < renege.divert:
            return "divert"
        if u < renege.divert + renege.walk:
            return "walk"
        return "give_up"

    def _held_for_inspection(self, p: Party, post: CrossingPost) -> bool:
        multiplier = post.inspection_multiplier
        if multiplier <= 0:
            return False
        party_free, person_free = post.not_held_probability[p.mode]
        prob = 1.0 - party_free * person_free ** p.people
        return self.draw_inspect() < min(1.0, prob * multiplier)

    def _give_up(self, p: Party) -> None:
        p.outcome = "gave_up"
        p.gave_up_at = self.env.now

    # --- queue reports ----------------------------------------------------------------------

    def _known_waits_h(self) -> dict[tuple[str, str], float]:
        """Expected wait (hours) per (crossing, channel) as people read it now: the latest report that
        has reached them; empty (no wait expected) before the first one or with information off."""
        if not self.scenario.information.enabled:
            return _NO_REPORT
        i = bisect.bisect_right(self._report_times, self.env.now - self.scenario.information.delay_min) - 1
        return self._reports[i] if i >= 0 else _NO_REPORT

    def _publish_reports(self):
        """Every few minutes, post each crossing's queue and the wait it implies."""
        while True:
            snapshot = {}
            for name, post in self.posts.items():
                mult = post.service_multiplier
                for mode, pool in post.pools.items():
                    service = pool.service
                    work_min = (service.per_vehicle_min * pool.parties_waiting + service.per_person_min * pool.people_waiting) * mult
                    booths = pool.booths_open
                    snapshot[name, mode] = work_min / booths / 60.0 if booths else (INF if pool.parties_waiting else 0.0)
            self._reports.append(snapshot)
            self._report_times.append(self.env.now)
            yield self.env.timeout(self.scenario.information.publish_every_min)

    # --- sources ----------------------------------------------------------------------------

    def _new_party(self, origin: Origin, mode: str, people: int, departed_at: float, patience: float, balk_km: float, balk_people: float) -> Party:
        p = Party(self._next_id, origin.name, mode, int(people), departed_at, patience, balk_km, balk_people)
        p.travel_mode = mode
        self._next_id += 1
        self.parties.append(p)
        return p

    def _behaviour_draws(self, origin: Origin, modes: np.ndarray, n: int, *group: str):
        """Patience and balking thresholds for each party, from streams of the origin (and ``group``, e.g.
        an initial queue, so that its draws are not a copy of the departing parties')."""
        seed, rep = self.scenario.seed, self.replication
        patience = np.full(n, INF)
        balk_km = np.full(n, INF)
        balk_people = np.full(n, INF)
        for k, mode in enumerate(MODES):
            mask = modes == k
            count = int(mask.sum())
            if not count:
                continue
            b = self.scenario.behaviour.mode(mode)
            if b.patience_h is not None:
                patience[mask] = draw(b.patience_h, stream(seed, rep, StreamId.PATIENCE, origin.name, mode, *group), count) * 60.0
            if b.balk_queue_km is not None:
                balk_km[mask] = draw(b.balk_queue_km, stream(seed, rep, StreamId.BALKING, origin.name, mode, *group), count)
            if b.balk_queue_people is not None:
                balk_people[mask] = draw(b.balk_queue_people, stream(seed, rep, StreamId.BALKING, origin.name, mode, "people", *group), count)
        return patience, balk_km, balk_people

    def _release_departures(self):
        """Start every origin's parties at their sampled departure times (bus passengers: at the stop).

        Parties are numbered in order of departure and handed to the event loop
        ``_RELEASE_BATCH`` at a time, which keeps the event heap short (and each
        of its operations cheap) instead of holding every future departure.
        """
        env = self.env
        parts = []
        for i, origin in enumerate(self.scenario.origins):
            dep = sample_departures(self.scenario, origin, self.replication)
            parts.append((dep.minutes, np.full(len(dep.minutes), i), dep.modes, dep.people,
                          *self._behaviour_draws(origin, dep.modes, len(dep.minutes))))
        columns = [np.concatenate(c) for c in zip(*parts)]
        order = np.argsort(columns[0], kind="stable")  # ties: in the order of the origins
        departures = list(zip(*(c[order].tolist() for c in columns)))
        origins = self.scenario.origins
        for first in range(0, len(departures), _RELEASE_BATCH):
            batch = departures[first:first + _RELEASE_BATCH]
            for t, i, k, people, pat, bk, bp in batch:
                origin, mode = origins[i], MODES[k]
                p = self._new_party(origin, mode, people, t, pat, bk, bp)
                if mode == "bus":
                    env.timeout(t - env.now).callbacks.append(partial(self._wait_for_bus, origin.name, p))
                else:
                    start(env, self.party(p), t - env.now)
            if batch[-1][0] > env.now:  # the next batch is handed over when this one's last party leaves
                yield env.timeout(batch[-1][0] - env.now)

    def _wait_for_bus(self, origin: str, p: Party, _event=None) -> None:
        p.outcome = "waiting_at_end"  # at the bus stop: no crossing yet
        self.bus_stops[origin].append(p)
        self._bus_waiting_people[origin] += p.people
        signal, self._bus_signal[origin] = self._bus_signal[origin], self.env.event()
        signal.succeed()

    def _board(self, origin: Origin, service: BusService) -> None:
        """Fill one bus from the stop (first come, first boarded) and send it on its way."""
        stop = self.bus_stops[origin.name]
        riders: list[Party] = []
        seats = service.capacity
        while stop and (not riders or stop[0].people <= seats):
            group = stop.pop(0)
            seats -= group.people
            riders.append(group)
        if not riders:
            return
        people = sum(g.people for g in riders)
        self._bus_waiting_people[origin.name] -= people
        now = self.env.now
        bus = Party(-1 - len(self.buses), origin.name, "bus", people, now, riders=tuple(riders))
        bus.travel_mode = "bus"
        for g in riders:
            g.boarded_at, g.bus_id, g.outcome = now, len(self.buses), "travelling_at_end"
        self.buses.append(bus)
        route = self.routes[origin.name][service.crossing]
        start(self.env, self.party(bus, service.crossing), route.travel_min(self.env.now, "bus", self.walk_speed))

    def _bus_timetable(self, origin: Origin, service: BusService):
        for when in service.timetable:
            t = self.scenario.minutes(when)
            if t < self.env.now:
                continue
            yield self.env.timeout(t - self.env.now)
            self._board(origin, service)

    def _bus_trigger(self, origin: Origin, service: BusService):
        while True:
            while self._bus_waiting_people[origin.name] < service.trigger_people:
                yield self._bus_signal[origin.name]
            self._board(origin, service)
            if service.min_headway_min > 0:
                yield self.env.timeout(service.min_headway_min)

    def _initial_queues(self) -> None:
        """Parties already waiting at the start join their queues first, in order."""
        for c in self.scenario.crossings:
            q = c.initial_queue
            if q is None:
                continue
            origin = self.origins[q.origin]
            for mode in MODES:
                count = getattr(q, mode)
                if not count:
                    continue
                sizes = party_sizes(
                    getattr(origin.party_size, mode),
                    stream(self.scenario.seed, self.replication, StreamId.INITIAL_QUEUE, c.name, mode),
                    count,
                )
                modes = np.full(count, MODES.index(mode))
                patience, _, _ = self._behaviour_draws(origin, modes, count, "initial queue", c.name)
                for people, pat in zip(sizes.tolist(), patience):
                    p = self._new_party(origin, mode, people, 0.0, pat, INF, INF)
                    p.initial = True
                    p.first_crossing = c.name
                    start(self.env, self.party(p, c.name))

    # --- the run ----------------------------------------------------------------------------

    def run(self) -> RunRecords:
        """Run to the horizon and return the records.

        Python's cyclic garbage collector is paused meanwhile: the run keeps
        thousands of parties and events alive, and repeated full collections
        over them cost more than the run itself. Nothing is lost (memory is
        freed by reference counting; cycles are collected once it ends).
        """
        paused = gc.isenabled()
        gc.disable()
        try:
            return self._run()
        finally:
            if paused:
                gc.enable()

    def _run(self) -> RunRecords:
        self._initial_queues()
        self.env.process(self._release_departures())
        for origin in self.scenario.origins:
            for service in origin.buses:
                if service.timetable:
                    self.env.process(self._bus_timetable(origin, service))
                if service.trigger_people is not None:
                    self.env.process(self._bus_trigger(origin, service))
        if self._needs_reports:
            self.env.process(self._publish_reports())
        for post in self.posts.values():
            for pool in post.pools.values():
                self.queue_log.record(pool)
        self.env.run(until=self.scenario.horizon_min)
        log.debug("replication %d: %d parties, %d buses", self.replication, len(self.parties), len(self.buses))
        stays = [(pool.crossing, pool.mode, pool.stays + pool.open_stays()) for post in self.posts.values() for pool in post.pools.values()]
        return RunRecords.from_parties(self.replication, self.parties, self.buses, self.queue_log, stays)


_RELEASE_BATCH = 64
_NO_REPORT: dict[tuple[str, str], float] = {}


def _logit_weights(costs_h: list[float], scale: float) -> list[float]:
    """Multinomial-logit weights exp(-scale x cost); an infinite cost gets zero weight."""
    finite = [c for c in costs_h if c < INF]
    if not finite:
        return [1.0] * len(costs_h)
    best = min(finite)
    return [math.exp(-scale * (c - best)) if c < INF else 0.0 for c in costs_h]


def _pick(weights: list[float], u: float) -> int:
    """Index drawn with probability proportional to ``weights``, from a U(0, 1) draw."""
    target = u * sum(weights)
    cumulative = 0.0
    for i, w in enumerate(weights):
        cumulative += w
        if target < cumulative:
            return i
    return len(weights) - 1


def simulate_replication(scenario: Scenario, replication: int = 0) -> RunRecords:
    """Simulate one replication of ``scenario``; its streams depend on (seed, replication) only."""
    return Surge(scenario, replication).run()
