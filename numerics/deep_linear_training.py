r"""Gradient descent on deep linear networks: the kernels behind ``deeplinear.saxe-dynamics``
and ``deeplinear.no-bad-minima``.

**Saxe dynamics** (:func:`saxe_network`, :func:`gd_error_bound`): one real two-layer network
``W2 W1`` (float64) trained by full-batch gradient descent on data with whitened inputs
(``X X^T / N = I`` exactly) and input-output correlation ``Sigma_31 = A diag(strengths) B^T``
with random orthonormal ``A, B``; a balanced start along the modes, ``W1 = R diag(sqrt(u0)) B^T``,
``W2 = A diag(sqrt(u0)) R^T`` with a random orthonormal hidden basis ``R``. The mode strengths
``u_k = a^T W2 W1 b`` are recorded after every step, as ``u_k / u0`` (:func:`saxe_ratios` trains the
same network in the weights ``W / sqrt(u0)``, so a start as small as ``5e-324`` is represented). The
gradient-descent trajectory differs from the ODE's solution by a discretisation error, bounded a
posteriori by the telescoping ("Lady Windermere's fan") bound of
:func:`proofs.deep_linear_training.derive_saxe_dynamics`: each step's local error against the
exact flow, carried to time ``t`` by the flow's largest sensitivity on the segment, plus a rounding
allowance per step.

**No bad minima** (:func:`make_data`, :func:`train`, :func:`no_bad_minima_experiment`): ``B``
independent runs stacked, one float32 tensor per layer of shape ``(B, out, in)``, one batched
matmul per layer forward, two backward; each run with its own random data (Gaussian inputs,
least-squares fit with prescribed singular values ``(3/4)^(i-1)`` in the whitened metric, residual
loss 1/16) and its own random initialisation. Final losses are evaluated in float64; the batched steps are :mod:`numerics.linear_descent`.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from array_api_compat import device as _device_of

from .deep_linear import critical_point, loss_and_gradient
from .estimate import FLOOR_ULPS, Accumulator, Estimate
from .linear_descent import contiguous, final_loss, gd_step, workspace
from .namespaces import backend_name, namespace, to_host

__all__ = [
    "RESIDUAL",
    "SPECTRUM_RATIO",
    "critical_gap",
    "critical_point",
    "gd_error_bound",
    "init_weights",
    "loss_and_gradient",
    "make_data",
    "minimum_loss",
    "no_bad_minima_experiment",
    "no_bad_minima_runs",
    "numeric_minimum",
    "saxe_experiment",
    "saxe_network",
    "saxe_ratios",
    "saxe_steps",
    "spectrum",
    "tail_estimate",
    "train",
    "widths_of",
]

RESIDUAL = 1.0 / 16.0  # the loss of the part of Y orthogonal to the rows of X
SPECTRUM_RATIO = 0.75  # singular values of the whitened least-squares fit: 1, 3/4, 9/16, ...
EPS64 = 2.0**-52
EPS32 = 2.0**-23  # the training's dtype: a run is settled when its remaining decrease is below its floor
STEPS = 2000  # gradient steps per no-bad-minima run
CHECK_EVERY = 50  # loss checkpoints for the convergence (tail) estimate
EXTRA_ROUNDS = 7  # a run still descending gets up to 7 more rounds of STEPS
STILL_DESCENDING = 0.9  # successive decreases shrinking slower than this: the run has not converged
RUNS_PER_BATCH = 1 << 12


def _orthonormal(xp: Any, rng: Any, shape: tuple[int, ...]) -> Any:
    """Random matrices with orthonormal columns (QR of Gaussians, signs fixed): shape (..., n, k), k <= n."""
    q, r = xp.linalg.qr(rng.standard_normal(shape))
    d = xp.sign(xp.linalg.diagonal(r))
    d = xp.where(d == 0, 1.0, d)
    return q * d[..., None, :]


# --- Saxe dynamics ---------------------------------------------------------------------------


def saxe_steps(t: float, lr: float) -> list[float]:
    """Step lengths: ``ceil(t/lr)`` steps of ``lr``, the last shortened so that they add up to ``t``
    (at least one step for any t > 0; the 1e-9 slack keeps a t that is a multiple of lr up to rounding
    from taking an extra step of length ~0).

    >>> saxe_steps(0.25, 0.1), saxe_steps(1e-12, 0.5), saxe_steps(0.0, 0.1)
    ([0.1, 0.1, 0.04999999999999999], [1e-12], [])
    """
    n = max(1, math.ceil(t / lr - 1e-9)) if t > 0 else 0
    if n == 0:
        return []
    return [lr] * (n - 1) + [t - (n - 1) * lr]


def saxe_ratios(xp: Any, rng: Any, strengths, u0: float, steps) -> Any:
    """Train a two-layer linear network from a balanced start of mode strength ``u0``, in the scaled
    weights ``V = W / sqrt(u0)``; returns ``u / u0`` for every mode after every step, shape
    ``(len(steps) + 1, modes)``, float64 (row 0 is the start, all ones), on the device of ``rng``'s draws
    (nothing crosses to the host during training).

    Gradient descent is the same map in either variables (``W = sqrt(u0) V``: ``V1 <- V1 + h V2^T G``,
    ``V2 <- V2 + h G V1^T`` with ``G = Sigma_31 - u0 V2 V1``), but ``V`` starts at unit scale, so a
    start as small as the smallest subnormal (``u0 = 5e-324``, where ``sqrt(u0) W``-products underflow)
    is represented to full precision."""
    d = len(strengths)
    samples = 4 * d
    a = _orthonormal(xp, rng, (d, d))
    b = _orthonormal(xp, rng, (d, d))
    hidden = _orthonormal(xp, rng, (d, d))
    x = math.sqrt(samples) * _orthonormal(xp, rng, (samples, d)).mT  # X X^T / N = I exactly (up to rounding)
    s = xp.asarray([float(v) for v in strengths], dtype=xp.float64, device=_device_of(a))
    sigma31 = (a * s) @ b.mT
    y = sigma31 @ x
    x_t = x.mT
    v1 = hidden @ b.mT
    v2 = a @ hidden.mT
    out = [xp.sum(a * (v2 @ v1 @ b), axis=0)]
    for step in steps:
        grad = (y - u0 * (v2 @ (v1 @ x))) @ x_t / samples  # -dL/d(W2 W1) = Sigma_31 - W2 W1
        v1, v2 = v1 + step * (v2.mT @ grad), v2 + step * (grad @ v1.mT)
        out.append(xp.sum(a * (v2 @ v1 @ b), axis=0))
    return xp.stack(out)


def saxe_network(xp: Any, rng: Any, strengths, u0: float, steps) -> Any:
    """The mode strengths ``u`` of :func:`saxe_ratios`' network, ``u0`` times its ratios (the same draws)."""
    return u0 * saxe_ratios(xp, rng, strengths, u0, steps)


