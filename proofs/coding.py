r"""Huffman coding and the entropy of quantised weights: derivations.

A source emits symbol :math:`i` with probability :math:`p_i` (:math:`i = 1, \dots, K`); a
binary prefix code gives it a codeword of :math:`\ell_i` bits. The expected length and the
entropy (bits) are

.. math:: L = \sum_i p_i \ell_i, \qquad H = -\sum_i p_i \log_2 p_i .

Huffman's code (Huffman 1952) minimises L among prefix codes. Every step names its premises
and SymPy checks it from them; three claims are cited theorems (Cover and Thomas 2006,
Gallager 1978), whose checkable parts (Shannon's code, small alphabets, uniform
distributions, the Gaussian's differential entropy) are checked steps the citation uses:

- :func:`derive_bounds`: :math:`H \le L < H + 1` (cited, Shannon's code checked);
- :func:`derive_dyadic`: :math:`L = H = 2 - 2^{2-K}` for the dyadic comb, e.g. 7/4 bits for
  (1/2, 1/4, 1/8, 1/8), by induction along Huffman's algorithm (checked);
- :func:`derive_kraft`: :math:`\sum_i 2^{-\ell_i} = 1` (the Huffman tree is full), by
  induction along Huffman's algorithm (checked);
- :func:`derive_gallager`: :math:`L - H \le p_{\max} + \sigma`, :math:`\sigma = 1 - \log_2 e +
  \log_2 \log_2 e`, which uniform distributions approach (cited, special cases checked);
- :func:`derive_quantized_gaussian`: :math:`H_\Delta + \log_2 \Delta \to \tfrac12 \log_2(2\pi e
  \sigma^2)` as :math:`\Delta \to 0` (cited, the integral checked); the coefficient
  :math:`1/(24 \sigma^2 \ln 2)` of its :math:`\Delta^2` correction by
  :func:`derive_quantized_gaussian_correction` (the trapezoidal sum cited, the rest checked).

Huffman codes are not unique (ties); every statement is about L, never one particular code.
Symbols use the claims' parameter names: ``K`` (alphabet size), ``sigma``, and ``Delta``
(the limit variable of the quantised-Gaussian claim).
"""

from __future__ import annotations

from functools import cache

import sympy as sp

from .derivation import (
    Derivation,
    cite,
    define,
    equal,
    hypothesis,
    recurrence,
    relation,
    substitute,
)
from .printing import indexed, symbol
from .sources import Source

__all__ = [
    "COVER", "GALLAGER", "HUFFMAN", "PANINSKI", "SHEPPARD", "SIGMA", "SOURCES", "TREFETHEN", "derive_bounds",
    "derive_dyadic", "derive_gallager", "derive_kraft", "derive_quantized_gaussian", "derive_quantized_gaussian_correction",
    "differential_entropy",
]

K = sp.Symbol("K", integer=True, positive=True)
sigma = sp.Symbol("sigma", positive=True)
Delta = sp.Symbol("Delta", positive=True)

i = sp.Symbol("i", integer=True, positive=True)
k = sp.Symbol("k", integer=True)
m = sp.Symbol("m", integer=True, nonnegative=True)
t = sp.Symbol("t", positive=True)
x = sp.Symbol("x", real=True)
psi_ = sp.Symbol("psi", positive=True)  # a ceiling's rounding, in (0, 1]
p = sp.IndexedBase("p", positive=True)
ell = indexed("ell", r"\ell", integer=True, positive=True)
psi = sp.IndexedBase("psi", positive=True)
ell_S = indexed("ell^S", r"\ell^{S}", integer=True, positive=True)  # Shannon's code lengths
L, H = sp.symbols("L H", real=True)
p_max = sp.Symbol("p_max", positive=True)
Pr = sp.Function("P")  # the probability of an event over the random distribution p
S = sp.Function("S")  # the Kraft sum of the Huffman code of K symbols
Phi = sp.Function("Phi")  # the standard normal distribution function
P_k = sp.Symbol("P_k", positive=True)
H_Delta = symbol("H_Delta", r"H_{\Delta}", positive=True)

# Gallager's constant: 1 - log2(e) + log2(log2(e)) = 0.0860713320559342...
SIGMA = 1 - 1 / sp.log(2) + sp.log(1 / sp.log(2)) / sp.log(2)

