r"""Products of random matrices: the kernels behind ``rmt.lyapunov`` and ``residual.isometry``.

**Lyapunov spectrum: the QR (Benettin) algorithm.** ``B`` independent chains, each carrying
an orthonormal frame :math:`Q_t` of ``k`` columns (:math:`Q_0` = the first ``k`` columns of
the identity), stacked as one ``(B, N, k)`` array. One step draws ``B`` fresh factors
``(B, N, N)``, forms :math:`W_t Q_{t-1}` with one batched ``matmul``, and re-orthonormalises
it with one batched ``qr``, :math:`W_t Q_{t-1} = Q_t R_t`; the logarithms
:math:`\ln|R_{jj}|` (float64) are the per-step growth of the ``j``-th direction, and their
mean over steps is the ``j``-th Lyapunov exponent.

*What a replicate is.* One step of one chain. For iid Gaussian factors the steps are
**exactly independent**, not merely mixing: :math:`Q_{t-1}` is orthonormal and independent
of :math:`W_t`, so :math:`W_t Q_{t-1}` is again a matrix of iid :math:`N(0, \sigma^2)`
entries, independent of :math:`Q_{t-1}` and hence of every earlier :math:`R`; and in the QR
of such a matrix :math:`R` is independent of :math:`Q` (Bartlett). So the :math:`R_t` are
iid over steps and chains, there is no burn-in (the first step is already stationary),
and the standard error over all (chain, step) pairs is that of independent replicates;
tests check the lag-one autocorrelation along a chain is zero. (For factors that are not
rotation invariant the steps are correlated, and replicates would have to be whole chains.)

*Cost.* The factors are drawn whole, ``N x N``, as a real product needs; only the ``k``
directions asked for are carried (``k = i`` for the ``i``-th exponent, ``N`` for the whole
spectrum), so a step costs ``N^2`` normals, ``2 N^2 k`` flops of ``matmul`` and a
Householder QR of ``N x k``. QR is float64 (float32 is no faster on the CPUs measured in
``PERFORMANCE.md``, and the logarithm of a small :math:`R_{jj}` needs the precision).
Rounding perturbs :math:`\ln|R_{jj}|` by about :math:`N^{3/2}\varepsilon\,\sigma/|R_{jj}|`
per step (Householder QR is backward stable), randomly signed: about 1e-12 on average, far below
any reachable standard error.

**Singular values of a product** (``residual.isometry``). ``B`` independent products
:math:`P = W_L \cdots W_1` at once, streamed over depth (one factor in memory at a time),
float32 GEMMs, the statistics :math:`\mathrm{tr}A/N` and :math:`\mathrm{tr}A^2/N` of
:math:`A = P^\top P` accumulated in float64. The estimator of :math:`m_2` splits each factor into
its norm and its direction, independent for a Gaussian matrix: the norms' contribution
:math:`(1 + 2/N^2)^L` is a chi-square moment, exact, and the statistic of the normalised product
is bounded, so small widths (down to :math:`N = 2`, where the plain :math:`\mathrm{tr}A^2/N` has a
kurtosis in the thousands) measure the :math:`1/N^2` term. It subtracts the control variate
:math:`\beta(t - 1)`, :math:`t` the normalised :math:`\mathrm{tr}A/N` of mean exactly 1, with
:math:`\beta = 2(L+1)` fixed in advance (a global scale :math:`s` of :math:`P` moves
:math:`\mathrm{tr}A^2/N \approx (L+1)s^4` by twice :math:`\mathrm{tr}A/N \approx s^2` times
:math:`L + 1`): the mean is unchanged and the variance falls five- to hundredfold. A replicate is
the mean of :math:`4096/N^2` products (:func:`products_per_replicate`), so its spread and its cost
change little with :math:`N`.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .checks import integer as _integer
from .estimate import FLOOR_ULPS, Accumulator, Estimate, merge_moments
from .namespaces import backend_name, float_dtype, to_host
from .namespaces import on_device as _on

__all__ = [
    "FACTORS",
    "haar_orthogonal",
    "qr_log_growth",
    "lyapunov_spectrum",
    "lyapunov_experiment",
    "product_moments",
    "isometry_estimate",
    "isometry_experiment",
    "product_singular_values",
    "control_coefficient",
    "norm_moment",
    "products_per_replicate",
    "PRODUCTS",
]

FACTORS = ("gaussian", "orthogonal")
_STEP_FLOATS = 1 << 20  # factors drawn at once: (B, N, N) float64, 8 MiB
_BUFFER_FLOATS = 1 << 20  # logarithms held before they are reduced (float64)
_PRODUCT_FLOATS = 1 << 20  # float32 entries of one (B, N, N) tensor of the product kernel, 4 MiB
PRODUCTS = 4096  # products per replicate of residual.isometry at N = 1 (divided by N^2 at width N)


# -- validation --------------------------------------------------------------------------------


def _positive(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}={value!r} must be a finite real number > 0")
    if not (math.isfinite(value) and float(value) > 0):
        raise ValueError(f"{name}={value!r} is outside the domain: finite real > 0")
    return float(value)


def _factors(value: Any) -> str:
    if value not in FACTORS:
        raise ValueError(f"factors={value!r} is not one of {', '.join(FACTORS)}")
    return value




def _dtype(xp: Any, dtype: Any) -> Any:
    """A dtype given by name (``"float32"``/``"float64"``) as ``xp``'s dtype object."""
    return float_dtype(xp, dtype) if isinstance(dtype, str) else dtype


