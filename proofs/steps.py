"""Steps of a proof: each states ``lhs rel rhs``, names its premises and says why it holds.

A :class:`Step` is one of

- ``checked``: SymPy confirms it **from its premises** (``uses``): each premise equality
  ``a = b`` rewrites the statement (every ``a`` becomes ``b``), the unevaluated operators on
  the page (integrals, sums, expectations, Hessians, eigenvalues) are carried out, and a
  specific rule (identity, inequality, solution set, induction) confirms the result. A step
  SymPy cannot confirm raises :class:`~proofs.checks.StepNotChecked`; so does a premise the
  check never used, and a step whose two sides are already identical (a tautology checks
  nothing). The check is kept, so a test can re-run it with a premise dropped;
- ``cited``: a precise result from the literature (source and theorem, lemma or equation
  number); its premises are the hypotheses it is applied to;
- ``definition``: notation, or a hypothesis of the theorem (``how == "hypothesis"``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import sympy as sp

from .checks import (
    Rewriter,
    StepNotChecked,
    confirm_critical_set,
    confirm_equal,
    confirm_relation,
    confirm_solutions,
)
from .mathtext import check as check_text
from .mathtext import to_text
from .printing import latex_expr, latex_relation, text_relation
from .sources import Source

__all__ = [
    "Step",
    "RELATIONS",
    "define",
    "hypothesis",
    "equal",
    "equal_by_cases",
    "equal_entrywise",
    "relation",
    "substitute",
    "recurrence",
    "critical_set",
    "solutions",
    "cite",
    "checked_step",
    "rewriting",
    "refuse_unused",
]

RELATIONS = ("=", "<=", "<", ">=", ">")
SYMPY_RELATION = {"=": sp.Eq, "<=": sp.Le, "<": sp.Lt, ">=": sp.Ge, ">": sp.Gt}
# What makes a citation precise: a numbered theorem, lemma, equation, section...
_LOCATOR = re.compile(
    r"\b(Theorem|Lemma|Proposition|Corollary|Fact|Claim|Definition|Equation|Eq\.|Eqs\.|Section|Sec\.|Chapter|"
    r"Example|Exercise|Problem|Appendix|Algorithm|Table|Remark|Property|Result)s?\s+[A-Z]?\d"
    r"|\bpp?\.\s*\d",  # or a page: the paper states the result there without a number
)

Check = Callable[[Sequence["Step"]], str]


@dataclass(frozen=True, eq=False)
class Step:
    """One line ``lhs rel rhs`` of a proof, its premises, and how it was confirmed.

    ``uses`` are earlier steps (the derivation numbers them). ``check`` re-runs the
    confirmation from any list of premises: it returns how, or raises ``StepNotChecked``.
    """

    lhs: sp.Basic
    rel: str
    rhs: sp.Basic
    reason: str
    status: str  # "checked" | "cited" | "definition"
    how: str
    uses: tuple[Step, ...] = ()
    source: Source | None = None
    condition: str | None = None
    check: Check | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.rel not in RELATIONS:
            raise ValueError(f"rel={self.rel!r} is not one of {RELATIONS}")
        if self.status not in ("checked", "cited", "definition"):
            raise ValueError(f"status={self.status!r} is not checked, cited or definition")
        if self.status == "cited" and self.source is None and self.check is None:
            raise ValueError("a cited step needs a source")  # (a conclusion resting on one has its check)
        for p in self.uses:
            if not isinstance(p, Step):
                raise TypeError(f"uses must hold Steps, not {type(p).__name__}")
        check_text(self.reason)  # text with inline $math$ (proofs.mathtext)
        if self.condition:
            check_text(self.condition)

    @property
    def statement(self) -> sp.Basic:
        return SYMPY_RELATION[self.rel](self.lhs, self.rhs, evaluate=False)

    @property
    def is_hypothesis(self) -> bool:
        return self.status == "definition" and self.how == "hypothesis"

    @property
    def cited(self) -> Source:
        """The source of a cited step."""
        if self.source is None:
            raise ValueError(f"step {self.lhs} {self.rel} {self.rhs} cites no source")
        return self.source

    @property
    def justification(self) -> str:
        """Why the step holds, without its premises (the derivation numbers those)."""
        if self.status == "checked":
            text = f"checked by SymPy ({to_text(self.how)})"
        elif self.status == "cited":
            text = f"cited: {self.cited.short}, {self.how}"
        else:
            text = "hypothesis" if self.is_hypothesis else "definition"
        return f"{to_text(self.reason)}; {text}" if self.reason else text

    def recheck(self, premises: Sequence[Step]) -> str:
        """Confirm the step again from ``premises``; raises ``StepNotChecked`` if it fails."""
        if self.check is None:
            raise ValueError(f"a {self.status} step has no check to re-run")
        return self.check(tuple(premises))

    def __str__(self) -> str:
        return self.text()

    def text(self, names: dict[str, str] | None = None, relabel: Callable[[sp.Basic], sp.Basic] | None = None) -> str:
        """The step as plain text; ``names`` and ``relabel`` as in :func:`formula_text`."""
        cond = f"  [{to_text(self.condition)}]" if self.condition else ""
        return f"{formula_text(self.lhs, self.rel, self.rhs, names, relabel)}{cond}    ({self.justification})"

    def _latex(self, printer=None) -> str:
        return latex_relation(self.lhs, self.rel, self.rhs)


def formula_text(lhs: sp.Basic, rel: str, rhs: sp.Basic, names: dict[str, str] | None = None,
                 relabel: Callable[[sp.Basic], sp.Basic] | None = None) -> str:
    """``lhs rel rhs`` as a reader of the terminal reads mathematics (Unicode, through its LaTeX); ``names``
    renames symbols and ``relabel`` rewrites each side first (a claim's coded choices by name)."""
    return to_text(f"${latex_relation(lhs, rel, rhs, names, relabel)}$")


def _premises(uses: Iterable[Step]) -> tuple[Step, ...]:
    uses = tuple(uses)
    if len(set(map(id, uses))) != len(uses):
        raise ValueError("a premise is listed twice")
    return uses


def _rewriter(premises: Sequence[Step]) -> Rewriter:
    return Rewriter([(p.lhs, p.rhs) for p in premises if p.rel == "="])


def refuse_unused(premises: Sequence[Step], rewrite: Rewriter) -> None:
    """Refuse a premise the check did not use: an equality that never rewrote anything."""
    equalities = [p for p in premises if p.rel == "="]
    for i, p in enumerate(equalities):
        if i not in rewrite.fired:
            raise StepNotChecked(f"the premise {text_relation(p.lhs, p.rel, p.rhs)} is not used by the check")
    for p in premises:
        if p.rel != "=":
            raise StepNotChecked(f"the inequality premise {text_relation(p.lhs, p.rel, p.rhs)} cannot be used here")


def checked_step(lhs, rel, rhs, reason, check: Check, uses, condition=None) -> Step:
    """Build a checked step: refuse a tautology, then run the check from the premises."""
    lhs, rhs = sp.sympify(lhs), sp.sympify(rhs)
    if lhs == rhs:
        raise StepNotChecked(f"the two sides of {text_relation(lhs, rel, rhs)} are identical: a tautology checks nothing")
    uses = _premises(uses)
    how = check(uses)
    return Step(lhs, rel, rhs, reason, "checked", how, uses, condition=condition, check=check)


def rewriting(confirm: Callable[[Rewriter], str]) -> Check:
    """A check that rewrites by the premise equalities, confirms, and refuses unused premises."""

    def check(premises: Sequence[Step]) -> str:
        rewrite = _rewriter(premises)
        how = confirm(rewrite)
        refuse_unused(premises, rewrite)
        return f"premises, {how}" if rewrite.fired else how

    return check


def define(lhs: sp.Basic, rhs: sp.Basic, reason: str = "") -> Step:
    """Introduce notation: ``lhs := rhs``."""
    return Step(sp.sympify(lhs), "=", sp.sympify(rhs), reason, "definition", "definition")


def hypothesis(lhs: sp.Basic, rel: str, rhs: sp.Basic, reason: str = "") -> Step:
    """A hypothesis of the theorem, stated so that SymPy can use it (``Var W_ij = c/n``)."""
    return Step(sp.sympify(lhs), rel, sp.sympify(rhs), reason, "definition", "hypothesis")


def equal(lhs, rhs, reason: str = "", *, uses: Iterable[Step] = (), condition: str | None = None) -> Step:
    """A checked equality: the premises rewrite both sides, unevaluated operators are carried
    out, and SymPy confirms the difference is zero.

    >>> x = sp.Symbol("x", real=True)
    >>> equal(sp.Limit(sp.sin(x) / x, x, 0), 1).how
    'evaluate, identical'
    >>> q = sp.Symbol("q")
    >>> equal(2 * q, 2 * x + 2, uses=[define(q, x + 1)]).how
    'premises, identical'
    >>> equal(x + 1, x)
    Traceback (most recent call last):
    ...
    proofs.checks.StepNotChecked: SymPy could not confirm x + 1 = x
    """
    lhs, rhs = sp.sympify(lhs), sp.sympify(rhs)
    return checked_step(lhs, "=", rhs, reason, rewriting(lambda r: confirm_equal(lhs, rhs, r)), uses, condition)


def substitute(expr, reason: str = "", *, uses: Iterable[Step], condition: str | None = None) -> Step:
    """``expr`` rewritten by the premise equalities: SymPy performs the rewriting, so the right
    side is what the premises make of ``expr`` (no simplification)."""
    expr = sp.sympify(expr)
    uses = _premises(uses)
    rhs = _rewriter(uses)(expr)
    if rhs == expr:
        raise StepNotChecked(f"the premises leave {expr} unchanged")

    def strict(premises: Sequence[Step]) -> str:
        rewrite = _rewriter(premises)
        if rewrite(expr) != rhs:
            try:
                confirm_equal(expr, rhs, rewrite)
            except StepNotChecked:
                raise StepNotChecked(f"the premises do not turn {expr} into {rhs}") from None
        refuse_unused(premises, rewrite)
        return "rewrite by the premises"

    return checked_step(expr, "=", rhs, reason, strict, uses, condition)


_CASES = (("nonnegative", ">= 0"), ("negative", "< 0"))
_CASE_LATEX = {">= 0": r"\ge 0", "< 0": "< 0"}


def equal_by_cases(lhs, rhs, var: sp.Symbol, reason: str = "", *, uses: Iterable[Step] = ()) -> Step:
    """A checked equality for real ``var``, confirmed separately for ``var >= 0`` and ``var < 0``
    (the two cases cover the real line)."""
    lhs, rhs = sp.sympify(lhs), sp.sympify(rhs)

    def confirm(rewrite: Rewriter) -> str:
        hows = []
        for assumption, text in _CASES:
            case = sp.Symbol(var.name, real=True, **{assumption: True})
            left, right = rewrite(lhs).subs(var, case), rewrite(rhs).subs(var, case)
            hows.append(f"${latex_expr(var)} {_CASE_LATEX[text]}$: {confirm_equal(left, right, rewrite)}")
        return "cases " + "; ".join(hows)

    return checked_step(lhs, "=", rhs, reason, rewriting(confirm), uses)


def equal_entrywise(lhs, rhs, reason: str = "", *, uses: Iterable[Step] = (), condition: str | None = None) -> Step:
    """A checked matrix equality: both sides rewritten by the premises and evaluated, then
    every entry confirmed.

    >>> a = sp.Symbol("a")
    >>> equal_entrywise(sp.MatMul(sp.ImmutableMatrix([[a, 0]]), 2), sp.ImmutableMatrix([[2 * a, 0]])).how
    'entrywise, 2 entries: identical'
    """
    lhs, rhs = sp.sympify(lhs), sp.sympify(rhs)

    def confirm(rewrite: Rewriter) -> str:
        left = sp.ImmutableMatrix(rewrite(rewrite(lhs).doit()))
        right = sp.ImmutableMatrix(rewrite(rewrite(rhs).doit()))
        if left.shape != right.shape:
            raise StepNotChecked(f"shapes differ: {left.shape} and {right.shape}")
        methods = [confirm_equal(a, b, rewrite) for a, b in zip(left, right, strict=True)]
        return f"entrywise, {len(methods)} entries: " + ", ".join(dict.fromkeys(methods))

    return checked_step(lhs, "=", rhs, reason, rewriting(confirm), uses, condition)


def relation(lhs, rel: str, rhs, reason: str = "", *, uses: Iterable[Step] = (),
             over: tuple[sp.Symbol, sp.Set] | None = None, condition: str | None = None) -> Step:
    """A checked (in)equality, after rewriting by the premises, for all values the symbols'
    assumptions allow, or over a set ``over = (symbol, set)``."""
    lhs, rhs = sp.sympify(lhs), sp.sympify(rhs)
    confirm = rewriting(lambda r: confirm_relation(lhs, rel, rhs, over=over, rewrite=r))
    return checked_step(lhs, rel, rhs, reason, confirm, uses, condition)


def recurrence(seq, var: sp.Symbol, start, solution, reason: str = "", *, uses: Iterable[Step]) -> Step:
    """The solution of a first-order recurrence, by induction from its premises: the rule
    ``seq(l) = F(seq(l - 1))`` and the initial value ``seq(start) = a`` give ``seq(var) = solution``
    for ``var >= start``. Any further premise is an equality defining a term of the solution (stated
    at the rule's index, used at ``var``, e.g. ``p(l) = p(l - 1) + J(l) p(l - 1)`` for a solution
    ``2h p(L)``); it rewrites both cases, and one that rewrites nothing is refused.

    >>> q, l = sp.Function("q"), sp.Symbol("l", integer=True, positive=True)
    >>> rule, first = define(q(l), 3 * q(l - 1)), define(q(1), 2)
    >>> recurrence(q, l, 1, 2 * 3 ** (l - 1), uses=[rule, first]).how
    'induction from the rule (premise 1) and the initial value (premise 2): base case identical; step expand'
    """
    solution = sp.sympify(solution)

    def check(premises: Sequence[Step]) -> str:
        rule = initial = None
        others = []
        for i, p in enumerate(premises, 1):
            arg = p.lhs.args[0] if p.rel == "=" and getattr(p.lhs, "func", None) == seq and len(p.lhs.args) == 1 else None
            if arg == start and initial is None:
                initial = (i, p)
            elif isinstance(arg, sp.Symbol) and rule is None and p.rhs.has(seq(arg - 1)):
                rule, index = (i, p), arg
            else:
                others.append(p)
        if rule is None:
            raise StepNotChecked(f"no premise states the rule {seq}(l) = F({seq}(l - 1))")
        if initial is None:
            raise StepNotChecked(f"no premise states the initial value {seq}({start})")
        rewrite = Rewriter([(q.lhs.subs(index, var), q.rhs.subs(index, var)) for q in others if q.rel == "="])
        base = confirm_equal(solution.subs(var, start), initial[1].rhs, rewrite)
        step = confirm_equal(solution, rule[1].rhs.subs(index, var).subs(seq(var - 1), solution.subs(var, var - 1)),
                             rewrite)
        refuse_unused(others, rewrite)
        return (f"induction from the rule (premise {rule[0]}) and the initial value (premise {initial[0]}): "
                f"base case {base}; step {step}")

    return checked_step(seq(var), "=", solution, reason, check, uses)


def critical_set(lhs, rhs, gradient, variables, families, member, reason: str = "", *,
                 uses: Iterable[Step] = ()) -> Step:
    """A checked critical set ``lhs = rhs``: the gradient (written unevaluated, e.g.
    ``Derivative(L, w_i)``, and rewritten by the premises) vanishes on each of ``families``, and
    every solution SymPy finds of ``gradient = 0`` satisfies ``member``."""
    confirm = rewriting(lambda r: confirm_critical_set(list(gradient), tuple(variables), list(families), member, r))
    return checked_step(lhs, "=", rhs, reason, confirm, uses)


def solutions(equation, var: sp.Symbol, domain: sp.Set, stated: sp.Set, reason: str = "", *,
              uses: Iterable[Step] = ()) -> Step:
    """A checked solution set: ``{var in domain : equation} = stated``, the equation first
    rewritten by the premises."""
    confirm = rewriting(lambda r: confirm_solutions(equation, var, domain, stated, r))
    return checked_step(sp.ConditionSet(var, equation, domain), "=", stated, reason, confirm, uses)


def cite(lhs, rel: str, rhs, theorem: str, source: Source, reason: str = "", *, uses: Iterable[Step] = ()) -> Step:
    """A result from the literature, shown as cited, never as checked. ``theorem`` locates it
    precisely (``"Theorem 3"``, ``"Fact 4"``, ``"Eq. (2.7)"``); ``uses`` are the steps that
    establish its hypotheses (or a special case checked by SymPy)."""
    if not _LOCATOR.search(theorem):
        raise ValueError(f"theorem={theorem!r} does not locate the result: name a theorem, lemma, "
                         "equation or section with its number")
    return Step(sp.sympify(lhs), rel, sp.sympify(rhs), reason, "cited", theorem, _premises(uses), source=source)
