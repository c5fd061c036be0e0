r"""Residual stacks: the kernels behind the ``residual.*`` claims.

Three measurements, each batched over independent stacks (stacked weights, one ``matmul``
per block, streamed over depth: one block's weights in memory at a time):

- :func:`jacobian_check`: real ReLU blocks :math:`x + W_2\,\mathrm{relu}(W_1 x + b_1) + b_2` in
  float64; the chain-rule product :math:`(I + J_L)\cdots(I + J_1)\,u` against the central
  difference of the network's output along u, with a rigorous bound on the rounding of both;
- :func:`singular_extremes`: the extreme singular values of :math:`\prod (I + J_l)` over random
  stacks with :math:`\|J_l\|_2 = \epsilon` and the stack that attains the bound, in float64 with
  a posteriori rounding bounds;
- :func:`gradient_gain`: :math:`\|P_L u\|^2` for independent Gaussian :math:`J_l` (the exact
  reduction to two scalars per block, or dense float32 matrices) or real residual ReLU blocks.

Rounding bounds use the standard model of floating-point arithmetic (:mod:`numerics.rounding`).
"""

from __future__ import annotations

import math
from typing import Any

from .estimate import Accumulator, Estimate
from .namespaces import backend_name
from .namespaces import count_true as _count
from .namespaces import on_device as _on
from .rounding import beta_bound, frobenius, gamma, norms2, spectral_norms, unit_roundoff
from .rounding import dyadic as _dyadic_grid

__all__ = [
    "METHODS",
    "BOUNDS",
    "FD_EXPONENTS",
    "GRID",
    "JACOBIAN_STACKS",
    "BRANCH_LIPSCHITZ",
    "SINGULAR_STACKS",
    "FORMULAS",
    "jacobian_check",
    "jacobian_experiment",
    "singular_extremes",
    "singular_bounds_experiment",
    "gradient_gain",
    "vanishing_experiment",
]

METHODS = ("reduced", "gaussian", "relu-mlp")
BOUNDS = ("upper", "lower")
FORMULAS = ("product", "no-identity", "first-order")
FD_EXPONENTS = tuple(range(6, 35, 4))  # steps h = 2^-6, 2^-10, ..., 2^-34
GRID = 2.0**-12  # inputs and directions are multiples of GRID, |x| < 2^6: x +- h u is exact for h >= 2^-34
JACOBIAN_STACKS = 8
BRANCH_LIPSCHITZ = 2.0  # residual.jacobian's branches have Lipschitz constant at most 1/(BRANCH_LIPSCHITZ L)
SINGULAR_STACKS = 8
_DENSE_FLOATS = 1 << 24  # most float32 weights drawn at once (64 MiB)
_REDUCED_FLOATS = 1 << 22  # most float64 draws per array of the reduced method (32 MiB): stacks x blocks


def _dyadic(xp: Any, rng: Any, shape: tuple[int, ...], nonzero: bool = False) -> Any:
    """Standard normals on the grid GRID, |x| <= 63 (nonzero if asked): x +- h u stays exact."""
    return _dyadic_grid(xp, rng, shape, GRID, nonzero=nonzero)


# --- residual.jacobian ----------------------------------------------------------------------------