# -- orthogonal factors -------------------------------------------------------------------------

def haar_orthogonal(xp: Any, rng: Any, b: int, n: int) -> Any:
    """``b`` independent Haar-distributed orthogonal ``n x n`` matrices, float64, shape ``(b, n, n)``:
    the Q of a Gaussian matrix with the signs of R's diagonal moved into its columns (Mezzadri 2007,
    arXiv:math-ph/0609050; without the signs, LAPACK's convention would bias the distribution).

    >>> q = haar_orthogonal(np, np.random.default_rng(0), 3, 5)
    >>> q.shape, bool(np.allclose(q.transpose(0, 2, 1) @ q, np.eye(5)))
    ((3, 5, 5), True)
    """
    q, r = xp.linalg.qr(rng.standard_normal((b, n, n), dtype=xp.float64))
    signs = xp.sign(xp.linalg.diagonal(r))
    signs = xp.where(signs == 0, 1.0, signs)
    return q * signs[:, None, :]


# -- the QR algorithm -----------------------------------------------------------------------------

def _draw(xp: Any, rng: Any, b: int, n: int, factors: str) -> Any:
    if factors == "gaussian":
        return rng.standard_normal((b, n, n), dtype=xp.float64)
    return haar_orthogonal(xp, rng, b, n)


def qr_log_growth(xp: Any, rng: Any, chains: int, steps: int, *, N: int, k: int, sigma: float,
                  factors: str = "gaussian", last: int | None = None):
    r"""Run ``chains`` independent chains of the QR algorithm for ``steps`` steps, yielding each
    step's ``(chains, k)`` float64 array of :math:`\ln|R_{jj}|`, ``j = 1..k``.

    The factors are ``sigma`` times a standard Gaussian (or Haar orthogonal) matrix;
    :math:`(\sigma W)Q = \sigma(WQ)`, so ``sigma`` multiplies the ``(chains, N, k)`` product rather
    than the ``N x N`` factor. The final step runs only the first ``last`` chains when given
    (so a budget need not be a multiple of ``chains``).

    >>> rng = np.random.default_rng(0)
    >>> [g.shape for g in qr_log_growth(np, rng, 4, 3, N=6, k=2, sigma=1.0, last=1)]
    [(4, 2), (4, 2), (1, 2)]
    """
    q = xp.eye(N, k, dtype=xp.float64, **_on(rng))  # Q_0: the first k columns of the identity, shared by all chains
    for step in range(steps):
        b = last if (last is not None and step == steps - 1) else chains
        w = _draw(xp, rng, b, N, factors)
        frame = q if q.ndim == 2 else q[:b, ...]
        product = xp.matmul(w, frame)
        del w
        product *= sigma
        if k == 1:  # a single column: the QR is its norm
            norm = xp.sqrt(xp.sum(product * product, axis=(1, 2)))
            q = product / norm[:, None, None]
            diagonal = norm[:, None]
        else:
            q, r = xp.linalg.qr(product)
            diagonal = xp.linalg.diagonal(r)
        yield xp.log(xp.abs(diagonal))


