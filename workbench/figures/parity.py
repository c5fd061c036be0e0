"""The figure of ``parity.gradient``: the variance over the parity targets of the loss gradient,
against d on a log scale, beside the bound G^2/2^d.

The verifier's points are real :func:`~workbench.verify` runs (the ``i``-th at seed ``seed + i``); the
random networks behind each run are drawn again from the kernel with that run's seed, so the figure
shows the very networks the verifier enumerated.

>>> import workbench as wb
>>> fig = wb.claim("parity.gradient").figure(d=4)
>>> fig.axes[0].get_yscale()
'log'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from numerics import backend as make_backend
from numerics import parity as kernels
from numerics.namespaces import to_host

from ..catalog.parity import size_constraint
from . import PlotContext, draw_points, register_plots
from .style import new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["DEEPEST", "gradient_plot"]

DEEPEST = 12  # the figure sweeps d = 1, ..., max(DEEPEST, d) (as far as the size limit allows)
_KIND = {"tanh": ("C2", "v", r"random tanh nets"), "relu": ("C4", "^", r"random ReLU nets")}


def _networks(ctx: PlotContext, seed: int, d: int) -> dict[str, Any]:
    """The networks of the verifier run at ``seed`` (the attaining one first), on the host."""
    b = make_backend(ctx.backend, seed)
    out = kernels.gradient_variance(b.xp, b.rng, d=d, width=int(ctx.params["width"]))
    kinds = out.pop("kinds")
    host = {key: to_host(value) for key, value in out.items()}
    host["kinds"] = np.array(kinds)
    return host


def gradient_plot(ctx: PlotContext) -> Figure:
    """Top (log): R = Var_S / E||grad p||^2 against d, the bound 2^-d (line), the verifier's estimate (the
    attaining network, on the line), the random networks just below it, and two wrong bounds. Bottom (log):
    how far each random network stays below the bound, 1 - 2^d R, against the exact defect t/2^d."""
    width = int(ctx.params["width"])
    deepest = max(DEEPEST, int(ctx.params["d"]))
    ds = [d for d in range(1, deepest + 1) if size_constraint({"d": d, "width": width}) is None]
    pts = ctx.measure("d", ds)
    fig, (top, bottom) = new_figure(2, height=4.8, ratios=(1.35, 1))
    dense = np.array(ds, dtype=float)
    top.plot(dense, 2.0**-dense, color="C0", lw=1.1, zorder=2, label=r"bound $G^2/2^d$ (Theorem 1; attained)")
    top.plot(dense, np.ones_like(dense), color="0.45", lw=0.9, ls=":", zorder=1, label=r"wrong: $G^2$ (no $2^d$)")
    top.plot(dense, 2.0 ** -(dense / 2), color="0.45", lw=0.9, ls="-.", zorder=1, label=r"wrong: $G^2/2^{d/2}$")
    top.plot(dense, 2.0 ** -(dense + 1), color="C3", lw=0.9, ls="--", zorder=1, label=r"wrong: $G^2/2^{d+1}$")
    draw_points(top, pts, pts.estimate, f"attaining net, {ctx.error_label}", color="C0", zorder=5, ms=3.2)
    lowest = np.inf
    for i, d in enumerate(ds):
        out = _networks(ctx, ctx.seed + i, d)
        keep = out["valid"].astype(bool)
        for kind, (colour, marker, label) in _KIND.items():
            mine = keep & (out["kinds"] == kind)
            shift = 0.13 if kind == "relu" else -0.13
            ratio = out["ratio"][mine]
            top.plot(np.full(ratio.size, d + shift), ratio, marker, color=colour, ms=2.6, ls="none", zorder=3,
                     label=label if i == 0 else None)
            gap = 1.0 - ratio * 2.0**d
            defect = out["defect"][mine]
            shown = gap > 0
            bottom.plot(np.full(int(shown.sum()), d + shift), gap[shown], marker, color=colour, ms=2.6, ls="none",
                        zorder=3, label=label if i == 0 else None)
            bottom.plot(np.full(defect.size, d + shift), defect, "o", color="k", mfc="none", ms=4.2, mew=0.6, zorder=2,
                        label=r"exact: $\|\nabla_w p_w(\mathbf{1})\|^2/(2^d\,\mathbb{E}_x\|\nabla_w p_w\|^2)$"
                        if i == 0 and kind == "tanh" else None)
            if shown.any():
                lowest = min(lowest, float(gap[shown].min()))
    bottom.plot(dense, 2.0**-dense, color="0.45", lw=0.8, ls=":", zorder=1, label=r"$2^{-d}$")
    top.set_yscale("log")
    top.set_ylim(0.5 * 2.0 ** -(deepest + 1), 3.0)
    top.set_ylabel(r"$\mathrm{Var}_S[\nabla F_S]\,/\,\mathbb{E}_x\|\nabla_w p_w\|^2$")
    handles, labels = top.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", fontsize=5.8, handlelength=1.8, ncols=2, columnspacing=0.9)
    bottom.set_yscale("log")
    if np.isfinite(lowest):
        bottom.set_ylim(lowest / 4, 2.0)
    bottom.set_ylabel(r"$1 - 2^d\,\mathrm{Var}_S/\mathbb{E}_x\|\nabla_w p_w\|^2$")
    bottom.set_xlabel(rf"input dimension $d$  (width $m = {width}$)")
    bottom.legend(loc="lower left", fontsize=5.6, handlelength=1.5)
    from matplotlib.ticker import MaxNLocator

    bottom.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.align_ylabels([top, bottom])
    fig.set_label(
        f"Variance over the $2^d$ parity targets $\\chi_S$ of the loss gradient $\\nabla F_S(w)$, in units of "
        f"$G^2 = \\mathbb{{E}}_x\\|\\nabla_w p_w\\|^2$, for one-hidden-layer networks of width $m = {width}$, every input "
        f"and every parity enumerated, against the input dimension $d$: top, the bound $2^{{-d}}$ (Theorem 1 of "
        f"Shalev-Shwartz et al., line), the verifier's estimate (the ReLU network constructed to attain it, every "
        f"unit off at "
        f"$x = \\mathbf{{1}}$; error bars its rounding bound, invisible), the {kernels.NETWORKS} random tanh and ReLU "
        f"networks of each run just below the line, and three wrong bounds ($G^2$, $G^2/2^{{d/2}}$ and $G^2/2^{{d+1}}$, "
        f"the last passed by every network); bottom, how far each random network stays below the bound, "
        f"$1 - 2^d R$ (filled), against the exact defect $\\|\\nabla_w p_w(\\mathbf{{1}})\\|^2/(2^d\\,\\mathbb{{E}}_x"
        f"\\|\\nabla_w p_w\\|^2)$ (open circles): the bound is tight to within $2^{{-d}}$, and the gradient carries "
        f"exponentially little information about which parity is the target."
    )
    return fig


register_plots({"parity.gradient": gradient_plot})
