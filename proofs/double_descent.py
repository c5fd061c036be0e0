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

**The 1/n correction of the sweep** (``derive_ridgeless_correction``). The sweep measures, at each n, the
mean over the randomised rounding :math:`p = \lfloor\gamma n\rfloor + \mathrm{Bernoulli}(w)`,
:math:`f = \gamma n - \lfloor\gamma n\rfloor`, :math:`w = f` below the threshold and :math:`f(\gamma n - f + 1)/(\gamma n)`
above it (so that :math:`E[n/p] = 1/\gamma`): :math:`M(n) = (1 - w) R(n, \gamma n - f) + w R(n, \gamma n - f + 1)`.
Its expansion :math:`M(n) = R_\infty + b_1/n + b_2/n^2 + \dots` has

.. math::

    b_1 = \frac{\sigma^2\gamma}{(1 - \gamma)^2}\ (\gamma < 1), \qquad b_1 = \frac{\sigma^2}{(\gamma - 1)^2}\ (\gamma > 1),

whatever :math:`f` (the rounding moves the mean of :math:`p` by :math:`O(1/n)` at most), checked by SymPy from the
exact finite-n risk. The trap: :math:`b_2` is not a constant of the sweep. It carries :math:`f(1 - f)\,\sigma^2`
(over :math:`(1 - \gamma)^3`, or :math:`\gamma(\gamma - 1)^3`), and :math:`f` changes with n unless :math:`\gamma n` is an
integer: so :math:`b_2` is fitted, not derived. With the linear rounding above the threshold it would also carry
:math:`-f(1 - f)\, r^2/\gamma^3`, a jagged term that no noise hides when :math:`r \gg \sigma`.
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from .checks import StepNotChecked, confirm_equal
from .derivation import Derivation, cite, define, equal, hypothesis
from .operators import Expectation
from .printing import function
from .rules import equal_at, equivalent, limit_by_branches, matrix_equal, same_sum
from .sources import MUIRHEAD, Source
from .steps import Step, checked_step, rewriting

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
    "derive_ridgeless_correction",
    "first_correction",
    "rounding_weight",
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

f = sp.Symbol("f", real=True, nonnegative=True)  # the fractional part of gamma n
m = sp.Symbol("m", positive=True)  # degrees of freedom beyond 2 of a chi-square
x = sp.Symbol("x", positive=True)

E = function("E", r"\mathbb{E}")
R = sp.Function("R")  # R(n, p): the excess risk of min-norm least squares
R_inf = sp.Function(r"R_{\infty}")  # the limit at aspect ratio gamma
M = sp.Function("M")  # M(n): the sweep's mean at n samples, over the randomised rounding of gamma n
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


def first_correction(ratio: sp.Basic = gamma, noise: sp.Basic = sigma) -> sp.Basic:
    r"""The coefficient :math:`b_1` of :math:`1/n` in the sweep's mean: :math:`\sigma^2\gamma/(1 - \gamma)^2` below the
    threshold, :math:`\sigma^2/(\gamma - 1)^2` above.

    >>> first_correction(sp.Rational(1, 2), 1), first_correction(sp.Integer(3), 1)
    (2, 1/4)
    """
    return sp.Piecewise((noise**2 * ratio / (1 - ratio) ** 2, sp.StrictLessThan(ratio, 1)),
                        (noise**2 / (ratio - 1) ** 2, True))


def _chi2_density(dof: sp.Basic) -> sp.Basic:
    return x ** (dof / 2 - 1) * sp.exp(-x / 2) / (2 ** (dof / 2) * sp.gamma(dof / 2))


