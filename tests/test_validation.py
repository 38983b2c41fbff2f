"""The validation suite: targets as data, conservation, the validate command, and the calibration regression."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import PARAMS, ROOT, tiny_scenario

from model import run_replication
from model.experiments.calibration import Target, calibration_table, load_targets, target_value, targets_path_for
from model.experiments.checks import STATES, check_conservation, check_little, fluid_scenario, party_states
from model.experiments.replications import run_replications
from model.scenario import ScenarioError, load_scenario

DEFAULT = PARAMS / "kharkiv_2022.toml"


def _target(**fields) -> Target:
    base = {"name": "t", "fact": "f", "source": "s", "reported": "r"}
    return Target.model_validate({**base, **fields})


# --- targets as data ---------------------------------------------------------------------------


def test_every_target_kind_measures_the_deterministic_case():
    """The fluid case (600 cars at the start, 2 booths x 10 min, then 5 from 10:00) has known answers."""
    s = fluid_scenario()
    rec = run_replication(s, 0)
    day0 = s.start.replace(tzinfo=None)

    def at(h):
        return day0 + timedelta(hours=h)

    value = lambda **kw: target_value(_target(**kw), s, rec.parties, rec.queues)  # noqa: E731
    assert value(kind="queue_vehicles_at", crossing="gate", at=at(5)) == 600 - 2 * 31  # 31 starts at 0, 10, ..., 300 min
    assert value(kind="queue_km_at", crossing="all", at=at(5)) == pytest.approx(538 * 7.5 / 1000 / 2)
    assert value(kind="people_crossed_by", at=at(1)) == 10  # served at 10, 20, ..., 50 min by two booths
    assert value(kind="people_crossed_between", between=[at(1), at(2)]) == 12
    # day 1 ends at 24:00: 2 booths x 60 epochs, 5 x 60, then 1 booth whose last finish before 24:00 began at 23:40
    assert value(kind="people_crossed_on_day", crossing="gate", day=day0.date()) == 120 + 300 + 23
    # all 600 arrived at 0; the last starts at 36:30 (3 booths from 30:00 take the last 120), the 300th/301st at 15:50/16:00
    waits = dict(kind="wait_of_arrivals_between", between=[at(0), at(1)])
    assert value(**waits, statistic="max") == pytest.approx(36.5)
    assert value(**waits, statistic="median") == pytest.approx(955 / 60)
    assert value(kind="queue_vehicles_mean_between", crossing="gate", between=[at(0), at(1)]) == pytest.approx(
        np.mean([598 - 2 * k for k in range(6)]))
    assert value(kind="peak_queue_km_between", crossing="gate", between=[at(0), at(48)]) == pytest.approx(598 * 7.5 / 2000)


def test_targets_file_of_the_default_scenario_loads_and_names_real_places():
    targets = load_targets(targets_path_for(DEFAULT))
    s = load_scenario(DEFAULT)
    names = {c.name for c in s.crossings} | {"all"}
    assert targets.replications >= 20
    assert all(t.crossing in names for t in targets.targets)
    assert sum(t.required for t in targets.targets) >= 7


def test_bad_targets_file_is_one_line(tmp_path):
    bad = tmp_path / "x.targets.toml"
    bad.write_text('[[targets]]\nname = "a"\nfact = "f"\nsource = "s"\nreported = "r"\nkind = "queue_km_at"\n')
    with pytest.raises(ScenarioError) as err:
        load_targets(bad)
    assert "needs 'at'" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(ScenarioError, match="not found"):
        load_targets(tmp_path / "missing.toml")


# --- conservation and Little's law on a full scenario -----------------------------------------------


def test_conservation_and_little_on_the_default_scenario():
    s = load_scenario(DEFAULT)
    recs = run_replications(s, [0])
    rows = check_conservation(s, recs) + check_little(s, recs)
    for row in rows:
        assert row.passed, row


def test_conservation_check_can_fail():
    s = tiny_scenario()
    rec = run_replication(s, 0)
    p = rec.parties.copy()
    p.loc[0, "service_start_at"] = np.nan  # a crossed party loses its service stamp: queued and crossed at once
    at = np.array([s.horizon_min - 1])
    states = party_states(p, at)
    assert states["departed"][0] != sum(states[k][0] for k in STATES)


# --- the command ----------------------------------------------------------------------------------


def test_validate_quick_writes_a_run_folder(tmp_path):
    out = subprocess.run([sys.executable, "-m", "model", "validate", "--quick", "--out", str(tmp_path), "--workers", "2"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    folder = Path(out.stdout.strip().splitlines()[-1])
    table = pd.read_csv(folder / "validation.csv")
    assert {"name", "expected", "simulated", "ci95_low", "ci95_high", "tolerance", "passed"} <= set(table.columns)
    assert set(table["group"]) == {"M/M/c", "fluid", "release", "series", "priority", "Little", "conservation"}
    # M/M/c rows say how many replications of how many customers the precision needed, and the target
    mmc = table[table["group"] == "M/M/c"]
    assert len(mmc) == 12 and (mmc["replications"] >= 10).all() and (mmc["customers"] > 0).all()
    wait = mmc[mmc["name"].str.endswith("mean wait (min)")]
    assert (wait["half_width_pct"] <= wait["target_pct"]).all() and set(wait["target_pct"]) == {20.0, 30.0}
    assert wait["tolerance"].str.contains("95% CI contains Erlang C and half-width <=").all()
    assert mmc["tolerance"].str.contains("set by the mean wait's").sum() == 8
    assert table["replications"].notna().all()
    page = (folder / "validation.html").read_text()
    assert page.count("<script type='text/javascript'>") == 1 and "<script src=" not in page  # plotly.js once, inline
    assert "The 12 M/M/c rows are each judged on a 95% interval" in page and "(0.6 expected in all)" in page


def test_validate_bad_input_is_exit_2(tmp_path):
    out = subprocess.run([sys.executable, "-m", "model", "validate", str(tmp_path / "none.toml"), "--out", str(tmp_path)],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())


def test_hypothetical_example_runs_without_code_changes():
    s = load_scenario(PARAMS / "example_hypothetical.toml")
    assert len(s.crossings) == 1 and len(s.origins) == 2
    assert any(r.closed_from for r in s.routes) and s.crossings[0].car.booth_schedule
    p = run_replication(s, 0).parties
    assert (p["outcome"] == "crossed").sum() > 1000


# --- calibration regression -------------------------------------------------------------------------


@pytest.mark.slow
def test_default_scenario_stays_inside_every_reported_range():
    """20 replications of the default scenario against every required fact of its targets file."""
    s = load_scenario(DEFAULT)
    targets = load_targets(targets_path_for(DEFAULT))
    recs = run_replications(s, range(targets.replications), workers=2)
    table = calibration_table(s, recs, targets)
    outside = table[table["required"] & ~table["inside"]]
    assert outside.empty, outside[["name", "low", "high", "mean"]].to_string()
