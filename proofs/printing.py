"""Plain text and LaTeX rendering of derivations.

One escaping function for text entering LaTeX (:func:`latex_text`); SymPy objects
go through ``sympy.latex`` / ``sympy.sstr``. Types define ``_latex(printer)`` so that
``sympy.latex(obj)`` and ``obj._repr_latex_()`` share this code.
"""

from __future__ import annotations

import sympy as sp

__all__ = ["latex_text", "latex_relation", "text_relation"]

_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
}


def latex_text(text: str) -> str:
    r"""Escape plain text for LaTeX text mode.

    >>> latex_text("50% of a_i & {b}")
    '50\\% of a\\_i \\& \\{b\\}'
    """
    return "".join(_LATEX_SPECIALS.get(ch, ch) for ch in str(text))


_LATEX_REL = {"=": "=", "<=": r"\le", "<": "<", ">=": r"\ge", ">": ">"}


def latex_relation(lhs: sp.Basic, rel: str, rhs: sp.Basic) -> str:
    return f"{sp.latex(lhs)} {_LATEX_REL[rel]} {sp.latex(rhs)}"


def text_relation(lhs: sp.Basic, rel: str, rhs: sp.Basic) -> str:
    return f"{sp.sstr(lhs)} {rel} {sp.sstr(rhs)}"
