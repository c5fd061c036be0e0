r"""Implicit max-margin bias of gradient descent: the kernels behind ``implicit.max-margin``.

**Gradient descent.** On the logistic loss :math:`\mathcal L(w) = \sum_n \log(1 + e^{-z_n^\top w})` of
linearly separable data :math:`z_n = y_n x_n \in \mathbb R^d` (labels absorbed, as in Soudry et al. 2018),
gradient descent from :math:`w(0) = 0` with the fixed step :math:`\eta = 4/\sigma_{\max}(Z)^2` (``STEP``), half
the bound :math:`2\beta^{-1}\sigma_{\max}^{-2} = 8/\sigma_{\max}^2` of their Theorem 3 (the logistic loss is
:math:`\beta = 1/4` smooth), is

.. math::

    w(t + 1) = w(t) + \eta \sum_n \sigma(-z_n^\top w(t))\, z_n ,

run on many datasets at once (the datasets on the last axis, one elementwise program per step; :func:`descend`).
Theorem 3 gives :math:`w(t) = \hat w \log t + \rho(t)`, :math:`\hat w` the hard-margin SVM solution; Theorem 4
(support vectors spanning :math:`\mathbb R^d`) gives :math:`\rho(t) \to \tilde w`,
:math:`\eta e^{-z_k^\top\tilde w} = \alpha_k` on the support vectors (:math:`\alpha` the SVM's dual variables).
Hence (``proofs.implicit_bias``) the direction error
:math:`e(t) = \lVert w/\lVert w\rVert - \hat w/\lVert\hat w\rVert\rVert` obeys :math:`e(t)\log t \to C`,
:math:`C = \lVert P_\perp\tilde w\rVert/\lVert\hat w\rVert` (:math:`P_\perp` the projection orthogonal to
:math:`\hat w`), and :math:`\log t\, e(t)/C = 1 - a/\log t + O(\log^{-2} t)`,
:math:`a = \tilde w^\top\hat w/\lVert\hat w\rVert^2`.

**The transients, and how they are removed** (a deviation from reading one iterate, stated here): beyond
:math:`\hat w\log t + \tilde w`, the iterates carry terms :math:`(A\log t + B)/t` (the logistic loss's second-order
tail :math:`-e^{-2u}`, the step's discretisation of :math:`\log(t + 1) - \log t`, the non-support points' decaying
gradients), of size :math:`10^{-2}` in :math:`\log t\, e/C` at :math:`t = 512` and of either sign depending on
:math:`n - d`: an extrapolation in :math:`1/\log t` from :math:`t \le 4096` would inherit them several times over.
The kernel therefore measures the direction of the three-point Richardson combination
:math:`w_R = w(t/16) - 4w(t/8) + 4w(t/4)` of the iterates of one gradient descent: it equals
:math:`\hat w\log t + \tilde w` exactly on the asymptotic form (:math:`1 - 4 + 4 = 1`, :math:`\log\frac t{16} - 4\log\frac t8
+ 4\log\frac t4 = \log t`) and cancels both :math:`B/t` (:math:`16 - 4\cdot 8 + 4\cdot 4 = 0`) and :math:`A\log t/t`
(:math:`16\log\frac t{16} - 32\log\frac t8 + 16\log\frac t4 = 0`). What is left (:math:`\log^2 t/t^2`, and the part of
a slower mode :math:`t^{-\lambda}` that the weights do not cancel) is below :math:`3\cdot 10^{-3}` from
:math:`t = 1024` on, mostly below :math:`10^{-3}`. The statistic at ``t`` (the sweep's variable) compares the measured direction error with
that of the asymptotic form itself, :math:`e_\infty(\log t) = 2\sin(\varphi/2)`, :math:`\tan\varphi = C/(\log t +
a)` (:func:`limit_error`), per dataset: :math:`R = 1 + \log t\,(e(w_R) - e_\infty(\log t))/C`, from :math:`t/4`
steps of gradient descent. On :math:`\hat w\log t + \tilde w` it is exactly 1 whatever the offset a, so the
:math:`-a/\log t` and :math:`O(\log^{-2} t)` terms of :math:`\log t\, e/C` (which vary from dataset to dataset and
put the plain ratio's points a percent above 1) are gone; Theorem 4 gives :math:`R \to 1`, and with
:math:`\log t\, e_\infty/C \to 1` the rate :math:`e \sim C/\log t`. What R keeps is a power of t, not of
:math:`1/\log t`: the residual's modes decay as :math:`t^{-\lambda}`, :math:`\lambda \ge 3/4` for the datasets kept
(``RELAXATION``), so the claim sweeps t and fits :math:`t^{-3/4}` and :math:`t^{-3/2}`. Measured at n = 4, d = 3 (4096
datasets per point): the mean of R is :math:`1 - 5.1\cdot 10^{-4}` at t = 1024, :math:`1 - 1.3\cdot 10^{-5}` at
4096 and :math:`1 + 2.4\cdot 10^{-5}` at 16384 (a fast negative mode and a slow positive one, about
:math:`t^{-0.7}`: :math:`1.2\cdot 10^{-5}` at 65536, :math:`4\cdot 10^{-6}` at 262144), with a spread of
:math:`1.5\cdot 10^{-3}` across datasets and light tails (kurtosis 4 to 9; with ``RELAXATION`` 1/2 and margins
from 2 it was 70 to 80, from the slowly relaxing datasets).

**The max-margin solution** (:func:`max_margin`) is SciPy's ``nnls`` (Lawson and Hanson's active-set method,
*Solving Least Squares Problems*, Chapter 23) on the dual of the least-distance programme :math:`\min\lVert w\rVert`
s.t. :math:`Zw \ge 1`: :math:`\min_{u \ge 0}\lVert [Z^\top; 1^\top] u - e_{d+1}\rVert`, :math:`w = -r_{1:d}/r_{d+1}`
for the residual :math:`r`; it is polished by solving the support vectors' equations :math:`G_S\alpha_S = 1` and
checked against the KKT conditions (:math:`\alpha_S > 0`, :math:`Z_S\hat w = 1`, every other margin :math:`> 1`) to a
relative ``KKT``: a dataset that fails raises, as the check would otherwise compare with a wrong :math:`\hat w`.

**The datasets** (:func:`planted`) are random but built so that Theorem 4 applies: :math:`d` support vectors
:math:`z_k = D_k(q_k + \epsilon g_k/\sqrt d)` (``q`` a Haar-random orthogonal basis, :math:`g` standard normal,
:math:`\epsilon =` ``TILT``, :math:`\log D_k` uniform on :math:`[-1/2, 1/2]` times ``SPREAD``), which span
:math:`\mathbb R^d`, and :math:`n - d \le 2` further points at margins :math:`\theta \sim U[3, 4]` (``MARGINS``) along
:math:`\hat w` plus an :math:`N(0, 1/4)` part orthogonal to it. A candidate is kept only if its planted dual
variables are positive, the smallest eigenvalue of :math:`\mathrm{diag}(\alpha)^{1/2} G_S\,\mathrm{diag}(\alpha)^{1/2}`
(the rate at which :math:`\rho` relaxes, per unit of :math:`\log t`) is at least ``RELAXATION`` and
:math:`C \ge` ``CONSTANT`` (with :math:`C \approx 0` the direction error sinks below the transients). *The trap*:
each further point raises :math:`\sigma_{\max}`, so lowers :math:`\eta` and makes the offset :math:`a` more
negative (:math:`a \approx -\log(\alpha/\eta)`) and delays the asymptotic regime: the kernels build up to
:math:`d + 2` points, and the claim admits :math:`d + 1` (with two further points at d = 2 and 3 the sweep's
points leave the fitted expansion).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .checks import integer as _integer
from .estimate import Accumulator, Estimate
from .namespaces import backend_name, on_device, to_host

__all__ = [
    "CONSTANT", "KKT", "MARGINS", "MAX_EXTRA", "RELAXATION", "SPREAD", "STEP", "TILT", "TIMES",
    "check_sizes", "descend", "direction_error", "family_constants", "limit_error", "max_margin", "planted", "rate_batch", "rate_constants",
    "rate_experiment", "richardson", "trajectories",
]

TIMES = (1024, 2048, 4096, 8192, 16384)  # t: the sweep (each from t/4 steps, see the docstring)
STEP = 4.0  # eta = STEP / sigma_max(Z)^2: half of Theorem 3's bound 8 / sigma_max^2 for the logistic loss
TILT = 0.15  # epsilon: how far the support vectors lean from an orthogonal basis
SPREAD = 1.0  # log-lengths of the support vectors uniform on [-SPREAD/2, SPREAD/2]
MARGINS = (3.0, 4.0)  # margins of the other points, in units of the max margin
OFFSET = 0.5  # standard deviation of the other points' part orthogonal to w_hat
RELAXATION = 0.75  # least eigenvalue of diag(alpha)^1/2 G_S diag(alpha)^1/2 kept
CONSTANT = 0.15  # least rate constant C kept
KKT = 1e-9  # relative tolerance of the KKT check of the max-margin solution
MAX_EXTRA = 2  # n <= d + MAX_EXTRA
MAX_DIMENSION = 8
_CHUNK = 4096  # datasets per batch of gradient descent


def check_sizes(n: Any, d: Any) -> tuple[int, int]:
    """``n`` points in ``d`` dimensions, as ints: ``2 <= d <= 8`` and ``d <= n <= d + 2``."""
    d = _integer("d", d, 2)
    if d > MAX_DIMENSION:
        raise ValueError(f"d={d} is outside the domain: integer with 2 <= d <= {MAX_DIMENSION}")
    n = _integer("n", n, 1)
    if not d <= n <= d + MAX_EXTRA:
        raise ValueError(f"n={n} is outside the domain: integer with d <= n <= d + {MAX_EXTRA} (d={d}): the "
                         "d support vectors, and few enough other points that the sweep is asymptotic")
    return n, d


def _time(t: Any) -> int:
    """The step count ``t`` of the combination: an integer multiple of 16 (it uses t/16, t/8 and t/4), at least 64."""
    if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or not 64 <= t <= 2**26:
        raise ValueError(f"t={t!r} is outside the domain: an integer multiple of 16 with 64 <= t <= 2^26")
    if t % 16:
        raise ValueError(f"t={t!r} is not a multiple of 16 (the combination uses t/16, t/8 and t/4)")
    return int(t)


def _host(rng: Any, xp: Any, shape: tuple[int, ...], uniform: bool = False) -> np.ndarray:
    draw = rng.random(shape, dtype=xp.float64) if uniform else rng.standard_normal(shape, dtype=xp.float64)
    return np.asarray(to_host(draw), dtype=np.float64)


def _candidates(rng: Any, xp: Any, count: int, n: int, d: int) -> dict[str, np.ndarray]:
    """``count`` candidate datasets on the host: points ``z`` ``(count, n, d)`` (support vectors first), the
    planted max-margin vector and dual variables, and each candidate's step, offset and rate constant."""
    q, r = np.linalg.qr(_host(rng, xp, (count, d, d)))
    q = q * np.sign(np.diagonal(r, axis1=1, axis2=2))[:, None, :]  # Haar: fix the signs of the QR
    lengths = np.exp(SPREAD * (_host(rng, xp, (count, d), uniform=True) - 0.5))
    sv = lengths[:, :, None] * (np.swapaxes(q, 1, 2) + TILT * _host(rng, xp, (count, d, d)) / math.sqrt(d))
    gram = sv @ np.swapaxes(sv, 1, 2)
    alpha = np.linalg.solve(gram, np.ones((count, d, 1)))[..., 0]
    w_hat = np.einsum("bk,bki->bi", alpha, sv)
    norm2 = np.einsum("bi,bi->b", w_hat, w_hat)
    unit = w_hat / np.sqrt(norm2)[:, None]
    lo, hi = MARGINS
    theta = lo + (hi - lo) * _host(rng, xp, (count, n - d), uniform=True)
    side = OFFSET * _host(rng, xp, (count, n - d, d))
    side -= np.einsum("bmi,bi->bm", side, unit)[..., None] * unit[:, None, :]
    others = theta[..., None] * (w_hat / norm2[:, None])[:, None, :] + side
    z = np.concatenate([sv, others], axis=1)
    eta = STEP / np.linalg.norm(z, ord=2, axis=(1, 2)) ** 2
    root = np.sqrt(np.abs(alpha))
    relax = np.linalg.eigvalsh(root[:, :, None] * gram * root[:, None, :])[:, 0]
    with np.errstate(invalid="ignore", divide="ignore"):  # a candidate with a dual variable <= 0 is dropped below
        _, _, c = _constants(sv, alpha, w_hat, eta)
    keep = (alpha.min(axis=1) > 0) & (relax >= RELAXATION) & (c >= CONSTANT)
    return {"z": z[keep], "w_hat": w_hat[keep], "alpha": alpha[keep], "eta": eta[keep]}


