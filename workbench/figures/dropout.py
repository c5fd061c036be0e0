"""Figures of the ``dropout.*`` claims: closed forms as curves, verifier runs as points.

- ``dropout.ridge``: the penalty coefficient against q, the closed form (1 - q)/q, the form without its 1/q
  (dashed), and the verifier's estimates by Monte Carlo over masks and by averaged SGD (points, one standard
  error); below, one problem's averaged SGD iterates approaching the ridge solution, far from the OLS and the
  isotropic ridge.
- ``dropout.weight-scaling``: the NWGM's effective scale against q (verifier points, tolerance bars) on the line
  s = q, with 1/q and the arithmetic mean's scales; the NWGM against the weight-scaled softmax and the arithmetic
  mean; a ReLU unit's gap against E|z - Ez|/2 and sqrt(Var z)/2.

Point ``i`` of a figure, counting across its series in drawing order, is the verifier run with seed ``seed + i``;
the panels that show more than a verdict call the kernels with the next seeds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from numerics import backend as make_backend
from numerics import dropout as kernels
from numerics.namespaces import to_host

from ..verification import verify
from . import PlotContext, register_plots
from .style import new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["ridge_plot", "weight_scaling_plot", "IDENTITY_KEEPS", "SGD_KEEPS", "SCALE_KEEPS", "FIGURE_RESOLUTION"]

IDENTITY_KEEPS = (0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9)  # q of the Monte Carlo points
SGD_KEEPS = (0.3, 0.6, 0.9)  # q of the averaged-SGD points
SCALE_KEEPS = (0.1, 0.25, 0.5, 0.75, 0.9)  # q of the NWGM points
FIGURE_RESOLUTION = 0.02
CHECKPOINTS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000)
SGD_RUNS = 16


def _runs(ctx: PlotContext, keeps, start: int, **overrides: Any) -> list:
    return [verify(ctx.claim, backend=ctx.backend, seed=ctx.seed + start + k, resolution=FIGURE_RESOLUTION,
                   **{**ctx.params, **overrides, "q": float(q)}) for k, q in enumerate(keeps)]


def _errorbars(ax, keeps, verdicts, bars, **style: Any) -> None:
    ax.errorbar(keeps, [v.estimate for v in verdicts], yerr=bars, ms=3.5, elinewidth=0.8, **style)
    failed = [k for k, v in enumerate(verdicts) if v.status == "fail"]
    if failed:
        ax.plot([keeps[k] for k in failed], [verdicts[k].estimate for k in failed], "x", color="red", ms=7, label="failed")


def ridge_plot(ctx: PlotContext) -> Figure:
    """The coefficient against q (closed form, wrong form, Monte Carlo and SGD points); SGD's averaged iterate."""
    q0, d, n = float(ctx.params["q"]), int(ctx.params["features"]), int(ctx.params["samples"])
    fig, (top, bottom) = new_figure(2, height=4.8, ratios=(1.2, 1), sharex=False)
    qs = np.linspace(0.05, 0.95, 200)
    top.plot(qs, (1 - qs) / qs, color="C0", lw=1.2, label=r"closed form $\Lambda = (1-q)/q$")
    top.plot(qs, 1 - qs, color="0.5", lw=0.9, ls="--", label=r"without its $1/q$: $1-q$")
    identity = _runs(ctx, IDENTITY_KEEPS, 0, quantity="identity")
    _errorbars(top, IDENTITY_KEEPS, identity, [v.stderr for v in identity], fmt="o", color="C1",
               label=r"Monte Carlo over masks ($\pm 1$ s.e.)")
    sgd = _runs(ctx, SGD_KEEPS, len(IDENTITY_KEEPS), quantity="sgd")
    _errorbars(top, SGD_KEEPS, sgd, [v.stderr for v in sgd], fmt="s", color="C2", mfc="none",
               label=r"averaged SGD ($\pm 1$ s.e.)")
    top.set_yscale("log")
    top.set_xlabel(r"keep probability $q$")
    top.set_ylabel(r"penalty coefficient $\Lambda$")
    top.legend(loc="upper right", fontsize="small")
    b = make_backend(ctx.backend, ctx.seed + len(IDENTITY_KEEPS) + len(SGD_KEEPS))
    trace = kernels.sgd_trace(b.xp, b.rng, q=q0, features=d, samples=n, runs=SGD_RUNS, checkpoints=list(CHECKPOINTS))
    dist = np.stack([to_host(v) for v in trace["distance"]])  # (checkpoints, runs)
    steps = np.asarray(trace["steps"], dtype=float)
    bottom.fill_between(steps, dist.min(axis=1), dist.max(axis=1), color="C1", alpha=0.25, lw=0)
    bottom.plot(steps, np.median(dist, axis=1), color="C1", marker="o", ms=2.5,
                label=rf"averaged iterate, median and range of ${SGD_RUNS}$ runs")
    bottom.plot(steps, np.median(dist[-1]) * np.sqrt(steps[-1] / steps), color="0.5", lw=0.8, ls=":",
                label=r"$\propto T^{-1/2}$")
    bottom.axhline(trace["ols"], color="C3", lw=0.9, ls="--", label=r"least squares (no penalty)")
    bottom.axhline(trace["isotropic"], color="C4", lw=0.9, ls="-.",
                   label=r"isotropic ridge $\Lambda\,\frac{1}{d}\operatorname{tr}(X^\top X)\,\|w\|^2$")
    bottom.set_xscale("log")
    bottom.set_yscale("log")
    bottom.set_ylim(float(dist.min()) / 100, 1.5 * max(trace["ols"], trace["isotropic"]))  # room for the legend below
    bottom.set_xlabel(rf"averaged steps $T$ (after a burn-in of ${trace['burn']}$)")
    bottom.set_ylabel(r"$\|\bar w_T - w_{\mathrm{ridge}}\| / \|w_{\mathrm{ridge}}\|$")
    bottom.legend(loc="lower left", fontsize="small")
    fig.align_ylabels([top, bottom])
    fig.set_label(
        rf"Dropout in linear regression, $d = {d}$ features with column scales from $1/2$ to $2$, $N = {n}$ rows. Top: "
        r"the penalty coefficient $\Lambda$ in $\mathbb{E}_m\|y - X\operatorname{diag}(m)w/q\|^2 = \|y - Xw\|^2 + "
        r"\Lambda\sum_j\|x_j\|^2w_j^2$ against the keep probability $q$: the closed form $\Lambda = (1 - q)/q$ (line), the form "
        r"without its $1/q$ (dashed), and the verifier's estimates by Monte Carlo over masks at "
        rf"$q = {', '.join(f'{q:g}' for q in IDENTITY_KEEPS)}$ and through averaged SGD with dropout at "
        rf"$q = {', '.join(f'{q:g}' for q in SGD_KEEPS)}$ (points, one standard error, resolution "
        rf"${FIGURE_RESOLUTION:g}$). Bottom: one problem at $q = {q0:g}$, the distance of the Polyak-Ruppert average "
        r"of SGD with dropout from the ridge solution $(X^\top X + \Lambda\operatorname{diag}X^\top X)^{-1}X^\top y$ "
        r"against the number of averaged steps (median and range of the runs), falling as $T^{-1/2}$ past the "
        r"least-squares solution (dashed) and the isotropic ridge of the same mean strength, penalty "
        r"$\Lambda\,\frac{1}{d}\operatorname{tr}(X^\top X)\,\|w\|^2$ (dash-dotted)."
    )
    return fig


