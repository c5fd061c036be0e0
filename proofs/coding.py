r"""Huffman coding and the entropy of quantised weights: derivations.

A source emits symbol :math:`i` with probability :math:`p_i` (:math:`i = 1, \dots, K`); a
binary prefix code gives it a codeword of :math:`\ell_i` bits. The expected length and the
entropy (bits) are

.. math:: L = \sum_i p_i \ell_i, \qquad H = -\sum_i p_i \log_2 p_i .

Huffman's code (Huffman 1952) minimises L among prefix codes. The derivations here re-derive
the classical facts about it, checking every algebraic step in SymPy and citing the theorems
(Kraft-McMillan, Gibbs, Huffman's optimality, Gallager's bound) that SymPy cannot prove:

- :func:`derive_bounds`: :math:`H \le L < H + 1`;
- :func:`derive_dyadic`: :math:`L = H` exactly for dyadic :math:`p`, e.g. 7/4 bits for
  (1/2, 1/4, 1/8, 1/8), and only then;
- :func:`derive_kraft`: :math:`\sum_i 2^{-\ell_i} = 1` (the Huffman tree is full);
- :func:`derive_gallager`: :math:`L - H \le p_{\max} + \sigma`, :math:`\sigma = 1 - \log_2 e +
  \log_2 \log_2 e`, which uniform distributions approach;
- :func:`derive_quantized_gaussian`: :math:`H_\Delta + \log_2 \Delta \to \tfrac12 \log_2(2\pi e
  \sigma^2)` as :math:`\Delta \to 0`, with an :math:`O(\Delta^2)` correction.

Huffman codes are not unique (ties); every statement is about L, never one particular code.
Symbols use the claims' parameter names: ``K`` (alphabet size), ``sigma``, and ``Delta``
(the limit variable of the quantised-Gaussian claim).
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from .derivation import Derivation, cite, define, equal, recurrence, relation, substitute
from .sources import Source

__all__ = [
    "COVER",
    "GALLAGER",
    "HUFFMAN",
    "PANINSKI",
    "SHEPPARD",
    "SIGMA",
    "SOURCES",
    "derive_bounds",
    "derive_dyadic",
    "derive_gallager",
    "derive_kraft",
    "derive_quantized_gaussian",
    "differential_entropy",
]

K = sp.Symbol("K", integer=True, positive=True)
sigma = sp.Symbol("sigma", positive=True)
Delta = sp.Symbol("Delta", positive=True)

i = sp.Symbol("i", integer=True, positive=True)
k = sp.Symbol("k", integer=True)
m = sp.Symbol("m", integer=True, nonnegative=True)
t = sp.Symbol("t", positive=True)
u = sp.Symbol("u", nonnegative=True)
x = sp.Symbol("x", real=True)
phi_ = sp.Symbol("varphi", nonnegative=True)
p = sp.IndexedBase("p", positive=True)
ell = sp.IndexedBase("ell", integer=True, positive=True)
psi = sp.IndexedBase("psi", positive=True)
L, H = sp.symbols("L H", real=True)
p_max = sp.Symbol("p_max", positive=True)
Pr = sp.Function("P")  # the probability of an event over the random distribution p
S = sp.Function("S")  # the Kraft sum of the Huffman code of K symbols
Phi = sp.Function("Phi")  # the standard normal distribution function
P_k = sp.Symbol("P_k", positive=True)
H_Delta = sp.Symbol("H_Delta", positive=True)

# Gallager's constant: 1 - log2(e) + log2(log2(e)) = 0.0860713320559342...
SIGMA = 1 - 1 / sp.log(2) + sp.log(1 / sp.log(2)) / sp.log(2)

HUFFMAN = Source(
    "huffman1952",
    "David A. Huffman",
    "A method for the construction of minimum-redundancy codes",
    "Proceedings of the IRE",
    1952,
    doi="10.1109/JRPROC.1952.273898",
    volume="40",
    number="9",
    pages="1098-1101",
)
GALLAGER = Source(
    "gallager1978",
    "Robert G. Gallager",
    "Variations on a theme by Huffman",
    "IEEE Transactions on Information Theory",
    1978,
    doi="10.1109/TIT.1978.1055934",
    volume="24",
    number="6",
    pages="668-674",
)
COVER = Source(
    "cover2006",
    "Thomas M. Cover and Joy A. Thomas",
    "Elements of Information Theory (2nd edition)",
    "Wiley-Interscience, Hoboken, NJ",
    2006,
    isbn="978-0-471-24195-9",
    kind="book",
)
SHEPPARD = Source(
    "sheppard1898",
    "W. F. Sheppard",
    "On the calculation of the most probable values of frequency-constants, for data arranged according to "
    "equidistant division of a scale",
    "Proceedings of the London Mathematical Society",
    1898,
    doi="10.1112/plms/s1-29.1.353",
    volume="s1-29",
    number="1",
    pages="353-380",
)
PANINSKI = Source(
    "paninski2003",
    "Liam Paninski",
    "Estimation of entropy and mutual information",
    "Neural Computation",
    2003,
    doi="10.1162/089976603321780272",
    volume="15",
    number="6",
    pages="1191-1253",
)
SOURCES = (HUFFMAN, GALLAGER, COVER, SHEPPARD, PANINSKI)


def _sum(expr: sp.Basic) -> sp.Sum:
    return sp.Sum(expr, (i, 1, K))


def _definitions() -> list:
    return [
        define(L, _sum(p[i] * ell[i]), "the expected length of a code with lengths ell_i"),
        define(H, _sum(-p[i] * sp.log(p[i], 2)), "the entropy of p in bits"),
    ]


def _lower_bound() -> list:
    """L - H >= 0 for any uniquely decodable code: Kraft-McMillan, then Gibbs."""
    kraft = _sum(2 ** (-ell[i]))
    return [
        cite(kraft, "<=", 1, "the Kraft-McMillan inequality (Theorem 5.5.1): lengths of a uniquely decodable code", COVER),
        cite(L - H, ">=", -sp.log(kraft, 2), "Gibbs' inequality (the log-sum inequality, Theorem 2.7.1) for p against "
             "the normalised 2^(-ell_i)", COVER),
        substitute(-sp.log(kraft, 2), {kraft: 1 - u}, "writing the Kraft sum as 1 - u, 0 <= u < 1 by Kraft-McMillan"),
        relation(-sp.log(1 - u, 2), ">=", 0, "so the lower bound: L - H >= 0", over=(u, sp.Interval.Ropen(0, 1))),
    ]


def _upper_bound() -> list:
    """L < H + 1: the Shannon code's lengths ceil(-log2 p_i), and Huffman's optimality."""
    info = -sp.log(p[i], 2)
    shannon = _sum(p[i] * sp.ceiling(info))
    written = _sum(p[i] * (info + 1 - psi[i]))
    return [
        relation(2 ** (-x - phi_), "<=", 2 ** (-x),
                 "Shannon's lengths ceil(x), x = -log2 p_i, written x + varphi with 0 <= varphi < 1, satisfy Kraft: "
                 "sum 2^(-ceil(x_i)) <= sum p_i = 1, so a prefix code with these lengths exists",
                 over=(phi_, sp.Interval.Ropen(0, 1))),
        relation(x + 1 - psi[i], "<", x + 1, "ceil(x) written x + 1 - psi with 0 < psi <= 1: ceil(x) < x + 1"),
        cite(L, "<=", shannon, "Huffman's code is optimal among prefix codes", HUFFMAN),
        substitute(shannon, {sp.ceiling(info): info + 1 - psi[i]}, "ceil(-log2 p_i) = -log2 p_i + 1 - psi_i"),
        relation(written, "<", _sum(p[i] * (info + 1)), "each psi_i > 0"),
        equal(_sum(p[i] * (info + 1)), _sum(-p[i] * sp.log(p[i], 2)) + _sum(p[i]), "split the sum"),
        substitute(_sum(-p[i] * sp.log(p[i], 2)) + _sum(p[i]), {_sum(p[i]): 1, _sum(-p[i] * sp.log(p[i], 2)): H},
                   "sum p_i = 1 and the definition of H: the upper bound L < H + 1"),
    ]


@cache
def derive_bounds() -> Derivation:
    """P(H <= L < H + 1) = 1: both bounds hold for every distribution."""
    event = Pr(sp.And(sp.Le(H, L), sp.Lt(L, H + 1)))
    steps = _definitions() + _lower_bound() + _upper_bound()
    steps.append(cite(event, "=", 1, "both chains above hold for every distribution p (Theorem 5.4.1: "
                      "H <= L* < H + 1 for an optimal code), so for every random draw", COVER))
    return Derivation(
        "Huffman's expected length lies within one bit of the entropy",
        steps,
        (event, "=", 1),
        assumptions=(
            "p is any distribution on K >= 2 symbols with every p_i > 0 (here drawn from a symmetric Dirichlet "
            "distribution), ell_i the lengths of a Huffman code for p",
        ),
    )


@cache
def derive_dyadic() -> Derivation:
    """L = H = 2 - 2^(2-K) for the dyadic comb (1/2, 1/4, ..., 2^-(K-1), 2^-(K-1))."""
    comb = sp.Sum(i * 2 ** (-i), (i, 1, K - 1)) + (K - 1) * 2 ** (1 - K)
    kraft = _sum(2 ** (-ell[i]))
    D = sp.Sum(p[i] * sp.log(p[i] * 2 ** ell[i], 2), (i, 1, K))
    steps = _definitions() + [
        cite(L - H, "=", D - sp.log(kraft, 2), "L - H is a relative entropy plus -log2 of the Kraft sum: both >= 0, "
             "and both vanish iff p_i = 2^(-ell_i) (Gibbs' equality case), so L = H only for dyadic p", COVER),
        define(p[i], 2 ** (-i), "the comb: p_i = 2^-i for i < K and p_K = 2^-(K-1)"),
        equal(sp.Sum(2 ** (-i), (i, 1, K - 1)) + 2 ** (1 - K), 1, "it is a distribution; with ell_i = -log2 p_i it is "
              "also the Kraft sum, so a complete prefix code with these lengths exists"),
        cite(L, "=", comb, "Huffman's code is optimal (L <= the code ell_i = -log2 p_i, whose length is H) and no code "
             "beats H (the first step): L = H = sum_i p_i log2(1/p_i)", HUFFMAN),
        equal(comb, 2 - 2 ** (2 - K), "the sum in closed form; K = 4 gives 7/4 bits"),
    ]
    return Derivation(
        "A dyadic distribution is coded at its entropy",
        steps,
        (L, "=", 2 - 2 ** (2 - K)),
        assumptions=("p = (1/2, 1/4, ..., 2^-(K-1), 2^-(K-1)), the dyadic comb on K >= 2 symbols",),
    )


@cache
def derive_kraft() -> Derivation:
    """The Kraft sum of a Huffman code is exactly 1."""
    kraft = _sum(2 ** (-ell[i]))
    steps = [
        cite(S(K), "=", S(K - 1), "Huffman's algorithm merges the two least probable symbols into one; they get the "
             "merged symbol's length plus 1, and the rest is a Huffman code for K - 1 symbols", HUFFMAN),
        equal(2 * 2 ** (-(m + 1)), 2 ** (-m), "two siblings of depth m + 1 weigh as much as their parent of depth m, "
              "so the merge leaves the Kraft sum unchanged"),
        define(kraft, S(K), "the Kraft sum of the Huffman code on K symbols"),
        recurrence(S, K, S(K - 1), 1, 1, sp.Integer(1), "S(K) = S(K - 1) with S(1) = 2^0 = 1: one symbol, the root"),
        relation(2 ** (-x - phi_), "<=", 2 ** (-x), "in contrast, Shannon's lengths ceil(-log2 p_i) only satisfy "
                 "Kraft's inequality: 2^(-ceil(x)) <= 2^(-x), usually strictly", over=(phi_, sp.Interval.Ropen(0, 1))),
    ]
    return Derivation(
        "Huffman codes are complete",
        steps,
        (kraft, "=", 1),
        assumptions=("ell_i are the code lengths of a Huffman code for any distribution on K >= 2 symbols",),
    )


@cache
def derive_gallager() -> Derivation:
    """P(L - H <= p_max + sigma) = 1, with the exact constant sigma; uniform distributions approach it."""
    s = sp.Symbol("sigma_G", positive=True)
    q = sp.Symbol("q", positive=True)
    N = sp.Symbol("N", positive=True)
    g = 2 - 2 / t - sp.log(t, 2)
    uniform = m + 2 * (N - 2**m) / N - sp.log(N, 2)
    h = -q * sp.log(q, 2) - (1 - q) * sp.log(1 - q, 2)
    event = Pr(sp.Le(L - H, p_max + s))
    steps = _definitions() + [
        define(s, SIGMA, "Gallager's constant 1 - log2(e) + log2(log2(e)) = 0.0860713..., exactly: a rounded 0.086 "
               "would claim more than was proved, and is false for uniform distributions on about 2^m 2 ln 2 symbols"),
        cite(L - H, "<=", p_max + s, "Gallager's bound, p_max the largest probability", GALLAGER),
        cite(L - H, "<=", 2 - h.subs(q, p_max) - p_max, "Gallager's sharper bound for p_max >= 1/2", GALLAGER),
        equal(uniform.subs(N, 2**m * t), g, "the uniform distribution on N = 2^m t symbols (1 <= t < 2) gets 2(N - 2^m) "
              "codewords of m + 1 bits and the rest m bits: L - H = g(t)"),
        relation(g, "<=", SIGMA, "the uniform distributions stay below sigma ...", over=(t, sp.Interval(1, 2))),
        equal(g.subs(t, 2 * sp.log(2)), SIGMA, "... and reach it at t = 2 ln 2, so sigma cannot be lowered "
              "(as N grows, p_max = 1/N -> 0)"),
        cite(event, "=", 1, "Gallager's bound holds for every distribution, so for every probe", GALLAGER),
    ]
    return Derivation(
        "Gallager's bound on the redundancy of Huffman codes",
        steps,
        (event, "=", 1),
        assumptions=(
            "p is any distribution on K >= 2 symbols, here Dirichlet draws and adversarial families (uniform "
            "distributions, two-level distributions with p_max >= 1/2)",
        ),
    )


def differential_entropy() -> sp.Basic:
    """h(X) = (1/2) log2(2 pi e sigma^2) bits for X ~ N(0, sigma^2)."""
    return sp.log(2 * sp.pi * sp.E * sigma**2, 2) / 2


@cache
def derive_quantized_gaussian() -> Derivation:
    """H_Delta + log2 Delta -> (1/2) log2(2 pi e sigma^2) as Delta -> 0, the correction O(Delta^2)."""
    density = sp.exp(-(x**2) / (2 * sigma**2)) / sp.sqrt(2 * sp.pi * sigma**2)
    integrand = density * (x**2 / (2 * sigma**2) + sp.log(2 * sp.pi * sigma**2) / 2) / sp.log(2)
    h = differential_entropy()
    correction = Delta**2 / (24 * sigma**2 * sp.log(2))
    limit = sp.Limit(H_Delta + sp.log(Delta, 2), Delta, 0)
    steps = [
        define(P_k, Phi((k + sp.Rational(1, 2)) * Delta / sigma) - Phi((k - sp.Rational(1, 2)) * Delta / sigma),
               "the probability that w ~ N(0, sigma^2) rounds to k Delta"),
        define(H_Delta, sp.Sum(-P_k * sp.log(P_k, 2), (k, -sp.oo, sp.oo)), "the entropy of the quantised weights"),
        equal(-density * sp.log(density, 2), integrand, "-phi log2 phi for the Gaussian density phi"),
        equal(sp.Integral(integrand, (x, -sp.oo, sp.oo)), h, "the differential entropy h(X)"),
        cite(H_Delta + sp.log(Delta, 2), "=", h + correction + sp.Order(Delta**4, (Delta, 0)),
             "P_k = Delta phi(k Delta)(1 + Delta^2 phi''/(24 phi) + ...) by the midpoint rule, and E[(k Delta)^2] = "
             "sigma^2 + Delta^2/12 (Sheppard's correction), the sums over k exact up to terms exponentially small in "
             "sigma^2/Delta^2 (Poisson summation): the correction is of order Delta^2", SHEPPARD),
        cite(limit, "=", sp.Limit(h + correction, Delta, 0), "Theorem 8.3.1: H(X^Delta) + log2 Delta -> h(X) for a "
             "Riemann-integrable f log f; the O(Delta^4) remainder vanishes in the limit", COVER),
        equal(sp.Limit(h + correction, Delta, 0), h, "the limit"),
    ]
    return Derivation(
        "The entropy of quantised Gaussian weights",
        steps,
        (limit, "=", h),
        assumptions=(
            "weights w ~ N(0, sigma^2) quantised uniformly with step Delta: k = round(w / Delta), bins centred on "
            "k Delta",
        ),
    )
