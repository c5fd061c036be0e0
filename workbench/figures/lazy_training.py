r"""Figure of ``ntk.lazy-training``.

Top: each quantity of a trained network (relative weight change, distance to the linearised network, relative
motion of the empirical NTK) against the width, log-log, as the mean over independent networks (one standard
error), with its fitted slope and the reference slope :math:`-1/2`. Bottom: the verifier's local exponents
:math:`E\log_2(y(2N)/y(N))` for the claim's quantity against :math:`1/N` and their extrapolation
(:func:`asymptotic_panel`).

The top panel uses seed ``seed + 1``; the bottom one ``seed``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from numerics import backend
from numerics.lazy_training import QUANTITIES, scaling

from . import PlotContext, asymptotic_panel, register_plots
from .style import new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["SCALING_NETWORKS", "SCALING_WIDTHS", "lazy_plot"]

SCALING_WIDTHS = (256, 512, 1024, 2048, 4096)
SCALING_NETWORKS = 32
_LABELS = {
    "weights": r"$\|\theta_T-\theta_0\|/\|\theta_0\|$",
    "function": r"$\|f_T-f^{\mathrm{lin}}_T\|/\|y\|$",
    "kernel": r"$\|\hat\Theta_T-\hat\Theta_0\|_F/\|\hat\Theta_0\|_F$",
}
_COLOURS = {"weights": "C0", "function": "C1", "kernel": "C2"}


def lazy_plot(ctx: PlotContext) -> Figure:
    """Each quantity against width, log-log, with fitted slopes; the verifier's local exponents below."""

    which = ctx.params["quantity"]
    fig, (top, bottom) = new_figure(2, height=4.8, ratios=(1.3, 1), sharex=False)
    b = backend(ctx.backend, ctx.seed + 1)
    fits = {}
    for q in QUANTITIES:
        r = scaling(b.xp, b.rng, SCALING_WIDTHS, SCALING_NETWORKS, quantity=q)
        fits[q] = r
        ws, mean = np.asarray(r["widths"], dtype=float), np.asarray(r["mean"])
        colour = _COLOURS[q]
        top.errorbar(ws, mean, yerr=r["stderr"], fmt="o", color=colour, ms=3, elinewidth=0.8,
                     label=rf"{_LABELS[q]}: slope ${r['slope']:.3f}\pm{r['slope_stderr']:.3f}$")
        top.plot(ws, np.exp(r["intercept"]) * ws ** r["slope"], color=colour, lw=0.8, ls="--")
        top.plot(ws, mean[0] * (ws / ws[0]) ** -0.5, color=colour, lw=0.6, ls=":")
    top.set_xscale("log")
    top.set_yscale("log")
    top.set_xticks(SCALING_WIDTHS, labels=[str(w) for w in SCALING_WIDTHS])
    top.minorticks_off()
    top.set_xlabel(r"width $N$")
    top.set_ylabel(r"$y(N)$ after training (log scale)")
    top.legend(loc="lower left", fontsize="x-small")
    v = asymptotic_panel(bottom, ctx)
    bottom.set_ylabel(rf"$E\log_2(y(2N)/y(N))$, {which}")
    bottom.legend(loc="best", fontsize="x-small")
    fig.align_ylabels([top, bottom])
    slopes = "; ".join(rf"{q} ${fits[q]['slope']:.3f} \pm {fits[q]['slope_stderr']:.3f}$" for q in QUANTITIES)
    fig.set_label(
        f"Top: a one-hidden-layer ReLU network (NTK parameterisation, doubling initialisation) trained by full-batch "
        f"gradient descent on a fixed regression task: the relative weight change, the distance to its linearisation "
        f"and the relative motion of its empirical NTK, each the mean over {SCALING_NETWORKS} networks per width "
        f"(points, one standard error) against the width, log-log, with fitted slopes ({slopes}; dashed) and slope "
        rf"$-1/2$ (dotted). Bottom: the verifier's mean local exponents $\log_2(y(2N)/y(N))$ of the {which} quantity "
        f"for $N = {', '.join(str(pt['x']) for pt in v.sweep)}$ against $1/N$, the fitted expansion (dashed), its "
        f"limit (diamond) and the closed form $-1/2$ (line)."
    )
    return fig


register_plots({
    "ntk.lazy-training": lazy_plot,
})
