"""The scenario layer: every parameter of a run, as a validated, frozen object.

What is here: the schema (one pydantic model per section, units in the field
names), distribution specs as data, loading a TOML file with ``extends`` and
``--set`` overrides, the one-line :class:`ScenarioError`, and the one-line
:class:`ScenarioWarning` for allowed values that are surely unit mistakes. One
module per concern: ``schema`` (the top-level model and its cross-field checks),
its sections in ``origins``, ``crossings``, ``routes``, ``behaviour`` and
``key_figures`` (on the shared base in ``base``), ``operations`` (release quotas
and batches, recurring rules, lanes that change), ``metering`` (control points up the road into a crossing),
``recurring`` (recurring
rules expanded into one-off lists at load time), ``times`` (date-time fields),
``distributions``, ``loading``, ``plausibility`` (the table of plausible
ranges) and ``errors``.

May import: the standard library and pydantic only. Every other layer imports
this one; it imports none of them.
"""

from .behaviour import Behaviour, Information
from .crossings import Channel, Crossing, ServiceTime
from .distributions import (
                     FAMILIES,
                     Discrete,
                     DistributionSpec,
                     Exponential,
                     Fixed,
                     Gamma,
                     Lognormal,
                     Triangular,
                     Uniform,
)
from .errors import ScenarioError, ScenarioWarning
from .key_figures import KeyFigureRules
from .loading import apply_overrides, load_scenario, merge_scenarios, read_scenario_dict, scenario_from_dict
from .origins import BusService, Origin
from .routes import Route, haversine_km
from .schema import MODES, Scenario
from .times import read_datetime

__all__ = [
    "MODES", "read_datetime", "Scenario", "ScenarioError", "ScenarioWarning", "KeyFigureRules",
    "Origin", "Crossing", "Channel", "Route", "BusService", "ServiceTime", "Behaviour", "Information",
    "load_scenario", "scenario_from_dict", "read_scenario_dict", "merge_scenarios", "apply_overrides", "haversine_km",
    "DistributionSpec", "FAMILIES", "Fixed", "Exponential", "Uniform", "Triangular", "Lognormal", "Gamma", "Discrete",
]
