"""Figures of the ``deeplinear.*`` training claims.

- :func:`saxe_plot`: the mode strengths of one real two-layer network trained by gradient descent
  (points, a subsample of the steps) against Saxe's sigmoid (lines), for several strengths s learned
  at once: the stage-like learning curve, stronger modes first. The lower panel shows each mode's
  error against the ODE with the derived discretisation bound as a band.
- :func:`no_bad_minima_plot`: the final loss of every gradient-descent run of one verdict-sized batch,
  as excess over the closed-form minimum on a log axis, against the gap to the nearest other critical
  value: runs at the global minimum sit orders of magnitude below it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from numerics import backend as make_backend
from numerics.deep_linear_training import critical_gap, gd_error_bound, no_bad_minima_runs, saxe_network, saxe_steps
from numerics.estimate import clopper_pearson_upper

from ..catalog.deep_linear_training import no_bad_minima_constraint, saxe_constraint
from ..reference import reference_value
from . import PlotContext, draw_points, register_plots
from .style import new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["SAXE_STRENGTHS", "no_bad_minima_plot", "saxe_plot"]

SAXE_STRENGTHS = (3.0, 2.0, 1.0, 0.5)
_COLOURS = ("C3", "C1", "C2", "C0")


def saxe_plot(ctx: PlotContext) -> Figure:
    """Learned mode strengths u(t)/s over time for several s, one network, against the closed form."""


    u0, lr = ctx.params["u0"], ctx.params["lr"]
    weakest = min(SAXE_STRENGTHS)  # until the weakest mode is 99% learned, and a little longer
    horizon = max(ctx.params["t"], 1.15 * np.log(99 * max(weakest / u0 - 1, 1.0)) / (2 * weakest))
    lr = min(lr, 0.25 / (2 * max(SAXE_STRENGTHS)))
    steps = saxe_steps(horizon, lr)
    b = make_backend(ctx.backend, ctx.seed)
    traj = saxe_network(b.xp, b.rng, SAXE_STRENGTHS, u0, steps)
    traj = np.asarray(traj.get() if hasattr(traj, "get") else traj)
    times = np.concatenate([[0.0], np.cumsum(steps)])
    fig, (top, bottom) = new_figure(2, height=3.4, ratios=(2.3, 1))
    dense = np.linspace(0.0, horizon, 400)
    every = max(1, len(times) // 40)
    pick = np.arange(0, len(times), every)
    worst = 0.0
    for k, (s, colour) in enumerate(zip(SAXE_STRENGTHS, _COLOURS, strict=True)):
        curve = np.array([float(reference_value(ctx.claim.closed_form, {"s": s, "u0": u0, "t": float(x), "lr": lr})[0])
                          for x in dense])
        top.plot(dense, curve / s, color=colour, lw=1.0, zorder=2, label=rf"$s={s:g}$")
        top.plot(times[pick], traj[pick, k] / s, "o", color=colour, ms=2.2, mfc="none", mew=0.6, zorder=3)
        exact = np.array([float(reference_value(ctx.claim.closed_form, {"s": s, "u0": u0, "t": float(x), "lr": lr})[0])
                          for x in times[pick]])
        err = (traj[pick, k] - exact) / s
        bounds = np.array([gd_error_bound(traj[: j + 1, k], steps[:j], s, times[j], len(SAXE_STRENGTHS),
                                          traj[: j + 1].max(axis=1)) for j in pick]) / s
        bottom.fill_between(times[pick], -bounds, bounds, color=colour, alpha=0.15, lw=0)
        bottom.plot(times[pick], err, "-", color=colour, lw=0.8)
        worst = max(worst, float(np.max(bounds)))
    s, claim_lr = ctx.params["s"], ctx.params["lr"]
    ts = [float(x) for x in np.linspace(horizon / 8, horizon * 7 / 8, 6) if saxe_constraint({**ctx.params, "t": x}) is None]
    if ts:  # the verifier's own runs at the claim's s (a fresh network per point), tolerance as the bar
        pts = ctx.measure("t", ts)
        draw_points(top, pts, pts.estimate / s, ctx.error_label, fmt="s", color="k", ms=2.5, zorder=4)
        bottom.errorbar(pts.x, pts.residual / s, yerr=pts.error / s, fmt="s", color="k", ms=2.5, elinewidth=0.8,
                        zorder=4)
        worst = max(worst, float(np.max((np.abs(pts.residual) + pts.error) / s)))
    top.set_ylabel(r"$u(t)/s$")
    top.set_ylim(-0.03, 1.08)
    top.legend(loc="lower right", title=rf"GD, $\eta={lr:g}$ (points); ODE (lines)", title_fontsize=6.5)
    bottom.axhline(0.0, color="0.3", lw=0.6)
    bottom.set_ylim(-1.3 * worst, 1.3 * worst)
    bottom.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))
    bottom.set_ylabel(r"$(u_{\mathrm{GD}} - u)/s$")
    bottom.set_xlabel(r"time $t = \mathrm{steps}\times\eta$")
    fig.set_label(
        f"Saxe dynamics: the modes of one two-layer linear network ($s = {', '.join(f'{s:g}' for s in SAXE_STRENGTHS)}$, "
        f"$u_0 = {u0:g}$) learned by gradient descent with learning rate $\\eta = {lr:g}$ (points) against the sigmoid "
        "$u(t) = s e^{2st}/(e^{2st} - 1 + s/u_0)$ (lines): stronger modes are learned first, each in a sharp stage. "
        f"Black squares: the verifier's runs at $s = {s:g}$ with learning rate $\\eta = {claim_lr:g}$, with their "
        "tolerance. "
        "Below: gradient descent's error against the ODE, inside the derived discretisation bound (bands)."
    )
    return fig


def no_bad_minima_plot(ctx: PlotContext) -> Figure:
    """Excess final loss of each run over the closed-form minimum, against the gap to the next critical value."""


    p = ctx.params
    best = float(reference_value(ctx.claim.closed_form, ctx.claim.symbolic(p))[0])
    gap = critical_gap(p["width"], p["n_in"], p["n_out"])
    b = make_backend(ctx.backend, ctx.seed)
    runs = 512
    loss, _, _ = no_bad_minima_runs(b.xp, b.rng, runs, **p)
    loss = np.asarray(loss.get() if hasattr(loss, "get") else loss)
    excess = loss - best
    stuck = int(np.sum(excess > gap / 2))
    floor = 1e-16 * best
    shown = np.maximum(excess, floor)
    fig, (ax, stair) = new_figure(2, height=4.2, ratios=(1.4, 1), sharex=False)
    lo = np.log10(max(floor, shown.min())) - 0.5
    hi = np.log10(max(gap, shown.max())) + 0.5
    bins = np.logspace(lo, hi, 50)
    ax.hist(shown, bins=bins, color="C0", alpha=0.8, label=f"{runs} GD runs")
    ax.axvline(gap, color="C3", lw=1.0, label="next critical value")
    ax.axvline(gap / 2, color="C3", lw=0.8, ls="--", label="classification threshold")
    ax.set_xscale("log")
    ax.set_xlabel(r"final loss $-$ closed-form minimum $L^*$")
    ax.set_ylabel(rf"runs (of ${runs}$)")
    ax.legend(loc="upper center")
    upper = clopper_pearson_upper(stuck, runs, 0.999)
    ax.set_title(
        rf"$L={p['depth']}$, $w={p['width']}$, $n_{{\rm in}}={p['n_in']}$, $n_{{\rm out}}={p['n_out']}$, "
        rf"$N={p['samples']}$; stuck: {stuck}/{runs}"
    )
    top_width = max(p["n_in"], p["n_out"]) + 1
    widths = [w for w in range(1, top_width + 1) if no_bad_minima_constraint({**p, "width": w}) is None]
    dense = np.arange(1, top_width + 1)
    stair.step(dense, ctx.closed_form("width", dense), where="mid", color="C0", lw=1.0, label="closed form $L^*(w)$")
    pts = ctx.measure("width", widths)
    draw_points(stair, pts, pts.estimate, ctx.error_label)
    stair.set_xlabel(r"hidden width $w$")
    stair.set_ylabel(r"mean final loss")
    stair.set_xticks(dense)
    stair.legend(loc="upper right")
    fig.set_label(
        f"No bad minima: top, excess of the final loss over the closed-form global minimum $L^* = {best:.6g}$ for {runs} "
        f"independent gradient-descent runs (random data and orthogonal starts), against the gap ${gap:.4g}$ to the "
        f"nearest other critical value (solid) and half of it (dashed). {stuck} of {runs} runs ended nearer another "
        f"critical value (99.9% Clopper-Pearson upper bound on that fraction: ${upper:.3g}$). Bottom: the verifier's mean "
        r"final loss against the hidden width $w$ (points, $\pm 1$ standard error) and the closed form, which stops "
        r"falling once $w$ reaches $\min(n_{\mathrm{in}}, n_{\mathrm{out}})$."
    )
    return fig


register_plots({
    "deeplinear.saxe-dynamics": saxe_plot,
    "deeplinear.no-bad-minima": no_bad_minima_plot,
})
