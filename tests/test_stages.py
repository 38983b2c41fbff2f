"""Controls in series: a crossing's own control, then stages, with a holding space of finite size between.

Checked exactly where queueing theory gives the answer:

* with no limit on the holding space, two exponential controls in series fed by Poisson arrivals are a
  Jackson network: each stage is an M/M/c queue of its own (Burke: the departures of an M/M/c queue are
  Poisson), so the mean wait before each is Erlang C's;
* with a finite holding space and an endless queue before the first control, the throughput of two
  single exponential booths with blocking after service is that of a small Markov chain, solved here;
* by hand: a second control that never serves lets the first serve only as many as the space holds,
  plus the one left blocking its booth.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import PARAMS, tiny_scenario

from model.analysis.controls import control_tables
from model.analysis.key_figures import mean_ci
from model.analysis.replication import summarise_replication
from model.analysis.theory import mmc, tandem_blocking_throughput
from model.cli import main
from model.engine import simulate_replication
from model.experiments.series_check import SERIES_CASE, check_series
from model.scenario import apply_overrides, read_scenario_dict, scenario_from_dict

ENTRY = {"name": "entry", "car": {"booths": 1, "service": {"per_vehicle_min": 5.0, "dist": "fixed"}}}


def stage_scenario(stage: dict, queue: int, end: str = "2024-01-02T00:00:00+00:00", **crossing):
    """TINY with an initial queue of ``queue`` cars and no arrivals after it, and ``stage`` after its control."""
    return tiny_scenario(end=end, origins=[{"name": "A", "people": 1}],
                         crossings=[{"name": "X", "first_stage": "exit", "stages": [stage],
                                     "initial_queue": {"origin": "A", "car": queue}, **crossing}])


def channel_stays(records, channel: str) -> dict[str, np.ndarray]:
    here = records.stays["channel"] == channel
    return {k: v[here] for k, v in records.stays.items()}


def test_a_full_holding_space_blocks_the_booth_before_it():
    """The entry serves no one (0 booths), the space holds 2: the exit serves 2 into it, a third that stays at
    its booth, and then no one; the rest of the queue stands."""
    records = simulate_replication(stage_scenario({**ENTRY, "car": {**ENTRY["car"], "booths": 0}, "holding_vehicles": 2}, 10))
    exit_stays, entry_stays = channel_stays(records, "car"), channel_stays(records, "car@entry")
    assert (exit_stays["how"] == "served").sum() == 3
    assert (exit_stays["how"] == "waiting").sum() == len(exit_stays["how"]) - 3 >= 7
    np.testing.assert_allclose(np.sort(exit_stays["left_at"][exit_stays["how"] == "served"]), [0.0, 5.0, 10.0])
    assert (entry_stays["how"] == "waiting").sum() == 2  # the third is still at the exit booth
    q = records.queues
    entry = q["channel"] == "car@entry"
    assert q["vehicles_waiting"][entry].max() == 2
    assert q["queue_km"][entry].max() == 0.0  # the holding space is not the approach road
    exit_ = q["channel"] == "car"
    assert q["in_service"][exit_][-1] == 1  # blocked, not serving
    assert not (records.parties["outcome"] == "crossed").any()


def test_a_party_crosses_after_the_last_control_and_waits_at_each():
    """Fixed 5 min at the exit, 10 min at the entry, one booth each, unlimited space: the entry sets the
    pace; the k-th car crosses at 5 + 10 k minutes and waits 5 (k - 1) minutes before the entry."""
    records = simulate_replication(stage_scenario({**ENTRY, "car": {"booths": 1, "service": {"per_vehicle_min": 10.0, "dist": "fixed"}}}, 4))
    p = records.parties
    np.testing.assert_allclose(np.sort(p["crossed_at"][p["initial"]]), [15.0, 25.0, 35.0, 45.0])
    entry = channel_stays(records, "car@entry")
    initial = np.isin(entry["party_id"], p["party_id"][p["initial"]])
    np.testing.assert_allclose(np.sort((entry["left_at"] - entry["joined_at"])[initial]), [0.0, 5.0, 10.0, 15.0])
    # a party's wait counts both: before the exit (0, 5, 10, 15 min) and before the entry
    np.testing.assert_allclose(np.sort(p["wait_h"][p["initial"]]) * 60.0, [0.0, 10.0, 20.0, 30.0])


def tandem(arrivals_per_h: float, first: tuple[int, float], second: tuple[int, float], days: int, holding=None):
    """The M/M/c example with a second exponential control after its own: (booths, service minutes) each."""
    raw = read_scenario_dict(PARAMS / "mmc_example.toml")
    end = f"2024-01-{1 + days:02d}T00:00:00"
    raw = apply_overrides(raw, [f"end={end}", f"origins.Source.departures=[{{at=2024-01-01T00:00:00, people_per_h={arrivals_per_h}}}, "
                                f"{{at={end}, people_per_h={arrivals_per_h}}}]",
                                f"crossings.Server.car.booths={first[0]}", f"crossings.Server.car.service.per_vehicle_min={first[1]}"])
    stage = {"name": "entry", "car": {"booths": second[0], "service": {"per_vehicle_min": second[1], "dist": "exponential"}}}
    if holding is not None:
        stage["holding_vehicles"] = holding
    raw["crossings"][0]["stages"] = [stage]
    return scenario_from_dict(raw, "tandem")


def test_two_controls_in_series_with_room_between_are_a_jackson_network():
    """Poisson 40/h into M/M/3 (4 min, rho 0.89), then M/M/2 (2.5 min, rho 0.83): each stage's mean wait is
    Erlang C's, inside the 95% interval over replications (warm-up: the first day)."""
    scenario = tandem(40.0, (3, 4.0), (2, 2.5), days=12)
    theory = {"car": mmc(40.0, 15.0, 3).wq * 60.0, "car@entry": mmc(40.0, 24.0, 2).wq * 60.0}
    waits = {channel: [] for channel in theory}
    for replication in range(8):
        records = simulate_replication(scenario, replication)
        for channel in theory:
            s = channel_stays(records, channel)
            done = (s["how"] == "served") & (s["joined_at"] >= 1440.0)
            waits[channel].append(float(np.mean(s["left_at"][done] - s["joined_at"][done])))
    for channel, wq in theory.items():
        _, lo, hi = mean_ci(np.array(waits[channel]))
        assert lo <= wq <= hi, (channel, wq, lo, hi)


