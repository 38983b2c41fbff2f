"""Booths needed: the fewest booths at one crossing that keep a queue figure under a limit.

The question is "how many booths would have kept the queue at X under 1 km
(or the 90th-percentile wait under Y h) in at least 90% of replications?".
Booths are either constant over the whole period or added from a date-time
on (a step in the channel's booth schedule). Each candidate count is a
scenario variant run with common random numbers, so more booths never sees a
different surge; the share of replications meeting the limit then rises with
the count, and the fewest sufficient count is found by search: doubling
steps until one suffices, then bisection. Behaviour (diversion, walking) can
in principle break that monotonicity; every evaluated count is reported, so
a break would show in the table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

import numpy as np
import pandas as pd

from ..analysis import ReplicationResult, queue_step, summarise_grid, to_datetimes, value_at
from ..scenario import MODES, Scenario, ScenarioError, read_datetime
from .studies import Runner, check_crossing, variant

__all__ = ["Question", "CapacityResult", "question", "booth_variant", "figure_of", "first_feasible", "find_booths"]


@dataclass(frozen=True)
class Question:
    """What must hold: ``figure`` at ``crossing`` at most ``limit`` in ``share`` of replications.

    ``start`` is None for a constant booth count, or the date-time from which
    booths are added to those the scenario already has.
    """

    crossing: str
    channel: str
    figure: str
    limit: float
    share: float = 0.9
    start: datetime | None = None

    @property
    def unit(self) -> str:
        return "km" if self.figure == "peak_queue_km" else "h"


def question(
    scenario: Scenario,
    crossing: str,
    channel: str = "car",
    max_queue_km: float | None = None,
    max_wait_h: float | None = None,
    start: str | None = None,
    share: float = 0.9,
) -> Question:
    """A checked :class:`Question` from command-line style arguments.

    ``max_queue_km`` limits the crossing's peak queue (all its channels);
    ``max_wait_h`` limits the 90th-percentile wait of the channel's parties
    (see :func:`figure_of`). ``start`` is read in the scenario's time zone
    when it has no offset and must fall inside the run; the figure is then
    measured from ``start`` on: the queue from then, the waits of those who
    arrive then or later.
    """
    check_crossing(scenario, crossing, allow_all=False)
    if channel not in MODES or scenario.crossing(crossing).channel(channel) is None:
        have = [m for m in MODES if scenario.crossing(crossing).channel(m) is not None]
        raise ScenarioError("--channel", channel, f"crossing {crossing!r} has channels {have}")
    if (max_queue_km is None) == (max_wait_h is None):
        raise ScenarioError("--max-queue-km/--max-wait-h", None, "give exactly one of them")
    limit = max_queue_km if max_wait_h is None else max_wait_h
    if not (math.isfinite(limit) and limit >= 0):
        raise ScenarioError("--max-queue-km/--max-wait-h", limit, "must be a number >= 0")
    if not 0 < share <= 1:
        raise ScenarioError("--share", share, "must be in (0, 1]")
    figure = "peak_queue_km" if max_wait_h is None else f"wait_p90_h_{channel}"
    when = None if start is None else _date_time(scenario, start)
    return Question(crossing, channel, figure, float(limit), share, when)


def _date_time(scenario: Scenario, text: str) -> datetime:
    try:
        when = read_datetime(text, scenario.zone)  # the same forms as the scenario's own date-times
    except ValueError as err:
        raise ScenarioError("--from", text, str(err)) from None
    if not scenario.start <= when < scenario.end:
        raise ScenarioError("--from", text, f"must be within {scenario.start.isoformat()} .. {scenario.end.isoformat()}")
    return when


def booths_before(scenario: Scenario, q: Question) -> int:
    """Booths of the channel in force just before ``q.start`` (the constant count if no start)."""
    channel = scenario.crossing(q.crossing).channel(q.channel)
    count = channel.booths
    for step in channel.booth_schedule:
        if q.start is not None and step.at <= q.start:
            count = step.booths
    return count


def booth_variant(scenario: Scenario, q: Question, booths: int) -> Scenario:
    """The scenario with ``booths`` in the channel: constant throughout, or from ``q.start`` on.

    Constant: ``booths`` for the whole run and no booth schedule. From a
    date-time: a schedule step there to ``booths``, and every later step
    raised by the same number of added booths (closures still apply).
    """
    key = f"crossings.{q.crossing}.{q.channel}"
    channel = scenario.crossing(q.crossing).channel(q.channel)
    if q.start is None:
        return variant(scenario, {f"{key}.booths": booths, f"{key}.booth_schedule": []})
    added = booths - booths_before(scenario, q)
    steps = [{"at": s.at, "booths": s.booths} for s in channel.booth_schedule if s.at < q.start]
    steps.append({"at": q.start, "booths": booths})
    steps += [{"at": s.at, "booths": max(0, s.booths + added)} for s in channel.booth_schedule if s.at > q.start]
    return variant(scenario, {f"{key}.booth_schedule": steps})


def first_feasible(
    feasible: Callable[[int], bool], low: int, high: int, hopeless: Callable[[int], bool] | None = None
) -> int | None:
    """The smallest ``k`` in ``[low, high]`` with ``feasible(k)``, assuming feasibility is monotone.

    Steps of 1, 2, 4, ... from ``low`` until one is feasible, then bisects the
    last gap: about 2 log2(answer - low) evaluations instead of one per count.
    None if even ``high`` is not feasible, or as soon as ``hopeless(k)`` says
    that no larger count can be feasible either.
    """
    known_bad, step, k = low - 1, 1, low
    while not feasible(k):
        known_bad = k
        if k >= high or (hopeless is not None and hopeless(k)):
            return None
        k, step = min(k + step, high), step * 2
    good = k
    while good - known_bad > 1:
        mid = (good + known_bad) // 2
        if feasible(mid):
            good = mid
        else:
            known_bad = mid
    return good


def figure_of(scenario: Scenario, q: Question, rec: ReplicationResult) -> float:
    """The figure ``q`` limits, in one replication.

    Peak queue km: the crossing's highest queue (all channels) from ``q.start``
    on (the whole run without a start). Wait: the 90th percentile of the waits
    of the channel's parties that reached the crossing at or after
    ``q.start`` and were served or were still waiting at the end (their wait
    so far, a lower bound, so that a queue still growing at the end cannot
    look short); NaN if there were none.
    """
    start = 0.0 if q.start is None else scenario.minutes(q.start)
    if q.figure == "peak_queue_km":
        t, km = queue_step(rec.queues, q.crossing, None, "queue_km")
        return float(max(value_at(t, km, start), km[t > start].max(initial=0.0)))
    p = rec.parties
    here = ((p["crossing"] == q.crossing) & (p["mode"] == q.channel) & (p["arrived_at"] >= start)
            & p["outcome"].isin(["crossed", "waiting_at_end"])).to_numpy()
    wait_h = p["wait_h"].to_numpy(dtype=float)[here]
    so_far_h = (scenario.horizon_min - p["arrived_at"].to_numpy(dtype=float)[here]) / 60.0
    waits = np.where(np.isnan(wait_h), so_far_h, wait_h)
    return float(np.quantile(waits, 0.9)) if len(waits) else math.nan


@dataclass
class CapacityResult:
    """The answer (None if not reached, with the reason why), every evaluated count, and the answer's queue over time."""

    scenario: Scenario
    question: Question
    booths: int | None
    base_booths: int
    evaluations: pd.DataFrame  # booths, added, share_meeting, feasible, mean, p90, max, surge_cleared_at (mean), in how many reps
    by_replication: pd.DataFrame  # booths, replication, figure
    queues: pd.DataFrame = field(default_factory=pd.DataFrame)  # booths, time, queue_km_mean/_p05/_p95...
    saturated: bool = False  # no answer because more booths stopped changing the figure
    reason: str = ""  # why there is no answer, in one line



