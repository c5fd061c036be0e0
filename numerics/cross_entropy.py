r"""Kernels for the softmax cross-entropy, and the experiments that measure its claims.

All kernels take the array namespace ``xp`` first (NumPy, CuPy, ...). Shapes: logits
``z`` are ``(..., K)``; labels ``y`` are integer arrays of shape ``(...)``.

The trap these kernels avoid: ``log(1 + exp(m))`` overflows to ``inf`` for
``m > 709.78`` in float64 and returns exactly 0 for ``m < -36.7`` (1 + e^m rounds to 1),
losing every digit of a loss that is really about ``e^m``. The stable forms used here
are :math:`\max(m,0) + \operatorname{log1p}(e^{-|m|})` and, for K classes,
:math:`(M - z_y) + \operatorname{log1p}(\sum_{j \ne j^*} e^{z_j - M})` with
:math:`M = z_{j^*} = \max_j z_j` (Blanchard, Higham & Higham 2021, doi:10.1093/imanum/draa038).

>>> import numpy as np
>>> float(naive_softplus(np, np.float64(-40.0))), float(softplus(np, np.float64(-40.0)))
(0.0, 4.248354255291589e-18)
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import mpmath
from array_api_compat import device as _device_of
from mpmath import iv

from .estimate import Accumulator, Estimate
from .namespaces import backend_name, to_host
from .namespaces import generator_device as _device

__all__ = [
    "softplus",
    "softplus_gap",
    "naive_softplus",
    "softmax",
    "cross_entropy",
    "cross_entropy_grad",
    "margin_logits",
    "margin_experiment",
    "derivatives_experiment",
    "certified_derivative",
    "asymptotes_experiment",
    "score_identity_experiment",
    "THIRD_DERIVATIVE_BOUND",
    "FOURTH_DERIVATIVE_BOUND",
]

# max |L'''| and max |L''''| of L(m) = ln(1 + e^m); derived and checked in
# proofs.cross_entropy.derive_derivatives (tests compare the two).
THIRD_DERIVATIVE_BOUND = math.sqrt(3) / 18
FOURTH_DERIVATIVE_BOUND = 1 / 8
SMALLEST_SUBNORMAL = math.ulp(0.0)  # 2^-1074: below it float64 holds nothing (not every finfo has it)
SMALLEST_NORMAL = sys.float_info.min  # 2^-1022: below it float64 loses relative precision
# Beyond |m| = FLOAT_REACH the losses e^{-|m| - h} of a finite-difference stencil leave float64's
# normal range, so the derivatives are certified in interval arithmetic instead (certified_derivative).
FLOAT_REACH = -math.log(SMALLEST_NORMAL) - 1.0  # 707.4
CERTIFY_BITS = 256
CERTIFY_STEP = 2.0**-40


def _tex(x: Any) -> str:
    """A float or mpmath number to three digits, for inline math (``4.94 \\times 10^{-324}``)."""
    if x == 0:
        return "0"
    mantissa, _, exponent = mpmath.nstr(mpmath.mpf(x), 3).partition("e")
    return mantissa if not exponent else f"{mantissa} \\times 10^{{{int(exponent)}}}"


def _unresolved(value: float, atol: float, quantity: str) -> str:
    r"""Why a float64 result ``value`` :math:`\pm` ``atol`` cannot decide a claim, or ``""``.

    It decides when the interval :math:`[v - a, v + a]` holds neither 0 nor twice any of its
    points, :math:`|v| > 3a`: then a closed form of 0, or of twice the truth, lies outside it.
    Near float64's smallest subnormal, :math:`2^{-1074}`, a tiny quantity fails this."""
    if abs(value) > 3 * atol:
        return ""
    return (f"{quantity} is ${_tex(value)} \\pm {_tex(atol)}$ in float64, too near its smallest subnormal "
            "$2^{-1074}$ to tell the closed form from 0 or from twice itself")


