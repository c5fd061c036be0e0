"""Figures of the ``residual.*`` claims: closed forms as curves, verifier runs as points.

One function per claim, each ``plot(ctx) -> Figure`` (see :mod:`workbench.figures`). Every
series of points is a list of real :func:`~workbench.verify` runs; the ``i``-th point drawn,
counting across the series in drawing order, is the run with seed ``seed + i``. Where a panel
shows more of a run than its verdict (the random stacks behind an extreme, the wrong formulas
measured on the same stacks), the kernel is called again with that run's seed, so it shows the
very stacks the verifier drew.

>>> import workbench as wb
>>> fig = wb.claim("residual.vanishing").figure(depth=10)
>>> fig.axes[0].get_yscale()
'log'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from numerics import backend as make_backend
from numerics import residual as kernels

from . import PlotContext, Points, draw_points, register_plots
from .initialization import depth_grid
from .style import new_figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["ALPHA", "PLAIN_GAIN", "jacobian_plot", "singular_bounds_plot", "vanishing_plot"]

ALPHA = 1.0  # the branch variance sigma^2 = ALPHA / L of the depth-scaled series
PLAIN_GAIN = 0.95  # the per-layer gradient gain g of the plain chain drawn for comparison
_WRONG = {"no-identity": ("C3", "x", r"without the identity: $J_L\cdots J_1u$"),
          "first-order": ("C2", "^", r"first order: $(I+\sum_l J_l)\,u$")}


class _Seeds:
    """Hands out consecutive seeds, one per measured point, across all series of a figure."""

    def __init__(self, ctx: PlotContext) -> None:
        self.ctx, self.next = ctx, 0

    def measure(self, vary: str, xs: Sequence[float] | np.ndarray, *, resolution: float | None = None, **overrides: Any) -> Points:
        ctx = replace(self.ctx, seed=self.ctx.seed + self.next)
        self.next += len(xs)
        return ctx.measure(vary, xs, resolution=resolution, **overrides)

    def pairs(self, vary: str, points: Sequence[tuple[Any, dict]], *, resolution: float | None = None) -> Points:
        """One run per ``(x, overrides)``: a series whose other parameters change along it."""
        runs = [self.measure(vary, [x], resolution=resolution, **extra) for x, extra in points]
        x, expected, estimate, error, failed = (np.concatenate([getattr(r, f) for r in runs])
                                                for f in ("x", "expected", "estimate", "error", "failed"))
        return Points(x, expected, estimate, error, failed, verdicts=tuple(v for r in runs for v in r.verdicts))


def _rng(ctx: PlotContext, seed: int):
    b = make_backend(ctx.backend, seed)
    return b.xp, b.rng


def _host(x: Any) -> np.ndarray:
    return np.asarray(x.get() if hasattr(x, "get") else x)


def _finish(fig: Figure, caption: str) -> Figure:
    fig.set_label(caption)
    return fig


def _legend(ax: Axes, **kw: Any) -> None:
    """A legend with each label once (series of points share theirs)."""
    handles, labels = ax.get_legend_handles_labels()
    first = {text: k for k, text in reversed(list(enumerate(labels)))}
    keep = sorted(first.values())
    ax.legend([handles[k] for k in keep], [labels[k] for k in keep], **kw)


def _depth_ticks(ax: Axes, deepest: int) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True, steps=[1, 2, 5, 10]))
    ax.set_xlim(0, deepest + 0.5 + 0.04 * deepest)


# --- residual.jacobian ---------------------------------------------------------------------------------

def jacobian_plot(ctx: PlotContext) -> Figure:
    """Top: the measured relative discrepancy with its rigorous rounding bound, against depth
    (the closed form 0). Bottom (log): the same stacks' discrepancy from two wrong formulas, far
    above the bound."""
    depths = depth_grid(int(ctx.params["depth"]))
    n = int(ctx.params["width"])
    seeds = _Seeds(ctx)
    pts = seeds.measure("depth", depths)
    fig, (top, bottom) = new_figure(2, height=3.9, ratios=(1, 1.25))
    top.axhline(0.0, color="C0", lw=1.1, label=r"closed form $\Delta=0$", zorder=1)
    draw_points(top, pts, pts.estimate, "error bar: rounding bound", zorder=3)
    top.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))
    top.set_ylabel(r"$\Delta=\|C_h-P_Lu\|_\infty/\|P_Lu\|_\infty$")
    top.legend(loc="upper left", handlelength=1.8)

    lowest = math.inf
    for i, depth in enumerate(depths):
        xp, rng = _rng(ctx, ctx.seed + i)  # the stacks of the i-th verifier run
        out = kernels.jacobian_check(xp, rng, width=n, depth=depth)
        valid = _host(out["valid"])
        tol = _host(out["tolerance"])[valid]
        x = np.full(tol.size, float(depth))
        bottom.plot(x, tol, "_", color="0.35", ms=7, mew=1.0, label="rounding bound" if i == 0 else None, zorder=2)
        product = _host(out["discrepancy"]["product"])[valid]
        shown = product > 0
        bottom.plot(x[shown], product[shown], "o", color="C1", ms=2.2, label=r"chain rule: $P_Lu$" if i == 0 else None,
                    zorder=3)
        lowest = min(lowest, float(product[shown].min()) if shown.any() else lowest, float(tol.min()))
        for name, (colour, marker, label) in _WRONG.items():
            wrong = _host(out["discrepancy"][name])[valid]
            keep = wrong > 0
            bottom.plot(x[keep], wrong[keep], marker, color=colour, ms=3, mew=0.8, ls="none",
                        label=label if i == 0 else None, zorder=3)
    bottom.set_yscale("log")
    bottom.set_ylim(lowest / 10, 1e6)
    bottom.set_ylabel(r"$\|C_h-v\|_\infty/\|P_Lu\|_\infty$")
    bottom.set_xlabel(r"depth $L$")
    bottom.legend(loc="upper center", fontsize=6, handlelength=1.2, ncols=2, columnspacing=0.8)
    _depth_ticks(bottom, depths[-1])
    fig.align_ylabels([top, bottom])
    return _finish(
        fig,
        f"Jacobian of residual ReLU stacks of width $n = {n}$ (blocks $x + W_2 \\operatorname{{relu}}(W_1 x + b_1) + b_2$, "
        f"$\\|J_F\\| \\le 1/(2L)$), against depth $L$: top, the verifier's relative discrepancy between the central "
        f"difference $C_h$ of the network along $u$ and the chain-rule product $P_L u = (I + J_L) \\cdots (I + J_1) u$ "
        f"(points, the worst of {kernels.JACOBIAN_STACKS} stacks; error bars its rigorous rounding bound), and the "
        f"closed form $0$ (line); bottom, for every stack of those runs, the rounding bound (dashes), the chain rule's "
        f"discrepancy (dots) and that of two wrong formulas: the product without the identity and the first-order sum "
        f"$(I + \\sum_l J_l) u$.",
    )


# --- residual.singular-bounds ------------------------------------------------------------------------

def _random_extremes(ctx: PlotContext, seed: int, depth: int, bound: str) -> np.ndarray:
    """The certified random stacks' extreme singular values of the verifier run with ``seed``."""
    p = ctx.params
    xp, rng = _rng(ctx, seed)
    out = kernels.singular_extremes(xp, rng, width=int(p["width"]), depth=depth, eps=float(p["eps"]), bound=bound)
    value, tol = _host(out["value"])[1:], _host(out["tolerance"])[1:]
    return value[tol < value]


