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
draws :math:`p = \lfloor\gamma n\rfloor + B`, :math:`B \sim` Bernoulli(:math:`w`) (randomised rounding, see
:func:`rounding_weight`): below the threshold :math:`w = f = \gamma n - \lfloor\gamma n\rfloor`, so
:math:`E\,p = \gamma n` and the mean is the linear interpolation of the finite-n risk between the two integers;
above it :math:`w = f(\lfloor\gamma n\rfloor + 1)/(\gamma n)`, so :math:`E[n/p] = 1/\gamma` exactly. The bias term
:math:`r^2 (1 - n/p)` is then :math:`r^2(1 - 1/\gamma)` on average at every n: linear rounding would leave it a jagged
:math:`f(1 - f)\, r^2/(\gamma^3 n^2)` that no smooth expansion in :math:`1/n` fits, and that no noise hides when
:math:`r \gg \sigma`. Either way :math:`E\,p - \gamma n = O(1/n)`, so the :math:`1/n` coefficient of the sweep
is that of the risk at :math:`p = \gamma n` (``proofs.double_descent.derive_ridgeless_correction``). The bias term
:math:`r^2 (p - \operatorname{rank}X)/p` depends on the rounding only, so ``ridgeless_experiment`` replaces it by
its mean over the rounding (Rao-Blackwell again): the rounding adds no variance.

