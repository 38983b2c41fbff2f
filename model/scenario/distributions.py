"""Probability distributions as scenario data: the spec of each family, validated, with its moments.

A scenario writes a distribution as a small table, e.g.
``{dist = "lognormal", mean = 12.0, cv = 0.5}``. The unit is carried by the
name of the field that holds it (``speed_kmh``, ``patience_h``). Each spec class
validates its own numbers and knows its analytic mean and variance, so tests
can compare sample moments against theory. Drawing from a spec is the
engine's work (:mod:`model.engine.samplers`).
"""

from __future__ import annotations

from typing import Annotated, Literal, Union, get_args

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .fields import MAX_LIST, MAX_NUMBER, Real

__all__ = [
    "DistributionSpec",
    "party_size_problem",
    "support",
    "speed_problem",
    "FAMILIES",
    "Fixed",
    "Exponential",
    "Uniform",
    "Triangular",
    "Lognormal",
    "Gamma",
    "Discrete",
]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @property
    def mean(self) -> float:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def variance(self) -> float:  # pragma: no cover - overridden
        raise NotImplementedError


class Fixed(_Spec):
    """Always the same value (deterministic)."""

    dist: Literal["fixed"]
    value: Real = Field(ge=0, le=MAX_NUMBER)

    @property
    def mean(self) -> float:
        return self.value

    @property
    def variance(self) -> float:
        return 0.0



class Exponential(_Spec):
    """Exponential with the given mean (coefficient of variation 1)."""

    dist: Literal["exponential"]
    mean_value: Real = Field(gt=0, le=MAX_NUMBER, alias="mean")

    @property
    def mean(self) -> float:
        return self.mean_value

    @property
    def variance(self) -> float:
        return self.mean_value**2



class Uniform(_Spec):
    """Uniform between ``low`` and ``high``."""

    dist: Literal["uniform"]
    low: Real = Field(ge=0, le=MAX_NUMBER)
    high: Real = Field(ge=0, le=MAX_NUMBER)

    @model_validator(mode="after")
    def _ordered(self):
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must be >= low ({self.low})")
        return self

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    @property
    def variance(self) -> float:
        return (self.high - self.low) ** 2 / 12



class Triangular(_Spec):
    """Triangular with minimum ``low``, most likely ``mode`` and maximum ``high``."""

    dist: Literal["triangular"]
    low: Real = Field(ge=0, le=MAX_NUMBER)
    mode: Real = Field(ge=0, le=MAX_NUMBER)
    high: Real = Field(ge=0, le=MAX_NUMBER)

    @model_validator(mode="after")
    def _ordered(self):
        if not (self.low <= self.mode <= self.high) or self.low == self.high:
            raise ValueError(
                f"need low <= mode <= high and low < high, got {self.low}, {self.mode}, {self.high}"
            )
        return self

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    @property
    def variance(self) -> float:
        a, c, b = self.low, self.mode, self.high
        return (a * a + b * b + c * c - a * b - a * c - b * c) / 18



class _MeanCv(_Spec):
    """A positive distribution given by its mean and coefficient of variation."""

    mean_value: Real = Field(gt=0, le=MAX_NUMBER, alias="mean")
    cv: Real = Field(gt=0, le=10, description="standard deviation / mean")

    @property
    def mean(self) -> float:
        return self.mean_value

    @property
    def variance(self) -> float:
        return (self.cv * self.mean_value) ** 2


class Lognormal(_MeanCv):
    """Lognormal with the given mean and cv (heavy right tail)."""

    dist: Literal["lognormal"]



class Gamma(_MeanCv):
    """Gamma with the given mean and cv (shape = 1/cv^2)."""

    dist: Literal["gamma"]



class Discrete(_Spec):
    """A table of values and their probabilities, e.g. party sizes."""

    dist: Literal["discrete"]
    values: list[Real] = Field(min_length=1, max_length=MAX_LIST)
    probs: list[Real] = Field(min_length=1, max_length=MAX_LIST)

    @model_validator(mode="after")
    def _table(self):
        if len(self.values) != len(self.probs):
            raise ValueError(
                f"values ({len(self.values)}) and probs ({len(self.probs)}) must have the same length"
            )
        if any(p < 0 for p in self.probs) or abs(sum(self.probs) - 1.0) > 1e-6:
            raise ValueError(f"probs must be >= 0 and sum to 1, got sum {sum(self.probs):.6g}")
        if any(v < 0 or v > MAX_NUMBER for v in self.values):
            raise ValueError(f"values must be >= 0 and <= {MAX_NUMBER:g}")
        return self

    @property
    def mean(self) -> float:
        return float(np.dot(self.values, self.probs))

    @property
    def variance(self) -> float:
        v = np.asarray(self.values)
        return float(np.dot(v * v, self.probs) - self.mean**2)



_FAMILIES = (Fixed, Exponential, Uniform, Triangular, Lognormal, Gamma, Discrete)
DistributionSpec = Annotated[Union[_FAMILIES], Field(discriminator="dist")]
#: The names a scenario may give as ``dist``.
FAMILIES: tuple[str, ...] = tuple(get_args(f.model_fields["dist"].annotation)[0] for f in _FAMILIES)


def support(spec) -> tuple[float, float] | None:
    """The least and the greatest value a draw of ``spec`` can take; None for a family with no upper bound
    (exponential, lognormal, gamma)."""
    if isinstance(spec, (Uniform, Triangular)):
        return spec.low, spec.high
    values = _drawable(spec)
    return (min(values), max(values)) if values is not None else None


def _drawable(spec) -> list[float] | None:
    """The values a draw of ``spec`` can take when they are few (fixed, discrete), else None."""
    if isinstance(spec, Fixed):
        return [spec.value]
    if isinstance(spec, Discrete):
        return list(spec.values)
    return None


def party_size_problem(spec, largest: float) -> str | None:
    """Why ``spec`` cannot give people per party (whole numbers from 1 to ``largest``), or None.

    Fixed and discrete sizes must be whole numbers >= 1; a continuous family is
    rounded to whole people by the engine, so its mean must be from 1 to ``largest``.
    """
    allowed = f"party sizes are whole numbers of people from 1 to {largest:,.0f}"
    values = _drawable(spec)
    if values is not None:
        bad = [v for v in values if not (1 <= v <= largest and float(v).is_integer())]
        return f"{allowed}, got {bad[0]:g}" if bad else None
    top = spec.high if isinstance(spec, (Uniform, Triangular)) else spec.mean
    if not 1 <= spec.mean <= largest or top > largest:
        return f"{allowed}; a {spec.dist} size needs a mean from 1 and values up to {largest:,.0f}, got mean {spec.mean:g}"
    return None


#: The slowest mean speed, km/h (10 m an hour): below it nobody arrives, and times overflow.
MIN_MEAN_SPEED = 0.01


def speed_problem(spec) -> str | None:
    """Why ``spec`` cannot be a speed (every value it can draw > 0 km/h, a mean of at least 0.01 km/h), or None."""
    values = _drawable(spec)
    low = min(values) if values is not None else spec.low if isinstance(spec, (Uniform, Triangular)) else None
    if low is not None and low <= 0:
        return f"a speed must be > 0 km/h (nobody moves at 0), got {low:g}"
    if spec.mean < MIN_MEAN_SPEED:
        return f"a speed must average at least {MIN_MEAN_SPEED:g} km/h (slower is not moving), got mean {spec.mean:g}"
    return None
