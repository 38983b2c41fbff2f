"""Vehicle classes: trucks in the car queue at their own length, with their own people and check."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import PARAMS, tiny_scenario

from model.analysis.replication import summarise_replication
from model.cli import main
from model.engine import simulate_replication

TRUCK = {"name": "truck", "share": 0.5, "spacing_m": 22.5, "party_size": {"dist": "fixed", "value": 1},
         "service": {"per_vehicle_min": 30.0, "dist": "fixed"}}


def jam(classes: list[dict], queue: int = 40):
    """``queue`` cars of 3 waiting at the start before one booth (10 min fixed), 7.5 m a car, one lane."""
    return tiny_scenario(origins=[{"name": "A", "people": 1, "party_size": {"car": {"dist": "fixed", "value": 3}}}],
                         crossings=[{"name": "X", "car": {"booths": 1, "service": {"per_vehicle_min": 10.0, "dist": "fixed"}},
                                     "car_spacing_m": 7.5, "initial_queue": {"origin": "A", "car": queue}}],
                         vehicle_classes=classes)


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


BAD = {
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
