"""Recurring and channel-scoped rules: expanded exactly, in local wall-clock time, across daylight saving.

Recurring booth steps, closures, regimes and batches are written once and
expanded at load time into the one-off lists; the engine then runs those.
The tests use Europe/Warsaw in late March 2022 (clocks 02:00 -> 03:00 on
Sunday 27 March), check the expansion item by item, that contradicting
rules are refused, and that a rule naming a channel leaves the others alone.
"""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest
from conftest import PARAMS

from model.cli import main
from model.engine import simulate_replication
from model.report.run_folder import scenario_toml
from model.scenario import ScenarioError, load_scenario, scenario_from_dict
from model.scenario.loading import read_scenario_dict

BASE = PARAMS / "one_crossing_constant.toml"
#: Europe/Warsaw around the spring change: 25 March (Fri) to 30 March (Wed) 2022.
WARSAW = ["timezone=\"Europe/Warsaw\"", "start=2022-03-25T00:00:00", "end=2022-03-30T00:00:00",
          "origins.Town.departures.0.at=2022-03-25T00:00:00", "origins.Town.departures.1.at=2022-03-29T00:00:00"]


def _load(*sets: str):
    return load_scenario(BASE, [*WARSAW, *sets])


def _utc_hour(when: datetime) -> int:
    return when.astimezone(timezone.utc).hour


def test_a_daily_time_stays_on_the_local_clock_across_the_change():
    s = _load("crossings.Gate.car.recurring_booths=[{at = \"17:00\", booths = 4}]")
    pattern, *steps = s.crossings[0].car.booth_schedule
    assert s.minutes(pattern.at) == 0 and pattern.booths == 4  # 17:00 the day before: in force at the start
    assert [b.at.astimezone(s.zone).strftime("%d %H:%M") for b in steps] == [f"{d} 17:00" for d in range(25, 30)]
    assert [_utc_hour(b.at) for b in steps] == [16, 16, 15, 15, 15]  # CET then CEST
    assert s.minutes(steps[2].at) - s.minutes(steps[1].at) == 23 * 60  # elapsed minutes: a 23-hour day
    assert s.crossings[0].car.recurring_booths == []


def test_a_night_closure_is_five_hours_on_the_short_night_and_clipped_to_the_period():
    s = _load("crossings.Gate.recurring_closures=[{starts = \"23:00\", ends = \"04:00\", reason = \"night\"}]")
    windows = [(s.minutes(w.starts), s.minutes(w.ends)) for w in s.crossings[0].closures]
    lengths = [b - a for a, b in windows]
    assert lengths == [240, 300, 240, 300, 300, 60]  # first night cut at the start, the change night 4 h, last cut at the end
    assert windows[0][0] == 0 and windows[-1][1] == s.horizon_min
    assert all(w.reason == "night" and w.channel is None for w in s.crossings[0].closures)


def test_a_skipped_time_happens_when_the_clocks_jump():
    s = _load("crossings.Gate.car.recurring_booths=[{at = \"02:30\", booths = 4, weekdays = [\"sun\"]}]")
    (step,) = s.crossings[0].car.booth_schedule[1:]  # the first is the standing pattern at the start
    assert step.at.astimezone(s.zone).strftime("%d %H:%M") == "27 03:30" and _utc_hour(step.at) == 1


def test_weekdays_and_from_until_select_the_days():
    s = _load("crossings.Gate.car.recurring_booths=[{at = \"08:00\", booths = 3, weekdays = [\"mon\", \"tue\"], "
              "from = 2022-03-25T00:00:00, until = 2022-03-29T12:00:00}]")
    days = [b.at.astimezone(s.zone).strftime("%a %d %H:%M") for b in s.crossings[0].car.booth_schedule]
    assert days == ["Mon 28 08:00", "Tue 29 08:00"]


def test_a_standing_pattern_is_in_force_at_the_start():
    s = _load("crossings.Gate.car.recurring_booths=[{at = \"08:00\", booths = 5}, {at = \"20:00\", booths = 1}]")
    first = s.crossings[0].car.booth_schedule[0]
    assert s.minutes(first.at) == 0 and first.booths == 1  # night staffing from 20:00 the evening before


