"""Which assumptions matter most: global sensitivity of one key figure to several parameters.

Parameters are dotted scenario keys, each varied over a range. SALib draws
the sample (Morris trajectories by default, Saltelli/Sobol' points on
request), every sample point is run as a scenario variant with replications
and common random numbers, and SALib turns the mean figure per point into
indices: Morris ``mu_star`` (mean absolute elementary effect, in the
figure's unit) or Sobol' first-order ``S1`` and total ``ST`` shares of the
variance. Parameters are ranked by ``mu_star`` or ``ST``.

Common random numbers matter here: a parameter the figure does not depend
on changes nothing in any replication, so its Morris effect is exactly zero
instead of noise. A parameter the schema types as a whole number (booths) is
rounded at each sample point; SALib still sees the unrounded sample.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from ..analysis import KPI_UNITS
from ..scenario import Scenario, ScenarioError
from .studies import Runner, check_crossing, current_value, variant

__all__ = ["Parameter", "SensitivityResult", "parse_parameters", "sample_size", "sensitivity"]

Method = Literal["morris", "sobol"]
MORRIS_LEVELS = 4
DEFAULT_SAMPLES = {"morris": 10, "sobol": 64}


@dataclass(frozen=True)
class Parameter:
    """A dotted scenario key varied between ``low`` and ``high``; ``integer`` if the schema says so."""

    key: str
    low: float
    high: float
    integer: bool = False


def parse_parameters(scenario: Scenario, keys: str, ranges: str) -> list[Parameter]:
    """``--params k1,k2`` and ``--ranges lo1:hi1,lo2:hi2`` as checked parameters.

    Each key must name a number in the scenario; whether it is a whole number
    is read from the validated scenario (the schema), not guessed from text.
    """
    names = [k.strip() for k in keys.split(",") if k.strip()]
    spans = [r.strip() for r in ranges.split(",") if r.strip()]
    if len(names) < 2:
        raise ScenarioError("--params", keys, "give at least two comma-separated dotted keys")
    if len(set(names)) < len(names):
        raise ScenarioError("--params", keys, "each key once")
    if len(spans) != len(names):
        raise ScenarioError("--ranges", ranges, f"give one low:high per parameter ({len(names)}), comma-separated")
    params = []
    for key, span in zip(names, spans):
        value = current_value(scenario, key, "--params")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ScenarioError(f"--params {key}", value, "must name a number in the scenario")
        try:
            low, high = (float(x) for x in span.split(":"))
        except ValueError:
            raise ScenarioError(f"--ranges {key}", span, "use low:high with numbers, e.g. 2:6") from None
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ScenarioError(f"--ranges {key}", span, "needs finite numbers with low < high")
        params.append(Parameter(key, low, high, integer=isinstance(value, int)))
    return params


def _problem(params: list[Parameter]) -> dict:
    return {"num_vars": len(params), "names": [p.key for p in params], "bounds": [[p.low, p.high] for p in params]}


def _draw(params: list[Parameter], method: Method, samples: int, seed: int) -> np.ndarray:
    if method == "morris":
        from SALib.sample import morris

        return morris.sample(_problem(params), samples, num_levels=MORRIS_LEVELS, seed=seed)
    from SALib.sample import sobol

    return sobol.sample(_problem(params), samples, calc_second_order=False, seed=seed)


def sample_size(n_params: int, method: Method, samples: int | None = None) -> int:
    """Scenario variants the method runs: (k + 1) N for Morris, (k + 2) N for Sobol'."""
    n = samples or DEFAULT_SAMPLES[method]
    return n * (n_params + (1 if method == "morris" else 2))


@dataclass
class SensitivityResult:
    """Indices per parameter (ranked, 1 = most influential) and every sample point's mean figure."""

    method: Method
    kpi: str
    crossing: str
    params: list[Parameter]
    indices: pd.DataFrame
    points: pd.DataFrame


def sensitivity(
    scenario: Scenario,
    params: list[Parameter],
    runner: Runner,
    kpi: str = "peak_queue_km",
    crossing: str = "all",
    method: Method = "morris",
    samples: int | None = None,
) -> SensitivityResult:
    """Rank ``params`` by their influence on ``kpi`` at ``crossing`` (mean over replications).

    Every sample point is built, and so validated, before any replication runs.
    """
    if kpi not in KPI_UNITS:
        raise ScenarioError("--kpi", kpi, f"must be one of {sorted(KPI_UNITS)}")
    check_crossing(scenario, crossing)
    n = samples or DEFAULT_SAMPLES[method]
    if method == "sobol" and n & (n - 1):
        raise ScenarioError("--samples", n, "Sobol' sampling needs a power of 2, e.g. 64")
    X = _draw(params, method, n, scenario.seed)
    values = [[round(x) if p.integer else float(x) for p, x in zip(params, row)] for row in X]
    variants = [variant(scenario, {p.key: v for p, v in zip(params, row)}, "--ranges") for row in values]
    Y = np.empty(len(variants))
    for i, v in enumerate(variants):
        table = runner.kpis(v)
        Y[i] = table.loc[table["crossing"] == crossing, kpi].astype(float).mean()
    points = pd.DataFrame(values, columns=[p.key for p in params])
    points.insert(0, "point", range(len(points)))
    points[kpi] = Y
    indices = _analyse(params, method, X, Y, scenario.seed)
    indices.insert(1, "low", [p.low for p in params])
    indices.insert(2, "high", [p.high for p in params])
    indices = indices.assign(kpi=kpi, unit=KPI_UNITS[kpi], crossing=crossing)
    return SensitivityResult(method, kpi, crossing, params, indices, points)


def _analyse(params: list[Parameter], method: Method, X: np.ndarray, Y: np.ndarray, seed: int) -> pd.DataFrame:
    """SALib's indices as a table sorted by influence, with a rank column."""
    problem = _problem(params)
    if method == "morris":
        from SALib.analyze import morris

        res = morris.analyze(problem, X, Y, num_levels=MORRIS_LEVELS, seed=seed)
        cols, by = ["mu", "mu_star", "sigma", "mu_star_conf"], "mu_star"
    else:
        from SALib.analyze import sobol

        res = sobol.analyze(problem, Y, calc_second_order=False, seed=seed)
        cols, by = ["S1", "S1_conf", "ST", "ST_conf"], "ST"
    out = pd.DataFrame({"parameter": problem["names"], **{c: np.asarray(res[c], dtype=float) for c in cols}})
    out = out.sort_values(by, ascending=False, kind="stable").reset_index(drop=True)
    out.insert(0, "rank", range(1, len(out) + 1))
    return out
