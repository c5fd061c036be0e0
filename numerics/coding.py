r"""Kernels of the ``huffman.*`` claims: Huffman redundancy on random and adversarial
distributions, Kraft sums, dyadic distributions, and the entropy of quantised Gaussian weights.

For a distribution :math:`p` and Huffman code lengths :math:`\ell` (from
:mod:`numerics.huffman`), :math:`L = \sum_i p_i \ell_i` and
:math:`H = -\sum_i p_i \log_2 p_i`. The code lengths are integers, so every comparison
with a bound is a comparison of exactly known integers against logarithms.

The trap: a Dirichlet draw with small concentration puts almost all mass on one symbol,
:math:`p_{\max} = 1 - \delta` with :math:`\delta` far below the float64 spacing near 1. Then
:math:`L - H = 1 - O(\delta \log(1/\delta))` and the naive ``L - H`` rounds to exactly 1.0, a
false violation of :math:`L < H + 1` (here :math:`\delta = 10^{-19}`, the draw ``(1.0, 1e-19)``
normalised exactly):

>>> import numpy as np
>>> p = np.array([[1.0, 1e-19]]); l = np.array([[1, 1]])
>>> naive = float((p * l).sum() + (p * np.log2(p)).sum())
>>> naive, bool(certify(p, l).upper_ok[0])
(1.0, True)

:func:`certify` therefore writes every margin as a sum of terms that vanish with
:math:`\delta` (:math:`-\log_2 q_{\max} = \operatorname{log1p}(\delta/p_{\max})/\ln 2`), bounds
its float64 rounding error from the unit roundoff and K, and decides the rare rows within
that error in 50-digit arithmetic (mpmath) on the exact binary values of the draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from .estimate import Estimate
from .huffman import batch_code_lengths, canonical_codes, code_lengths, is_prefix_free
from .namespaces import backend_name, bincount, to_host

__all__ = [
    "GALLAGER_SIGMA",
    "SAMPLE",
    "Certified",
    "bounds_experiment",
    "certify",
    "comb_distribution",
    "compress_weights",
    "dirichlet",
    "dyadic_experiment",
    "fraction_estimate",
    "gallager_bound",
    "gallager_experiment",
    "kraft_estimate",
    "kraft_experiment",
    "kraft_sums",
    "miller_madow",
    "miller_madow_bias",
    "quantized_gaussian_entropy",
    "quantized_gaussian_entropy_exact",
    "quantized_gaussian_experiment",
    "quantized_gaussian_probabilities",
    "uniform_redundancy",
    "weight_report",
    "within",
]

_LN2 = math.log(2.0)
_EPS = float(np.finfo(np.float64).eps)
# Gallager's constant sigma = 1 - log2(e) + log2(log2(e)) = 0.0860713320559342..., in float64
# (derived and evaluated to 30 digits in proofs.coding; a test compares the two).
GALLAGER_SIGMA = 1.0 - 1.0 / _LN2 + math.log2(1.0 / _LN2)
SAMPLE = 1 << 14  # weights per replicate group of the quantised-Gaussian experiment
NEAR = 1e-3  # "the bound approached within 0.001 bit", as the events count it
_DIGITS = (50, 200, 1000)  # decimal digits of the fallback for rows within float64 rounding of a bound


_backend = backend_name
_host = to_host  # Huffman codes are built on the host (a heap), from counts made on the device


# --- random distributions ------------------------------------------------------------------------

def dirichlet(xp: Any, rng: Any, draws: int, K: int, alpha: float) -> np.ndarray:
    """``draws`` distributions on ``K`` symbols from the symmetric Dirichlet(alpha), on the host,
    every probability positive (a row in which a Gamma draw underflowed to 0 is drawn again)."""
    g = _host(rng.standard_gamma(alpha, size=(draws, K))).astype(np.float64)
    bad = ~(g > 0).all(axis=1)
    while bad.any():  # only for tiny alpha and huge K: P(Gamma(alpha) < 1e-308) ~ 1e-308^alpha
        g[bad] = _host(rng.standard_gamma(alpha, size=(int(bad.sum()), K)))
        bad = ~(g > 0).all(axis=1)
    return g / g.sum(axis=1, keepdims=True)


def comb_distribution(K: int) -> list[Fraction]:
    """The dyadic distribution (1/2, 1/4, ..., 2^-(K-1), 2^-(K-1)) on K symbols, exactly.

    >>> [str(p) for p in comb_distribution(4)]
    ['1/2', '1/4', '1/8', '1/8']
    """
    return [Fraction(1, 1 << i) for i in range(1, K)] + [Fraction(1, 1 << (K - 1))]


# --- certified redundancy ------------------------------------------------------------------------

def gallager_bound(pmax: np.ndarray | float) -> np.ndarray:
    """Gallager's bound on L - H for a largest probability ``pmax``: ``pmax + sigma``, and for
    ``pmax >= 1/2`` the sharper ``2 - h(pmax) - pmax`` (float64)."""
    q = np.asarray(pmax, dtype=np.float64)
    general = q + GALLAGER_SIGMA
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(q * np.log2(q) + (1 - q) * np.log2(1 - q))
    h = np.where((q <= 0) | (q >= 1), 0.0, h)
    return np.where(q >= 0.5, np.minimum(general, 2 - h - q), general)


@dataclass(frozen=True)
class Certified:
    """Per row: L - H (``redundancy``), its rounding bound (``error``), the decided truth of
    each bound (exact when decided), and whether 50-digit arithmetic was needed."""

    redundancy: np.ndarray
    error: np.ndarray
    pmax: np.ndarray
    gallager_margin: np.ndarray
    lower_ok: np.ndarray
    upper_ok: np.ndarray
    gallager_ok: np.ndarray
    undecided: np.ndarray
    refined: np.ndarray


def _float_margins(p: np.ndarray, lengths: np.ndarray):
    r"""Float64 L - H, 1 - (L - H) and the Gallager margin with a rounding bound for each.

    Each margin is a sum of terms that vanish with the mass ``rest`` off the largest symbol:
    with :math:`q = p / \sum p`, :math:`x_i = -\log_2 q_i` (:math:`x_{\max} =
    \operatorname{log1p}(rest / p_{\max}) / \ln 2`), the lower margin is
    :math:`\sum q_i (\ell_i - x_i)`, the upper :math:`\sum q_i (1 - \ell_i + x_i)`, and for
    :math:`q_{\max} \ge 1/2` the sharper Gallager margin
    :math:`2 - h(q_{\max}) - q_{\max} - (L - H) = \delta + \sum_{i \ne \max} q_i \log_2(\delta / q_i)
    - \sum_i q_i (\ell_i - 1)`, :math:`\delta = 1 - q_{\max}`.

    Error model (unit roundoff eps): each logarithm carries a few ulp of the logarithms it is
    made of; the normalised q_i carry (K + 2) eps relatively; each term and the sum (at most
    K eps times the sum of absolute terms) add their own rounding. Rows holding subnormal
    probabilities (no relative accuracy) are left to the 50-digit path."""
    n, k = p.shape
    rows = np.arange(n)
    l = lengths.astype(np.float64)
    top = np.argmax(p, axis=1)
    pmax = p[rows, top]
    others = p.copy()
    others[rows, top] = 0.0
    rest = others.sum(axis=1)  # the mass off the largest symbol, without cancellation
    total = pmax + rest
    log_ratio = np.log1p(rest / pmax) / _LN2  # log2(total / pmax) = -log2 q_max
    logp = np.log2(p)
    x = np.log2(pmax)[:, None] - logp + log_ratio[:, None]  # -log2(p_i / total)
    x[rows, top] = log_ratio
    x_error = np.abs(x) + np.abs(logp) + np.abs(np.log2(pmax))[:, None]
    x_error[rows, top] = log_ratio
    q = p / total[:, None]
    qmax, qrest = pmax / total, rest / total
    tolerance = (k + 8) * _EPS

    def margin(terms, weighted_log_error):
        return terms.sum(axis=1), tolerance * np.abs(terms).sum(axis=1) + 4 * _EPS * weighted_log_error.sum(axis=1)

    lower, lower_error = margin(q * (l - x), q * x_error)
    upper, upper_error = margin(q * (1.0 - l + x), q * x_error)
    general = qmax + GALLAGER_SIGMA - lower
    general_error = lower_error + 4 * _EPS * (qmax + GALLAGER_SIGMA)
    with np.errstate(divide="ignore"):
        log_rest = np.log2(rest)
    spread = q * (log_rest[:, None] - logp)  # q_i log2(delta / q_i), i off the largest
    spread[rows, top] = 0.0
    spread_error = q * (np.abs(log_rest)[:, None] + np.abs(logp))
    spread_error[rows, top] = 0.0
    terms = np.concatenate([qrest[:, None], spread, -q * (l - 1.0)], axis=1)
    sharp, sharp_error = margin(terms, spread_error)
    use_sharp = (qmax >= 0.5) & (sharp < general)
    gallager = np.where(use_sharp, sharp, general)
    gallager_error = np.where(use_sharp, sharp_error, general_error)
    subnormal = p.min(axis=1) < 1e-290
    for err in (lower_error, upper_error, gallager_error):
        err[subnormal] = np.inf
    return lower, upper, gallager, qmax, lower_error, upper_error, gallager_error


def _exact_margins(p_row: np.ndarray, l_row: np.ndarray, digits: int) -> tuple[tuple[Any, Any], ...]:
    """The three margins of one row for the distribution p / sum(p) taken exactly (the floats are
    rationals): each as (value, scale), the parts linear in q with integer coefficients in exact
    rational arithmetic, the logarithms in ``digits``-digit arithmetic, each term of the same sign
    as its exact value (log1p where an argument is near 1), so the value is accurate to about
    10^-digits of its scale."""
    import mpmath as mp

    ps = [Fraction(float(v)) for v in p_row]
    ls = [int(v) for v in l_row.tolist()]
    top = int(np.argmax(p_row))
    total = sum(ps)
    rest = total - ps[top]
    qs = [pi / total for pi in ps]
    L = sum((q * li for q, li in zip(qs, ls)), Fraction(0))
    with mp.workdps(digits):
        def num(f: Fraction):
            return mp.mpf(f.numerator) / f.denominator

        ln2 = mp.log(2)
        xs = [mp.log1p(num(total / pi - 1)) / ln2 for pi in ps]  # log2(total / p_i), exact argument
        H = mp.fsum(num(q) * x for q, x in zip(qs, xs))
        lower = (num(L) - H, num(L) + H)
        upper = (num(1 - L) + H, abs(num(1 - L)) + H)
        sigma = 1 - 1 / ln2 + mp.log(1 / ln2) / ln2
        qmax = num(qs[top])
        gallager = (qmax + sigma - lower[0], qmax + sigma + lower[1])
        if 2 * qs[top] >= 1 and rest > 0:
            linear = sum((q * (2 - li) for i, (q, li) in enumerate(zip(qs, ls)) if i != top), Fraction(0))
            linear -= qs[top] * (ls[top] - 1)
            spread = mp.fsum(num(qs[i]) * mp.log1p(num(rest / ps[i] - 1)) / ln2 for i in range(len(ps)) if i != top)
            sharp = (num(linear) + spread, abs(num(linear)) + spread)
            if sharp[0] < gallager[0]:
                gallager = sharp
        return lower, upper, gallager


def _information(p: np.ndarray) -> np.ndarray:
    """-log2 q_i for q = p / sum(p), the largest symbol's through log1p (it may round to 0 otherwise)."""
    rows = np.arange(p.shape[0])
    top = np.argmax(p, axis=1)
    pmax = p[rows, top]
    rest = p.sum(axis=1) - pmax
    rest = np.where(rest > 0, np.sort(p, axis=1)[:, :-1].sum(axis=1), 0.0)
    log_ratio = np.log1p(rest / pmax) / _LN2
    x = np.log2(pmax)[:, None] - np.log2(p) + log_ratio[:, None]
    x[rows, top] = log_ratio
    return x


