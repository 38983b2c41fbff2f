"""The default run's report.html opened in headless Chromium: it renders, fetches nothing and its map plays;
on a phone and on A4 paper it is no wider than the screen or page and no two titles of a chart overprint.

Drives Debian's ``chromium`` package through Playwright's ``executable_path``
(never ``playwright install``). Without /usr/bin/chromium the tests are
skipped, except in CI (``CI=true``), where that is a failure.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from model.cli import main

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
except ImportError:  # the fixtures skip without a browser
    PlaywrightTimeout = TimeoutError

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
REVIEW_COPY = Path("/tmp/report.png")
PHONE = {"width": 390, "height": 844}
#: An A4 sheet at 96 px per inch; the page's print style keeps 12 mm margins.
A4 = {"width": 794, "height": 1123}

#: Per chart, the pairs of visible titles (chart, axis and subplot titles, annotations) whose boxes overlap.
OVERLAPPING_TITLES = """() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(div => {
    const shown = e => { for (let n = e; n && n !== div; n = n.parentElement) {
        const s = getComputedStyle(n);
        if (s.display === 'none' || s.visibility === 'hidden' || s.opacity === '0') return false; } return true; };
    const boxes = [...div.querySelectorAll('.gtitle, .annotation-text, g[class^="g-x"][class$="title"], g[class^="g-y"][class$="title"]')]
        .filter(e => e.textContent.trim() && shown(e)).map(e => ({text: e.textContent.trim(), box: e.getBoundingClientRect()}))
        .filter(b => b.box.width > 0 && b.box.height > 0);
    const pairs = [];
    boxes.forEach((a, i) => boxes.slice(i + 1).forEach(b => {
        const w = Math.min(a.box.right, b.box.right) - Math.max(a.box.left, b.box.left);
        const h = Math.min(a.box.bottom, b.box.bottom) - Math.max(a.box.top, b.box.top);
        if (w > 1 && h > 1) pairs.push(`${div.id}: "${a.text}" and "${b.text}"`);
    }));
    return pairs;
})"""
#: Per chart whose drawing is wider than its box: id, drawing width, box width.
WIDER_THAN_BOX = """() => [...document.querySelectorAll('.js-plotly-plot')]
    .map(div => [div.id, div.querySelector('svg.main-svg').getBoundingClientRect().width, div.parentElement.clientWidth])
    .filter(([, drawn, box]) => drawn > box + 1)"""

#: Per chart div: the SVG drawn, and how many drawn marks (lines with a path, points, bars, Sankey nodes, canvases).
DRAWN_MARKS = """() => [...document.querySelectorAll('.plotly-graph-div')].map(div => ({
    id: div.id,
    svg: div.querySelectorAll('svg.main-svg').length,
    marks: [...div.querySelectorAll('path.js-line')].filter(p => (p.getAttribute('d') || '').length > 2).length
         + div.querySelectorAll('.point, .sankey-node').length + div.querySelectorAll('canvas').length,
}))"""




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


def _open(browser, report: Path, viewport: dict, media: str = "screen"):
    """The report in a new context at ``viewport``, once its charts are fitted to it (the page marks that on its root)."""
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.errors = []
    page.on("console", lambda msg: page.errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda err: page.errors.append(str(err)))
    page.emulate_media(media=media)
    page.goto(report.as_uri(), wait_until="load")
    page.wait_for_function("() => [...document.querySelectorAll('.plotly-graph-div')].every(d => d._fullLayout)")
    layout = "print" if media == "print" else "screen"
    try:
        page.wait_for_function(f"() => document.documentElement.dataset.layout === '{layout}'", timeout=15_000)
    except PlaywrightTimeout:  # a page without the mark is checked as it is drawn
        page.wait_for_timeout(1_000)
    return context, page


@pytest.fixture(scope="module")
def phone(browser, report):
    """The report on a 390 px wide phone screen."""
    context, page = _open(browser, report, PHONE)
    yield page
    context.close()


@pytest.fixture(scope="module")
def paper(browser, report):
    """The report as printed on A4: print media on a page as wide as the sheet."""
    context, page = _open(browser, report, A4, media="print")
    yield page
    context.close()


def test_no_console_errors(page):
    assert page.errors == []


def test_nothing_but_the_file_is_requested(page, report):
    assert set(page.requests) == {report.as_uri()}


def test_every_chart_is_drawn(page):
    charts = page.evaluate(DRAWN_MARKS)
    assert len(charts) == 8  # 7 + people waiting by hour (People in the queue)
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


def test_on_a_phone_the_page_is_no_wider_than_the_screen(phone, tmp_path):
    width = phone.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1] + 1, f"the page is {width[0]} px wide on a {width[1]} px screen"
    assert phone.evaluate(WIDER_THAN_BOX) == []
    shot = tmp_path / "phone.png"
    phone.screenshot(path=str(shot), full_page=True)
    shutil.copy(shot, REVIEW_COPY.with_name("report-phone.png"))


def test_on_a_phone_no_two_titles_of_a_chart_overlap(phone):
    assert phone.evaluate(OVERLAPPING_TITLES) == []
    assert phone.errors == []


def test_on_a4_paper_charts_fit_the_page_and_no_two_titles_overlap(paper, tmp_path):
    width = paper.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1] + 1
    assert paper.evaluate(WIDER_THAN_BOX) == []
    assert paper.evaluate(OVERLAPPING_TITLES) == []
    page_rules = paper.evaluate("""() => [...document.styleSheets].flatMap(s => [...s.cssRules])
        .filter(r => r instanceof CSSPageRule).map(r => r.style.getPropertyValue('size'))""")
    assert "a4" in [size.lower() for size in page_rules]
    assert paper.errors == []
    shot = tmp_path / "paper.png"
    paper.screenshot(path=str(shot), full_page=True)
    shutil.copy(shot, REVIEW_COPY.with_name("report-print.png"))
