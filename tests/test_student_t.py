"""The t quantile the confidence intervals use, against scipy's, and its exact special cases."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from model.analysis.student_t import t_cdf, t_quantile


@pytest.mark.parametrize("df", [0.5, 1, 1.5, 2, 2.7, 3, 4, 9, 19, 29.3, 99, 1000, 1e5])
@pytest.mark.parametrize("p", [0.025, 0.05, 0.5, 0.6, 0.9, 0.95, 0.975, 0.995, 0.9995])
def test_quantile_matches_scipy(df, p):
    assert t_quantile(p, df) == pytest.approx(stats.t.ppf(p, df), rel=1e-9, abs=1e-12)
    assert t_cdf(t_quantile(p, df), df) == pytest.approx(p, rel=1e-10)


def test_exact_cases():
    assert t_quantile(0.975, 1) == pytest.approx(math.tan(math.pi * 0.475))
    assert t_quantile(0.975, 2) == pytest.approx(4.302652729749464, rel=1e-12)  # sqrt(2 / (4 p (1 - p)) - 2) with p = 0.975
    assert t_quantile(0.5, 7) == 0.0


def test_bad_arguments_are_refused():
    for p, df in [(0.0, 5), (1.0, 5), (0.9, 0), (0.9, -1)]:
        with pytest.raises(ValueError):
            t_quantile(p, df)
