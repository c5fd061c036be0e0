"""More rules for checked steps, beyond :mod:`proofs.steps`: instances of a general statement,
limits of a Piecewise branch by branch, equivalent conditions,
identities of matrix expressions, and equalities of finite sums reordered.

Each is built like the basic rules: a check that runs from the premises (re-run by the
premise-dropping tests), refusing a premise it does not use.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import permutations, product
from typing import Any

import sympy as sp

from .checks import Rewriter, StepNotChecked, confirm_equal
from .printing import latex_expr
from .steps import Step, checked_step, rewriting

__all__ = ["instance", "equal_at", "limit_by_branches", "equivalent", "matrix_equal", "same_sum"]


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
        return f"the premise at ${latex_expr(sp.Eq(var, value))} \\ge {latex_expr(low)}$: {how}"

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
    'premises at $y = 3$: identical after rewriting'
    """
    lhs, rhs = sp.sympify(lhs), sp.sympify(rhs)
    at = {s: v if isinstance(v, tuple) else (v,) for s, v in (at or {}).items()}

    def check(premises: Sequence[Step]) -> str:
        equalities, owner = [], []
        for n, p in enumerate(premises):
            if p.rel != "=":
                raise StepNotChecked("equal_at rewrites by equalities only")
            free = [s for s in at if p.lhs.has(s) or p.rhs.has(s)]
            for point in product(*(at[s] for s in free)):
                sub = dict(zip(free, point, strict=True))
                equalities.append((p.lhs.subs(sub), p.rhs.subs(sub)))
                owner.append(n)
        rewrite = Rewriter(equalities)
        hows = []
        values: Sequence[Any]
        var, values = cases if cases else (None, (None,))
        for value in values:
            left, right = rewrite(lhs), rewrite(rhs)
            if var is not None:
                left, right = rewrite(left.subs(var, value)), rewrite(right.subs(var, value))
            hows.append("identical after rewriting" if left == right else confirm_equal(left, right, rewrite))
        if var is not None:
            hows = [f"each of ${latex_expr(var)} = {', '.join(latex_expr(v) for v in values)}$: "
                    + "; ".join(dict.fromkeys(hows))]
        used = {owner[i] for i in rewrite.fired}
        for n, p in enumerate(premises):
            if n not in used:
                raise StepNotChecked(f"the premise {p.lhs} = {p.rhs} is not used by the check")
        inst = ", ".join(f"${latex_expr(s)} = {', '.join(latex_expr(x) for x in v)}$" for s, v in at.items())
        return (f"premises at {inst}: " if inst else "premises: ") + "; ".join(dict.fromkeys(hows))

    return checked_step(lhs, "=", rhs, reason, check, uses)


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
        return f"solveset over ${latex_expr(domain)}$"

    return checked_step(cond, "=", other, reason, check, ())


def _factors(e: sp.Basic) -> list:
    return list(e.args) if isinstance(e, sp.MatMul) else [e]


def _multiply_out(e: sp.Basic) -> sp.Basic:
    """Powers of matrix sums multiplied out as flat products, so that SymPy cancels an inverse
    next to its matrix (it does so in a flat product, not inside a power)."""

    def out(a):
        prods = [[t] for t in a.base.args]
        for _ in range(int(a.exp) - 1):
            prods = [q + [t] for q in prods for t in a.base.args]
        return sp.MatAdd(*[sp.MatMul(*[f for t in q for f in _factors(t)]).doit() for q in prods]).doit()

    return e.replace(lambda a: isinstance(a, sp.MatPow) and isinstance(a.base, sp.MatAdd) and a.exp.is_Integer
                     and a.exp > 1, out)


