"""The app layer: the what-if page, a local web app on top of the experiments and the report.

What is here: the page's controls, generated from the loaded scenario and its
schema (``controls``); what they mean as ``--set`` overrides, the scenario
they give and the settings file that keeps them (``settings``); replications
for each page, the first at once and the rest on worker processes, stale ones
cancelled (``jobs``); the queue chart and the key figures, loaded beside
current (``views``); the Dash page and its callbacks (``page``); and serving it
on 127.0.0.1 (``server``).

May import: the report, experiments, analysis and scenario layers, pandas,
plotly and Dash (the optional ``app`` extra). No argparse or console
progress: the command line (``model app``) imports this layer only when the
command runs, so everything else works without Dash.
"""

from .controls import Control, build_controls, field_facts
from .settings import Change, Loaded, changes_from, command_line, load, resolve, settings_toml

__all__ = ["Control", "build_controls", "field_facts", "Change", "Loaded", "load", "changes_from", "resolve", "settings_toml",
           "command_line", "serve"]


def serve(*args, **kwargs):
    """:func:`model.app.server.serve`, imported when called: Dash is needed only to serve the page."""
    from .server import serve as _serve

    return _serve(*args, **kwargs)