def test_recurring_rules_merge_with_one_off_items_in_time_order():
    s = _load("crossings.Gate.car.booth_schedule=[{at = 2022-03-26T12:00:00, booths = 7}]",
              "crossings.Gate.car.recurring_booths=[{at = \"08:00\", booths = 5, from = 2022-03-26T00:00:00}]")
    got = [(b.at.astimezone(s.zone).strftime("%d %H"), b.booths) for b in s.crossings[0].car.booth_schedule]
    assert got == [("26 08", 5), ("26 12", 7), ("27 08", 5), ("28 08", 5), ("29 08", 5)]


def test_the_expanded_scenario_dumps_and_loads_back_the_same():
    s = load_scenario(PARAMS / "example_recurring_rules.toml")
    raw = read_scenario_dict(PARAMS / "example_recurring_rules.toml")
    import tomllib
    again = scenario_from_dict(tomllib.loads(scenario_toml(s)), "snapshot")
    assert again == s and raw["crossings"][0]["recurring_closures"]


CONTRADICTIONS = {
    "booths": ["crossings.Gate.car.recurring_booths=[{at = \"08:00\", booths = 5}, {at = \"08:00\", booths = 4, weekdays = [\"sun\"]}]",
               "crossings[Gate].car.recurring_booths[1]: got '2022-03-27T08:00:00+02:00'; contradicts rule [0]"],
    "booths against a one-off step": [
        "crossings.Gate.car.recurring_booths=[{at = \"08:00\", booths = 5}]",
        "crossings.Gate.car.booth_schedule=[{at = 2022-03-26T08:00:00, booths = 2}]",
        "crossings[Gate].car.recurring_booths[0]: got '2022-03-26T08:00:00+01:00'; contradicts a one-off item"],
    "regimes in the same channel": [
        "crossings.Gate.recurring_regimes=[{starts = \"10:00\", service_multiplier = 2}, "
        "{starts = \"10:00\", channel = \"car\", service_multiplier = 3, weekdays = [\"mon\"]}]",
        "crossings[Gate].recurring_regimes[1]: got '2022-03-28T10:00:00+02:00'; contradicts rule [0]"],
}


