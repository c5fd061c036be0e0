"""Figures of the ``ib.*`` claims.

- ``ib.gaussian``: top, the information curve I(T;Y) against I(T;X) (closed form), the curve a critical beta of
  1/rho would give (dashed) and the ceiling I(X;Y), with the verifier's curve estimates (one standard error);
  bottom, the signal-to-noise ratio of each component of the iteration's fixed point against beta in the vector
  model (d = 3), the closed form max(0, (beta rho_i^2 - 1)/(1 - rho_i^2)), and the verifier's critical betas.
- ``ib.binning``: the information plane of a network trained by gradient descent, for several bin widths, for a
  tanh and a ReLU layer; below, I(X; T_Delta) of the verifier's random layers against the number of bins, rising to
  log2 N, with the verifier's limit (tolerance bars).

Point ``i`` of a figure, counting across its series in drawing order, is the verifier run with seed ``seed + i``;
the panels that show more than a verdict call the kernels with the next seeds.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from numerics import backend as make_backend
from numerics import ib_binning, ib_gaussian
from numerics import information_bottleneck as kernels
from numerics.namespaces import to_host

from ..verification import verify
from . import PlotContext, draw_points, register_plots
from .style import new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["gaussian_plot", "binning_plot", "CURVE_POINTS", "FIGURE_RESOLUTION", "BIN_COUNTS", "VECTOR"]

CURVE_POINTS = (0.25, 0.5, 1.0, 2.0, 3.0)  # I(T;X) of the verifier's curve points
FIGURE_RESOLUTION = 0.05
VECTOR = 3  # the bottom panel's model: three canonical pairs
CRITICAL_INSTANCES = 8
BIN_COUNTS = (2, 4, 8, 30)  # bins per unit in the information plane
EPOCHS, EVERY = 400, 20


def ib_gaussian_critical(b, rho: float) -> dict[str, np.ndarray]:
    """The critical beta of each component of the d = 3 model, as the verifier measures it (mean over a few
    instances, largest error bound)."""
    out = kernels.critical_betas(b.xp, b.rng, CRITICAL_INSTANCES, rho=rho, dimension=VECTOR)
    return {"beta": to_host(out["beta"]).mean(axis=0), "bound": to_host(out["bound"]).max(axis=0)}


def gaussian_plot(ctx: PlotContext) -> Figure:
    """The information curve with verifier points; the components switching on at their critical betas."""
    rho, d = float(ctx.params["rho"]), int(ctx.params["dimension"])
    fig, (top, bottom) = new_figure(2, height=5.0, ratios=(1.15, 1), sharex=False)
    ix = np.linspace(1e-3, max(CURVE_POINTS) * 1.1, 300)
    top.plot(ix, ctx.closed_form("info_x", ix, quantity="curve"), color="C0", lw=1.2,
             label=rf"closed form, $d = {d}$")
    top.plot(ix, -0.5 * np.log(1 - rho * (1 - np.exp(-2 * ix))), color="C3", lw=0.9, ls="--",
             label=r"with $\beta_c = 1/\rho$: $-\frac{1}{2}\ln(1 - \rho(1 - e^{-2I_X}))$")
    ceiling = -0.5 * sum(math.log(1 - r * r) for r in ib_gaussian.correlations(rho, d))
    top.axhline(ceiling, color="0.5", lw=0.8, ls=":", label=r"$I(X;Y) = -\frac{1}{2}\sum_i \ln(1 - \rho_i^2)$")
    pts = ctx.measure("info_x", CURVE_POINTS, resolution=FIGURE_RESOLUTION, quantity="curve")
    draw_points(top, pts, pts.estimate, r"draws of $(T, Y)$, $\pm 1$ s.e.", color="C1", zorder=5)
    top.set_xlabel(r"$I(T;X)$ (nats)")
    top.set_ylabel(r"$I(T;Y)$ (nats)")
    top.set_ylim(0, 1.15 * max(ceiling, float(np.max(pts.estimate))))
    top.legend(loc="lower right", fontsize=5.8)
    b = make_backend(ctx.backend, ctx.seed + len(CURVE_POINTS))
    p = ib_gaussian.problems(b.xp, b.rng, 1, rho=rho, dimension=VECTOR)
    top_beta = 4.0 * rho ** (-2 * VECTOR)
    betas = [float(x) for x in np.geomspace(1.0, top_beta, 64)]
    u = to_host(ib_gaussian.ladder_run(b.xp, b.rng, p, betas)["u"])[0]  # (J, 3)
    dense = np.geomspace(1.0, top_beta, 400)
    for i, r in enumerate(ib_gaussian.correlations(rho, VECTOR)):
        colour = f"C{i}"
        bottom.plot(dense, np.maximum(0.0, (dense * r * r - 1) / (1 - r * r)), color=colour, lw=1.0,
                    label=r"$u_i$, closed form ($i = 1, 2, 3$)" if i == 0 else None)
        bottom.plot(betas, u[:, i], ".", color=colour, ms=2.2, label=r"iteration's fixed point" if i == 0 else None)
        bottom.axvline(r**-2, color=colour, lw=0.6, ls=":")
    found = ib_gaussian_critical(b, rho)
    bottom.errorbar(found["beta"], np.zeros(VECTOR), xerr=found["bound"], fmt="D", color="k", ms=3, mfc="none",
                    label=rf"$\hat\beta_i$ extrapolated ({CRITICAL_INSTANCES} instances, error bound)", zorder=6)
    bottom.set_xscale("log")
    bottom.set_yscale("symlog", linthresh=0.1)
    bottom.set_ylim(-0.02, 2 * float(np.max(u)))
    bottom.set_xlabel(r"$\beta$ (dotted: $\beta_i = \rho^{-2i}$)")
    bottom.set_ylabel(r"signal-to-noise ratio $u_i$")
    bottom.legend(loc="upper left", fontsize=5.8)
    fig.align_ylabels([top, bottom])
    fig.set_label(
        rf"The Gaussian information bottleneck at $\rho = {rho:g}$. Top: the information curve $I(T;Y)$ against "
        rf"$I(T;X)$ in nats for the model with $d = {d}$ canonical pair{'s' if d > 1 else ''} $\rho_i = \rho^i$ "
        r"(line), the curve a critical $\beta$ of $1/\rho$ would give (dashed), the ceiling $I(X;Y)$ (dotted), and the "
        rf"verifier's estimates from draws of $(T, Y)$ through the encoder Chechik et al.'s iteration finds at the "
        rf"$\beta$ giving each $I(T;X)$ (points, one standard error, resolution ${FIGURE_RESOLUTION:g}$). Bottom: with "
        rf"$d = {VECTOR}$, the signal-to-noise ratio $u_i$ of each component of the iteration's fixed point (one "
        r"instance, random start at each $\beta$) against $\beta$ on the closed form "
        r"$\max(0, (\beta\rho_i^2 - 1)/(1 - \rho_i^2))$: component $i$ switches on at $\beta_i = \rho^{-2i}$ "
        r"(dotted); the diamonds are the critical $\beta$ the verifier's kernel extrapolates for each component."
    )
    return fig


def _plane(ax, ctx: PlotContext, activation: str, seed: int) -> None:
    """One trained network's information plane at each bin count."""
    n, width = int(ctx.params["samples"]), int(ctx.params["width"])
    b = make_backend(ctx.backend, seed)
    snaps, labels = ib_binning.train_trajectory(b.xp, b.rng, activation=activation, samples=min(n, 4096), width=width,
                                                epochs=EPOCHS, every=EVERY, rate=1.0)
    origin = -1.0 if activation == "tanh" else 0.0
    span = 2.0 if activation == "tanh" else max(float(b.xp.max(s)) for s in snaps)
    ids = b.xp.arange(int(labels.shape[0]), dtype=b.xp.int64)
    for k, bins in enumerate(BIN_COUNTS):
        xs, ys = [], []
        for h in snaps:
            cells = ib_binning._cells(b.xp, h, origin, span / bins)
            xs.append(ib_binning.histogram(b.xp, ids, cells)["H"])
            ys.append(ib_binning.label_information(b.xp, cells, labels))
        ax.plot(xs, ys, "-", color=f"C{k}", lw=0.9, label=rf"{bins} bins")
        ax.plot(xs[0], ys[0], "o", color=f"C{k}", ms=2.5, mfc="none")
        ax.plot(xs[-1], ys[-1], "s", color=f"C{k}", ms=2.5)
    ax.axvline(math.log2(int(labels.shape[0])), color="0.4", lw=0.8, ls=":")
    ax.set_xlabel(r"$I(X; T_\Delta) = H(T_\Delta)$ (bits)")
    ax.set_ylabel(rf"$I(T_\Delta; Y)$, {activation}")


