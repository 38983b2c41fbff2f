"""Properties over random valid scenarios: nothing is created or lost, time-stamps are in order.

The conservation check is made at many instants: people departed by t = crossed
+ gave up + travelling + waiting for a bus + in service or inspection + queued,
where "queued" comes from the queue series and everything else from the party log.
"""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import run_replication
from model.scenario import merge_scenarios, scenario_from_dict
from tests.conftest import TINY

FIXED = lambda v: {"dist": "fixed", "value": v}  # noqa: E731


@st.composite
def scenarios(draw, divert_on_renege: bool):
    n_cross = draw(st.integers(1, 2))
    crossings, routes = [], []
    for i in range(n_cross):
        name = f"C{i}"
        c = {"name": name, "lat": 50.3, "lon": 36.0 + 0.2 * i, "approach_lanes": draw(st.integers(1, 2))}
        for mode, per_person in (("car", 1.0), ("foot", 0.5), ("bus", 0.2)):
            c[mode] = {"booths": draw(st.integers(0, 3)),
                       "service": {"per_vehicle_min": draw(st.floats(0.5, 8.0)), "per_person_min": per_person,
                                   "dist": draw(st.sampled_from(["fixed", "exponential", "lognormal"])), "cv": 0.7}}
        if draw(st.booleans()):
            c["inspection"] = {"booths": draw(st.integers(1, 2)), "party_probability": {"car": draw(st.floats(0, 0.5))},
                               "time_h": {"dist": "exponential", "mean": 0.5}, "holding_capacity": draw(st.integers(1, 3))}
        if draw(st.booleans()):
            c["initial_queue"] = {"origin": "A", "car": draw(st.integers(0, 5)), "foot": draw(st.integers(0, 5))}
        if draw(st.booleans()):
            c["closures"] = [{"starts": "2024-01-01T02:00:00+00:00", "ends": "2024-01-01T04:00:00+00:00"}]
        crossings.append(c)
        routes.append({"origin": "A", "crossing": name, "road_km": draw(st.floats(1, 40)),
                       "speed_kmh": {"dist": "uniform", "low": 20, "high": 60}, "share": 1.0 / n_cross})
    bus_share = draw(st.sampled_from([0.0, 0.3]))
    origin = {
        "name": "A", "people": draw(st.integers(0, 300)),
        "mode_split": {"car": 0.8 - bus_share, "foot": 0.2, "bus": bus_share},
        "party_size": {m: {"dist": "discrete", "values": [1, 2, 3], "probs": [0.3, 0.4, 0.3]} for m in ("car", "foot", "bus")},
        "choice": {"method": draw(st.sampled_from(["shares", "informed"]))},
    }
    if bus_share:
        origin["buses"] = [{"crossing": "C0", "capacity": 20, "trigger_people": 10}]
    renege = {"divert": 0.3 if divert_on_renege else 0.0, "walk": 0.3, "give_up": 0.4 if divert_on_renege else 0.7}
    behaviour = {
        "car": {"patience_h": {"dist": "exponential", "mean": draw(st.floats(0.1, 5))}, "renege": renege,
                "balk_queue_km": {"dist": "uniform", "low": 0.0, "high": 0.1}},
        "foot": {"patience_h": {"dist": "exponential", "mean": 2.0}, "renege": {"give_up": 1.0}},
        "max_diversions": draw(st.integers(0, 2)),
    }
    raw = merge_scenarios(TINY, {"end": "2024-01-01T12:00:00+00:00", "seed": draw(st.integers(0, 10_000)),
                                 "behaviour": behaviour})
    raw["origins"], raw["crossings"], raw["routes"] = [merge_scenarios(TINY["origins"][0], origin)], crossings, routes
    return scenario_from_dict(raw, "random")


def _by(times, t):
    return ~np.isnan(times) & (times <= t)


def _check_timestamps(p):
    dep, arr, start, done = (p[c].to_numpy() for c in ("departed_at", "arrived_at", "service_start_at", "crossed_at"))
    ok = ~np.isnan(arr)
    assert np.all(arr[ok] >= dep[ok] - 1e-9)
    ok = ~np.isnan(start)
    assert np.all(start[ok] >= arr[ok] - 1e-9) and np.all(p["wait_h"].dropna() >= -1e-12)
    ok = ~np.isnan(done)
    assert np.all(done[ok] >= start[ok] - 1e-9)
    crossed = p["outcome"] == "crossed"
    assert (~np.isnan(done) == crossed.to_numpy()).all()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(divert_on_renege=False))