def planted(rng: Any, xp: Any, count: int, n: int, d: int) -> dict[str, np.ndarray]:
    """``count`` random separable datasets (host arrays, see the module's docstring): ``z`` ``(count, n, d)``,
    the planted ``w_hat`` ``(count, d)`` and dual variables of the support vectors ``alpha`` ``(count, d)``,
    and the step ``eta`` ``(count,)``. Candidates are drawn in rounds until ``count`` are kept."""
    count = _integer("count", count)
    n, d = check_sizes(n, d)
    parts: list[dict[str, np.ndarray]] = []
    kept = 0
    while kept < count:
        part = _candidates(rng, xp, max(16, 2 * (count - kept)), n, d)
        parts.append(part)
        kept += part["z"].shape[0]
    return {k: np.concatenate([p[k] for p in parts])[:count] for k in parts[0]}


def max_margin(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""The hard-margin SVM solution :math:`\hat w` ``(B, d)`` and its dual variables :math:`\alpha` ``(B, n)`` of
    each dataset ``z`` ``(B, n, d)``: SciPy's ``nnls`` on the least-distance dual, polished on the support set
    (:math:`G_S\alpha_S = 1`), KKT conditions checked (a failure raises ``ArithmeticError``).

    >>> z = np.array([[[1.0, 0.0], [0.0, 2.0], [3.0, 3.0]]])
    >>> w, a = max_margin(z)
    >>> np.round(w, 12).tolist(), np.round(a, 12).tolist()
    ([[1.0, 0.5]], [[1.0, 0.25, 0.0]])
    """
    from scipy.optimize import nnls

    z = np.asarray(z, dtype=np.float64)
    count, n, d = z.shape
    w_hat, alpha = np.zeros((count, d)), np.zeros((count, n))
    target = np.zeros(d + 1)
    target[d] = 1.0
    for b in range(count):
        system = np.vstack([z[b].T, np.ones((1, n))])
        u, _ = nnls(system, target, maxiter=50 * n)
        residual = system @ u - target
        if not -residual[d] > 1e-12:  # the least-distance programme is infeasible: no w with Z w >= 1
            raise ArithmeticError(f"dataset {b} is not linearly separable")
        dual = u / -residual[d]
        support = dual > 1e-8 * dual.max()
        zs = z[b][support]
        a_s = np.linalg.solve(zs @ zs.T, np.ones(zs.shape[0]))
        alpha[b, support] = a_s
        w_hat[b] = a_s @ zs
        margins = z[b] @ w_hat[b]
        slack = KKT * max(1.0, float(np.abs(z[b]).max() * np.abs(w_hat[b]).max()))
        if a_s.min() <= 0 or np.abs(margins[support] - 1).max() > slack or (margins[~support] <= 1 + slack).any():
            raise ArithmeticError(f"the max-margin solution of dataset {b} fails its KKT conditions")
    return w_hat, alpha


def rate_constants(z: np.ndarray, w_hat: np.ndarray, alpha: np.ndarray, eta: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""The limit :math:`\tilde w` of the residual (``(B, d)``: :math:`z_k^\top\tilde w = \log(\eta/\alpha_k)` on the
    :math:`d` support vectors, Theorem 4), the offset :math:`a = \tilde w^\top\hat w/\lVert\hat w\rVert^2` and the
    rate constant :math:`C = \lVert\tilde w - a\hat w\rVert/\lVert\hat w\rVert` (``(B,)`` each). The support
    vectors are the points with :math:`\alpha_k > 0`; there must be ``d`` of them."""
    support = alpha > 0
    count, _, d = z.shape
    if not (support.sum(axis=1) == d).all():
        raise ValueError("the rate constant needs exactly d support vectors spanning R^d (Theorem 4)")
    return _constants(z[support].reshape(count, d, d), alpha[support].reshape(count, d), w_hat, eta)


def _constants(zs: np.ndarray, alpha: np.ndarray, w_hat: np.ndarray, eta: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    logs = np.log(eta[:, None] / alpha)
    w_tilde = np.linalg.solve(zs, logs[..., None])[..., 0]
    norm2 = np.einsum("bi,bi->b", w_hat, w_hat)
    a = np.einsum("bi,bi->b", w_tilde, w_hat) / norm2
    c = np.linalg.norm(w_tilde - a[:, None] * w_hat, axis=1) / np.sqrt(norm2)
    return w_tilde, a, c


def descend(xp: Any, z: Any, eta: Any, steps: int, record: tuple[int, ...] = ()) -> tuple[Any, list[Any]]:
    r"""``steps`` steps of gradient descent on the logistic loss from :math:`w = 0` for a batch of datasets:
    ``z`` ``(n, d, B)`` and ``eta`` ``(B,)`` arrays of ``xp``; returns :math:`w(T)` ``(d, B)`` and the iterates at
    the steps in ``record``. One step: margins :math:`m = Z w`, :math:`p = \eta\,\sigma(-m) = \eta/(1 + e^m)`,
    :math:`w \leftarrow w + Z^\top p` (margins grow like :math:`\theta\log t`, so :math:`e^m` stays finite)."""
    w = xp.zeros((z.shape[1], z.shape[2]), dtype=z.dtype, device=z.device)
    kept = []
    for t in range(1, steps + 1):
        m = xp.sum(z * w, axis=1)
        p = eta / (1.0 + xp.exp(m))
        w = w + xp.sum(z * p[:, None, :], axis=0)
        if t in record:
            kept.append(w)
    return w, kept


def direction_error(xp: Any, w: Any, w_hat: Any) -> Any:
    r""":math:`\lVert w/\lVert w\rVert - \hat w/\lVert\hat w\rVert\rVert` of columns ``(d, B)``: ``(B,)``."""
    u = w / xp.linalg.vector_norm(w, axis=0)
    v = w_hat / xp.linalg.vector_norm(w_hat, axis=0)
    return xp.linalg.vector_norm(u - v, axis=0)


def richardson(early: Any, middle: Any, late: Any) -> Any:
    r""":math:`w_R = w(t/16) - 4w(t/8) + 4w(t/4)`: :math:`\hat w\log t + \tilde w` on the asymptotic form, with its
    :math:`B/t` and :math:`A\log t/t` transients cancelled (see the module's docstring)."""
    return early - 4.0 * middle + 4.0 * late


def limit_error(log_t: float, a: np.ndarray, c: np.ndarray) -> np.ndarray:
    r""":math:`e_\infty(\log t) = 2\sin(\varphi/2)`, :math:`\tan\varphi = C/(\log t + a)`: the direction error of
    :math:`\hat w\log t + \tilde w` itself, per dataset (host arrays; the half-angle form has no cancellation)."""
    return 2.0 * np.sin(np.arctan2(c, log_t + a) / 2.0)


def rate_batch(xp: Any, rng: Any, count: int, n: int, d: int, t: int) -> tuple[Any, np.ndarray, np.ndarray]:
    r""":math:`R = 1 + \log t\,(e(w_R) - e_\infty(\log t))/C` of ``count`` fresh datasets (``(count,)``, float64),
    from ``t/4`` steps each, with their offsets a and constants C (host arrays)."""
    data = planted(rng, xp, count, n, d)
    w_hat, alpha = max_margin(data["z"])
    _, a, c = rate_constants(data["z"], w_hat, alpha, data["eta"])
    on = on_device(rng)
    z = xp.asarray(np.ascontiguousarray(np.transpose(data["z"], (1, 2, 0))), **on)
    _, (early, middle, late) = descend(xp, z, xp.asarray(data["eta"], **on), t // 4, (t // 16, t // 8, t // 4))
    error = direction_error(xp, richardson(early, middle, late), xp.asarray(np.ascontiguousarray(w_hat.T), **on))
    log_t = math.log(t)
    return 1.0 + (error - xp.asarray(limit_error(log_t, a, c), **on)) * xp.asarray(log_t / c, **on), a, c


def rate_experiment(xp: Any, rng: Any, budget: int, *, n: int, d: int, t: int) -> Estimate:
    r"""The experiment of ``implicit.max-margin`` at ``t`` steps: the mean of
    :math:`R = 1 + \log t\,(e(w_R) - e_\infty(\log t))/C` over ``budget`` independent datasets (each its own
    gradient descent of :math:`t/4` steps): 1 on the asymptotic form :math:`\hat w\log t + \tilde w`, whatever the
    offset a, so what the points carry beyond 1 is the iterates' own departure from it. An event counts the
    datasets still 1% or more from the asymptotic form."""
    budget = _integer("budget", budget, 2)
    n, d = check_sizes(n, d)
    t = _time(t)
    acc = Accumulator(backend=backend_name(xp), dtype="float64")
    done, far = 0, 0
    while done < budget:
        b = min(_CHUNK, budget - done)
        r, _, _ = rate_batch(xp, rng, b, n, d, t)
        acc.add(r)
        far += int(np.sum(np.abs(to_host(r) - 1.0) >= 0.01))
        done += b
    acc.count(r"datasets whose $R$ is off $1$ by $1\%$ or more (not yet on the asymptotic form)", far)
    return acc.estimate()


def family_constants(n: int, d: int, count: int = 1000, seed: int = 0) -> dict[str, float]:
    """The derived constants C and offsets a of ``count`` datasets of the family (NumPy, a fixed seed): mean,
    5th and 95th percentiles, for the verdict's remarks (they describe the family, not one run)."""
    data = planted(np.random.default_rng(seed), np, count, n, d)
    w_hat, alpha = max_margin(data["z"])
    _, a, c = rate_constants(data["z"], w_hat, alpha, data["eta"])
    q = lambda x: (float(np.mean(x)), *map(float, np.percentile(x, [5, 95])))  # noqa: E731
    return dict(zip(("C", "C5", "C95", "a", "a5", "a95"), (*q(c), *q(a)), strict=True))


def trajectories(xp: Any, rng: Any, count: int, n: int, d: int, steps: tuple[int, ...]) -> dict[str, np.ndarray]:
    r"""For the figure: ``count`` datasets' iterates ``(len(steps), d, count)`` at the step counts ``steps``, their
    direction errors :math:`e(t)` ``(len(steps), count)``, and each dataset's :math:`\hat w` ``(count, d)``,
    derived :math:`C` and offset :math:`a` (host arrays)."""
    data = planted(rng, xp, count, n, d)
    w_hat, alpha = max_margin(data["z"])
    _, a, c = rate_constants(data["z"], w_hat, alpha, data["eta"])
    on = on_device(rng)
    z = xp.asarray(np.ascontiguousarray(np.transpose(data["z"], (1, 2, 0))), **on)
    _, kept = descend(xp, z, xp.asarray(data["eta"], **on), max(steps), tuple(steps))
    v = xp.asarray(np.ascontiguousarray(w_hat.T), **on)
    errors = np.stack([to_host(direction_error(xp, w, v)) for w in kept])
    iterates = np.stack([to_host(w) for w in kept])
    return {"steps": np.asarray(steps, dtype=float), "error": errors, "iterates": iterates, "w_hat": w_hat,
            "constant": c, "offset": a}
