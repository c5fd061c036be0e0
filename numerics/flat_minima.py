r"""Flat minima and reparametrisation: the kernels behind ``flat-minima.reparam``.

A one-hidden-layer ReLU network :math:`f(x) = w_2^\top \operatorname{relu}(W_1 x)` (``width`` m hidden units,
:data:`INPUTS` inputs, one output, no biases) is trained in float64 on the mean squared error
:math:`L = \|f(X) - y\|^2/(2N)` (:func:`make_task`, :func:`train`: Levenberg-Marquardt, a fixed number of
steps, the acceptance test done with ``where`` on the device so that nothing crosses to the host while
training). At the trained :math:`\theta = (W_1, w_2)` and at :math:`T_\alpha\theta = (\alpha W_1, w_2/\alpha)` the
exact Hessian is computed in closed form (:func:`hessian`): where no pre-activation vanishes the loss is a
polynomial in the weights, with blocks

.. math::

    H_{W_1W_1} = J_1^\top J_1/N, \quad H_{w_2w_2} = A^\top A/N, \quad
    H_{W_1w_2} = J_1^\top A/N + \delta_{jj'}\,\tfrac1N \textstyle\sum_n r_n s_{nj} x_{ni},

:math:`J_1[n, (j, i)] = w_{2j} s_{nj} x_{ni}`, :math:`A = \operatorname{relu}(X W_1^\top)`,
:math:`s = \mathbf{1}\{X W_1^\top > 0\}`, :math:`r = f(X) - y`. The derivation
(:func:`proofs.flat_minima.derive_reparam`) gives :math:`\nabla^2 L(T_\alpha\theta) = D^{-1}\nabla^2 L(\theta) D^{-1}`,
:math:`D = \operatorname{diag}(\alpha I, \alpha^{-1} I)`: the W₁ block times :math:`\alpha^{-2}`, the w₂ block
times :math:`\alpha^2`, the cross block unchanged; :func:`reparam_check` compares every entry, and the
wrong laws of :data:`LAWS` on the same Hessians.

Rounding bounds use the standard model (:mod:`numerics.rounding`): every Hessian entry is a sum of products
built by at most ``K = d + m + N + 6`` rounded operations along any path (:func:`rounding_depth`), so its
computed value is within :math:`\gamma_K` times its absolute-value evaluation (the same formulas with every
factor replaced by its absolute value: the entry's condition); the rescaled weights
:math:`\mathrm{fl}(\alpha W_1)`, :math:`\mathrm{fl}(w_2/\alpha)` move each entry's monomials, of degree 2 in
the weights, by at most :math:`\gamma_2` more.

The trap, and the task that avoids it: least-squares training of a ReLU network often ends on a kink (a
training input with a pre-activation exactly 0, where the loss is not twice differentiable): in our runs of
Levenberg-Marquardt from random starts on noisy teacher data, most at width 8 stopped with a pre-activation
near 1e-15 and a gradient near 1e-3, where no Hessian exists. :func:`make_task`
builds a task whose minimum provably lies inside an activation region (a teacher, inputs kept clear of its
kinks, label noise orthogonal to the fit's columns there), and :func:`reparam_check` certifies the pattern.

>>> import numpy as np
>>> out = reparam_check(np, np.random.default_rng(0), scale=0.1, width=4)
>>> bool(abs(out["factor"]["W1"] - 100) <= out["tolerance"]["W1"] and out["law_violations"] == 0)
True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from array_api_compat import device as _device_of

from .estimate import Estimate
from .namespaces import backend_name, count_true, to_host
from .rounding import gamma, unit_roundoff

__all__ = [
    "BLOCKS", "EPSILON", "INPUTS", "LAWS", "LM_STEPS", "MARGIN", "NOISE", "PERTURB", "POOL", "SAMPLES", "TEST_SAMPLES",
    "block_factor", "hessian", "keskar_sharpness", "loss", "make_task", "outputs", "reparam_check", "reparam_experiment",
    "rounding_depth", "scaled", "sharpness_curves", "train",
]

INPUTS = 4  # d, the input dimension
SAMPLES = 128  # N training samples: more than the m(d + 1) <= 120 parameters (width <= 24)
TEST_SAMPLES = 256
POOL = 8  # training inputs are drawn from a pool of POOL * SAMPLES
MARGIN = 0.05  # ... keeping those whose every teacher pre-activation is at least this far from 0
NOISE = 0.1  # label noise: the minimum has a nonzero residual, so the cross block's residual term is exercised
PERTURB = 0.1  # the start: each unit's input weights times 1 + PERTURB |N(0, 1)|, its output weight times 1 + PERTURB N(0, 1)
LM_STEPS = 60  # Levenberg-Marquardt steps (fixed: the acceptance test runs on the device)
BLOCKS = ("W1", "W2", "cross")
# Laws for the Hessian at T_alpha theta, as the factors (on W1, on w2) of the diagonal matrix S with
# H' = S H S: the derived one (S = D^-1), and the usual wrong versions (mutation tests)
LAWS = {
    "derived": (-1.0, 1.0),  # S = diag(I/alpha, alpha I): W1 block alpha^-2, w2 block alpha^2, cross unchanged
    "wrong-way": (1.0, -1.0),  # W1 block alpha^2, w2 block alpha^-2
    "unscaled": (0.0, 0.0),  # the Hessian unchanged
    "alpha-not-squared": (-0.5, 0.5),  # W1 block alpha^-1, w2 block alpha
}
EPSILON = 1e-3  # Keskar et al.'s box size in the figure (their experiments use 1e-3 and 5e-4)


def _tex(x: float, digits: int = 3) -> str:
    """A number for inline LaTeX math: ``1.5``, ``2.3\\times 10^{-14}``."""
    mantissa, _, power = f"{x:.{digits}g}".partition("e")
    return mantissa + (rf"\times 10^{{{int(power)}}}" if power else "")


def rounding_depth(width: int) -> int:
    """K: the most rounded operations along any path of a Hessian entry's computation (the pre-activation's
    d-term dot product, the output's m-term one, the residual, a product and the N-term sum over samples,
    the division by N and the sum of the cross block's two terms)."""
    return INPUTS + width + SAMPLES + 6


