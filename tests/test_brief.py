"""The people-in-the-queue outputs of a run: burden.csv, needs.csv, the report section and brief.html at A4.

A small scenario with an overnight queue is run through the real command
line; the brief must be one A4 page in Chromium (printed to PDF) and fit an
A4-wide screen, and a phone's, without sideways scrolling.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from argparse import Namespace
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import tomli_w
from conftest import ROOT, TINY

from model.cli.run import brief_wanted
from model.report.brief import build_brief
from model.scenario import load_scenario, merge_scenarios

A4 = {"width": 794, "height": 1123}

#: Two crossings, cars queued at dusk at one of them: people wait through the night.
OVERNIGHT = merge_scenarios(dict(TINY), {
    "start": "2024-01-01T18:00:00+00:00", "end": "2024-01-02T18:00:00+00:00", "replications": 3,
    "origins": [{"name": "A", "people": 60, "departures": [{"at": "2024-01-01T18:00:00+00:00", "people_per_h": 1},
                                                          {"at": "2024-01-02T06:00:00+00:00", "people_per_h": 1}]}],
    "crossings": [{"name": "X", "car": {"booths": 1, "service": {"per_vehicle_min": 20.0, "dist": "exponential"}},
                   "initial_queue": {"origin": "A", "car": 30}}],
    "needs": {"people": {"reception_share": 0.2, "reception_stay_days": 2.0},
              "items": [{"name": "hot_drinks", "unit": "n", "label": "hot drinks", "quantity": 1,
                         "basis": "people_overnight", "round_up": True, "source": "assumption"}]},
})


def _run(tmp_path: Path, *options: str) -> Path:
    path = tmp_path / "overnight.toml"
    path.write_text(tomli_w.dumps(OVERNIGHT), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "model", "run", str(path), "--out", str(tmp_path / "out"), "--quiet",
                           "--workers", "1", *options], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return Path(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return _run(tmp_path_factory.mktemp("brief"))


def test_run_writes_burden_needs_and_brief(folder):
    for name in ("burden.csv", "burden_hourly.csv", "needs.csv", "one_more_booth.csv", "brief.html"):
        assert (folder / name).is_file(), name
    needs = pd.read_csv(folder / "needs.csv")
    assert {"water_survival_l", "water_basic_l", "food_kcal", "toilets_n", "covered_space_m2", "reception_beds_n",
            "hot_drinks_n", "hot_drinks_n_ci95_low"} <= set(needs.columns)
    burden = pd.read_csv(folder / "burden.csv")
    whole = burden[(burden["crossing"] == "all") & (burden["period"] == "whole run")].iloc[0]
    assert whole["people_waiting_1_night_or_more"] >= 20  # 30 cars queued at 18:00, one booth, 20 min each
    # hot drinks: one per person waiting that night, whole units, summed over nights
    n = needs.set_index(["crossing", "period"])
    assert n.loc[("X", "2024-01-01"), "hot_drinks_n"] >= n.loc[("X", "2024-01-01"), "people_waiting_overnight"]
    booth = pd.read_csv(folder / "one_more_booth.csv").set_index("figure")
    assert booth["booth_crossing"].iloc[0] == "X" and booth["booth_channel"].iloc[0] == "car"
    assert booth.loc["person_days_waiting", "difference"] < 0  # a second booth shortens the queue in every run


def test_brief_and_report_say_what_matters(folder):
    text = (folder / "brief.html").read_text(encoding="utf-8")
    for words in ("The queue peaks at X", "at least one night", "Needs on the worst day", "What one more booth changes",
                  "hot drinks", "Sphere Handbook 2018", "<svg"):
        assert words in text, words
    assert "<script" not in text and "http" not in text.replace("http-equiv", "")  # prints as shown, opens offline
    assert build_brief(folder) == text  # a pure function of the folder's files
    report = (folder / "report.html").read_text(encoding="utf-8")
    assert '<section id="people"><h2>People in the queue</h2>' in report
    assert "Nights in the queue" in report and "Needs at X" in report


def test_brief_auto_is_on_for_a_run_estimated_short(capsys):
    """``--brief auto`` makes the brief when one worker is estimated to need at most 30 s: the default scenario
    (about 5 s), not the Ukraine-Poland one (about a minute), and says why not."""
    auto = Namespace(brief="auto", quiet=False)
    assert brief_wanted(load_scenario(ROOT / "params" / "kharkiv_2022.toml"), auto)
    assert capsys.readouterr().err == ""
    assert not brief_wanted(load_scenario(ROOT / "params" / "ukraine_poland_2022.toml"), auto)
    assert "no brief.html: the run is estimated at" in capsys.readouterr().err


def test_one_run_has_no_intervals_to_speak_of(folder, tmp_path):
    copy = tmp_path / "one"
    shutil.copytree(folder, copy)
    text = (copy / "scenario.toml").read_text(encoding="utf-8")
    (copy / "scenario.toml").write_text(text.replace("replications = 3", "replications = 1"), encoding="utf-8")
    brief = build_brief(copy)
    assert "simulation, 1 run<" in brief and "from one simulated run" in brief and "95% intervals of that mean" not in brief
    assert "hour by hour (one run)" in brief and "From the one run." in brief and "Means of the runs" not in brief
    assert "simulation, 3 runs<" in build_brief(folder) and "<th>change (95% interval)</th>" in build_brief(folder)
    booth = pd.read_csv(copy / "one_more_booth.csv")
    booth[["difference_ci95_low", "difference_ci95_high"]] = float("nan")  # as one run leaves them
    booth.to_csv(copy / "one_more_booth.csv", index=False)
    assert "<th>change</th>" in build_brief(copy)


def test_brief_off_skips_the_paired_run(tmp_path):
    run = _run(tmp_path, "--brief", "off")
    assert not (run / "brief.html").exists() and not (run / "one_more_booth.csv").exists()
    assert (run / "needs.csv").is_file()  # the tables cost little and are always written


class _Tables(HTMLParser):
    """The cell texts of each table of a page by its class: rows of cells (header cells too)."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.table = self.cell = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.table = self.tables.setdefault(dict(attrs).get("class", ""), [])
        elif tag == "tr" and self.table is not None:
            self.table.append([])
        elif tag in ("td", "th") and self.table is not None:
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self.table = None
        elif tag in ("td", "th") and self.cell is not None:
            self.table[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def test_needs_turned_for_a_narrow_screen_hold_the_same_figures(folder):
    tables = _Tables()
    tables.feed((folder / "brief.html").read_text(encoding="utf-8"))
    wide, long = tables.tables["wide"], tables.tables["long"]
    assert [row[0] for row in wide] == ["crossing", "X", "all crossings"]
    turned = [list(column) for column in zip(*long)]  # the labels' column, then one per place
    assert [column[0] for column in turned[1:]] == [row[0] for row in wide[1:]]  # the same places
    assert [column[1:] for column in turned[1:]] == [row[1:] for row in wide[1:]]  # the same numbers
    assert turned[0][1:] == wide[0][1:]  # the same labels, with their units


@pytest.mark.browser
@pytest.mark.slow
def test_brief_fits_a_phone_without_scrolling_sideways(folder, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    try:
        page.goto((folder / "brief.html").resolve().as_uri())
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        shown = page.evaluate("[...document.querySelectorAll('table')].map(t => t.className + ':' + getComputedStyle(t).display)")
        assert "long:table" in shown and "wide:none" in shown
    finally:
        page.close()


@pytest.mark.browser
@pytest.mark.slow
def test_brief_is_one_a4_page_in_chromium(folder, tmp_path, browser):
    page = browser.new_page(viewport=A4)
    try:
        page.goto((folder / "brief.html").resolve().as_uri())
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        page.screenshot(path=str(tmp_path / "brief.png"), full_page=True)
        page.emulate_media(media="print")
        pdf = page.pdf(format="A4", print_background=True)
    finally:
        page.close()
    pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    assert pages == 1, f"brief.html prints on {pages} A4 pages"


def test_report_command_rebuilds_the_brief_byte_for_byte(folder, tmp_path):
    """``model report`` rebuilds brief.html with report.html, from the folder's files alone; checksums still hold."""
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    (copy / "brief.html").write_text("stale", encoding="utf-8")  # the brief is rebuilt, so it is not checksummed
    done = subprocess.run([sys.executable, "-m", "model", "report", str(copy)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [str(copy / "brief.html"), str(copy / "report.html")]
    assert (copy / "brief.html").read_bytes() == (folder / "brief.html").read_bytes()