def naive_softplus(xp: Any, m: Any) -> Any:
    """``log(1 + exp(m))`` as written: the unstable form, kept to show the trap."""
    return xp.log(1 + xp.exp(m))


def softplus_gap(xp: Any, m: Any) -> Any:
    r""":math:`L(m) - \max(m, 0) = \operatorname{log1p}(e^{-|m|})`, accurate to a few ulp for all m."""
    return xp.log1p(xp.exp(-xp.abs(m)))


def softplus(xp: Any, m: Any) -> Any:
    r"""The binary margin loss :math:`L(m) = \ln(1 + e^m)`, stable over the whole float range."""
    return xp.maximum(m, 0) + softplus_gap(xp, m)


def softmax(xp: Any, z: Any) -> Any:
    """Softmax over the last axis, shifted by the maximum so nothing overflows."""
    e = xp.exp(z - xp.max(z, axis=-1, keepdims=True))
    return e / xp.sum(e, axis=-1, keepdims=True)


def cross_entropy(xp: Any, z: Any, y: Any) -> Any:
    r"""``-log softmax(z)[y]`` over the last axis, relatively accurate even when tiny.

    Computed as :math:`(M - z_y) + \operatorname{log1p}(\sum_{j \ne j^*} e^{z_j - M})`: the
    largest logit's term (exactly 1) is kept out of the sum, so a loss of 1e-300 is not
    rounded away by ``log(1 + tiny)``.
    """
    top = xp.argmax(z, axis=-1)
    M = xp.take_along_axis(z, top[..., None], axis=-1)
    shifted = xp.exp(z - M)
    # The top term is exp(0) = 1 exactly; sum the others alone so tiny terms survive.
    classes = xp.arange(z.shape[-1], device=_device_of(z))
    others = xp.where(classes == top[..., None], 0.0, shifted)
    rest = xp.sum(others, axis=-1)
    z_y = xp.take_along_axis(z, y[..., None], axis=-1)[..., 0]
    return (M[..., 0] - z_y) + xp.log1p(rest)


def cross_entropy_grad(xp: Any, z: Any, y: Any) -> Any:
    """Gradient of :func:`cross_entropy` with respect to ``z``: ``softmax(z) - onehot(y)``."""
    p = softmax(xp, z)
    onehot = xp.arange(z.shape[-1], device=_device_of(z)) == y[..., None]
    return p - xp.astype(onehot, p.dtype)


def margin_logits(xp: Any, K: int, m: float, offset: float, y: int, device: Any = None) -> Any:
    """Logits with correct class ``y`` at ``offset`` and every wrong class at ``offset + m`` (float64)."""
    wrong = xp.full((K,), offset + m, dtype=xp.float64, device=device)
    return xp.where(xp.arange(K, device=device) == y, float(offset), wrong)


def _draw_offset_and_label(rng: Any, K: int) -> tuple[float, int]:
    offset = float(rng.standard_normal())
    y = int(rng.integers(0, K))
    return offset, y


def margin_experiment(xp: Any, rng: Any, budget: int | None = None, *, K: int, m: float) -> Estimate:
    r"""Cross-entropy of logits with equal margins ``m``, from the softmax kernel.

    A random offset and a random correct class exercise shift invariance. Tolerance
    (float64): the log-sum-exp over K terms (:math:`(K+3)\,\epsilon |L|`) plus the
    rounding of the margins, :math:`3\epsilon(|c|+|m|)` weighted by the loss's
    sensitivity to them, :math:`1 - p_y` (computed by the kernel itself), plus
    :math:`2K` subnormal ulps: each of the K exponentials may land among the subnormals,
    where 2 ulp is an absolute :math:`2^{-1073}`. Where the loss is too near them to decide
    (:math:`m \lesssim -740`), or underflows, the estimate says so (``inconclusive``).
    """
    offset, y = _draw_offset_and_label(rng, K)
    device = _device(rng)
    z = margin_logits(xp, K, m, offset, y, device=device)
    label = xp.asarray(y, dtype=xp.int64, device=device)
    loss_ = cross_entropy(xp, z, label)
    p = softmax(xp, z)
    sensitivity_ = xp.sum(xp.where(xp.arange(K, device=device) == y, 0.0, p))  # 1 - p_y without cancellation
    loss, sensitivity = (float(v) for v in to_host(xp.stack([loss_, sensitivity_])))  # one transfer
    eps = float(xp.finfo(xp.float64).eps)
    # eps first: (K + 3) * |L| itself overflows near the top of the float range
    atol = ((K + 3) * (eps * abs(loss)) + 3 * sensitivity * (eps * abs(offset) + eps * abs(m))
            + 2 * K * SMALLEST_SUBNORMAL)
    return Estimate(loss, 0.0, 1, backend_name(xp), "float64", atol, inconclusive=_unresolved(loss, atol, "the loss"))