# --- the network and its task ------------------------------------------------------------------------


def outputs(xp: Any, w1: Any, v: Any, x: Any) -> tuple[Any, Any]:
    """``(f, z)``: the network's outputs ``f`` (N,) and pre-activations ``z = x W1^T`` (N, m)."""
    z = xp.matmul(x, w1.mT)
    return xp.matmul(xp.where(z > 0, z, 0.0), v), z


def loss(xp: Any, w1: Any, v: Any, x: Any, y: Any) -> Any:
    """The mean squared error :math:`\\|f(X) - y\\|^2/(2N)` (a 0-d array)."""
    f, _ = outputs(xp, w1, v, x)
    r = f - y
    return xp.sum(r * r) / (2 * x.shape[0])


def make_task(xp: Any, rng: Any, width: int) -> dict[str, Any]:
    r"""A regression task whose least-squares minimum lies inside an activation region, and a start near it
    (float64, everything drawn from ``rng``).

    A teacher :math:`f^*(x) = v^{*\top}\operatorname{relu}(W^* x)` of the student's width, :math:`W^*_{ji} \sim N(0, 1/d)`,
    :math:`v^*_j \sim N(0, 1/m)`; :data:`SAMPLES` training inputs :math:`x \sim N(0, I_d)`, the first of a pool of
    :data:`POOL` times as many whose every teacher pre-activation is at least :data:`MARGIN` from 0; labels
    :math:`y = f^*(X) + \sigma (g - Q Q^\top g)`, :math:`\sigma` = :data:`NOISE`, g standard normal and Q an orthonormal
    basis holding the columns :math:`s_{nj} x_n` of the fit on the teacher's activation region: there the loss is
    a linear least-squares problem in the products :math:`v_j w_j`, the noise is orthogonal to its columns, so the
    teacher (and every per-unit rescaling of it) is a minimum, with a nonzero residual, inside the region by the
    margin. :data:`TEST_SAMPLES` test inputs (no margin) with independent noise. The student starts off the
    minimum on the teacher's activation pattern: each unit's input weights times :math:`1 + `:data:`PERTURB`
    :math:`|N(0,1)|`, its output weight times :math:`1 + `:data:`PERTURB`:math:`\,N(0,1)`."""
    f64 = xp.float64
    teacher_w1 = rng.standard_normal((width, INPUTS), dtype=f64) * math.sqrt(1.0 / INPUTS)
    teacher_v = rng.standard_normal((width,), dtype=f64) * math.sqrt(1.0 / width)
    pool = rng.standard_normal((POOL * SAMPLES, INPUTS), dtype=f64)
    clear = xp.min(xp.abs(xp.matmul(pool, teacher_w1.mT)), axis=1) >= MARGIN
    keep = np.flatnonzero(to_host(clear))[:SAMPLES]  # one host transfer: which pool rows to keep
    if keep.size < SAMPLES:
        raise RuntimeError(f"only {keep.size} of {POOL * SAMPLES} inputs clear the teacher's kinks by {MARGIN}: use another seed")
    x = xp.take(pool, xp.asarray(keep, **_device(xp, pool)), axis=0)
    x_test = rng.standard_normal((TEST_SAMPLES, INPUTS), dtype=f64)
    # the noise orthogonal to the fit's columns on the teacher's activation region: the teacher is a least-squares
    # minimum there, with a nonzero residual
    design = xp.reshape(xp.astype(xp.matmul(x, teacher_w1.mT) > 0, f64)[:, :, None] * x[:, None, :], (SAMPLES, width * INPUTS))
    g = rng.standard_normal((SAMPLES,), dtype=f64)
    basis = xp.linalg.qr(design)[0]  # orthonormal columns whose span holds the design's columns (whatever its rank)
    y = outputs(xp, teacher_w1, teacher_v, x)[0] + NOISE * (g - xp.matmul(basis, xp.matmul(basis.mT, g)))
    y_test = outputs(xp, teacher_w1, teacher_v, x_test)[0] + NOISE * rng.standard_normal((TEST_SAMPLES,), dtype=f64)
    scale = 1.0 + PERTURB * xp.abs(rng.standard_normal((width,), dtype=f64))  # each unit's input weights rescaled
    w1 = teacher_w1 * scale[:, None]
    v = teacher_v * (1.0 + PERTURB * rng.standard_normal((width,), dtype=f64))
    return {"x": x, "y": y, "x_test": x_test, "y_test": y_test, "w1": w1, "v": v}