def _exprel(xp: Any, x: Any) -> Any:
    """``(e^x - 1)/x`` for ``x >= 0`` (1 at 0, and to rounding at a subnormal ``x``, where ``expm1(x) = x``)."""
    positive = x > 0
    return xp.where(positive, xp.expm1(x) / xp.where(positive, x, 1.0), 1.0)


def _decayrel(xp: Any, x: Any) -> Any:
    """``(1 - e^-x)/x`` for ``x >= 0`` (1 at 0; in (0, 1], so no overflow for any ``x``)."""
    positive = x > 0
    return xp.where(positive, -xp.expm1(-x) / xp.where(positive, x, 1.0), 1.0)


def gd_error_bound(u, steps, s: float, t: float, dim: int, u_max=None, unit: float = 1.0) -> float:
    """A posteriori bound on |u_n - u(t)| for a gradient-descent trajectory ``u`` (float64, any namespace:
    computed where ``u`` lives, one transfer of the result), in units of ``unit``: the mode strength is
    ``unit * u`` and the bound is in the same units as ``u`` (``unit = u0`` for :func:`saxe_ratios`).

    ``sum_k (|u_(k+1) - phi_(h_k)(u_k)| + rho_k) * max phi'_(t - t_(k+1))`` over the segment between
    ``u_(k+1)`` and ``phi_(h_k)(u_k)``, where ``phi_T`` is the ODE's exact flow and its sensitivity
    ``phi'_T(v) = s^2 e^(2sT) / (s + v (e^(2sT) - 1))^2`` is largest at the left end (it decreases in v).
    ``rho_k = FLOOR_ULPS * dim * eps * (u_k + u_max_k + u_(k+1))`` allows for the rounding of one step of
    the network (entries of size sqrt(u), sums over ``dim`` terms), plus the same for the final readout.

    Scale-free in ``s`` and ``unit``: with ``G = (e^(2sh) - 1)/s = 2h exprel(2sh)`` the flow is
    ``phi_h(v) = v + v G (s - v)/(1 + v G)``, and dividing by ``e^(2x)``, ``x = 2sT``, the sensitivity is
    ``e^-x / (e^-x + 2 v T (1 - e^-x)/x)^2``: no ``s^2`` that underflows (``s = 1e-300`` gave 0/0), no
    ``e^x`` that overflows, and the ``s -> 0`` limit ``1/(1 + 2vT)^2`` exactly. Absolute rounding in the
    subnormal range (at most ``2^-1074`` per entry of the gradient) moves ``u`` by ``h u 2^-1074`` per
    step, far inside ``rho_k``."""
    u = _float64_vector(u)
    xp = namespace(u)
    device = _device_of(u)
    readout = FLOOR_ULPS * dim * EPS64 * xp.abs(u[-1])
    if len(steps) == 0:
        return float(readout)
    h = xp.asarray([float(v) for v in steps], dtype=xp.float64, device=device)
    u_max = u if u_max is None else xp.astype(xp.asarray(u_max, device=device), xp.float64)
    start, after = u[:-1], u[1:]
    grow = 2 * h * _exprel(xp, 2 * s * h)  # (e^(2sh) - 1)/s
    v = unit * start
    exact = start + start * grow * (s - v) / (1 + v * grow)  # phi_h(u_k) / unit, the increment apart (no cancellation)
    local = xp.abs(after - exact)
    remaining = xp.clip(t - xp.cumulative_sum(h), min=0.0)
    left = unit * xp.minimum(after, exact)
    decay = xp.exp(-2 * s * remaining)
    sensitivity = decay / (decay + 2 * left * remaining * _decayrel(xp, 2 * s * remaining)) ** 2
    rounding = FLOOR_ULPS * dim * EPS64 * (start + u_max[:-1] + after)
    return float(xp.sum((local + rounding) * sensitivity) + readout)


