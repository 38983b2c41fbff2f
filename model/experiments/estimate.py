"""What a command will cost, before it starts: parties, grid, memory and time; refuse what cannot fit.

:func:`estimate` reads a scenario's size without simulating it: the expected
parties of a replication (each origin's departure curve integrated over the
period, exactly as the engine samples it, divided by the mean party size; plus
the queues there at the start), the grid points of its queue series, its queue
rows, and from these the peak memory and the run time of the whole command.
:func:`check_resources` refuses (one-line :class:`ScenarioError` naming the field
and the limit) a command that cannot fit in this machine's memory, and returns
a one-line warning for one that will take long or needs more memory than is
free now. The command line calls it before anything is simulated.

The memory constants are per party and per grid point, measured with the real
command line (``run``, peak RSS from ``getrusage``) on the 2-core, 24 GB
development machine: ``one_crossing_constant.toml`` scaled to 40,000-640,000
parties and ``kharkiv_2022.toml`` with every origin's people x20 (153,000-613,000
parties, every behaviour on), 1-4 replications on 1-2 workers, and
``grid_min`` 0.01-0.1 min (86,000-432,000 grid points): 1.3-1.7 kB per party
held by the main process for all replications and the tables written from
them, 1.25 kB per party inside a running replication, 156 MB for a process
with the model imported, 185-210 MB for a small run; 1.6 kB per grid point and
crossing for the queue summary and report, 360 bytes per grid point, crossing
and replication.

The time constants were measured again once the engine, the tables and the
report had been made faster (wall time of ``run --brief off``, 2026-12-03):
``kharkiv_2022.toml`` (20 replications, 7,650 parties each), the default
scenario scaled to 300,000 and 1,000,000 people (114,000 and 380,000 parties),
``ukraine_poland_2022.toml`` (342,000 parties a replication, two controls in
series, people walking on), ``mmc_example``, ``one_crossing_constant`` and
two examples, on 1 and 2 workers. Simulating a party and building its
replication's figures and table pieces took 19-25 us (on a worker, so spread
over the workers), joining and writing the tables up to 10 us of the main
process per party (the most for the scenario with two controls, whose parties
each leave two stays and more queue rows), and starting a command with a small
report about 1.3 s; 100 us per grid point and crossing for the summary and
report, 5 us per grid point, crossing and replication. Each constant below is
the larger end, rounded up: an estimate should err on the side of caution,
and the machine's speed varies by tens of per cent with its other load. These
estimated 1.1-2.0x the measured times (the old constants, from before the engine
was made faster, 2.6-5.4x).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from ..engine.arrivals import rate_curve
from ..scenario import MODES, Scenario, ScenarioError
from ..scenario.schema import nobody_leaves

__all__ = ["Estimate", "estimate", "check_resources", "machine_memory", "LONG_SECONDS", "MEMORY_SHARE"]

#: Memory of the main process with the model loaded and a small run done.
BASE_BYTES = 220e6
#: Memory of a worker process with the model loaded.
WORKER_BYTES = 170e6
#: Memory per party held by the main process, for every replication (records, then tables and files).
KEPT_BYTES_PER_PARTY = 1_800.0
#: Memory per party inside a replication while it runs (parties, events, queue log), per running replication.
RUNNING_BYTES_PER_PARTY = 1_500.0
#: Memory per grid point and crossing of the queue summary and report (once per command).
GRID_BYTES = 1_700.0
#: Memory per grid point, crossing and replication (each replication's queue grid).
GRID_BYTES_PER_REPLICATION = 400.0
#: Seconds per party to simulate it and compute its replication's figures (spread over the workers).
SIMULATE_SECONDS_PER_PARTY = 30e-6
#: Seconds per party to join and write the run's tables (in the main process, a run only).
WRITE_SECONDS_PER_PARTY = 10e-6
#: Seconds per grid point and crossing for the summary and report, and per replication for its grid.
GRID_SECONDS = 100e-6
GRID_SECONDS_PER_REPLICATION = 5e-6
#: Seconds to start a command (imports, the first worker processes) and build a small report.
BASE_SECONDS = 1.5
#: Queue-series rows per party, roughly (joining, reaching a booth, leaving; several queues for some).
QUEUE_ROWS_PER_PARTY = 2.0
#: The share of the machine's memory a command may plan to use (the rest: the system and other work).
MEMORY_SHARE = 0.8
#: A command expected to take longer than this (seconds) gets a warning before it starts.
LONG_SECONDS = 600.0


@dataclass(frozen=True)
class Estimate:
    """The size and cost of a command on one scenario, before it runs (expected values; rough)."""

    parties: float  # expected parties per replication (departures inside the period + initial queues)
    people: float  # expected people per replication
    grid_points: int  # instants of the regular queue grid, per crossing and replication
    queue_rows: float  # queue-series rows per replication, roughly
    replications: int  # per scenario variant
    variants: int  # scenario variants the command runs (1 for run)
    workers: int  # replications running at once on this machine
    memory_bytes: float  # peak, whole command
    seconds: float  # wall time, whole command
    seconds_per_replication: float  # one replication, simulated on one worker
    by_source: tuple[tuple[str, float], ...]  # (field, expected parties per replication) by where they come from

    def describe(self) -> str:
        """One line: parties, replications, grid, memory and time."""
        runs = f"{self.replications:,} replication{'s' if self.replications != 1 else ''}" + \
            (f" x {self.variants:,} variants" if self.variants > 1 else "")
        return (f"about {self.parties:,.0f} parties per replication x {runs}, {self.grid_points:,} grid points, "
                f"~{_size(self.memory_bytes)} of memory, ~{_duration(self.seconds)} "
                f"(~{_duration(self.seconds_per_replication)} per replication)")


def _size(n: float) -> str:
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n / 2**10:.0f} KiB"


def _duration(s: float) -> str:
    if s >= 86_400:
        return f"{s / 86_400:.1f} days"
    if s >= 3600:
        return f"{s / 3600:.1f} h"
    return f"{s / 60:.1f} min" if s >= 60 else f"{s:.0f} s"


def _parties_by_source(scenario: Scenario) -> tuple[list[tuple[str, float]], float]:
    """(field, expected parties per replication) for each origin and initial queue; and the expected people."""
    sources, people = [], 0.0
    for o in scenario.origins:
        inside = rate_curve(scenario, o).integral(0.0, scenario.horizon_min)  # people, as the engine samples them
        per_person = sum(getattr(o.mode_split, m) / getattr(o.party_size, m).mean
                         for m in MODES if getattr(o.mode_split, m) > 0)
        field = f"origins[{o.name}].{'people' if o.people is not None else 'departures'}"
        sources.append((field, inside * per_person))
        people += inside
    origins = {o.name: o for o in scenario.origins}
    for c in scenario.crossings:
        q = c.initial_queue
        if q is not None:
            for m in MODES:
                count = getattr(q, m)
                if count:
                    sources.append((f"crossings[{c.name}].initial_queue.{m}", float(count)))
                    people += count * getattr(origins[q.origin].party_size, m).mean
    return sources, people


def estimate(scenario: Scenario, replications: int | None = None, variants: int = 1, workers: int = 1,
             tables: bool = True) -> Estimate:
    """The expected size, peak memory and wall time of running ``scenario``.

    ``replications`` (default the scenario's) of each of ``variants`` scenario
    variants, ``workers`` replications at a time on this machine; ``tables``:
    the command keeps every party of every replication and writes them (``run``),
    rather than reducing each variant to figures (the studies).
    """
    reps = replications or scenario.replications
    sources, people = _parties_by_source(scenario)
    parties = sum(n for _, n in sources)
    grid = int(min(scenario.horizon_min / scenario.grid_min, 1e15)) + 1  # capped: a tiny grid_min is refused anyway
    crossings = len(scenario.crossings)
    running = max(1, min(workers, reps * variants))
    in_workers = running > 1  # one worker runs in the main process itself
    memory = (BASE_BYTES + KEPT_BYTES_PER_PARTY * parties * reps
              + running * (RUNNING_BYTES_PER_PARTY * parties + (WORKER_BYTES if in_workers else 0.0))
              + crossings * grid * (GRID_BYTES + GRID_BYTES_PER_REPLICATION * reps))
    per_rep = SIMULATE_SECONDS_PER_PARTY * parties + GRID_SECONDS_PER_REPLICATION * grid * crossings
    parallel = max(1, min(running, os.cpu_count() or 1))
    seconds = BASE_SECONDS + per_rep * reps * variants / parallel
    if tables:
        seconds += WRITE_SECONDS_PER_PARTY * parties * reps + GRID_SECONDS * grid * crossings
    return Estimate(parties, people, grid, QUEUE_ROWS_PER_PARTY * parties, reps, variants, running, memory, seconds,
                    per_rep, tuple(sources))


def machine_memory() -> tuple[float, float]:
    """(total, available now) bytes of memory, from /proc/meminfo; else from sysconf (both total)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            info = {line.split(":")[0]: float(line.split()[1]) * 1024 for line in f if line.split()[1:]}
        return info["MemTotal"], info.get("MemAvailable", info["MemTotal"])
    except (OSError, KeyError, ValueError, IndexError):
        total = float(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        return total, total


def check_resources(scenario: Scenario, replications: int | None = None, variants: int = 1, workers: int = 1,
                    tables: bool = True, source: str | None = None,
                    memory: tuple[float, float] | None = None) -> tuple[Estimate, str | None]:
    """:func:`estimate` the command; refuse it if it cannot fit in memory, else say if it will take long.

    Returns the estimate and a one-line warning (None if none is due): the
    command will take longer than :data:`LONG_SECONDS`, or needs more memory
    than is free now. A command needing more than :data:`MEMORY_SHARE` of the
    machine's memory (``memory`` = (total, available) bytes; default this
    machine's) is refused with a one-line :class:`ScenarioError` naming the field
    that makes it big (``replications``, ``grid_min``, or the origin or initial
    queue with the most parties) and the limit; so is one in which nobody is
    expected to leave inside the period (nothing to simulate).
    """
    est = estimate(scenario, replications, variants, workers, tables)
    if est.people < 1:  # the loader only warns (a scenario may be empty); a command has nothing to do
        found = nobody_leaves(scenario)
        raise ScenarioError(found[0] if found else "origins.departures", float(f"{est.people:.3g}"),
                            "people expected to leave between start and end, and nobody waits at the start: nothing to "
                            "simulate (check the departure date-times against start and end, and people)", source)
    total, available = memory or machine_memory()
    usable = MEMORY_SHARE * total
    if est.memory_bytes > usable:
        _refuse(scenario, est, usable, total, variants, workers, tables, source)
    notes = []
    if est.seconds > LONG_SECONDS:
        notes.append(f"this will take a while: {est.describe()}")
    if est.memory_bytes > available:
        notes.append(("" if notes else f"{est.describe()}; ") + f"only {_size(available)} of memory is free now")
    return est, "; ".join(notes) if notes else None


def _refuse(scenario: Scenario, est: Estimate, usable: float, total: float, variants: int, workers: int, tables: bool,
            source: str | None) -> None:
    """Raise the one-line error for a command that cannot fit, naming what to change."""
    limit = f"more than the {_size(usable)} a command may use here ({MEMORY_SHARE:.0%} of {_size(total)})"
    if est.workers > 1:  # replications running side by side: fewer at once may fit
        single = estimate(scenario, est.replications, variants, 1, tables)
        if single.memory_bytes <= usable:
            per_worker = WORKER_BYTES + RUNNING_BYTES_PER_PARTY * est.parties
            fits = max(1, int((usable - single.memory_bytes) / per_worker))
            raise ScenarioError("--workers", est.workers, f"{est.describe()}: {limit}; at most about {fits:,} "
                                "replications fit side by side", source)
    one = estimate(scenario, 1, 1, workers, tables)
    crossings = len(scenario.crossings)
    if one.memory_bytes <= usable:
        per_rep = KEPT_BYTES_PER_PARTY * est.parties + GRID_BYTES_PER_REPLICATION * est.grid_points * crossings
        fits = 1 + int((usable - one.memory_bytes) / max(per_rep, 1.0))
        raise ScenarioError("replications", est.replications,
                            f"{est.describe()}: {limit}; at most about {fits:,} replications fit", source)
    per_point = crossings * (GRID_BYTES + GRID_BYTES_PER_REPLICATION * est.replications)
    grid_bytes = est.grid_points * per_point
    rest = est.memory_bytes - grid_bytes
    if grid_bytes >= rest - BASE_BYTES:
        smallest = scenario.horizon_min * per_point / max(usable - rest, 1.0)
        raise ScenarioError("grid_min", scenario.grid_min,
                            f"{est.describe()}: {limit}; use a grid_min of at least {_round_up(smallest):g} min", source)
    field, parties = max(est.by_source, key=lambda item: item[1])
    workers_bytes = est.workers * WORKER_BYTES if est.workers > 1 else 0.0
    per_party = KEPT_BYTES_PER_PARTY * est.replications + RUNNING_BYTES_PER_PARTY * est.workers
    fits = max(0.0, (usable - BASE_BYTES - workers_bytes - grid_bytes) / per_party)
    raise ScenarioError(field, _value_at(scenario, field),
                        f"{est.describe()}: {limit}; at most about {fits:,.0f} parties per replication fit "
                        f"({parties:,.0f} expected from here)", source)


def _round_up(x: float) -> float:
    """``x`` rounded up to two significant figures."""
    if x <= 0:
        return 0.0
    scale = 10 ** (math.floor(math.log10(x)) - 1)
    return math.ceil(x / scale) * scale


def _value_at(scenario: Scenario, field: str):
    """The value behind a field path of :func:`_parties_by_source`, for the message."""
    for o in scenario.origins:
        if field == f"origins[{o.name}].people":
            return o.people
        if field == f"origins[{o.name}].departures":
            return f"{len(o.departures)} breakpoints up to {max(p.people_per_h for p in o.departures):g} people/h"
    for c in scenario.crossings:
        for m in MODES:
            if c.initial_queue is not None and field == f"crossings[{c.name}].initial_queue.{m}":
                return getattr(c.initial_queue, m)
    return None
