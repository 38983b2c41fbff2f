"""Shared fixtures: tiny scenarios built in code, so each test states exactly what it needs."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest

from model.scenario import merge_scenarios, scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "params"

#: One origin, one crossing with cars only, a constant rate for 10 hours, 24-hour horizon.
TINY = {
    "name": "tiny",
    "timezone": "UTC",
    "start": "2024-01-01T00:00:00+00:00",
    "end": "2024-01-02T00:00:00+00:00",
    "seed": 7,
    "origins": [
        {
            "name": "A",
            "lat": 50.0,
            "lon": 36.0,
            "people": 100,
            "mode_split": {"car": 1.0},
            "party_size": {"car": {"dist": "fixed", "value": 1}, "foot": {"dist": "fixed", "value": 1}},
            "departures": [
                {"at": "2024-01-01T00:00:00+00:00", "people_per_h": 1},
                {"at": "2024-01-01T10:00:00+00:00", "people_per_h": 1},
            ],
        }
    ],
    "crossings": [
        {
            "name": "X",
            "lat": 50.2,
            "lon": 36.1,
            "car": {"booths": 1, "service": {"per_vehicle_min": 5.0, "dist": "fixed"}},
        }
    ],
    "routes": [{"origin": "A", "crossing": "X", "road_km": 10, "travel_time_h": {"dist": "fixed", "value": 0.0}, "share": 1.0}],
}


def tiny_scenario(**changes):
    """TINY with ``changes`` deep-merged in (lists of named tables merge by name)."""
    return scenario_from_dict(merge_scenarios(copy.deepcopy(TINY), changes), "tiny")


@pytest.fixture
def tiny():
    return tiny_scenario


#: The browser the page tests draw in: Debian's chromium, headless (.ci/run installs it).
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium for a module's page tests: skipped where it is not installed, a failure in CI."""
    if not CHROMIUM.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{CHROMIUM} is missing in CI; .ci/run installs Debian's chromium package")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium); the page is not checked in a browser")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