def matrix_equal(lhs, rhs, reason: str = "", *, uses=()) -> Step:
    """A checked identity of matrix expressions of symbolic sizes: the premises rewrite both
    sides, powers of sums are multiplied out, and SymPy's matrix algebra (an inverse cancels
    next to its matrix, which it assumes invertible) reduces the difference to 0.

    >>> from proofs.steps import define
    >>> k, d = sp.symbols("k d", integer=True, positive=True)
    >>> G, Q = sp.MatrixSymbol("G", k, d), sp.MatrixSymbol("Q", d, d)
    >>> matrix_equal(Q * Q, Q, uses=[define(Q, sp.Identity(d) - G.T * sp.Inverse(G * G.T) * G)]).how
    'premises, matrix algebra'
    >>> matrix_equal(G.T * sp.Inverse(G * G.T) * G, sp.Identity(d))
    Traceback (most recent call last):
    ...
    proofs.checks.StepNotChecked: SymPy could not confirm G.T*(G*G.T)**(-1)*G = I
    """

    def confirm(rewrite) -> str:
        diff = sp.expand(_multiply_out(rewrite(lhs).doit()) - _multiply_out(rewrite(rhs).doit())).doit()
        if isinstance(diff, sp.ZeroMatrix) or diff == 0:
            return "matrix algebra"
        raise StepNotChecked(f"SymPy could not confirm {lhs} = {rhs}")

    return checked_step(lhs, "=", rhs, reason, rewriting(confirm), uses)


def _flat_terms(expr: sp.Basic) -> list:
    """A linear combination of finite sums (a trace is the sum of its diagonal) as terms
    (summand with its constant factors, limits), nested sums flattened."""
    expr = sp.expand(expr.replace(lambda e: isinstance(e, sp.Trace), lambda e: e.rewrite(sp.Sum)))
    terms = []
    for term in sp.Add.make_args(expr):
        coeff, body = sp.Integer(1), term
        limits: list[Any] = []
        while True:
            c, rest = body.as_independent(sp.Sum, as_Add=False)
            if not isinstance(rest, sp.Sum):
                break
            coeff, body, limits = coeff * c, sp.expand(rest.function), limits + list(rest.limits)
        if not limits or body.has(sp.Sum):
            raise StepNotChecked(f"{term} is not a finite sum")
        variables = {v for v, _, _ in limits}
        if any(lo.has(*variables) or hi.has(*variables) for _, lo, hi in limits):
            raise StepNotChecked(f"the limits of {term} depend on its indices: they cannot be reordered")
        terms.append((coeff * body, limits))
    return terms


def _same_term(left, right) -> bool:
    (fl, ll), (fr, lr) = left, right
    if len(ll) != len(lr):
        return False
    for order in permutations(lr):
        if all(sp.expand(a[1] - b[1]) == 0 and sp.expand(a[2] - b[2]) == 0 for a, b in zip(ll, order, strict=True)):
            if sp.expand(fl.xreplace({a[0]: b[0] for a, b in zip(ll, order, strict=True)}) - fr) == 0:
                return True
    return False


def same_sum(lhs, rhs, reason: str = "", *, uses=()) -> Step:
    """A checked equality of two linear combinations of finite sums with constant limits (a
    trace is the sum of its diagonal): term by term, the same summand once the indices are
    renamed and the sums reordered (finite sums commute).

    >>> k, d = sp.symbols("k d", integer=True, positive=True)
    >>> i, j = sp.symbols("i j", integer=True, nonnegative=True)
    >>> G = sp.MatrixSymbol("G", k, d)
    >>> same_sum(2 * sp.Sum(G[i, j] ** 2, (j, 0, d - 1), (i, 0, k - 1)), 2 * sp.Trace(G.T * G)).how
    'the same finite sums, indices renamed and reordered'
    >>> same_sum(sp.Sum(G[i, j], (j, 0, i), (i, 0, k - 1)), sp.Sum(G[i, j], (i, 0, j), (j, 0, k - 1)))
    Traceback (most recent call last):
    ...
    proofs.checks.StepNotChecked: the limits of Sum(G[i, j], (j, 0, i), (i, 0, k - 1)) depend on its indices: they cannot be reordered
    """

    def confirm(rewrite) -> str:
        left, right = _flat_terms(rewrite(lhs)), _flat_terms(rewrite(rhs))
        for term in left:
            match = next((k for k, other in enumerate(right) if _same_term(term, other)), None)
            if match is None:
                raise StepNotChecked(f"SymPy could not match the sums {lhs} and {rhs}")
            right.pop(match)
        if right:
            raise StepNotChecked(f"SymPy could not match the sums {lhs} and {rhs}")
        return "the same finite sums, indices renamed and reordered"

    return checked_step(lhs, "=", rhs, reason, rewriting(confirm), uses)
