"""The report's sections built on a process pool: the same page, byte for byte, as built one after another.

A tiny scenario with controls in series and priority and vehicle classes, so
every section of the page (controls, classes, people in the queue) is built.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from model.analysis import build_results
from model.experiments import run_replications
from model.report import build_report, write_results
from model.report.queue_people import write_queue_people
from tests.conftest import tiny_scenario


def test_sections_built_on_a_pool_give_the_same_page(tmp_path):
    s = tiny_scenario(origins=[{"name": "A", "people": 300}], replications=2,
                      priority=[{"name": "officials", "share": 0.1, "modes": ["car"]}],
                      vehicle_classes=[{"name": "truck", "share": 0.2, "spacing_m": 18.0}],
                      crossings=[{"name": "X", "first_stage": "exit", "stages": [
                          {"name": "entry", "holding_vehicles": 5,
                           "car": {"booths": 1, "service": {"per_vehicle_min": 4.0, "dist": "fixed"}}}]}])
    results = build_results(s, run_replications(s, [0, 1]))
    folder = write_results(results, tmp_path, {}, write_queue_people(results))
    serial = build_report(folder)
    for anchor in ("controls", "classes", "people", "figures"):
        assert f'<section id="{anchor}">' in serial
    jobs = []

    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
        def pool_map(fn, parts):
            parts = list(parts)
            jobs.extend(parts)
            return pool.map(fn, parts)

        assert build_report(folder, map_parts=pool_map) == serial
    assert len(jobs) > 5
