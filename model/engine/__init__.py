"""The engine: one replication of the surge as a discrete-event simulation on SimPy.

What is here: samplers and named random streams, departures (a
non-homogeneous Poisson process per origin), the party and its lifecycle,
crossings (booth pools, gates with release quotas and batches, schedules,
closures, holding areas, lanes that change), metering points up the road, the decisions
people make on the way (route choice, balking, reneging, diversion), buses,
queue reports, and the records a replication hands over: numpy columns with
times in minutes from the scenario start.

May import: the scenario layer, numpy and simpy. Nothing here imports pandas,
plotly, files or the console.
"""

from .records import (
           PARTY_COLUMNS,
           PARTY_TIMES,
           QUEUE_COLUMNS,
           STAY_COLUMNS,
           STAY_TIMES,
           RunRecords,
)
from .replication import Surge, simulate_replication

__all__ = ["simulate_replication", "Surge", "RunRecords",
           "PARTY_COLUMNS", "PARTY_TIMES", "QUEUE_COLUMNS", "STAY_COLUMNS", "STAY_TIMES"]
