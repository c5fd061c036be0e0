r"""Text with inline mathematics, written once and rendered three ways.

A claim's title, statement, assumptions, parameter documentation and proof-step reasons are
written as running text with inline LaTeX math between dollar signs, as in a paper:

>>> s = r"In a ReLU network of width $n$, $\mathbb{E}\,\|h^L\|^2/n = c\,(c/2)^{L-1} q_0$ (50% of $W_{ij}$)."

- :func:`to_latex` gives LaTeX: the text between the formulas escaped, the formulas as written;
- :func:`to_text` gives readable Unicode for the terminal, ``--json`` and ``str()``, through
  pylatexenc's LaTeX-to-text conversion (with the notation of this project added);
- :func:`to_markdown` gives Markdown with MathJax formulas for Jupyter.

>>> print(to_text(s))
In a ReLU network of width n, 𝔼 ‖h^L‖²/n = c (c/2)^(L-1) q₀ (50% of Wᵢⱼ).
>>> print(to_latex(r"50% of $W_{ij}$"))
50\% of $W_{ij}$

:func:`check` refuses text whose dollar signs do not pair up or whose formulas do not parse.
"""

from __future__ import annotations

import re
from functools import cache

from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db
from pylatexenc.latexwalker import LatexCharsNode, LatexGroupNode, LatexMacroNode, LatexWalker
from pylatexenc.latexwalker import get_default_latex_context_db as _walker_db
from pylatexenc.macrospec import MacroSpec

from .printing import latex_text

__all__ = ["check", "split", "to_latex", "to_markdown", "to_text"]

_DOLLAR = re.compile(r"(?<!\\)\$")

