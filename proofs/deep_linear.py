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

from .derivation import (
    Derivation,
    cite,
    critical_set,
    define,
    equal,
    equal_by_cases,
    equal_entrywise,
    relation,
)
from .operators import Hessian, MaxEigenvalue, MinEigenvalue
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


def _point(w: tuple[sp.Symbol, ...]) -> dict:
    """The saddle w = (0, 0, t, ..., t)."""
    return {w[0]: 0, w[1]: 0, **{x: t for x in w[2:]}}


def _scalar_depth(depth: int) -> tuple[list, list]:
    """Steps (the Hessian at (0, 0, t, ..., t) and its smallest eigenvalue) and remarks (the
    critical set, the origin) for one depth."""
    loss, w = scalar_loss(depth)
    big_l = sp.Symbol(f"L_{depth}")
    product = sp.Mul(*w)
    point = _point(w)
    off = -(t ** (depth - 2))  # d^2 L / dw_1 dw_2 = -(1 - P) prod_(j > 2) w_j + ... at the point
    expected = sp.ImmutableMatrix(depth, depth, lambda a, b: off if {a, b} == {0, 1} else 0)
    at_point = sp.Subs(Hessian(big_l, w), w, tuple(point[x] for x in w))
    closed = -(sp.Abs(t) ** (depth - 2))
    loss_def = define(big_l, loss, f"N = {depth}: the loss")
    hess = equal_entrywise(at_point, expected, f"N = {depth}: at w = (0, 0, t, ..., t) only the mixed entry d^2L/dw_1 dw_2 = -t^(N-2) survives",
                           uses=[loss_def])
    eig = MinEigenvalue(at_point)
    reason = "N = 2: eigenvalues -1 and 1" if depth == 2 else f"N = {depth}: eigenvalues +-t^{depth - 2} and zeros"
    smallest = (equal_by_cases(eig, closed, t, reason, uses=[hess]) if depth % 2 else equal(eig, closed, reason, uses=[hess]))
    steps = [loss_def, hess, smallest]
    families = [{w[-1]: 1 / sp.Mul(*w[:-1])}]
    families += [{w[a]: 0, w[b]: 0} for a, b in itertools.combinations(range(depth), 2)]
    origin = {x: 0 for x in w}
    remarks = [
        equal(sp.Derivative(big_l, w[0]), -(1 - product) * sp.Mul(*w[1:]), f"N = {depth}: the gradient", uses=[loss_def]),
        critical_set(sp.Symbol(f"Crit_{depth}"), sp.Symbol(r"\{P = 1\} \cup \{\text{two or more } w_i = 0\}"),
                     [sp.Derivative(big_l, x) for x in w], w, families, _in_critical_set(w),
                     f"N = {depth}: the critical set (global minima P = 1, saddles with two zeros)", uses=[loss_def]),
    ]
    if depth == 2:
        remarks.append(equal(MaxEigenvalue(Hessian(big_l, w), at=origin), 1,
                             "N = 2: the other eigenvalue at the origin is +1, so the origin is a strict saddle",
                             uses=[loss_def]))
    else:
        s = sp.Symbol("s", positive=True)  # distance along a curve from the origin
        zero = sp.Subs(big_l, w, (0,) * depth)
        remarks += [
            equal_entrywise(sp.Subs(Hessian(loss, w), w, (0,) * depth), sp.zeros(depth, depth),
                            f"N = {depth}: the Hessian vanishes at the origin (degenerate)"),
            relation(sp.Subs(big_l, w, (s,) * depth) - zero, "<=", -(s**depth) / 2,
                     "along w = (s, ..., s), 0 < s <= 1, the loss decreases", uses=[loss_def], over=(s, sp.Interval(0, 1))),
            relation(sp.Subs(big_l, w, (s,) * (depth - 1) + (-s,)) - zero, ">", 0,
                     "along w = (s, ..., s, -s) it increases: a higher-order saddle", uses=[loss_def]),
        ]
    return steps, remarks


@cache
def derive_scalar() -> Derivation:
    """The smallest Hessian eigenvalue at (0, 0, t, ..., t), N = 2..5; the critical set and the
    origin as remarks."""
    steps, remarks, pieces, smallest = [], [], [], []
    for depth in DEPTHS:
        more, notes = _scalar_depth(depth)
        steps += more
        remarks += notes
        pieces.append((more[-1].lhs, sp.Eq(N, depth)))
        smallest.append(more[-1])
    lam = sp.Symbol("lambda_min", real=True)
    definition = define(lam, sp.Piecewise(*pieces), "the smallest eigenvalue of the Hessian at w = (0, 0, t, ..., t)")
    steps.append(definition)
    closed = sp.Piecewise(*[(-(sp.Abs(t) ** (n - 2)), sp.Eq(N, n)) for n in DEPTHS])
    return Derivation(
        "Scalar deep linear model: critical points",
        steps,
        (lam, "=", closed),
        uses=[definition, *smallest],
        assumptions=("f = w_N ... w_1 x with x = 1, loss L = (1 - w_N ... w_1)^2 / 2, N = 2, ..., 5",),
        remarks=remarks,
    )


