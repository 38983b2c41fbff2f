"""Hostile input through the real command line: a complete run, or one line with ``error:`` and exit 2.

A property test sets one hostile value (inf, nan, huge, zero, negative, the wrong
type, deep nesting, path-like names, names with line breaks) on any field of
``params/one_crossing_constant.toml``, the fields found by walking the schema's
pydantic models, and runs ``python -m model run`` in this process. Then one
explicit test per fault a hostile tester found, and the resource check: a run
that cannot fit in memory is refused before any work, a long one is announced.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import time
import typing
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

import model.engine.replication as engine_replication
import model.experiments.estimate as estimate_module
from model.cli import main
from model.experiments.estimate import estimate
from model.scenario import Scenario, load_scenario
from model.scenario.distributions import _Spec
from tests.conftest import PARAMS, ROOT

BASE = PARAMS / "one_crossing_constant.toml"
GOOD = BASE.read_text(encoding="utf-8")
#: What a complete run folder holds (README, "What a run writes").
RUN_FILES = {"scenario.toml", "manifest.json", "parties.parquet", "queues.parquet", "kpis.csv", "kpis_by_replication.csv",
             "queues_summary.csv", "daily.csv", "stays.parquet", "report.html", "charts"}


# --- the fields: every field of the schema, as --set reaches it in one_crossing_constant.toml ----------


def _sections(annotation) -> list[type[BaseModel]]:
    """The scenario sections (not distributions) an annotation allows."""
    if isinstance(annotation, type):
        return [annotation] if issubclass(annotation, BaseModel) and not issubclass(annotation, _Spec) else []
    return [m for arg in typing.get_args(annotation) for m in _sections(arg)]


def schema_paths(model: type[BaseModel], value: BaseModel | None, prefix: str = "", absent: int = 0) -> list[str]:
    """Dotted ``--set`` paths of every field of ``model``: sections and values, list items by name or index,
    and the fields of sections the scenario leaves out (one level down)."""
    out = []
    for name, field in model.model_fields.items():
        path = f"{prefix}.{field.alias or name}" if prefix else field.alias or name
        out.append(path)
        current = getattr(value, name) if value is not None else None
        if isinstance(current, BaseModel):
            out += schema_paths(type(current), current, path)
        elif isinstance(current, list):
            for i, item in enumerate(current):
                if isinstance(item, BaseModel):
                    out += schema_paths(type(item), item, f"{path}.{getattr(item, 'name', None) or i}")
                else:
                    out.append(f"{path}.{i}")
        elif current is None and absent < 1:
            for section in _sections(field.annotation):
                out += schema_paths(section, None, path, absent + 1)
    return out


PATHS = sorted(set(schema_paths(Scenario, load_scenario(BASE))))

NUMBERS = ["inf", "-inf", "nan", "-nan", "1e308", "-1e308", "1.7976931348623157e308", "99999999999999999999999",
           "-99999999999999999999999", "1e12", "1e9", "0", "0.0", "-0.0", "-1", "-1e-300", "1e-300", "5e-324",
           "1.5", "3.0"]
WRONG_TYPES = ["true", "false", '"3"', '"inf"', '"nan"', '"x"', '""', "[]", "[1, 2]", "[inf]", "[nan, 1.0]", "{}",
               "{a = 1}", "{dist = \"fixed\", value = inf}", "{dist = \"fixed\", value = 0}", "2024-05-01T00:00:00",
               "2024-05-01", "[[1, 2], [3]]"]
DEEP = ["[" * 40 + "]" * 40, "[" * 20_000 + "]" * 20_000, "{a = " * 40 + "1" + "}" * 40,
        "{a = " * 5_000 + "1" + "}" * 5_000, "[" * 40 + "1" + "]" * 40]
NAMES = ['".."', '"."', '"/etc/passwd"', '"../../etc/passwd"', '"a/b"', '"a\\nb"', "a\nb", "a\rb", '"\\u0000"',
         '"\\u202e"', '"\\u200b"', "\udcff", '" padded "', '"' + "x" * 1000 + '"', "C:\\Windows", "~", "$HOME",
         '"Gate"', '"Town"', "-", '"-rf"']
HOSTILE = NUMBERS + WRONG_TYPES + DEEP + NAMES
#: Keys that are themselves hostile (any value).
KEYS = ["a\nb", "..", ".", "crossings..car", "crossings.Gate.car.booths.x", "origins.-1.people", "origins.99.people",
        "routes.\u00b2.road_km", "=", "crossings.Gate/../x", "origins.Town.people\n", "x" * 5000, "a." * 100 + "b"]


def _run(args: list[str], out: Path) -> tuple[int, list[str]]:
    """``python -m model run ... --replications 1 --out OUT --quiet`` in this process: (exit code, stderr lines)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["run", *args, "--replications", "1", "--workers", "1", "--out", str(out), "--quiet"])
    return code, err.getvalue().splitlines()