def derivatives_experiment(xp: Any, rng: Any, budget: int | None = None, *, m: float, n: int) -> Estimate:
    r"""The n-th derivative (n = 1, 2) of the loss in the margin, by central finite
    differences of the two-class :func:`cross_entropy` kernel, with a step and a tolerance on
    the derivative's own scale.

    The trap: :math:`L(40) = 40 + 4.2 \times 10^{-18}`, so differences of :math:`L` near
    :math:`m = 40` are rounding noise of size :math:`40\epsilon`, and an absolute tolerance
    passes :math:`2L''` and :math:`0` alike. The reflection :math:`L(m) = m + L(-m)` takes the
    linear part out: the differences are taken at :math:`x = -|m|`, where
    :math:`L(y) = \operatorname{log1p}(e^{y})` is computed to a few ulp relative (the correct
    class holds the top logit), with :math:`L'(m) = 1 - L'(-m)` for :math:`m > 0` and
    :math:`L''(m) = L''(-|m|)`.

    On the stencil :math:`[x - h, x + h]` the derived bounds :math:`|L^{(3)}|, |L^{(4)}| \le L'' \le
    e^{-|y|}` (and :math:`\sqrt3/18`, :math:`1/8`) give :math:`M_3, M_4`; with :math:`e` the absolute
    error of one loss (:func:`_loss_error`) and :math:`\bar L` the largest loss,

    - n = 1: :math:`h = (3e/M_3)^{1/3}`, error :math:`\le h^2 M_3 / 6 + (2e + \epsilon \bar L)/(2h)`;
    - n = 2: :math:`h = (48e/M_4)^{1/4}`, error :math:`\le h^2 M_4 / 12 + 4(e + \epsilon \bar L)/h^2`;

    relative to :math:`e^{-|m|}`, about :math:`10^{-9}` and :math:`10^{-7}` at :math:`|m| = 40`.
    Beyond :math:`|m| = 707.4` the stencil's losses leave float64's normal range and
    :func:`certified_derivative` encloses the derivative in interval arithmetic instead; where
    even that enclosure rounds to a double too coarse to decide, the estimate says so
    (``inconclusive``).
    """
    if n not in (1, 2):
        raise ValueError(f"n={n} is outside the domain: one of 1, 2")
    offset = float(rng.standard_normal())
    t = abs(float(m))
    if t > FLOAT_REACH:
        return _certified_estimate(float(m), n, backend_name(xp))
    device = _device(rng)
    eps = float(xp.finfo(xp.float64).eps)
    bound = THIRD_DERIVATIVE_BOUND if n == 1 else FOURTH_DERIVATIVE_BOUND
    # the step from the scale at the point, then the bounds over the stencil it spans
    scale = min(bound, math.exp(-t))
    err = _loss_error(eps, offset, t, 0.0)
    h = (3 * err / scale) ** (1 / 3) if n == 1 else (48 * err / scale) ** 0.25
    h = 2.0 ** min(-2, round(math.log2(h)))  # a power of two: exact scaling of the differences
    margins = xp.asarray([-t - h, -t, -t + h], dtype=xp.float64, device=device)
    z = xp.stack([xp.full((3,), offset, dtype=xp.float64, device=device), offset + margins], axis=-1)
    L = to_host(cross_entropy(xp, z, xp.zeros(3, dtype=xp.int64, device=device)))  # one transfer, three losses
    err = _loss_error(eps, offset, t, h)
    top = _softplus_host(h - t)  # the largest loss on the stencil
    M = min(bound, math.exp(-max(t - h, 0.0)))  # bounds |L'''| or |L''''| on the stencil
    if n == 1:
        slope = float((L[2] - L[0]) / (2 * h))
        value = slope if m <= 0 else 1 - slope
        atol = h**2 * M / 6 + (2 * err + eps * top) / (2 * h) + (eps / 2 if m > 0 else 0.0)
    else:
        value = float((L[2] - 2 * L[1] + L[0]) / (h * h))
        atol = h**2 * M / 12 + 4 * (err + eps * top) / (h * h) + SMALLEST_SUBNORMAL
    return Estimate.exact(value, atol, backend=backend_name(xp), dtype="float64")


