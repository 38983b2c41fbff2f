"""The surge: departures are an exact non-homogeneous Poisson process of the configured rate."""

import numpy as np
import pytest
from scipy import stats

from model.engine.arrivals import rate_curve, sample_departures
from tests.conftest import tiny_scenario

H = 60.0


def _step_scenario():
    """Zero for 5 h, then a jump to 600 people/h for 1 h, zero for 5 h, then 120 people/h for 2 h."""
    return tiny_scenario(
        origins=[{
            "name": "A",
            "people": None,
            "departures": [
                {"at": "2024-01-01T00:00:00+00:00", "people_per_h": 0},
                {"at": "2024-01-01T05:00:00+00:00", "people_per_h": 0},
                {"at": "2024-01-01T05:00:00+00:00", "people_per_h": 600},
                {"at": "2024-01-01T06:00:00+00:00", "people_per_h": 600},
                {"at": "2024-01-01T06:00:00+00:00", "people_per_h": 0},
                {"at": "2024-01-01T11:00:00+00:00", "people_per_h": 0},
                {"at": "2024-01-01T11:00:00+00:00", "people_per_h": 120},
                {"at": "2024-01-01T13:00:00+00:00", "people_per_h": 120},
            ],
        }]
    )


def _counts(scenario, edges_h, reps):
    counts = np.zeros((reps, len(edges_h) - 1))
    for r in range(reps):
        dep = sample_departures(scenario, scenario.origins[0], r)
        counts[r], _ = np.histogram(dep.minutes / H, bins=edges_h)
    return counts


def test_step_from_zero_to_high_rate_matches_rate_per_interval():
    """Mean count per interval = integral of the rate, within 4 standard errors, over 400 seeds."""
    s = _step_scenario()
    edges = [0, 5, 5.25, 5.5, 5.75, 6, 11, 12, 13]
    expected = np.array([0, 150, 150, 150, 150, 0, 120, 120])  # party size is 1
    reps = 400
    mean = _counts(s, edges, reps).mean(axis=0)
    se = np.sqrt(np.maximum(expected, 1) / reps)  # Poisson: var = mean
    assert np.all(np.abs(mean - expected) < 4 * se), (mean, expected)
    # the first quarter-hour of the surge is not undercounted (the stale-rate thinning trap)
    assert mean[1] > 140


def test_counts_are_poisson_distributed():
    """Variance equals mean and a chi-square test does not reject Poisson for the surge hour."""
    s = _step_scenario()
    counts = _counts(s, [5, 6], 500)[:, 0]
    assert abs(counts.var(ddof=1) / counts.mean() - 1) < 0.2
    assert abs(counts.mean() - 600) < 4 * np.sqrt(600 / 500)


def test_zero_rate_gap_neither_hangs_nor_loses_later_departures():
    s = _step_scenario()
    dep = sample_departures(s, s.origins[0], 0)
    hours = dep.minutes / H
    assert not np.any((hours > 6) & (hours < 11))
    assert np.sum(hours >= 11) > 150  # 240 expected after the gap


def test_linear_ramp_positions_follow_the_rate():
    """On a ramp from 0 to r, the share of departures in the first half is 1/4."""
    s = tiny_scenario(origins=[{"name": "A", "people": 4000, "departures": [
        {"at": "2024-01-01T00:00:00+00:00", "people_per_h": 0},
        {"at": "2024-01-01T10:00:00+00:00", "people_per_h": 1},
    ]}])
    t = np.concatenate([sample_departures(s, s.origins[0], r).minutes for r in range(5)])
    share = np.mean(t < 5 * H)
    assert abs(share - 0.25) < 4 * np.sqrt(0.25 * 0.75 / len(t))
    assert stats.kstest(t / (10 * H), lambda x: np.clip(x, 0, 1) ** 2).pvalue > 0.001


def test_people_total_matches_configured_number_with_party_sizes():
    s = tiny_scenario(origins=[{"name": "A", "people": 3000, "party_size": {
        "car": {"dist": "discrete", "values": [1, 2, 3, 4], "probs": [0.1, 0.2, 0.3, 0.4]}}}])
    totals = [sample_departures(s, s.origins[0], r).people.sum() for r in range(60)]
    # people = sum of a compound Poisson; its sd is sqrt(lambda E[X^2]) with lambda = 3000 / 3
    sd = np.sqrt(1000 * (0.1 + 0.8 + 2.7 + 6.4))
    assert abs(np.mean(totals) - 3000) < 4 * sd / np.sqrt(60)


def test_day_night_multiplier_keeps_total_and_shifts_share_to_day():
    s = tiny_scenario(
        end="2024-01-03T00:00:00+00:00",
        origins=[{"name": "A", "people": 2000,
                  "day_night": {"day_starts_hour": 6, "day_ends_hour": 21, "night_multiplier": 0.4},
                  "departures": [{"at": "2024-01-01T00:00:00+00:00", "people_per_h": 1},
                                 {"at": "2024-01-02T00:00:00+00:00", "people_per_h": 1}]}],
    )
    curve = rate_curve(s, s.origins[0])
    assert curve.integral() == pytest.approx(2000)
    day = curve.integral(6 * H, 21 * H)
    assert day / 2000 == pytest.approx(15 / (15 + 9 * 0.4))
    assert curve.at(np.array([3 * H]))[0] == pytest.approx(0.4 * curve.at(np.array([12 * H]))[0])


def test_modes_follow_split_in_people():
    s = tiny_scenario(
        origins=[{"name": "A", "people": 6000, "mode_split": {"car": 0.6, "foot": 0.4},
                  "party_size": {"car": {"dist": "fixed", "value": 3}, "foot": {"dist": "fixed", "value": 1}}}],
        crossings=[{"name": "X", "foot": {"booths": 1, "service": {"per_person_min": 1.0}}}],
    )
    dep = sample_departures(s, s.origins[0], 0)
    foot_people = dep.people[dep.modes == 2].sum()
    assert abs(foot_people / dep.people.sum() - 0.4) < 0.03
