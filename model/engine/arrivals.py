"""The surge: when parties leave each origin, by which mode and how many people each holds.

An origin's departure rate (people per hour) is piecewise linear between its
breakpoints, times an optional day/night multiplier, and rescaled so that its
integral equals the origin's ``people``. Departures are a non-homogeneous
Poisson process of parties, sampled exactly: for each linear piece, a Poisson
count with the piece's expected number, then positions drawn from the piece's
linear density by inverting its cumulative. No time stepping, no thinning with
a stale rate, and a zero-rate gap costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..scenario import MODES, Origin, Scenario
from .samplers import draw
from .streams import StreamId, stream

__all__ = ["RateCurve", "rate_curve", "sample_departures", "Departures", "party_sizes"]


@dataclass(frozen=True)
class RateCurve:
    """A piecewise-linear rate: ``rate[i]`` at ``minutes[i]``; equal times make a step."""

    minutes: np.ndarray  # breakpoints, minutes from scenario start, non-decreasing
    per_min: np.ndarray  # rate at each breakpoint, people per minute

    def at(self, t: float | np.ndarray) -> np.ndarray:
        """Rate (people per minute) at ``t``; right-continuous at steps, zero outside."""
        t = np.asarray(t, dtype=float)
        idx = np.searchsorted(self.minutes, t, side="right") - 1
        out = np.zeros_like(t)
        inside = (idx >= 0) & (idx < len(self.minutes) - 1)
        i = idx[inside]
        t0, t1 = self.minutes[i], self.minutes[i + 1]
        r0, r1 = self.per_min[i], self.per_min[i + 1]
        frac = np.where(t1 > t0, (t[inside] - t0) / np.where(t1 > t0, t1 - t0, 1.0), 0.0)
        out[inside] = r0 + (r1 - r0) * frac
        return out

    def integral(self, a: float = -np.inf, b: float = np.inf) -> float:
        """Expected people between minutes ``a`` and ``b``."""
        total = 0.0
        for t0, t1, r0, r1 in self.pieces():
            lo, hi = max(t0, a), min(t1, b)
            if hi <= lo:
                continue
            ra = r0 + (r1 - r0) * (lo - t0) / (t1 - t0)
            rb = r0 + (r1 - r0) * (hi - t0) / (t1 - t0)
            total += (ra + rb) / 2 * (hi - lo)
        return total

    def pieces(self):
        """(t0, t1, r0, r1) for every piece of positive length."""
        m, r = self.minutes, self.per_min
        for i in range(len(m) - 1):
            if m[i + 1] > m[i]:
                yield m[i], m[i + 1], r[i], r[i + 1]


def _day_night_switches(scenario: Scenario, origin: Origin, t0: float, t1: float) -> list[float]:
    """Minutes strictly between t0 and t1 where day starts or ends, local clock."""
    dn = origin.day_night
    start_local = scenario.at(t0)
    midnight = start_local.replace(hour=0, minute=0, second=0, microsecond=0)
    base = scenario.minutes(midnight)
    switches = []
    day = 0
    while base + day * 1440 <= t1:
        for hour in (dn.day_starts_hour, dn.day_ends_hour):
            t = base + day * 1440 + hour * 60
            if t0 < t < t1:
                switches.append(t)
        day += 1
    return sorted(switches)


def _is_day(scenario: Scenario, origin: Origin, t: float) -> bool:
    local = scenario.at(t)
    hour = local.hour + local.minute / 60 + local.second / 3600
    dn = origin.day_night
    return dn.day_starts_hour <= hour < dn.day_ends_hour


def _left_limit(curve: RateCurve, t: float) -> float:
    """Rate just before ``t`` (the end value of the piece that ends at ``t``)."""
    i = int(np.searchsorted(curve.minutes, t, side="left")) - 1
    if i < 0:
        return 0.0
    t0, t1 = curve.minutes[i], curve.minutes[i + 1]
    r0, r1 = curve.per_min[i], curve.per_min[i + 1]
    return float(r1 if t1 <= t else r0 + (r1 - r0) * (t - t0) / (t1 - t0))


def rate_curve(scenario: Scenario, origin: Origin) -> RateCurve:
    """The origin's departure rate in people per minute, day/night applied, scaled to ``people``."""
    minutes = np.array([scenario.minutes(p.at) for p in origin.departures], dtype=float)
    per_min = np.array([p.people_per_h / 60.0 for p in origin.departures], dtype=float)
    curve = RateCurve(minutes, per_min)
    if origin.day_night is not None:
        night = origin.day_night.night_multiplier

        def factor(t: float) -> float:
            return 1.0 if _is_day(scenario, origin, t) else night

        knots = sorted(set(minutes.tolist()) | set(_day_night_switches(scenario, origin, minutes[0], minutes[-1])))
        points: list[tuple[float, float]] = []
        for k, t in enumerate(knots):
            if k > 0:
                points.append((t, _left_limit(curve, t) * factor(t - 1e-6)))
            if k < len(knots) - 1:
                right = float(curve.at(np.array([t]))[0])
                if not points or abs(points[-1][1] - right * factor(t)) > 0:
                    points.append((t, right * factor(t)))
        curve = RateCurve(np.array([p[0] for p in points]), np.array([p[1] for p in points]))
    if origin.people is not None:
        total = curve.integral()
        curve = RateCurve(curve.minutes, curve.per_min * (origin.people / total if total > 0 else 0.0))
    return curve