def _regression_case() -> list:
    """d_y = 2, k = 1, Sigma_xx = I, Sigma_yx = diag(2, 1) (M = diag(4, 1)): W2 = a, W1 = b^T."""
    a1, a2, b1, b2 = v = sp.symbols("a_1 a_2 b_1 b_2", real=True)
    loss = ((2 - a1 * b1) ** 2 + (a1 * b2) ** 2 + (a2 * b1) ** 2 + (1 - a2 * b2) ** 2) / 2
    big_l = sp.Symbol("L_21")
    top, other = (2, 0, 1, 0), (0, 1, 0, 1)  # I = {1} and I = {2}, C = 2 and C = 1

    def member(sol: dict) -> bool:
        a, b = [sol.get(x, x) for x in (a1, a2)], [sol.get(x, x) for x in (b1, b2)]
        zero = lambda e: sp.simplify(e) == 0  # noqa: E731
        return (zero(a[1]) and zero(b[1]) and zero(a[0] * b[0] - 2)) or (zero(a[0]) and zero(b[0]) and zero(a[1] * b[1] - 1)) \
            or all(zero(e) for e in (*a, *b))

    definition = define(big_l, loss, "special case d_y = 2, k = 1, Sigma_xx = I, Sigma_yx = diag(2, 1): the loss "
                        "||Sigma_yx - a b^T||^2 / 2 up to a constant (W2 = a, W1 = b^T)")
    families = [{a2: 0, b2: 0, b1: 2 / a1}, {a1: 0, b1: 0, b2: 1 / a2}, {x: 0 for x in v}]
    return [
        definition,
        critical_set(sp.Symbol("Crit_21"), sp.Symbol(r"\{U_{\{1\}} C\} \cup \{U_{\{2\}} C\} \cup \{0\}"),
                     [sp.Derivative(big_l, x) for x in v], v, families, member,
                     "its critical points: one rank-1 family for each of the binomial(2, 1) = 2 eigenvectors "
                     "(a = C e_i, b = lambda_i^(1/2) e_i / C), and the origin", uses=[definition]),
        relation(MinEigenvalue(Hessian(loss, v), at=dict(zip(v, top, strict=True))), ">=", 0,
                 "at I = {1} (the top eigenvector) the Hessian is positive semidefinite"),
        relation(MinEigenvalue(Hessian(big_l, v), at=dict(zip(v, other, strict=True))), "<", 0,
                 "at I = {2} it has a negative eigenvalue: a saddle", uses=[definition]),
        relation(sp.Subs(big_l, v, top), "<", sp.Subs(big_l, v, other),
                 "and I = {1} has the lower loss (1/2 against 2): the minimum is the top projection", uses=[definition]),
    ]


@cache
def derive_baldi_hornik() -> Derivation:
    """Of the binomial(d_y, k) rank-k critical points exactly one is a minimum: the others are
    saddles. Baldi and Hornik (1989), Fact 4, checked for d_y = 2, k = 1."""
    case = _regression_case()
    crit, minima = sp.Symbol("C_k", integer=True, nonnegative=True), sp.Symbol("M_k", integer=True, nonnegative=True)
    count = sp.Symbol("S", integer=True, nonnegative=True)
    critical = cite(crit, "=", sp.binomial(d_y, k), "Fact 4", BALDI,
                    "with Sigma_xx invertible and distinct eigenvalues lambda_1 > ... > lambda_dy of M = Sigma_yx "
                    "Sigma_xx^-1 Sigma_xy, the rank-k critical points of L(W2 W1) are W2 = U_I C, W1 = C^-1 U_I^T "
                    "Sigma_yx Sigma_xx^-1 (C invertible), one for each k-subset I of eigenvectors: their number, up to C; "
                    "the case d_y = 2, k = 1 is checked in (2)", uses=[case[1]])
    minimum = cite(minima, "=", 1, "Fact 4", BALDI,
                   "of these only I = {1, ..., k} (the top k eigenvectors) is a local minimum, and it is the global one; "
                   "every other critical point is a saddle; the case d_y = 2, k = 1 is checked in (3), (4) and (5)",
                   uses=case[2:])
    saddles = define(count, crit - minima, "the saddles: the rank-k critical points that are not the minimum")
    steps = [*case, critical, minimum, saddles,
             equal(count, sp.binomial(d_y, k) - 1, "the number of k-subsets, less the global minimum",
                   uses=[saddles, critical, minimum])]
    return Derivation(
        "Two-layer linear regression: every critical point but one is a saddle",
        steps,
        (count, "=", sp.binomial(d_y, k) - 1),
        assumptions=(
            "loss L = ||Y - W2 W1 X||^2 / (2n), X of full row rank (Sigma_xx invertible), d_y <= d_x",
            "M = Sigma_yx Sigma_xx^-1 Sigma_xy has d_y distinct positive eigenvalues (almost surely for random data)",
        ),
    )
