"""The package's layers, kept by reading every module's imports (ast), not by trust.

Imports run one way: cli -> app -> report -> experiments -> analysis ->
engine -> scenario. A module may import its own layer and any layer below; an upward
import, or a cycle between modules, fails here. The engine and the scenario
stay free of pandas, plotly and the command line.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import ROOT

PACKAGE = ROOT / "model"
#: Layers from the bottom up; the package's own ``__init__``/``__main__`` sit on top of all.
LAYERS = ("scenario", "engine", "analysis", "experiments", "report", "app", "cli")
TOP = len(LAYERS)
#: Third-party or standard modules a layer must not use.
FORBIDDEN = {
    "scenario": {"pandas", "plotly", "simpy", "scipy", "argparse", "tqdm"},
    "engine": {"pandas", "plotly", "scipy", "argparse", "tqdm", "pathlib"},
    "analysis": {"plotly", "argparse", "tqdm"},
    "experiments": {"plotly", "argparse", "tqdm"},
    "report": {"argparse", "tqdm"},
    "app": {"argparse", "tqdm"},
}
MAX_LINES = 500


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    """The layer index of a module of the package (``model.engine.crossing`` -> 1)."""
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else TOP


def imports_of(path: Path, modules: set[str], package: Path = PACKAGE) -> tuple[set[str], set[str]]:
    """(modules of the package, top-level outside modules) that ``path`` imports anywhere in its code."""
    name = module_name(path, package)
    is_package = path.name == "__init__.py"
    inside, outside = set(), set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module
            # ``from . import figures`` names a submodule; ``from .x import y`` names the module x
            targets = [f"{stem}.{a.name}" if f"{stem}.{a.name}" in modules else stem for a in node.names]
        else:
            continue
        for target in targets:
            if target.split(".")[0] == package.name:
                while target not in modules and "." in target:
                    target = target.rsplit(".", 1)[0]
                inside.add(target)
            else:
                outside.add(target.split(".")[0])
    inside.discard(name)
    return inside, outside


def import_graph(package: Path = PACKAGE) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    files = sorted(package.rglob("*.py"))
    modules = {module_name(f, package) for f in files}
    graph, external = {}, {}
    for f in files:
        graph[module_name(f, package)], external[module_name(f, package)] = imports_of(f, modules, package)
    return graph, external


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    return sorted(f"{m} imports {t}" for m, targets in graph.items() for t in targets if layer_of(t) > layer_of(m))


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import cycle, found by depth-first search (one path per back edge)."""
    found, state, path = [], {}, []

    def visit(m: str) -> None:
        state[m] = "open"
        path.append(m)
        for t in sorted(graph.get(m, ())):
            if state.get(t) == "open":
                found.append(path[path.index(t):] + [t])
            elif t not in state:
                visit(t)
        path.pop()
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m)
    return found


def test_every_import_points_down_the_layers():
    graph, _ = import_graph()
    assert {m.split(".")[1] for m in graph if "." in m} >= set(LAYERS)
    assert upward_imports(graph) == []


def test_no_module_imports_itself_round_a_cycle():
    graph, _ = import_graph()
    assert cycles(graph) == []


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_lower_layers_keep_off_tables_charts_and_the_console(layer):
    _, external = import_graph()
    used = {m: sorted(ext & FORBIDDEN[layer]) for m, ext in external.items() if layer_of(m) == LAYERS.index(layer)}
    assert {m: e for m, e in used.items() if e} == {}


def test_each_layer_says_what_it_is_and_what_it_may_import():
    for layer in LAYERS:
        init = PACKAGE / layer / "__init__.py"
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        assert "import" in doc.lower(), f"{init} docstring must say what the layer may import"


def test_no_module_is_much_over_500_lines():
    sizes = {str(f.relative_to(ROOT)): len(f.read_text(encoding="utf-8").splitlines()) for f in PACKAGE.rglob("*.py")}
    assert {f: n for f, n in sizes.items() if n > MAX_LINES} == {}


def test_the_checks_catch_an_upward_import_and_a_cycle(tmp_path):
    """The rules above can fail: a planted upward import and a planted cycle are found."""
    pkg = tmp_path / "model"
    for layer in ("scenario", "engine"):
        (pkg / layer).mkdir(parents=True)
        (pkg / layer / "__init__.py").write_text('"""May import nothing above."""\n')
    (pkg / "__init__.py").write_text("")
    (pkg / "scenario" / "schema.py").write_text("from ..engine import crossing\n")
    (pkg / "engine" / "crossing.py").write_text("from . import lifecycle\nimport pandas\n")
    (pkg / "engine" / "lifecycle.py").write_text("from .crossing import x\n")
    graph, external = import_graph(pkg)
    assert upward_imports(graph) == ["model.scenario.schema imports model.engine.crossing"]
    assert ["model.engine.crossing", "model.engine.lifecycle", "model.engine.crossing"] in cycles(graph)
    assert "pandas" in external["model.engine.crossing"]
