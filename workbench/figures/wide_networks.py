r"""Figures of the wide-network claims.

- ``nngp.relu``: the NNGP covariance against the angle :math:`\theta` for depths 1..5 (the closed form,
  lines), the verifier's extrapolated estimates at a few angles for every depth (points, one standard
  error), and the input correlation :math:`\cos\theta` for reference; below, the verifier's sweep over the
  width at the claim's parameters and its extrapolation (:func:`asymptotic_panel`).

A figure's ``k``-th verifier run uses seed ``seed + 1 + k``; the sweep panel uses ``seed``.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from numerics import backend
from numerics.wide_networks import ntk_fluctuation

from ..verification import verify
from . import PlotContext, asymptotic_panel, register_plots
from .style import new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["nngp_plot", "NNGP_DEPTHS", "NNGP_ANGLES"]

NNGP_DEPTHS = (1, 2, 3, 4, 5)
NNGP_ANGLES = (0.5, 1.5, 2.5)
FIGURE_RESOLUTION = 0.05  # absolute, per extrapolated point
_COLOURS = ("C0", "C2", "C1", "C3", "C4")


def nngp_plot(ctx: PlotContext) -> Figure:
    """Covariance against angle for depths 1..5 with verifier points; the width sweep below."""

    th0, depth = float(ctx.params["theta"]), int(ctx.params["L"])
    fig, (top, bottom) = new_figure(2, height=4.6, ratios=(1.4, 1), sharex=False)
    theta = ctx.claim.parameter("theta")
    lo, hi = float(theta.low or 0.0), float(theta.high or math.pi)
    angles = np.linspace(lo, hi, 200)
    top.plot(angles, np.cos(angles), color="0.6", lw=0.8, ls=":", label=r"input $\cos\theta$")
    k = 0
    for d, colour in zip(NNGP_DEPTHS, _COLOURS, strict=True):
        top.plot(angles, ctx.closed_form("theta", angles, L=d), color=colour, lw=1.1, label=rf"$L={d}$")
        vs = []
        for a in NNGP_ANGLES:
            k += 1
            vs.append(verify(ctx.claim, backend=ctx.backend, seed=ctx.seed + k, resolution=FIGURE_RESOLUTION,
                             theta=a, L=d))
        est = np.array([v.estimate for v in vs])
        top.errorbar(NNGP_ANGLES, est, yerr=[v.stderr for v in vs], fmt="o", color=colour, ms=3, elinewidth=0.8)
        bad = [j for j, v in enumerate(vs) if v.status == "fail"]
        if bad:
            top.plot([NNGP_ANGLES[j] for j in bad], est[bad], "x", color="red", ms=6)
    top.set_xlim(0.0, math.pi)
    top.set_xlabel(r"angle $\theta$ between the inputs")
    top.set_ylabel(r"$K_L(\theta)=\lim_{N\to\infty}\mathrm{Cov}(h^{L+1}(x),h^{L+1}(x'))$")
    top.legend(loc="lower left", fontsize="small", ncols=2)
    v = asymptotic_panel(bottom, ctx)
    bottom.set_ylabel(rf"covariance, $\theta={th0:.3g}$, $L={depth}$")
    bottom.legend(loc="best", fontsize="small")
    fig.align_ylabels([top, bottom])
    fig.set_label(
        r"Top: the NNGP covariance of a He-scaled ReLU network after $L = 1, \dots, 5$ layers against the angle "
        r"$\theta$ between two inputs of equal norm, $\kappa$ iterated $L$ times from $\cos\theta$ (lines; dotted: "
        rf"$\cos\theta$ itself), and the verifier's width-extrapolated estimates at $\theta = "
        rf"{', '.join(f'{a:g}' for a in NNGP_ANGLES)}$ for every depth (points, one standard error, absolute resolution "
        rf"${FIGURE_RESOLUTION:g}$): depth pulls every correlation towards $1$. Bottom: the verifier's estimates at "
        rf"$\theta = {th0:.3g}$, $L = {depth}$ for widths $N = {', '.join(str(pt['x']) for pt in v.sweep)}$ against "
        r"$1/N$, the fitted expansion (dashed), its limit (diamond) and the closed form (line)."
    )
    return fig


FLUCTUATION_WIDTHS = (16, 64, 256, 1024, 4096)
FLUCTUATION_NETWORKS = 400


def ntk_plot(ctx: PlotContext) -> Figure:
    """The NTK against angle (by trained layers) with verifier points; the fluctuation against width, log-log."""

    th0, width, which = float(ctx.params["theta"]), int(ctx.params["N"]), ctx.params["trained"]
    fig, (top, bottom) = new_figure(2, height=4.6, ratios=(1.2, 1), sharex=False)
    angles = np.linspace(0.0, math.pi, 200)
    for name, colour in zip(("all", "readout", "hidden"), ("C0", "C2", "C4"), strict=True):
        top.plot(angles, ctx.closed_form("theta", angles, trained=name), color=colour, lw=1.1,
                 label=rf"trained: {name}")
    # the points are the kernel's estimates; the scaling law (which each verdict also fits) has its own panel below
    kernel_only = replace(ctx, claim=replace(ctx.claim, scaling=None))
    pts = kernel_only.measure("theta", np.linspace(0.2, math.pi - 0.2, 6).tolist(), resolution=FIGURE_RESOLUTION)
    top.errorbar(pts.x, pts.estimate, yerr=pts.error, fmt="o", color="C1", ms=3, elinewidth=0.8,
                 label=rf"empirical NTK, $N={width}$, trained: {which}")
    top.set_xlabel(r"angle $\theta$ between the inputs")
    top.set_ylabel(r"$\Theta(\theta)=\mathbb{E}\,\hat\Theta_N(x,x')$")
    top.legend(loc="upper right", fontsize="small")
    b = backend(ctx.backend, ctx.seed + 1)
    r = ntk_fluctuation(b.xp, b.rng, FLUCTUATION_WIDTHS, FLUCTUATION_NETWORKS, theta=th0, trained=which)
    ws = np.asarray(r["widths"], dtype=float)
    rel = np.asarray(r["relative_sd"])
    err = rel * np.asarray(r["log_stderr"])  # one standard error of ln sd, mapped to sd
    bottom.errorbar(ws, rel, yerr=err, fmt="o", color="C1", ms=3, elinewidth=0.8,
                    label=f"{FLUCTUATION_NETWORKS} networks per width")
    bottom.plot(ws, np.exp(r["intercept"]) * ws ** r["slope"], color="C1", lw=0.8, ls="--",
                label=rf"fitted slope ${r['slope']:.3f}\pm{r['slope_stderr']:.3f}$")
    bottom.plot(ws, rel[0] * (ws / ws[0]) ** -0.5, color="C0", lw=0.9, label=r"slope $-1/2$")
    bottom.set_xscale("log")
    bottom.set_yscale("log")
    bottom.set_xlabel(r"width $N$")
    bottom.set_ylabel(r"$\mathrm{sd}(\hat\Theta_N)/\Theta$")
    bottom.legend(loc="upper right", fontsize="small")
    fig.align_ylabels([top, bottom])
    fig.set_label(
        r"Top: the NTK of a one-hidden-layer ReLU network (NTK parameterisation) against the angle $\theta$, when all "
        r"layers, only the readout or only the hidden layer are trained (lines), and the verifier's mean empirical NTK "
        rf"over independent networks of width ${width}$, trained: {which} (points, one standard error, absolute "
        rf"resolution ${FIGURE_RESOLUTION:g}$). Bottom: the spread of the empirical NTK across {FLUCTUATION_NETWORKS} "
        rf"networks relative to its mean at $\theta = {th0:.3g}$ against the width, log-log, with the fitted slope "
        rf"${r['slope']:.3f} \pm {r['slope_stderr']:.3f}$ (dashed) and slope $-1/2$ (line)."
    )
    return fig


register_plots({
    "nngp.relu": nngp_plot,
    "ntk.relu": ntk_plot,
})
