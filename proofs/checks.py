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
from sympy.core.function import AppliedUndef

from .operators import Expectation, Quadrature
from .printing import latex_expr

__all__ = [
    "StepNotChecked",
    "Rewriter",
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
# A strategy is only worth its cost where it can act: exp rewrites trigonometric and hyperbolic
# functions, expand_log needs a logarithm.
_TRANSCENDENTAL = (sp.sin, sp.cos, sp.tan, sp.sinh, sp.cosh, sp.tanh, sp.asin, sp.acos, sp.atan, sp.exp)
_APPLIES = {
    "rewrite in exp": lambda e: e.has(*_TRANSCENDENTAL) or any(not p.exp.is_Number for p in e.atoms(sp.Pow)),
    "expand logarithms": lambda e: e.has(sp.log),
}


_CHEAP = 3  # identical, expand, cancel: after these, try to refute before simplifying
_SAMPLES = {
    "integer": (1, 2, 3, 4, 5, 7),
    "positive": (sp.Rational(7, 5), sp.Rational(3, 7), sp.Rational(13, 4), sp.Rational(2, 9), 3, sp.Rational(5, 3)),
    "real": (sp.Rational(7, 5), sp.Rational(-3, 7), sp.Rational(13, 4), sp.Rational(-2, 9), 3, sp.Rational(-5, 3)),
}


def _opaque(expr: sp.Basic) -> set:
    """Atoms SymPy knows no relation between (an entry x[j], an expectation, an unknown function
    applied): a refutation may give them any value."""
    return set(expr.atoms(sp.Indexed, Expectation)) | {f for f in expr.atoms(sp.Function) if _unknown(f)}


def _refuted(expr: sp.Expr) -> bool:
    """Is ``expr`` clearly non-zero at some point its symbols' assumptions allow? Only ever used
    to refuse quickly (a false step would otherwise spend seconds in ``simplify``), never to
    confirm: a confirmation stays symbolic. Sums are expanded at small sizes; entries, expectations
    and unknown functions take arbitrary values; integrals (but a :class:`Quadrature`), limits,
    derivatives and matrix expressions skip it."""
    if not isinstance(expr, sp.Expr) or expr.has(sp.Product, sp.Limit, sp.Derivative, sp.Subs, sp.MatrixExpr):
        return False
    if any(not isinstance(i, Quadrature) for i in expr.atoms(sp.Integral)):  # a quadrature evaluates numerically
        return False
    for k in range(len(_SAMPLES["integer"])):
        e = expr
        labels = {b.label for b in e.atoms(sp.IndexedBase)}  # x of x[j]: not a value
        symbols = sorted((s for s in e.free_symbols if s not in labels), key=lambda s: s.name)
        point = {}
        for i, s in enumerate(symbols):
            if not s.is_commutative:
                return False
            kind = "integer" if s.is_integer else "positive" if s.is_positive else "real" if s.is_real else None
            if kind is None or (kind == "integer" and s.is_nonnegative is not True):
                return False
            values = _SAMPLES[kind]
            point[s] = values[(k + i) % len(values)]
        try:
            e = e.xreplace(point)
            if e.has(sp.Sum):
                e = _doit(e)
                if e.has(sp.Sum):
                    continue
            atoms = sorted(_opaque(e), key=sp.default_sort_key)
            e = e.xreplace({a: sp.Rational(2 * ((7 * n + 3 * k) % 11) + 1, 7) for n, a in enumerate(atoms)})
            if e.free_symbols:
                continue
            value = sp.N(e, 30)
        except (TypeError, ValueError, ZeroDivisionError, ArithmeticError, AttributeError):
            continue
        if value.is_Number and value.is_finite and abs(value) > sp.Float("1e-20", 30):
            return True
    return False


def _is_zero(expr: sp.Expr) -> str | None:
    for k, (name, strategy) in enumerate(_ZERO_STRATEGIES):
        if k == _CHEAP and _refuted(expr):
            return None
        if name in _APPLIES and not _APPLIES[name](expr):
            continue
        try:
            reduced = strategy(expr)
        except (TypeError, ValueError, NotImplementedError, AttributeError):
            continue
        if reduced == 0:
            return name
    return None


def _within_limits(expr: sp.Basic) -> sp.Basic:
    """Inside ``Sum(f, (v, a, b))`` the index satisfies ``a <= v <= b``: a Piecewise branch
    condition saying so (left by summing a Kronecker delta) is true there."""

    def inner(s: sp.Sum) -> sp.Basic:
        if _unsummable(s):
            return s
        body = s.function
        for v, a, b in s.limits:
            known = {sp.Le(v, b): True, sp.Ge(b, v): True, sp.Le(a, v): True, sp.Ge(v, a): True}
            body = body.xreplace(known)
        return sp.Sum(sp.piecewise_fold(body), *s.limits).doit()

    return expr.replace(lambda e: isinstance(e, sp.Sum), inner)


def _canonical_indices(expr: sp.Basic, depth: int = 0) -> sp.Basic:
    """Rename every summation index by its nesting depth, outermost first, so that equal sums
    written with different dummies compare equal; constant factors are taken out of each sum.

    >>> i, j, n = sp.symbols("i j n", integer=True)
    >>> x = sp.IndexedBase("x")
    >>> _canonical_indices(sp.Sum(sp.Sum(x[i] * x[j], (j, 1, n)), (i, 1, n)))
    Sum(x[i_0]*x[i_1], (i_0, 1, n), (i_1, 1, n))
    """
    if not isinstance(expr, sp.Basic) or not expr.has(sp.Sum):
        return expr
    if isinstance(expr, sp.Sum):
        body, limits = expr.function, []
        for k, (v, a, b) in enumerate(expr.limits):
            new = sp.Symbol(f"i_{depth + k}", integer=True)
            body = body.xreplace({v: new})
            limits.append((new, a, b))
        body = _canonical_indices(body, depth + len(limits))
        if isinstance(body, sp.Sum):  # one sum over all its indices
            limits += list(body.limits)
            body = body.function
        return sp.factor_terms(sp.Sum(body, *limits))
    return expr.func(*[_canonical_indices(a, depth) for a in expr.args])


def _unsummable(s: sp.Sum) -> bool:
    """A sum over a symbolic range of an unknown function of its index: nothing to evaluate (SymPy's
    summation would search for a telescoping form, for minutes, before leaving it as it is)."""
    index = {v for v, _, _ in s.limits}  # (SymPy sums a numeric range of more than 100 terms symbolically too)
    return (any(not (a.is_Integer and b.is_Integer and b - a <= 100) for _, a, b in s.limits)
            and any(f.free_symbols & index for f in s.function.atoms(sp.Function) if _unknown(f)))


def _unknown(f: sp.Function) -> bool:
    """An applied function SymPy knows nothing of: undefined, or a class (a named piece of a proof) with no
    ``eval``, ``doit`` or ``_eval_evalf`` of its own."""
    cls = type(f)
    return isinstance(f, AppliedUndef) or (cls.eval.__func__ is sp.Function.eval.__func__
                                           and cls.doit is sp.Function.doit and cls._eval_evalf is sp.Function._eval_evalf)


def _doit(expr: sp.Basic) -> sp.Basic:
    """``expr.doit()`` with the sums SymPy cannot evaluate (:func:`_unsummable`) kept as they are."""
    kept = {}  # each such sum stands in as an unknown function of its free symbols (an enclosing index among them)
    inside = set().union(*(x.atoms(sp.Sum) for x in expr.atoms(Expectation)))  # an expectation sums by linearity
    for n, e in enumerate(e for e in expr.atoms(sp.Sum) - inside if _unsummable(e)):
        free = tuple(sorted(e.free_symbols, key=str))
        kept[e] = (sp.Function(f"_kept{n}")(*free), sp.Lambda(free, e))
    done = expr.xreplace({e: stand for e, (stand, _) in kept.items()}).doit()
    return done.replace(lambda a: any(a.func == stand.func for stand, _ in kept.values()),
                        lambda a: next(back for stand, back in kept.values() if a.func == stand.func)(*a.args))


def _evaluate(expr: sp.Basic, rewrite: Rewriter | None = None) -> tuple[sp.Basic, bool]:
    """Carry out unevaluated operators (Derivative, Limit, Integral, Sum, Expectation...),
    rewriting by the premises before and after (evaluating may expose what a premise
    states); report whether anything was evaluated."""
    rewrite = rewrite or Rewriter(())
    start = rewrite(expr)
    done = start
    for _ in range(4):  # evaluate, rewrite what evaluating exposed, until nothing changes
        again = rewrite(_doit(done))
        if again == done:
            break
        done = again
    if done.has(sp.Sum):
        done = _canonical_indices(_within_limits(done))
    return done, done != start


class Rewriter:
    """Rewrite expressions by premise equalities ``a = b`` (every ``a`` replaced by ``b``),
    recording which premises fired, so that a step can refuse a premise it never used.

    >>> a, b, c = sp.symbols("a b c")
    >>> r = Rewriter([(a, b + 1), (c, 2)])
    >>> r(a * 3)
    3*b + 3
    >>> sorted(r.fired)
    [0]
    """

    ROUNDS = 8  # a premise may expose another's left side; a loop like x = x + 1 stops here

    def __init__(self, equalities) -> None:
        self.equalities = [(sp.sympify(a), sp.sympify(b)) for a, b in equalities]
        self.fired: set[int] = set()

    def __call__(self, expr: sp.Basic) -> sp.Basic:
        expr = sp.sympify(expr)
        for _ in range(self.ROUNDS):
            changed = False
            for i, (a, b) in enumerate(self.equalities):
                try:
                    new = expr.subs(a, b)
                except (TypeError, ValueError):  # SymPy cannot substitute there (a symbolic derivative order)
                    new = expr
                if new == expr:  # a pattern under a bound index (a summand z[j]) is replaced structurally
                    new = expr.xreplace({a: b})
                if new != expr:
                    self.fired.add(i)
                    expr, changed = new, True
            if not changed:
                break
        return expr


def confirm_equal(lhs: sp.Basic, rhs: sp.Basic, rewrite: Rewriter | None = None) -> str:
    """Confirm ``lhs == rhs``, after rewriting both sides by the premises (``rewrite``);
    unevaluated operators on either side are carried out, then the premises applied again.

    >>> x = sp.Symbol("x", real=True)
    >>> confirm_equal(sp.Derivative(sp.exp(2 * x), x), 2 * sp.exp(2 * x))
    'evaluate, identical'
    """
    left, evaluated_l = _evaluate(sp.sympify(lhs), rewrite)
    right, evaluated_r = _evaluate(sp.sympify(rhs), rewrite)
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
    rewrite: Rewriter | None = None,
) -> str:
    """Confirm an inequality ``lhs rel rhs`` for every value allowed by the symbols'
    assumptions, or for every value of ``over = (symbol, set)``.

    Tries the assumptions system on the gap, then (non-strict only) the exact extremum
    of the gap over the set (``sympy.calculus.util.minimum``).
    """
    if rel == "=":
        return confirm_equal(lhs, rhs, rewrite)
    if rel not in _SIGN:
        raise ValueError(f"unknown relation {rel!r}; use one of =, <=, <, >=, >")
    left, _ = _evaluate(sp.sympify(lhs), rewrite)
    right, _ = _evaluate(sp.sympify(rhs), rewrite)
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
            return f"exact minimum over ${latex_expr(domain)}$"
        if _nonnegative_at_critical_points(gap, var, domain):
            return f"critical points and ends of ${latex_expr(domain)}$"
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
    return f"exact {kind}imum over ${latex_expr(domain)}$"


