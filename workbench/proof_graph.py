"""The dependency graph of a derivation: steps as nodes coloured by status, premises as edges,
the conclusion at the bottom.

Laid out in layers by networkx (a step sits one layer below its deepest premise) and drawn by
matplotlib (imported when a graph is drawn, as every figure is); registered with :func:`proofs.derivation.register_face` so that
``Derivation.graph()`` works in a REPL once ``workbench`` is imported.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import networkx as nx
import sympy as sp

from proofs.derivation import Derivation, register_face

from .figures import save

__all__ = ["dependency_graph", "draw", "COLOURS"]

COLOURS = {"checked": "#b7e1b0", "cited": "#f6c48f", "definition": "#d9d9d9", "hypothesis": "#c6dbef"}
LABEL_CHARS = 34


def _kind(step) -> str:
    return "hypothesis" if step.is_hypothesis else step.status


def _label(n: str, step) -> str:
    text = f"{sp.sstr(step.lhs)} {step.rel} {sp.sstr(step.rhs)}"
    if len(text) > 2 * LABEL_CHARS:
        text = text[: 2 * LABEL_CHARS - 1] + "…"
    return n + "\n" + "\n".join(textwrap.wrap(text, LABEL_CHARS))


def dependency_graph(d: Derivation) -> nx.DiGraph:
    """Nodes ``1..n`` (the steps) and ``"therefore"``; an edge from each premise to the step
    that uses it. Node attributes: ``kind`` (checked, cited, definition, hypothesis), ``layer``
    (one below the deepest premise) and ``label``."""
    g = nx.DiGraph()
    for i, step in enumerate(d.steps, 1):
        g.add_node(i, kind=_kind(step), label=_label(f"({i})", step))
        for p in d.uses(step):
            g.add_edge(p, i)
    c = d.conclusion
    g.add_node("therefore", kind=c.status, label=_label("therefore", c))
    for p in d.uses(c):
        g.add_edge(p, "therefore")
    order = list(nx.topological_sort(g))
    for node in order:  # a derived step sits one layer below its deepest premise
        g.nodes[node]["layer"] = max((g.nodes[p]["layer"] + 1 for p in g.predecessors(node)), default=0)
    for node in reversed(order):  # a step without premises sits just above its first use
        if g.in_degree(node) == 0 and g.out_degree(node):
            g.nodes[node]["layer"] = min(g.nodes[u]["layer"] for u in g.successors(node)) - 1
    g.nodes["therefore"]["layer"] = max(g.nodes[n]["layer"] for n in g if n != "therefore") + 1
    low = min(g.nodes[n]["layer"] for n in g)
    for node in g:
        g.nodes[node]["layer"] -= low
    return g


def draw(d: Derivation, path: str | Path | None = None, *, force: bool = False):
    """Draw ``d``'s dependency graph; write it to ``path`` (``.svg``, ``.pdf`` or ``.png``,
    atomically, never over a file the workbench did not write) or return the figure."""
    from matplotlib.figure import Figure  # matplotlib loads only when a graph is drawn (import stays fast)
    from matplotlib.patches import Patch

    g = dependency_graph(d)
    layers: dict[int, list] = {}
    for node, data in g.nodes(data=True):
        layers.setdefault(data["layer"], []).append(node)
    widest = max(len(v) for v in layers.values())
    pos = {}
    for layer in sorted(layers):  # premises on top, the conclusion at the bottom, each row centred
        nodes = layers[layer]
        nodes.sort(key=lambda n: (n == "therefore", n if n != "therefore" else 0))
        for k, node in enumerate(nodes):
            pos[node] = (k - (len(nodes) - 1) / 2, -layer)
    for _ in range(2):  # fewer crossings: order each row by the mean position of its neighbours
        for layer in sorted(layers):
            nodes = layers[layer]

            def centre(n, nodes=nodes):
                near = [pos[m][0] for m in (*g.predecessors(n), *g.successors(n))]
                return sum(near) / len(near) if near else pos[n][0]

            nodes.sort(key=centre)
            for k, node in enumerate(nodes):
                pos[node] = (k - (len(nodes) - 1) / 2, -layer)
    fig = Figure(figsize=(max(6.0, 2.4 * widest + 1.5), max(3.0, 1.1 * len(layers) + 1.0)))
    ax = fig.add_subplot()
    nx.draw_networkx_edges(g, pos, ax=ax, arrows=True, arrowstyle="-|>", arrowsize=10, edge_color="#555555",
                           node_size=2600, min_source_margin=14, min_target_margin=18)
    for node, data in g.nodes(data=True):
        x, y = pos[node]
        ax.text(x, y, data["label"], ha="center", va="center", fontsize=6.5, family="DejaVu Sans",
                bbox={"boxstyle": "round,pad=0.35", "fc": COLOURS[data["kind"]],
                      "ec": "black" if node == "therefore" else "#777777", "lw": 1.4 if node == "therefore" else 0.6})
    ax.set_title(f"{d.title}: conclusion {d.status}", fontsize=9)
    kinds = [k for k in COLOURS if any(data["kind"] == k for _, data in g.nodes(data=True))]
    ax.legend(handles=[Patch(fc=COLOURS[k], ec="#777777", label=k) for k in kinds], loc="upper left",
              bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False)
    ax.margins(x=0.12, y=0.12)
    ax.set_axis_off()
    fig.tight_layout()
    if path is None:
        return fig
    return save(fig, path, force=force)


register_face("graph", draw)
