"""The life of one party, in the order of the real process.

Depart and choose a crossing, travel there, join its queue (or balk and drive
on), wait (or renege: walk, divert, give up), be served at a booth, perhaps be
held for secondary inspection, cross. :func:`party` is a SimPy process
function; the decisions it asks for live in :mod:`model.engine.decisions`,
the booths and queues in :mod:`model.engine.crossing` and :mod:`model.engine.booths`.
"""

from __future__ import annotations

import math

from .entities import Party

__all__ = ["party"]

INF = math.inf


def party(surge, p: Party, crossing: str | None = None):
    """Depart, travel, queue, be served, cross: the lifecycle of one party (or one bus, which starts at
    its ``crossing``)."""
    env, decide = surge.env, surge.decisions
    if crossing is None:
        crossing = yield from _travel_to_border(surge, p)
    p.first_crossing = p.first_crossing or crossing
    p.arrived_at = env.now
    while True:  # at a crossing: join its queue or move on, until a booth takes the party
        post = surge.posts[crossing]
        pool = post.pools[p.mode]
        p.crossing = crossing
        if decide.balks(p, pool):
            crossing = yield from _divert(surge, p, crossing)
        else:
            p.outcome = "waiting_at_end"
            turn = pool.join(p)
            if turn is None or (yield turn):  # a booth was free, or took the party before its patience ran out
                break
            action = decide.renege_action(p)
            if action == "walk" and "foot" in post.pools:  # the car leaves the queue, its people join the walkers'
                p.mode, p.walked, p.patience_min, p.balk_people = "foot", True, INF, INF
                continue
            crossing = (yield from _divert(surge, p, crossing)) if action == "divert" else None
        if crossing is None:
            return _give_up(p, env.now)
        p.arrived_at = env.now

    p.service_start_at = env.now
    yield from _serve(env, p, pool)
    leave_booth = pool.release  # the booth the party is at, freed once it can move on
    if post.inspectors is not None and decide.held_for_inspection(p, post):
        p.inspected = True
        slot = post.holding.request()
        yield slot  # the booth stays blocked until the holding area has room
        pool.release()
        leave_booth = None
        with post.inspectors.request() as inspector:
            yield inspector
            yield env.timeout(surge.inspection_time[crossing]() * 60.0)
        post.holding.release(slot)
    for stage in post.stages:  # controls in series: the holding space before each, then its queue and booth
        here = stage.pools.get(p.mode)
        if here is None:
            continue
        p.patience_min = INF  # between two controls there is no leaving the queue
        space = stage.space[p.mode]
        # blocking after service: with the space full the party stays at the booth before, which takes no one
        turn = here.join(p) if space is None else (yield space.enter(p))
        if leave_booth is not None:
            leave_booth()
        if turn is not None:
            yield turn
        yield from _serve(env, p, here)
        leave_booth = here.release
    if leave_booth is not None:
        leave_booth()
    p.crossed_at = env.now
    p.outcome = "crossed"


def _serve(env, p: Party, pool):
    """A booth of ``pool`` checks party ``p``: (per vehicle + per person x size) x regime x random factor."""
    service = pool.service
    yield env.timeout((service.per_vehicle_min + service.per_person_min * p.people) * pool.service_multiplier * pool.service_factor())


def _travel_to_border(surge, p: Party):
    """Leave home: pick a route and drive (or walk) it; a road found cut means back home and choose
    again. With no road left to try, wait at home until a road reopens (for ever, if none does: the
    party is then still waiting at the end). The crossing reached."""
    env = surge.env
    excluded: tuple[str, ...] = ()
    while True:
        crossing = surge.decisions.route(p, excluded, env.now)
        if crossing is None:
            p.outcome = "waiting_at_end"  # at home, with no open road
            yield env.timeout(surge.decisions.roads_change_at(p, env.now) - env.now)
            p.outcome, excluded = "travelling_at_end", ()
            continue
        p.first_crossing = p.first_crossing or crossing
        route = surge.routes[p.origin][crossing]
        now = env.now
        road_cut = route.is_closed(now)
        travel_min = route.travel_min(now, p.mode, surge.walk_speed)
        if travel_min > 0:
            yield env.timeout(travel_min)
        if not road_cut:
            return crossing
        p.reroutes += 1  # out to the cut and back again
        excluded += (crossing,)


def _divert(surge, p: Party, here: str):
    """Drive on from crossing ``here`` to another; the crossing reached, or None if there is none."""
    target = surge.decisions.diversion(p, here, surge.env.now)
    if target is None:
        return None
    name, km = target
    speed = surge.diversion_speed() if p.mode != "foot" else surge.walk_speed()
    p.diversions += 1
    p.outcome = "travelling_at_end"
    yield surge.env.timeout(km / max(speed, 1e-6) * 60.0)
    return name


def _give_up(p: Party, now: float) -> None:
    p.outcome = "gave_up"
    p.gave_up_at = now