def find_booths(scenario: Scenario, q: Question, runner: Runner, max_booths: int = 200) -> CapacityResult:
    """Search for the fewest booths meeting ``q``; at most ``max_booths``.

    The search starts at 1 booth (constant) or at the booths already open at
    ``q.start`` (added from a date-time). Each count's replications are
    kept, so the table lists every count tried with its share of
    replications meeting the limit. The search gives up early when a count
    changes no replication's figure against the count before it: booths no
    longer bind (the queue is held by secondary inspection, a closure, or
    comes before ``q.start``), so no count will do.
    """
    base = booths_before(scenario, q)
    low = 1 if q.start is None else base
    if max_booths < low:
        raise ScenarioError("--max-booths", max_booths, f"must be at least {low}")
    seen: dict[int, tuple[pd.DataFrame, pd.DataFrame]] = {}

    def feasible(booths: int) -> bool:
        if booths not in seen:
            s = booth_variant(scenario, q, booths)
            records = runner.records(s)
            cleared = [r.kpis.set_index("crossing").at[q.crossing, "surge_cleared_at"] for r in records]
            figure = pd.DataFrame({"replication": [r.replication for r in records],
                                   "figure": [figure_of(s, q, r) for r in records], "surge_cleared_at": cleared})
            grid = pd.concat([r.grid for r in records], ignore_index=True)
            grid = summarise_grid(grid[grid["crossing"] == q.crossing])
            seen[booths] = figure, grid
        return _share_meeting(seen[booths][0]["figure"], q.limit) >= q.share

    def saturated(booths: int) -> bool:
        """Booths no longer bind: every replication's figure is as with the last count tried below."""
        below = [k for k in seen if k < booths]
        return bool(below) and seen[max(below)][0]["figure"].equals(seen[booths][0]["figure"])

    booths = first_feasible(feasible, low, max_booths, saturated)
    rows, per_rep = [], []
    for k in sorted(seen):
        fig = seen[k][0]
        x = fig["figure"].to_numpy(dtype=float)
        share = _share_meeting(fig["figure"], q.limit)
        cleared = fig["surge_cleared_at"].to_numpy(dtype=float)
        rows.append({"booths": k, "added": k - base, "share_meeting": share,
                     "feasible": share >= q.share, **_stats(x),
                     "surge_cleared_at": np.nanmean(cleared) if (~np.isnan(cleared)).any() else math.nan,
                     "surge_cleared_replications": int((~np.isnan(cleared)).sum())})
        per_rep.append(fig.assign(booths=k))
    shown = booths if booths is not None else max(seen)
    grid = seen[shown][1].assign(booths=shown)
    grid["time"] = to_datetimes(scenario, grid["time"])
    by_rep = pd.concat(per_rep, ignore_index=True)[["booths", "replication", "figure"]]
    evaluations = pd.DataFrame(rows)
    evaluations["surge_cleared_at"] = to_datetimes(scenario, evaluations["surge_cleared_at"])
    saturated = booths is None and max(seen) < max_booths
    reason = ""
    if saturated:
        tried = sorted(seen)
        reason = (f"not reachable with booths: from {tried[-2]} booths on, more change no replication's figure "
                  "(the queue is held by something else: secondary inspection, closures, travel, or it comes before --from)")
    elif booths is None:
        reason = (f"not reached with up to {max_booths} booths: the figure is still above {q.limit:g} {q.unit} in more than "
                  f"{1 - q.share:.0%} of replications (raise --max-booths, or ask for a higher limit)")
    return CapacityResult(scenario, q, booths, base, evaluations, by_rep, grid, saturated, reason)


def _share_meeting(values: pd.Series, limit: float) -> float:
    """Share of replications whose figure is at most ``limit``; a missing figure does not meet it."""
    x = values.to_numpy(dtype=float)
    return float(np.mean(np.nan_to_num(x, nan=np.inf) <= limit + 1e-12)) if len(x) else math.nan


def _stats(x: np.ndarray) -> dict[str, float]:
    x = x[~np.isnan(x)]
    if not len(x):
        return {"mean": math.nan, "p90": math.nan, "max": math.nan}
    return {"mean": float(x.mean()), "p90": float(np.quantile(x, 0.9)), "max": float(x.max())}