def _assert_contract(code: int, lines: list[str], out: Path, what: str) -> None:
    """Exit 0 with one complete run folder, or exit 2 with exactly one line that says ``error:``."""
    text = "\n".join(lines)
    assert "Traceback" not in text, (what, text)
    if code == 0:
        assert all(line.startswith("warning: ") for line in lines), (what, lines)
        folders = [p.parent for p in out.rglob("manifest.json")]
        assert len(folders) == 1, (what, folders)
        assert RUN_FILES <= {p.name for p in folders[0].iterdir()}, (what, sorted(p.name for p in folders[0].iterdir()))
    else:
        assert code == 2, (what, code, lines)
        assert len(lines) == 1 and "error:" in lines[0], (what, lines)
        assert not out.exists() or not any(out.rglob("*.csv")), what


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.one_of(
    st.tuples(st.sampled_from(PATHS), st.sampled_from(HOSTILE)),
    st.tuples(st.sampled_from(PATHS), st.text(max_size=20).map(lambda t: "x" + t)),  # never a number: a string
    st.tuples(st.sampled_from(KEYS), st.sampled_from(["1", "inf", '"x"'])),
))
def test_any_hostile_value_on_any_field_runs_or_is_one_line(case, tmp_path_factory):
    key, value = case
    out = tmp_path_factory.mktemp("out")
    code, lines = _run([str(BASE), "--set", f"{key}={value}"], out)
    _assert_contract(code, lines, out, f"--set {key}={value[:60]!r}")


@pytest.mark.parametrize("override", ["crossings.Gate.car.booths=0", 'description="line one\\nline two"',
                                      "crossings.Gate.car_spacing_m=5e-324", "origins.Town.departures.0.people_per_h=1e9"])
def test_hostile_but_allowed_values_give_a_complete_run(override, tmp_path):
    out = tmp_path / "out"
    code, lines = _run([str(BASE), "--set", override], out)
    assert code == 0, lines
    _assert_contract(code, lines, out, override)


def test_the_schema_walk_reaches_every_section():
    """The property test's fields cover the schema: values, lists by name, distributions, absent sections."""
    for path in ["name", "timezone", "grid_min", "origins.Town.people", "origins.Town.departures.0.people_per_h",
                 "origins.Town.party_size.car.probs.0", "origins.Town.buses", "origins.Town.day_night.night_multiplier",
                 "crossings.Gate.car.booths", "crossings.Gate.car.service.per_vehicle_min", "crossings.Gate.bus.booths",
                 "crossings.Gate.inspection.holding_capacity", "crossings.Gate.initial_queue.car", "routes.0.road_km",
                 "routes.0.speed_kmh.low", "behaviour.max_diversions", "information.enabled", "walking.walk_speed_kmh",
                 "key_figures.clearance_people", "border", "seed", "replications"]:
        assert path in PATHS, path
    assert len(PATHS) > 80


HANDFUL = [("origins.Town.people", "inf"), ("crossings.Gate.car.booths", "true"), ("border", "[" * 20_000 + "]" * 20_000),
           ("name", '"../../etc"'), ("a\nb", "3"), ("origins.Town.people", "1e9")]