class _Moments:
    """Running mean, central moments M2..M4 and mean absolute value of ``k`` statistics at once
    (Chan et al.; Pebay's merge for M3 and M4).

    The running sums stay where the values live (``xp`` arrays, float64) and are merged there, batch
    after batch; :meth:`estimates` copies the length-``k`` vectors to the host once, so the host
    transfers do not grow with the number of steps."""

    def __init__(self, xp: Any, k: int) -> None:
        self.xp = xp
        self.k = k
        self.n = 0
        self.moments: Any = None  # (mean, M2, M3, M4)
        self.abs_mean: Any = None

    def add(self, values: Any) -> None:
        xp = self.xp
        m = int(values.shape[0])
        if m == 0:
            return
        batch_mean = xp.mean(values, axis=0)
        d = values - batch_mean
        d2 = d * d
        batch = (batch_mean, xp.sum(d2, axis=0), xp.sum(d2 * d, axis=0), xp.sum(d2 * d2, axis=0))
        batch_abs = xp.mean(xp.abs(values), axis=0)
        if self.n == 0:
            self.moments, self.abs_mean, self.n = batch, batch_abs, m
            return
        n = self.n + m
        self.moments = merge_moments(self.n, self.moments, m, batch)
        self.abs_mean = self.abs_mean + (batch_abs - self.abs_mean) * (m / n)
        self.n = n

    def estimates(self, backend: str) -> list[Estimate]:
        if self.n < 2:
            raise ValueError("a standard error needs at least 2 replicates")
        eps = float(np.finfo("float64").eps)
        rows = to_host(self.xp.stack([*self.moments, self.abs_mean]))  # the one transfer
        out = []
        for mu, m2, m3, m4, am in zip(*rows, strict=True):
            sd2 = float(m2) / (self.n - 1)
            skew, kurt = (math.sqrt(self.n) * float(m3) / float(m2) ** 1.5, self.n * float(m4) / float(m2) ** 2) \
                if m2 > 0 else (None, None)
            out.append(Estimate(float(mu), math.sqrt(sd2 / self.n), self.n, backend, "float64",
                                FLOOR_ULPS * eps * float(am), skewness=skew, kurtosis=kurt))
        return out


