r"""Deep linear networks: Hessians of polynomial losses, and the critical points of
two-layer linear regression, computed numerically.

The losses here are polynomials in the weights (degree 2N for the scalar model, 4 for
two-layer regression), so a central finite-difference stencil of enough points is
*exact* for them: the only error left is floating-point rounding, which is bounded and
becomes the verdict's tolerance. Mixed second derivatives come from directional ones by
polarisation, :math:`H_{ij} = (D^2_{e_i+e_j} - D^2_{e_i-e_j})/4`.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from functools import cache
from typing import Any, Callable

import numpy as np

from .estimate import Estimate

__all__ = [
    "second_derivative_weights",
    "first_derivative_weights",
    "polynomial_hessian",
    "polynomial_gradient",
    "scalar_loss",
    "scalar_experiment",
    "regression_data",
    "critical_points",
    "baldi_hornik_experiment",
]

EVAL_ULPS = 64  # rounding of one low-degree polynomial loss evaluation, in units of eps * |terms|


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
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[col])]
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


def _directional(f: Callable, x: np.ndarray, directions: np.ndarray, weights, h: float, power: int):
    """sum_j c_j f(x + j h v) / h^power for every direction v, and its rounding bound."""
    m = (len(weights) - 1) // 2
    offsets = np.arange(-m, m + 1, dtype=float) * h
    points = x[None, None, :] + offsets[None, :, None] * directions[:, None, :]  # (D, 2m+1, p)
    values = f(points.reshape(-1, x.size)).reshape(len(directions), len(offsets))
    c = np.array([float(w) for w in weights])
    estimate = values @ c / h**power
    bound = EVAL_ULPS * np.finfo(float).eps * (np.abs(values) @ np.abs(c)) / h**power
    return estimate, bound


def polynomial_hessian(f: Callable, x: np.ndarray, degree: int, h: float = 0.5):
    """Hessian of the polynomial ``f`` (batched: (B, p) -> (B,)) at ``x``, and a bound on the
    Frobenius norm of its rounding error. Exact in exact arithmetic."""
    x = np.asarray(x, dtype=float)
    p = x.size
    eye = np.eye(p)
    pairs = list(itertools.combinations(range(p), 2))
    directions = np.concatenate([eye] + ([np.array([eye[i] + eye[j] for i, j in pairs]),
                                          np.array([eye[i] - eye[j] for i, j in pairs])] if pairs else []))
    d2, bound = _directional(f, x, directions, second_derivative_weights(degree), h, 2)
    hessian = np.diag(d2[:p])
    error = np.diag(bound[:p])
    for n, (i, j) in enumerate(pairs):
        hessian[i, j] = hessian[j, i] = (d2[p + n] - d2[p + len(pairs) + n]) / 4
        error[i, j] = error[j, i] = (bound[p + n] + bound[p + len(pairs) + n]) / 4
    return hessian, float(np.linalg.norm(error))


def polynomial_gradient(f: Callable, x: np.ndarray, degree: int, h: float = 0.5):
    """Gradient of the polynomial ``f`` at ``x`` (exact up to rounding) and its rounding bound (max norm)."""
    x = np.asarray(x, dtype=float)
    grad, bound = _directional(f, x, np.eye(x.size), first_derivative_weights(degree), h, 1)
    return grad, float(bound.max())


def _smallest_eigenvalue(hessian: np.ndarray, error: float) -> tuple[float, float]:
    """Smallest eigenvalue and its tolerance: Weyl (||E||_2 <= ||E||_F) plus the solver's backward error."""
    values = np.linalg.eigvalsh(hessian)
    return float(values[0]), error + hessian.shape[0] * np.finfo(float).eps * float(np.linalg.norm(hessian))


def scalar_loss(w: np.ndarray) -> np.ndarray:
    """L = (1 - w_N ... w_1)^2 / 2, batched over rows of ``w``."""
    return (1.0 - np.prod(w, axis=-1)) ** 2 / 2


