r"""Feature learning after one SGD step: the kernels behind ``mup.feature-learning``.

**The network and the task** are those of ``ntk.lazy-training`` (:mod:`numerics.lazy_training`: its
:func:`~numerics.lazy_training.task`, its learning rate and its doubling initialisation are reused), written in
Yang and Hu's *abc* form (arXiv:2011.14522): one hidden ReLU layer of width :math:`N` whose trained parameters
:math:`w_i \in \mathbb R^d` and :math:`u_i` carry multipliers :math:`N^{-a_1}` and :math:`N^{-a_2}`, are drawn with
standard deviations :math:`N^{-b_1}` and :math:`N^{-b_2}` and are trained with the learning rate
:math:`\eta N^{-c}`,

.. math::

    h_i(x) = N^{-a_1}\, w_i\cdot x/\sqrt d, \qquad
    f(x) = \sqrt2\, N^{-a_2} \sum_{i=1}^N u_i\,\mathrm{relu}(h_i(x)).

``EXPONENTS`` holds :math:`(a_1, b_1, a_2, b_2, c)`: the NTK parameterisation ``(0, 0, 1/2, 0, 0)`` (exactly the
network of ``ntk.lazy-training``) and the maximal-update parameterisation :math:`\mu`\ P
``(-1/2, 1/2, 1/2, 1/2, 0)``. In both :math:`a_1 + b_1 = 0`, so :math:`h_i` has the same law at every width.
Both layers take one step of gradient descent on :math:`\tfrac12\lVert f(X) - y\rVert^2` over the task's
``n = 8`` inputs (one SGD step whose minibatch is the whole task), with :math:`\eta = 1/\lambda_{\max}` of the
infinite-width NTK Gram matrix for both parameterisations (any fixed :math:`\eta` gives the same exponents).

**The quantity** of one network is the root-mean-square move of its hidden pre-activations on the task's inputs,

.. math::

    y(N) = \Big(\frac{1}{Nn}\sum_{i, a} \big(h_i^{(1)}(x_a) - h_i^{(0)}(x_a)\big)^2\Big)^{1/2},

computed from two forward passes (before and after the step), not from the closed form of the update. It is
:math:`\Theta(N^{-(c + 2a_1 + a_2 + b_2)})`: :math:`N^{-1/2}` in NTK, :math:`1` in :math:`\mu`\ P
(:mod:`proofs.feature_learning`).

**The statistic of one replicate** is the local exponent :math:`\log_2(y(2N)/y(N))` of a coupled pair, exactly as
in ``ntk.lazy-training``: a network of width :math:`N` and one of width :math:`2N`, both doubled (:math:`N/2`, resp.
:math:`N`, base units, each copied with its readout negated so :math:`f_0 = 0`), the narrow network's base units
the first of the wide one's. The standard normals are shared; each width scales them by its own
:math:`N^{-b}`. With :math:`f_0 = 0` the loss derivative is :math:`-y` exactly, so :math:`y(N)^2` is
:math:`N^{2e}` times a mean over iid base units: the local exponent is :math:`e` plus the log-ratio of two such
means, whose mean is :math:`O(1/N)`.

With the same draws the two parameterisations' replicates differ by exactly :math:`1/2`: from the doubled start the
hidden weights' update is the same and :math:`\mu`\ P's multiplier :math:`N^{1/2}` reads it (a one-step fact; the
verifier runs each parameterisation on its own draws all the same).

*The trap*: in NTK without the doubling, :math:`f_0` is an :math:`O(1)` Gaussian that differs between the two
networks of a pair; its effect on :math:`E\log_2` still vanishes as :math:`N \to \infty`, but the replicates'
spread would not shrink with :math:`N`. In :math:`\mu`\ P, :math:`f_0 = O(N^{-1/2})` anyway.
"""

from __future__ import annotations

import math
from typing import Any

from .checks import integer as _integer
from .estimate import Accumulator, Estimate
from .lazy_training import DIMENSION, INPUTS, _fit_line, doubled, learning_rate, task
from .namespaces import backend_name

