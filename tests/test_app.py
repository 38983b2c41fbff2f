"""The what-if page (``python -m model app``): its controls come from the schema, its settings mean what ``--set``
means, bad input gets the command line's own message, pages never share results, and, in a real browser, a
booth control moves the queue and the key figures the right way and the downloaded settings rerun to the same
figures through the command line. The app leaves no process behind when stopped.

The browser test drives Debian's ``chromium`` through Playwright's ``executable_path``, as
``tests/test_report_browser.py`` does; without it those tests are skipped (a failure in CI).
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
from conftest import PARAMS, ROOT

from model.app import changes_from, command_line, load, resolve, settings_toml
from model.app.jobs import Runs, Sessions
from model.app.settings import set_texts
from model.app.views import key_figure_rows, side
from model.cli import main
from model.scenario import apply_overrides, load_scenario, scenario_from_dict
from model.scenario.crossings import Channel
from model.scenario.fields import MAX_BOOTHS

DEFAULT = PARAMS / "kharkiv_2022.toml"
PYTHON = ROOT / ".venv" / "bin" / "python"
BOOTHS = "crossings.Logachevka.car.booths"


@pytest.fixture(scope="module")
def loaded():
    return load(str(DEFAULT))


def controls(loaded, path):
    return [c for c in loaded.controls if c.path == path]


# --- controls from the schema ---------------------------------------------------------------------


def test_a_booth_control_carries_its_set_path_and_the_schemas_text_and_bounds(loaded):
    (c,) = controls(loaded, BOOTHS)
    assert (c.value, c.low, c.high, c.integer) == (3, 0, MAX_BOOTHS, True)
    assert Channel.model_fields["booths"].description in c.label
    assert c.range_text == f"0 to {MAX_BOOTHS:,}"


def test_the_page_has_a_control_for_each_lever_the_issue_names(loaded):
    paths = {c.key for c in loaded.controls}
    s = loaded.scenario
    for crossing in s.crossings:
        for mode in ("car", "bus", "foot"):
            if crossing.channel(mode):
                assert {f"crossings.{crossing.name}.{mode}.booths", f"crossings.{crossing.name}.{mode}.booth_schedule#at",
                        f"crossings.{crossing.name}.{mode}.service.per_vehicle_min"} <= paths
        assert f"crossings.{crossing.name}.closures#starts" in paths
        assert all(f"crossings.{crossing.name}.regimes.{j}.service_multiplier" in paths for j in range(len(crossing.regimes)))
    for origin in s.origins:
        assert {f"origins.{origin.name}.people", f"origins.{origin.name}.departures#shift_h",
                f"origins.{origin.name}.departures#stretch"} <= paths
    assert {f"routes.{i}.closed_from" for i in range(len(s.routes))} <= paths
    assert {"replications", "behaviour.car.patience_h.mean"} <= paths


def test_every_direct_control_is_a_set_path_that_holds_the_value_it_shows(loaded):
    """Setting each box's path to the loaded value, as --set would, changes nothing."""
    direct = [c for c in loaded.controls if not c.part]
    changes = {c.path: c.value for c in direct if c.kind == "number"}
    assert scenario_from_dict(apply_overrides(loaded.base_raw, changes), "x") == loaded.scenario
    for c in direct:
        if c.kind == "datetime" and c.value:
            assert resolve(loaded, changes_from(loaded, {c.key: c.value + " "}))[0] == loaded.scenario


# --- settings: --set, the settings file, the command line ----------------------------------------


WHAT_IFS = {
    "two more booths": {BOOTHS: 5},
    "a booth step and a closure": {"crossings.Logachevka.car.booth_schedule#booths": 7,
                                   "crossings.Logachevka.car.booth_schedule#at": "2022-09-10 08:00",
                                   "crossings.Shebekino.closures#starts": "2022-09-10 10:00",
                                   "crossings.Shebekino.closures#ends": "2022-09-10 14:00"},
    "later, slower departures, the bridge holds": {"origins.Vovchansk.departures#shift_h": 6,
                                                    "origins.Vovchansk.departures#stretch": 1.5, "routes.0.closed_from": ""},
    "patience, regime, people": {"behaviour.car.patience_h.mean": 24, "crossings.Logachevka.regimes.0.starts": "2022-09-09 20:00",
                                 "origins.Kupiansk west bank.people": 3000, "replications": 3},
}


@pytest.mark.parametrize("values", WHAT_IFS.values(), ids=WHAT_IFS)
def test_the_downloaded_settings_and_the_command_line_give_the_pages_scenario(values, loaded, tmp_path):
    changes = changes_from(loaded, values)
    scenario, _ = resolve(loaded, changes)
    assert scenario != loaded.scenario
    path = tmp_path / "whatif.toml"
    path.write_text(settings_toml(loaded, changes), encoding="utf-8")
    assert load_scenario(path) == scenario
    assert load_scenario(loaded.source, set_texts(loaded, changes)) == scenario
    assert command_line(loaded, changes).startswith(f".venv/bin/python -m model run {loaded.source} --set ")