def singular_bounds_plot(ctx: PlotContext) -> Figure:
    """Top (log): the bounds (1 +- eps)^L, the attained extremes (verifier) and the random stacks'
    extreme singular values against depth. Bottom: how close the random stacks come (ratio to the bound)."""
    depths = depth_grid(int(ctx.params["depth"]))
    eps, n = float(ctx.params["eps"]), int(ctx.params["width"])
    seeds = _Seeds(ctx)
    dense = np.arange(0, depths[-1] + 1)
    fig, (top, bottom) = new_figure(2, height=4.2, ratios=(1.3, 1))
    curves = {}
    for bound, colour in (("upper", "C3"), ("lower", "C0")):
        curve = np.ones(dense.size)
        curve[1:] = ctx.closed_form("depth", dense[1:], bound=bound)
        curves[bound] = curve
        start = ctx.seed + seeds.next
        pts = seeds.measure("depth", depths, bound=bound)
        sign = "+" if bound == "upper" else "-"
        top.plot(dense, curve, color=colour, lw=1.0, zorder=2, label=rf"$(1{sign}\epsilon)^L$")
        draw_points(top, pts, pts.estimate, f"attained, {ctx.error_label}", color=colour, zorder=4, ms=2.8)
        ratio_pts = replace(pts, estimate=pts.estimate / pts.expected, error=pts.error / pts.expected)
        if bound == "lower":
            ratio_pts = replace(ratio_pts, estimate=1 / ratio_pts.estimate)
        draw_points(bottom, ratio_pts, ratio_pts.estimate, ctx.error_label, color=colour, zorder=4, ms=2.8)
        for i, depth in enumerate(depths):
            extremes = _random_extremes(ctx, start + i, depth, bound)
            x = np.full(extremes.size, float(depth)) + (0.12 if bound == "upper" else -0.12) * max(1, depths[-1] / 20)
            label = "random stacks" if (i == 0 and bound == "upper") else None
            top.plot(x, extremes, ".", color="0.55", ms=2.5, zorder=3, label=label)
            bound_value = pts.expected[i]
            ratio = extremes / bound_value if bound == "upper" else bound_value / extremes
            bottom.plot(x, ratio, ".", color=colour, alpha=0.55, ms=2.5, zorder=3)
    top.fill_between(dense, curves["lower"], curves["upper"], color="0.9", lw=0, zorder=0)
    top.set_yscale("log")
    top.set_ylabel(r"singular values of $P_L$")
    _legend(top, loc="upper left", fontsize=6, handlelength=1.5)
    bottom.set_yscale("log")
    bottom.axhline(1.0, color="0.3", lw=0.8, ls=":")
    bottom.set_ylabel(r"$\sigma_{\max}/(1+\epsilon)^L$, $(1-\epsilon)^L/\sigma_{\min}$")
    bottom.set_xlabel(rf"depth $L$  ($n={n}$, $\epsilon={eps:g}$)")
    _depth_ticks(bottom, depths[-1])
    fig.align_ylabels([top, bottom])
    return _finish(
        fig,
        f"Singular values of $P_L = (I + J_L) \\cdots (I + J_1)$ with every $\\|J_l\\|_2 = \\epsilon = {eps:g}$, width "
        f"$n = {n}$, against depth $L$: top, the bounds $(1 + \\epsilon)^L$ and $(1 - \\epsilon)^L$ (lines; the band "
        f"between them shaded), the verifier's extremes over the attaining stacks $J_l = \\pm\\epsilon I$ and "
        f"{kernels.SINGULAR_STACKS} random stacks (coloured points; error bars the rigorous rounding bound, invisible "
        f"at this scale) and the random stacks' own largest and smallest singular values (grey); bottom, how close "
        f"each comes to its bound: $\\sigma_{{\\max}}/(1 + \\epsilon)^L$ and $(1 - \\epsilon)^L/\\sigma_{{\\min}}$, $1$ "
        f"for the attaining stacks, far below $1$ for random ones.",
    )


