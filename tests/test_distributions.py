"""Distribution specs: sample moments agree with each spec's analytic mean and variance, and the
block sampler hands out exactly the stream numpy would draw in one go."""

import numpy as np
import pytest
from pydantic import TypeAdapter

from model.engine.samplers import draw, make_sampler, unit_mean_spec
from model.scenario import DistributionSpec

SPECS = [
    {"dist": "fixed", "value": 2.5},
    {"dist": "exponential", "mean": 3.0},
    {"dist": "uniform", "low": 1.0, "high": 4.0},
    {"dist": "triangular", "low": 0.0, "mode": 1.0, "high": 5.0},
    {"dist": "lognormal", "mean": 12.0, "cv": 0.5},
    {"dist": "gamma", "mean": 2.0, "cv": 1.5},
    {"dist": "discrete", "values": [1, 2, 3, 5], "probs": [0.4, 0.3, 0.2, 0.1]},
]
N = 200_000


@pytest.mark.parametrize("raw", SPECS, ids=[s["dist"] for s in SPECS])
def test_sample_moments_match_the_spec(raw):
    spec = TypeAdapter(DistributionSpec).validate_python(raw)
    x = draw(spec, np.random.default_rng(1), N)
    sd = np.sqrt(spec.variance)
    assert abs(x.mean() - spec.mean) <= 5 * sd / np.sqrt(N) + 1e-12
    assert abs(x.var(ddof=1) - spec.variance) <= 0.05 * spec.variance + 1e-12


@pytest.mark.parametrize("family", ["fixed", "exponential", "lognormal", "gamma", "uniform"])
def test_unit_mean_service_factor_has_mean_one(family):
    spec = unit_mean_spec(family, 0.4)
    assert spec.mean == pytest.approx(1.0)
    assert draw(spec, np.random.default_rng(2), N).mean() == pytest.approx(1.0, abs=0.01)


def test_sampler_gives_the_same_stream_as_one_big_draw():
    spec = TypeAdapter(DistributionSpec).validate_python({"dist": "lognormal", "mean": 1.0, "cv": 0.8})
    sampler = make_sampler(spec, np.random.default_rng(3), block=7)
    rng = np.random.default_rng(3)
    expected = np.concatenate([draw(spec, rng, 7) for _ in range(5)])
    assert [sampler() for _ in range(35)] == expected.tolist()
