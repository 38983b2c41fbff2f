"""Behaviour in the queue, each alone in a tiny scenario: patience, choice, closures, walking, filtration, buses."""

import numpy as np
import pytest

from model import run_replication
from tests.conftest import tiny_scenario

FIXED0 = {"dist": "fixed", "value": 0.0}


def _parties(scenario, rep=0):
    return run_replication(scenario, rep).parties


def _busy_one_crossing(**behaviour):
    """Arrivals at 30/h against a booth serving 12/h: a queue builds for 10 hours."""
    return tiny_scenario(
        origins=[{"name": "A", "people": 300}],
        crossings=[{"name": "X", "car": {"booths": 1, "service": {"per_vehicle_min": 5.0, "dist": "fixed"}},
                    "foot": {"booths": 2, "service": {"per_person_min": 0.5, "dist": "fixed"}}}],
        behaviour=behaviour,
    )


def test_infinite_patience_means_no_reneging():
    p = _parties(_busy_one_crossing())
    assert (p["outcome"] != "gave_up").all() and p["walked"].sum() == 0


def test_zero_patience_means_everyone_who_waits_reneges():
    p = _parties(_busy_one_crossing(car={"patience_h": FIXED0, "renege": {"give_up": 1.0}}))
    crossed, gave_up = p[p["outcome"] == "crossed"], p[p["outcome"] == "gave_up"]
    assert len(gave_up) > 0.3 * len(p)
    assert (crossed["wait_h"] == 0).all()  # only those who found a free booth crossed
    assert (gave_up["gave_up_at"] == gave_up["arrived_at"]).all()


def test_patience_bounds_every_wait():
    p = _parties(_busy_one_crossing(car={"patience_h": {"dist": "fixed", "value": 0.5}, "renege": {"give_up": 1.0}}))
    assert p["wait_h"].max() <= 0.5 + 1e-9
    gave_up = p[p["outcome"] == "gave_up"]
    assert np.allclose(gave_up["gave_up_at"] - gave_up["arrived_at"], 30.0)


def test_walkers_leave_the_car_queue_and_join_the_pedestrian_queue_with_their_people():
    """No pedestrian booth is open, so every walker is still in the foot queue at the end."""
    s = tiny_scenario(
        origins=[{"name": "A", "people": 600, "party_size": {"car": {"dist": "discrete", "values": [1, 2, 3], "probs": [0.3, 0.4, 0.3]}}}],
        crossings=[{"name": "X", "car": {"booths": 1, "service": {"per_vehicle_min": 5.0, "dist": "fixed"}},
                    "foot": {"booths": 0, "service": {"per_person_min": 0.5, "dist": "fixed"}}}],
        behaviour={"car": {"patience_h": {"dist": "fixed", "value": 1.0}, "renege": {"walk": 1.0, "give_up": 0.0}}},
    )
    rec = run_replication(s, 0)
    p, q = rec.parties, rec.queues
    walkers = p[p["walked"]]
    assert len(walkers) > 20
    assert (walkers["mode"] == "car").all()  # the mode they left home with
    assert (walkers["outcome"] == "waiting_at_end").all()
    final = q.groupby("channel").tail(1).set_index("channel")
    assert final.loc["foot", "people_waiting"] == walkers["people"].sum()
    assert final.loc["foot", "vehicles_waiting"] == 0
    # the car leaves the queue: no car that reached a booth waited longer than its patience
    assert p.loc[~p["walked"] & (p["outcome"] == "crossed"), "wait_h"].max() <= 1.0 + 1e-9
    # each walker stood in two queues: the car queue, left after its hour, then the foot queue
    stays = rec.stays[rec.stays["party_id"].isin(walkers["party_id"])]
    assert (stays.groupby("party_id")["channel"].apply(tuple) == ("car", "foot")).all()
    car_stays = stays[stays["channel"] == "car"]
    assert (car_stays["how"] == "left").all() and np.allclose(car_stays["left_at"] - car_stays["joined_at"], 60.0)
    # the moment a car's patience ends, the car queue loses it and the foot queue gains its people
    first = walkers.sort_values("arrived_at").iloc[0]
    at = q[q["time"] == first["arrived_at"] + 60.0].set_index("channel")
    assert at.loc["foot", "people_waiting"] >= first["people"]


