"""Figure of ``depth.product-gate``.

Top: the float64 gate's relative error :math:`|m/(uv) - 1|` against :math:`\\lambda`, log-log, for softplus, exp and
GELU at the claim's :math:`x, y` (points), the derived :math:`|c|\\lambda^2` (dashed), a slope-2 guide, and the
rounding bound of the claim's activation (dotted): below :math:`\\lambda \\approx 10^{-4}` the catastrophic
cancellation of the four neurons takes over and the measured error climbs as :math:`\\lambda^{-2}`. Middle: the
verifier's runs, the relative residual :math:`(\\hat c - c)/|c|` of the extrapolated coefficient against :math:`y`
for each activation, with the tolerance as error bars. Bottom: binary trees of gates multiplying :math:`n = 2, 4, 8`
inputs with :math:`4(n - 1)` neurons, their relative error against :math:`\\lambda` with the derived
:math:`\\lambda^2` coefficient (:func:`proofs.product_gate.tree_coefficient`).

>>> import workbench as wb
>>> fig = wb.claim("depth.product-gate").figure()
>>> fig.axes[0].get_xscale(), len(fig.axes)
('log', 3)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from numerics import backend as make_backend
from numerics import product_gate as kernels
from proofs import product_gate as derivations

from . import PlotContext, register_plots
from .style import new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["FLOOR", "LAMBDAS", "TREE_INPUTS", "TREE_SIZES", "YS", "product_gate_plot"]

LAMBDAS = tuple(2.0**-k for k in range(1, 25))  # the top panel's lambda (powers of two: lambda x exact)
YS = (-2.0, -1.5, -1.0, -0.5, -0.25, 0.25, 0.5, 1.0, 1.5, 2.0)  # the verifier's runs along y
TREE_INPUTS = (1.2, 0.8, 1.1, 0.9, 1.3, 0.7, 1.05, 0.95)  # the first n are multiplied
TREE_SIZES = (2, 4, 8)
TREE_LAMBDAS = tuple(2.0**-k for k in range(2, 21))
FLOOR = 1e-16  # where an exact zero (the rounded neurons cancelling to exactly uv) is drawn, as an open marker
_COLOURS = {"softplus": "C0", "exp": "C1", "gelu": "C2"}
_MARKERS = {"softplus": "o", "exp": "s", "gelu": "^"}


def _gate_panel(ax, ctx: PlotContext) -> None:
    x, y, which = ctx.params["x"], ctx.params["y"], ctx.params["activation"]
    b = make_backend(ctx.backend, ctx.seed)
    lams = np.array(LAMBDAS)
    for a in kernels.ACTIVATIONS:
        pts = kernels.relative_errors(b.xp, x, y, LAMBDAS, a)
        r = np.abs(np.array(pts["r"]))
        shown = r > 0
        c = float(derivations.coefficient(a, x, y))
        ax.plot(lams[shown], r[shown], _MARKERS[a], color=_COLOURS[a], ms=2.5, label=rf"{a}: $|c| = {abs(c):.4g}$")
        ax.plot(lams[~shown], np.full(int((~shown).sum()), FLOOR), _MARKERS[a], color=_COLOURS[a], ms=2.5, mfc="none")
        ax.plot(lams, abs(c) * lams**2, color=_COLOURS[a], lw=0.8, ls="--")
        if a == which:
            ax.plot(lams, np.array(pts["r_bound"]), color=_COLOURS[a], lw=0.8, ls=":",
                    label=rf"rounding bound ({a})")
    guide = lams >= 2.0**-10
    ax.plot(lams[guide], 1e-2 * lams[guide] ** 2, color="0.3", lw=0.6, label=r"slope $2$ (dashed: $|c|\lambda^2$)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_ylim(FLOOR / 4, 10.0)
    ax.set_xlabel(r"$\lambda$ ($u = \lambda x$, $v = \lambda y$)")
    ax.set_ylabel(r"$|m(u, v)/(uv) - 1|$")
    ax.legend(loc="lower right", fontsize=6)


def _verifier_panel(ax, ctx: PlotContext) -> int:
    failed = 0
    for a in kernels.ACTIVATIONS:
        pts = ctx.measure("y", YS, activation=a)
        scale = np.abs(pts.expected)
        ax.errorbar(pts.x, pts.residual / scale, yerr=pts.error / scale, fmt=_MARKERS[a], color=_COLOURS[a],
                    ms=2.5, elinewidth=0.8, label=a)
        failed += int(pts.failed.sum())
    ax.axhline(0.0, color="0.3", lw=0.8)
    low, high = ax.get_ylim()
    ax.set_ylim(low, high + 0.45 * (high - low))  # room for the legend above the bars
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))
    ax.set_xlabel(rf"$y$ ($x = {ctx.params['x']:g}$)")
    ax.set_ylabel(r"$(\hat{c} - c)/|c|$, tolerance bars")
    ax.legend(loc="upper center", fontsize=6, ncol=3)
    return failed


def _tree_panel(ax, ctx: PlotContext) -> None:
    which = ctx.params["activation"]
    b = make_backend(ctx.backend, ctx.seed)
    lams = np.array(TREE_LAMBDAS)
    for k, n in enumerate(TREE_SIZES):
        inputs = TREE_INPUTS[:n]
        out, neurons = kernels.tree_product(b.xp, inputs, TREE_LAMBDAS, which)
        exact = float(np.prod(inputs))
        err = np.abs(np.asarray(out, dtype=float) / exact - 1.0)
        shown = err > 0
        coeff = float(derivations.tree_coefficient(inputs, which))
        colour = f"C{k + 3}"
        ax.plot(lams[shown], err[shown], "o", color=colour, ms=2.3,
                label=rf"$n = {n}$: ${neurons}$ neurons (one layer: $2^{{{n}}} = {2**n}$)")
        ax.plot(lams[~shown], np.full(int((~shown).sum()), FLOOR), "o", color=colour, ms=2.3, mfc="none")
        ax.plot(lams, abs(coeff) * lams**2, color=colour, lw=0.8, ls="--")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_ylim(FLOOR / 4, 1.0)
    ax.set_xlabel(r"$\lambda$ (every gate of the tree)")
    ax.set_ylabel(r"$|\hat{P}/\prod_i x_i - 1|$")
    ax.legend(loc="lower right", fontsize=6)


def product_gate_plot(ctx: PlotContext) -> Figure:
    """The gate's error against lambda, the verifier's residuals, and trees of gates."""
    fig, (top, middle, bottom) = new_figure(3, height=7.2, ratios=(1.3, 1, 1.2), sharex=False)
    _gate_panel(top, ctx)
    failed = _verifier_panel(middle, ctx)
    _tree_panel(bottom, ctx)
    fig.align_ylabels([top, middle, bottom])
    x, y, which = ctx.params["x"], ctx.params["y"], ctx.params["activation"]
    fig.set_label(
        rf"Top: the four-neuron product gate in float64 at $x = {x:g}$, $y = {y:g}$: its relative error against "
        r"$\lambda$ (points) for softplus, exp and GELU, the derived $|c|\lambda^2$ with $c = \sigma''''(0)(x^2 + "
        rf"y^2)/(6\sigma''(0))$ (dashed), a slope-$2$ guide and the rounding bound for {which} (dotted): at small "
        r"$\lambda$ the four neurons cancel catastrophically and rounding takes over, growing as $\lambda^{-2}$ (open markers at $10^{-16}$: the float64 network returned exactly $uv$, its "
        r"rounding errors cancelling). "
        r"Middle: the verifier's runs along $y$, the extrapolated coefficient's relative residual with the "
        rf"tolerance as error bars ({failed} failed). Bottom: balanced trees of gates ({which}) multiplying $n$ "
        r"inputs with $4(n - 1)$ neurons, their relative error against $\lambda$ and the derived "
        r"$\lambda^2$ coefficient (dashed)."
    )
    return fig


register_plots({
    "depth.product-gate": product_gate_plot,
})