def binning_plot(ctx: PlotContext) -> Figure:
    """Information planes for several bin widths (tanh, ReLU); the estimate against the number of bins."""
    n, width = int(ctx.params["samples"]), int(ctx.params["width"])
    fig, (tanh, relu, sweep) = new_figure(3, height=6.6, ratios=(1, 1, 1.05), sharex=False)
    for seed, (ax, activation) in enumerate(((tanh, "tanh"), (relu, "relu")), start=ctx.seed + 2):
        _plane(ax, ctx, activation, seed)
    tanh.legend(loc="lower left", fontsize=5.8, ncols=2)
    for k, activation in enumerate(("tanh", "relu")):
        b = make_backend(ctx.backend, ctx.seed + k)  # the verifier's own layer
        out = ib_binning.sweep(b.xp, b.rng, activation=activation, samples=n, width=width)
        per_unit = [out["steps"][0]["delta"] / s["delta"] for s in out["steps"]]
        sweep.plot(per_unit, [s["I"] for s in out["steps"]], "o-", color=f"C{k}", ms=2.5, lw=0.9,
                   label=rf"random {activation} layer")
        sweep.axvline(out["steps"][0]["delta"] / out["separation"], color=f"C{k}", lw=0.7, ls="--")
        v = verify(ctx.claim, backend=ctx.backend, seed=ctx.seed + k, **{**ctx.params, "activation": activation,
                                                                          "quantity": "limit"})
        sweep.errorbar([per_unit[-1]], [v.estimate], yerr=[v.tolerance], fmt="s", color=f"C{k}", ms=4, mfc="none",
                       label=f"verifier, {activation} (tolerance)")
    sweep.axhline(math.log2(n), color="0.4", lw=0.8, ls=":", label=r"$\log_2 N$")
    sweep.set_xscale("log", base=2)
    sweep.set_xlabel(r"bins over the outputs' range, $r/\Delta$")
    sweep.set_ylabel(r"$I(X; T_\Delta)$ (bits)")
    sweep.legend(loc="lower right", fontsize=5.8)
    fig.align_ylabels([tanh, relu, sweep])
    fig.set_label(
        rf"Binned information of a deterministic layer of width $m = {width}$ on $N = {min(n, 4096)}$ inputs. Top and "
        rf"middle: the information plane of a network $x \mapsto$ layer $\mapsto$ sigmoid trained by gradient descent "
        rf"for {EPOCHS} epochs on a linear teacher's labels (every {EVERY} epochs, circle at the start, square at the "
        r"end), the tanh and the ReLU layer binned into 2, 4, 8 and 30 bins of its range: the trajectory is a property "
        r"of the bin width, each estimate being the entropy $H(T_\Delta)$ of the binned outputs, which is $\log_2 N$ "
        rf"(dotted) at fine bins whatever the training. Bottom: the verifier's random layers with $N = {n}$, "
        r"$I(X; T_\Delta)$ from the joint histogram against the number of bins, on the widths fixed in advance, "
        r"rising to $\log_2 N$ once every output has its own cell; dashed, the width at which the outputs' "
        r"smallest $\infty$-norm distance, found apart, predicts that (squares: the verifier's limit at the finest "
        r"width, with its rounding tolerance)."
    )
    return fig


register_plots({
    "ib.gaussian": gaussian_plot,
    "ib.binning": binning_plot,
})
