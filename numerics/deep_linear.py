r"""Deep linear networks: Hessians of polynomial losses, the critical points of two-layer
linear regression, and the loss, gradient and balanced critical points of a network of any
depth (what the training claims' tests probe), computed numerically.

The losses here are polynomials in the weights (degree 2N for the scalar model, 4 for
two-layer regression), so a central finite-difference stencil of enough points is
*exact* for them: the only error left is floating-point rounding, which is bounded and
becomes the verdict's tolerance. Mixed second derivatives come from directional ones by
polarisation, :math:`H_{ij} = (D^2_{e_i+e_j} - D^2_{e_i-e_j})/4`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from fractions import Fraction
from functools import cache
from typing import Any

import numpy as np
from array_api_compat import device as _device_of

from .estimate import Estimate
from .namespaces import backend_name, namespace, to_host

__all__ = [
    "second_derivative_weights",
    "first_derivative_weights",
    "polynomial_hessian",
    "polynomial_gradient",
    "scalar_loss",
    "scalar_loss_change",
    "scalar_experiment",
    "regression_data",
    "critical_points",
    "baldi_hornik_experiment",
    "loss_and_gradient",
    "critical_point",
]

EVAL_ULPS = 64  # rounding of one low-degree polynomial loss evaluation, in units of eps * |terms|
EPS64 = float(np.finfo(np.float64).eps)
SUBNORMAL = 2.0**-1074  # the smallest positive double: the absolute rounding of an operation that underflows
STENCIL_STEP = 0.5  # h of the scalar model's stencil (any h is exact for a polynomial)


@cache
def _stencil(order: int, m: int) -> tuple[Fraction, ...]:
    """Weights c_j, j = -m..m, with sum_j c_j j^p = order! [p == order] for p = 0..2m: exact for
    polynomials of degree <= 2m."""
    size = 2 * m + 1
    rows = [[Fraction(j) ** p for j in range(-m, m + 1)] for p in range(size)]
    rhs = [Fraction(math.factorial(order)) if p == order else Fraction(0) for p in range(size)]
    for col in range(size):  # Gauss-Jordan in exact rationals
        pivot = next(r for r in range(col, size) if rows[r][col] != 0)
        rows[col], rows[pivot] = rows[pivot], rows[col]
        rhs[col], rhs[pivot] = rhs[pivot], rhs[col]
        for r in range(size):
            if r != col and rows[r][col] != 0:
                factor = rows[r][col] / rows[col][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[col], strict=True)]
                rhs[r] -= factor * rhs[col]
    return tuple(rhs[i] / rows[i][i] for i in range(size))


def second_derivative_weights(degree: int) -> tuple[Fraction, ...]:
    """Central weights exact for the second derivative of any polynomial of ``degree`` (symmetric
    weights cancel odd powers, so 2m + 1 points reach degree 2m + 1)."""
    return _stencil(2, max(1, math.ceil((degree - 1) / 2)))


def first_derivative_weights(degree: int) -> tuple[Fraction, ...]:
    """Central weights exact for the first derivative of any polynomial of ``degree`` (antisymmetric
    weights cancel even powers only, so 2m + 1 points reach degree 2m)."""
    return _stencil(1, max(1, math.ceil(degree / 2)))


def _directional(f: Callable, x: Any, directions: Any, weights, h: float, power: int, size: Callable | None = None):
    """sum_j c_j f(x + j h v) / h^power for every direction v (rows of ``directions``), and its rounding
    bound (both arrays of ``x``'s namespace, shape (D,)): ``EVAL_ULPS`` roundings of each evaluation, each
    ``eps`` times the size of its terms, ``size(points)`` (default ``|f|``), plus ``2^-1074`` (an operation
    that underflows errs absolutely, by up to half the smallest subnormal), weighted by ``|c_j|``."""
    xp = namespace(x)
    device = _device_of(x)
    m = (len(weights) - 1) // 2
    offsets = xp.arange(-m, m + 1, dtype=xp.float64, device=device) * h
    points = x[None, None, :] + offsets[None, :, None] * directions[:, None, :]  # (D, 2m+1, p)
    flat = xp.reshape(points, (-1, x.shape[0]))
    shape = (directions.shape[0], offsets.shape[0])
    values = xp.reshape(f(flat), shape)
    terms = xp.abs(values) if size is None else xp.reshape(size(flat), shape)
    c = xp.asarray([float(w) for w in weights], dtype=xp.float64, device=device)
    estimate = xp.matmul(values, c) / h**power
    bound = EVAL_ULPS * xp.matmul(EPS64 * terms + SUBNORMAL, xp.abs(c)) / h**power
    return estimate, bound


def _as_point(x: Any) -> Any:
    """``x`` as a float64 vector of its own namespace (a list or tuple becomes NumPy)."""
    if isinstance(x, (list, tuple)):
        x = np.asarray(x, dtype=float)
    xp = namespace(x)
    return xp.astype(xp.asarray(x), xp.float64)


@cache
def _pair_layout(p: int) -> tuple[np.ndarray, ...]:
    """Host index tables (NumPy int64) of the polarised Hessian for p coordinates: the pairs i < j in
    ``itertools.combinations`` order, and for every entry (i, j) of the Hessian the positions of its
    plus and minus directional derivatives in ``[diagonal, e_i + e_j, e_i - e_j, 0]`` and its weight."""
    first, second = np.triu_indices(p, 1)  # row-major: the order of itertools.combinations
    pairs = first.size
    zero = p + 2 * pairs  # the appended 0
    plus = np.full((p, p), zero, dtype=np.int64)
    minus = np.full((p, p), zero, dtype=np.int64)
    scale = np.ones((p, p))
    plus[np.arange(p), np.arange(p)] = np.arange(p)
    index = np.arange(pairs)
    for a, b in ((first, second), (second, first)):
        plus[a, b] = p + index
        minus[a, b] = p + pairs + index
        scale[a, b] = 0.25
    return first.astype(np.int64), second.astype(np.int64), plus.ravel(), minus.ravel(), scale


def _hessian(f: Callable, x: Any, degree: int, h: float, size: Callable | None = None):
    """Hessian of ``f`` at the float64 vector ``x`` and the Frobenius norm of its rounding bound (a 0-d
    array), both in ``x``'s namespace: one batched evaluation of ``f`` at every stencil point of every
    direction, and the polarisation as one gather (no per-pair work, no host transfer)."""
    xp = namespace(x)
    device = _device_of(x)
    p = x.shape[0]
    first, second, plus, minus, scale = _pair_layout(p)
    eye = xp.eye(p, dtype=xp.float64, device=device)
    if first.size:
        i = xp.asarray(first, device=device)
        j = xp.asarray(second, device=device)
        ei, ej = xp.take(eye, i, axis=0), xp.take(eye, j, axis=0)
        directions = xp.concat([eye, ei + ej, ei - ej], axis=0)
    else:
        directions = eye
    d2, bound = _directional(f, x, directions, second_derivative_weights(degree), h, 2, size)
    zero = xp.zeros((1,), dtype=xp.float64, device=device)
    d2, bound = xp.concat([d2, zero]), xp.concat([bound, zero])
    plus, minus = xp.asarray(plus, device=device), xp.asarray(minus, device=device)
    weight = xp.asarray(scale, dtype=xp.float64, device=device)
    # H_ii = D^2_(e_i); H_ij = (D^2_(e_i+e_j) - D^2_(e_i-e_j)) / 4, the same floating-point operations as a loop
    hessian = (xp.reshape(xp.take(d2, plus), (p, p)) - xp.reshape(xp.take(d2, minus), (p, p))) * weight
    error = (xp.reshape(xp.take(bound, plus), (p, p)) + xp.reshape(xp.take(bound, minus), (p, p))) * weight
    return hessian, _frobenius(xp, error)


def _frobenius(xp: Any, a: Any) -> Any:
    """The Frobenius norm of ``a`` (a 0-d array) on the scale of its largest entry: no square underflows
    (entries of 1e-321 gave a norm of 0) or overflows."""
    top = xp.max(xp.abs(a))
    return top * xp.linalg.matrix_norm(a / xp.where(top > 0, top, 1.0))


def polynomial_hessian(f: Callable, x: Any, degree: int, h: float = 0.5):
    """Hessian of the polynomial ``f`` (batched: (B, p) -> (B,)) at ``x``, and a bound on the
    Frobenius norm of its rounding error. Exact in exact arithmetic. The Hessian is an array of
    ``x``'s namespace (``f`` receives arrays of it); the bound is a float."""
    hessian, error = _hessian(f, _as_point(x), degree, h)
    return hessian, float(error)


def polynomial_gradient(f: Callable, x: Any, degree: int, h: float = 0.5):
    """Gradient of the polynomial ``f`` at ``x`` (exact up to rounding) and its rounding bound (max norm)."""
    x = _as_point(x)
    xp = namespace(x)
    eye = xp.eye(x.shape[0], dtype=xp.float64, device=_device_of(x))
    grad, bound = _directional(f, x, eye, first_derivative_weights(degree), h, 1)
    return grad, float(xp.max(bound))


def _eigen_tolerance(xp: Any, hessian: Any, error: Any) -> Any:
    """Weyl (||E||_2 <= ||E||_F) plus the symmetric eigensolver's backward error (a 0-d array)."""
    return error + hessian.shape[0] * EPS64 * _frobenius(xp, hessian)


def _smallest_eigenvalue(hessian: Any, error: Any) -> tuple[float, float]:
    """Smallest eigenvalue and its tolerance: Weyl (||E||_2 <= ||E||_F) plus the solver's backward error."""
    xp = namespace(hessian)
    values = xp.linalg.eigvalsh(hessian)
    both = to_host(xp.stack([values[0], _eigen_tolerance(xp, hessian, xp.asarray(error, dtype=xp.float64,
                                                                                    device=_device_of(hessian)))]))
    return float(both[0]), float(both[1])


def scalar_loss(w: Any) -> Any:
    """L = (1 - w_N ... w_1)^2 / 2, batched over rows of ``w``."""
    xp = namespace(w)
    return (1.0 - xp.prod(w, axis=-1)) ** 2 / 2


def scalar_loss_change(w: Any) -> Any:
    """``L(w) - 1/2 = -p (1 - p/2)`` with ``p = w_N ... w_1``, batched: the scalar loss less its value at
    every point where a weight vanishes. A stencil's second-derivative weights add up to 0, so its
    Hessian is L's exactly; but its values are of the size of ``p``, where L's are about ``1/2``, so
    the rounding bound follows the Hessian's own scale instead of ``eps/2``."""
    p = namespace(w).prod(w, axis=-1)
    return -p * (1 - p / 2)


def _scalar_terms(w: Any) -> Any:
    """The size of the terms of :func:`scalar_loss_change`, ``|p| + p^2/2`` (its rounding is relative to them)."""
    xp = namespace(w)
    p = xp.abs(xp.prod(w, axis=-1))
    return p + p * p / 2


def scalar_experiment(xp: Any, rng: Any, budget: int | None = None, *, N: int, t: float) -> Estimate:
    """Smallest Hessian eigenvalue of the scalar model at w = (0, 0, t, ..., t) (exact stencil).

    Scale-free: the stencil differentiates :func:`scalar_loss_change` (no constant 1/2 beside a change
    of size ``|t|^(N-2)``), and the Hessian goes to the eigensolver times ``2^-k``, ``2^k`` about
    ``|t|^(N-2)`` (exact), so the eigenvalue keeps its relative precision for any ``t`` whose products
    stay normal. The only nonzero products at the stencil's points are ``(j h)^2 t^(N-2)``; where the
    smallest, ``h^2 |t|^(N-2)``, is below the smallest normal double the result is ``inconclusive``
    (precision lost to underflow), not a pass; at ``t = 0`` they are exact zeros."""
    point = xp.asarray([0.0, 0.0] + [float(t)] * (N - 2), dtype=xp.float64, device=getattr(rng, "device", None))
    log2_scale = (N - 2) * math.log2(abs(t)) if t != 0 and N > 2 else 0.0
    smallest = 2 * math.log2(STENCIL_STEP) + log2_scale  # log2 of the smallest nonzero product
    underflow = smallest < -1022
    shift = 0 if underflow else round(log2_scale)
    hessian, error = _hessian(scalar_loss_change, point, 2 * N, STENCIL_STEP, _scalar_terms)
    value, atol = _smallest_eigenvalue(hessian * 2.0**-shift, error * 2.0**-shift)
    why = ""
    if underflow:
        why = (rf"the stencil's products $h^2 |t|^{{N-2}} \approx 2^{{{smallest:.0f}}}$ underflow float64's normal "
               "range: the eigenvalue cannot be resolved")
    return Estimate(math.ldexp(value, shift), 0.0, 1, backend_name(xp), "float64", math.ldexp(atol, shift),
                    inconclusive=why)


# -- two-layer linear regression (Baldi & Hornik) ------------------------------------------


def regression_data(rng: Any, d_x: int, d_y: int, n: int, noise: float = 0.5):
    """Covariances of random data Y = A X + noise: Sigma_xx, Sigma_xy (d_x x d_y), Sigma_yy (arrays of the
    generator's namespace)."""
    x = rng.standard_normal((d_x, n))
    y = rng.standard_normal((d_y, d_x)) @ x + noise * rng.standard_normal((d_y, n))
    return x @ x.mT / n, x @ y.mT / n, y @ y.mT / n


def _regression_loss(xp: Any, sxx, sxy, syy, d_x: int, d_y: int, k: int):
    """L(W1, W2) = ||Y - W2 W1 X||^2 / (2n) through the covariances, batched over flat weights."""
    half_trace = xp.sum(xp.linalg.diagonal(syy)) / 2
    sxy_t = sxy.mT

    def loss(theta: Any) -> Any:
        w1 = xp.reshape(theta[:, : k * d_x], (-1, k, d_x))
        w2 = xp.reshape(theta[:, k * d_x :], (-1, d_y, k))
        product = xp.matmul(w2, w1)  # (B, d_y, d_x)
        fit = xp.sum(product * sxy_t, axis=(-2, -1))  # tr(W Sigma_xy)
        spread = xp.sum(xp.matmul(product, sxx) * product, axis=(-2, -1))  # tr(W Sigma_xx W^T)
        return half_trace - fit + spread / 2

    return loss


def critical_points(rng: Any, *, d_x: int, d_y: int, k: int, n: int) -> list[dict]:
    """Every rank-k critical point of two-layer regression on random data, from the closed
    form (one per k-subset I of eigenvectors of M = Sigma_yx Sigma_xx^-1 Sigma_xy), each with
    its loss (numerical and closed form), gradient size and Hessian's negative eigenvalues.

    Computed in the namespace of ``rng``'s draws; the numbers of all the points reach the host in one
    transfer at the end."""
    sxx, sxy, syy = regression_data(rng, d_x, d_y, n)
    xp = namespace(sxx)
    device = _device_of(sxx)
    beta = xp.linalg.solve(sxx, sxy)  # Sigma_xx^-1 Sigma_xy, (d_x, d_y)
    lam, vecs = xp.linalg.eigh(xp.matmul(sxy.mT, beta))  # ascending eigenvalues of M
    loss = _regression_loss(xp, sxx, sxy, syy, d_x, d_y, k)
    trace_yy = xp.sum(xp.linalg.diagonal(syy))
    subsets = list(itertools.combinations(range(d_y), k))
    rows = []
    for subset in subsets:
        chosen = xp.asarray(subset, dtype=xp.int64, device=device)
        u = xp.take(vecs, chosen, axis=1)  # (d_y, k)
        # W1 = U^T Sigma_yx Sigma_xx^-1, W2 = U
        theta = xp.concat([xp.reshape(xp.matmul(u.mT, beta.mT), (-1,)), xp.reshape(u, (-1,))])
        grad, grad_error = _directional(loss, theta, xp.eye(theta.shape[0], dtype=xp.float64, device=device),
                                        first_derivative_weights(4), 0.5, 1)
        hessian, error = _hessian(loss, theta, 4, 0.5)
        values = xp.linalg.eigvalsh(hessian)
        tol = _eigen_tolerance(xp, hessian, error)
        negative = xp.sum(xp.astype(values < -tol, xp.float64))
        rows.append(xp.stack([
            loss(theta[None, :])[0],
            (trace_yy - xp.sum(xp.take(lam, chosen))) / 2,
            xp.max(xp.abs(grad)),
            xp.max(grad_error),
            negative,
            values[0],
        ]))
    table = to_host(xp.stack(rows))  # the one transfer
    top = set(range(d_y - k, d_y))
    return [
        {
            "subset": subset,
            "loss": float(row[0]),
            "closed_form_loss": float(row[1]),
            "gradient": float(row[2]),
            "gradient_tolerance": float(row[3]),
            "negative": int(row[4]),
            "smallest": float(row[5]),
            "is_top": set(subset) == top,
        }
        for subset, row in zip(subsets, table, strict=True)
    ]


def baldi_hornik_experiment(xp: Any, rng: Any, budget: int | None = None, *, d_x: int, d_y: int, k: int, n: int) -> Estimate:
    """How many rank-k critical points are saddles (have a negative Hessian eigenvalue). A count
    is exact: the tolerance is half a unit. Points whose gradient did not vanish are reported."""
    points = critical_points(rng, d_x=d_x, d_y=d_y, k=k, n=n)
    saddles = sum(p["negative"] > 0 for p in points)
    not_critical = sum(p["gradient"] > p["gradient_tolerance"] for p in points)
    events = ((f"closed-form critical points (of ${len(points)}$) whose gradient did not vanish", not_critical),)
    return Estimate(float(saddles), 0.0, 1, backend_name(xp), "float64", 0.5, events)


# -- deep linear networks of any depth: the loss, and balanced critical points (float64, one run) --


def loss_and_gradient(weights: list, x, y):
    """Loss ||Y - W_L...W_1 X||^2/(2N) and its gradient for one run (NumPy float64 matrices)."""
    n = x.shape[-1]
    acts = [x]
    for w in weights:
        acts.append(w @ acts[-1])
    resid = acts[-1] - y
    delta = resid / n
    grads = [None] * len(weights)
    for layer in range(len(weights) - 1, -1, -1):
        grads[layer] = delta @ acts[layer].T
        delta = weights[layer].T @ delta
    return 0.5 * float(np.sum(resid**2)) / n, grads


def critical_point(x, y, widths, keep, rng):
    """Weights of a critical point whose product keeps the modes ``keep`` (indices into the singular
    values of M = W_ls C^(1/2)): P = M_S C^(-1/2) factored as a balanced product through random
    orthonormal hidden bases (Baldi-Hornik style). ``keep`` may be empty (all weights zero)."""
    n = x.shape[-1]
    cov = x @ x.T / n
    lam, vec = np.linalg.eigh(cov)
    inv_root = (vec / np.sqrt(lam)) @ vec.T
    m = (y @ x.T / n) @ inv_root
    left, sv, right_t = np.linalg.svd(m)
    keep = list(keep)
    k = len(keep)
    depth = len(widths) - 1
    if k > min(widths[1:-1], default=k):
        raise ValueError("more kept modes than the narrowest hidden width")
    root = sv[keep] ** (1.0 / depth) if k else np.zeros(0)
    bases = [None] + [np.linalg.qr(rng.standard_normal((w, w)))[0][:, :k] for w in widths[1:-1]] + [None]
    weights = []
    for layer in range(depth):
        into = left[:, keep] if layer == depth - 1 else bases[layer + 1]
        out_of = (right_t[keep] @ inv_root) if layer == 0 else bases[layer].T
        weights.append((into * root) @ out_of)
    return weights
