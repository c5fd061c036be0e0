"""Text and LaTeX for claims and verdicts (derivations print themselves, in proofs).

Texts are written with inline math (:mod:`proofs.mathtext`): Unicode in the terminal, LaTeX in
notebooks and papers.
"""

from __future__ import annotations

import math

import sympy as sp

from proofs import latex_text
from proofs.mathtext import to_latex, to_text

from .claim_type import Claim
from .faces import provide
from .tex import math as tex_math
from .tex import statement_math
from .verdict import Verdict

__all__ = ["number", "resolution_text", "parameters_text", "claim_text", "claim_latex", "verdict_text", "verdict_latex"]


def number(x: float, digits: int = 10) -> str:
    if x is None:
        return "-"
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    return f"{x:.{digits}g}"


def resolution_text(v: Verdict) -> str:
    if v.scale == "relative":
        return f"{v.resolution:.2g} rel"
    return f"{v.resolution:.2g} abs"


def parameters_text(params: dict) -> str:
    return ", ".join(f"{k}={number(v, 6) if isinstance(v, float) else v}" for k, v in params.items())


def claim_text(c: Claim) -> str:
    lines = [f"{c.id} ({c.kind}): {to_text(c.title)}", f"  {to_text(c.statement)}"]
    shown = to_text(f"${tex_math(c, c.closed_form)}$").replace("\n", "\n               ")  # the cases of a piecewise form
    lines.append(f"  closed form: {shown}" + ("  [MUTATED]" if c.mutated else ""))
    for p in c.parameters:
        lines.append(f"  parameter {p.name} = {p.default}: {to_text(p.doc)} ({p.domain})")
    if c.limit is not None:
        lim = c.limit
        order = "fitted order" if lim.order is None else ", ".join(lim.correction_text(k, lim.order) for k in range(1, lim.terms + 1))
        lines.append(
            f"  limit {lim.name} -> {'oo' if lim.towards == 'infinity' else '0'}"
            + (f" ({lim.description})" if lim.description else "")
            + f": swept over {', '.join(str(x) for x in lim.sweep)}, corrections {order}"
        )
    lines += [f"  source: {s}" for s in c.sources]
    return "\n".join(lines)


def claim_latex(c: Claim) -> str:
    """The claim for a notebook: id, title, and the theorem's formula with its domains."""

    domains = ", ".join(p.domain_latex for p in c.parameters)
    return (
        rf"\textbf{{{latex_text(c.id)}}} ({to_latex(c.title)}): "
        rf"$\displaystyle {statement_math(c)}$" + (rf" \quad for ${domains}$" if domains else "")
    )


def verdict_text(v: Verdict) -> str:
    status = v.status.upper()
    stat = f"stderr {number(v.stderr, 3)}, z {number(v.z, 3)}" if v.kind != "exact" else f"tolerance {number(v.tolerance, 3)}"
    return (
        f"{status} {v.id} [{parameters_text(v.parameters)}]: expected {number(v.expected)}, "
        f"estimate {number(v.estimate)} ({stat}); resolution {resolution_text(v)}; "
        f"{v.replicates} replicate(s), {v.backend}, seed {v.seed}, {v.seconds:.2f} s"
        + "".join(f"\n  note: {to_text(n)}" for n in v.notes)
    )


def verdict_latex(v: Verdict) -> str:
    status = {"pass": r"\checkmark", "fail": r"\times", "inconclusive": r"\text{(inconclusive)}"}[v.status]
    return (
        rf"$\text{{{latex_text(v.id)}}}: \ {sp.latex(sp.Float(v.expected, 10))}"
        rf" \text{{ vs }} {sp.latex(sp.Float(v.estimate, 10))} \pm {sp.latex(sp.Float(v.stderr, 3))}"
        rf",\ \text{{resolution }} {sp.latex(sp.Float(v.resolution, 2))}\ {status}$"
    )


for _name, _renderer in (("claim_text", claim_text), ("claim_latex", claim_latex), ("verdict_text", verdict_text),
                         ("verdict_latex", verdict_latex)):
    provide(_name, _renderer)
