"""Queueing theory (model.analysis.theory) and the engine against it: Erlang C, the fluid solution, Little's law."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import tiny_scenario

from model import run_replication
from model.analysis.key_figures import crossing_series
from model.analysis.theory import erlang_b, erlang_c, fluid_queue, littles_law, littles_law_by_crossing, mmc
from model.experiments.checks import (
    FLUID_CASE,
    MMcCase,
    _mmc_measures,
    check_fluid,
    check_mmc,
    fluid_expected,
    fluid_scenario,
    mmc_scenario,
)
from model.experiments.replications import run_replications


def erlang_c_direct(c: int, a: float) -> float:
    """Erlang C from its textbook definition with factorials (independent of the recursion)."""
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


# --- Erlang C -------------------------------------------------------------------------------------


@pytest.mark.parametrize("c", [1, 2, 3, 5, 10, 20])
@pytest.mark.parametrize("rho", [0.1, 0.5, 0.8, 0.9, 0.95, 0.99])
def test_erlang_c_matches_the_factorial_formula(c, rho):
    assert erlang_c(c, rho * c) == pytest.approx(erlang_c_direct(c, rho * c), rel=1e-10)


def test_erlang_c_closed_forms_and_published_values():
    # M/M/1: P(wait) = rho; M/M/2: 2 rho^2 / (1 + rho) (Gross & Harris, 4th ed., section 2.3).
    assert erlang_c(1, 0.7) == pytest.approx(0.7)
    assert erlang_c(2, 1.6) == pytest.approx(2 * 0.8**2 / 1.8)
    # Call-centre tables (e.g. Cooper, Introduction to Queueing Theory, table of C(c, a)):
    # 10 agents at 8 erlangs wait with probability 0.409; 5 agents at 4 erlangs, 0.554.
    assert erlang_c(10, 8.0) == pytest.approx(0.4092, abs=5e-4)
    assert erlang_c(5, 4.0) == pytest.approx(0.5541, abs=5e-4)
    # Erlang B: 1 server at load 1 blocks half the time; the recursion stays finite for 500 servers.
    assert erlang_b(1, 1.0) == pytest.approx(0.5)
    assert 0 < erlang_c(500, 490.0) < 1


def test_mmc_figures_follow_littles_law_and_mm1():
    q = mmc(0.8, 1.0, 1)  # M/M/1: Wq = rho / (mu - lambda) = 4, W = 1 / (mu - lambda) = 5
    assert q.wq == pytest.approx(4.0) and q.w == pytest.approx(5.0) and q.lq == pytest.approx(3.2)
    q = mmc(3.6, 1.0, 4)
    assert q.lq == pytest.approx(3.6 * q.wq) and q.l == pytest.approx(3.6 * q.w)
    with pytest.raises(ValueError):
        mmc(4.0, 1.0, 4)


# --- the engine as an M/M/c queue -------------------------------------------------------------------


def test_simulated_mmc_matches_erlang_c():
    """rho = 0.8, 2 booths, 8 replications x 3,000 customers after warm-up.

    Tolerance: 4 standard errors measured across the replications. With
    24,000 customers the heavy-traffic estimate of the relative standard
    error of the mean wait, about 2 / ((1 - rho) sqrt(n)) = 6%, gives a band
    of roughly +/- 25% around Erlang C's 17.8 min; the asserted width below
    keeps the test from passing on noise alone.
    """
    case = MMcCase(0.8, 2, 3_000, 8)
    rows = check_mmc(case, workers=1)
    for row in rows:
        assert row.passed, row
    wait = rows[0]
    assert wait.expected == pytest.approx(mmc(case.arrival_per_min, 0.1, 2).wq)
    assert (wait.ci95_high - wait.ci95_low) / wait.expected < 0.4


def test_mmc_check_can_fail_when_service_is_off_by_ten_percent():
    """The same runs compared with the theory for 10% faster service are rejected."""
    case = MMcCase(0.8, 2, 3_000, 8)
    recs = run_replications(mmc_scenario(case), range(case.replications), 1)
    waits = np.array([_mmc_measures(case, r)[0] for r in recs])
    se = waits.std(ddof=1) / math.sqrt(len(waits))
    wrong = mmc(case.arrival_per_min, 1.0 / (0.9 * case.service_min), 2).wq
    right = mmc(case.arrival_per_min, 1.0 / case.service_min, 2).wq
    assert abs(waits.mean() - right) <= 4 * se
    assert abs(waits.mean() - wrong) > 4 * se


def test_many_booths_and_light_load_mean_no_wait():
    s = mmc_scenario(MMcCase(0.05, 20, 500, 1))
    p = run_replication(s, 0).parties
    assert (p["wait_h"].dropna() == 0).mean() > 0.999


# --- fluid -------------------------------------------------------------------------------------


def test_fluid_queue_by_hand():
    # 10 waiting, capacity 2/min until 10, then 5/min arrivals against 2/min, then 1/min capacity.
    q = fluid_queue([0, 10, 20], [0, 5, 0], [2, 2, 1], [0, 5, 10, 15, 20, 30, 100], initial=10)
    assert q.tolist() == [10, 0, 0, 15, 30, 20, 0]
    assert fluid_queue([5], [1], [0], [0, 5, 6]).tolist() == [0, 0, 1]


def test_deterministic_surge_follows_the_fluid_solution_exactly():
    rows, curve = check_fluid()
    assert all(r.passed for r in rows)
    assert curve["fluid_vehicles"].iloc[0] == FLUID_CASE["initial"] - 2
    assert (curve["fluid_vehicles"] == 0).any()  # the case runs until the queue is gone


def test_fluid_check_can_fail():
    """A service of 10.5 min instead of 10 drifts away from the 10-minute fluid solution."""
    slow = dict(FLUID_CASE, service_min=10.5)
    rec = run_replications(fluid_scenario(slow), [0])[0]
    series = crossing_series(rec.queues, columns=("vehicles_waiting",))
    at, expected = fluid_expected(FLUID_CASE)
    i = np.searchsorted(series["time"].to_numpy(), at, side="left") - 1
    assert np.max(np.abs(series["vehicles_waiting"].to_numpy()[i] - expected)) >= 10


# --- Little's law ------------------------------------------------------------------------------


def test_littles_law_by_hand():
    # Two people wait 0-10 and 5-15 (the second still waiting at the end, 12): area 10 + 7 = 17.
    check = littles_law([0, 5, 10, 12], [1, 2, 1, 1], joined=[0, 5], left=[10, np.nan], weights=[1, 1], end=12)
    assert check.time_average == pytest.approx(17 / 12)
    assert check.arrival_rate == pytest.approx(2 / 12) and check.mean_time == pytest.approx(8.5)
    assert check.holds and check.gap == pytest.approx(0)


def _reneging_scenario():
    """Overloaded crossing with impatient cars that walk or give up, and a foot channel: no diversions."""
    return tiny_scenario(
        origins=[{"name": "A", "people": 600, "mode_split": {"car": 0.8, "foot": 0.2},
                  "party_size": {"car": {"dist": "discrete", "values": [1, 2, 3], "probs": [0.3, 0.4, 0.3]}}}],
        crossings=[{"name": "X", "foot": {"booths": 1, "service": {"per_person_min": 2.0, "dist": "exponential"}}}],
        behaviour={"car": {"patience_h": {"dist": "exponential", "mean": 2.0}, "renege": {"walk": 0.5, "give_up": 0.5}}},
    )


def test_littles_law_holds_exactly_with_reneging_and_walking():
    s = _reneging_scenario()
    rec = run_replication(s, 0)
    assert (rec.parties["outcome"] == "gave_up").any() and rec.parties["walked"].any()
    check = littles_law_by_crossing(rec.parties, rec.queues, rec.stays, s.horizon_min)["X"]
    assert check.time_average == pytest.approx(check.lambda_w, rel=1e-9)
    assert check.holds


def test_littles_law_check_can_fail():
    """Stays shortened by ten minutes in the log no longer match the queue series."""
    s = _reneging_scenario()
    rec = run_replication(s, 0)
    stays = rec.stays.copy()
    done = stays["left_at"].notna()
    stays.loc[done, "joined_at"] = np.minimum(stays.loc[done, "joined_at"] + 10, stays.loc[done, "left_at"])
    assert not littles_law_by_crossing(rec.parties, rec.queues, stays, s.horizon_min)["X"].holds
