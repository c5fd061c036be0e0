r"""Wide random ReLU networks: the kernels behind ``nngp.relu`` and ``ntk.relu``.

**The network.** Width ``N``, ``L`` ReLU layers, He scaling (weights iid :math:`N(0, 2/N_{l-1})`,
no biases), two inputs of equal norm at angle :math:`\theta`, scaled so the first preactivations have
unit variance. The statistic of one network is the covariance of a preactivation of layer
:math:`L + 1` at the two inputs, averaged exactly over that last layer's fresh weights given the
activations below (Rao-Blackwell):

.. math::

    \hat C = \frac2N \sum_{j=1}^N \mathrm{relu}(h^L_j(x))\,\mathrm{relu}(h^L_j(x')).

*Two vectors, not N x N weights.* A fresh Gaussian :math:`W` (independent of everything below) applied
to the two activation vectors :math:`a, a'` gives, row by row, iid pairs
:math:`(w_i\cdot a, w_i\cdot a') \sim N(0, (2/N) G)` with :math:`G` their 2 x 2 Gram matrix: exactly the
same distribution as drawing :math:`W`, at :math:`2N` normals per layer instead of :math:`N^2`
(``PERFORMANCE.md``: Monte Carlo of random networks is bound by the normal generator). The first layer
is exactly :math:`N(0, \Sigma^1)` with :math:`\Sigma^1 = [[1, \cos\theta], [\cos\theta, 1]]`, whatever the
input dimension. Tests compare this with dense ``(B, N, N)`` weights.

*Control variate.* The diagonal :math:`\hat q = (2/N)\sum_j \mathrm{relu}(h^L_j(x))^2` has mean exactly 1 at
every width (He scaling: :math:`E[2\,\mathrm{relu}(u)^2] = E u^2`), so
:math:`\hat C - \beta((\hat q + \hat q')/2 - 1)` has the same mean for any fixed :math:`\beta`; a global
scale fluctuation moves :math:`\hat C` by about :math:`\rho_L` times :math:`\hat q`, so
:math:`\beta = \rho_L` (the infinite-width correlation, :func:`relu_correlation`) removes most of the
variance. Any :math:`\beta` keeps the estimator unbiased, so the closed form is not assumed.

*Replicates* are independent networks (a batch of ``B`` stacked along the first axis); units inside
one network are never treated as independent.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .checks import integer as _integer
from .estimate import Accumulator, Estimate
from .namespaces import backend_name, to_host

__all__ = [
    "TRAINED",
    "nngp_batch",
    "nngp_dense_batch",
    "nngp_estimate",
    "nngp_experiment",
    "ntk_batch",
    "ntk_dense_gram",
    "ntk_experiment",
    "ntk_fluctuation",
    "relu_correlation",
]

_FLOATS = 1 << 21  # float64 entries of one (B, N, 2) batch



def _angle(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"theta={value!r} must be a real angle in [0, pi]")
    if not (math.isfinite(value) and 0.0 <= float(value) <= math.pi):
        raise ValueError(f"theta={value!r} is outside the domain: finite real with 0 <= theta <= pi")
    return float(value)


def relu_correlation(theta: float, L: int) -> float:
    r"""The infinite-width correlation after ``L`` He-scaled ReLU layers, :math:`\kappa^{\circ L}(\cos\theta)`
    (plain floats; used only as the control-variate coefficient and in figures).

    >>> relu_correlation(0.0, 3), round(relu_correlation(math.pi / 2, 1), 12) == round(1 / math.pi, 12)
    (1.0, True)
    """
    c = math.cos(theta)
    for _ in range(L):
        c = min(1.0, max(-1.0, c))
        c = (math.sqrt(max(0.0, 1 - c * c)) + (math.pi - math.acos(c)) * c) / math.pi
    return c


def _next(xp: Any, rng: Any, h: Any, N: int) -> Any:
    """Preactivations of the next layer, (b, N, 2): rows iid N(0, (2/N) G), G the Gram of relu(h)."""
    a = xp.maximum(h, 0.0)
    g00 = xp.sum(a[..., 0] * a[..., 0], axis=1) * (2.0 / N)
    g01 = xp.sum(a[..., 0] * a[..., 1], axis=1) * (2.0 / N)
    g11 = xp.sum(a[..., 1] * a[..., 1], axis=1) * (2.0 / N)
    l00 = xp.sqrt(g00)
    safe = xp.where(l00 > 0, l00, 1.0)
    l10 = xp.where(l00 > 0, g01 / safe, xp.zeros_like(g01))
    l11 = xp.sqrt(xp.maximum(g11 - l10 * l10, 0.0))
    z = rng.standard_normal((h.shape[0], N, 2))
    z0, z1 = z[..., 0], z[..., 1]
    return xp.stack([z0 * l00[:, None], z0 * l10[:, None] + z1 * l11[:, None]], axis=-1)


def _first(xp: Any, rng: Any, b: int, N: int, theta: float) -> Any:
    z = rng.standard_normal((b, N, 2))
    z0, z1 = z[..., 0], z[..., 1]
    return xp.stack([z0, math.cos(theta) * z0 + math.sin(theta) * z1], axis=-1)


def _readout(xp: Any, h: Any, N: int) -> tuple[Any, Any, Any]:
    a = xp.maximum(h, 0.0)
    cov = xp.sum(a[..., 0] * a[..., 1], axis=1) * (2.0 / N)
    q0 = xp.sum(a[..., 0] * a[..., 0], axis=1) * (2.0 / N)
    q1 = xp.sum(a[..., 1] * a[..., 1], axis=1) * (2.0 / N)
    return cov, q0, q1


def nngp_batch(xp: Any, rng: Any, b: int, *, theta: float, L: int, N: int) -> tuple[Any, Any, Any]:
    r"""For ``b`` independent networks: :math:`\hat C`, :math:`\hat q`, :math:`\hat q'` (float64, ``(b,)`` each).

    >>> cov, q0, q1 = nngp_batch(np, np.random.default_rng(0), 3, theta=0.0, L=2, N=8)
    >>> bool(np.allclose(cov, q0) and np.allclose(q0, q1))  # equal inputs: covariance = variance
    True
    """
    h = _first(xp, rng, b, N, theta)
    for _ in range(L - 1):
        h = _next(xp, rng, h, N)
    return _readout(xp, h, N)


def nngp_dense_batch(xp: Any, rng: Any, b: int, *, theta: float, L: int, N: int, d: int = 16) -> tuple[Any, Any, Any]:
    """The same statistics with dense weights: inputs in R^d, (b, N, N) Gaussian matrices (for tests)."""
    rows = [[1.0, math.cos(theta)], [0.0, math.sin(theta)]] + [[0.0, 0.0]] * (d - 2)
    x = xp.asarray(rows, dtype=xp.float64) * math.sqrt(d)
    h = xp.matmul(rng.standard_normal((b, N, d)), x) / math.sqrt(d)
    for _ in range(L - 1):
        w = rng.standard_normal((b, N, N)) * math.sqrt(2.0 / N)
        h = xp.matmul(w, xp.maximum(h, 0.0))
    return _readout(xp, h, N)


def nngp_estimate(xp: Any, rng: Any, budget: int, *, theta: float, L: int, N: int, control: bool = True) -> Estimate:
    r"""Mean over ``budget`` independent networks of :math:`\hat C` (minus the control variate unless
    ``control=False``).

    >>> e = nngp_estimate(np, np.random.default_rng(0), 4000, theta=math.pi / 2, L=1, N=16)
    >>> abs(e.mean - 1 / math.pi) < 6 * e.stderr  # one layer: exact at every width
    True
    """
    budget, L, N = _integer("budget", budget, 2), _integer("L", L), _integer("N", N)
    theta = _angle(theta)
    beta = relu_correlation(theta, L) if control else 0.0
    acc = Accumulator(backend=backend_name(xp), dtype="float64")
    per = max(1, _FLOATS // (2 * N))
    done = 0
    while done < budget:
        b = min(per, budget - done)
        cov, q0, q1 = nngp_batch(xp, rng, b, theta=theta, L=L, N=N)
        acc.add(cov - beta * ((q0 + q1) / 2 - 1.0))
        done += b
    return acc.estimate()


def nngp_experiment(xp: Any, rng: Any, budget: int, *, theta: float, L: int, N: int) -> Estimate:
    """The experiment of ``nngp.relu`` at width ``N``: :func:`nngp_estimate` with the control variate."""
    return nngp_estimate(xp, rng, budget, theta=theta, L=L, N=N)


# -- the empirical NTK of a one-hidden-layer network ---------------------------------------------------------

TRAINED = ("all", "readout", "hidden")


def _trained(value: Any) -> str:
    if value not in TRAINED:
        raise ValueError(f"trained={value!r} is not one of {', '.join(TRAINED)}")
    return value


def ntk_batch(xp: Any, rng: Any, b: int, *, theta: float, N: int, trained: str = "all") -> Any:
    r"""The empirical NTK :math:`\hat\Theta_N(x, x')` of ``b`` independent one-hidden-layer ReLU networks
    :math:`f(x) = \sqrt{2/N}\sum_i v_i\,\mathrm{relu}(w_i\cdot x/\sqrt d)` (NTK parameterisation, all weights
    iid :math:`N(0, 1)`), inputs of norm :math:`\sqrt d` at angle :math:`\theta`, float64 ``(b,)``:

    .. math::

        \hat\Theta_N = \frac2N\sum_i \mathrm{relu}(h_i)\mathrm{relu}(h_i')
        + \cos\theta\,\frac2N\sum_i v_i^2\,1[h_i > 0]\,1[h_i' > 0],

    the readout's and the hidden layer's gradient inner products (either alone when only that layer is
    trained). The pairs :math:`(h_i, h_i')` are drawn exactly as :math:`N(0, [[1, \cos\theta], [\cos\theta, 1]])`.

    >>> bool(np.allclose(ntk_batch(np, np.random.default_rng(0), 2, theta=math.pi / 2, N=8, trained="hidden"), 0))
    True
    """
    h = _first(xp, rng, b, N, theta)
    out = 0.0
    if trained in ("all", "readout"):
        a = xp.maximum(h, 0.0)
        out = out + xp.sum(a[..., 0] * a[..., 1], axis=1) * (2.0 / N)
    if trained in ("all", "hidden"):
        v = rng.standard_normal((b, N))
        both = (h[..., 0] > 0) & (h[..., 1] > 0)
        out = out + math.cos(theta) * xp.sum(xp.where(both, v * v, xp.zeros_like(v)), axis=1) * (2.0 / N)
    return out


def ntk_dense_gram(xp: Any, x: Any, w: Any, v: Any) -> Any:
    r"""The empirical NTK Gram matrix of one network on ``n`` inputs ``x`` (``(n, d)``), hidden weights ``w``
    (``(N, d)``) and readout ``v`` (``(N,)``): :math:`(2/N)[\Phi\Phi^\top + (D_v D_v^\top)\odot(XX^\top/d)]` with
    :math:`\Phi = \mathrm{relu}(XW^\top/\sqrt d)`, :math:`D_v = 1[XW^\top > 0]\,\mathrm{diag}(v)`: three GEMMs
    (the benchmark's kernel; tests compare it with autodiff-free finite differences)."""
    n, d = x.shape
    N = w.shape[0]
    pre = xp.matmul(x, w.mT) / math.sqrt(d)
    phi = xp.maximum(pre, 0.0)
    dv = xp.where(pre > 0, v[None, :], xp.zeros_like(pre))
    return (2.0 / N) * (xp.matmul(phi, phi.mT) + xp.matmul(dv, dv.mT) * (xp.matmul(x, x.mT) / d))


def ntk_experiment(xp: Any, rng: Any, budget: int, *, theta: float, trained: str, N: int) -> Estimate:
    """The experiment of ``ntk.relu``: the mean empirical NTK over ``budget`` independent networks of width ``N``."""
    budget, N = _integer("budget", budget, 2), _integer("N", N)
    theta, trained = _angle(theta), _trained(trained)
    acc = Accumulator(backend=backend_name(xp), dtype="float64")
    per = max(1, _FLOATS // (3 * N))
    done = 0
    while done < budget:
        b = min(per, budget - done)
        acc.add(ntk_batch(xp, rng, b, theta=theta, N=N, trained=trained))
        done += b
    return acc.estimate()


SETTLED = 0.1  # the relative standard error of the sample variance below which a width's spread is taken as settled
_UNITS = 1 << 24  # most units (networks times width) drawn at one width to settle its variance


def _settled_spread(xp: Any, rng: Any, networks: int, w: int, theta: float, trained: str) -> Any:
    r"""The empirical NTK of ``networks`` networks of width ``w``, doubled until the sample variance is settled
    (relative standard error :math:`\sqrt{(\kappa - 1)/m} \le` :data:`SETTLED`) or :data:`_UNITS` units are drawn."""
    t = to_host(ntk_batch(xp, rng, networks, theta=theta, N=w, trained=trained))
    while t.size * w < _UNITS:
        centred = t - t.mean()
        kurt = float((centred**4).mean() / max(centred.var() ** 2, 1e-300))
        if (kurt - 1) / t.size <= SETTLED**2:
            break
        t = np.concatenate([t, to_host(ntk_batch(xp, rng, t.size, theta=theta, N=w, trained=trained))])
    return t


def ntk_fluctuation(xp: Any, rng: Any, widths, networks: int, *, theta: float, trained: str = "all") -> dict:
    r"""The spread of the empirical NTK across independent networks at each width, and the fitted exponent of
    :math:`\mathrm{sd} \propto N^{s}` (weighted least squares on logarithms; the standard error of
    :math:`\ln\mathrm{sd}` is :math:`\sqrt{(\kappa - 1)/(4m)}` by the delta method, :math:`\kappa` the sample
    kurtosis, ``m`` networks). The mean is the same at every width (exactly, for one hidden layer), so the
    relative spread ``sd/mean`` (reported for the figure) has the same exponent. Expected slope: -1/2.

    Each width starts from ``networks`` networks and doubles them until the sample variance is settled (see
    :func:`_settled_spread`). The trap: near :math:`\theta = \pi` few units are active at both inputs, so a narrow
    network's NTK is a rare-event sum; 2000 networks of width 1 hold a dozen events, and the delta method's standard
    error, trusting them, made a true exponent fail at :math:`z = 7`.

    >>> r = ntk_fluctuation(np, np.random.default_rng(0), (64, 256, 1024), 400, theta=1.0)
    >>> abs(r["slope"] + 0.5) < 6 * r["slope_stderr"]
    True
    """
    theta, trained = _angle(theta), _trained(trained)
    networks = _integer("networks", networks, 8)
    widths = [_integer("N", w) for w in widths]
    logs, errs, rel, counts = [], [], [], []
    for w in widths:
        t = _settled_spread(xp, rng, networks, w, theta, trained)
        centred = t - t.mean()
        var = centred.var(ddof=1)
        kurt = float((centred**4).mean() / centred.var() ** 2)
        rel.append(math.sqrt(var) / abs(t.mean()))
        logs.append(0.5 * math.log(var))
        errs.append(math.sqrt(max(kurt - 1.0, 1e-12) / (4 * t.size)))
        counts.append(int(t.size))
    x = np.log(np.asarray(widths, dtype=float))
    wts = 1.0 / np.asarray(errs) ** 2
    design = np.stack([np.ones_like(x), x], axis=1)
    cov = np.linalg.inv(design.T @ (design * wts[:, None]))
    coef = cov @ (design * wts[:, None]).T @ np.asarray(logs)
    return {"widths": widths, "relative_sd": rel, "log_stderr": errs, "slope": float(coef[1]),
            "slope_stderr": float(math.sqrt(cov[1, 1])), "intercept": float(coef[0]), "networks": counts}


FLUCTUATION_SPAN = (1, 4, 16)  # the scaling law of ntk.relu is fitted at N, 4N, 16N


def fluctuation_networks(N: int) -> int:
    """Networks per width for the scaling law at width ``N``: 2000, fewer for very wide ones (bounded work)."""
    return max(256, min(2000, (1 << 23) // (48 * N)))


def ntk_fluctuation_exponent(xp: Any, rng: Any, *, theta: float, trained: str, N: int) -> Estimate:
    """The scaling law of ``ntk.relu``: the exponent of the NTK's spread across networks, fitted at widths
    ``N``, ``4N``, ``16N`` (:func:`ntk_fluctuation`), as an estimate with the fit's standard error."""
    N = _integer("N", N)
    m = fluctuation_networks(N)
    r = ntk_fluctuation(xp, rng, [N * k for k in FLUCTUATION_SPAN], m, theta=theta, trained=trained)
    return Estimate(r["slope"], r["slope_stderr"], sum(r["networks"]), backend_name(xp), "float64")
