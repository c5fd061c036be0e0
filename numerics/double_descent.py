r"""Min-norm least squares on isotropic Gaussian data: the kernels behind ``double-descent.*``.

One replicate is one independent data set: a design :math:`X` of ``n x p`` iid :math:`N(0, 1)`
entries (``b`` of them stacked as ``(b, n, p)``), a signal :math:`\beta` with :math:`\|\beta\| = r`
and noise :math:`\varepsilon \sim N(0, \sigma^2 I_n)`; the statistic is the excess risk
:math:`\|\hat\beta - \beta\|^2` of :math:`\hat\beta = X^+ y` at an isotropic test input.

*Two estimators of the same mean.* ``conditional=True`` (what the claims use) averages over the
noise and the direction of :math:`\beta` exactly, given the design (Rao-Blackwell):

.. math::

    E\left[\|\hat\beta - \beta\|^2 \mid X\right] = r^2\,\frac{p - \operatorname{rank}X}{p}
    + \sigma^2\,\mathrm{tr}\,(G^{-1}),

:math:`G` the smaller Gram matrix (:math:`X^\top X` for :math:`p < n`, :math:`XX^\top` for
:math:`p > n`), :math:`\operatorname{rank}X = \min(n, p)` almost surely; the first term holds for a
:math:`\beta` uniform on its sphere, and for any fixed :math:`\beta` in expectation over the design
(rotation invariance). Its variance is smaller, never its mean. ``conditional=False`` draws
:math:`\beta` (uniform on the sphere of radius ``r``) and :math:`\varepsilon`, solves, and measures the
error directly; tests check both have the same mean.

*Cost.* ``n p`` normals and a Gram GEMM of ``n p min(n, p)`` flops per replicate, float64 (the
inverse of a Gram matrix with condition number :math:`((1 + \sqrt\gamma)/(1 - \sqrt\gamma))^2`,
about 200 at :math:`\gamma = 0.75`, loses :math:`\log_{10}` of it in digits: float32 would leave
four). The trace of :math:`G^{-1}` comes from a batched Cholesky factor,
:math:`\mathrm{tr}\,G^{-1} = \|L^{-1}\|_F^2`.

*A non-integer p.* The limit sweeps ``n`` at fixed :math:`\gamma`; :math:`\gamma n` is rarely an
integer, and rounding it would add a jagged :math:`O(1/n)` error to the sweep. Instead each replicate
draws :math:`p = \lfloor\gamma n\rfloor + B`, :math:`B \sim` Bernoulli(:math:`\{\gamma n\}`) (randomised
rounding): the mean is the linear interpolation of the finite-n risk between the two integers, within
:math:`R''(\gamma)/(8n^2)` of the risk at :math:`p = \gamma n`.
"""

from __future__ import annotations

import contextlib
import math
import numbers
from typing import Any

from array_api_compat import device as _device_of

from .checks import integer as _integer
from .estimate import Accumulator, Estimate
from .namespaces import backend_name

__all__ = ["risk_batch", "min_norm_risk", "finite_experiment", "ridgeless_experiment", "split_features"]

_FLOATS = 1 << 21  # float64 entries of one (b, n, p) design batch, 16 MiB



def _real(name: str, value: Any, low: float = 0.0, strict: bool = True) -> float:
    word = ">" if strict else ">="
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}={value!r} must be a finite real number {word} {low:g}")
    if not math.isfinite(value) or value < low or (strict and value == low):
        raise ValueError(f"{name}={value!r} is outside the domain: finite real {word} {low:g}")
    return float(value)


def _gap(n: int, p: int) -> None:
    if abs(p - n) < 2:
        raise ValueError(f"p={p} is within 1 of n={n}: the risk is infinite for |p - n| <= 1")


