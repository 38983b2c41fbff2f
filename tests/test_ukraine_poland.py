"""The second real surge, Ukraine -> Poland 2022 (params/ukraine_poland_2022.toml): it loads, runs, its
targets name what the scenario has, and every number in it says where it comes from."""

from __future__ import annotations

import re
import tomllib
from datetime import datetime

import numpy as np
from conftest import PARAMS

from model import run_replication
from model.engine import simulate_replication
from model.experiments.calibration import load_targets, target_value, targets_path_for
from model.scenario import load_scenario

SCENARIO = PARAMS / "ukraine_poland_2022.toml"
TARGETS = targets_path_for(SCENARIO)
#: two days, about 60,000 people: a replication in a few seconds
SHORT = ["end=2022-02-26T12:00:00", "replications=1"]


def test_the_scenario_loads_with_two_controls_in_series_at_every_crossing():
    s = load_scenario(SCENARIO)
    assert s.name == "ukraine_poland_2022"
    assert [c.name for c in s.crossings] == ["Shehyni-Medyka", "Krakovets-Korczowa", "Hrushiv-Budomierz",
                                             "Smilnytsia-Kroscienko"]
    for c in s.crossings:
        assert c.first_stage == "exit"
        assert [st.name for st in c.stages] == ["entry"]
        assert all(c.channel(m) is not None and c.stages[0].channel(m) is not None for m in ("car", "bus", "foot"))
    medyka = s.crossing("Shehyni-Medyka").stages[0]
    assert (medyka.car.booths, medyka.bus.booths, medyka.foot.booths) == (6, 2, 5)  # the SG page (cal §1)


def test_walking_on_is_the_walk_on_mechanism_from_25_feb_noon_and_at_medyka_from_the_start():
    s = load_scenario(SCENARIO)
    noon = datetime(2022, 2, 25, 12, tzinfo=s.zone)
    rules = {name: rule for rule in s.walk_on for name in rule.crossings}
    assert set(rules) == {c.name for c in s.crossings}
    assert all(r.when == "policy" and r.modes == ["car"] and r.stay == 1 and 0 < r.share <= 1 for r in rules.values())
    assert rules["Shehyni-Medyka"].starts == s.start  # Medyka had its pedestrian crossing from the start
    others = [c for c in s.crossings if c.name != "Shehyni-Medyka"]
    for c in others:
        assert rules[c.name].starts == noon
        assert [(x.channel, x.ends) for x in c.closures] == [("foot", noon)]  # no pedestrian crossing before
    # parties set off in their own modes; no one sets off on foot towards the three before the foot crossing opened
    for o in s.origins:
        assert o.mode_split.car > 0 and o.mode_split.bus > 0
        route = next(r for r in s.routes if r.origin == o.name)
        if route.crossing != "Shehyni-Medyka" and o.mode_split.foot == 0:
            assert max(p.at for p in o.departures if p.people_per_h > 0) <= noon


def test_one_short_replication_runs_and_both_controls_serve():
    s = load_scenario(SCENARIO, overrides=SHORT)
    records = simulate_replication(s, 0)
    parties = records.parties
    crossed = parties["outcome"] == "crossed"
    assert crossed.any()
    assert set(parties["crossing"][crossed]) == {c.name for c in s.crossings}
    channels = set(records.queues["channel"])
    assert {"car", "bus", "foot", "car@entry", "bus@entry", "foot@entry"} <= channels
    # nobody on foot at the crossings other than Medyka before 25 Feb 12:00 (the 25 Feb measure): no one
    # arrives there on foot before, and the walkers who left a car (split_from set) appear only after it
    noon = s.minutes(load_scenario(SCENARIO).crossings[1].closures[0].ends)
    medyka = parties["crossing"] == "Shehyni-Medyka"
    walkers = parties["split_from"] >= 0
    on_foot = (parties["mode"] == "foot") | walkers
    assert (parties["service_start_at"][on_foot & crossed & ~medyka] >= noon).all()
    assert not (parties["arrived_at"][(parties["mode"] == "foot") & ~medyka] < noon).any()  # NaN: still on the road
    assert set(parties["crossing"][walkers & ~medyka]) == {c.name for c in s.crossings[1:]}
    assert not (parties["arrived_at"][walkers & ~medyka] < noon).any()
    assert (parties["arrived_at"][walkers & medyka] < noon).any()  # at Medyka they walk on from the start
    # a walker party is the passengers of a car: the car keeps its driver
    row = {pid: i for i, pid in enumerate(parties["party_id"])}
    left = np.array([row[pid] for pid in parties["split_from"][walkers]])
    assert (parties["mode"][left] == "car").all() and (parties["people"][left] == 1).all()
    assert (parties["split_from"][left] < 0).all() and (parties["mode"][walkers] == "car").all()
    # the queue on the Ukrainian road has km; the holding space before the Polish entry has none
    q = records.queues
    assert q["queue_km"][q["channel"] == "car"].max() > 0
    assert q["queue_km"][q["channel"] == "car@entry"].max() == 0


def test_every_target_names_a_crossing_and_channel_of_the_scenario_and_can_be_measured():
    s = load_scenario(SCENARIO)
    targets = load_targets(TARGETS)
    assert (TARGETS.parent / targets.scenario).resolve() == SCENARIO.resolve()
    names = {c.name for c in s.crossings}
    for t in targets.targets:
        assert t.crossing == "all" or t.crossing in names, t.name
        if t.channel is not None:
            assert s.crossing(t.crossing).channel(t.channel) is not None, t.name
        if t.mode is not None and t.crossing != "all":
            assert s.crossing(t.crossing).channel(t.mode) is not None, t.name
    short = load_scenario(SCENARIO, overrides=SHORT)
    records = run_replication(short, 0)
    for t in targets.targets:  # every kind is computed (times after the short end measure an empty tail)
        value = target_value(t, short, records.parties, records.queues)
        assert isinstance(value, float), t.name
    early = [t for t in targets.targets if t.name == "medyka_to_26feb_fit"]
    assert np.isfinite(target_value(early[0], short, records.parties, records.queues))


_NUMBER = re.compile(r"=\s*[-+]?\d|people_per_h\s*=\s*\d|\d{4}-\d\d-\d\dT")


def test_every_number_says_where_it_comes_from():
    """A line that assigns a number or a date-time has a comment on it, or the block of lines just above it
    (up to a blank line) has one: a source (cal ...) or an assumption."""
    lines = SCENARIO.read_text(encoding="utf-8").splitlines()
    tomllib.loads("\n".join(lines))  # plain TOML
    missing = []
    for i, line in enumerate(lines):
        code = line.split("#", 1)[0]
        if not _NUMBER.search(code) or "#" in line:
            continue
        j = i - 1
        while j >= 0 and lines[j].strip() and "#" not in lines[j]:
            j -= 1
        if j < 0 or not lines[j].strip():
            missing.append(f"{i + 1}: {line.strip()}")
    assert not missing, "numbers without a source or assumption comment:\n" + "\n".join(missing)
    text = SCENARIO.read_text(encoding="utf-8")
    assert "cal §" in text and "assumption" in text and "fitted from throughput" in text
