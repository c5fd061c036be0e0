"""Plain text and LaTeX rendering of derivations.

One escaping function for text entering LaTeX (:func:`latex_text`); SymPy objects
go through ``sympy.latex`` / ``sympy.sstr``. Types define ``_latex(printer)`` so that
``sympy.latex(obj)`` and ``obj._repr_latex_()`` share this code.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable

import sympy as sp
from sympy.printing.latex import LatexPrinter

__all__ = [
    "Notation", "function", "indexed", "latex_expr", "latex_number", "latex_relation", "latex_text", "symbol", "symbol_latex",
    "text_relation", "LINE", "LATEX_RELATIONS", "width", "latex_lines",
]

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


# The LaTeX of symbols whose names are not LaTeX (``E||h^l||^2``), registered where they are made.
_NAMES: dict[str, str] = {}
# Words that are labels, not products of variables, when they appear as a subscript: n_in -> n_{\mathrm{in}}.
_WORDS = frozenset({"in", "out", "max", "min", "eff", "ls", "init", "tot", "opt", "fit", "ref", "cr", "crit"})
_PLAIN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)?'*")


def symbol(name: str, latex: str | None = None, **assumptions) -> sp.Symbol:
    r"""A SymPy symbol whose LaTeX is ``latex`` wherever it is printed:
    ``symbol("E||h^l||^2", r"\mathbb{E}\,\|h^l\|^2", positive=True)``."""
    if latex is not None:
        _register(name, latex)
    return sp.Symbol(name, **assumptions)


def indexed(name: str, latex: str | None = None, **assumptions) -> sp.IndexedBase:
    r"""An indexed base (``W[i, j]``) whose label prints as ``latex``: ``indexed("h^(l-1)", "h^{l-1}")``."""
    if latex is not None:
        _register(name, latex)
    return sp.IndexedBase(name, **assumptions)


def function(name: str, latex: str, **assumptions) -> type[sp.Function]:
    r"""An undefined SymPy function whose name prints as ``latex``: ``function("E", r"\mathbb{E}")``
    prints ``E(x)`` as :math:`\mathbb{E}(x)`."""
    if _FUNCTIONS.setdefault(name, latex) != latex:
        raise ValueError(f"the function {name!r} already prints as {_FUNCTIONS[name]!r}, not {latex!r}")
    return sp.Function(name, **assumptions)


_FUNCTIONS: dict[str, str] = {}


def _register(name: str, latex: str) -> None:
    if _NAMES.setdefault(name, latex) != latex:
        raise ValueError(f"the symbol {name!r} already prints as {_NAMES[name]!r}, not {latex!r}")


def symbol_latex(name: str) -> str | None:
    r"""The LaTeX of a symbol's name: the registered one, else ``n_in`` -> ``n_{\mathrm{in}}``, a
    multi-letter name upright (``relu`` -> ``\mathrm{relu}``), Greek names as letters; None for
    a name that is not LaTeX and was never registered (it would print mangled).

    >>> symbol_latex("n_in"), symbol_latex("Sigma_xx"), symbol_latex("q0"), symbol_latex("W'")
    ('n_{\\mathrm{in}}', '\\Sigma_{xx}', 'q_{0}', "W'")
    """
    if name in _NAMES:
        return _NAMES[name]
    if not _PLAIN_NAME.fullmatch(name):
        return None
    base, _, sub = name.rstrip("'").partition("_")
    primes = name[len(name.rstrip("'")):]
    digits = re.search(r"\d+$", base)
    if digits and not sub:
        base, sub = base[: digits.start()], digits.group()
    if base in _GREEK_MACROS or base.lower() in ("lambda", "lamda"):
        head = "\\" + base
    elif len(base) > 1 and base not in ("ln", "log"):
        head = rf"\mathrm{{{base}}}"
    else:
        head = base
    if sub:
        tail = rf"\mathrm{{{sub}}}" if sub in _WORDS or (len(sub) > 2 and sub.isalpha()) else sub
        return f"{head}_{{{tail}}}{primes}"
    return head + primes


def latex_expr(expr: sp.Basic, names: dict[str, str] | None = None) -> str:
    """``sympy.latex`` with every symbol printed by :func:`symbol_latex`, or renamed by name
    (``{"fan_in": "n"}``, a claim's parameters), whatever its assumptions; long floats (SELU's
    32-digit constants) shown to ten digits."""
    expr = sp.sympify(expr)
    expr = expr.xreplace({f: sp.Float(f, 10) for f in expr.atoms(sp.Float) if f._prec > 34})  # ten digits to read
    names = names or {}
    symbol_names = {}
    for s in expr.atoms(sp.Symbol):
        shown = names.get(s.name) or symbol_latex(s.name)
        if shown is not None:
            symbol_names[s] = shown
    return _Printer({"symbol_names": symbol_names}).doprint(expr)


LINE = 62  # about the characters of mathematics a display line of a one-column paper holds


def width(latex: str) -> int:
    """A rough width of ``latex`` in characters: without control words, braces and script marks, a fraction
    counted by its wider part and a case split by its widest row (what a reader's eye spans, for deciding where to
    break a display)."""
    fracs = re.compile(r"\\frac\{([^{}]*)\}\{([^{}]*)\}")
    cases = re.compile(r"\\begin\{(cases|aligned|array)\}((?:(?!\\begin\{).)*?)\\end\{\1\}", re.S)  # innermost first
    while fracs.search(latex) or cases.search(latex):
        latex = fracs.sub(lambda m: max(m.group(1), m.group(2), key=len), latex)
        latex = cases.sub(lambda m: max(m.group(2).split(r"\\"), key=width), latex)  # rows stack: the widest
    return len(re.sub(r"\\[A-Za-z]+|[{}^_&]|\\[,;:!]", "", latex).replace(" ", "")) + latex.count(" ") // 3


def latex_lines(expr: sp.Basic, names: dict[str, str] | None = None, budget: int = LINE) -> list[str]:
    """``expr`` in LaTeX, as one line, or, for a sum wider than ``budget`` (:func:`width`), as several lines of
    its terms in SymPy's order, each within the budget where one term allows (the later ones begin with their
    sign)."""
    whole = latex_expr(expr, names)
    if not isinstance(expr, sp.Add) or width(whole) <= budget:
        return [whole]
    lines: list[str] = []
    for term in expr.as_ordered_terms():
        text = latex_expr(term, names)
        joined = text if text.startswith("-") else "+ " + text
        if lines and width(lines[-1] + joined) <= budget:
            lines[-1] += " " + joined
        else:
            lines.append(joined if lines else text)
    return lines


class _Printer(LatexPrinter):
    """SymPy's LaTeX printer, with a power of an indexed symbol whose base carries a superscript
    (``h^l``) in parentheses: :math:`(h^l_i)^2`, not :math:`h^{l}{}_i^2`."""

    def _print_Function(self, expr, exp=None):
        name = type(expr).__name__
        if name not in _FUNCTIONS:
            return super()._print_Function(expr, exp)
        args = ", ".join(self._print(a) for a in expr.args)
        head = rf"{_FUNCTIONS[name]}\left({args}\right)"
        return head if exp is None else rf"\left({head}\right)^{{{exp}}}"

    def _print_Heaviside(self, expr, exp=None):
        """The indicator of ``x > 0`` (``x >= 0`` when the value at 0 is 1), not SymPy's theta(x, h0)."""
        x = expr.args[0]
        at_zero = expr.args[1] if len(expr.args) > 1 else None
        rel = r"\ge" if at_zero == 1 else ">"
        text = rf"\mathbf{{1}}\{{{self._print(x)} {rel} 0\}}"
        return text if exp is None else rf"\left({text}\right)^{{{exp}}}"

    def _print_Pow(self, expr, **kwargs):
        base = expr.base
        if isinstance(base, sp.Indexed) and "^" in self._print(base.base) and expr.exp.is_Integer:
            return rf"\left({self._print(base)}\right)^{{{self._print(expr.exp)}}}"
        return super()._print_Pow(expr, **kwargs)


LATEX_RELATIONS = {"=": "=", "<=": r"\le", "<": "<", ">=": r"\ge", ">": ">"}


def latex_relation(lhs: sp.Basic, rel: str, rhs: sp.Basic, names: dict[str, str] | None = None,
                   relabel: Callable[[sp.Basic], sp.Basic] | None = None) -> str:
    """``lhs rel rhs`` in LaTeX; ``names`` as in :func:`latex_expr`, ``relabel`` rewrites each side first."""
    if relabel is not None:
        lhs, rhs = relabel(lhs), relabel(rhs)
    return f"{latex_expr(lhs, names)} {LATEX_RELATIONS[rel]} {latex_expr(rhs, names)}"


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
