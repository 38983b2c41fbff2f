"""Release quotas and batches: exact against the fluid solution, no period over its quota, batches at their times.

A gate in front of a channel's booths (``crossings.<channel>.release``) lets
at most N parties start service per period, or a column of N at set times.
With booths that never limit, every service start is known exactly from the
arrival times (:func:`model.experiments.release_check.release_times`); with
everyone waiting at the start the cumulative released at the end of day k is
min(M, N (k + 1)). Bad input is one line and exit 2 through the command line.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import PARAMS

from model.cli import main
from model.engine import simulate_replication
from model.engine.booths import BoothPool
from model.engine.gates import GatedPool
from model.engine.replication import Surge
from model.experiments.checks import _iso, _one_gate
from model.experiments.release_check import RELEASE_CASE, check_release, release_scenario, release_times
from model.scenario import ScenarioError, load_scenario
from model.scenario.recurring import quota_periods

BASE = PARAMS / "one_crossing_constant.toml"


def _starts(s) -> tuple[np.ndarray, np.ndarray]:
    """(arrived, service start) of every party in arrival order."""
    p = simulate_replication(s, 0).parties
    order = np.lexsort((p["party_id"], p["arrived_at"]))
    return p["arrived_at"][order], p["service_start_at"][order]


def _waiting_only(initial: int, release: dict, days: int = 4, booths: int = 1000, service_min: float = 1e-3):
    """``initial`` cars waiting at the start, nobody else: a constant arrival stream of height ``initial``."""
    origin = {"people": 0, "departures": [{"at": _iso(0), "people_per_h": 1}, {"at": _iso(60), "people_per_h": 1}]}
    car = {"booths": booths, "service": {"per_vehicle_min": service_min, "dist": "fixed"}, "release": release}
    return _one_gate("gate", days * 1440.0, origin, car, 3, {"initial_queue": {"origin": "town", "car": initial}})


def test_daily_quota_on_a_waiting_queue_is_the_fluid_answer_exactly():
    n, m, days = 250, 900, 5
    s = _waiting_only(m, {"quotas": [{"parties": n}]}, days)
    _, started = _starts(s)
    for k in range(days):
        released = int(np.sum(started < (k + 1) * 1440.0))
        assert released == min(m, n * (k + 1))
    # each day's releases all at its midnight (booths never limit)
    assert set(np.unique(started[~np.isnan(started)])) == {0.0, 1440.0, 2880.0, 4320.0}


def test_quota_with_poisson_arrivals_matches_the_recursion_and_no_day_exceeds_it():
    s = release_scenario(RELEASE_CASE)
    arrived, started = _starts(s)
    periods = [(s.minutes(a), s.minutes(b), n) for a, b, n in quota_periods(s, s.crossings[0].car.release.quotas)]
    assert [(a, b) for a, b, _ in periods] == [(1440.0 * k, 1440.0 * (k + 1)) for k in range(RELEASE_CASE["days"])]
    expected = release_times(arrived, periods)
    assert np.array_equal(np.isnan(started), np.isnan(expected))
    assert np.array_equal(started[~np.isnan(started)], expected[~np.isnan(expected)])
    for a, b, n in periods:
        assert np.sum((started >= a) & (started < b)) <= n
    # the quota binds: every day releases exactly its quota (the queue never empties)
    assert all(np.sum((started >= a) & (started < b)) == n for a, b, n in periods)


def test_quota_holds_with_slow_booths_and_hourly_periods():
    """Booths that limit too: never more than N starts in any hour, whatever the booths could do."""
    s = _waiting_only(400, {"quotas": [{"parties": 7, "period_h": 1}]}, days=1, booths=3, service_min=2.0)
    _, started = _starts(s)
    counts = np.histogram(started[~np.isnan(started)], bins=np.arange(0, 1441, 60))[0]
    assert counts.max() == 7 and counts.min() == 7  # 3 booths x 30 services an hour would allow 90


def test_batches_leave_at_their_times_and_latecomers_wait_for_the_next():
    s = release_scenario(RELEASE_CASE, batches=True)
    arrived, started = _starts(s)
    times = np.array([s.minutes(b.at) for b in s.crossings[0].car.release.batches])
    assert np.array_equal(times, 1020.0 + 1440.0 * np.arange(RELEASE_CASE["days"]))  # 17:00 each day
    done = ~np.isnan(started)
    assert np.isin(started[done], times).all()  # every start at a batch time
    assert np.all(started[done] >= arrived[done])
    for t in times:
        assert np.sum(started == t) <= RELEASE_CASE["quota"]
    expected = release_times(arrived, [(t, t, RELEASE_CASE["quota"]) for t in times])
    assert np.array_equal(started[done], expected[done]) and np.isnan(expected[~done]).all()


def test_a_batch_goes_through_few_booths_in_quick_succession():
    """One booth, 10-minute checks: the column of 5 starts at 17:00, 17:10, ... 17:40; nobody else passes."""
    s = _waiting_only(20, {"batches": [{"at": _iso(1020), "parties": 5}]}, days=1, booths=1, service_min=10.0)
    _, started = _starts(s)
    assert list(started[~np.isnan(started)]) == [1020.0, 1030.0, 1040.0, 1050.0, 1060.0]


def test_quota_and_batches_together_a_released_party_still_needs_quota():
    release = {"quotas": [{"parties": 3}], "recurring_batches": [{"at": "06:00", "parties": 5}]}
    s = _waiting_only(20, release, days=2)
    _, started = _starts(s)
    assert list(started[~np.isnan(started)]) == [360.0] * 3 + [1440.0] * 2 + [1800.0]


def test_the_quota_in_force_at_the_start_counts_the_queue_waiting_then():
    s = _waiting_only(10, {"quotas": [{"parties": 4}]}, days=1)
    _, started = _starts(s)
    assert np.sum(~np.isnan(started)) == 4


@pytest.mark.filterwarnings("ignore:.*nobody to simulate")
def test_periods_are_local_wall_clock_days_across_a_daylight_saving_change():
    s = load_scenario(BASE, ["timezone=\"Europe/Warsaw\"", "start=2022-03-25T00:00:00", "end=2022-03-29T00:00:00",
                             "crossings.Gate.car.release={quotas = [{parties = 10}]}"])
    periods = quota_periods(s, s.crossings[0].car.release.quotas)
    hours = [(b - a).total_seconds() / 3600 for a, b, _ in periods]
    assert hours == [24, 24, 23, 24]  # 27 March 2022 is 23 hours long
    assert all(a.astimezone(s.zone).hour == 0 for a, _, _ in periods)


def test_a_channel_without_release_pays_nothing():
    s = load_scenario(BASE)
    assert type(Surge(s, 0).posts["Gate"].pools["car"]) is BoothPool
    q = load_scenario(BASE, ["crossings.Gate.car.release={quotas = [{parties = 10}]}"])
    assert type(Surge(q, 0).posts["Gate"].pools["car"]) is GatedPool


def test_the_validation_check_passes():
    rows = check_release()
    assert rows and all(r.passed for r in rows)


def test_overlapping_quotas_that_disagree_are_refused():
    with pytest.raises(ScenarioError, match="overlapping quotas must agree"):
        load_scenario(BASE, ["crossings.Gate.car.release={quotas = [{parties = 10}, {parties = 5, weekdays = [\"thu\"]}]}"])
    same = load_scenario(BASE, ["crossings.Gate.car.release={quotas = [{parties = 10}, {parties = 10, weekdays = [\"thu\"]}]}"])
    assert len(quota_periods(same, same.crossings[0].car.release.quotas)) == 3


BAD = {
    "quota below zero": ("{quotas = [{parties = -1}]}", "crossings[Gate].car.release.quotas[0].parties: got -1"),
    "period not dividing a day": ("{quotas = [{parties = 5, period_h = 5}]}", "period_h must divide 24"),
    "batch before the start": ("{batches = [{at = 2024-04-30T17:00:00, parties = 5}]}",
                               "crossings[Gate].car.release.batches[0].at: got '2024-04-30T17:00:00+00:00'; must be within the period"),
    "batch after the end": ("{batches = [{at = 2024-05-09T17:00:00, parties = 5}]}", "must be within the period"),
    "batch time of day not a time": ("{recurring_batches = [{at = \"25:00\", parties = 5}]}", "a time of day is needed"),
    "contradicting batches": ("{batches = [{at = 2024-05-02T17:00:00, parties = 5}], recurring_batches = [{at = \"17:00\", parties = 6}]}",
                              "crossings[Gate].car.release.recurring_batches[0]: got '2024-05-02T17:00:00+00:00'; contradicts"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_release_is_one_line_and_exit_2(case, capsys, tmp_path):
    value, fragment = BAD[case]
    out = tmp_path / "out"
    code = main(["run", str(BASE), "--set", f"crossings.Gate.car.release={value}", "--replications", "1",
                 "--workers", "1", "--out", str(out), "--quiet"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1, lines
    assert "error:" in lines[0] and "one_crossing_constant.toml" in lines[0] and fragment in lines[0], lines[0]


def test_the_example_runs(tmp_path, capsys):
    code = main(["run", str(PARAMS / "example_quota_batches.toml"), "--replications", "1", "--workers", "1",
                 "--out", str(tmp_path), "--quiet"])
    assert code == 0, capsys.readouterr().err
