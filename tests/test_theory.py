"""Queueing theory (model.analysis.theory) and the engine against it: Erlang C, the fluid solution, Little's law."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import tiny_scenario

from model import run_replication
from model.analysis.key_figures import crossing_series
from model.analysis.theory import erlang_b, erlang_c, fluid_queue, littles_law, littles_law_by_crossing, mmc
from model.experiments.checks import FLUID_CASE, check_fluid, fluid_expected, fluid_scenario
from model.experiments.mmc_check import (
    MMcCase,
    _mmc_replication,
    check_mmc,
    judge,
    mmc_cases,
    mmc_pool,
    mmc_rows,
    mmc_scenario,
    replications_needed,
    run_mmc,
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


def _values_around(exact: float, n: int, rel_sd: float, seed: int = 3) -> np.ndarray:
    """``n`` per-replication values whose mean is exactly ``exact`` and relative sd about ``rel_sd``."""
    z = np.random.default_rng(seed).standard_normal(n)
    return exact * (1.0 + rel_sd * (z - z.mean()) / z.std(ddof=1))


def test_judge_passes_unbiased_values_and_fails_a_20_percent_bias():
    """The judging function alone: 40 replications whose 95% half-width is about 2.4% of the exact value."""
    exact = 17.78
    fair = _values_around(exact, 40, 0.075)
    ok = judge(fair, exact, precision_pct=3.0)
    assert ok.passed and ok.contains and ok.precise and ok.half_width_pct < 3.0
    for bias in (0.8, 1.2):
        bad = judge(fair * bias, exact, precision_pct=3.0)
        assert bad.precise and not bad.contains and not bad.passed
    # A pass bounds the error by the target: every bias beyond 3% fails, whatever the noise.
    assert not judge(fair * 1.035, exact, precision_pct=3.0).passed
    # Imprecise values fail even when unbiased: the procedure must add replications instead.
    wide = judge(_values_around(exact, 10, 0.16), exact, precision_pct=3.0)
    assert wide.contains and not wide.precise and not wide.passed


def test_the_old_four_standard_error_rule_let_a_20_percent_bias_through():
    """10 replications with a 5% standard error: 4 SE = 20%, so the old rule passed a 20% bias; judge() does not."""
    exact = 17.78
    biased = _values_around(exact, 10, 0.16) * 1.2
    se = biased.std(ddof=1) / math.sqrt(len(biased))
    assert abs(biased.mean() - exact) <= 4 * se  # the old rule: pass
    assert not judge(biased, exact, precision_pct=3.0).passed


def test_replications_needed_follows_the_square_law():
    assert replications_needed(10, 0.06, 0.03) == 40
    assert replications_needed(10, 0.031, 0.03) == 11
    assert replications_needed(10, 0.02, 0.03) == 5


def test_real_replications_meet_the_precision_and_a_20_percent_bias_or_wrong_service_rate_fails():
    """rho = 0.5, 1 booth (the cheapest full case): the procedure reaches 3%; the same values judged against a
    20%-biased or 20%-wrong-service theory fail."""
    case = mmc_cases(quick=False)[0]
    assert (case.utilisation, case.booths) == (0.5, 1)
    (result,) = run_mmc([case], None)
    wait, p_wait, lq = result.judgements
    assert wait.precise and wait.half_width <= 0.03 * wait.exact
    assert wait.contains and p_wait.contains and lq.contains and not result.capped
    assert wait.exact == pytest.approx(10.0)  # M/M/1 at rho 0.5 and 10 min: Wq = rho / (mu - lambda)
    waits = result.values[:, 0]
    for bias in (0.8, 1.2):
        assert not judge(waits * bias, wait.exact, case.precision_pct).passed
    for service_min in (0.8 * case.service_min, 1.2 * case.service_min):  # theory at a 20% wrong service rate
        assert not judge(waits, case.theory(service_min).wq, case.precision_pct).passed


def _small_case(**kw) -> MMcCase:
    return MMcCase(0.8, 2, 1_000, 4, **{"precision_pct": 10.0, "max_replications": 40, **kw})


def test_sequential_procedure_keeps_earlier_replications_and_does_not_depend_on_workers():
    case = _small_case()
    one = run_mmc([case], None)[0]
    with mmc_pool(2) as pool:
        two = run_mmc([case], pool)[0]
    assert one.replications == two.replications > case.replications
    np.testing.assert_array_equal(one.values, two.values)
    scenario = mmc_scenario(case)
    first = [_mmc_replication(case, scenario, r) for r in range(case.replications)]
    np.testing.assert_array_equal(one.values[: case.replications], np.array(first))
    assert one.judgements[0].precise or one.replications == case.max_replications


def test_mmc_check_fails_and_says_so_when_the_cap_is_hit():
    rows = check_mmc(_small_case(precision_pct=0.5, max_replications=6))
    wait = rows[0]
    assert not wait.passed and "cap of 6 replications hit" in wait.tolerance and wait.replications == 6
    assert all("cap of 6" in r.tolerance for r in rows)


@pytest.mark.parametrize("quick", [True, pytest.param(False, marks=pytest.mark.slow)])
def test_every_validation_case_meets_its_precision_and_contains_erlang_c(quick):
    """The suite's cases as ``validate`` runs them (full: about 14 million customers, a few minutes on 2 cores)."""
    cases = mmc_cases(quick)
    with mmc_pool(2) as pool:
        results = run_mmc(cases, pool)
    for case, result in zip(cases, results):
        wait = result.judgements[0]
        assert wait.half_width <= case.precision_pct / 100 * wait.exact, (case, wait)
        assert case.precision_pct == ((20.0 if case.utilisation <= 0.9 else 30.0) if quick else
                                      (3.0 if case.utilisation <= 0.9 else 5.0))
        for j in result.judgements:
            assert j.low <= j.exact <= j.high, (case, j)
    rows = [row for result in results for row in mmc_rows(result)]
    assert all(r.passed for r in rows)
    assert all(r.replications >= 10 and r.customers == c.customers for r, c in zip(rows, [c for c in cases for _ in "abc"]))


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