def _jacobian(xp: Any, w1: Any, v: Any, x: Any) -> tuple[Any, Any]:
    """Residual-free pieces: the output's Jacobian (N, m d + m) on the current pattern, and the outputs."""
    n, m, d = x.shape[0], w1.shape[0], x.shape[1]
    z = xp.matmul(x, w1.mT)
    active = xp.astype(z > 0, xp.float64)
    a = active * z
    j1 = xp.reshape((active * v[None, :])[:, :, None] * x[:, None, :], (n, m * d))
    return xp.concat([j1, a], axis=1), xp.matmul(a, v)


def train(xp: Any, task: dict[str, Any], steps: int = LM_STEPS) -> tuple[Any, Any]:
    r"""Levenberg-Marquardt on :math:`L` from the task's start: ``steps`` damped Gauss-Newton steps
    :math:`(J^\top J/N + \lambda\,\tfrac{1}{P}\mathrm{tr}(J^\top J/N)\, I)\,\delta = J^\top r/N`, a step kept only if it
    lowers the loss and keeps every training input's activation pattern (a step across a kink is refused),
    :math:`\lambda` divided by 3 after a kept step and multiplied by 4 after a refused one; all on the device
    (``where``). Returns the trained ``(W1, w2)``."""
    x, y = task["x"], task["y"]
    m, d = task["w1"].shape
    n, p = x.shape[0], m * d + m
    theta = xp.concat([xp.reshape(task["w1"], (m * d,)), task["v"]])
    damping = xp.asarray(1e-2, dtype=xp.float64, **_device(xp, x))
    eye = xp.eye(p, dtype=xp.float64, **_device(xp, x))
    pattern = xp.matmul(x, task["w1"].mT) > 0  # the start's activation pattern on the training inputs

    def split(t):
        return xp.reshape(t[:m * d], (m, d)), t[m * d:]

    for _ in range(steps):
        w1, v = split(theta)
        jac, f = _jacobian(xp, w1, v, x)
        r = f - y
        current = xp.sum(r * r) / (2 * n)
        gram = xp.matmul(jac.mT, jac) / n
        scale = xp.sum(xp.linalg.diagonal(gram)) / p + 1e-300
        step = xp.linalg.solve(gram + (damping * scale) * eye, (xp.matmul(jac.mT, r) / n)[:, None])[:, 0]
        trial = theta - step
        w1t, vt = split(trial)
        same = xp.all((xp.matmul(x, w1t.mT) > 0) == pattern)
        kept = (loss(xp, w1t, vt, x, y) < current) & same
        theta = xp.where(kept, trial, theta)
        damping = xp.where(kept, damping / 3.0, damping * 4.0)
    return split(theta)


