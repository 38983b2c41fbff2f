"""The report page: rebuilt from a run folder's tables alone, byte for byte, self-contained, with checked capacity.

One small run of ``params/one_crossing_constant.toml`` (two replications) is
made per module through the command line, exactly as a user makes it.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from model.cli import main
from model.report.chart_frames import capacity_steps
from model.report.queue_people import FILES as QUEUE_PEOPLE_FILES
from model.report.run_tables import REQUIRED_FILES, read_run

ROOT = Path(__file__).resolve().parents[1]
FIGURE_IDS = ["figure-queues", "figure-cumulative", "figure-wait-distribution", "figure-wait-by-hour",
              "figure-throughput", "figure-flows", "figure-map", "figure-people-waiting"]


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs")
    code = main(["run", str(ROOT / "params" / "one_crossing_constant.toml"), "--set", "replications=2",
                 "--out", str(out), "--quiet", "--workers", "1"])
    assert code == 0
    (folder,) = (out / "one_crossing_constant").iterdir()
    return folder


def test_every_run_writes_a_report(run_folder):
    assert (run_folder / "report.html").stat().st_size > 0


def test_rebuilt_from_the_tables_alone_is_byte_identical(run_folder, tmp_path):
    """Only the required tables and scenario.toml are copied: no manifest, no raw queue series, no old report."""
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "charts").mkdir()
    for name in (*REQUIRED_FILES, *QUEUE_PEOPLE_FILES):  # the people-in-the-queue section reads its own tables
        shutil.copy(run_folder / name, bare / name)
    assert main(["report", str(bare)]) == 0
    first = (bare / "report.html").read_bytes()
    assert main(["report", str(bare)]) == 0
    assert (bare / "report.html").read_bytes() == first
    assert first == (run_folder / "report.html").read_bytes(), "the report written by the run differs from the rebuilt one"


def test_page_is_self_contained(run_folder):
    text = (run_folder / "report.html").read_text(encoding="utf-8")
    assert text.count("* plotly.js v") == 1, "plotly.js must be embedded exactly once"
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=\"(https?:)?//", text), "nothing may be fetched"
    assert re.findall(r'<div id="(figure-[a-z-]+)" class="plotly-graph-div"', text) == FIGURE_IDS
    assert len(text.encode("utf-8")) < 10_000_000


def test_missing_or_incomplete_folder_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a run folder" in err
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing scenario.toml" in err


def test_broken_table_is_one_line_and_exit_2(run_folder, tmp_path, capsys):
    broken = tmp_path / "broken"
    shutil.copytree(run_folder, broken)
    (broken / "manifest.json").unlink()  # an old folder without checksums: the table itself is read and refused
    (broken / "charts" / "flows.csv").write_text("origin,people\nA,1\n", encoding="utf-8")
    assert main(["report", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "flows.csv: cannot be read" in err and err.count("error:") == 1 and err.count("\n") <= 2  # and one warning


def test_capacity_is_booths_times_service_rate(run_folder):
    """Gate: 2 car booths, 3 min per car + 1 min per person, people per car from the cars that crossed."""
    run = read_run(run_folder)
    parties = pd.read_parquet(run_folder / "parties.parquet")
    size = parties.loc[parties["outcome"] == "crossed", "people"].mean()
    steps = capacity_steps(run, "Gate")
    expected = 2 * 60.0 / (3.0 + 1.0 * size) * size
    assert steps["car"].to_numpy() == pytest.approx(expected)
    assert steps["all"].to_numpy() == pytest.approx(expected)
    assert list(steps["booths_car"].unique()) == [2]


def test_headline_counts_each_person_not_crossed_once(tmp_path):
    """People left at a bus stop are among those waiting at the end; the headline must not add them twice."""
    from conftest import tiny_scenario

    from model.report.run_folder import scenario_toml

    scenario = tiny_scenario(
        origins=[{"name": "A", "people": 400, "mode_split": {"car": 0.0, "bus": 1.0},
                  "party_size": {"bus": {"dist": "discrete", "values": [1, 2, 3], "probs": [0.4, 0.4, 0.2]}},
                  "buses": [{"crossing": "X", "capacity": 30, "trigger_people": 25}]}],
        crossings=[{"name": "X", "bus": {"booths": 1, "service": {"per_vehicle_min": 5.0, "dist": "fixed"}}}],
    )
    path = tmp_path / "buses.toml"
    path.write_text(scenario_toml(scenario), encoding="utf-8")
    assert main(["run", str(path), "--set", "replications=1", "--out", str(tmp_path), "--quiet", "--workers", "1"]) == 0
    (folder,) = (tmp_path / scenario.name).iterdir()
    kpis = pd.read_csv(folder / "kpis.csv").query("crossing == 'all'").set_index("kpi")["mean"]
    assert kpis["people_waiting_for_bus_at_end"] > 0  # the case this test is about
    not_crossed = kpis["people_departed"] - kpis["people_crossed"] - kpis["people_gave_up"]
    shown = re.search(r"([\d,]+) still on the way at the end", (folder / "report.html").read_text(encoding="utf-8"))
    assert int(shown.group(1).replace(",", "")) == round(not_crossed)


def test_a_run_where_nobody_reaches_a_crossing_still_gets_its_report(tmp_path):
    """A road so long that everyone is still on it at the end: parties head for a crossing but none reaches it,
    and the report says so instead of crashing."""
    code = main(["run", str(ROOT / "params" / "one_crossing_constant.toml"), "--set", "replications=1",
                 "--set", "routes.0.road_km=45000", "--out", str(tmp_path), "--quiet", "--workers", "1"])
    assert code == 0
    (folder,) = (tmp_path / "one_crossing_constant").iterdir()
    assert "still on the way" in (folder / "report.html").read_text(encoding="utf-8")


def test_the_default_scenario_says_the_logachevka_surge_queue_cleared_on_11_september(tmp_path):
    """The headline reads the surge's clearance (not the last minute a queue was empty, on 16 Sep), and its wait
    card quotes the surge waits of the crossing it names."""
    code = main(["run", str(ROOT / "params" / "kharkiv_2022.toml"), "--set", "replications=2",
                 "--out", str(tmp_path), "--quiet", "--workers", "1"])
    assert code == 0
    (folder,) = (tmp_path / "kharkiv_2022").iterdir()
    page = (folder / "report.html").read_text(encoding="utf-8")
    cards = re.findall(r'<div class="card"><div class="label">(.*?)</div><div class="value">(.*?)</div><div class="note">(.*?)</div>', page)
    cards = {label: (value, note) for label, value, note in cards}
    value, note = cards["Surge queues cleared"]
    assert value.startswith("Sun 11 Sep") and "at Logachevka" in note
    value, note = cards["Wait in the surge"]
    kpis = pd.read_csv(folder / "kpis.csv").set_index(["crossing", "kpi"])["mean"]
    assert value == f"{float(kpis[('Logachevka', 'surge_person_wait_p50_h')]):.1f} h" and "reached Logachevka in its surge" in note
    assert f"{float(kpis[('Logachevka', 'surge_person_wait_p90_h')]):.1f} h" in note
    assert "<h1>Kharkiv oblast to Belgorod oblast" in page


def test_a_run_in_which_nobody_left_writes_its_tables_and_report(tmp_path):
    """One person expected: replications 11 and 19 of this tiny scenario have no party at all. The party table
    is then only a header, which is a real result, not a damaged file."""
    from model.analysis import build_results
    from model.experiments import run_replications
    from model.report import read_run, write_report, write_results
    from tests.conftest import tiny_scenario

    s = tiny_scenario(origins=[{"name": "A", "people": 1}], replications=2)
    records = run_replications(s, [11, 19])
    assert all(r.parties.empty for r in records)
    folder = write_results(build_results(s, records), tmp_path, {}, write_report)
    assert (folder / "report.html").stat().st_size > 0 and read_run(folder).charts["flows"].empty


def _page_text(folder: Path) -> str:
    page = re.sub(r"<script.*?</script>|<style.*?</style>", "", (folder / "report.html").read_text(encoding="utf-8"), flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


@pytest.mark.parametrize("example", ["example_two_controls", "example_priority"])
def test_a_one_replication_report_claims_no_means_or_intervals(example, tmp_path, run_folder):
    """With one replication the page says so where it would speak of means, medians and intervals across them."""
    code = main(["run", str(ROOT / "params" / f"{example}.toml"), "--replications", "1", "--workers", "1", "--brief", "off",
                 "--out", str(tmp_path), "--quiet"])
    assert code == 0
    (folder,) = (tmp_path / example).iterdir()
    one = _page_text(folder)
    assert "one replication" in one and "values of the one replication" in one
    for claim in ("mean of the replications", "median of the replications", "interval across replications", "of 1 runs",
                  "mean over the runs"):
        assert claim not in one, claim
    assert "median of the replications" in _page_text(run_folder)  # two replications: the map's markers
