"""The benchmark's scaled surge keeps each party's surge the same at every size.

``make bench`` times the engine on the default scenario scaled from 100k to 1M
people and reads the growth of the cost per party as the engine's own. That
holds only if every capacity grows with the people: with a bus line left at its
size, a tenfold surge strands a fifth of the bus passengers at their stops,
cheap parties that flatter the larger run.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from conftest import ROOT

from model.engine import Surge
from model.scenario import scenario_from_dict

sys.path.insert(0, str(ROOT / "scripts"))
from bench import DEFAULT, read_scenario_dict, scaled_scenario  # noqa: E402


def _crossed_shares(people: float) -> dict[str, float]:
    """Share of parties that crossed, by mode, in replication 0 of the scaled default scenario."""
    parties = Surge(scenario_from_dict(scaled_scenario(people), "bench"), 0).run().parties
    crossed = np.asarray(parties["outcome"]) == "crossed"
    modes = np.asarray(parties["mode"])
    return {mode: float(crossed[modes == mode].mean()) for mode in ("car", "bus", "foot")}


def test_every_mode_crosses_alike_at_ten_times_the_people():
    people = sum(o["people"] for o in read_scenario_dict(DEFAULT)["origins"])
    small, large = _crossed_shares(people), _crossed_shares(10 * people)
    for mode in small:
        assert large[mode] == pytest.approx(small[mode], abs=0.05), mode