def _float64_vector(u: Any) -> Any:
    """``u`` as a float64 array of its own namespace (a list or tuple becomes NumPy)."""
    if isinstance(u, (list, tuple)):
        import numpy as np

        u = np.asarray(u, dtype=float)
    xp = namespace(u)
    return xp.astype(xp.asarray(u), xp.float64)


def _modes(s: float) -> tuple[float, ...]:
    """The measured mode s and two weaker ones, learned alongside (the modes decouple)."""
    return (s, s / 2, s / 4)


def saxe_experiment(xp: Any, rng: Any, budget: Any, *, s: float, u0: float, t: float, lr: float) -> Estimate:
    """The strength of the mode ``s`` after gradient descent up to time ``t = steps * lr``, with the
    derived discretisation bound (plus rounding) as its tolerance.

    Trained in the scaled variables of :func:`saxe_ratios` and bounded in units of ``u0``; the result is
    ``u0 (u/u0)``, one rounding, and its unit in the last place joins the tolerance (whose own product is
    rounded up). Where ``u(t)`` is so near the smallest subnormal that float64's spacing alone is half of
    it or more, the grid cannot tell the value from 0 or from twice itself: the estimate says so
    (``inconclusive``)."""
    steps = saxe_steps(t, lr)
    modes = _modes(s)
    ratios = saxe_ratios(xp, rng, modes, u0, steps)
    bound = gd_error_bound(ratios[:, 0], steps, s, t, len(modes), xp.max(ratios, axis=1), unit=u0)  # where ratios live
    mean = u0 * float(ratios[-1, 0])
    atol = math.nextafter(u0 * bound, math.inf) + math.ulp(mean)
    why = ""
    if math.ulp(mean) >= abs(mean) / 2:
        digits, power = f"{mean:.1e}".split("e")
        why = (f"$u(t) \\approx {digits} \\times 10^{{{int(power)}}}$ is within two units of float64's spacing "
               "$2^{-1074}$ there: float64 cannot tell it from $0$ or from twice itself")
    return Estimate(mean, 0.0, 1, backend_name(xp), "float64", atol, inconclusive=why)


