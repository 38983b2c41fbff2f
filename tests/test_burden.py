"""Burden and needs figures against cases worked out by hand.

A hand-made replication (parties and stays written out, every figure
computed on paper in the comments) checks each figure of
:mod:`model.analysis.burden` and :mod:`model.analysis.needs`; a
deterministic queue run through the engine checks that the stays the engine
records give the person-hours, hourly counts and overnight counts known in
advance; bad ``[needs]`` input is refused in one line with exit 2 through the
real command line.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import tomli_w
from conftest import ROOT, TINY, tiny_scenario

from model.analysis import build_results
from model.analysis.burden import (
    ALL,
    WHOLE_RUN,
    local_days,
    night_windows,
    replication_burden,
    weighted_quantile,
)
from model.analysis.needs import PEAK_DAY, needs_by_replication
from model.experiments import run_replications
from model.experiments.one_more_booth import booth_added, bottleneck, one_more_booth
from model.experiments.replications import open_executor
from model.scenario import merge_scenarios

SERVICE = {"per_vehicle_min": 5.0, "dist": "fixed"}


def _two_crossings(**needs):
    """Two days (UTC) at crossings X (car, bus, foot) and Y (car); the scenario only names places and the clock here."""
    return tiny_scenario(
        end="2024-01-03T00:00:00+00:00",
        origins=[{"name": "A", "mode_split": {"car": 1.0}}],
        crossings=[{"name": "X", "car": {"booths": 1, "service": SERVICE}, "bus": {"booths": 1, "service": SERVICE},
                    "foot": {"booths": 1, "service": SERVICE}},
                   {"name": "Y", "lat": 50.3, "lon": 36.3, "car": {"booths": 1, "service": SERVICE}}],
        routes=[{"origin": "A", "crossing": "X", "road_km": 10, "travel_time_h": {"dist": "fixed", "value": 0.0}, "share": 0.5},
                {"origin": "A", "crossing": "Y", "road_km": 10, "travel_time_h": {"dist": "fixed", "value": 0.0}, "share": 0.5}],
        needs=needs,
    )


def _hand_case():
    """Parties and stays (minutes from Mon 1 Jan 2024 00:00 UTC) of one replication:

    P0: 3 people, car at X from 20:00 Mon to 23:00 Tue (1200-2820), crossed 2825.
    P1: 2 people, car at X 10:00-11:00 Mon, then walked: foot at X 11:00-12:00 (one continuous 2 h wait).
    P2: 1 person, car at X 23:00 Mon - 01:00 Tue, left; drove to Y; car at Y 02:00-03:00 Tue.
    bus 0 (party -1) with riders P3 (4 people) and P4 (6 people): bus queue at X 05:00-06:00 Mon.
    P5: 1 person on foot at X from 21:00 Tue, still waiting at the end (Wed 00:00).
    """
    parties = pd.DataFrame({
        "replication": 0, "party_id": [0, 1, 2, 3, 4, 5], "origin": "A", "mode": ["car", "car", "car", "bus", "bus", "foot"],
        "people": [3, 2, 1, 4, 6, 1], "crossing": ["X", "X", "Y", "X", "X", "X"],
        "crossed_at": [2825.0, 725.0, 1625.0, 365.0, 365.0, np.nan],
        "outcome": ["crossed", "crossed", "crossed", "crossed", "crossed", "waiting_at_end"],
        "bus_id": [-1, -1, -1, 0, 0, -1],
    })
    stays = pd.DataFrame({
        "replication": 0, "party_id": [0, 1, 1, 2, 2, -1, 5],
        "crossing": ["X", "X", "X", "X", "Y", "X", "X"], "channel": ["car", "car", "foot", "car", "car", "bus", "foot"],
        "joined_at": [1200.0, 600.0, 660.0, 1380.0, 1560.0, 300.0, 2700.0],
        "left_at": [2820.0, 660.0, 720.0, 1500.0, 1620.0, 360.0, np.nan],
        "how": ["served", "left", "served", "left", "served", "served", "waiting"],
    })
    return parties, stays


NEEDS = {"people": {"children_share": 0.25, "reception_share": 0.5, "reception_stay_days": 1.0},
         "items": [{"name": "blankets", "unit": "n", "quantity": 1, "basis": "people_overnight", "below_c": 5.0,
                    "round_up": True, "source": "assumption"}],
         "night_lows": [{"date": "2024-01-01", "low_c": 2.0}, {"date": "2024-01-02", "low_c": 8.0}]}


@pytest.fixture(scope="module")
def hand():
    s = _two_crossings(**NEEDS)
    parties, stays = _hand_case()
    b = replication_burden(s, parties, stays)
    daily = b.daily.set_index(["crossing", "date"])
    run = b.run.set_index("crossing")
    return s, b, daily, run


def test_the_clock_days_and_nights_in_local_time():
    s = _two_crossings()
    assert local_days(s) == [("2024-01-01", 0.0, 1440.0), ("2024-01-02", 1440.0, 2880.0)]
    # the night of Sun 31 Dec reaches into the run; the night of Tue 2 Jan is cut at the end
    assert night_windows(s) == [("2023-12-31", 0.0, 360.0), ("2024-01-01", 1320.0, 1800.0), ("2024-01-02", 2760.0, 2880.0)]
    moscow = tiny_scenario(timezone="Europe/Moscow", start="2024-01-01T00:00:00+03:00", end="2024-01-02T00:00:00+03:00",
                           needs={"night_starts_hour": 0.0, "night_ends_hour": 5.0})
    assert night_windows(moscow) == [("2024-01-01", 0.0, 300.0)]  # a night not passing midnight belongs to its date


def test_person_hours_by_day_split_on_foot_and_in_vehicles(hand):
    _, _, daily, _ = hand
    # Mon at X: P0 20-24 (4 h x 3) + P1 car 1 h x 2 + P1 foot 1 h x 2 + P2 23-24 (1 h) + bus 1 h x 10 = 27
    assert daily.loc[("X", "2024-01-01"), "person_hours_waiting_h"] == pytest.approx(27.0)
    assert daily.loc[("X", "2024-01-01"), "person_hours_on_foot_h"] == pytest.approx(2.0)
    assert daily.loc[("X", "2024-01-01"), "person_hours_in_vehicles_h"] == pytest.approx(25.0)
    # Tue at X: P0 00:00-23:00 (23 h) x 3 = 69, P2 00-01 = 1, P5 21-24 on foot = 3
    assert daily.loc[("X", "2024-01-02"), "person_hours_waiting_h"] == pytest.approx(73.0)
    assert daily.loc[("X", "2024-01-02"), "person_hours_on_foot_h"] == pytest.approx(3.0)
    assert daily.loc[("Y", "2024-01-02"), "person_hours_waiting_h"] == pytest.approx(1.0)
    assert daily.loc[(ALL, "2024-01-02"), "person_hours_waiting_h"] == pytest.approx(74.0)


def test_peaks_and_hourly_counts(hand):
    _, b, daily, _ = hand
    assert daily.loc[("X", "2024-01-01"), "people_waiting_peak"] == 10  # the bus, 05:00-06:00
    assert daily.loc[("X", "2024-01-01"), "people_waiting_peak_on_foot"] == 2
    assert daily.loc[("X", "2024-01-02"), "people_waiting_peak"] == 4  # P0 + P2 at 00:00, P0 + P5 at 21:00
    h = b.hourly.set_index(["crossing", "time"])
    assert h.loc[("X", 300.0), "people_waiting_in_vehicles"] == 10  # 05:00: the bus (joined at 05:00 counts)
    assert h.loc[("X", 360.0), "people_waiting"] == 0  # 06:00: it left at 06:00
    assert h.loc[("X", 660.0), "people_waiting_on_foot"] == 2  # 11:00: P1 has just walked
    assert h.loc[("Y", 1560.0), "people_waiting"] == 1 and h.loc[("Y", 1620.0), "people_waiting"] == 0
    assert h.loc[(ALL, 1440.0), "people_waiting"] == 4


def test_people_overnight_counted_once_per_night(hand):
    _, _, daily, _ = hand
    assert daily.loc[("X", "2023-12-31"), "people_waiting_overnight"] == 10  # the bus before 06:00 Mon
    # night Mon-Tue (22:00-06:00): P0 (3) and P2 (1) at X; P2 again at Y; all crossings count P2 once
    assert daily.loc[("X", "2024-01-01"), "people_waiting_overnight"] == 4
    assert daily.loc[("Y", "2024-01-01"), "people_waiting_overnight"] == 1
    assert daily.loc[(ALL, "2024-01-01"), "people_waiting_overnight"] == 4
    # night Tue-Wed: P0 until 23:00 and P5 on foot
    assert daily.loc[("X", "2024-01-02"), "people_waiting_overnight"] == 4
    assert daily.loc[("X", "2024-01-02"), "people_waiting_overnight_on_foot"] == 1
    # P1 (10:00-12:00) never waited at night
    assert daily.loc[("X", "2024-01-01"), "children_waiting_overnight"] == pytest.approx(4 * 0.25)


def test_longest_continuous_wait_and_nights_per_person(hand):
    _, _, _, run = hand
    # X: bus 1 h x 10, P1 2 h x 2 (car then foot, no gap: one wait), P2 2 h x 1, P5 3 h x 1 (to the end), P0 27 h x 3
    assert run.loc["X", "people_queued"] == 17
    assert run.loc["X", "longest_wait_p50_h"] == pytest.approx(1.0)  # 8.5th of 17 people: inside the bus's 10
    assert run.loc["X", "longest_wait_p90_h"] == pytest.approx(27.0)  # 15.3rd: among P0's 3 (people 15-17)
    assert run.loc["X", "longest_wait_max_h"] == pytest.approx(27.0)
    # P2 drove from X to Y: two waits of 2 h and 1 h, not one of 4 h
    assert run.loc["Y", "longest_wait_max_h"] == pytest.approx(1.0)
    assert run.loc[ALL, "longest_wait_p50_h"] == pytest.approx(1.0)
    assert run.loc["X", "people_waiting_1_night_or_more"] == 3 + 1 + 10 + 1
    assert run.loc["X", "people_waiting_2_nights_or_more"] == 3  # P0: Mon-Tue and Tue-Wed
    assert run.loc["X", "people_waiting_3_nights_or_more"] == 0
    assert run.loc[ALL, "people_waiting_1_night_or_more"] == 15  # P2 at X and Y in one night: once


def test_weighted_quantile_is_the_quantile_of_repeated_values():
    rng = np.random.default_rng(3)
    values, weights = rng.exponential(5.0, 40), rng.integers(0, 5, 40).astype(float)
    for q in (0.1, 0.5, 0.9, 0.95, 1.0):
        assert weighted_quantile(values, weights, q) == np.quantile(np.repeat(values, weights.astype(int)), q,
                                                                    method="inverted_cdf")
    assert math.isnan(weighted_quantile(values, np.zeros(40), 0.5))


def test_reception_beds_per_night(hand):
    _, _, daily, _ = hand
    # crossed and in reception (half of them, 1 day): P1 (2) at 12:05 Mon -> Tue 12:05, the bus (10) at 06:05 Mon,
    # P0 (3) at 23:05 Tue. Night Mon-Tue: P1 and the bus -> (2 + 10) x 0.5 = 6; night Tue-Wed: P0 -> 1.5
    assert daily.loc[("X", "2024-01-01"), "people_in_reception_overnight"] == pytest.approx(6.0)
    assert daily.loc[("X", "2024-01-02"), "people_in_reception_overnight"] == pytest.approx(1.5)
    assert daily.loc[("X", "2024-01-01"), "people_crossed"] == 12


def test_needs_from_the_standards(hand):
    s, _, daily, _ = hand
    n = needs_by_replication(s, daily.reset_index()).set_index(["crossing", "period"])
    assert n.loc[("X", "2024-01-01"), "water_survival_l"] == pytest.approx(27 / 24 * 3.0)
    assert n.loc[("X", "2024-01-01"), "water_basic_l"] == pytest.approx(27 / 24 * 15.0)
    assert n.loc[("X", "2024-01-01"), "food_kcal"] == pytest.approx(27 / 24 * 2100.0)
    assert n.loc[("X", "2024-01-01"), "toilets_n"] == 1  # ceil(10 / 50)
    assert n.loc[("X", "2024-01-01"), "covered_space_m2"] == pytest.approx(2 * 3.5)  # peak on foot
    assert n.loc[("X", "2024-01-02"), "reception_beds_n"] == 2  # ceil(1.5)
    # blankets below 5 C: Sun night has no low (counts as cold), Mon night 2 C, Tue night 8 C (none)
    assert n.loc[("X", "2023-12-31"), "blankets_n"] == 10
    assert n.loc[("X", "2024-01-01"), "blankets_n"] == 4
    assert n.loc[("X", "2024-01-02"), "blankets_n"] == 0
    assert n.loc[("X", WHOLE_RUN), "blankets_n"] == 14  # handed out per night: summed
    assert n.loc[("X", PEAK_DAY), "blankets_n"] == 10
    assert n.loc[("X", WHOLE_RUN), "water_survival_l"] == pytest.approx((27 + 73) / 24 * 3.0)
    assert n.loc[("X", WHOLE_RUN), "toilets_n"] == 1  # installed: the largest day, not the sum
    assert n.loc[(ALL, WHOLE_RUN), "toilets_n"] == 2  # one at X, one at Y
    assert n.loc[(ALL, "2024-01-02"), "water_survival_l"] == pytest.approx(74 / 24 * 3.0)
    # beds: the busiest night of all crossings together: Mon-Tue, 6 from X and ceil(0.5) from Y (P2 crossed there)
    assert n.loc[(ALL, WHOLE_RUN), "reception_beds_n"] == 7


def _queue_at_night(reps: int = 1, **changes):
    """Four cars of one person queued at 21:00, one booth, 60 min each: waits 0, 1, 2 and 3 h."""
    base = dict(start="2024-01-01T21:00:00+00:00", end="2024-01-02T03:00:00+00:00", replications=reps,
                origins=[{"name": "A", "people": 0}],
                crossings=[{"name": "X", "car": {"booths": 1, "service": {"per_vehicle_min": 60.0, "dist": "fixed"}},
                            "initial_queue": {"origin": "A", "car": 4}}])
    return tiny_scenario(**merge_scenarios(base, changes))


def test_a_deterministic_queue_through_the_engine():
    s = _queue_at_night(reps=2)
    results = build_results(s, run_replications(s, range(2), 1))
    b = results.burden.set_index(["crossing", "period"])
    assert b.loc[("X", "2024-01-01"), "person_hours_waiting_h"] == pytest.approx(0 + 1 + 2 + 3)  # all before midnight
    assert b.loc[("X", "2024-01-02"), "person_hours_waiting_h"] == 0  # the last car left at midnight
    assert b.loc[("X", WHOLE_RUN), "person_hours_waiting_h"] == pytest.approx(0 + 1 + 2 + 3)
    assert b.loc[("X", WHOLE_RUN), "person_hours_waiting_h_ci95_low"] == pytest.approx(6.0)  # same in every replication
    # waiting at 22:00 or later: the cars served at 23:00 and 00:00 (the one served at 22:00 left as the night began)
    assert b.loc[("X", "2024-01-01"), "people_waiting_overnight"] == 2
    assert b.loc[("X", WHOLE_RUN), "longest_wait_max_h"] == pytest.approx(3.0)
    h = results.burden_hourly[results.burden_hourly["crossing"] == "X"]
    assert list(h["people_waiting"]) == [3, 2, 1, 0, 0, 0]  # 21:00, 22:00, ... 02:00
    assert list(h["night"]) == [False, True, True, True, True, True]
    assert h["time"].iloc[0] == pd.Timestamp("2024-01-01T21:00:00+00:00")
    # the same counts as the engine's own queue series
    q = results.queues[(results.queues["crossing"] == "X") & (results.queues["replication"] == 0)]
    for t, n in zip(h["time"], h["people_waiting"]):
        assert q[q["time"] <= t]["people_waiting"].iloc[-1] == n
    n = results.needs.set_index(["crossing", "period"])
    assert n.loc[("X", WHOLE_RUN), "water_basic_l"] == pytest.approx(6 / 24 * 15.0)


def test_kharkiv_burden_agrees_with_its_key_figures():
    """Person-hours from the stays equal the key figure from the queue series; most at 03:00 likewise."""
    from model import load_scenario

    s = load_scenario(ROOT / "params" / "kharkiv_2022.toml", overrides=["replications=1"])
    results = build_results(s, run_replications(s, [0], 1))
    k = results.kpis.set_index(["crossing", "kpi"])["mean"]
    b = results.burden.set_index(["crossing", "period"])
    for c in ["Logachevka", "Shebekino", "Nekhoteevka", ALL]:
        assert b.loc[(c, WHOLE_RUN), "person_hours_waiting_h"] == pytest.approx(k[(c, "person_hours_waiting")], rel=1e-9)
    h = results.burden_hourly
    at3 = h[(h["crossing"] == ALL) & (h["time"].dt.hour == 3)]["people_waiting"].max()
    assert at3 == pytest.approx(k[(ALL, "people_waiting_at_night_max")])


UNIT = re.compile(r"(_h|_l|_kcal|_n|_m2)$|^(people|person_days|children|elderly|disability)_")


def test_units_in_every_column_name():
    s = _queue_at_night(reps=2)
    results = build_results(s, run_replications(s, range(2), 1))
    for frame in (results.burden, results.burden_hourly, results.needs):
        for col in frame.columns:
            if col in ("crossing", "period", "time", "night", "replication"):
                continue
            assert UNIT.search(col.removesuffix("_ci95_low").removesuffix("_ci95_high")), col


def test_same_burden_whatever_the_workers():
    s = _queue_at_night(reps=3, origins=[{"name": "A", "people": 40}],
                        crossings=[{"name": "X", "car": {"service": {"per_vehicle_min": 20.0, "dist": "exponential"}}}])
    one = build_results(s, run_replications(s, range(3), 1))
    two = build_results(s, run_replications(s, range(3), 2))
    pd.testing.assert_frame_equal(one.burden, two.burden)
    pd.testing.assert_frame_equal(one.needs, two.needs)


def test_one_more_booth_goes_to_the_bottleneck_and_shortens_the_queue():
    s = _queue_at_night(reps=2, crossings=[{"name": "X", "car": {"booth_schedule": [
        {"at": "2024-01-01T23:00:00+00:00", "booths": 0}, {"at": "2024-01-02T00:00:00+00:00", "booths": 2}]}}])
    base = build_results(s, run_replications(s, range(2), 1))
    assert bottleneck(base) == ("X", "car")
    more = booth_added(s, "X", "car")
    assert more.crossing("X").car.booths == 2
    assert [b.booths for b in more.crossing("X").car.booth_schedule] == [0, 3]  # a closed step stays closed
    effect = one_more_booth(s, base)
    t = effect.table.set_index("figure")
    # one booth, none 23:00-00:00, then two: waits 0, 1, 3, 3 h; two booths from 21:00: waits 0, 0, 1, 1 h
    assert t.loc["person_days_waiting", "baseline"] == pytest.approx(7 / 24)
    assert t.loc["person_days_waiting", "with_booth"] == pytest.approx(2 / 24)
    assert t.loc["person_days_waiting", "difference"] == pytest.approx(-5 / 24)
    assert t.loc["person_days_waiting", "difference_ci95_low"] == pytest.approx(-5 / 24)  # the same in both replications
    with open_executor("process", 2) as runner:  # on the run's own pool: the same comparison
        pd.testing.assert_frame_equal(one_more_booth(s, base, runner=runner).table, effect.table)


def _scenario_file(tmp_path, needs: dict):
    raw = {k: v for k, v in TINY.items()} | {"needs": needs}
    path = tmp_path / "bad.toml"
    path.write_text(tomli_w.dumps(raw), encoding="utf-8")
    return path


@pytest.mark.parametrize("needs, field, words", [
    ({"night_starts_hour": 24}, "needs.night_starts_hour", "less than 24"),
    ({"night_starts_hour": 6, "night_ends_hour": 6}, "needs", "must differ"),
    ({"items": [{"name": "Hot Drinks", "unit": "n", "quantity": 1, "basis": "people_overnight"}]}, "needs.items[Hot Drinks].name",
     "lower-case"),
    ({"items": [{"name": "toilets", "unit": "n", "quantity": 1, "basis": "peak_people"}]}, "needs.items[0].name", "twice"),
    ({"items": [{"name": "tea", "unit": "n", "quantity": 1, "basis": "per_car"}]}, "needs.items[tea].basis", "person_days"),
    ({"items": [{"name": "tea", "unit": "n", "quantity": -1, "basis": "person_days"}]}, "needs.items[tea].quantity", "greater than 0"),
    ({"origins": [{"origin": "Nowhere", "children_share": 0.2}]}, "needs.origins[0].origin", "must be one of ['A']"),
    ({"people": {"children_share": 1.5}}, "needs.people.children_share", "less than or equal to 1"),
    ({"people": {"reception_share": 0.1}}, "needs.people.reception_stay_days", "needs reception_stay_days"),
    ({"night_lows": [{"date": "2024-01-01", "low_c": 2}, {"date": "2024-01-01", "low_c": 3}]}, "needs.night_lows[1].date",
     "one low per night"),
])
def test_bad_needs_are_one_line_errors_with_exit_2(tmp_path, needs, field, words):
    path = _scenario_file(tmp_path, needs)
    done = subprocess.run([sys.executable, "-m", "model", "run", str(path), "--out", str(tmp_path / "out"), "--quiet"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert str(path) in lines[0] and f"{field}:" in lines[0] and words in lines[0], lines[0]
    assert not (tmp_path / "out").exists()