def confirm_solutions(equation: sp.Basic, var: sp.Symbol, domain: sp.Set, stated: sp.Set,
                      rewrite: Rewriter | None = None) -> str:
    """Confirm that ``solveset(equation, var, domain)`` is exactly the ``stated`` set, the
    equation first rewritten by the premises."""
    equation = (rewrite or Rewriter(()))(equation)
    found = sp.solveset(equation, var, domain)
    if isinstance(found, sp.ConditionSet):
        raise StepNotChecked(f"SymPy could not solve {equation} for {var}")
    if found != stated and (
        sp.Complement(found, stated) != sp.S.EmptySet or sp.Complement(stated, found) != sp.S.EmptySet
    ):
        raise StepNotChecked(f"solveset gives {found}, not the stated {stated}")
    return "solveset"


def confirm_critical_set(gradient: list[sp.Expr], variables: tuple[sp.Symbol, ...], families: list[dict], member,
                         rewrite: Rewriter | None = None) -> str:
    """Confirm that the zeros of ``gradient`` are exactly the union of ``families``.

    Soundness: the gradient vanishes identically on every family (each a substitution
    ``{symbol: value}`` leaving the other variables free). Completeness: every solution
    ``sympy.solve`` finds satisfies ``member(solution) -> bool`` (lies in the union).
    """
    rewrite = rewrite or Rewriter(())
    gradient = [rewrite(sp.sympify(g)).doit() for g in gradient]
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
