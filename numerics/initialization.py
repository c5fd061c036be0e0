r"""Random ReLU networks at initialization: the kernels behind the ``init.*`` claims.

One replicate is one independent network. Two methods give the same distribution:

- ``dense`` simulates real networks: ``B`` networks at once as stacked float32 weights
  ``(B, width, fan_in)``, one batched ``matmul`` per layer applied to the input and the
  tangent together, streamed over depth (one layer's weights in memory at a time),
  statistics accumulated in float64. Each column is rescaled to unit mean square after
  every layer and the scale kept as a float64 logarithm, so no depth overflows float32.
- ``gram`` samples the exact law of the Gram matrix of (input, tangent) layer by layer
  (:func:`proofs.initialization.derive_gram_reduction`): a Binomial(n, 1/2) count of
  active units and chi-square variables, O(1) work per layer instead of n^2.

Shapes: ``B`` networks, widths all ``fan_in`` except the last layer's ``width_out``.
The input is ``x = sqrt(q0) (1, ..., 1)``, the tangent ``u = (1, 0, ..., 0)``; by the rotation
invariance of Gaussian weights neither direction matters.

**Scale-free.** A ReLU network is positively homogeneous: the same weights map ``sqrt(q0) x`` to
``sqrt(q0)`` times the outputs (the masks depend on signs only) and leave the Jacobian unchanged, so
the forward statistic at ``q0`` is *exactly* ``q0`` times the one at ``q0 = 1``, draw by draw (the Gram
chain is homogeneous of degree (2, 1, 0) in ``(A, x.v, C)`` likewise). Both kernels therefore run at
unit input scale, where every intermediate stays within ``(c/2)^L`` of 1 (``1e-121`` to ``1e60`` over
the domain) whatever ``q0``, and multiply by ``q0`` last; the experiments multiply the *estimate*
(:func:`rescaled`: one rounding, added to the tolerance), so no replicate is ever formed at ``1e-300``
(the accumulator keeps its moments on a power-of-two scale of their own). A quantity that float64
cannot resolve (below its spacing among the subnormals, or above ``1.8e308``) comes back
``inconclusive``, never as a false verdict.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from .estimate import FLOOR_ULPS, Accumulator, Estimate
from .namespaces import backend_name
from .namespaces import count_true as _count
from .namespaces import on_device as _on

__all__ = [
    "METHODS",
    "ACTIVATIONS",
    "relu_network",
    "activate",
    "he_forward_experiment",
    "he_backward_experiment",
    "relu_critical_experiment",
    "xavier_experiment",
    "gain_experiment",
    "dense_batch",
    "gram_batch",
    "rescaled",
]

METHODS = ("gram", "dense")
ACTIVATIONS = ("relu", "leaky_relu", "linear", "tanh", "selu")
SELU_LAMBDA = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717
_DENSE_FLOATS = 1 << 24  # most float32 weights drawn at once (64 MiB)
_GRAM_FLOATS = 1 << 22  # most float64 draws per array of the gram method (32 MiB): networks x layers


def dense_batch(fan_in: int, width: int) -> int:
    """Networks per batch of the dense method: one layer's weights within 64 MiB."""
    return max(1, _DENSE_FLOATS // (fan_in * max(fan_in, width)))


def gram_batch(depth: int) -> int:
    """Networks per batch of the gram method: every layer's draws of a batch within 32 MiB per array."""
    return max(1, _GRAM_FLOATS // max(1, depth))




def _dense(xp: Any, rng: Any, b: int, fan_in: int, width_out: int, depth: int, c: float, q0: float, last_relu: bool):
    """``b`` real networks: (||h^L||^2 / width_L, ||v^L||^2, inactive-layer flags), float64."""
    f32, f64 = xp.float32, xp.float64
    on = _on(rng)
    # columns: the input direction at unit mean square (q0 = 1: homogeneity, q0 multiplies at the end)
    # and the tangent u = e_1, also stored at unit mean square
    first = xp.astype(xp.arange(fan_in, **on) == 0, f32) * math.sqrt(fan_in)
    state = xp.stack([xp.ones((b, fan_in), dtype=f32, **on), xp.broadcast_to(first, (b, fan_in))], axis=2)
    log_scale = xp.stack([xp.zeros(b, dtype=f64, **on), xp.full(b, -math.log(fan_in), dtype=f64, **on)], axis=1)
    gain = math.sqrt(c / fan_in)
    dead = xp.zeros(b, dtype=xp.bool, **on)
    for layer in range(depth):
        width = width_out if layer == depth - 1 else fan_in
        weights = rng.standard_normal((b, width, fan_in), dtype=f32)
        out = xp.matmul(weights, state)  # (b, width, 2): pre-activation and tangent together
        del weights
        if layer < depth - 1 or last_relu:
            out = xp.where(out[:, :, :1] > 0, out, 0.0)  # relu on h; the same mask D^l on the tangent
        sq = xp.sum(xp.astype(out, f64) ** 2, axis=1)  # (b, 2), float64 accumulation
        alive = sq > 0
        dead = dead | ~alive[:, 0]
        mean_sq = xp.where(alive, sq / width, 1.0)
        log_scale = log_scale + xp.log(mean_sq) + 2 * math.log(gain)
        log_scale = xp.where(alive, log_scale, -math.inf)
        state = out / xp.astype(xp.sqrt(mean_sq), f32)[:, None, :]
    value = xp.exp(log_scale)  # mean square of each column after the last layer
    return value[:, 0] * q0, value[:, 1] * width_out, dead


def _gram(xp: Any, rng: Any, b: int, fan_in: int, width_out: int, depth: int, c: float, q0: float, last_relu: bool):
    """The same statistics from the exact Gram-matrix chain (A, B, C) = (||x||^2, x.v, ||v||^2).

    No draw depends on the chain's state, so a batch draws every layer's variables at once (one
    call per kind, shape ``(layers, b)``): the number of generator calls, and of the host round trips
    a generator may make for array parameters, does not grow with depth. Batches of
    :func:`gram_batch` networks bound the memory."""
    per = gram_batch(depth)
    if b > per:
        parts = [_gram(xp, rng, min(per, b - i), fan_in, width_out, depth, c, q0, last_relu) for i in range(0, b, per)]
        return tuple(xp.concat([part[j] for part in parts]) for j in range(3))
    f64 = xp.float64
    on = _on(rng)
    s = c / fan_in
    relu_layers = depth if last_relu else depth - 1
    if relu_layers:
        # active units per ReLU layer: Binomial(width, 1/2); hidden layers have width fan_in
        counts = [rng.binomial(fan_in, 0.5, size=(min(relu_layers, depth - 1), b))] if depth > 1 else []
        if last_relu:
            counts.append(rng.binomial(width_out, 0.5, size=(1, b)))
        k = xp.astype(xp.concat(counts, axis=0) if len(counts) > 1 else counts[0], f64)
        chi_k = 2.0 * rng.standard_gamma(k / 2.0)
        chi_k1 = 2.0 * rng.standard_gamma(xp.maximum(k - 1.0, 0.0) / 2.0)
        zeta = xp.where(k > 0, rng.standard_normal((relu_layers, b), dtype=f64), 0.0)
    if not last_relu:  # linear last layer: each of the width rows is a fresh centred Gaussian
        chi_out = 2.0 * rng.standard_gamma(width_out / 2.0, size=(2, b))
    a = xp.full(b, float(fan_in), dtype=f64, **on)  # q0 = 1: the chain is homogeneous, q0 multiplies at the end
    cross = xp.ones(b, dtype=f64, **on)  # x . u with u = e_1
    cc = xp.ones(b, dtype=f64, **on)
    dead = xp.zeros(b, dtype=xp.bool, **on)
    for layer in range(relu_layers):
        alive = a > 0
        safe_a = xp.where(alive, a, 1.0)
        rho = xp.where(alive, cross / safe_a, 0.0)
        var_e = s * xp.maximum(cc - cross * rho, 0.0)
        a_new = s * a * chi_k[layer, :]
        root = xp.sqrt(a_new * var_e)
        z = zeta[layer, :]
        cross_new = rho * a_new + root * z
        cc_new = rho**2 * a_new + 2 * rho * root * z + var_e * (z**2 + chi_k1[layer, :])
        a, cross, cc = a_new, xp.where(alive, cross_new, 0.0), xp.where(alive, cc_new, 0.0)
        dead = dead | (a == 0)
    if not last_relu:
        a = s * a * chi_out[0, :]
        cc = s * cc * chi_out[1, :]
    return a / width_out * q0, cc, dead


def relu_network(
    xp: Any,
    rng: Any,
    b: int,
    *,
    fan_in: int,
    depth: int,
    c: float,
    q0: float = 1.0,
    width_out: int | None = None,
    last_relu: bool = False,
    method: str = "gram",
):
    """Statistics of ``b`` independent random ReLU networks: per network the output's mean
    squared pre-activation ``||h^L||^2 / width_out``, the squared norm of the Jacobian
    applied to a unit vector ``||J u||^2``, and whether some layer was wholly inactive.

    Both run at unit input scale and multiply the forward statistic by ``q0`` last (homogeneity: exact
    in law, one rounding in floating point). Each statistic has its exact law under either method. With ``gram`` and a linear last
    layer the two are drawn independently there, so their *joint* law is not a network's:
    use one statistic per experiment (as every claim does)."""
    if method not in METHODS:
        raise ValueError(f"method={method!r} is not one of {', '.join(METHODS)}")
    width_out = fan_in if width_out is None else width_out
    kernel = _dense if method == "dense" else _gram
    return kernel(xp, rng, b, fan_in, width_out, depth, c, q0, last_relu)


def _network_estimate(xp, rng, budget, statistic: int, method: str, q0: float = 1.0, **network) -> Estimate:
    """The mean of one statistic over ``budget`` networks, measured at unit input scale and rescaled by
    ``q0`` (module docstring)."""
    dtype = "float32" if method == "dense" else "float64"
    acc = Accumulator(backend=backend_name(xp), dtype=dtype)
    if method == "dense":
        per_batch = dense_batch(network["fan_in"], network.get("width_out") or network["fan_in"])
    else:
        per_batch = gram_batch(network["depth"])
    done = 0
    while done < budget:
        b = min(per_batch, budget - done)
        out = relu_network(xp, rng, b, method=method, **network)
        acc.add(out[statistic])
        acc.count("networks with an inactive layer", _count(xp, out[2]))  # one transfer per batch
        done += b
    return rescaled(acc.estimate(), q0 if statistic == 0 else 1.0)


def _ldexp(x: float, k: int) -> float:
    """``x 2^k``, an infinity past the largest double (``math.ldexp`` raises there)."""
    try:
        return math.ldexp(x, k)
    except OverflowError:
        return math.copysign(math.inf, x)


def rescaled(est: Estimate, factor: float) -> Estimate:
    """``est``, measured on values ``x / factor`` (``factor > 0``), back on the scale of ``x``.

    ``factor = m 2^e`` (``math.frexp``, exact): each field becomes ``ldexp(field * m, e)``, one rounding
    of a normal product and at most one more where the result is subnormal: the mean is off by at most
    one unit in its last place, the standard error by half a unit of its own (among the subnormals
    that unit is ``2^-1074``, not relatively small). ``FLOOR_ULPS`` units of the mean's last place join
    the tolerance (whose own product is rounded up), covering both for any z-test up to ``z = 14``.
    Skewness and kurtosis are unchanged (a positive scale). Where float64 cannot hold the result (it
    overflows, or its spacing there is coarser than the standard error) the estimate is marked
    ``inconclusive``, with the scale in its text: more replicates cannot help.

    >>> e = rescaled(Estimate(1.5, 0.25, 10, atol=1e-15), 1e-300)
    >>> e.mean == 1.5e-300, e.inconclusive
    (True, '')
    >>> rescaled(Estimate(1.5, 0.25, 10), 1e-323).inconclusive.startswith("at the quantity's scale, about $10^{-323}$")
    True
    """
    mantissa, exponent = math.frexp(factor)

    def scale(x: float) -> float:
        return _ldexp(x * mantissa, exponent)

    mean, stderr = scale(est.mean), scale(est.stderr)
    atol = math.nextafter(scale(est.atol), math.inf) + FLOOR_ULPS * math.ulp(mean) if math.isfinite(mean) else math.inf
    why = ""
    if est.mean != 0 and (not math.isfinite(mean) or math.ulp(mean) > (stderr if est.stderr > 0 else abs(mean))):
        log10 = math.log10(abs(est.mean)) + math.log10(factor)
        why = (f"the quantity's scale, about $10^{{{log10:.0f}}}$, is beyond float64's range" if not math.isfinite(mean)
               else f"at the quantity's scale, about $10^{{{log10:.0f}}}$, float64's spacing "
                    f"$2^{{{math.frexp(math.ulp(mean))[1] - 1}}}$ is coarser than the measurement's standard error: "
                    "float64 cannot resolve it")
    return replace(est, mean=mean, stderr=stderr, atol=atol, inconclusive=est.inconclusive or why)


def he_forward_experiment(xp: Any, rng: Any, budget: int, *, fan_in: int, depth: int, c: float, q0: float, method: str) -> Estimate:
    """Mean over ``budget`` networks of ||h^L||^2 / n_L (the last layer linear)."""
    return _network_estimate(xp, rng, budget, 0, method, fan_in=fan_in, depth=depth, c=c, q0=q0)


def he_backward_experiment(
    xp: Any, rng: Any, budget: int, *, fan_in: int, fan_out: int, depth: int, c: float, method: str
) -> Estimate:
    """Mean over ``budget`` networks of ||J u||^2 for a unit vector u (the last layer linear)."""
    return _network_estimate(xp, rng, budget, 1, method, fan_in=fan_in, depth=depth, c=c, width_out=fan_out)


def relu_critical_experiment(xp: Any, rng: Any, budget: int, *, fan_in: int, depth: int, c: float, method: str) -> Estimate:
    """Mean over ``budget`` networks of ||delta^L||^2 / ||delta^0||^2, every layer ReLU."""
    return _network_estimate(xp, rng, budget, 1, method, fan_in=fan_in, depth=depth, c=c, last_relu=True)


def xavier_experiment(xp: Any, rng: Any, budget: int, *, n_in: int, n_out: int, method: str) -> Estimate:
    """Mean over ``budget`` replicates of (forward factor) x (backward factor), each from its
    own Glorot-initialised layer: independent, so the mean is the product. ``dense`` draws
    float32 layers and multiplies; ``gram`` draws ||W x||^2 / ||x||^2 = Var[W] chi2(n_out) and
    ||W^T d||^2 / ||d||^2 = Var[W] chi2(n_in) directly (Gaussian rows)."""
    sd = math.sqrt(2.0 / (n_in + n_out))
    if method == "gram":
        acc = Accumulator(backend=backend_name(xp))
        done = 0
        while done < budget:
            b = min(1 << 20, budget - done)
            forward = 2.0 * rng.standard_gamma(n_out / 2.0, size=b) * n_in / n_out
            backward = 2.0 * rng.standard_gamma(n_in / 2.0, size=b) * n_out / n_in
            acc.add(forward * backward * sd**4)
            done += b
        return acc.estimate()
    if method != "dense":
        raise ValueError(f"method={method!r} is not one of {', '.join(METHODS)}")
    acc = Accumulator(backend=backend_name(xp), dtype="float32")
    per_batch = max(1, _DENSE_FLOATS // (2 * n_in * n_out))
    done = 0
    while done < budget:
        b = min(per_batch, budget - done)
        f32, f64 = xp.float32, xp.float64
        x = rng.standard_normal((b, n_in, 1), dtype=f32)
        d = rng.standard_normal((b, n_out, 1), dtype=f32)
        forward = xp.matmul(rng.standard_normal((b, n_out, n_in), dtype=f32), x)
        backward = xp.matmul(xp.matrix_transpose(rng.standard_normal((b, n_out, n_in), dtype=f32)), d)
        ratio_f = (xp.sum(xp.astype(forward, f64) ** 2, axis=(1, 2)) / n_out) / (xp.sum(xp.astype(x, f64) ** 2, axis=(1, 2)) / n_in)
        ratio_b = (xp.sum(xp.astype(backward, f64) ** 2, axis=(1, 2)) / n_in) / (xp.sum(xp.astype(d, f64) ** 2, axis=(1, 2)) / n_out)
        acc.add(ratio_f * ratio_b * sd**4)
        done += b
    return acc.estimate()


def activate(xp: Any, name: str, z: Any, negative_slope: float = 0.01) -> Any:
    """The activation functions as deep-learning libraries define them."""
    if name == "relu":
        return xp.maximum(z, 0.0)
    if name == "leaky_relu":
        return xp.where(z >= 0, z, negative_slope * z)
    if name == "linear":
        return z
    if name == "tanh":
        return xp.tanh(z)
    if name == "selu":
        return SELU_LAMBDA * xp.where(z > 0, z, SELU_ALPHA * xp.expm1(xp.minimum(z, 0)))
    raise ValueError(f"activation={name!r} is not one of {', '.join(ACTIVATIONS)}")


def gain_experiment(xp: Any, rng: Any, budget: int, *, activation: str, negative_slope: float) -> Estimate:
    """The gain 1/sqrt(E[phi(z)^2]) from ``budget`` draws z ~ N(0, 1), with its standard
    error by the delta method (a smooth function of a mean)."""
    acc = Accumulator(backend=backend_name(xp))
    chunk = 1 << 20
    done = 0
    while done < budget:
        b = min(chunk, budget - done)
        acc.add(activate(xp, activation, rng.standard_normal(b, dtype=xp.float64), negative_slope) ** 2)
        done += b
    m = acc.estimate()
    gain = 1.0 / math.sqrt(m.mean)
    # d/dm m^(-1/2) = -(1/2) m^(-3/2): the delta method's standard error and floor
    slope = 0.5 * m.mean**-1.5
    # the gain is locally an affine map of the replicates' mean with negative slope -slope: the
    # replicates' kurtosis is unchanged and their skewness changes sign
    skewness = None if m.skewness is None else -m.skewness
    return replace(m, mean=gain, stderr=slope * m.stderr, atol=slope * m.atol, skewness=skewness)