def test_the_settings_file_extends_the_loaded_file_and_lists_only_what_changed(loaded):
    text = settings_toml(loaded, changes_from(loaded, {BOOTHS: 5}))
    assert tomllib.loads(text) == {"extends": str(DEFAULT.resolve()), "crossings": [{"name": "Logachevka", "car": {"booths": 5}}]}
    assert f"--set {BOOTHS}=5" in text  # the header says it in words


BAD = {"below the range": -1, "above the range": MAX_BOOTHS + 1, "empty": None, "a fraction": 2.5}


@pytest.mark.parametrize("value", BAD.values(), ids=BAD)
def test_bad_input_gets_the_command_lines_own_message(value, loaded, capsys):
    with pytest.raises(Exception) as err:
        resolve(loaded, changes_from(loaded, {BOOTHS: value}))
    text = "" if value is None else str(value)
    assert main(["run", loaded.source, "--set", f"{BOOTHS}={text}", "--quiet"]) == 2
    assert capsys.readouterr().err.strip() == f"error: {err.value}"


def test_a_page_only_control_out_of_range_is_refused_in_one_line(loaded):
    with pytest.raises(Exception, match=r"origins\.Vovchansk\.departures \(stretch\): got 0; must be from 0.1 to 10"):
        changes_from(loaded, {"origins.Vovchansk.departures#stretch": 0})


# --- sessions and common random numbers ----------------------------------------------------------


def test_pages_never_share_runs_and_new_settings_cancel_the_old(tiny):
    base = tiny()
    with ThreadPoolExecutor(1) as pool:
        baseline = Runs(base, "", pool)
        sessions = Sessions(baseline, pool, limit=3)
        more = tiny(crossings=[{"name": "X", "car": {"booths": 2}}])
        a, new_a = sessions.runs_for("page-a-token", "k1", more)
        b, new_b = sessions.runs_for("page-b-token", "k1", more)
        assert new_a and new_b and a is not b  # same settings, two pages: two runs, nothing shared
        assert sessions.runs_for("page-a-token", "k1", more) == (a, False)
        a.ensure(50)
        assert sessions.runs_for("page-a-token", "", base)[0] is baseline  # back to the loaded scenario
        assert a.cancelled and not b.cancelled
        for token in ("c" * 8, "d" * 8, "e" * 8):
            sessions.runs_for(token, "k2", more)
        assert len(sessions) == 3 and b.cancelled  # the least recently seen page was dropped


def test_more_booths_lower_the_queue_in_every_pair_and_equal_settings_differ_by_nothing(tiny):
    base, more = tiny(), tiny(crossings=[{"name": "X", "car": {"booths": 2}}])
    with ThreadPoolExecutor(1) as pool:
        a, b, c = Runs(base, "", pool), Runs(more, "more", pool), Runs(base, "same", pool)
        for runs in (a, b, c):
            assert runs.wait(5, 60)
    rows = {r["kpi"]: r for r in key_figure_rows(more, side(base, a.results(5)), side(more, b.results(5))) if r["crossing"] == "X"}
    assert rows["peak_queue_km"]["direction"] == "lower" and rows["peak_queue_km"]["difference_high"] < 0
    same = key_figure_rows(base, side(base, a.results(5)), side(base, c.results(5)))
    assert all(r["difference"] == 0 and r["direction"] == "same" for r in same if r["difference"] == r["difference"])


def test_the_command_line_runs_without_dash():
    code = "import sys, model.cli; assert 'dash' not in sys.modules, 'the CLI imports dash'"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True).returncode == 0


# --- the app as a process -------------------------------------------------------------------------