def _softplus_host(y: float) -> float:
    return max(y, 0.0) + math.log1p(math.exp(-abs(y)))


def _loss_error(eps: float, offset: float, t: float, h: float) -> float:
    r"""A bound on the absolute error of one loss :math:`L(y)`, :math:`y \in [-t - h, -t + h]`, from
    the kernel at logits :math:`(c, c + y)`: ``exp`` and ``log1p`` within :math:`2\epsilon L` each;
    the margin's three roundings, :math:`\epsilon(|c| + 2(t + h))`, times the slope
    :math:`L' \le \min(1, e^{y})`; and a subnormal's absolute rounding."""
    shift = eps * (abs(offset) + 2 * (t + h))
    slope = min(1.0, math.exp(h - t + shift))
    return 4 * eps * _softplus_host(h - t) + shift * slope + 2 * SMALLEST_SUBNORMAL


@contextmanager
def _interval_bits(bits: int) -> Iterator[None]:
    """mpmath's interval context has no ``workprec``: set its precision, and restore it."""
    saved = iv.prec
    iv.prec = bits
    try:
        yield
    finally:
        iv.prec = saved


def certified_derivative(m: float, n: int) -> tuple[Any, Any]:
    r"""An enclosure ``(lo, hi)`` (mpmath numbers) of :math:`L^{(n)}(m)`, n = 1, 2, by central
    differences of :math:`L(y) = \ln(1 + e^{y})` at :math:`x = -|m|` in interval arithmetic.

    Each loss is enclosed by :math:`r - r^2/2 \le \operatorname{log1p}(r) \le r`, :math:`r = e^{y}`
    (rigorous always, tight for :math:`|m| \gg 1`); the step is :math:`h = 2^{-40}`; the truncation
    is within :math:`h^2 M/6` (n = 1) or :math:`h^2 M/12` (n = 2), :math:`M = e^{h - |m|}` bounding
    :math:`|L^{(3)}|, |L^{(4)}| \le L'' \le e^{-|y|}` on the stencil; and :math:`L'(m) = 1 - L'(-m)`
    for :math:`m > 0`, :math:`L''(m) = L''(-m)`. The closed form is not used. Meant for
    :math:`|m| > 707.4`, where a float64 stencil underflows; mpmath's exponents are unbounded, so

    >>> lo, hi = certified_derivative(-1e6, 2)
    >>> print(mpmath.nstr(lo, 5), mpmath.nstr(hi, 5))
    3.2968e-434295 3.2968e-434295
    """
    if n not in (1, 2):
        raise ValueError(f"n={n} is outside the domain: one of 1, 2")
    with _interval_bits(CERTIFY_BITS):
        h = iv.mpf(CERTIFY_STEP)
        x = -iv.mpf(abs(float(m)))  # exact: a double fits in 256 bits

        def loss(y: Any) -> Any:
            r = iv.exp(y)
            return r - iv.mpf([0, 1]) * (r * r) / 2

        below, at, above = loss(x - h), loss(x), loss(x + h)
        curvature = iv.exp(x + h)  # bounds |L'''| and |L''''| on the stencil
        if n == 1:
            d = (above - below) / (2 * h) + iv.mpf([-1, 1]) * (h * h / 6) * curvature
            d = 1 - d if m > 0 else d
        else:
            d = (above - 2 * at + below) / (h * h) + iv.mpf([-1, 1]) * (h * h / 12) * curvature
        with mpmath.workprec(CERTIFY_BITS):  # the ends exactly, as mpmath numbers
            return mpmath.mpf(d.a), mpmath.mpf(d.b)