# --- no bad minima ----------------------------------------------------------------------------


def widths_of(depth: int, width: int, n_in: int, n_out: int) -> list[int]:
    """Layer widths n_in, width, ..., width, n_out: ``depth`` weight layers."""
    return [n_in] + [width] * (depth - 1) + [n_out]


def spectrum(n_in: int, n_out: int) -> list[float]:
    """Singular values (3/4)^(i-1), i = 1..min(n_in, n_out), of the whitened least-squares fit."""
    return [SPECTRUM_RATIO**i for i in range(min(n_in, n_out))]


def minimum_loss(width: int, n_in: int, n_out: int) -> float:
    """RESIDUAL + (1/2) sum_{i > r} sigma_i^2 (float64; the closed form's value)."""
    r = min(width, n_in, n_out)
    return RESIDUAL + 0.5 * sum(x * x for x in spectrum(n_in, n_out)[r:])


def critical_gap(width: int, n_in: int, n_out: int) -> float:
    """Distance from the global minimum to the nearest other critical value, (sigma_r^2 - sigma_(r+1)^2)/2."""
    sig = spectrum(n_in, n_out) + [0.0]
    r = min(width, n_in, n_out)
    return 0.5 * (sig[r - 1] ** 2 - sig[r] ** 2)


def make_data(xp: Any, rng: Any, b: int, n_in: int, n_out: int, samples: int):
    """``b`` data sets (float64): X ~ N(0, 1) of shape (b, n_in, N), Y = W_ls X + Z with Z X^T = 0,
    ||Z||^2 / (2N) = RESIDUAL and W_ls C^(1/2) = A diag(sigma) B^T (A, B random orthonormal)."""
    if samples <= n_in:
        raise ValueError(f"samples={samples} must exceed n_in={n_in}: X X^T would be singular")
    m = min(n_in, n_out)
    x = rng.standard_normal((b, n_in, samples))
    cov = x @ x.mT / samples
    lam, vec = xp.linalg.eigh(cov)
    inv_root = (vec / xp.sqrt(lam)[:, None, :]) @ vec.mT
    a = _orthonormal(xp, rng, (b, n_out, m))
    bb = _orthonormal(xp, rng, (b, n_in, m))
    sig = xp.asarray(spectrum(n_in, n_out), dtype=xp.float64, device=_device_of(x))
    w_ls = (a * sig) @ bb.mT @ inv_root
    noise = rng.standard_normal((b, n_out, samples))
    inv = (vec / lam[:, None, :]) @ vec.mT
    noise = noise - (noise @ x.mT) @ inv @ x / samples  # project out the rows of X
    norm = xp.sum(noise**2, axis=(1, 2))
    noise = noise * xp.sqrt(2 * samples * RESIDUAL / norm)[:, None, None]
    return x, w_ls @ x + noise


