"""Bad input through the real command line: one line naming file, field, value and what is allowed; exit 2.

Also what a scenario accepts: date-times in every unambiguous form, shares tables
given in part, plausibility warnings (one line, the run goes on), the title and
the key-figure rules.
"""

import subprocess
import sys
import tomllib
import warnings
from datetime import datetime
from types import UnionType
from typing import Annotated, Union, get_args, get_origin
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel

from model.cli import main
from model.report.run_folder import scenario_toml
from model.scenario import KeyFigureRules, Scenario, ScenarioError, ScenarioWarning, load_scenario, scenario_from_dict
from model.scenario.plausibility import RANGES
from tests.conftest import PARAMS, ROOT, tiny_scenario

GOOD = (PARAMS / "one_crossing_constant.toml").read_text()
GATE_LINE = GOOD.splitlines().index('name = "Gate"') + 1


def _cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "model", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def _bad_file(tmp_path, text):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    return path


def _edit(old, new):
    assert old in GOOD, old
    return GOOD.replace(old, new, 1)


CASES = {
    "toml syntax": (lambda: GOOD.replace('name = "Gate"', 'name = "Gate'),
                    [f"line {GATE_LINE}", "TOML syntax error"]),
    "unknown key": (lambda: _edit("car.booths = 2", "car.booths = 2\ncar.boths = 3"),
                    ["crossings[Gate].car.boths", "unknown key", "did you mean 'booths'?"]),
    "wrong type": (lambda: _edit("car.booths = 2", 'car.booths = "two"'), ["crossings[Gate].car.booths", "'two'", "integer"]),
    "negative booths": (lambda: _edit("car.booths = 2", "car.booths = -1"), ["crossings[Gate].car.booths", "-1", "greater than or equal to 0"]),
    "shares not summing to 1": (lambda: _edit("share = 1.0", "share = 0.7"), ["share", "0.7", "sum to 1"]),
    "breakpoints out of order": (
        lambda: _edit("{ at = 2024-05-03T00:00:00, people_per_h = 1 }", "{ at = 2024-04-30T00:00:00, people_per_h = 1 }"),
        ["origins[Town].departures[1]", "2024-04-30", "after"]),
    "route to unknown crossing": (lambda: _edit('crossing = "Gate"', 'crossing = "Nowhere"'), ["routes[0].crossing", "'Nowhere'", "must be one of ['Gate']"]),
    "end before start": (lambda: _edit("end = 2024-05-04T00:00:00", "end = 2024-04-04T00:00:00"), ["end", "2024-04-04", "must be after start"]),
    "mode split not summing to 1": (lambda: _edit("mode_split = { car = 1.0 }", "mode_split = { car = 0.5 }"), ["mode_split", "sum to 1"]),
    "unknown distribution": (lambda: _edit('dist = "uniform"', 'dist = "weird"'), ["speed_kmh", "weird", "fixed"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_scenario_file_gives_one_line_and_exit_2(case, tmp_path):
    make_text, fragments = CASES[case]
    path = _bad_file(tmp_path, make_text())
    out = tmp_path / "out"
    result = _cli("run", str(path), "--out", str(out), "--quiet")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert str(path) in lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert not out.exists() or not any(out.rglob("*.csv"))


def test_missing_file(tmp_path):
    result = _cli("run", str(tmp_path / "nope.toml"), "--out", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {tmp_path / 'nope.toml'}: file not found"


@pytest.mark.parametrize("override, fragments", [
    ("crossings.Gate.car.booths=-3", ["crossings[Gate].car.booths", "-3"]),
    ("crossings.Nowhere.car.booths=3", ["--set crossings.Nowhere", "must be an index or one of ['Gate']"]),
    ("seed", ["--set", "dotted.key=value"]),
    ("origins.Town.peeple=5", ["origins[Town].peeple", "unknown key", "did you mean 'people'?"]),
])
def test_bad_override_is_validated_like_the_file(override, fragments, tmp_path):
    result = _cli("run", str(PARAMS / "one_crossing_constant.toml"), "--set", override, "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    line = result.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    for fragment in fragments:
        assert fragment in line, (fragment, line)
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").rglob("*.csv"))


def test_bad_argument_is_one_line_exit_2(tmp_path):
    result = _cli("run", "--workers", "zero")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1


def test_override_changes_the_scenario():
    s = load_scenario(PARAMS / "one_crossing_constant.toml", ["crossings.Gate.car.booths=5", "seed=99", "origins.0.people=10"])
    assert s.crossing("Gate").car.booths == 5 and s.seed == 99 and s.origins[0].people == 10


def test_resolved_scenario_round_trips_through_toml(tmp_path):
    for path in sorted(PARAMS.glob("*.toml")):
        raw = tomllib.loads(path.read_text())
        if "origins" not in raw and "extends" not in raw:
            continue  # not a scenario (e.g. a targets file)
        s = load_scenario(path)
        again = scenario_from_dict(tomllib.loads(scenario_toml(s)), "again")
        assert again == s, path.name


def test_scenario_is_frozen():
    s = load_scenario(PARAMS / "one_crossing_constant.toml")
    with pytest.raises(Exception):
        s.seed = 3


def test_local_datetimes_are_read_in_the_scenario_zone():
    s = load_scenario(PARAMS / "kharkiv_2022.toml")
    assert s.start.utcoffset().total_seconds() == 3 * 3600


def test_every_parameter_has_units_or_is_dimensionless():
    """Numeric fields named without a unit suffix must say their unit in the description."""
    from model import scenario as sc

    unitless_ok = {"lat", "lon", "seed", "replications", "booths", "capacity", "car", "bus", "foot", "share", "cv",
                   "divert", "walk", "give_up", "approach_lanes", "max_diversions", "people", "trigger_people",
                   "night_multiplier", "service_multiplier", "inspection_multiplier", "value", "holding_capacity"}
    for model_cls in [sc.Scenario, sc.Origin, sc.Crossing, sc.Channel, sc.Route, sc.ServiceTime, sc.Behaviour, sc.Information,
                      sc.KeyFigureRules]:
        for name, field in model_cls.model_fields.items():
            if field.annotation in (int, float, int | None, float | None):
                assert any(name.endswith(u) for u in ("_min", "_h", "_km", "_m", "_kmh", "_hour", "_per_h", "_factor")) \
                    or name in unitless_ok or field.description, f"{model_cls.__name__}.{name}"


# --- more bad input, through the command line in this process (a new interpreter costs seconds) -----

NEW_FILE_CASES = {
    "unknown top-level key": (lambda: _edit("seed = 1", "seeed = 1"), ["seeed", "unknown key", "did you mean 'seed'?"]),
    "misspelt required key of a distribution": (
        lambda: _edit('speed_kmh = { dist = "uniform", low = 30, high = 50 }', 'speed_kmh = { dist = "exponential", maen = 40 }'),
        ["routes[0].speed_kmh.maen", "got 40", "unknown key", "did you mean 'mean'?"]),
    "unknown key of a shares table": (lambda: _edit("mode_split = { car = 1.0 }", "mode_split = { car = 1.0, fot = 0.0 }"),
                                      ["origins[Town].mode_split.fot", "did you mean 'foot'?"]),
    "bare date": (lambda: _edit("start = 2024-05-01T00:00:00", "start = 2024-05-01"),
                  ["start: got 2024-05-01; a date-time is needed, e.g. 2024-05-01T00:00:00 (a date alone is ambiguous)"]),
    "bare date in a list": (
        lambda: _edit("{ at = 2024-05-03T00:00:00, people_per_h = 1 }", "{ at = 2024-05-03, people_per_h = 1 }"),
        ["origins[Town].departures[1].at: got 2024-05-03; a date-time is needed, e.g. 2024-05-03T00:00:00 (a date alone is ambiguous)"]),
    "bare date as a string": (lambda: _edit("end = 2024-05-04T00:00:00", 'end = "2024-05-04"'),
                              ["end: got '2024-05-04'; a date-time is needed", "(a date alone is ambiguous)"]),
    "number for a date-time": (lambda: _edit("start = 2024-05-01T00:00:00", "start = 1714521600"),
                               ["start: got 1714521600; a date-time is needed, not a number"]),
}


def _bad_run(capsys, tmp_path, *args):
    """``run`` through the command line in this process: (exit code, stderr lines); no run folder may appear."""
    out = tmp_path / "out"
    code = main(["run", *args, "--replications", "1", "--workers", "1", "--out", str(out), "--quiet"])
    assert not out.exists() or not any(out.rglob("*.csv"))
    return code, capsys.readouterr().err.strip().splitlines()


@pytest.mark.parametrize("case", sorted(NEW_FILE_CASES))
def test_more_bad_files_give_one_line_and_exit_2(case, capsys, tmp_path):
    make_text, fragments = NEW_FILE_CASES[case]
    path = _bad_file(tmp_path, make_text())
    code, lines = _bad_run(capsys, tmp_path, str(path))
    assert code == 2 and len(lines) == 1, lines
    assert lines[0].startswith(f"error: {path}: ")
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


@pytest.mark.parametrize("override, fragments", [
    ("start=2024-05-01", ["start: got 2024-05-01; a date-time is needed, e.g. 2024-05-01T00:00:00 (a date alone is ambiguous)"]),
    ("crossings.Gate.closures=[{starts = 2024-05-01, ends = 2024-05-01T10:00}]",
     ["crossings[Gate].closures[0].starts: got 2024-05-01; a date-time is needed, e.g. 2024-05-01T00:00:00"]),
    ('crossings.Gate.closures=[{starts = "2024-05-01", ends = "2024-05-01 10:00"}]',
     ["crossings[Gate].closures[0].starts: got '2024-05-01'; a date-time is needed", "(a date alone is ambiguous)"]),
    ("key_figures.clearance_people=0", ["key_figures.clearance_people: got 0; Input should be greater than 0"]),
    ("key_figures.clearance_hold_h=-1", ["key_figures.clearance_hold_h: got -1; Input should be greater than 0"]),
    ("key_figures.clearance_hold=3", ["key_figures.clearance_hold", "did you mean 'clearance_hold_h'?"]),
    ("crossings.Gate.car.zzzz=3", ["crossings[Gate].car.zzzz", "unknown key (not a field of the scenario schema)"]),
])
def test_more_bad_overrides_give_one_line_and_exit_2(override, fragments, capsys, tmp_path):
    path = PARAMS / "one_crossing_constant.toml"
    code, lines = _bad_run(capsys, tmp_path, str(path), "--set", override)
    assert code == 2 and len(lines) == 1, lines
    assert lines[0].startswith(f"error: {path}: ")
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    if "zzzz" in override:
        assert "did you mean" not in lines[0]  # nothing close: no guess


# --- date-times ---------------------------------------------------------------------------------

MOSCOW = ZoneInfo("Europe/Moscow")


def _run(capsys, tmp_path, *args):
    """The real command line, in this process: (exit code, stderr lines, the run folder's resolved scenario)."""
    out = tmp_path / "out"
    code = main(["run", *args, "--replications", "1", "--workers", "1", "--out", str(out), "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    folders = sorted(out.glob("*/*/scenario.toml"))
    return code, err, (load_scenario(folders[0]) if folders else None)


@pytest.mark.parametrize("written", [
    "start = 2024-05-01 00:00:00",            # TOML local date-time with a space
    'start = "2024-05-01 00:00"',             # strings: no seconds, space or T, an offset or Z
    'start = "2024-05-01T00:00"',
    'start = "2024-05-01T00:00:00"',
    'start = "2024-04-30T21:00:00+00:00"',
    'start = "2024-04-30T21:00Z"',
])
def test_every_unambiguous_date_time_in_a_file_is_read_in_the_scenario_zone(written, capsys, tmp_path):
    text = _edit("start = 2024-05-01T00:00:00", written).replace('timezone = "UTC"', 'timezone = "Europe/Moscow"')
    text = text.replace("car.booths = 2", 'car.booths = 2\ncar.booth_schedule = [ { at = "2024-05-02 06:00", booths = 3 } ]\n'
                                          'closures = [ { starts = "2024-05-01T08:00", ends = 2024-05-01 10:00:00 } ]')
    code, err, s = _run(capsys, tmp_path, str(_bad_file(tmp_path, text)))
    assert code == 0 and err == [], err
    assert s.start == datetime(2024, 5, 1, tzinfo=MOSCOW)  # the same instant; an offset given is kept
    gate = s.crossing("Gate")
    assert gate.car.booth_schedule[0].at == datetime(2024, 5, 2, 6, tzinfo=MOSCOW)
    assert (gate.closures[0].starts, gate.closures[0].ends) == (datetime(2024, 5, 1, 8, tzinfo=MOSCOW), datetime(2024, 5, 1, 10, tzinfo=MOSCOW))


@pytest.mark.parametrize("override, expected", [
    ("start=2024-05-01 08:00", datetime(2024, 5, 1, 8, tzinfo=MOSCOW)),
    ("start=2024-05-01T08:00", datetime(2024, 5, 1, 8, tzinfo=MOSCOW)),
    ("start=2024-05-01 08:00:00", datetime(2024, 5, 1, 8, tzinfo=MOSCOW)),
    ("start=2024-05-01T08:00:00+03:00", datetime(2024, 5, 1, 8, tzinfo=MOSCOW)),
    ("start=2024-05-01T05:00:00Z", datetime(2024, 5, 1, 8, tzinfo=MOSCOW)),
])
def test_every_unambiguous_date_time_in_set_is_read_in_the_scenario_zone(override, expected, capsys, tmp_path):
    code, err, s = _run(capsys, tmp_path, str(PARAMS / "one_crossing_constant.toml"), "--set", "timezone=Europe/Moscow",
                        "--set", override)
    assert code == 0 and err == [], err
    assert s.start == expected


@pytest.mark.parametrize("closures", [
    "[{starts = 2024-05-01T08:00, ends = 2024-05-01 10:00}]",          # TOML date-times without seconds, in a list
    '[{starts = "2024-05-01 08:00", ends = "2024-05-01T10:00:00"}]',   # strings in a list
])
def test_date_times_nested_in_a_list_through_set(closures, capsys, tmp_path):
    code, err, s = _run(capsys, tmp_path, str(PARAMS / "one_crossing_constant.toml"), "--set", "timezone=Europe/Moscow",
                        "--set", f"crossings.Gate.closures={closures}")
    assert code == 0 and err == [], err
    window = s.crossing("Gate").closures[0]
    assert (window.starts, window.ends) == (datetime(2024, 5, 1, 8, tzinfo=MOSCOW), datetime(2024, 5, 1, 10, tzinfo=MOSCOW))


def test_a_string_that_only_looks_like_a_date_time_stays_a_string():
    s = load_scenario(PARAMS / "one_crossing_constant.toml", ["description=from 2024-05-01 08:00"])
    assert s.description == "from 2024-05-01 08:00"


# --- shares tables --------------------------------------------------------------------------------

FOOT = {"crossings.Gate.foot": {"booths": 1, "service": {"per_person_min": 1.0}},
        "origins.Town.party_size.foot": {"dist": "fixed", "value": 1}}


def test_a_mode_not_given_in_mode_split_is_zero():
    s = load_scenario(PARAMS / "one_crossing_constant.toml", {**FOOT, "origins.Town.mode_split": {"foot": 1.0}})
    split = s.origin("Town").mode_split
    assert (split.car, split.bus, split.foot) == (0.0, 0.0, 1.0)


def test_mode_split_through_the_command_line(capsys, tmp_path):
    code, err, s = _run(capsys, tmp_path, str(PARAMS / "one_crossing_constant.toml"),
                        "--set", "crossings.Gate.foot={booths = 1, service = {per_person_min = 1.0}}",
                        "--set", 'origins.Town.party_size.foot={dist = "fixed", value = 1}',
                        "--set", "origins.Town.mode_split={foot = 1.0}")
    assert code == 0 and err == [], err
    split = s.origin("Town").mode_split
    assert (split.car, split.bus, split.foot) == (0.0, 0.0, 1.0)


def test_mode_split_not_given_is_all_by_car():
    raw = tomllib.loads(GOOD.replace("mode_split = { car = 1.0 }\n", ""))
    assert "mode_split" not in raw["origins"][0]
    split = scenario_from_dict(raw).origin("Town").mode_split
    assert (split.car, split.bus, split.foot) == (1.0, 0.0, 0.0)


def test_renege_not_given_is_give_up_and_a_partial_table_means_zero_for_the_rest():
    assert tiny_scenario().behaviour.car.renege.give_up == 1.0
    renege = tiny_scenario(behaviour={"car": {"renege": {"walk": 1.0}}}).behaviour.car.renege
    assert (renege.divert, renege.walk, renege.give_up) == (0.0, 1.0, 0.0)


def test_a_partial_mode_split_still_has_to_sum_to_one():
    with pytest.raises(ScenarioError, match=r"origins\[Town\]\.mode_split.*car \+ bus \+ foot must sum to 1, got 0\.5"):
        load_scenario(PARAMS / "one_crossing_constant.toml", {**FOOT, "origins.Town.mode_split": {"foot": 0.5}})


# --- plausibility warnings ------------------------------------------------------------------------


def test_an_implausible_value_is_one_warning_line_and_the_run_goes_on(tmp_path):
    path = _bad_file(tmp_path, _edit("lon = 36.2\n", "lon = 36.2\ncar_spacing_m = 0.008\n"))
    out = tmp_path / "out"
    result = _cli("run", str(path), "--replications", "1", "--workers", "1", "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"warning: {path}: crossings[Gate].car_spacing_m: got 0.008; a car takes 5-15 m of road in a jam: is this in metres?"]
    folder = result.stdout.strip().splitlines()[-1]
    assert (ROOT / folder / "report.html").is_file() and (ROOT / folder / "scenario.toml").is_file()


@pytest.mark.parametrize("override, field, fragment", [
    ("routes.0.road_km=45000", "routes[0].road_km", "got 45000; a road from a town to a border crossing is 0.01-3,000 km long"),
    ("crossings.Gate.car.service.per_vehicle_min=0.001", "crossings[Gate].car.service.per_vehicle_min", "got 0.001; "),
    ('routes.0.speed_kmh={dist = "fixed", value = 11000}', "routes[0].speed_kmh", "got 11000; "),
    ('walking.walk_speed_kmh={dist = "fixed", value = 1.2}', "walking.walk_speed_kmh", "1 m/s is 3.6 km/h"),
    ('behaviour.car.patience_h={dist = "exponential", mean = 4320}', "behaviour.car.patience_h", "got mean 4320; "),
    ("key_figures.clearance_hold_h=360", "key_figures.clearance_hold_h", "is this in hours?"),
])
def test_unit_mistakes_warn(override, field, fragment):
    with pytest.warns(ScenarioWarning) as caught:
        load_scenario(PARAMS / "one_crossing_constant.toml", [override])
    messages = [str(w.message) for w in caught if issubclass(w.category, ScenarioWarning)]
    assert len(messages) == 1, messages
    assert messages[0].startswith(f"{PARAMS / 'one_crossing_constant.toml'}: {field}: ") and fragment in messages[0], messages[0]


def test_zero_is_plausible_where_it_means_none():
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScenarioWarning)
        s = load_scenario(PARAMS / "mmc_example.toml", ["crossings.Server.car.service.per_person_min=0.0"])
    assert s.routes[0].travel_time_h.mean == 0 and s.crossings[0].car.service.per_person_min == 0


def _scenario_files():
    for path in sorted(PARAMS.glob("*.toml")):
        raw = tomllib.loads(path.read_text())
        if "origins" in raw or "extends" in raw:  # not a targets file
            yield path


def test_shipped_scenarios_raise_no_plausibility_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScenarioWarning)
        for path in _scenario_files():
            load_scenario(path)


def _sections() -> set[type[BaseModel]]:
    """Every section class of the schema, found from Scenario's annotations."""
    seen: set[type[BaseModel]] = set()
    stack: list = [Scenario]
    while stack:
        tp = stack.pop()
        origin = get_origin(tp)
        if origin in (Annotated, Union, UnionType, list, tuple):
            stack.extend(get_args(tp)[:1] if origin is Annotated else get_args(tp))
        elif isinstance(tp, type) and issubclass(tp, BaseModel) and tp not in seen:
            seen.add(tp)
            stack.extend(f.annotation for f in tp.model_fields.values())
    return seen


def test_every_unit_bearing_field_has_a_plausible_range():
    """A field named in m, km, km/h, minutes or hours has a row in the plausibility table (rates and weights aside)."""
    not_a_quantity = {"people_per_h", "logit_scale_per_h"}
    for cls, name in RANGES:
        assert name in cls.model_fields, (cls.__name__, name)
    for cls in _sections():
        if "dist" in cls.model_fields and "per_vehicle_min" not in cls.model_fields:
            continue  # a distribution spec: its parent's field carries the unit
        for name in cls.model_fields:
            if name.endswith(("_m", "_km", "_kmh", "_min", "_h")) and name not in not_a_quantity:
                assert (cls, name) in RANGES, f"{cls.__name__}.{name} has no plausible range"


# --- title and key-figure rules ---------------------------------------------------------------------


def test_every_shipped_scenario_has_a_human_title():
    for path in _scenario_files():
        title = load_scenario(path).title
        assert isinstance(title, str) and title.strip(), path.name


def test_title_is_optional_and_can_be_set():
    assert tiny_scenario().title is None
    s = load_scenario(PARAMS / "one_crossing_constant.toml", ["title=Somewhere to elsewhere, May 2024"])
    assert s.title == "Somewhere to elsewhere, May 2024"
    assert scenario_from_dict(tomllib.loads(scenario_toml(s))).title == s.title


def test_key_figure_rules_default_and_can_be_set():
    assert tiny_scenario().key_figures == KeyFigureRules(clearance_people=50, clearance_hold_h=6.0)
    s = load_scenario(PARAMS / "one_crossing_constant.toml", ["key_figures.clearance_people=20", "key_figures.clearance_hold_h=12"])
    assert (s.key_figures.clearance_people, s.key_figures.clearance_hold_h) == (20.0, 12.0)
    assert scenario_from_dict(tomllib.loads(scenario_toml(s))) == s