# --- residual.vanishing --------------------------------------------------------------------------------

def vanishing_plot(ctx: PlotContext) -> Figure:
    """E||P_L u||^2 against depth: sigma^2 = alpha/L (bounded, tends to e^alpha), sigma^2 fixed
    (exponential growth), and the plain chain g^(2L) (vanishing); residuals below."""
    depths = depth_grid(int(ctx.params["depth"]))
    s2 = float(ctx.params["sigma2"])
    seeds = _Seeds(ctx)
    dense = np.arange(1, depths[-1] + 1)
    fig, (top, bottom) = new_figure(2, height=4.0, ratios=(1.5, 1))
    scaled = seeds.pairs("depth", [(d, {"sigma2": ALPHA / d}) for d in depths], resolution=0.02)
    fixed = seeds.measure("depth", depths, resolution=0.02)
    scaled_curve = np.array([ctx.closed_form("depth", [float(d)], sigma2=ALPHA / d)[0] for d in dense])
    fixed_curve = ctx.closed_form("depth", dense)
    plain = PLAIN_GAIN ** (2.0 * np.concatenate([[0], dense]))
    top.plot(dense, fixed_curve, color="C3", lw=1.0, label=rf"$(1+\sigma^2)^L$, $\sigma^2={s2:g}$", zorder=2)
    top.plot(dense, scaled_curve, color="C0", lw=1.0, label=rf"$(1+\alpha/L)^L$, $\alpha={ALPHA:g}$", zorder=2)
    top.axhline(math.exp(ALPHA), color="C0", lw=0.8, ls="--", label=r"$e^{\alpha}$", zorder=1)
    top.plot(np.concatenate([[0], dense]), plain, color="0.3", lw=1.0, ls="-.",
             label=rf"plain chain, $g^{{2L}}$, $g={PLAIN_GAIN:g}$", zorder=2)
    draw_points(top, fixed, fixed.estimate, ctx.error_label, color="C3", zorder=3, ms=2.8)
    draw_points(top, scaled, scaled.estimate, ctx.error_label, color="C0", zorder=3, ms=2.8)
    if depths[-1] >= 30:
        value = PLAIN_GAIN**30
        top.annotate(rf"$L=30$: $g^L={value:.4f}$", xy=(30, value**2), xytext=(-4, -5), textcoords="offset points",
                     fontsize=6.5, color="0.25", ha="right", va="top")
    top.set_yscale("log")
    top.set_ylim(min(plain) / 8, 2.5 * max(float(fixed_curve.max()), math.exp(ALPHA)))
    top.set_ylabel(r"$\mathbb{E}\,\|P_L u\|^2$")
    _legend(top, loc="lower left", fontsize=6, handlelength=1.8)
    bottom.axhline(0.0, color="0.3", lw=0.8)
    reach = 0.0
    for pts, colour, dx in ((fixed, "C3", -0.12), (scaled, "C0", 0.12)):
        rel, err = pts.estimate / pts.expected - 1.0, pts.error / pts.expected
        bottom.errorbar(pts.x + dx * max(1, depths[-1] / 20), rel, yerr=err, fmt="o", color=colour, ms=2.4, elinewidth=0.7)
        if pts.failed.any():
            bottom.plot(pts.x[pts.failed], rel[pts.failed], "x", color="red", ms=5)
        reach = max(reach, float(np.max(np.abs(rel) + err)))
    bottom.set_ylim(-1.25 * reach, 1.25 * reach)
    bottom.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))
    bottom.set_ylabel(r"$\hat r_L/r_L-1$")
    bottom.set_xlabel(r"depth $L$")
    _depth_ticks(bottom, depths[-1])
    fig.align_ylabels([top, bottom])
    n, method = int(ctx.params["width"]), ctx.params["method"]
    reps = [v.replicates for p in (fixed, scaled) for v in p.verdicts]
    return _finish(
        fig,
        f"Expected squared gradient norm $\\mathbb{{E}}\\,\\|P_L u\\|^2$ through $L$ residual blocks of width $n = {n}$ "
        f"with Gaussian branch Jacobians $\\mathcal{{N}}(0, \\sigma^2/n)$, against depth: the closed form "
        f"$(1 + \\sigma^2)^L$ (lines) for a fixed $\\sigma^2 = {s2:g}$ (growing exponentially) and for "
        f"$\\sigma^2 = \\alpha/L$ with $\\alpha = {ALPHA:g}$ (bounded by and tending to $e^\\alpha$, dashed), the "
        f"verifier's estimates ({method} method, {min(reps)} to {max(reps)} stacks each; points, error bars one "
        f"standard error), and a plain chain whose layers scale the gradient by $g = {PLAIN_GAIN:g}$, $(g^L)^2$ "
        f"(dash-dotted, vanishing); bottom: relative deviation of each estimate from the closed form.",
    )


register_plots({
    "residual.jacobian": jacobian_plot,
    "residual.singular-bounds": singular_bounds_plot,
    "residual.vanishing": vanishing_plot,
})
