"""Replications: the same tables whatever the workers or executor, common random numbers across
scenarios, intervals that cover the truth, and the sequential procedure for --replications auto."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import PARAMS, ROOT, TINY, tiny_scenario
from hypothesis import given, settings
from hypothesis import strategies as st

from model import run_replication
from model.analysis.key_figures import KPI_UNITS, summarise_kpis
from model.cli import main
from model.engine.arrivals import sample_departures
from model.experiments.precision import FIRST_CHECK, precision_table, replicate_to_precision
from model.experiments.replications import ExecutorError, open_executor, run_on, run_replications, simulate
from model.report.run_folder import scenario_toml, write_results
from model.scenario import load_scenario, merge_scenarios, scenario_from_dict

ONE_CROSSING = PARAMS / "one_crossing_constant.toml"
DEFAULT = PARAMS / "kharkiv_2022.toml"
#: What a party is when it leaves: these must not depend on anything downstream of departure.
DEPARTURE_COLUMNS = ["party_id", "replication", "origin", "mode", "people", "departed_at"]
#: Tables that hold one row per replication and something, so each must say which replication.
PER_REPLICATION_TABLES = ["parties", "queues", "kpis_by_replication", "daily"]

#: Compound Poisson departures: E[parties] = 200 / 2.5 = 80, E[people] = 200 exactly.
DISCRETE_SIZES = {"dist": "discrete", "values": [1, 2, 3, 4], "probs": [0.2, 0.3, 0.3, 0.2]}


def busy_tiny(**changes):
    """TINY with 300 people over 10 h (30 cars/h) at 3 booths of exponential 5-minute service: load 0.83."""
    base = {
        "origins": [{"name": "A", "people": 300}],
        "crossings": [{"name": "X", "car": {"booths": 3, "service": {"per_vehicle_min": 5.0, "dist": "exponential"}}}],
    }
    return tiny_scenario(**merge_scenarios(base, changes))


def scenario_file(scenario, folder):
    path = folder / f"{scenario.name}.toml"
    path.write_text(scenario_toml(scenario), encoding="utf-8")
    return path


def written(results, folder) -> dict[str, bytes]:
    """The bytes of every table and the resolved scenario of a run folder (the manifest holds times)."""
    run = write_results(results, folder, {"started_at": "fixed"})
    return folder_bytes(run)


def cli_run(capsys, argv) -> tuple[int, list[str], str]:
    code = main(["run", *argv, "--quiet"])
    out, err = capsys.readouterr()
    return code, out.strip().splitlines(), err


def folder_bytes(folder) -> dict[str, bytes]:
    """The bytes of every table (Parquet, CSV, chart tables) and the scenario of a run folder, by relative path."""
    folder = Path(folder)
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.suffix in (".csv", ".toml", ".parquet")}


# --- reproducible whatever the workers --------------------------------------------------------


def test_tables_are_byte_identical_for_one_and_two_workers(tmp_path):
    scenario = load_scenario(ONE_CROSSING, ["replications=4"])
    one = written(simulate(scenario, workers=1), tmp_path / "one")
    two = written(simulate(scenario, workers=2), tmp_path / "two")
    assert set(one) >= {"parties.parquet", "queues.parquet", "stays.parquet", "kpis.csv", "kpis_by_replication.csv",
                        "queues_summary.csv", "daily.csv", "charts/waits.csv", "charts/cumulative.csv"}
    assert one == two


def test_a_process_pool_keeps_what_existed_before_it_out_of_garbage_collection_while_it_lives():
    """The workers are forked from this process: objects frozen before the fork are never touched by a collection
    (their pages stay shared, and collecting is cheaper); once the pool is closed they are collected as before."""
    import gc

    gc.unfreeze()  # whatever an earlier test left frozen
    scenario = load_scenario(ONE_CROSSING, ["replications=2"])
    with open_executor("process", 2) as runner:
        assert gc.get_freeze_count() > 0
        assert [r.replication for r in run_on(runner, scenario, range(2))] == [0, 1]
    assert gc.get_freeze_count() == 0
    with pytest.raises(KeyboardInterrupt), open_executor("process", 2):
        assert gc.get_freeze_count() > 0
        raise KeyboardInterrupt
    assert gc.get_freeze_count() == 0


def test_every_per_replication_table_carries_the_replication_and_kpis_has_intervals():
    results = simulate(load_scenario(ONE_CROSSING, ["replications=3"]))
    for name in PER_REPLICATION_TABLES:
        table = getattr(results, name)
        assert sorted(table["replication"].unique()) == [0, 1, 2], name
    k = results.kpis
    assert {"crossing", "kpi", "unit", "n", "mean", "sd", "ci95_low", "ci95_high", "p10", "p90"} <= set(k.columns)
    assert set(k["crossing"]) == {"Gate", "all"}
    assert set(k["kpi"]) == set(KPI_UNITS)
    peak = k.set_index(["crossing", "kpi"]).loc[("Gate", "peak_queue_km")]
    assert peak["ci95_low"] <= peak["mean"] <= peak["ci95_high"] and peak["p10"] <= peak["p90"] and peak["n"] == 3


def test_a_replication_does_not_depend_on_which_others_run():
    scenario = busy_tiny()
    alone = run_replications(scenario, [3])[0]
    among = run_replications(scenario, [5, 3, 0], workers=2)
    assert [r.replication for r in among] == [0, 3, 5]
    pd.testing.assert_frame_equal(alone.parties, among[1].parties)
    pd.testing.assert_frame_equal(alone.queues, among[1].queues)


# --- common random numbers --------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"crossings.Shebekino.car.booths": 2, "crossings.Logachevka.car.booths": 6},
        {"crossings.Nekhoteevka.car.service.per_vehicle_min": 9.0, "crossings.Logachevka.foot.service.dist": "gamma"},
        {"behaviour.car.patience_h": {"dist": "exponential", "mean": 4.0}, "behaviour.car.renege.walk": 0.0,
         "behaviour.car.renege.give_up": 0.9},
    ],
    ids=["booths", "service", "behaviour"],
)
def test_scenarios_differing_in_capacity_or_behaviour_share_their_departures(change):
    base = load_scenario(DEFAULT, ["replications=1"])
    variant = load_scenario(DEFAULT, {"replications": 1, **change})
    a, b = run_replication(base, 1).parties, run_replication(variant, 1).parties
    pd.testing.assert_frame_equal(a[DEPARTURE_COLUMNS], b[DEPARTURE_COLUMNS])
    # ... while what happens after departure does change, so the comparison has teeth
    assert not a["crossed_at"].equals(b["crossed_at"])


@settings(max_examples=15, deadline=None)
@given(booths=st.integers(1, 4), service_min=st.floats(1.0, 30.0), cv=st.floats(0.2, 2.0), replication=st.integers(0, 50))
def test_capacity_never_moves_a_departure(booths, service_min, cv, replication):
    base = busy_tiny()
    other = busy_tiny(crossings=[{"name": "X", "car": {"booths": booths, "service": {"per_vehicle_min": service_min,
                                                                                      "dist": "lognormal", "cv": cv}}}])
    a, b = run_replication(base, replication).parties, run_replication(other, replication).parties
    pd.testing.assert_frame_equal(a[DEPARTURE_COLUMNS], b[DEPARTURE_COLUMNS])


# --- interval coverage ------------------------------------------------------------------------


def test_95_percent_intervals_cover_the_exact_mean_of_people_departed():
    """100 experiments of 20 replications; the t-interval of kpis.csv must cover the truth in >= 85.

    The figure is people departed from an origin whose rate curve is scaled to
    200 people: a compound Poisson count (Poisson parties, sizes 1-4) whose
    expectation is exactly 200 by construction, unlike the mean wait of a
    finite-horizon queue, which carries start-up bias. The count is taken from
    the departures a replication releases (the engine only records them, as the
    first assertion shows), and the intervals come from ``summarise_kpis``, the
    function that writes kpis.csv, with each experiment as its own group.
    """
    raw = copy.deepcopy(TINY)
    raw["origins"][0].update(people=200, party_size={"car": DISCRETE_SIZES, "foot": {"dist": "fixed", "value": 1}})
    scenario = scenario_from_dict(raw, "compound-poisson")
    origin = scenario.origins[0]
    experiments, reps = 100, 20

    def departed(r: int) -> float:
        return float(sample_departures(scenario, origin, r).people.sum())

    engine = run_replication(scenario, 0).kpis
    assert engine.loc[engine["crossing"] == "all", "people_departed"].item() == departed(0)

    per_rep = pd.DataFrame({kpi: np.nan for kpi in KPI_UNITS}, index=range(experiments * reps))
    per_rep.insert(0, "replication", per_rep.index % reps)
    per_rep.insert(1, "crossing", [f"experiment {i // reps}" for i in per_rep.index])
    per_rep["people_departed"] = [departed(r) for r in per_rep.index]
    ci = summarise_kpis(per_rep).query("kpi == 'people_departed'")
    assert len(ci) == experiments and (ci["n"] == reps).all()
    covered = int(((ci["ci95_low"] <= 200.0) & (200.0 <= ci["ci95_high"])).sum())
    assert covered >= 85, f"{covered} of {experiments} intervals cover the true mean"


# --- the sequential procedure -----------------------------------------------------------------


def _rule_met(records, scenario, n, precision):
    per_rep = pd.concat([r.kpis for r in records[:n]], ignore_index=True)
    return not (precision_table(per_rep, [c.name for c in scenario.crossings], precision)["status"] == "not met").any()


def test_auto_stops_at_the_first_precise_count_whatever_the_workers():
    scenario = busy_tiny()
    records, check = replicate_to_precision(scenario, 25.0, 200, workers=1)
    assert check.met and FIRST_CHECK <= check.replications < 200
    assert [r.replication for r in records] == list(range(check.replications))
    assert _rule_met(records, scenario, check.replications, 25.0)
    if check.replications > FIRST_CHECK:
        assert not _rule_met(records, scenario, check.replications - 1, 25.0)
    assert (check.table["status"] == "met").all() and (check.table["n"] == check.replications).all()
    records2, check2 = replicate_to_precision(scenario, 25.0, 200, workers=2)
    assert check2.replications == check.replications
    for a, b in zip(records, records2, strict=True):
        pd.testing.assert_frame_equal(a.parties, b.parties)


def test_auto_respects_the_cap():
    records, check = replicate_to_precision(busy_tiny(), 0.01, 12, workers=1)
    assert not check.met and check.replications == 12 and len(records) == 12
    assert set(check.not_met["kpi"]) == {"peak_queue_km", "wait_mean_h"}


def test_auto_skips_figures_whose_mean_is_zero():
    never_queues = busy_tiny(crossings=[{"name": "X", "car": {"booths": 60}}])
    records, check = replicate_to_precision(never_queues, 1.0, 50)
    assert check.met and check.replications == FIRST_CHECK and len(records) == FIRST_CHECK
    assert set(check.skipped["status"]) == {"skipped: mean 0"}


def test_auto_through_the_cli_equals_a_direct_run_of_that_many(tmp_path, capsys):
    path = scenario_file(busy_tiny(), tmp_path)
    code, out, _ = cli_run(capsys, [str(path), "--replications", "auto", "--precision", "25", "--out", str(tmp_path / "auto")])
    assert code == 0
    auto_folder = Path(out[-1])
    needed = json.loads((auto_folder / "manifest.json").read_text())["replications"]
    assert any(line.startswith(f"replications: auto, {needed} needed") for line in out)
    code, out, _ = cli_run(capsys, [str(path), "--replications", str(needed), "--workers", "1", "--out", str(tmp_path / "direct")])
    assert code == 0
    auto, direct = folder_bytes(auto_folder), folder_bytes(out[-1])
    assert auto.pop("precision.csv")
    assert auto == direct


@pytest.mark.parametrize(
    "argv, names",
    [
        (["--replications", "auto"], "--precision"),
        (["--precision", "5"], "--replications auto"),
        (["--replications", "0"], "--replications"),
        (["--replications", "lots"], "--replications"),
        (["--replications", "auto", "--precision", "0"], "--precision"),
        (["--replications", "auto", "--precision", "5", "--max-replications", "1"], "--max-replications"),
        (["--executor", "spark"], "--executor"),
        (["--executor", "dask"], "--scheduler"),
        (["--scheduler", "tcp://127.0.0.1:8786"], "--executor dask"),
    ],
)
def test_bad_replication_options_give_one_line_and_exit_2(argv, names, tmp_path, capsys):
    code, out, err = cli_run(capsys, [str(ONE_CROSSING), *argv, "--out", str(tmp_path)])
    assert code == 2 and names in err and len(err.strip().splitlines()) == 1 and not out
    assert not any(tmp_path.iterdir())


def test_dask_missing_gives_one_line_and_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now raises ImportError
    with pytest.raises(ExecutorError, match=r"pip install"):
        run_replications(busy_tiny(), range(2), executor="dask", scheduler="tcp://127.0.0.1:8786")
    code, out, err = cli_run(capsys, [str(ONE_CROSSING), "--executor", "dask", "--scheduler", "tcp://127.0.0.1:8786",
                                      "--out", str(tmp_path)])
    assert code == 2 and "pip install" in err and len(err.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())


# --- Dask: a real scheduler and worker, each a process started from the project's .venv -----------
#
# Not a LocalCluster: its scheduler runs inside this process, which imports the model from the
# checkout, so it cannot show that a scheduler started elsewhere (which unpickles the task graph
# in recent Dask versions) needs the package too. `make venv` installs it in .venv.

VENV_BIN = ROOT / ".venv" / "bin"
#: Bounded waits: a process that is not up by then fails the test (with its log) instead of hanging it.
STARTUP_S = 60


def dask_env() -> dict[str, str]:
    """The environment of a process started by hand: nothing points Python at this checkout."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}


