r"""The Gaussian information bottleneck, measured: Chechik et al.'s self-consistent iteration, batched.

A problem instance is X = BU, Y = CV with ``dimension`` canonical pairs :math:`(U_i, V_i)` of correlations
:math:`\rho_i = \rho^i` and random bases B, C (a random rotation times scales :math:`2^{\mathcal{U}(-1, 1)}` on its
columns, so :math:`\operatorname{cond} B \le 4`). The kernels see only the covariances
:math:`\Sigma_x, \Sigma_y, \Sigma_{xy}`, from which :math:`\Sigma_{x|y} = \Sigma_x - \Sigma_{xy}\Sigma_y^{-1}\Sigma_{yx}` is
computed; B is used to read the encoder in canonical coordinates.

The iteration (Chechik, Globerson, Tishby and Weiss 2005, their iterative GIB algorithm), for encoders
:math:`T = AX + \xi`:

.. math:: \Sigma_\xi' = (\beta\Sigma_{t|y}^{-1} - (\beta - 1)\Sigma_t^{-1})^{-1}, \qquad
          A' = \beta\,\Sigma_\xi'\Sigma_{t|y}^{-1} A (I - \Sigma_{x|y}\Sigma_x^{-1}),

:math:`\Sigma_t = A\Sigma_x A^\top + \Sigma_\xi`, :math:`\Sigma_{t|y} = A\Sigma_{x|y}A^\top + \Sigma_\xi`, from a random
start (A standard normal, :math:`\Sigma_\xi = I`). The encoder is read through its canonical signal-to-noise
matrix :math:`S = (AB)^\top\Sigma_\xi^{-1}(AB)`: a projection onto the left eigenvectors of
:math:`\Sigma_{x|y}\Sigma_x^{-1}` (the rows of :math:`B^{-1}`) makes S diagonal, with component i's
signal-to-noise ratio :math:`u_i = S_{ii}`; :math:`I(T;X) = \tfrac12\ln\det(I + S)` in nats.
"""

from __future__ import annotations

import math
from typing import Any

from .namespaces import on_device as _on

__all__ = ["correlations", "problems", "ib_step", "iterate", "canonical_snr", "information", "ladder_run",
           "calibrate", "pmi_samples"]

EPS = 2.0**-52
STEPS = 160  # iterations at each beta of a ladder (from a random start)
MAX_STEPS = 4000  # iterations at most while calibrating one beta


def correlations(rho: float, dimension: int) -> list[float]:
    """The model's canonical correlations rho_i = rho^i, i = 1..dimension."""
    return [rho**i for i in range(1, dimension + 1)]


def _t(xp: Any, m: Any) -> Any:
    return xp.matrix_transpose(m)


def problems(xp: Any, rng: Any, b: int, *, rho: float, dimension: int) -> dict[str, Any]:
    """``b`` independent instances: the covariances (b, d, d) and the bases B, C."""
    d = dimension

    def basis() -> Any:
        q, _ = xp.linalg.qr(rng.standard_normal((b, d, d), dtype=xp.float64))
        return q * 2.0 ** (2.0 * rng.random((b, 1, d), dtype=xp.float64) - 1.0)

    B, C = basis(), basis()
    r = xp.asarray(correlations(rho, d), dtype=xp.float64, **_on(rng))
    sx, sy, sxy = B @ _t(xp, B), C @ _t(xp, C), (B * r) @ _t(xp, C)
    sxgy = sx - sxy @ xp.linalg.solve(sy, _t(xp, sxy))
    sxgy = (sxgy + _t(xp, sxgy)) / 2
    eye = xp.eye(d, dtype=xp.float64, **_on(rng))
    return {"B": B, "C": C, "sx": sx, "sy": sy, "sxy": sxy, "sxgy": sxgy,
            "M": eye - sxgy @ xp.linalg.inv(sx), "r": r, "eye": eye}


def _inv(xp: Any, m: Any) -> Any:
    """Inverses of a stack of d x d matrices, d <= 3 by the adjugate (elementwise, so a stack of thousands of tiny
    matrices costs a few array operations on every backend; batched LAPACK calls cost one call per matrix on
    some), larger d by ``linalg.inv``."""
    d = m.shape[-1]
    if d == 1:
        return 1.0 / m
    if d > 3:
        return xp.linalg.inv(m)
    e = [[m[..., i, j] for j in range(d)] for i in range(d)]
    if d == 2:
        adj = [[e[1][1], -e[0][1]], [-e[1][0], e[0][0]]]
    else:
        def cof(i: int, j: int) -> Any:
            (r0, r1), (c0, c1) = [x for x in range(3) if x != i], [x for x in range(3) if x != j]
            return e[r0][c0] * e[r1][c1] - e[r0][c1] * e[r1][c0]

        adj = [[(-1.0) ** (i + j) * cof(j, i) for j in range(3)] for i in range(3)]
    det = sum(e[0][j] * adj[j][0] for j in range(d))
    return xp.stack([xp.stack(row, axis=-1) for row in adj], axis=-2) / det[..., None, None]