def scalar_experiment(xp: Any, rng: Any, budget: int | None = None, *, N: int, t: float) -> Estimate:
    """Smallest Hessian eigenvalue of the scalar model at w = (0, 0, t, ..., t) (exact stencil)."""
    point = np.array([0.0, 0.0] + [t] * (N - 2))
    hessian, error = polynomial_hessian(scalar_loss, point, degree=2 * N)
    value, atol = _smallest_eigenvalue(hessian, error)
    return Estimate.exact(value, atol, backend="numpy")


# -- two-layer linear regression (Baldi & Hornik) ------------------------------------------


def regression_data(rng: Any, d_x: int, d_y: int, n: int, noise: float = 0.5):
    """Covariances of random data Y = A X + noise: Sigma_xx, Sigma_xy (d_x x d_y), Sigma_yy."""
    x = rng.standard_normal((d_x, n))
    y = rng.standard_normal((d_y, d_x)) @ x + noise * rng.standard_normal((d_y, n))
    return x @ x.T / n, x @ y.T / n, y @ y.T / n


def _regression_loss(sxx, sxy, syy, d_x: int, d_y: int, k: int):
    """L(W1, W2) = ||Y - W2 W1 X||^2 / (2n) through the covariances, batched over flat weights."""

    def loss(theta: np.ndarray) -> np.ndarray:
        w1 = theta[:, : k * d_x].reshape(-1, k, d_x)
        w2 = theta[:, k * d_x :].reshape(-1, d_y, k)
        product = w2 @ w1  # (B, d_y, d_x)
        fit = np.einsum("bij,ji->b", product, sxy)  # tr(W Sigma_xy)
        spread = np.einsum("bij,jk,bik->b", product, sxx, product)  # tr(W Sigma_xx W^T)
        return np.trace(syy) / 2 - fit + spread / 2

    return loss


def critical_points(rng: Any, *, d_x: int, d_y: int, k: int, n: int) -> list[dict]:
    """Every rank-k critical point of two-layer regression on random data, from the closed
    form (one per k-subset I of eigenvectors of M = Sigma_yx Sigma_xx^-1 Sigma_xy), each with
    its loss (numerical and closed form), gradient size and Hessian's negative eigenvalues."""
    sxx, sxy, syy = regression_data(rng, d_x, d_y, n)
    beta = np.linalg.solve(sxx, sxy)  # Sigma_xx^-1 Sigma_xy, (d_x, d_y)
    lam, vecs = np.linalg.eigh(sxy.T @ beta)  # ascending eigenvalues of M
    loss = _regression_loss(sxx, sxy, syy, d_x, d_y, k)
    out = []
    for subset in itertools.combinations(range(d_y), k):
        u = vecs[:, subset]  # (d_y, k)
        theta = np.concatenate([(u.T @ beta.T).ravel(), u.ravel()])  # W1 = U^T Sigma_yx Sigma_xx^-1, W2 = U
        grad, grad_error = polynomial_gradient(loss, theta, degree=4)
        hessian, error = polynomial_hessian(loss, theta, degree=4)
        values = np.linalg.eigvalsh(hessian)
        tol = error + hessian.shape[0] * np.finfo(float).eps * float(np.linalg.norm(hessian))
        out.append(
            {
                "subset": subset,
                "loss": float(loss(theta[None, :])[0]),
                "closed_form_loss": float((np.trace(syy) - lam[list(subset)].sum()) / 2),
                "gradient": float(np.abs(grad).max()),
                "gradient_tolerance": grad_error,
                "negative": int((values < -tol).sum()),
                "smallest": float(values[0]),
                "is_top": set(subset) == set(range(d_y - k, d_y)),
            }
        )
    return out


def baldi_hornik_experiment(xp: Any, rng: Any, budget: int | None = None, *, d_x: int, d_y: int, k: int, n: int) -> Estimate:
    """How many rank-k critical points are saddles (have a negative Hessian eigenvalue). A count
    is exact: the tolerance is half a unit. Points whose gradient did not vanish are reported."""
    points = critical_points(rng, d_x=d_x, d_y=d_y, k=k, n=n)
    saddles = sum(p["negative"] > 0 for p in points)
    not_critical = sum(p["gradient"] > p["gradient_tolerance"] for p in points)
    events = ((f"closed-form critical points (of {len(points)}) whose gradient did not vanish", not_critical),)
    return Estimate(float(saddles), 0.0, 1, "numpy", "float64", 0.5, events)
