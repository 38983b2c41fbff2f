"""Bad input through the real command line: one line naming file, field, value and what is allowed; exit 2."""

import subprocess
import sys
import tomllib

import pytest

from model.report.run_folder import scenario_toml
from model.scenario import load_scenario, scenario_from_dict
from tests.conftest import PARAMS, ROOT

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
    "unknown key": (lambda: _edit("car.booths = 2", "car.booths = 2\ncar.boths = 3"), ["crossings[Gate].car.boths", "unknown key"]),
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
    ("origins.Town.peeple=5", ["origins[Town].peeple", "unknown key"]),
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
    for model_cls in [sc.Scenario, sc.Origin, sc.Crossing, sc.Channel, sc.Route, sc.ServiceTime, sc.Behaviour, sc.Information]:
        for name, field in model_cls.model_fields.items():
            if field.annotation in (int, float, int | None, float | None):
                assert any(name.endswith(u) for u in ("_min", "_h", "_km", "_m", "_kmh", "_hour", "_per_h", "_factor")) \
                    or name in unitless_ok or field.description, f"{model_cls.__name__}.{name}"
