r"""Kernels of the ``huffman.*`` claims: Huffman redundancy on random and adversarial
distributions, Kraft sums, dyadic distributions, and the entropy of quantised Gaussian weights.

For a distribution :math:`p` and Huffman code lengths :math:`\ell` (from
:mod:`numerics.huffman`), :math:`L = \sum_i p_i \ell_i` and
:math:`H = -\sum_i p_i \log_2 p_i`. The code lengths are integers, so every comparison
with a bound is a comparison of exactly known integers against logarithms: each experiment
decides its bounds exactly (:mod:`numerics.redundancy`); the entropies it estimates are
those of :mod:`numerics.entropy`.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

from .entropy import miller_madow, miller_madow_bias
from .estimate import Estimate
from .huffman import batch_code_lengths, canonical_codes, code_lengths, is_prefix_free
from .namespaces import backend_name, bincount, to_host
from .redundancy import (
    GALLAGER_SIGMA,
    PRECISIONS,
    certify,
    gallager_within,
    self_information,
    uniform_redundancy,
    within,
)

__all__ = [
    "CONTROL",
    "NEAR",
    "SAMPLE",
    "bounds_experiment",
    "closest_uniform",
    "comb_distribution",
    "dirichlet",
    "dyadic_experiment",
    "fraction_estimate",
    "gallager_experiment",
    "gallager_probes",
    "kraft_estimate",
    "kraft_experiment",
    "kraft_sums",
    "quantized_gaussian_experiment",
]

_LN2 = math.log(2.0)
_EPS = float(np.finfo(np.float64).eps)
SAMPLE = 1 << 14  # weights per replicate group of the quantised-Gaussian experiment
NEAR = 1e-3  # "the bound approached within 0.001 bit", as the events count it


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


# --- huffman.bounds, huffman.gallager -----------------------------------------------------------

def fraction_estimate(ok: np.ndarray, xp: Any, events: list[tuple[str, int]]) -> Estimate:
    """The fraction of probes satisfying a bound, exactly: a single failure moves it by 1/n, so the
    tolerance is half of that."""
    n = int(ok.size)
    return Estimate(int(ok.sum()) / n, 0.0, n, _backend(xp), "float64", 0.5 / n, tuple(sorted(events)))


def bounds_experiment(xp: Any, rng: Any, budget: Any, *, K: int, concentration: float, draws: int) -> Estimate:
    """The fraction of ``draws`` Dirichlet(concentration) distributions on K symbols whose Huffman code
    satisfies H <= L < H + 1 (decided exactly; see :func:`certify`)."""
    p = dirichlet(xp, rng, draws, K, concentration)
    c = certify(p, batch_code_lengths(p))
    events = [
        ("draws with $L < H$ (violating the lower bound)", int((~c.lower_ok).sum())),
        (r"draws with $L \ge H + 1$ (violating the upper bound)", int((~c.upper_ok).sum())),
        (f"draws with $L - H < {NEAR:g}$ bit (the lower bound approached)", int((c.redundancy < NEAR).sum())),
        (f"draws with $L - H > 1 - {NEAR:g}$ bit (the upper bound approached)", int((c.redundancy > 1 - NEAR).sum())),
        ("draws decided in exact rational and 50+ digit arithmetic (within float64 rounding of a bound)", int(c.refined.sum())),
    ]
    return fraction_estimate(within(c), xp, events)


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
    symbols and the adversarial families of :func:`_adversarial` (:func:`gallager_probes`)."""
    return gallager_probes(xp, rng, K=K, concentration=concentration, draws=draws)


