r"""Double descent of min-norm least squares with isotropic Gaussian features.

Data :math:`y = X\beta + \varepsilon` with :math:`X \in \mathbb R^{n\times p}` of iid
:math:`N(0, 1)` entries, :math:`\|\beta\|^2 = r^2`, noise :math:`\varepsilon \sim N(0, \sigma^2 I_n)`;
the estimator is the minimum-norm least-squares solution :math:`\hat\beta = X^+ y`, and its
excess risk at a fresh isotropic input :math:`x \sim N(0, I_p)` is
:math:`R = E\,(x^\top\hat\beta - x^\top\beta)^2 = E\|\hat\beta - \beta\|^2`.

**Exact at finite n** (``double-descent.finite-n``). For :math:`p < n - 1`, :math:`\hat\beta - \beta =
(X^\top X)^{-1}X^\top\varepsilon`, and the inverse-Wishart mean :math:`E (X^\top X)^{-1} = I_p/(n - p - 1)`
gives :math:`R = \sigma^2 p/(n - p - 1)`. For :math:`p > n + 1`, :math:`\hat\beta - \beta = -(I - P)\beta
+ X^\top(XX^\top)^{-1}\varepsilon` with :math:`P` the projection on the row space of :math:`X`, a uniformly
random n-dimensional subspace (rotation invariance), so :math:`E P = (n/p) I` and

.. math::

    R = r^2\left(1 - \frac np\right) + \sigma^2\frac{n}{p - n - 1} \qquad (p > n + 1),

the noise term again an inverse-Wishart mean, now of :math:`XX^\top \sim W_n(I, p)`.

**The limit** (``double-descent.ridgeless``, Hastie, Montanari, Rosset and Tibshirani 2019,
arXiv:1903.08560, isotropic case). With :math:`p = \gamma n` and :math:`n \to \infty`,

.. math::

    R \to \sigma^2\frac{\gamma}{1 - \gamma}\ (\gamma < 1), \qquad
    R \to r^2\left(1 - \frac1\gamma\right) + \frac{\sigma^2}{\gamma - 1}\ (\gamma > 1),

diverging at the interpolation threshold :math:`\gamma = 1` from both sides. The finite-n forms are
the limits with :math:`\gamma - 1` shifted by :math:`\mp 1/n`, so the approach is a power series in
:math:`1/(n|1 - \gamma|)`: the trap is the band around :math:`\gamma = 1`, where no moderate n is
asymptotic.
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from .derivation import Derivation, cite, define, equal
from .operators import Expectation
from .rules import equivalent, limit_by_branches
from .sources import MUIRHEAD, Source

__all__ = [
    "gamma",
    "sigma",
    "r",
    "n",
    "p",
    "finite_risk",
    "limiting_risk",
    "derive_finite",
    "derive_ridgeless",
    "HASTIE",
    "MUIRHEAD",
    "SOURCES",
]

# The claims' parameters (matched by name and assumptions with workbench.parameters).
gamma = sp.Symbol("gamma", real=True, positive=True)  # aspect ratio p/n
sigma = sp.Symbol("sigma", real=True, positive=True)  # noise standard deviation
r = sp.Symbol("r", real=True)  # signal norm ||beta||
n = sp.Symbol("n", integer=True, positive=True)  # samples
p = sp.Symbol("p", integer=True, positive=True)  # features

m = sp.Symbol("m", positive=True)  # degrees of freedom beyond 2 of a chi-square
x = sp.Symbol("x", positive=True)

E = sp.Function("E")
R = sp.Function("R")  # R(n, p): the excess risk of min-norm least squares
R_inf = sp.Function(r"R_{\infty}")  # the limit at aspect ratio gamma
Einv = sp.Function(r"\mathbb{E}\,\mathrm{tr}(G^{\top}G)^{-1}")  # Einv(k, d): for a k x d Gaussian matrix G

HASTIE = Source(
    "hastie2019",
    "Trevor Hastie and Andrea Montanari and Saharon Rosset and Ryan J. Tibshirani",
    "Surprises in high-dimensional ridgeless least squares interpolation",
    "The Annals of Statistics",
    2022,
    arxiv="1903.08560",
    doi="10.1214/21-AOS2133",
    volume="50",
    number="2",
    pages="949-986",
)
SOURCES = (HASTIE, MUIRHEAD)


def finite_risk(samples: sp.Basic = n, features: sp.Basic = p, noise: sp.Basic = sigma, norm: sp.Basic = r) -> sp.Basic:
    r"""The exact finite-n risk :math:`E\|X^+y - \beta\|^2` (valid for :math:`|p - n| \ge 2`).

    >>> one = sp.Integer(1)
    >>> finite_risk(sp.Integer(10), sp.Integer(4), one, one), finite_risk(sp.Integer(4), sp.Integer(10), one, one)
    (4/5, 7/5)
    """
    below = noise**2 * features / (samples - features - 1)
    above = norm**2 * (1 - samples / features) + noise**2 * samples / (features - samples - 1)
    return sp.Piecewise((below, sp.StrictLessThan(features, samples)), (above, True))


def limiting_risk(ratio: sp.Basic = gamma, noise: sp.Basic = sigma, norm: sp.Basic = r) -> sp.Basic:
    r"""The limit :math:`n \to \infty` at :math:`p/n = \gamma \ne 1`.

    >>> limiting_risk(sp.Rational(1, 2), 1, 1), limiting_risk(sp.Integer(2), 1, 1)
    (1, 3/2)
    """
    return sp.Piecewise(
        (noise**2 * ratio / (1 - ratio), sp.StrictLessThan(ratio, 1)),
        (norm**2 * (1 - 1 / ratio) + noise**2 / (ratio - 1), True),
    )


def _chi2_density(dof: sp.Basic) -> sp.Basic:
    return x ** (dof / 2 - 1) * sp.exp(-x / 2) / (2 ** (dof / 2) * sp.gamma(dof / 2))


def _finite_steps() -> list:
    """The finite-n proof; its last step is R(n, p) = finite_risk()."""
    rows, cols = sp.symbols("k d", integer=True, positive=True)
    X = sp.MatrixSymbol("X", n, p)
    projection = sp.MatMul(X * X.T, sp.Inverse(X * X.T), evaluate=False)  # P_X = X^T (X X^T)^-1 X, cycled in tr
    decomposition = sp.Piecewise(
        (sigma**2 * Einv(n, p), p < n),
        (r**2 * (1 - Expectation(sp.Trace(projection), (X,)) / p) + sigma**2 * Einv(p, n), True))
    risk = define(R(n, p), E(sp.Symbol(r"\|\hat{\beta}-\beta\|^{2}")),
                  "the excess risk at a fresh input x ~ N(0, I_p): E (x^T beta_hat - x^T beta)^2 = "
                  "E ||beta_hat - beta||^2, beta_hat = X^+ y the minimum-norm least-squares solution")
    split = cite(R(n, p), "=", decomposition, "Section 2", HASTIE,
                 "bias-variance decomposition of min-norm least squares: p < n: beta_hat - beta = (X^T X)^-1 X^T eps, "
                 "whose mean square given X is sigma^2 tr (X^T X)^-1; p > n: beta_hat - beta = -(I - P_X) beta + "
                 "X^T (X X^T)^-1 eps, P_X the projection on the row space, whose mean E P_X = (E tr P_X / p) I by "
                 "rotation invariance; the cross terms vanish as E eps = 0", uses=[risk])
    one = equal(sp.Integral(_chi2_density(m + 2) / x, (x, 0, sp.oo)), 1 / m,
                "the lemma in dimension d = 1: X^T X ~ chi^2_k, and E[1/chi^2_k] = 1/(k - 2) = d/(k - d - 1), k = m + 2")
    wishart = cite(Einv, "=", sp.Lambda((rows, cols), cols / (rows - cols - 1)), "Section 3.2", MUIRHEAD,
                   "the inverse-Wishart mean: for a k x d matrix G of iid N(0, 1) entries and k > d + 1, "
                   "E (G^T G)^-1 = I_d/(k - d - 1), so E tr (G^T G)^-1 = d/(k - d - 1); E tr (X X^T)^-1 is the case "
                   "G = X^T (k = p, d = n); the case d = 1 is the checked integral", uses=[one])
    exact = equal(decomposition, finite_risk(),
                  "the inverse-Wishart means, and tr P_X = n: P_X = X^T (X X^T)^-1 X has rank n, its trace is "
                  "tr(X X^T (X X^T)^-1) = tr I_n whatever X", uses=[wishart])
    return [risk, split, one, wishart, exact,
            equal(R(n, p), finite_risk(), "the exact risk at finite n, for |p - n| >= 2", uses=[split, exact])]


@cache
def derive_finite() -> Derivation:
    """R(n, p) = sigma^2 p/(n - p - 1) for p < n - 1 and r^2 (1 - n/p) + sigma^2 n/(p - n - 1) for p > n + 1."""
    steps = _finite_steps()[:-1]
    return Derivation(
        "Exact risk of min-norm least squares with Gaussian features",
        steps,
        (R(n, p), "=", finite_risk()),
        uses=[steps[1], steps[-1]],
        assumptions=(
            "X has iid N(0, 1) entries (n samples, p features), y = X beta + eps, ||beta|| = r, eps ~ N(0, sigma^2 I_n) "
            "independent of X; for p > n, beta is fixed (or independent of X)",
            "|p - n| >= 2, where the inverse-Wishart means are finite; the risk is infinite for |p - n| <= 1",
        ),
    )


@cache
def derive_ridgeless() -> Derivation:
    """The limit n -> oo at p = gamma n: sigma^2 gamma/(1 - gamma) below 1, r^2 (1 - 1/gamma) + sigma^2/(gamma - 1) above."""
    steps = _finite_steps()
    finite = steps[-1]
    shifted = sp.Piecewise((sigma**2 * gamma / (1 - gamma - 1 / n), gamma < 1),
                           (r**2 * (1 - 1 / gamma) + sigma**2 / (gamma - 1 - 1 / n), True))
    closed = limiting_risk()
    ratio = define(p, gamma * n, "p = gamma n features")
    below = equivalent(sp.StrictGreaterThan(n, gamma * n), sp.StrictLessThan(gamma, 1), gamma,
                        sp.Interval.open(0, sp.oo), "p < n means gamma < 1 (n > 0)")
    at_ratio = equal(R(n, p), shifted, "at p = gamma n the finite-n risk is the limit with gamma - 1 shifted by -+1/n",
                     uses=[finite, ratio, below])
    limit = define(R_inf(gamma), sp.Limit(R(n, p), n, sp.oo), "the proportional limit n -> oo at fixed gamma = p/n")
    steps += [ratio, below, at_ratio, limit,
              limit_by_branches(sp.Limit(R(n, p), n, sp.oo), closed, n, "so the limiting risk", uses=[at_ratio])]
    remarks = [
        equal(sp.Limit((1 - gamma) / (sigma**2 * gamma), gamma, 1, "-"), 0,
              "it diverges at the interpolation threshold from below (its reciprocal tends to 0 through positive values)"),
        equal(sp.Limit(1 / (r**2 * (1 - 1 / gamma) + sigma**2 / (gamma - 1)), gamma, 1, "+"), 0, "and from above"),
        equal(sp.Limit(r**2 * (1 - 1 / gamma) + sigma**2 / (gamma - 1), gamma, sp.oo), r**2,
              "and tends to the null risk r^2 (beta_hat -> 0) as gamma -> oo"),
    ]
    return Derivation(
        "Limiting risk of ridgeless least squares (double descent)",
        steps,
        (R_inf(gamma), "=", closed),
        uses=[limit, steps[-1]],
        assumptions=(
            "isotropic Gaussian features as in the finite-n derivation, p = gamma n, n -> oo at fixed gamma != 1",
            "the excess risk is E ||beta_hat - beta||^2; it is finite only for |p - n| >= 2 and diverges at gamma = 1",
        ),
        remarks=remarks,
    )