def numeric_minimum(xp: Any, x: Any, y: Any, r: int) -> Any:
    """The global minimum over products of rank <= r, from the data alone (float64): the least-squares
    residual plus the tail of the singular values of M = W_ls C^(1/2) (Eckart-Young)."""
    n = x.shape[-1]
    cov = x @ x.mT / n
    cross = y @ x.mT / n
    lam, vec = xp.linalg.eigh(cov)
    inv_root = (vec / xp.sqrt(lam)[:, None, :]) @ vec.mT
    m = cross @ inv_root  # W_ls C^(1/2) = B_ C^(-1) C^(1/2)
    sv = xp.linalg.svdvals(m)
    w_ls = m @ inv_root
    resid = y - w_ls @ x
    return 0.5 * xp.sum(resid**2, axis=(1, 2)) / n + 0.5 * xp.sum(sv[:, r:] ** 2, axis=1)


def init_weights(xp: Any, rng: Any, b: int, widths) -> list:
    """Independent random semi-orthogonal layers (Saxe et al. 2014's orthogonal initialisation: every
    singular value 1, directions uniformly random), float32, one (b, out, in) tensor per layer."""
    weights = []
    for fan_in, out in zip(widths[:-1], widths[1:], strict=True):
        if out >= fan_in:
            w = _orthonormal(xp, rng, (b, out, fan_in))
        else:
            w = _orthonormal(xp, rng, (b, fan_in, out)).mT
        weights.append(contiguous(xp, xp.astype(w, xp.float32)))
    return weights


def tail_estimate(xp: Any, history: Any):
    """Remaining decrease of each run from its last three loss checkpoints (float64, shape (3, b)):
    the geometric tail d1 q/(1 - q) of successive decreases d0, d1 with ratio q = d1/d0 (Aitken).
    Runs whose decreases do not shrink (q >= STILL_DESCENDING) get no allowance (their excess counts
    against the claim) and are flagged; a run that no longer decreases gets 0."""
    d0 = history[1, ...] - history[0, ...]
    d1 = history[2, ...] - history[1, ...]
    d0, d1 = -d0, -d1  # decreases are positive
    q = xp.where(d0 > 0, d1 / xp.where(d0 > 0, d0, 1.0), 0.0)
    converging = (d1 > 0) & (q < STILL_DESCENDING)
    tail = xp.where(converging, d1 * q / (1 - xp.where(converging, q, 0.0)), 0.0)
    descending = (d1 > 0) & (q >= STILL_DESCENDING)
    return tail, descending


def default_lr(depth: int, n_in: int, samples: int) -> float:
    """A step size well inside the stable range: the largest input-covariance eigenvalue is at most
    about (1 + sqrt(n_in/N))^2 and each of the ``depth`` layers adds a Hessian term of that size."""
    top = (1 + math.sqrt(n_in / samples)) ** 2
    return 0.5 / (depth * top)


def train(xp: Any, rng: Any, weights: list, x32: Any, y32: Any, x64: Any, y64: Any, *, lr: float, steps: int = STEPS):
    """``steps`` gradient steps; returns float64 losses at the last three checkpoints, shape (3, b)."""
    marks = {steps - 2 * CHECK_EVERY, steps - CHECK_EVERY, steps}
    history = []
    work = workspace(xp, weights, x32)
    for k in range(1, steps + 1):
        gd_step(xp, weights, x32, y32, lr, work)
        if k in marks:
            history.append(final_loss(xp, weights, x64, y64))
    return xp.stack(history)


