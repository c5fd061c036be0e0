r"""Depth separation: the kernels behind ``depth.sawtooth`` and ``depth.separation``.

Everything that decides a claim is exact. A ReLU network on an interval is propagated as a
continuous piecewise-linear map whose knots and values are rationals, held as Python integers
over one common denominator per array (:class:`PL`): each ReLU inserts the exact zero crossings of
its unit's pre-activation, so the knots found are the network's breakpoints, not samples.

- :func:`sawtooth_experiment`: the tent map :math:`t(x) = 2\,\mathrm{relu}(x) - 4\,\mathrm{relu}(x - 1/2)`
  as an L-layer network of two units per layer (:func:`tent_layers`); its affine pieces on
  :math:`[0, 1]` and its crossings of :math:`1/2`, counted exactly; random one-hidden-layer networks
  with as many units (:math:`2L`) counted exactly on the whole line beside it;
- :func:`separation_probes`: :math:`\int_0^1 |f - t^L|` computed exactly, piece by piece, for the best
  approximations with at most :math:`k + 1` pieces this module can construct (free-knot least-squares
  splines, their :math:`L^1` polish, trained width-k ReLU networks, the constant 1/2), each compared
  exactly with the derived lower bound (:func:`separation_bound`): the estimate is the bound unless one beats it.

Fitting (SciPy, NumPy on the host) and training (the array namespace ``xp``) only propose candidates;
a candidate is judged by the exact integral of its own exact piecewise-linear representation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from .estimate import Estimate
from .namespaces import backend_name, on_device, to_host

__all__ = [
    "ARGUMENTS", "COUNTS", "PL", "SHALLOW_NETWORKS", "identity", "affine", "relu", "network", "pieces", "crossings",
    "changes", "knots", "tent_layers", "sawtooth", "shallow_pieces", "sawtooth_experiment", "separation_bound",
    "l1_error", "breakpoint_teeth", "candidates", "separation_probes", "separation_check", "separation_experiment",
]

COUNTS = ("pieces", "crossings")
ARGUMENTS = ("breakpoints", "crossings")
SHALLOW_NETWORKS = 16  # random one-hidden-layer networks counted beside the deep one
RESTARTS = 3  # least-squares fits from random knots
NETWORKS = 2  # trained shallow networks
STEPS = 300  # Adam steps per network
HALF = Fraction(1, 2)


# --- exact piecewise-linear maps -----------------------------------------------------------------------

def _ints(values) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = [int(v) for v in values]
    return out


def _lcm(values: np.ndarray) -> int:
    return math.lcm(*{int(v) for v in values.ravel()}) if values.size else 1


@dataclass(frozen=True)
class PL:
    """A continuous piecewise-linear map from an interval to :math:`R^m`: knots ``x / dx`` (strictly
    increasing, the interval's ends included) and values ``z / dz`` (shape (m, knots)), all Python
    integers in object arrays: exact rationals with one denominator per array. Between two knots each
    output is affine."""

    x: np.ndarray
    dx: int
    z: np.ndarray
    dz: int

    def reduced(self) -> PL:
        """The same map with the common factors of numerators and denominators divided out."""
        gx = math.gcd(self.dx, *{int(v) for v in self.x})
        gz = math.gcd(self.dz, *{int(v) for v in self.z.ravel()})
        return PL(self.x // gx, self.dx // gx, self.z // gz, self.dz // gz)


def identity(lo: Fraction = Fraction(0), hi: Fraction = Fraction(1)) -> PL:
    """The identity on ``[lo, hi]`` (one output)."""
    lo, hi = Fraction(lo), Fraction(hi)
    d = math.lcm(lo.denominator, hi.denominator)
    x = _ints([lo * d, hi * d])
    return PL(x, d, x.reshape(1, 2).copy(), d)


def affine(pl: PL, weights, bias) -> PL:
    """``W h + b`` at every knot (exact): ``weights`` (m_out x m_in) and ``bias`` rationals."""
    entries = [Fraction(w) for row in weights for w in row] + [Fraction(b) for b in bias]
    q = math.lcm(*(e.denominator for e in entries))
    w = np.array([[int(Fraction(v) * q) for v in row] for row in weights], dtype=object)
    b = _ints([Fraction(v) * q for v in bias])
    return PL(pl.x, pl.dx, w.dot(pl.z) + b[:, None] * pl.dz, pl.dz * q)


def relu(pl: PL) -> PL:
    r"""``max(0, .)`` of every output: a segment on which an output changes sign strictly gets a knot at its
    exact zero :math:`(x_0 z_1 - x_1 z_0)/(z_1 - z_0)`, every output interpolated there; then clamp at 0."""
    x, dx, z, dz = pl.x, pl.dx, pl.z, pl.dz
    pos, neg = z > 0, z < 0
    r, j = np.nonzero((pos[:, :-1] & neg[:, 1:]) | (neg[:, :-1] & pos[:, 1:]))
    if r.size:
        z0, z1 = z[r, j], z[r, j + 1]
        num, den = x[j] * z1 - x[j + 1] * z0, z1 - z0
        flip = den < 0
        num, den = np.where(flip, -num, num), np.where(flip, -den, den)
        g = np.gcd(num, den)
        num, den = num // g, den // g
        scale = _lcm(den)
        x, dx = x * scale, dx * scale
        xs = num * (scale // den)
        x0, x1 = x[j], x[j + 1]
        top = z[:, j] * (x1 - xs)[None, :] + z[:, j + 1] * (xs - x0)[None, :]
        width = np.broadcast_to(x1 - x0, top.shape)
        g = np.gcd(top, width)
        den = width // g
        scale = _lcm(den)
        z, dz = z * scale, dz * scale
        zs = (top // g) * (scale // den)
        x, z = np.concatenate([x, xs]), np.concatenate([z, zs], axis=1)
        order = np.argsort(x, kind="stable")
        x, z = x[order], z[:, order]
        keep = np.concatenate([[True], x[1:] != x[:-1]])  # two units may vanish at the same point
        x, z = x[keep], z[:, keep]
    return PL(x, dx, np.where(z > 0, z, 0), dz).reduced()


def network(layers, out, lo: Fraction = Fraction(0), hi: Fraction = Fraction(1)) -> PL:
    """The map ``x -> w . relu(W_L ... relu(W_1 x + b_1) ...) + c`` on ``[lo, hi]`` exactly:
    ``layers`` a list of ``(W, b)``, ``out = (w, c)``."""
    pl = identity(lo, hi)
    for weights, bias in layers:
        pl = relu(affine(pl, weights, bias))
    w, c = out
    return affine(pl, [list(w)], [c]).reduced()


def knots(pl: PL, unit: int = 0) -> tuple[list[Fraction], list[Fraction]]:
    """The knots and one output's values there, as Fractions."""
    return [Fraction(int(v), pl.dx) for v in pl.x], [Fraction(int(v), pl.dz) for v in pl.z[unit]]


def pieces(pl: PL, unit: int = 0) -> int:
    """The number of maximal affine pieces of one output: 1 + the interior knots where the slope
    changes (slopes compared exactly by cross-multiplication)."""
    v, x = pl.z[unit], pl.x
    dv, dxs = v[1:] - v[:-1], x[1:] - x[:-1]
    return 1 + int(np.count_nonzero(dv[:-1] * dxs[1:] != dv[1:] * dxs[:-1]))


def crossings(pl: PL, level: Fraction = HALF, unit: int = 0) -> int:
    """How many points the output equals ``level`` at: a strict sign change inside a segment is one
    point, a knot at the level another. A segment lying on the level (infinitely many) raises."""
    w = pl.z[unit] * level.denominator - level.numerator * pl.dz
    zero = w == 0
    if np.any(zero[:-1] & zero[1:]):
        raise ValueError(f"a whole piece lies at the level {level}")
    strict = ((w[:-1] > 0) & (w[1:] < 0)) | ((w[:-1] < 0) & (w[1:] > 0))
    return int(np.count_nonzero(strict) + np.count_nonzero(zero))


def changes(fx: list[Fraction], fy: list[Fraction], level: Fraction = HALF) -> int:
    r"""How often :math:`1[f \ge \mathrm{level}]` changes value along a continuous piecewise-linear f
    given by knots and values (it is monotone on each piece)."""
    above = [y >= level for y in fy]
    return sum(a != b for a, b in zip(above, above[1:], strict=False))


def tent_layers(depth: int) -> list:
    """The L-fold tent map as a network: layer 1 takes x to ``(relu(x), relu(x - 1/2))``, every later
    layer takes the two units to ``relu(2 u_1 - 4 u_2)`` and ``relu(2 u_1 - 4 u_2 - 1/2)``; the output is
    ``2 u_1 - 4 u_2``. Two units per layer, weights 1, 2, -4 and biases 0, -1/2."""
    first = ([[1], [1]], [0, -HALF])
    later = ([[2, -4], [2, -4]], [0, -HALF])
    return [first] + [later] * (depth - 1)


def sawtooth(depth: int) -> PL:
    """:math:`t^L` on [0, 1], propagated exactly through :func:`tent_layers`."""
    return network(tent_layers(depth), ([2, -4], 0))


def shallow_pieces(w, b, a, c=0.0) -> int:
    r"""Affine pieces on the whole line of :math:`c + \sum_i a_i\,\mathrm{relu}(w_i x + b_i)`, exactly: the
    network propagated on an interval reaching one unit past every unit's breakpoint
    :math:`-b_i/w_i` (it is affine outside them)."""
    w, b, a = ([Fraction(float(v)) for v in arr] for arr in (w, b, a))
    ends = [-bi / wi for wi, bi in zip(w, b, strict=True) if wi != 0] or [Fraction(0)]
    layer = ([[wi] for wi in w], b)
    return pieces(network([layer], (a, Fraction(float(c))), min(ends) - 1, max(ends) + 1))


# --- depth.sawtooth ----------------------------------------------------------------------------------

def sawtooth_experiment(xp: Any, rng: Any, budget: Any = None, *, L: int, count: str) -> Estimate:
    r"""The pieces (``count="pieces"``) or crossings of :math:`1/2` (``"crossings"``) of the actual
    L-layer tent network on [0, 1], exact integers; the tolerance is half an ulp of the count as a
    float64 (it converts exactly below :math:`2^{53}`). Events: the other count, and
    :data:`SHALLOW_NETWORKS` random one-hidden-layer networks with the same :math:`2L` units
    (:math:`N(0, 1)` weights), counted exactly on the whole line: none may exceed :math:`2L + 1`."""
    if count not in COUNTS:
        raise ValueError(f"count={count!r} is not one of {', '.join(COUNTS)}")
    saw = sawtooth(L)
    n_pieces, n_cross = pieces(saw), crossings(saw)
    width = 2 * L
    draws = to_host(rng.standard_normal((SHALLOW_NETWORKS, 3, width), dtype=xp.float64))
    shallow = [shallow_pieces(*draws[i]) for i in range(SHALLOW_NETWORKS)]
    value = n_pieces if count == "pieces" else n_cross
    other = (f"crossings of $1/2$: {n_cross}" if count == "pieces" else f"affine pieces: {n_pieces}")
    events = (
        (f"the deep network's other count ({other}); the knots its ReLUs inserted in $(0, 1)$", len(saw.x) - 2),
        (rf"random one-hidden-layer networks of width $2L = {width}$ with more than $2L + 1 = {width + 1}$ pieces on the "
         rf"line, of {SHALLOW_NETWORKS} (the most: {max(shallow)})", sum(p > width + 1 for p in shallow)),
    )
    return Estimate(float(value), 0.0, 1, backend_name(xp), "rational", 2.0**-53 * value, events)


# --- depth.separation --------------------------------------------------------------------------------

def separation_bound(L: int, k: int, argument: str) -> Fraction:
    r"""The derived lower bound on :math:`\int_0^1 |f - t^L|`: :math:`1/4 - k/2^{L+1}` for every f affine on
    all but k of the :math:`2^{L-1}` teeth (``breakpoints``: at most k + 1 pieces), and
    :math:`1/8 - (k + 2)/2^{L+2}` for every continuous f crossing 1/2 at most k + 1 times (``crossings``)."""
    if argument == "breakpoints":
        return Fraction(1, 4) - Fraction(k, 2 ** (L + 1))
    if argument == "crossings":
        return Fraction(1, 8) - Fraction(k + 2, 2 ** (L + 2))
    raise ValueError(f"argument={argument!r} is not one of {', '.join(ARGUMENTS)}")


def l1_error(fx: list[Fraction], fy: list[Fraction], g: PL) -> Fraction:
    r""":math:`\int |f - g|` exactly over g's interval, f continuous piecewise linear (knots ``fx``
    spanning it, values ``fy``): on each interval between consecutive knots of either, f - g is affine
    with end values :math:`d_0, d_1`, and contributes :math:`h(|d_0| + |d_1|)/2` without a sign change,
    :math:`h(d_0^2 + d_1^2)/(2(|d_0| + |d_1|))` with one."""
    gx, gy = knots(g)
    xs = sorted(set(gx) | set(fx))
    total, i, m = Fraction(0), 0, 0
    prev = None
    for x in xs:
        while fx[i + 1] < x:
            i += 1
        while gx[m + 1] < x:
            m += 1
        f = fy[i] + (fy[i + 1] - fy[i]) * (x - fx[i]) / (fx[i + 1] - fx[i])
        d = f - (gy[m] + (gy[m + 1] - gy[m]) * (x - gx[m]) / (gx[m + 1] - gx[m]))
        if prev is not None:
            x0, d0 = prev
            h = x - x0
            total += h * (abs(d0) + abs(d)) / 2 if d0 * d >= 0 else h * (d0 * d0 + d * d) / (2 * (abs(d0) + abs(d)))
        prev = (x, d)
    return total


def breakpoint_teeth(fx: list[Fraction], L: int) -> int:
    r"""How many of the :math:`2^{L-1}` teeth :math:`[2(i-1)/2^L, 2i/2^L]` of :math:`t^L` hold a knot of f
    strictly inside (f is affine on every other tooth)."""
    return len({math.floor(x * 2 ** (L - 1)) for x in fx[1:-1] if (x * 2 ** (L - 1)).denominator != 1})


def _grid(L: int) -> tuple[np.ndarray, np.ndarray]:
    """Sample points for fitting (midpoints of a grid 4 per piece of t^L) and t^L there."""
    m = 2 ** (L + 2)
    x = (np.arange(m) + 0.5) / m
    phase = (x * 2**L) % 2.0
    return x, np.minimum(phase, 2.0 - phase)


def _least_squares(x: np.ndarray, g: np.ndarray, inner: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """The least-squares continuous spline with knots 0, ``inner`` (clipped and sorted), 1."""
    k = np.concatenate([[0.0], np.sort(np.clip(inner, 0.0, 1.0)), [1.0]])
    if np.any(np.diff(k) <= 0):
        return math.inf, k, np.zeros_like(k)
    basis = np.stack([np.interp(x, k, np.eye(k.size)[i]) for i in range(k.size)], axis=1)
    y, *_ = np.linalg.lstsq(basis, g, rcond=None)
    return float(np.mean((basis @ y - g) ** 2)), k, y


def _l1_float(kx: np.ndarray, ky: np.ndarray, L: int) -> float:
    """The float64 L1 error of a spline against t^L (the objective of the polish; never a verdict)."""
    if np.any(np.diff(kx) <= 0):
        return math.inf
    gx = np.arange(2**L + 1) / 2**L
    xs = np.unique(np.concatenate([gx, kx]))
    d = np.interp(xs, kx, ky) - np.interp(xs, gx, np.arange(2**L + 1) % 2.0)
    d0, d1, h = d[:-1], d[1:], np.diff(xs)
    s = np.abs(d0) + np.abs(d1)
    return float(np.sum(np.where(d0 * d1 >= 0, h * s / 2, h * (d0**2 + d1**2) / (2 * np.where(s > 0, s, 1.0)))))


def _fits(rng: Any, xp: Any, L: int, s: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Free-knot least-squares splines with s pieces (Nelder-Mead on the knots, linear least squares
    inside) from :data:`RESTARTS` random starts, and the best one's L1 polish (Nelder-Mead on knots and
    values)."""
    from scipy.optimize import minimize

    x, g = _grid(L)
    if s == 1:
        _, k, y = _least_squares(x, g, np.zeros(0))
        return [("least squares", k, y)]
    fits = [_least_squares(x, g, minimize(lambda z: _least_squares(x, g, z)[0], np.sort(start), method="Nelder-Mead",
                                          options={"maxiter": 60 * s, "xatol": 1e-9, "fatol": 1e-12}).x)
            for start in to_host(rng.random((RESTARTS, s - 1), dtype=xp.float64))]
    _, k, y = min(fits, key=lambda fit: fit[0])  # every restart is a candidate; the best is polished

    def unpack(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.concatenate([[0.0], np.sort(np.clip(z[: s - 1], 0.0, 1.0)), [1.0]]), z[s - 1:]

    res = minimize(lambda z: _l1_float(*unpack(z), L), np.concatenate([k[1:-1], y]), method="Nelder-Mead",
                   options={"maxiter": 40 * (2 * s + 1), "xatol": 1e-12, "fatol": 1e-15})
    return [*(("least squares", fk, fy) for e, fk, fy in fits if math.isfinite(e)), ("least squares, $L^1$ polish", *unpack(res.x))]


def _train(xp: Any, rng: Any, L: int, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    r"""A width-k network :math:`c + \sum_i a_i\,\mathrm{relu}(w_i x + b_i)` trained by Adam (full batch,
    float64, :data:`STEPS` steps) on the squared error to t^L at the fitting grid; breakpoints start
    uniform in [0, 1]. Returns its weights on the host."""
    x_host, g_host = _grid(L)
    on = on_device(rng)
    x, g = xp.asarray(x_host, **on), xp.asarray(g_host, **on)
    w = 1.0 + rng.random(k, dtype=xp.float64)
    b = -w * rng.random(k, dtype=xp.float64)
    a = 0.1 * rng.standard_normal(k, dtype=xp.float64)
    c = xp.asarray([0.5], dtype=xp.float64, **on)
    params = [w, b, a, c]
    moments = [(xp.zeros_like(p), xp.zeros_like(p)) for p in params]
    m = x.shape[0]
    for step in range(1, STEPS + 1):
        pre = x[:, None] * params[0][None, :] + params[1][None, :]
        act = xp.maximum(pre, 0.0)
        r = xp.matmul(act, params[2]) + params[3][0] - g
        back = (r[:, None] * params[2][None, :]) * xp.astype(pre > 0, xp.float64) * (2.0 / m)
        grads = [xp.sum(back * x[:, None], axis=0), xp.sum(back, axis=0), xp.matmul(r, act) * (2.0 / m),
                 xp.reshape(xp.mean(r) * 2.0, (1,))]
        for i, grad in enumerate(grads):
            m1, m2 = moments[i]
            m1, m2 = 0.9 * m1 + 0.1 * grad, 0.999 * m2 + 0.001 * grad * grad
            moments[i] = (m1, m2)
            params[i] = params[i] - 0.02 * (m1 / (1 - 0.9**step)) / (xp.sqrt(m2 / (1 - 0.999**step)) + 1e-12)
    w, b, a, c = (to_host(p) for p in params)
    return w, b, a, float(c[0])


def _network_spline(w, b, a, c: float) -> tuple[list[Fraction], list[Fraction]]:
    """A trained shallow network's exact knots and values on [0, 1]."""
    layer = ([[Fraction(float(v))] for v in w], [Fraction(float(v)) for v in b])
    return knots(network([layer], ([Fraction(float(v)) for v in a], Fraction(c))))


def candidates(xp: Any, rng: Any, *, L: int, k: int) -> list[tuple[str, list[Fraction], list[Fraction]]]:
    """The s = k + 1 piece approximations of t^L this module constructs, as exact splines: the constant
    1/2, least-squares fits with free knots and their L1 polish, and :data:`NETWORKS` trained width-k
    ReLU networks (k >= 1)."""
    out = [("the constant $1/2$", [Fraction(0), Fraction(1)], [HALF, HALF])]
    for kind, kx, ky in _fits(rng, xp, L, k + 1):
        out.append((kind, [Fraction(float(v)) for v in kx], [Fraction(float(v)) for v in ky]))
    for _ in range(NETWORKS if k >= 1 else 0):
        out.append((f"trained ReLU network of width ${k}$", *_network_spline(*_train(xp, rng, L, k))))
    return out


def separation_probes(xp: Any, rng: Any, *, L: int, k: int) -> list[dict[str, Any]]:
    """Every candidate's exact error, affine pieces, teeth holding a knot and changes of 1[f >= 1/2]."""
    g = sawtooth(L)
    rows = []
    for kind, fx, fy in candidates(xp, rng, L=L, k=k):
        slopes = [(fy[i + 1] - fy[i]) / (fx[i + 1] - fx[i]) for i in range(len(fx) - 1)]
        rows.append({"kind": kind, "error": l1_error(fx, fy, g), "pieces": 1 + sum(a != b for a, b in zip(slopes, slopes[1:], strict=False)),
                     "teeth": breakpoint_teeth(fx, L), "changes": changes(fx, fy), "knots": fx, "values": fy})
    return rows


def separation_experiment(xp: Any, rng: Any, budget: Any = None, *, L: int, k: int, argument: str) -> Estimate:
    return separation_check(xp, rng, L=L, k=k, argument=argument)


def separation_check(xp: Any, rng: Any, *, L: int, k: int, argument: str, bound: Fraction | None = None) -> Estimate:
    r""":math:`\min(B, \min_f \int_0^1 |f - t^L|)` over the candidates, B the bound: B itself exactly when no
    candidate falls below it (each comparison exact, in rationals), else the error of the closest, which refutes
    it (one float64 step below B if it rounds to B). The tolerance is float64's rounding of B, half an ulp: the
    check is exact (``n = 1``; the candidates are not independent draws of a statistic). Events: candidates
    below the bound (with the closest one's ratio to it: the run refutes any bound above that), and candidates
    outside the bound's class (none: each has at most k + 1 pieces). ``bound`` replaces
    :func:`separation_bound` (a test passes a wrong one to see it refuted)."""
    rows = separation_probes(xp, rng, L=L, k=k)
    b = separation_bound(L, k, argument) if bound is None else Fraction(bound)
    below = sum(r["error"] < b for r in rows)
    closest = min(rows, key=lambda r: r["error"])
    ratio = float(closest["error"] / b) if b > 0 else math.inf
    outside = sum(r["pieces"] > k + 1 or (r["teeth"] > k if argument == "breakpoints" else r["changes"] > k + 1)
                  for r in rows)
    events = (
        (rf"candidates with $\int_0^1 |f - t^L|$ below the bound, of {len(rows)} (the closest: {closest['kind']}, "
         rf"${float(closest['error']):.6f}$, ${ratio:.4f}$ times the bound, so this run refutes any bound above that)", below),
        ("candidates outside the bound's class (more than $k + 1$ pieces, or more than "
         + (r"$k$ teeth holding a knot)" if argument == "breakpoints" else r"$k + 1$ changes of $1[f \ge 1/2]$)"), outside),
    )
    near = float(closest["error"])  # below the bound, yet rounding to it: one float64 step below
    value = float(min(b, closest["error"])) if not below or near < float(b) else math.nextafter(float(b), -math.inf)
    return Estimate(value, 0.0, 1, backend_name(xp), "rational", 2.0**-53 * abs(float(b)), events)