def _is_dyadic(p_row: np.ndarray) -> bool:
    """Every p_i a power of two and the sum exactly 1."""
    mantissa, _ = np.frexp(p_row)
    return bool(np.all(mantissa == 0.5)) and math.fsum(p_row.tolist()) == 1.0


def certify(p: np.ndarray, lengths: np.ndarray) -> Certified:
    """Decide, row by row, H <= L, L < H + 1 and Gallager's bound for the distribution
    ``p / sum(p)`` (exactly) and the integer ``lengths``: float64 with a rounding bound, and
    50 digits for the rows within that bound."""
    p = np.asarray(p, dtype=np.float64)
    lengths = np.asarray(lengths)
    lower, upper, gallager, qmax, lower_error, upper_error, gallager_error = _float_margins(p, lengths)
    lower_ok, upper_ok, gallager_ok = lower > lower_error, upper > upper_error, gallager > gallager_error
    refined = (np.abs(lower) <= lower_error) | (np.abs(upper) <= upper_error) | (np.abs(gallager) <= gallager_error)
    undecided = np.zeros(p.shape[0], dtype=bool)
    for i in np.flatnonzero(refined):
        for digits in _DIGITS:
            margins = _exact_margins(p[i], lengths[i], digits)
            decided = [abs(value) > scale * 10.0 ** (5 - digits) for value, scale in margins]
            if all(decided):
                break
        (lo, _), (up, _), (ga, _) = margins
        lower_ok[i], upper_ok[i], gallager_ok[i] = lo > 0 and decided[0], up > 0 and decided[1], ga > 0 and decided[2]
        if not decided[0]:  # L = H to all those digits: true exactly only for a dyadic distribution
            lower_ok[i] = _is_dyadic(p[i])
        undecided[i] = not (decided[1] and decided[2]) or (not decided[0] and not lower_ok[i])
    return Certified(lower, np.maximum(lower_error, upper_error), qmax, gallager, lower_ok, upper_ok, gallager_ok,
                     undecided, refined)


