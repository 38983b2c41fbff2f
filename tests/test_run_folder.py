"""Run folders are written only under --out, never through a link, never over anything, checked before any work,
verified when read back, and never left half-written by a dead run or shared by two runs at once.

Each class of fault a hostile tester found is closed here through the real command line (``main``), on small
runs of ``params/one_crossing_constant.toml`` (one replication, one worker): bad destinations end with one
line on stderr and exit code 2, with nothing written anywhere (listings of the folders around ``--out``
before and after) and, for the destination checks, before any simulation (the replication runners fail the
test if called).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest

import model.cli.run as cli_run
import model.experiments.mmc_check as mmc_check
import model.experiments.replications as replications
from model.cli import main
from model.experiments import simulate
from model.report import run_folder
from model.report.run_folder import RunFolder, RunFolderError, check_destination, remove_stale
from model.report.run_tables import REQUIRED_FILES
from model.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "params" / "one_crossing_constant.toml"
NAME = "one_crossing_constant"
SMALL = ["--replications", "1", "--workers", "1", "--quiet"]


def listing(root: Path) -> dict[str, tuple]:
    """Every path under ``root`` (links not followed) with its kind, size and content hash."""
    seen = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            st = os.lstat(path)
            if os.path.islink(path):
                seen[str(path.relative_to(root))] = ("link", os.readlink(path))
            elif path.is_file():
                seen[str(path.relative_to(root))] = ("file", hashlib.sha256(path.read_bytes()).hexdigest())
            else:
                seen[str(path.relative_to(root))] = ("dir", st.st_mode)
    return seen


def one_error_line(capsys, *words: str) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    assert "Traceback" not in err
    for word in words:
        assert word in err, err
    return err


@pytest.fixture
def no_simulation(monkeypatch):
    """Fail the test if any replication (or the validation suite) starts."""

    def called(*_, **__):
        pytest.fail("a simulation started before the destination was checked")

    for module, name in [(replications, "simulate_replication"), (mmc_check, "simulate_replication"),
                         (cli_run, "run_on"), (cli_run, "replicate_to_precision"), (cli_run, "run_suite")]:
        monkeypatch.setattr(module, name, called)


@pytest.fixture
def place(tmp_path, monkeypatch):
    """A scratch folder as the current folder (so the default --out is inside it), with ``out`` under it."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return tmp_path


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    """One intact run folder of the small scenario."""
    out = tmp_path_factory.mktemp("runs")
    assert main(["run", str(SCENARIO), *SMALL, "--out", str(out)]) == 0
    (folder,) = (out / NAME).iterdir()
    return folder


# --- 1. never outside --out, never through a link --------------------------------------------------


@pytest.mark.parametrize("name", ["..", ".", "../escape", "a/b", ".hidden", ""])
def test_a_name_that_is_not_one_folder_name_is_refused_in_one_line(place, capsys, no_simulation, name):
    before = listing(place)
    for out in (["--out", str(place / "out")], []):  # and the default --out, outputs/ of the current folder
        assert main(["run", str(SCENARIO), *SMALL, "--set", f"name={name}", *out]) == 2
        one_error_line(capsys, "name")
    assert listing(place) == before
    # where the run folder's path is built, whatever the scenario's schema allows
    with pytest.raises(RunFolderError, match="name"):
        check_destination(place / "out", name)
    with pytest.raises(RunFolderError, match="name"):
        RunFolder(place / "out", name)
    assert listing(place) == before


def test_an_empty_out_is_refused(place, capsys, no_simulation):
    before = listing(place)
    assert main(["run", str(SCENARIO), *SMALL, "--out", ""]) == 2
    one_error_line(capsys, "--out ''")
    assert listing(place) == before


