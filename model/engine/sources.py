"""Where parties come from: departures from every origin, and the queues already there at the start.

Departure times and party sizes are sampled per origin
(:mod:`model.engine.arrivals`); each party also draws its patience and its
balking thresholds on streams of its origin and mode. Parties are numbered in
order of departure across origins and handed to the event loop
``RELEASE_BATCH`` at a time, which keeps the event heap short (and each of its
operations cheap) instead of holding every future departure.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np

from ..scenario import MODES, Origin, Scenario
from .arrivals import party_sizes, sample_departures
from .samplers import draw
from .streams import StreamId, stream

__all__ = ["behaviour_draws", "release_departures", "place_initial_queues", "RELEASE_BATCH"]

INF = math.inf
RELEASE_BATCH = 64


def behaviour_draws(scenario: Scenario, replication: int, origin: Origin, modes: np.ndarray, n: int, *group: str):
    """Patience (minutes) and balking thresholds for each party, from streams of the origin (and ``group``,
    e.g. an initial queue, so that its draws are not a copy of the departing parties')."""
    seed = scenario.seed
    patience = np.full(n, INF)
    balk_km = np.full(n, INF)
    balk_people = np.full(n, INF)
    for k, mode in enumerate(MODES):
        mask = modes == k
        count = int(mask.sum())
        if not count:
            continue
        b = scenario.behaviour.mode(mode)
        if b.patience_h is not None:
            patience[mask] = draw(b.patience_h, stream(seed, replication, StreamId.PATIENCE, origin.name, mode, *group), count) * 60.0
        if b.balk_queue_km is not None:
            balk_km[mask] = draw(b.balk_queue_km, stream(seed, replication, StreamId.BALKING, origin.name, mode, *group), count)
        if b.balk_queue_people is not None:
            balk_people[mask] = draw(b.balk_queue_people,
                                     stream(seed, replication, StreamId.BALKING, origin.name, mode, "people", *group), count)
    return patience, balk_km, balk_people


def release_departures(surge):
    """Start every origin's parties at their sampled departure times (bus passengers: at the stop)."""
    env, scenario, replication = surge.env, surge.scenario, surge.replication
    parts = []
    for i, origin in enumerate(scenario.origins):
        dep = sample_departures(scenario, origin, replication)
        parts.append((dep.minutes, np.full(len(dep.minutes), i), dep.modes, dep.people,
                      *behaviour_draws(scenario, replication, origin, dep.modes, len(dep.minutes))))
    columns = [np.concatenate(c) for c in zip(*parts)]
    order = np.argsort(columns[0], kind="stable")  # ties: in the order of the origins
    departures = list(zip(*(c[order].tolist() for c in columns)))
    origins = scenario.origins
    for first in range(0, len(departures), RELEASE_BATCH):
        batch = departures[first:first + RELEASE_BATCH]
        for t, i, k, people, patience, balk_km, balk_people in batch:
            origin, mode = origins[i], MODES[k]
            p = surge.new_party(origin, mode, people, t, patience, balk_km, balk_people)
            if mode == "bus":
                env.timeout(t - env.now).callbacks.append(partial(surge.bus_stops.arrive, origin.name, p))
            else:
                surge.launch(p, None, t - env.now)
        if batch[-1][0] > env.now:  # the next batch is handed over when this one's last party leaves
            yield env.timeout(batch[-1][0] - env.now)


def place_initial_queues(surge) -> None:
    """Parties already waiting at the start join their queues first, in order."""
    scenario, replication = surge.scenario, surge.replication
    origins = {o.name: o for o in scenario.origins}
    for c in scenario.crossings:
        q = c.initial_queue
        if q is None:
            continue
        origin = origins[q.origin]
        for mode in MODES:
            count = getattr(q, mode)
            if not count:
                continue
            sizes = party_sizes(
                getattr(origin.party_size, mode), stream(scenario.seed, replication, StreamId.INITIAL_QUEUE, c.name, mode), count
            )
            modes = np.full(count, MODES.index(mode))
            patience, _, _ = behaviour_draws(scenario, replication, origin, modes, count, "initial queue", c.name)
            for people, pat in zip(sizes.tolist(), patience):
                p = surge.new_party(origin, mode, people, 0.0, pat, INF, INF)
                p.initial = True
                p.first_crossing = c.name
                surge.launch(p, c.name)