@cache
def _finite_steps() -> tuple:
    """The finite-n proof; its last step is R(n, p) = finite_risk()."""
    rows, cols = sp.symbols("k d", integer=True, positive=True)
    i, j, k = (sp.Symbol(s, integer=True, nonnegative=True) for s in "ijk")
    jp, kp = (sp.Symbol(s + "'", integer=True, nonnegative=True) for s in "jk")
    X = sp.MatrixSymbol("X", n, p)
    beta, eps, y = sp.MatrixSymbol(r"\beta", p, 1), sp.MatrixSymbol(r"\varepsilon", n, 1), sp.MatrixSymbol("y", n, 1)
    fit_lo, fit_hi = sp.MatrixSymbol(r"\hat{\beta}_{<}", p, 1), sp.MatrixSymbol(r"\hat{\beta}_{>}", p, 1)
    err_lo, err_hi = sp.MatrixSymbol("e_{<}", p, 1), sp.MatrixSymbol("e_{>}", p, 1)
    A, B = sp.MatrixSymbol("A", p, n), sp.MatrixSymbol("B", p, n)
    C, Q = sp.MatrixSymbol("C", n, n), sp.MatrixSymbol("Q", p, p)
    sq = lambda e: sp.Sum(e[i, 0] ** 2, (i, 0, p - 1))
    noise_a = sp.Sum(sp.Sum(A[i, k] * eps[k, 0], (k, 0, n - 1)) ** 2, (i, 0, p - 1))
    frob = lambda M, m: sp.Sum(M[i, k] ** 2, (k, 0, m - 1), (i, 0, p - 1))
    coords_hi = sp.Sum(B[i, k] * eps[k, 0], (k, 0, n - 1)) - sp.Sum(Q[i, j] * beta[j, 0], (j, 0, p - 1))
    per_coord = sigma**2 * sp.Sum(B[i, k] ** 2, (k, 0, n - 1)) + r**2 / p * sp.Sum(Q[i, j] ** 2, (j, 0, p - 1))

    model = hypothesis(y, "=", X * beta + eps, r"the data: $y = X\beta + \varepsilon$")
    cov = hypothesis(Expectation(eps[k, 0] * eps[kp, 0], (eps,)), "=", sigma**2 * sp.KroneckerDelta(k, kp),
                     r"the noise is uncorrelated with variance $\sigma^2$, $\mathbb{E}\,\varepsilon\varepsilon^\top = \sigma^2 I_n$, "
                     r"independent of $X$ and $\beta$")
    mean = hypothesis(Expectation(eps[k, 0], (eps,)), "=", 0, "the noise has mean zero")
    direction = hypothesis(Expectation(beta[j, 0] * beta[jp, 0], (beta,)), "=", r**2 / p * sp.KroneckerDelta(j, jp),
                           r"$\beta$ has norm $r$ and a uniformly random direction, independent of $X$: "
                           r"$\mathbb{E}\,\beta\beta^\top = (r^2/p)\, I_p$")
    risk = define(R(n, p), sp.Piecewise(
        (Expectation(Expectation(sq(err_lo), (eps,)), (X,)), p < n),
        (Expectation(Expectation(Expectation(sq(err_hi), (eps,)), (beta,)), (X,)), True)),
        r"the excess risk at a fresh input $x \sim \mathcal{N}(0, I_p)$, $\mathbb{E}\,(x^\top\hat\beta - x^\top\beta)^2 = "
        r"\mathbb{E}\,\|\hat\beta - \beta\|^2$, averaged over the noise, the direction of $\beta$ and the design")
    # p < n: X has full column rank (almost surely), the least-squares solution is unique
    fit_a = define(fit_lo, sp.Inverse(X.T * X) * X.T * y, r"$p < n$: the least-squares solution ($X^\top X$ is invertible a.s.)")
    err_a = define(err_lo, fit_lo - beta, "its error")
    a_def = define(A, sp.Inverse(X.T * X) * X.T, "the matrix that maps the noise to the error")
    error_a = matrix_equal(err_lo, A * eps, r"the signal is fitted exactly: $\hat\beta - \beta = A\varepsilon$",
                           uses=[err_a, fit_a, model, a_def])
    coord_a = equal(err_lo[i, 0], sp.Sum(A[i, k] * eps[k, 0], (k, 0, n - 1)), "in coordinates", uses=[error_a])
    mean_a = equal(Expectation(noise_a, (eps,)), sigma**2 * frob(A, n), "the mean over the noise", uses=[cov])
    frob_a = same_sum(frob(A, n), sp.Trace(A * A.T), "a squared Frobenius norm is a trace")
    gram_a = matrix_equal(A * A.T, sp.Inverse(X.T * X), r"$A A^\top = (X^\top X)^{-1}$", uses=[a_def])
    notation_lo = define(Expectation(sp.Trace(sp.Inverse(X.T * X)), (X,)), Einv(n, p),
                         r"the mean $\mathbb{E}\operatorname{tr}(G^\top G)^{-1}$ for a $k \times d$ matrix $G$ of iid "
                         r"$\mathcal{N}(0, 1)$ entries, here $G = X$ ($k = n$, $d = p$)")
    below = equal(risk.rhs.args[0].expr, sigma**2 * Einv(n, p), "so the risk below the threshold",
                  uses=[coord_a, mean_a, frob_a, gram_a, notation_lo])
    # p > n: X has full row rank (a.s.); X^+ y is the interpolant of least norm, in the row space of X
    fit_b = define(fit_hi, X.T * sp.Inverse(X * X.T) * y,
                   r"$p > n$: the minimum-norm solution of $X\beta = y$, in the row space of $X$ ($X X^\top$ is invertible a.s.)")
    err_b = define(err_hi, fit_hi - beta, "its error")
    c_def = define(C, sp.Inverse(X * X.T), "the inverse Gram matrix")
    b_def = define(B, X.T * C, "the matrix that maps the noise to the error")
    q_def = define(Q, sp.Identity(p) - X.T * C * X, r"the projection on the null space of $X$")
    error_b = matrix_equal(err_hi, B * eps - Q * beta, r"$\hat\beta - \beta = B\varepsilon - Q\beta$",
                           uses=[err_b, fit_b, model, b_def, q_def, c_def])
    coord_b = equal(err_hi[i, 0], coords_hi, "in coordinates", uses=[error_b])
    mean_of = lambda e: Expectation(Expectation(e, (eps,)), (beta,))
    lin_b = equal(mean_of(sp.Sum(coords_hi**2, (i, 0, p - 1))), sp.Sum(mean_of(coords_hi**2), (i, 0, p - 1)),
                  "the mean of a sum is the sum of the means")
    mean_b = equal(mean_of(coords_hi**2), per_coord,
                   r"the mean over the noise and the direction of $\beta$ (both independent of $X$); the cross term "
                   "vanishes as the noise has mean zero", uses=[cov, mean, direction])
    frob_b = same_sum(sp.Sum(per_coord, (i, 0, p - 1)), sigma**2 * sp.Trace(B.T * B) + r**2 / p * sp.Trace(Q * Q.T),
                      "squared Frobenius norms are traces")
    gram_b = matrix_equal(B.T * B, sp.Inverse(X * X.T), r"$B^\top B = (X X^\top)^{-1}$", uses=[b_def, c_def])
    idem = matrix_equal(Q * Q.T, Q, r"$Q$ is a symmetric projection: $Q Q^\top = Q$", uses=[q_def, c_def])
    trace_q = equal(sp.Trace(Q), p - sp.Trace(X.T * C * X), r"the trace of $I_p - X^\top C X$", uses=[q_def])
    cycle = same_sum(sp.Trace(X.T * C * X), sp.Trace(C * X * X.T), "the trace is cyclic")
    rank = equal(sp.Trace(C * X * X.T), n, r"$\operatorname{tr}((X X^\top)^{-1} X X^\top) = \operatorname{tr} I_n$", uses=[c_def])
    notation_hi = define(Expectation(sp.Trace(sp.Inverse(X * X.T)), (X,)), Einv(p, n), r"the same mean for $G = X^\top$ ($k = p$, $d = n$)")
    above = equal(risk.rhs.args[1].expr, r**2 * (1 - n / p) + sigma**2 * Einv(p, n), "so the risk above the threshold",
                  uses=[coord_b, lin_b, mean_b, frob_b, gram_b, idem, trace_q, cycle, rank, notation_hi])
    decomposition = sp.Piecewise((sigma**2 * Einv(n, p), p < n), (r**2 * (1 - n / p) + sigma**2 * Einv(p, n), True))
    split = equal(R(n, p), decomposition, "the bias-variance decomposition in both regimes",
                  uses=[risk, below, above])
    one = equal(sp.Integral(_chi2_density(m + 2) / x, (x, 0, sp.oo)), 1 / m,
                r"the lemma in dimension $d = 1$: $X^\top X \sim \chi^2_k$, and $\mathbb{E}\,[1/\chi^2_k] = 1/(k - 2) = "
                r"d/(k - d - 1)$, $k = m + 2$")
    wishart = cite(Einv, "=", sp.Lambda((rows, cols), cols / (rows - cols - 1)), "Section 3.2", MUIRHEAD,
                   r"the inverse-Wishart mean: for a $k \times d$ matrix $G$ of iid $\mathcal{N}(0, 1)$ entries and $k > d + 1$, "
                   r"$\mathbb{E}\,(G^\top G)^{-1} = I_d/(k - d - 1)$, so $\mathbb{E}\operatorname{tr}(G^\top G)^{-1} = d/(k - d - 1)$; "
                   r"the case $d = 1$ is the checked integral", uses=[one])
    exact = equal(decomposition, finite_risk(), "the inverse-Wishart means", uses=[wishart])
    steps = [model, cov, mean, direction, risk, fit_a, err_a, a_def, error_a, coord_a, mean_a, frob_a, gram_a,
             notation_lo, below, fit_b, err_b, c_def, b_def, q_def, error_b, coord_b, lin_b, mean_b, frob_b, gram_b,
             idem, trace_q, cycle, rank, notation_hi, above, split, one, wishart, exact]
    return (*steps, equal(R(n, p), finite_risk(), r"the exact risk at finite $n$, for $|p - n| \ge 2$", uses=[split, exact]))


