r"""The information bottleneck: the experiments behind the ``ib.*`` claims.

- :func:`gaussian_experiment` (``ib.gaussian``): Chechik et al.'s iteration (:mod:`numerics.ib_gaussian`) on
  independent instances. ``critical``: each instance runs the iteration from random starts along a ladder
  :math:`\beta_j = 2^{j/2}`; on the branch where component i is on its signal-to-noise ratio is affine in
  :math:`\beta`, so the first two ladder points with :math:`u_i \ge 1` extrapolate to the :math:`\beta` at which it
  switches on (a third tests the line; the points below it must have switched the component off). ``curve``:
  one instance per call, :math:`\beta` found by SciPy's brentq so that the fixed point has :math:`I(T;X) = I_X`,
  then :math:`I(T;Y)` estimated from draws of :math:`(T, Y)` through that encoder, each replicate the mean
  pointwise information :math:`\ln p(t \mid y) - \ln p(t)` of :data:`BLOCK` draws.
- :func:`binning_experiment` (``ib.binning``): the binned estimate on a real tanh or ReLU layer
  (:mod:`numerics.ib_binning`), over dyadic bin widths.
"""

from __future__ import annotations

import math
from typing import Any

from . import ib_binning as binning
from . import ib_gaussian as gib
from .estimate import Accumulator, Estimate
from .namespaces import backend_name
from .namespaces import count_true as _count
from .namespaces import on_device as _on

__all__ = ["GAUSSIAN_QUANTITIES", "BINNING_QUANTITIES", "BLOCK", "INSTANCES", "critical_betas", "gaussian_experiment",
           "binning_experiment"]

GAUSSIAN_QUANTITIES = ("critical", "curve")
BINNING_QUANTITIES = ("limit", "identity")
BLOCK = 256  # draws of (T, Y) per replicate of the curve
INSTANCES = 64  # instances per batch of the critical ladder
CHUNK = 8  # ladder points added at a time
ON = 1.0  # a ladder point is on the branch of component i once u_i >= ON
_DRAWS = 1 << 18  # draws of (T, Y) per generated batch


def _extrapolate(xp: Any, beta: Any, u: Any, err: Any, first: Any) -> tuple[Any, Any, Any]:
    """Per instance and component: the zero of the line through the branch points ``first`` and ``first + 1``,
    its error bound, and the third point's distance from the line over its own bound."""
    index = xp.arange(u.shape[1], dtype=first.dtype)[None, :, None]
    grid = beta[None, :, None] + xp.zeros_like(u)

    def at(k: int) -> tuple[Any, Any, Any]:
        pick = index == (first + k)[:, None, :]
        return tuple(xp.sum(xp.where(pick, a, 0.0), axis=1) for a in (grid, u, err))

    (ba, ua, ea), (bb, ub, eb), (bc, uc, ec) = at(0), at(1), at(2)
    du = ub - ua
    root = (ba * ub - bb * ua) / du
    bound = (bb - ba) * (ub * ea + ua * eb) / (du * du) + 4 * gib.EPS * xp.abs(root)
    line = ua + (bc - ba) * du / (bb - ba)
    slack = ec + (xp.abs(bc - ba) / (bb - ba)) * (ea + eb) + ea
    return root, bound, xp.abs(uc - line) / slack