HUFFMAN = Source("huffman1952", "David A. Huffman", "A method for the construction of minimum-redundancy codes",
                 "Proceedings of the IRE", 1952, doi="10.1109/JRPROC.1952.273898", volume="40", number="9",
                 pages="1098-1101")
GALLAGER = Source("gallager1978", "Robert G. Gallager", "Variations on a theme by Huffman",
                  "IEEE Transactions on Information Theory", 1978, doi="10.1109/TIT.1978.1055959", volume="24",
                  number="6", pages="668-674")
COVER = Source("cover2006", "Thomas M. Cover and Joy A. Thomas", "Elements of Information Theory (2nd edition)",
               "Wiley-Interscience, Hoboken, NJ", 2006, isbn="978-0-471-24195-9", kind="book")
SHEPPARD = Source("sheppard1898", "W. F. Sheppard",
                  "On the calculation of the most probable values of frequency-constants, for data arranged according "
                  "to equidistant division of a scale", "Proceedings of the London Mathematical Society", 1898,
                  doi="10.1112/plms/s1-29.1.353", volume="s1-29", number="1", pages="353-380")
PANINSKI = Source("paninski2003", "Liam Paninski", "Estimation of entropy and mutual information", "Neural Computation",
                  2003, doi="10.1162/089976603321780272", volume="15", number="6", pages="1191-1253")
TREFETHEN = Source("trefethen2014", "Lloyd N. Trefethen and J. A. C. Weideman", "The exponentially convergent "
                   "trapezoidal rule", "SIAM Review", 2014, doi="10.1137/130932132", volume="56", number="3",
                   pages="385-458")
SOURCES = (HUFFMAN, GALLAGER, COVER, SHEPPARD, PANINSKI, TREFETHEN)


def _sum(expr: sp.Basic) -> sp.Sum:
    return sp.Sum(expr, (i, 1, K))


def _definitions() -> list:
    return [
        define(L, _sum(p[i] * ell[i]), r"the expected length of a code with lengths $\ell_i$"),
        define(H, _sum(-p[i] * sp.log(p[i], 2)), "the entropy of $p$ in bits"),
    ]


def _kraft_sum() -> sp.Sum:
    return _sum(2 ** (-ell[i]))


def _entropy_nats(q: sp.Symbol) -> sp.Basic:
    """The binary entropy in nats (solveset finds its critical points; in bits it does not)."""
    return -q * sp.log(q) - (1 - q) * sp.log(1 - q)


def _shannon_code(norm, entropy) -> list:
    """Shannon's lengths ceil(-log2 p_i): they satisfy Kraft's inequality and give L_S < H + 1."""
    info = -sp.log(p[i], 2)
    written = _sum(p[i] * (info + 1 - psi[i]))
    lengths = define(ell_S[i], sp.ceiling(info), "Shannon's code lengths")
    ceiling = define(sp.ceiling(info), info + 1 - psi[i], r"the ceiling written as $-\log_2 p_i + 1 - \psi_i$, "
                     r"with $0 < \psi_i \le 1$ by the definition of the ceiling")
    shannon = substitute(_sum(p[i] * ell_S[i]), "the expected length $L_S$ of Shannon's code", uses=[lengths, ceiling])
    below = relation(written, "<", _sum(p[i] * (info + 1)), r"each $\psi_i > 0$ and $p_i > 0$")
    split = equal(_sum(p[i] * (info + 1)), _sum(-p[i] * sp.log(p[i], 2)) + _sum(p[i]), "splitting the sum")
    upper = equal(split.rhs, H + 1, r"$\sum_i p_i = 1$ and the definition of $H$: $L_S < H + 1$", uses=[entropy, norm])
    p_i = sp.Symbol("p_i", positive=True)
    information = define(x, -sp.log(p_i, 2), "the information of symbol $i$, Shannon's length before rounding up")
    exact = equal(2 ** (-x), p_i, "a length of exactly $x$ bits would weigh $p_i$ in the Kraft sum", uses=[information])
    kraft = relation(2 ** (-(x + 1 - psi_)), "<=", 2 ** (-x), r"Shannon's lengths satisfy Kraft's inequality: "
                     r"$2^{-\lceil x\rceil} \le 2^{-x} = p_i$ with $\psi = \psi_i \in (0, 1]$, and summing, "
                     r"$\sum_i 2^{-\lceil -\log_2 p_i\rceil} \le \sum_i p_i = 1$: a prefix code with these lengths "
                     "exists", over=(psi_, sp.Interval.Lopen(0, 1)))
    return [lengths, ceiling, shannon, below, split, upper, information, exact, kraft]