def test_report_never_writes_through_a_link_and_replaces_the_page_atomically(run, tmp_path, capsys):
    folder = tmp_path / "run"
    shutil.copytree(run, folder)
    target = tmp_path / "precious.txt"
    target.write_text("not yours\n")
    (folder / "report.html").unlink()
    (folder / "report.html").symlink_to(target)
    before = listing(tmp_path)
    assert main(["report", str(folder)]) == 2
    one_error_line(capsys, "report.html", "symbolic link")
    assert listing(tmp_path) == before and target.read_text() == "not yours\n"

    (folder / "report.html").unlink()
    (folder / "report.html").mkdir()
    before = listing(tmp_path)
    assert main(["report", str(folder)]) == 2
    one_error_line(capsys, "report.html", "not a regular file")
    assert listing(tmp_path) == before

    # an intact folder: a new file renamed over the old one (an old reader keeps the old page), same bytes
    (folder / "report.html").rmdir()
    shutil.copy(run / "report.html", folder / "report.html")
    os.chmod(folder / "report.html", 0o640)
    old = folder / "report.html"
    keeper = tmp_path / "old-page-hard-link.html"
    os.link(old, keeper)
    inode = old.stat().st_ino
    assert main(["report", str(folder)]) == 0
    assert capsys.readouterr().err == ""
    assert old.stat().st_ino != inode and old.read_bytes() == (run / "report.html").read_bytes()
    assert oct(old.stat().st_mode & 0o777) == oct(0o640)
    assert keeper.read_bytes() == old.read_bytes()
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in run.iterdir())  # no temporary file left


# --- 2. the destination is checked before any simulation ------------------------------------------


def _destinations(out: Path) -> dict[str, tuple[list[str], tuple[str, ...]]]:
    """Bad destinations, made under ``out``'s parent: the --out to give and words the error must name."""
    base = out.parent
    (base / "a-file").write_text("x")
    (base / "out-with-file").mkdir()
    (base / "out-with-file" / NAME).write_text("x")
    (base / "out-with-dangling").mkdir()
    (base / "out-with-dangling" / NAME).symlink_to(base / "nowhere")
    (base / "elsewhere").mkdir()
    (base / "out-with-link").mkdir()
    (base / "out-with-link" / NAME).symlink_to(base / "elsewhere")
    return {
        "out is a file": (["--out", str(base / "a-file")], ("a-file", "not a folder")),
        "out is /dev/null": (["--out", "/dev/null"], ("/dev/null", "not a folder")),
        "out is under a file": (["--out", str(base / "a-file" / "sub")], ("a-file", "not a folder")),
        "out/name is a file": (["--out", str(base / "out-with-file")], (NAME, "not a folder")),
        "out/name is a dangling link": (["--out", str(base / "out-with-dangling")], (NAME, "symbolic link")),
        "out/name is a link to a folder": (["--out", str(base / "out-with-link")], (NAME, "symbolic link")),
    }


@pytest.mark.parametrize("case", ["out is a file", "out is /dev/null", "out is under a file", "out/name is a file",
                                  "out/name is a dangling link", "out/name is a link to a folder"])
def test_run_checks_its_destination_before_simulating(place, capsys, no_simulation, case):
    argv, words = _destinations(place / "out")[case]
    before = listing(place)
    assert main(["run", str(SCENARIO), *SMALL, *argv]) == 2
    one_error_line(capsys, *words)
    assert listing(place) == before


def _variant(folder: Path) -> Path:
    """The small scenario with three booths: a second scenario for compare."""
    path = folder / "three_booths.toml"
    path.write_text(SCENARIO.read_text(encoding="utf-8").replace("car.booths = 2", "car.booths = 3"), encoding="utf-8")
    return path


@pytest.mark.parametrize("kind", ["sweep", "compare", "sensitivity", "capacity", "validate"])
def test_every_command_that_writes_a_folder_checks_its_destination_first(place, capsys, no_simulation, kind):
    scenarios = place / "scenarios"
    scenarios.mkdir()
    argv = {
        "sweep": ["sweep", str(SCENARIO), "--vary", "crossings.Gate.car.booths=2,3", *SMALL],
        "compare": ["compare", str(SCENARIO), str(_variant(scenarios)), *SMALL],
        "sensitivity": ["sensitivity", str(SCENARIO), "--params", "crossings.Gate.car.booths,origins.Town.people",
                        "--ranges", "1:3,1000:3000", "--samples", "2", *SMALL],
        "capacity": ["capacity", str(SCENARIO), "--crossing", "Gate", "--max-queue-km", "1", *SMALL],
        "validate": ["validate", str(SCENARIO), "--quick", "--workers", "1"],
    }[kind]
    folder = f"{NAME}-{'validation' if kind == 'validate' else kind}"
    (place / "a-file").write_text("x")
    (place / "out").mkdir()
    (place / "out" / folder).symlink_to(place / "nowhere")
    before = listing(place)
    for out, words in [(place / "a-file", ("a-file", "not a folder")), ("", ("--out ''",)),
                       (place / "out", (folder, "symbolic link"))]:
        assert main([*argv, "--out", str(out)]) == 2
        one_error_line(capsys, *words)
        assert listing(place) == before


