r"""The four-neuron product gate and binary trees of gates: the kernels behind ``depth.product-gate``.

**The gate** (Lin, Tegmark and Rolnick 2017, arXiv:1608.08225, Eqs. (10)-(11) and Fig. 2;
doi:10.1007/s10955-017-1836-5) is a network with two inputs, one hidden layer of four neurons and one linear output:

.. math::

    m(u, v) = \frac{\sigma(u + v) + \sigma(-u - v) - \sigma(u - v) - \sigma(-u + v)}{4\sigma''(0)},
    \qquad u = \lambda x,\ v = \lambda y,

hidden weights :math:`W_1 = [[1, 1], [-1, -1], [1, -1], [-1, 1]]`, output weights
:math:`(1, 1, -1, -1)/(4\sigma''(0))`. Its relative error :math:`r(\lambda) = (m - uv)/(uv)` is
:math:`c\,\lambda^2 + O(\lambda^4)`; the verifier measures :math:`f(\lambda) = r(\lambda)/\lambda^2` on a ladder
:math:`\lambda_j = 2^{-e-j}` and extrapolates :math:`\lambda \to 0` by Richardson extrapolation (the polynomial in
:math:`h = \lambda^2` through the ladder's points, evaluated at :math:`h = 0`: :math:`f` has only even powers).

*The trap*: the gate cancels catastrophically. Its four neuron values are :math:`O(|\sigma(0)|)` while their signed
sum is :math:`4\sigma''(0)\lambda^2 xy`, so the float64 rounding of the neurons, :math:`\approx
\varepsilon\sum_i|\sigma(z_i)|`, is amplified by :math:`1/(4|\sigma''(0)|\lambda^2|xy|)` in :math:`r` and by
:math:`1/\lambda^4` in :math:`f`. A naive :math:`\lambda \to 0` (say :math:`\lambda = 10^{-6}`) measures rounding,
not the gate. The tolerance is therefore computed, entry by entry, from the rounding of every operation:

- the ladder's :math:`\lambda_j` are powers of two, so :math:`u = \lambda x` and :math:`v = \lambda y` are exact
  (no underflow on the domain); each hidden pre-activation :math:`\pm u \pm v` is one rounding, relative
  :math:`\mathbf{u} = 2^{-53}`, which moves :math:`\sigma` by at most :math:`\mathbf{u}\,|z|\,\sup|\sigma'|`;
- each neuron value :math:`\sigma(z)` is within :math:`\kappa\,\mathbf{u}\,M(z)` of the exact one
  (:func:`neurons`: softplus :math:`\kappa = 5`, :math:`M = \sigma(z)`, from :math:`\exp` and :math:`\mathrm{log1p}`
  within one ulp each and one addition; exp :math:`\kappa = 2`, :math:`M = \sigma(z)`; GELU a bound computed from its
  series, :math:`M = |z|`);
- the output's sum of four products, :math:`\gamma_5 \sum_i |w_i \sigma(z_i)|` (:math:`\gamma_n =
  n\mathbf{u}/(1 - n\mathbf{u})`, Higham 2002, Lemma 3.1), the output weights' own rounding included;
- :math:`uv` (one rounding), :math:`m/(uv)` (one), :math:`- 1` (one), :math:`/\lambda^2` (exact);
- the extrapolation's weights and sum, :math:`\gamma_{K+3}\sum_j |w_j f_j|`, and the propagated
  :math:`\sum_j |w_j|\,\delta f_j`.

To this *rounding bound* the extrapolation adds its *truncation estimate*: the difference between the
:math:`K`-point extrapolant and the :math:`(K - 1)`-point one without the largest :math:`\lambda` (whose own
truncation error is the larger by a factor :math:`\approx 1/(h_0 |a_K/a_{K-1}|)`, so the estimate is
conservative once the ladder is in the asymptotic regime). The verdict's tolerance is their sum. Only the rounding
bound is rigorous: :math:`|T_K - T_{K-1}|` is an a-posteriori estimate, not a bound (it presumes the ladder is in
the asymptotic regime, which the tests confirm against SymPy's coefficient over the domain but do not prove), so
the "exact" verdict rests on it.

GELU is :math:`z\,\Phi(z) = \tfrac{z}{2}(1 + \mathrm{erf}(z/\sqrt2))`; the array API has no ``erf``, so it is
summed from its Maclaurin series (``_ERF_TERMS`` terms, Horner's rule in :math:`t^2`; for :math:`|z| \le 2` the
first omitted term is below :math:`10^{-25}`), which runs on every backend.

**Trees.** :func:`tree_product` multiplies :math:`n` inputs with a balanced binary tree of gates: each level pairs
neighbouring values (an odd one out passes through), each gate scales its two inputs by :math:`\lambda` and its
output by :math:`1/\lambda^2`. It uses :math:`n - 1` gates, :math:`4(n - 1)` neurons, and it counts them; its
relative error is :math:`O(\lambda^2)` with the coefficient of :func:`proofs.product_gate.tree_coefficient`.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from .estimate import Estimate
from .namespaces import backend_name, to_host

__all__ = [
    "ACTIVATIONS",
    "LADDER",
    "REFUSED",
    "SECOND_DERIVATIVE",
    "gate",
    "ladder",
    "neurons",
    "product_gate_experiment",
    "refusal",
    "relative_errors",
    "richardson",
    "richardson_weights",
    "tree_product",
]

ACTIVATIONS = ("softplus", "exp", "gelu")
# Refused, with the reason: sigma''(0) = 0, so the four neurons cannot form the product (see refusal()).
REFUSED = ("tanh", "sigmoid")
# sigma''(0) of each activation, the gate's output normalisation: softplus'' = s(1 - s) = 1/4 at 0; exp'' = 1;
# GELU'' = 2 phi(0) = sqrt(2/pi) (derived by SymPy in proofs.product_gate, compared in the tests).
SECOND_DERIVATIVE = {"softplus": 0.25, "exp": 1.0, "gelu": math.sqrt(2.0 / math.pi)}
LADDER = 5  # K, the points of the Richardson ladder
TOP = 0  # lambda_0 (|x| + |y|) <= 2**-TOP: the largest pre-activation of the ladder is at most 1
REACH = 2.0  # the largest |pre-activation| the GELU series is summed for
UNIT = 2.0**-53  # the unit roundoff of float64
_KAPPA = {"softplus": 5.0, "exp": 2.0}  # each neuron value within kappa * UNIT * sigma(z) (see the module docstring)
_SLOPE = {"softplus": 1.0, "gelu": 1.1290}  # sup |sigma'| (GELU's at z = sqrt 2: 1.12887...); exp: sigma itself
_ERF_TERMS = 30
_ERF = tuple(float(Fraction((-1) ** n, math.factorial(n) * (2 * n + 1))) for n in range(_ERF_TERMS))
_HIDDEN = ((1.0, 1.0), (-1.0, -1.0), (1.0, -1.0), (-1.0, 1.0))  # z = u + v, -u - v, u - v, -u + v
_SIGNS = (1.0, 1.0, -1.0, -1.0)


def _gamma(n: int) -> float:
    return n * UNIT / (1 - n * UNIT)


def refusal(activation: str) -> str | None:
    """Why ``activation`` cannot make the gate (an unbiased odd or odd-plus-constant one), or None; plain text,
    for an error message."""
    if activation == "tanh":
        why = "tanh is odd"
    elif activation == "sigmoid":
        why = "the logistic sigmoid is 1/2 plus an odd function"
    else:
        return None
    return (f"activation={activation} is refused: {why}, so sigma''(0) = 0 and the four neurons cancel exactly, "
            "sigma(u+v) + sigma(-u-v) - sigma(u-v) - sigma(-u+v) = 0 for every u, v: no uv term is left to normalise "
            "(the refusal is for this bias-free gate: with a bias b, sigma''(b) != 0 restores the product, e.g. "
            f"{activation}(z + b) with b != 0; this claim's four neurons have none); use one of {', '.join(ACTIVATIONS)}")


def _check_activation(activation: Any) -> str:
    why = refusal(activation) if isinstance(activation, str) else None
    if why:
        raise ValueError(why)
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation={activation!r} is outside the domain: one of {', '.join(ACTIVATIONS)}")
    return activation


def _gelu(xp: Any, z: Any) -> tuple[Any, Any]:
    """GELU and its rounding bound (absolute), for |z| <= REACH."""
    t = z * (1.0 / math.sqrt(2.0))
    w = t * t
    s = xp.zeros_like(w) + _ERF[-1]
    for c in reversed(_ERF[:-1]):  # Horner in w = t^2
        s = s * w + c
    erf = (2.0 / math.sqrt(math.pi)) * t * s
    value = z * (1.0 + erf) * 0.5
    # Horner with rounded coefficients: gamma(2N + 1) * sum |c_n| w^n <= gamma(2N + 1) e^w; w carries 5u, moving S
    # by at most 5u sum n |c_n| w^n <= 5u w e^w; t's 2u and the two products and the constant of erf 4u |S|; then
    # 1 + erf, the product with z and the halving (exact): 2u (1 + |erf|)
    grow = xp.exp(w)
    s_err = (_gamma(2 * _ERF_TERMS + 1) + 5 * UNIT * w) * grow + 4 * UNIT * xp.abs(s)
    erf_err = (2.0 / math.sqrt(math.pi)) * xp.abs(t) * s_err
    bound = 0.5 * xp.abs(z) * (erf_err + 2 * UNIT * (1.0 + xp.abs(erf)))
    return value, bound


def neurons(xp: Any, z: Any, activation: str) -> tuple[Any, Any]:
    """``sigma(z)`` elementwise and a bound on its rounding error (absolute), the error of ``z`` itself (one
    rounding, relative ``UNIT``) included. Softplus is computed as ``max(z, 0) + log1p(exp(-|z|))`` (no overflow)."""
    _check_activation(activation)
    if activation == "softplus":
        value = xp.maximum(z, 0.0) + xp.log1p(xp.exp(-xp.abs(z)))
        bound = _KAPPA["softplus"] * UNIT * value
        slope = _SLOPE["softplus"] + xp.zeros_like(z)
    elif activation == "exp":
        value = xp.exp(z)
        bound = _KAPPA["exp"] * UNIT * value
        slope = value
    else:
        if float(xp.max(xp.abs(z))) > REACH:
            raise ValueError(f"the GELU series is summed for |z| <= {REACH:g} only; a pre-activation reached "
                             f"{float(xp.max(xp.abs(z))):.3g} (take a smaller lambda)")
        value, bound = _gelu(xp, z)
        slope = _SLOPE["gelu"] + xp.zeros_like(z)
    return value, bound + UNIT * xp.abs(z) * slope


def gate(xp: Any, u: Any, v: Any, activation: str) -> tuple[Any, Any]:
    """The four-neuron network ``m(u, v)`` for arrays ``u``, ``v`` of one shape (a hidden layer ``W_1`` and an output
    layer, as matmuls), and a bound on its rounding error (absolute, given exact ``u`` and ``v``)."""
    f64 = xp.float64
    hidden = xp.asarray(_HIDDEN, dtype=f64)
    out = xp.asarray([s / (4.0 * SECOND_DERIVATIVE[activation]) for s in _SIGNS], dtype=f64)
    h = xp.matmul(xp.stack([u, v], axis=-1), hidden.mT)  # (..., 4): one rounding each
    value, bound = neurons(xp, h, activation)
    m = xp.matmul(value, out)
    terms = xp.matmul(xp.abs(value), xp.abs(out))
    # the output sum of four products and the output weights' rounding (two for GELU's irrational sigma''(0))
    return m, xp.matmul(bound, xp.abs(out)) + _gamma(5 + (activation == "gelu")) * terms


def ladder(x: float, y: float, points: int = LADDER) -> tuple[float, ...]:
    """The ladder ``lambda_j = 2**-(e + j)``, ``j < points``, with ``lambda_0 (|x| + |y|) <= 2**-TOP``."""
    e = math.ceil(math.log2(abs(x) + abs(y))) + TOP
    return tuple(2.0 ** -(e + j) for j in range(points))


def relative_errors(xp: Any, x: float, y: float, lams, activation: str) -> dict[str, Any]:
    """At each ``lambda`` (powers of two, so ``lambda x`` is exact): the relative error ``r = m/(uv) - 1``, the
    scaled ``f = r/lambda^2`` and their rounding bounds (host floats)."""
    f64 = xp.float64
    lam = xp.asarray(list(lams), dtype=f64)
    u, v = lam * x, lam * y
    m, dm = gate(xp, u, v, activation)
    p = u * v
    q = m / p
    dq = dm / xp.abs(p) + 3 * UNIT * xp.abs(q)  # uv, the division and the subtraction of 1
    r = q - 1.0
    lam2 = lam * lam
    host = {k: [float(a) for a in to_host(val)] for k, val in
            (("r", r), ("r_bound", dq), ("f", r / lam2), ("f_bound", dq / lam2))}
    return {"lambda": [float(a) for a in lams], **host}


def richardson_weights(hs) -> tuple[Fraction, ...]:
    """Exact weights of the polynomial through ``(h_j, f_j)`` evaluated at ``h = 0`` (Lagrange at 0)."""
    hs = [Fraction(h) for h in hs]
    weights = []
    for j, hj in enumerate(hs):
        w = Fraction(1)
        for k, hk in enumerate(hs):
            if k != j:
                w *= hk / (hk - hj)
        weights.append(w)
    return tuple(weights)


def richardson(fs, bounds, lams) -> tuple[float, float, float]:
    """The extrapolated ``f(0)`` from the points ``f(lambda_j)`` (a polynomial in ``lambda^2``), its rounding
    bound, and the truncation estimate ``|T_K - T_{K-1}|`` (the second from the points without the largest
    lambda)."""
    hs = [lam * lam for lam in lams]
    weights = [float(w) for w in richardson_weights(hs)]
    value = math.fsum(w * f for w, f in zip(weights, fs, strict=True))
    rounding = (sum(abs(w) * b for w, b in zip(weights, bounds, strict=True))
                + _gamma(len(fs) + 3) * sum(abs(w * f) for w, f in zip(weights, fs, strict=True)))
    fewer = [float(w) for w in richardson_weights(hs[1:])]
    previous = math.fsum(w * f for w, f in zip(fewer, fs[1:], strict=True))
    return value, rounding, abs(value - previous)


def product_gate_experiment(xp: Any, rng: Any, budget: int | None = None, *, x: float, y: float,
                            activation: str) -> Estimate:
    """The lambda^2 coefficient of the gate's relative error, extrapolated to ``lambda -> 0`` from the ladder
    (deterministic: ``rng`` and ``budget`` are unused); tolerance = rounding bound (rigorous) + truncation estimate
    ``|T_K - T_{K-1}|`` (a-posteriori, not a rigorous bound)."""
    _check_activation(activation)
    for name, value in (("x", x), ("y", y)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value != 0):
            raise ValueError(f"{name}={value!r} is outside the domain: a finite non-zero real")
    lams = ladder(x, y)
    pts = relative_errors(xp, x, y, lams, activation)
    value, rounding, truncation = richardson(pts["f"], pts["f_bound"], lams)
    atol = rounding + truncation
    why = ""
    if not (math.isfinite(value) and math.isfinite(atol)) or atol >= 0.5 * abs(value):
        why = (rf"the float64 gate cannot resolve the coefficient at $x = {x:g}$, $y = {y:g}$: its tolerance "
               rf"${atol:.3g}$ is not small against the extrapolated ${value:.3g}$")
        if not (math.isfinite(value) and math.isfinite(atol)):
            value, atol = 0.0, 0.0
    return Estimate(value, 0.0, 1, backend_name(xp), "float64", atol, inconclusive=why)


def tree_product(xp: Any, inputs, lams, activation: str) -> tuple[Any, int]:
    """A balanced binary tree of gates multiplying ``inputs`` (n values), at every ``lambda`` of ``lams`` at once:
    the outputs (one per lambda) and the number of neurons used, ``4 (n - 1)``."""
    f64 = xp.float64
    lam = xp.asarray(list(lams), dtype=f64)[:, None]
    values = xp.asarray([list(inputs)], dtype=f64) + xp.zeros_like(lam)  # (L, n)
    count = 0
    while values.shape[1] > 1:
        pairs = values.shape[1] // 2
        a, b = values[:, 0:2 * pairs:2], values[:, 1:2 * pairs:2]
        m, _ = gate(xp, lam * a, lam * b, activation)
        out = m / (lam * lam)
        count += 4 * pairs
        values = xp.concat([out, values[:, 2 * pairs:]], axis=1) if values.shape[1] % 2 else out
    return values[:, 0], count