@cache
def derive_bounds() -> Derivation:
    """P(H <= L < H + 1) = 1: both bounds hold for every distribution (a cited theorem whose
    Shannon-code half, the lower bound's identity and the two-symbol case SymPy checks)."""
    event = Pr(sp.And(sp.Le(H, L), sp.Lt(L, H + 1)))
    length, entropy = _definitions()
    norm = hypothesis(_sum(p[i]) - 1, "=", 0, "$p$ is a distribution: its probabilities sum to 1")
    gap = equal(L - H, _sum(p[i] * sp.log(p[i] * 2 ** ell[i], 2)), r"$L - H$ is a relative entropy of $p$ against "
                r"$2^{-\ell_i}$, up to the Kraft sum", uses=[length, entropy])
    s = sp.Symbol("S", positive=True)
    kraft = relation(-sp.log(s, 2), ">=", 0, r"a Kraft sum $S \le 1$ costs $-\log_2 S \ge 0$ bits",
                     over=(s, sp.Interval.Lopen(0, 1)))
    q = sp.Symbol("q", positive=True)
    two = relation(_entropy_nats(q), "<=", sp.log(2), r"two symbols $(q, 1 - q)$: Huffman's lengths are $(1, 1)$, "
                   r"$L = 1$ bit, and $H = h(q) \le 1$ bit (here in nats: $h(q) \ln 2 \le \ln 2$); the lower bound in "
                   "this case",
                   over=(q, sp.Interval.open(0, 1)))
    shannon = _shannon_code(norm, entropy)
    *_, written, below, split, upper, _, exact, lengths_kraft = shannon
    theorem = cite(event, "=", 1, "Theorems 5.4.1 and 5.8.1", COVER,
                   r"the expected length $L^*$ of an optimal prefix code satisfies $H \le L^* < H + 1$ (Theorem "
                   r"5.4.1), and Huffman's code is optimal (Theorem 5.8.1), so $L = L^* \le L_S$ for every $p$ and "
                   r"every random draw satisfies both bounds. Checked above: $L - H$ as a relative entropy, "
                   r"$-\log_2$ of a Kraft sum $\ge 0$ (Kraft's inequality, Theorem 5.2.1, and the log-sum inequality, "
                   r"Theorem 2.7.1, cited within), the two-symbol case, and Shannon's code: $L_S < H + 1$ with lengths "
                   "satisfying Kraft's inequality",
                   uses=[gap, kraft, two, written, below, split, upper, exact, lengths_kraft])
    steps = [length, entropy, norm, gap, kraft, two, *shannon, theorem]
    return Derivation(
        "Huffman's expected length lies within one bit of the entropy",
        steps,
        (event, "=", 1),
        assumptions=(
            r"$p$ is any distribution on $K \ge 2$ symbols with every $p_i > 0$ (here drawn from a symmetric "
            r"Dirichlet distribution), and $\ell_i$ are the lengths of a Huffman code for $p$",
        ),
    )


