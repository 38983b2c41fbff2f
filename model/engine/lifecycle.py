"""The life of one party, in the order of the real process.

Depart and choose a crossing, travel there, pass any metering point on the
road into it (:mod:`model.engine.metering`), join its queue (or balk and drive
on), wait (or renege: walk, divert, give up), be served at a booth, perhaps be
held for secondary inspection, cross. :func:`party` is a SimPy process
function; the decisions it asks for live in :mod:`model.engine.decisions`,
the booths and queues in :mod:`model.engine.crossing` and :mod:`model.engine.booths`.
``arrived_at`` is the arrival at the end of the road, before any metering
point: a party's wait includes the one there.
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
        pool = post.pool_for(p)  # its mode's channel, or its priority class's own lane
        p.crossing = crossing
        if not (yield from surge.meters.pass_through(p, crossing)):  # turned back up the road, or out of patience there
            action = decide.renege_action(p)
        elif decide.balks(p, pool):
            action = "divert"
        else:
            p.outcome = "waiting_at_end"
            if surge.walk_on is not None:  # passengers may leave the vehicle here and walk on
                surge.walk_on.on_arrival(p, crossing, pool)
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
    leave_booth = yield from _pass_control(surge, p, post, pool, crossing)
    done = env.now  # through the control before: from here on the party waits for the next
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
        p.later_wait_min += env.now - done  # blocked at the booth before, then in the holding space
        leave_booth = yield from _pass_control(surge, p, stage, here, f"{crossing}@{stage.stage}")
        done = env.now
    if leave_booth is not None:
        leave_booth()
    p.crossed_at = env.now
    p.outcome = "crossed"


def _pass_control(surge, p: Party, control, pool, inspection: str):
    """A booth of ``pool`` checks the party, which may then be held for secondary inspection at ``control``
    (timed by ``surge.inspection_time[inspection]``). Returns the booth's release if the party still stands at
    it (it leaves once it can move on), or None if the inspection's holding area took it off the booth."""
    env = surge.env
    yield from _serve(env, p, pool)
    if control.inspectors is None or not surge.decisions.held_for_inspection(p, control):
        return pool.release
    p.inspected = True
    slot = control.holding.request()
    yield slot  # the booth stays blocked until the holding area has room
    pool.release()
    with control.inspectors.request() as inspector:
        yield inspector
        yield env.timeout(surge.inspection_time[inspection]() * 60.0)
    control.holding.release(slot)
    return None


def _serve(env, p: Party, pool):
    """A booth of ``pool`` checks party ``p``: (per vehicle + per person x size) x regime x random factor."""
    service = pool.service_for(p)
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