def test_the_blocking_chain_by_hand():
    """Equal rates: every state of the chain is equally likely, so the throughput is mu x (B + 2) / (B + 3)
    (2/3 with no room between); a much faster second booth never blocks the first (throughput near mu1)."""
    for holding in (0, 1, 5, 40):
        assert tandem_blocking_throughput(1.0, 1.0, holding) == pytest.approx((holding + 2) / (holding + 3))
    assert tandem_blocking_throughput(1.0, 1000.0, 0) == pytest.approx(1.0, rel=2e-3)


@pytest.mark.parametrize("holding", [0, 2])
def test_blocking_after_service_matches_its_markov_chain(holding):
    """An endless queue into one exponential 5-min booth, then one exponential 4-min booth with ``holding``
    places before it: crossings per hour inside the 95% interval of the chain's throughput."""
    scenario = tandem(0.0, (1, 5.0), (1, 4.0), days=6, holding=holding)
    raw = scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
    raw["crossings"][0]["initial_queue"] = {"origin": "Source", "car": 5000}
    scenario = scenario_from_dict(raw, "blocking")
    rates = []
    for replication in range(8):
        p = simulate_replication(scenario, replication).parties
        crossed = p["crossed_at"][p["outcome"] == "crossed"]
        rates.append(float(((crossed >= 1440.0) & (crossed < scenario.horizon_min)).sum() / (scenario.horizon_min - 1440.0)))
    _, lo, hi = mean_ci(np.array(rates))
    theory = tandem_blocking_throughput(1 / 5.0, 1 / 4.0, holding)
    assert lo <= theory <= hi, (theory, lo, hi)
    if holding == 0:
        assert theory < 0.99 * 1 / 5.0  # blocking costs throughput: less than the slower booth alone


