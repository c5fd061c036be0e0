r"""Spectral norms and Lipschitz constants: the kernels behind ``lipschitz.spectral`` and ``lipschitz.bound``.

**The largest singular value of a Gaussian matrix** (:func:`spectral_norms`). :math:`W` is ``n x m`` with iid
:math:`N(0, 1/n)` entries, so :math:`\|W\|_2 = \sigma_{\max}(X)/\sqrt n` with :math:`X` standard Gaussian. Two
methods with the same law:

- ``bidiagonal`` (the default): Householder reflections from both sides (Silverstein 1985,
  doi:10.1214/aop/1176992819; the :math:`\beta = 1` Laguerre model of Dumitriu and Edelman 2002,
  doi:10.1063/1.1507823) turn :math:`X` into an upper bidiagonal :math:`q \times q` matrix with independent
  entries, :math:`q = \min(n, m)`, :math:`p = \max(n, m)`: diagonal :math:`\chi_p, \chi_{p-1}, \dots,
  \chi_{p-q+1}`, superdiagonal :math:`\chi_{q-1}, \dots, \chi_1`. Its singular values are those of :math:`X`,
  exactly in distribution, so one replicate costs :math:`2q - 1` chi draws (not :math:`nm` normals) and the
  top eigenvalue of the tridiagonal :math:`q \times q` Gram matrix;
- ``dense``: :math:`X` itself, float64, and the top eigenvalue of its smaller Gram matrix.

Both batched (``(b, q, q)`` stacks, ``eigvalsh``), float64, one BLAS thread on NumPy (many small LAPACK
calls stall a multithreaded OpenBLAS on a busy machine).

*The sweep's statistic* (:func:`spectral_experiment`). The limit is swept in n at ``m = round(aspect n)``; the
replicate statistic is :math:`\|W\|_2 - \delta`, with the deterministic shift

.. math::

    \delta(n, m) = \sqrt{1 - \tfrac{1}{2n}} + \sqrt{\tfrac{m - 1/2}{n}} - 1 - \sqrt{a},

the centring :math:`(\sqrt{n - 1/2} + \sqrt{m - 1/2})^2` of the largest eigenvalue of :math:`X^\top X` that Ma
(2012, arXiv:0810.1329) shows to be second-order accurate (the Tracy-Widom approximation then holds to
:math:`O(n^{-2/3})` in its own units, :math:`O(n^{-4/3})` in those of :math:`\|W\|`), minus its limit. It is
:math:`O(1/n)`, has no :math:`n^{-2/3}` part and vanishes in the limit, so the limit and the
:math:`n^{-2/3}` coefficient of the sweep are those of :math:`\mathbb{E}\|W\|_2`; it removes the :math:`1/n` term
(which the fit in powers of :math:`n^{-2/3}` cannot carry) and the jagged error of rounding :math:`an` to an
integer. Measured at ``aspect = 1/4``: :math:`\mathbb{E}\|W\|_2 - \delta - (1 + \sqrt a + c\,n^{-2/3})` is
:math:`-0.17\,n^{-4/3}` within its errors for n = 16...512.

**The Lipschitz constant of a ReLU network** (:func:`lipschitz_constants`). Bias-free ReLU networks
:math:`f(x) = W_L\,\mathrm{relu}(W_{L-1} \cdots \mathrm{relu}(W_1 x))` on :math:`\mathbb R^2`, every
:math:`W_l` scaled to :math:`\|W_l\|_2 = s` (``norm``). Such an f is positively homogeneous, so its
activation regions are sectors :math:`\{r(\cos\theta, \sin\theta)\}`; they are enumerated exactly, layer by
layer: within a sector each pre-activation is :math:`A(\cos\theta, \sin\theta)` for a fixed matrix A, whose
rows vanish at computable angles, so each sector is cut where a unit changes sign and the next layer's map is
:math:`W_{l+1} D A`, D the sector's pattern. The Jacobian is constant on each sector, and f is continuous
and piecewise linear, so :math:`\mathrm{Lip}(f) = \max_x \|J(x)\|_2` is the largest :math:`\|J\|_2` over the
sectors: found, not sampled. (A pattern judged at a sector's midpoint in floating point could be wrong on a
sliver only; any 0/1 pattern D still has :math:`\|W_L D \cdots D W_1\|_2 \le \prod_l \|W_l\|_2`, so an error
there cannot fake a violation.) The weights are drawn by the backend's generator and brought to the host once
(two arrays, whatever the depth); the enumeration, whose sectors are ragged, runs in NumPy.

Rounding: the scaled weights have exact norms within :math:`s(1 \pm \eta)`, :math:`\eta = \gamma_{2w+4}`
(LAPACK's singular values are accurate to :math:`w\,\varepsilon\,\sigma_{\max}`, and the scaling rounds once);
each sector's product carries an a-posteriori bound :math:`e_l = \gamma_w \|W_l\|_F \|\hat A_{l-1}\|_F +
s(1 + \eta) e_{l-1}` on its error (Higham 2002, Section 3.5), and the top singular value of the computed
Jacobian one of :math:`w\,\varepsilon` relative.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

import numpy as np

from .estimate import Accumulator, Estimate
from .namespaces import backend_name, on_device, to_host
from .rounding import gamma, unit_roundoff

__all__ = [
    "METHODS", "NETWORKS", "SECTOR_CAP", "columns", "centring_shift", "spectral_norms", "spectral_experiment",
    "random_networks", "near_aligned", "attaining_network", "sectors", "lipschitz_constants", "bound_check", "depth_profile",
    "bound_experiment",
]

METHODS = ("bidiagonal", "dense")
NETWORKS = 16  # random networks per lipschitz.bound run, beside the attaining one
NEAR = 8  # near-aligned networks per run (rank-one chains tilted by TILT)
TILT = 0.2
SECTOR_CAP = 200_000  # a network with more activation sectors than this is left out (and counted)
_FLOATS = 1 << 22  # most float64 entries of one batch's (b, q, q) or (b, n, m) array (32 MiB)
_TWO_PI = 2 * math.pi


def _one_blas_thread(xp: Any):
    """One BLAS/LAPACK thread for the many small batched eigenvalue problems on NumPy's BLAS (``numpy``,
    ``array-api-strict``, the host), restored on exit; other backends are left alone."""
    if xp is not np and backend_name(xp) not in ("numpy", "array-api-strict"):
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


# --- lipschitz.spectral ---------------------------------------------------------------------------------


def columns(n: int, aspect: float) -> int:
    """``m = round(aspect n)`` (half up), at least 1."""
    return max(1, math.floor(aspect * n + 0.5))


def centring_shift(n: int, m: int, aspect: float) -> float:
    r""":math:`\delta = \sqrt{1 - 1/(2n)} + \sqrt{(m - 1/2)/n} - 1 - \sqrt{a}`: Ma's centring of
    :math:`\sqrt{\lambda_{\max}(X^\top X)/n}` minus its limit (0 when n grows at m = an)."""
    return math.sqrt(1 - 0.5 / n) + math.sqrt((m - 0.5) / n) - 1 - math.sqrt(aspect)


def _bidiagonal_gram(xp: Any, rng: Any, b: int, p: int, q: int) -> Any:
    """``b`` tridiagonal Gram matrices :math:`B^\\top B` of the chi bidiagonal model, ``(b, q, q)`` float64."""
    on = on_device(rng)
    f64 = xp.float64
    diagonal = 2.0 * rng.standard_gamma(xp.asarray([(p - i) / 2 for i in range(q)], dtype=f64, **on), size=(b, q))
    main = diagonal  # d_i^2, then + e_(i-1)^2 below
    if q == 1:
        return main[:, :, None]
    upper = 2.0 * rng.standard_gamma(xp.asarray([(q - 1 - i) / 2 for i in range(q - 1)], dtype=f64, **on),
                                     size=(b, q - 1))  # e_i^2, i = 0..q-2
    zero = xp.zeros((b, 1), dtype=f64, **on)
    main = diagonal + xp.concat([zero, upper], axis=1)
    off = xp.concat([xp.sqrt(diagonal[:, :-1] * upper), zero], axis=1)  # (B^T B)_(i, i+1) = d_i e_i
    shift = xp.eye(q, k=1, dtype=f64, **on)
    eye = xp.eye(q, dtype=f64, **on)
    return main[:, :, None] * eye + off[:, :, None] * shift + off[:, None, :] * xp.matrix_transpose(shift)


def _dense_gram(xp: Any, rng: Any, b: int, n: int, m: int) -> Any:
    """The smaller Gram matrix of ``b`` standard Gaussian ``n x m`` matrices, ``(b, q, q)`` float64."""
    x = rng.standard_normal((b, n, m), dtype=xp.float64)
    t = xp.matrix_transpose(x)
    return xp.matmul(t, x) if m <= n else xp.matmul(x, t)


def spectral_norms(xp: Any, rng: Any, b: int, *, n: int, m: int, method: str = "bidiagonal") -> Any:
    r""":math:`\|W\|_2` for ``b`` independent ``n x m`` matrices with iid :math:`N(0, 1/n)` entries (float64, length b).

    >>> import numpy as np
    >>> s = spectral_norms(np, np.random.default_rng(0), 4000, n=64, m=16)
    >>> 1.40 < float(s.mean()) < 1.46  # 1.5 - 0.87 n^(-2/3) - 0.75/n
    True
    """
    if method not in METHODS:
        raise ValueError(f"method={method!r} is not one of {', '.join(METHODS)}")
    p, q = max(n, m), min(n, m)
    per = max(1, _FLOATS // (q * q if method == "bidiagonal" else n * m))
    parts = []
    with _one_blas_thread(xp):
        for start in range(0, b, per):
            k = min(per, b - start)
            gram = _bidiagonal_gram(xp, rng, k, p, q) if method == "bidiagonal" else _dense_gram(xp, rng, k, n, m)
            top = xp.linalg.eigvalsh(gram)[:, -1]
            parts.append(xp.sqrt(xp.clip(top, min=0.0) / n))
    return parts[0] if len(parts) == 1 else xp.concat(parts)


def spectral_experiment(xp: Any, rng: Any, budget: int, *, aspect: float, method: str, n: int) -> Estimate:
    r"""The mean over ``budget`` independent matrices of :math:`\|W\|_2 - \delta(n, m)` at ``m = round(aspect n)``
    (:func:`centring_shift`): the sweep point of ``lipschitz.spectral`` at ``n``."""
    m = columns(n, aspect)
    if min(n, m) < 2:
        raise ValueError(f"n={n} and aspect={aspect:g} give an n x {m} matrix: both sides must be at least 2")
    shift = centring_shift(n, m, aspect)
    acc = Accumulator(backend=backend_name(xp), dtype="float64")
    acc.add(spectral_norms(xp, rng, budget, n=n, m=m, method=method) - shift)
    return acc.estimate()


# --- lipschitz.bound ----------------------------------------------------------------------------------------


def _scaled(g: np.ndarray, norm: float) -> np.ndarray:
    """Each matrix of the host stack ``g`` (..., r, c) scaled to spectral norm ``norm`` (as computed)."""
    top = np.linalg.svd(g, compute_uv=False)[..., 0]
    return g * (norm / top)[..., None, None]


def random_networks(xp: Any, rng: Any, *, width: int, depth: int, norm: float, networks: int = NETWORKS) -> list[np.ndarray]:
    r"""``networks`` bias-free ReLU networks on :math:`\mathbb R^2` with Gaussian weights scaled to
    :math:`\|W_l\|_2 = s`: one host array ``(networks, rows, columns)`` per layer (the first ``width x 2``, the
    others ``width x width``). Two draws and two transfers, whatever the depth."""
    first = to_host(rng.standard_normal((networks, width, 2), dtype=xp.float64))
    rest = to_host(rng.standard_normal((depth - 1, networks, width, width), dtype=xp.float64))
    with _one_blas_thread(np):
        return [_scaled(first, norm), *_scaled(rest, norm)]


def _chains(xp: Any, rng: Any, count: int, width: int, depth: int) -> list[np.ndarray]:
    r"""``count`` rank-one chains, layer l the outer product :math:`v_l v_{l-1}^\top` of random unit vectors with
    positive entries (:math:`v_0 \in \mathbb R^2`): one host array ``(count, rows, columns)`` per layer, unscaled."""
    draws = np.abs(to_host(rng.standard_normal((count, depth + 1, width + 2), dtype=xp.float64))) + 1e-3
    vs = [draws[:, 0, :2]] + [draws[:, k, :width] for k in range(1, depth + 1)]
    vs = [v / np.sqrt(np.sum(v * v, axis=1, keepdims=True)) for v in vs]
    return [vs[i + 1][:, :, None] * vs[i][:, None, :] for i in range(depth)]


def near_aligned(xp: Any, rng: Any, *, width: int, depth: int, norm: float, networks: int = NEAR,
                 tilt: float = TILT) -> list[np.ndarray]:
    r"""``networks`` rank-one chains (as :func:`attaining_network`) each layer perturbed by ``tilt`` times a
    Gaussian matrix of unit expected Frobenius norm, then rescaled to :math:`\|W_l\|_2 = s`: networks whose
    constant comes close to :math:`s^L` from below, so that they probe the upper side of the bound where random
    ones (ratio about 0.06 at depth 5) cannot. One host array ``(networks, rows, columns)`` per layer."""
    chains = _chains(xp, rng, networks, width, depth)
    noise = to_host(rng.standard_normal((depth, networks, width, width), dtype=xp.float64))
    layers = []
    for outer, g in zip(chains, noise, strict=True):
        g = g[:, :, : outer.shape[2]]
        layers.append(outer + tilt * g / math.sqrt(g.shape[1] * g.shape[2]))
    with _one_blas_thread(np):
        return [_scaled(w, norm) for w in layers]


def attaining_network(xp: Any, rng: Any, *, width: int, depth: int, norm: float) -> list[np.ndarray]:
    r"""A network whose Lipschitz constant is :math:`s^L`: rank-one layers :math:`W_l = s\,v_l v_{l-1}^\top` with
    random unit vectors :math:`v_l` of positive entries (:math:`v_0 = q \in \mathbb R^2`), so that on the half
    plane :math:`q^\top x > 0` every unit is active and :math:`J = s^L v_L q^\top`, of norm :math:`s^L`. One host
    array ``(1, rows, columns)`` per layer."""
    with _one_blas_thread(np):
        return [_scaled(w, norm) for w in _chains(xp, rng, 1, width, depth)]


def sectors(weights: list[np.ndarray], cap: float = SECTOR_CAP) -> dict[str, np.ndarray] | None:
    r"""The activation sectors of one bias-free ReLU network on :math:`\mathbb R^2` (host arrays ``W_l``, each
    ``(rows, columns)``), found exactly as described in the module: ``start``, ``end`` (angles), ``jacobian``
    (``(S, out, 2)``) and ``error`` (an a-posteriori bound on each Jacobian's rounding, spectral norm). None when
    there are more than ``cap`` sectors."""
    u = unit_roundoff(np)
    start, end = np.zeros(1), np.full(1, _TWO_PI)
    maps = weights[0][None].astype(np.float64)  # (S, rows, 2): the pre-activation is maps @ (cos, sin)
    error = np.zeros(1)
    prefix = [_top(maps).max()]  # the Lipschitz constant of the network truncated after each layer
    for w in weights[1:]:
        zero = np.mod(np.arctan2(-maps[:, :, 0], maps[:, :, 1]), np.pi)  # a row vanishes at zero and zero + pi
        cuts = np.concatenate([zero, zero + np.pi], axis=1)
        inside = (cuts > start[:, None]) & (cuts < end[:, None])
        cuts = np.sort(np.where(inside, cuts, end[:, None]), axis=1)
        edges = np.concatenate([start[:, None], cuts, end[:, None]], axis=1)
        lo, hi = edges[:, :-1], edges[:, 1:]
        keep = hi > lo
        parent = np.nonzero(keep)[0]
        start, end = lo[keep], hi[keep]
        if start.size > cap:
            return None
        mid = 0.5 * (start + end)
        direction = np.stack([np.cos(mid), np.sin(mid)], axis=1)
        pre = np.einsum("sij,sj->si", maps[parent], direction)
        active = maps[parent] * (pre > 0)[:, :, None]  # D A: rows of inactive units zeroed (exact)
        grown = np.sqrt((w * w).sum()) * np.sqrt((active * active).sum(axis=(1, 2)))  # ||W||_F ||D A||_F
        maps = np.einsum("ij,sjk->sik", w, active)
        bound = float(np.linalg.svd(w, compute_uv=False)[0]) * (1 + gamma(2 * w.shape[1] + 4, u))
        error = gamma(w.shape[1], u) * grown + bound * error[parent]
        prefix.append(_top(maps).max())
    top = _top(maps)
    return {"start": start, "end": end, "jacobian": maps, "norm": top, "error": error + gamma(maps.shape[1] + 2, u) * top,
            "prefix": np.array(prefix)}


def _top(maps: np.ndarray) -> np.ndarray:
    """The spectral norm of each matrix of the stack ``maps`` (S, rows, 2)."""
    return np.linalg.svd(maps, compute_uv=False)[:, 0] if maps.shape[1] > 1 else np.sqrt((maps * maps).sum(axis=(1, 2)))


def lipschitz_constants(weights: list[np.ndarray], cap: float = SECTOR_CAP) -> dict[str, np.ndarray]:
    """For each network of a stack (host arrays ``(R, rows, columns)`` per layer): ``lip`` (the largest
    Jacobian norm over its sectors, NaN if it has more than ``cap``), ``error`` (that Jacobian's rounding bound),
    ``count`` (its sectors, 0 if left out), ``prefix`` ((R, L): the constants of the network cut after layer
    1, ..., L, NaN if left out) and ``linear`` (:math:`\\|W_L \\cdots W_1\\|_2`, the network without its ReLUs)."""
    r = weights[0].shape[0]
    lip, err, count = np.full(r, np.nan), np.zeros(r), np.zeros(r, dtype=np.int64)
    prefix = np.full((r, len(weights)), np.nan)
    for i in range(r):
        found = sectors([w[i] for w in weights], cap)
        if found is None:
            continue
        k = int(np.argmax(found["norm"]))
        lip[i], err[i], count[i] = found["norm"][k], found["error"][k], found["start"].size
        prefix[i] = found["prefix"]
    product = weights[0]
    for w in weights[1:]:
        product = np.matmul(w, product)
    linear = np.linalg.svd(product, compute_uv=False)[:, 0]
    return {"lip": lip, "error": err, "count": count, "prefix": prefix, "linear": linear}


def _slack(width: int, depth: int, norm: float) -> float:
    r""":math:`s^L((1 + \eta)^L - 1)`: how far the exact :math:`\prod_l \|W_l\|_2` of the scaled weights may lie
    from :math:`s^L`."""
    eta = gamma(2 * width + 4, unit_roundoff(np))
    return norm**depth * math.expm1(depth * math.log1p(eta))


def bound_check(xp: Any, rng: Any, *, width: int, depth: int, norm: float, networks: int = NETWORKS) -> dict[str, Any]:
    r"""The attaining network (index 0, never left out) and ``networks`` random ones (left out beyond
    :data:`SECTOR_CAP` sectors): their Lipschitz constants (:func:`lipschitz_constants`), ``ratio`` to :math:`s^L`,
    the bound :math:`s^L` in float64 and ``slack`` (:func:`_slack`); ``near``, the constants of :data:`NEAR`
    near-aligned networks (:func:`near_aligned`)."""
    top = lipschitz_constants(attaining_network(xp, rng, width=width, depth=depth, norm=norm), cap=math.inf)
    rand = lipschitz_constants(random_networks(xp, rng, width=width, depth=depth, norm=norm, networks=networks),
                               cap=SECTOR_CAP)
    near = lipschitz_constants(near_aligned(xp, rng, width=width, depth=depth, norm=norm), cap=SECTOR_CAP)
    out = {k: np.concatenate([top[k], rand[k]]) for k in top}
    bound = norm**depth
    return {**out, "ratio": out["lip"] / bound, "bound": bound, "slack": _slack(width, depth, norm), "near": near}


def depth_profile(prefix: np.ndarray, norm: float) -> str:
    r"""How the ratio :math:`\mathrm{Lip}(f_l)/s^l` of networks cut after layer l falls with l: the median and the
    largest over networks (rows of ``prefix``) at each depth, and the median's mean factor per layer."""
    ratio = prefix / norm ** np.arange(1, prefix.shape[1] + 1)
    med, top = np.median(ratio, axis=0), ratio.max(axis=0)
    per_layer = (med[-1] / med[0]) ** (1 / (med.size - 1)) if med.size > 1 else 1.0
    return (r"by depth $l = 1, \dots, L$ the ratio $\mathrm{Lip}(f_l)/s^l$ of the networks cut after layer $l$ has median "
            + ", ".join(f"${x:.3g}$" for x in med) + " and largest " + ", ".join(f"${x:.3g}$" for x in top)
            + rf", a factor of ${per_layer:.3g}$ per layer")


def bound_experiment(xp: Any, rng: Any, budget: Any = None, *, width: int, depth: int, norm: float) -> Estimate:
    r"""The largest Lipschitz constant over the attaining network, :data:`NETWORKS` random ones and :data:`NEAR`
    near-aligned ones (which come close to the bound, so probe its upper side), with the
    rounding of the scaled norms (:func:`_slack`), of the largest Jacobian (its a-posteriori bound) and
    :math:`\gamma_{4L+8} s^L` for the attaining chain (its layers are rank one only up to rounding) as the
    tolerance. Exact: it equals :math:`s^L` when
    no network passes the bound (the attaining one reaches it). Events: random networks above the bound beyond
    rounding (the largest ratio reported), networks left out (too many sectors); inconclusive if every random
    network is left out."""
    out = bound_check(xp, rng, width=width, depth=depth, norm=norm)
    lip, err, bound, slack, near = out["lip"], out["error"], out["bound"], out["slack"], out["near"]
    found, close = np.isfinite(lip[1:]), np.isfinite(near["lip"])
    above = int(np.sum(found & (lip[1:] - err[1:] > bound + slack)))
    near_above = int(np.sum(close & (near["lip"] - near["error"] > bound + slack)))
    left_out = int(np.sum(~found)) + int(np.sum(~close))
    every, errors = np.concatenate([lip, near["lip"]]), np.concatenate([err, near["error"]])
    value = float(np.nanmax(every))
    k = int(np.nanargmax(every))
    atol = slack + float(errors[k]) + gamma(4 * depth + 8, unit_roundoff(np)) * bound
    closest = f"${float(np.nanmax(near['lip']) / bound):.4g}$" if close.any() else "none enumerated"
    ratios = out["ratio"][1:][found]
    text = ("none enumerated" if ratios.size == 0 else
            f"the largest ratio to $s^L$: ${float(ratios.max()):.4g}$, the median ${float(np.median(ratios)):.4g}$, "
            f"the largest without the ReLUs, $\\|W_L \\cdots W_1\\|_2/s^L$: ${float(out['linear'][1:].max() / bound):.4g}$; "
            + depth_profile(out["prefix"][1:][found], norm))
    events = (
        (f"random networks with $\\mathrm{{Lip}}(f) > \\prod_l \\|W_l\\|_2$ beyond rounding, of {int(found.sum())} "
         f"enumerated ({text})", above),
        (rf"near-aligned networks (rank-one chains tilted by ${TILT:g}$) with $\mathrm{{Lip}}(f) > \prod_l \|W_l\|_2$ "
         f"beyond rounding, of {int(close.sum())} enumerated (the largest ratio to $s^L$: {closest})", near_above),
        (f"networks left out: more than {SECTOR_CAP:,} activation sectors", left_out),
    )
    why = "" if found.any() else (
        "no random network was enumerated (each has more activation sectors than the cap), so the bound was checked "
        "on the attaining network alone, which meets it by construction")
    return Estimate(value, 0.0, 1, backend_name(xp), "float64", atol, events, inconclusive=why)
