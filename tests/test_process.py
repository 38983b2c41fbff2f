"""The lean driver of party lifecycles behaves like simpy.Process where the model relies on it."""

import pytest
import simpy

from model.engine.process import start


def test_starts_after_the_delay_and_resumes_with_event_values():
    env = simpy.Environment()
    seen = []

    def life():
        seen.append(("start", env.now))
        value = yield env.timeout(2.0, value="done")
        seen.append((value, env.now))
        ready = env.event().succeed("at once")
        yield env.timeout(0)
        seen.append(((yield ready), env.now))  # an event already processed: resume straight away

    start(env, life(), 3.0)
    env.run()
    assert seen == [("start", 3.0), ("done", 5.0), ("at once", 5.0)]


def test_a_failed_event_raises_where_the_generator_waits():
    env = simpy.Environment()
    caught = []

    def life():
        try:
            yield env.event().fail(ValueError("booth broke"))
        except ValueError as err:
            caught.append(str(err))

    start(env, life())
    env.run()
    assert caught == ["booth broke"]


def test_an_error_in_a_lifecycle_stops_the_run():
    env = simpy.Environment()

    def life():
        yield env.timeout(1.0)
        raise RuntimeError("bug in the model")

    start(env, life())
    with pytest.raises(RuntimeError, match="bug in the model"):
        env.run()