def jacobian_check(xp: Any, rng: Any, *, width: int, depth: int, stacks: int = JACOBIAN_STACKS) -> dict[str, Any]:
    r"""``stacks`` random residual ReLU stacks of ``depth`` blocks on :math:`R^{width}`: the chain-rule
    product :math:`v = (I + J_L)\cdots(I + J_1) u` against the central difference
    :math:`(y(x + hu) - y(x - hu))/(2h)` of the network's output, both in float64.

    Blocks: :math:`W_1 \sim N(0, 2/n)` (He), biases :math:`N(0, 0.1^2)`, and :math:`W_2` Gaussian
    scaled so that :math:`\beta(W_2)\beta(W_1) = 1/(2L)`: every branch has
    :math:`\|J_F\|_2 \le 1/(2L)`, so rounding errors grow by at most :math:`(1 + 1/(2L))^L < e^{1/2}`
    through the stack, and (``residual.singular-bounds``) every singular value of the stack's
    Jacobian lies in :math:`[(1 - 1/(2L))^L, (1 + 1/(2L))^L] \subset [1/2, e^{1/2}]`: the
    relative discrepancy is well conditioned.

    The step: x and u lie on a dyadic grid, so :math:`x \pm hu` is exact for :math:`h = 2^{-k}`,
    k in :data:`FD_EXPONENTS`. The largest h is taken for which every pre-activation of every block
    has, at x - hu, x and x + hu, the same sign *certified* (its magnitude exceeds the bound on its
    rounding error); then no ReLU changes sign on the segment, the stack is affine there with
    Jacobian :math:`P_L` (proofs.residual.derive_jacobian), and the central difference has no
    truncation error at all. What is left is rounding, bounded rigorously: per block, the local
    error :math:`\rho \le \gamma_{n+1}(\beta_2(\beta_1\|\hat x\| + \|b_1\|) + \beta_2\|\hat r\| + \|b_2\|)
    + \gamma_1\|\hat x'\|` (2-norms) propagated by :math:`e' \le (1 + \beta_1\beta_2) e + \rho`; the
    same for the tangent. A stack with a pre-activation within its rounding bound of 0 at x itself
    (probability about n L 1e-13) is excluded and counted.

    Returns per stack (arrays of length ``stacks``): ``discrepancy`` (dict formula ->
    :math:`\|C_h - v\|_\infty/\|v\|_\infty` for each of :data:`FORMULAS`: the product, the product
    without the identity :math:`J_L \cdots J_1 u`, and the first-order :math:`(I + \sum_l J_l) u`),
    ``tolerance`` (the bound for the product), ``step`` (h), ``valid``.
    """
    n, L, B = width, depth, stacks
    f64 = xp.float64
    on = _on(rng)
    u = unit_roundoff(xp)
    g1, gn, gn1 = gamma(1, u), gamma(n, u), gamma(n + 1, u)
    steps = [2.0**-k for k in FD_EXPONENTS]
    K = len(steps)
    x0 = _dyadic(xp, rng, (B, n))
    d = _dyadic(xp, rng, (B, n), nonzero=True)
    hs = xp.asarray(steps, dtype=f64, **on)
    # columns: x, x + h_k d (k = 0..K-1), x - h_k d; all exact (dyadic, < 53 significant bits)
    state = xp.concat([x0[:, :, None], x0[:, :, None] + hs[None, None, :] * d[:, :, None],
                       x0[:, :, None] - hs[None, None, :] * d[:, :, None]], axis=2)
    err = xp.zeros((B, 1 + 2 * K), dtype=f64, **on)  # bounds on ||x_hat - x_exact||_2 per column
    # tangents: [product v, no identity w, the input u (for the first-order sum)]
    tangent = xp.stack([d, d, d], axis=2)
    first_order = d
    terr = xp.zeros(B, dtype=f64, **on)
    centre_ok = xp.ones(B, dtype=xp.bool, **on)
    step_ok = xp.ones((B, K), dtype=xp.bool, **on)
    for _ in range(L):
        w1 = rng.standard_normal((B, n, n), dtype=f64) * math.sqrt(2.0 / n)
        b1 = 0.1 * rng.standard_normal((B, n), dtype=f64)
        w2 = rng.standard_normal((B, n, n), dtype=f64)
        b2 = 0.1 * rng.standard_normal((B, n), dtype=f64)
        beta1 = beta_bound(xp, w1) * (1 + gn1)
        w2 = w2 / (BRANCH_LIPSCHITZ * L * beta1 * beta_bound(xp, w2))[:, None, None]
        beta2 = beta_bound(xp, w2) * (1 + gn1)
        lip = beta1 * beta2 * (1 + g1)
        rows1 = xp.sqrt(xp.max(xp.sum(w1 * w1, axis=2), axis=1)) * (1 + gn1)  # largest row 2-norm of W1
        nb1, nb2 = norms2(xp, b1), norms2(xp, b2)
        nb1_inf = xp.max(xp.abs(b1), axis=1)
        pre = xp.matmul(w1, state) + b1[:, :, None]  # (B, n, 1 + 2K)
        # |pre_hat - pre_exact| <= gamma_(n+1)(|W1||x_hat| + |b1|) + |W1 (x_hat - x)|, by rows (Cauchy-Schwarz)
        margin = gn1 * (rows1[:, None] * norms2(xp, state) + nb1_inf[:, None]) + rows1[:, None] * err
        certified = xp.all(xp.abs(pre) > margin[:, None, :], axis=1)  # (B, 1 + 2K)
        positive = pre > 0
        same = xp.all(positive[:, :, 1:] == positive[:, :, :1], axis=1)  # (B, 2K): pattern of x
        centre_ok = centre_ok & certified[:, 0]
        step_ok = step_ok & certified[:, 1:K + 1] & certified[:, K + 1:] & same[:, :K] & same[:, K:]
        act = xp.maximum(pre, 0.0)
        new = state + (xp.matmul(w2, act) + b2[:, :, None])
        rho = gn1 * (beta2[:, None] * (beta1[:, None] * norms2(xp, state) + nb1[:, None]) + beta2[:, None] * norms2(xp, act)
                     + nb2[:, None]) + g1 * norms2(xp, new)
        err = (1 + lip[:, None]) * err + rho
        inner = xp.where(positive[:, :, :1], xp.matmul(w1, tangent), 0.0)  # D W1 [v, w, u], the pattern of x
        branch = xp.matmul(w2, inner)
        v_new = tangent[:, :, 0] + branch[:, :, 0]
        rho_v = gn * (beta2 * beta1 * norms2(xp, tangent[:, :, 0]) + beta2 * norms2(xp, inner[:, :, 0])) + g1 * norms2(xp, v_new)
        terr = (1 + lip) * terr + rho_v
        first_order = first_order + branch[:, :, 2]
        tangent = xp.stack([v_new, branch[:, :, 1], d], axis=2)
        state = new
    valid = centre_ok & xp.any(step_ok, axis=1)
    k = xp.argmax(xp.astype(step_ok, xp.int8), axis=1)  # the largest certified step (the first True)
    h = xp.take(hs, k)
    plus, minus = k[:, None, None] + 1, k[:, None, None] + 1 + K  # their columns, (B, 1, 1)
    central = (xp.take_along_axis(state, plus, axis=2) - xp.take_along_axis(state, minus, axis=2))[:, :, 0] / (2 * h)[:, None]
    v = tangent[:, :, 0]
    scale = xp.max(xp.abs(v), axis=1)
    err_pm = xp.take_along_axis(err, plus[:, 0, :], axis=1) + xp.take_along_axis(err, minus[:, 0, :], axis=1)
    fd_error = err_pm[:, 0] / (2 * h) + g1 * xp.max(xp.abs(central), axis=1)
    # the bound's own arithmetic: about 24 operations per block on non-negative numbers
    safety = 1 + gamma(24 * (L + 1), u)
    tolerance = (fd_error + terr) * (1 + gamma(3, u)) * safety / scale
    discrepancy = {
        "product": xp.max(xp.abs(central - v), axis=1) / scale,
        "no-identity": xp.max(xp.abs(central - tangent[:, :, 1]), axis=1) / scale,
        "first-order": xp.max(xp.abs(central - first_order), axis=1) / scale,
    }
    return {"discrepancy": discrepancy, "tolerance": tolerance, "step": h, "valid": valid}


