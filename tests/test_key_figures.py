"""Key figures against cases worked by hand: surge clearance, the surge window, waits per person, diversions."""

import math

import numpy as np
import pytest

from model import run_replication
from model.analysis.key_figures import _person_waits, surge_arrivals, surge_cleared_at
from tests.conftest import tiny_scenario


def test_surge_clearance_is_the_first_lasting_fall_below_the_threshold_after_the_peak():
    t = np.array([0.0, 60, 120, 180, 600, 660])
    people = np.array([0.0, 100, 200, 30, 0, 60])
    # below 50 from 180 until 660 (480 min >= the 120-min hold): cleared at 180; the later bump does not move it
    assert surge_cleared_at(t, people, 50, 120, 1000) == 180
    # a lull before the peak does not count, nor a dip shorter than the hold
    t = np.array([0.0, 30, 60, 120, 180, 200, 300])
    people = np.array([60.0, 10, 100, 200, 30, 120, 10])
    assert surge_cleared_at(t, people, 50, 120, 1000) == 300


def test_surge_clearance_is_missing_without_a_surge_or_without_a_lasting_fall():
    t = np.array([0.0, 60, 120])
    assert math.isnan(surge_cleared_at(t, np.array([0.0, 40, 0]), 50, 120, 1000))  # never reached 50
    assert math.isnan(surge_cleared_at(t, np.array([0.0, 400, 10]), 50, 120, 200))  # below for 80 min only by the end
    assert surge_cleared_at(t, np.array([0.0, 400, 10]), 50, 80, 200) == 120  # a hold of 80 min fits


def test_the_surge_window_runs_from_the_first_time_the_threshold_is_reached_to_clearance():
    t = np.array([0.0, 100, 200, 300])
    people = np.array([0.0, 60, 80, 10])
    arrived = np.array([50, 100, 150, 200, 250, 300, 350, np.nan])
    assert surge_arrivals(t, people, arrived, 50, 300, 1000).tolist() == [False, True, True, True, True, False, False, False]
    # not cleared by the end: the window runs to the end of the run
    assert surge_arrivals(t, people, arrived, 50, math.nan, 1000).tolist() == [False, True, True, True, True, True, True, False]
    assert not surge_arrivals(t, people, arrived, 100, math.nan, 1000).any()  # no surge, no window


def test_waits_per_person_weight_each_party_by_its_people():
    out = _person_waits(np.array([1.0, 3.0]), np.array([3.0, 1.0]), "w", ("mean", "p50", "p90", "max"))
    assert out == {"w_mean_h": 1.5, "w_p50_h": 1.0, "w_p90_h": pytest.approx(2.4), "w_max_h": 3.0}
    assert math.isnan(_person_waits(np.array([]), np.array([]), "w", ("mean",))["w_mean_h"])


def _kpis(scenario):
    k = run_replication(scenario, 0).kpis
    return k.set_index("crossing")


def test_a_deterministic_queue_clears_when_worked_out_by_hand():
    """120 cars of one person queue at the start at one booth taking 5 min each (almost nobody else comes):
    the first is served at once, so 119 wait; fewer than 50 wait after 70 more services, at 350 min."""
    late = [{"at": "2024-01-01T20:00:00+00:00", "people_per_h": 1}, {"at": "2024-01-01T21:00:00+00:00", "people_per_h": 1}]
    s = tiny_scenario(origins=[{"name": "A", "people": 1, "departures": late}],
                      crossings=[{"name": "X", "initial_queue": {"origin": "A", "car": 120}}],
                      key_figures={"clearance_people": 50, "clearance_hold_h": 6})
    k = _kpis(s)
    assert k.loc["X", "surge_cleared_at"] == 350.0
    assert k.loc["all", "surge_cleared_at"] == 350.0
    # one person a party: waits per person are the waits per party; the 120 queued in the surge window
    assert k.loc["X", "person_wait_mean_h"] == pytest.approx(k.loc["X", "wait_mean_h"])
    assert k.loc["X", "surge_people_served"] == 120
    assert k.loc["X", "surge_person_wait_max_h"] == pytest.approx(119 * 5 / 60)
    # mean wait of the 120 cars served every 5 min from 0: (0 + 5 + ... + 595) / 120 min
    assert k.loc["X", "surge_person_wait_mean_h"] == pytest.approx(np.arange(120).mean() * 5 / 60)


def test_diversions_count_where_people_left_as_well_as_where_they_went():
    """Balking at a long queue at X sends people on to Y: X counts them as diverted away, Y as diverted in."""
    s = tiny_scenario(
        origins=[{"name": "A", "people": 300, "choice": {"method": "shares"}}],
        crossings=[{"name": "X", "car": {"booths": 1, "service": {"per_vehicle_min": 10.0, "dist": "fixed"}}},
                   {"name": "Y", "lat": 50.3, "lon": 36.3, "car": {"booths": 3, "service": {"per_vehicle_min": 5.0, "dist": "fixed"}}}],
        routes=[{"origin": "A", "crossing": "X", "road_km": 10, "travel_time_h": {"dist": "fixed", "value": 0.0}, "share": 1.0},
                {"origin": "A", "crossing": "Y", "road_km": 30, "travel_time_h": {"dist": "fixed", "value": 0.5}, "share": 0.0}],
        behaviour={"car": {"balk_queue_km": {"dist": "fixed", "value": 0.05}}},
    )
    k = _kpis(s)
    assert k.loc["X", "people_diverted_away"] > 20
    assert k.loc["X", "people_diverted_away"] == k.loc["Y", "people_diverted"]
    assert 0 < k.loc["all", "people_diverted_away"] <= k.loc["all", "people_diverted"]  # some may divert back to where they started


def test_people_waiting_at_home_for_a_road_are_a_figure_of_their_own():
    road = {"origin": "A", "crossing": "X", "road_km": 10, "travel_time_h": {"dist": "fixed", "value": 0.0}, "share": 1.0,
            "closed_from": "2024-01-01T02:00:00+00:00"}
    s = tiny_scenario(routes=[road], information={"closure_known_after_min": 0.0})
    rec = run_replication(s, 0)
    home = rec.parties[rec.parties["crossing"].isna()]["people"].sum()
    k = rec.kpis.set_index("crossing")
    assert home > 50
    assert k.loc["all", "people_waiting_at_home_at_end"] == home
    assert k.loc["all", "people_waiting_for_bus_at_end"] == 0
    assert k.loc["all", "people_waiting_at_end"] == home


def test_a_replication_in_which_nobody_leaves_still_has_its_key_figures():
    """One person expected: some replications have no party at all; their figures are zeros, not a crash."""
    from model.experiments import run_replications

    s = tiny_scenario(origins=[{"name": "A", "people": 1}])
    recs = run_replications(s, range(20))  # replications 11 and 19 have none
    empty = [r for r in recs if r.parties.empty]
    assert empty, "expected at least one replication without parties"
    k = empty[0].kpis.set_index("crossing")
    assert list(k.index) == ["X", "all"] and k.loc["all", "people_departed"] == 0 and k.loc["all", "peak_queue_km"] == 0
