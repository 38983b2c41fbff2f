"""The large tables written replication by replication as a run goes: the same bytes as written whole,
one Parquet row group per replication, in replication order whatever order the workers finish in."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import PARAMS

from model import run_replication
from model.analysis import build_results
from model.cli import main
from model.experiments.replications import open_executor, run_on, simulate
from model.report.large_tables import LargeTables
from model.report.run_folder import write_results
from model.scenario import load_scenario

ONE_CROSSING = PARAMS / "one_crossing_constant.toml"
LARGE = ("parties", "queues", "stays")


def run_folder(out: Path, capsys, *argv: str) -> Path:
    assert main(["run", str(ONE_CROSSING), "--quiet", "--brief", "off", "--out", str(out), *argv]) == 0
    return Path(capsys.readouterr().out.strip().splitlines()[-1])


def test_streamed_tables_are_the_bytes_of_the_whole_tables_for_one_or_two_workers(tmp_path, capsys):
    """The command line writes each replication as it comes; the Python API writes the joined tables: same files."""
    scenario = load_scenario(ONE_CROSSING, ["replications=4"])
    whole = write_results(simulate(scenario), tmp_path / "api", {}, tables="csv")
    for workers, tables in (("1", "csv"), ("2", "csv"), ("1", "parquet"), ("2", "parquet")):  # parquet: built in the workers
        streamed = run_folder(tmp_path / f"cli{workers}{tables}", capsys, "--set", "replications=4", "--workers", workers,
                              "--tables", tables)
        for name in LARGE:
            for ext in ("parquet", "csv") if tables == "csv" else ("parquet",):
                assert (streamed / f"{name}.{ext}").read_bytes() == (whole / f"{name}.{ext}").read_bytes(), (workers, name, ext)
    parties = pq.ParquetFile(whole / "parties.parquet")
    assert parties.metadata.num_row_groups == 4  # one per replication
    frame = pd.read_parquet(whole / "parties.parquet")
    assert list(frame["replication"].unique()) == [0, 1, 2, 3]
    assert isinstance(frame["crossing"].dtype, pd.CategoricalDtype) and str(frame["departed_at"].dt.tz) == "UTC"
    assert set(frame["outcome"].cat.categories) == set(frame["outcome"].dropna())


def test_summary_tables_mode_writes_no_large_table(tmp_path, capsys):
    folder = run_folder(tmp_path, capsys, "--set", "replications=2", "--workers", "1", "--tables", "summary")
    assert not [p for p in folder.iterdir() if p.stem in LARGE]


def test_replications_reach_in_order_in_replication_order_and_only_what_it_returns_is_kept():
    scenario = load_scenario(ONE_CROSSING, ["replications=6"])
    seen = []

    def keep_number(result):
        seen.append(result.replication)
        return result.replication

    with open_executor("process", 2) as runner:
        kept = run_on(runner, scenario, range(6), in_order=keep_number)
    assert seen == list(range(6)) and kept == list(range(6))


def test_the_large_tables_refuse_a_replication_out_of_order_and_free_what_they_wrote(tmp_path):
    scenario = load_scenario(ONE_CROSSING, ["replications=2"])
    first, second = run_replication(scenario, 0), run_replication(scenario, 1)
    with LargeTables(scenario, tmp_path, keep=("queues",)) as large:
        lean = large.add(second)
        assert lean.parties is None and lean.stays is None and lean.queues is not None
        with pytest.raises(ValueError, match="in order"):
            large.add(first)
    results = build_results(scenario, [lean])
    assert results.parties is None and len(results.queues) == len(second.queues)


def test_a_replication_with_no_time_in_a_column_is_written_like_the_others(tmp_path):
    """pandas gives a date-time column a coarser unit when every value is a whole second, or when it has none (no
    one gave up in that replication): every row group is still written with one schema, nanoseconds."""
    from model.analysis.tables import with_dates
    from model.report.large_tables import _arrow, _TableFile

    scenario = load_scenario(ONE_CROSSING)
    stays = pd.DataFrame({"replication": [0, 1], "party_id": [0, 0], "crossing": ["Gate", "Gate"], "channel": ["car", "car"],
                          "joined_at": [5.0, 7.0], "left_at": [float("nan"), 9.51], "how": ["waiting", "served"]})
    file = _TableFile(tmp_path, "stays", csv=False)
    pieces = [with_dates(scenario, piece, "stays") for _, piece in stays.groupby("replication")]
    for piece in pieces:
        file.append(_arrow(piece))
    file.close()
    back = pd.read_parquet(tmp_path / "stays.parquet")
    assert back["left_at"].isna().tolist() == [True, False] and back["left_at"].dt.tz is not None
    assert pq.ParquetFile(tmp_path / "stays.parquet").metadata.num_row_groups == 2