def critical_betas(xp: Any, rng: Any, b: int, *, rho: float, dimension: int) -> dict[str, Any]:
    """``b`` instances: each component's measured critical beta (b, d), its error bound, and the checks."""
    p = gib.problems(xp, rng, b, rho=rho, dimension=dimension)
    runs: list[dict[str, Any]] = []
    betas: list[float] = []
    while True:
        chunk = [2.0 ** (j / 2) for j in range(len(betas), len(betas) + CHUNK)]
        runs.append(gib.ladder_run(xp, rng, p, chunk))
        betas += chunk
        u = xp.concat([r["u"] for r in runs], axis=1)
        on = u >= ON
        if bool(xp.all(xp.sum(xp.astype(on, xp.int64), axis=1) >= 3)) or betas[-1] > 2.0**60:
            break
    err = xp.concat([r["error"] for r in runs], axis=1)
    skew = xp.max(xp.concat([r["skew"] for r in runs], axis=1))
    beta = xp.asarray(betas, dtype=xp.float64, **_on(rng))
    first = xp.argmax(xp.astype(on, xp.int8), axis=1)  # (b, d): the first point on the branch
    root, bound, off_line = _extrapolate(xp, beta, u, err, first)
    bound = bound + root * root * gib.eigen_error(xp, p)[:, None]  # beta_i = 1/rho_i^2: the eigenvalue's own error
    grid = beta[None, :, None]
    wrong_side = ((grid < 0.8 * root[:, None, :]) & (u > 1e-6)) | ((grid > 1.25 * root[:, None, :]) & (u < 1e-3))
    return {"beta": root, "bound": bound, "off_line": off_line, "wrong_side": _count(xp, wrong_side),
            "skew": float(skew), "points": len(betas)}


def _sci(x: float) -> str:
    mantissa, _, power = f"{x:.2g}".partition("e")
    return mantissa + (rf" \times 10^{{{int(power)}}}" if power else "")


def _critical(xp: Any, rng: Any, budget: int, rho: float, dimension: int, component: int) -> Estimate:
    values, bounds, roots = [], 0.0, []
    off = side = 0
    skew = 0.0
    done = 0
    while done < budget:
        b = min(INSTANCES, budget - done)
        out = critical_betas(xp, rng, b, rho=rho, dimension=dimension)
        values.append(out["beta"][:, component - 1])
        roots.append(out["beta"])
        bounds = max(bounds, float(xp.max(out["bound"][:, component - 1])))
        off += _count(xp, out["off_line"] > 1.0)
        side += out["wrong_side"]
        skew = max(skew, out["skew"])
        done += b
    v = xp.concat(values)
    n = int(v.shape[0])
    mean = float(xp.mean(v))
    sd = float(xp.std(v, correction=1)) if n > 1 else 0.0
    means = [float(xp.mean(xp.concat(roots)[:, i])) for i in range(dimension)]
    shown = ", ".join(rf"\hat\beta_{{{i + 1}}} = {m:.10g}" for i, m in enumerate(means))
    events = (
        (rf"instances whose encoder is not diagonal in the canonical basis, i.e. not a projection onto the left "
         rf"eigenvectors of $\Sigma_{{x|y}}\Sigma_x^{{-1}}$, beyond $10^{{-8}}$ (largest relative off-diagonal entry "
         rf"${_sci(skew)}$)", int(skew > 1e-8)),
        (r"components on below $0.8$ times their measured critical $\beta$ (signal-to-noise ratio above $10^{-6}$), "
         r"or off above $1.25$ times it", side),
        (rf"components whose signal-to-noise ratio at a third ladder point is off the line through the first two "
         rf"beyond its error bound (measured: ${shown}$)", off),
    )
    return Estimate(mean, sd / math.sqrt(n), n, backend_name(xp), "float64", bounds, events)


