r"""Figures of the double-descent claims.

- ``double-descent.ridgeless``: the double-descent curve, risk against :math:`\gamma = p/n`: the limit
  (line), the exact finite-n risk at several n (dotted, converging to it), and the verifier's
  extrapolated limits at several :math:`\gamma` (points, one standard error); below, the verifier's
  sweep over n at the claim's :math:`\gamma` and its extrapolation (:func:`asymptotic_panel`).
- ``double-descent.finite-n``: the exact risk against p at the claim's n, with one verifier run per p
  (points), and the relative residuals below.

A figure's ``k``-th verifier run uses seed ``seed + k``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..catalog.double_descent import GAP
from ..verification import verify
from . import PlotContext, asymptotic_panel, draw_points, register_plots, residual_panel
from .style import new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["ridgeless_plot", "finite_plot", "exact_curve", "limit_curve", "CURVE_SAMPLES", "POINT_RATIOS"]

FIGURE_RESOLUTION = 0.05  # the finite-n points
CURVE_RESOLUTION = 0.1  # the extrapolated points on the double-descent curve (five asymptotic verdicts)
CURVE_SAMPLES = (16, 64)  # finite-n curves drawn next to the limit
POINT_RATIOS = (0.25, 0.5, 1.5, 2.0, 3.0)  # verifier runs on the curve (outside the band around 1)


def exact_curve(samples: int, gammas, sigma: float, r: float) -> np.ndarray:
    """The exact finite-n risk at p = gamma n (continued in p), NaN where |p - n| < 1 + 1e-9 (it diverges)."""
    g = np.asarray(gammas, dtype=float)
    p = g * samples
    with np.errstate(all="ignore"):
        below = sigma**2 * p / (samples - p - 1)
        above = r**2 * (1 - samples / p) + sigma**2 * samples / (p - samples - 1)
    out = np.where(p < samples, below, above)
    return np.where(np.abs(p - samples) > 1 + 1e-9, out, np.nan)


def limit_curve(gammas, sigma: float, r: float) -> np.ndarray:
    """The limiting risk, NaN at gamma = 1."""
    g = np.asarray(gammas, dtype=float)
    with np.errstate(all="ignore"):
        out = np.where(g < 1, sigma**2 * g / (1 - g), r**2 * (1 - 1 / g) + sigma**2 / (g - 1))
    return np.where(g != 1, out, np.nan)


def ridgeless_plot(ctx: PlotContext) -> Figure:
    """Risk against gamma (limit, finite-n curves, verifier points), and the sweep to the limit at gamma."""

    g0, sd, r = float(ctx.params["gamma"]), float(ctx.params["sigma"]), float(ctx.params["r"])
    fig, (top, bottom) = new_figure(2, height=4.6, ratios=(1.4, 1), sharex=False)
    gs = np.concatenate([np.linspace(0.05, 0.985, 300), np.linspace(1.015, 4.0, 300)])
    lim = limit_curve(gs, sd, r)
    top.plot(gs, lim, color="C0", lw=1.2, label=r"limit $n\to\infty$")
    for n, style in zip(CURVE_SAMPLES, (":", "-."), strict=True):
        top.plot(gs, exact_curve(n, gs, sd, r), color="0.4", lw=0.8, ls=style, label=rf"exact, $n={n}$")
    ratios = sorted({*POINT_RATIOS, g0})
    verdicts = [verify(ctx.claim, backend=ctx.backend, seed=ctx.seed + 1 + k, resolution=CURVE_RESOLUTION,
                       **{**ctx.params, "gamma": g}) for k, g in enumerate(ratios)]
    est = np.array([v.estimate for v in verdicts])
    err = np.array([v.stderr for v in verdicts])
    top.errorbar(ratios, est, yerr=err, fmt="o", color="C1", ms=3, elinewidth=0.8,
                 label=r"extrapolated estimate ($\pm 1$ s.e.)")
    failed = [k for k, v in enumerate(verdicts) if v.status == "fail"]
    if failed:
        top.plot([ratios[k] for k in failed], est[failed], "x", color="red", ms=6, label="failed")
    top.axvline(1.0, color="0.7", lw=0.6)
    top.axhline(r**2, color="C2", lw=0.8, ls="--", label=r"null risk $r^2$")
    top.set_ylim(0.0, max(3.0 * max(float(np.nanmax(lim[gs > 2.5])), sd**2), float(np.max(est + err)) * 1.2))
    top.set_xlabel(r"$\gamma=p/n$")
    top.set_ylabel(r"excess risk $\mathbb{E}\|\hat\beta-\beta\|^2$")
    top.legend(loc="upper right", fontsize="small")
    v = asymptotic_panel(bottom, ctx)
    bottom.set_ylabel(rf"risk at $\gamma={g0:g}$")
    bottom.legend(loc="best", fontsize="small")
    fig.align_ylabels([top, bottom])
    fig.set_label(
        rf"Top: double descent of min-norm least squares with isotropic Gaussian features, $\sigma = {sd:g}$, $r = {r:g}$: "
        rf"the limiting excess risk against $\gamma = p/n$ (line), the exact finite-$n$ risk at $n = "
        rf"{', '.join(str(n) for n in CURVE_SAMPLES)}$ (dotted, dash-dotted), converging to it, and the verifier's "
        rf"extrapolated limits at $\gamma = {', '.join(f'{g:g}' for g in ratios)}$ (points, one standard error, "
        rf"resolution ${CURVE_RESOLUTION:g}$); the risk diverges at $\gamma = 1$ and tends to $r^2$ as $\gamma$ grows. "
        rf"Bottom: the verifier's estimates at $\gamma = {g0:g}$ for $n = {', '.join(str(pt['x']) for pt in v.sweep)}$ "
        r"against $1/n$, the fitted expansion (dashed), its limit (diamond) and the closed form (line)."
    )
    return fig


def finite_plot(ctx: PlotContext) -> Figure:
    """The exact risk against p at the claim's n, with verifier runs; relative residuals below."""

    n, sd, r = int(ctx.params["n"]), float(ctx.params["sigma"]), float(ctx.params["r"])
    ps = [p for p in sorted({1, *np.linspace(1, 3 * n, 9).round().astype(int).tolist()}) if abs(p - n) >= GAP]
    fig, (top, bottom) = new_figure(2, height=3.4, ratios=(2.2, 1))
    dense = np.arange(1, 3 * n + 1)
    curve = exact_curve(n, dense / n, sd, r)
    curve[np.abs(dense - n) <= 1] = np.nan
    top.plot(dense, curve, color="C0", lw=1.0, marker=".", ms=2, label="exact risk")
    pts = ctx.measure("p", ps, resolution=FIGURE_RESOLUTION)
    draw_points(top, pts, pts.estimate, ctx.error_label)
    top.axvline(n, color="0.7", lw=0.6)
    top.set_yscale("log")
    top.set_ylabel(r"$\mathbb{E}\|\hat\beta-\beta\|^2$")
    top.legend(loc="upper right", fontsize="small")
    residual_panel(bottom, pts, ctx.claim.scale)
    bottom.set_xlabel(rf"features $p$ ($n={n}$)")
    fig.align_ylabels([top, bottom])
    fig.set_label(
        rf"Exact excess risk of min-norm least squares with $n = {n}$ Gaussian samples, $\sigma = {sd:g}$, $r = {r:g}$, "
        rf"against the number of features $p$ (line; infinite at $|p - n| \le 1$), and the verifier's Monte Carlo "
        rf"estimates over independent designs at $p = {', '.join(str(p) for p in ps)}$ (points, one standard error, "
        rf"resolution ${FIGURE_RESOLUTION:g}$); bottom: relative residuals."
    )
    return fig


register_plots({
    "double-descent.finite-n": finite_plot,
    "double-descent.ridgeless": ridgeless_plot,
})
