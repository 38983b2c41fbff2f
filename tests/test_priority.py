"""Priority classes: Cobham's formula by hand, the pool's order and reneging, who is drawn, figures, bad input.

The formula is checked against cases worked by hand (one class is M/M/c; the
load-weighted mean of the classes is the first-come first-served wait, the
conservation law). The pool is driven event by event; who belongs to a class
is checked on a scenario where a share of 1 makes the draw deterministic, and
by origin and mode (overrides) and per replication (uncertain shares) on large
samples; the simulation check must pass, and must fail for a pool that ignores
priority.
Bad input is one line and exit 2 through the command line.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import simpy
from conftest import PARAMS

from model.analysis.theory import erlang_c, mmc, priority_waits
from model.cli import main
from model.engine import Surge, simulate_replication
from model.engine.booths import BoothPool
from model.engine.entities import Party
from model.engine.priority import ClassDraw, PriorityPool
from model.scenario import Scenario, ScenarioError, load_scenario, scenario_from_dict

EXAMPLE = PARAMS / "example_priority.toml"
ONE = {"dist": "fixed", "value": 1}


# --- Cobham's formula by hand --------------------------------------------------------------------


def test_one_class_is_mmc():
    for lam, mu, c in ((2.0, 3.0, 1), (4.0, 1.0, 5), (9.0, 1.0, 10)):
        assert priority_waits([lam], mu, c)[0] == pytest.approx(mmc(lam, mu, c).wq, rel=1e-12)


def test_mm1_two_classes_by_hand():
    """M/M/1, lambda 0.2 + 0.6, mu 1: W0 = rho/mu = 0.8; W1 = 0.8/0.8 = 1, W2 = 0.8/(0.8 x 0.2) = 5."""
    w1, w2 = priority_waits([0.2, 0.6], 1.0, 1)
    assert w1 == pytest.approx(1.0) and w2 == pytest.approx(5.0)


def test_conservation_law_load_weighted_mean_is_fcfs():
    for rates, mu, c in (([1.0, 3.0], 1.0, 5), ([0.1, 0.3, 0.5], 0.1, 10), ([2.0, 2.0, 2.0, 1.0], 2.5, 3)):
        waits = priority_waits(rates, mu, c)
        assert np.dot(rates, waits) / sum(rates) == pytest.approx(mmc(sum(rates), mu, c).wq, rel=1e-12)
        assert waits == sorted(waits)  # a higher class never waits longer


def test_w0_is_erlang_c_over_c_mu_and_unstable_is_refused():
    w = priority_waits([0.0, 1.5], 1.0, 2)  # an empty first class: the second waits as in M/M/2
    assert w[0] == pytest.approx(erlang_c(2, 1.5) / 2.0) and w[1] == pytest.approx(mmc(1.5, 1.0, 2).wq)
    with pytest.raises(ValueError, match="no steady state"):
        priority_waits([1.0, 1.0], 1.0, 2)


# --- the pool ------------------------------------------------------------------------------------


def _party(i: int, cls: int, patience: float = math.inf) -> Party:
    p = Party(i, "A", "car", 1, 0.0, patience)
    p.priority = cls
    return p


def test_highest_class_first_fifo_within_and_the_impatient_are_skipped():
    """One booth, busy from 0; regular r1, then class-1 parties h2 (patience 5) and h3, then regular r4.
    h2 leaves at 5 and is skipped; the booth frees at 10 (h3), 20 (r1), 30 (r4)."""
    env = simpy.Environment()
    pool = PriorityPool(env, "X", "car", 1, None, 7.5, 1, lambda _pool: None, levels=(1, 0))
    log: list[tuple[str, float, bool]] = []

    def wait(name, turn):
        got = yield turn
        log.append((name, env.now, got))

    assert pool.join(_party(0, 0)) is None  # straight to the free booth
    for name, p in (("r1", _party(1, 0)), ("h2", _party(2, 1, 5.0)), ("h3", _party(3, 1)), ("r4", _party(4, 0))):
        env.process(wait(name, pool.join(p)))
    assert pool.parties_waiting == 4

    def booth():
        for _ in range(3):
            yield env.timeout(10.0)
            pool.release()

    env.process(booth())
    env.run(until=25)
    assert log == [("h2", 5.0, False), ("h3", 10.0, True), ("r1", 20.0, True)]
    assert pool.parties_waiting == 1 and [s[0] for s in pool.open_stays()] == [4]
    env.run(until=40)
    assert log[-1] == ("r4", 30.0, True) and pool.parties_waiting == 0 and pool.open_stays() == []
    assert sorted(how for *_, how in pool.stays).count("left") == 1


def _two_crossings(priority: list[dict], **extra) -> object:
    """Origins A and B, cars and pedestrians of one person, 30 an hour each for a day, to X (and Y for B)."""
    return scenario_from_dict({
        "name": "prio", "timezone": "UTC", "start": "2024-01-01T00:00:00", "end": "2024-01-02T00:00:00", "seed": 5,
        "origins": [{"name": name, "lat": 50.0, "lon": 36.0 + k / 10, "mode_split": {"car": 0.5, "foot": 0.5},
                     "party_size": {"car": ONE, "foot": ONE},
                     "departures": [{"at": "2024-01-01T00:00:00", "people_per_h": 30},
                                    {"at": "2024-01-02T00:00:00", "people_per_h": 30}]}
                    for k, name in enumerate(["A", "B"])],
        "crossings": [{"name": name, "lat": 50.3, "lon": 36.2 + k / 5,
                       "car": {"booths": 1, "service": {"per_vehicle_min": 4.0, "dist": "exponential"}},
                       "foot": {"booths": 1, "service": {"per_vehicle_min": 1.0, "dist": "exponential"}}}
                      for k, name in enumerate(["X", "Y"])],
        "routes": [{"origin": "A", "crossing": "X", "road_km": 10, "travel_time_h": {"dist": "fixed", "value": 0.0},
                    "share": 1.0},
                   {"origin": "B", "crossing": "X", "road_km": 10, "travel_time_h": {"dist": "fixed", "value": 0.0},
                    "share": 0.5},
                   {"origin": "B", "crossing": "Y", "road_km": 10, "travel_time_h": {"dist": "fixed", "value": 0.0},
                    "share": 0.5}],
        "priority": priority, **extra,
    }, "prio")


def test_classes_are_drawn_only_where_they_apply():
    """Share 1: exactly A's cars leaving from 06:00 are in the class; the priority pool only at X's car channel."""
    s = _two_crossings([{"name": "vip", "share": 1.0, "origins": ["A"], "modes": ["car"],
                         "from": "2024-01-01T06:00:00", "crossings": ["X"]}])
    p = simulate_replication(s, 0).parties
    expected = (p["origin"] == "A") & (p["mode"] == "car") & (p["departed_at"] >= 360.0)
    assert expected.sum() > 50
    assert np.array_equal(p["priority_class"] == "vip", expected)
    assert set(p["priority_class"]) == {"vip", "regular"}
    surge = Surge(s, 0)
    kinds = {(name, mode): type(pool) for name, post in surge.posts.items() for mode, pool in post.pools.items()}
    assert kinds.pop(("X", "car")) is PriorityPool and set(kinds.values()) == {BoothPool}


def test_no_classes_no_column_no_draws_and_class_figures_per_crossing(tmp_path):
    plain = _two_crossings([])
    assert not plain.priority and "priority" not in plain.model_dump(by_alias=True, exclude_defaults=False)
    assert "priority_class" not in simulate_replication(plain, 0).parties
    from model.analysis.replication import summarise_replication

    s = _two_crossings([{"name": "vip", "share": 0.3, "modes": ["car"], "crossings": ["X"]}])
    k = summarise_replication(s, simulate_replication(s, 0), extras=False).kpis.set_index("crossing")
    assert k.loc["X", "wait_mean_h_vip"] < k.loc["X", "wait_mean_h_regular"]
    assert math.isnan(k.loc["Y", "wait_mean_h_vip"])  # not served first at Y: its vip cars count as regular there
    assert "wait_mean_h_vip" not in summarise_replication(plain, simulate_replication(plain, 0), extras=False).kpis


def test_same_departures_with_or_without_classes():
    """Common random numbers: the class draw has a stream of its own, so the departures do not move."""
    a = simulate_replication(_two_crossings([]), 0).parties
    b = simulate_replication(_two_crossings([{"name": "vip", "share": 0.5}]), 0).parties
    assert np.array_equal(a["departed_at"], b["departed_at"]) and np.array_equal(a["origin"], b["origin"])


# --- shares by origin and mode, and uncertain shares -----------------------------------------------


def _drawn_fraction(draw: ClassDraw, origin: str, mode: str, n: int, start: int = 0) -> float:
    """The fraction of ``n`` parties of ``origin`` in ``mode`` (departing over the day) that ``draw`` puts in class 1."""
    parties = [Party(start + i, origin, mode, 1, 1440.0 * i / n) for i in range(n)]
    for p in parties:
        draw.classify(p)
    return sum(p.priority == 1 for p in parties) / n


def _within_4_se(fraction: float, share: float, n: int) -> bool:
    return abs(fraction - share) <= 4 * math.sqrt(share * (1 - share) / n)


def test_overrides_give_each_origin_and_mode_its_share():
    """The first override that matches gives the share: A's cars 0.5 (origin and mode), A's pedestrians 0.3 (origin
    only: every mode of the class), B's pedestrians 0.2 (mode only), B's cars the class's 0.1; each fraction of
    20,000 draws within 4 binomial standard errors."""
    s = _two_crossings([{"name": "vip", "share": 0.1, "modes": ["car", "foot"],
                         "shares": [{"origins": ["A"], "modes": ["car"], "share": 0.5}, {"origins": ["A"], "share": 0.3},
                                    {"modes": ["foot"], "share": 0.2}]}])
    draw, n = ClassDraw(s, 0), 20_000
    for (origin, mode), share in {("A", "car"): 0.5, ("A", "foot"): 0.3, ("B", "foot"): 0.2, ("B", "car"): 0.1}.items():
        assert draw.share(1, origin, mode) == share
        fraction = _drawn_fraction(draw, origin, mode, n)
        assert _within_4_se(fraction, share, n), (origin, mode, fraction, share)


def test_an_override_reaches_the_parties_of_a_run():
    """Share 0, overridden to 1 for A's cars: exactly A's cars are in the class in a whole run."""
    s = _two_crossings([{"name": "vip", "share": 0.0, "shares": [{"origins": ["A"], "modes": ["car"], "share": 1.0}]}])
    p = simulate_replication(s, 0).parties
    expected = (p["origin"] == "A") & (p["mode"] == "car")
    assert expected.sum() > 50 and np.array_equal(p["priority_class"] == "vip", expected)


def test_an_uncertain_share_is_drawn_once_per_replication_on_its_own_stream():
    """A uniform(0.05, 0.95) share: one value per replication, inside the support, differing between replications,
    the U(low, high) of the class's own stream; within a replication it holds from the first party to the last
    (each half of 20,000 draws within 4 standard errors of it)."""
    from model.engine.streams import StreamId, stream

    s = _two_crossings([{"name": "vip", "share": {"dist": "uniform", "low": 0.05, "high": 0.95}}])
    shares = []
    for r in range(6):
        draw = ClassDraw(s, r)
        share = draw.share(1, "A", "car")
        assert 0.05 <= share <= 0.95 and draw.share(1, "B", "foot") == share
        assert share == stream(s.seed, r, StreamId.PRIORITY, "vip", "share").uniform(0.05, 0.95)
        n = 10_000
        for half in range(2):
            assert _within_4_se(_drawn_fraction(draw, "A", "car", n, half * n), share, n), (r, half, share)
        shares.append(share)
    assert len(set(shares)) == len(shares) and max(shares) - min(shares) > 0.2


def test_an_uncertain_override_has_a_stream_of_its_own():
    """An override's distribution is drawn apart from the class's: the class's own value does not move with it."""
    dist = {"dist": "triangular", "low": 0.1, "mode": 0.2, "high": 0.4}
    alone = ClassDraw(_two_crossings([{"name": "vip", "share": dist}]), 3)
    both = ClassDraw(_two_crossings([{"name": "vip", "share": dist,
                                      "shares": [{"origins": ["B"], "share": {"dist": "discrete", "values": [0.0, 0.5],
                                                                             "probs": [0.5, 0.5]}}]}]), 3)
    assert both.share(1, "A", "car") == alone.share(1, "A", "car") and 0.1 <= alone.share(1, "A", "car") <= 0.4
    assert both.share(1, "B", "car") in (0.0, 0.5)