@cache
def derive_dyadic() -> Derivation:
    """L = 2 - 2^(2-K) for the dyadic comb (1/2, 1/4, ..., 2^-(K-1), 2^-(K-1)), by induction on
    K along Huffman's algorithm; its entropy is the same (a remark)."""
    Lc = sp.Function("L_c")  # the expected length of the Huffman code for the comb on K symbols
    merged = sp.Symbol("m_K", positive=True)
    depth = sp.Symbol("d", integer=True, nonnegative=True)
    last = [define(p[K - 1], 2 ** (1 - K), r"the comb's two least probable symbols: $p_{K-1} = 2^{-(K-1)}$ ..."),
            define(p[K], 2 ** (1 - K), r"... and $p_K = 2^{-(K-1)}$")]
    mass = define(merged, p[K - 1] + p[K], "Huffman's algorithm merges the two least probable symbols into one of "
                  "mass $m_K$; merging the comb's last two gives the comb on $K - 1$ symbols")
    merged_mass = equal(merged, 2 ** (2 - K), "the merged symbol is the last of the comb on $K - 1$ symbols",
                        uses=[mass, *last])
    split = define(Lc(K), Lc(K - 1) + merged * (depth + 1) - merged * depth,
                   "the Huffman code for $K$ symbols is the code for the merged $K - 1$ with the merged leaf, of depth "
                   "$d$, split into two leaves of depth $d + 1$ and total mass $m_K$")
    rule = equal(Lc(K), Lc(K - 1) + 2 ** (2 - K), "each split adds its mass to $L$", uses=[split, merged_mass])
    first = define(Lc(1), 0, "the comb on one symbol is $(1)$: the empty codeword, 0 bits")
    solved = recurrence(Lc, K, 1, 2 - 2 ** (2 - K),
                        "$L_c(K) = L_c(K - 1) + 2^{2-K}$ from $L_c(1) = 0$; $K = 4$ gives $7/4$ bits",
                        uses=[rule, first])
    length = define(L, Lc(K), "the expected length of the Huffman code for the comb on $K$ symbols")
    comb = sp.Sum(i * 2 ** (-i), (i, 1, K - 1)) + (K - 1) * 2 ** (1 - K)
    entropy = equal(comb, 2 - 2 ** (2 - K), r"the comb's entropy: $-\log_2 p_i = i$ for $i < K$ and $K - 1$ for "
                    r"$i = K$, so $H = \sum_i p_i \log_2(1/p_i)$ is the same closed form: $L = H$, each codeword as "
                    r"long as its information (Cover and Thomas, Theorem 5.3.1: equality if and only if "
                    r"$p_i = 2^{-\ell_i}$)")
    return Derivation(
        "A dyadic distribution is coded at its entropy",
        [*last, mass, merged_mass, split, rule, first, solved, length],
        (L, "=", 2 - 2 ** (2 - K)),
        uses=[length, solved],
        assumptions=(r"$p = (1/2, 1/4, \dots, 2^{-(K-1)}, 2^{-(K-1)})$, the dyadic comb on $K \ge 2$ symbols",),
        remarks=[entropy],
    )


@cache
def derive_kraft() -> Derivation:
    """The Kraft sum of a Huffman code is exactly 1, by induction on K along Huffman's algorithm."""
    depth = sp.Symbol("d", integer=True, nonnegative=True)
    child = sp.Symbol("d'", integer=True, positive=True)
    below = define(child, depth + 1, "a leaf's two children lie one level below it")
    siblings = equal(2 * 2 ** (-child), 2 ** (-depth), "two siblings weigh as much as their parent in the Kraft sum",
                     uses=[below])
    split = define(S(K), S(K - 1) - 2 ** (-depth) + 2 * 2 ** (-child),
                   "Huffman's algorithm (Huffman 1952): the code for $K$ symbols is the code for $K - 1$ (the two "
                   "least probable merged) with the merged leaf, of depth $d$, split into two leaves of depth $d'$")
    rule = equal(S(K), S(K - 1), "the split leaves the Kraft sum unchanged", uses=[split, siblings])
    root = sp.Symbol("d_1", integer=True, nonnegative=True)
    alone = define(S(1), 2 ** (-root), "one symbol: the code is the root alone, of depth $d_1$")
    top = define(root, 0, "the root's depth")
    first = equal(S(1), 1, "the Kraft sum of one symbol", uses=[alone, top])
    solved = recurrence(S, K, 1, sp.Integer(1), "$S(K) = S(K - 1)$ from $S(1) = 1$", uses=[rule, first])
    kraft = define(_kraft_sum(), S(K), "the Kraft sum of the Huffman code on $K$ symbols")
    contrast = relation(2 ** (-(x + 1 - psi_)), "<=", 2 ** (-x), r"in contrast, Shannon's lengths $\lceil x\rceil$, "
                        r"$x = -\log_2 p_i$, written $x + 1 - \psi$ with $0 < \psi \le 1$, only satisfy Kraft's "
                        "inequality, usually strictly",
                        over=(psi_, sp.Interval.Lopen(0, 1)))
    return Derivation(
        "Huffman codes are complete",
        [below, siblings, split, rule, alone, top, first, solved, kraft],
        (_kraft_sum(), "=", 1),
        uses=[kraft, solved],
        assumptions=(r"$\ell_i$ are the code lengths of a Huffman code for any distribution on $K \ge 2$ symbols",),
        remarks=[contrast],
    )


