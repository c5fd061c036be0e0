"""Display mathematics for the paper: a theorem's or a proof's concluding relation laid out to fit the page.

- :func:`display`: ``lhs = rhs`` with the derivation's abbreviations; too wide for a line, a case split on a
  choice becomes one aligned row per case;
- :func:`abbreviations`: the values of the abbreviated subexpressions, displayed.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp

from proofs import Derivation, latex_expr
from proofs.printing import LATEX_RELATIONS as _REL
from proofs.printing import LINE, width

__all__ = ["display", "abbreviations"]


def display(d: Derivation, lhs: sp.Basic, rel: str, rhs: sp.Basic, names: dict[str, str] | None = None,
            relabel: Callable[[sp.Basic], sp.Basic] | None = None) -> str:
    r"""``lhs rel rhs`` for a display, its long subexpressions by the derivation's abbreviations. Too wide for a
    line, two sides that are case splits on the same conditions (a choice of quantity) become one aligned row per
    case, ``(label) lhs_i = rhs_i``, rather than one set of cases equal to another."""
    relabel = relabel or (lambda e: e)
    whole = f"{latex_expr(relabel(d.abbreviate(lhs)), names)} {_REL[rel]} {latex_expr(relabel(d.abbreviate(rhs)), names)}"
    if width(whole) <= LINE:
        return whole
    if isinstance(rhs, sp.Piecewise) and isinstance(lhs, sp.Symbol):  # a quantity defined by cases: use the cases
        lhs = next((s.rhs for s in d.steps if s.lhs == lhs and isinstance(s.rhs, sp.Piecewise)), lhs)
    lhs, rhs = relabel(d.abbreviate(lhs)), relabel(d.abbreviate(rhs))
    if isinstance(lhs, sp.Piecewise) and isinstance(rhs, sp.Piecewise) and len(lhs.args) == len(rhs.args) and all(
            a.cond == b.cond and a.cond is not sp.true for a, b in zip(lhs.args, rhs.args, strict=True)):
        rows = [rf"{_case(a.cond, names)}{latex_expr(a.expr, names)} &{_REL[rel]} {latex_expr(b.expr, names)}"
                for a, b in zip(lhs.args, rhs.args, strict=True)]
        return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"
    return whole


def _case(cond: sp.Basic, names: dict[str, str] | None) -> str:
    r"""A case's label on the left of its row: ``(\texttt{curve})`` for a choice, else ``\text{if } cond:``."""
    if isinstance(cond, sp.Eq) and isinstance(cond.rhs, sp.Symbol) and cond.rhs.name.startswith("zz_"):
        return rf"({latex_expr(cond.rhs, names)})\quad "
    return rf"\text{{if }} {latex_expr(cond, names)}\text{{:}}\quad "


def abbreviations(d: Derivation, names: dict[str, str] | None = None) -> str:
    r"""``Here \[ c_1 = ..., \ c_2 = ... \]``: the values of the symbols a display shows for long subexpressions,
    displayed and aligned."""
    if not d.abbreviations:
        return ""
    rows = [f"{latex_expr(sym, names)} &= {latex_expr(value, names)}" for sym, value in d.abbreviations]
    return r"Here \[ \begin{aligned}" + r", \\ ".join(rows) + r". \end{aligned} \]"