def ib_step(xp: Any, A: Any, sxi: Any, p: dict[str, Any], beta: Any) -> tuple[Any, Any]:
    """One step of the iteration; ``beta`` broadcasts against the batch (shape (..., 1, 1))."""
    st = A @ p["sx"] @ _t(xp, A) + sxi
    sty = A @ p["sxgy"] @ _t(xp, A) + sxi
    sty_inv = _inv(xp, sty)
    new = _inv(xp, beta * sty_inv - (beta - 1.0) * _inv(xp, st))
    new = (new + _t(xp, new)) / 2
    return beta * new @ sty_inv @ A @ p["M"], new


def canonical_snr(xp: Any, A: Any, sxi: Any, p: dict[str, Any]) -> Any:
    """S = (AB)^T Sigma_xi^-1 (AB): diagonal for an encoder along the left eigenvectors."""
    ab = A @ p["B"]
    return _t(xp, ab) @ _inv(xp, sxi) @ ab


def _diag(xp: Any, s: Any) -> Any:
    return xp.linalg.diagonal(s)


def information(xp: Any, A: Any, sxi: Any, p: dict[str, Any]) -> tuple[Any, Any]:
    """I(T;X) and I(T;Y) of encoders (nats), from their covariances (log-determinants)."""
    st = A @ p["sx"] @ _t(xp, A) + sxi
    sty = A @ p["sxgy"] @ _t(xp, A) + sxi
    _, ld_t = xp.linalg.slogdet(st)
    _, ld_ty = xp.linalg.slogdet(sty)
    _, ld_xi = xp.linalg.slogdet(sxi)
    return (ld_t - ld_xi) / 2, (ld_t - ld_ty) / 2


def iterate(xp: Any, rng: Any, p: dict[str, Any], beta: Any, steps: int, start: tuple[Any, Any] | None = None):
    """``steps`` iterations from a random start (or ``start``); returns A, Sigma_xi and the canonical SNRs of
    the last three iterates (3, ..., d), for the convergence bound."""
    shape = (*beta.shape[:-2], p["B"].shape[-1], p["B"].shape[-1])
    if start is None:
        A = rng.standard_normal(shape, dtype=xp.float64)
        sxi = xp.zeros(shape, dtype=xp.float64, **_on(rng)) + p["eye"]
    else:
        A, sxi = start
    last = []
    for n in range(steps):
        A, sxi = ib_step(xp, A, sxi, p, beta)
        if n >= steps - 3:
            last.append(_diag(xp, canonical_snr(xp, A, sxi, p)))
    return A, sxi, xp.stack(last)


def remainder(xp: Any, last: Any, rounding: Any) -> Any:
    """A bound on the distance of the last iterate's SNRs from the fixed point: 0 where the last two changes are
    within the rounding bound (the iteration has settled), else :math:`c r/(1 - r)` for a linearly converging
    sequence, c the last change and r the ratio of the last two, and infinite where r >= 0.9 (not converged)."""
    c1, c0 = xp.abs(last[2, ...] - last[1, ...]), xp.abs(last[1, ...] - last[0, ...])
    r = xp.where(c0 > 0, c1 / xp.where(c0 > 0, c0, 1.0), 0.0)
    bound = xp.where(r < 0.9, c1 * r / (1.0 - xp.where(r < 0.9, r, 0.0)), math.inf)
    return xp.where((c1 <= rounding) & (c0 <= rounding), 0.0, bound)


def ladder_run(xp: Any, rng: Any, p: dict[str, Any], betas: list[float], steps: int = STEPS) -> dict[str, Any]:
    """The iteration from a random start at each beta of ``betas`` for every instance: the canonical SNRs
    (b, J, d), a bound on their error (rounding, and the convergence remainder), and the largest off-diagonal entry of S relative to
    its diagonal (b, J)."""
    view = {k: (v[:, None, ...] if k not in ("r", "eye") else v) for k, v in p.items()}
    beta = xp.asarray(betas, dtype=xp.float64, **_on(rng))[None, :, None, None]
    A, sxi, last = iterate(xp, rng, view, beta, steps)
    s = canonical_snr(xp, A, sxi, view)
    u = _diag(xp, s)
    scale = xp.sqrt(xp.abs(u[..., :, None] * u[..., None, :])) + 1e-300
    big = (u[..., :, None] > 1e-3) & (u[..., None, :] > 1e-3)
    off = xp.abs(s - s * p["eye"]) / scale
    skew = xp.max(xp.reshape(xp.where(big, off, 0.0), (*off.shape[:-2], -1)), axis=-1)
    ev = xp.linalg.eigvalsh(sxi)
    cond = 16.0 * ev[..., -1:] / ev[..., :1]  # cond(Sigma_x) <= 16 times cond(Sigma_xi)
    # the update beta Sigma_t|y^-1 - (beta - 1) Sigma_t^-1 cancels terms of size beta: a relative error beta u
    rounding = 64.0 * u.shape[-1] * EPS * cond * (1.0 + u) * beta[..., 0]
    return {"u": u, "error": rounding + remainder(xp, last, rounding), "skew": skew}


