"""The default run's report.html opened in headless Chromium: it renders, fetches nothing and its map plays.

Drives Debian's ``chromium`` package through Playwright's ``executable_path``
(never ``playwright install``). Without /usr/bin/chromium the tests are
skipped, except in CI (``CI=true``), where that is a failure.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from model.cli import main

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
REVIEW_COPY = Path("/tmp/report.png")

#: Per chart div: the SVG drawn, and how many drawn marks (lines with a path, points, bars, Sankey nodes, canvases).
DRAWN_MARKS = """() => [...document.querySelectorAll('.plotly-graph-div')].map(div => ({
    id: div.id,
    svg: div.querySelectorAll('svg.main-svg').length,
    marks: [...div.querySelectorAll('path.js-line')].filter(p => (p.getAttribute('d') || '').length > 2).length
         + div.querySelectorAll('.point, .sankey-node').length + div.querySelectorAll('canvas').length,
}))"""


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{CHROMIUM} is missing in CI; .ci/run installs Debian's chromium package")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium); the report is not checked in a browser")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """The default scenario with three replications, run through the command line as a user would."""
    out = tmp_path_factory.mktemp("runs")
    assert main(["run", str(ROOT / "params" / "kharkiv_2022.toml"), "--set", "replications=3", "--out", str(out), "--quiet"]) == 0
    (folder,) = (out / "kharkiv_2022").iterdir()
    return folder / "report.html"


@pytest.fixture(scope="module")
def page(browser, report):
    """The report loaded at a 1366x768 laptop size, with every console error and request recorded."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.errors, page.requests = [], []
    page.on("console", lambda msg: page.errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda err: page.errors.append(str(err)))
    page.on("request", lambda request: page.requests.append(request.url))
    page.goto(report.as_uri(), wait_until="load")
    page.wait_for_function("() => [...document.querySelectorAll('.plotly-graph-div')].every(d => d._fullLayout)")
    yield page
    context.close()


def test_no_console_errors(page):
    assert page.errors == []


def test_nothing_but_the_file_is_requested(page, report):
    assert set(page.requests) == {report.as_uri()}


def test_every_chart_is_drawn(page):
    charts = page.evaluate(DRAWN_MARKS)
    assert len(charts) == 7
    empty = [c["id"] for c in charts if c["svg"] == 0 or c["marks"] == 0]
    assert empty == []


def test_full_page_screenshot(page, tmp_path):
    """Taken before the map is played, so it shows the page as it opens; a copy is kept for review."""
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(shot.read_bytes()[16:20], "big")
    assert width == 1366, "the page is wider than a 1366 px laptop screen"
    shutil.copy(shot, REVIEW_COPY)


def test_play_moves_the_map_slider(page):
    active = "() => document.getElementById('figure-map')._fullLayout.sliders[0].active"
    before = page.evaluate(active)
    page.locator("#figure-map .updatemenu-button", has_text="Play").click()
    page.wait_for_function(f"() => ({active})() !== {before}", timeout=10_000)
    page.locator("#figure-map .updatemenu-button", has_text="Pause").click()
    assert page.evaluate(active) != before