def _sample_nhpp(curve: RateCurve, per_person_to_party: float, rng: np.random.Generator, t_end: float) -> np.ndarray:
    """Exact NHPP event times (minutes) of a piecewise-linear rate, up to ``t_end``."""
    times: list[np.ndarray] = []
    for t0, t1, r0, r1 in curve.pieces():
        if t0 >= t_end:
            break
        r0, r1 = r0 * per_person_to_party, r1 * per_person_to_party
        length = t1 - t0
        n = rng.poisson((r0 + r1) / 2 * length)
        if n == 0:
            continue
        u = rng.random(n)
        if abs(r1 - r0) < 1e-15 * max(r0, r1, 1e-300):
            x = u * length
        else:
            # invert r0 x + (r1 - r0) x^2 / (2 L) = u (r0 + r1) L / 2
            x = length * (np.sqrt(r0 * r0 + u * (r1 * r1 - r0 * r0)) - r0) / (r1 - r0)
        times.append(np.sort(t0 + x))
    if not times:
        return np.empty(0)
    out = np.concatenate(times)
    return out[(out >= 0) & (out < t_end)]


@dataclass(frozen=True)
class Departures:
    """All parties leaving one origin: times (minutes), modes and people, in time order."""

    origin: str
    minutes: np.ndarray
    modes: np.ndarray  # index into MODES
    people: np.ndarray


def party_sizes(sizes_spec, rng: np.random.Generator, n: int) -> np.ndarray:
    """Whole people per party, at least one."""
    return np.maximum(1, np.rint(draw(sizes_spec, rng, n))).astype(np.int64)


def sample_departures(scenario: Scenario, origin: Origin, replication: int) -> Departures:
    """Sample every departure of ``origin`` in the scenario period, from its own streams."""
    seed = scenario.seed
    shares = np.array([getattr(origin.mode_split, m) for m in MODES])
    mean_size = np.array(
        [getattr(origin.party_size, m).mean if shares[k] > 0 else 1.0 for k, m in enumerate(MODES)]
    )
    party_weight = shares / mean_size  # parties per person, by mode
    parties_per_person = float(party_weight.sum())
    curve = rate_curve(scenario, origin)
    times = _sample_nhpp(
        curve, parties_per_person, stream(seed, replication, StreamId.DEPARTURE_TIMES, origin.name), scenario.horizon_min
    )
    n = len(times)
    mode_rng = stream(seed, replication, StreamId.DEPARTURE_MODES, origin.name)
    modes = mode_rng.choice(len(MODES), size=n, p=party_weight / parties_per_person) if n else np.empty(0, dtype=int)
    people = np.ones(n, dtype=np.int64)
    for k, m in enumerate(MODES):
        mask = modes == k
        if mask.any():
            rng = stream(seed, replication, StreamId.PARTY_SIZES, origin.name, m)
            people[mask] = party_sizes(getattr(origin.party_size, m), rng, int(mask.sum()))
    return Departures(origin.name, times, modes.astype(np.int64), people)
