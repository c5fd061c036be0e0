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
from typing import Any

from array_api_compat import device as _device_of

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
    sensitivity to them, :math:`1 - p_y` (computed by the kernel itself).
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
    atol = (K + 3) * (eps * abs(loss)) + 3 * sensitivity * (eps * abs(offset) + eps * abs(m)) + SMALLEST_SUBNORMAL
    return Estimate.exact(loss, atol, backend=backend_name(xp), dtype="float64")


def derivatives_experiment(xp: Any, rng: Any, budget: int | None = None, *, m: float, n: int) -> Estimate:
    r"""The n-th derivative (n = 1, 2) of the loss in the margin, by central finite
    differences of the two-class :func:`cross_entropy` kernel at logits ``(c, c + m)``.

    With :math:`e` a bound on the absolute rounding error of one loss evaluation,
    the step minimises truncation plus rounding:

    - n = 1: :math:`h = (3e/M_3)^{1/3}`, error :math:`\le h^2 M_3 / 6 + e/h`;
    - n = 2: :math:`h = (48e/M_4)^{1/4}`, error :math:`\le h^2 M_4 / 12 + 4e/h^2`;

    with :math:`M_3 = \sqrt3/18`, :math:`M_4 = 1/8` the derived derivative bounds.
    """
    if n not in (1, 2):
        raise ValueError(f"n={n} is outside the domain: one of 1, 2")
    offset = float(rng.standard_normal())
    device = _device(rng)
    eps = float(xp.finfo(xp.float64).eps)
    L0 = float(softplus(xp, xp.asarray(float(m), dtype=xp.float64, device=device)))
    err = eps * (4 * abs(L0) + 4 * (abs(offset) + abs(m)) + 4)
    if n == 1:
        h = (3 * err / THIRD_DERIVATIVE_BOUND) ** (1 / 3)
    else:
        h = (48 * err / FOURTH_DERIVATIVE_BOUND) ** 0.25
    h = 2.0 ** round(math.log2(h))  # a power of two: exact scaling of the differences
    margins = xp.asarray([m - h, m, m + h], dtype=xp.float64, device=device)
    z = xp.stack([xp.full((3,), offset, dtype=xp.float64, device=device), offset + margins], axis=-1)
    L = to_host(cross_entropy(xp, z, xp.zeros(3, dtype=xp.int64, device=device)))  # one transfer, three losses
    # argument rounding (m +- h, offset + margin) moves each L by at most eps(|c|+|m|+h)
    err += 2 * eps * (abs(offset) + abs(m) + h)
    if n == 1:
        value = float((L[2] - L[0]) / (2 * h))
        atol = h**2 * THIRD_DERIVATIVE_BOUND / 6 + err / h
    else:
        value = float((L[2] - 2 * L[1] + L[0]) / (h * h))
        atol = h**2 * FOURTH_DERIVATIVE_BOUND / 12 + 4 * err / (h * h)
    return Estimate.exact(value, atol, backend=backend_name(xp), dtype="float64")


def asymptotes_experiment(xp: Any, rng: Any, budget: int | None = None, *, m: float) -> Estimate:
    r"""The gap :math:`L(m) - \max(m, 0)` from the stable kernel's correction term.

    Tolerance: ``exp`` and ``log1p`` are each correct to about 1 ulp and ``log1p`` has
    condition number at most 1 here, so 4 ulp relative, plus the smallest subnormal
    (below it float64 holds nothing).
    """
    gap = float(softplus_gap(xp, xp.asarray(float(m), dtype=xp.float64, device=_device(rng))))
    atol = 4 * float(xp.finfo(xp.float64).eps) * abs(gap) + SMALLEST_SUBNORMAL
    return Estimate.exact(gap, atol, backend=backend_name(xp), dtype="float64")


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