@pytest.mark.parametrize("key, value", HANDFUL, ids=[k[:20] for k, _ in HANDFUL])
def test_a_handful_through_a_real_process(key, value, tmp_path):
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "model", "run", str(BASE), "--set", f"{key}={value}", "--replications", "1",
                             "--out", str(out), "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.stderr, result.stderr
    assert not out.exists() or not any(out.rglob("*.csv"))


# --- every fault the hostile tester found, one by one ------------------------------------------------------

SET_FAULTS = {
    "people inf": ("origins.Town.people=inf", ["origins[Town].people", "got inf", "finite"]),
    "departure rate inf": ("origins.Town.departures.0.people_per_h=inf", ["departures[0].people_per_h", "finite"]),
    "departure rate 1e308": ("origins.Town.departures.0.people_per_h=1e308",
                             ["departures[0].people_per_h", "1e+308", "less than or equal to 1000000000"]),
    "road inf": ("routes.0.road_km=inf", ["routes[0].road_km", "finite"]),
    "fixed speed 0": ('routes.0.speed_kmh={dist = "fixed", value = 0}', ["routes[0].speed_kmh", "speed must be > 0"]),
    "party sizes [0]": ('origins.Town.party_size.car={dist = "discrete", values = [0], probs = [1.0]}',
                        ["origins[Town].party_size.car", "whole numbers of people from 1", "got 0"]),
    "probs with nan": ('origins.Town.party_size.car={dist = "discrete", values = [1, 2], probs = [nan, 1.0]}',
                       ["party_size.car.probs[0]", "got nan", "finite"]),
    "booths 1e23": ("crossings.Gate.car.booths=99999999999999999999999", ["crossings[Gate].car.booths", "less than or equal to 1000"]),
    "booths true": ("crossings.Gate.car.booths=true", ["crossings[Gate].car.booths", "got True", "not true/false"]),
    "party size 1.5": ('origins.Town.party_size.car={dist = "fixed", value = 1.5}', ["party_size.car", "whole numbers", "got 1.5"]),
    "service time inf": ("crossings.Gate.car.service.per_vehicle_min=inf", ["service.per_vehicle_min", "finite"]),
    "grid_min inf": ("grid_min=inf", ["grid_min", "got inf", "finite"]),
    "departures before start": ("origins.Town.departures=[{at = 2024-04-01T00:00:00, people_per_h = 1}, "
                                "{at = 2024-04-02T00:00:00, people_per_h = 1}]",
                                ["origins[Town].departures", "got 0.0; people expected to leave between start and end",
                                 "nothing to simulate"]),
    "nobody leaves": ("origins.Town.people=0", ["origins[Town].people", "nothing to simulate"]),
    "people 1e12": ("origins.Town.people=1e12", ["origins[Town].people", "less than or equal to 1000000000"]),
    "seed huge": ("seed=99999999999999999999999", ["seed", "less than or equal to"]),
    "speed nan": ('routes.0.speed_kmh={dist = "uniform", low = nan, high = 50}', ["speed_kmh.low", "finite"]),
    "walk speed 0": ('walking.walk_speed_kmh={dist = "fixed", value = 0}', ["walking.walk_speed_kmh", "speed must be > 0"]),
    "mode share nan": ("origins.Town.mode_split={car = nan, foot = 1.0}", ["mode_split.car", "finite"]),
    "information flag 1": ("information.enabled=1", ["information.enabled", "boolean"]),
    "number as string": ('crossings.Gate.car.booths="3"', ["crossings[Gate].car.booths", "not a string"]),
    "name ..": ('name=".."', ["name", "'..'", "no '..'"]),
    "name with a slash": ('name="a/b"', ["name", "no '/'"]),
    "crossing name with a newline": ('crossings.Gate.name="Ga\\nte"', ["crossings", "control or invisible character"]),
    "time zone a path": ('timezone="/etc/passwd"', ["timezone", "unknown time zone"]),
    "year 9999": ("end=9999-12-31T00:00:00", ["end", "from 1900 to 2199"]),
    "a period of 20 years": ("end=2044-05-01T00:00:00", ["end", "at most 3660 days after start"]),
    "a grid longer than the period": ("grid_min=10000", ["grid_min", "at most the period"]),
    "a speed near 0": ('routes.0.speed_kmh={dist = "exponential", mean = 1e-300}', ["speed_kmh", "at least 0.01 km/h"]),
    "a rate near 0": ("origins.Town.departures.0.people_per_h=1e-300", ["people_per_h", "0 or at least 1e-06"]),
    "reports every 0.001 min": ("information.publish_every_min=0.001", ["publish_every_min", "greater than or equal to 1"]),
    "the same route twice": ("routes=[{origin = \"Town\", crossing = \"Gate\", road_km = 4, travel_time_h = {dist = \"fixed\", "
                             "value = 1}, share = 0.5}, {origin = \"Town\", crossing = \"Gate\", road_km = 9, travel_time_h = "
                             "{dist = \"fixed\", value = 1}, share = 0.5}]", ["routes[1].crossing", "has a route to it already"]),
    "a list index that is not a number": ("routes.\u00b2.road_km=3", ["--set routes.\u00b2", "must be an index"]),
}