@cache
def derive_gallager() -> Derivation:
    """P(L - H <= p_max + sigma) = 1, with the exact constant sigma (a cited theorem: uniform
    distributions and two symbols checked, and uniform distributions reach sigma)."""
    s = sp.Symbol("sigma_G", positive=True)
    q = sp.Symbol("q", positive=True)
    N = sp.Symbol("N", positive=True)
    L_u, H_u = sp.symbols("L_u H_u", positive=True)
    g = 2 - 2 / t - sp.log(t, 2)
    event = Pr(sp.Le(L - H, p_max + s))
    constant = define(s, SIGMA, r"Gallager's constant $1 - \log_2 e + \log_2 \log_2 e = 0.0860713\ldots$, "
                      r"exactly: a rounded $0.086$ would claim more than was proved, and is false for uniform "
                      r"distributions on about $2^m \cdot 2 \ln 2$ symbols")
    size = define(N, 2**m * t, r"a uniform distribution on $N = 2^m t$ symbols, $1 \le t < 2$")
    uniform_length = define(L_u, (2 * (N - 2**m) * (m + 1) + (2 ** (m + 1) - N) * m) / N,
                            "its Huffman code: $2(N - 2^m)$ codewords of $m + 1$ bits, the other $2^{m+1} - N$ of $m$ "
                            "bits")
    uniform_entropy = define(H_u, sp.Sum(-sp.log(1 / N, 2) / N, (i, 1, N)), "its entropy")
    entropy = equal(H_u, sp.log(N, 2), "the entropy of a uniform distribution", uses=[uniform_entropy])
    redundancy = equal(L_u - H_u, g, "the redundancy of the uniform distribution as a function $g(t)$",
                       uses=[uniform_length, entropy, size])
    uniform = relation(g, "<=", s, r"uniform distributions satisfy the bound: "
                       r"$L - H = g(t) \le \sigma_G < p_{\mathrm{max}} + \sigma_G$",
                       uses=[constant], over=(t, sp.Interval(1, 2)))
    two = relation(sp.log(2) - _entropy_nats(q), "<=", (q + s) * sp.log(2),
                   r"two symbols, $p_{\mathrm{max}} = q \ge 1/2$: $L - H = 1 - h(q) \le q + \sigma_G$ bits (here "
                   r"times $\ln 2$)", uses=[constant],
                   over=(q, sp.Interval.Ropen(sp.Rational(1, 2), 1)))
    theorem = cite(event, "=", 1, "Theorem 2", GALLAGER, r"Gallager's bound "
                   r"$L - H \le p_{\mathrm{max}} + \sigma_G$, $p_{\mathrm{max}}$ the largest probability, holds for "
                   "every distribution, so for every probe; the uniform and two-symbol cases are checked above",
                   uses=[redundancy, uniform, two])
    tight = equal(g.subs(t, 2 * sp.log(2)), s, r"uniform distributions reach $\sigma_G$ at $t = 2 \ln 2$, so it "
                  r"cannot be lowered (as $N$ grows, $p_{\mathrm{max}} = 1/N \to 0$)", uses=[constant])
    return Derivation(
        "Gallager's bound on the redundancy of Huffman codes",
        [constant, size, uniform_length, uniform_entropy, entropy, redundancy, uniform, two, theorem],
        (event, "=", 1),
        assumptions=(
            r"$p$ is any distribution on $K \ge 2$ symbols, here Dirichlet draws and adversarial families (uniform "
            r"distributions, two-level distributions with $p_{\mathrm{max}} \ge 1/2$)",
        ),
        remarks=[tight],
    )


def differential_entropy() -> sp.Basic:
    """h(X) = (1/2) log2(2 pi e sigma^2) bits for X ~ N(0, sigma^2)."""
    return sp.log(2 * sp.pi * sp.E * sigma**2, 2) / 2


