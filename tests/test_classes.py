"""Queues by class: the step counts by hand, and the class lines adding up to the queue the engine logged.

Where every party has a priority class (``regular`` for the rest), the class
lines of a crossing must add up, at every grid time, to the people waiting
that the queue series logged; the vehicle classes, to the car channel's. A
scenario where cars' passengers walk on checks that people who leave a car
are counted in it until they leave, and buses that their riders are counted.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import PARAMS

from model.analysis.burden import people_step
from model.analysis.key_figures import value_at
from model.analysis.replication import summarise_replication
from model.engine import simulate_replication
from model.scenario import load_scenario


def test_waiting_and_peak_by_hand():
    joined, left, people = np.array([0.0, 1.0, 2.0, 5.0]), np.array([3.0, 2.0, 4.0, np.inf]), np.array([2.0, 3.0, 4.0, 1.0])
    at = value_at(*people_step(joined, left, people), np.array([0.0, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 100.0]))
    assert at.tolist() == [2.0, 5.0, 5.0, 6.0, 4.0, 0.0, 1.0, 1.0]  # [joined, left): one leaving as one joins is not two
    assert people_step(joined, left, people)[1].max() == 6.0
    assert people_step(np.zeros(0), np.zeros(0), np.zeros(0))[1].max() == 0.0


def _scenario(tmp_path, base: str, priority_modes: str):
    path = tmp_path / "mix.toml"
    path.write_text(f'extends = "{PARAMS / base}"\nname = "mix"\n'
                    f'[[priority]]\nname = "officials"\nshare = 0.1\nmodes = {priority_modes}\n'
                    '[[vehicle_classes]]\nname = "truck"\nshare = 0.2\nspacing_m = 18.0\n', encoding="utf-8")
    return load_scenario(path)


def _on_grid(queues, crossing: str, channel: str, grid: np.ndarray) -> np.ndarray:
    q = queues[(queues["crossing"] == crossing) & (queues["channel"] == channel)]
    i = np.searchsorted(q["time"].to_numpy(dtype=float), grid, side="right") - 1
    return np.where(i >= 0, q["people_waiting"].to_numpy()[np.maximum(i, 0)], 0)


@pytest.mark.parametrize("base, modes", [("example_walk_on.toml", '["car", "foot"]'), ("kharkiv_2022.toml", '["bus", "foot"]')])
def test_class_lines_add_up_to_the_logged_queue(tmp_path, base, modes):
    s = _scenario(tmp_path, base, modes)
    r = summarise_replication(s, simulate_replication(s, 0))
    lines = r.charts["class_queues"]
    assert set(lines["grouping"]) == {"priority", "vehicle"}
    grid = r.grid
    waited = 0
    for c in s.crossings:
        mine = lines[lines["crossing"] == c.name]
        by_priority = mine[mine["grouping"] == "priority"].groupby("time")["people_waiting"].sum()
        total = grid[grid["crossing"] == c.name].set_index("time")["people_waiting"]
        assert by_priority.reindex(total.index).to_numpy() == pytest.approx(total.to_numpy())
        by_vehicle = mine[mine["grouping"] == "vehicle"].groupby("time")["people_waiting"].sum()
        cars = _on_grid(r.queues, c.name, "car", by_vehicle.index.to_numpy(dtype=float))
        assert by_vehicle.to_numpy() == pytest.approx(cars)
        waited += total.max()
    assert waited > 100  # there was a queue to count
    if base == "example_walk_on.toml":
        assert (r.stays["how"] == "walked_on").sum() > 0  # walkers left cars that were waiting


def test_peak_per_class_is_in_the_key_figures(tmp_path):
    s = _scenario(tmp_path, "example_walk_on.toml", '["car", "foot"]')
    r = summarise_replication(s, simulate_replication(s, 0))
    k = r.kpis.set_index("crossing")
    for name in ("officials", "regular", "truck", "car"):
        assert k.loc["Gate", f"peak_people_waiting_{name}"] >= 1
    peak = r.charts["class_queues"].groupby(["grouping", "class"])["people_waiting"].max()
    # the exact peak is at least the most seen on the grid
    assert k.loc["Gate", "peak_people_waiting_regular"] >= peak["priority", "regular"]
    assert k.loc["all", "peak_people_waiting_truck"] == k.loc["Gate", "peak_people_waiting_truck"]
