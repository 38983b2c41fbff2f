"""Same scenario and seed give byte-identical tables; run folders are new, complete and self-describing."""

import json
import subprocess
import sys
from datetime import datetime, timezone

import pandas as pd
import pytest

from model import load_scenario, simulate
from model.report.run_folder import RunFolder
from model.scenario import scenario_from_dict
from tests.conftest import PARAMS, ROOT, tiny_scenario

TABLES = ["parties.parquet", "queues.parquet", "stays.parquet", "charts/cumulative.csv", "charts/waits.csv", "kpis.csv", "kpis_by_replication.csv", "queues_summary.csv", "daily.csv", "scenario.toml"]


def _run(out, *extra):
    result = subprocess.run([sys.executable, "-m", "model", "run", str(PARAMS / "one_crossing_constant.toml"),
                             "--out", str(out), "--quiet", "--set", "replications=3", *extra],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    first, second = _run(out), _run(out)
    return out, first, second


def test_same_seed_gives_byte_identical_tables_and_a_new_folder(two_runs):
    out, first, second = two_runs
    a, b = first.stdout.strip().splitlines()[-1], second.stdout.strip().splitlines()[-1]
    assert a != b  # never reused, even within the same second
    for name in TABLES:
        assert (out / a).joinpath(name).read_bytes() == (out / b).joinpath(name).read_bytes(), name


def test_run_folder_is_complete_and_self_describing(two_runs):
    out, first, _ = two_runs
    folder = out / first.stdout.strip().splitlines()[-1].split(str(out) + "/")[-1]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["seed"] == 1 and manifest["replications"] == 3
    assert {"python", "simpy", "numpy", "pandas", "pydantic"} <= set(manifest["versions"])
    assert set(TABLES) <= set(manifest["files"])
    again = load_scenario(folder / "scenario.toml")
    assert again.replications == 3 and again.seed == 1
    parties = pd.read_parquet(folder / "parties.parquet")
    assert str(parties["departed_at"].dt.tz) == "UTC" and isinstance(parties["crossing"].dtype, pd.CategoricalDtype)
    assert (parties["departed_at"] == parties["departed_at"].dt.round("s")).all()
    assert not list(out.rglob(".incomplete-*"))


def test_summary_names_the_folder_on_its_last_line(two_runs):
    out, first, _ = two_runs
    lines = first.stdout.strip().splitlines()
    assert lines[-1].startswith(str(out)) and "Gate" in first.stdout and "peak" in first.stdout


def test_a_different_seed_gives_different_departures():
    s = tiny_scenario()
    a = simulate(s, replications=1).parties
    b = simulate(scenario_from_dict({**s.model_dump(mode="json", by_alias=True, exclude_none=True), "seed": 8}), replications=1).parties
    assert not a["departed_at"].equals(b["departed_at"])


def test_failed_run_leaves_no_folder(tmp_path):
    with pytest.raises(RuntimeError):
        with RunFolder(tmp_path, "x", datetime(2024, 1, 1, tzinfo=timezone.utc)) as folder:
            (folder / "parties.csv").write_text("half")
            raise RuntimeError("boom")
    assert list((tmp_path / "x").iterdir()) == []


def test_api_gives_the_same_tables_as_the_files(two_runs):
    out, first, _ = two_runs
    folder = out / first.stdout.strip().splitlines()[-1].split(str(out) + "/")[-1]
    results = simulate(load_scenario(folder / "scenario.toml"))
    from_file = pd.read_csv(folder / "kpis_by_replication.csv")
    assert results.kpis_by_replication["people_crossed"].tolist() == from_file["people_crossed"].tolist()
    assert len(results.parties) == len(pd.read_parquet(folder / "parties.parquet"))
