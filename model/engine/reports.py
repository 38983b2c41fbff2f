"""Queue reports: what people know of the queues when they choose where to go.

Every ``information.publish_every_min`` each crossing's queue is posted as the
wait it implies (the work waiting over the booths open), on messaging
channels; a report reaches people ``information.delay_min`` late. Before the
first report, or with information off, people expect no wait anywhere. The
queue of a class's lane of its own is posted apart, as channel
``mode@<class>``: those who would take that lane read its wait.
"""

from __future__ import annotations

import bisect
import math

import simpy

from ..scenario import MODES, Scenario
from .crossing import CrossingPost

__all__ = ["QueueReports", "reports_needed"]

INF = math.inf
_NO_REPORT: dict[tuple[str, str], float] = {}


def reports_needed(scenario: Scenario) -> bool:
    """Whether anyone reads reports: informed choice, diversion on reneging, or balking."""
    return any(o.choice.method == "informed" for o in scenario.origins) or any(
        scenario.behaviour.mode(m).renege.divert > 0
        or scenario.behaviour.mode(m).balk_queue_km is not None
        or scenario.behaviour.mode(m).balk_queue_people is not None
        for m in MODES
    )


class QueueReports:
    """The reports posted so far, and the latest one a reader has received."""

    def __init__(self, env: simpy.Environment, scenario: Scenario, posts: dict[str, CrossingPost]):
        self.env, self.posts, self.information = env, posts, scenario.information
        self._times: list[float] = []  # when each report was posted
        self._reports: list[dict[tuple[str, str], float]] = []  # wait (h) per (crossing, channel), per report

    def known_waits_h(self) -> dict[tuple[str, str], float]:
        """Expected wait (hours) per (crossing, channel) as people read it now: the latest report that
        has reached them; empty (no wait expected) before the first one or with information off."""
        if not self.information.enabled:
            return _NO_REPORT
        i = bisect.bisect_right(self._times, self.env.now - self.information.delay_min) - 1
        return self._reports[i] if i >= 0 else _NO_REPORT

    def publish(self):
        """Every few minutes, post the wait each crossing's queues imply: its channels' (by mode) and its classes'
        lanes of their own (by their channel, ``mode@<class>``)."""
        while True:
            snapshot = {}
            for name, post in self.posts.items():
                for mode, pool in post.pools.items():
                    snapshot[name, mode] = _wait_h(pool)
                for pool in post.lanes():
                    snapshot[name, pool.label] = _wait_h(pool)
            self._reports.append(snapshot)
            self._times.append(self.env.now)
            yield self.env.timeout(self.information.publish_every_min)


def _wait_h(pool) -> float:
    """The wait (hours) the queue of ``pool`` implies now: the work waiting over the booths open."""
    service = pool.service
    work_min = (service.per_vehicle_min * pool.parties_waiting + service.per_person_min * pool.people_waiting) * pool.service_multiplier
    booths = pool.booths_open
    return work_min / booths / 60.0 if booths else (INF if pool.parties_waiting else 0.0)