def test_a_destination_spoilt_during_the_run_is_one_line_and_no_folder(place, capsys, monkeypatch):
    """Checked before, and the run's temporary folder made before the replications (they write into it); if
    the destination is replaced while they run, writing fails in one line, not a traceback."""
    out = place / "out"
    real = cli_run.run_from_args

    def spoil(scenario, args, *rest):
        result = real(scenario, args, *rest)
        shutil.rmtree(out / NAME)
        (out / NAME).write_text("appeared meanwhile")
        return result

    monkeypatch.setattr(cli_run, "run_from_args", spoil)
    assert main(["run", str(SCENARIO), *SMALL, "--out", str(out)]) == 2
    one_error_line(capsys, NAME, "cannot be written", "no run folder was written")
    assert sorted(os.listdir(out)) == [NAME] and (out / NAME).read_text() == "appeared meanwhile"


# --- 3. damaged run folders are refused in one line ---------------------------------------------------


def test_the_manifest_holds_every_files_checksum(run):
    manifest = json.loads((run / "manifest.json").read_text())
    files = sorted(str(p.relative_to(run)) for p in run.rglob("*") if p.is_file() and p.name != "manifest.json")
    assert sorted(manifest["checksums"]) == files and sorted(manifest["files"]) == sorted(files + ["manifest.json"])
    for name, digest in manifest["checksums"].items():
        assert hashlib.sha256((run / name).read_bytes()).hexdigest() == digest