__all__ = [
    "EXPONENTS",
    "GAIN",
    "PARAMETERIZATIONS",
    "feature_batch",
    "feature_experiment",
    "forward",
    "one_step",
    "preactivation_move",
    "scaling",
]

PARAMETERIZATIONS = ("ntk", "mup")
# (a_1, b_1, a_2, b_2, c): multipliers N^-a, initial standard deviations N^-b, learning rate eta N^-c (Yang and Hu
# 2021, abc-parametrizations with L = 1); proofs.feature_learning.TABLE holds the same numbers as SymPy rationals
EXPONENTS = {"ntk": (0.0, 0.0, 0.5, 0.0, 0.0), "mup": (-0.5, 0.5, 0.5, 0.5, 0.0)}
GAIN = math.sqrt(2.0)  # the ReLU gain of ntk.lazy-training's readout, sqrt(2/N) = GAIN N^-1/2
_FLOATS = 1 << 21  # float64 entries of one (B, N, n) batch


def _parameterization(value: Any) -> str:
    if not isinstance(value, str) or value not in PARAMETERIZATIONS:
        raise ValueError(f"parameterization={value!r} is not one of {', '.join(PARAMETERIZATIONS)}")
    return value


def _width(value: Any) -> int:
    N = _integer("N", value, 2)
    if N % 2:
        raise ValueError(f"N={N} is outside the domain: even integer >= 2 (the doubling initialisation pairs units)")
    return N


def forward(xp: Any, X: Any, w: Any, u: Any, parameterization: str) -> tuple[Any, Any]:
    r"""Pre-activations :math:`h = N^{-a_1} w X^\top/\sqrt d` ``(b, N, n)`` and outputs
    :math:`f = \sqrt2 N^{-a_2} u^\top \mathrm{relu}(h)` ``(b, n)`` of a batch of networks (``w`` ``(b, N, d)``, ``u``
    ``(b, N)``, ``X`` ``(n, d)``)."""
    a1, _, a2, _, _ = EXPONENTS[_parameterization(parameterization)]
    N, d = w.shape[1], w.shape[2]
    h = xp.matmul(w, xp.matrix_transpose(X)) * (N ** (-a1) / math.sqrt(d))
    f = xp.matmul(u[:, None, :], xp.maximum(h, 0.0))[:, 0, :] * (GAIN * N ** (-a2))
    return h, f


def one_step(xp: Any, X: Any, y: Any, w: Any, u: Any, lr: float, parameterization: str) -> tuple[Any, Any]:
    r"""One step of gradient descent on :math:`\tfrac12\lVert f(X) - y\rVert^2` with learning rate
    :math:`\eta N^{-c}` on both layers' parameters; returns the new ``w``, ``u``. With :math:`r = f(X) - y`,

    .. math::

        \partial_{u_i} = \sqrt2 N^{-a_2} \sum_a \mathrm{relu}(h_{ia}) r_a, \qquad
        \partial_{w_i} = \sqrt2 N^{-a_2} u_i \sum_a \mathrm{relu}'(h_{ia}) r_a\, N^{-a_1} x_a/\sqrt d.
    """
    a1, _, a2, _, c = EXPONENTS[_parameterization(parameterization)]
    N, d = w.shape[1], w.shape[2]
    h, f = forward(xp, X, w, u, parameterization)
    r = f - y  # (b, n)
    scale = GAIN * N ** (-a2)
    gu = xp.matmul(xp.maximum(h, 0.0), r[:, :, None])[:, :, 0] * scale  # (b, N)
    on = xp.astype(h > 0, h.dtype)
    gw = xp.matmul(on * r[:, None, :], X) * (u * (scale * N ** (-a1) / math.sqrt(d)))[:, :, None]  # (b, N, d)
    step = lr * N ** (-c)
    return w - step * gw, u - step * gu