def eigen_error(xp: Any, p: dict[str, Any]) -> Any:
    r"""A bound on the absolute rounding error of the eigenvalues :math:`1 - \lambda_i = \rho_i^2` of
    :math:`I - \Sigma_{x|y}\Sigma_x^{-1}` as the kernels compute it, per instance: :math:`8 d\,u` times the condition
    numbers of :math:`\Sigma_x` and :math:`\Sigma_y` (the products and the solve) and of the eigenvector matrix B
    (Bauer-Fike), u the unit roundoff."""
    kx, ky = (xp.linalg.eigvalsh(p[name]) for name in ("sx", "sy"))
    cx, cy = kx[..., -1] / kx[..., 0], ky[..., -1] / ky[..., 0]
    return 8.0 * p["B"].shape[-1] * EPS * cx * cy * xp.sqrt(cx)


def calibrate(xp: Any, rng: Any, p: dict[str, Any], info_x: float) -> tuple[float, Any, Any, int]:
    """The beta at which the iteration's fixed point (one instance) has I(T;X) = ``info_x``: SciPy's brentq on
    the converged I(T;X), each evaluation warm-started from the previous fixed point. Returns (beta, A,
    Sigma_xi, iterations spent)."""
    from scipy.optimize import brentq

    one = {k: (v[:1, ...] if k not in ("r", "eye") else v) for k, v in p.items()}
    state: dict[str, Any] = {"start": None, "spent": 0}

    def converged(beta: float) -> float:
        b = xp.asarray([[[beta]]], dtype=xp.float64, **_on(rng))
        start = state["start"]
        if start is None:
            A, sxi, _ = iterate(xp, rng, one, b, 1)
        else:
            A, sxi = start
        previous = math.inf
        for n in range(MAX_STEPS // 20):
            A, sxi, _ = iterate(xp, rng, one, b, 20, (A, sxi))
            value = float(information(xp, A, sxi, one)[0][0])
            state["spent"] += 20
            if abs(value - previous) <= 1e-13 * max(1.0, value) and n > 0:
                break
            previous = value
        state["start"] = (A + 1e-3 * rng.standard_normal(A.shape, dtype=xp.float64), sxi)  # a kick: never collapsed
        state["last"] = (A, sxi)
        return value - info_x

    hi = 2.0
    while converged(hi) <= 0:
        hi *= 2.0
        if hi > 1e15:
            raise ValueError(f"info_x={info_x} is beyond I(T;X) at beta = 1e15")
    beta = brentq(converged, hi / 2, hi, xtol=1e-12, rtol=1e-12, maxiter=200)
    converged(beta)
    A, sxi = state["last"]
    return beta, A, sxi, state["spent"]


def _apply(xp: Any, rows: Any, m: Any) -> Any:
    """``rows @ m.T`` for a small matrix m, by broadcasting (a BLAS call on an (n, d) by (d, d) product can stall
    on a busy machine's threads, and gains nothing at d <= 3)."""
    out = rows[:, :1] * m[:, 0][None, :]
    for j in range(1, m.shape[-1]):
        out = out + rows[:, j:j + 1] * m[:, j][None, :]
    return out


def pmi_samples(xp: Any, rng: Any, p: dict[str, Any], A: Any, sxi: Any, n: int) -> Any:
    r"""``n`` draws of (T, Y) through the encoder (instance 0 of ``p``): X = BU, Y = CV with canonical pairs of
    correlations :math:`\rho_i`, T = AX + xi; each draw's pointwise information
    :math:`\ln p(t \mid y) - \ln p(t)` in nats (its mean is I(T;Y))."""
    one = {k: (v[0, ...] if k not in ("r", "eye") else v) for k, v in p.items()}
    A, sxi = A[0, ...], sxi[0, ...]
    d = one["B"].shape[-1]
    r = one["r"]
    z = rng.standard_normal((3, n, d), dtype=xp.float64)
    u_, v_ = z[0, ...], r * z[0, ...] + xp.sqrt(1.0 - r * r) * z[1, ...]
    x, y = _apply(xp, u_, one["B"]), _apply(xp, v_, one["C"])
    t = _apply(xp, x, A) + _apply(xp, z[2, ...], xp.linalg.cholesky(sxi))
    st = A @ one["sx"] @ _t(xp, A) + sxi
    sty = A @ one["sxgy"] @ _t(xp, A) + sxi
    gain = A @ one["sxy"] @ xp.linalg.inv(one["sy"])  # E[T | Y = y] = gain y
    wt, wty = xp.linalg.inv(xp.linalg.cholesky(st)), xp.linalg.inv(xp.linalg.cholesky(sty))
    a = _apply(xp, t - _apply(xp, y, gain), wty)
    c = _apply(xp, t, wt)
    _, ld_t = xp.linalg.slogdet(st)
    _, ld_ty = xp.linalg.slogdet(sty)
    return (xp.sum(c * c, axis=1) - xp.sum(a * a, axis=1) + ld_t - ld_ty) / 2