@pytest.mark.parametrize("case", sorted(SET_FAULTS))
def test_each_fault_found_is_one_line(case, tmp_path):
    override, fragments = SET_FAULTS[case]
    out = tmp_path / "out"
    code, lines = _run([str(BASE), "--set", override], out)
    assert code == 2 and len(lines) == 1, lines
    assert lines[0].startswith(f"error: {BASE}: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert not out.exists() or not any(out.rglob("*.csv"))


def _file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _one_error(tmp_path: Path, path: Path, *fragments: str, extra: tuple[str, ...] = ()) -> str:
    code, lines = _run([str(path), *extra], tmp_path / "out")
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), lines
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def test_a_bus_service_to_a_crossing_the_origin_has_no_route_to(tmp_path):
    text = GOOD.replace("mode_split = { car = 1.0 }", "mode_split = { car = 0.5, bus = 0.5 }\n"
                        'party_size.bus = { dist = "fixed", value = 2 }\n'
                        'buses = [ { crossing = "Far", capacity = 40, trigger_people = 40 } ]')
    text += ('\n[[crossings]]\nname = "Far"\nlat = 50.5\nlon = 36.5\nbus.booths = 1\nbus.service = { per_vehicle_min = 10.0 }\n'
             'car.booths = 1\ncar.service = { per_vehicle_min = 3.0 }\n')
    _one_error(tmp_path, _file(tmp_path, "bus.toml", text), "origins[Town].buses[0].crossing", "'Far'", "has no route to it")


def test_extends_cycles_and_chains_are_refused(tmp_path):
    _file(tmp_path, "a.toml", 'extends = "b.toml"\n')
    _file(tmp_path, "b.toml", 'extends = "a.toml"\n')
    _one_error(tmp_path, tmp_path / "a.toml", "extends", "a.toml extends b.toml extends a.toml", "cycle")
    _one_error(tmp_path, _file(tmp_path, "self.toml", 'extends = "self.toml"\n'), "self.toml extends self.toml", "cycle")
    _file(tmp_path, "base.toml", GOOD)
    for i in range(30):
        _file(tmp_path, f"c{i}.toml", f'extends = "{"base" if i == 29 else f"c{i + 1}"}.toml"\n')
    _one_error(tmp_path, tmp_path / "c0.toml", "extends", "at most 16 files")
    _one_error(tmp_path, _file(tmp_path, "lost.toml", 'extends = "nowhere.toml"\n'), "lost.toml: extends: got 'nowhere.toml'",
               "file not found")
    _file(tmp_path, "c20.toml", 'extends = "base.toml"\nname = "short_chain"\n')  # a short chain still works
    code, lines = _run([str(tmp_path / "c20.toml")], tmp_path / "ok")
    assert code == 0, lines


