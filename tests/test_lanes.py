"""Lanes that change: queue km = waiting vehicles x spacing / lanes in force, exactly, at every row of the series.

``lanes_schedule`` changes ``approach_lanes`` (and the spacings) at given
date-times. A deterministic queue (cars waiting at the start, fixed checks,
nobody else) makes the expected km known at every instant; the series must
hold a row at each change, and bad steps are refused in one line.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import PARAMS

from model.cli import main
from model.engine import simulate_replication
from model.experiments.checks import _iso, _one_gate
from model.scenario import load_scenario

BASE = PARAMS / "one_crossing_constant.toml"


def _queue(lanes_schedule: list[dict], lanes: int = 1, spacing_m: float = 8.0):
    """300 cars waiting at the start, one booth, fixed 10-minute checks, one day."""
    origin = {"people": 0, "departures": [{"at": _iso(0), "people_per_h": 1}, {"at": _iso(60), "people_per_h": 1}]}
    car = {"booths": 1, "service": {"per_vehicle_min": 10.0, "dist": "fixed"}}
    extra = {"initial_queue": {"origin": "town", "car": 300}, "approach_lanes": lanes, "car_spacing_m": spacing_m,
             "lanes_schedule": lanes_schedule}
    return _one_gate("lanes", 1440.0, origin, car, 1, extra)


def test_queue_km_follows_the_lanes_and_spacing_in_force():
    s = _queue([{"at": _iso(125), "lanes": 2}, {"at": _iso(605), "car_spacing_m": 6.0}, {"at": _iso(900), "lanes": 3}])
    q = simulate_replication(s, 0).queues
    t, vehicles, km = q["time"], q["vehicles_waiting"], q["queue_km"]
    spacing = np.where(t < 605, 8.0, 6.0)
    lanes = np.select([t < 125, t < 900], [1, 2], 3)
    assert np.array_equal(km, vehicles * (spacing / 1000.0 / lanes))
    for change in (125.0, 605.0, 900.0):  # the series records each change, with the new km
        row = np.flatnonzero(t == change)
        assert len(row) == 1
    # halving: just before and at the change to two lanes, the same cars take half the road
    before, at = np.flatnonzero(t < 125)[-1], np.flatnonzero(t == 125)[0]
    assert vehicles[before] == vehicles[at] and km[at] == pytest.approx(km[before] / 2)


def test_no_schedule_leaves_the_series_as_before():
    a = simulate_replication(_queue([]), 0).queues
    b = simulate_replication(_queue([{"at": _iso(1439), "lanes": 1}]), 0).queues
    early = b["time"] < 1439
    assert np.array_equal(a["queue_km"][a["time"] < 1439], b["queue_km"][early])


def test_the_live_queue_km_that_balking_reads_follows_the_lanes():
    """Balking compares a party's threshold with the pool's live queue km: it uses the lanes in force."""
    from model.engine.replication import Surge

    s = _queue([{"at": _iso(60), "lanes": 2}])
    surge = Surge(s, 0)
    pool = surge.posts["gate"].pools["car"]
    surge.env.run(until=61)
    assert pool.km_per_vehicle == pytest.approx(0.004)
    assert pool.queue_km == pytest.approx(pool.parties_waiting * 0.004)


BAD = {
    "a change before the start": ("[{at = 2024-04-30T23:00:00, lanes = 2}]",
                                  "crossings[Gate].lanes_schedule[0].at: got '2024-04-30T23:00:00+00:00'; must be at or after start"),
    "out of order": ("[{at = 2024-05-02T00:00:00, lanes = 2}, {at = 2024-05-01T12:00:00, lanes = 3}]",
                     "crossings[Gate].lanes_schedule[1].at: got '2024-05-01T12:00:00+00:00'; must come after"),
    "no lanes": ("[{at = 2024-05-02T00:00:00, lanes = 0}]", "crossings[Gate].lanes_schedule[0].lanes: got 0"),
    "nothing changes": ("[{at = 2024-05-02T00:00:00}]", "give lanes, car_spacing_m or bus_spacing_m"),
    "negative spacing": ("[{at = 2024-05-02T00:00:00, car_spacing_m = -7}]", "crossings[Gate].lanes_schedule[0].car_spacing_m: got -7"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_lanes_are_one_line_and_exit_2(case, capsys, tmp_path):
    value, fragment = BAD[case]
    code = main(["run", str(BASE), "--set", f"crossings.Gate.lanes_schedule={value}", "--replications", "1", "--workers", "1",
                 "--out", str(tmp_path / "o"), "--quiet"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "error:" in lines[0], lines
    assert "one_crossing_constant.toml" in lines[0] and fragment in lines[0], lines[0]


def test_the_example_runs_and_its_queue_km_halves_at_the_change(tmp_path, capsys):
    s = load_scenario(PARAMS / "example_lanes_change.toml")
    q = simulate_replication(s, 0).queues
    change = s.minutes(s.crossings[0].lanes_schedule[0].at)
    at = np.flatnonzero(q["time"] == change)[0]
    assert q["queue_km"][at] == pytest.approx(q["vehicles_waiting"][at] * 0.008 / 2)
    code = main(["run", str(PARAMS / "example_lanes_change.toml"), "--replications", "1", "--workers", "1",
                 "--out", str(tmp_path), "--quiet"])
    assert code == 0, capsys.readouterr().err
