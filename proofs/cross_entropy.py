r"""Cross-entropy of the softmax as a margin loss: derivations.

For logits :math:`z \in \mathbb{R}^K` and correct class :math:`y`,

.. math:: L = -\ln \operatorname{softmax}(z)_y = \ln\Big(1 + \sum_{j\ne y} e^{z_j - z_y}\Big),

so with two classes and margin :math:`m = z_{\text{wrong}} - z_{\text{correct}}`,
:math:`L(m) = \ln(1 + e^m)` (softplus). Every derivation below returns a
:class:`~proofs.Derivation` whose conclusion's right-hand side is the closed form
that the numerical kernels in :mod:`numerics.cross_entropy` measure.

Symbols use the parameter names of the claims: ``K`` (classes), ``m`` (margin),
``n`` (derivative order).
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from .derivation import (
    Derivation,
    define,
    equal,
    equal_by_cases,
    hypothesis,
    relation,
    substitute,
)
from .printing import symbol
from .sources import CASELLA, Source

__all__ = [
    "K",
    "m",
    "n",
    "softplus",
    "sigmoid",
    "derive_margin",
    "derive_derivatives",
    "derive_asymptotes",
    "derive_score_identity",
    "SOURCES",
]

K = sp.Symbol("K", integer=True, positive=True)
m = sp.Symbol("m", real=True)
n = sp.Symbol("n", integer=True, positive=True)

softplus = sp.log(1 + sp.exp(m))
sigmoid = 1 / (1 + sp.exp(-m))

BRIDLE = Source(
    "bridle1990",
    "John S. Bridle",
    "Probabilistic interpretation of feedforward classification network outputs, "
    "with relationships to statistical pattern recognition",
    "Neurocomputing: Algorithms, Architectures and Applications (NATO ASI Series F68)",
    1990,
    doi="10.1007/978-3-642-76153-9_28",
    kind="inproceedings",
    pages="227-236",
    publisher="Springer",
)
GOODFELLOW = Source(
    "goodfellow2016",
    "Ian Goodfellow and Yoshua Bengio and Aaron Courville",
    "Deep Learning",
    "MIT Press",
    2016,
    url="https://www.deeplearningbook.org",
    kind="book",
)
BLANCHARD = Source(
    "blanchard2021",
    "Pierre Blanchard and Desmond J. Higham and Nicholas J. Higham",
    "Accurately computing the log-sum-exp and softmax functions",
    "IMA Journal of Numerical Analysis",
    2021,
    doi="10.1093/imanum/draa038",
    volume="41",
    number="4",
    pages="2311-2330",
)
MAECHLER = Source(
    "maechler2012",
    "Martin Mächler",
    "Accurately computing log(1 - exp(-|a|)) assessed by the Rmpfr package",
    "Rmpfr package vignette, CRAN",
    2012,
    url="https://cran.r-project.org/package=Rmpfr/vignettes/log1mexp-note.pdf",
    kind="misc",
)
SOURCES = (BRIDLE, GOODFELLOW, BLANCHARD, MAECHLER, CASELLA)


@cache
def derive_margin() -> Derivation:
    r"""Softmax cross-entropy of the correct class as a function of the margins.

    With equal margins :math:`z_j - z_y = m` for the :math:`K-1` wrong classes,
    :math:`L = \ln(1 + (K-1) e^m)`; :math:`K = 2` gives :math:`\ln(1 + e^m)`.

    >>> derive_margin().closed_form
    log((K - 1)*exp(m) + 1)
    """
    z_y = sp.Symbol("z_y", real=True)
    S = sp.Symbol("S", positive=True)  # sum of e^{z_j} over the K-1 wrong classes
    L, p_y = sp.symbols("L p_y")
    j = sp.Symbol("j", integer=True, positive=True)
    z = sp.IndexedBase("z", real=True)  # logits of the wrong classes, relabelled j = 1..K-1
    loss = define(L, -sp.log(p_y), "the cross-entropy of the correct class $y$")
    softmax = define(p_y, sp.exp(z_y) / (sp.exp(z_y) + S), "the softmax of the correct class")
    mass = define(S, sp.Sum(sp.exp(z[j]), (j, 1, K - 1)), r"the mass $\sum_j e^{z_j}$ of the $K - 1$ wrong classes")
    margins = hypothesis(z[j], "=", z_y + m, "equal margins: $z_j - z_y = m$ for every wrong class $j$")
    quotient = equal(L, sp.log(1 + S * sp.exp(-z_y)), "logarithm of the softmax quotient, $S > 0$",
                     uses=[loss, softmax])
    wrong = equal(S, (K - 1) * sp.exp(z_y + m), "$K - 1$ equal terms", uses=[mass, margins])
    shift = equal(quotient.rhs, sp.log(1 + (K - 1) * sp.exp(m)), "the logit $z_y$ of the correct class cancels",
                  uses=[wrong])
    two = equal(sp.Subs(shift.rhs, K, 2), softplus, "two classes: softplus of the margin")
    return Derivation(
        "Cross-entropy as a margin loss",
        [loss, softmax, mass, margins, quotient, wrong, shift],
        (L, "=", sp.log(1 + (K - 1) * sp.exp(m))),
        uses=[quotient, shift],
        assumptions=(r"$K \ge 2$ classes and real logits $z$", "all wrong classes have the margin $m = z_j - z_y$"),
        remarks=[two],
    )


@cache
def derive_derivatives() -> Derivation:
    r"""Derivatives of :math:`L(m) = \ln(1+e^m)`: :math:`L' = \sigma`, :math:`L'' = \sigma(1-\sigma) \in (0, 1/4]`,
    and the multiclass gradient :math:`\nabla_z L = \operatorname{softmax}(z) - e_y`.

    The remarks also bound the third and fourth derivatives (:math:`|L'''| \le \sqrt{3}/18`,
    :math:`|L''''| \le 1/8`, and both :math:`\le L'' \le e^{-|m|}`) and give the reflection
    :math:`L(m) = m + L(-m)`: these set the step and the truncation error of the finite
    differences that verify the claim, on the derivative's own scale.
    """
    s = sp.Symbol("s", real=True)  # s = sigma(m) in (0, 1)
    u = sp.Symbol("u", real=True)  # u = sigma(1 - sigma) in (0, 1/4]
    t = sp.Symbol("t", nonnegative=True)  # t = |m|
    r = sp.Symbol("r", positive=True)  # r = e^{-|m|} in (0, 1]
    z_k, z_y = sp.symbols("z_k z_y", real=True)
    R = sp.Symbol("R", positive=True)  # sum of e^{z_j} over the classes other than k (and y)
    slope, bend = symbol("L'(m)", "L'(m)"), symbol("L''(m)", "L''(m)")
    curvature = sigmoid * (1 - sigmoid)
    order_n = sp.Derivative(softplus, (m, n))
    first = define(slope, sp.Derivative(softplus, m), r"the slope of the margin loss $L(m) = \ln(1 + e^m)$")
    first_is = equal(slope, sigmoid, r"chain rule: $L'(m) = \sigma(m)$", uses=[first])
    second = define(bend, sp.Derivative(softplus, (m, 2)), "the curvature of the margin loss")
    second_is = equal(bend, curvature, r"derivative of the logistic function: $L'' = \sigma\,(1 - \sigma)$",
                      uses=[second])
    orders = define(order_n, sp.Piecewise((slope, sp.Eq(n, 1)), (bend, True)), r"the derivative of order $n \in \{1, 2\}$")
    remarks = [
        relation(bend, ">", 0, "both factors are positive, so $L$ is strictly convex", uses=[second_is]),
        relation(bend, "<=", sp.Rational(1, 4), "$L''$ is at most $1/4$", uses=[second_is], over=(m, sp.S.Reals)),
        equal(sp.Subs(curvature, m, 0), sp.Rational(1, 4), "attained at $m = 0$"),
        equal(sp.Derivative(softplus, (m, 3)), curvature * (1 - 2 * sigmoid), "third derivative"),
        relation(
            s * (1 - s) * (1 - 2 * s), "<=", sp.sqrt(3) / 18, r"with $s = \sigma(m) \in [0, 1]$",
            over=(s, sp.Interval(0, 1)),
        ),
        equal(
            sp.Subs(sp.Derivative(softplus, (m, 3)), m, -m) + sp.Derivative(softplus, (m, 3)),
            0,
            r"$L'''$ is odd, so $|L'''| \le \sqrt{3}/18$",
        ),
        equal(sp.Derivative(softplus, (m, 4)), curvature * (1 - 6 * curvature), "fourth derivative"),
        relation(u * (1 - 6 * u), "<=", sp.Rational(1, 8), r"with $u = L'' \in [0, 1/4]$",
                 over=(u, sp.Interval(0, sp.Rational(1, 4)))),
        relation(u * (1 - 6 * u), ">=", -sp.Rational(1, 8), r"so $|L''''| \le 1/8$",
                 over=(u, sp.Interval(0, sp.Rational(1, 4)))),
        equal(softplus - sp.Subs(softplus, m, -m), m,
              r"reflection, $L(m) = m + L(-m)$: $L'(m) = 1 - L'(-m)$ and $L''(m) = L''(-m)$, so finite "
              r"differences taken at $-|m|$ leave the linear part out"),
        equal_by_cases(curvature, sp.exp(-sp.Abs(m)) / (1 + sp.exp(-sp.Abs(m))) ** 2, m, r"$L''$ in $|m|$"),
        relation(r / (1 + r) ** 2, "<=", r, r"with $r = e^{-|m|} \in (0, 1]$: $L'' \le e^{-|m|}$",
                 over=(r, sp.Interval(0, 1))),
        relation(sp.Abs(1 - 2 * s), "<=", 1, r"so $|L'''| = L''\,|1 - 2\sigma| \le L''$", over=(s, sp.Interval(0, 1))),
        relation(sp.Abs(1 - 6 * u), "<=", 1,
                 r"so $|L''''| = L''\,|1 - 6L''| \le L''$: beyond the first, the derivatives fall off like "
                 r"$e^{-|m|}$, the scale of the finite differences' step and tolerance",
                 over=(u, sp.Interval(0, sp.Rational(1, 4)))),
        relation(sp.Subs(sigmoid, m, -t), "<=", sp.exp(-t), r"and the slope $L'(-t) = \sigma(-t) \le e^{-t}$"),
        equal(
            sp.Derivative(sp.log(sp.exp(z_k) + R) - z_y, z_k),
            sp.exp(z_k) / (sp.exp(z_k) + R),
            r"multiclass, wrong class $k$: $\partial L/\partial z_k = \operatorname{softmax}(z)_k$, with $L = \ln \sum_j e^{z_j} - z_y$",
        ),
        equal(
            sp.Derivative(sp.log(sp.exp(z_y) + R) - z_y, z_y),
            sp.exp(z_y) / (sp.exp(z_y) + R) - 1,
            r"multiclass, correct class: $\partial L/\partial z_y = \operatorname{softmax}(z)_y - 1$",
        ),
    ]
    return Derivation(
        "Derivatives of the margin loss",
        [first, first_is, second, second_is, orders],
        (order_n, "=", sp.Piecewise((sigmoid, sp.Eq(n, 1)), (curvature, True))),
        uses=[orders, first_is, second_is],
        assumptions=("$m$ real", r"$n \in \{1, 2\}$"),
        remarks=remarks,
    )


@cache
def derive_asymptotes() -> Derivation:
    r"""The gap to the hinge: :math:`L(m) - \max(m, 0) = \ln(1 + e^{-|m|}) \in (0, \ln 2]`,
    with :math:`L(m) - m \to 0` as :math:`m \to \infty` and :math:`L(m) e^{-m} \to 1` as
    :math:`m \to -\infty`.

    The trap: the naive ``log(1 + exp(m))`` overflows for m > 709.78 and returns 0 for
    m < -36.7 in float64 (all digits lost); ``max(m, 0) + log1p(exp(-|m|))`` is accurate
    to a few ulp everywhere.
    """
    t = sp.Symbol("t", nonnegative=True)  # t = |m|
    top = sp.Max(m, 0)
    inside = sp.exp(-top) + sp.exp(m - top)
    factored = equal_by_cases(softplus, top + sp.log(inside), m, r"factor out $e^{\max(m, 0)}$")
    exponents = equal_by_cases(inside, 1 + sp.exp(-sp.Abs(m)), m,
                               "one exponent is $0$, the other $-|m|$")
    remarks = [
        relation(sp.log(1 + sp.exp(-t)), ">", 0, "with $t = |m|$: $e^{-t} > 0$"),
        relation(sp.log(1 + sp.exp(-t)), "<=", sp.log(2), r"$e^{-t} \le 1$", over=(t, sp.Interval(0, sp.oo))),
        equal(sp.Limit(softplus - m, m, sp.oo), 0, r"upper asymptote: $L(m) \sim m$"),
        equal(sp.Limit(softplus * sp.exp(-m), m, -sp.oo), 1, r"lower asymptote: $L(m) \sim e^m$"),
    ]
    return Derivation(
        "Asymptotes of the margin loss",
        [factored, exponents],
        (softplus - top, "=", sp.log(1 + sp.exp(-sp.Abs(m)))),
        uses=[factored, exponents],
        assumptions=("$m$ real",),
        remarks=remarks,
    )


@cache
def derive_score_identity() -> Derivation:
    r"""The score identity: for :math:`y \sim \operatorname{softmax}(z)`,
    :math:`\mathbb{E}_y[\nabla_z L] = \mathbb{E}_y[\operatorname{softmax}(z) - e_y] = 0`.

    Holds component by component for every logit vector z, hence also on average over
    random logits and for a component chosen as a function of z (such as the most
    probable class).
    """
    k = sp.Symbol("k", integer=True, positive=True)
    r = sp.Symbol("r", integer=True, nonnegative=True)  # K = k + r, so that 1 <= k <= K
    y = sp.Symbol("y", integer=True, positive=True)
    j = sp.Symbol("j", integer=True, positive=True)
    p = sp.IndexedBase("p", real=True)
    z = sp.IndexedBase("z", real=True)
    Z = sp.Symbol("Z", positive=True)
    G = symbol(r"\mathbb{E}_y[g_k]", r"\mathbb{E}_y[g_k]")
    expectation = sp.Sum(p[y] * (p[k] - sp.KroneckerDelta(y, k)), (y, 1, k + r))
    total = sp.Sum(p[y], (y, 1, k + r))
    partition = define(Z, sp.Sum(sp.exp(z[j]), (j, 1, k + r)), "the partition function of the logits $z$")
    softmax = define(p[y], sp.exp(z[y]) / Z, r"$p = \operatorname{softmax}(z)$")
    mass = sp.Sum(sp.exp(z[y]), (y, 1, k + r)) / Z
    common = equal(total, mass, "the softmax probabilities share the denominator $Z$", uses=[softmax])
    normalised = equal(mass, 1, "$Z$ is that sum: the probabilities sum to one", uses=[partition])
    score = define(G, expectation, r"the expectation of $g = \operatorname{softmax}(z) - e_y$ over $y \sim p = \operatorname{softmax}(z)$, with $K = k + r$ classes")
    separated = equal(G, p[k] * total - p[k], "linearity; the sum of $p_y$ times the Kronecker delta picks $p_k$",
                      uses=[score])
    zero = substitute(separated.rhs, "normalisation", uses=[common, normalised])
    return Derivation(
        "Score identity of the softmax cross-entropy",
        [partition, softmax, common, normalised, score, separated, zero],
        (G, "=", sp.Integer(0)),
        uses=[separated, zero],
        assumptions=(r"$K \ge 2$ classes and any real logits $z$", r"$y$ drawn from $\operatorname{softmax}(z)$"),
    )
