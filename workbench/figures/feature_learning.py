r"""Figure of ``mup.feature-learning``.

Top: the root-mean-square move of the hidden pre-activations after one SGD step against the width, log-log, in
:math:`\mu`\ P and in the NTK parameterisation (the mean over independent networks, one standard error), with fitted
slopes and the reference slopes :math:`0` and :math:`-1/2`; beside them, lazy training's curve: the relative weight
change of ``ntk.lazy-training``'s network after its gradient-descent steps (:func:`numerics.lazy_training.scaling`),
whose slope is :math:`-1/2` as well. Bottom: the verifier's local exponents :math:`E\log_2(y(2N)/y(N))` for the
claim's parameterisation against :math:`1/N` and their extrapolation (:func:`asymptotic_panel`).

The top panel uses seed ``seed + 1``; the bottom one ``seed``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from numerics import backend
from numerics import lazy_training as lazy
from numerics.feature_learning import PARAMETERIZATIONS, scaling

from . import PlotContext, asymptotic_panel, register_plots
from .style import new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["LAZY_NETWORKS", "SCALING_NETWORKS", "SCALING_WIDTHS", "feature_plot"]

SCALING_WIDTHS = (64, 128, 256, 512, 1024, 2048)
SCALING_NETWORKS = 32
LAZY_NETWORKS = 16  # lazy training's networks take 16 steps each
_LABELS = {"mup": r"$\mu$P, $\Delta h$", "ntk": r"NTK, $\Delta h$"}
_COLOURS = {"mup": "C0", "ntk": "C1", "lazy": "C2"}
_REFERENCE = {"mup": 0.0, "ntk": -0.5}
_NAMES = {"mup": r"$\mu$P", "ntk": "NTK"}


def _curve(ax, r: dict, colour: str, label: str, reference: float) -> None:
    ws, mean = np.asarray(r["widths"], dtype=float), np.asarray(r["mean"])
    ax.errorbar(ws, mean, yerr=r["stderr"], fmt="o", color=colour, ms=3, elinewidth=0.8,
                label=rf"{label}: slope ${r['slope']:.3f}\pm{r['slope_stderr']:.3f}$")
    ax.plot(ws, np.exp(r["intercept"]) * ws ** r["slope"], color=colour, lw=0.8, ls="--")
    ax.plot(ws, mean[0] * (ws / ws[0]) ** reference, color=colour, lw=0.6, ls=":")


def feature_plot(ctx: PlotContext) -> Figure:
    """Both parameterisations' pre-activation moves and lazy training's weight motion against width, log-log,
    with fitted slopes; the verifier's local exponents below."""

    which = ctx.params["parameterization"]
    fig, (top, bottom) = new_figure(2, height=5.0, ratios=(1.4, 1), sharex=False)
    b = backend(ctx.backend, ctx.seed + 1)
    fits = {p: scaling(b.xp, b.rng, SCALING_WIDTHS, SCALING_NETWORKS, parameterization=p) for p in PARAMETERIZATIONS}
    fits["lazy"] = lazy.scaling(b.xp, b.rng, SCALING_WIDTHS, LAZY_NETWORKS, quantity="weights")
    for p in PARAMETERIZATIONS:
        _curve(top, fits[p], _COLOURS[p], _LABELS[p], _REFERENCE[p])
    _curve(top, fits["lazy"], _COLOURS["lazy"], rf"lazy, $\|\theta_{{{lazy.STEPS}}}-\theta_0\|/\|\theta_0\|$", -0.5)
    top.set_xscale("log")
    top.set_yscale("log")
    top.set_xticks(SCALING_WIDTHS, labels=[str(w) for w in SCALING_WIDTHS])
    top.minorticks_off()
    top.set_xlabel(r"width $N$")
    top.set_ylabel(r"move $y(N)$ after training (log scale)")
    top.legend(loc="lower left", fontsize="x-small")
    v = asymptotic_panel(bottom, ctx)
    bottom.set_ylabel(rf"$E\log_2(y(2N)/y(N))$, {_NAMES[which]}")
    bottom.legend(loc="best", fontsize="x-small")
    fig.align_ylabels([top, bottom])
    slopes = "; ".join(rf"{name} ${fits[k]['slope']:.3f} \pm {fits[k]['slope_stderr']:.3f}$"
                       for k, name in (("mup", r"$\mu$P"), ("ntk", "NTK"), ("lazy", "lazy training")))
    fig.set_label(
        f"Top: the root-mean-square move $y(N)$ of the hidden pre-activations of a one-hidden-layer ReLU network "
        r"(doubling initialisation) after one SGD step, in $\mu$P and in the NTK parameterisation, and the relative "
        f"weight change of ntk.lazy-training's network after {lazy.STEPS} gradient-descent steps, each the mean over "
        f"independent networks per width ({SCALING_NETWORKS}, {SCALING_NETWORKS} and {LAZY_NETWORKS}; points, one "
        f"standard error) against the width, log-log, with fitted slopes ({slopes}; dashed) and the slopes $0$ "
        r"($\mu$P) and $-1/2$ (NTK, lazy training; dotted), from which the means depart by $O(1/N)$ (for $\mu$P "
        r"and NTK, the approach the bottom panel extrapolates). Bottom: the verifier's mean local exponents "
        rf"$\log_2(y(2N)/y(N))$ in {_NAMES[which]} for $N = {', '.join(str(pt['x']) for pt in v.sweep)}$ against $1/N$, the "
        "fitted expansion (dashed), its limit (diamond) and the closed form (line)."
    )
    return fig


register_plots({
    "mup.feature-learning": feature_plot,
})
