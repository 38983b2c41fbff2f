"""Vehicle classes: trucks in the car queue at their own length, with their own people and check, or in a lane of their own."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import PARAMS, tiny_scenario

from model.analysis.replication import summarise_replication
from model.cli import main
from model.engine import Surge, simulate_replication
from model.scenario import ScenarioError

TRUCK = {"name": "truck", "share": 0.5, "spacing_m": 22.5, "party_size": {"dist": "fixed", "value": 1},
         "service": {"per_vehicle_min": 30.0, "dist": "fixed"}}


def jam(classes: list[dict], queue: int = 40, **changes):
    """``queue`` cars of 3 waiting at the start before one booth (10 min fixed), 7.5 m a car, one lane (and ``changes``)."""
    return tiny_scenario(origins=[{"name": "A", "people": 1, "party_size": {"car": {"dist": "fixed", "value": 3}}}],
                         crossings=[{"name": "X", "car": {"booths": 1, "service": {"per_vehicle_min": 10.0, "dist": "fixed"}},
                                     "car_spacing_m": 7.5, "initial_queue": {"origin": "A", "car": queue}}],
                         vehicle_classes=classes, **changes)


def test_the_queue_km_counts_each_vehicle_at_its_own_length():
    records = simulate_replication(jam([TRUCK]))
    p, q = records.parties, records.queues
    initial = p["initial"]
    trucks = initial & (p["vehicle_class"] == "truck")
    assert 10 < trucks.sum() < 30 and (p["people"][trucks] == 1).all() and (p["people"][initial & ~trucks] == 3).all()
    # at the start (after the first went to the booth): 39 vehicles waiting, trucks 3 car lengths each
    car = q["channel"] == "car"
    first_waiting = p["party_id"][initial][1:]
    n_trucks = np.isin(first_waiting, p["party_id"][trucks]).sum()
    expected_km = (len(first_waiting) - n_trucks + 3 * n_trucks) * 0.0075
    assert q["queue_km"][car][0] == pytest.approx(expected_km)
    assert q["vehicles_waiting"][car][0] == len(first_waiting)
    # the booth takes 30 min for a truck, 10 for a car: the k-th starts after the services of those ahead
    order = np.argsort(p["service_start_at"][initial])
    starts = p["service_start_at"][initial][order]
    durations = np.where(trucks[initial][order], 30.0, 10.0)
    np.testing.assert_allclose(starts, np.concatenate([[0.0], np.cumsum(durations)[:-1]]))
    assert abs(q["queue_km"][car]).min() == 0.0


def test_key_figures_and_the_party_column_per_vehicle_class():
    s = jam([TRUCK])
    r = summarise_replication(s, simulate_replication(s), extras=False)
    x = r.kpis.set_index("crossing")
    crossed = r.parties[(r.parties["outcome"] == "crossed") & (r.parties["vehicle_class"] == "truck")]
    assert x.loc["X", "wait_mean_h_truck"] == pytest.approx(crossed["wait_h"].mean())
    assert set(r.parties["vehicle_class"]) <= {"car", "truck", ""}
    plain = simulate_replication(tiny_scenario()).parties
    assert "vehicle_class" not in plain


OWN = TRUCK | {"lane": "own", "booths": 1}


def _by_channel(records, channel: str) -> np.ndarray:
    """The party ids of the stays in ``channel``."""
    st = records.stays
    return st["party_id"][st["channel"] == channel]


def test_a_truck_lane_takes_trucks_only_and_counts_them_at_their_spacing_on_one_lane():
    records = simulate_replication(jam([OWN]))
    p, q = records.parties, records.queues
    trucks = p["party_id"][p["vehicle_class"] == "truck"]
    assert 10 < len(trucks) < 30
    in_lane, in_car = _by_channel(records, "car@truck"), _by_channel(records, "car")
    assert np.isin(in_lane, trucks).all() and len(set(in_lane)) == len(trucks)  # every truck, and trucks only
    assert not np.isin(in_car, trucks).any()  # no car ever waits in the truck lane, no truck in the car queue
    lane, car = q["channel"] == "car@truck", q["channel"] == "car"
    # the lane's km: trucks waiting x 22.5 m on one lane; the car queue's: cars x 7.5 m
    np.testing.assert_allclose(q["queue_km"][lane], q["vehicles_waiting"][lane] * 0.0225)
    np.testing.assert_allclose(q["queue_km"][car], q["vehicles_waiting"][car] * 0.0075)
    initial = p["initial"]
    n_trucks = (initial & (p["vehicle_class"] == "truck")).sum()
    assert q["vehicles_waiting"][lane][0] == n_trucks - 1 and q["queue_km"][lane][0] == pytest.approx((n_trucks - 1) * 0.0225)
    assert q["vehicles_waiting"][car][0] == initial.sum() - n_trucks - 1


def test_trucks_in_their_own_lane_no_longer_wait_behind_the_cars():
    """The same jam and seed, so the same parties are trucks: in the shared lane the k-th starts after everyone ahead
    (cars 10 min, trucks 30); in a lane of their own the trucks start at 0, 30, 60... at their one booth and the cars
    at 0, 10, 20... at theirs, in the order they stood."""
    own, shared = simulate_replication(jam([OWN])), simulate_replication(jam([TRUCK]))
    np.testing.assert_array_equal(own.parties["vehicle_class"], shared.parties["vehicle_class"])
    p = own.parties
    initial = p["initial"]
    order = np.argsort(p["party_id"][initial])  # the order they stood in
    starts = p["service_start_at"][initial][order]
    is_truck = (p["vehicle_class"][initial] == "truck")[order]
    np.testing.assert_allclose(starts[is_truck], 30.0 * np.arange(is_truck.sum()))
    np.testing.assert_allclose(starts[~is_truck], 10.0 * np.arange((~is_truck).sum()))
    # shared: one booth for all, so a truck waits for every car ahead of it too
    before = shared.parties["service_start_at"][initial][order]
    durations = np.where(is_truck, 30.0, 10.0)
    np.testing.assert_allclose(before, np.concatenate([[0.0], np.cumsum(durations)[:-1]]))
    assert (starts <= before).all() and (starts[is_truck][1:] < before[is_truck][1:]).all()


def test_a_truck_lane_only_at_the_crossings_named_and_closed_with_the_crossing():
    s = tiny_scenario(crossings=[{"name": "Y", "lat": 50.1, "lon": 36.2, "car": {"booths": 1, "service": {"per_vehicle_min": 5.0,
                                  "dist": "fixed"}}}, {"name": "X", "closures": [{"starts": "2024-01-01T02:00:00+00:00",
                                                                                   "ends": "2024-01-01T03:00:00+00:00"}]}],
                      vehicle_classes=[OWN | {"crossings": ["X"]}])
    surge = Surge(s, 0)
    x, y = surge.posts["X"], surge.posts["Y"]
    assert list(x.vehicle_lanes) == [1] and x.vehicle_lanes[1].label == "car@truck" and not y.vehicle_lanes
    assert x.vehicle_lanes[1] in x.all_pools() and x.vehicle_lanes[1] in x.ruled_pools("car") + x.ruled_pools(None)
    assert x.vehicle_lanes[1] not in x.ruled_pools("foot")
    q = simulate_replication(s).queues
    lane = q["channel"] == "car@truck"
    assert set(q["crossing"][lane]) == {"X"}
    closed = lane & (q["time"] >= 120.0) & (q["time"] < 180.0)
    assert closed.any() and (q["booths_open"][closed] == 0).all()


def test_a_truck_lane_needs_a_car_channel_at_its_crossings():
    walkers = {"name": "Y", "lat": 50.1, "lon": 36.2, "foot": {"booths": 1, "service": {"per_vehicle_min": 1.0, "dist": "fixed"}}}
    with pytest.raises(ScenarioError, match=r"vehicle_classes\[truck\]\.crossings: got 'Y'; has no car channel"):
        tiny_scenario(crossings=[walkers], vehicle_classes=[OWN | {"crossings": ["Y"]}])
    s = tiny_scenario(crossings=[walkers], vehicle_classes=[OWN])  # empty: every crossing with a car channel
    surge = Surge(s, 0)
    assert list(surge.posts["X"].vehicle_lanes) == [1] and not surge.posts["Y"].vehicle_lanes


def test_a_priority_lane_goes_before_a_truck_lane():
    records = simulate_replication(jam([OWN], priority=[{"name": "vip", "share": 1.0, "form": "own_lane", "booths": 1}]))
    assert len(_by_channel(records, "car@vip")) == len(records.parties["party_id"]) and not len(_by_channel(records, "car@truck"))


def test_shared_classes_make_no_lane():
    surge = Surge(jam([TRUCK]), 0)
    assert not surge.posts["X"].vehicle_lanes and [pool.label for pool in surge.posts["X"].all_pools()] == ["car"]


BAD = {
    "an own lane without booths": ('vehicle_classes=[{name="truck", share=0.1, spacing_m=20, lane="own"}]',
                                   "lane 'own' needs booths"),
    "booths on a shared class": ('vehicle_classes=[{name="truck", share=0.1, spacing_m=20, booths=2}]',
                                 "booths and crossings are for lane 'own'"),
    "crossings on a shared class": ('vehicle_classes=[{name="truck", share=0.1, spacing_m=20, crossings=["Gate"]}]',
                                    "booths and crossings are for lane 'own'"),
    "not a lane": ('vehicle_classes=[{name="truck", share=0.1, spacing_m=20, lane="side"}]',
                   "vehicle_classes[truck].lane: got 'side'"),
    "no booth": ('vehicle_classes=[{name="truck", share=0.1, spacing_m=20, lane="own", booths=0}]',
                 "vehicle_classes[truck].booths: got 0"),
    "an unknown crossing": ('vehicle_classes=[{name="truck", share=0.1, spacing_m=20, lane="own", booths=1, '
                            'crossings=["Nowhere"]}]', "vehicle_classes[truck].crossings: got 'Nowhere'; must be one of ['Gate']"),
    "a taken name": ('vehicle_classes=[{name="bus", share=0.1, spacing_m=20}]', "is taken"),
    "shares above 1": ('vehicle_classes=[{name="truck", share=0.7, spacing_m=20}, {name="van", share=0.5, spacing_m=10}]',
                       "shares summing above 1"),
    "an unknown origin": ('vehicle_classes=[{name="truck", share=0.1, spacing_m=20, origins=["Nowhere"]}]', "must be one of"),
    "no spacing": ('vehicle_classes=[{name="truck", share=0.1}]', "spacing_m"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_vehicle_classes_are_one_line_and_exit_2(case, capsys, tmp_path):
    setting, fragment = BAD[case]
    code = main(["run", str(PARAMS / "one_crossing_constant.toml"), "--set", setting, "--replications", "1",
                 "--workers", "1", "--out", str(tmp_path / "o"), "--quiet"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "error:" in lines[0], lines
    assert fragment in lines[0], lines[0]


def test_the_truck_lane_example_runs_with_its_channel_in_the_tables(tmp_path, capsys):
    code = main(["run", str(PARAMS / "example_truck_lane.toml"), "--replications", "1", "--workers", "1",
                 "--out", str(tmp_path), "--quiet", "--brief", "off"])
    assert code == 0, capsys.readouterr().err
    folder = next(tmp_path.glob("example_truck_lane/*"))
    q = pd.read_parquet(folder / "queues.parquet")
    lane = q[q["channel"] == "car@truck"]
    assert lane["queue_km"].max() > 0 and (lane["queue_km"] - lane["vehicles_waiting"] * 0.018).abs().max() < 1e-9
    stays = pd.read_parquet(folder / "stays.parquet")
    parties = pd.read_parquet(folder / "parties.parquet").set_index("party_id")
    assert set(parties.loc[stays.loc[stays["channel"] == "car@truck", "party_id"], "vehicle_class"]) == {"truck"}
    kpis = pd.read_csv(folder / "kpis.csv")
    assert "wait_mean_h_truck" in set(kpis["kpi"]) and (folder / "report.html").is_file()