def _one_blas_thread(xp: Any):
    """One BLAS/LAPACK thread for the many small batched Cholesky factors and solves, restored on exit: a
    multithreaded OpenBLAS stalls on them on a busy machine (``PERFORMANCE.md``), 10-50x in the test suite.
    NumPy's BLAS serves ``numpy`` and ``array-api-strict`` (which wraps NumPy); other backends are left alone."""
    if backend_name(xp) not in ("numpy", "array-api-strict"):
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def risk_batch(xp: Any, rng: Any, b: int, *, n: int, p: int, r: float, sigma: float, conditional: bool = True) -> Any:
    r"""Per data set, the excess risk of min-norm least squares (float64, shape ``(b,)``).

    >>> import numpy as np
    >>> v = risk_batch(np, np.random.default_rng(0), 4, n=10, p=3, r=1.0, sigma=0.0, conditional=False)
    >>> bool(np.all(v < 1e-20))  # p < n and no noise: least squares recovers beta exactly
    True
    """
    X = rng.standard_normal((b, n, p))
    Xt = X.mT
    under = p < n  # more samples than features: G = X^T X, else X X^T
    G = xp.matmul(Xt, X) if under else xp.matmul(X, Xt)
    chol = xp.linalg.cholesky(G)
    if conditional:
        eye = xp.broadcast_to(xp.eye(min(n, p), dtype=G.dtype, device=_device_of(G)), G.shape)
        inv_l = xp.linalg.solve(chol, eye)  # L^-1: tr G^-1 = ||L^-1||_F^2
        trace = xp.sum(inv_l * inv_l, axis=(-2, -1))
        return r * r * (p - min(n, p)) / p + sigma * sigma * trace
    beta = rng.standard_normal((b, p, 1))
    beta = beta * (r / xp.sqrt(xp.sum(beta * beta, axis=1, keepdims=True)))
    y = xp.matmul(X, beta) + sigma * rng.standard_normal((b, n, 1))
    if under:
        hat = xp.linalg.solve(G, xp.matmul(Xt, y))
    else:
        hat = xp.matmul(Xt, xp.linalg.solve(G, y))
    err = hat - beta
    return xp.sum(err * err, axis=(-2, -1))


def min_norm_risk(xp: Any, rng: Any, budget: int, *, n: int, p: int, r: float, sigma: float,
                  conditional: bool = True) -> Estimate:
    r"""Mean excess risk over ``budget`` independent data sets of ``n`` samples and ``p`` features.

    >>> import numpy as np
    >>> e = min_norm_risk(np, np.random.default_rng(0), 2000, n=20, p=5, r=1.0, sigma=1.0)
    >>> abs(e.mean - 5 / 14) < 6 * e.stderr  # sigma^2 p/(n - p - 1)
    True
    """
    budget, n, p = _integer("budget", budget, 2), _integer("n", n), _integer("p", p)
    r, sigma = _real("r", r, strict=False), _real("sigma", sigma, strict=False)
    _gap(n, p)
    acc = Accumulator(backend=backend_name(xp), dtype="float64")
    per = max(1, _FLOATS // (n * p))
    done = 0
    with _one_blas_thread(xp):
        while done < budget:
            b = min(per, budget - done)
            acc.add(risk_batch(xp, rng, b, n=n, p=p, r=r, sigma=sigma, conditional=conditional))
            done += b
    return acc.estimate()


def finite_experiment(xp: Any, rng: Any, budget: int, *, n: int, p: int, sigma: float, r: float) -> Estimate:
    """The experiment of ``double-descent.finite-n``: :func:`min_norm_risk`, conditional on each design."""
    return min_norm_risk(xp, rng, budget, n=n, p=p, r=r, sigma=sigma)


def split_features(rng: Any, budget: int, n: int, gamma: float) -> tuple[int, int, int]:
    r"""Randomised rounding of :math:`\gamma n`: ``(p, how many replicates get p, how many get p + 1)``."""
    target = gamma * n
    low = math.floor(target)
    frac = target - low
    up = int(rng.binomial(budget, frac)) if frac > 0 else 0
    return low, budget - up, up


def ridgeless_experiment(xp: Any, rng: Any, budget: int, *, gamma: float, sigma: float, r: float, n: int) -> Estimate:
    r"""The experiment of ``double-descent.ridgeless`` at ``n`` samples and :math:`p \approx \gamma n` features
    (randomised rounding, so the mean interpolates the risk linearly between the two integers)."""
    budget, n = _integer("budget", budget, 2), _integer("n", n)
    gamma = _real("gamma", gamma)
    r, sigma = _real("r", r, strict=False), _real("sigma", sigma, strict=False)
    low, k_low, k_up = split_features(rng, budget, n, gamma)
    acc = Accumulator(backend=backend_name(xp), dtype="float64")
    with _one_blas_thread(xp):
        for p, k in ((low, k_low), (low + 1, k_up)):
            if k == 0:
                continue
            _gap(n, p)
            per = max(1, _FLOATS // (n * p))
            done = 0
            while done < k:
                b = min(per, k - done)
                acc.add(risk_batch(xp, rng, b, n=n, p=p, r=r, sigma=sigma))
                done += b
    return acc.estimate()
