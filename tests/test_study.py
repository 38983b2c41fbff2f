"""Experiments: sweeps, paired comparisons, sensitivity ranking, booths needed, and their command line.

Every test runs tiny scenarios in this process (one worker), so the file
stays fast; none asserts on time. Each property is one that a broken
implementation would fail: without common random numbers a sweep over booths
is not monotone per replication, self-differences are not zero, the paired
interval is no narrower, and an irrelevant parameter gets noise, not zero.
"""

from __future__ import annotations

import html
import json
import re
import shutil

import numpy as np
import pytest

from model.cli import main
from model.experiments.capacity import booth_variant, find_booths, first_feasible, question
from model.experiments.sensitivity import parse_parameters, sensitivity
from model.experiments.studies import Runner, compare, compare_table, difference_summary, parse_vary, sweep, variant
from model.report.run_folder import scenario_toml
from model.report.run_report import KPI_LABELS
from model.report.study_pages import MAX_COLUMNS, capacity_page, compare_page, kpi_label, param_label, sensitivity_page, sweep_page
from model.scenario import Channel, Crossing, Origin, ScenarioError, load_scenario, read_scenario_dict
from tests.conftest import PARAMS, tiny_scenario


def busy(**changes):
    """One crossing with random (exponential) service and about 300 people in 10 hours."""
    base = {
        "replications": 6,
        "origins": [{"name": "A", "people": 300}],
        "crossings": [{"name": "X", "car": {"booths": 2, "service": {"per_vehicle_min": 5.0, "dist": "exponential"}}}],
    }
    return tiny_scenario(**{**base, **changes})


# --- parsing ----------------------------------------------------------------------------------


def test_vary_reads_ranges_inclusive_and_lists_as_set_does():
    assert parse_vary("crossings.X.car.booths=1:4:1").values == (1, 2, 3, 4)
    assert parse_vary("a.b_min=0.5:1.5:0.5").values == (0.5, 1.0, 1.5)
    axis = parse_vary("a.method='shares','informed', [1, 2]")
    assert axis.values == ("shares", "informed", [1, 2])


@pytest.mark.parametrize("text", ["crossings.X.car.booths", "=1,2", "k=4:1:1", "k=1:4:0", "k=1,,2"])
def test_vary_rejects_bad_syntax_with_one_line(text):
    with pytest.raises(ScenarioError) as err:
        parse_vary(text)
    assert "\n" not in str(err.value) and str(err.value).startswith("--vary")


# --- sweeps -----------------------------------------------------------------------------------


def test_more_booths_never_raise_the_peak_queue_in_any_replication():
    # From 3 booths on the queue is short and noisy: with independent seeds per point
    # some replication's peak rises with a booth more; with common random numbers none does.
    result = sweep(busy(), [parse_vary("crossings.X.car.booths=2:6:1")], Runner())
    per_rep = result.by_replication[result.by_replication["crossing"] == "X"].merge(result.points, on="point")
    peaks = per_rep.pivot(index="replication", columns="crossings.X.car.booths", values="peak_queue_km")
    steps = np.diff(peaks.to_numpy(), axis=1)
    assert (steps <= 1e-12).all(), peaks
    assert (peaks[2] > peaks[6]).all()  # and the sweep did change something


def test_two_parameter_sweep_runs_every_combination():
    axes = [parse_vary("crossings.X.car.booths=1,3"), parse_vary("crossings.X.car.service.per_vehicle_min=2.0,5.0")]
    result = sweep(busy(replications=2), axes, Runner())
    assert len(result.points) == 4
    assert set(result.by_replication["point"]) == {0, 1, 2, 3}


# --- comparisons ------------------------------------------------------------------------------


def test_a_scenario_compared_with_itself_differs_by_exactly_zero():
    s = busy(replications=4)
    result = compare({"a": s, "again": s}, Runner())
    diffs = result.kpis[result.kpis["scenario"] == "again"]
    values = diffs[["diff_mean", "diff_ci95_low", "diff_ci95_high"]].to_numpy(dtype=float)
    assert np.nanmax(np.abs(values)) == 0.0
    table = compare_table(result)
    assert (table["again:diff"].astype(float).fillna(0.0) == 0.0).all()


