"""One replication of the surge: build the crossings, release the parties, run to the end.

``simulate_replication(scenario, replication)`` is a pure function: the same
scenario and replication number give the same records, with no file, chart or
console work. :class:`Surge` builds a replication's world (crossings, routes,
decisions, bus stops, queue reports, samplers on named streams), runs it, and
hands over its records. The life of each party is
:func:`model.engine.lifecycle.party`.
"""

from __future__ import annotations

import gc
import logging

import simpy

from ..scenario import Origin, Scenario
from .buses import BusStops
from .crossing import CrossingPost, random_closure_windows
from .decisions import Decisions
from .entities import Party
from .lifecycle import party
from .metering import MeterPoints
from .priority import ClassDraw
from .process import start
from .records import QueueLog, RunRecords
from .reports import QueueReports, reports_needed
from .routes import build_routes
from .samplers import make_sampler, unit_mean_spec
from .sources import place_initial_queues, release_departures
from .streams import StreamId, stream
from .vehicles import VehicleDraw
from .walk_on import WalkOnPolicy

__all__ = ["simulate_replication", "Surge"]

log = logging.getLogger(__name__)


class Surge:
    """The world of one replication: environment, crossings, routes, decisions, samplers and logs."""

    def __init__(self, scenario: Scenario, replication: int):
        self.scenario, self.replication = scenario, replication
        self.env = env = simpy.Environment()
        seed = scenario.seed
        self.queue_log = QueueLog([c.name for c in scenario.crossings])
        self.posts = {
            c.name: CrossingPost(
                env, scenario, c, self.queue_log.record,
                random_closure_windows(c, scenario.horizon_min, stream(seed, replication, StreamId.RANDOM_CLOSURES, c.name)),
                self.queue_log.km_change,
            )
            for c in scenario.crossings
        }
        for post in self.posts.values():
            for pool in post.all_pools():
                self.queue_log.register(pool)
                pool.service_factor = make_sampler(
                    unit_mean_spec(pool.service.dist, pool.service.cv), stream(seed, replication, StreamId.SERVICE, post.name, pool.label)
                )
        self.meters = MeterPoints(env, scenario, replication, self.queue_log.record)
        for pool in self.meters.pools():  # after the crossings' pools: their log keys stay as they were
            self.queue_log.register(pool)
        self.routes = build_routes(scenario, replication)
        self.reports = QueueReports(env, scenario, self.posts)
        self.decisions = Decisions(scenario, replication, self.posts, self.routes, self.reports)
        self.walk_speed = make_sampler(scenario.walking.walk_speed_kmh, stream(seed, replication, StreamId.TRAVEL, "walking"))
        self.diversion_speed = make_sampler(
            scenario.behaviour.diversion_speed_kmh, stream(seed, replication, StreamId.DIVERSION_TRAVEL)
        )
        self.inspection_time = {  # per control with secondary inspection: the crossing's own, then crossing@stage
            c.name: make_sampler(c.inspection.time_h, stream(seed, replication, StreamId.INSPECTION_TIME, c.name))
            for c in scenario.crossings
            if c.inspection is not None
        } | {
            f"{c.name}@{st.name}": make_sampler(st.inspection.time_h, stream(seed, replication, StreamId.INSPECTION_TIME, c.name, st.name))
            for c in scenario.crossings for st in c.stages if st.inspection is not None
        }
        self.bus_stops = BusStops(env, scenario, self.routes, self.walk_speed, self.launch)
        self.parties: list[Party] = []
        self.classes = ClassDraw(scenario, replication) if scenario.priority else None  # none: no draws at all
        self.walk_on = WalkOnPolicy(self) if scenario.walk_on else None  # passengers who leave their vehicle
        self.vehicles = VehicleDraw(scenario, replication) if scenario.vehicle_classes else None  # trucks, vans...

    def new_party(self, origin: Origin, mode: str, people: int, departed_at: float, patience_min: float,
                  balk_km: float, balk_people: float) -> Party:
        """A party leaving ``origin``, numbered in order of creation."""
        p = Party(len(self.parties), origin.name, mode, int(people), departed_at, patience_min, balk_km, balk_people)
        p.travel_mode = mode
        self.parties.append(p)
        return p

    def launch(self, p: Party, crossing: str | None = None, delay_min: float = 0.0) -> None:
        """Begin the life of ``p`` in ``delay_min`` (at ``crossing`` if it is already on its way there).

        Its priority class is drawn here, once, just after it was created: every party that will queue passes
        here (a bus as a vehicle; its riders never queue and take its class in the records).
        """
        if self.classes is not None:
            self.classes.classify(p, "bus" if p.riders else "party")
        if self.vehicles is not None and p.split_from < 0:  # walkers are no vehicle
            self.vehicles.classify(p)
        start(self.env, party(self, p, crossing), delay_min)

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
        place_initial_queues(self)
        self.env.process(release_departures(self))
        self.bus_stops.start()
        if self.walk_on is not None:
            self.walk_on.start()
        if reports_needed(self.scenario):
            self.env.process(self.reports.publish())
        for pool in self._pools():
            self.queue_log.record(pool)
        self.env.run(until=self.scenario.horizon_min)
        log.debug("replication %d: %d parties, %d buses", self.replication, len(self.parties), len(self.bus_stops.buses))
        stays = [(pool.crossing, pool.label, pool.stays + pool.open_stays()) for pool in self._pools()]
        classes = [pc.name for pc in self.scenario.priority]
        return RunRecords.from_parties(self.replication, self.parties, self.bus_stops.buses, self.queue_log, stays, classes,
                                       split=bool(self.scenario.walk_on), vehicles=[vc.name for vc in self.scenario.vehicle_classes])

    def _pools(self) -> list:
        """Every queue of the replication: the crossings' booth pools, then the metering points'."""
        return [pool for post in self.posts.values() for pool in post.all_pools()] + self.meters.pools()


def simulate_replication(scenario: Scenario, replication: int = 0) -> RunRecords:
    """Simulate one replication of ``scenario``; its streams depend on (seed, replication) only."""
    return Surge(scenario, replication).run()
