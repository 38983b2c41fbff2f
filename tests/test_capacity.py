"""Booths needed from a date-time on: the limit is measured on those who come after it."""

import math

from model.experiments.capacity import figure_of, find_booths, question
from model.experiments.studies import Runner
from tests.conftest import tiny_scenario


def _surge(replications: int = 3):
    """30 cars an hour for 10 hours at one booth serving 12 an hour: by 04:00 some 70 cars wait."""
    return tiny_scenario(origins=[{"name": "A", "people": 300}], replications=replications)


def test_booths_from_a_date_time_are_judged_on_the_people_who_arrive_after_it():
    s = _surge()
    q = question(s, "X", max_wait_h=1.0, start="2024-01-01T04:00")
    result = find_booths(s, q, Runner(), max_booths=30)
    # a few booths clear the queue of 04:00 and keep up with 30/h after it
    assert result.booths is not None and 2 <= result.booths <= 8
    assert result.reason == ""
    # the people queued before 04:00 had already waited over an hour: they are not what booths from 04:00 can change
    everyone = question(s, "X", max_wait_h=1.0)
    assert figure_of(s, everyone, result_records(s, q, result.booths)[0]) > 1.0


def result_records(s, q, booths):
    from model.experiments.capacity import booth_variant

    return Runner().records(booth_variant(s, q, booths))


def test_a_limit_no_booth_count_can_meet_stops_early_and_says_why():
    """The crossing is closed 03:30-09:00: the queue then grows whatever the booths added at 04:00, so no count
    keeps it short, and the search stops as soon as more booths change nothing."""
    s = tiny_scenario(origins=[{"name": "A", "people": 300}], replications=3,
                      crossings=[{"name": "X", "closures": [{"starts": "2024-01-01T03:30:00+00:00", "ends": "2024-01-01T09:00:00+00:00"}]}])
    q = question(s, "X", max_queue_km=0.05, start="2024-01-01T04:00")
    result = find_booths(s, q, Runner(), max_booths=200)
    assert result.booths is None and result.saturated
    assert len(result.evaluations) <= 5
    assert "not reachable with booths" in result.reason and "\n" not in result.reason


def test_still_waiting_at_the_end_counts_with_its_wait_so_far():
    s = tiny_scenario(origins=[{"name": "A", "people": 600}], replications=1)  # 60/h at 12/h: most still wait at the end
    q = question(s, "X", max_wait_h=1.0)
    rec = Runner().records(s)[0]
    served_only = rec.kpis.set_index("crossing").loc["X", "wait_p90_h_car"]
    assert figure_of(s, q, rec) > served_only
    assert not math.isnan(figure_of(s, q, rec))


def test_from_reads_date_times_as_the_scenario_does():
    """``--from`` takes the scenario's forms (a space, no seconds) and refuses an ambiguous bare date alike."""
    import pytest

    from model.scenario import ScenarioError

    s = _surge(replications=1)
    assert question(s, "X", max_wait_h=1.0, start="2024-01-01 04:00").start.hour == 4
    with pytest.raises(ScenarioError, match="ambiguous"):
        question(s, "X", max_wait_h=1.0, start="2024-01-01")
