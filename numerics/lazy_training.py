r"""Lazy training of wide networks: the kernels behind ``ntk.lazy-training``.

**The network and the task.** One hidden ReLU layer in the NTK parameterisation (as in ``ntk.relu``),

.. math::

    f(x) = \sqrt{2/N}\sum_{i=1}^N v_i\,\mathrm{relu}(w_i\cdot x/\sqrt d),

both layers trained by full-batch gradient descent on :math:`\tfrac12\lVert f(X) - y\rVert^2` for ``STEPS``
steps with the learning rate :math:`\eta = 1/\lambda_{\max}(\Theta(X, X))`, :math:`\Theta` the infinite-width
NTK (stable at every width: the empirical kernel's top eigenvalue is within :math:`O(N^{-1/2})` of
:math:`\lambda_{\max}`, far below :math:`2/\eta`). The task is fixed and deterministic (:func:`task`):
``n = 8`` inputs of norm :math:`\sqrt d` in :math:`\mathbb R^4`, :math:`x_a = \sqrt2\,(\cos\varphi_a, \sin\varphi_a,
\cos2\varphi_a, \sin2\varphi_a)` at :math:`\varphi_a = 2\pi a/n`, targets
:math:`y_a = \sin\varphi_a + \tfrac12\cos3\varphi_a` (a smooth function of :math:`x`, :math:`O(1)`).

*Doubling initialisation* (Chizat, Oyallon and Bach 2019): :math:`N/2` units :math:`(w_i, v_i)` iid
:math:`N(0, 1)` are duplicated with the readout negated, :math:`w_{i + N/2} = w_i`, :math:`v_{i + N/2} = -v_i`, so
:math:`f_0 = 0` (up to the rounding of the sum over units) while the empirical NTK keeps its law up to the pairing. The initial residual is then
the deterministic :math:`-y` and every per-network statistic concentrates (spread :math:`O(N^{-1/2})`).

**The quantities** (``QUANTITIES``) of one trained network, each :math:`\Theta(N^{-1/2})`:

- ``weights``: :math:`\lVert\theta_T - \theta_0\rVert / \lVert\theta_0\rVert` (all parameters of both layers);
- ``function``: :math:`\lVert f_T(X) - f^{\mathrm{lin}}_T(X)\rVert / \lVert y\rVert`, :math:`f^{\mathrm{lin}}` the
  linearised network, i.e. kernel gradient descent with the network's own initial empirical NTK Gram matrix
  :math:`\hat\Theta_0`: its residual is exactly :math:`(I - \eta\hat\Theta_0)^T r_0`;
- ``kernel``: :math:`\lVert\hat\Theta_T - \hat\Theta_0\rVert_F / \lVert\hat\Theta_0\rVert_F`.

*The trap*: for the ReLU network the leading :math:`N^{-1/2}` of the function gap and of the kernel's motion
come from units whose preactivation crosses the kink (about :math:`\sqrt N` of them move by
:math:`O(N^{-1/2})`); the smooth part of the Hessian contributes only :math:`O(1/N)`, and with the doubling
initialisation its first order cancels pair by pair. The approach to :math:`N^{-1/2}` is therefore slow.

**The statistic of one replicate** is the local exponent :math:`s = \log_2(y(2N)/y(N))` from a network of
width :math:`N` and one of width :math:`2N` that share their random draws: the :math:`N/2` base units of the
narrow network are the first :math:`N/2` of the :math:`N` base units of the wide one (coupling lowers the
variance of the difference and leaves its mean, :math:`E\log y(2N) - E\log y(N)`, unchanged: only the marginal
laws enter). Replicates (independent pairs of networks) are stacked along the first axis, one batched matmul
per layer; nothing here but :func:`task` touches NumPy, and it only builds host constants.
"""

from __future__ import annotations

import math
from typing import Any

from .checks import integer as _integer
from .estimate import Accumulator, Estimate
from .namespaces import backend_name

__all__ = [
    "DIMENSION",
    "INPUTS",
    "QUANTITIES",
    "STEPS",
    "doubled",
    "gram",
    "initial",
    "lazy_batch",
    "lazy_experiment",
    "learning_rate",
    "limit_gram",
    "linearised_residual",
    "measure",
    "scaling",
    "task",
    "train",
]

