"""Figures of the ``xent.*`` claims: closed forms as curves, verifier runs as points.

One function per claim, each ``plot(ctx) -> Figure`` (see :mod:`workbench.figures`).
Matplotlib is imported only when a figure is drawn (through :func:`~.style.new_figure`),
so importing this module, and with it :mod:`workbench`, stays fast.

>>> import workbench as wb
>>> fig = wb.claim("xent.asymptotes").figure()
>>> [ax.get_yscale() for ax in fig.axes]
['log', 'log']
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from numerics import cross_entropy as kernels

from . import PlotContext, draw_points, register_plots, residual_panel
from .style import new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["margin_plot", "derivatives_plot", "asymptotes_plot", "score_identity_plot"]

_EPS = float(np.finfo(np.float64).eps)
_TINY = float(np.finfo(np.float64).tiny)  # smallest normal float64
_EXP_OVERFLOW = math.log(float(np.finfo(np.float64).max))  # exp(m) = inf beyond m = 709.78
_NAIVE_ZERO = math.log(_EPS / 2)  # 1 + e^m rounds to 1 below m = -36.7


def _closed_form_precise(ctx: PlotContext, vary: str, xs: Sequence[float] | np.ndarray, dps: int = 50, **overrides: Any) -> np.ndarray:
    """The closed form in mpmath at ``dps`` digits, rounded to float64 once at the end.

    :meth:`PlotContext.closed_form` evaluates in float64, which rounds ``log(1 + e^{-60})``
    to 0: the very trap these claims are about.
    """
    import mpmath
    import sympy as sp

    values = {**ctx.params, **overrides}
    fixed = {p.symbol: values[p.name] for p in ctx.claim.parameters if p.name != vary}
    f = sp.lambdify(ctx.claim.parameter(vary).symbol, ctx.claim.closed_form.subs(fixed), modules="mpmath")
    with mpmath.workdps(dps):
        return np.array([float(f(mpmath.mpf(float(x)))) for x in xs])


def _sci(x: float) -> str:
    """``1e-20`` as LaTeX, ``10^{-20}``."""
    return f"10^{{{round(math.log10(x))}}}" if x == 10.0 ** round(math.log10(x)) else f"{x:g}"


def _finish(fig: Figure, caption: str) -> Figure:
    fig.set_label(caption)
    return fig


# --- xent.margin ---------------------------------------------------------------------------

def margin_plot(ctx: PlotContext) -> Figure:
    """L(m) = ln(1 + (K-1) e^m) with its two asymptotes; the kernel's values; residuals."""
    K = ctx.params["K"]
    shift = math.log(K - 1)
    # m in [-8, 8], moved in steps of 4 to keep the knee m = -ln(K - 1) in view for many classes
    centre = -4.0 * round(shift / 4)
    dense = np.linspace(centre - 8.0, centre + 8.0, 321)
    grid = np.linspace(centre - 8.0, centre + 8.0, 17)
    curve = ctx.closed_form("m", dense)
    pts = ctx.measure("m", grid)

    fig, (top, bottom) = new_figure(2, height=3.1, ratios=(2.4, 1))
    top.plot(dense, curve, color="C0", label=r"$L(m)$", zorder=2)
    top.plot(dense, dense + shift, "--", color="0.45", lw=0.9, label=r"$m+\ln(K-1)$", zorder=1)
    top.plot(dense, (K - 1) * np.exp(dense), ":", color="C2", lw=1.2, label=r"$(K-1)\,e^{m}$", zorder=1)
    draw_points(top, pts, pts.estimate, ctx.error_label, zorder=3)
    top.set_ylim(0.0, math.ceil(float(curve.max()) + 0.5))
    top.set_xlim(centre - 8.4, centre + 8.4)
    top.set_ylabel(r"$L(m)$")
    top.legend(loc="upper left", title=f"$K = {K}$", alignment="left", handlelength=1.8)

    residual_panel(bottom, pts, ctx.claim.scale)
    bottom.set_ylabel(r"$\hat L / L - 1$")
    bottom.set_xlabel(r"$m$")
    return _finish(
        fig,
        rf"Softmax cross-entropy $L(m) = \ln(1 + (K-1)\,e^m)$ for $K = {K}$ (line), its asymptotes "
        rf"$m + \ln(K-1)$ as $m \to +\infty$ (dashed) and $(K-1)\,e^m$ as $m \to -\infty$ (dotted), and the stable "
        rf"kernel's values at {len(grid)} margins from ${grid[0]:g}$ to ${grid[-1]:g}$ (points; error bars: derived "
        f"tolerance); bottom: relative error of the kernel.",
    )


# --- xent.derivatives ------------------------------------------------------------------------

