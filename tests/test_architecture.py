"""The structure of the three packages: an acyclic import graph (imports inside functions
included), modules of at most 400 lines, no public name that shadows its own module, and the
``py.typed`` marker of a typed package."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import grimp
import networkx as nx
import pytest

PACKAGES = ("workbench", "proofs", "numerics")
ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 400


def import_graph() -> nx.DiGraph:
    """Module -> module it imports, from grimp's scan of every import statement (those inside
    functions and under ``if TYPE_CHECKING`` included)."""
    graph = grimp.build_graph(*PACKAGES)
    g = nx.DiGraph()
    for module in graph.modules:
        g.add_node(module)
        for target in graph.find_modules_directly_imported_by(module):
            g.add_edge(module, target)
    return g


def test_the_import_graph_has_no_cycle():
    g = import_graph()
    assert g.number_of_nodes() > 50  # the scan found the packages' modules
    cycles = [sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1]
    shown = "\n".join(" <-> ".join(c) for c in cycles)
    assert not cycles, f"import cycles:\n{shown}"


def test_the_graph_sees_imports_inside_functions():
    # the check has to be able to fail: grimp reports a function-level import (verification imports asymptotics
    # only inside a function, the edge the cycles of issue 18 were hidden by)
    g = import_graph()
    importers = {m for m, t in g.edges if t == "workbench.asymptotics"}
    assert importers, "no module imports workbench.asymptotics?"


def _long_modules(package: str) -> dict[str, int]:
    return {str(p.relative_to(ROOT)): n for p in (ROOT / package).rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}


@pytest.mark.parametrize("package", PACKAGES)
def test_every_module_has_at_most_400_lines(package):
    long = _long_modules(package)
    assert not long, f"modules over {MAX_LINES} lines: {long}"


@pytest.mark.parametrize("package", PACKAGES)
def test_no_public_name_shadows_a_module(package):
    module = importlib.import_module(package)
    submodules = {info.name for info in pkgutil.iter_modules(module.__path__)}
    shadowed = sorted(name for name in getattr(module, "__all__", ()) if name in submodules)
    assert not shadowed, f"{package}.{shadowed[0]} is both a public name and a module"


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_is_marked_typed(package):
    assert (ROOT / package / "py.typed").is_file()