def _certified_estimate(m: float, n: int, backend: str) -> Estimate:
    """:func:`certified_derivative` as the nearest double, its tolerance rounded up to cover the enclosure."""
    lo, hi = certified_derivative(m, n)
    with mpmath.workprec(CERTIFY_BITS):
        value = float((lo + hi) / 2)  # the nearest double (subnormal, or 0 below them)
        width = max(hi - value, value - lo)
        atol = float(width)
        if atol < width:
            atol = math.nextafter(atol, math.inf)
        middle = (lo + hi) / 2
    why = _unresolved(value, atol, f"$L^{{({n})}}(m) = {_tex(middle)}$, certified in {CERTIFY_BITS}-bit interval "
                                   "arithmetic,")
    return Estimate(value, 0.0, 1, backend, f"mpmath {CERTIFY_BITS}-bit intervals", atol, inconclusive=why)


def asymptotes_experiment(xp: Any, rng: Any, budget: int | None = None, *, m: float) -> Estimate:
    r"""The gap :math:`L(m) - \max(m, 0)` from the stable kernel's correction term.

    Tolerance: ``exp`` and ``log1p`` are each correct to about 1 ulp and ``log1p`` has
    condition number at most 1 here, so 4 ulp relative, plus the smallest subnormal
    (below it float64 holds nothing). Beyond :math:`|m| \approx 744` the gap is too near the
    subnormals to decide, or underflows, and the estimate says so (``inconclusive``).
    """
    gap = float(softplus_gap(xp, xp.asarray(float(m), dtype=xp.float64, device=_device(rng))))
    atol = 4 * float(xp.finfo(xp.float64).eps) * abs(gap) + SMALLEST_SUBNORMAL
    return Estimate(gap, 0.0, 1, backend_name(xp), "float64", atol, inconclusive=_unresolved(gap, atol, "the gap"))


def score_identity_experiment(xp: Any, rng: Any, budget: int, *, K: int, s: float) -> Estimate:
    r"""Monte Carlo of :math:`\mathbb{E}[g_{k^*}]`, :math:`g = \operatorname{softmax}(z) - e_y`,
    over independent replicates: logits :math:`z \sim \mathcal N(0, s^2 I_K)`, label
    :math:`y \sim \operatorname{softmax}(z)` drawn by the Gumbel-max trick (independent
    of the kernel under test), :math:`k^* = \arg\max_k z_k`. One replicate, one statistic.

    Batches hold at most ~2^20 logits; the statistics accumulate in float64.
    """
    if budget < 2:
        raise ValueError(f"budget={budget} must be >= 2 replicates")
    acc = Accumulator(backend=backend_name(xp), dtype="float64")
    batch = max(1, (1 << 20) // K)
    done = 0
    while done < budget:
        b = min(batch, budget - done)
        z = s * rng.standard_normal((b, K))
        u = rng.random((b, K))
        gumbel = -xp.log(-xp.log(u))
        y = xp.argmax(z + gumbel, axis=-1)
        top = xp.argmax(z, axis=-1)
        p_top = xp.take_along_axis(softmax(xp, z), top[:, None], axis=-1)[:, 0]
        acc.add(p_top - xp.astype(y == top, p_top.dtype))
        done += b
    return acc.estimate()
