"""Passengers who walk on: a vehicle's party splits, its walkers go along the queue to the pedestrian channel.

The rules are the scenario's ``walk_on`` (:mod:`model.scenario.walk_on`). A
party that splits keeps ``stay`` people (the driver) and its place in the
queue; the others become a new party on foot (``split_from`` = the vehicle's
party), which walks from the vehicle's place in the queue (vehicles ahead x
road per vehicle) to the crossing at walking speed and queues there like any
pedestrian group. Each party is considered once, on its own random stream:
those waiting when a rule starts, at that moment; later arrivals as they
reach the queue.
"""

from __future__ import annotations

from .booths import BoothPool
from .entities import Party
from .samplers import UNIT_UNIFORM, make_sampler
from .streams import StreamId, stream

__all__ = ["WalkOnPolicy"]


class WalkOnPolicy:
    """The walk-on rules of one replication, per crossing and mode: (from, share, people who stay)."""

    def __init__(self, surge):
        s = surge.scenario
        self.surge = surge
        self.rules: dict[tuple[str, str], tuple[float, float, int]] = {}  # split as a policy
        self.on_patience: dict[tuple[str, str], tuple[float, float, int]] = {}  # split when patience runs out
        for rule in s.walk_on:
            starts = max(s.minutes(rule.starts), 0.0) if rule.starts is not None else 0.0
            for name in rule.crossings or [c.name for c in s.crossings if c.foot is not None]:
                for mode in rule.modes:
                    (self.rules if rule.when == "policy" else self.on_patience)[name, mode] = (starts, rule.share, rule.stay)
        self._draw = make_sampler(UNIT_UNIFORM, stream(s.seed, surge.replication, StreamId.WALK_ON))
        self._considered: set[int] = set()

    def start(self) -> None:
        """At each policy's start, the parties then waiting in its queue are considered, front to back; the
        queues of the rules for patience call :meth:`_patience_ran_out` when a party's patience runs out."""
        for (crossing, mode), (starts, _, _) in self.rules.items():
            self.surge.env.process(self._split_waiting(crossing, mode, starts))
        for crossing, mode in self.on_patience:
            pool = self.surge.posts[crossing].pools.get(mode)
            if pool is not None:
                pool.patience_runs_out = lambda ticket, c=crossing, m=mode, q=pool: self._patience_ran_out(ticket, c, m, q)

    def _patience_ran_out(self, ticket, crossing: str, mode: str, pool: BoothPool) -> bool:
        """``ticket``'s patience ran out in ``pool``: True if its party split and the driver stays."""
        starts, share, stay = self.on_patience[crossing, mode]
        p = ticket.party
        if self.surge.env.now < starts or p.people <= stay or self._draw() >= share:
            return False
        ahead = pool.waiting_parties().index(p)
        p.patience_min = float("inf")
        self._split(p, crossing, stay, ahead * pool.km_per_vehicle, pool)
        return True

    def _split_waiting(self, crossing: str, mode: str, starts: float):
        env = self.surge.env
        if starts > env.now:
            yield env.timeout(starts - env.now)
        pool = self.surge.posts[crossing].pools.get(mode)
        if pool is None:
            return
        ahead = 0
        for party in pool.waiting_parties():
            self._consider(party, crossing, mode, ahead * pool.km_per_vehicle, pool)
            ahead += 1

    def on_arrival(self, p: Party, crossing: str, pool: BoothPool) -> None:
        """``p`` reaches the back of ``pool``'s queue: it may split first (its walkers start from there)."""
        rule = self.rules.get((crossing, p.mode))
        if rule is not None and self.surge.env.now >= rule[0]:
            self._consider(p, crossing, p.mode, pool.queue_km, None)

    def _consider(self, p: Party, crossing: str, mode: str, km_to_go: float, queued_in: BoothPool | None) -> None:
        _, share, stay = self.rules[crossing, mode]
        if p.id in self._considered or p.people <= stay:
            return
        self._considered.add(p.id)
        if self._draw() >= share:
            return
        self._split(p, crossing, stay, km_to_go, queued_in)

    def _split(self, p: Party, crossing: str, stay: int, km_to_go: float, queued_in: BoothPool | None) -> None:
        """``p`` keeps ``stay`` people; the others walk ``km_to_go`` to the crossing and queue on foot there."""
        surge = self.surge
        walkers = Party(len(surge.parties), p.origin, "foot", p.people - stay, p.departed_at, first_crossing=p.first_crossing,
                        crossing=crossing, walked=True, travel_mode=p.travel_mode, split_from=p.id)
        walkers.vclass = p.vclass  # they came in that vehicle
        surge.parties.append(walkers)
        p.people = stay
        if queued_in is not None:
            queued_in.split_off(p, walkers)
        surge.launch(walkers, crossing, km_to_go / max(surge.walk_speed(), 1e-6) * 60.0)
