r"""Dropout: the kernels behind the ``dropout.*`` claims.

- :func:`ridge_identity`: independent regression problems (X with column scales from 1/2 to 2, so that
  :math:`\operatorname{diag}(X^\top X)` is far from a multiple of I), each with :data:`MASKS` independent
  Bernoulli(q) masks; per problem the measured penalty coefficient
  :math:`(\overline{\|y - X(m \odot w)/q\|^2} - \|y - Xw\|^2) / \sum_j \|x_j\|^2 w_j^2`, whose mean given X, y, w
  is exactly :math:`(1 - q)/q`;
- :func:`ridge_sgd`: SGD with dropout (a fresh Bernoulli mask per example and step, inverted scaling) on
  independent problems, Polyak-Ruppert averaged after a burn-in; the statistic reads
  :math:`\mathbb{E}\,\bar w = w_{\mathrm{ridge}}` in units of the coefficient (see its docstring);
- :func:`nwgm_check`: every one of the :math:`2^n` masks of a softmax layer on top of a ReLU layer; the
  NWGM's effective scale per pair of classes, with a rigorous rounding bound;
- :func:`relu_check`: every mask of a ReLU layer's inputs; each unit's gap
  :math:`\mathbb{E}\,\mathrm{relu}(z) - \mathrm{relu}(\mathbb{E} z)` against :math:`\mathbb{E}|z - \mathbb{E} z|/2`.

The enumerations use networks on a dyadic grid (multiples of 2^-8 below 4 in magnitude), so every
sub-network's pre-activation is exact in float64; what remains is the rounding of the log-softmax and of
the mask averages, bounded under the standard model (:mod:`numerics.rounding`; exp and log taken
within 2 ulp). A mask average :math:`\sum_m P(m) f(m)` is a contraction of the :math:`2 \times \cdots \times 2`
lattice one unit at a time, :math:`f \mapsto (1 - q) f_0 + q f_1`: 3n roundings per term.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from .estimate import Accumulator, Estimate
from .namespaces import backend_name
from .namespaces import count_true as _count
from .namespaces import on_device as _on
from .rounding import gamma, unit_roundoff

__all__ = ["RIDGE_QUANTITIES", "SCALING_QUANTITIES", "PENALTIES", "MASKS", "AVERAGED", "NETWORKS", "column_scales",
           "sgd_schedule", "ridge_identity", "ridge_sgd", "sgd_trace", "ridge_experiment", "mask_lattice",
           "lattice_mean", "nwgm_check", "relu_check", "weight_scaling_experiment"]

RIDGE_QUANTITIES = ("identity", "sgd")
SCALING_QUANTITIES = ("softmax", "relu")
PENALTIES = ("diag", "isotropic", "norm")  # diag(X^T X) (the claim); mean(diag) I; I
MASKS = 64  # masks per regression problem in the identity check
NOISE = 1.0  # y = X beta + NOISE * e
AVERAGED = 500  # averaged SGD iterates
TRANSIENT = 1e-6  # the burn-in leaves at most this fraction of the start in the mean iterate
NETWORKS = 4  # networks per weight-scaling check
INPUTS = 8  # inputs of the softmax network's ReLU layer
GRID, CLIP = 2.0**-8, 4.0
_FLOATS = 1 << 22  # most float64 values per array of a batch (32 MiB)


def column_scales(features: int) -> list[float]:
    """The columns' scales, geometric from 1/2 to 2."""
    return [1.0] if features == 1 else [2.0 ** (2 * j / (features - 1) - 1) for j in range(features)]