def test_paired_difference_interval_is_narrower_than_unpaired_on_a_capacity_change():
    s = busy(replications=8)
    result = compare({"two": s, "three": variant(s, {"crossings.X.car.booths": 3})}, Runner())
    rows = result.kpis[(result.kpis["scenario"] == "three") & (result.kpis["crossing"] == "X")].set_index("kpi")
    for kpi in ("peak_queue_km", "wait_mean_h", "person_hours_waiting"):
        paired = rows.loc[kpi, "diff_ci95_high"] - rows.loc[kpi, "diff_ci95_low"]
        unpaired = rows.loc[kpi, "diff_unpaired_ci95_high"] - rows.loc[kpi, "diff_unpaired_ci95_low"]
        assert 0 < paired < unpaired, (kpi, paired, unpaired)
        assert rows.loc[kpi, "diff_mean"] < 0


def test_difference_summary_matches_a_hand_computed_paired_interval():
    s = busy(replications=5)
    runner = Runner()
    a, b = runner.kpis(s), runner.kpis(variant(s, {"crossings.X.car.booths": 3}))
    d = (b[b.crossing == "X"]["wait_mean_h"].to_numpy() - a[a.crossing == "X"]["wait_mean_h"].to_numpy())
    half = 2.7764451051977987 * d.std(ddof=1) / np.sqrt(5)  # t(0.975, 4)
    row = difference_summary(a, b).set_index(["crossing", "kpi"]).loc[("X", "wait_mean_h")]
    assert row["mean"] == pytest.approx(d.mean())
    assert row["ci95_high"] - row["ci95_low"] == pytest.approx(2 * half)


# --- sensitivity ------------------------------------------------------------------------------


def test_morris_ranks_a_parameter_the_output_ignores_last_with_zero_effect():
    s = busy(replications=2)
    params = parse_parameters(s, "crossings.X.bus_spacing_m,crossings.X.car.service.per_vehicle_min,crossings.X.car.booths",
                              "10:20,3:8,1:3")
    assert [p.integer for p in params] == [False, False, True]  # booths are whole numbers in the schema
    result = sensitivity(s, params, Runner(), kpi="peak_queue_km", crossing="X", samples=4)
    ranked = result.indices.set_index("parameter")
    assert ranked.loc["crossings.X.bus_spacing_m", "rank"] == 3
    assert ranked.loc["crossings.X.bus_spacing_m", "mu_star"] == 0.0
    assert ranked.loc["crossings.X.car.service.per_vehicle_min", "mu_star"] > 0


def test_sensitivity_rejects_a_non_numeric_key_and_a_bad_range():
    s = busy()
    with pytest.raises(ScenarioError, match="must name a number"):
        parse_parameters(s, "name,crossings.X.car.booths", "1:2,1:3")
    with pytest.raises(ScenarioError, match="low < high"):
        parse_parameters(s, "crossings.X.lat,crossings.X.car.booths", "1:2,3:1")


# --- booths needed ----------------------------------------------------------------------------


@pytest.mark.parametrize("low", [0, 1, 3])
def test_first_feasible_finds_every_threshold_with_few_evaluations(low):
    for threshold in range(low, 40):
        calls = []
        found = first_feasible(lambda k: calls.append(k) or k >= threshold, low, 40)
        assert found == threshold
        assert len(calls) <= 2 * max(1, int(np.log2(threshold - low + 1))) + 2
    assert first_feasible(lambda k: False, low, 40) is None


