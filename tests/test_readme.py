"""The README's examples work as printed, run as a new user would type them.

The shell commands come from the README's fenced ``sh`` blocks, in order, and run with bash in a
temporary folder laid out like the repository's root: a copy of ``params/``, of the ``Makefile``
and of the files its set-up rule depends on (times kept, so ``make`` sees the set-up as done),
and a link to this checkout's ``.venv``. There is no ``model/`` folder there, so every command
must find the package installed in ``.venv`` (``make venv`` does that), as from any folder. Each
command gets only options that make it small (2 replications, 1 worker, ...); a command of a
kind this file does not know how to make small fails, so the README cannot show one unchecked.
The Python snippets (fenced ``python`` blocks) run as files with ``.venv/bin/python`` from an
empty folder.

Also here: what ``compare``'s overrides do to the scenarios it compares (the README's compare
example and its variant, ``params/my_variant.toml``).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from conftest import PARAMS, ROOT

from model.cli import main
from model.scenario import load_scenario

README = ROOT / "README.md"
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
MODEL = ".venv/bin/python -m model"
#: What every command that runs replications gets: small, one process, no progress bar.
SMALL = [("--replications", "2"), ("--workers", "1"), ("--quiet", None)]
#: The size-reducing options each model command gets (a flag it already has is not repeated).
SIZES = {
    "run": SMALL,
    "sweep": SMALL,
    "compare": SMALL,
    "capacity": SMALL,
    "sensitivity": [*SMALL, ("--samples", "2")],
    "validate": [("--quick", None), ("--workers", "1")],
    "report": [],
}
#: Commands shown but not run here, and why.
NOT_RUN = {
    "make test": "this file is part of it",
    ".venv/bin/dask ": "a Dask server runs until stopped; tests/test_replications.py starts real ones",
    "--executor dask": "needs a running Dask cluster; tests/test_replications.py runs the CLI against one",
}
#: A run folder as the README shows one (outputs/<scenario>/<UTC time stamp>).
RUN_FOLDER = re.compile(r"outputs/[\w.-]+/\d{8}T\d{6}/?")
#: What the README must show at least once (the test runs each).
EXPECTED_KINDS = {"make run", "run", "sweep", "compare", "sensitivity", "capacity", "validate", "report"}


def fenced_blocks(language: str) -> list[str]:
    """The text of every fenced code block of ``language`` in the README (indented ones too)."""
    text = README.read_text(encoding="utf-8")
    pattern = rf"^([ \t]*)```{language}[ \t]*\n(.*?)^\1```[ \t]*$"
    return [textwrap.dedent(m.group(2)) for m in re.finditer(pattern, text, re.S | re.M)]


def shell_commands() -> list[str]:
    """Every command of the README's ``sh`` blocks, continuation lines joined, comments dropped."""
    commands = []
    for block in fenced_blocks("sh"):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"(^|\s)#.*$", "", line).strip()
            if line:
                commands.append(re.sub(r"\s+", " ", line))
    return commands


def kind(command: str) -> str:
    """``make run``, a model command (``run``, ``sweep``, ...), or the first word."""
    if command.startswith("make "):
        return " ".join(command.split()[:2])
    if command.startswith(MODEL + " "):
        return command[len(MODEL) + 1:].split()[0]
    return command.split()[0]


def sized(command: str, last_run_folder: str | None) -> str:
    """``command`` with only size-reducing options added (and a real run folder for ``report``)."""
    k = kind(command)
    if k == "make run":
        small = " ".join(o if v is None else f"{o} {v}" for o, v in SMALL)
        if re.search(r'\bARGS="', command):
            return re.sub(r'\bARGS="([^"]*)"', lambda m: f'ARGS="{m.group(1)} {small}"', command)
        return f'{command} ARGS="{small}"'
    if k == "report":
        assert last_run_folder, "the README shows report before any run"
        assert RUN_FOLDER.search(command), f"report names no run folder like outputs/NAME/20300101T000000: {command}"
        return RUN_FOLDER.sub(last_run_folder, command)
    if k in SIZES:
        words = shlex.split(command)
        added = [o if v is None else f"{o} {shlex.quote(v)}" for o, v in SIZES[k] if v is not None or o not in words]
        return " ".join([command, *added])
    if k == "cp":
        return command
    raise AssertionError(f"the README shows a command this test does not know how to run small: {command!r}")