QUANTITIES = ("weights", "function", "kernel")
STEPS = 16  # gradient-descent steps
INPUTS = 8  # n, training inputs
DIMENSION = 4  # d, input dimension
_FLOATS = 1 << 21  # float64 entries of one (B, 2N, n) batch



def _width(value: Any) -> int:
    N = _integer("N", value, 2)
    if N % 2:
        raise ValueError(f"N={N} is outside the domain: even integer >= 2 (the doubling initialisation pairs units)")
    return N


def _quantity(value: Any) -> str:
    if not isinstance(value, str) or value not in QUANTITIES:
        raise ValueError(f"quantity={value!r} is not one of {', '.join(QUANTITIES)}")
    return value


def task(n: int = INPUTS, d: int = DIMENSION) -> tuple[list[list[float]], list[float]]:
    r"""The fixed regression task: inputs ``(n, d)`` of norm :math:`\sqrt d` and targets ``(n,)``, as lists.

    :math:`x_a = \sqrt{d/2}\,(\cos\varphi_a, \sin\varphi_a, \cos2\varphi_a, \sin2\varphi_a, 0, \dots)`,
    :math:`\varphi_a = 2\pi a/n`, :math:`y_a = \sin\varphi_a + \tfrac12\cos3\varphi_a` (needs ``d >= 4``).

    >>> X, y = task()
    >>> len(X), len(X[0]), round(sum(t * t for t in X[3]), 12), round(y[2], 12)
    (8, 4, 4.0, 1.0)
    """
    n, d = _integer("n", n), _integer("d", d, 4)
    X, y = [], []
    for a in range(n):
        p = 2 * math.pi * a / n
        row = [math.cos(p), math.sin(p), math.cos(2 * p), math.sin(2 * p)] + [0.0] * (d - 4)
        X.append([math.sqrt(d / 2) * t for t in row])
        y.append(math.sin(p) + 0.5 * math.cos(3 * p))
    return X, y


def limit_gram(X: list[list[float]]) -> list[list[float]]:
    r"""The infinite-width NTK Gram matrix :math:`\Theta(x_a, x_b) = (\sin\theta + 2(\pi - \theta)\cos\theta)/\pi`
    for inputs of norm :math:`\sqrt d` at angle :math:`\theta` (``ntk.relu``, all layers trained)."""
    d = len(X[0])
    out = []
    for a in X:
        row = []
        for b in X:
            c = max(-1.0, min(1.0, sum(p * q for p, q in zip(a, b, strict=True)) / d))
            t = math.acos(c)
            row.append((math.sin(t) + 2 * (math.pi - t) * c) / math.pi)
        out.append(row)
    return out


def learning_rate(X: list[list[float]]) -> float:
    r""":math:`1/\lambda_{\max}` of the infinite-width NTK Gram matrix of ``X`` (power iteration in plain floats).

    >>> round(learning_rate(task()[0]), 6)
    0.268866
    """
    G = limit_gram(X)
    u = [1.0 + 0.1 * k for k in range(len(G))]
    lam = 0.0
    for _ in range(500):
        w = [sum(g * t for g, t in zip(row, u, strict=True)) for row in G]
        lam = math.sqrt(sum(t * t for t in w))
        u = [t / lam for t in w]
    return 1.0 / lam


