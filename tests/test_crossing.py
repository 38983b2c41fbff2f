"""Booths, schedules, closures and regimes, checked on exact event logs of tiny deterministic cases.

Every case starts with an initial queue (parties already waiting at time 0, in
order) and fixed service times, so the expected time-stamps are known exactly.
"""

import numpy as np
import pytest

from model import run_replication
from tests.conftest import tiny_scenario


def _queued(n, booths=1, service_min=5.0, **crossing):
    """n single-person cars waiting at X at the start; no other departures."""
    return tiny_scenario(
        origins=[{"name": "A", "people": 0}],
        crossings=[{"name": "X", "car": {"booths": booths, "service": {"per_vehicle_min": service_min, "dist": "fixed"}},
                    "initial_queue": {"origin": "A", "car": n}, **crossing}],
    )


def _log(scenario):
    rec = run_replication(scenario, 0)
    return rec.parties.sort_values("party_id").reset_index(drop=True), rec.queues


def test_initial_queue_is_served_first_in_order():
    parties, _ = _log(_queued(4))
    assert parties["service_start_at"].tolist() == [0, 5, 10, 15]
    assert parties["crossed_at"].tolist() == [5, 10, 15, 20]
    assert parties["wait_h"].tolist() == pytest.approx([0, 5 / 60, 10 / 60, 15 / 60])
    assert (parties["outcome"] == "crossed").all()


def test_booths_open_at_the_scheduled_time():
    s = _queued(
        4, car={"booths": 1, "service": {"per_vehicle_min": 5.0, "dist": "fixed"},
                "booth_schedule": [{"at": "2024-01-01T00:12:00+00:00", "booths": 2}]})
    parties, queues = _log(s)
    # one booth: 0-5, 5-10, 10-15; the second booth opens at 12 and takes the 4th party
    assert parties["service_start_at"].tolist() == [0, 5, 10, 12]
    booths = queues.set_index("time")["booths_open"]
    assert booths.loc[:11.99].max() == 1 and booths.loc[12.0] == 2


def test_party_in_service_finishes_when_booths_drop():
    s = _queued(4, car={"booths": 2, "service": {"per_vehicle_min": 10.0, "dist": "fixed"},
                        "booth_schedule": [{"at": "2024-01-01T00:05:00+00:00", "booths": 1}]})
    parties, _ = _log(s)
    # both in service at 5 finish at 10; from then on one booth
    assert parties["service_start_at"].tolist() == [0, 0, 10, 20]
    assert parties["crossed_at"].tolist() == [10, 10, 20, 30]


def test_closure_stops_new_services_and_keeps_the_queue():
    s = _queued(3, closures=[{"starts": "2024-01-01T00:03:00+00:00", "ends": "2024-01-01T01:00:00+00:00"}])
    parties, queues = _log(s)
    assert parties["crossed_at"].tolist() == [5, 65, 70]  # the party in service at 3 finishes at 5
    during = queues[(queues["time"] > 3) & (queues["time"] < 60)]
    assert (during["vehicles_waiting"] == 2).all() and (during["booths_open"] == 0).all()


def test_check_regime_scales_service_time_from_its_start():
    s = _queued(3, regimes=[{"starts": "2024-01-01T00:07:00+00:00", "service_multiplier": 0.5}])
    parties, _ = _log(s)
    # service that starts before 7 takes 5 min; from 7 on, 2.5 min
    assert parties["crossed_at"].tolist() == [5, 10, 12.5]


def test_queue_km_is_vehicles_times_spacing_over_lanes():
    s = _queued(30, booths=1, service_min=60.0, car_spacing_m=8.0, approach_lanes=2)
    _, queues = _log(s)
    q = queues[queues["channel"] == "car"]
    assert np.allclose(q["queue_km"], q["vehicles_waiting"] * 8.0 / 1000 / 2)
    assert q["vehicles_waiting"].max() == 29


def test_queue_series_matches_party_log_at_every_change():
    """People waiting in the series = parties that arrived and have not started service, at each row."""
    s = tiny_scenario(origins=[{"name": "A", "people": 300}],
                      crossings=[{"name": "X", "car": {"booths": 1, "service": {"per_vehicle_min": 3.0, "dist": "exponential"}}}])
    parties, queues = _log(s)
    arrived = np.sort(parties["arrived_at"].dropna().to_numpy())
    started = np.sort(parties["service_start_at"].dropna().to_numpy())
    for t, waiting in zip(queues["time"], queues["vehicles_waiting"]):
        expected = np.searchsorted(arrived, t, side="right") - np.searchsorted(started, t, side="right")
        assert waiting == expected


def test_parties_still_travelling_or_waiting_are_reported():
    s = tiny_scenario(
        end="2024-01-01T06:00:00+00:00",
        origins=[{"name": "A", "people": 500}],
        routes=[{"origin": "A", "crossing": "X", "road_km": 10, "travel_time_h": {"dist": "fixed", "value": 1.0}, "share": 1.0}],
    )
    parties, queues = _log(s)
    outcomes = parties["outcome"].value_counts()
    assert outcomes["travelling_at_end"] > 0 and outcomes["waiting_at_end"] > 0
    travelling = parties[parties["outcome"] == "travelling_at_end"]
    assert (travelling["departed_at"] > 5 * 60 - 1e-9).all() and travelling["arrived_at"].isna().all()
    waiting = parties[(parties["outcome"] == "waiting_at_end") & parties["service_start_at"].isna()]
    assert len(waiting) == queues["vehicles_waiting"].iloc[-1]


def test_random_closures_stop_service_for_their_windows():
    s = _queued(300, service_min=2.0, random_closures={"per_day": 12.0, "duration_h": {"dist": "fixed", "value": 0.5}})
    parties, queues = _log(s)
    assert (queues["booths_open"] == 0).any()
    # with no closure the 300 two-minute services end at 600 min; each closure before then delays them
    assert parties["crossed_at"].max() > 600 + 25
    starts = parties["service_start_at"].to_numpy()
    from model.engine.crossing import random_closure_windows
    from model.engine.streams import StreamId, stream
    windows = random_closure_windows(s.crossings[0], s.horizon_min, stream(s.seed, 0, StreamId.RANDOM_CLOSURES, "X"))
    for a, b in windows:
        assert not ((starts > a + 1e-9) & (starts < b - 1e-9)).any()