@pytest.mark.parametrize("where", ["file", "set"])
def test_a_border_nested_20000_levels_deep(where, tmp_path):
    deep = "[" * 20_000 + "]" * 20_000
    if where == "file":
        _one_error(tmp_path, _file(tmp_path, "deep.toml", GOOD + f"\nborder = {deep}\n"), "nested too deeply")
    else:
        _one_error(tmp_path, BASE, "--set border", "nested more than 32 levels", extra=("--set", f"border={deep}"))
    shallow = "[" * 40 + "]" * 40  # parsed, then refused before pydantic recurses
    _one_error(tmp_path, BASE, "border", "nested more than 32 levels deep", extra=("--set", f"border={shallow}"))


@pytest.mark.parametrize("override", ["a\nb=3", "crossings.Ga\nte.car.booths=3", "crossings.Gate.car.booths=3\n4",
                                      "name=\"x\ny\"", "a\rb=1"])
def test_a_line_break_in_a_set_key_or_value_stays_one_line(override, tmp_path):
    line = _one_error(tmp_path, BASE, extra=("--set", override))
    assert "\\n" in line or "\\r" in line


def test_a_scenario_path_that_is_no_scenario_file(tmp_path):
    _one_error(tmp_path, tmp_path, "not a regular file")
    big = _file(tmp_path, "big.toml", "# " + "x" * 11_000_000 + "\n")
    _one_error(tmp_path, big, "larger than 10,000,000 bytes")
    _one_error(tmp_path, _file(tmp_path, "bad\nname.toml", "x = "), "bad\\nname.toml", "TOML syntax error")


def test_a_line_break_in_an_argument_stays_one_line(tmp_path):
    code, lines = _run([str(BASE), "--bogus\noption"], tmp_path / "out")
    assert code == 2 and len(lines) == 1 and "\\n" in lines[0], lines


# --- resources: estimated before any work; refused when they cannot fit, announced when long -------------


class _Simulated(Exception):
    """Raised if a replication starts where none may."""


@pytest.fixture
def no_simulation(monkeypatch):
    """Any replication starting in this process fails the test (``--workers 1`` runs them here)."""
    def refuse(*_args, **_kwargs):
        raise _Simulated
    monkeypatch.setattr(engine_replication.Surge, "__init__", refuse)


@pytest.mark.parametrize("override, fragments", [
    ("origins.Town.people=1e12", ["origins[Town].people", "less than or equal to 1000000000"]),  # the schema's limit
    ("origins.Town.people=1e9", ["origins[Town].people", "parties per replication", "TiB of memory", "fit"]),
    ("grid_min=0.0001", ["grid_min", "43,200,001 grid points", "use a grid_min of at least"]),
    ('crossings.Gate.initial_queue={origin = "Town", car = 100000000}', ["crossings[Gate].initial_queue.car", "of memory"]),
    ('crossings.Gate.initial_queue={origin = "Town", car = 1000000000}', ["initial_queue.car", "less than or equal to"]),
    ("replications=100000", ["replications", "100000", "replications fit"]),
])
def test_a_run_that_cannot_fit_is_refused_before_any_work(override, fragments, no_simulation, tmp_path):
    out = tmp_path / "out"
    t0 = time.perf_counter()
    err = io.StringIO()
    replications = ["--replications", "100000"] if override.startswith("replications") else ["--replications", "5"]
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["run", str(BASE), "--set", override, *replications, "--workers", "1", "--out", str(out), "--quiet"])
    lines = err.getvalue().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), lines
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert time.perf_counter() - t0 < 20
    assert not out.exists() or not any(out.rglob("*"))


def test_a_big_but_feasible_run_is_announced_in_one_line(no_simulation, monkeypatch, tmp_path):
    monkeypatch.setattr(estimate_module, "machine_memory", lambda: (64 * 2**30, 64 * 2**30))
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()), pytest.raises(_Simulated):
        main(["run", str(BASE), "--set", "origins.Town.people=5000000", "--replications", "10", "--workers", "1",
              "--out", str(tmp_path / "out"), "--quiet"])
    lines = err.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"warning: {BASE}: this will take a while: about 2,000,000 parties"), lines
    assert "10 replications" in lines[0] and "GiB of memory" in lines[0]