_SUPERSCRIPT = str.maketrans("0123456789+-=()nilT", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱˡᵀ")
_SUBSCRIPT = str.maketrans("0123456789+-=()aeijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ")
_SUPERSCRIPTABLE = set("0123456789+-=()nilT")
_SUBSCRIPTABLE = set("0123456789+-=()aeijklmnoprstuvx")

# Notation pylatexenc's default tables drop or spell out (its defaults cover Greek letters and most
# symbols); each is what a reader of the terminal expects to see.
_RELATIONS = {
    "ne": "≠", "neq": "≠", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "to": "→", "mapsto": "↦",
    "approx": "≈", "sim": "~", "propto": "∝", "in": "∈", "notin": "∉", "subset": "⊂", "subseteq": "⊆",
    "times": "×", "otimes": "⊗", "cup": "∪", "cap": "∩", "Rightarrow": "⇒", "iff": "⇔", "implies": "⇒",
    "mid": "|", "ll": "≪", "gg": "≫", "equiv": "≡", "coloneqq": ":=",
}
_SYMBOLS = {
    "|": "‖", "Vert": "‖", "lVert": "‖", "rVert": "‖", "lvert": "|", "rvert": "|", "cdots": "⋯",
    "ldots": "…", "dots": "…", "cdot": "·", "top": "ᵀ", "infty": "∞", "partial": "∂", "nabla": "∇",
    "pm": "±", "mp": "∓", "left": "", "right": "", "big": "", "Big": "", "bigl": "", "bigr": "", "Bigl": "",
    "Bigr": "", ",": " ", ";": " ", ":": " ", "!": "", "quad": "  ", "qquad": "    ", "lfloor": "⌊",
    "rfloor": "⌋", "lceil": "⌈", "rceil": "⌉", "langle": "⟨", "rangle": "⟩", "sum": "∑", "prod": "∏",
    "int": "∫", "emptyset": "∅", "forall": "∀", "exists": "∃", "prime": "′", "ell": "ℓ", "{": "{", "}": "}",
}
_OPERATORS = ("ln", "log", "exp", "det", "min", "max", "sup", "inf", "lim", "tr", "sin", "cos", "tanh", "arccos",
              "arcsin", "arg", "argmin", "argmax")
_ONE_ARGUMENT = ("operatorname", "mathrm", "text", "textrm", "texttt", "mathbf", "boldsymbol", "mathcal", "mathit", "mathsf",
                 "mathbb", "sqrt", "hat", "tilde", "bar", "overline", "widehat", "dot")
_TWO_ARGUMENTS = ("frac", "tfrac", "dfrac", "binom")
_ARGUMENTS = frozenset(_ONE_ARGUMENT + _TWO_ARGUMENTS)


def _argument(node, converter) -> str:
    if node is None:
        return ""
    return converter.nodelist_to_text(node.nodelist if node.isNodeType(LatexGroupNode) else [node]).strip()


def _grouped(text: str) -> str:
    """``text`` in parentheses unless it is one number or one symbol (with its scripts)."""
    one = re.fullmatch(r"\d+(\.\d+)?|[^\W\d_]['′]*[⁰-⁹²³¹ᵀⁿⁱˡ₀-₉ₐₑᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ]*", text)
    return text if one else f"({text})"


def _two(form: str):
    def repl(n, l2tobj) -> str:
        a, b = (_argument(x, l2tobj) for x in n.nodeargd.argnlist[-2:])
        return form.format(_grouped(a), _grouped(b)) if "/" in form else form.format(a, b)
    return repl


def _one(form: str):
    def repl(n, l2tobj) -> str:
        return form.format(_argument(n.nodeargd.argnlist[-1], l2tobj))
    return repl


_MACROS: dict[str, object] = {
    **{name: f" {sym} " for name, sym in _RELATIONS.items()},
    **_SYMBOLS,
    **{name: name for name in _OPERATORS},
    **{name: _one("{}") for name in _ONE_ARGUMENT},
    "sqrt": lambda n, l2tobj: _root(n, l2tobj), "bar": _one("{}̄"), "hat": _one("{}̂"), "tilde": _one("{}̃"),
    "overline": _one("{}̄"), "widehat": _one("{}̂"), "dot": _one("{}̇"),
    "frac": _two("{}/{}"), "tfrac": _two("{}/{}"), "dfrac": _two("{}/{}"), "binom": _two("C({}, {})"),
}


def _root(n, l2tobj) -> str:
    r"""``\sqrt{x}`` as √x, ``\sqrt[3]{x}`` as ∛x, ``\sqrt[k]{x}`` as the k-th root sign with a superscript index."""
    args = n.nodeargd.argnlist
    index = _argument(args[0], l2tobj).strip() if len(args) > 1 and args[0] is not None else ""
    sign = {"": "√", "2": "√", "3": "∛", "4": "∜"}.get(index) or index.translate(_SUPERSCRIPTS) + "√"
    return sign + _grouped(_argument(args[-1], l2tobj))


_SUPERSCRIPTS = str.maketrans("0123456789n", "⁰¹²³⁴⁵⁶⁷⁸⁹ⁿ")
_BLACKBOARD = {"E": "𝔼", "R": "ℝ", "N": "ℕ", "Z": "ℤ", "P": "ℙ", "Q": "ℚ", "C": "ℂ", "1": "𝟙"}


def split(text: str) -> list[tuple[bool, str]]:
    """``text`` as (is_math, chunk) pairs; a ``\\$`` outside math is a literal dollar sign.

    >>> split(r"a $x^2$ b")
    [(False, 'a '), (True, 'x^2'), (False, ' b')]
    """
    if not isinstance(text, str):
        raise TypeError(f"text with math must be a str, not {type(text).__name__}")
    parts = _DOLLAR.split(text)
    if len(parts) % 2 == 0:
        raise ValueError(f"unpaired $ in {text!r}: inline math is written between two dollar signs")
    return [(i % 2 == 1, chunk) for i, chunk in enumerate(parts) if chunk or i % 2 == 1]


def check(text: str) -> str:
    """``text`` itself when its dollar signs pair up and each formula parses; else ValueError."""
    for is_math, chunk in split(text):
        if is_math and not chunk.strip():
            raise ValueError(f"an empty formula $$ in {text!r}")
        if is_math:
            depth = 0
            for ch in re.sub(r"\\[{}]", "", chunk):
                depth += {"{": 1, "}": -1}.get(ch, 0)
                if depth < 0:
                    break
            if depth != 0:
                raise ValueError(f"unbalanced braces in the formula ${chunk}$ of {text!r}")
            _walker(chunk, False).get_latex_nodes()
    return text


def to_latex(text: str) -> str:
    r"""LaTeX: the text escaped (``%``, ``&``, ``_`` ... are literal), each formula as written."""
    return "".join(f"${chunk}$" if is_math else latex_text(chunk.replace(r"\$", "$")) for is_math, chunk in split(text))


def to_markdown(text: str) -> str:
    """Markdown for Jupyter: the formulas as MathJax ``$...$``, Markdown's specials in the text escaped."""
    return "".join(f"${chunk}$" if is_math else re.sub(r"([\\`*_\[\]#<>|])", r"\\\1", chunk.replace(r"\$", "$"))
                   for is_math, chunk in split(text))


def to_text(text: str) -> str:
    """Readable Unicode: each formula converted by pylatexenc with this project's notation."""
    converter = _converter()
    out = []
    for is_math, chunk in split(text):
        out.append(_math_text(converter, chunk) if is_math else chunk.replace(r"\$", "$"))
    text = re.sub(r"[ \t]{2,}", " ", "".join(out)).strip()
    return re.sub(r"([(\[{]) | ([)\]},])", r"\1\2", text)


@cache
def _converter() -> _Converter:
    db = get_default_latex_context_db()
    db.add_context_category("workbench", prepend=True,
                            macros=[MacroTextSpec(name, simplify_repl=text) for name, text in _MACROS.items()])
    return _Converter(latex_context=db, math_mode="text", strict_latex_spaces=True)


@cache
def _parsing_context():
    db = _walker_db()
    db.add_context_category("workbench", prepend=True,
                            macros=[MacroSpec(name, "{") for name in _ONE_ARGUMENT]
                            + [MacroSpec(name, "{{") for name in _TWO_ARGUMENTS] + [MacroSpec("sqrt", "[{")])
    return db


def _walker(chunk: str, tolerant: bool) -> LatexWalker:
    return LatexWalker(chunk, latex_context=_parsing_context(), tolerant_parsing=tolerant)


_KEEP_SPACE = re.compile(r"(\\[A-Za-z]+)(?=\s)")


def _math_text(converter: _Converter, chunk: str) -> str:
    # LaTeX drops the space after a control word; a reader of plain text needs it ("σ = 1", not "σ= 1")
    chunk = _KEEP_SPACE.sub(lambda m: m.group(1) if m.group(1)[1:] in _ARGUMENTS else m.group(1) + "{}", chunk)
    chunk = chunk.replace("'", "′")  # primes, not quotation marks
    chunk = re.sub(r"\\(left|right)\.", "", chunk)  # an invisible delimiter
    nodes = _walker(chunk, True).get_latex_nodes()[0]
    text = converter.nodelist_to_text(nodes).strip()
    return re.sub(r"\s*\n\s*", "; ", text)  # rows of a cases or aligned block, on one line as a reader writes them


def _script(body: str, kind: str) -> str:
    """``body`` as a superscript (``kind`` ``^``) or subscript: Unicode where every character has
    one, else ``^(L-1)`` / ``_in``."""
    table, allowed = (_SUPERSCRIPT, _SUPERSCRIPTABLE) if kind == "^" else (_SUBSCRIPT, _SUBSCRIPTABLE)
    body = body.strip()
    if kind == "^" and body and set(body) <= set("ᵀ′*"):  # a transpose, primes, a star: as they are
        return body
    if body and set(body) <= allowed:
        return body.translate(table)
    if kind == "_" and body.isalnum():
        return f"_{body}"
    return f"{kind}({body})" if len(body) > 1 else f"{kind}{body}"


class _Converter(LatexNodes2Text):
    """pylatexenc's converter with scripts (``^``, ``_``) set as Unicode scripts where they exist,
    and ``\\mathbb`` letters as double-struck characters."""

    def nodelist_to_text(self, nodelist) -> str:
        out: list[str] = []
        pending = ""  # a ^ or _ waiting for its argument (the next node)
        for node in nodelist:
            if node is None:
                continue
            if pending:
                body = self.nodelist_to_text(node.nodelist) if node.isNodeType(LatexGroupNode) else None
                if body is None and node.isNodeType(LatexCharsNode):
                    body, rest = node.chars[:1], node.chars[1:]
                    out.append(_script(body, pending) + self._chars(rest))
                else:
                    out.append(_script(body if body is not None else self.node_to_text(node).strip(), pending))
                pending = ""
                continue
            if node.isNodeType(LatexMacroNode) and node.macroname == "mathbb" and node.nodeargd is not None:
                out.append("".join(_BLACKBOARD.get(ch, ch) for ch in _argument(node.nodeargd.argnlist[-1], self)))
                continue
            if node.isNodeType(LatexCharsNode):
                text = node.chars
                if text.endswith(("^", "_")) and not text.endswith(("\\^", "\\_")):
                    out.append(self._chars(text[:-1]))
                    pending = text[-1]
                else:
                    out.append(self._chars(text))
                continue
            out.append(self.node_to_text(node))
        if pending:
            out.append(pending)
        return "".join(out)

    @staticmethod
    def _chars(text: str) -> str:
        """Scripts inside one run of characters (``h^2``, ``q_0``), one character each."""
        return re.sub(r"([\^_])([A-Za-z0-9])", lambda m: _script(m.group(2), m.group(1)), text)