def test_capacity_search_agrees_with_checking_every_booth_count():
    s = busy(replications=4)
    q = question(s, "X", max_queue_km=0.05)
    runner = Runner()
    exhaustive = None
    for booths in range(1, 9):
        table = runner.kpis(booth_variant(s, q, booths))
        share = (table.loc[table.crossing == "X", "peak_queue_km"] <= q.limit).mean()
        if share >= q.share:
            exhaustive = booths
            break
    result = find_booths(s, q, runner, max_booths=8)
    assert exhaustive is not None and exhaustive > 2
    assert result.booths == exhaustive
    assert len(result.evaluations) < 8


def test_booths_added_from_a_date_time_become_a_schedule_step():
    s = busy()
    q = question(s, "X", max_wait_h=1.0, start="2024-01-01T04:00")
    v = booth_variant(s, q, 5)
    (step,) = v.crossing("X").car.booth_schedule
    assert (step.at.hour, step.booths, v.crossing("X").car.booths) == (4, 5, 2)
    assert q.figure == "wait_p90_h_car"


def test_capacity_gives_up_early_when_booths_no_longer_bind():
    closed = [{"starts": "2024-01-01T04:30:00+00:00", "ends": "2024-01-01T12:00:00+00:00"}]
    s = busy(replications=3, crossings=[{"name": "X", "car": {"booths": 2, "service": {"per_vehicle_min": 5.0, "dist": "exponential"}},
                                         "closures": closed}])
    q = question(s, "X", max_queue_km=0.001, start="2024-01-01T05:00")  # closed from then: the queue builds whatever the booths
    result = find_booths(s, q, Runner(), max_booths=200)
    assert result.booths is None and result.saturated
    assert list(result.evaluations["booths"]) == [2, 3]


# --- command line: run folders, extends, errors -----------------------------------------------


def test_extends_and_set_resolve_into_the_run_folder(tmp_path):
    shutil.copy(PARAMS / "one_crossing_constant.toml", tmp_path / "base.toml")
    child = tmp_path / "child.toml"
    child.write_text('extends = "base.toml"\nname = "child"\n[[crossings]]\nname = "Gate"\ncar.booths = 3\n', encoding="utf-8")
    raw = read_scenario_dict(child)
    assert raw["crossings"][0]["car"]["booths"] == 3 and raw["crossings"][0]["lat"] == 50.3  # merged by name
    sets = ["--set", "crossings.Gate.car.service.per_person_min=0.5", "--replications", "2"]
    code = main(["sweep", str(child), "--vary", "crossings.Gate.car.booths=3,4", *sets,
                 "--out", str(tmp_path / "out"), "--workers", "1", "--quiet"])
    assert code == 0
    (folder,) = (tmp_path / "out" / "child-sweep").iterdir()
    expected = load_scenario(child, ["crossings.Gate.car.service.per_person_min=0.5", "replications=2"])
    assert (folder / "scenario.toml").read_text(encoding="utf-8") == scenario_toml(expected)
    assert load_scenario(folder / "scenario.toml") == expected
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == "sweep" and manifest["seeds"] == [expected.seed]
    assert {"sweep.csv", "sweep.html", "scenario.toml"} <= set(manifest["files"])


BASE = str(PARAMS / "one_crossing_constant.toml")


