"""Derivations: ordered steps, each confirmed by SymPy or openly cited.

A :class:`Step` states ``lhs rel rhs`` with a human reason and a status:

- ``checked``: SymPy confirmed it when the step was built (see :mod:`proofs.checks`);
  a step SymPy cannot confirm raises :class:`~proofs.checks.StepNotChecked`;
- ``cited``: a named theorem with a :class:`~proofs.sources.Source`;
- ``definition``: introduces notation (nothing to check).

A :class:`Derivation` ends in a conclusion that must follow from its steps by
transitivity (a chain ``a = b <= c`` concludes ``a <= c``); its right-hand side is
the claim's closed form.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import sympy as sp

from .checks import StepNotChecked, confirm_critical_set, confirm_equal, confirm_relation, confirm_solutions
from .printing import latex_expr, latex_relation, latex_text, text_relation
from .sources import Source

__all__ = [
    "Step",
    "Derivation",
    "DerivationError",
    "define",
    "equal",
    "equal_by_cases",
    "equal_entrywise",
    "relation",
    "substitute",
    "solutions",
    "cite",
]

RELATIONS = ("=", "<=", "<", ">=", ">")
_SYMPY_REL = {"=": sp.Eq, "<=": sp.Le, "<": sp.Lt, ">=": sp.Ge, ">": sp.Gt}


class DerivationError(ValueError):
    """A derivation whose conclusion does not follow from its steps."""


@dataclass(frozen=True, eq=False)
class Step:
    """One line ``lhs rel rhs`` of a derivation, with its reason and how it was confirmed."""

    lhs: sp.Basic
    rel: str
    rhs: sp.Basic
    reason: str
    status: str  # "checked" | "cited" | "definition"
    how: str
    source: Source | None = None
    condition: str | None = None

    def __post_init__(self) -> None:
        if self.rel not in RELATIONS:
            raise ValueError(f"rel={self.rel!r} is not one of {RELATIONS}")
        if self.status not in ("checked", "cited", "definition"):
            raise ValueError(f"status={self.status!r} is not checked, cited or definition")
        if self.status == "cited" and self.source is None:
            raise ValueError("a cited step needs a source")

    @property
    def statement(self) -> sp.Basic:
        return _SYMPY_REL[self.rel](self.lhs, self.rhs, evaluate=False)

    @property
    def justification(self) -> str:
        """Why the step holds, as shown in every report."""
        if self.status == "checked":
            text = f"checked by SymPy ({self.how})"
        elif self.status == "cited":
            text = f"cited: {self.how}, {self.source.short}"
        else:
            text = "definition"
        return f"{self.reason}; {text}" if self.reason else text

    def __str__(self) -> str:
        cond = f"  [{self.condition}]" if self.condition else ""
        return f"{text_relation(self.lhs, self.rel, self.rhs)}{cond}    ({self.justification})"

    def latex_reason(self, cite: Callable[[Source], str] | None = None) -> str:
        """The justification in LaTeX text mode; a cited step is marked in bold and cites."""
        if self.status != "cited":
            return latex_text(self.justification)
        ref = cite(self.source) if cite else latex_text(self.source.short)
        text = rf"\textbf{{cited}}: {latex_text(self.how)}, {ref}"
        return rf"{latex_text(self.reason)}; {text}" if self.reason else text

    def _latex(self, printer=None) -> str:
        return latex_relation(self.lhs, self.rel, self.rhs)


def define(lhs: sp.Basic, rhs: sp.Basic, reason: str = "") -> Step:
    """Introduce notation: ``lhs := rhs``."""
    return Step(sp.sympify(lhs), "=", sp.sympify(rhs), reason, "definition", "definition")


def equal(lhs: sp.Basic, rhs: sp.Basic, reason: str = "", *, condition: str | None = None) -> Step:
    """A checked equality; unevaluated Derivative/Limit/Integral/Sum on a side are carried out.

    >>> x = sp.Symbol("x", real=True)
    >>> equal(sp.Limit(sp.sin(x) / x, x, 0), 1).how
    'evaluate, identical'
    >>> equal(x + 1, x)
    Traceback (most recent call last):
    ...
    proofs.checks.StepNotChecked: SymPy could not confirm x + 1 = x
    """
    lhs, rhs = sp.sympify(lhs), sp.sympify(rhs)
    return Step(lhs, "=", rhs, reason, "checked", confirm_equal(lhs, rhs), condition=condition)


def equal_entrywise(lhs: sp.Basic, rhs: sp.Basic, reason: str = "", *, condition: str | None = None) -> Step:
    """A checked matrix equality: both sides evaluated (``doit``), then every entry confirmed by
    :func:`proofs.checks.confirm_equal` (SymPy's scalar confirmer); raises if any entry is not.

    >>> a = sp.Symbol("a")
    >>> equal_entrywise(sp.ImmutableMatrix([[a, 0]]) * 2, sp.ImmutableMatrix([[2 * a, 0]])).how
    'entrywise, 2 entries: identical'
    """
    left, right = sp.ImmutableMatrix(sp.sympify(lhs).doit()), sp.ImmutableMatrix(sp.sympify(rhs).doit())
    if left.shape != right.shape:
        raise StepNotChecked(f"shapes differ: {left.shape} and {right.shape}")
    methods = [confirm_equal(a, b) for a, b in zip(left, right, strict=True)]
    how = f"entrywise, {len(methods)} entries: " + ", ".join(dict.fromkeys(methods))
    return Step(sp.sympify(lhs), "=", sp.sympify(rhs), reason, "checked", how, condition=condition)


def substitute(expr: sp.Basic, mapping: dict, reason: str = "", *, condition: str | None = None) -> Step:
    """Replace symbols by what a definition or a hypothesis says they are.

    The step records the substitution it made; SymPy performs it, so the right-hand
    side is exactly ``expr.subs(mapping)``.
    """
    expr = sp.sympify(expr)
    rhs = expr.subs(mapping)
    if rhs == expr:  # a pattern under a bound index (a summand z[j]) is replaced structurally
        rhs = expr.xreplace(mapping)
    if rhs == expr:
        raise StepNotChecked(f"substituting {mapping} leaves {expr} unchanged")
    how = "substitution " + ", ".join(f"{sp.sstr(k)} -> {sp.sstr(v)}" for k, v in mapping.items())
    return Step(expr, "=", rhs, reason, "checked", how, condition=condition)


_CASES = {
    "sign": (("nonnegative", ">= 0"), ("negative", "< 0")),
}


def equal_by_cases(lhs: sp.Basic, rhs: sp.Basic, var: sp.Symbol, reason: str = "") -> Step:
    """A checked equality for real ``var``, confirmed separately for ``var >= 0`` and ``var < 0``
    (the two cases cover the real line)."""
    lhs, rhs = sp.sympify(lhs), sp.sympify(rhs)
    hows = []
    for assumption, text in _CASES["sign"]:
        case = sp.Symbol(var.name, real=True, **{assumption: True})
        method = confirm_equal(lhs.subs(var, case), rhs.subs(var, case))
        hows.append(f"{var} {text}: {method}")
    return Step(lhs, "=", rhs, reason, "checked", "cases " + "; ".join(hows))


def relation(
    lhs: sp.Basic,
    rel: str,
    rhs: sp.Basic,
    reason: str = "",
    *,
    over: tuple[sp.Symbol, sp.Set] | None = None,
    condition: str | None = None,
) -> Step:
    """A checked (in)equality, for all values the symbols' assumptions allow, or over a set."""
    lhs, rhs = sp.sympify(lhs), sp.sympify(rhs)
    how = confirm_relation(lhs, rel, rhs, over=over)
    return Step(lhs, rel, rhs, reason, "checked", how, condition=condition)


def recurrence(
    seq: sp.Function,
    var: sp.Symbol,
    rule: sp.Basic,
    start: sp.Basic,
    initial: sp.Basic,
    solution: sp.Basic,
    reason: str = "",
) -> Step:
    """The solution of a first-order recurrence, checked by induction: ``seq(var) = rule``
    (an expression in ``seq(var - 1)``) for ``var > start`` with ``seq(start) = initial``
    gives ``seq(var) = solution`` for every ``var >= start``.

    >>> q, l = sp.Function("q"), sp.Symbol("l", integer=True, positive=True)
    >>> recurrence(q, l, 3 * q(l - 1), 1, 2, 2 * 3 ** (l - 1)).how
    'induction: base case identical; step expand'
    """
    solution = sp.sympify(solution)
    base = confirm_equal(solution.subs(var, start), initial)
    step = confirm_equal(solution, rule.subs(seq(var - 1), solution.subs(var, var - 1)))
    return Step(seq(var), "=", solution, reason, "checked", f"induction: base case {base}; step {step}")


def critical_set(lhs: sp.Basic, rhs: sp.Basic, gradient, variables, families, member, reason: str = "") -> Step:
    """A checked critical set ``lhs = rhs``: the gradient vanishes on each of ``families``,
    and every solution SymPy finds of ``gradient = 0`` satisfies ``member``."""
    how = confirm_critical_set(list(gradient), tuple(variables), list(families), member)
    return Step(sp.sympify(lhs), "=", sp.sympify(rhs), reason, "checked", how)


def solutions(equation: sp.Basic, var: sp.Symbol, domain: sp.Set, stated: sp.Set, reason: str = "") -> Step:
    """A checked solution set: ``{var in domain : equation} = stated``."""
    how = confirm_solutions(equation, var, domain, stated)
    return Step(sp.ConditionSet(var, equation, domain), "=", stated, reason, "checked", how)


def cite(lhs: sp.Basic, rel: str, rhs: sp.Basic, theorem: str, source: Source, reason: str = "") -> Step:
    """A step taken from the literature: shown as cited, never as checked."""
    return Step(sp.sympify(lhs), rel, sp.sympify(rhs), reason, "cited", theorem, source=source)


def _combine(a: str, b: str) -> str | None:
    """Relation of a chain ``x a y b z``; None when the chain proves nothing (``<=`` then ``>=``)."""
    if a == "=":
        return b
    if b == "=":
        return a
    if (a in ("<", "<=")) != (b in ("<", "<=")):
        return None
    strict = "<" in (a, b) or ">" in (a, b)
    if a in ("<", "<="):
        return "<" if strict else "<="
    return ">" if strict else ">="


def _implies(derived: str, stated: str) -> bool:
    return derived == stated or (derived, stated) in {("<", "<="), (">", ">="), ("=", "<="), ("=", ">=")}


@dataclass(frozen=True, eq=False)
class Derivation:
    """Steps ending in ``conclusion``; construction fails unless the conclusion follows.

    ``assumptions`` are the hypotheses in words (printed with the theorem).
    """

    title: str
    steps: tuple[Step, ...]
    conclusion: Step
    assumptions: tuple[str, ...] = ()

    def __init__(
        self,
        title: str,
        steps: Sequence[Step],
        conclusion: sp.Basic | tuple[sp.Basic, str, sp.Basic],
        assumptions: Iterable[str] = (),
    ) -> None:
        steps = tuple(steps)
        if not steps:
            raise DerivationError(f"derivation {title!r} has no steps")
        if isinstance(conclusion, tuple):
            lhs, rel, rhs = conclusion
        elif isinstance(conclusion, sp.Eq):
            lhs, rel, rhs = conclusion.lhs, "=", conclusion.rhs
        else:
            raise TypeError("conclusion must be a sympy Eq or a (lhs, rel, rhs) tuple")
        lhs, rhs = sp.sympify(lhs), sp.sympify(rhs)
        proof = _find_chain(steps, lhs, rel, rhs)
        if proof is None:
            raise DerivationError(
                f"the conclusion {text_relation(lhs, rel, rhs)} of {title!r} does not follow from its steps"
            )
        final = Step(lhs, rel, rhs, "", "checked", proof)
        object.__setattr__(self, "title", title)
        object.__setattr__(self, "steps", steps)
        object.__setattr__(self, "conclusion", final)
        object.__setattr__(self, "assumptions", tuple(assumptions))

    @property
    def closed_form(self) -> sp.Basic:
        """The right-hand side of the conclusion."""
        return self.conclusion.rhs

    @property
    def statement(self) -> sp.Basic:
        return self.conclusion.statement

    @property
    def sources(self) -> tuple[Source, ...]:
        seen: dict[str, Source] = {}
        for s in self.steps:
            if s.source is not None:
                seen.setdefault(s.source.key, s.source)
        return tuple(seen.values())

    def count(self, status: str) -> int:
        return sum(s.status == status for s in self.steps)

    @property
    def summary(self) -> str:
        definitions = self.count("definition")
        return (
            f"{len(self.steps)} step{'s' if len(self.steps) != 1 else ''}: {self.count('checked')} checked by SymPy, "
            f"{self.count('cited')} cited, {definitions} definition{'s' if definitions != 1 else ''}"
        )

    def __str__(self) -> str:
        lines = [f"Derivation: {self.title}"]
        lines += [f"  assume {a}" for a in self.assumptions]
        for i, step in enumerate(self.steps, 1):
            lines.append(f"  {i:>2}. {step}")
        lines.append(f"  therefore {text_relation(self.conclusion.lhs, self.conclusion.rel, self.conclusion.rhs)}")
        lines.append(f"  ({self.summary})")
        return "\n".join(lines)

    def latex_rows(
        self, cite: Callable[[Source], str] | None = None, names: dict[str, str] | None = None
    ) -> list[tuple[str, str, str]]:
        """One ``(left, relation and right, reason)`` triple of LaTeX per step; the left side
        is left empty where a step continues the chain of the one before. ``cite`` renders a
        cited step's reference (``\\citet{key}`` in a paper); by default its author-year text.
        ``names`` renames symbols in the LaTeX (``{"fan_in": "n"}``)."""
        rows = []
        previous = None
        for step in self.steps:
            head = "" if previous is not None and step.lhs == previous else latex_expr(step.lhs, names)
            rel = latex_relation(sp.Symbol("x"), step.rel, sp.Symbol("x"))[2:-2]
            cond = rf"\quad \text{{({latex_text(step.condition)})}}" if step.condition else ""
            rows.append((head, rf"{rel} {latex_expr(step.rhs, names)}{cond}", step.latex_reason(cite)))
            previous = step.rhs
        return rows

    def _latex(self, printer=None) -> str:
        """The steps as one ``aligned`` block with the reasons on the right (for notebooks)."""
        rows = [rf"{head} &{body} && \text{{{reason}}}" for head, body, reason in self.latex_rows()]
        return r"\begin{aligned}" + " \\\\\n".join(rows) + r"\end{aligned}"

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {self._latex()}$"


def _find_chain(steps: tuple[Step, ...], lhs: sp.Basic, rel: str, rhs: sp.Basic) -> str | None:
    """Does ``lhs rel rhs`` follow from a run of consecutive steps? Returns how, or None."""
    for i, first in enumerate(steps):
        if first.lhs != lhs:
            continue
        derived = first.rel
        if first.rhs == rhs and _implies(derived, rel):
            return f"step {i + 1}"
        current = first.rhs
        for j in range(i + 1, len(steps)):
            step = steps[j]
            if step.lhs != current:
                break
            combined = _combine(derived, step.rel)
            if combined is None:
                break
            derived, current = combined, step.rhs
            if current == rhs and _implies(derived, rel):
                return f"steps {i + 1}-{j + 1} by transitivity"
    return None


# Re-exported for callers that catch it from here.
StepNotChecked = StepNotChecked