def _two_crossings(information=None, km_b=10.0, scale=1.0, closures_b=None, people=240, method="informed"):
    """24 cars/h for 10 h against two single booths of 15 cars/h each: one alone overflows."""
    def crossing(name, lon, closures=None):
        c = {"name": name, "lat": 50.3, "lon": lon, "car": {"booths": 1, "service": {"per_vehicle_min": 4.0, "dist": "exponential"}}}
        if closures:
            c["closures"] = closures
        return c

    return tiny_scenario(
        origins=[{"name": "A", "people": people, "choice": {"method": method, "logit_scale_per_h": scale}}],
        crossings=[crossing("X", 36.1), crossing("Y", 36.3, closures_b)],
        routes=[
            {"origin": "A", "crossing": "X", "road_km": 10.0, "speed_kmh": {"dist": "fixed", "value": 30.0}, "share": 0.5},
            {"origin": "A", "crossing": "Y", "road_km": km_b, "speed_kmh": {"dist": "fixed", "value": 30.0}, "share": 0.5},
        ],
        information=information or {"publish_every_min": 15.0, "delay_min": 15.0},
    )


def test_informed_choice_between_identical_crossings_splits_evenly_and_balances_waits():
    shares, waits_x, waits_y = [], [], []
    for rep in range(5):
        p = _parties(_two_crossings(scale=2.0), rep)
        shares.append((p["first_crossing"] == "X").mean())
        waits_x.append(p.loc[p["crossing"] == "X", "wait_h"].mean())
        waits_y.append(p.loc[p["crossing"] == "Y", "wait_h"].mean())
    assert abs(np.mean(shares) - 0.5) < 0.05
    assert abs(np.mean(waits_x) - np.mean(waits_y)) < 0.25 * max(np.mean(waits_x), np.mean(waits_y))


def test_a_much_shorter_queue_attracts_most_and_without_information_the_nearer_crossing_overflows():
    # Y is 30 km further at 30 km/h: one hour, weighted 3 per hour, so P(X) = 1 / (1 + e^-3) = 0.95 blind
    informed = _parties(_two_crossings(km_b=40.0, scale=3.0))
    blind = _parties(_two_crossings(km_b=40.0, scale=3.0, information={"enabled": False}))
    blind_x = (blind["first_crossing"] == "X").mean()
    assert blind_x > 0.9
    assert (informed["first_crossing"] == "X").mean() < blind_x - 0.2
    wait = lambda p, c: p.loc[p["crossing"] == c, "wait_h"].mean()
    assert wait(blind, "X") > 3 * wait(informed, "X")


def test_informed_choice_reads_the_wait_of_the_lane_a_party_would_take():
    """X, half an hour nearer than Y, starts with 300 cars queued (a third of them in a class with a lane of its own
    at X: two 1-minute booths), so its car queue reads about 13 h all day. Reports post the lane's wait apart
    (channel car@fast): the class's cars read their empty lane and choose X; the other cars read X's long queue
    and choose Y. (Before, the class read the long queue too, and went to Y like everyone else.)"""
    s = _two_crossings(km_b=25.0, scale=3.0)
    raw = s.model_dump(by_alias=True)
    raw["crossings"][0]["initial_queue"] = {"origin": "A", "car": 300}
    raw["priority"] = [{"name": "fast", "share": 1 / 3, "modes": ["car"], "crossings": ["X"], "form": "own_lane", "booths": 2,
                        "service": {"per_vehicle_min": 1.0, "dist": "fixed"}}]
    s = type(s).model_validate(raw)
    fast_x, other_x = [], []
    for rep in range(3):
        p = _parties(s, rep)
        p = p[~p["initial"] & (p["departed_at"] > 60.0)]  # set off once the first report (after 15 min, read 15 min late) is out
        fast = p["priority_class"] == "fast"
        fast_x.append((p.loc[fast, "first_crossing"] == "X").mean())
        other_x.append((p.loc[~fast, "first_crossing"] == "X").mean())
    assert np.mean(fast_x) > 0.75 and np.mean(other_x) < 0.05, (fast_x, other_x)


def test_closing_a_crossing_sends_everyone_who_has_not_chosen_to_the_other():
    closure = [{"starts": "2024-01-01T03:00:00+00:00", "ends": "2024-01-02T00:00:00+00:00"}]
    s = _two_crossings(closures_b=closure, information={"publish_every_min": 15.0, "delay_min": 15.0, "closure_known_after_min": 30.0})
    p = _parties(s)
    after = p[p["departed_at"] >= 3 * 60 + 30]
    assert len(after) > 100 and (after["first_crossing"] == "X").all()
    before = p[p["departed_at"] < 3 * 60]
    assert (before["first_crossing"] == "Y").mean() > 0.3
    # shares choice excludes the closed crossing too
    p = _parties(_two_crossings(closures_b=closure, method="shares",
                                information={"closure_known_after_min": 0.0}))
    assert (p.loc[p["departed_at"] >= 3 * 60, "first_crossing"] == "X").all()


