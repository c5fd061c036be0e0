r"""LaTeX for papers: a theorem per claim, its proof step by step, a verification table,
figures and the bibliography.

Everything here returns text; :mod:`workbench.export` writes the files and compiles them.
Texts (titles, statements, reasons, captions) are text with inline math, rendered by
:func:`proofs.mathtext.to_latex`; other plain text (ids, parameter values, file names) goes
through :func:`proofs.latex_text`; formulas come from SymPy.

>>> import workbench as wb
>>> print(theorem(wb.claim("xent.margin")).splitlines()[0])
\begin{theorem}[{Softmax cross-entropy is the margin loss $\ln(1 + e^m)$} \citep{bridle1990,goodfellow2016}]\label{thm:xent.margin}
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import sympy as sp

from proofs import Derivation, Source, latex_expr, latex_number, latex_text
from proofs.mathtext import to_latex
from proofs.printing import LATEX_RELATIONS

from ._version import __version__
from .claim_type import Claim, Correction
from .displays import abbreviations, display
from .figures.style import COLUMN_WIDTH
from .files import MARKER
from .verdict import Verdict

__all__ = [
    "coded",
    "PREAMBLE",
    "DOCUMENT_PREAMBLE",
    "preamble_file",
    "header",
    "theorem",
    "proof",
    "statement_math",
    "verification_table",
    "figure_block",
    "claim_section",
    "document",
    "bibliography",
    "sources_of",
]

# What a fragment needs in the preamble of the paper that \input's it (written as OUT-preamble.tex):
# packages without options, so that a paper loading them too gets no option clash, and the theorem
# environment only where the paper has none of its own.
PREAMBLE = r"""\usepackage{amsmath,amssymb,amsthm,mathtools}
\usepackage{booktabs}
\usepackage{graphicx}
\usepackage{float}
\usepackage{natbib}
\usepackage{url}
\ifdefined\theorem\else\theoremstyle{plain}\newtheorem{theorem}{Theorem}\fi
\ifdefined\lemma\else\theoremstyle{plain}\newtheorem{lemma}{Lemma}\fi
\providecommand{\doi}[1]{doi:\,\url{#1}}
\allowdisplaybreaks"""
# The whole document's own preamble: fonts, then the fragment's packages (natbib with numbers).
DOCUMENT_PREAMBLE = "\\usepackage[T1]{fontenc}\n\\usepackage{lmodern}\n" + PREAMBLE.replace(
    "\\usepackage{natbib}", "\\usepackage[numbers]{natbib}")


def header(what: str) -> str:
    """The first line of every file the workbench writes: its ownership marker."""
    return f"% {MARKER} by workbench {__version__}: {what}. Regenerate it rather than editing it by hand.\n"


def _cite(keys: Iterable[str], command: str = "citep") -> str:
    keys = list(dict.fromkeys(keys))
    return rf"\{command}{{{','.join(keys)}}}" if keys else ""


def _citet(source: Source) -> str:
    return _cite([source.key], "citet")


def display_names(c: Claim) -> dict[str, str]:
    """LaTeX for the claim's parameter symbols, by name (``fan_in`` -> ``n``, ``depth`` -> ``L``)."""
    return {p.name: p.latex for p in c.parameters if p.latex}


def math(c: Claim, expr: sp.Basic) -> str:
    r"""``expr`` in LaTeX with the parameters' own symbols, and choices by name rather than
    code (``\phi = \texttt{tanh}``, not ``activation = 4``)."""
    relabel, names = coded(c)
    return latex_expr(relabel(sp.sympify(expr)), names)


def coded(c: Claim) -> tuple[Callable[[sp.Basic], sp.Basic], dict[str, str]]:
    r"""A rewrite of ``parameter = code`` into ``parameter = name`` for the claim's coded choices
    (``activation = 4`` -> ``\phi = \texttt{tanh}``), and the LaTeX names it needs."""
    names = dict(display_names(c))
    pairs = []
    for p in c.parameters:
        for choice, code in zip(p.choices, p.codes, strict=True) if p.codes else ():
            label = sp.Symbol(f"zz_{p.name}_{choice}")  # sorts after the parameter, so it prints on the right
            names[label.name] = rf"\texttt{{{latex_text(choice)}}}"
            pairs.append((p.name, code, label))

    def relabel(expr: sp.Basic) -> sp.Basic:
        expr = sp.sympify(expr)
        for name, code, label in pairs:
            expr = expr.xreplace({sp.Eq(sym, code): sp.Eq(sym, label) for sym in expr.free_symbols
                                  if getattr(sym, "name", None) == name})
        return expr

    return relabel, names


def statement_math(c: Claim) -> str:
    """``lhs = closed form`` in LaTeX (the derivation's conclusion, or the mutated form)."""
    d = c.derivation
    relabel, names = coded(c)
    return display(d, d.conclusion.lhs, d.conclusion.rel, c.closed_form, names, relabel)


def _domains(c: Claim) -> str:
    parts = [f"${p.domain_latex}$" for p in c.parameters if not p.setting]
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def where(c: Claim) -> str:
    """The sentence that names the theorem's symbols: ``where $n$ is the width of every layer, ...``."""
    named = [rf"${p.tex}$ is {to_latex(p.doc)}" for p in c.parameters if not p.setting]
    if not named:
        return "."
    return "where " + ("; ".join(named[:-1]) + " and " + named[-1] if len(named) > 1 else named[0]) + "."


def theorem(c: Claim) -> str:
    """The claim as a theorem, labelled ``thm:<id>``: its statement, the domains of its
    parameters, the derivation's assumptions, and the closed form displayed."""
    cites = _cite(s.key for s in c.sources)
    lines = [rf"\begin{{theorem}}[{{{to_latex(c.title)}}} {cites}]\label{{thm:{c.id}}}"]
    lines.append(rf"(\texttt{{{latex_text(c.id)}}}) {to_latex(c.statement)}")
    assumptions = c.derivation.assumptions
    if assumptions:
        lines.append("Assume " + "; ".join(to_latex(a) for a in assumptions) + ".")
    domains = _domains(c)
    lines.append((f"For {domains}," if domains else "Then") + r" \[ " + statement_math(c) + r", \]")
    lines.append(where(c))
    _, names = coded(c)
    if c.derivation.abbreviations:
        lines.append(abbreviations(c.derivation, names))
    if c.mutated:
        lines.append(r"\textbf{This closed form was deliberately altered (a mutation test); it is not the derived one.}")
    lines.append(r"\end{theorem}")
    return "\n".join(lines)


_REL = LATEX_RELATIONS


def proof(d: Derivation, names: dict[str, str] | None = None,
          relabel: Callable[[sp.Basic], sp.Basic] | None = None) -> str:
    """The derivation as a proof: each step's justification (its reason, its premises by number,
    a cited reference) above the step, the steps aligned as one chain with how each stands (SymPy's
    method, cited, hypothesis, definition) small on the right, then the conclusion. ``names`` maps
    symbol names to their LaTeX and ``relabel`` rewrites coded choices (a claim's parameters)."""
    relabel = relabel or (lambda e: e)
    rows = []
    shown = lambda e: relabel(d.abbreviate(e))  # noqa: E731
    for i, (head, body, reason, note) in enumerate(d.latex_rows(cite=_citet, names=names, relabel=shown), 1):
        rows.append(rf"\shortintertext{{\small ({i}) {reason}}}")
        rows.append(rf"{head} &{body} \tag*{{\scriptsize {note}}} \\")
    c = d.conclusion
    return "\n".join(
        [
            r"\begin{proof}",
            rf"{to_latex(d.title)}. {latex_text(d.summary)}.",
            r"\begin{align*}",
            *rows,
            r"\end{align*}",
            # the conclusion displayed: a long one (a case split, a chain of bounds) never runs past the margin
            rf"Therefore, {d.premises_text(c)}, \[ {display(d, c.lhs, c.rel, c.rhs, names, relabel)}"
            + (r". \qedhere \]" if c.status == "checked" else rf", \] resting on the cited {latex_text('; '.join(d.cited))}.")
            + (" " + abbreviations(d, names) if d.abbreviations else ""),
            r"\end{proof}",
            *[rf"\par\noindent\textit{{Remark ({d.number(r)}).}} $\displaystyle {latex_expr(relabel(r.lhs), names)} "
              rf"{_REL[r.rel]} {latex_expr(relabel(r.rhs), names)}$ ({d.latex_reason(r, _citet, aside=False)})." for r in d.remarks],
        ]
    )


def _math(x: float | int | None, digits: int = 10) -> str:
    return "--" if x is None else f"${latex_number(x, digits)}$"


def _parameters(c: Claim, values: dict) -> str:
    cells = []
    for name, value in values.items():
        p = c.parameter(name)
        shown = latex_number(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else rf"\texttt{{{latex_text(value)}}}"
        cells.append(f"${p.tex} = {shown}$")
    return ", ".join(cells) or "none"


_CHECK = {"exact": "exact", "statistical": "Monte Carlo", "asymptotic": "extrapolated Monte Carlo"}


def verification_table(c: Claim, v: Verdict) -> str:
    """A booktabs table of one verifier run, labelled ``tab:verify:<id>``."""
    scale = "relative" if v.scale == "relative" else "absolute"
    stat = ("standard error", _math(v.stderr, 3)) if v.kind != "exact" else ("tolerance (exact check)", _math(v.tolerance, 3))
    verdict = {"pass": r"\textbf{pass}", "fail": r"\textbf{FAIL}", "inconclusive": r"\textbf{inconclusive}"}[v.status]
    rows = [
        ("parameters", _parameters(c, v.parameters)),
        ("expected (closed form)", _math(v.expected)),
        ("estimate", _math(v.estimate)),
        stat,
        ("resolution", f"{_math(v.resolution, 2)} ({scale})"),
        ("replicates", _math(v.replicates)),
        ("backend", latex_text(f"{v.backend} ({v.dtype})")),
        ("seed", _math(v.seed)),
        ("verdict", rf"{verdict} at level ${latex_number(v.alpha, 3)}$"),
    ]
    if c.limit is not None:  # the sweep the limit was extrapolated from
        arrow = r"\infty" if c.limit.towards == "infinity" else "0"
        rows[2] = ("estimate", rf"{_math(v.estimate)} (extrapolated to ${c.limit.tex} \to {arrow}$)")
        rows[3:3] = [
            (rf"at ${c.limit.tex} = {latex_number(p['x'])}$",
             rf"${latex_number(p['estimate'], 8)} \pm {latex_number(p['stderr'], 2)}$ ({p['replicates']} replicates)")
            for p in v.sweep
        ]
        order = (v.fit or {}).get("order", c.limit.order or 1.0)
        rows[-1:-1] = [
            (rf"coefficient of ${c.limit.correction_latex(d['term'], order)}$",
             rf"derived ${latex_number(d['expected'], 6)}$ (Lemma~\ref{{lem:{c.id}:{d['term']}}}), fitted "
             rf"${latex_number(d['estimate'], 4)} \pm {latex_number(d['stderr'], 2)}$")
            for d in (v.fit or {}).get("derived", [])
        ]
    marks = [chr(ord("a") + i) if i < 26 else str(i + 1) for i in range(len(v.notes))]
    if marks:  # the notes are the table's footnotes, marked on the verdict
        rows[-1] = ("verdict", rows[-1][1] + rf" \textsuperscript{{{marks[0]}{'--' + marks[-1] if len(marks) > 1 else ''}}}")
    notes = [rf"\textsuperscript{{{m}}}\,{to_latex(n)}\par" for m, n in zip(marks, v.notes, strict=True)]
    body = "\n".join(rf"{k} & {val} \\" for k, val in rows)
    return "\n".join(
        [
            r"\begin{table}[H]",
            r"\centering\small",
            rf"\caption{{Verification of Theorem~\ref{{thm:{c.id}}} (\texttt{{{latex_text(c.id)}}}): the "
            rf"{_CHECK[c.kind]} check against the closed form"
            + (rf" (evaluated by {latex_text(v.reference)})" if v.reference else "") + ".}",
            rf"\label{{tab:verify:{c.id}}}",
            r"\begin{tabular}{@{}ll@{}}",
            r"\toprule",
            r"quantity & value \\",
            r"\midrule",
            body,
            r"\bottomrule",
            r"\end{tabular}",
            *([r"\par\smallskip\begin{minipage}{0.92\linewidth}\footnotesize\raggedright", *notes, r"\end{minipage}"]
              if notes else []),
            r"\end{table}",
        ]
    )


def figure_block(c: Claim, filename: str, caption: str) -> str:
    """An ``\\includegraphics`` of a figure file beside the .tex, labelled ``fig:<id>``."""
    return "\n".join(
        [
            r"\begin{figure}[!htbp]",
            r"\centering",
            rf"\includegraphics[width=\ifdim\linewidth<{COLUMN_WIDTH}in \linewidth\else {COLUMN_WIDTH}in\fi]{{{filename}}}",
            rf"\caption{{Theorem~\ref{{thm:{c.id}}}: {to_latex(caption)}}}",
            rf"\label{{fig:{c.id}}}",
            r"\end{figure}",
        ]
    )


def correction_lemma(c: Claim, k: Correction, names: dict[str, str], relabel: Callable[[sp.Basic], sp.Basic]) -> str:
    """A derived correction coefficient of an asymptotic claim as a lemma (labelled
    ``lem:<id>:<term>``) with its proof; every verdict tests it beside the limit."""
    lim = c.limit
    assert lim is not None
    d = k.derive()
    term = lim.correction_latex(k.term, lim.order or 1.0)
    value = latex_expr(relabel(k.coefficient), names)
    lines = [rf"\begin{{lemma}}[{{{to_latex(d.title)}}}]\label{{lem:{c.id}:{k.term}}}",
             rf"In the expansion of the quantity of Theorem~\ref{{thm:{c.id}}} in powers of ${lim.tex}$, "
             rf"the coefficient of ${term}$ is \[ {value}. \]",
             *([r"\textbf{This coefficient was deliberately altered (a mutation test); it is not the derived one.}"]
               if k.override is not None else []),
             r"The verifier tests the fitted coefficient against it.",
             r"\end{lemma}"]
    return "\n".join(lines) + "\n\n" + proof(d, names, relabel)


def claim_section(c: Claim, verdict: Verdict | None = None, figure: tuple[str, str] | None = None) -> str:
    """Theorem, proof, the lemmas of its derived corrections, and (when given) the verification
    table and the figure of one claim."""
    relabel, names = coded(c)
    parts = [theorem(c), proof(c.derivation, names, relabel), *(correction_lemma(c, k, names, relabel)
                                                                for k in c.corrections)]
    if verdict is not None:
        parts.append(verification_table(c, verdict))
    if figure is not None:
        parts.append(figure_block(c, *figure))
    return "\n\n".join(parts)


def sources_of(claims: Sequence[Claim]) -> list[Source]:
    """Every source the claims cite (their own and their derivations' cited steps), once each."""
    seen: dict[str, Source] = {}
    for c in claims:
        for s in (*c.sources, *c.derivation.sources):
            if s.key in seen and seen[s.key] != s:
                raise ValueError(f"two different sources share the citation key {s.key!r}")
            seen.setdefault(s.key, s)
    return list(seen.values())


def preamble_file() -> str:
    """``OUT-preamble.tex`` of a fragment: the packages it needs, to ``\\input`` in a paper's preamble."""
    return header("LaTeX preamble of a fragment") + PREAMBLE + "\n"


def bibliography(claims: Sequence[Claim]) -> str:
    """The .bib file: one entry per cited source."""
    return header("bibliography") + "\n" + "\n\n".join(s.bibtex for s in sources_of(claims)) + "\n"


def document(
    claims: Sequence[Claim],
    sections: Sequence[str],
    *,
    bib: str,
    fragment: bool = False,
    title: str = "Claims derived and verified by the workbench",
    names: tuple[str, str, str] | None = None,
) -> str:
    """The whole .tex: preamble, one section per claim, bibliography (``bib`` is the .bib
    file's name without extension). A fragment has no preamble and no document environment."""
    ids = ", ".join(latex_text(c.id).replace(".", r".\allowbreak{}") for c in claims)  # a long id may break at its dot
    intro = (
        rf"This document states {len(claims)} claim{'s' if len(claims) != 1 else ''} ({ids}). "
        r"Each proof step was either checked by SymPy (the reason says how) or is marked "
        r"\textbf{cited} with its reference; each verification table is a real run of the workbench's verifier."
    )
    body = "\n\n".join(sections)
    biblio = r"\bibliographystyle{plainnat}" + "\n" + rf"\bibliography{{{bib}}}"
    if fragment:  # a guest in someone else's paper: no bibliography of its own
        preamble, this, bibfile = names or (f"{bib}-preamble", bib, bib)  # as the paper's folder names them
        return (header("LaTeX fragment") + f"% In your paper: \\input{{{preamble}}} in the preamble, \\input{{{this}}} where "
                f"the claims go, and add {bibfile} to your \\bibliography{{...}}.\n\n" + body + "\n")
    return "\n".join(
        [
            header("LaTeX document").rstrip("\n"),
            r"\documentclass[11pt]{article}",
            r"\usepackage[margin=2.5cm]{geometry}",
            DOCUMENT_PREAMBLE,
            r"\ifdefined\pdfobjcompresslevel\pdfobjcompresslevel=0\fi % keep the PDF's Info (its marker) readable",
            # the marker as a raw key of the PDF's Info (hyperref writes its own keys in UTF-16)
            rf"\ifdefined\pdfinfo\pdfinfo{{/WorkbenchMarker ({MARKER} by workbench {__version__})}}\fi",
            r"\usepackage{hyperref}",
            rf"\hypersetup{{pdfcreator={{{MARKER} by workbench {__version__}}}, pdftitle={{{latex_text(title)}}}}}",
            rf"\title{{{latex_text(title)}}}",
            rf"\author{{workbench {__version__}}}",
            r"\begin{document}",
            r"\maketitle",
            intro,
            "",
            body,
            "",
            r"\clearpage % every figure is placed before the references begin",
            biblio,
            r"\end{document}",
            "",
        ]
    )
