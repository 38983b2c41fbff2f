"""The decisions people make on the way: which crossing, whether to join a queue, when to give up on it.

* **Route choice** when leaving home: by the routes' fixed shares, or by a
  multinomial logit on expected travel time plus the wait read in the latest
  queue report (of the queue the party would join there: its class's lane of
  its own where it has one); closed roads and crossings are avoided once known. A closure
  is never a reason to give up: with every reachable crossing closed, people
  go and queue at one (adding the time until it reopens to its cost), and
  with every road closed they wait at home until one reopens.
* **Balking** on arrival: a queue longer than the party's threshold (km of
  road, or people on foot) sends it on to another crossing.
* **Reneging** when patience runs out: divert, walk, or give up, drawn with
  the scenario's probabilities.
* **Diversion**: the next crossing, chosen by logit on the straight-line
  distance (times a road factor) and the reported wait (of its lane, likewise).
* **Secondary inspection** after the booth: held or not.

Each decision draws from its own stream, and a draw is taken even where the
outcome is forced, so that scenarios differing elsewhere keep common random
numbers.
"""

from __future__ import annotations

import math

from ..scenario import MODES, Scenario, haversine_km
from .crossing import BoothPool, Control, CrossingPost
from .entities import Party
from .reports import QueueReports
from .routes import RouteState
from .samplers import UNIT_UNIFORM, make_sampler
from .streams import StreamId, stream

__all__ = ["Decisions", "logit_weights", "pick"]

INF = math.inf