def weight_scaling_plot(ctx: PlotContext) -> Figure:
    """Effective scale against q; NWGM and arithmetic mean against softmax(qWh + b); ReLU gaps against bounds."""
    q0, n, k = float(ctx.params["q"]), int(ctx.params["units"]), int(ctx.params["outputs"])
    fig, (top, middle, bottom) = new_figure(3, height=6.6, ratios=(1.1, 1, 1), sharex=False)
    qs = np.linspace(0.05, 0.95, 200)
    top.plot(qs, qs, color="C0", lw=1.2, label=r"closed form $s = q$")
    top.plot(qs, 1 / qs, color="0.5", lw=0.9, ls="--", label=r"scale $1/q$ (inverted)")
    runs = _runs(ctx, SCALE_KEEPS, 0, quantity="softmax")
    _errorbars(top, SCALE_KEEPS, runs, [v.tolerance for v in runs], fmt="o", color="C1", label="NWGM (tolerance)")
    low, high = 0.05, 20.0
    for j, q in enumerate(SCALE_KEEPS):
        b = make_backend(ctx.backend, ctx.seed + j)  # the verifier's own networks
        out = kernels.nwgm_check(b.xp, b.rng, q=float(q), units=n, outputs=k)
        arith = to_host(out["arithmetic"])[to_host(out["valid"])]
        arith = arith[arith > 0]  # a negative scale (the mean reverses a pair's order) has no place on a log axis
        top.plot(np.full(arith.shape, q), arith, "_", color="C3", ms=6, mew=0.8,
                 label="arithmetic mean, each pair" if j == 0 else None)
        low, high = min(low, float(arith.min(initial=low))), max(high, float(arith.max(initial=high)))
    top.set_yscale("log")
    top.set_ylim(low / 1.5, high * 200)
    top.set_xlabel(r"keep probability $q$")
    top.set_ylabel(r"effective scale $s$")
    top.legend(loc="upper right", fontsize="x-small")  # inside the axes, clear of the ticks and of the 1/q curve
    b = make_backend(ctx.backend, ctx.seed + len(SCALE_KEEPS))
    out = kernels.nwgm_check(b.xp, b.rng, q=q0, units=n, outputs=k)
    scaled = to_host(out["scaled"]).ravel()
    middle.plot(scaled, to_host(out["nwgm"]).ravel(), "o", color="C1", ms=3, label="NWGM")
    middle.plot(scaled, to_host(out["mean"]).ravel(), "x", color="C3", ms=3.5, label="arithmetic mean")
    ends = np.array([scaled.min() / 2, 1.0])
    middle.plot(ends, ends, color="C0", lw=0.8)
    middle.set_xscale("log")
    middle.set_yscale("log")
    middle.set_xlabel(r"weight-scaled network $\operatorname{softmax}(qWh+b)_k$")
    middle.set_ylabel(r"average of the $2^n$ sub-networks")
    middle.legend(loc="lower right", fontsize="small")
    b = make_backend(ctx.backend, ctx.seed + len(SCALE_KEEPS) + 1)
    relu = kernels.relu_check(b.xp, b.rng, q=q0, units=n, outputs=k, networks=16)
    ok = to_host(relu["valid"])
    gap, bound, sd = (to_host(relu[name])[ok] for name in ("gap", "bound", "sd_bound"))
    bottom.plot(bound, gap, "o", color="C1", ms=2.5, label=r"against $\mathbb{E}|z-\mathbb{E}z|/2$")
    bottom.plot(sd, gap, ".", color="C2", ms=2.5, label=r"against $\sqrt{\operatorname{Var}z}/2$")
    top_end = max(float(bound.max()), float(sd.max()))
    bottom.plot([0, top_end], [0, top_end], color="C0", lw=0.8, label="bound")
    bottom.set_xlabel(r"bound on the gap ($\mathbb{E}|z-\mathbb{E}z|/2$ or $\sqrt{\operatorname{Var}z}/2$)")
    bottom.set_ylabel(r"$\mathbb{E}\,\mathrm{relu}(z)-\mathrm{relu}(\mathbb{E}z)$")
    bottom.legend(loc="upper left", fontsize="small")
    fig.align_ylabels([top, middle, bottom])
    fig.set_label(
        rf"Weight scaling with $n = {n}$ dropped units, every one of the $2^n$ masks enumerated. Top: the effective "
        r"scale $s$ of the normalised weighted geometric mean, $\mathrm{NWGM} = \operatorname{softmax}(sWh + b)$, "
        rf"against the keep probability (verifier runs, $K = {k}$ classes, rounding bounds as bars) on the closed form "
        r"$s = q$, the inverted scale $1/q$ (dashed) and the scales read off the arithmetic mean of the sub-networks "
        rf"for every pair of classes (bars; the positive ones). Middle: at $q = {q0:g}$, the NWGM (circles) and the arithmetic mean "
        r"(crosses) of the sub-networks' class probabilities against the weight-scaled network's. Bottom: each ReLU "
        r"unit's gap $\mathbb{E}\,\mathrm{relu}(z) - \mathrm{relu}(\mathbb{E}z)$ against its bound "
        r"$\mathbb{E}|z - \mathbb{E}z|/2$ (circles; the line is reached by the units built with $\mathbb{E}z = 0$, "
        r"by design) and against the "
        r"looser $\sqrt{\operatorname{Var}z}/2$ (dots); none lies above the line."
    )
    return fig


register_plots({
    "dropout.ridge": ridge_plot,
    "dropout.weight-scaling": weight_scaling_plot,
})
