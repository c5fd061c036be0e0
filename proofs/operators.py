r"""Unevaluated operators for the left side of a step: the work stays on the page.

A step such as "the Hessian at the origin has smallest eigenvalue -1" is written with
its computation as an unevaluated SymPy expression, ``MinEigenvalue(Hessian(L, w).subs(...))``,
which the checker evaluates (``doit``) and compares. Nothing is computed in Python before
the step is built, so a reader sees what SymPy confirmed.

- :class:`Expectation`: :math:`\mathbb{E}[X]` with linearity over declared random atoms;
  moments of the random atoms stay unevaluated, for a hypothesis step to supply.
- :class:`Hessian`: the matrix of second derivatives.
- :class:`MinEigenvalue`, :class:`MaxEigenvalue`: extreme eigenvalues of a symbolic matrix.
- :class:`Quadrature`: an integral with no closed form, kept unevaluated, evaluated numerically.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import mpmath
import sympy as sp

__all__ = ["Expectation", "Hessian", "MinEigenvalue", "MaxEigenvalue", "Gradient", "Quadrature"]


def _is_random(expr: sp.Basic, random: tuple) -> bool:
    return any(expr.has(r) for r in random)


def _merge_sums(factors: list[sp.Basic]) -> sp.Basic:
    """A product of sums over distinct dummies as one nested sum: (sum_j a_j)(sum_k b_k) =
    sum_j sum_k a_j b_k."""
    inner: sp.Expr = sp.Integer(1)
    limits: list[Any] = []
    for f in factors:
        if isinstance(f, sp.Sum):
            body = f.function
            for v, a, b in f.limits:
                if any(v == u for u, _, _ in limits):  # the same dummy in two sums: rename the later one
                    fresh = sp.Symbol(v.name + "'", **v.assumptions0)
                    while any(fresh == u for u, _, _ in limits) or body.has(fresh):
                        fresh = sp.Symbol(fresh.name + "'", **v.assumptions0)
                    body, v = body.xreplace({v: fresh}), fresh
                limits.append((v, a, b))
            inner *= body
        else:
            inner *= f
    return sp.Sum(inner, *limits) if limits else inner


class Expectation(sp.Expr):
    r"""An expectation :math:`\mathbb{E}[X]`, evaluated (``doit``) by linearity only.

    ``random`` names the random atoms (symbols, indexed bases or functions applied);
    every factor free of them leaves the expectation. What remains, moments of the
    random atoms, is left unevaluated: a premise states it (a hypothesis of the model).
    The square of a sum over ``j`` becomes a double sum over ``j`` and ``j'``.

    >>> W, x = sp.IndexedBase("W"), sp.IndexedBase("x")
    >>> j, k, n = sp.symbols("j k n", integer=True, positive=True)
    >>> h = sp.Sum(W[j] * x[j], (j, 1, n))
    >>> Expectation(h**2, (W,)).doit()
    Sum(E[W[j']*W[j]]*x[j']*x[j], (j, 1, n), (j', 1, n))
    """

    is_commutative = True

    def __new__(cls, expr, random=()):
        return sp.Expr.__new__(cls, sp.sympify(expr), sp.Tuple(*random))

    @property
    def expr(self) -> sp.Basic:
        return self.args[0]

    @property
    def random(self) -> tuple:
        return tuple(self.args[1])

    def doit(self, **hints):
        expr = self.expr.doit(**hints) if hints.get("deep", True) else self.expr
        return self._linear(expr)

    def _linear(self, expr: sp.Basic) -> sp.Basic:
        random = self.random
        if not _is_random(expr, random):
            return expr
        if isinstance(expr, sp.Add):
            return sp.Add(*[self._linear(a) for a in expr.args])
        if isinstance(expr, sp.Sum):
            return sp.Sum(self._linear(expr.function), *expr.limits)
        if isinstance(expr, sp.Pow) and isinstance(expr.base, sp.Sum) and expr.exp == 2:
            again = expr.base.xreplace({d: sp.Symbol(d.name + "'", **d.assumptions0) for d in expr.base.variables})
            return self._linear(_merge_sums([expr.base, again]))
        if isinstance(expr, sp.Mul):
            if any(isinstance(f, sp.Sum) for f in expr.args):
                return self._linear(_merge_sums(list(expr.args)))
            if any(isinstance(f, sp.Add) and _is_random(f, random) for f in expr.args):
                return self._linear(sp.expand(expr))
            fixed = [f for f in expr.args if not _is_random(f, random)]
            moving = [f for f in expr.args if _is_random(f, random)]
            return sp.Mul(*fixed) * Expectation(sp.Mul(*moving), random)
        expanded = sp.expand(expr)
        if expanded != expr:
            return self._linear(expanded)
        return Expectation(expr, random)

    def _latex(self, printer) -> str:
        return rf"\mathbb{{E}}\left[{printer._print(self.expr)}\right]"

    def _sympystr(self, printer) -> str:
        return f"E[{printer._print(self.expr)}]"


class Hessian(sp.Expr):
    """The Hessian matrix of ``f`` in ``variables``, unevaluated until ``doit``.

    >>> a, b = sp.symbols("a b", real=True)
    >>> Hessian(a**2 * b, (a, b)).doit()
    Matrix([
    [2*b, 2*a],
    [2*a,   0]])
    """

    def __new__(cls, f, variables):
        return sp.Expr.__new__(cls, sp.sympify(f), sp.Tuple(*variables))

    def doit(self, **hints):
        return sp.ImmutableMatrix(sp.hessian(self.args[0], tuple(self.args[1])))

    def _latex(self, printer) -> str:
        return rf"\nabla^2 \left({printer._print(self.args[0])}\right)"

    def _sympystr(self, printer) -> str:
        return f"Hessian({printer._print(self.args[0])})"


class Gradient(sp.Expr):
    """The gradient of ``f`` in ``variables`` as a column, unevaluated until ``doit``."""

    def __new__(cls, f, variables):
        return sp.Expr.__new__(cls, sp.sympify(f), sp.Tuple(*variables))

    def doit(self, **hints):
        return sp.ImmutableMatrix([sp.diff(self.args[0], v) for v in self.args[1]])

    def _latex(self, printer) -> str:
        return rf"\nabla \left({printer._print(self.args[0])}\right)"

    def _sympystr(self, printer) -> str:
        return f"Gradient({printer._print(self.args[0])})"


class _Eigenvalue(sp.Expr):
    _pick = None
    _name = ""

    def __new__(cls, matrix, at=None):
        args = (sp.sympify(matrix),) if at is None else (sp.sympify(matrix), sp.Dict(at))
        return sp.Expr.__new__(cls, *args)

    def doit(self, **hints):
        m = self.args[0].doit(**hints)
        if len(self.args) > 1:
            m = m.subs(dict(self.args[1]))
        return type(self)._pick(*sp.ImmutableMatrix(m).eigenvals())

    def _latex(self, printer) -> str:
        at = ""
        if len(self.args) > 1:
            at = r"\Big|_{" + ", ".join(f"{printer._print(k)} = {printer._print(v)}" for k, v in self.args[1].items()) + "}"
        return rf"\lambda_{{\{self._name}}}\left({printer._print(self.args[0])}{at}\right)"

    def _sympystr(self, printer) -> str:
        at = f" at {dict(self.args[1])}" if len(self.args) > 1 else ""
        return f"lambda_{self._name}({printer._print(self.args[0])}{at})"


class MinEigenvalue(_Eigenvalue):
    """The smallest eigenvalue of a (real symmetric) matrix, optionally at a point ``at``.

    >>> a, b = sp.symbols("a b", real=True)
    >>> MinEigenvalue(Hessian(a * b, (a, b))).doit()
    -1
    """

    _pick = sp.Min
    _name = "min"


class MaxEigenvalue(_Eigenvalue):
    """The largest eigenvalue of a (real symmetric) matrix, optionally at a point ``at``."""

    _pick = sp.Max
    _name = "max"


class Quadrature(sp.Integral):
    """An integral with no closed form, left for numerical quadrature: ``doit`` keeps it (SymPy
    would spend many seconds failing to find an antiderivative). It prints and evaluates
    (``evalf``) as an ordinary :class:`~sympy.Integral`."""

    def doit(self, **hints):
        return self

    def _eval_evalf(self, prec):
        return _quadrature(sp.Integral(*self.args), prec)


@lru_cache(maxsize=64)
def _quadrature(integral: sp.Integral, prec: int) -> sp.Float:
    """One quadrature per integral and precision: SymPy's assumption queries evaluate it often."""
    return integral.evalf(mpmath.libmp.prec_to_dps(prec), maxn=400)