def start_app(tmp_path: Path, *args: str) -> tuple[subprocess.Popen, str]:
    """``python -m model app`` on a free port; returns the process and the address it printed."""
    proc = subprocess.Popen([sys.executable, "-m", "model", "app", str(DEFAULT), "--port", "0", "--out", str(tmp_path / "runs"),
                             *args], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:\d+/", line)
    if not match:
        proc.kill()
        pytest.fail(f"no address printed: {line!r} {proc.stderr.read()[-2000:]}")
    return proc, match.group(0)


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_stopping_the_app_leaves_no_process_behind(sig, tmp_path):
    import psutil

    proc, _ = start_app(tmp_path, "--workers", "2", "--set", "replications=40")
    try:
        workers = psutil.Process(proc.pid).children(recursive=True)
        assert len(workers) >= 2
        proc.send_signal(sig)
        assert proc.wait(30) == 128 + sig
        time.sleep(0.5)
        assert [w.pid for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE] == []
    finally:
        if proc.poll() is None:
            proc.kill()


# --- in a real browser ----------------------------------------------------------------------------




CURRENT_LINE = """name => {
    const gd = document.querySelector('#chart .js-plotly-plot');
    if (!gd || !gd.data) { return null; }  // between two drawings of the chart
    const t = gd.data.find(t => t.name === name);
    return t ? Array.from(t.y) : null; }"""
FIGURE = """([crossing, kpi, column]) => {
    const row = document.querySelector(`tr[data-crossing="${crossing}"][data-kpi="${kpi}"]`);
    const cell = row.querySelectorAll('td')[{loaded: 1, now: 2, difference: 3}[column]];
    return [parseFloat(cell.dataset.value), cell.dataset.direction || null]; }"""
ALL_DONE = """() => { const s = document.querySelector('#status [data-done]');
    return s && s.dataset.done === s.dataset.total && s.dataset.loadedDone === s.dataset.total && s.dataset.key !== ''; }"""


def settled_line(page, name: str) -> list[float]:
    """The chart's line ``name`` once the chart has drawn the latest figure (plotly draws a moment after the status text)."""
    last = None
    for _ in range(40):
        now = page.evaluate(CURRENT_LINE, name)
        if now is not None and now == last:
            return now
        last = now
        page.wait_for_timeout(400)
    return last


@pytest.mark.browser
@pytest.mark.slow
def test_a_booth_control_moves_the_queue_and_the_settings_rerun_to_the_same_figures(browser, tmp_path, capsys):
    proc, url = start_app(tmp_path, "--workers", "2", "--set", "replications=4")
    try:
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page = context.new_page()
        errors = []
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda err: errors.append(str(err)))
        page.goto(url)
        page.wait_for_function(ALL_DONE, timeout=120_000)
        before = settled_line(page, "Logachevka")
        loaded_peak = page.evaluate(FIGURE, ["Logachevka", "peak_queue_km", "loaded"])[0]

        box = page.locator(f'[data-path="{BOOTHS}"] input')
        assert box.input_value() == "3"
        started = time.perf_counter()
        box.fill("6")
        page.wait_for_function("() => document.querySelector('#status [data-key]').dataset.key !== 'loaded'", timeout=30_000)
        first = time.perf_counter() - started
        page.wait_for_function(ALL_DONE, timeout=120_000)
        every = time.perf_counter() - started
        status = page.inner_text("#status")
        print(f"\nafter the change: first answer in {first:.2f} s, all replications in {every:.2f} s; {status}", file=sys.__stderr__)

        after = settled_line(page, "Logachevka")
        assert after != before and max(after) < max(before)  # the queue's median line came down
        for kpi in ("peak_queue_km", "surge_person_wait_p50_h"):
            (now, _), (diff, direction) = (page.evaluate(FIGURE, ["Logachevka", kpi, col]) for col in ("now", "difference"))
            assert direction == "lower" and diff < 0, kpi
        assert page.evaluate(FIGURE, ["Logachevka", "peak_queue_km", "now"])[0] < loaded_peak

        # bad input: the command line's message, the chart as it was
        box.fill("-1")
        page.wait_for_selector("#message.error", timeout=15_000)
        assert main(["run", str(DEFAULT), "--set", f"{BOOTHS}=-1", "--quiet"]) == 2
        assert page.inner_text("#message").strip() == capsys.readouterr().err.strip()
        assert page.locator(f'[data-path="{BOOTHS}"]').get_attribute("class") == "control bad"
        assert settled_line(page, "Logachevka") == after
        box.fill("6")
        page.wait_for_function("() => !document.querySelector('#message').classList.contains('error')", timeout=15_000)

        with page.expect_download() as download:
            page.click("#save")
        settings = tmp_path / download.value.suggested_filename
        download.value.save_as(settings)
        assert "booths = 6" in settings.read_text(encoding="utf-8")
        out = tmp_path / "cli"
        result = subprocess.run([sys.executable, "-m", "model", "run", str(settings), "--workers", "2", "--quiet", "--out", str(out)],
                                cwd=tmp_path, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr
        kpis = pd.read_csv(Path(result.stdout.strip().splitlines()[-1]) / "kpis.csv").set_index(["crossing", "kpi"])
        for crossing, kpi in [("Logachevka", "peak_queue_km"), ("all", "people_waiting_at_end"), ("Logachevka", "surge_person_wait_p50_h")]:
            assert page.evaluate(FIGURE, [crossing, kpi, "now"])[0] == pytest.approx(float(kpis.loc[(crossing, kpi), "mean"]), rel=1e-9)

        page.click("#write")
        page.wait_for_function("() => document.querySelector('#written').innerText.includes('run folder:')", timeout=300_000)
        folder = Path(re.search(r"run folder: (\S+)", page.inner_text("#written")).group(1))
        assert (folder / "report.html").is_file()
        written = pd.read_csv(folder / "kpis.csv").set_index(["crossing", "kpi"])
        assert float(written.loc[("Logachevka", "peak_queue_km"), "mean"]) == float(kpis.loc[("Logachevka", "peak_queue_km"), "mean"])
        page.screenshot(path=str(Path("/tmp") / "app.png"))
        assert errors == []
        context.close()
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 130