def _cut(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _header_only(path: Path) -> None:
    path.write_bytes(path.read_bytes().split(b"\n", 1)[0] + b"\n")


def _one_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("table", ["parties.parquet", "queues_summary.csv", "kpis.csv", "daily.csv", "scenario.toml", "stays.parquet",
                                   "charts/waits.csv"])
@pytest.mark.parametrize("damage", [_cut, _header_only, _one_byte])
def test_a_changed_or_cut_file_is_refused_in_one_line(run, tmp_path, capsys, table, damage):
    folder = tmp_path / "run"
    shutil.copytree(run, folder)
    damage(folder / table)
    before = listing(tmp_path)
    assert main(["report", str(folder)]) == 2
    one_error_line(capsys, f"{folder / table}: checksum does not match manifest.json", "rerun the scenario")
    assert listing(tmp_path) == before


@pytest.mark.parametrize("table", ["queues_summary.csv", "kpis.csv"])
def test_a_table_with_only_its_header_is_one_line_even_without_checksums(run, tmp_path, capsys, table):
    folder = tmp_path / "run"
    shutil.copytree(run, folder)
    (folder / "manifest.json").unlink()
    _header_only(folder / table)
    assert main(["report", str(folder)]) == 2
    one_error_line(capsys, f"{folder / table}: has a header but no rows")


def test_a_party_table_with_only_its_header_is_a_run_in_which_nobody_left(run, tmp_path, capsys):
    """No party at all is a real result (a scenario with a few people expected); without checksums it cannot be
    told from a damaged file, so the report is built (with the unchecked warning), not refused."""
    folder = tmp_path / "run"
    shutil.copytree(run, folder)
    (folder / "manifest.json").unlink()
    for name in ("flows", "service", "waits", "hourly_crossed"):
        _header_only(folder / "charts" / f"{name}.csv")
    assert main(["report", str(folder)]) == 0
    assert "read unchecked" in capsys.readouterr().err


def test_an_intact_folder_builds_the_same_report_and_an_old_one_is_read_with_a_warning(run, tmp_path, capsys):
    folder = tmp_path / "run"
    shutil.copytree(run, folder)
    assert main(["report", str(folder)]) == 0
    assert capsys.readouterr().err == ""
    assert (folder / "report.html").read_bytes() == (run / "report.html").read_bytes()

    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["checksums"]  # as written before checksums were recorded
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert main(["report", str(folder)]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("warning: ") and "no checksums" in err and "unchecked" in err
    assert (folder / "report.html").read_bytes() == (run / "report.html").read_bytes()


def test_a_missing_listed_file_or_a_manifest_naming_outside_files_is_refused(run, tmp_path, capsys):
    folder = tmp_path / "run"
    shutil.copytree(run, folder)
    (folder / "stays.parquet").unlink()
    assert main(["report", str(folder)]) == 2
    one_error_line(capsys, "stays.parquet", "missing")

    shutil.copy(run / "stays.parquet", folder / "stays.parquet")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["checksums"]["../outside.csv"] = "0" * 64
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert main(["report", str(folder)]) == 2
    one_error_line(capsys, "manifest.json", "../outside.csv")
    assert all((folder / name).is_file() for name in REQUIRED_FILES)


# --- 4. temporary folders of dead runs are removed, and only those ---------------------------------------


def _temp_name(pid: int, start: int, where: str | None = None, token: str = "0badf00d") -> str:
    return f".incomplete-20240101T000000-{pid}-{start}-{where or run_folder._where()}-{token}"


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_run_killed_while_writing_leaves_a_folder_the_next_run_removes(place, capsys):
    out = place / "out"
    left_behind = []
    for sig in (signal.SIGKILL, signal.SIGTERM):
        killed = subprocess.run([sys.executable, "-c", (
            "import os\n"
            "from model.report.run_folder import RunFolder\n"
            f"with RunFolder({str(out)!r}, {NAME!r}) as tmp:\n"
            "    (tmp / 'parties.csv').write_text('half')\n"
            f"    os.kill(os.getpid(), {int(sig)})\n")], cwd=ROOT, timeout=60)
        assert killed.returncode == -sig
        (stale,) = os.listdir(out / NAME)  # the second run, starting, removed the first one's
        assert stale.startswith(".incomplete-") and stale not in left_behind
        left_behind.append(stale)

    pid, start = os.getpid(), run_folder._process_start(os.getpid())
    kept = [_temp_name(pid, start),                             # this process, alive: a run still writing
            _temp_name(_dead_pid(), 12345, where="00000000"),   # another machine, boot or pid namespace: unprovable
            f".incomplete-20240101T000000-{_dead_pid()}"]       # an older name, without where its pid means anything
    removed = [_temp_name(pid, start + 1, token="00000001")]    # this pid, but a process that started earlier: reused
    for name in kept + removed:
        (out / NAME / name).mkdir()
        (out / NAME / name / "parties.csv").write_text("half")

    assert main(["run", str(SCENARIO), *SMALL, "--out", str(out)]) == 0
    left = sorted(p.name for p in (out / NAME).iterdir())
    assert [n for n in left if n.startswith(".")] == sorted(kept)
    assert len([n for n in left if not n.startswith(".")]) == 1
    assert capsys.readouterr().err == ""


def test_remove_stale_judges_a_dead_pid_and_touches_nothing_else(tmp_path):
    dead = _dead_pid()
    (tmp_path / _temp_name(dead, 1)).mkdir()
    (tmp_path / "a-file").write_text("x")
    (tmp_path / _temp_name(dead, 2, token="11111111")).write_text("a file with a temporary folder's name")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / _temp_name(dead, 3, token="22222222")).symlink_to(tmp_path / "elsewhere")
    assert remove_stale(tmp_path) == [tmp_path / _temp_name(dead, 1)]
    assert sorted(os.listdir(tmp_path)) == sorted(["a-file", "elsewhere", _temp_name(dead, 2, token="11111111"),
                                                   _temp_name(dead, 3, token="22222222")])


# --- 5. two runs in one process at the same instant ---------------------------------------------


def test_two_threads_writing_at_the_same_instant_get_their_own_folders(tmp_path):
    now = datetime(2024, 1, 1, tzinfo=timezone.utc)
    n = 8
    barrier = threading.Barrier(n)
    temps, finals, errors = [], [], []

    def write(i: int) -> None:
        try:
            folder = RunFolder(tmp_path, "same", now)
            with folder as tmp:
                temps.append(tmp.name)
                barrier.wait(timeout=30)  # every thread holds its temporary folder at once
                (tmp / "who.txt").write_text(str(i))
            finals.append(folder.path)
        except BaseException as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(temps)) == n
    assert sorted(p.name for p in finals) == sorted(["20240101T000000"] + [f"20240101T000000-{k}" for k in range(2, n + 1)])
    assert sorted((p / "who.txt").read_text() for p in finals) == sorted(str(i) for i in range(n))
    assert sorted(os.listdir(tmp_path / "same")) == sorted(p.name for p in finals)