COMMANDS = shell_commands()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """A folder laid out like the repository's root, without the package's source."""
    if not VENV_PYTHON.exists():
        pytest.skip("no .venv: run make venv")
    ws = tmp_path_factory.mktemp("readme")
    shutil.copytree(PARAMS, ws / "params")
    for name in ("Makefile", "requirements.lock", "pyproject.toml"):
        shutil.copy2(ROOT / name, ws / name)  # keep the times: the set-up's stamp must stay newer
    (ws / ".venv").symlink_to(ROOT / ".venv", target_is_directory=True)
    return ws


def user_env() -> dict[str, str]:
    """The environment a user's shell has: nothing points Python at this checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.pop("MAKEFLAGS", None)  # under make test: don't inherit its jobserver or flags
    env.pop("MFLAGS", None)
    env.pop("MAKELEVEL", None)
    return env


def shell(command: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=user_env(), capture_output=True, text=True, timeout=timeout)


_state: dict[str, object] = {"run_folder": None, "done": set()}


def test_the_readme_shows_every_kind_of_example():
    kinds = {kind(c) for c in COMMANDS}
    assert EXPECTED_KINDS <= kinds, f"the README shows no {sorted(EXPECTED_KINDS - kinds)} command"
    assert fenced_blocks("python"), "the README shows no Python example"
    assert "params/my_variant.toml" in {w for c in COMMANDS for w in c.split()}  # the variant it ships


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS, ids=[c[:70] for c in COMMANDS])
def test_readme_command_works_as_printed(command, workspace):
    reason = next((why for pattern, why in NOT_RUN.items() if pattern in command), None)
    if reason:
        pytest.skip(reason)
    k = kind(command)
    if k.startswith("make"):
        if shutil.which("make") is None:
            pytest.skip("no make on this machine")
        setup = shell("make -q venv", workspace)
        if setup.returncode != 0:  # never rebuild the checkout's .venv from a test
            pytest.skip(".venv is older than requirements.lock, pyproject.toml or the Makefile: run make venv")
        if k == "make venv":
            return  # the set-up is done and up to date: what make venv would make sure of
    line = sized(command, _state["run_folder"])
    if line in _state["done"]:
        pytest.skip("the same command, made small, ran above")
    result = shell(line, workspace)
    # validate exits 1 when a check fails, as the README says: the command worked (tests/test_validation.py checks the checks)
    allowed = (0, 1) if k == "validate" else (0,)
    assert result.returncode in allowed, f"{line}\nexit {result.returncode}\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    _state["done"].add(line)
    assert "warning: " not in result.stderr, f"{line}\n{result.stderr}"
    if k == "cp":
        return
    last = result.stdout.strip().splitlines()[-1]
    assert (workspace / last).exists(), f"{line}: the last line should name what it wrote, got {last!r}"
    if k in ("make run", "run"):
        _state["run_folder"] = last
        assert (workspace / last / "report.html").is_file()
    if k == "validate":
        assert (workspace / last / "validation.csv").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("snippet", fenced_blocks("python"))
def test_readme_python_example_works_from_any_folder(snippet, tmp_path):
    if not VENV_PYTHON.exists():
        pytest.skip("no .venv: run make venv")
    script = tmp_path / "example.py"
    script.write_text(snippet, encoding="utf-8")
    result = subprocess.run([str(VENV_PYTHON), script.name], cwd=tmp_path, env=user_env(), capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, f"{snippet}\n{result.stderr[-3000:]}"
    assert result.stdout.strip()


# --- compare: overrides apply to every scenario compared -----------------------------------------


BASE = PARAMS / "one_crossing_constant.toml"
QUIET = ["--replications", "2", "--workers", "1", "--quiet"]


@pytest.fixture
def variant(tmp_path) -> Path:
    """BASE with 3 car booths instead of 2: a variant file as the README describes them."""
    shutil.copy(BASE, tmp_path / "base.toml")
    path = tmp_path / "three_booths.toml"
    path.write_text('extends = "base.toml"\nname = "three_booths"\n[[crossings]]\nname = "Gate"\ncar.booths = 3\n', encoding="utf-8")
    return path


def run_compare(capsys, tmp_path, *argv) -> tuple[pd.DataFrame, list[str]]:
    """Run compare through the CLI; its compare.csv and its stderr lines."""
    out = tmp_path / "out"
    code = main(["compare", *map(str, argv), *QUIET, "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    folder = Path(captured.out.strip().splitlines()[-1])
    return pd.read_csv(folder / "compare.csv"), captured.err.strip().splitlines()


def diffs(table: pd.DataFrame, label: str) -> pd.Series:
    return table[f"{label}:diff"].dropna()


def test_compare_without_overrides_is_silent_and_shows_the_difference(capsys, tmp_path, variant):
    table, err = run_compare(capsys, tmp_path, tmp_path / "base.toml", variant, "--seed", "3")
    assert err == []
    assert (diffs(table, "three_booths") != 0).any()


def test_an_override_on_a_field_the_scenarios_share_is_silent(capsys, tmp_path, variant):
    table, err = run_compare(capsys, tmp_path, tmp_path / "base.toml", variant, "--set", "origins.Town.people=2000")
    assert err == []
    assert (diffs(table, "three_booths") != 0).any()


def test_an_override_that_erases_the_difference_warns_once_and_so_does_identical(capsys, tmp_path, variant):
    table, err = run_compare(capsys, tmp_path, tmp_path / "base.toml", variant, "--set", "crossings.Gate.car.booths=4")
    assert len(err) == 2, err
    assert err[0].startswith("warning: --set crossings.Gate.car.booths=4 sets a field on which the compared scenarios differ")
    assert "base: 2" in err[0] and "three_booths: 3" in err[0]
    assert err[1].startswith("warning: the compared scenarios are identical after the overrides")
    assert (diffs(table, "three_booths") == 0).all() and len(diffs(table, "three_booths"))


def test_identical_scenarios_warn_even_without_overrides(capsys, tmp_path):
    shutil.copy(BASE, tmp_path / "copy.toml")
    table, err = run_compare(capsys, tmp_path, BASE, tmp_path / "copy.toml")
    assert err == ["warning: the compared scenarios are identical (apart from names and seed): every difference will be 0"]
    assert (diffs(table, "copy") == 0).all()


def test_compare_help_says_what_overrides_do(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["compare", "--help"])
    assert stop.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "apply to every scenario compared" in help_text
    assert "a warning on stderr says so" in help_text


def test_the_shipped_variant_differs_from_the_default_only_in_logachevka_car_booths():
    default = load_scenario(PARAMS / "kharkiv_2022.toml")
    variant = load_scenario(PARAMS / "my_variant.toml")
    a, b = default.model_dump(mode="json"), variant.model_dump(mode="json")
    assert {k for k in a if a[k] != b[k]} == {"name", "title", "description", "crossings"}
    logachevka = [(x, y) for x, y in zip(a["crossings"], b["crossings"]) if x != y]
    assert [x["name"] for x, _ in logachevka] == ["Logachevka"]
    (x, y), = logachevka
    assert {k for k in x if x[k] != y[k]} == {"car"}
    assert x["car"]["booth_schedule"] == [] and [s["booths"] for s in y["car"]["booth_schedule"]] == [5]