@pytest.mark.parametrize("argv", [
    ["sweep", BASE, "--vary", "crossings.Gate.car.booths"],            # bad --vary syntax
    ["sweep", BASE, "--vary", "crossings.Gate.car.boths=1,2"],         # unknown key
    ["sweep", BASE, "--vary", "crossings.Nowhere.car.booths=1,2"],     # unknown crossing in a key
    ["sweep", BASE, "--vary", "crossings.Gate.car.booths=5:2:1"],      # bad range
    ["sweep", BASE, "--vary", "crossings.Gate.car.booths=1:3:0.5"],    # booths must be whole
    ["sweep", BASE, "--vary", "seed=1,2", "--crossing", "Nowhere"],
    ["compare", BASE],
    ["compare", BASE, str(PARAMS / "missing.toml")],
    ["sensitivity", BASE, "--params", "crossings.Gate.car.booths,crossings.Gate.lat", "--ranges", "4:2,1:2"],
    ["sensitivity", BASE, "--params", "crossings.Gate.car.booths,crossings.Gate.lat", "--ranges", "1:2"],
    ["sensitivity", BASE, "--params", "crossings.Gate.car.booths,crossings.Gate.lat", "--ranges", "1:2,1:2", "--method", "sobol",
     "--samples", "10"],
    ["capacity", BASE, "--crossing", "Nowhere", "--max-queue-km", "1"],
    ["capacity", BASE, "--crossing", "Gate", "--channel", "bus", "--max-queue-km", "1"],
    ["capacity", BASE, "--crossing", "Gate", "--max-queue-km", "1", "--from", "2030-01-01T00:00"],
    ["capacity", BASE, "--crossing", "Gate"],
])
def test_bad_arguments_exit_2_with_one_line_and_no_run_folder(argv, tmp_path, capsys):
    out = tmp_path / "out"
    assert main([*argv, "--out", str(out), "--workers", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert not out.exists() or not any(out.rglob("*"))


SMALL = [BASE, "--set", "origins.Town.people=300", "--replications", "2", "--workers", "1", "--quiet"]


@pytest.mark.parametrize("argv, page", [
    (["sweep", *SMALL, "--vary", "crossings.Gate.car.booths=1,2"], "sweep.html"),
    (["sweep", *SMALL, "--vary", "crossings.Gate.car.booths=1,2", "--vary", "seed=1,2", "--kpi", "wait_mean_h"], "sweep.html"),
    (["compare", BASE, *SMALL], "compare.html"),
    (["sensitivity", *SMALL, "--params", "crossings.Gate.car.booths,crossings.Gate.lat", "--ranges", "1:2,50:51",
      "--samples", "2"], "sensitivity.html"),
    (["capacity", *SMALL, "--crossing", "Gate", "--max-wait-h", "0.5"], "capacity.html"),
])
def test_every_command_writes_a_complete_folder_with_one_offline_page(argv, page, tmp_path):
    assert main([*argv, "--out", str(tmp_path)]) == 0
    (folder,) = [p for p in tmp_path.glob("*/*") if p.is_dir()]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert sorted(manifest["files"]) == sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    text = (folder / page).read_text(encoding="utf-8")
    assert text.count("* plotly.js v") == 1 and "<script src=" not in text
    assert 'id="fig-1"' in text


def test_the_same_sweep_writes_the_same_tables_and_page(tmp_path):
    argv = ["sweep", *SMALL, "--vary", "crossings.Gate.car.booths=1,2"]
    pages = []
    for out in ("a", "b"):
        assert main([*argv, "--out", str(tmp_path / out)]) == 0
        (folder,) = (tmp_path / out).glob("*/*")
        pages.append([(folder / name).read_bytes() for name in ("sweep.csv", "sweep_by_replication.csv", "sweep.html")])
    assert pages[0] == pages[1]


# --- pages: the planner's words -----------------------------------------------------------------


def _figures(text: str) -> list[tuple[list, dict]]:
    """(data, layout) of every chart of a page, read back from its Plotly.newPlot calls."""
    decoder, out = json.JSONDecoder(), []
    for call in re.finditer(r'Plotly\.newPlot\(\s*"fig-\d+",\s*', text):
        data, end = decoder.raw_decode(text, call.end())
        layout, _ = decoder.raw_decode(text, re.compile(r"\s*,\s*").match(text, end).end())
        out.append((data, layout))
    return out


def _headers(text: str) -> list[list[str]]:
    """The column headers of every table of a page, as text."""
    return [re.findall(r"<th[^>]*>(.*?)</th>", head) for head in re.findall(r"<thead>(.*?)</thead>", text, flags=re.S)]


def _title(axis_or_layout: dict) -> str:
    title = axis_or_layout.get("title", "")
    return title.get("text", "") if isinstance(title, dict) else title


def _expected_label(places: str, model, field: str) -> str:
    """What a page calls a field: its places and its description in the schema, up to the first aside."""
    description = model.model_fields[field].description
    return f"{places}: {description.split(';')[0].split(' (')[0]}"


def test_param_label_uses_the_schema_descriptions_and_keeps_the_places():
    s = busy()
    assert param_label("crossings.X.car.booths", s) == _expected_label("X, cars", Channel, "booths")
    assert param_label("origins.A.people", s).startswith(_expected_label("A", Origin, "people"))
    assert param_label("crossings.X.car.service.per_vehicle_min", s).startswith("X, cars, service time: ")
    assert param_label("routes.0.road_km", s) == "route A -> X: road length (km)"  # no description: the name, its unit apart
    assert "crossings" not in param_label("crossings.X.regimes.0.service_multiplier") and "(" not in param_label("seed")
    assert param_label("crossings.X.no_such_field") == "crossings X no such field"  # unknown: a readable form of the key
    assert kpi_label("wait_mean_h") == f"{KPI_LABELS['wait_mean_h']} (h)"


def test_sweep_page_speaks_in_labels_marks_the_baseline_and_shows_few_columns(tmp_path):
    s = busy(replications=3)
    text = sweep_page(sweep(s, [parse_vary("crossings.X.car.booths=1:4:1")], Runner()), "peak_queue_km", "X")
    label = param_label("crossings.X.car.booths", s)
    ((_, layout), *_) = _figures(text)
    assert _title(layout["xaxis"]) == label and _title(layout["yaxis"]) == f"{KPI_LABELS['peak_queue_km']} (km)"
    headings = [_title(layout), _title(layout["xaxis"]), *re.findall(r"<h\d>(.*?)</h\d>", text), *_headers(text)[0]]
    assert not [h for h in headings if "crossings.X" in h or "peak_queue_km" in h]
    # the baseline: the scenario's own 2 booths, a dotted vertical line labelled so
    assert [sh["x0"] for sh in layout.get("shapes", []) if sh.get("type") == "line"] == [2]
    assert "baseline" in [a["text"] for a in layout.get("annotations", [])]
    (header,) = _headers(text)
    assert len(header) <= MAX_COLUMNS
    assert header[:3] == [html.escape(label), html.escape(kpi_label("peak_queue_km")), "95% interval"]
    assert header[3].startswith("difference to baseline")
    assert "2 (baseline)" in text


def test_compare_page_puts_the_paired_difference_first_in_few_columns():
    s = busy(replications=3)
    result = compare({"two": s, "three": variant(s, {"crossings.X.car.booths": 3})}, Runner())
    text = compare_page(result, compare_table(result))
    (header,) = _headers(text)
    assert len(header) <= MAX_COLUMNS
    assert header[:3] == ["key figure", "crossing", "three - two (paired 95% interval)"]
    assert html.escape(kpi_label("peak_queue_km")) in text and ">peak_queue_km<" not in text


def test_sensitivity_page_names_parameters_in_words():
    s = busy(replications=2)
    params = parse_parameters(s, "crossings.X.bus_spacing_m,crossings.X.car.booths", "10:20,1:3")
    text = sensitivity_page(sensitivity(s, params, Runner(), kpi="peak_queue_km", crossing="X", samples=2))
    ((data, layout),) = _figures(text)
    assert set(data[0]["y"]) == {_expected_label("X", Crossing, "bus_spacing_m"), _expected_label("X, cars", Channel, "booths")}
    assert len(_headers(text)[0]) <= MAX_COLUMNS and "peak_queue_km" not in _title(layout)


def test_capacity_page_draws_only_the_booth_counts_tried():
    s = busy(replications=3)
    result = find_booths(s, question(s, "X", max_queue_km=0.05), Runner(), max_booths=200)
    tried = [str(b) for b in sorted(result.evaluations["booths"])]
    share, per_rep, _ = _figures(capacity_page(result))
    for data, layout in (share, per_rep):
        assert layout["xaxis"]["type"] == "category" and layout["xaxis"]["categoryarray"] == tried
        assert set(data[0]["x"]) == set(tried)