def jacobian_experiment(xp: Any, rng: Any, budget: int | None = None, *, width: int, depth: int) -> Estimate:
    r"""The relative discrepancy :math:`\|C_h - P_L u\|_\infty / \|P_L u\|_\infty` of the stack, among
    :data:`JACOBIAN_STACKS` random ReLU stacks the one that comes closest to its tolerance (the
    largest discrepancy/tolerance), with that stack's rigorous rounding bound as the tolerance.
    Exact: the closed form is 0."""
    out = jacobian_check(xp, rng, width=width, depth=depth)
    valid = out["valid"]
    excluded = _count(xp, ~valid)
    if excluded == valid.shape[0]:
        raise RuntimeError("every stack had a pre-activation within rounding of 0 at its input; use another seed")
    disc, tol = out["discrepancy"]["product"], out["tolerance"]
    ratio = xp.where(valid, disc / tol, -1.0)
    worst = int(xp.argmax(ratio))
    events = (("stacks excluded: a pre-activation within its rounding bound of $0$ at the input", excluded),)
    return Estimate(float(disc[worst]), 0.0, 1, backend_name(xp), "float64", float(tol[worst]), events)


# --- residual.singular-bounds ------------------------------------------------------------------------


def singular_extremes(xp: Any, rng: Any, *, width: int, depth: int, eps: float, bound: str,
                      stacks: int = SINGULAR_STACKS) -> dict[str, Any]:
    r"""The extreme singular value of :math:`P_L = (I + J_L)\cdots(I + J_1)` for ``stacks`` random
    stacks (:math:`J_l` Gaussian scaled to :math:`\|J_l\|_2 = \epsilon`) and, as stack 0, the one
    that attains the bound (:math:`J_l = \epsilon I` for ``upper``, :math:`-\epsilon I` for ``lower``).

    ``upper``: :math:`\sigma_{\max}(P_L)` from the product. ``lower``: :math:`\sigma_{\min}(P_L) =
    1/\sigma_{\max}(P_L^{-1})` with :math:`P_L^{-1} = M_1^{-1} \cdots M_L^{-1}`, which keeps its
    relative accuracy however small :math:`\sigma_{\min}` is (the product of the inverses is as
    well conditioned as the product itself).

    Tolerances, per stack, a posteriori: a product :math:`\mathrm{fl}(AB)` is off by at most
    :math:`\gamma_n \|A\|_F \|B\|_F` in the 2-norm, errors carried forward by the computed
    :math:`\|M_l\|_2` (resp. :math:`\|M_l^{-1}\|_2 \le \|X\|_2/(1 - r)`, with
    :math:`r \ge \|I - MX\|_2` the computed residual plus its own rounding bound, and
    :math:`\|X - M^{-1}\|_2 \le \|X\|_2\,r/(1 - r)`), so no inequality under test is used; a
    singular value from the SVD is within :math:`n\,\varepsilon\,\sigma_{\max}` (LAPACK's error
    bound, :math:`\varepsilon` the machine epsilon). :math:`\eta` is the rounding of the scaling and of
    I + J (each stack exactly admissible for :math:`\epsilon + \eta`), and ``admissible`` is what it
    moves the bound by.

    Returns ``value`` (per stack), ``tolerance`` (per stack), ``admissible`` (float) and the
    exact ``bound_value`` :math:`(1 \pm \epsilon)^L` in float64.
    """
    if bound not in BOUNDS:
        raise ValueError(f"bound={bound!r} is not one of {', '.join(BOUNDS)}")
    n, L, R = width, depth, stacks + 1
    u = unit_roundoff(xp)
    machine = 2 * u
    g1, gn, gn1 = gamma(1, u), gamma(n, u), gamma(n + 1, u)
    eta = eps * ((1 + u) * (1 + u * math.sqrt(n)) / (1 - n * machine) - 1) + 2 * u * (1 + eps)
    sign = 1.0 if bound == "upper" else -1.0
    f64 = xp.float64
    on = _on(rng)
    eye = xp.eye(n, dtype=f64, **on)
    acc = xp.zeros((R, n, n), dtype=f64, **on) + eye
    err = xp.zeros(R, dtype=f64, **on)
    svd_factor = 1 + n * machine
    broken = xp.zeros(R, dtype=xp.bool, **on)
    for _ in range(L):
        gauss = rng.standard_normal((stacks, n, n), dtype=f64)
        scaled = gauss * (eps / spectral_norms(xp, gauss))[:, None, None]
        jac = xp.concat([(sign * eps) * eye[None, ...], scaled], axis=0)
        m = eye + jac
        fro_m, fro_acc = frobenius(xp, m), frobenius(xp, acc)
        if bound == "upper":
            grow = spectral_norms(xp, m) * svd_factor  # ||M_l||_2, computed: no inequality under test is used
            acc = xp.matmul(m, acc)  # P_l = M_l P_(l-1)
            err = grow * err + gn * fro_m * fro_acc
        else:
            inv = xp.linalg.inv(m)
            fro_inv = frobenius(xp, inv)
            # r >= ||I - M X||_2 from the computed residual and its own rounding bound; then
            # ||M^-1||_2 <= ||X||_2/(1 - r) and ||X - M^-1||_2 <= ||X||_2 r/(1 - r) (M X = I - R)
            r = frobenius(xp, eye - xp.matmul(m, inv)) * (1 + g1) + gn1 * fro_m * fro_inv
            norm_x = spectral_norms(xp, inv) * svd_factor
            room = xp.where(r < 1, 1 - r, 0.0)
            broken = broken | (room <= 0)  # the residual certifies nothing: the stack's tolerance is infinite
            safe = xp.where(room > 0, room, 1.0)
            grow = norm_x / safe
            inv_error = xp.where(room > 0, norm_x * r / safe, 0.0)
            acc = xp.matmul(acc, inv)  # Q_l = Q_(l-1) M_l^-1
            err = grow * err + fro_acc * inv_error + gn * fro_acc * fro_inv
    top = spectral_norms(xp, acc)
    spread = err * (1 + gamma(16 * (L + 1), u)) + n * machine * top  # |computed - exact sigma_max|
    if bound == "upper":
        value, tolerance = top, spread
        exact = math.exp(L * math.log1p(eps))
        admissible = exact * math.expm1(L * math.log1p(eta / (1 + eps)))
    else:
        value = 1.0 / top
        room = xp.maximum(top - spread, 0.0)
        tolerance = xp.where(room > 0, (spread / top) / xp.where(room > 0, room, 1.0), math.inf) + g1 * value
        exact = math.exp(L * math.log1p(-eps))
        admissible = -exact * math.expm1(L * math.log1p(-eta / (1 - eps)))
    tolerance = xp.where(broken, math.inf, tolerance)
    return {"value": value, "tolerance": tolerance, "admissible": admissible, "bound_value": exact}