def gallager_probes(xp: Any, rng: Any, *, K: int, concentration: float, draws: int,
                    sigma: float = GALLAGER_SIGMA) -> Estimate:
    """:func:`gallager_experiment` with the constant ``sigma`` in the bound (another constant than
    Gallager's is a mutation test, decided by :func:`gallager_within`)."""
    p = dirichlet(xp, rng, draws, K, concentration)
    batches = [(p, batch_code_lengths(p))]
    for probe in _adversarial(K):
        lengths = np.array([code_lengths(row) for row in probe]) if probe.shape[0] == 1 else batch_code_lengths(probe)
        batches.append((probe, lengths))
    results = [certify(q, lengths) for q, lengths in batches]
    ok = np.concatenate([gallager_within(r, sigma) for r in results])
    margin = np.concatenate([r.gallager_margin for r in results])
    pmax = np.concatenate([r.pmax for r in results])
    events = [
        ("probes violating Gallager's bound", int((~ok).sum())),
        (f"probes within ${NEAR:g}$ bit of Gallager's bound", int((margin < NEAR).sum())),
        (r"probes with $p_{\mathrm{max}} \ge 1/2$ (the sharper bound $2 - h(p_{\mathrm{max}}) - p_{\mathrm{max}}$ "
         "applies)", int((pmax >= 0.5).sum())),
        ("adversarial probes (uniform and two-level distributions)", int(ok.size - draws)),
        ("probes decided in exact rational and 50+ digit arithmetic (within float64 rounding of a bound)",
         int(sum(r.refined.sum() for r in results))),
    ]
    return fraction_estimate(ok, xp, events)


def closest_uniform(K: int) -> tuple[int, float]:
    r"""The uniform probe of :func:`_adversarial` with the largest :math:`L - H - p_{\max}` at alphabet size
    ``K``, and that value: every constant below it is refuted by the probes (float64)."""
    value, size = max((uniform_redundancy(p.shape[1]) - 1.0 / p.shape[1], p.shape[1]) for p in _adversarial(K)
                      if p.shape[0] == 1)
    return size, value


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
    shannon = np.ceil(self_information(p)).astype(np.int64)
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
        (r"Huffman codes with Kraft sum $\ne 1$", int((sign != 0).sum())),
        ("Huffman codes with Kraft sum $> 1$ (no prefix code has these lengths)", int((sign > 0).sum())),
        (r"Shannon codes (lengths $\lceil -\log_2 p_i \rceil$) with Kraft sum $= 1$ (complete)",
         int((shannon_sign == 0).sum())),
        (f"canonical Huffman codes checked pairwise prefix-free (of the first ${checked}$)", int(prefix_free)),
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
    return sum((pi * int(li) for pi, li in zip(p, lengths, strict=True)), Fraction(0))


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
        with mp.workdps(PRECISIONS[0]):
            h = -mp.fsum(mp.mpf(pi.numerator) / pi.denominator * mp.log(mp.mpf(pi.numerator) / pi.denominator, 2) for pi in p)
            gap = mp.mpf(_expected_length(p).numerator) / _expected_length(p).denominator - h
        strict += gap > mp.mpf(10) ** (10 - PRECISIONS[0])
    # the comb perturbed: mass 2^-(K+1)/3 moved from the first symbol to the last is not dyadic
    delta = Fraction(1, 3 << (K + 1))
    perturbed = [comb[0] - delta, *comb[1:-1], comb[-1] + delta]
    with mp.workdps(PRECISIONS[0]):
        h = -mp.fsum(mp.mpf(pi.numerator) / pi.denominator * mp.log(mp.mpf(pi.numerator) / pi.denominator, 2) for pi in perturbed)
        lp = _expected_length(perturbed)
        perturbed_gap = mp.mpf(lp.numerator) / lp.denominator - h
    events = [
        ("comb: $L = H$ exactly (exact rationals)", int(L == _exact_entropy(comb))),
        ("random dyadic distributions with $L = H$ exactly", int(dyadic_equal)),
        ("random non-dyadic distributions with $L > H$ (50 digits)", int(strict)),
        ("the comb perturbed by $2^{-(K+1)}/3$: $L > H$", int(perturbed_gap > mp.mpf(10) ** (10 - PRECISIONS[0]))),
    ]
    value = float(L)
    # L is an exact rational; converting it to float64 rounds by at most half an ulp
    return Estimate(value, 0.0, 1, _backend(xp), "rational", 2.0**-53 * abs(value), tuple(sorted(events)))