def preactivation_move(xp: Any, X: Any, y: Any, z: Any, zeta: Any, lr: float, parameterization: str) -> Any:
    r"""The root-mean-square move :math:`y(N)` ``(b,)`` of the pre-activations on ``X`` after one step, for networks
    whose hidden and readout parameters are the standard normals ``z`` ``(b, N, d)`` and ``zeta`` ``(b, N)`` scaled by
    :math:`N^{-b_1}` and :math:`N^{-b_2}`."""
    _, b1, _, b2, _ = EXPONENTS[_parameterization(parameterization)]
    N = z.shape[1]
    w, u = z * N ** (-b1), zeta * N ** (-b2)
    h0, _ = forward(xp, X, w, u, parameterization)
    w1, u1 = one_step(xp, X, y, w, u, lr, parameterization)
    h1, _ = forward(xp, X, w1, u1, parameterization)
    moved = xp.reshape(h1 - h0, (h0.shape[0], -1))
    return xp.linalg.vector_norm(moved, axis=1) * (1.0 / math.sqrt(N * X.shape[0]))


def _problem(xp: Any) -> tuple[Any, Any, float]:
    Xl, yl = task()
    return xp.asarray(Xl, dtype=xp.float64), xp.asarray(yl, dtype=xp.float64), learning_rate(Xl)


def feature_batch(xp: Any, rng: Any, b: int, *, parameterization: str, N: int) -> Any:
    r"""Local exponents :math:`\log_2(y(2N)/y(N))` of ``b`` independent replicates (``(b,)``, float64); the
    width-:math:`N` network's base units are the first :math:`N/2` of the width-:math:`2N` network's."""
    X, y, lr = _problem(xp)
    zb = rng.standard_normal((b, N, DIMENSION))
    ub = rng.standard_normal((b, N))
    z2, u2 = doubled(xp, zb, ub)
    z1, u1 = doubled(xp, zb[:, : N // 2, :], ub[:, : N // 2])
    y1 = preactivation_move(xp, X, y, z1, u1, lr, parameterization)
    y2 = preactivation_move(xp, X, y, z2, u2, lr, parameterization)
    return (xp.log(y2) - xp.log(y1)) * (1.0 / math.log(2.0))


def feature_experiment(xp: Any, rng: Any, budget: int, *, parameterization: str, N: int) -> Estimate:
    r"""The experiment of ``mup.feature-learning`` at width ``N``: the mean local exponent of the pre-activations'
    move over ``budget`` independent replicates (each a width-:math:`N` and a width-:math:`2N` network)."""
    budget, N = _integer("budget", budget, 2), _width(N)
    parameterization = _parameterization(parameterization)
    per = max(1, _FLOATS // (2 * N * INPUTS))
    draw = lambda k: feature_batch(xp, rng, k, parameterization=parameterization, N=N)  # noqa: E731
    return Accumulator(backend=backend_name(xp), dtype="float64").fill(budget, per, draw).estimate()


def scaling(xp: Any, rng: Any, widths, networks: int, *, parameterization: str) -> dict:
    r"""The mean of :math:`y(N)` over ``networks`` independent doubled networks at each width, with standard errors,
    and the fitted exponent of :math:`E\,y \propto N^{s}` (weighted least squares on the logarithms, as
    :func:`numerics.lazy_training.scaling`).

    >>> import numpy as np
    >>> r = scaling(np, np.random.default_rng(0), (64, 256, 1024), 64, parameterization="ntk")
    >>> abs(r["slope"] + 0.5) < 0.05
    True
    """
    parameterization = _parameterization(parameterization)
    networks = _integer("networks", networks, 2)
    widths = [_width(w) for w in widths]
    X, y, lr = _problem(xp)
    means, ses = [], []
    for N in widths:
        acc = Accumulator(backend=backend_name(xp), dtype="float64")
        per = max(1, _FLOATS // (N * INPUTS))
        done = 0
        while done < networks:
            k = min(per, networks - done)
            z, u = doubled(xp, rng.standard_normal((k, N // 2, DIMENSION)), rng.standard_normal((k, N // 2)))
            acc.add(preactivation_move(xp, X, y, z, u, lr, parameterization))
            done += k
        e = acc.estimate()
        means.append(e.mean)
        ses.append(e.stderr)
    a, s, sb = _fit_line([math.log(w) for w in widths], [math.log(m) for m in means],
                         [e / m for e, m in zip(ses, means, strict=True)])
    return {"widths": widths, "mean": means, "stderr": ses, "slope": s, "slope_stderr": sb, "intercept": a}
