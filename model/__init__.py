"""A discrete-event model of people leaving an area through road border crossings during a surge.

Public API::

    from model import load_scenario, simulate
    scenario = load_scenario("params/one_crossing_constant.toml", overrides=["replications=5"])
    results = simulate(scenario)          # Results: parties, queues, kpis, ... as DataFrames
"""

from .experiment import run_replications, simulate
from .scenario import Scenario, ScenarioError, load_scenario
from .simulation import run_replication
from .tables import Results

__all__ = ["load_scenario", "simulate", "run_replications", "run_replication", "Scenario", "ScenarioError", "Results"]
__version__ = "0.1.0"
