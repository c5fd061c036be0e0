r"""Deep linear networks: the critical points of the scalar model and of two-layer
regression (Baldi & Hornik 1989).

Scalar model: :math:`f = w_N \cdots w_1 x`, loss :math:`L = (1 - w_N \cdots w_1)^2/2`.
Its gradient is :math:`\partial_i L = -(1 - P) \prod_{j \ne i} w_j` with :math:`P = \prod_j w_j`,
so the critical set is :math:`\{P = 1\}` (global minima, L = 0) together with the points
having at least two zero weights (saddles). At :math:`w = (0, 0, t, \dots, t)` the Hessian
has a single off-diagonal pair :math:`-t^{N-2}`: its smallest eigenvalue is
:math:`-|t|^{N-2}`, which at the origin is -1 for N = 2 (a strict saddle) and 0 for N >= 3,
where a descent curve shows the degenerate origin is still a saddle.

Symbols use the claims' parameter names: ``N`` (depth), ``t``, ``d_y``, ``k``.
"""

from __future__ import annotations

import itertools
from functools import cache

import sympy as sp

from .derivation import Derivation, cite, critical_set, define, equal, equal_by_cases, relation, substitute
from .sources import Source

__all__ = ["derive_scalar", "derive_baldi_hornik", "scalar_loss", "DEPTHS", "SOURCES"]

N = sp.Symbol("N", integer=True, positive=True)
t = sp.Symbol("t", real=True)
d_y = sp.Symbol("d_y", integer=True, positive=True)
k = sp.Symbol("k", integer=True, positive=True)
DEPTHS = (2, 3, 4, 5)

BALDI = Source(
    "baldi1989",
    "Pierre Baldi and Kurt Hornik",
    "Neural networks and principal component analysis: learning from examples without local minima",
    "Neural Networks",
    1989,
    doi="10.1016/0893-6080(89)90014-2",
    volume="2",
    number="1",
    pages="53-58",
)
KAWAGUCHI = Source(
    "kawaguchi2016",
    "Kenji Kawaguchi",
    "Deep learning without poor local minima",
    "Advances in Neural Information Processing Systems 29 (NeurIPS)",
    2016,
    arxiv="1605.07110",
    kind="inproceedings",
)
SOURCES = (BALDI, KAWAGUCHI)


def _weights(depth: int) -> tuple[sp.Symbol, ...]:
    return sp.symbols(f"w1:{depth + 1}", real=True)


def scalar_loss(depth: int) -> tuple[sp.Expr, tuple[sp.Symbol, ...]]:
    w = _weights(depth)
    return (1 - sp.Mul(*w)) ** 2 / 2, w


def _in_critical_set(w: tuple[sp.Symbol, ...]):
    product = sp.Mul(*w)

    def member(solution: dict) -> bool:
        if sum(solution.get(x, x) == 0 for x in w) >= 2:
            return True
        return sp.simplify(product.subs(solution) - 1) == 0

    return member


def _scalar_steps(depth: int) -> list:
    loss, w = scalar_loss(depth)
    product = sp.Mul(*w)
    gradient = [sp.diff(loss, x) for x in w]
    steps = [
        equal(sp.Derivative(loss, w[0]), -(1 - product) * sp.Mul(*w[1:]), f"N = {depth}: the gradient"),
    ]
    families = [{w[-1]: 1 / sp.Mul(*w[:-1])}]
    families += [{w[a]: 0, w[b]: 0} for a, b in itertools.combinations(range(depth), 2)]
    crit = sp.Symbol(f"Crit_{depth}")
    described = sp.Symbol(r"\{P = 1\} \cup \{\text{two or more } w_i = 0\}")
    steps.append(critical_set(crit, described, gradient, w, families, _in_critical_set(w),
                              f"N = {depth}: the critical set (global minima P = 1, saddles with two zeros)"))
    origin = {x: 0 for x in w}
    hess0 = sp.hessian(loss, w).subs(origin)
    eig0 = list(hess0.eigenvals())
    if depth == 2:
        steps.append(equal(sp.Min(*eig0), -1, "N = 2: the Hessian at the origin has eigenvalues -1 and 1"))
        steps.append(equal(sp.Max(*eig0), 1, "so the origin is a strict saddle"))
    else:
        s = sp.Symbol("s", positive=True)  # distance along a curve from the origin
        down = loss.subs({x: s for x in w}) - loss.subs(origin)
        up = loss.subs({**{x: s for x in w[:-1]}, w[-1]: -s}) - loss.subs(origin)
        steps += [
            equal(sum(sp.Abs(e) for e in hess0), 0, f"N = {depth}: the Hessian vanishes at the origin (degenerate)"),
            equal(down, -(s**depth) + s ** (2 * depth) / 2, "along w = (s, ..., s) the loss changes by"),
            relation(-(s**depth) + s ** (2 * depth) / 2, "<=", -(s**depth) / 2, "for 0 < s <= 1",
                     over=(s, sp.Interval(0, 1))),
            relation(-(s**depth) / 2, "<", 0, "so the loss decreases"),
            relation(up, ">", 0, "along w = (s, ..., s, -s) it increases: a higher-order saddle"),
        ]
    return steps