@cache
def derive_finite() -> Derivation:
    """R(n, p) = sigma^2 p/(n - p - 1) for p < n - 1 and r^2 (1 - n/p) + sigma^2 n/(p - n - 1) for p > n + 1."""
    steps = list(_finite_steps()[:-1])  # the steps the ridgeless proof shares, built once
    return Derivation(
        "Exact risk of min-norm least squares with Gaussian features",
        steps,
        (R(n, p), "=", finite_risk()),
        uses=[steps[-4], steps[-1]],
        assumptions=(
            r"$X$ has iid $\mathcal{N}(0, 1)$ entries ($n$ samples, $p$ features), $y = X\beta + \varepsilon$, $\|\beta\| = r$, "
            r"$\varepsilon \sim \mathcal{N}(0, \sigma^2 I_n)$ independent of $X$; for $p > n$, $\beta$ is fixed (or independent of $X$)",
            r"$|p - n| \ge 2$, where the inverse-Wishart means are finite; the risk is infinite for $|p - n| \le 1$",
        ),
    )


@cache
def derive_ridgeless() -> Derivation:
    """The limit n -> oo at p = gamma n: sigma^2 gamma/(1 - gamma) below 1, r^2 (1 - 1/gamma) + sigma^2/(gamma - 1) above."""
    steps = list(_finite_steps())
    finite = steps[-1]
    shifted = sp.Piecewise((sigma**2 * gamma / (1 - gamma - 1 / n), gamma < 1),
                           (r**2 * (1 - 1 / gamma) + sigma**2 / (gamma - 1 - 1 / n), True))
    closed = limiting_risk()
    ratio = define(p, gamma * n, r"$p = \gamma n$ features")
    below = equivalent(sp.StrictGreaterThan(n, gamma * n), sp.StrictLessThan(gamma, 1), gamma,
                        sp.Interval.open(0, sp.oo), r"$p < n$ means $\gamma < 1$ (as $n > 0$)")
    at_ratio = equal(R(n, p), shifted, r"at $p = \gamma n$ the finite-$n$ risk is the limit with $\gamma - 1$ shifted by $\mp 1/n$",
                     uses=[finite, ratio, below])
    limit = define(R_inf(gamma), sp.Limit(R(n, p), n, sp.oo), r"the proportional limit $n \to \infty$ at fixed $\gamma = p/n$")
    steps += [ratio, below, at_ratio, limit,
              limit_by_branches(sp.Limit(R(n, p), n, sp.oo), closed, n, "so the limiting risk", uses=[at_ratio])]
    remarks = [
        equal(sp.Limit((1 - gamma) / (sigma**2 * gamma), gamma, 1, "-"), 0,
              r"it diverges at the interpolation threshold from below (its reciprocal tends to $0$ through positive values)"),
        equal(sp.Limit(1 / (r**2 * (1 - 1 / gamma) + sigma**2 / (gamma - 1)), gamma, 1, "+"), 0, "and from above"),
        equal(sp.Limit(r**2 * (1 - 1 / gamma) + sigma**2 / (gamma - 1), gamma, sp.oo), r**2,
              r"and tends to the null risk $r^2$ ($\hat\beta \to 0$) as $\gamma \to \infty$"),
    ]
    return Derivation(
        "Limiting risk of ridgeless least squares (double descent)",
        steps,
        (R_inf(gamma), "=", closed),
        uses=[limit, steps[-1]],
        assumptions=(
            r"isotropic Gaussian features as in the finite-$n$ derivation, $p = \gamma n$, $n \to \infty$ at fixed $\gamma \ne 1$",
            r"the excess risk is $\mathbb{E}\,\|\hat\beta - \beta\|^2$; it is finite only for $|p - n| \ge 2$ and diverges at $\gamma = 1$",
        ),
        remarks=remarks,
    )