def test_same_seed_same_classes_with_uncertain_shares_and_overrides():
    classes = [{"name": "vip", "share": {"dist": "uniform", "low": 0.1, "high": 0.3}, "modes": ["car"],
                "shares": [{"origins": ["B"], "share": {"dist": "fixed", "value": 0.6}}]},
               {"name": "near", "share": 0.2, "origins": ["A"], "shares": [{"modes": ["foot"], "share": 0.4}]}]
    a, b = (simulate_replication(_two_crossings(classes), 1).parties for _ in range(2))
    assert np.array_equal(a["priority_class"], b["priority_class"]) and np.array_equal(a["wait_h"], b["wait_h"], equal_nan=True)
    assert set(a["priority_class"]) == {"vip", "near", "regular"}
    other = simulate_replication(_two_crossings(classes), 2).parties
    assert not np.array_equal(a["priority_class"], other["priority_class"])


def test_number_shares_draw_as_one_uniform_per_party_against_the_cumulative_shares():
    """Without distributions the draw is the one it always was: the k-th eligible party of an origin takes the k-th
    uniform of the origin's stream, against the cumulative shares of the classes in order (an override only
    changes which share is added)."""
    from model.engine.streams import StreamId, stream

    s = _two_crossings([{"name": "one", "share": 0.2, "shares": [{"modes": ["foot"], "share": 0.1}]},
                        {"name": "two", "share": 0.3}])
    draw = ClassDraw(s, 4)
    parties = [Party(i, "A", "car" if i % 3 else "foot", 1, float(i)) for i in range(2000)]
    for p in parties:
        draw.classify(p)
    u = stream(s.seed, 4, StreamId.PRIORITY, "A", "party").random(len(parties))
    first = np.array([0.2 if p.mode == "car" else 0.1 for p in parties])
    expected = np.where(u < first, 1, np.where(u < first + 0.3, 2, 0))
    assert np.array_equal([p.priority for p in parties], expected)


