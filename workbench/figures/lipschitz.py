r"""Figures of the ``lipschitz.*`` claims.

- ``lipschitz.spectral``: the verifier's sweep against :math:`n^{-2/3}`, the fitted expansion, its limit and the
  derived two-term approach :math:`1 + \sqrt a + c\,n^{-2/3}` (top); the spread of one matrix's
  :math:`\|W\|_2` against n, falling as :math:`n^{-2/3}` (middle); extrapolated limits against the aspect ratio with
  :math:`1 + \sqrt a` and the wrong :math:`2\sqrt a` (bottom).
- ``lipschitz.bound``: the ratio :math:`\mathrm{Lip}(f)/\prod_l \|W_l\|_2` of random ReLU networks against depth
  (each network, and the median, with the ReLU-free product :math:`\|W_L \cdots W_1\|_2` beside it), the attaining
  network at 1; below, the verifier's estimate relative to :math:`s^L` with its rounding tolerance.

A figure's ``k``-th verifier run uses seed ``seed + k``; the random networks drawn for a depth are those of the
verifier run at that depth (the kernel is called again with its seed).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from numerics import backend as make_backend
from numerics import lipschitz as kernels

from ..verification import verify
from . import PlotContext, asymptotic_panel, register_plots
from .style import new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["spectral_plot", "bound_plot", "ASPECTS", "DEPTHS", "CURVE_RESOLUTION"]

ASPECTS = (0.25, 0.5, 1.0, 2.0, 4.0)  # extrapolated limits drawn against the aspect ratio
CURVE_RESOLUTION = 0.05  # their target resolution (relative)
DEPTHS = tuple(range(1, 9))  # the depths of lipschitz.bound's figure


def spectral_plot(ctx: PlotContext) -> Figure:
    """The sweep and its extrapolation, the n^(-2/3) spread, and the limit against the aspect ratio."""
    a = float(ctx.params["aspect"])
    fig, (top, middle, bottom) = new_figure(3, height=6.0, ratios=(1.3, 1, 1.1), sharex=False)
    v = asymptotic_panel(top, ctx)
    xs = np.array([pt["x"] for pt in v.sweep], dtype=float)
    dense = np.linspace(0.0, 1.05 * xs.min() ** (-2 / 3), 100)
    c = v.fit["derived"][0]["expected"]
    top.plot(dense, v.expected + c * dense, color="C2", lw=0.9, ls=":", label=r"derived: $1+\sqrt{a}+c\,n^{-2/3}$")
    top.set_xlabel(r"$n^{-2/3}$")
    top.set_ylabel(r"$\mathbb{E}\,\|W\|_2-\delta_n$")
    top.legend(loc="lower left", fontsize=6)

    spread = np.array([pt["stderr"] * math.sqrt(pt["replicates"]) for pt in v.sweep])
    error = spread / np.sqrt(2 * (np.array([pt["replicates"] for pt in v.sweep]) - 1))  # s.e. of a normal sample's s.d.
    middle.errorbar(xs, spread, yerr=error, fmt="o", color="C1", ms=3, elinewidth=0.8,
                    label=r"s.d. of $\|W\|_2$ over matrices ($\pm 1$ s.e.)")
    amplitude = float(np.exp(np.mean(np.log(spread) + (2 / 3) * np.log(xs))))
    line = np.geomspace(xs.min() / 1.3, xs.max() * 1.3, 50)
    middle.plot(line, amplitude * line ** (-2 / 3), color="C0", lw=0.9, label=r"$\propto n^{-2/3}$")
    middle.set_xscale("log", base=2)
    middle.set_yscale("log")
    middle.set_xlabel(r"rows $n$")
    middle.set_ylabel(r"$\mathrm{sd}\,\|W\|_2$")
    middle.legend(loc="upper right", fontsize=6)

    grid = np.linspace(ASPECTS[0], ASPECTS[-1], 200)
    bottom.plot(grid, 1 + np.sqrt(grid), color="C0", lw=1.0, label=r"$1+\sqrt{a}$")
    bottom.plot(grid, 2 * np.sqrt(grid), color="C3", lw=0.9, ls="--", label=r"wrong: $2\sqrt{a}$")
    aspects = sorted({*ASPECTS, a})
    runs = [verify(ctx.claim, backend=ctx.backend, seed=ctx.seed + 1 + k, resolution=CURVE_RESOLUTION,
                   **{**ctx.params, "aspect": x}) for k, x in enumerate(aspects)]
    bottom.errorbar(aspects, [r.estimate for r in runs], yerr=[r.stderr for r in runs], fmt="o", color="C1", ms=3,
                    elinewidth=0.8, label=r"extrapolated limits ($\pm 1$ s.e.)")
    failed = [k for k, r in enumerate(runs) if r.status == "fail"]
    if failed:
        bottom.plot([aspects[k] for k in failed], [runs[k].estimate for k in failed], "x", color="red", ms=6, label="failed")
    bottom.set_xlabel(r"aspect ratio $a=m/n$")
    bottom.set_ylabel(r"$\|W\|_2$ as $n\to\infty$")
    bottom.legend(loc="upper left", fontsize=6)
    fig.align_ylabels([top, middle, bottom])
    fig.set_label(
        rf"Spectral norm of $n \times m$ Gaussian matrices with entries of variance $1/n$, $m = an$. Top, at $a = {a:g}$: "
        rf"the verifier's means of $\|W\|_2 - \delta_n$ ($\delta_n = O(1/n)$, Ma's centring shift) at "
        rf"$n = {', '.join(str(int(x)) for x in xs)}$ against $n^{{-2/3}}$ (points, one standard error), the fitted "
        rf"expansion in powers of $n^{{-2/3}}$ (dashed), its limit (diamond), the closed form $1 + \sqrt{{a}}$ (line) "
        rf"and the derived approach $1 + \sqrt{{a}} + c\,n^{{-2/3}}$, $c = {c:.4f}$ from the Tracy-Widom mean "
        r"(dotted). Middle: the standard deviation of one matrix's $\|W\|_2$ at each $n$, falling as $n^{-2/3}$. "
        rf"Bottom: extrapolated limits at $a = {', '.join(f'{x:g}' for x in aspects)}$ (resolution "
        rf"${CURVE_RESOLUTION:g}$) against $1 + \sqrt{{a}}$ and the wrong $2\sqrt{{a}}$, which agree only at $a = 1$."
    )
    return fig


def _networks(ctx: PlotContext, seed: int, depth: int) -> dict:
    """The attaining and random networks of the verifier run with ``seed`` at ``depth``."""
    b = make_backend(ctx.backend, seed)
    return kernels.bound_check(b.xp, b.rng, width=int(ctx.params["width"]), depth=depth, norm=float(ctx.params["norm"]))


def bound_plot(ctx: PlotContext) -> Figure:
    """Lip(f)/prod ||W_l|| of random ReLU networks against depth (log), and the verifier's estimate / s^L."""
    width, s = int(ctx.params["width"]), float(ctx.params["norm"])
    depths = sorted({*DEPTHS, int(ctx.params["depth"])})
    pts = ctx.measure("depth", depths)
    fig, (top, bottom) = new_figure(2, height=4.2, ratios=(1.6, 1))
    medians, linear = [], []
    for i, depth in enumerate(depths):
        out = _networks(ctx, ctx.seed + i, depth)
        ratio = out["ratio"][1:]
        ratio = ratio[np.isfinite(ratio)]
        x = np.full(ratio.size, float(depth))
        top.plot(x, ratio, ".", color="C1", alpha=0.5, ms=3, label="random networks" if i == 0 else None)
        medians.append(float(np.median(ratio)))
        linear.append(float(np.median(out["linear"][1:] / out["bound"])))
    d = np.array(depths, dtype=float)
    top.plot(d, medians, "-", color="C1", lw=1.0, label="their median")
    top.plot(d, linear, "--", color="C2", lw=0.9, label=r"median, no ReLU: $\|W_L\cdots W_1\|_2$")
    top.errorbar(d, pts.estimate / pts.expected, yerr=pts.error / pts.expected, fmt="D", color="C3", ms=3,
                 elinewidth=0.8, label="verifier (largest)")
    top.axhline(1.0, color="C0", lw=1.0, label=r"bound $s^L$")
    slope, _ = np.polyfit(d[d >= 2], np.log(np.array(medians)[d >= 2]), 1)
    top.set_yscale("log")
    top.set_ylim(min(medians) / 20, 1e3)
    top.set_ylabel(r"$\mathrm{Lip}(f)\,/\,s^L$")
    top.legend(loc="upper center", fontsize=6, ncols=2, columnspacing=0.8, handlelength=1.5)
    rel = pts.estimate / pts.expected - 1
    bottom.axhline(0.0, color="C0", lw=0.8)
    bottom.errorbar(d, rel, yerr=pts.error / pts.expected, fmt="o", color="C3", ms=3, elinewidth=0.8)
    if pts.failed.any():
        bottom.plot(d[pts.failed], rel[pts.failed], "x", color="red", ms=6)
    bottom.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))
    bottom.set_ylabel(r"$\max\mathrm{Lip}/s^L-1$")
    bottom.set_xlabel(r"depth $L$")
    fig.align_ylabels([top, bottom])
    fig.set_label(
        rf"Lipschitz constants of bias-free ReLU networks on $\mathbb{{R}}^2$ of width ${width}$ with every "
        rf"$\|W_l\|_2 = s = {s:g}$, against depth $L$. Top (log): $\mathrm{{Lip}}(f) = \max_x \|J(x)\|_2$, found exactly by "
        rf"enumerating the activation sectors, over the bound $s^L$, for the {kernels.NETWORKS} random Gaussian networks "
        rf"of each verifier run (dots) and their median (line; it falls by a factor of about ${math.exp(slope):.2f}$ per "
        r"layer), the median ratio of the same networks without their ReLUs (dashed), and the verifier's estimate, the "
        r"largest constant over the random networks and a chain of aligned rank-one layers, which attains the bound "
        r"(diamonds). Bottom: that estimate's relative deviation from $s^L$, with its rounding tolerance."
    )
    return fig


register_plots({
    "lipschitz.spectral": spectral_plot,
    "lipschitz.bound": bound_plot,
})
