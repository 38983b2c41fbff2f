"""Patience deadlines of the parties in one queue, kept off SimPy's event heap.

A party that joins a queue will leave it when its patience runs out, unless
a booth takes it first; most are served first. One SimPy timeout per waiting
party would stay on the global event heap after the party is served, until
its deadline: at the peak of a large surge most of the heap is such stale
timeouts, and every event of the run pays for them. Instead each queue keeps
its parties' deadlines in a heap of its own and arms ONE timeout, at the
earliest deadline of a party still waiting; when it fires, the parties whose
patience ran out leave, served parties' entries are dropped, and it is
re-armed. The global heap holds one patience timer per queue.
"""

from __future__ import annotations

import math
from heapq import heapify, heappop, heappush

import simpy

__all__ = ["PatienceTimer"]

INF = math.inf


class PatienceTimer:
    """The deadlines of one queue's waiting parties; ``ticket.expire()`` is called when one runs out.

    A ticket is live while ``ticket.active``; a ticket that a booth took (or
    that left) is dropped lazily. Tickets with the same deadline expire in the
    order they joined.
    """

    __slots__ = ("env", "_heap", "_joined", "_armed_for", "_generation")

    def __init__(self, env: simpy.Environment):
        self.env = env
        self._heap: list[tuple[float, int, object]] = []  # (deadline, join order, ticket)
        self._joined = 0
        self._armed_for = INF  # the deadline the pending timeout is for
        self._generation = 0  # of the pending timeout; an earlier one that fires is obsolete

    def add(self, deadline: float, ticket, waiting: int) -> None:
        """Watch ``ticket``'s deadline (minutes from the start); ``waiting`` parties are in the queue now."""
        heap = self._heap
        if len(heap) > 64 and len(heap) > 4 * waiting:  # mostly entries of parties served since
            self._compact()
        heappush(heap, (deadline, self._joined, ticket))
        self._joined += 1
        if deadline < self._armed_for:
            self._arm(deadline)

    def _compact(self) -> None:
        """Drop the entries of parties no longer waiting (amortised O(1): at least 3/4 of them go)."""
        self._heap = [entry for entry in self._heap if entry[2].active]
        heapify(self._heap)

    def _arm(self, deadline: float) -> None:
        self._armed_for = deadline
        self._generation += 1
        generation = self._generation
        self.env.timeout(max(0.0, deadline - self.env.now)).callbacks.append(lambda _event: self._fire(generation))

    def _fire(self, generation: int) -> None:
        if generation != self._generation:  # re-armed for an earlier deadline since: obsolete
            return
        heap, due = self._heap, self._armed_for
        while heap and (heap[0][0] <= due or not heap[0][2].active):
            _, _, ticket = heappop(heap)
            if ticket.active:
                ticket.expire()
        self._armed_for = INF
        while heap and not heap[0][2].active:
            heappop(heap)
        if heap:
            self._arm(heap[0][0])
