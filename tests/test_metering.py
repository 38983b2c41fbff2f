"""Metering up the road: a control point that passes one party per headway, only some origins, holds or turns back.

Tiny scenarios built in code, with no travel time, parties of one person and
booths at the crossing that never limit, so that every figure of the point is
known exactly: passes never closer than 60/vph minutes (exactly that apart
while a queue stands), held parties leave at the point's end, turned-back
parties do what the behaviour says. Bad input is one line and exit 2 through
the command line.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from conftest import PARAMS

from model.cli import main
from model.engine import simulate_replication
from model.scenario import scenario_from_dict

EXAMPLE = PARAMS / "example_metering.toml"
ONE = {"dist": "fixed", "value": 1}
FAST = {"booths": 50, "service": {"per_vehicle_min": 0.01, "dist": "fixed"}}


def _scenario(metering: list[dict], *, rate: float = 20.0, until_h: int = 12, crossings: int = 1, foot: bool = False,
              renege: dict | None = None, patience_h: float | None = None, **crossing) -> object:
    """Origins A and B (cars of one person at ``rate`` an hour each for ``until_h`` hours) driving to X in no
    time; a second crossing Y (reached by diverting only) if ``crossings`` is 2; one day."""
    car = {"renege": renege or {"give_up": 1.0}}
    if patience_h is not None:
        car["patience_h"] = {"dist": "fixed", "value": patience_h}
    names = ["X", "Y"][:crossings]
    return scenario_from_dict({
        "name": "meter", "timezone": "UTC", "start": "2024-01-01T00:00:00", "end": "2024-01-02T00:00:00", "seed": 3,
        "origins": [{"name": name, "lat": 50.0, "lon": 36.0 + k / 10, "mode_split": {"car": 1.0},
                     "party_size": {"car": ONE, "foot": ONE},
                     "departures": [{"at": "2024-01-01T00:00:00", "people_per_h": rate},
                                    {"at": f"2024-01-01T{until_h:02d}:00:00", "people_per_h": rate},
                                    {"at": f"2024-01-01T{until_h:02d}:00:00", "people_per_h": 0}]}
                    for k, name in enumerate(["A", "B"])],
        "crossings": [{"name": name, "lat": 50.3, "lon": 36.2 + k / 5, "car": FAST, **({"foot": FAST} if foot else {}),
                       **crossing} for k, name in enumerate(names)],
        "routes": [{"origin": o, "crossing": "X", "road_km": 10, "travel_time_h": {"dist": "fixed", "value": 0.0},
                    "share": 1.0} for o in ("A", "B")],
        "behaviour": {"car": car},
        "metering": metering,
    }, "meter")


def _run(s):
    """Parties, stays and queues of replication 0, as dicts of numpy columns."""
    r = simulate_replication(s, 0)
    return r.parties, r.stays, r.queues


def _at(stays, channel: str, crossing: str = "X") -> np.ndarray:
    return (stays["channel"] == channel) & (stays["crossing"] == crossing)


def test_one_party_per_headway_and_exactly_vph_an_hour_while_a_queue_stands():
    s = _scenario([{"name": "M", "crossing": "X", "origins": ["A"], "vehicles_per_hour": 30}], rate=120.0, until_h=6)
    parties, stays, queues = _run(s)
    here = _at(stays, "car@M")
    passed = np.sort(stays["left_at"][here & (stays["how"] == "served")])
    assert np.all(np.diff(passed) >= 2.0 - 1e-9)  # never closer than 60/30 minutes
    counts = np.histogram(passed, bins=np.arange(0, 1441, 60))[0]
    assert counts.max() <= 30
    # the state of the point's queue after every change: where it never empties in an hour, exactly 30 pass
    q = _at(queues, "car@M")
    t, waiting = queues["time"][q], queues["vehicles_waiting"][q]
    full = [k for k in range(24) if np.all(waiting[(t >= 60 * k) & (t < 60 * k + 60)] > 0)
            and waiting[t < 60 * k][-1:].max(initial=0) > 0]
    assert len(full) >= 15
    assert all(counts[k] == 30 for k in full), counts
    # B's road is not metered: its parties never meet the point
    b = set(parties["party_id"][parties["origin"] == "B"])
    assert not b & set(stays["party_id"][here])


def test_the_queue_at_the_point_is_reported_with_its_km():
    s = _scenario([{"name": "M", "crossing": "X", "vehicles_per_hour": 12}], rate=60.0, until_h=4,
                  car_spacing_m=8.0, approach_lanes=2)
    _, _, queues = _run(s)
    q = _at(queues, "car@M")
    assert queues["vehicles_waiting"][q].max() > 100
    assert np.allclose(queues["queue_km"][q], queues["vehicles_waiting"][q] * 8.0 / 1000.0 / 2)
    assert set(queues["channel"][queues["crossing"] == "X"]) == {"car", "car@M"}


def test_only_pass_origins_get_through_and_the_held_wait_for_ever():
    s = _scenario([{"name": "Police", "crossing": "X", "pass_origins": ["A"]}])
    parties, stays, _ = _run(s)
    a, b = parties["origin"] == "A", parties["origin"] == "B"
    assert a.sum() > 100 and b.sum() > 100
    assert np.all(parties["outcome"][a] == "crossed")
    assert np.all(parties["outcome"][b] == "waiting_at_end")
    held = _at(stays, "car@Police") & (stays["how"] == "waiting")
    assert sorted(stays["party_id"][held]) == sorted(parties["party_id"][b])
    allowed = _at(stays, "car@Police") & (stays["how"] == "served")
    assert np.array_equal(stays["joined_at"][allowed], stays["left_at"][allowed])  # no capacity limit: no wait


def test_held_parties_drive_on_when_the_metering_ends():
    s = _scenario([{"name": "M", "crossing": "X", "pass_origins": ["A"],
                    "starts": "2024-01-01T02:00:00", "ends": "2024-01-01T10:00:00"}])
    parties, stays, _ = _run(s)
    b = parties["origin"] == "B"
    arrived, started = parties["arrived_at"], parties["service_start_at"]
    held = b & (arrived >= 120) & (arrived < 600)
    assert held.sum() > 100 and np.all(started[held] >= 600) and np.all(parties["outcome"][b] == "crossed")
    free = b & ~held
    assert np.all(started[free] - arrived[free] < 1)  # before and after the window nobody is stopped
    here = _at(stays, "car@M")
    assert sorted(stays["party_id"][here]) == sorted(parties["party_id"][(arrived >= 120) & (arrived < 600)])
    of_b = here & np.isin(stays["party_id"], parties["party_id"][b])
    assert np.all(stays["left_at"][of_b] == 600.0)  # all at the point's end, at once


def test_a_held_party_whose_patience_runs_out_gives_up_there():
    s = _scenario([{"name": "M", "crossing": "X", "pass_origins": ["A"]}], patience_h=1.0)
    parties, _, _ = _run(s)
    b = parties["origin"] == "B"
    assert np.all(parties["outcome"][b] == "gave_up")
    assert np.allclose(parties["gave_up_at"][b] - parties["arrived_at"][b], 60.0)


def test_turned_back_parties_give_up_when_they_can_neither_walk_nor_divert():
    s = _scenario([{"name": "M", "crossing": "X", "pass_origins": ["A"], "refused": "turn_back"}],
                  renege={"walk": 0.5, "divert": 0.5, "give_up": 0.0})
    parties, stays, _ = _run(s)
    a, b = parties["origin"] == "A", parties["origin"] == "B"
    assert np.all(parties["outcome"][a] == "crossed") and np.all(parties["outcome"][b] == "gave_up")
    assert np.array_equal(parties["gave_up_at"][b], parties["arrived_at"][b])  # at once, at the point
    turned = _at(stays, "car@M") & (stays["how"] == "left")
    assert sorted(stays["party_id"][turned]) == sorted(parties["party_id"][b])


def test_turned_back_parties_walk_past_a_point_that_meters_cars_only():
    s = _scenario([{"name": "M", "crossing": "X", "pass_origins": ["A"], "refused": "turn_back", "modes": ["car"]}],
                  foot=True, renege={"walk": 1.0, "give_up": 0.0})
    parties, stays, _ = _run(s)
    b = parties["origin"] == "B"
    assert np.all(parties["outcome"][b] == "crossed") and np.all(parties["walked"][b])
    assert not np.any(parties["walked"][~b])
    assert sorted(stays["party_id"][_at(stays, "foot")]) == sorted(parties["party_id"][b])


def test_a_diverting_party_meets_the_next_crossings_point_and_gives_up_after_its_diversions():
    metering = [{"name": f"M{c}", "crossing": c, "pass_origins": ["A"], "refused": "turn_back"} for c in ("X", "Y")]
    s = _scenario(metering, crossings=2, renege={"divert": 1.0, "give_up": 0.0})
    parties, stays, _ = _run(s)
    b = parties["origin"] == "B"
    assert np.all(parties["outcome"][b] == "gave_up") and np.all(parties["diversions"][b] == 2)
    ids = parties["party_id"][b]
    at_x = stays["party_id"][_at(stays, "car@MX", "X")]
    at_y = stays["party_id"][_at(stays, "car@MY", "Y")]
    assert np.array_equal(np.bincount(at_x)[ids], np.full(len(ids), 2))  # X, Y, X again (then no diversion left)
    assert np.array_equal(np.bincount(at_y, minlength=ids.max() + 1)[ids], np.ones(len(ids), dtype=int))


def test_people_are_conserved_and_the_waiting_are_in_the_queues():
    s = _scenario([{"name": "M", "crossing": "X", "vehicles_per_hour": 20, "pass_share": 0.6}], rate=40.0, until_h=20)
    parties, stays, queues = _run(s)
    outcome, people = parties["outcome"], parties["people"]
    counted = sum(people[outcome == o].sum() for o in ("crossed", "gave_up", "waiting_at_end", "travelling_at_end"))
    assert counted == people.sum() > 1000
    waiting = people[outcome == "waiting_at_end"].sum()
    last = {}
    for ch in np.unique(queues["channel"]):
        rows = np.flatnonzero(queues["channel"] == ch)
        last[ch] = rows[np.argmax(queues["time"][rows])]
    in_queues = sum(queues["people_waiting"][i] for i in last.values())
    assert waiting == in_queues + queues["in_service"][last["car"]] and waiting > 100
    assert np.isnan(stays["left_at"]).sum() == in_queues  # one open stay per party still in a queue
    assert np.sum(_at(stays, "car@M") & (stays["how"] == "served")) <= 20 * 24


def test_pass_share_is_the_share_allowed_drawn_per_party():
    s = _scenario([{"name": "M", "crossing": "X", "pass_share": 0.6}], rate=40.0)
    parties, stays, _ = _run(s)
    passed = np.mean(parties["outcome"] == "crossed")  # the others are held for ever
    n = len(parties["outcome"])
    assert n > 800 and abs(passed - 0.6) < 4 * np.sqrt(0.6 * 0.4 / n)
    assert np.sum(_at(stays, "car@M") & (stays["how"] == "waiting")) == np.sum(parties["outcome"] == "waiting_at_end")


def test_a_scenario_without_metering_dumps_as_before_and_with_it_round_trips():
    plain = _scenario([{"name": "M", "crossing": "X", "vehicles_per_hour": 10}])
    assert "metering" not in plain.model_copy(update={"metering": []}).model_dump(by_alias=True)
    raw = plain.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert raw["metering"] == [{"name": "M", "crossing": "X", "modes": ["car", "bus"], "vehicles_per_hour": 10.0,
                                "pass_share": 1.0, "refused": "hold"}]
    assert scenario_from_dict(copy.deepcopy(raw), "again") == plain


def test_the_example_runs_and_meters_town_only(tmp_path):
    code = main(["run", str(EXAMPLE), "--replications", "1", "--workers", "1", "--out", str(tmp_path), "--quiet"])
    assert code == 0
    report = next(tmp_path.glob("example_metering/*/report.html"))
    assert report.stat().st_size > 10_000


BAD = {
    "an unknown crossing": ("metering.Police.crossing=Nowhere", "metering[Police].crossing: got 'Nowhere'; must be one of ['Gate']"),
    "an unknown origin": ("metering.Police.origins=[\"Nowhere\"]", "metering[Police].origins: got 'Nowhere'; must be one of"),
    "an unknown pass origin": ("metering.Police.pass_origins=[\"Nowhere\"]", "metering[Police].pass_origins: got 'Nowhere'"),
    "a pass origin not controlled": ("metering.Police.pass_origins=[\"Village\"]",
                                     "metering[Police].pass_origins: got 'Village'; is not among the origins it controls"),
    "no modes": ("metering.Police.modes=[]", "modes must name at least one of car, bus, foot"),
    "a mode twice": ("metering.Police.modes=[\"car\", \"car\"]", "names a mode twice"),
    "a mode the crossing lacks": ("metering.Police.modes=[\"bus\"]", "crossing 'Gate' has no channel for any of them"),
    "not a mode": ("metering.Police.modes=[\"lorry\"]", "metering[Police].modes"),
    "nothing limited": ("metering=[{name = \"P\", crossing = \"Gate\"}]",
                        "a metering must limit something: give vehicles_per_hour, a pass_share below 1 or pass_origins"),
    "a share above 1": ("metering.Police.pass_share=1.5", "metering[Police].pass_share: got 1.5"),
    "no vehicles an hour": ("metering.Police.vehicles_per_hour=0", "metering[Police].vehicles_per_hour: got 0"),
    "ends before starts": ("metering.Police.ends=2024-05-01T05:00:00", "must be after starts"),
    "refused how": ("metering.Police.refused=stop", "metering[Police].refused"),
    "two of one name": ("metering=[{name = \"P\", crossing = \"Gate\", pass_share = 0.5}, "
                        "{name = \"P\", crossing = \"Gate\", pass_share = 0.5}]", "metering[P].name: got 'P'; names of metering"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_metering_is_one_line_and_exit_2(case, capsys, tmp_path):
    setting, fragment = BAD[case]
    code = main(["run", str(EXAMPLE), "--set", setting, "--replications", "1", "--workers", "1",
                 "--out", str(tmp_path / "o"), "--quiet"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "error:" in lines[0], lines
    assert "example_metering.toml" in lines[0] and fragment in lines[0], lines[0]


def test_validate_checks_metering_against_lindleys_recursion():
    """Poisson 40/h into 30/h: every pass exactly where the recursion says, and full hours pass exactly 30."""
    from model.experiments.release_check import METERING_CASE, check_metering

    rows = check_metering()
    assert [r.passed for r in rows] == [True, True]
    assert rows[0].simulated == 0.0 and rows[1].simulated == 0.0  # a queue stood: some hour passed exactly the rate
    assert "at most 30 in an hour" in rows[1].note
    assert all(r.passed for r in check_metering({**METERING_CASE, "vph": 45.0}))  # a light load: exact too