def _problems(xp: Any, rng: Any, b: int, features: int, samples: int) -> tuple[Any, Any, Any]:
    """``b`` regression problems: X (b, N, d) with Gaussian columns rescaled to norms exactly sqrt(N) s_j, weights
    w_j = +-1/s_j with random signs (every feature contributes alike to Xw, as when features come in different
    units; the penalty's weight sum_j ||x_j||^2 w_j^2 is N d, never near 0), y = X w + noise."""
    scales = xp.asarray(column_scales(features), dtype=xp.float64, **_on(rng))
    x = rng.standard_normal((b, samples, features), dtype=xp.float64)
    x = x * (math.sqrt(samples) * scales / xp.sqrt(xp.sum(x * x, axis=1, keepdims=True)))
    w = (1.0 - 2.0 * xp.astype(rng.random((b, features), dtype=xp.float64) < 0.5, xp.float64)) / scales
    y = xp.matmul(x, w[:, :, None])[:, :, 0] + NOISE * rng.standard_normal((b, samples), dtype=xp.float64)
    return x, w, y


def _penalty_matrix(xp: Any, gram: Any, penalty: str, on: dict[str, Any]) -> Any:
    """(b, d, d): diag(X^T X), its mean times I, or I."""
    eye = xp.eye(gram.shape[-1], dtype=xp.float64, **on)
    diag = xp.sum(gram * eye, axis=2)  # (b, d)
    if penalty == "diag":
        return diag[:, :, None] * eye
    if penalty == "isotropic":
        return xp.mean(diag, axis=1)[:, None, None] * eye
    if penalty == "norm":
        return xp.zeros_like(gram) + eye
    raise ValueError(f"penalty={penalty!r} is not one of {', '.join(PENALTIES)}")


def ridge_identity(xp: Any, rng: Any, b: int, *, q: float, features: int, samples: int, masks: int = MASKS,
                   penalty: str = "diag") -> Any:
    r"""Per problem (float64, length b): the mean over ``masks`` masks of the dropout loss
    :math:`\|y - X(m \odot w)/q\|^2`, less :math:`\|y - Xw\|^2`, divided by the penalty's weight
    (``diag``: :math:`\sum_j \|x_j\|^2 w_j^2`, the claim; ``isotropic``: :math:`\tfrac{1}{d}\operatorname{tr}(X^\top X)\,\|w\|^2`;
    ``norm``: :math:`\|w\|^2`). One mask per evaluation serves every row, as the identity is stated."""
    x, w, y = _problems(xp, rng, b, features, samples)
    keep = rng.random((b, masks, features), dtype=xp.float64) < q
    dropped = xp.where(keep, w[:, None, :] / q, 0.0)
    loss = xp.mean(xp.sum((y[:, None, :] - xp.matmul(dropped, xp.permute_dims(x, (0, 2, 1)))) ** 2, axis=2), axis=1)
    base = xp.sum((y - xp.matmul(x, w[:, :, None])[:, :, 0]) ** 2, axis=1)
    pen = _penalty_matrix(xp, xp.matmul(xp.permute_dims(x, (0, 2, 1)), x), penalty, _on(rng))
    weight = xp.sum(xp.matmul(pen, w[:, :, None])[:, :, 0] * w, axis=1)
    return (loss - base) / weight


def sgd_schedule(q: float, features: int, samples: int) -> tuple[float, float, int]:
    r"""(step, contraction, burn-in) of SGD on the standardised coordinates (preconditioner
    :math:`D^{-1}`, :math:`D = \operatorname{diag} X^\top X`) with step :math:`\eta = N q^2/(2d)`: every step's map
    is non-expansive in the D-norm whatever the masks, and the mean iterate contracts by
    :math:`\rho = 1 - q(1 - q)/d` (the spectrum of :math:`\eta D^{-1/2} H D^{-1/2}`, :math:`H = \frac{2}{N}(G + \Lambda D)`,
    lies in :math:`[q(1-q)/d, q]`); the burn-in makes :math:`\rho^B \le` :data:`TRANSIENT`."""
    rho = 1.0 - q * (1.0 - q) / features
    return samples * q * q / (2.0 * features), rho, math.ceil(math.log(TRANSIENT) / math.log(rho))