def test_conservation_at_every_instant(scenario):
    rec = run_replication(scenario, 0)
    p, q = rec.parties, rec.queues
    _check_timestamps(p)
    people = p["people"].to_numpy()
    dep, board, arr, start, done, quit_ = (p[c].to_numpy() for c in
                                           ("departed_at", "boarded_at", "arrived_at", "service_start_at", "crossed_at", "gave_up_at"))
    bus_rider = (p["bus_id"] >= 0).to_numpy() | ((p["mode"] == "bus") & ~p["initial"] & p["arrived_at"].isna()).to_numpy()
    for t in np.linspace(0, scenario.horizon_min - 1e-6, 40):
        departed = people[_by(dep, t)].sum()
        crossed = people[_by(done, t)].sum()
        gave_up = people[_by(quit_, t)].sum()
        at_stop = people[bus_rider & _by(dep, t) & ~_by(board, t) & ~_by(quit_, t)].sum()
        on_road = people[_by(dep, t) & ~_by(arr, t) & ~_by(quit_, t) & ~(bus_rider & ~_by(board, t))].sum()
        in_booth = people[_by(start, t) & ~_by(done, t)].sum()
        upto = q[q["time"] <= t].groupby(["crossing", "channel"]).tail(1)
        queued = upto["people_waiting"].sum()
        assert departed == crossed + gave_up + at_stop + on_road + in_booth + queued, t


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(divert_on_renege=True))
def test_outcomes_partition_everyone_at_the_end_with_every_behaviour_on(scenario):
    rec = run_replication(scenario, 0)
    p, q = rec.parties, rec.queues
    _check_timestamps(p)
    assert set(p["outcome"]) <= {"crossed", "gave_up", "waiting_at_end", "travelling_at_end"}
    final = q.groupby(["crossing", "channel"]).tail(1)
    waiting = p[(p["outcome"] == "waiting_at_end") & p["service_start_at"].isna() & p["crossing"].notna()]
    assert final["people_waiting"].sum() == waiting["people"].sum()
    assert (final["people_waiting"] >= 0).all() and (q["vehicles_waiting"] >= 0).all()
    # never more in service than booths (the scenarios have no booth schedule); a closure ends no service,
    # so while closed (0 open) some may still be finishing
    booths = {(c.name, m): c.channel(m).booths for c in scenario.crossings for m in ("car", "foot", "bus") if c.channel(m)}
    configured = np.array([booths[key] for key in zip(q["crossing"], q["channel"])])
    assert (q["in_service"].to_numpy() <= configured).all()
    open_now = q["booths_open"] > 0
    assert (q.loc[open_now, "in_service"] <= q.loc[open_now, "booths_open"]).all()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(divert_on_renege=True))
def test_stays_log_gives_littles_law_exactly(scenario):
    """Area under each channel's queue series = sum of its parties' stays (L T = sum of W), to rounding."""
    rec = run_replication(scenario, 0)
    horizon = scenario.horizon_min
    stays = rec.stays.assign(left_at=rec.stays["left_at"].fillna(horizon).clip(upper=horizon))
    people = rec.parties.set_index("party_id")["people"]
    for (crossing, channel), q in rec.queues.groupby(["crossing", "channel"]):
        t = np.append(q["time"].to_numpy(), horizon)
        on_foot = channel == "foot"
        waiting = q["people_waiting" if on_foot else "vehicles_waiting"].to_numpy()
        area = float(np.sum(waiting * np.diff(t)))
        s = stays[(stays["crossing"] == crossing) & (stays["channel"] == channel)]
        weights = s["party_id"].map(people).to_numpy() if on_foot else np.ones(len(s))
        assert abs(area - float(np.sum((s["left_at"] - s["joined_at"]).to_numpy() * weights))) < 1e-6 * max(area, 1.0)
    assert set(rec.stays["how"]) <= {"served", "left", "waiting"}
