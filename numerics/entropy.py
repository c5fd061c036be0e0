r"""Entropy in bits: the plug-in and Miller-Madow estimates from histograms, and the entropy
:math:`H_\Delta` of a Gaussian quantised with step :math:`\Delta` (float64, and to 30 digits
with a rigorous tail bound), for the ``huffman.quantized-gaussian`` claim and the weight
compressor's report.

>>> entropy_bits([1, 1, 2]), round(quantized_gaussian_entropy(1.0, 1.0), 4)
(1.5, 2.1048)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "entropy_bits",
    "miller_madow",
    "miller_madow_bias",
    "quantized_gaussian_entropy",
    "quantized_gaussian_entropy_exact",
    "quantized_gaussian_probabilities",
]

_LN2 = math.log(2.0)


def entropy_bits(counts: np.ndarray) -> float:
    """Plug-in entropy (bits) of a histogram: :math:`\\log_2 N - \\sum n_k \\log_2 n_k / N`."""
    c = np.asarray(counts, dtype=np.float64)
    c = c[c > 0]
    total = float(c.sum())
    if total == 0:
        return 0.0
    return float(math.log2(total) - (c * np.log2(c)).sum() / total)


def quantized_gaussian_probabilities(sigma: float, Delta: float, reach: float = 40.0) -> np.ndarray:
    """P_k = P(round(X / Delta) = k) for X ~ N(0, sigma^2), k = -m..m with m Delta ~ reach sigma,
    in float64: upper-tail differences of the normal survival function, so tail bins keep their
    relative accuracy (no difference of two numbers near 1)."""
    from scipy.special import ndtr

    m = math.ceil(reach * sigma / Delta) + 1
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