def _hessian_min_at_two_zeros(depth: int) -> sp.Expr:
    loss, w = scalar_loss(depth)
    point = {w[0]: 0, w[1]: 0, **{x: t for x in w[2:]}}
    return sp.Min(*sp.hessian(loss, w).subs(point).eigenvals())


@cache
def derive_scalar() -> Derivation:
    """Critical set, origin and the smallest Hessian eigenvalue at (0, 0, t, ..., t), N = 2..5."""
    steps = []
    for depth in DEPTHS:
        steps += _scalar_steps(depth)
    lam = sp.Symbol("lambda_min", real=True)
    computed = sp.Piecewise(*[(_hessian_min_at_two_zeros(n), sp.Eq(N, n)) for n in DEPTHS])
    closed = sp.Piecewise(*[(-(sp.Abs(t) ** (n - 2)), sp.Eq(N, n)) for n in DEPTHS])
    steps += [
        define(lam, computed, "smallest eigenvalue of the Hessian at w = (0, 0, t, ..., t), by SymPy for each N"),
        equal_by_cases(computed, closed, t, "a single off-diagonal pair -t^(N-2): eigenvalues +-t^(N-2) and zeros"),
    ]
    return Derivation(
        "Scalar deep linear model: critical points",
        steps,
        (lam, "=", closed),
        assumptions=("f = w_N ... w_1 x with x = 1, loss L = (1 - w_N ... w_1)^2 / 2, N = 2, ..., 5",),
    )


@cache
def derive_baldi_hornik() -> Derivation:
    """Of the rank-k critical points (k-subsets of eigenvectors) exactly one is a minimum."""
    lam_i, lam_j = sp.symbols("lambda_i lambda_j", positive=True)
    gap = sp.Symbol("delta", positive=True)  # lambda_j - lambda_i > 0
    count = sp.Symbol("S", integer=True, nonnegative=True)
    subsets = sp.binomial(d_y, k)
    steps = [
        cite(sp.Symbol("Crit_k"), "=", sp.Symbol(r"\{U_I : I \subset \{1..d_y\}, |I| = k\}"),
             "with full-rank Sigma_xx and distinct eigenvalues lambda_1 > ... > lambda_dy of "
             "M = Sigma_yx Sigma_xx^-1 Sigma_xy, the rank-k critical points of L(W2 W1) are W2 = U_I C, "
             "W1 = C^-1 U_I^T Sigma_yx Sigma_xx^-1 (C invertible), one for each k-subset I of eigenvectors", BALDI),
        cite(sp.Symbol("L(I)"), "=", (sp.Symbol("tr Sigma_yy") - sp.Symbol("sum_{i in I} lambda_i")) / 2,
             "the loss at the critical point of I", BALDI),
        substitute(-(lam_j - lam_i) / 2, {lam_j: lam_i + gap},
                   "if some j outside I has lambda_j = lambda_i + delta > lambda_i for an i in I, swapping i for j "
                   "changes the loss by"),
        relation(-gap / 2, "<", 0, "so I is not a minimum: rotating u_i towards u_j descends (a saddle)"),
        define(count, subsets - 1, "every I except the top k has such a pair: the saddles"),
        equal(subsets - 1, sp.binomial(d_y, k) - 1, "the number of k-subsets, less the global minimum"),
    ]
    return Derivation(
        "Two-layer linear regression: every critical point but one is a saddle",
        steps,
        (count, "=", sp.binomial(d_y, k) - 1),
        assumptions=(
            "loss L = ||Y - W2 W1 X||^2 / (2n), X of full row rank (Sigma_xx invertible), d_y <= d_x",
            "M = Sigma_yx Sigma_xx^-1 Sigma_xy has d_y distinct positive eigenvalues (almost surely for random data)",
        ),
    )