def _sgd(xp: Any, rng: Any, x: Any, y: Any, q: float, steps: int, start: int, every: Any = None):
    """Dropout SGD from 0 on the problems (x, y); the average of the iterates after ``start`` steps, and
    (``every``: a set of step counts) the running averages at those counts."""
    b, samples, features = x.shape
    eta, _, _ = sgd_schedule(q, features, samples)
    step = (2.0 * eta / (samples * q)) / xp.sum(x * x, axis=1)  # eta D^-1 (2/N) and the gradient's 1/q, (b, d)
    w = xp.zeros((b, features), dtype=xp.float64, **_on(rng))
    total, trace = xp.zeros_like(w), []
    for t in range(1, steps + 1):
        kept = xp.where(rng.random((b, samples, features), dtype=xp.float64) < q, x, 0.0)  # the 1/q is in step and fit
        residual = xp.matmul(kept, w[:, :, None]) / q - y[:, :, None]
        w = w - step * xp.matmul(xp.permute_dims(kept, (0, 2, 1)), residual)[:, :, 0]
        if t > start:
            total = total + w
            if every is not None and t in every:
                trace.append(total / (t - start))
    return total / (steps - start), trace


def _solve(xp: Any, gram: Any, pen: Any, rhs: Any, lam: float) -> Any:
    return xp.linalg.solve(gram + lam * pen, rhs[:, :, None])[:, :, 0]


def ridge_sgd(xp: Any, rng: Any, b: int, *, q: float, features: int, samples: int, penalty: str = "diag",
              averaged: int = AVERAGED) -> tuple[Any, Any]:
    r"""``b`` independent problems, one dropout-SGD run each (float64). Returns the statistic
    :math:`\hat\Lambda = \langle u, X^\top y - G \bar w\rangle / \langle u, \Pi w_\Pi\rangle`, :math:`u = \Pi w_\Pi`,
    :math:`w_\Pi = (G + \Lambda \Pi)^{-1} X^\top y` with :math:`\Lambda = (1-q)/q` and :math:`\Pi` the ``penalty``; when
    :math:`\mathbb{E}\,\bar w = w_\Pi` its mean is exactly :math:`\Lambda` (the gradient is affine in w and the
    step's mask independent of w, so the mean iterate follows the mean dynamics to the ridge solution), and a
    wrong :math:`\Pi` shows as a mean away from :math:`\Lambda`. Also returns, per problem, a bound on the bias
    the burn-in leaves (:math:`\|\mathbb{E}\bar w - w^*\|_D \le \rho^{B+1} \|w^*\|_D / (T(1 - \rho))`, carried
    to the statistic by Cauchy-Schwarz)."""
    lam = (1.0 - q) / q
    x, _, y = _problems(xp, rng, b, features, samples)
    gram = xp.matmul(xp.permute_dims(x, (0, 2, 1)), x)
    rhs = xp.matmul(xp.permute_dims(x, (0, 2, 1)), y[:, :, None])[:, :, 0]
    pen = _penalty_matrix(xp, gram, penalty, _on(rng))
    target = _solve(xp, gram, pen, rhs, lam)
    _, rho, burn = sgd_schedule(q, features, samples)
    mean, _ = _sgd(xp, rng, x, y, q, burn + averaged, burn)
    u = xp.matmul(pen, target[:, :, None])[:, :, 0]
    scale = xp.sum(u * u, axis=1)
    statistic = xp.sum(u * (rhs - xp.matmul(gram, mean[:, :, None])[:, :, 0]), axis=1) / scale
    diag = xp.sum(x * x, axis=1)
    truth = _solve(xp, gram, _penalty_matrix(xp, gram, "diag", _on(rng)), rhs, lam)
    drift = rho ** (burn + 1) / (averaged * (1.0 - rho)) * xp.sqrt(xp.sum(diag * truth * truth, axis=1))
    gu = xp.matmul(gram, u[:, :, None])[:, :, 0]
    bias = drift * xp.sqrt(xp.sum(gu * gu / diag, axis=1)) / xp.abs(scale)
    return statistic, bias