def _quantisation() -> tuple[sp.Function, sp.Basic, list]:
    """The Gaussian density f, and the definitions of f, of the bins' probabilities and of H_Delta."""
    f = sp.Function("f")
    density = sp.exp(-(x**2) / (2 * sigma**2)) / sp.sqrt(2 * sp.pi * sigma**2)
    return f, density, [
        define(f(x), density, r"the density of $w \sim \mathcal{N}(0, \sigma^2)$"),
        define(P_k, Phi((k + sp.Rational(1, 2)) * Delta / sigma) - Phi((k - sp.Rational(1, 2)) * Delta / sigma),
               r"the probability that $w$ rounds to $k \Delta$"),
        define(H_Delta, sp.Sum(-P_k * sp.log(P_k, 2), (k, -sp.oo, sp.oo)), "the entropy of the quantised weights"),
    ]


_ASSUMED = (r"weights $w \sim \mathcal{N}(0, \sigma^2)$ quantised uniformly with step $\Delta$: "
            r"$k = \operatorname{round}(w/\Delta)$, bins centred on $k \Delta$",)


@cache
def derive_quantized_gaussian() -> Derivation:
    """H_Delta + log2 Delta -> (1/2) log2(2 pi e sigma^2) as Delta -> 0 (Cover and Thomas's
    Theorem 8.3.1, the Gaussian's differential entropy checked); the Delta^2 correction is derived by
    :func:`derive_quantized_gaussian_correction`."""
    f, density, (gaussian, bins, quantised) = _quantisation()
    integrand = density * (x**2 / (2 * sigma**2) + sp.log(2 * sp.pi * sigma**2) / 2) / sp.log(2)
    line = (x, -sp.oo, sp.oo)
    h = differential_entropy()
    limit = sp.Limit(H_Delta + sp.log(Delta, 2), Delta, 0)
    theorem = cite(limit, "=", sp.Integral(-f(x) * sp.log(f(x), 2), *[line]), "Theorem 8.3.1", COVER,
                   r"$H(X^{\Delta}) + \log_2 \Delta \to h(X)$ for a Riemann-integrable density $f$",
                   uses=[gaussian, bins, quantised])
    pointwise = equal(-f(x) * sp.log(f(x), 2), integrand, r"$-f \log_2 f$ for the Gaussian density", uses=[gaussian])
    inside = equal(theorem.rhs, sp.Integral(integrand, line), "the same integrand", uses=[pointwise])
    entropy = equal(sp.Integral(integrand, line), h, "the differential entropy $h(X)$")
    u = sp.Symbol("u", real=True)  # the rounding error
    sheppard = equal(sp.Integral(u**2, (u, -Delta / 2, Delta / 2)) / Delta / (2 * sigma**2 * sp.log(2)),
                     Delta**2 / (24 * sigma**2 * sp.log(2)), r"the correction in short: the rounding error, uniform "
                     r"on $[-\Delta/2, \Delta/2]$, has variance $\Delta^2/12$ (Sheppard 1898), which the Gaussian "
                     r"log-density $x^2/(2 \sigma^2 \ln 2)$ turns into $\Delta^2/(24 \sigma^2 \ln 2)$ bits: the "
                     "coefficient of the claim's first correction, derived in its own proof and tested by every verdict")
    return Derivation("The entropy of quantised Gaussian weights", [gaussian, bins, quantised, theorem, pointwise, inside,
                      entropy], (limit, "=", h), uses=[theorem, inside, entropy], assumptions=_ASSUMED, remarks=[sheppard])