def lyapunov_spectrum(xp: Any, rng: Any, budget: int, *, N: int, sigma: float, k: int | None = None,
                      factors: str = "gaussian", chains: int | None = None) -> list[Estimate]:
    r"""Estimates of the top ``k`` Lyapunov exponents (all ``N`` by default) of products of
    ``N x N`` factors with iid :math:`N(0, \sigma^2)` entries (or ``sigma`` times Haar orthogonal),
    each from ``budget`` independent replicates: ``budget`` QR steps spread over ``chains``
    parallel chains (by default as many as fit 8 MiB of factors).

    >>> e = lyapunov_spectrum(np, np.random.default_rng(0), 20_000, N=1, sigma=1.0)[0]
    >>> e.n, abs(e.mean + 0.6351814227307391) < 6 * e.stderr  # E ln|z| = -(gamma + ln 2)/2
    (20000, True)
    """
    budget = _integer("budget", budget, 2)
    N = _integer("N", N)
    sigma = _positive("sigma", sigma)
    k = N if k is None else _integer("k", k)
    if k > N:
        raise ValueError(f"k={k} is outside the domain: integer with 1 <= k <= N = {N}")
    factors = _factors(factors)
    chains = min(budget, max(1, _STEP_FLOATS // (N * N))) if chains is None else _integer("chains", chains)
    chains = min(chains, budget)
    steps, rest = divmod(budget, chains)
    moments = _Moments(xp, k)
    per_flush = max(1, _BUFFER_FLOATS // (chains * k))
    buffer: list[Any] = []
    growth = qr_log_growth(xp, rng, chains, steps + (rest > 0), N=N, k=k, sigma=sigma, factors=factors,
                           last=rest or None)
    for logs in growth:
        buffer.append(logs)
        if len(buffer) >= per_flush:
            moments.add(xp.concat(buffer, axis=0))
            buffer = []
    if buffer:
        moments.add(xp.concat(buffer, axis=0))
    return moments.estimates(backend_name(xp))


def lyapunov_experiment(xp: Any, rng: Any, budget: int, *, N: int, sigma: float, i: int) -> Estimate:
    r"""The ``i``-th Lyapunov exponent (1 = the largest) of products of ``N x N`` matrices with iid
    :math:`N(0, \sigma^2)` entries: the mean of :math:`\ln|R_{ii}|` over ``budget`` QR steps, carrying
    only the ``i`` leading directions."""
    i = _integer("i", i)
    if i > _integer("N", N):
        raise ValueError(f"i={i} is outside the domain: integer with 1 <= i <= N = {N}")
    return lyapunov_spectrum(xp, rng, budget, N=N, sigma=sigma, k=i)[-1]


# -- products and their singular values --------------------------------------------------------------

def _product(xp: Any, rng: Any, b: int, L: int, N: int, factors: str, dtype: Any) -> tuple[Any, Any]:
    """``b`` products W_L ... W_1 of N x N factors (N(0, 1/N) entries, or Haar orthogonal), streamed over
    depth, and per product :math:`\\prod_l \\|W_l\\|_F^2/N` (float64)."""
    dtype = _dtype(xp, dtype)
    scale = 1.0 / math.sqrt(N)
    p, norms = None, None
    for _ in range(L):
        if factors == "gaussian":
            w = rng.standard_normal((b, N, N), dtype=dtype)
            w *= scale
        else:
            w = xp.astype(haar_orthogonal(xp, rng, b, N), dtype)
        wide = xp.astype(w, xp.float64)
        f = xp.sum(wide * wide, axis=(-2, -1)) / N
        norms = f if norms is None else norms * f
        p = w if p is None else xp.matmul(w, p)
        del w, wide
    return p, norms


def product_moments(xp: Any, rng: Any, b: int, *, L: int, N: int, factors: str = "gaussian",
                    dtype: str = "float32", normalise: bool = False) -> tuple[Any, Any]:
    r"""Per product, :math:`\mathrm{tr}A/N` and :math:`\mathrm{tr}A^2/N` (float64, shape ``(b,)``)
    for ``b`` independent products :math:`P = W_L \cdots W_1`, :math:`A = P^\top P`
    (:math:`\mathrm{tr}A^2 = \|A\|_F^2`, ``A`` being symmetric). With ``normalise``, those of the
    product of the normalised factors :math:`U_l = W_l / \sqrt{f_l}`, :math:`f_l = \|W_l\|_F^2/N`:
    :math:`\mathrm{tr}A/N` and :math:`\mathrm{tr}A^2/N` divided by :math:`\prod_l f_l` and
    :math:`\prod_l f_l^2`.

    >>> m1, m2 = product_moments(np, np.random.default_rng(0), 3, L=4, N=8, factors="orthogonal", dtype="float64")
    >>> bool(np.allclose(m1, 1.0) and np.allclose(m2, 1.0))
    True
    """
    L, N, b = _integer("L", L), _integer("N", N), _integer("b", b)
    p, norms = _product(xp, rng, b, L, N, _factors(factors), dtype)
    gram = xp.astype(xp.matmul(xp.matrix_transpose(p), p), xp.float64)  # float32 GEMM, float64 from here on
    first = xp.linalg.trace(gram) / N
    second = xp.sum(gram * gram, axis=(-2, -1)) / N
    if normalise:
        return first / norms, second / (norms * norms)
    return first, second


def control_coefficient(L: int) -> float:
    r"""The fixed coefficient :math:`\beta = 2(L+1)` of the control variate :math:`\mathrm{tr}A/N - 1`."""
    return 2.0 * (L + 1)


def norm_moment(L: int, N: int) -> float:
    r""":math:`\prod_l E[f_l^2] = (1 + 2/N^2)^L`, :math:`f_l = \|W_l\|_F^2/N \sim \chi^2_{N^2}/N^2` (a
    chi-square's second moment, :math:`E[(\chi^2_k)^2] = k^2 + 2k`)."""
    return (1.0 + 2.0 / (N * N)) ** L


def products_per_replicate(N: int) -> int:
    r"""Products averaged in one replicate of ``residual.isometry`` at width N: :data:`PRODUCTS`:math:`/N^2`
    (at least 1), so that a replicate's spread, and its cost, change little with N."""
    return max(1, PRODUCTS // (N * N))


def isometry_estimate(xp: Any, rng: Any, budget: int, *, L: int, N: int, control: bool = True,
                      block: int = 1) -> Estimate:
    r"""Mean over ``budget`` independent replicates, each the mean of ``block`` independent products, of
    an unbiased estimate of :math:`m_2(L, N) = E\,\mathrm{tr}(A^2)/N`.

    With ``control`` (the default), each Gaussian factor is split into its norm and its direction,
    :math:`W_l = \sqrt{f_l}\,U_l`, which are independent (a Gaussian vector's length and direction), so
    :math:`\mathrm{tr}(A^2)/N = \prod_l f_l^2 \cdot g` with :math:`g` the statistic of the normalised
    product and :math:`m_2 = (1 + 2/N^2)^L\,E g` (:func:`norm_moment`): the estimate is
    :math:`(1 + 2/N^2)^L [g - \beta(t - 1)]`, :math:`t` the normalised :math:`\mathrm{tr}A/N`, whose mean
    is exactly 1 for the same reason, :math:`\beta = 2(L+1)` fixed in advance. The norms carry the heavy
    tail at small widths (at :math:`N = 1`, :math:`\mathrm{tr}A^2 = \prod w_l^4`); :math:`g \le N^{2L-1}`
    is bounded. Without ``control``, the plain mean of :math:`\mathrm{tr}(A^2)/N`.

    >>> e = isometry_estimate(np, np.random.default_rng(0), 4000, L=1, N=4)
    >>> abs(e.mean - 2.25) < 6 * e.stderr  # m_2(1, N) = 2 + 1/N
    True
    """
    budget, L, N = _integer("budget", budget, 2), _integer("L", L), _integer("N", N)
    block = _integer("block", block)
    beta, moment = (control_coefficient(L), norm_moment(L, N)) if control else (0.0, 1.0)
    acc = Accumulator(backend=backend_name(xp), dtype="float32")
    per_batch = max(1, _PRODUCT_FLOATS // (N * N * block))  # replicates per batch
    done = 0
    while done < budget:
        r = min(per_batch, budget - done)
        first, second = product_moments(xp, rng, r * block, L=L, N=N, normalise=control)
        values = moment * (second - beta * (first - 1.0))
        acc.add(xp.mean(xp.reshape(values, (r, block)), axis=1) if block > 1 else values)
        done += r
    return acc.estimate()


def isometry_experiment(xp: Any, rng: Any, budget: int, *, L: int, N: int) -> Estimate:
    r"""The experiment of ``residual.isometry`` at width ``N``: :func:`isometry_estimate` with the control
    variate, ``budget`` replicates of :func:`products_per_replicate` products each."""
    return isometry_estimate(xp, rng, budget, L=L, N=N, block=products_per_replicate(_integer("N", N)))


def product_singular_values(xp: Any, rng: Any, b: int, *, L: int, N: int, factors: str = "gaussian") -> Any:
    """Singular values ``(b, N)`` (float64) of ``b`` independent products of ``L`` factors, for histograms."""
    L, N, b = _integer("L", L), _integer("N", N), _integer("b", b)
    p, _ = _product(xp, rng, b, L, N, _factors(factors), xp.float64)
    return xp.linalg.svdvals(p)