def sgd_trace(xp: Any, rng: Any, *, q: float, features: int, samples: int, runs: int, checkpoints: list[int]) -> dict:
    """One problem, ``runs`` dropout-SGD runs: the relative distance of each run's running average (after the
    burn-in) from the ridge solution, at ``checkpoints`` (averaged-step counts), and the distances of the
    OLS solution and of the isotropic ridge (the same mean strength) from it."""
    lam = (1.0 - q) / q
    x, _, y = _problems(xp, rng, 1, features, samples)
    gram = xp.matmul(xp.permute_dims(x, (0, 2, 1)), x)
    rhs = xp.matmul(xp.permute_dims(x, (0, 2, 1)), y[:, :, None])[:, :, 0]
    ridge = _solve(xp, gram, _penalty_matrix(xp, gram, "diag", _on(rng)), rhs, lam)
    iso = _solve(xp, gram, _penalty_matrix(xp, gram, "isotropic", _on(rng)), rhs, lam)
    ols = _solve(xp, gram, _penalty_matrix(xp, gram, "norm", _on(rng)), rhs, 0.0)
    _, _, burn = sgd_schedule(q, features, samples)
    xs, ys = (xp.broadcast_to(a, (runs, *a.shape[1:])) for a in (x, y))
    _, trace = _sgd(xp, rng, xs, ys, q, burn + max(checkpoints), burn, {burn + t for t in checkpoints})
    norm = float(xp.sqrt(xp.sum(ridge * ridge)))

    def far(v: Any) -> Any:
        return xp.sqrt(xp.sum((v - ridge) ** 2, axis=-1)) / norm

    return {"steps": list(checkpoints), "distance": [far(v) for v in trace], "ols": float(far(ols)[0]),
            "isotropic": float(far(iso)[0]), "burn": burn}


