"""How SymPy confirms a step: specific fast rules first, general simplification last.

Every confirmer returns the *name of the method* that confirmed the statement, so a
report can say how each step was checked, or raises :class:`StepNotChecked`.
Nothing here evaluates numerically: ``Expr.equals`` (which may decide by random
numerical evaluation) is deliberately not used, so a confirmation is a symbolic one.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp
from sympy.calculus.util import maximum, minimum

__all__ = [
    "StepNotChecked",
    "confirm_equal",
    "confirm_extremum",
    "confirm_relation",
    "confirm_solutions",
]


class StepNotChecked(ValueError):
    """SymPy could not confirm a step that was declared as checked."""


def _rewrite_exp(e: sp.Expr) -> sp.Expr:
    return sp.simplify(e.rewrite(sp.exp))


def _expand_log(e: sp.Expr) -> sp.Expr:
    return sp.simplify(sp.expand_log(e, force=False))


# Ordered from cheap and specific to expensive and general (SymPy's distributions
# also try special cases before integrating a density).
_ZERO_STRATEGIES: tuple[tuple[str, Callable[[sp.Expr], sp.Expr]], ...] = (
    ("identical", lambda e: e),
    ("expand", sp.expand),
    ("cancel", sp.cancel),
    ("simplify", sp.simplify),
    ("rewrite in exp", _rewrite_exp),
    ("expand logarithms", _expand_log),
)


def _is_zero(expr: sp.Expr) -> str | None:
    for name, strategy in _ZERO_STRATEGIES:
        try:
            reduced = strategy(expr)
        except (TypeError, ValueError, NotImplementedError, AttributeError):
            continue
        if reduced == 0:
            return name
    return None


def _evaluate(expr: sp.Basic) -> tuple[sp.Basic, bool]:
    """Carry out unevaluated Derivative/Limit/Integral/Sum objects; report if any."""
    done = expr.doit()
    return done, done != expr


def confirm_equal(lhs: sp.Basic, rhs: sp.Basic) -> str:
    """Confirm ``lhs == rhs``; unevaluated operators on either side are carried out first.

    >>> x = sp.Symbol("x", real=True)
    >>> confirm_equal(sp.Derivative(sp.exp(2 * x), x), 2 * sp.exp(2 * x))
    'evaluate, identical'
    """
    left, evaluated_l = _evaluate(sp.sympify(lhs))
    right, evaluated_r = _evaluate(sp.sympify(rhs))
    if any(isinstance(a, (sp.Limit, sp.Integral)) for a in (left, right)):
        raise StepNotChecked(f"SymPy left an operator unevaluated in {lhs} = {rhs}")
    method = _is_zero(left - right)
    if method is None:
        raise StepNotChecked(f"SymPy could not confirm {lhs} = {rhs}")
    return f"evaluate, {method}" if (evaluated_l or evaluated_r) else method


_SIGN = {"<=": "nonnegative", "<": "positive", ">=": "nonnegative", ">": "positive"}


def confirm_relation(
    lhs: sp.Basic,
    rel: str,
    rhs: sp.Basic,
    over: tuple[sp.Symbol, sp.Set] | None = None,
) -> str:
    """Confirm an inequality ``lhs rel rhs`` for every value allowed by the symbols'
    assumptions, or for every value of ``over = (symbol, set)``.

    Tries the assumptions system on the gap, then (non-strict only) the exact extremum
    of the gap over the set (``sympy.calculus.util.minimum``).
    """
    if rel == "=":
        return confirm_equal(lhs, rhs)
    if rel not in _SIGN:
        raise ValueError(f"unknown relation {rel!r}; use one of =, <=, <, >=, >")
    left, _ = _evaluate(sp.sympify(lhs))
    right, _ = _evaluate(sp.sympify(rhs))
    gap = right - left if rel in ("<=", "<") else left - right
    want = _SIGN[rel]
    for name, strategy in (("assumptions", lambda e: e), ("simplify, assumptions", sp.simplify)):
        try:
            reduced = strategy(gap)
        except (TypeError, ValueError, NotImplementedError):
            continue
        if getattr(reduced, f"is_{want}") is True:
            return name
    if over is not None and want == "nonnegative":
        var, domain = over
        try:
            low = minimum(gap, var, domain)
        except (TypeError, ValueError, NotImplementedError):
            low = None
        if low is not None and sp.simplify(low).is_nonnegative is True:
            return f"exact minimum over {domain}"
        if _nonnegative_at_critical_points(gap, var, domain):
            return f"critical points and ends of {domain}"
    raise StepNotChecked(f"SymPy could not confirm {lhs} {rel} {rhs}")


def _nonnegative_at_critical_points(gap: sp.Expr, var: sp.Symbol, domain: sp.Set) -> bool:
    """Fallback for a differentiable ``gap`` on an interval: it is >= 0 there iff it is
    >= 0 at every critical point inside and in the limit at both ends."""
    if not isinstance(domain, sp.Interval):
        return False
    try:
        critical = sp.solveset(sp.diff(gap, var), var, domain)
    except (TypeError, ValueError, NotImplementedError):
        return False
    if not isinstance(critical, sp.FiniteSet):
        return False
    values = [gap.subs(var, c) for c in critical]
    values.append(sp.limit(gap, var, domain.start, "+"))
    values.append(sp.limit(gap, var, domain.end, "-"))
    for v in values:
        v = sp.radsimp(sp.simplify(v))
        if v.is_nonnegative is not True:
            return False
    return True


def confirm_extremum(expr: sp.Expr, var: sp.Symbol, domain: sp.Set, value: sp.Expr, kind: str) -> str:
    """Confirm that ``max``/``min`` of ``expr`` over ``domain`` is exactly ``value``."""
    find = maximum if kind == "max" else minimum
    found = find(expr, var, domain)
    if _is_zero(sp.sympify(found) - value) is None:
        raise StepNotChecked(f"SymPy found {kind} {found}, not {value}, for {expr} over {domain}")
    return f"exact {kind}imum over {domain}"


def confirm_solutions(equation: sp.Basic, var: sp.Symbol, domain: sp.Set, stated: sp.Set) -> str:
    """Confirm that ``solveset(equation, var, domain)`` is exactly the ``stated`` set."""
    found = sp.solveset(equation, var, domain)
    if isinstance(found, sp.ConditionSet):
        raise StepNotChecked(f"SymPy could not solve {equation} for {var}")
    if found != stated and (
        sp.Complement(found, stated) != sp.S.EmptySet or sp.Complement(stated, found) != sp.S.EmptySet
    ):
        raise StepNotChecked(f"solveset gives {found}, not the stated {stated}")
    return "solveset"


def confirm_critical_set(gradient: list[sp.Expr], variables: tuple[sp.Symbol, ...], families: list[dict], member) -> str:
    """Confirm that the zeros of ``gradient`` are exactly the union of ``families``.

    Soundness: the gradient vanishes identically on every family (each a substitution
    ``{symbol: value}`` leaving the other variables free). Completeness: every solution
    ``sympy.solve`` finds satisfies ``member(solution) -> bool`` (lies in the union).
    """
    for family in families:
        for component in gradient:
            if _is_zero(sp.sympify(component).subs(family)) is None:
                raise StepNotChecked(f"the gradient does not vanish on the family {family}")
    found = sp.solve(gradient, variables, dict=True)
    if not found:
        raise StepNotChecked("SymPy found no critical points")
    for solution in found:
        if not member(solution):
            raise StepNotChecked(f"the critical point {solution} lies outside the stated set")
    return f"solve ({len(found)} solution families), each in the stated set; gradient zero on each stated family"
