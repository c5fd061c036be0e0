"""The dependency graph of a derivation: premises as edges, the conclusion at the bottom."""

import pytest
import sympy as sp

from proofs import Derivation, cite, define, equal, hypothesis
from proofs.sources import CASELLA
from workbench import proof_graph

a, b = sp.symbols("a b", positive=True)
q = sp.Symbol("q")


def _derivation():
    s1 = define(q, a + b, "a name")
    s2 = hypothesis(b, "=", 2 * a, "b is twice a")
    s3 = equal(q, 3 * a, "substitute", uses=[s1, s2])
    s4 = cite(3 * a, "<=", 4 * a, "Theorem 4.5.6", CASELLA, "a cited bound")
    return Derivation("toy", [s1, s2, s3, s4], (q, "<=", 4 * a), uses=[s3, s4])


def test_premises_are_edges_and_the_conclusion_is_the_last_layer():
    g = proof_graph.dependency_graph(_derivation())
    assert set(g.edges) == {(1, 3), (2, 3), (3, "therefore"), (4, "therefore")}
    layers = {n: g.nodes[n]["layer"] for n in g}
    assert layers == {1: 0, 2: 0, 3: 1, 4: 1, "therefore": 2}  # a cited step without premises sits above its use
    assert [g.nodes[n]["kind"] for n in (1, 2, 3, 4, "therefore")] == ["definition", "hypothesis", "checked", "cited", "cited"]


def test_graph_draws_every_node_in_its_status_colour(tmp_path):
    fig = _derivation().graph()
    texts = [t for t in fig.axes[0].texts]
    assert len(texts) == 5 and texts[-1].get_text().startswith("therefore")
    colours = {t.get_bbox_patch().get_facecolor()[:3] for t in texts}
    assert len(colours) == 4  # definition, hypothesis, checked, cited
    path = _derivation().graph(tmp_path / "toy.svg")
    assert path.read_text().count("workbench-generated") >= 1


def test_graph_refuses_a_foreign_file_unless_forced(tmp_path):
    from workbench.files import OutputError

    foreign = tmp_path / "mine.png"
    foreign.write_bytes(b"someone's picture")
    with pytest.raises(OutputError, match="not written by the workbench"):
        _derivation().graph(foreign)
    assert foreign.read_bytes() == b"someone's picture"
    assert _derivation().graph(foreign, force=True).read_bytes().startswith(b"\x89PNG")
