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
from .printing import symbol
from .sources import Source

__all__ = ["derive_scalar", "derive_baldi_hornik", "scalar_loss", "DEPTHS", "SOURCES"]

N = sp.Symbol("N", integer=True, positive=True)
t = sp.Symbol("t", real=True)
d_y = sp.Symbol("d_y", integer=True, positive=True)
k = sp.Symbol("k", integer=True, positive=True)
DEPTHS = (2, 3, 4, 5)
# the critical sets, as sets: a readable name for the terminal, LaTeX for the paper
_SCALAR_CRITICAL = symbol("{P = 1} ∪ {two or more w_i = 0}", r"\{P = 1\} \cup \{\text{two or more } w_i = 0\}")
_REGRESSION_CRITICAL = symbol("{U_{1} C} ∪ {U_{2} C} ∪ {0}", r"\{U_{\{1\}} C\} \cup \{U_{\{2\}} C\} \cup \{0\}")

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
    case = f"$N = {depth}$: "
    loss_def = define(big_l, loss, case + "the loss")
    hess = equal_entrywise(at_point, expected, case + r"at $w = (0, 0, t, \ldots, t)$ only the mixed entry "
                           r"$\partial^2 L/\partial w_1 \partial w_2 = -t^{N-2}$ survives", uses=[loss_def])
    eig = MinEigenvalue(at_point)
    power = "t" if depth == 3 else f"t^{depth - 2}"
    reason = "$N = 2$: eigenvalues $-1$ and $1$" if depth == 2 else case + rf"eigenvalues $\pm {power}$ and zeros"
    smallest = (equal_by_cases(eig, closed, t, reason, uses=[hess]) if depth % 2 else equal(eig, closed, reason, uses=[hess]))
    steps = [loss_def, hess, smallest]
    families = [{w[-1]: 1 / sp.Mul(*w[:-1])}]
    families += [{w[a]: 0, w[b]: 0} for a, b in itertools.combinations(range(depth), 2)]
    origin = {x: 0 for x in w}
    remarks = [
        equal(sp.Derivative(big_l, w[0]), -(1 - product) * sp.Mul(*w[1:]), case + "the gradient", uses=[loss_def]),
        critical_set(sp.Symbol(f"Crit_{depth}"), _SCALAR_CRITICAL,
                     [sp.Derivative(big_l, x) for x in w], w, families, _in_critical_set(w),
                     case + "the critical set (global minima $P = 1$, saddles with two zero weights)", uses=[loss_def]),
    ]
    if depth == 2:
        remarks.append(equal(MaxEigenvalue(Hessian(big_l, w), at=origin), 1,
                             "$N = 2$: the other eigenvalue at the origin is $+1$, so the origin is a strict saddle",
                             uses=[loss_def]))
    else:
        s = sp.Symbol("s", positive=True)  # distance along a curve from the origin
        zero = sp.Subs(big_l, w, (0,) * depth)
        remarks += [
            equal_entrywise(sp.Subs(Hessian(loss, w), w, (0,) * depth), sp.zeros(depth, depth),
                            case + "the Hessian vanishes at the origin (degenerate)"),
            relation(sp.Subs(big_l, w, (s,) * depth) - zero, "<=", -(s**depth) / 2,
                     r"along $w = (s, \ldots, s)$, $0 < s \le 1$, the loss decreases", uses=[loss_def], over=(s, sp.Interval(0, 1))),
            relation(sp.Subs(big_l, w, (s,) * (depth - 1) + (-s,)) - zero, ">", 0,
                     r"along $w = (s, \ldots, s, -s)$ it increases: a higher-order saddle", uses=[loss_def]),
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
    lam = symbol("lambda_min", r"\lambda_{\min}", real=True)
    definition = define(lam, sp.Piecewise(*pieces), r"the smallest eigenvalue of the Hessian at $w = (0, 0, t, \ldots, t)$")
    steps.append(definition)
    closed = sp.Piecewise(*[(-(sp.Abs(t) ** (n - 2)), sp.Eq(N, n)) for n in DEPTHS])
    return Derivation(
        "Scalar deep linear model: critical points",
        steps,
        (lam, "=", closed),
        uses=[definition, *smallest],
        assumptions=(r"$f = w_N \cdots w_1 x$ with $x = 1$, loss $L = (1 - w_N \cdots w_1)^2/2$, $N = 2, \ldots, 5$",),
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

    definition = define(big_l, loss, r"special case $d_y = 2$, $k = 1$, $\Sigma_{xx} = I$, "
                        r"$\Sigma_{yx} = \operatorname{diag}(2, 1)$: the loss $\|\Sigma_{yx} - a b^T\|^2/2$ up to a "
                        r"constant ($W_2 = a$, $W_1 = b^T$)")
    families = [{a2: 0, b2: 0, b1: 2 / a1}, {a1: 0, b1: 0, b2: 1 / a2}, {x: 0 for x in v}]
    return [
        definition,
        critical_set(sp.Symbol("Crit_21"), _REGRESSION_CRITICAL,
                     [sp.Derivative(big_l, x) for x in v], v, families, member,
                     r"its critical points: one rank-1 family for each of the $\binom{2}{1} = 2$ eigenvectors "
                     r"($a = C e_i$, $b = \lambda_i^{1/2} e_i/C$), and the origin", uses=[definition]),
        relation(MinEigenvalue(Hessian(loss, v), at=dict(zip(v, top, strict=True))), ">=", 0,
                 r"at $I = \{1\}$ (the top eigenvector) the Hessian is positive semidefinite"),
        relation(MinEigenvalue(Hessian(big_l, v), at=dict(zip(v, other, strict=True))), "<", 0,
                 r"at $I = \{2\}$ it has a negative eigenvalue: a saddle", uses=[definition]),
        relation(sp.Subs(big_l, v, top), "<", sp.Subs(big_l, v, other),
                 r"and $I = \{1\}$ has the lower loss ($1/2$ against $2$): the minimum is the top projection",
                 uses=[definition]),
    ]


@cache
def derive_baldi_hornik() -> Derivation:
    """Of the binomial(d_y, k) rank-k critical points exactly one is a minimum: the others are
    saddles. Baldi and Hornik (1989), Fact 4, checked for d_y = 2, k = 1."""
    case = _regression_case()
    crit, minima = sp.Symbol("C_k", integer=True, nonnegative=True), sp.Symbol("M_k", integer=True, nonnegative=True)
    count = sp.Symbol("S", integer=True, nonnegative=True)
    critical = cite(crit, "=", sp.binomial(d_y, k), "Fact 4", BALDI,
                    r"with $\Sigma_{xx}$ invertible and distinct eigenvalues $\lambda_1 > \cdots > \lambda_{d_y}$ of "
                    r"$M = \Sigma_{yx} \Sigma_{xx}^{-1} \Sigma_{xy}$, the rank-$k$ critical points of $L(W_2 W_1)$ are "
                    r"$W_2 = U_I C$, $W_1 = C^{-1} U_I^T \Sigma_{yx} \Sigma_{xx}^{-1}$ ($C$ invertible), one for each "
                    r"$k$-subset $I$ of eigenvectors: their number, up to $C$; the case $d_y = 2$, $k = 1$ is checked",
                    uses=[case[1]])
    minimum = cite(minima, "=", 1, "Fact 4", BALDI,
                   r"of these only $I = \{1, \ldots, k\}$ (the top $k$ eigenvectors) is a local minimum, and it is the "
                   r"global one; every other critical point is a saddle; the case $d_y = 2$, $k = 1$ is checked",
                   uses=case[2:])
    saddles = define(count, crit - minima, "the saddles: the rank-$k$ critical points that are not the minimum")
    steps = [*case, critical, minimum, saddles,
             equal(count, sp.binomial(d_y, k) - 1, "the number of $k$-subsets, less the global minimum",
                   uses=[saddles, critical, minimum])]
    return Derivation(
        "Two-layer linear regression: every critical point but one is a saddle",
        steps,
        (count, "=", sp.binomial(d_y, k) - 1),
        assumptions=(
            r"loss $L = \|Y - W_2 W_1 X\|^2/(2n)$, $X$ of full row rank ($\Sigma_{xx}$ invertible), $d_y \le d_x$",
            r"$M = \Sigma_{yx} \Sigma_{xx}^{-1} \Sigma_{xy}$ has $d_y$ distinct positive eigenvalues (almost surely "
            "for random data)",
        ),
    )