def _device(xp: Any, like: Any) -> dict[str, Any]:  # device= of an existing array, for creation functions
    return {"device": _device_of(like)}


# --- the Hessian -----------------------------------------------------------------------------------


def hessian(xp: Any, w1: Any, v: Any, x: Any, y: Any) -> tuple[Any, Any]:
    r"""The exact Hessian of :math:`L = \|f(X) - y\|^2/(2N)` at ``(W1, w2)`` on the current ReLU pattern,
    parameters ordered ``(vec W1 row by row, w2)``, and its absolute-value evaluation (the same formulas on
    :math:`|W_1|, |w_2|, |x|, |y|`: every computed entry is within :math:`\gamma_K` of it times the exact one's
    error, :func:`rounding_depth`). Both ``(P, P)``, ``P = m d + m``."""
    n, m, d = x.shape[0], w1.shape[0], x.shape[1]
    z = xp.matmul(x, w1.mT)
    s = xp.astype(z > 0, xp.float64)
    eye = xp.eye(m, dtype=xp.float64, **_device(xp, x))
    a = s * z
    j1 = xp.reshape((s * v[None, :])[:, :, None] * x[:, None, :], (n, m * d))
    r = xp.matmul(a, v) - y
    q = xp.matmul((r[:, None] * s).mT, x) / n  # (m, d): the residual term of the cross block
    exact = _assemble(xp, j1, a, q, eye, n, m, d)
    ax, aw1, av = xp.abs(x), xp.abs(w1), xp.abs(v)
    a_abs = s * xp.matmul(ax, aw1.mT)
    j1_abs = xp.reshape((s * av[None, :])[:, :, None] * ax[:, None, :], (n, m * d))
    r_abs = xp.matmul(a_abs, av) + xp.abs(y)
    q_abs = xp.matmul((r_abs[:, None] * s).mT, ax) / n
    return exact, _assemble(xp, j1_abs, a_abs, q_abs, eye, n, m, d)


def _assemble(xp: Any, j1: Any, a: Any, q: Any, eye: Any, n: int, m: int, d: int) -> Any:
    h11 = xp.matmul(j1.mT, j1) / n
    h22 = xp.matmul(a.mT, a) / n
    residual = xp.reshape(q[:, :, None] * eye[:, None, :], (m * d, m))  # delta_jj' q[j, i]
    h12 = xp.matmul(j1.mT, a) / n + residual
    return xp.concat([xp.concat([h11, h12], axis=1), xp.concat([h12.mT, h22], axis=1)], axis=0)


def scaled(xp: Any, w1: Any, v: Any, alpha: float) -> tuple[Any, Any]:
    """:math:`T_\\alpha(W_1, w_2) = (\\alpha W_1, w_2/\\alpha)`, rounded to float64."""
    return w1 * alpha, v / alpha


def _factors(xp: Any, m: int, d: int, alpha: float, law: str, like: Any) -> Any:
    """The entrywise factors S_p S_q of a law ``H' = S H S`` (:data:`LAWS`; the derived one: S = D^-1)."""
    def power(e: float) -> float:  # 1/alpha and alpha with one rounding at most (pow may round once more)
        return {-1.0: 1.0 / alpha, 0.0: 1.0, 1.0: alpha}.get(e, alpha**e)

    e1, e2 = LAWS[law]
    diag = xp.concat([xp.full((m * d,), power(e1), dtype=xp.float64, **_device(xp, like)),
                      xp.full((m,), power(e2), dtype=xp.float64, **_device(xp, like))])
    return diag[:, None] * diag[None, :]