class DaskProcesses:
    """Dask schedulers and workers started as separate processes, each in its own process group,
    logging to a file in ``folder``; :meth:`stop` ends them all, whatever happened."""

    def __init__(self, folder: Path):
        self.folder, self.procs = folder, []

    def start(self, name: str, argv: list[str]) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "wb")
        try:
            proc = subprocess.Popen(argv, cwd=self.folder, env=dask_env(), stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            log.close()
        self.procs.append(proc)
        return proc

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")[-3000:]

    def scheduler(self, python: list[str], name: str = "scheduler") -> str:
        """Start a scheduler on a free port of 127.0.0.1; its address once it is listening."""
        file = self.folder / f"{name}.json"
        proc = self.start(name, [*python, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                 "--scheduler-file", str(file), "--idle-timeout", "600"])
        deadline = time.monotonic() + STARTUP_S
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                return json.loads(file.read_text())["address"]
            except (OSError, ValueError, KeyError):
                time.sleep(0.1)
        pytest.fail(f"the Dask scheduler did not start within {STARTUP_S} s:\n{self.log(name)}")

    def worker(self, python: list[str], address: str, name: str = "worker") -> None:
        """Start one single-threaded worker (no nanny) and wait until the scheduler has it."""
        import distributed

        self.start(name, [*python, "worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--no-nanny",
                          "--no-dashboard", "--death-timeout", "60"])
        with distributed.Client(address, timeout=f"{STARTUP_S}s", set_as_default=False) as client:
            try:
                client.wait_for_workers(1, timeout=STARTUP_S)
            except TimeoutError:
                pytest.fail(f"the Dask worker did not join within {STARTUP_S} s:\n{self.log(name)}")

    def stop(self) -> None:
        for proc in self.procs:
            for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
                try:
                    os.killpg(proc.pid, sig)  # the group this test started (start_new_session), nothing else
                except ProcessLookupError:
                    break
                try:
                    proc.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue


def dask_cli(python: Path = VENV_BIN / "python") -> list[str]:
    return [str(python), "-m", "dask"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """The address of a scheduler and one worker started with .venv/bin/dask, as on a real cluster."""
    pytest.importorskip("distributed")
    if not (VENV_BIN / "dask").exists():
        pytest.skip("no .venv/bin/dask: run make venv")
    procs = DaskProcesses(tmp_path_factory.mktemp("dask"))
    try:
        address = procs.scheduler([str(VENV_BIN / "dask")])
        procs.worker([str(VENV_BIN / "dask")], address)
        yield address
    finally:
        procs.stop()


@pytest.fixture
def dask_processes(tmp_path):
    procs = DaskProcesses(tmp_path)
    yield procs
    procs.stop()


@pytest.fixture(scope="module")
def python_without_the_model(tmp_path_factory) -> Path:
    """A Python with Dask and every dependency but not this package: a venv that sees .venv's
    site-packages through a .pth line (so .venv's own .pth files, which install the package, are not run)."""
    pytest.importorskip("distributed")
    venv = tmp_path_factory.mktemp("no-model") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], check=True,
                          capture_output=True, text=True, timeout=60).stdout.strip()
    Path(site, "dask_from_project_venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    check = subprocess.run([str(python), "-c", "import distributed, model"], cwd=venv, env=dask_env(), capture_output=True, text=True,
                           timeout=60)
    assert "No module named 'model'" in check.stderr, check.stderr
    return python