def _curve(xp: Any, rng: Any, budget: int, rho: float, info_x: float, dimension: int) -> Estimate:
    p = gib.problems(xp, rng, 1, rho=rho, dimension=dimension)
    beta, A, sxi, _ = gib.calibrate(xp, rng, p, info_x)
    ix, iy = (float(v[0]) for v in gib.information(xp, A, sxi, p))
    s = gib.canonical_snr(xp, A, sxi, p)[0, ...]
    u = xp.linalg.diagonal(s)
    big = (u[:, None] > 1e-3) & (u[None, :] > 1e-3)
    skew = float(xp.max(xp.where(big, xp.abs(s - s * p["eye"]) / xp.sqrt(xp.abs(u[:, None] * u[None, :]) + 1e-300),
                                 0.0)))
    acc = Accumulator(backend=backend_name(xp))
    left = budget
    while left > 0:
        blocks = min(left, _DRAWS // BLOCK)
        pmi = gib.pmi_samples(xp, rng, p, A, sxi, blocks * BLOCK)
        acc.add(xp.mean(xp.reshape(pmi, (blocks, BLOCK)), axis=1))
        left -= blocks
    est = acc.estimate()
    # one name for every call of a run (the encoder is the same to 1e-10; the skew varies and is not in the name)
    events = ((rf"blocks drawn through an encoder off the canonical basis beyond $10^{{-8}}$ in relative off-diagonal "
               rf"entry (the encoder at $\beta = {beta:.8g}$ has $I(T;X) = {ix:.8g}$ and, from its covariances, "
               rf"$I(T;Y) = {iy:.8g}$ nats)", est.n if skew > 1e-8 else 0),)
    return Estimate(est.mean, est.stderr, est.n, est.backend, est.dtype, est.atol + abs(ix - info_x), events,
                    est.skewness, est.kurtosis)


def gaussian_experiment(xp: Any, rng: Any, budget: int, *, rho: float, info_x: float, dimension: int, component: int,
                        quantity: str) -> Estimate:
    r"""``critical``: component ``component``'s critical :math:`\beta` on ``budget`` independent instances (random
    bases and starts); the mean over instances, its standard error, and as tolerance the largest error bound of
    an instance (rounding and convergence of the iteration, carried through the extrapolation). The instances'
    spread is rounding only, so no tail diagnostic is kept (skewness and kurtosis None). ``curve``: the mean
    pointwise information :math:`\ln p(t \mid y) - \ln p(t)` of ``budget`` blocks of :data:`BLOCK` draws of
    :math:`(T, Y)` through the calibrated encoder (nats); the tolerance adds how far the encoder's own
    :math:`I(T;X)` is from ``info_x`` (the curve's slope, :math:`1/\beta`, is below 1)."""
    if quantity not in GAUSSIAN_QUANTITIES:
        raise ValueError(f"quantity={quantity!r} is not one of {', '.join(GAUSSIAN_QUANTITIES)}")
    if not 1 <= component <= dimension:
        raise ValueError(f"component={component} is outside the domain: integer with 1 <= component <= {dimension}")
    if quantity == "critical":
        return _critical(xp, rng, budget, rho, dimension, component)
    return _curve(xp, rng, budget, rho, info_x, dimension)


def binning_experiment(xp: Any, rng: Any, budget: int | None = None, *, activation: str, samples: int, width: int,
                       quantity: str) -> Estimate:
    r"""Exact. A random layer (:func:`numerics.ib_binning.layer`) on ``samples`` Gaussian inputs, binned on the
    dyadic widths :math:`\Delta_j = 2^{-j}` of its range, j = 0, ..., :data:`numerics.ib_binning.FINEST`, fixed in
    advance. ``limit``: :math:`\hat I(X; T_\Delta)` from the joint histogram at every width below the outputs'
    smallest distance, found apart from the histograms (the finest width among them), each of which must give
    :math:`\log_2 N`: the one farthest from it, with its rounding bound as tolerance (an event counts those off). ``identity``: of every width with two or more
    occupied cells, the ratio :math:`\hat I/\hat H` farthest from 1 in units of its rounding bound, with that
    bound. A layer that is not injective on the dataset (two inputs with one output), or one whose outputs the
    finest grid cannot separate, makes the limit inconclusive."""
    if quantity not in BINNING_QUANTITIES:
        raise ValueError(f"quantity={quantity!r} is not one of {', '.join(BINNING_QUANTITIES)}")
    out = binning.sweep(xp, rng, activation=activation, samples=samples, width=width)
    return binning.estimate(xp, out, quantity, samples)
