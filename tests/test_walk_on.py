"""Passengers who walk on: a policy splits the parties of cars; the walkers cross on foot, the driver keeps the place."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import PARAMS, tiny_scenario

from model.analysis.replication import summarise_replication
from model.cli import main
from model.engine import simulate_replication
from model.experiments.checks import check_conservation
from model.scenario import load_scenario, read_scenario_dict

CAR = {"booths": 1, "service": {"per_vehicle_min": 60.0, "dist": "fixed"}}
FOOT = {"booths": 10, "service": {"per_vehicle_min": 1.0, "dist": "fixed"}}


def jam(walk_on: list[dict], queue: int = 5, size: int | dict = 3, **changes):
    """``queue`` cars of ``size`` (or a size distribution) waiting at the start before one 60-minute booth, a fast
    pedestrian channel, walking at 3 km/h."""
    sizes = size if isinstance(size, dict) else {"dist": "fixed", "value": size}
    return tiny_scenario(origins=[{"name": "A", "people": 1, "party_size": {"car": sizes}}],
                         crossings=[{"name": "X", "car": CAR, "foot": FOOT, "initial_queue": {"origin": "A", "car": queue}}],
                         walking={"walk_speed_kmh": {"dist": "fixed", "value": 3.0}}, walk_on=walk_on, **changes)


def test_the_walkers_leave_the_car_walk_past_the_queue_and_the_driver_keeps_the_place():
    records = simulate_replication(jam([{"name": "pedestrians allowed"}]))
    p = records.parties
    cars = p["initial"]
    walkers = p["split_from"] >= 0
    assert walkers.sum() == 5 and (p["people"][cars] == 1).all() and (p["people"][walkers] == 2).all()
    assert set(p["split_from"][walkers]) == set(p["party_id"][cars])
    assert (p["mode"][walkers] == "car").all() and p["walked"][walkers].all()  # set off by car, crossed on foot
    # each walks from its car's place: the cars waiting ahead (not the one at the booth) x 7.5 m, at 3 km/h
    order = np.argsort(p["split_from"][walkers])
    np.testing.assert_allclose(p["arrived_at"][walkers][order], np.array([0, 0, 1, 2, 3]) * 0.0075 / 3.0 * 60.0)
    np.testing.assert_allclose(np.sort(p["crossed_at"][cars]), [60.0, 120.0, 180.0, 240.0, 300.0])
    assert (p["crossed_at"][walkers] < 2.0).all()
    # people are conserved and the car queue counts only the drivers after the split
    assert p["people"][cars | walkers].sum() == 15
    q = records.queues
    car = q["channel"] == "car"
    assert q["people_waiting"][car].max() == 4


def test_a_rule_from_a_later_time_splits_those_then_waiting_and_later_arrivals_only():
    records = simulate_replication(jam([{"starts": "2024-01-01T01:30:00+00:00", "share": 1.0, "stay": 2}]))
    p = records.parties
    walkers = p["split_from"] >= 0
    assert (p["people"][walkers] == 1).all()  # two stay with each car
    # at 01:30 the first car has crossed (60 min) and the second is at the booth: three cars were waiting
    assert set(p["split_from"][walkers][p["arrived_at"][walkers] >= 90.0]) >= set(p["party_id"][p["initial"]][2:])
    assert p["arrived_at"][walkers].min() == pytest.approx(90.0)


def test_a_share_splits_about_that_share_and_parties_of_one_never():
    s = jam([{"share": 0.5}], queue=2000, end="2024-01-01T02:00:00+00:00")
    p = simulate_replication(s).parties
    split = np.isin(p["party_id"], p["split_from"][p["split_from"] >= 0])
    share = split[p["initial"]].mean()
    assert 0.46 < share < 0.54
    mixed = simulate_replication(jam([{}], queue=200, size={"dist": "discrete", "values": [1, 3], "probs": [0.5, 0.5]})).parties
    walkers = mixed["split_from"][mixed["split_from"] >= 0]
    alone = mixed["initial"] & (mixed["people"] == 1) & ~np.isin(mixed["party_id"], walkers)
    assert len(walkers) > 50 and alone.sum() > 50  # cars of 3 split, drivers alone never do
    assert (mixed["people"][np.isin(mixed["party_id"], walkers)] == 1).all()


def test_when_patience_runs_out_the_walkers_go_and_the_driver_keeps_the_place():
    """Patience of exactly 90 min: cars 3-5 (waiting since 0, not at the booth by 90 min) split then; their walkers
    walk from their places, the drivers stay (no more patience) and cross at 180, 240 and 300 min."""
    s = jam([{"when": "patience"}], behaviour={"car": {"patience_h": {"dist": "fixed", "value": 1.5},
                                                       "renege": {"give_up": 1.0}}})
    p = simulate_replication(s).parties
    cars, walkers = p["initial"], p["split_from"] >= 0
    assert sorted(p["split_from"][walkers]) == sorted(p["party_id"][cars][2:])
    np.testing.assert_allclose(p["arrived_at"][walkers] - 90.0, np.array([0, 1, 2])[np.argsort(np.argsort(p["split_from"][walkers]))]
                               * 0.0075 / 3.0 * 60.0)
    assert (p["outcome"][cars] == "crossed").all()
    np.testing.assert_allclose(np.sort(p["crossed_at"][cars]), [60.0, 120.0, 180.0, 240.0, 300.0])
    # without the rule, the same three give up at 90 min
    p0 = simulate_replication(jam([], behaviour={"car": {"patience_h": {"dist": "fixed", "value": 1.5},
                                                         "renege": {"give_up": 1.0}}})).parties
    assert (p0["outcome"][p0["initial"]] == "gave_up").sum() == 3


def test_people_are_conserved_through_the_split():
    s = jam([{"share": 0.7}], queue=50)
    result = summarise_replication(s, simulate_replication(s))
    rows = check_conservation(s, [result])
    assert all(r.passed for r in rows), [(r.name, r.simulated) for r in rows]


def test_a_scenario_without_walk_on_has_no_split_column():
    p = simulate_replication(tiny_scenario()).parties
    assert "split_from" not in p


BAD = {
    "a crossing with no foot channel": (["walk_on=[{crossings=[\"X\"]}]"], "has no foot channel"),
    "no crossing with a foot channel": (["walk_on=[{share=0.5}]"], "no crossing has a foot channel"),
    "an unknown crossing": (["walk_on=[{crossings=[\"Nowhere\"]}]"], "must be one of"),
    "two rules for one crossing": (["walk_on=[{name=\"a\"}, {name=\"b\"}]"], "one rule per crossing, mode and when"),
    "a share of 0": (["walk_on=[{share=0}]"], "share"),
    "more staying than any car holds": (["walk_on=[{stay=4}]"], "must be below the largest car party (4 people)"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_walk_on_is_one_line_and_exit_2(case, capsys, tmp_path):
    settings, fragment = BAD[case]
    base = tmp_path / "x.toml"
    text = (PARAMS / "one_crossing_constant.toml").read_text()
    base.write_text(text)
    name = read_scenario_dict(base)["crossings"][0]["name"]
    extra = [] if "foot channel" in case else [f"crossings.{name}.foot.booths=1",
                                                                 f"crossings.{name}.foot.service.per_vehicle_min=1"]
    args = [a for s in extra + [x.replace('"X"', f'"{name}"') for x in settings] for a in ("--set", s)]
    code = main(["run", str(base), *args, "--replications", "1", "--workers", "1", "--out", str(tmp_path / "o"), "--quiet"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "error:" in lines[0], lines
    assert fragment in lines[0], lines[0]


def test_people_in_the_queue_count_walkers_in_their_car_until_they_leave_it():
    """The hourly people waiting (the report's people in the queue) equal the queue series at every hour: a car's
    passengers count in its queue until they walk on (a stay of theirs, ``walked_on``), then in the foot queue."""
    s = load_scenario(PARAMS / "example_walk_on.toml")
    r = summarise_replication(s, simulate_replication(s, 0))
    assert (r.stays["how"] == "walked_on").sum() > 0
    hourly = r.burden.hourly[r.burden.hourly["crossing"] == "Gate"]
    marks = hourly["time"].to_numpy(dtype=float)
    logged = 0
    for _, q in r.queues[r.queues["crossing"] == "Gate"].groupby("channel"):
        i = np.searchsorted(q["time"].to_numpy(dtype=float), marks, side="right") - 1
        logged = logged + np.where(i >= 0, q["people_waiting"].to_numpy()[np.maximum(i, 0)], 0)
    assert hourly["people_waiting"].to_numpy() == pytest.approx(logged)
    assert logged.max() > 500
