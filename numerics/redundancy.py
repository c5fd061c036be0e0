r"""Certified Huffman redundancy: :math:`L - H` of a distribution's Huffman code decided
exactly against :math:`H \le L < H + 1` and Gallager's bound, even where float64 cannot tell.

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

__all__ = [
    "GALLAGER_SIGMA",
    "Certified",
    "PRECISIONS",
    "certify",
    "gallager_bound",
    "gallager_within",
    "self_information",
    "uniform_redundancy",
    "within",
]

_LN2 = math.log(2.0)
_EPS = float(np.finfo(np.float64).eps)
# Gallager's constant sigma = 1 - log2(e) + log2(log2(e)) = 0.0860713320559342..., in float64
# (derived and evaluated to 30 digits in proofs.coding; a test compares the two).
GALLAGER_SIGMA = 1.0 - 1.0 / _LN2 + math.log2(1.0 / _LN2)
PRECISIONS = (50, 200, 1000)  # decimal digits of the fallback for rows within float64 rounding of a bound


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
    L = sum((q * li for q, li in zip(qs, ls, strict=True)), Fraction(0))
    with mp.workdps(digits):
        def num(f: Fraction):
            return mp.mpf(f.numerator) / f.denominator

        ln2 = mp.log(2)
        xs = [mp.log1p(num(total / pi - 1)) / ln2 for pi in ps]  # log2(total / p_i), exact argument
        H = mp.fsum(num(q) * x for q, x in zip(qs, xs, strict=True))
        lower = (num(L) - H, num(L) + H)
        upper = (num(1 - L) + H, abs(num(1 - L)) + H)
        sigma = 1 - 1 / ln2 + mp.log(1 / ln2) / ln2
        qmax = num(qs[top])
        gallager = (qmax + sigma - lower[0], qmax + sigma + lower[1])
        if 2 * qs[top] >= 1 and rest > 0:
            linear = sum((q * (2 - li) for i, (q, li) in enumerate(zip(qs, ls, strict=True)) if i != top), Fraction(0))
            linear -= qs[top] * (ls[top] - 1)
            spread = mp.fsum(num(qs[i]) * mp.log1p(num(rest / ps[i] - 1)) / ln2 for i in range(len(ps)) if i != top)
            sharp = (num(linear) + spread, abs(num(linear)) + spread)
            if sharp[0] < gallager[0]:
                gallager = sharp
        return lower, upper, gallager


def self_information(p: np.ndarray) -> np.ndarray:
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
        for digits in PRECISIONS:
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


def within(c: Certified, lower: float = 0.0, upper: float = 1.0) -> np.ndarray:
    """Rows whose L - H lies in [lower, upper): decided exactly for the proved bounds (0, 1); for
    other bounds (mutation tests) in float64, a row counting as inside only if its rounding bound
    keeps it there."""
    if lower == 0.0 and upper == 1.0:
        return c.lower_ok & c.upper_ok & ~c.undecided
    return (c.redundancy - c.error >= lower) & (c.redundancy + c.error < upper)


def gallager_within(c: Certified, sigma: float = GALLAGER_SIGMA) -> np.ndarray:
    """Rows within Gallager's bound: decided exactly for the proved constant; for another constant
    ``sigma`` (mutation tests) the bound :math:`L - H \\le p_{\\max} + \\sigma` is decided in float64 with the
    rounding bound, a row counting as inside only if its rounding bound keeps it there (a tighter
    constant must hold where the proved bound holds, a looser one holds wherever it does)."""
    proved = c.gallager_ok & ~c.undecided
    if sigma == GALLAGER_SIGMA:
        return proved
    general = c.pmax + sigma - c.redundancy > c.error
    return proved & general if sigma < GALLAGER_SIGMA else proved | general


def uniform_redundancy(k: int) -> float:
    """L - H of the uniform distribution on k symbols (Huffman lengths m and m + 1, m = floor(log2 k)).

    >>> round(uniform_redundancy(3), 6), uniform_redundancy(8)
    (0.081704, 0.0)
    """
    m = k.bit_length() - 1
    return m + 2 * (k - (1 << m)) / k - math.log2(k)