@pytest.mark.parametrize("case", sorted(CONTRADICTIONS))
def test_contradicting_rules_are_refused_with_one_line(case, capsys, tmp_path):
    *sets, fragment = CONTRADICTIONS[case]
    args = [a for x in [*WARSAW, *sets] for a in ("--set", x)]
    code = main(["run", str(BASE), *args, "--replications", "1", "--workers", "1", "--out", str(tmp_path / "o"), "--quiet"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "error:" in lines[0], lines
    assert "one_crossing_constant.toml" in lines[0] and fragment in lines[0], lines[0]


def test_rules_that_agree_are_not_a_contradiction():
    s = _load("crossings.Gate.car.recurring_booths=[{at = \"08:00\", booths = 5}, {at = \"08:00\", booths = 5, weekdays = [\"sun\"]}]")
    assert [b.booths for b in s.crossings[0].car.booth_schedule] == [5] * 6


BAD = {
    "a channel the crossing lacks": ("crossings.Gate.recurring_closures=[{starts = \"22:00\", ends = \"06:00\", channel = \"foot\"}]",
                                     "crossings[Gate].recurring_closures[0].channel: got 'foot'; crossing 'Gate' has no foot channel"),
    "a one-off closure's channel": ("crossings.Gate.closures=[{starts = 2022-03-26T00:00:00, ends = 2022-03-26T02:00:00, channel = \"bus\"}]",
                                    "crossings[Gate].closures[0].channel: got 'bus'"),
    "not a channel": ("crossings.Gate.regimes=[{starts = 2022-03-26T00:00:00, channel = \"lorry\"}]", "crossings[Gate].regimes[0].channel"),
    "an empty closure": ("crossings.Gate.recurring_closures=[{starts = \"22:00\", ends = \"22:00\"}]",
                         "crossings[Gate].recurring_closures[0].ends: got '22:00:00'; must differ from starts"),
    "a weekday": ("crossings.Gate.car.recurring_booths=[{at = \"08:00\", booths = 5, weekdays = [\"monday\"]}]", "weekdays"),
    "until before from": ("crossings.Gate.car.recurring_booths=[{at = \"08:00\", booths = 5, from = 2022-03-28T00:00:00, "
                          "until = 2022-03-27T00:00:00}]", "must be after from"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_rules_are_one_line_and_exit_2(case, capsys, tmp_path):
    setting, fragment = BAD[case]
    args = [a for x in [*WARSAW, setting] for a in ("--set", x)]
    code = main(["run", str(BASE), *args, "--replications", "1", "--workers", "1", "--out", str(tmp_path / "o"), "--quiet"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "error:" in lines[0], lines
    assert fragment in lines[0], lines[0]


def _two_channels(**crossing):
    """One origin (cars and walkers), one crossing with both channels, fixed 10-minute checks, one day."""
    return scenario_from_dict({
        "name": "two", "timezone": "UTC", "start": "2024-01-01T00:00:00", "end": "2024-01-02T00:00:00", "seed": 2,
        "origins": [{"name": "A", "lat": 50.0, "lon": 36.0, "people": 300, "mode_split": {"car": 0.5, "foot": 0.5},
                     "party_size": {"car": {"dist": "fixed", "value": 1}, "foot": {"dist": "fixed", "value": 1}},
                     "departures": [{"at": "2024-01-01T00:00:00", "people_per_h": 1}, {"at": "2024-01-01T20:00:00", "people_per_h": 1}]}],
        "crossings": [{"name": "X", "lat": 50.2, "lon": 36.1, **crossing,
                       "car": {"booths": 2, "service": {"per_vehicle_min": 10.0, "dist": "fixed"}},
                       "foot": {"booths": 2, "service": {"per_vehicle_min": 10.0, "dist": "fixed"}}}],
        "routes": [{"origin": "A", "crossing": "X", "road_km": 10, "travel_time_h": {"dist": "fixed", "value": 0.0}, "share": 1.0}],
    }, "two")


def test_a_closure_of_one_channel_leaves_the_other_open():
    s = _two_channels(recurring_closures=[{"starts": "06:00", "ends": "12:00", "channel": "car"}])
    p = simulate_replication(s, 0).parties
    car, foot = p["mode"] == "car", p["mode"] == "foot"
    start = p["service_start_at"]
    assert not np.any(car & (start >= 360) & (start < 720))  # no car check starts while the car lanes are shut
    assert np.sum(foot & (start >= 360) & (start < 720)) > 20  # walkers keep crossing
    assert np.sum(car & (start == 720)) == 2  # both car booths take the queue at noon


def test_a_regime_of_one_channel_slows_that_channel_only():
    s = _two_channels(recurring_regimes=[{"starts": "06:00", "channel": "car", "service_multiplier": 3.0},
                                         {"starts": "12:00", "service_multiplier": 1.0}])
    p = simulate_replication(s, 0).parties
    done = ~np.isnan(p["crossed_at"])
    took = p["crossed_at"] - p["service_start_at"]
    start = p["service_start_at"]
    in_regime = done & (start >= 360) & (start < 720)
    assert np.allclose(took[in_regime & (p["mode"] == "car")], 30.0)
    assert np.allclose(took[in_regime & (p["mode"] == "foot")], 10.0)
    assert np.allclose(took[done & (start >= 720)], 10.0)  # the whole-crossing regime at noon overrides the car's


def test_the_example_runs(tmp_path, capsys):
    code = main(["run", str(PARAMS / "example_recurring_rules.toml"), "--replications", "1", "--workers", "1",
                 "--out", str(tmp_path), "--quiet"])
    assert code == 0, capsys.readouterr().err


def test_recurring_batches_expand_like_the_others():
    s = _load("crossings.Gate.car.release={recurring_batches = [{at = \"17:00\", parties = 3, weekdays = [\"sat\", \"sun\"]}]}")
    got = [(b.at.astimezone(s.zone).strftime("%a %H:%M"), _utc_hour(b.at), b.parties) for b in s.crossings[0].car.release.batches]
    assert got == [("Sat 17:00", 16, 3), ("Sun 17:00", 15, 3)]


def test_scenario_minutes_are_elapsed_time_across_the_change():
    s = _load()
    assert s.horizon_min == (5 * 24 - 1) * 60
    assert s.at(s.horizon_min) == s.end
    with pytest.raises(ScenarioError):
        _load("crossings.Gate.recurring_regimes=[{starts = \"10:00\", channel = \"bus\"}]")