def singular_bounds_experiment(xp: Any, rng: Any, budget: int | None = None, *, width: int, depth: int, eps: float,
                               bound: str) -> Estimate:
    r"""The largest :math:`\sigma_{\max}(P_L)` (``upper``) or smallest :math:`\sigma_{\min}(P_L)`
    (``lower``) over the attaining stack and :data:`SINGULAR_STACKS` random admissible stacks. Exact:
    it equals the bound :math:`(1 \pm \epsilon)^L` when the bound holds for every stack and is
    attained; the tolerance is the largest rounding bound plus what the admissibility slack moves
    the bound by. Reports how many random stacks fell outside the bound beyond rounding, and how
    close the closest one came; inconclusive if no random stack is certified."""
    out = singular_extremes(xp, rng, width=width, depth=depth, eps=eps, bound=bound)
    value, tolerance, exact = out["value"], out["tolerance"], out["bound_value"]
    upper = bound == "upper"
    # a stack whose rounding bound is as large as its value (a long product far smaller than the
    # product of its factors' norms) certifies nothing: it is left out, and counted
    certified = tolerance < value
    if not bool(certified[0]):
        raise RuntimeError(f"the attaining stack's rounding bound {float(tolerance[0]):.3g} exceeds its value")
    pick = int(xp.argmax(xp.where(certified, value, -math.inf)) if upper else xp.argmin(xp.where(certified, value, math.inf)))
    estimate = float(value[pick])
    # |computed extreme - exact extreme| <= the largest tolerance of a stack, less how far that stack's
    # computed value lies on the far side of the extreme (a stack far from it cannot be the exact extreme)
    beyond = (estimate - value) if upper else (value - estimate)
    atol = out["admissible"] + float(xp.max(xp.where(certified, tolerance - beyond, -math.inf)))
    kept = certified[1:]
    random_values, random_tol = value[1:], tolerance[1:]  # the certified ones are those kept
    stacks, left_out = int(value.shape[0]) - 1, _count(xp, ~kept)
    why = "" if left_out < stacks else (
        "no random stack is certified: each one's rounding bound reaches its value (the product falls far below the "
        "product of its factors' norms), so the bound was checked on the attaining stack alone, which meets it by "
        "construction")
    if left_out == stacks:
        text, outside = "none certified", 0
    else:  # how many certified random stacks passed the bound, and how close the closest one came
        far = (random_values - random_tol > exact + out["admissible"]) if upper else (random_values + random_tol < exact - out["admissible"])
        outside = _count(xp, kept & far)
        closest = float(xp.max(xp.where(kept, random_values, -math.inf)) if upper else xp.min(xp.where(kept, random_values, math.inf)))
        mantissa, _, power = f"{closest / exact:.3g}".partition("e")
        ratio = mantissa + (rf"\times 10^{{{int(power)}}}" if power else "")
        end, sign = ("largest", "+") if upper else ("smallest", "-")
        text = rf"the closest: its {end} singular value was ${ratio}$ times $(1 {sign} \epsilon)^L$"
    events = (
        (f"random stacks outside the {bound} bound beyond rounding, of {stacks - left_out} certified ({text})", outside),
        ("random stacks left out: rounding bound not below their value (a product far below the product of norms)", left_out),
    )
    return Estimate(estimate, 0.0, 1, backend_name(xp), "float64", atol, events, inconclusive=why)