def block_factor(xp: Any, h: Any, h_scaled: Any, a: Any, a_scaled: Any, k: int, rows: slice, cols: slice) -> tuple[float, float]:
    r"""The least-squares factor :math:`c = \langle H'_b, H_b\rangle / \langle H_b, H_b\rangle` of one block
    and a rigorous bound on its error (a posteriori, with the measured c): each entry of
    :math:`\hat H' - c\hat H` is within :math:`E = \gamma_{K+2}|H'| + \gamma_K |c| |H|`, so
    :math:`|c - \hat c| \le \sum E |\hat H| / \sum \hat H^2` plus the rounding of the two sums and the division."""
    u = unit_roundoff(xp)
    hb, hs = h[rows, cols], h_scaled[rows, cols]
    entries = hb.shape[0] * hb.shape[1]
    den = float(xp.sum(hb * hb))
    if not den > 0:
        raise RuntimeError("a Hessian block vanishes (no active unit with a nonzero output weight): use another seed")
    c = float(xp.sum(hs * hb)) / den
    spread = gamma(k + 2, u) * a_scaled[rows, cols] + gamma(k, u) * abs(c) * a[rows, cols]
    cross = float(xp.sum(xp.abs(hs) * xp.abs(hb)))
    inflate = (1 + gamma(k + 2, u)) / (1 - gamma(k + 2, u))  # the absolute evaluations' own rounding
    bound = (float(xp.sum(spread * xp.abs(hb))) * inflate + gamma(entries, u) * cross) / den + (gamma(entries, u) + u) * abs(c)
    return c, bound * (1 + gamma(8, u))


# --- the check -----------------------------------------------------------------------------------------


def reparam_check(xp: Any, rng: Any, *, scale: float, width: int, task: dict[str, Any] | None = None) -> dict[str, Any]:
    r"""Train a network, compute the exact Hessians at :math:`\theta` and :math:`T_\alpha\theta`, and compare: each
    block's ``factor`` and ``tolerance``; ``law_worst`` (per law of :data:`LAWS`, the largest deviation over its
    rounding bound) and ``law_violations`` (entries off the derived law); ``output_violations`` (test outputs that
    differ beyond rounding); ``kinks``; ``negative`` (eigenvalues of H below :math:`-\sqrt{u}\lambda_{\max}`)."""
    task = make_task(xp, rng, width) if task is None else task
    x, y, alpha = task["x"], task["y"], scale
    m, d = width, INPUTS
    k = rounding_depth(m)
    u = unit_roundoff(xp)
    w1, v = train(xp, task)
    w1s, vs = scaled(xp, w1, v, alpha)
    h, ha = hessian(xp, w1, v, x, y)
    hs, hsa = hessian(xp, w1s, vs, x, y)
    factor, tolerance = {}, {}
    first, second = slice(0, m * d), slice(m * d, m * d + m)
    for name, (rows, cols) in {"W1": (first, first), "W2": (second, second), "cross": (first, second)}.items():
        factor[name], tolerance[name] = block_factor(xp, h, hs, ha, hsa, k, rows, cols)
    law_worst = {}
    for law in LAWS:  # the largest |H'_pq - (S H S)_pq| over its rounding bound, for the derived law and the wrong ones
        inv = _factors(xp, m, d, alpha, law, x)
        bound = (gamma(k + 2, u) * hsa + gamma(k + 3, u) * inv * ha) * ((1 + gamma(k + 2, u)) / (1 - gamma(k + 2, u)))
        ratio = xp.abs(hs - inv * h) / (bound * (1 + gamma(6, u)) + 1e-300)
        law_worst[law] = float(xp.max(ratio))
        if law == "derived":
            law_violations = count_true(xp, ratio > 1.0)
    # pre-activations certified away from 0 (the pattern, and so the Hessian formula, is certain) at both points
    z, zs = xp.matmul(x, w1.mT), xp.matmul(x, w1s.mT)
    zmax = xp.matmul(xp.abs(x), xp.abs(w1).mT)
    kinks = count_true(xp, (xp.abs(z) <= gamma(d + 1, u) * zmax) | (xp.abs(zs) <= gamma(d + 2, u) * alpha * zmax))
    # the function: outputs on the test inputs (relu is 1-Lipschitz, so no pattern certificate is needed)
    xt = task["x_test"]
    f, _ = outputs(xp, w1, v, xt)
    fs, _ = outputs(xp, w1s, vs, xt)
    f_abs = xp.matmul(xp.matmul(xp.abs(xt), xp.abs(w1).mT), xp.abs(v))
    out_bound = 2 * gamma(d + m + 3, u) * f_abs * (1 + gamma(4, u)) + 1e-300
    output_violations = count_true(xp, xp.abs(fs - f) > out_bound)
    # a minimum: no eigenvalue of H below -sqrt(u) lambda_max (a minimiser found by comparing float64 loss values is
    # located only to about sqrt(u): its Hessian's zero eigenvalues, the m per-unit rescalings, come out of that size)
    p = m * d + m
    values = xp.linalg.eigvalsh(h)
    top = float(values[-1])
    negative = count_true(xp, values < -math.sqrt(u) * top)
    jac, fx = _jacobian(xp, w1, v, x)
    gradient = float(xp.linalg.vector_norm(xp.matmul(jac.mT, fx - y) / x.shape[0]))
    return {"factor": factor, "tolerance": tolerance, "law_violations": law_violations, "law_worst": law_worst,
            "output_violations": output_violations, "kinks": kinks, "negative": negative, "lambda_min": float(values[0]),
            "lambda_max": top, "loss": float(loss(xp, w1, v, x, y)), "gradient": gradient, "entries": p * p,
            "test_loss": float(loss(xp, w1, v, xt, task["y_test"])), "H": h, "H_scaled": hs,
            "test_loss_scaled": float(loss(xp, w1s, vs, xt, task["y_test"]))}


