r"""Parities: the kernels behind ``parity.gradient``, by exact enumeration.

For a network :math:`p_w(x) = \sum_u a_u\,\sigma(W_u \cdot x + b_u)` (one hidden layer of ``width``
units, no output bias, float64) every input :math:`x \in \{\pm 1\}^d` and every parity target
:math:`\chi_S`, :math:`S \subseteq [d]`, are enumerated:

- :func:`per_example_gradients`: :math:`p_w(x)` and :math:`g(x) = \nabla_w p_w(x)` in all
  :math:`P = \mathrm{width}\,(d + 2)` parameters, analytically, batched over the :math:`2^d` inputs;
- :func:`walsh_hadamard`: :math:`\sum_x \chi_S(x)\, g(x)` for all :math:`2^d` sets S at once, the fast
  Walsh-Hadamard transform in stages of up to 6 bits (each a matmul by the 64 x 64 table of parities of
  those bits, the Kronecker factorisation of the full table): the same numbers as the dense
  :math:`2^d \times 2^d` table of parities, which it never forms;
- :func:`gradient_variance`: for the attaining network (ReLU, every unit off at :math:`x = \mathbf{1}`)
  and :data:`NETWORKS` random networks (half tanh, half ReLU), the loss gradients
  :math:`\nabla F_S = \mathbb{E}_x[p_w g] - \mathbb{E}_x[\chi_S g]` of all :math:`2^d` targets, their variance
  over S, :math:`\mathbb{E}_x\|g\|^2` and the ratio :math:`R = \mathrm{Var}_S / \mathbb{E}_x\|g\|^2`, with a
  rigorous bound on the rounding of R.

The identity behind the claim, :math:`\mathrm{Var}_S = \mathbb{E}_x\|g\|^2/2^d - \|g(\mathbf{1})\|^2/4^d`
(:mod:`proofs.parity`), is a property of the Walsh transform of *any* function g on the cube, so it
holds for the computed gradients themselves (a linear model :math:`w \cdot \tilde g(x)` has exactly
those gradients): the tolerance covers the arithmetic after the gradients, not their own rounding.
Because the identity holds for any g, it cannot tell whether g is the model's gradient: :func:`gradient_check`
compares :math:`g(x) \cdot v`, along a random direction v per network, with the model's own derivative by a complex
step, :math:`\operatorname{Im} p_{w + ihv}(x)/h` (no cancellation, so :math:`h = 2^{-100}` leaves no truncation
error to speak of), within a bound from the rounding of both computations.
Rounding bounds use the standard model (Higham 2002, Sections 3.1 and 4.2: a sum of n terms in
any order is off by at most :math:`\gamma_{n-1} \sum |x_i|`), with tanh (real and complex) assumed correct to
:data:`TANH_ULPS` units in the last place.
"""

from __future__ import annotations

import math
from typing import Any

from .estimate import Estimate
from .namespaces import backend_name
from .namespaces import count_true as _count
from .namespaces import on_device as _on
from .rounding import gamma, unit_roundoff

__all__ = ["NETWORKS", "KINDS", "RADIX_BITS", "STEP", "TANH_ULPS", "cube", "parity_table", "transform_terms",
           "walsh_hadamard", "per_example_gradients", "network", "direction", "gradient_check", "gradient_variance",
           "gradient_variance_experiment"]

NETWORKS = 8  # random networks per run, half tanh and half ReLU, beside the attaining one
KINDS = ("attaining", "tanh", "relu")
_BIAS = 0.5  # the random networks' biases are N(0, 0.25)
STEP = 2.0**-100  # the complex step h of the gradient check (a power of two: dividing by it is exact)
TANH_ULPS = 4  # tanh, real and complex (each part), assumed correct to this many units in the last place