# --- the check against Cobham --------------------------------------------------------------------


def test_check_passes_and_a_fifo_pool_fails():
    from model.experiments.priority_check import PRIORITY_CASES, check_priority

    case = {**PRIORITY_CASES, "cases": ((0.8, 2),), "days": 20, "replications": 8}
    rows = check_priority(case)
    assert len(rows) == 2 and all(r.passed for r in rows), [(r.expected, r.ci95_low, r.ci95_high) for r in rows]
    assert {r.group for r in rows} == {"priority"}
    fifo = check_priority(case, fifo=True)
    assert not fifo[0].passed and fifo[0].ci95_low > 2 * fifo[0].expected  # the priority class waited as everyone


# --- the example and bad input -------------------------------------------------------------------


def test_example_loads_and_dumps_from_by_its_alias():
    s = load_scenario(EXAMPLE)
    assert [pc.name for pc in s.priority] == ["officials", "locals"]
    override = s.priority[0].shares[0]
    assert override.origins == ["Town"] and override.share.dist == "uniform" and s.priority[0].share_for("Village", "car") == 0.03
    dumped = s.model_dump(by_alias=True)
    assert "from" in dumped["priority"][1] and "origins" not in dumped["priority"][0]


BAD = {
    "a share above 1": ("priority.officials.share=1.5", "priority[officials].share: got 1.5"),
    "shares above 1 together": ("priority.locals.share=0.99", "have shares summing above 1"),
    "an unknown origin": ("priority.locals.origins=[\"Nowhere\"]", "priority[locals].origins: got 'Nowhere'; must be one of"),
    "an unknown crossing": ("priority.locals.crossings=[\"Nowhere\"]", "priority[locals].crossings: got 'Nowhere'"),
    "own lane without booths": ("priority.officials.form=own_lane", "form 'own_lane' needs booths"),
    "booths on a same_queue class": ("priority.officials.booths=2", "booths, service and on_road are for form 'own_lane'"),
    "on_road on a same_queue class": ("priority.officials.on_road=true", "booths, service and on_road are for form 'own_lane'"),
    "not a form": ("priority.officials.form=jump", "priority[officials].form"),
    "a taken name": ("priority.officials.name=regular", "is taken"),
    "a name with spaces": ("priority.officials.name=\"high ranks\"", "must be a short identifier"),
    "a mode the crossing lacks": ("priority.officials.modes=[\"bus\"]", "so the class is served first nowhere"),
    "two of one name": ("priority.locals.name=officials", "names of priority classes must be unique"),
    "a share distribution without an upper bound": ('priority.officials.share={dist = "lognormal", mean = 0.05, cv = 0.5}',
                                                     "'lognormal'}; a lognormal share has no upper bound"),
    "a share distribution reaching above 1": ('priority.officials.share={dist = "uniform", low = 0.5, high = 1.5}',
                                              "a uniform share reaches 1.5; a share is a number from 0 to 1, or a distribution"),
    "an override mode the class lacks": ('priority.officials.shares=[{modes = ["foot"], share = 0.1}]',
                                         "priority[officials].shares[0].modes: got 'foot'; must be one of the class's modes"),
    "an override origin unknown": ('priority.officials.shares=[{origins = ["Nowhere"], share = 0.1}]',
                                   "priority[officials].shares[0].origins: got 'Nowhere'; must be one of"),
    "an override origin not the class's": ('priority.locals.shares=[{origins = ["Town"], share = 0.1}]',
                                           "priority[locals].shares[0].origins: got 'Town'; must be one of ['Village']"),
    "an override share above 1": ("priority.officials.shares=[{share = 1.5}]", "priority[officials].shares[0].share: got 1.5"),
    "override shares above 1 together": ('priority.locals.shares=[{share = {dist = "triangular", low = 0.5, mode = 0.9, '
                                         'high = 0.99}}]', "have shares summing above 1"),
    "behind a gate": ("crossings.Gate.car.release={quotas = [{parties = 100}]}", "priority behind a gate is not supported"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_priority_is_one_line_and_exit_2(case, capsys, tmp_path):
    setting, fragment = BAD[case]
    code = main(["run", str(EXAMPLE), "--set", setting, "--replications", "1", "--workers", "1",
                 "--out", str(tmp_path / "o"), "--quiet"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "error:" in lines[0], lines
    assert "example_priority.toml" in lines[0] and fragment in lines[0], lines[0]


def test_priority_errors_are_scenario_errors():
    with pytest.raises(ScenarioError, match="priority"):
        _two_crossings([{"name": "vip", "share": 0.7}, {"name": "vip2", "share": 0.7}])


def test_a_class_with_a_lane_of_its_own_is_its_own_mmc_queue():
    """A fifth of Poisson 0.7 x 2 booths / 10 min into a lane of its own with 1 booth of 10 min (utilisation 0.56): its
    mean wait is M/M/1's, inside the 95% interval over replications; the others queue at the channel's 2 booths; the
    lane's queue is channel car@first, beside the jam (no km)."""
    from model.analysis.key_figures import mean_ci
    from model.experiments.priority_check import priority_scenario

    base = priority_scenario(0.7, 2, 0.2, 10.0, 20)
    raw = base.model_dump(by_alias=True)
    raw["priority"][0] |= {"form": "own_lane", "booths": 1}
    s = Scenario.model_validate(raw)
    lam = 0.7 * 2 / 10.0 * 60.0
    waits, regular = [], []
    for r in range(8):
        rec = simulate_replication(s, r)
        p, q = rec.parties, rec.queues
        late = p["arrived_at"] > 1440.0
        first = (p["priority_class"] == "first") & late & (p["outcome"] == "crossed")
        waits.append(float(np.mean(p["wait_h"][first])) * 60.0)
        regular.append(float(np.mean(p["wait_h"][~first & late & (p["outcome"] == "crossed")])) * 60.0)
        lane = q["channel"] == "car@first"
        assert lane.any() and (q["queue_km"][lane] == 0).all()
    _, lo, hi = mean_ci(np.array(waits))
    exact = mmc(0.2 * lam, 6.0, 1).wq * 60.0
    assert lo <= exact <= hi, (exact, lo, hi)
    _, lo, hi = mean_ci(np.array(regular))
    exact = mmc(0.8 * lam, 6.0, 2).wq * 60.0
    assert lo <= exact <= hi, (exact, lo, hi)


def test_a_lane_of_its_own_on_the_road_counts_in_the_queue_km():
    """With ``on_road`` the class's lane is one lane of the approach road: its km = vehicles waiting x the crossing's
    car spacing on that one lane; the same run without it has the same waits and no km in the lane."""
    from model.experiments.priority_check import priority_scenario

    raw = priority_scenario(0.9, 2, 0.3, 10.0, 20).model_dump(by_alias=True)
    raw["priority"][0] |= {"form": "own_lane", "booths": 1}
    beside = Scenario.model_validate(raw)
    raw["priority"][0]["on_road"] = True
    on_road = Scenario.model_validate(raw)
    km_per_car = on_road.crossings[0].car_spacing_m / 1000.0
    a, b = simulate_replication(beside, 0), simulate_replication(on_road, 0)
    np.testing.assert_array_equal(a.parties["wait_h"], b.parties["wait_h"])
    lane_a, lane_b = a.queues["channel"] == "car@first", b.queues["channel"] == "car@first"
    assert (a.queues["queue_km"][lane_a] == 0).all()
    assert b.queues["vehicles_waiting"][lane_b].max() >= 2
    np.testing.assert_allclose(b.queues["queue_km"][lane_b], b.queues["vehicles_waiting"][lane_b] * km_per_car)