@cache
def derive_quantized_gaussian_correction() -> Derivation:
    r"""The coefficient :math:`b_1 = 1/(24 \sigma^2 \ln 2)` of :math:`\Delta^2` in
    :math:`H_\Delta + \log_2 \Delta = h + b_1 \Delta^2 + O(\Delta^4)` (bits).

    :math:`P_k = \Delta\,g(k\Delta)` with :math:`g` the mean of the density over a bin, so
    :math:`H_\Delta + \log_2 \Delta` is a trapezoidal sum of :math:`G = -g \log_2 g`, equal to
    :math:`\int G` up to terms exponentially small in :math:`\sigma^2/\Delta^2` (cited: Trefethen and
    Weideman 2014, Theorem 5.1); the bin mean :math:`g = f + \Delta^2 f''/24 + \Delta^4 f^{(4)}/1920`
    (Sheppard's correction) and the first-order change of :math:`-g \log_2 g` are checked, and so is
    the Gaussian integral :math:`-\frac{1}{24}\int f''(\log_2 f + 1/\ln 2) = 1/(24\sigma^2\ln 2)`.
    The next coefficient, :math:`-1/(576 \sigma^4 \ln 2)`, is fitted, not tested (a test checks it
    against the exact series)."""
    f, _, (gaussian, bins, quantised) = _quantisation()
    g, b_1 = sp.Function("g"), sp.Symbol("b_1")
    s, u, eps = sp.Symbol("s", real=True), sp.Symbol("u", real=True), sp.Symbol("epsilon", real=True)
    derivatives = [symbol(f"f{j}", "f(x)" if j == 0 else rf"f^{{({j})}}(x)", real=True) for j in range(5)]
    value, change = symbol("F", "f", positive=True), symbol("A", "A", real=True)
    mean = define(g(x), sp.Integral(f(s), (s, x - Delta / 2, x + Delta / 2)) / Delta,
                  r"the mean of $f$ over the bin centred on $x$, so that $P_k = \Delta\, g(k \Delta)$")
    taylor = equal(sp.Integral(sum(d * u**j / sp.factorial(j) for j, d in enumerate(derivatives)),
                               (u, -Delta / 2, Delta / 2)) / Delta,
                   derivatives[0] + Delta**2 * derivatives[2] / 24 + Delta**4 * derivatives[4] / 1920,
                   r"$f(x + u)$ by its Taylor polynomial, averaged over the bin $|u| \le \Delta/2$: the odd powers "
                   r"cancel, and $g = f + \Delta^2 f''/24 + O(\Delta^4)$ (Sheppard's correction)")
    first = equal(sp.Subs(sp.Derivative(-(value + eps * change) * sp.log(value + eps * change, 2), eps), eps, 0),
                  -change * (sp.log(value, 2) + 1 / sp.log(2)),
                  r"the first-order change of $-g \log_2 g$ when $g = f + \epsilon A$, here $\epsilon A = \Delta^2 f''/24$")
    coefficient = sp.Limit((H_Delta + sp.log(Delta, 2) - differential_entropy()) / Delta**2, Delta, 0)
    integral = -sp.Integral(sp.Derivative(f(x), (x, 2)) * (sp.log(f(x), 2) + 1 / sp.log(2)), (x, -sp.oo, sp.oo)) / 24
    trapezoid = cite(coefficient, "=", integral, "Theorem 5.1", TREFETHEN,
                     r"$\sum_k P_k = 1$ and $P_k = \Delta\, g(k\Delta)$ make $H_\Delta + \log_2 \Delta$ the trapezoidal "
                     r"sum $\sum_k \Delta\, G(k \Delta)$ of $G = -g \log_2 g$, analytic in a strip about the real line "
                     r"and integrable along it, so it equals $\int G\,dx$ up to $O(e^{-2\pi a/\Delta})$; with "
                     r"$g = f + \Delta^2 f''/24 + O(\Delta^4)$ and the first-order change of $-g \log_2 g$, "
                     r"$\int G\,dx = h - \frac{\Delta^2}{24} \int f'' (\log_2 f + 1/\ln 2)\,dx + O(\Delta^4)$, "
                     r"$h = \int -f \log_2 f\,dx$",
                     uses=[gaussian, bins, quantised, mean, taylor, first])
    gaussian_integral = equal(integral, 1 / (24 * sigma**2 * sp.log(2)),
                              r"for the Gaussian: $\log_2 f = -x^2/(2\sigma^2 \ln 2) + \mathrm{const}$, $\int f'' = 0$ "
                              r"and $\int x^2 f'' = 2$", uses=[gaussian])
    definition = define(b_1, coefficient, r"the coefficient of $\Delta^2$ in $H_\Delta + \log_2 \Delta = h + b_1 "
                        r"\Delta^2 + b_2 \Delta^4 + \dots$, the first correction the verifier fits")
    return Derivation(r"The $\Delta^2$ correction to the entropy of quantised Gaussian weights",
                      [gaussian, bins, quantised, mean, taylor, first, trapezoid, gaussian_integral, definition],
                      (b_1, "=", 1 / (24 * sigma**2 * sp.log(2))), uses=[definition, trapezoid, gaussian_integral],
                      assumptions=_ASSUMED)
