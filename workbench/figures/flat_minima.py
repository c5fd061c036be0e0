"""The figure of ``flat-minima.reparam``: the Hessian's block factors against the rescaling, the sharpness they
imply, and the test loss that does not move.

Every point of the top panel is a real :func:`~workbench.verify` run (the ``i``-th drawn, counting across the
three blocks in drawing order, with seed ``seed + i``). The lower panels follow one trained network (the one
of the run with seed ``seed``) through the rescalings, from the kernel's
:func:`~numerics.flat_minima.sharpness_curves`.

>>> import workbench as wb
>>> fig = wb.claim("flat-minima.reparam").figure()
>>> fig.axes[0].get_xscale(), fig.axes[1].get_yscale()
('log', 'log')
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from numerics import backend as make_backend
from numerics import flat_minima as kernels

from . import PlotContext, draw_points, register_plots
from .style import new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["ALPHAS", "reparam_plot"]

ALPHAS = tuple(10.0 ** (k / 2) for k in range(-4, 5))  # the verified rescalings, 10^-2 ... 10^2
_STYLE = {"W1": ("C3", "o", r"$W_1$ block, $\alpha^{-2}$"), "W2": ("C0", "s", r"$W_2$ block, $\alpha^{2}$"),
          "cross": ("C2", "^", r"cross block, $1$")}


def reparam_plot(ctx: PlotContext) -> Figure:
    """Top: the three block factors measured by the verifier against alpha (log-log) and their closed forms.
    Then, for one trained network: lambda_max of the Hessian at T_alpha theta between its derived bounds;
    Keskar's epsilon-sharpness; the training and test loss (flat)."""
    m = int(ctx.params["width"])
    dense = np.logspace(-2, 2, 33)
    fig, (top, sharp, keskar, flat) = new_figure(4, height=6.2, ratios=(1.3, 1.2, 1.0, 0.8))
    done = 0
    for name, (colour, marker, label) in _STYLE.items():
        top.plot(dense, ctx.closed_form("scale", dense, block=name), color=colour, lw=1.0, label=label, zorder=2)
        pts = replace(ctx, seed=ctx.seed + done).measure("scale", ALPHAS, block=name)
        done += len(ALPHAS)
        draw_points(top, pts, pts.estimate, ctx.error_label, color=colour, fmt=marker, ms=3, mfc="none", zorder=3)
    top.set_xscale("log")
    top.set_yscale("log")
    top.set_ylim(min(ALPHAS) ** 2 / 10, max(ALPHAS) ** 2 * 3e3)  # room for the legend above the lines
    top.set_ylabel(r"block factor $\kappa$")
    handles, labels = top.get_legend_handles_labels()
    keep = [k for k, text in enumerate(labels) if not text.startswith("estimate")][:3] + [labels.index(next(
        t for t in labels if t.startswith("estimate")))]
    top.legend([handles[k] for k in keep], [labels[k].replace("estimate (tolerance)", "verifier runs (bars: tolerance)")
                                            for k in keep], fontsize=6, loc="upper center", ncols=2, handlelength=1.6,
               columnspacing=0.8)

    b = make_backend(ctx.backend, ctx.seed)
    curves = {k: np.asarray(v) for k, v in kernels.sharpness_curves(b.xp, b.rng, width=m, alphas=dense).items()}
    floor = float(np.min(curves["lower"]))
    sharp.fill_between(dense, curves["lower"], curves["upper"], color="0.88", lw=0, zorder=0,
                       label=r"derived bounds (Rayleigh, Weyl)")
    sharp.plot(dense, curves["lower"], color="0.35", lw=0.9, label=r"$\max(\alpha^{-2}a,\ \alpha^2 c)$", zorder=2)
    sharp.axhline(floor, color="0.35", lw=0.8, ls=":", label=r"$\sqrt{ac}$: no $\alpha$ flattens it", zorder=1)
    sharp.plot(dense, curves["top"], "o", color="C1", ms=2.4, label=r"$\lambda_{\max}$ at $T_\alpha\theta$",
               zorder=3)
    sharp.set_xscale("log")
    sharp.set_yscale("log")
    sharp.set_ylim(floor / 3, float(np.max(curves["upper"])) * 300)
    sharp.set_ylabel(r"$\lambda_{\max}(\nabla^2 L(T_\alpha\theta))$")
    sharp.legend(fontsize=6, loc="upper center", ncols=2, handlelength=1.6, columnspacing=0.8)

    keskar.plot(dense, curves["keskar"], "D-", color="C4", ms=2.2, lw=0.8,
                label=rf"Keskar et al. $\epsilon$-sharpness, $\epsilon = {kernels.EPSILON:g}$ (lower bound)")
    keskar.set_xscale("log")
    keskar.set_yscale("log")
    keskar.set_ylim(float(np.min(curves["keskar"])) / 3, float(np.max(curves["keskar"])) * 30)
    keskar.set_ylabel(r"$\epsilon$-sharpness (%)")
    keskar.legend(fontsize=6, loc="upper center", handlelength=1.6)

    test, train = curves["test_loss"], curves["loss"]
    flat.plot(dense, test, color="C3", lw=1.1, label=r"test loss at $T_\alpha\theta$")
    flat.plot(dense, train, color="C0", lw=1.1, ls="--", label=r"training loss at $T_\alpha\theta$")
    spread = max(float(np.ptp(test)), float(np.ptp(train)))
    centre = 0.5 * (float(test.mean()) + float(train.mean()))
    span = max(abs(float(test.mean()) - float(train.mean())), 1e-3 * centre)
    flat.set_ylim(centre - 1.6 * span, centre + 1.6 * span)
    flat.set_xscale("log")
    flat.set_ylabel(r"loss $L$")
    flat.set_xlabel(r"rescaling $\alpha$ of $T_\alpha(W_1, W_2) = (\alpha W_1, W_2/\alpha)$")
    flat.legend(fontsize=6, loc="center right", handlelength=1.8)
    fig.align_ylabels([top, sharp, keskar, flat])
    mantissa, _, power = f"{spread / max(float(np.min(np.abs(test))), 1e-300):.1e}".partition("e")
    relative = rf"{mantissa}\times 10^{{{int(power)}}}"
    fig.set_label(
        f"Positive rescaling of a trained one-hidden-layer ReLU network ($m = {m}$ units, $d = {kernels.INPUTS}$ "
        f"inputs, squared loss on $N = {kernels.SAMPLES}$ samples), against $\\alpha$: top, the factor by which "
        f"$T_\\alpha$ multiplies each block of the exact float64 Hessian (points: {len(ALPHAS)} verifier runs per block, "
        f"each a freshly trained network; error bars the rigorous rounding bounds, far below the markers) and the "
        f"closed forms $\\alpha^{{-2}}$, $\\alpha^2$, $1$ (lines); second, for one network, the largest Hessian "
        f"eigenvalue computed at $T_\\alpha\\theta$, between the Rayleigh lower bound $\\max(\\alpha^{{-2}} a, \\alpha^2 c)$ "
        f"($a, c$ the top eigenvalues of the $W_1$ and $W_2$ blocks at $\\theta$) and Weyl's upper bound (Horn and "
        f"Johnson 2013, Theorem 4.3.1), that plus "
        f"$\\|\\nabla^2_{{W_1W_2}} L(\\theta)\\|_2$ (shaded): unbounded at both ends, never below $\\sqrt{{ac}}$ (dotted); "
        f"third, a lower bound on the $\\epsilon$-sharpness of Keskar et al. (2017, Metric 2.1; its growth is derived "
        f"in the proof's remarks, not in Dinh et al.; the loss at the top "
        f"eigenvector and at the corner of the box $|\\delta_i| \\le \\epsilon(|\\theta_i| + 1)$); bottom, the training "
        f"and test loss at $T_\\alpha\\theta$, unchanged (largest relative change ${relative}$, rounding).",
    )
    return fig


register_plots({"flat-minima.reparam": reparam_plot})
