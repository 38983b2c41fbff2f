"""Run a lifecycle generator on SimPy events, without the weight of ``simpy.Process``.

A party's life is written as a SimPy process function: a generator that
yields events and is resumed with their values. ``simpy.Process`` drives such
a generator, and also makes the process an event others can wait for: it
schedules one more event when the generator ends and tracks the active
process. Nobody waits for a party, so :func:`start` drives its generator with
a plain callback instead, and can start it at a later time without a
``Timeout`` in some source process. That saves two events per party and the
bookkeeping around each resumption. An exception in the generator is not
caught: it stops ``env.run`` with the generator's own traceback.
"""

from __future__ import annotations

from typing import Generator

import simpy

__all__ = ["start"]


class _Lifecycle:
    """The callback that resumes one generator with the value of the event it waited for."""

    __slots__ = ("_generator",)

    def __init__(self, generator: Generator):
        self._generator = generator

    def __call__(self, event: simpy.Event) -> None:
        generator = self._generator
        while True:
            try:
                if event._ok:
                    event = generator.send(event._value)
                else:  # a failed event: its exception is raised where the generator waited
                    event._defused = True
                    event = generator.throw(event._value)
            except StopIteration:
                return
            callbacks = event.callbacks
            if callbacks is not None:  # not yet processed: resume when it is
                callbacks.append(self)
                return
            # already processed: go on at once with its value, as simpy.Process does


def start(env: simpy.Environment, generator: Generator, delay: float = 0.0) -> None:
    """Begin running ``generator`` ``delay`` minutes from now."""
    env.timeout(delay).callbacks.append(_Lifecycle(generator))