def test_threads_writing_whole_run_folders_at_once_write_complete_ones(run, tmp_path):
    from model.report.run_folder import write_results

    results = simulate(load_scenario(run / "scenario.toml"), workers=1)
    barrier = threading.Barrier(4)
    folders, errors = [], []

    def write() -> None:
        try:
            barrier.wait(timeout=30)
            folders.append(write_results(results, tmp_path, {"started_at": "fixed"}))
        except BaseException as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(set(folders)) == 4
    for folder in folders:
        for name in ["parties.parquet", "queues_summary.csv", "kpis.csv", "daily.csv", "scenario.toml", "charts/waits.csv"]:
            assert (folder / name).read_bytes() == (run / name).read_bytes(), name
    assert not [p for p in (tmp_path / NAME).iterdir() if p.name.startswith(".")]


# --- 5. table formats: Parquet by default, CSV as well, or only the summary ---------------------------------


@pytest.mark.parametrize("tables", ["csv", "summary"])
def test_tables_option_writes_csv_as_well_or_only_the_summary_and_the_report_is_the_same(run, place, tables):
    """``--tables csv`` adds CSV beside the Parquet tables; ``summary`` leaves out the per-party tables. The
    report reads neither, so it is byte for byte the report of the default run."""
    from model.report import read_table

    out = place / tables
    assert main(["run", str(SCENARIO), *SMALL, "--out", str(out), "--tables", tables]) == 0
    (folder,) = (out / NAME).iterdir()
    large = {f"{n}.{ext}" for n in ("parties", "queues", "stays") for ext in ("parquet", "csv")}
    present = large & set(os.listdir(folder))
    assert present == (large if tables == "csv" else set())
    assert json.loads((folder / "manifest.json").read_text())["tables"] == tables
    assert (folder / "report.html").read_bytes() == (run / "report.html").read_bytes()
    if tables == "csv":  # the API reads either format to the same frame
        from_parquet = read_table(folder, "parties")
        (folder / "parties.parquet").rename(place / "aside.parquet")
        manifest = json.loads((folder / "manifest.json").read_text())
        del manifest["checksums"]["parties.parquet"]
        (folder / "manifest.json").write_text(json.dumps(manifest))
        from_csv = read_table(folder, "parties")
        assert str(from_csv["departed_at"].dt.tz) == str(from_parquet["departed_at"].dt.tz)
        for col in ("departed_at", "crossed_at", "people", "wait_h"):
            pd.testing.assert_series_equal(from_csv[col], from_parquet[col], check_dtype=False, check_exact=False, rtol=1e-9)
    else:
        with pytest.raises(Exception, match="--tables summary"):
            read_table(folder, "parties")


@pytest.mark.parametrize("replications, says, never", [(1, "1 replication, its figures", "means"),
                                                         (2, "2 replications, figures are their means", "its figures")])
def test_the_console_summary_says_whether_its_figures_are_means(capsys, replications, says, never):
    cli_run.print_summary(simulate(load_scenario(SCENARIO), replications), 0.0)
    head = capsys.readouterr().out.splitlines()[:2]
    assert says in head[0] and never not in head[0]
    assert "(mean)" not in head[1]