# --- huffman.quantized-gaussian ------------------------------------------------------------------

CONTROL = 1.0 / (2.0 * _LN2)  # beta of the control variate beta (mean z^2 - 1), whose mean is exactly 0


def quantized_gaussian_experiment(xp: Any, rng: Any, budget: int, *, sigma: float, Delta: float) -> Estimate:
    r"""Miller-Madow entropy of ``budget`` groups of :data:`SAMPLE` weights :math:`w = \sigma z`,
    :math:`z \sim N(0, 1)`, quantised to round(w / Delta), pooled, plus log2 Delta, minus the control
    variate :math:`\beta(\overline{z^2} - 1)`, :math:`\beta = 1/(2 \ln 2)` (:data:`CONTROL`).

    The control variate's mean is exactly 0 (:math:`E z^2 = 1`, a property of the sampler, not of
    the claim), so the estimate's mean is unchanged; it removes the dominant fluctuation, since
    :math:`-\log_2 P_k \approx \text{const} + z^2/(2 \ln 2)`, and leaves a spread per weight of about
    :math:`\Delta/(\sigma \sqrt{12} \ln 2)` instead of :math:`1/(\sqrt{2} \ln 2)` bits (the rounding
    error, not the weight, is what remains). Standard error by the delete-one-group jackknife (the
    control variate deleted with its group), floor the estimator's residual bias
    (:func:`miller_madow_bias`) plus rounding. Events: groups whose Huffman code (built on the
    group's own histogram) spends bits per weight outside [H, H + 1) of that histogram."""
    groups = int(budget)
    if groups < 2:
        raise ValueError("the quantised-Gaussian experiment needs at least 2 groups of weights")
    per_batch = max(1, (1 << 22) // SAMPLE)
    hist: list[np.ndarray] = []
    squares: list[np.ndarray] = []
    lo_all, hi_all = [], []
    for start in range(0, groups, per_batch):
        b = min(per_batch, groups - start)
        z = rng.standard_normal((b, SAMPLE))
        squares.append(_host(xp.sum(z * z, axis=1)).astype(np.float64))
        k = xp.astype(xp.round(z * (sigma / Delta)), xp.int64)
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
    for c, l0 in zip(hist, lo_all, strict=True):
        counts[row:row + c.shape[0], l0 - lo: l0 - lo + c.shape[1]] = c
        row += c.shape[0]
    square = np.concatenate(squares)
    pooled = counts.sum(axis=0)
    total = groups * SAMPLE
    control = CONTROL * (math.fsum(square.tolist()) / total - 1.0)
    estimate = float(miller_madow(pooled)) - control
    leave_out = miller_madow(pooled[None, :] - counts) - CONTROL * ((square.sum() - square) / (total - SAMPLE) - 1.0)
    jackknife = math.sqrt((groups - 1) / groups * float(((leave_out - leave_out.mean()) ** 2).sum()))
    outside = 0
    plug_in = miller_madow(counts) - ((counts > 0).sum(axis=1) - 1) / (2 * SAMPLE * _LN2)
    for c, h in zip(counts, plug_in, strict=True):
        occupied = c[c > 0]
        bits = float((occupied * code_lengths(occupied)).sum()) / SAMPLE  # an exact rational, rounded once
        slack = 64 * _EPS * (h + 1)
        outside += not (h - slack <= bits < h + 1 - slack)
    _, bias_bound = miller_madow_bias(sigma, Delta, total)
    value = estimate + math.log2(Delta)
    floor = bias_bound + 16 * _EPS * (abs(estimate) + abs(math.log2(Delta)) + abs(control) + CONTROL)
    events = (("groups whose Huffman bits per weight fell outside $[H, H + 1)$ of their own histogram", outside),)
    return Estimate(value, jackknife, groups, _backend(xp), "float64", floor, events)