# --- residual.vanishing ----------------------------------------------------------------------------------


def _dense_batch(width: int, matrices: int) -> int:
    return max(1, _DENSE_FLOATS // (matrices * width * width))


def gradient_gain(xp: Any, rng: Any, b: int, *, width: int, depth: int, sigma2: float, method: str = "reduced"):
    r"""``||P_L u||^2`` for ``b`` independent stacks (float64 array of length b), and the number of
    stacks with a wholly inactive ReLU block (``relu-mlp``; 0 otherwise).

    - ``reduced``: each block multiplies :math:`\|v\|^2` by :math:`(1 + \sqrt{s} z)^2 + s\chi^2_{n-1}`,
      :math:`s = \sigma^2/n`, independently (proofs.residual.derive_gaussian_reduction): O(1) per block;
    - ``gaussian``: dense :math:`J_l` with iid :math:`N(0, s)` entries, float32 ``(b, n, n)``, the
      tangent renormalised after every block and its scale kept as a float64 logarithm;
    - ``relu-mlp``: real blocks :math:`x + W_2\,\mathrm{relu}(W_1 x)`, :math:`W_1 \sim N(0, 2/n)`,
      :math:`W_2 \sim N(0, \sigma^2/n)`, input and tangent through one batched matmul per layer,
      float32, both renormalised (the ReLU pattern is unchanged by positive scaling).

    The input is :math:`x = (1, \dots, 1)`, the tangent :math:`u = e_1`.
    """
    if method not in METHODS:
        raise ValueError(f"method={method!r} is not one of {', '.join(METHODS)}")
    n, s = width, sigma2 / width
    f32, f64 = xp.float32, xp.float64
    on = _on(rng)
    if method == "reduced":
        # no draw depends on the gain so far: a batch draws every block's variables at once (two
        # generator calls whatever the depth) and multiplies the factors along the depth axis
        per = _reduced_batch(depth)
        if b > per:
            parts = [gradient_gain(xp, rng, min(per, b - i), width=n, depth=depth, sigma2=sigma2)[0] for i in range(0, b, per)]
            return xp.concat(parts), 0
        if depth == 0:
            return xp.ones(b, dtype=f64, **on), 0
        z = rng.standard_normal((depth, b), dtype=f64)
        chi = 2.0 * rng.standard_gamma((n - 1) / 2.0, size=(depth, b))
        return xp.prod((1.0 + math.sqrt(s) * z) ** 2 + s * chi, axis=0), 0
    log_scale = xp.zeros(b, dtype=f64, **on)
    first = xp.astype(xp.arange(n, **on) == 0, f32)  # u = e_1
    if method == "gaussian":
        v = xp.broadcast_to(first[:, None], (b, n, 1))
        for _ in range(depth):
            jac = rng.standard_normal((b, n, n), dtype=f32) * math.sqrt(s)  # a Python scale keeps float32
            w = v + xp.matmul(jac, v)
            del jac
            sq = xp.sum(xp.astype(w, f64) ** 2, axis=(1, 2))
            log_scale = log_scale + xp.log(sq)
            v = w / xp.astype(xp.sqrt(sq), f32)[:, None, None]
        return xp.exp(log_scale), 0
    state = xp.stack([xp.full((b, n), 1.0 / math.sqrt(n), dtype=f32, **on), xp.broadcast_to(first, (b, n))], axis=2)
    inactive = xp.zeros(b, dtype=xp.bool, **on)
    for _ in range(depth):
        w1 = rng.standard_normal((b, n, n), dtype=f32) * math.sqrt(2.0 / n)
        pre = xp.matmul(w1, state)
        del w1
        mask = pre[:, :, :1] > 0
        inactive = inactive | ~xp.any(mask[:, :, 0], axis=1)
        w2 = rng.standard_normal((b, n, n), dtype=f32) * math.sqrt(s)
        out = state + xp.matmul(w2, xp.where(mask, pre, 0.0))  # x + W2 relu(W1 x); v + W2 D W1 v
        del w2
        sq = xp.sum(xp.astype(out, f64) ** 2, axis=1)  # (b, 2), float64 accumulation
        log_scale = log_scale + xp.log(sq[:, 1])
        state = out / xp.astype(xp.sqrt(sq), f32)[:, None, :]
    return xp.exp(log_scale), _count(xp, inactive)  # one transfer per batch


def _reduced_batch(depth: int) -> int:
    """Stacks per batch of the reduced method: every block's draws within 32 MiB per array."""
    return max(1, _REDUCED_FLOATS // max(1, depth))


def vanishing_experiment(
    xp: Any, rng: Any, budget: int, *, width: int, depth: int, sigma2: float, method: str
) -> Estimate:
    r"""Mean over ``budget`` independent stacks of :math:`\|P_L u\|^2` (:func:`gradient_gain`)."""
    dtype = "float64" if method == "reduced" else "float32"
    acc = Accumulator(backend=backend_name(xp), dtype=dtype)
    per_batch = {"reduced": _reduced_batch(depth), "gaussian": _dense_batch(width, 1), "relu-mlp": _dense_batch(width, 2)}.get(method, 1)
    done = 0
    while done < budget:
        b = min(per_batch, budget - done)
        gain, inactive = gradient_gain(xp, rng, b, width=width, depth=depth, sigma2=sigma2, method=method)
        acc.add(gain)
        if method == "relu-mlp":
            acc.count("stacks with a wholly inactive ReLU block (their branch is $0$ there)", inactive)
        done += b
    return acc.estimate()