def _gate_closed(ends: str, **more):
    """The tiny scenario with its only crossing closed from 02:00 to ``ends`` (departures run 00:00-10:00)."""
    return tiny_scenario(crossings=[{"name": "X", "closures": [{"starts": "2024-01-01T02:00:00+00:00", "ends": ends}]}], **more)


def test_a_closure_of_the_only_crossing_makes_people_queue_for_it_not_give_up():
    """Parties leaving while their only crossing is closed go and queue; nobody gives up for a closure."""
    p = _parties(_gate_closed("2024-01-01T04:00:00+00:00", information={"closure_known_after_min": 0.0}))
    assert (p["outcome"] == "crossed").all()
    during = p[(p["departed_at"] >= 120) & (p["departed_at"] < 240)]
    assert len(during) > 10 and (during["service_start_at"] >= 240).all() and (during["arrived_at"] < 240).all()


def test_a_closure_that_never_ends_leaves_people_waiting_in_the_queue_not_given_up():
    p = _parties(_gate_closed("2030-01-01T00:00:00+00:00", information={"closure_known_after_min": 0.0}))
    assert not (p["outcome"] == "gave_up").any()
    late = p[p["departed_at"] >= 120]
    assert len(late) > 60 and (late["outcome"] == "waiting_at_end").all() and (late["crossing"] == "X").all()


def test_with_every_road_closed_people_wait_at_home_until_one_reopens():
    road = {"origin": "A", "crossing": "X", "road_km": 10, "travel_time_h": {"dist": "fixed", "value": 0.0}, "share": 1.0, "closed_from": "2024-01-01T02:00:00+00:00", "closed_until": "2024-01-01T05:00:00+00:00"}
    s = tiny_scenario(routes=[road], information={"closure_known_after_min": 30.0})
    p = _parties(s)
    assert (p["outcome"] == "crossed").all()
    # those who left after the cut was known waited at home until the reopening was known (05:30)
    home = p[(p["departed_at"] >= 150) & (p["departed_at"] < 300)]
    assert len(home) > 15 and (home["arrived_at"] >= 330).all() and (home["rerouted"] == 0).all()
    # those who left before it was known drove into the cut, came back and waited too
    blind = p[(p["departed_at"] >= 120) & (p["departed_at"] < 150)]
    assert len(blind) > 2 and (blind["rerouted"]).all() and (blind["arrived_at"] >= 330).all()
    # a road that never reopens: they are still waiting at home at the end, with no crossing, none gave up
    road["closed_until"] = None
    p = _parties(tiny_scenario(routes=[road], information={"closure_known_after_min": 30.0}))
    stranded = p[p["departed_at"] >= 150]
    assert len(stranded) > 50 and (stranded["outcome"] == "waiting_at_end").all() and stranded["crossing"].isna().all()


def test_balking_diverts_to_another_crossing_and_pays_the_trip():
    s = _two_crossings(method="shares", km_b=10.0, people=600)
    s = tiny_scenario(**{**_raw(s), "behaviour": {"car": {"balk_queue_km": {"dist": "fixed", "value": 0.02}}, "max_diversions": 1,
                                                   "diversion_speed_kmh": {"dist": "fixed", "value": 60.0}}})
    p = _parties(s)
    diverted = p[p["diverted"]]
    assert len(diverted) > 10
    assert (diverted["crossing"] != diverted["first_crossing"]).all()
    # X and Y are 0.2 deg of longitude apart: about 14.2 km straight, x1.4 road, at 60 km/h
    from model.scenario import haversine_km
    trip_min = haversine_km(50.3, 36.1, 50.3, 36.3) * 1.4 / 60 * 60
    depart_to_arrive = diverted["arrived_at"] - diverted["departed_at"]
    assert (depart_to_arrive >= 20.0 + trip_min - 1e-6).all()


def _raw(scenario):
    return scenario.model_dump(mode="json", by_alias=True, exclude_none=True)


def test_full_holding_area_blocks_primary_booths():
    s = tiny_scenario(
        origins=[{"name": "A", "people": 0}],
        crossings=[{"name": "X", "car": {"booths": 1, "service": {"per_vehicle_min": 1.0, "dist": "fixed"}},
                    "initial_queue": {"origin": "A", "car": 3},
                    "inspection": {"booths": 1, "party_probability": {"car": 1.0}, "time_h": {"dist": "fixed", "value": 1.0},
                                   "holding_capacity": 1}}],
    )
    rec = run_replication(s, 0)
    p = rec.parties.sort_values("party_id")
    # party 0: booth 0-1, inspected 1-61. Party 1: booth 1-2, then blocks the booth until the holding
    # area frees at 61. Party 2 therefore reaches the booth only at 61.
    assert p["service_start_at"].tolist() == [0, 1, 61]
    assert p["crossed_at"].tolist() == [61, 121, 181]
    assert p["inspected"].all()
    q = rec.queues
    blocked = q[(q["time"] >= 2) & (q["time"] < 61)]
    assert (blocked["in_service"] == 1).all() and (blocked["vehicles_waiting"] == 1).all()


