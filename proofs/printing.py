"""Plain text and LaTeX rendering of derivations.

One escaping function for text entering LaTeX (:func:`latex_text`); SymPy objects
go through ``sympy.latex`` / ``sympy.sstr``. Types define ``_latex(printer)`` so that
``sympy.latex(obj)`` and ``obj._repr_latex_()`` share this code.
"""

from __future__ import annotations

import math
import re
import unicodedata

import sympy as sp

__all__ = ["Notation", "latex_text", "latex_number", "latex_expr", "latex_relation", "text_relation"]

_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\textbraceleft{}",  # not \{ : BibTeX counts escaped braces too
    "}": r"\textbraceright{}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "[": "{[}",  # harmless in running text, safe in an optional argument
    "]": "{]}",
    "|": r"\textbar{}",
}

# Characters pdfLaTeX's utf8 input with T1 fonts sets as they are: Latin-1 and Latin
# Extended-A, less the few it has no glyph for (found by compiling every code point).
_NO_T1_GLYPH = frozenset("\u0126\u0127\u0138\u013f\u0140\u0149\u0166\u0167\u017f")
_MATH_SYMBOLS = {
    "\u2264": r"\le", "\u2265": r"\ge", "\u2260": r"\ne", "\u2248": r"\approx", "\u2192": r"\to",
    "\u221e": r"\infty", "\u2211": r"\sum", "\u220f": r"\prod", "\u221a": r"\surd", "\u2202": r"\partial",
    "\u2207": r"\nabla", "\u2208": r"\in", "\u2212": "-", "\u22c5": r"\cdot", "\u2026": r"\ldots",
}
_GREEK_AS_LATIN = {
    "Alpha": "A", "Beta": "B", "Epsilon": "E", "Zeta": "Z", "Eta": "H", "Iota": "I", "Kappa": "K",
    "Mu": "M", "Nu": "N", "Omicron": "O", "Rho": "P", "Tau": "T", "Chi": "X", "omicron": "o",
}
_GREEK_MACROS = frozenset(
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau upsilon "
    "phi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega".split()
)


def _unicode(ch: str) -> str:
    """One non-ASCII character: as it is where pdfLaTeX can set it, else a macro, else
    its base letter (``ǘ`` -> ``u``, ``έ`` -> ``\\epsilon``), else its code point ``[U+2603]``."""
    code = ord(ch)
    if 0xA0 <= code <= 0x17F and ch not in _NO_T1_GLYPH:
        return ch
    if ch in _MATH_SYMBOLS:
        return rf"\ensuremath{{{_MATH_SYMBOLS[ch]}}}"
    greek = re.fullmatch(r"GREEK (SMALL|CAPITAL) LETTER ([A-Z]+)", unicodedata.name(ch, ""))
    if greek:
        letter = greek.group(2).lower().replace("lamda", "lambda")
        letter = letter.capitalize() if greek.group(1) == "CAPITAL" else letter
        if letter in _GREEK_MACROS:
            return rf"\ensuremath{{\{letter}}}"
        if letter in _GREEK_AS_LATIN:
            return _GREEK_AS_LATIN[letter]
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    if base and base != ch:
        return latex_text(base)
    return f"[U+{code:04X}]"


def latex_text(text: str) -> str:
    r"""Escape plain text for LaTeX text mode: the one function all user text goes through.

    Every ASCII special is neutralised, control characters (newlines included) become
    spaces, and a non-ASCII character pdfLaTeX cannot set is replaced by a macro, its
    base letter or its code point, so that any string compiles.

    >>> latex_text("50% of a_i & {b}")
    '50\\% of a\\_i \\& \\textbraceleft{}b\\textbraceright{}'
    >>> latex_text("σ ≤ 1, Mächler")
    '\\ensuremath{\\sigma} \\ensuremath{\\le} 1, Mächler'
    """
    out = []
    text = str(text)
    for i, ch in enumerate(text):
        if ch == "-" and text[i + 1 : i + 2] == "-":
            out.append("-{}")  # no -- or --- ligatures: each hyphen stays a hyphen
        elif ch in _LATEX_SPECIALS:
            out.append(_LATEX_SPECIALS[ch])
        elif ch.isascii():
            out.append(ch if ch.isprintable() else " ")
        elif unicodedata.category(ch).startswith(("C", "Z")):  # controls, separators, surrogates
            out.append(" " if ch != "\u00a0" else "~")
        else:
            out.append(_unicode(ch))
    return "".join(out)


def latex_number(x: float | int, digits: int = 10) -> str:
    r"""A number for LaTeX math mode, ``digits`` significant: ``1.5``, ``5.1482\times 10^{-131}``.

    >>> latex_number(5.148200222412013e-131, 5), latex_number(-0.25), latex_number(10**6)
    ('5.1482\\times 10^{-131}', '-0.25', '10^{6}')
    """
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError(f"latex_number() takes an int or float, not {type(x).__name__}")
    if isinstance(x, float) and not math.isfinite(x):
        return {True: r"\infty", False: r"-\infty"}[x > 0] if x == x else r"\mathrm{NaN}"
    text = f"{x:.{digits}g}" if isinstance(x, float) else str(x)
    if abs(x) >= 10**5 and float(f"{x:.0e}") == x:  # a round large number: 10^{6}, 3\times 10^{5}
        text = f"{x:.0e}"
    mantissa, _, exponent = text.partition("e")
    if not exponent:
        return mantissa
    power = f"10^{{{int(exponent)}}}"
    return power if mantissa in ("1", "1.0") else ("-" + power if mantissa == "-1" else rf"{mantissa}\times {power}")


def latex_expr(expr: sp.Basic, names: dict[str, str] | None = None) -> str:
    """``sympy.latex`` with symbols renamed by name (``{"fan_in": "n"}``), whatever their
    assumptions, and long floats (SELU's 32-digit constants) shown to ten digits."""
    expr = sp.sympify(expr)
    expr = expr.xreplace({f: sp.Float(f, 10) for f in expr.atoms(sp.Float) if f._prec > 34})  # ten digits to read
    if not names:
        return sp.latex(expr)
    return sp.latex(expr, symbol_names={s: names[s.name] for s in expr.free_symbols if s.name in names})


_LATEX_REL = {"=": "=", "<=": r"\le", "<": "<", ">=": r"\ge", ">": ">"}


def latex_relation(lhs: sp.Basic, rel: str, rhs: sp.Basic) -> str:
    return f"{sp.latex(lhs)} {_LATEX_REL[rel]} {sp.latex(rhs)}"


def text_relation(lhs: sp.Basic, rel: str, rhs: sp.Basic) -> str:
    return f"{sp.sstr(lhs)} {rel} {sp.sstr(rhs)}"


class Notation(sp.Basic):
    r"""A SymPy object shown in compact notation: ``Notation(value, r"\frac{\partial y}{\partial x}")``.

    It prints as its LaTeX (and as ``text`` in plain text) but *is* ``value`` to every check:
    ``doit()`` returns ``value.doit()``, so a step confirmed on it is confirmed on ``value``.

    >>> n = Notation(sp.Integer(2) + 3, "two plus three", "2 + 3")
    >>> n.doit(), sp.latex(n), str(n)
    (5, 'two plus three', '2 + 3')
    """

    def __new__(cls, value: sp.Basic, latex: str, text: str | None = None):
        return super().__new__(cls, sp.sympify(value), sp.Symbol(latex), sp.Symbol(text or latex))

    @property
    def value(self) -> sp.Basic:
        return self.args[0]

    def doit(self, **hints):
        return self.value.doit(**hints) if hints.get("deep", True) else self.value

    def _latex(self, printer=None, exp=None) -> str:
        text = self.args[1].name
        return text if exp is None else rf"\left({text}\right)^{{{exp}}}"

    def _sympystr(self, printer=None) -> str:
        return self.args[2].name