def derivatives_plot(ctx: PlotContext) -> Figure:
    """sigma(m) and sigma(m)(1 - sigma(m)) with finite-difference estimates; both residuals."""
    dense = np.linspace(-8.0, 8.0, 321)
    grid = np.linspace(-8.0, 8.0, 17)
    first, second = ctx.closed_form("m", dense, n=1), ctx.closed_form("m", dense, n=2)
    p1, p2 = ctx.measure("m", grid, n=1), ctx.measure("m", grid, n=2)

    fig, (top, mid, bottom) = new_figure(3, height=3.9, ratios=(2.3, 1, 1))
    top.plot(dense, first, color="C0", label=r"$\sigma(m)$")
    top.plot(dense, second, color="C2", label=r"$\sigma(m)\,(1-\sigma(m))$")
    draw_points(top, p1, p1.estimate, "", color="C1", fmt="o", zorder=3)
    draw_points(top, p2, p2.estimate, "", color="C3", fmt="s", ms=2.6, zorder=3)
    # draw_points labels "estimate (...)"; name the two series after the derivative instead
    handles, labels = top.get_legend_handles_labels()
    labels = [r"$L'=\sigma(m)$", r"$L''=\sigma(1-\sigma)$", r"$L'$ (finite differences)", r"$L''$ (finite differences)"] + labels[4:]
    top.legend(handles, labels, loc="upper left", handlelength=1.8)
    top.set_ylim(-0.04, 1.04)
    top.set_xlim(-8.4, 8.4)
    top.set_ylabel(r"$L^{(n)}(m)$")

    for ax, pts, colour, marker, name in ((mid, p1, "C1", "o", "L'"), (bottom, p2, "C3", "s", "L''")):
        ax.axhline(0.0, color="0.3", lw=0.8)
        ax.errorbar(pts.x, pts.residual, yerr=pts.error, fmt=marker, color=colour, ms=2.6, elinewidth=0.8)
        if pts.failed.any():
            ax.plot(pts.x[pts.failed], pts.residual[pts.failed], "x", color="red", ms=6)
        ax.set_ylabel(rf"$\Delta {name}$")
        ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))
    bottom.set_xlabel(r"$m$")
    fig.align_ylabels([top, mid, bottom])
    return _finish(
        fig,
        r"Derivatives of the margin loss, $L'(m) = \sigma(m)$ and $L''(m) = \sigma(m)\,(1 - \sigma(m))$ (lines), "
        f"against central finite differences of the cross-entropy kernel at {len(grid)} margins (points); "
        f"lower panels: estimate minus closed form for $L'$ and $L''$, error bars the derived bound on the "
        f"truncation and rounding error of the finite difference.",
    )


# --- xent.asymptotes --------------------------------------------------------------------------