def test_a_long_sweep_is_announced_too(no_simulation, tmp_path):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()), pytest.raises(_Simulated):
        main(["sweep", str(BASE), "--vary", "crossings.Gate.car.booths=1:400:1", "--replications", "100", "--workers", "1",
              "--out", str(tmp_path / "out"), "--quiet"])
    lines = err.getvalue().splitlines()
    assert len(lines) == 1 and "this will take a while" in lines[0] and "x 400 variants" in lines[0], lines


def test_a_sweep_point_that_cannot_fit_is_refused(no_simulation, tmp_path):
    _one_error_cmd = io.StringIO()
    with contextlib.redirect_stderr(_one_error_cmd), contextlib.redirect_stdout(io.StringIO()):
        code = main(["sweep", str(BASE), "--vary", "origins.Town.people=1000,1e9", "--replications", "2", "--workers", "1",
                     "--out", str(tmp_path / "out"), "--quiet"])
    lines = _one_error_cmd.getvalue().splitlines()
    assert code == 2 and len(lines) == 1, lines
    assert "(--vary origins.Town.people=1000000000.0): origins[Town].people" in lines[0], lines


def test_the_estimate_matches_a_run():
    """Expected parties from the departure curve against a simulated replication; the sizes add up."""
    s = load_scenario(BASE)
    e = estimate(s, replications=1)
    assert e.parties == pytest.approx(3000 / 2.5, rel=1e-6)  # 3,000 people in cars of 2.5 on average
    assert e.people == pytest.approx(3000, rel=1e-6)
    assert e.grid_points == 3 * 24 * 4 + 1
    from model.experiments import run_replication
    simulated = len(run_replication(s, 0).parties)
    assert abs(simulated - e.parties) < 4 * e.parties ** 0.5  # Poisson
    assert estimate(s, replications=10).memory_bytes > e.memory_bytes
    assert estimate(s, replications=10, workers=2).seconds < estimate(s, replications=10, workers=1).seconds


@pytest.mark.parametrize("args, fragments", [
    (["--set", "origins.Town.people=2000000", "--replications", "8", "--workers", "8"],
     ["--workers: got 8", "replications fit side by side"]),
    (["--replications", "auto", "--precision", "5", "--max-replications", "1000000", "--workers", "1"],
     ["--max-replications: got 1000000", "replications fit"]),
    (["--workers", "1000"], ["--workers 1000", "at most"]),
])
def test_workers_and_replication_caps_are_sized_too(args, fragments, no_simulation, monkeypatch, tmp_path):
    monkeypatch.setattr(estimate_module, "machine_memory", lambda: (24 * 2**30, 24 * 2**30))
    monkeypatch.setattr("model.cli.options.machine_memory", lambda: (24 * 2**30, 24 * 2**30))
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["run", str(BASE), *args, "--out", str(tmp_path / "out"), "--quiet"])
    lines = err.getvalue().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), lines
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def test_a_capacity_search_beyond_the_booth_limit_is_refused_up_front(no_simulation, tmp_path):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["capacity", str(BASE), "--crossing", "Gate", "--max-queue-km", "1", "--max-booths", "5000",
                     "--replications", "2", "--workers", "1", "--out", str(tmp_path / "out"), "--quiet"])
    assert code == 2 and err.getvalue().splitlines() == ["error: --max-booths 5000 must be at most 1000 (the most booths a "
                                                          "channel may have)"]


def test_validate_sizes_its_scenario_too(tmp_path):
    """``validate`` runs its scenario's replications: :func:`validate_scenario` sizes them like a run."""
    from argparse import Namespace

    from model.cli.options import validate_scenario
    from model.scenario import ScenarioError

    huge = _file(tmp_path, "huge.toml", GOOD.replace("people = 3000 ", "people = 1e9 "))
    with pytest.raises(ScenarioError, match=r"origins\[Town\]\.people: got 1000000000\.0; .* of memory"):
        validate_scenario(Namespace(scenario=str(huge), quick=True, workers=1))
    assert validate_scenario(Namespace(scenario=str(BASE), quick=True, workers=1)).name == "one_crossing_constant"