def test_dask_cluster_gives_the_same_records_as_local_runs(cluster):
    scenario = busy_tiny()
    local = run_replications(scenario, range(4), workers=1)
    remote = run_replications(scenario, range(4), executor="dask", scheduler=cluster)
    assert [r.replication for r in remote] == [0, 1, 2, 3]
    for a, b in zip(local, remote, strict=True):
        for table in ("parties", "queues", "kpis", "grid"):
            pd.testing.assert_frame_equal(getattr(a, table), getattr(b, table), check_exact=True)


def test_dask_through_the_cli_writes_the_same_tables(cluster, tmp_path, capsys):
    path = scenario_file(busy_tiny(), tmp_path)
    common = [str(path), "--replications", "3"]
    code, out, err = cli_run(capsys, [*common, "--executor", "dask", "--scheduler", cluster, "--out", str(tmp_path / "dask")])
    assert code == 0, err
    dask_folder = out[-1]
    code, out, _ = cli_run(capsys, [*common, "--workers", "1", "--out", str(tmp_path / "local")])
    assert code == 0
    assert folder_bytes(dask_folder) == folder_bytes(out[-1])


def test_a_scheduler_without_the_model_gives_one_line_and_exit_2(python_without_the_model, dask_processes, tmp_path, capsys):
    address = dask_processes.scheduler(dask_cli(python_without_the_model))
    code, out, err = cli_run(capsys, [str(ONE_CROSSING), "--replications", "2", "--executor", "dask", "--scheduler", address,
                                      "--out", str(tmp_path / "out")])
    assert code == 2 and not out and len(err.strip().splitlines()) == 1, err
    assert err.startswith("error: dask: the scheduler cannot import the model (ModuleNotFoundError: No module named 'model')")
    assert f"install this package in every Dask process's environment (the scheduler's and each worker's): pip install -e {ROOT}" in err
    assert not (tmp_path / "out").exists()


def test_a_worker_without_the_model_gives_one_line_and_exit_2(python_without_the_model, dask_processes, tmp_path, capsys):
    address = dask_processes.scheduler(dask_cli())
    dask_processes.worker(dask_cli(python_without_the_model), address)
    code, out, err = cli_run(capsys, [str(ONE_CROSSING), "--replications", "2", "--executor", "dask", "--scheduler", address,
                                      "--out", str(tmp_path / "out")])
    assert code == 2 and not out and len(err.strip().splitlines()) == 1, err
    assert err.startswith("error: dask: the worker at tcp://127.0.0.1:") and "cannot import the model" in err
    assert f"pip install -e {ROOT}" in err
    assert not (tmp_path / "out").exists()


def test_an_error_raised_on_a_worker_becomes_one_executor_error(cluster):
    with open_executor("dask", scheduler=cluster) as runner:
        with pytest.raises(ExecutorError, match=r"^dask: a replication failed on the cluster \(AttributeError: .*pip install -e "):
            list(runner.completed([(None, 0, None)]))  # not a scenario: the worker's replication raises