def ridge_experiment(xp: Any, rng: Any, budget: int, *, q: float, features: int, samples: int, quantity: str) -> Estimate:
    r"""The penalty coefficient measured over ``budget`` independent problems: by Monte Carlo over masks
    (``identity``, :func:`ridge_identity`) or through the averaged SGD iterate (``sgd``, :func:`ridge_sgd`,
    whose bias bound joins the estimate's floor)."""
    if quantity not in RIDGE_QUANTITIES:
        raise ValueError(f"quantity={quantity!r} is not one of {', '.join(RIDGE_QUANTITIES)}")
    acc = Accumulator(backend=backend_name(xp))
    per = max(1, _FLOATS // (samples * (MASKS if quantity == "identity" else features)))
    done, bias = 0, 0.0
    while done < budget:
        b = min(per, budget - done)
        if quantity == "identity":
            acc.add(ridge_identity(xp, rng, b, q=q, features=features, samples=samples))
        else:
            stat, drift = ridge_sgd(xp, rng, b, q=q, features=features, samples=samples)
            acc.add(stat)
            bias += float(xp.sum(drift))
        done += b
    est = acc.estimate()
    return replace(est, atol=est.atol + bias / done)


# --- dropout.weight-scaling ----------------------------------------------------------------------------


def _grid(xp: Any, rng: Any, shape: tuple[int, ...], nonzero: bool = False) -> Any:
    """Normals clipped to |v| <= CLIP and rounded to multiples of GRID (no zero entry if ``nonzero``)."""
    v = xp.round(xp.clip(rng.standard_normal(shape, dtype=xp.float64), min=-CLIP, max=CLIP) / GRID)
    if nonzero:
        v = xp.where(v == 0, 1.0, v)
    return v * GRID


def mask_lattice(xp: Any, units: int, rng: Any = None) -> Any:
    """Every mask of ``units`` units, (2^n, n) float64, mask i's unit j the bit of weight 2^(n-1-j) of i."""
    on = _on(rng) if rng is not None else {}
    index = xp.arange(2**units, dtype=xp.int64, **on)
    shifts = xp.arange(units - 1, -1, -1, dtype=xp.int64, **on)
    return xp.astype(xp.bitwise_and(xp.bitwise_right_shift(index[:, None], shifts[None, :]), 1), xp.float64)


def lattice_mean(xp: Any, values: Any, q: float, units: int) -> Any:
    """:math:`\\sum_m q^{|m|}(1-q)^{n-|m|} f(m)` for ``values`` (B, 2^n, K) in :func:`mask_lattice` order: (B, K)."""
    f = values
    for _ in range(units):
        half = f.shape[1] // 2
        f = xp.reshape(f, (f.shape[0], half, 2, f.shape[2]))
        f = (1.0 - q) * f[:, :, 0, :] + q * f[:, :, 1, :]
    return f[:, 0, :]


def nwgm_check(xp: Any, rng: Any, *, q: float, units: int, outputs: int, networks: int = NETWORKS) -> dict[str, Any]:
    r"""``networks`` networks :math:`x \mapsto \mathrm{relu}(Vx + c) = h \mapsto \operatorname{softmax}(W(m \odot h) + b)`
    on the grid (:data:`INPUTS` inputs, ``units`` hidden units dropped, ``outputs`` classes), every mask m.

    Per network and class k other than the reference r (the class of the smallest :math:`(Wh)_r`): the effective
    scale :math:`s_k = (G_k - G_r - (b_k - b_r))/((Wh)_k - (Wh)_r)`, G the log of the weighted geometric mean,
    with its rounding bound (``tolerance``); the same from the arithmetic mean of the sub-networks
    (``arithmetic``); the NWGM, the weight-scaled softmax :math:`\operatorname{softmax}(q W h + b)` and the
    arithmetic mean themselves (``nwgm``, ``scaled``, ``mean``, (B, K)). Pairs with equal logits are not
    ``valid``."""
    u = unit_roundoff(xp)
    B, n, K = networks, units, outputs
    hidden = xp.maximum(xp.matmul(_grid(xp, rng, (B, n, INPUTS)), _grid(xp, rng, (B, INPUTS, 1)))[:, :, 0]
                        + _grid(xp, rng, (B, n)) + 1.0, 0.0)  # biases centred at 1: most units active
    weights, bias = _grid(xp, rng, (B, K, n)), _grid(xp, rng, (B, K))
    coef = weights * hidden[:, None, :]  # exact: products and sums stay within 39 bits
    logits = xp.matmul(mask_lattice(xp, n, rng), xp.permute_dims(coef, (0, 2, 1))) + bias[:, None, :]  # (B, 2^n, K), exact
    plain = xp.sum(coef, axis=2)  # (Wh)_k, exact
    top = xp.max(logits, axis=2, keepdims=True)
    lse = top + xp.log(xp.sum(xp.exp(logits - top), axis=2, keepdims=True))
    ell = logits - lse
    # |fl(ell) - ell| <= gamma_(2K+8) (1 + ln K + |LSE| + |ell|): exp and log within 2 ulp, K-term sum, two subtractions
    local = gamma(2 * K + 8, u) * (1.0 + math.log(K) + xp.abs(lse) + xp.abs(ell))
    g3 = gamma(3 * n + 2, u)
    geo = lattice_mean(xp, ell, q, n)
    err = (1 + g3) * (lattice_mean(xp, local, q, n) + g3 * lattice_mean(xp, xp.abs(ell), q, n))
    arith = lattice_mean(xp, xp.exp(ell), q, n)
    ref = xp.argmin(plain, axis=1)[:, None]

    def at_ref(a: Any) -> Any:
        return xp.take_along_axis(a, ref, axis=1)

    da, db, dg = plain - at_ref(plain), bias - at_ref(bias), geo - at_ref(geo)
    valid = da != 0
    safe = xp.where(valid, da, 1.0)
    num = dg - db
    scale = num / safe
    tolerance = ((err + at_ref(err) + u * xp.abs(dg) + u * xp.abs(num)) / xp.abs(safe) + u * xp.abs(scale)) * (1 + gamma(4, u))
    arithmetic = (xp.log(arith) - xp.log(at_ref(arith)) - db) / safe
    nwgm = xp.exp(geo - xp.max(geo, axis=1, keepdims=True))
    scaled = xp.exp(q * plain + bias - xp.max(q * plain + bias, axis=1, keepdims=True))
    return {"scale": scale, "tolerance": tolerance, "valid": valid, "arithmetic": arithmetic,
            "nwgm": nwgm / xp.sum(nwgm, axis=1, keepdims=True), "scaled": scaled / xp.sum(scaled, axis=1, keepdims=True),
            "mean": arith / xp.sum(arith, axis=1, keepdims=True)}


def relu_check(xp: Any, rng: Any, *, q: float, units: int, outputs: int, networks: int = NETWORKS) -> dict[str, Any]:
    r"""``networks`` ReLU layers :math:`\mathrm{relu}(V(m \odot x) + c)` on the grid (``units`` inputs dropped, the
    last one the constant 1; ``outputs`` units), every mask. Unit 0 of each layer is tuned so that its
    weight-scaled pre-activation :math:`\mu = q \sum_j V_j x_j + c` is exactly 0. Per unit (B, K): the gap
    :math:`\mathbb{E}\,\mathrm{relu}(z) - \mathrm{relu}(\mu)`, the bound :math:`\mathbb{E}|z - \mu|/2`, their ratio with its
    rounding bound (``tolerance``), :math:`\sqrt{\operatorname{Var} z}/2` measured and
    :math:`q(1-q)\sum_j V_j^2 x_j^2` derived (``variance``, ``derived``)."""
    u = unit_roundoff(xp)
    B, n, K = networks, units, outputs
    x = xp.concat([_grid(xp, rng, (B, n - 1), nonzero=True), xp.ones((B, 1), dtype=xp.float64, **_on(rng))], axis=1)
    v = _grid(xp, rng, (B, K, n), nonzero=True)
    free = v[:, :1, : n - 1]
    last = -xp.sum(free * x[:, None, : n - 1], axis=2, keepdims=True)  # unit 0: sum_j V_0j x_j = 0, exactly
    v = xp.concat([xp.concat([free, last], axis=2), v[:, 1:, :]], axis=1)
    c = xp.concat([xp.zeros((B, 1), dtype=xp.float64, **_on(rng)), _grid(xp, rng, (B, K - 1))], axis=1)
    coef = v * x[:, None, :]
    pre = xp.matmul(mask_lattice(xp, n, rng), xp.permute_dims(coef, (0, 2, 1))) + c[:, None, :]  # exact
    g = gamma(3 * n + 3, u)
    mean = lattice_mean(xp, pre, q, n)
    e_mean = g * lattice_mean(xp, xp.abs(pre), q, n) * (1 + g)
    relu = lattice_mean(xp, xp.maximum(pre, 0.0), q, n)
    gap = relu - xp.maximum(mean, 0.0)
    e_gap = g * relu * (1 + g) + e_mean + 2 * u * xp.abs(gap)
    spread = lattice_mean(xp, xp.abs(pre - mean[:, None, :]), q, n)
    e_bound = (e_mean + g * spread) * (1 + g) / 2
    bound = spread / 2
    valid = bound > 2 * e_bound
    safe = xp.where(valid, bound, 1.0)
    ratio = gap / safe
    room = xp.where(valid, bound - e_bound, 1.0)
    tolerance = ((e_gap + xp.abs(ratio) * e_bound) / room + u * xp.abs(ratio)) * (1 + gamma(2, u))
    variance = lattice_mean(xp, (pre - mean[:, None, :]) ** 2, q, n)
    derived = q * (1.0 - q) * xp.sum(coef * coef, axis=2)
    return {"gap": gap, "bound": bound, "ratio": ratio, "tolerance": tolerance, "valid": valid,
            "sd_bound": xp.sqrt(variance) / 2, "variance": variance, "derived": derived, "mean": mean}


def _sci(value: float) -> str:
    """A number for a note's math: ``1.2 \\times 10^{-5}``."""
    mantissa, _, power = f"{value:.2g}".partition("e")
    return mantissa + (rf" \times 10^{{{int(power)}}}" if power else "")


def weight_scaling_experiment(xp: Any, rng: Any, budget: int | None = None, *, q: float, units: int, outputs: int,
                              quantity: str) -> Estimate:
    r"""Exact. ``softmax``: of every valid pair's effective scale (:func:`nwgm_check`), the one farthest from q in
    units of its rounding bound, with that bound as the tolerance; counts the pairs whose arithmetic-mean scale
    misses q. ``relu``: the largest ratio of gap to bound over all units (:func:`relu_check`); it is 1 because
    unit 0 of every layer is built with E z = 0, the bound's equality case (by design: the estimate confirms the
    equality case, it does not find it), while the random units are an event check, counting those above either
    bound beyond rounding."""
    if quantity not in SCALING_QUANTITIES:
        raise ValueError(f"quantity={quantity!r} is not one of {', '.join(SCALING_QUANTITIES)}")
    if quantity == "softmax":
        out = nwgm_check(xp, rng, q=q, units=units, outputs=outputs)
        valid, scale, tol = out["valid"], out["scale"], out["tolerance"]
        score = xp.where(valid, xp.abs(scale - q) / tol, -1.0)
        pick = int(xp.argmax(xp.reshape(score, (-1,))))
        arith = xp.where(valid, xp.abs(out["arithmetic"] - q) - tol, -math.inf)
        worst = float(xp.max(xp.abs(out["nwgm"] - out["scaled"])))
        why = "" if _count(xp, valid) else "every pair of classes has equal logits $(Wh)_k = (Wh)_r$: nothing was measured"
        events: tuple[tuple[str, int], ...] = (
            ("pairs of classes with equal logits $(Wh)_k = (Wh)_r$, left out", _count(xp, ~valid) - NETWORKS),
            (rf"pairs whose scale from the arithmetic mean of the sub-networks misses $q$ beyond the tolerance (off by up "
             rf"to ${_sci(max(float(xp.max(arith)), 0.0))}$; the NWGM is within ${_sci(worst)}$ of "
             r"$\operatorname{softmax}(qWh + b)$ in every class)", _count(xp, arith > 0)),
        )
        return Estimate(float(xp.reshape(scale, (-1,))[pick]), 0.0, 1, backend_name(xp), "float64",
                        float(xp.reshape(tol, (-1,))[pick]), events, inconclusive=why)
    out = relu_check(xp, rng, q=q, units=units, outputs=outputs)
    valid, ratio, tol = out["valid"], out["ratio"], out["tolerance"]
    best = float(xp.max(xp.where(valid, ratio, -math.inf)))
    atol = float(xp.max(xp.where(valid, tol - (best - ratio), -math.inf)))
    random_units = valid[:, 1:]
    above = random_units & (ratio[:, 1:] - tol[:, 1:] > 1.0)
    closest = float(xp.max(xp.where(random_units, ratio[:, 1:], -math.inf)))
    sd_ratio = xp.where(valid, out["gap"] / xp.where(valid, out["sd_bound"], 1.0), -math.inf)
    events = (
        (rf"random units whose gap exceeds $\mathbb{{E}}|z - \mathbb{{E}} z|/2$ beyond rounding, of {_count(xp, random_units)} "
         rf"(the largest ratio among them: ${float(closest):.4f}$)", _count(xp, above)),
        (rf"units whose gap exceeds $\sqrt{{\operatorname{{Var}} z}}/2$ beyond rounding (the largest ratio: "
         rf"${float(xp.max(sd_ratio)):.4f}$)", _count(xp, valid & (sd_ratio - tol > 1.0))),
        ("units whose pre-activation is the same under every mask, left out", _count(xp, ~valid)),
    )
    return Estimate(best, 0.0, 1, backend_name(xp), "float64", atol, events)