def reparam_experiment(xp: Any, rng: Any, budget: int | None = None, *, scale: float, width: int, block: str) -> Estimate:
    r"""The factor by which :math:`T_\alpha`, :math:`\alpha` = ``scale``, multiplies block ``block`` of the Hessian of a
    trained network (:func:`reparam_check`), with its rigorous rounding bound. Exact: the closed form is :math:`\alpha^{-2}`,
    :math:`\alpha^2` or 1. The rest of the law (every entry of every block), the outputs, the certified
    pattern and the minimum are reported as events; a run where the law or the outputs fail beyond rounding,
    or where a pre-activation is within rounding of a kink, is inconclusive (it cannot pass)."""
    if block not in BLOCKS:
        raise ValueError(f"block={block!r} is not one of {', '.join(BLOCKS)}")
    out = reparam_check(xp, rng, scale=scale, width=width)
    entries = out["entries"]
    events = (
        (rf"Hessian entries (of ${entries}$) off $D^{{-1}} \nabla^2 L(\theta) D^{{-1}}$ beyond their rounding bound "
         rf"(the largest deviation is ${_tex(out['law_worst']['derived'], 2)}$ of its bound)", out["law_violations"]),
        (rf"test inputs (of ${TEST_SAMPLES}$) where $f(x; T_\alpha\theta)$ and $f(x; \theta)$ differ beyond rounding "
         rf"(test loss ${_tex(out['test_loss'], 6)}$ and ${_tex(out['test_loss_scaled'], 6)}$)", out["output_violations"]),
        ("training pre-activations within rounding of $0$ (a kink, where the Hessian is not defined)", out["kinks"]),
        (rf"Hessian eigenvalues at $\theta$ below $-\sqrt{{u}}\,\lambda_{{\max}}$ (none at a minimum: "
         rf"$\lambda_{{\min}} = {_tex(out['lambda_min'], 2)}$, $\lambda_{{\max}} = {_tex(out['lambda_max'], 3)}$; training loss "
         rf"${_tex(out['loss'], 4)}$, $\|\nabla L\|_2 = {_tex(out['gradient'], 2)}$ after {LM_STEPS} Levenberg-Marquardt "
         "steps)", out["negative"]),
    )
    doubts = [why for flag, why in (
        (out["law_violations"], r"some Hessian entries are off the law $\nabla^2 L(T_\alpha\theta) = D^{-1} \nabla^2 L(\theta) "
                                r"D^{-1}$ beyond rounding, so no single factor describes the blocks"),
        (out["output_violations"], r"the outputs of $T_\alpha\theta$ differ from those of $\theta$ beyond rounding"),
        (out["kinks"], "a training pre-activation is within rounding of $0$: the activation pattern, and so the Hessian, is "
                       "not certified"),
    ) if flag]
    return Estimate(out["factor"][block], 0.0, 1, backend_name(xp), "float64", out["tolerance"][block], events,
                    inconclusive="; ".join(doubts))