def test_larger_parties_are_held_more_often():
    s = tiny_scenario(
        origins=[{"name": "A", "people": 6000, "party_size": {"car": {"dist": "discrete", "values": [1, 5], "probs": [0.5, 0.5]}}}],
        crossings=[{"name": "X", "car": {"booths": 20, "service": {"per_vehicle_min": 1.0, "dist": "fixed"}},
                    "inspection": {"booths": 50, "person_probability": {"car": 0.05}, "time_h": {"dist": "fixed", "value": 0.1},
                                   "holding_capacity": 100}}],
    )
    p = _parties(s)
    held = p.groupby("people")["inspected"].mean()
    assert held[1] == pytest.approx(0.05, abs=0.02)
    assert held[5] == pytest.approx(1 - 0.95**5, abs=0.04)


def test_initial_queue_is_served_before_later_arrivals_in_order():
    s = tiny_scenario(crossings=[{"name": "X", "initial_queue": {"origin": "A", "car": 10}}])
    p = _parties(s).sort_values("service_start_at")
    first = p.head(10)
    assert first["initial"].all() and first["party_id"].is_monotonic_increasing


def _bus_scenario(**bus):
    return tiny_scenario(
        origins=[{"name": "A", "people": 400, "mode_split": {"car": 0.0, "bus": 1.0},
                  "party_size": {"bus": {"dist": "discrete", "values": [1, 2, 3], "probs": [0.4, 0.4, 0.2]}},
                  "buses": [{"crossing": "X", "capacity": 30, **bus}]}],
        crossings=[{"name": "X", "bus": {"booths": 1, "service": {"per_vehicle_min": 5.0, "per_person_min": 0.5, "dist": "fixed"}}}],
    )


def test_triggered_buses_leave_full_and_carry_their_riders_through_the_bus_channel():
    p = _parties(_bus_scenario(trigger_people=25))
    boarded = p[p["bus_id"] >= 0]
    loads = boarded.groupby("bus_id")["people"].sum()
    assert (loads >= 25).all() and (loads <= 30).all()
    assert (boarded.groupby("bus_id")["crossed_at"].nunique() == 1).all()  # a bus crosses as one
    assert (boarded["boarded_at"] >= boarded["departed_at"]).all()
    left = p[p["bus_id"] < 0]
    assert (left["outcome"] == "waiting_at_end").all() and left["crossing"].isna().all() and left["people"].sum() < 25


def test_timetabled_buses_leave_at_their_times():
    times = ["2024-01-01T03:00:00+00:00", "2024-01-01T06:00:00+00:00", "2024-01-01T09:00:00+00:00"]
    p = _parties(_bus_scenario(timetable=times))
    assert sorted(p["boarded_at"].dropna().unique().tolist()) == [180.0, 360.0, 540.0]


def test_initial_queue_draws_its_own_patience_not_a_copy_of_the_departures():
    """Parties already queued and parties leaving later draw patience from separate streams."""
    from model.engine import Surge

    s = tiny_scenario(crossings=[{"name": "X", "initial_queue": {"origin": "A", "car": 10}}],
                      behaviour={"car": {"patience_h": {"dist": "exponential", "mean": 5.0}, "renege": {"give_up": 1.0}}})
    surge = Surge(s, 0)
    surge.run()
    initial = [p.patience_min for p in surge.parties if p.initial]
    departing = [p.patience_min for p in surge.parties if not p.initial][:10]
    assert len(initial) == 10 and len(departing) == 10
    assert not set(initial) & set(departing)


def test_patience_deadlines_stay_off_the_event_heap():
    """Hundreds wait with finite patience, yet SimPy's event heap holds a handful of events: the queue's
    deadlines live in its own timer, and a served party leaves nothing behind there."""
    from model.engine import Surge

    s = _busy_one_crossing(car={"patience_h": {"dist": "exponential", "mean": 50.0}, "renege": {"give_up": 1.0}})
    surge = Surge(s, 0)
    sizes = []

    def probe():
        while True:
            sizes.append((len(surge.env._queue), surge.posts["X"].pools["car"].parties_waiting))
            yield surge.env.timeout(30)

    surge.env.process(probe())
    surge.run()
    heap, waiting = max(sizes, key=lambda x: x[1])
    assert waiting > 100 and heap < 20
