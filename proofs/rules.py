"""More rules for checked steps, beyond :mod:`proofs.steps`: instances of a general statement,
induction with auxiliary sequences, limits of a Piecewise branch by branch, equivalent conditions.

Each is built like the basic rules: a check that runs from the premises (re-run by the
premise-dropping tests), refusing a premise it does not use.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import product

import sympy as sp

from .checks import Rewriter, StepNotChecked, confirm_equal
from .steps import Step, checked_step, refuse_unused, rewriting

__all__ = ["instance", "equal_at", "induction", "limit_by_branches", "equivalent"]


def instance(general: Step, var: sp.Symbol, value: sp.Basic, low: sp.Basic, reason: str) -> Step:
    """A checked instance ``general`` at ``var = value`` of a statement proved for all
    ``var >= low``: the one premise is the general statement."""
    lhs, rhs = general.lhs.subs(var, value), general.rhs.subs(var, value)

    def check(premises) -> str:
        if len(premises) != 1 or premises[0].rel != "=" or not premises[0].lhs.has(var):
            raise StepNotChecked(f"an instance at {var} = {value} needs the general statement in {var} as its one premise")
        p = premises[0]
        if p.lhs.subs(var, value) != lhs:
            raise StepNotChecked(f"{lhs} is not the premise's left side at {var} = {value}")
        if (value - low).is_nonnegative is not True:
            raise StepNotChecked(f"{var} = {value} is not known to be >= {low}")
        how = confirm_equal(p.rhs.subs(var, value), rhs)
        return f"the premise at {var} = {value} >= {low}: {how}"

    return Step(lhs, "=", rhs, reason, "checked", check((general,)), (general,), check=check)


def equal_at(lhs, rhs, reason: str = "", *, uses: Iterable[Step], at: dict | None = None,
             cases: tuple[sp.Symbol, Sequence] | None = None) -> Step:
    """A checked equality from premises that hold for every value of a variable: each premise
    containing a symbol of ``at`` is used at the value(s) given there (universal instantiation;
    a tuple gives several instances), then rewrites the statement as in :func:`equal`. With
    ``cases = (var, values)`` the statement is confirmed for each value of ``var`` in turn.

    >>> from proofs.steps import define
    >>> q, y = sp.Function("q"), sp.Symbol("y")
    >>> equal_at(q(3), 9, uses=[define(q(y), y**2)], at={y: 3}).how
    'premises at y = 3: identical after rewriting'
    """
    lhs, rhs = sp.sympify(lhs), sp.sympify(rhs)
    at = {s: v if isinstance(v, tuple) else (v,) for s, v in (at or {}).items()}

    def check(premises: Sequence[Step]) -> str:
        equalities, owner = [], []
        for n, p in enumerate(premises):
            if p.rel != "=":
                raise StepNotChecked("equal_at rewrites by equalities only")
            free = [s for s in at if p.lhs.has(s) or p.rhs.has(s)]
            for values in product(*(at[s] for s in free)):
                sub = dict(zip(free, values, strict=True))
                equalities.append((p.lhs.subs(sub), p.rhs.subs(sub)))
                owner.append(n)
        rewrite = Rewriter(equalities)
        hows = []
        var, values = cases if cases else (None, (None,))
        for value in values:
            left, right = rewrite(lhs), rewrite(rhs)
            if var is not None:
                left, right = rewrite(left.subs(var, value)), rewrite(right.subs(var, value))
            hows.append("identical after rewriting" if left == right else confirm_equal(left, right, rewrite))
        if var is not None:
            hows = [f"each of {var} = {', '.join(map(str, values))}: " + "; ".join(dict.fromkeys(hows))]
        used = {owner[i] for i in rewrite.fired}
        for n, p in enumerate(premises):
            if n not in used:
                raise StepNotChecked(f"the premise {p.lhs} = {p.rhs} is not used by the check")
        inst = ", ".join(f"{s} = {', '.join(map(str, v))}" for s, v in at.items())
        return (f"premises at {inst}: " if inst else "premises: ") + "; ".join(dict.fromkeys(hows))

    return checked_step(lhs, "=", rhs, reason, check, uses)


def induction(seq, var: sp.Symbol, start, solution, reason: str = "", *, uses) -> Step:
    """``seq(var) = solution`` for ``var >= start`` by induction, like :func:`recurrence`, for a
    solution written with another sequence (``2h p(L)``): the rule ``seq(l) = F(seq(l - 1))`` and
    the initial value ``seq(start) = a`` are premises, and so are the equalities defining the
    solution's terms (stated at a generic index l, used at ``var``), which rewrite both cases."""
    solution = sp.sympify(solution)

    def check(premises) -> str:
        rule = initial = None
        others = []
        for q in premises:
            arg = q.lhs.args[0] if q.rel == "=" and getattr(q.lhs, "func", None) == seq else None
            if arg == start and initial is None:
                initial = q
            elif isinstance(arg, sp.Symbol) and rule is None and q.rhs.has(seq(arg - 1)):
                rule, index = q, arg
            else:
                others.append(q)
        if rule is None or initial is None:
            raise StepNotChecked(f"the premises do not state the rule for {seq}(l) and its initial value {seq}({start})")
        rewrite = Rewriter([(q.lhs.subs(index, var), q.rhs.subs(index, var)) for q in others if q.rel == "="])
        base = confirm_equal(solution.subs(var, start), initial.rhs, rewrite)
        step = confirm_equal(solution, rule.rhs.subs(index, var).subs(seq(var - 1), solution.subs(var, var - 1)), rewrite)
        refuse_unused(others, rewrite)
        return f"induction on {var} from the rule and the initial value: base case {base}; step {step}"

    return checked_step(seq(var), "=", solution, reason, check, uses)


def limit_by_branches(lhs, rhs, var, reason: str, *, uses) -> Step:
    """A checked equality ``Limit(f, var, oo) = rhs`` where the premises turn ``f`` into a
    Piecewise whose conditions do not involve ``var``: the limit is taken branch by branch
    (SymPy's own limit of such a Piecewise keeps a single branch), then confirmed."""

    def confirm(rewrite) -> str:
        left = rewrite(lhs)
        if isinstance(left, sp.Limit) and isinstance(left.args[0], sp.Piecewise):
            f, v, to, direction = left.args
            if not any(c.has(v) for _, c in f.args):
                left = sp.Piecewise(*[(sp.Limit(e, v, to, direction), c) for e, c in f.args])
        return "branch by branch, " + confirm_equal(left, rhs, rewrite)

    return checked_step(lhs, "=", rhs, reason, rewriting(confirm), uses)


def equivalent(cond, other, var: sp.Symbol, domain: sp.Set, reason: str) -> Step:
    """A checked equivalence of two conditions on ``var`` over ``domain`` (same solution set)."""

    def check(premises) -> str:
        if premises:
            raise StepNotChecked("an equivalence of conditions uses no premises")
        if sp.solveset(cond, var, domain) != sp.solveset(other, var, domain):
            raise StepNotChecked(f"{cond} and {other} differ on {domain}")
        return f"solveset over {domain}"

    return checked_step(cond, "=", other, reason, check, ())