*Control variates* (``control=True``, what ``double-descent.ridgeless`` uses). With :math:`W` the smaller Gram
matrix, a Wishart :math:`W_d(I, k)`, :math:`d = \min(n, p)`, :math:`k = \max(n, p)`, two statistics of the same
design have exactly known means: :math:`E\,\mathrm{tr}\,W = dk` (a sum of :math:`dk` squared normals) and
:math:`E \log\det W = \sum_{i=0}^{d-1}\psi((k - i)/2) + d\log 2` (Bartlett's decomposition,
:math:`\det W = \prod_i \chi^2_{k-i}`; Muirhead 1982, Theorem 3.2.14). The replicate statistic is
:math:`\sigma^2(\mathrm{tr}\,W^{-1} - \beta_1(\mathrm{tr}\,W - dk) - \beta_2(\log\det W - E\log\det W))`: the same
mean for any fixed :math:`\beta`, so the closed form is not assumed. :math:`\beta` is the least-squares slope on
:data:`CONTROL_DESIGNS` designs drawn from a generator of its own, seeded by :math:`(n, p)` (independent of the
replicates, so the estimator stays exactly unbiased); it removes 60-95% of the variance (least near
:math:`\gamma = 1`). Both statistics come free with the Cholesky factor :math:`L`:
:math:`\log\det W = 2\sum_i \log L_{ii}` and :math:`\mathrm{tr}\,W = \|X\|_F^2`.
"""

from __future__ import annotations

import contextlib
import math
import numbers
from functools import cache
from typing import Any

import numpy as np
from array_api_compat import device as _device_of

from .checks import integer as _integer
from .estimate import Accumulator, Estimate
from .namespaces import backend_name

__all__ = ["risk_batch", "min_norm_risk", "finite_experiment", "ridgeless_experiment", "split_features", "rounding_weight",
           "log_det_mean", "control_slopes", "CONTROL_DESIGNS"]

_FLOATS = 1 << 21  # float64 entries of one (b, n, p) design batch, 16 MiB
CONTROL_DESIGNS = 256  # designs of the auxiliary sample that fits the control-variate slopes
_EULER = 0.5772156649015329



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


def _digamma_half(m: int) -> float:
    r""":math:`\psi(m/2)` for an integer ``m >= 1``, by the recurrence :math:`\psi(x + 1) = \psi(x) + 1/x` from
    :math:`\psi(1/2) = -\gamma_E - 2\log 2` and :math:`\psi(1) = -\gamma_E`."""
    x, value = (0.5, -_EULER - 2 * math.log(2)) if m % 2 else (1.0, -_EULER)
    while x < m / 2:
        value += 1 / x
        x += 1
    return value


def log_det_mean(d: int, k: int) -> float:
    r""":math:`E\log\det W` for :math:`W \sim W_d(I, k)`, :math:`k \ge d`: :math:`\sum_{i=0}^{d-1}\psi((k - i)/2) + d\log 2`.

    >>> round(log_det_mean(1, 2), 12) == round(math.log(2) - _EULER, 12)  # E log chi^2_2 = log 2 - gamma_E
    True
    """
    return sum(_digamma_half(k - i) for i in range(d)) + d * math.log(2)


def _statistics(xp: Any, X: Any, n: int, p: int) -> tuple[Any, Any, Any]:
    r"""Per design: :math:`\mathrm{tr}\,W^{-1}`, :math:`\mathrm{tr}\,W - dk`, :math:`\log\det W - E\log\det W`."""
    G = xp.matmul(X.mT, X) if p < n else xp.matmul(X, X.mT)
    chol = xp.linalg.cholesky(G)
    eye = xp.broadcast_to(xp.eye(min(n, p), dtype=G.dtype, device=_device_of(G)), G.shape)
    inv_l = xp.linalg.solve(chol, eye)  # L^-1: tr G^-1 = ||L^-1||_F^2
    trace_inv = xp.sum(inv_l * inv_l, axis=(-2, -1))
    trace = xp.sum(X * X, axis=(-2, -1)) - n * p
    log_det = 2 * xp.sum(xp.log(xp.linalg.diagonal(chol)), axis=-1) - log_det_mean(min(n, p), max(n, p))
    return trace_inv, trace, log_det


@cache
def control_slopes(n: int, p: int) -> tuple[float, float]:
    r"""The control-variate slopes :math:`(\beta_1, \beta_2)` for ``n`` samples and ``p`` features: least squares of
    :math:`\mathrm{tr}\,W^{-1}` on the two centred statistics over :data:`CONTROL_DESIGNS` designs from a NumPy
    generator seeded by ``(n, p)`` alone (never the run's: any fixed slopes keep the mean)."""
    rng = np.random.default_rng((n, p, 20190308))
    y, t, ld = _statistics(np, rng.standard_normal((CONTROL_DESIGNS, n, p)), n, p)
    z = np.stack([t - t.mean(), ld - ld.mean()], axis=1)
    slope, *_ = np.linalg.lstsq(z, y - y.mean(), rcond=None)
    return float(slope[0]), float(slope[1])


def risk_batch(xp: Any, rng: Any, b: int, *, n: int, p: int, r: float, sigma: float, conditional: bool = True,
               control: bool = False) -> Any:
    r"""Per data set, the excess risk of min-norm least squares (float64, shape ``(b,)``); with ``control`` (and
    ``conditional``), minus the control variates (same mean).

    >>> import numpy as np
    >>> v = risk_batch(np, np.random.default_rng(0), 4, n=10, p=3, r=1.0, sigma=0.0, conditional=False)
    >>> bool(np.all(v < 1e-20))  # p < n and no noise: least squares recovers beta exactly
    True
    """
    X = rng.standard_normal((b, n, p))
    if conditional:
        trace_inv, trace, log_det = _statistics(xp, X, n, p)
        if control:
            b1, b2 = control_slopes(n, p)
            trace_inv = trace_inv - b1 * trace - b2 * log_det
        return r * r * (p - min(n, p)) / p + sigma * sigma * trace_inv
    Xt = X.mT
    under = p < n  # more samples than features: G = X^T X, else X X^T
    G = xp.matmul(Xt, X) if under else xp.matmul(X, Xt)
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


def rounding_weight(n: int, gamma: float) -> tuple[int, float]:
    r"""``(p, w)``: the randomised rounding of :math:`\gamma n` draws ``p + 1`` with probability ``w``, else ``p``.
    Below the threshold :math:`E\,p = \gamma n`; above it :math:`E[1/p] = 1/(\gamma n)` (the bias term's mean is then
    its limit at every n).

    >>> rounding_weight(10, 0.37), rounding_weight(10, 2.5)
    ((3, 0.7000000000000002), (25, 0.0))
    """
    target = gamma * n
    low = math.floor(target)
    frac = target - low
    return low, (frac if gamma < 1 else frac * (low + 1) / target)


def split_features(rng: Any, budget: int, n: int, gamma: float) -> tuple[int, int, int]:
    r"""Randomised rounding of :math:`\gamma n` (:func:`rounding_weight`): ``(p, how many replicates get p, how many
    get p + 1)``."""
    low, weight = rounding_weight(n, gamma)
    up = int(rng.binomial(budget, weight)) if weight > 0 else 0
    return low, budget - up, up


def ridgeless_experiment(xp: Any, rng: Any, budget: int, *, gamma: float, sigma: float, r: float, n: int) -> Estimate:
    r"""The experiment of ``double-descent.ridgeless`` at ``n`` samples and :math:`p \approx \gamma n` features
    (randomised rounding, :func:`rounding_weight`), with control variates; the bias term is averaged exactly over
    the rounding.

    >>> import numpy as np
    >>> e = ridgeless_experiment(np, np.random.default_rng(0), 4000, gamma=0.5, sigma=1.0, r=1.0, n=32)
    >>> abs(e.mean - 16 / 15) < 6 * e.stderr  # sigma^2 p/(n - p - 1) at p = 16
    True
    """
    budget, n = _integer("budget", budget, 2), _integer("n", n)
    gamma = _real("gamma", gamma)
    r, sigma = _real("r", r, strict=False), _real("sigma", sigma, strict=False)
    low, k_low, k_up = split_features(rng, budget, n, gamma)
    _, up = rounding_weight(n, gamma)
    bias = sum(w * r * r * (q - min(n, q)) / q for q, w in ((low, 1 - up), (low + 1, up)) if w > 0)
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
                acc.add(bias + risk_batch(xp, rng, b, n=n, p=p, r=0.0, sigma=sigma, control=True))
                done += b
    return acc.estimate()
