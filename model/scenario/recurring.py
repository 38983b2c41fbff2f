"""Recurring rules expanded into one-off lists, and the checks of the crossing operations.

A recurring rule (booths, closure, regime, batch) fires at a local
wall-clock time of day on its weekdays, from/until a date-time.
:func:`expand_recurring` turns every rule into the one-off items it stands
for (booth steps, closures, regimes, batches), merges them with the one-off
items in time order and clears the rule lists, so that the engine sees only
one-off lists and a dumped scenario loads back to the same scenario.

Local times are read in the scenario's time zone on each local date, so a
daily 17:00 stays 17:00 across a daylight-saving change. A time that does
not exist that day (clocks jump forward over it) happens when the clocks
jump; a time that exists twice (clocks go back) happens the first time.

A state rule (booths, regime) with no ``from`` is a standing pattern: its
latest occurrence before the start is in force at the start. Closures are
clipped to the period (and to from/until), so "nights closed 22:00-06:00"
closes the first night's end too. Two rules that set different values at the
same instant (booths, a regime, a batch, a quota period) contradict each
other and are refused. :func:`quota_periods` lists the quota periods of a
channel, for the engine and for the checks.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from .crossings import BoothStep, Closure, Crossing, Regime
from .errors import ScenarioError
from .fields import MAX_LIST, MAX_PERIOD_DAYS
from .operations import WEEKDAYS, Batch, Quota

#: The scenario being validated (a :class:`~.schema.Scenario`; that module imports this one, so not named here).
Scenario = Any

__all__ = ["expand_recurring", "check_operations", "quota_periods", "local_times"]

UTC = timezone.utc
#: The channels (as in ``schema.MODES``, which imports this module).
MODES_ = ("car", "bus", "foot")


def _utc(when: datetime) -> datetime:
    return when.astimezone(UTC)


def _wall(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The instant (UTC) the local clock shows ``at`` on ``day``; a skipped time is where the clocks jump."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def local_times(s: Scenario, at: time, weekdays: list[str], lo: datetime, hi: datetime, back_days: int = 0) -> list[datetime]:
    """UTC instants in [lo, hi) (or from ``back_days`` local days earlier) when the local clock shows ``at``
    on one of ``weekdays`` (the local date's weekday)."""
    zone = s.zone
    days = {WEEKDAYS.index(w) for w in weekdays}
    first = _utc(lo).astimezone(zone).date() - timedelta(days=back_days + 1)
    last = _utc(hi).astimezone(zone).date() + timedelta(days=1)
    out, day = [], first
    earliest = _utc(lo) - timedelta(days=back_days)
    while day <= last:
        if day.weekday() in days:
            when = _wall(day, at, zone)
            if earliest <= when < _utc(hi):
                out.append(when)
        day += timedelta(days=1)
    return out


def _bounds(s: Scenario, rule: Any) -> tuple[datetime, datetime]:
    lo = max(_utc(s.start), _utc(rule.from_)) if rule.from_ is not None else _utc(s.start)
    hi = min(_utc(s.end), _utc(rule.until)) if rule.until is not None else _utc(s.end)
    return lo, hi


def _occurrences(s: Scenario, rule: Any, at: time) -> list[tuple[datetime, bool]]:
    """(UTC instant, before the period) of a state rule; a rule without ``from`` also gives its occurrences of
    the week before the start (the latest of them, over all rules, is in force at the start)."""
    lo, hi = _bounds(s, rule)
    back = 7 if rule.from_ is None else 0
    return [(t, t < lo) for t in local_times(s, at, rule.weekdays, lo, hi, back)]


def _merge_states(s: Scenario, field: str, one_off: list[tuple[datetime, Any, Any]],
                  recurring: list[tuple[int, datetime, bool, Any, Any]], same_scope) -> list[tuple[datetime, Any, Any]]:
    """One-off (time, scope, value) and recurring (rule index, time, before start, scope, value) steps as one
    list in time order. The pre-start recurring steps (standing patterns) move to the start, in their own
    order, the latest of each scope only. Different values at one instant in overlapping scopes, one of them
    recurring, are refused; the same value twice is kept once."""
    start = _utc(s.start)
    latest: dict[Any, tuple[datetime, int, Any]] = {}
    # (time, order at that time, scope, value, rule index or None, moved from before the start)
    steps: list[tuple[datetime, tuple, Any, Any, int | None, bool]] = [
        (_utc(t), (0, i), scope, v, None, False) for i, (t, scope, v) in enumerate(one_off)]
    for j, t, before, scope, value in recurring:
        if not before:
            steps.append((t, (1, 0), scope, value, j, False))
            continue
        held = latest.get(scope)
        if held is None or t > held[0]:
            latest[scope] = (t, j, value)
        elif t == held[0] and value != held[2]:
            _contradiction(s, field, j, t, held[1])
    steps += [(start, (-1, t), scope, value, j, True) for scope, (t, j, value) in latest.items()]
    steps.sort(key=lambda x: (x[0], x[1]))
    out: list[tuple[datetime, Any, Any, int | None, bool]] = []
    for t, _, scope, value, j, moved in steps:
        clash = False
        for u, other_scope, other, k, other_moved in reversed(out):
            if u != t:
                break
            if (j is None and k is None) or (moved and other_moved) or not same_scope(scope, other_scope):
                continue
            if other != value:
                _contradiction(s, field, j if j is not None else k, t, k if j is not None else None)
            clash = clash or other_scope == scope
        if not clash:
            out.append((t, scope, value, j, moved))
        if len(out) > MAX_LIST:
            raise ScenarioError(field, f"over {MAX_LIST} items", f"recurring rules expand to at most {MAX_LIST} items; narrow from/until")
    return [(t, scope, value) for t, scope, value, _, _ in out]


def _contradiction(s: Scenario, field: str, j: int, t: datetime, other: int | None) -> None:
    what = f"rule [{other}]" if other is not None else "a one-off item"
    raise ScenarioError(f"{field}[{j}]", t.astimezone(s.zone).isoformat(),
                        f"contradicts {what} at the same instant (different values); overlapping rules must agree")


def _local(s: Scenario, t: datetime) -> datetime:
    return t.astimezone(s.zone)


def _expand_crossing(s: Scenario, c: Crossing) -> Crossing:
    """``c`` with its own rules and those of each of its stages expanded."""
    where = f"crossings[{c.name}]"
    out = _expand_control(s, c, where)
    stages = [_expand_control(s, st, f"{where}.stages[{st.name}]") for st in c.stages]
    if any(a is not b for a, b in zip(stages, c.stages)):
        out = out.model_copy(update={"stages": stages})
    return out


def _expand_control(s: Scenario, c: Any, where: str) -> Any:
    """A crossing's own control, or one of its stages, with its recurring rules expanded."""
    _check_channels(c, ("recurring_regimes", "recurring_closures"), where)
    update: dict[str, Any] = {}
    if c.recurring_regimes:
        one_off = [(r.starts, r.channel, r) for r in c.regimes]
        rec = [(j, t, before, r.channel, r) for j, r in enumerate(c.recurring_regimes) for t, before in _occurrences(s, r, r.starts)]

        def same(a, b):
            return a is None or b is None or a == b

        def key(r):
            return (r.service_multiplier, r.inspection_multiplier)

        merged = _merge_states(s, f"{where}.recurring_regimes", [(t, sc, key(r)) for t, sc, r in one_off],
                               [(j, t, b, sc, key(r)) for j, t, b, sc, r in rec], same)
        names = {key(r): r.name for _, _, r in one_off} | {key(r): r.name for r in c.recurring_regimes}
        update["regimes"] = [Regime(name=names[v], starts=_local(s, t), channel=sc, service_multiplier=v[0],
                                    inspection_multiplier=v[1]) for t, sc, v in merged]
        update["recurring_regimes"] = []
    if c.recurring_closures:
        closures = list(c.closures)
        for j, w in enumerate(c.recurring_closures):
            if w.ends == w.starts:
                raise ScenarioError(f"{where}.recurring_closures[{j}].ends", w.ends.isoformat(),
                                    "must differ from starts (an end at or before the start is the next day)")
            lo, hi = _bounds(s, w)
            for t in local_times(s, w.starts, w.weekdays, lo, hi, back_days=1):
                day = t.astimezone(s.zone).date() + timedelta(days=1 if w.ends <= w.starts else 0)
                a, b = max(t, lo), min(_wall(day, w.ends, s.zone), hi)
                if b > a:
                    closures.append(Closure(starts=_local(s, a), ends=_local(s, b), channel=w.channel, reason=w.reason))
            if len(closures) > MAX_LIST:
                raise ScenarioError(f"{where}.recurring_closures", f"over {MAX_LIST} closures",
                                    f"recurring rules expand to at most {MAX_LIST} items; narrow from/until")
        update["closures"] = sorted(closures, key=lambda w: _utc(w.starts))
        update["recurring_closures"] = []
    for mode in MODES_:
        ch = c.channel(mode)
        if ch is None:
            continue
        ch_update: dict[str, Any] = {}
        if ch.recurring_booths:
            rec = [(j, t, before, None, r.booths) for j, r in enumerate(ch.recurring_booths) for t, before in _occurrences(s, r, r.at)]
            merged = _merge_states(s, f"{where}.{mode}.recurring_booths", [(b.at, None, b.booths) for b in ch.booth_schedule], rec,
                                   lambda a, b: True)
            ch_update["booth_schedule"] = [BoothStep(at=_local(s, t), booths=v) for t, _, v in merged]
            ch_update["recurring_booths"] = []
        if ch.release is not None and ch.release.recurring_batches:
            batches = [(_utc(b.at), b.parties, None) for b in ch.release.batches]
            for j, r in enumerate(ch.release.recurring_batches):
                lo, hi = _bounds(s, r)
                batches += [(t, r.parties, j) for t in local_times(s, r.at, r.weekdays, lo, hi)]
                if len(batches) > MAX_LIST:
                    raise ScenarioError(f"{where}.{mode}.release.recurring_batches", f"over {MAX_LIST} batches",
                                        f"recurring rules expand to at most {MAX_LIST} items; narrow from/until")
            update_batches = _unique_batches(s, f"{where}.{mode}.release.recurring_batches", batches)
            ch_update["release"] = ch.release.model_copy(update={"batches": update_batches, "recurring_batches": []})
        if ch_update:
            update[mode] = ch.model_copy(update=ch_update)
    return c.model_copy(update=update) if update else c


def _unique_batches(s: Scenario, field: str, batches: list[tuple[datetime, int, int | None]]) -> list[Batch]:
    batches.sort(key=lambda x: (x[0], x[2] is not None))
    out: list[Batch] = []
    for i, (t, n, j) in enumerate(batches):
        if i and batches[i - 1][0] == t:
            if batches[i - 1][1] != n:
                _contradiction(s, field, j if j is not None else 0, t, batches[i - 1][2])
            continue
        out.append(Batch(at=_local(s, t), parties=n))
    if len(out) > MAX_LIST:
        raise ScenarioError(field, f"{len(out)} batches", f"recurring rules expand to at most {MAX_LIST} items; narrow from/until")
    return out


def expand_recurring(s: Scenario) -> Scenario:
    """``s`` with every recurring rule expanded into the one-off lists (and the rule lists emptied).

    A period that is empty or too long is left for the scenario's own check to refuse (nothing to expand)."""
    if not _utc(s.start) < _utc(s.end) <= _utc(s.start) + timedelta(days=MAX_PERIOD_DAYS):
        return s
    crossings = [_expand_crossing(s, c) for c in s.crossings]
    if all(a is b for a, b in zip(crossings, s.crossings)):
        return s
    return s.model_copy(update={"crossings": crossings})


def quota_periods(s: Scenario, quotas: list[Quota], field: str = "quotas") -> list[tuple[datetime, datetime, int]]:
    """(start, end, parties) of every quota period that overlaps the run, in time order (UTC instants).

    Periods are local wall-clock: ``period_h`` hours from local midnight. Two
    quotas whose periods overlap must give the same periods and numbers.
    """
    periods: list[tuple[datetime, datetime, int, int]] = []
    zone = s.zone
    for j, q in enumerate(quotas):
        lo, hi = _bounds(s, q)
        days = {WEEKDAYS.index(w) for w in q.weekdays}
        per_day = round(24.0 / q.period_h)
        day, last = _utc(lo).astimezone(zone).date() - timedelta(days=1), _utc(hi).astimezone(zone).date()
        while day <= last:
            edges = sorted({_wall(day, (datetime.min + timedelta(hours=k * q.period_h)).time(), zone) for k in range(per_day)})
            edges.append(_wall(day + timedelta(days=1), time(0), zone))
            if day.weekday() in days:
                for a, b in zip(edges, edges[1:]):
                    if b > a and (lo <= a < hi if q.from_ is not None else (a < hi and b > lo)):
                        periods.append((a, b, q.parties, j))
            day += timedelta(days=1)
    periods.sort()
    for (a0, b0, n0, j0), (a1, b1, n1, j1) in zip(periods, periods[1:]):
        if a1 < b0 and (a1, b1, n1) != (a0, b0, n0):
            raise ScenarioError(f"{field}[{j1}]", _local(s, a1).isoformat(),
                                f"its period overlaps one of quotas[{j0}] with a different quota or period; overlapping quotas must agree")
    out, seen = [], set()
    for a, b, n, _ in periods:
        if (a, b) not in seen:
            seen.add((a, b))
            out.append((a, b, n))
    return out


def _check_channels(c: Any, kinds: tuple[str, ...], where: str) -> None:
    """Each rule of ``kinds`` that names a channel names one the control (crossing or stage) has."""
    have = [m for m in MODES_ if c.channel(m) is not None]
    what = f"crossing {c.name!r}" if isinstance(c, Crossing) else f"stage {c.name!r}"
    for kind in kinds:
        for j, rule in enumerate(getattr(c, kind)):
            if rule.channel is not None and rule.channel not in have:
                raise ScenarioError(f"{where}.{kind}[{j}].channel", rule.channel, f"{what} has no "
                                    f"{rule.channel} channel; one of {have} (or leave it out: the whole {what.split()[0]})")


def check_operations(s: Scenario) -> None:
    """Channels named by rules exist; batches and lanes changes fall in the period; quotas agree."""
    start = _utc(s.start)
    for c in s.crossings:
        where = f"crossings[{c.name}]"
        for control, at in [(c, where)] + [(st, f"{where}.stages[{st.name}]") for st in c.stages]:
            _check_channels(control, ("regimes", "closures"), at)
            _check_releases(s, control, at)
        for j in range(1, len(c.lanes_schedule)):
            if _utc(c.lanes_schedule[j].at) < _utc(c.lanes_schedule[j - 1].at):
                raise ScenarioError(f"{where}.lanes_schedule[{j}].at", c.lanes_schedule[j].at.isoformat(),
                                    f"must come after {c.lanes_schedule[j - 1].at.isoformat()} (in time order)")
        for j, step in enumerate(c.lanes_schedule):
            if _utc(step.at) < start:
                raise ScenarioError(f"{where}.lanes_schedule[{j}].at", step.at.isoformat(),
                                    f"must be at or after start ({s.start.isoformat()}); the lanes at the start are approach_lanes")


def _check_releases(s: Scenario, c: Any, where: str) -> None:
    """Batches of the control's channels fall in the period; their quotas agree."""
    start, end = _utc(s.start), _utc(s.end)
    for mode in MODES_:
        release = c.channel(mode).release if c.channel(mode) is not None else None
        if release is None:
            continue
        for j, b in enumerate(release.batches):
            if not start <= _utc(b.at) <= end:
                raise ScenarioError(f"{where}.{mode}.release.batches[{j}].at", b.at.isoformat(),
                                    f"must be within the period, from start ({s.start.isoformat()}) to end ({s.end.isoformat()})")
        quota_periods(s, release.quotas, f"{where}.{mode}.release.quotas")
