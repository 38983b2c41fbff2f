"""Samplers: draws from the scenario's distribution specs, each from its own random stream.

A spec (:mod:`model.scenario.distributions`) is data; :func:`draw` turns it
into numbers with a numpy Generator, one family at a time.
:func:`make_sampler` wraps a spec and its stream as a function that returns
the next draw, drawing in blocks, which keeps per-party draws cheap inside the
event loop without changing the stream.
"""

from __future__ import annotations

import math
from itertools import chain
from typing import Callable

import numpy as np

from ..scenario import distributions as d

__all__ = ["draw", "make_sampler", "unit_mean_spec", "UNIT_UNIFORM"]


def _lognormal(spec: d.Lognormal, rng: np.random.Generator, n: int) -> np.ndarray:
    sigma2 = math.log1p(spec.cv**2)
    mu = math.log(spec.mean_value) - sigma2 / 2
    return rng.lognormal(mu, math.sqrt(sigma2), n)


def _gamma(spec: d.Gamma, rng: np.random.Generator, n: int) -> np.ndarray:
    shape = 1.0 / spec.cv**2
    return rng.gamma(shape, spec.mean_value / shape, n)


_DRAW: dict[type, Callable[..., np.ndarray]] = {
    d.Fixed: lambda spec, rng, n: np.full(n, spec.value, dtype=float),
    d.Exponential: lambda spec, rng, n: rng.exponential(spec.mean_value, n),
    d.Uniform: lambda spec, rng, n: rng.uniform(spec.low, spec.high, n),
    d.Triangular: lambda spec, rng, n: rng.triangular(spec.low, spec.mode, spec.high, n),
    d.Lognormal: _lognormal,
    d.Gamma: _gamma,
    d.Discrete: lambda spec, rng, n: rng.choice(np.asarray(spec.values, dtype=float), size=n, p=spec.probs),
}


def draw(spec, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` draws of ``spec`` from ``rng``."""
    return _DRAW[type(spec)](spec, rng, n)


def unit_mean_spec(dist: str, cv: float):
    """A spec of family ``dist`` scaled to mean 1, used to multiply a party's mean service time."""
    if dist == "fixed":
        return d.Fixed(dist="fixed", value=1.0)
    if dist == "exponential":
        return d.Exponential(dist="exponential", mean=1.0)
    if dist == "lognormal":
        return d.Lognormal(dist="lognormal", mean=1.0, cv=cv)
    if dist == "gamma":
        return d.Gamma(dist="gamma", mean=1.0, cv=cv)
    if dist == "uniform":
        half = min(cv * math.sqrt(3.0), 1.0)
        return d.Uniform(dist="uniform", low=1.0 - half, high=1.0 + half)
    raise ValueError(f"unknown service-time family {dist!r}")


#: U(0, 1), the draw behind every yes/no decision and choice.
UNIT_UNIFORM = d.Uniform(dist="uniform", low=0.0, high=1.0)


def make_sampler(spec, rng: np.random.Generator, block: int = 512) -> Callable[[], float]:
    """A function that returns the next draw of ``spec`` from ``rng``, its own stream.

    Drawing one value at a time from numpy costs microseconds; this draws
    blocks of ``block`` values and hands them out one by one (the same sequence,
    far faster: the returned function is an iterator's C-level ``__next__``).
    """
    sample = _DRAW[type(spec)]
    return chain.from_iterable(iter(lambda: sample(spec, rng, block).tolist(), None)).__next__
