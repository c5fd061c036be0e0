r"""Floating-point error bounds under the standard model, batched over stacks of matrices.

A dot product of length k computed in any order is off by at most :math:`\gamma_k |a|^T|b|` with
:math:`\gamma_k = k u/(1 - k u)` and u the unit roundoff (Higham 2002, section 3.5,
doi:10.1137/1.9780898718027), and :math:`\|\,|W|\,\|_2 \le \beta(W) = \sqrt{\|W\|_1 \|W\|_\infty}`.
Inputs drawn on a dyadic grid make finite differences :math:`x \pm h u` exact, so that the only
rounding in a difference quotient is the network's own.

>>> import numpy as np
>>> gamma(2, unit_roundoff(np)) > 2 * unit_roundoff(np)
True
>>> float(beta_bound(np, np.array([[[3.0, 0.0], [0.0, 4.0]]]))[0])
4.0
"""

from __future__ import annotations

from typing import Any

__all__ = ["beta_bound", "dyadic", "frobenius", "gamma", "norms2", "spectral_norms", "unit_roundoff"]


def unit_roundoff(xp: Any) -> float:
    """The unit roundoff of float64 (a property of the dtype: no array, no transfer)."""
    return float(xp.finfo(xp.float64).eps) / 2


def gamma(k: int, u: float) -> float:
    """:math:`\\gamma_k = k u / (1 - k u)`, the bound on k rounding errors compounded."""
    return k * u / (1 - k * u)


def beta_bound(xp: Any, w: Any) -> Any:
    """sqrt(||W||_1 ||W||_inf) per matrix of a stack (B, m, n): an upper bound on ||W||_2 and on || |W| ||_2."""
    a = xp.abs(w)
    return xp.sqrt(xp.max(xp.sum(a, axis=-2), axis=-1) * xp.max(xp.sum(a, axis=-1), axis=-1))


def norms2(xp: Any, x: Any, axis: int = 1) -> Any:
    """Euclidean norms along ``axis`` (no overflow guard: for values of moderate size)."""
    return xp.sqrt(xp.sum(x * x, axis=axis))


def dyadic(xp: Any, rng: Any, shape: tuple[int, ...], grid: float, nonzero: bool = False) -> Any:
    """Standard normals clipped to |x| <= 63 and rounded to multiples of ``grid`` (a power of two),
    so that for u drawn the same way and a power-of-two step h <= 1, x + h u (a multiple of h grid below
    2^7 in magnitude) is exact in float64 when h >= 2^-46 / grid; no zero entry if ``nonzero``."""
    x = xp.round(xp.clip(rng.standard_normal(shape, dtype=xp.float64), min=-63.0, max=63.0) / grid)
    if nonzero:
        x = xp.where(x == 0, 1.0, x)
    return x * grid


def frobenius(xp: Any, a: Any) -> Any:
    """Frobenius norm of each matrix of a stack (B, n, n), scaled so that no square overflows."""
    top = xp.max(xp.abs(a), axis=(1, 2))
    safe = xp.where(top > 0, top, 1.0)
    return top * xp.sqrt(xp.sum((a / safe[:, None, None]) ** 2, axis=(1, 2)))


def spectral_norms(xp: Any, a: Any) -> Any:
    """Largest singular value of each matrix of a stack (B, n, n)."""
    return xp.linalg.svdvals(a)[:, 0]