class Decisions:
    """Every choice a party makes in one replication, each on its own random stream."""

    def __init__(self, scenario: Scenario, replication: int, posts: dict[str, CrossingPost],
                 routes: dict[str, dict[str, RouteState]], reports: QueueReports):
        self.scenario, self.posts, self.routes, self.reports = scenario, posts, routes, reports
        self.origins = {o.name: o for o in scenario.origins}
        self.lanes = any(post.lanes() for post in posts.values())  # some class has a lane of its own somewhere
        seed = scenario.seed
        self.choice_uniform = {
            o.name: make_sampler(UNIT_UNIFORM, stream(seed, replication, StreamId.CHOICE, o.name)) for o in scenario.origins
        }
        self.draw_renege = make_sampler(UNIT_UNIFORM, stream(seed, replication, StreamId.RENEGING, "renege"))
        self.draw_inspect = make_sampler(UNIT_UNIFORM, stream(seed, replication, StreamId.INSPECTION_DRAW, "inspect"))
        self._route_options = {
            (o, mode): [(name, r, posts[name]) for name, r in by_crossing.items() if mode in posts[name].pools]
            for o, by_crossing in routes.items()
            for mode in MODES
        }
        self._only_route = {  # a single route that can never close: no choice to make
            key: options[0][0]
            for key, options in self._route_options.items()
            if len(options) == 1 and options[0][1].closed_from == INF and not options[0][2].mode_windows.get(key[1])
        }

    def route(self, p: Party, excluded: tuple[str, ...], now: float) -> str | None:
        """A crossing for party ``p`` leaving its origin now, by fixed shares or informed logit; None if none is open."""
        draw = self.choice_uniform[p.origin]()  # drawn even when there is no choice: common random numbers
        key = (p.origin, p.mode)
        only = self._only_route.get(key)
        if only is not None and not excluded:
            return only
        origin, mode = self.origins[p.origin], p.mode
        known = now - self.scenario.information.closure_known_after_min
        roads = [(name, r, post) for name, r, post in self._route_options[key] if not (name in excluded or r.is_closed(known))]
        # avoid a crossing known to be closed; if every crossing it can reach is, go and queue at one (it reopens)
        options = [option for option in roads if not option[2].is_closed_at(known, mode)] or roads
        if not options:
            return None
        if len(options) == 1:
            return options[0][0]
        if origin.choice.method == "shares":
            weights = [r.spec.share or 0.0 for _, r, _ in options]
            if sum(weights) <= 0:
                weights = [1.0] * len(options)
        else:
            waits, lanes = self.reports.known_waits_h(), self.lanes
            costs_h = [(r.expected_travel_min(now) + max(0.0, post.reopens_at(known, mode) - now)) / 60.0
                       + waits.get((name, post.channel_of(p) if lanes else mode), 0.0) for name, r, post in options]
            weights = logit_weights(costs_h, origin.choice.logit_scale_per_h)
        return options[pick(weights, draw)][0]

    def roads_change_at(self, p: Party, now: float) -> float:
        """The next time a road from ``p``'s origin closes, reopens, or becomes known to have (inf: never)."""
        lag = self.scenario.information.closure_known_after_min
        changes = (t for _, r, _ in self._route_options[p.origin, p.mode]
                   for t in (r.closed_from + lag, r.closed_until, r.closed_until + lag) if t > now)
        return min(changes, default=INF)

    def diversion(self, p: Party, here: str, now: float) -> tuple[str, float] | None:
        """Where a party leaving crossing ``here`` drives on to, and how far (km); None if nowhere or too many tries."""
        behaviour = self.scenario.behaviour
        if p.diversions >= behaviour.max_diversions:
            return None
        known = now - self.scenario.information.closure_known_after_min
        here_spec = self.posts[here].spec
        options, costs_h = [], []
        waits = self.reports.known_waits_h()
        for name, post in self.posts.items():
            if name == here or p.mode not in post.pools or post.is_closed_at(known, p.mode):
                continue
            km = haversine_km(here_spec.lat, here_spec.lon, post.spec.lat, post.spec.lon) * behaviour.diversion_road_factor
            speed = behaviour.diversion_speed_kmh.mean if p.mode != "foot" else self.scenario.walking.walk_speed_kmh.mean
            options.append((name, km))
            costs_h.append(km / speed + waits.get((name, post.channel_of(p)), 0.0))
        if not options:
            return None
        scale = self.origins[p.origin].choice.logit_scale_per_h
        return options[pick(logit_weights(costs_h, scale), self.choice_uniform[p.origin]())]

    @staticmethod
    def balks(p: Party, pool: BoothPool) -> bool:
        """Whether the queue ahead is longer than the party will join."""
        if p.balk_km == INF and p.balk_people == INF:
            return False
        if p.mode == "foot":
            return pool.people_waiting > p.balk_people
        return pool.queue_km > p.balk_km

    def renege_action(self, p: Party) -> str:
        """What a party whose patience ran out does: ``divert``, ``walk`` or ``give_up``."""
        renege = self.scenario.behaviour.mode(p.mode).renege
        u = self.draw_renege()
        if u < renege.divert:
            return "divert"
        if u < renege.divert + renege.walk:
            return "walk"
        return "give_up"

    def held_for_inspection(self, p: Party, post: Control) -> bool:
        """Whether the party is held for secondary inspection after its booth at control ``post`` (a crossing's
        own, or a stage)."""
        multiplier = post.pools[p.mode].inspection_multiplier
        if multiplier <= 0:
            return False
        party_free, person_free = post.not_held_probability[p.mode]
        prob = 1.0 - party_free * person_free ** p.people
        return self.draw_inspect() < min(1.0, prob * multiplier)


def logit_weights(costs_h: list[float], scale: float) -> list[float]:
    """Multinomial-logit weights exp(-scale x cost); an infinite cost gets zero weight."""
    finite = [c for c in costs_h if c < INF]
    if not finite:
        return [1.0] * len(costs_h)
    best = min(finite)
    return [math.exp(-scale * (c - best)) if c < INF else 0.0 for c in costs_h]


def pick(weights: list[float], u: float) -> int:
    """Index drawn with probability proportional to ``weights``, from a U(0, 1) draw."""
    target = u * sum(weights)
    cumulative = 0.0
    for i, w in enumerate(weights):
        cumulative += w
        if target < cumulative:
            return i
    return len(weights) - 1