def _folded(lhs, rhs, reason: str, uses) -> Step:
    """A checked equality whose left side the premises turn into a sum of Piecewise expressions with the same
    conditions: folded into one Piecewise (SymPy's ``piecewise_fold``; a limit in ``n`` of it is taken branch by
    branch, its conditions being free of ``n``), then confirmed."""

    def confirm(rw) -> str:
        left = rw(lhs)
        if isinstance(left, sp.Limit):
            body, var, to, direction = left.args
            folded = sp.piecewise_fold(body)
            if not isinstance(folded, sp.Piecewise) or any(c.has(var) for _, c in folded.args):
                raise StepNotChecked(f"{body} does not fold into a Piecewise whose conditions are free of {var}")
            left = sp.Piecewise(*[(sp.Limit(e, var, to, direction), c) for e, c in folded.args])
            return "fold the Piecewise, limit branch by branch, " + confirm_equal(left, rhs, rw)
        return "fold the Piecewise sum, " + confirm_equal(sp.piecewise_fold(left), rhs, rw)

    return checked_step(lhs, "=", rhs, reason, rewriting(confirm), uses)


def rounding_weight(ratio: sp.Basic = gamma) -> sp.Basic:
    r"""The probability of rounding :math:`\gamma n` up, for :math:`f = \gamma n - \lfloor \gamma n \rfloor`: :math:`f`
    below the threshold (:math:`\mathbb{E}\,p = \gamma n`), :math:`f(\gamma n - f + 1)/(\gamma n)` above it
    (:math:`\mathbb{E}[1/p] = 1/(\gamma n)`, so the bias term :math:`r^2(1 - n/p)` averages to its limit)."""
    return sp.Piecewise((f, sp.StrictLessThan(ratio, 1)), (f * (ratio * n - f + 1) / (ratio * n), True))