# --- the figure's curves ---------------------------------------------------------------------------------


def keskar_sharpness(xp: Any, w1: Any, v: Any, x: Any, y: Any, h: Any, epsilon: float = EPSILON) -> float:
    r"""A lower bound on Keskar et al.'s :math:`(C_\epsilon, I)`-sharpness (their Metric 2.1 in the full space),
    :math:`100\,(\max_{\delta \in C_\epsilon} L(\theta + \delta) - L(\theta))/(1 + L(\theta))` with the box
    :math:`C_\epsilon = \{|\delta_i| \le \epsilon (|\theta_i| + 1)\}`: the best of the exact losses at the
    largest multiples :math:`\pm t v` of the top Hessian eigenvector inside the box and at the box's corner
    :math:`\epsilon(|\theta| + 1) \odot \operatorname{sign}(v)` (their own maximisation, by L-BFGS-B, is also
    a lower bound)."""
    m, d = w1.shape
    theta = xp.concat([xp.reshape(w1, (m * d,)), v])
    _, vectors = xp.linalg.eigh(h)
    top = vectors[:, -1]
    half = epsilon * (xp.abs(theta) + 1.0)
    t = float(xp.min(half / xp.where(top == 0, 1e-300, xp.abs(top))))
    base = loss(xp, w1, v, x, y)
    best = -math.inf
    for delta in (t * top, -t * top, half * xp.sign(top), -half * xp.sign(top)):
        moved = theta + delta
        value = loss(xp, xp.reshape(moved[:m * d], (m, d)), moved[m * d:], x, y)
        best = max(best, float(value - base))
    return 100.0 * best / (1.0 + float(base))


def sharpness_curves(xp: Any, rng: Any, *, width: int, alphas: Any, epsilon: float = EPSILON) -> dict[str, list[float]]:
    r"""One trained network, at each :math:`\alpha`: :math:`\lambda_{\max}` of the Hessian at
    :math:`T_\alpha\theta` (computed there), the Rayleigh lower bound :math:`\max(\alpha^{-2} a, \alpha^2 c)` and Weyl's
    upper bound (Horn and Johnson 2013, Thm 4.3.1), that plus :math:`\|H_{W_1w_2}\|_2`, :math:`a, c` the top eigenvalues
    of the two diagonal blocks at :math:`\theta`; Keskar's sharpness (:func:`keskar_sharpness`); training and test loss."""
    task = make_task(xp, rng, width)
    x, y = task["x"], task["y"]
    w1, v = train(xp, task)
    h, _ = hessian(xp, w1, v, x, y)
    md = width * INPUTS
    a = float(xp.linalg.eigvalsh(h[:md, :md])[-1])
    c = float(xp.linalg.eigvalsh(h[md:, md:])[-1])
    off = math.sqrt(max(0.0, float(xp.linalg.eigvalsh(xp.matmul(h[:md, md:].mT, h[:md, md:]))[-1])))
    out: dict[str, list[float]] = {k: [] for k in ("alpha", "top", "lower", "upper", "keskar", "loss", "test_loss")}
    for alpha in alphas:
        w1s, vs = scaled(xp, w1, v, float(alpha))
        hs, _ = hessian(xp, w1s, vs, x, y)
        lower = max(a / alpha**2, c * alpha**2)
        out["alpha"].append(float(alpha))
        out["top"].append(float(xp.linalg.eigvalsh(hs)[-1]))
        out["lower"].append(lower)
        out["upper"].append(lower + off)
        out["keskar"].append(keskar_sharpness(xp, w1s, vs, x, y, hs, epsilon))
        out["loss"].append(float(loss(xp, w1s, vs, x, y)))
        out["test_loss"].append(float(loss(xp, w1s, vs, task["x_test"], task["y_test"])))
    return out
