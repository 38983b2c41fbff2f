"""One more booth: what opening a booth at the bottleneck changes for the people in the queue.

The question a planner asks next to a needs estimate is whether staff would
do more good than supplies. :func:`bottleneck` finds the crossing and channel
where people spent the most time waiting; :func:`booth_added` is the scenario
with one more booth there for the whole run (every step of its booth schedule
that has booths open raised by one too; closures still close it); and
:func:`one_more_booth` runs it on the same seed and replication numbers as the
baseline (common random numbers: replication r of both sees the same surge),
so each difference is measured replication by replication, with a paired
95% interval.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..analysis import ReplicationResult, Results, build_results
from ..analysis.burden import ALL, WHOLE_RUN
from ..analysis.key_figures import mean_ci
from ..analysis.needs import PEAK_DAY
from ..analysis.tables import without_large_tables
from ..scenario import MODES, Scenario
from .replications import open_executor, run_on
from .studies import variant

__all__ = ["BoothEffect", "bottleneck", "booth_added", "one_more_booth", "paired_effects"]


@dataclass(frozen=True)
class BoothEffect:
    """Where the booth went, and the paired differences (``table``: one row per figure)."""

    crossing: str
    channel: str
    booths: int  # at the start, before the added one
    table: pd.DataFrame  # figure, crossing, period, baseline, with_booth, difference, difference_ci95_low/_high, replications


def bottleneck(results: Results) -> tuple[str, str]:
    """The (crossing, channel) with the most person-hours waiting, over all replications (from the queue series);
    channels of the crossings' own booths only (not a metering point's or a later stage's, ``mode@name``)."""
    q = results.queues
    q = q[q["channel"].isin(MODES)] if not q.empty else q
    if q.empty:
        c = results.scenario.crossings[0]
        return c.name, next(m for m in MODES if c.channel(m) is not None)
    q = q.sort_values(["replication", "crossing", "channel", "time"], kind="stable")
    t = (q["time"] - q["time"].min()).dt.total_seconds().to_numpy() / 3600.0
    end = (pd.Timestamp(results.scenario.end) - q["time"].min()).total_seconds() / 3600.0
    same = (q[["replication", "crossing", "channel"]].shift(-1) == q[["replication", "crossing", "channel"]]).all(axis=1)
    nxt = np.where(same.to_numpy(), np.roll(t, -1), end)
    area = q.assign(person_hours=q["people_waiting"].to_numpy() * (nxt - t)).groupby(["crossing", "channel"])["person_hours"].sum()
    crossing, channel = area.idxmax()
    return str(crossing), str(channel)


def booth_added(scenario: Scenario, crossing: str, channel: str) -> Scenario:
    """``scenario`` with one more booth in ``crossing``'s ``channel`` throughout (steps with none open stay at none)."""
    ch = scenario.crossing(crossing).channel(channel)
    key = f"crossings.{crossing}.{channel}"
    steps = [{"at": s.at, "booths": s.booths + 1 if s.booths > 0 else 0} for s in ch.booth_schedule]
    return variant(scenario, {f"{key}.booths": ch.booths + 1, f"{key}.booth_schedule": steps})


def _values(results: Results, bottleneck_crossing: str) -> dict[tuple[str, str, str], pd.Series]:
    """Per replication: the figures compared, keyed (figure, crossing, period)."""
    n = results.needs_by_replication.set_index(["crossing", "period", "replication"]).sort_index()
    items = [i.column for i in results.scenario.needs.all_items]
    out = {}
    for figure, period in (("people_waiting_peak", WHOLE_RUN), ("people_waiting_overnight", PEAK_DAY),
                           ("person_days_waiting", WHOLE_RUN), *((c, PEAK_DAY) for c in items)):
        out[figure, ALL, period] = n.loc[(ALL, period), figure]
    k = results.kpis_by_replication.set_index(["crossing", "replication"]).sort_index()
    out["person_wait_p90_h", bottleneck_crossing, WHOLE_RUN] = k.loc[bottleneck_crossing, "person_wait_p90_h"].astype(float)
    cleared = k.loc[ALL, "surge_cleared_at"]
    start = pd.Timestamp(results.scenario.start)
    out["surge_cleared_after_start_h", ALL, WHOLE_RUN] = (pd.to_datetime(cleared) - start).dt.total_seconds() / 3600.0
    return out


def paired_effects(base: Results, other: Results, bottleneck_crossing: str) -> pd.DataFrame:
    """Mean of each figure in both runs and the mean paired difference (other - base) with its 95% interval."""
    a, b = _values(base, bottleneck_crossing), _values(other, bottleneck_crossing)
    rows = []
    for key, x in a.items():
        y = b[key].reindex(x.index)
        d = (y - x).to_numpy(dtype=float)
        mean, low, high = mean_ci(d)
        rows.append({"figure": key[0], "crossing": key[1], "period": key[2],
                     "baseline": float(np.nanmean(x)) if x.notna().any() else np.nan,
                     "with_booth": float(np.nanmean(y)) if y.notna().any() else np.nan,
                     "difference": mean, "difference_ci95_low": low, "difference_ci95_high": high,
                     "replications": int(np.isfinite(d).sum())})
    return pd.DataFrame(rows)


def one_more_booth(scenario: Scenario, base: Results, workers: int = 1, executor: str = "process", scheduler=None,
                   on_done=None, runner=None) -> BoothEffect:
    """Run the scenario with one more booth at the bottleneck, on the baseline's replications, and compare.

    ``runner``: an executor already open (:func:`~model.experiments.replications.open_executor`, the run's own);
    otherwise one is opened for ``workers`` on ``executor``. Only the replications' small tables come back.
    """
    crossing, channel = bottleneck(base)
    more = booth_added(scenario, crossing, channel)
    reps = sorted(base.kpis_by_replication["replication"].unique())
    with nullcontext(runner) if runner is not None else open_executor(executor, min(workers, len(reps)), scheduler) as on:
        records = run_on(on, more, reps, on_done, prepare=small_tables_only)
    table = paired_effects(base, build_results(more, records), crossing)
    return BoothEffect(crossing, channel, scenario.crossing(crossing).channel(channel).booths, table)


def small_tables_only(_scenario: Scenario, result: ReplicationResult) -> ReplicationResult:
    """A replication without its per-party tables (the comparison reads the key figures and needs only), dropped
    where it ran so they are never sent back."""
    return without_large_tables(result)