def initial(xp: Any, rng: Any, b: int, N: int, d: int = DIMENSION) -> tuple[Any, Any]:
    """``b`` doubled initialisations of width ``N``: hidden weights ``(b, N, d)``, readout ``(b, N)``."""
    w = rng.standard_normal((b, N // 2, d))
    v = rng.standard_normal((b, N // 2))
    return doubled(xp, w, v)


def doubled(xp: Any, w: Any, v: Any) -> tuple[Any, Any]:
    """Base units ``(b, M, d)``, ``(b, M)`` duplicated with the readout negated: width ``2M``, output 0."""
    return xp.concat([w, w], axis=1), xp.concat([v, -v], axis=1)


def _forward(xp: Any, X: Any, w: Any, v: Any) -> tuple[Any, Any, Any]:
    """Activations ``(b, N, n)``, their derivatives relu'(h) (0/1, float), outputs ``(b, n)``."""
    N, d = w.shape[1], w.shape[2]
    h = xp.matmul(w, xp.matrix_transpose(X)) * (1.0 / math.sqrt(d))
    on = xp.astype(h > 0, h.dtype)
    a = h * on
    f = xp.matmul(v[:, None, :], a)[:, 0, :] * math.sqrt(2.0 / N)
    return a, on, f


def train(xp: Any, X: Any, y: Any, w: Any, v: Any, lr: float, steps: int) -> tuple[Any, Any, Any]:
    r"""``steps`` steps of full-batch gradient descent on :math:`\tfrac12\lVert f(X) - y\rVert^2` for a batch of
    networks (``w`` ``(b, N, d)``, ``v`` ``(b, N)``, ``X`` ``(n, d)``, ``y`` ``(n,)``); returns the trained
    ``w``, ``v`` and the final outputs ``(b, n)``. Per step: the forward pass (one batched matmul), then

    .. math::

        \partial_{v_i} = \sqrt{2/N}\sum_a \mathrm{relu}(h_{ia}) r_a, \qquad
        \partial_{w_i} = \sqrt{2/N}\, v_i \sum_a \mathrm{relu}'(h_{ia}) r_a\, x_a/\sqrt d,

    with :math:`r = f(X) - y` (one batched matmul each)."""
    N, d = w.shape[1], w.shape[2]
    c = math.sqrt(2.0 / N)
    s = 1.0 / math.sqrt(d)
    a, on, f = _forward(xp, X, w, v)
    for _ in range(steps):
        r = f - y  # (b, n)
        gv = xp.matmul(a, r[:, :, None])[:, :, 0] * c  # (b, N)
        gw = xp.matmul(on * r[:, None, :], X) * (v * (c * s))[:, :, None]  # (b, N, d)
        w = w - lr * gw
        v = v - lr * gv
        a, on, f = _forward(xp, X, w, v)
    return w, v, f


def gram(xp: Any, X: Any, w: Any, v: Any) -> Any:
    r"""The empirical NTK Gram matrices ``(b, n, n)``: :math:`(2/N)[\Phi^\top\Phi + (D^\top D)\odot XX^\top/d]`
    with :math:`\Phi = \mathrm{relu}(h)` and :math:`D = 1[h > 0]\,v` (``(b, N, n)`` each)."""
    N, d = w.shape[1], w.shape[2]
    h = xp.matmul(w, xp.matrix_transpose(X)) * (1.0 / math.sqrt(d))
    a = xp.maximum(h, 0.0)
    dv = xp.astype(h > 0, h.dtype) * v[:, :, None]
    xx = xp.matmul(X, xp.matrix_transpose(X)) * (1.0 / d)
    at, dt = xp.permute_dims(a, (0, 2, 1)), xp.permute_dims(dv, (0, 2, 1))
    return (xp.matmul(at, a) + xp.matmul(dt, dv) * xx) * (2.0 / N)


def linearised_residual(xp: Any, theta: Any, r0: Any, lr: float, steps: int) -> Any:
    r"""The residual of gradient descent on the linearised network, :math:`(I - \eta\hat\Theta_0)^T r_0`, for
    Gram matrices ``theta`` ``(b, n, n)`` and initial residuals ``r0`` ``(b, n)``."""
    r = r0[:, :, None]
    for _ in range(steps):
        r = r - lr * xp.matmul(theta, r)
    return r[:, :, 0]


def _norm(xp: Any, x: Any) -> Any:
    """Euclidean norm over all axes but the first (``(b,)``)."""
    return xp.linalg.vector_norm(xp.reshape(x, (x.shape[0], -1)), axis=1)


def measure(xp: Any, X: Any, y: Any, w0: Any, v0: Any, lr: float, steps: int, quantity: str) -> Any:
    """The chosen quantity (``(b,)``) for a batch of networks trained from ``w0``, ``v0``."""
    w, v, f = train(xp, X, y, w0, v0, lr, steps)
    if quantity == "weights":
        moved = xp.sqrt(_norm(xp, w - w0) ** 2 + _norm(xp, v - v0) ** 2)
        return moved / xp.sqrt(_norm(xp, w0) ** 2 + _norm(xp, v0) ** 2)
    theta0 = gram(xp, X, w0, v0)
    if quantity == "kernel":
        return _norm(xp, gram(xp, X, w, v) - theta0) / _norm(xp, theta0)
    _, _, f0 = _forward(xp, X, w0, v0)
    lin = linearised_residual(xp, theta0, f0 - y, lr, steps)  # f_lin - y
    return _norm(xp, (f - y) - lin) / xp.linalg.vector_norm(y)


def lazy_batch(xp: Any, rng: Any, b: int, *, quantity: str, N: int, steps: int = STEPS) -> Any:
    r"""Local exponents :math:`\log_2(y(2N)/y(N))` of ``b`` independent replicates (``(b,)``, float64); the
    width-:math:`N` network's base units are the first :math:`N/2` of the width-:math:`2N` network's."""
    Xl, yl = task()
    X, y = xp.asarray(Xl, dtype=xp.float64), xp.asarray(yl, dtype=xp.float64)
    lr = learning_rate(Xl)
    wb = rng.standard_normal((b, N, DIMENSION))
    vb = rng.standard_normal((b, N))
    w2, v2 = doubled(xp, wb, vb)
    w1, v1 = doubled(xp, wb[:, : N // 2, :], vb[:, : N // 2])
    y1 = measure(xp, X, y, w1, v1, lr, steps, quantity)
    y2 = measure(xp, X, y, w2, v2, lr, steps, quantity)
    return (xp.log(y2) - xp.log(y1)) * (1.0 / math.log(2.0))


def lazy_experiment(xp: Any, rng: Any, budget: int, *, quantity: str, N: int) -> Estimate:
    r"""The experiment of ``ntk.lazy-training`` at width ``N``: the mean local exponent over ``budget`` independent
    replicates (each a width-:math:`N` and a width-:math:`2N` network trained on the same task)."""
    budget, N, quantity = _integer("budget", budget, 2), _width(N), _quantity(quantity)
    per = max(1, _FLOATS // (2 * N * INPUTS))
    draw = lambda b: lazy_batch(xp, rng, b, quantity=quantity, N=N)  # noqa: E731
    return Accumulator(backend=backend_name(xp), dtype="float64").fill(budget, per, draw).estimate()


def _fit_line(xs: list[float], ys: list[float], ses: list[float]) -> tuple[float, float, float]:
    """Weighted least squares ``y = a + b x`` (weights ``1/se^2``): ``(a, b, se of b)``."""
    ws = [1.0 / (e * e) for e in ses]
    sw = sum(ws)
    mx = sum(w * x for w, x in zip(ws, xs, strict=True)) / sw
    my = sum(w * y for w, y in zip(ws, ys, strict=True)) / sw
    sxx = sum(w * (x - mx) ** 2 for w, x in zip(ws, xs, strict=True))
    b = sum(w * (x - mx) * (y - my) for w, x, y in zip(ws, xs, ys, strict=True)) / sxx
    return my - b * mx, b, math.sqrt(1.0 / sxx)


def scaling(xp: Any, rng: Any, widths, networks: int, *, quantity: str, steps: int = STEPS) -> dict:
    r"""The mean of one quantity (``weights``, ``function`` or ``kernel``) over ``networks`` independent trained
    networks at each width, with standard errors, and the fitted exponent of :math:`E\,y \propto N^{s}` (weighted
    least squares on the logarithms, :math:`\mathrm{se}(\ln\bar y) = \mathrm{se}(\bar y)/\bar y`).

    >>> import numpy as np
    >>> r = scaling(np, np.random.default_rng(0), (64, 256, 1024), 64, quantity="weights")
    >>> abs(r["slope"] + 0.5) < 0.05
    True
    """
    quantity = _quantity(quantity)
    networks = _integer("networks", networks, 2)
    widths = [_width(w) for w in widths]
    Xl, yl = task()
    X, y = xp.asarray(Xl, dtype=xp.float64), xp.asarray(yl, dtype=xp.float64)
    lr = learning_rate(Xl)
    means, ses = [], []
    for N in widths:
        acc = Accumulator(backend=backend_name(xp), dtype="float64")
        per = max(1, _FLOATS // (N * INPUTS))
        done = 0
        while done < networks:
            b = min(per, networks - done)
            w0, v0 = initial(xp, rng, b, N)
            acc.add(measure(xp, X, y, w0, v0, lr, steps, quantity))
            done += b
        e = acc.estimate()
        means.append(e.mean)
        ses.append(e.stderr)
    logs = [math.log(m) for m in means]
    a, b, sb = _fit_line([math.log(w) for w in widths], logs, [s / m for s, m in zip(ses, means, strict=True)])
    return {"widths": widths, "mean": means, "stderr": ses, "slope": b, "slope_stderr": sb, "intercept": a}