# --- huffman.bounds, huffman.gallager -----------------------------------------------------------

def fraction_estimate(ok: np.ndarray, xp: Any, events: list[tuple[str, int]]) -> Estimate:
    """The fraction of probes satisfying a bound, exactly: a single failure moves it by 1/n, so the
    tolerance is half of that."""
    n = int(ok.size)
    return Estimate(int(ok.sum()) / n, 0.0, n, _backend(xp), "float64", 0.5 / n, tuple(sorted(events)))


def within(c: Certified, lower: float = 0.0, upper: float = 1.0) -> np.ndarray:
    """Rows whose L - H lies in [lower, upper): decided exactly for the proved bounds (0, 1); for
    other bounds (mutation tests) in float64, a row counting as inside only if its rounding bound
    keeps it there."""
    if lower == 0.0 and upper == 1.0:
        return c.lower_ok & c.upper_ok & ~c.undecided
    return (c.redundancy - c.error >= lower) & (c.redundancy + c.error < upper)


def bounds_experiment(xp: Any, rng: Any, budget: Any, *, K: int, concentration: float, draws: int) -> Estimate:
    """The fraction of ``draws`` Dirichlet(concentration) distributions on K symbols whose Huffman code
    satisfies H <= L < H + 1 (decided exactly; see :func:`certify`)."""
    p = dirichlet(xp, rng, draws, K, concentration)
    c = certify(p, batch_code_lengths(p))
    events = [
        ("draws with L < H (violating the lower bound)", int((~c.lower_ok).sum())),
        ("draws with L >= H + 1 (violating the upper bound)", int((~c.upper_ok).sum())),
        (f"draws with L - H < {NEAR:g} bit (the lower bound approached)", int((c.redundancy < NEAR).sum())),
        (f"draws with L - H > 1 - {NEAR:g} bit (the upper bound approached)", int((c.redundancy > 1 - NEAR).sum())),
        ("draws decided in exact rational and 50+ digit arithmetic (within float64 rounding of a bound)", int(c.refined.sum())),
    ]
    return fraction_estimate(within(c), xp, events)