def cube(xp: Any, d: int, **on: Any) -> Any:
    r"""The :math:`2^d` points of :math:`\{\pm 1\}^d` as rows (float64): row k has :math:`x_i = -1` where bit i
    of k is set, so row 0 is :math:`\mathbf{1}` and :math:`\chi_S(x_k) = (-1)^{|S \cap k|}` is the natural
    (Sylvester) order of :func:`walsh_hadamard`."""
    k = xp.arange(2**d, dtype=xp.int64, **on)
    i = xp.arange(d, dtype=xp.int64, **on)
    bits = xp.bitwise_and(xp.bitwise_right_shift(k[:, None], i[None, :]), 1)
    return 1.0 - 2.0 * xp.astype(bits, xp.float64)


RADIX_BITS = 6  # the transform works on 6 bits of the index at a time: a matmul by a 64 x 64 table


def _radices(d: int) -> list[int]:
    """The bits of the input index taken per stage, most significant group first (they add up to d)."""
    return [RADIX_BITS] * (d // RADIX_BITS) + ([d % RADIX_BITS] if d % RADIX_BITS else [])


def transform_terms(d: int) -> int:
    """The rounding count of :func:`walsh_hadamard` on 2^d rows: every stage is a dot product of 2^b terms,
    so the result is off by at most gamma_(this) times sum_k |v_k|."""
    return sum(2**b for b in _radices(d))


def parity_table(xp: Any, bits: int, **on: Any) -> Any:
    r"""The :math:`2^b \times 2^b` table :math:`\chi_S(x_k) = (-1)^{|s \cap k|}` (float64, exact): row s the set of
    the set bits of s, column k the point of :func:`cube`."""
    k = xp.arange(2**bits, dtype=xp.int64, **on)
    i = xp.arange(bits, dtype=xp.int64, **on)
    flags = xp.astype(xp.bitwise_and(xp.bitwise_right_shift(k[:, None], i[None, :]), 1), xp.float64)
    shared = xp.matmul(flags, xp.permute_dims(flags, (1, 0)))  # |s & k|, exact small integers
    return 1.0 - 2.0 * (shared - 2.0 * xp.floor(shared / 2.0))


def walsh_hadamard(xp: Any, values: Any, **on: Any) -> Any:
    r""":math:`\sum_k (-1)^{|s \cap k|} v_k` for every s, along axis 0 of ``values`` (:math:`2^d` rows, any
    columns), unnormalised: the Kronecker factorisation of the table of parities,
    :math:`H_{2^d} = H_{2^{b_1}} \otimes \cdots \otimes H_{2^{b_r}}` (:math:`b_i \le 6` bits each), applied one
    factor at a time by a matmul, never forming the :math:`2^d \times 2^d` table; ``on`` places the tables
    (``device=``, beside ``values``)."""
    n, cols = values.shape
    d = n.bit_length() - 1
    lower = n
    for bits in _radices(d):  # the most significant bits first
        size = 2**bits
        lower //= size
        table = parity_table(xp, bits, **on)
        blocks = xp.reshape(values, (n // (size * lower), size, lower * cols))
        values = xp.reshape(xp.matmul(table[None, :, :], blocks), (n, cols))
    return values


def per_example_gradients(xp: Any, x: Any, w: Any, b: Any, a: Any, activation: str) -> tuple[Any, Any]:
    r"""The outputs :math:`p_w(x)` (shape ``(N,)``) and gradients :math:`\nabla_w p_w(x)` (``(N, P)``, columns
    :math:`W` unit by unit, then b, then a) of :math:`\sum_u a_u \sigma(W_u \cdot x + b_u)` at the rows of ``x``;
    ``relu`` takes :math:`\sigma'(0) = 0`."""
    if activation not in ("tanh", "relu"):
        raise ValueError(f"activation={activation!r} is not one of tanh, relu")
    z = xp.matmul(x, xp.permute_dims(w, (1, 0))) + b[None, :]  # (N, m)
    act = xp.tanh(z) if activation == "tanh" else xp.where(z > 0, z, 0.0)
    outer = a[None, :] * _slope(xp, z, act, activation)  # d p / d b_u
    n, m = outer.shape
    grad_w = xp.reshape(outer[:, :, None] * x[:, None, :], (n, m * x.shape[1]))
    return xp.matmul(act, a), xp.concat([grad_w, outer, act], axis=1)


def _slope(xp: Any, z: Any, act: Any, activation: str) -> Any:
    """:math:`\\sigma'(z)` from the activation's value: :math:`1 - \\tanh^2 z`, or the indicator of :math:`z > 0`."""
    return 1.0 - act * act if activation == "tanh" else xp.astype(z > 0, xp.float64)


def direction(xp: Any, rng: Any, d: int, width: int) -> tuple[Any, Any, Any]:
    """A random direction ``(vW, vb, va)`` in the parameters of a network (standard normal entries)."""
    return (rng.standard_normal((width, d), dtype="float64"), rng.standard_normal((width,), dtype="float64"),
            rng.standard_normal((width,), dtype="float64"))


def gradient_check(xp: Any, x: Any, weights: tuple[Any, Any, Any], grads: Any, along: tuple[Any, Any, Any],
                   activation: str) -> tuple[Any, Any]:
    r"""``(worst, beyond)``: the largest :math:`|q(x) - g(x) \cdot v|` over its bound, and the inputs where it exceeds
    it, with :math:`q(x) = \operatorname{Im} p_{w + ihv}(x)/h` the model's derivative along ``along`` by a complex
    step (:data:`STEP`). The bound adds the rounding of both sides against the exact derivative, per unit u, with
    :math:`Z_u = \sum_i |W_{ui}| + |b_u|`, :math:`V_u = \sum_i |v_{W,ui}| + |v_{b,u}|` (``x`` is :math:`\pm 1`):
    :math:`|a_u| V_u (3\gamma Z_u + (3c + 3) u + 4 h^2 V_u^2) + |a_u| \gamma V_u + |v_{a,u}| (2\gamma Z_u + 2 c u
    |\sigma_u| + 4 h^2 V_u^2)`, :math:`\gamma = \gamma_{d+1}`, c = :data:`TANH_ULPS` (0 for relu), plus
    :math:`(\gamma_P + \gamma_{m+2})\sum_u (|a_u| V_u + |v_{a,u}||\sigma_u|)` for the two final sums; a relu unit
    within rounding of its kink adds :math:`2|a_u| V_u` (its derivative is not determined there)."""
    w, b, a = weights
    vw, vb, va = along
    n, d = x.shape
    m = w.shape[0]
    u = unit_roundoff(xp)
    c = TANH_ULPS if activation == "tanh" else 0
    cx = xp.complex128
    moved = xp.astype(w, cx) + xp.astype(vw, cx) * (1j * STEP)
    shift = xp.astype(b, cx) + xp.astype(vb, cx) * (1j * STEP)
    zc = xp.matmul(xp.astype(x, cx), xp.permute_dims(moved, (1, 0))) + shift
    sig = xp.tanh(zc) if activation == "tanh" else xp.where(xp.real(zc) > 0, zc, xp.zeros_like(zc))
    q = xp.imag(xp.matmul(sig, xp.astype(a, cx) + xp.astype(va, cx) * (1j * STEP))) / STEP
    gv = xp.matmul(grads, xp.concat([xp.reshape(vw, (m * d,)), vb, va]))
    zabs = xp.sum(xp.abs(w), axis=1) + xp.abs(b)  # (m,)
    vabs = xp.sum(xp.abs(vw), axis=1) + xp.abs(vb)
    g, tiny = gamma(d + 1, u), 4 * (STEP * vabs) ** 2  # truncation of the complex step, relative
    act = xp.abs(xp.real(sig))  # (N, m)
    av, aa = (xp.abs(a) * vabs)[None, :], xp.abs(va)[None, :]
    sums = gamma(grads.shape[1], u) + gamma(m + 2, u)  # g . v and the complex output's m-term sum
    per_unit = (av * (3 * g * zabs + (3 * c + 3) * u + tiny) + (xp.abs(a) * g * vabs)[None, :]
                + aa * (2 * g * zabs + tiny) + 2 * c * u * aa * act + sums * (av + aa * act))
    if activation == "relu":
        kink = xp.abs(xp.real(zc)) <= g * zabs[None, :]
        per_unit = per_unit + xp.where(kink, 2 * av, 0.0)
    bound = xp.sum(per_unit, axis=1) * (1 + gamma(2 * m + 8, u)) + 1e-300
    ratio = xp.abs(q - gv) / bound
    return xp.max(ratio), xp.sum(xp.astype(ratio > 1.0, xp.int64))


def network(xp: Any, rng: Any, d: int, width: int, kind: str) -> tuple[Any, Any, Any]:
    r"""Weights ``(W, b, a)`` of one network: :math:`W \sim N(0, 1/d)`, :math:`a \sim N(0, 1/\mathrm{width})`;
    a random network (``tanh``, ``relu``) has :math:`b \sim N(0, 1/4)`; the ``attaining`` one (ReLU) has
    :math:`b_u = -W_u \cdot \mathbf{1} - \theta_u \max_x (W_u \cdot x - W_u \cdot \mathbf{1})`, :math:`\theta_u` uniform
    on [0.1, 0.9], so that every unit is off at :math:`\mathbf{1}` (by a margin far above rounding) and on
    somewhere (a unit whose weights are all positive, which no bias could turn on, is negated first)."""
    if kind not in KINDS:
        raise ValueError(f"kind={kind!r} is not one of {', '.join(KINDS)}")
    w = rng.standard_normal((width, d), dtype="float64") / math.sqrt(d)
    a = rng.standard_normal((width,), dtype="float64") / math.sqrt(width)
    if kind != "attaining":
        return w, _BIAS * rng.standard_normal((width,), dtype="float64"), a
    dead = xp.all(w >= 0, axis=1)
    w = xp.where(dead[:, None], -w, w)
    gain = 2.0 * xp.sum(xp.maximum(-w, 0.0), axis=1)  # max over x of W.x - W.1
    theta = 0.1 + 0.8 * rng.random((width,), dtype="float64")
    return w, -xp.sum(w, axis=1) - theta * gain, a


def _measure(xp: Any, x: Any, weights: tuple[Any, Any, Any], activation: str, along: tuple[Any, Any, Any] | None = None,
             **on: Any) -> dict[str, Any]:
    """One network: the ratio R, its rounding bound, the identity's residual and bound, t/2^d, and the gradient
    check along ``along`` (default: every parameter's direction 1)."""
    n, d = x.shape
    u = unit_roundoff(xp)
    out, grads = per_example_gradients(xp, x, *weights, activation)
    along = (xp.ones_like(weights[0]), xp.ones_like(weights[1]), xp.ones_like(weights[2])) if along is None else along
    worst, beyond = gradient_check(xp, x, weights, grads, along, activation)
    cols = grads.shape[1]
    coeff = walsh_hadamard(xp, grads, **on) / n  # E_x[chi_S g], every S (1/n: a power of two, exact)
    free = xp.mean(out[:, None] * grads, axis=0)  # E_x[p g]: the same for every target
    loss_grads = free[None, :] - coeff  # grad F_S = E_x[(p - chi_S) g], row S
    centre = xp.mean(loss_grads, axis=0)
    variance = xp.mean(xp.sum((loss_grads - centre[None, :]) ** 2, axis=1))
    energy = xp.mean(xp.sum(grads * grads, axis=1))  # E_x ||g||^2
    at_one = xp.sum(grads[0, :] ** 2)  # ||g(1)||^2 (row 0 is x = 1)
    # rounding: the transform (gamma of its stages' dot-product lengths), then grad F_S = free - coeff (free is
    # one constant for all S), the centring, the squares and the sums (Higham 2002, Section 4.2)
    eps = xp.sqrt(xp.sum((gamma(transform_terms(d), u) * xp.mean(xp.abs(grads), axis=0)
                          + u * (xp.abs(free) + xp.max(xp.abs(coeff), axis=0))) ** 2))
    centre_err = xp.sum((gamma(n, u) * xp.mean(xp.abs(loss_grads), axis=0)) ** 2)  # a centre off by e adds |e|^2
    g_a, g_b = gamma(n + cols + 1, u), gamma(n + cols - 1, u)
    upper = variance / (1 - g_a)
    abs_v = g_a * upper + centre_err + 2 * eps * (xp.sqrt(upper) + eps) + eps * eps
    rel_e = g_b / (1 - g_b)
    safe = energy > 0
    denom = xp.where(safe, energy, 1.0)
    ratio = xp.where(safe, variance / denom, 0.0)
    safety = 1 + gamma(64, u)  # the bounds' own arithmetic
    tolerance = ((abs_v + variance * rel_e) / (denom * (1 - rel_e)) + u * ratio) * safety
    predicted = denom / n - at_one / (n * n)
    residual = xp.abs(variance - predicted)
    residual_tol = (abs_v + rel_e * energy / n + gamma(cols, u) * at_one / (n * n) + gamma(3, u) * (energy / n + at_one / (n * n))) * safety
    return {"ratio": ratio, "tolerance": tolerance, "residual": residual, "residual_tolerance": residual_tol,
            "defect": xp.where(safe, at_one / (n * denom), 0.0), "valid": safe, "at_one": at_one, "variance": variance,
            "energy": energy, "gradient_worst": worst, "gradient_beyond": beyond}


def gradient_variance(xp: Any, rng: Any, *, d: int, width: int, networks: int = NETWORKS) -> dict[str, Any]:
    r"""The attaining network (index 0) and ``networks`` random ones (tanh first, then ReLU): per network,
    arrays of length ``networks + 1``: ``ratio`` :math:`R = \mathrm{Var}_S/\mathbb{E}_x\|g\|^2`, its rounding
    bound ``tolerance``, the identity's ``residual`` :math:`|\mathrm{Var}_S - \mathbb{E}_x\|g\|^2/2^d +
    \|g(\mathbf{1})\|^2/4^d|` with its bound ``residual_tolerance``, the ``defect``
    :math:`t/2^d = \|g(\mathbf{1})\|^2/(2^d\,\mathbb{E}_x\|g\|^2)` (so that :math:`2^d R = 1 - t/2^d` exactly),
    ``valid`` (a gradient not identically 0), and the ``variance`` :math:`\mathrm{Var}_S`, ``energy``
    :math:`\mathbb{E}_x\|g\|^2` and ``at_one`` :math:`\|g(\mathbf{1})\|^2` themselves; ``kinds`` names them."""
    on = _on(rng)
    x = cube(xp, d, **on)
    kinds = ("attaining",) + tuple("tanh" if i < (networks + 1) // 2 else "relu" for i in range(networks))
    nets = [network(xp, rng, d, width, kind) for kind in kinds]
    directions = [direction(xp, rng, d, width) for _ in kinds]  # drawn after the networks
    rows = [_measure(xp, x, net, "tanh" if kind == "tanh" else "relu", along, **on)
            for kind, net, along in zip(kinds, nets, directions, strict=True)]
    out: dict[str, Any] = {key: xp.stack([row[key] for row in rows]) for key in rows[0]}
    out["kinds"] = kinds
    return out


def _closeness(scaled: float) -> str:
    """``$2^d R = 1 - 3.1\\times 10^{-3}$`` for the closest random network, in LaTeX math."""
    if not math.isfinite(scaled):
        return "none kept"
    if scaled >= 1:
        return "$2^d R = 1$ to rounding"
    mantissa, _, power = f"{1 - scaled:.2g}".partition("e")
    return f"$2^d R = 1 - {mantissa}" + (rf"\times 10^{{{int(power)}}}$" if power else "$")


def _fraction(x: float) -> str:
    """A small positive number in LaTeX math: ``0.031``, ``2.1\\times 10^{-17}``."""
    mantissa, _, power = f"{x:.2g}".partition("e")
    return mantissa + (rf"\times 10^{{{int(power)}}}" if power else "")


def gradient_variance_experiment(xp: Any, rng: Any, budget: int | None = None, *, d: int, width: int) -> Estimate:
    r"""The largest :math:`R = \mathrm{Var}_S/\mathbb{E}_x\|\nabla_w p_w\|^2` over the attaining network and
    :data:`NETWORKS` random ones, every input and every parity enumerated. Exact: the attaining network is built
    with :math:`\nabla_w p_w(\mathbf{1}) = 0`, so by the identity it reaches :math:`2^{-d}` by design; the random
    networks test the identity and the bound. The tolerance is the largest rounding bound, less how far that
    network lies below the estimate.

    A network off the identity beyond rounding fails the run: the estimate is then, for the network farthest off
    (against its bound), the supremum its identity gives, :math:`(\mathrm{Var}_S + \|g(\mathbf{1})\|^2/4^d) /
    \mathbb{E}_x\|g\|^2`, with the identity's rounding bound as tolerance, so that it misses :math:`2^{-d}`. A
    network whose gradients differ from the model's own derivative (:func:`gradient_check`) makes the run
    inconclusive: the identity holds for any g, so the runs would not have measured gradients. Events: random
    networks above the bound, networks off the identity, gradients off the model's, networks left out."""
    out = gradient_variance(xp, rng, d=d, width=width)
    valid, ratio, tol = out["valid"], out["ratio"], out["tolerance"]
    if not bool(valid[0]) or float(out["at_one"][0]) != 0.0:
        raise RuntimeError("the attaining network is not off at x = 1 in floating point; use another seed")
    n, bound = 2**d, 2.0**-d
    residual, residual_tol = out["residual"], out["residual_tolerance"]
    energy = xp.where(valid, out["energy"], 1.0)
    against = xp.where(valid, residual / residual_tol, -math.inf)  # each identity's residual over its bound
    off = _count(xp, valid & (residual > residual_tol))
    if off:  # the identity fails: the supremum it implies for the network farthest off, against its bound
        k = int(xp.argmax(against))
        estimate = float((out["variance"][k] + out["at_one"][k] / (n * n)) / energy[k])
        atol = float(residual_tol[k] / energy[k])
    else:
        estimate = float(xp.max(xp.where(valid, ratio, -math.inf)))
        atol = float(xp.max(xp.where(valid, tol - (estimate - ratio), -math.inf)))
    random_ok = valid[1:]
    above = _count(xp, random_ok & (ratio[1:] - tol[1:] > bound))
    kept = _count(xp, random_ok)
    closest = float(xp.max(xp.where(random_ok, ratio[1:], -math.inf))) * 2**d if kept else math.nan
    relative = float(xp.max(xp.where(valid, residual * n / energy, 0.0)))  # against the bound's scale, E||g||^2/2^d
    gradient_off = _count(xp, out["gradient_beyond"] > 0)
    events = (
        (rf"random networks above the bound $2^{{-d}}$ beyond rounding, of {kept} (the largest random-network ratio: "
         f"{_closeness(closest)})", above),
        (r"networks off the identity $\mathrm{Var}_S = \mathbb{E}_x\|\nabla_w p_w\|^2/2^d - \|\nabla_w p_w(\mathbf{1})\|^2/4^d$ "
         f"beyond rounding, of {kept + 1}, a failing condition (the largest residual: ${_fraction(float(xp.max(against)))}$ "
         rf"of its rounding bound, ${_fraction(relative)}$ of $\mathbb{{E}}_x\|\nabla_w p_w\|^2/2^d$)", off),
        (rf"networks whose gradient along a random direction differs from the model's complex-step derivative beyond "
         rf"rounding, of {NETWORKS + 1} (the largest difference: ${_fraction(float(xp.max(out['gradient_worst'])))}$ of "
         "its bound)", gradient_off),
        ("random ReLU networks left out: a gradient identically $0$ (every unit off at every input)",
         NETWORKS - kept),
    )
    doubt = (r"the kernel's gradients differ from the models' own derivatives (complex step) beyond rounding: the "
             r"identity holds for any function $g$, so these runs did not measure gradients") if gradient_off else ""
    return Estimate(estimate, 0.0, 1, backend_name(xp), "float64", atol, events, inconclusive=doubt)
