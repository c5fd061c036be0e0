"""Figures of the ``deeplinear.*`` critical-point claims."""

from __future__ import annotations

import numpy as np

from numerics import backend
from numerics.deep_linear import critical_points

from . import PlotContext, register_plots
from .style import new_figure

__all__ = ["scalar_plot", "baldi_hornik_plot"]

_DEPTH_COLOURS = {2: "C0", 3: "C1", 4: "C2", 5: "C3"}


def scalar_plot(ctx: PlotContext):
    """The N = 2 landscape with its critical set; the smallest Hessian eigenvalue at
    (0, 0, t, ..., t) against t for N = 2..5, closed form and exact-stencil points."""
    fig, (land, curve) = new_figure(2, height=5.2, ratios=(1.15, 1), sharex=False)
    grid = np.linspace(-2.0, 2.0, 241)
    w1, w2 = np.meshgrid(grid, grid)
    loss = (1 - w1 * w2) ** 2 / 2
    filled = land.contourf(w1, w2, np.log10(loss + 1e-3), levels=14, cmap="Greys_r")
    fig.colorbar(filled, ax=land, label=r"$\log_{10}(L + 10^{-3})$", shrink=0.9)
    branch = grid[np.abs(grid) >= 0.5]
    for sign in (1, -1):
        part = branch[sign * branch > 0]
        land.plot(part, 1 / part, color="C0", lw=1.6, label=r"global minima $w_1 w_2 = 1$" if sign > 0 else None)
    land.plot([0], [0], "o", color="C3", ms=5, label="saddle (origin)")
    land.set(xlim=(-2, 2), ylim=(-2, 2), xlabel=r"$w_1$", ylabel=r"$w_2$", aspect="equal")
    land.legend(loc="lower left", fontsize=6)
    ts = np.linspace(-2.0, 2.0, 9)
    dense = np.linspace(-2.0, 2.0, 201)
    for n in (2, 3, 4, 5):
        colour = _DEPTH_COLOURS[n]
        curve.plot(dense, ctx.closed_form("t", dense, N=n), color=colour, lw=1.0, label=f"$N = {n}$")
        pts = ctx.measure("t", ts, N=n)
        curve.errorbar(pts.x, pts.estimate, yerr=pts.error, fmt="o", color=colour, ms=3, elinewidth=0.8)
    curve.set(xlabel=r"$t$", ylabel=r"$\lambda_{\min}\,H(0, 0, t, \ldots, t)$", ylim=(-8.5, 0.5))
    curve.legend(ncol=2, loc="lower center", fontsize=6)
    fig.set_label(
        r"Top: the loss $L = (1 - w_1 w_2)^2/2$ of the scalar model with $N = 2$ (grey levels, logarithmic), its global "
        r"minima $w_1 w_2 = 1$ (line) and the saddle at the origin. Bottom: the smallest Hessian eigenvalue at "
        r"$w = (0, 0, t, \ldots, t)$ for $N = 2, \ldots, 5$: the closed form $-|t|^{N-2}$ (lines) and the exact "
        r"finite-difference Hessian (points; tolerances, from rounding only, are below $10^{-11}$)."
    )
    return fig


def baldi_hornik_plot(ctx: PlotContext):
    """Loss and Hessian index of every rank-k critical point of two-layer regression."""

    p = ctx.params
    b = backend(ctx.backend, ctx.seed)  # the verifier's own data for this seed
    points = sorted(critical_points(b.rng, d_x=p["d_x"], d_y=p["d_y"], k=p["k"], n=p["n"]), key=lambda q: q["loss"])
    fig, (ax, count) = new_figure(2, height=4.4, ratios=(1.3, 1), sharex=False)
    x = np.arange(len(points))
    closed = [q["closed_form_loss"] for q in points]
    ax.plot(x, closed, "_", color="C0", ms=14, mew=1.6, label=r"closed form $\frac{1}{2}(\mathrm{tr}\,\Sigma_{yy} - \sum_{I}\lambda_i)$")
    colours = ["C2" if q["negative"] == 0 else "C3" for q in points]
    ax.scatter(x, [q["loss"] for q in points], c=colours, s=14, zorder=3, label="numerical loss")
    for xi, q in zip(x, points, strict=True):
        ax.annotate(str(q["negative"]), (xi, q["loss"]), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=6)
    ranks = [sorted(p["d_y"] - i for i in q["subset"]) for q in points]  # 1 = largest eigenvalue
    ax.set_xticks(x, ["{" + ",".join(map(str, r)) + "}" for r in ranks],
                  rotation=60, fontsize=6)
    ax.set(xlabel=r"critical point: eigenvector subset $I$ (1 = largest $\lambda$)", ylabel=r"loss $L(I)$")
    ax.legend(fontsize=6, loc="upper left")
    ax.margins(y=0.15)
    ks = np.arange(1, p["d_y"] + 1)
    pts = ctx.measure("k", [int(v) for v in ks])
    count.plot(pts.x, pts.expected, "-", color="C0", label=r"$\binom{d_y}{k} - 1$")  # exact, from the verifier
    count.errorbar(pts.x, pts.estimate, yerr=pts.error, fmt="o", color="C1", ms=3, elinewidth=0.8,
                   label="saddles counted (tolerance 1/2)")
    count.set(xlabel=r"hidden width $k$", ylabel="saddles")
    count.set_xticks(ks)
    count.legend(fontsize=6)
    fig.set_label(
        f"Every rank-${p['k']}$ critical point of two-layer linear regression on random data ($d_x = {p['d_x']}$, "
        f"$d_y = {p['d_y']}$, $n = {p['n']}$, seed {ctx.seed}), one per subset $I$ of eigenvectors: its loss from the "
        "closed form (bars) and computed (points), and the number of negative Hessian eigenvalues (labels; green: none, "
        "the global minimum onto the top $k$ eigenvectors; red: saddles). Bottom: the number of saddles for each hidden "
        r"width $k$ against $\binom{d_y}{k} - 1$ (the verifier's counts, each on fresh data)."
    )
    return fig


register_plots({
    "deeplinear.scalar": scalar_plot,
    "deeplinear.baldi-hornik": baldi_hornik_plot,
})