def uniform_redundancy(k: int) -> float:
    """L - H of the uniform distribution on k symbols (Huffman lengths m and m + 1, m = floor(log2 k)).

    >>> round(uniform_redundancy(3), 6), uniform_redundancy(8)
    (0.081704, 0.0)
    """
    m = k.bit_length() - 1
    return m + 2 * (k - (1 << m)) / k - math.log2(k)


def _adversarial(K: int) -> list[np.ndarray]:
    """Probes near Gallager's bound: uniform distributions (their L - H approaches sigma when
    k / 2^floor(log2 k) is near 2 ln 2) and (q, 1 - q - (K - 2) eps, eps, ..., eps), whose L - H
    approaches the sharper bound 2 - h(q) - q."""
    sizes = set(range(2, min(K, 64) + 1))
    m = 1
    while (1 << m) * 2 * _LN2 <= K:
        sizes.add(round((1 << m) * 2 * _LN2))
        m += 1
    probes = [np.full((1, k), 1.0 / k) for k in sorted(sizes)]
    if K >= 3:
        eps = 1e-9 / K
        qs = np.array([0.5, 0.55, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999])
        two = np.full((qs.size, K), eps)
        two[:, 0] = qs
        two[:, 1] = 1.0 - qs - (K - 2) * eps
        probes.append(two)
    return probes


def gallager_experiment(xp: Any, rng: Any, budget: Any, *, K: int, concentration: float, draws: int) -> Estimate:
    """The fraction of probes satisfying Gallager's bound L - H <= p_max + sigma (and, for
    p_max >= 1/2, L - H <= 2 - h(p_max) - p_max): ``draws`` Dirichlet(concentration) distributions on K
    symbols and the adversarial families of :func:`_adversarial`."""
    p = dirichlet(xp, rng, draws, K, concentration)
    batches = [(p, batch_code_lengths(p))]
    for probe in _adversarial(K):
        lengths = np.array([code_lengths(row) for row in probe]) if probe.shape[0] == 1 else batch_code_lengths(probe)
        batches.append((probe, lengths))
    results = [certify(q, lengths) for q, lengths in batches]
    ok = np.concatenate([r.gallager_ok & ~r.undecided for r in results])
    margin = np.concatenate([r.gallager_margin for r in results])
    pmax = np.concatenate([r.pmax for r in results])
    events = [
        ("probes violating Gallager's bound", int((~ok).sum())),
        (f"probes within {NEAR:g} bit of Gallager's bound", int((margin < NEAR).sum())),
        ("probes with p_max >= 1/2 (the sharper bound 2 - h(p_max) - p_max applies)", int((pmax >= 0.5).sum())),
        ("adversarial probes (uniform and two-level distributions)", int(ok.size - draws)),
        ("probes decided in exact rational and 50+ digit arithmetic (within float64 rounding of a bound)",
         int(sum(r.refined.sum() for r in results))),
    ]
    return fraction_estimate(ok, xp, events)


# --- huffman.kraft ------------------------------------------------------------------------------

