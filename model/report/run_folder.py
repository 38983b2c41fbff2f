"""Run folders: every run writes a new folder, completely or not at all.

A run folder ``<out>/<scenario name>/<timestamp>/`` holds the resolved
scenario (``scenario.toml``), a ``manifest.json`` (seed, versions, scenario
hash, timing) and the tables as CSV. It is written under a hidden temporary
name in the same parent and renamed only when complete, so an interrupted run
leaves no half-written folder and an earlier run is never overwritten.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import tomli_w

from ..analysis import Results, iso_strings
from ..scenario import Scenario

__all__ = ["scenario_toml", "scenario_sha256", "RunFolder", "write_results", "write_manifest", "write_table", "package_versions"]

_PACKAGES = ["simpy", "numpy", "pandas", "plotly", "pydantic", "scipy", "tomli_w", "tqdm", "SALib", "dask", "distributed"]


def scenario_sha256(toml_text: str) -> str:
    """The hash that identifies a resolved scenario in manifests and reports."""
    return hashlib.sha256(toml_text.encode("utf-8")).hexdigest()


def scenario_toml(scenario: Scenario) -> str:
    """The resolved scenario as TOML text that loads back to the same scenario."""
    data = scenario.model_dump(mode="python", by_alias=True, exclude_none=True)
    return tomli_w.dumps(_plain(data))


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _plain(v) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return [_plain(v) for v in node]
    return node


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """CSV with date-times as ISO 8601 with offset and floats to 10 significant digits."""
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = iso_strings(out[col])
        elif out[col].dtype == object and len(out) and any(isinstance(v, pd.Timestamp) for v in out[col].head(50)):
            out[col] = out[col].map(lambda v: v.isoformat() if isinstance(v, pd.Timestamp) else v)
    out.to_csv(path, index=False, float_format="%.10g", lineterminator="\n")


class RunFolder:
    """``with RunFolder(out, name) as tmp:`` fill ``tmp``; on success it becomes ``self.path``.

    On error the temporary folder is removed and nothing appears under ``out``.
    """

    def __init__(self, out: str | Path, scenario_name: str, now: datetime | None = None):
        self.parent = Path(out) / scenario_name
        self.stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%S")
        self.path: Path | None = None
        self._tmp: Path | None = None

    def __enter__(self) -> Path:
        self.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.parent / f".incomplete-{self.stamp}-{os.getpid()}"
        self._tmp.mkdir()
        return self._tmp

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            return False
        self.path = _rename_unique(self._tmp, self.parent, self.stamp)
        return False


def _rename_unique(tmp: Path, parent: Path, stamp: str) -> Path:
    for n in range(1, 10_000):
        final = parent / (stamp if n == 1 else f"{stamp}-{n}")
        try:
            os.rename(tmp, final)  # fails if final exists and is not empty
            return final
        except OSError:
            if not final.exists():
                raise
    raise RuntimeError(f"could not find a free run folder name under {parent}")


def write_results(
    results: Results,
    out: str | Path,
    run_info: dict[str, Any],
    extra: Callable[[Path], None] | None = None,
) -> Path:
    """Write every table, the resolved scenario and the manifest into a new run folder; returns its path."""
    scenario = results.scenario
    started = run_info.get("started_at") or datetime.now(timezone.utc).isoformat()
    run_folder = RunFolder(out, scenario.name)
    with run_folder as folder:
        toml_text = scenario_toml(scenario)
        (folder / "scenario.toml").write_text(toml_text, encoding="utf-8")
        tables = {
            "parties.csv": results.parties,
            "queues.csv": results.queues,
            "stays.csv": results.stays,
            "kpis.csv": results.kpis,
            "kpis_by_replication.csv": results.kpis_by_replication,
            "queues_summary.csv": results.queues_summary,
            "daily.csv": results.daily,
        }
        for name, frame in tables.items():
            write_table(frame, folder / name)
        if extra is not None:
            extra(folder)
        write_manifest(folder, {
            "scenario": scenario.name,
            "seed": scenario.seed,
            "replications": results.replications,
            "scenario_sha256": scenario_sha256(toml_text),
            "source": run_info.get("source"),
            "overrides": run_info.get("overrides", []),
            "workers": run_info.get("workers"),
            "command": run_info.get("command"),
            "started_at": started,
        })
    return run_folder.path


def write_manifest(folder: Path, fields: dict[str, Any]) -> None:
    """``manifest.json``: the run's own ``fields`` plus versions, command line, finish time and file list."""
    now = datetime.now(timezone.utc).isoformat()
    manifest = {
        **fields,
        "command": fields.get("command") or " ".join(sys.argv),
        "versions": package_versions(),
        "started_at": fields.get("started_at") or now,
        "finished_at": now,
        "files": sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) + ["manifest.json"],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