BAD = {
    "a stage for a mode the crossing lacks": (
        ["crossings.X.stages=[{name=\"entry\", foot={booths=1, service={per_vehicle_min=1.0}}}]"], "the crossing's own control has no foot channel"),
    "two stages with one name": (
        ["crossings.X.stages=[{name=\"entry\"}, {name=\"entry\"}]"], "is used twice"),
    "a negative holding space": (
        ["crossings.X.stages=[{name=\"entry\", holding_vehicles=-1}]"], "holding_vehicles"),
    "a stage rule for a channel it lacks": (
        ["crossings.X.stages=[{name=\"entry\", closures=[{starts=2024-01-01T01:00:00Z, ends=2024-01-01T02:00:00Z, channel=\"bus\"}]}]"],
        "stage 'entry' has no bus channel"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_stages_are_one_line_and_exit_2(case, capsys, tmp_path):
    settings, fragment = BAD[case]
    base = tmp_path / "x.toml"
    base.write_text((PARAMS / "one_crossing_constant.toml").read_text())
    name = read_scenario_dict(base)["crossings"][0]["name"]
    args = [a for s in settings for a in ("--set", s.replace("crossings.X.", f"crossings.{name}."))]
    code = main(["run", str(base), *args, "--replications", "1", "--workers", "1", "--out", str(tmp_path / "o"), "--quiet"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "error:" in lines[0], lines
    assert fragment in lines[0], lines[0]


def test_the_bottleneck_is_the_control_that_holds_the_flow():
    """Entry closed (0 booths), space of 2: once the space is full (10 min) the entry holds the flow, not the
    exit whose booth it blocks; with room after it and a queue before it, the exit is the bottleneck."""
    scenario = stage_scenario({**ENTRY, "car": {**ENTRY["car"], "booths": 0}, "holding_vehicles": 2}, 10)
    records = simulate_replication(scenario)
    charts = control_tables(scenario, *(getattr(summarise_replication(scenario, records, extras=False), t) for t in ("queues", "stays")))
    c = charts["controls"]
    late = c[c["time"] >= 15.0]
    assert set(late.loc[late["bottleneck"] == 1, "channel"]) == {"car@entry"}
    assert (late.groupby("time")["bottleneck"].sum() == 1).all()
    assert c.loc[(c["channel"] == "car@entry") & (c["time"] >= 15.0), "vehicles_waiting"].eq(2).all()
    assert set(charts["control_waits"]["channel"]) == {"car"}  # nobody was taken by an entry booth
    open_entry = stage_scenario({**ENTRY, "holding_vehicles": 2}, 10, **{"car": {"booths": 1, "service": {"per_vehicle_min": 10.0, "dist": "fixed"}}})
    r = summarise_replication(open_entry, simulate_replication(open_entry), extras=False)
    c = control_tables(open_entry, r.queues, r.stays)["controls"]
    assert set(c.loc[(c["bottleneck"] == 1) & (c["time"].between(15.0, 60.0)), "channel"]) == {"car"}


def test_validate_checks_controls_in_series_against_jackson_and_the_blocking_chain():
    rows = check_series()
    assert [r.group for r in rows] == ["series"] * 4
    assert all(r.passed for r in rows), [(r.name, r.expected, r.ci95_low, r.ci95_high) for r in rows]
    blocked = [r for r in rows if "blocked" in r.name]
    assert blocked[0].expected > blocked[1].expected > 0.1  # a place between blocks less; both block for real


def test_the_series_check_can_fail():
    """A second booth 20% slower than the check assumes: the Jackson wait before it falls outside its interval."""
    rows = check_series({**SERIES_CASE, "second_min": SERIES_CASE["second_min"] * 1.2})
    exact = mmc(SERIES_CASE["per_h"], 60.0 / SERIES_CASE["second_min"], 1).wq * 60.0
    second = [r for r in rows if "second" in r.name][0]
    assert not second.ci95_low <= exact <= second.ci95_high


def test_a_stage_has_its_own_secondary_inspection():
    """Everyone is held at the entry for exactly 1 h, one inspector, room for one held car: the k-th car crosses at
    5 + 5 + 60 k minutes, and the entry's booth waits for the holding area (blocked) meanwhile."""
    inspection = {"booths": 1, "party_probability": {"car": 1.0}, "time_h": {"dist": "fixed", "value": 1.0}, "holding_capacity": 1}
    records = simulate_replication(stage_scenario({**ENTRY, "inspection": inspection}, 3))
    p = records.parties
    initial = p["initial"]
    assert p["inspected"][initial].all()
    np.testing.assert_allclose(np.sort(p["crossed_at"][initial]), [70.0, 130.0, 190.0])
    # waits: before the exit 0, 5 and 10 min; before the entry 0, 0 and 55: car 2 is checked at the entry at
    # 10-15 and stands at its booth until the held car 1 leaves the holding area at 70, so car 3, through the
    # exit at 15, waits until 70 (standing at the entry booth for the holding area is not a wait for a control)
    np.testing.assert_allclose(np.sort(p["wait_h"][initial]) * 60.0, [0.0, 5.0, 10.0 + 55.0])


def test_key_figures_per_control_only_where_there_are_stages():
    """The mean wait before each control and the most people waiting before it, per crossing with stages."""
    scenario = stage_scenario({**ENTRY, "car": {"booths": 1, "service": {"per_vehicle_min": 10.0, "dist": "fixed"}}}, 4)
    r = summarise_replication(scenario, simulate_replication(scenario), extras=False)
    x = r.kpis.set_index("crossing")
    served = r.stays[(r.stays["how"] == "served") & (r.stays["channel"] == "car@entry")]
    assert x.loc["X", "control_wait_mean_h_car@entry"] == pytest.approx(((served["left_at"] - served["joined_at"]) / 60.0).mean())
    assert x.loc["X", "control_peak_people_car@entry"] >= 2  # cars 3 and 4 both wait at 20 min
    assert np.isnan(x.loc["all", "control_wait_mean_h_car"])
    plain = summarise_replication(tiny_scenario(), simulate_replication(tiny_scenario()), extras=False)
    assert not [c for c in plain.kpis.columns if c.startswith("control_")]