def kraft_sums(lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact comparison of each row's Kraft sum with 1, by binary carries from the longest
    length up (integers only): returns (sign of sum - 1 in {-1, 0, 1}, float64 value of the sum).

    >>> sign, value = kraft_sums(np.array([[1, 2, 3, 3], [1, 2, 3, 4], [1, 1, 2, 2]]))
    >>> sign.tolist(), value.tolist()
    ([0, -1, 1], [1.0, 0.9375, 1.5])
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    n, _ = lengths.shape
    top = int(lengths.max())
    slots = (np.arange(n)[:, None] * (top + 1) + lengths).ravel()
    counts = np.bincount(slots, minlength=n * (top + 1)).reshape(n, top + 1)
    carry = np.zeros(n, dtype=np.int64)
    fractional = np.zeros(n, dtype=bool)
    for level in range(top, 0, -1):
        v = counts[:, level] + carry
        fractional |= (v & 1).astype(bool)
        carry = v >> 1
    whole = counts[:, 0] + carry  # the integer part of the sum
    sign = np.where(whole == 0, -1, np.where((whole == 1) & ~fractional, 0, 1))
    value = np.ldexp(1.0, -lengths).sum(axis=1)
    return sign, value


def kraft_experiment(xp: Any, rng: Any, budget: Any, *, K: int, concentration: float, draws: int) -> Estimate:
    """The Kraft sum of the Huffman code farthest from 1 among ``draws`` Dirichlet(concentration)
    distributions on K symbols, compared with 1 exactly (integer carries). A sum that differs from
    1 is reported as a float that differs from 1, however small the difference."""
    p = dirichlet(xp, rng, draws, K, concentration)
    return kraft_estimate(xp, p, batch_code_lengths(p))


def kraft_estimate(xp: Any, p: np.ndarray, lengths: np.ndarray) -> Estimate:
    """The estimate of :func:`kraft_experiment` for given distributions and code lengths."""
    draws = lengths.shape[0]
    sign, value = kraft_sums(lengths)
    shannon = np.ceil(_information(p)).astype(np.int64)
    shannon_sign, _ = kraft_sums(shannon)
    checked = min(draws, 64)
    prefix_free = 0
    for row in lengths[:checked]:  # canonical codewords of the first codes, checked pairwise
        order = np.argsort(row, kind="stable")
        prefix_free += is_prefix_free(canonical_codes(row[order]), row[order])
    worst = 1.0
    if (sign != 0).any():
        i = int(np.argmax(np.where(sign != 0, np.abs(value - 1.0), -1.0)))
        worst = float(value[i])
        if worst == 1.0:  # differs from 1 below float64 resolution: step one ulp the right way
            worst = float(np.nextafter(1.0, 2.0 if sign[i] > 0 else 0.0))
    events = [
        ("Huffman codes with Kraft sum != 1", int((sign != 0).sum())),
        ("Huffman codes with Kraft sum > 1 (no prefix code has these lengths)", int((sign > 0).sum())),
        ("Shannon codes (lengths ceil(-log2 p_i)) with Kraft sum = 1 (complete)", int((shannon_sign == 0).sum())),
        (f"canonical Huffman codes checked pairwise prefix-free (of the first {checked})", int(prefix_free)),
    ]
    # exact: any sum != 1 reads as a float != 1, at least 2^-53 away (the spacing below 1); the tolerance,
    # 3/4 of that, rejects it, and a closed form 1 + 2 x tolerance rounds to 1 + 2^-52, also rejected
    return Estimate(worst, 0.0, draws, _backend(xp), "exact integers", 0.75 * 2.0**-53, tuple(sorted(events)))


# --- huffman.dyadic -----------------------------------------------------------------------------

def _random_dyadic(u: np.ndarray, K: int) -> list[Fraction]:
    """A dyadic distribution from a random full binary tree with K leaves (random merges, driven
    by the uniforms ``u``): p_i = 2^-depth_i."""
    nodes = [[0] for _ in range(K)]  # each node: the depths of its leaves, relative to it
    for step in range(K - 1):
        m = len(nodes)
        i = int(u[2 * step] * m)
        a = nodes.pop(i)
        j = int(u[2 * step + 1] * (m - 1))
        b = nodes.pop(j)
        nodes.append([d + 1 for d in a] + [d + 1 for d in b])
    return [Fraction(1, 1 << d) for d in nodes[0]]


def _exact_entropy(p: list[Fraction]) -> Fraction | None:
    """H exactly when every p_i is a power of 1/2, else None."""
    total = Fraction(0)
    for pi in p:
        if pi.numerator != 1 or pi.denominator & (pi.denominator - 1):
            return None
        total += pi * (pi.denominator.bit_length() - 1)
    return total


def _expected_length(p: list[Fraction]) -> Fraction:
    lengths = code_lengths(p)
    return sum((pi * int(li) for pi, li in zip(p, lengths)), Fraction(0))


def dyadic_experiment(xp: Any, rng: Any, budget: Any, *, K: int) -> Estimate:
    """L of the Huffman code of the comb (1/2, ..., 2^-(K-1), 2^-(K-1)), in exact rationals; and,
    as events, L = H exactly on random dyadic distributions and L > H on non-dyadic ones."""
    import mpmath as mp

    comb = comb_distribution(K)
    L = _expected_length(comb)
    trials = 24
    u = _host(rng.random((trials, 2 * K))).astype(np.float64)
    dyadic_equal = sum(_expected_length(p) == _exact_entropy(p) for p in (_random_dyadic(row, K) for row in u))
    strict = 0
    for row in u:  # non-dyadic: integer weights, one of them odd among powers of two
        w = [1 + int(v * 1000) for v in row[:K]]
        p = [Fraction(x, sum(w)) for x in w]
        while _exact_entropy(p) is not None:  # a dyadic draw (all weights equal, K a power of 2...)
            w[0] += 1
            p = [Fraction(x, sum(w)) for x in w]
        with mp.workdps(_DIGITS[0]):
            h = -mp.fsum(mp.mpf(pi.numerator) / pi.denominator * mp.log(mp.mpf(pi.numerator) / pi.denominator, 2) for pi in p)
            gap = mp.mpf(_expected_length(p).numerator) / _expected_length(p).denominator - h
        strict += gap > mp.mpf(10) ** (10 - _DIGITS[0])
    # the comb perturbed: mass 2^-(K+1)/3 moved from the first symbol to the last is not dyadic
    delta = Fraction(1, 3 << (K + 1))
    perturbed = [comb[0] - delta, *comb[1:-1], comb[-1] + delta]
    with mp.workdps(_DIGITS[0]):
        h = -mp.fsum(mp.mpf(pi.numerator) / pi.denominator * mp.log(mp.mpf(pi.numerator) / pi.denominator, 2) for pi in perturbed)
        lp = _expected_length(perturbed)
        perturbed_gap = mp.mpf(lp.numerator) / lp.denominator - h
    events = [
        ("comb: L = H exactly (exact rationals)", int(L == _exact_entropy(comb))),
        ("random dyadic distributions with L = H exactly", int(dyadic_equal)),
        ("random non-dyadic distributions with L > H (50 digits)", int(strict)),
        ("the comb perturbed by 2^-(K+1)/3: L > H", int(perturbed_gap > mp.mpf(10) ** (10 - _DIGITS[0]))),
    ]
    value = float(L)
    # L is an exact rational; converting it to float64 rounds by at most half an ulp
    return Estimate(value, 0.0, 1, _backend(xp), "rational", 2.0**-53 * abs(value), tuple(sorted(events)))


# --- huffman.quantized-gaussian ------------------------------------------------------------------

def quantized_gaussian_probabilities(sigma: float, Delta: float, reach: float = 40.0) -> np.ndarray:
    """P_k = P(round(X / Delta) = k) for X ~ N(0, sigma^2), k = -m..m with m Delta ~ reach sigma,
    in float64: upper-tail differences of the normal survival function, so tail bins keep their
    relative accuracy (no difference of two numbers near 1)."""
    from scipy.special import ndtr

    m = int(math.ceil(reach * sigma / Delta)) + 1
    k = np.arange(0, m + 1)
    a = (k - 0.5) * Delta / sigma
    upper = ndtr(-a) - ndtr(-(a + Delta / sigma))
    upper[0] = 1.0 - 2.0 * ndtr(-0.5 * Delta / sigma)
    return np.concatenate([upper[:0:-1], upper])


def quantized_gaussian_entropy(sigma: float, Delta: float) -> float:
    """H_Delta in bits, float64 (the probabilities of :func:`quantized_gaussian_probabilities`)."""
    p = quantized_gaussian_probabilities(sigma, Delta)
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def quantized_gaussian_entropy_exact(sigma: float, Delta: float, digits: int = 30) -> tuple[Any, Any]:
    r"""H_Delta = -sum_k P_k log2 P_k in ``digits``-digit arithmetic, and a rigorous bound on the
    truncated tail: the series stops at the first k = m with :math:`(m - 1/2)\Delta \ge 2\sigma`
    and :math:`\sum_{|k| > m} \sqrt{P_k} \le 10^{-digits}`; since :math:`-P \log_2 P \le
    (2 / (e \ln 2)) \sqrt{P}` and :math:`P_k \le \Delta\,\varphi((k - 1/2)\Delta)` for
    :math:`k > m`, the tail is at most :math:`(4 / (e \ln 2)) \sum_{k > m}
    \sqrt{\Delta\,\varphi((k - 1/2)\Delta)}`, itself bounded by a Gaussian integral.
    Returns (value, bound) as mpmath numbers."""
    import mpmath as mp

    with mp.workdps(digits + 10):
        s, d = mp.mpf(sigma), mp.mpf(Delta)
        z = d / s

        def root_tail(m: int):  # sum_{k > m} sqrt(Delta phi((k - 1/2) Delta)), by the integral from (m - 1/2)
            c = mp.sqrt(d / (s * mp.sqrt(2 * mp.pi)))
            start = (m - mp.mpf(1) / 2) * z
            # sum_{k>m} exp(-((k-1/2) z)^2 / 4) <= (1/z) int_{start}^oo exp(-t^2/4) dt (decreasing)
            return c * mp.sqrt(mp.pi) * mp.erfc(start / 2) / z

        m = max(1, int(mp.ceil(2 / z + mp.mpf(1) / 2)))
        target = mp.mpf(10) ** (-digits)
        while root_tail(m) > target:
            m *= 2
        total = mp.mpf(0)
        for k in range(-m, m + 1):
            lo, hi = (k - mp.mpf(1) / 2) * z, (k + mp.mpf(1) / 2) * z
            pk = (mp.ncdf(hi) - mp.ncdf(lo)) if k <= 0 else (mp.ncdf(-lo) - mp.ncdf(-hi))
            if pk > 0:
                total -= pk * mp.log(pk, 2)
        bound = 2 * (2 / (mp.e * mp.log(2))) * root_tail(m)
        return +total, +bound


def miller_madow(counts: np.ndarray) -> np.ndarray:
    r"""The Miller-Madow entropy (bits) of each row of ``counts``: the plug-in
    :math:`\log_2 N - \sum_k n_k \log_2 n_k / N` plus :math:`(m - 1) / (2 N \ln 2)`, m the number
    of occupied bins (Miller 1955)."""
    c = np.asarray(counts, dtype=np.float64)
    total = c.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        nlogn = np.where(c > 0, c * np.log2(np.where(c > 0, c, 1.0)), 0.0).sum(axis=-1)
    occupied = (c > 0).sum(axis=-1)
    return np.log2(total) - nlogn / total + (occupied - 1) / (2 * total * _LN2)


def miller_madow_bias(sigma: float, Delta: float, N: int) -> tuple[float, float]:
    r"""E[Miller-Madow] - H_Delta for N weights (bits), and a bound on its absolute value.

    Bins with :math:`N P_k < 100` are summed exactly over the binomial law of their count; for the
    others the second-order term :math:`-(1 - P)(1 + 2P) / (12 N^2 P)` (nats) of the delta method
    is used, and the bound doubles it to cover the next order. Returns (estimate, bound)."""
    from scipy.stats import binom

    p = quantized_gaussian_probabilities(sigma, Delta)
    p = p[p > 1e-300]
    sparse = N * p < 100.0
    bias = 0.0  # nats
    for pk in p[sparse]:
        if N * pk < 1e-12:  # E[n ln n] and P(n > 0) are negligible: count the truth's term only
            bias -= -pk * math.log(pk)
            continue
        n = np.arange(1, int(N * pk + 12 * math.sqrt(N * pk) + 14))
        pmf = binom.pmf(n, N, pk)
        plug = float((pmf * (-(n / N) * np.log(n / N))).sum())
        occupied = -math.expm1(N * math.log1p(-pk))
        bias += plug + occupied / (2 * N) - (-pk * math.log(pk))
    dense = p[~sparse]
    second = -((1 - dense) * (1 + 2 * dense) / (12.0 * N * N * dense)).sum()
    # dense bins: E[plug-in] - truth = -(1 - P)/(2N) + second order, and MM adds P(n > 0)/(2N) = 1/(2N)
    # (up to (1 - P)^N < e^-100), so each adds P/(2N); MM's -1/(2N) is counted once
    bias += second + dense.sum() / (2.0 * N) - 1.0 / (2 * N)
    bound = abs(bias) + abs(second)
    return bias / _LN2, bound / _LN2


def quantized_gaussian_experiment(xp: Any, rng: Any, budget: int, *, sigma: float, Delta: float) -> Estimate:
    r"""Miller-Madow entropy of ``budget`` groups of :data:`SAMPLE` weights N(0, sigma^2) quantised
    to round(w / Delta), pooled, plus log2 Delta; its standard error by the delete-one-group
    jackknife, its floor the estimator's residual bias (:func:`miller_madow_bias`) plus rounding.
    Events: groups whose Huffman code (built on the group's own histogram) spends bits per weight
    outside [H, H + 1) of that histogram."""
    groups = int(budget)
    if groups < 2:
        raise ValueError("the quantised-Gaussian experiment needs at least 2 groups of weights")
    per_batch = max(1, (1 << 22) // SAMPLE)
    hist: list[np.ndarray] = []
    lo_all, hi_all = [], []
    for start in range(0, groups, per_batch):
        b = min(per_batch, groups - start)
        k = xp.astype(xp.round(rng.standard_normal((b, SAMPLE)) * (sigma / Delta)), xp.int64)
        lo, hi = int(xp.min(k)), int(xp.max(k))
        width = hi - lo + 1
        flat = (k - lo) + xp.arange(b, dtype=xp.int64)[:, None] * width
        counts = _host(xp.reshape(bincount(xp, xp.reshape(flat, (-1,)), minlength=b * width), (b, width)))
        hist.append(counts)
        lo_all.append(lo)
        hi_all.append(hi)
    lo, hi = min(lo_all), max(hi_all)
    counts = np.zeros((groups, hi - lo + 1), dtype=np.int64)
    row = 0
    for c, l0 in zip(hist, lo_all):
        counts[row:row + c.shape[0], l0 - lo: l0 - lo + c.shape[1]] = c
        row += c.shape[0]
    pooled = counts.sum(axis=0)
    total = groups * SAMPLE
    estimate = float(miller_madow(pooled))
    leave_out = miller_madow(pooled[None, :] - counts)
    jackknife = math.sqrt((groups - 1) / groups * float(((leave_out - leave_out.mean()) ** 2).sum()))
    outside = 0
    plug_in = miller_madow(counts) - ((counts > 0).sum(axis=1) - 1) / (2 * SAMPLE * _LN2)
    for c, h in zip(counts, plug_in):
        occupied = c[c > 0]
        bits = float((occupied * code_lengths(occupied)).sum()) / SAMPLE  # an exact rational, rounded once
        slack = 64 * _EPS * (h + 1)
        outside += not (h - slack <= bits < h + 1 - slack)
    _, bias_bound = miller_madow_bias(sigma, Delta, total)
    value = estimate + math.log2(Delta)
    floor = bias_bound + 16 * _EPS * (abs(estimate) + abs(math.log2(Delta)))
    events = (("groups whose Huffman bits per weight fell outside [H, H + 1) of their own histogram", outside),)
    return Estimate(value, jackknife, groups, _backend(xp), "float64", floor, events)


# --- compressing users' weights -----------------------------------------------------------------

def compress_weights(w: np.ndarray, bits: int):
    """Quantise a float tensor uniformly (one affine scale per tensor) to ``bits`` bits and
    Huffman-code the codes; returns the :class:`~numerics.huffman.Encoded` (carrying the
    quantisation in its metadata, so the file describes itself)."""
    from .huffman import encode, quantize

    q, lo, step = quantize(w, bits)
    e = encode(q)
    return e.with_metadata(quantization={
        "scheme": "uniform affine, one scale per tensor: w = offset + code * step",
        "bits": bits,
        "offset": lo,
        "step": step,
        "dtype": np.dtype(w.dtype).str,
    })


def weight_report(w: np.ndarray, e: Any, file_bytes: int) -> dict[str, Any]:
    """What compressing ``w`` achieved, against the claims' bounds: entropy H of the quantised
    codes, Huffman bits per weight L (payload and whole file), H <= L < H + 1 and Gallager's
    L - H <= p_max + sigma (huffman.bounds, huffman.gallager), the high-resolution estimate
    (1/2) log2(2 pi e s^2) - log2(step) from the weights' standard deviation s
    (huffman.quantized-gaussian: meaningful for bell-shaped weights and step << s), and the
    compression ratio against float32."""
    from .huffman import entropy_bits

    n = e.count
    quant = e.metadata.get("quantization", {})
    step = float(quant.get("step", 0.0))
    report: dict[str, Any] = {
        "shape": list(e.shape),
        "weights": n,
        "dtype": str(np.dtype(w.dtype)),
        "bits": quant.get("bits"),
        "step": step,
        "offset": quant.get("offset"),
        "symbols": int(e.symbols.size),
        "file_bytes": int(file_bytes),
        "ratio_vs_float32": (32.0 * n) / (8.0 * file_bytes) if file_bytes else None,
    }
    if n == 0:
        return report
    counts = np.asarray(e.counts)
    H = entropy_bits(counts)
    L = e.bits / n
    pmax = float(counts.max()) / n
    s = float(np.std(np.asarray(w, dtype=np.float64)))
    report.update({
        "entropy_bits": H,
        "huffman_bits": L,
        "file_bits_per_weight": 8.0 * file_bytes / n,
        "redundancy": L - H,
        "p_max": pmax,
        "gallager_bound": float(gallager_bound(pmax)),
        "within_bounds": bool(H - 1e-9 <= L < H + 1 + 1e-9),
        "within_gallager": bool(L - H <= float(gallager_bound(pmax)) + 1e-9),
        "gaussian_estimate": 0.5 * math.log2(2 * math.pi * math.e * s * s) - math.log2(step) if step > 0 and s > 0 else None,
        "weights_std": s,
    })
    return report