def no_bad_minima_runs(xp: Any, rng: Any, b: int, *, depth: int, width: int, n_in: int, n_out: int, samples: int,
                       steps: int = STEPS, rounds: int = EXTRA_ROUNDS):
    """``b`` independent runs: final float64 losses, tail estimates, and still-descending flags.

    Every run takes ``steps`` gradient steps; a run not settled then takes ``steps`` more, up to
    ``rounds`` times: one still descending (successive decreases not shrinking, as when leaving a
    saddle), or one whose geometric tail (its remaining decrease) exceeds the float32 floor of its loss,
    ``FLOOR_ULPS * eps32 * loss`` (a slow run, about 1 in 10^4, whose final loss would otherwise be a
    lone outlier that leaves the replicates' variance unsettled). The rule looks only at the run's own
    losses, never at the minimum.

    Host contact: none inside :func:`train`; once per round of ``steps`` steps the unsettled runs are
    selected (``nonzero``: its size decides whether another round runs), so at most ``rounds + 1`` times
    whatever ``steps`` and the depth."""
    x64, y64 = make_data(xp, rng, b, n_in, n_out, samples)
    x32, y32 = xp.astype(x64, xp.float32), xp.astype(y64, xp.float32)
    weights = init_weights(xp, rng, b, widths_of(depth, width, n_in, n_out))
    lr = default_lr(depth, n_in, samples)
    history = train(xp, rng, weights, x32, y32, x64, y64, lr=lr, steps=steps)
    loss = history[-1, ...]
    tail, descending = tail_estimate(xp, history)

    def unsettled(loss: Any, tail: Any, descending: Any) -> Any:
        return descending | (tail > FLOOR_ULPS * EPS32 * loss)

    active = unsettled(loss, tail, descending)  # runs (of the b) still being trained, in order
    keep = xp.nonzero(active)[0]
    for _ in range(rounds):
        if keep.shape[0] == 0:
            break
        weights = [xp.take(w, keep, axis=0) for w in weights]
        x32, y32, x64, y64 = (xp.take(a, keep, axis=0) for a in (x32, y32, x64, y64))
        history = train(xp, rng, weights, x32, y32, x64, y64, lr=lr, steps=steps)
        more_tail, more_descending = tail_estimate(xp, history)
        # scatter the trained runs' results back: the i-th active run is the i-th run trained
        slot = xp.clip(xp.cumulative_sum(xp.astype(active, xp.int64)) - 1, min=0)
        loss = xp.where(active, xp.take(history[-1, ...], slot), loss)
        tail = xp.where(active, xp.take(more_tail, slot), tail)
        descending = xp.where(active, xp.take(more_descending, slot), descending)
        more_active = unsettled(history[-1, ...], more_tail, more_descending)
        active = active & xp.take(more_active, slot)
        keep = xp.nonzero(more_active)[0]
    return loss, tail, descending


def no_bad_minima_experiment(
    xp: Any, rng: Any, budget: int, *, depth: int, width: int, n_in: int, n_out: int, samples: int
) -> Estimate:
    """Mean final loss over ``budget`` independent runs; tolerance = float32 floor + mean tail estimate.

    Events: runs nearer another critical value than the global minimum (final loss more than half the
    gap above it), and runs still descending at the last step."""
    best, gap = minimum_loss(width, n_in, n_out), critical_gap(width, n_in, n_out)
    acc = Accumulator(backend=backend_name(xp), dtype="float32")
    tails = 0.0
    done = 0
    while done < budget:
        b = min(RUNS_PER_BATCH, budget - done)
        loss, tail, descending = no_bad_minima_runs(xp, rng, b, depth=depth, width=width, n_in=n_in, n_out=n_out,
                                                    samples=samples)
        acc.add(loss)
        stuck = xp.astype(loss - best > gap / 2, xp.float64)
        # one transfer per batch of runs: the tail total and the two event counts
        sums = to_host(xp.stack([xp.sum(tail), xp.sum(stuck), xp.sum(xp.astype(descending, xp.float64))]))
        tails += float(sums[0])
        acc.count("runs stuck above the global minimum (nearer another critical value)", int(sums[1]))
        acc.count(f"runs still descending after ${(EXTRA_ROUNDS + 1) * STEPS}$ steps", int(sums[2]))
        done += b
    est = acc.estimate()
    return replace(est, atol=est.atol + tails / est.n)  # keeps the replicates' skewness and kurtosis