def _mixture(expr: sp.Basic, weight: sp.Basic) -> sp.Basic:
    """``expr`` (a branch of the finite risk in p) averaged over the rounding: p = gamma n - f + 1 with probability
    ``weight``, else gamma n - f."""
    return (1 - weight) * expr.subs(p, gamma * n - f) + weight * expr.subs(p, gamma * n - f + 1)


@cache
def derive_ridgeless_correction() -> Derivation:
    """The coefficient b_1 of 1/n in the sweep's mean M(n) = R_inf + b_1/n + O(1/n^2): checked from the exact risk."""
    steps = list(_finite_steps())
    finite = steps[-1]
    low, high = gamma * n - f, gamma * n - f + 1
    at = [equal_at(R(n, q), finite_risk(n, q), rf"the exact finite-$n$ risk at $p = {sp.latex(q)}$", uses=[finite],
                   at={p: q}) for q in (low, high)]
    w = sp.Function("w")(n)
    weight = define(w, rounding_weight(),
                    r"the probability of rounding up: $\mathbb{E}\,p = \gamma n$ below the threshold, "
                    r"$\mathbb{E}[1/p] = 1/(\gamma n)$ above it (the bias term $r^2(1 - n/p)$ then averages to its limit)")
    rounding = define(M(n), (1 - w) * R(n, low) + w * R(n, high),
                      r"the sweep's mean at $n$: $p = \lfloor \gamma n \rfloor + \mathrm{Bernoulli}(w)$, $f = \gamma n - "
                      r"\lfloor \gamma n \rfloor \in [0, 1)$ (randomised rounding)")
    sides = [hypothesis(finite_risk(n, q).args[0].cond, "=", sp.StrictLessThan(gamma, 1),
                        rf"$p = {sp.latex(q)}$ lies below $n$ exactly when $\gamma < 1$: the claim keeps "
                        r"$|\gamma - 1| \ge 0.3$ and $n \ge 32$, so $|p - n| \ge 8$") for q in (low, high)]
    below, above = (finite_risk().args[k].expr for k in (0, 1))
    limits, weights = limiting_risk().args, rounding_weight().args
    scaled = sp.Piecewise((n * (_mixture(below, weights[0].expr) - limits[0].expr), limits[0].cond),
                          (n * (_mixture(above, weights[1].expr) - limits[1].expr), True))
    gap = n * (M(n) - limiting_risk())
    fold = _folded(gap, scaled, "the exact risk at both rounded values, on the side of $n$ where $\\gamma$ lies",
                   uses=[*at, rounding, weight, *sides])
    closed = first_correction()
    b1 = limit_by_branches(sp.Limit(gap, n, sp.oo), closed, n,
                           r"the coefficient of $1/n$: the same for every $f$ (the rounding moves $p$ by $O(1)$ around "
                           r"$\gamma n$, its mean by $O(1/n)$)", uses=[fold])
    second = sp.Piecewise((sigma**2 * (gamma + f * (1 - f)) / (1 - gamma) ** 3, sp.StrictLessThan(gamma, 1)),
                          (sigma**2 * (gamma + f * (1 - f)) / (gamma * (gamma - 1) ** 3), True))
    remarks = [_folded(sp.Limit(n * (gap - closed), n, sp.oo), second,
                       r"the coefficient of $1/n^2$ carries $f(1 - f)$, and $f$ changes with $n$ unless $\gamma n$ is an "
                       r"integer: it is fitted, not derived (the rounding up above the threshold keeps $r$ out of it)",
                       uses=[fold])]
    return Derivation(
        "The $1/n$ correction of the ridgeless risk along the sweep",
        [*steps, *at, weight, rounding, *sides, fold, b1],
        (sp.Limit(gap, n, sp.oo), "=", closed),
        uses=[b1],
        assumptions=(r"the exact finite-$n$ risk (double-descent.finite-n), $p$ the randomised rounding of $\gamma n$",),
        remarks=remarks,
    )