def _relative_errors(ms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Relative errors of the stable and the naive float64 kernel against a 50-digit reference
    of ln(1 + e^m); ``inf`` where the kernel returned ``inf``."""
    import mpmath

    with np.errstate(all="ignore"):
        stable = kernels.softplus(np, ms)
        naive = kernels.naive_softplus(np, ms)
    errors = np.empty((2, ms.size))
    with mpmath.workdps(50):
        for i, m in enumerate(ms):
            exact = mpmath.log1p(mpmath.exp(mpmath.mpf(float(m))))
            for row, value in enumerate((stable[i], naive[i])):
                errors[row, i] = math.inf if not math.isfinite(value) else float(abs(mpmath.mpf(float(value)) - exact) / exact)
    return errors[0], errors[1]


def asymptotes_plot(ctx: PlotContext) -> Figure:
    """The gap ln(1 + e^{-|m|}) with the verifier's points; the stable kernel against the naive one."""
    dense = np.linspace(-60.0, 60.0, 481)
    grid = np.linspace(-60.0, 60.0, 13)
    gap = _closed_form_precise(ctx, "m", dense)
    pts = ctx.measure("m", grid)

    fig, (top, bottom) = new_figure(2, height=4.0, ratios=(1.15, 1), sharex=False)
    top.plot(dense, gap, color="C0", label=r"$\ln(1+e^{-|m|})$")
    top.axhline(math.log(2), color="0.45", ls=":", lw=0.9, label=r"$\ln 2$")
    draw_points(top, pts, pts.estimate, ctx.error_label, zorder=3)
    top.set_yscale("log")
    top.set_ylim(1e-28, 10.0)
    top.set_xlim(-63, 63)
    top.set_yticks([1e-24, 1e-16, 1e-8, 1.0])
    top.set_xlabel(r"$m$", labelpad=1)
    top.set_ylabel(r"$L(m)-\max(m,0)$")
    top.legend(loc="lower center", ncols=1, handlelength=1.8)

    # the trap: log(1 + exp(m)) as written, against max(m, 0) + log1p(e^{-|m|})
    ms = np.unique(np.concatenate([np.linspace(-800.0, 800.0, 1601), np.linspace(-45.0, 5.0, 201)]))
    stable, naive = _relative_errors(ms)
    floor, ceiling = 1e-20, 1e3
    bottom.axvspan(-820, math.log(_TINY), color="0.9", lw=0, zorder=0)
    bottom.text(-782, 1e-9, "subnormal", rotation=90, ha="center", va="center", fontsize=6, color="0.35")
    bottom.axhline(_EPS, color="0.3", ls=":", lw=0.9, zorder=1)
    bottom.text(805, _EPS * 2.5, r"$\epsilon_{\mathrm{mach}}$", ha="right", va="bottom", fontsize=7, color="0.3")

    over = ~np.isfinite(naive)
    bottom.plot(ms, np.maximum(stable, floor), ".", color="C0", ms=1.6, label=r"$\max(m,0)+\mathrm{log1p}(e^{-|m|})$", zorder=2)
    bottom.plot(ms[~over], np.maximum(naive[~over], floor), ".", color="C3", ms=1.2, label=r"$\log(1+\exp(m))$", zorder=3)
    bottom.plot(ms[over], np.full(over.sum(), ceiling), ".", color="C3", ms=1.2, zorder=3)
    bottom.text(-390, 1e1, "returns 0", ha="center", va="bottom", fontsize=6.5, color="C3")
    bottom.annotate(r"overflow: $\infty$", xy=(700, ceiling), xytext=(560, ceiling), ha="right", va="center",
                    fontsize=6.5, color="C3", arrowprops={"arrowstyle": "->", "color": "C3", "lw": 0.7})
    bottom.set_yscale("log")
    bottom.set_ylim(floor / 5, ceiling * 50)
    bottom.set_yticks([floor, 1e-16, 1e-8, 1.0], [r"$\leq 10^{-20}$", r"$10^{-16}$", r"$10^{-8}$", r"$10^{0}$"])
    bottom.set_xlim(-820, 820)
    bottom.set_xlabel(r"$m$")
    bottom.set_ylabel(r"$|\hat L - L|\,/\,L$")
    bottom.legend(loc="center right", bbox_to_anchor=(1.0, 0.47), markerscale=3, handlelength=1.0, handletextpad=0.3)
    fig.align_ylabels([top, bottom])
    return _finish(
        fig,
        r"The gap $L(m) - \max(m, 0) = \ln(1 + e^{-|m|})$ to the hinge (top; line: 50-digit evaluation, dotted: "
        rf"the bound $\ln 2$, points: the stable kernel at {len(grid)} margins, error bars: derived tolerance), and "
        r"the relative error in float64 of the naive $\log(1 + \exp(m))$ and the stable "
        r"$\max(m, 0) + \operatorname{log1p}(e^{-|m|})$ "
        f"against a 50-digit reference at {ms.size} margins (bottom), where the naive form returns $0$ below "
        rf"$m = {_NAIVE_ZERO:.1f}$ and overflows to $\infty$ above $m = {_EXP_OVERFLOW:.2f}$ (drawn at "
        rf"${_sci(ceiling)}$), errors below ${_sci(floor)}$ are drawn at ${_sci(floor)}$, and the grey band marks "
        f"$L(m)$ below the smallest normal float64.",
    )


# --- xent.score-identity ------------------------------------------------------------------------

SCALES = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)


def score_identity_plot(ctx: PlotContext) -> Figure:
    """Monte Carlo E[softmax(z) - e_y] on the top class against the logit scale, with the zero line."""
    K = ctx.params["K"]
    pts = ctx.measure("s", SCALES, resolution=0.02)

    fig, (ax,) = new_figure(1, height=2.1)
    ax.axhline(0.0, color="C0", label="closed form: 0", zorder=1)
    draw_points(ax, pts, pts.estimate, ctx.error_label, zorder=3)
    ax.set_xscale("log", base=2)
    ax.set_xticks(SCALES, ["1/4", "1/2", "1", "2", "4", "8", "16"])
    ax.set_xlim(SCALES[0] / 1.4, SCALES[-1] * 1.4)
    reach = float(np.max(np.abs(pts.estimate) + pts.error))
    ax.set_ylim(-2.2 * reach, 2.2 * reach)
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))
    ax.set_xlabel(r"logit scale $s$")
    ax.set_ylabel(r"$\mathbb{E}\,[\,p_{k^*} - \delta_{y k^*}]$")
    ax.legend(loc="upper left", ncols=2, title=f"$K = {K}$, $z\\sim\\mathcal{{N}}(0,s^2 I)$, $y\\sim\\mathrm{{softmax}}(z)$",
              alignment="left")
    n = int(min(v.replicates for v in pts.verdicts)), int(max(v.replicates for v in pts.verdicts))
    return _finish(
        fig,
        f"Monte Carlo estimate of the expected cross-entropy gradient on the most probable class, "
        r"$\mathbb{E}\,[p_k - \delta_{yk}]$ with $p = \operatorname{softmax}(z)$ and $k = \operatorname{argmax} z$, "
        rf"for $K = {K}$ classes, logits $z \sim \mathcal{{N}}(0, s^2 I)$ and labels $y \sim \operatorname{{softmax}}(z)$, "
        f"at {len(SCALES)} logit scales $s$ ({n[0]} to {n[1]} replicates each; points, error bars one standard error), "
        f"against the closed form $0$ (line).",
    )


register_plots({
    "xent.margin": margin_plot,
    "xent.derivatives": derivatives_plot,
    "xent.asymptotes": asymptotes_plot,
    "xent.score-identity": score_identity_plot,
})
