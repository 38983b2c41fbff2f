"""A discrete-event model of people leaving an area through road border crossings during a surge.

Public API::

    from model import load_scenario, simulate
    scenario = load_scenario("params/one_crossing_constant.toml", overrides=["replications=5"])
    results = simulate(scenario)          # Results: parties, queues, kpis, ... as DataFrames

The package is layered; each subpackage's docstring says what it holds and
what it may import: ``scenario`` <- ``engine`` <- ``analysis`` <-
``experiments`` <- ``report`` <- ``cli``.
"""

from .analysis import Results
from .experiments import run_replication, run_replications, simulate
from .scenario import Scenario, ScenarioError, load_scenario

__all__ = ["load_scenario", "simulate", "run_replications", "run_replication", "Scenario", "ScenarioError", "Results"]
__version__ = "0.1.0"
