"""Figures of the ``init.*`` claims: closed forms as curves, verifier runs as points.

One function per claim, each ``plot(ctx) -> Figure`` (see :mod:`workbench.figures`).
Matplotlib is imported only when a figure is drawn (through :func:`~.style.new_figure`),
so importing this module, and with it :mod:`workbench`, stays fast.

A figure with several series gives every point its own seed: the ``i``-th point drawn,
counting across the series in drawing order, is the :func:`~workbench.verify` run with
seed ``seed + i`` (so the series are independent, not common random numbers).

>>> import workbench as wb
>>> fig = wb.claim("init.xavier").figure()
>>> [ax.get_xscale() for ax in fig.axes]
['log', 'log']
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from . import PlotContext, Points, draw_points, register_plots, residual_panel
from .style import new_figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "CRITICAL_CS",
    "HE_CS",
    "depth_grid",
    "he_backward_plot",
    "he_forward_plot",
    "relu_critical_plot",
    "xavier_plot",
]

HE_CS = (1.8, 2.0, 2.2)  # below, at and above He's c = 2
CRITICAL_CS = (1.6, 1.8, 2.0, 2.2, 2.4)  # ordered, critical, chaotic
RATE_CS = tuple(0.5 * k for k in range(1, 9))  # per-layer rates measured along the whole range of c: 0.5 ... 4
SLOPES = tuple(k / 8 for k in range(9))  # leaky-ReLU slopes a, from ReLU (0) to linear (1)
_HE_COLOURS = ("C0", "0.15", "C3")  # decay, preservation, growth
_PHASE = {1.6: "C0", 1.8: "C9", 2.0: "0.15", 2.2: "C1", 2.4: "C3"}  # ordered (cool), critical (black), chaotic (warm)


def depth_grid(deepest: int) -> list[int]:
    """At most eleven depths from 1 to ``deepest``: every depth up to 10, otherwise 1, the
    multiples of a step, and ``deepest`` itself (in place of a multiple closer than half a step).

    >>> depth_grid(5), depth_grid(20), depth_grid(37)
    ([1, 2, 3, 4, 5], [1, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20], [1, 4, 8, 12, 16, 20, 24, 28, 32, 37])
    """
    if deepest <= 10:
        return list(range(1, deepest + 1))
    step = math.ceil(deepest / 10)
    grid = [1, *range(step, deepest + 1, step)]
    if grid[-1] != deepest:
        grid = [*grid[:-1], deepest] if deepest - grid[-1] <= step / 2 else [*grid, deepest]
    return grid


class _Seeds:
    """Hands out consecutive seed blocks, one per measured series (see the module docstring)."""

    def __init__(self, ctx: PlotContext) -> None:
        self.ctx, self.next = ctx, 0

    def measure(self, vary: str, xs: Sequence[float] | np.ndarray, *, resolution: float, **overrides: Any) -> Points:
        ctx = replace(self.ctx, seed=self.ctx.seed + self.next)
        self.next += len(xs)
        return ctx.measure(vary, xs, resolution=resolution, **overrides)


def _finish(fig: Figure, caption: str) -> Figure:
    fig.set_label(caption)
    return fig


def _replicates(points: Sequence[Points]) -> str:
    ns = [v.replicates for p in points for v in p.verdicts]
    return f"{min(ns)}" if min(ns) == max(ns) else f"{min(ns)} to {max(ns)}"


def _legend_proxies(ax: Axes, *, where: str, points_label: str, line_label: str = "closed form", **kw: Any) -> None:
    """A legend saying what lines and points mean, drawn in neutral grey (the colours are the series').

    The handles are proxies, not drawn on ``ax``: its error-bar containers stay exactly the
    verifier's points."""
    from matplotlib.collections import LineCollection
    from matplotlib.container import ErrorbarContainer
    from matplotlib.lines import Line2D

    grey = "0.35"
    marker = Line2D([], [], color=grey, marker="o", ls="none", ms=3)
    caps = (Line2D([], [], color=grey, marker="_", ls="none"),) * 2
    bars = LineCollection([], colors=grey, linewidths=0.8)
    point = ErrorbarContainer((marker, caps, (bars,)), has_xerr=False, has_yerr=True, label=points_label)
    line = Line2D([], [], color=grey, lw=1.1, label=line_label)
    handles: list[Any] = [line, point]  # an ErrorbarContainer is a legend handle, not an Artist
    ax.legend(handles=handles, handlelength=1.8, **{"loc": where, **kw})


def _relative_residuals(ax: Axes, series: Sequence[tuple[Points, str]], spacing: float, ylabel: str) -> None:
    """Estimate / closed form - 1 with one-standard-error bars, series side by side."""
    ax.axhline(0.0, color="0.3", lw=0.8)
    offsets = (np.arange(len(series)) - (len(series) - 1) / 2) * spacing
    reach = 0.0
    for (pts, colour), dx in zip(series, offsets, strict=True):
        rel, err = pts.estimate / pts.expected - 1.0, pts.error / np.abs(pts.expected)
        ax.errorbar(pts.x + dx, rel, yerr=err, fmt="o", color=colour, ms=2.4, elinewidth=0.7)
        if pts.failed.any():
            ax.plot(pts.x[pts.failed] + dx, rel[pts.failed], "x", color="red", ms=5)
        reach = max(reach, float(np.max(np.abs(rel) + err)))
    ax.set_ylim(-1.25 * reach, 1.25 * reach)
    ax.yaxis.set_major_formatter(_percent())
    ax.set_ylabel(ylabel)


def _percent():
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda y, _: f"{100 * y:+.1f}%".replace("+0.0%", "0%").replace("-0.0%", "0%").replace("-", "\u2212"))


def _depth_ticks(ax: Axes, deepest: int) -> None:
    """Integer ticks up to the deepest network only (the room to the right holds the labels)."""
    from matplotlib.ticker import MaxNLocator

    ticks = MaxNLocator(nbins=6, integer=True, steps=[1, 2, 5, 10]).tick_values(0, deepest)
    ax.set_xticks([t for t in ticks if 0 <= t <= deepest])


def _log_limits(ax: Axes, values: Sequence[float] | np.ndarray, *, pad: float = 0.1, least: float = 0.6) -> None:
    """Log-scale limits around ``values``: a margin of ``pad`` of the span at each end, the
    span at least ``least`` decades."""
    low, high = math.log10(float(np.min(values))), math.log10(float(np.max(values)))
    grow = max(0.0, least - (high - low)) / 2
    low, high = low - grow, high + grow
    margin = pad * (high - low)
    ax.set_ylim(10 ** (low - margin), 10 ** (high + margin))


def _end_labels(ax: Axes, x: float, labels: Sequence[tuple[str, float, str, dict]], gap: float = 0.075) -> None:
    """Labels to the right of the curves' ends, ``(text, y, colour, style)`` on a log axis, each
    as near its curve as keeps neighbours ``gap`` of the axis height apart, all inside the axis.

    The positions solve the least-squares problem under those constraints: with
    ``t_k = s_k - k gap`` they are the isotonic regression of ``want_k - k gap`` (pool adjacent
    violators), clipped to the axis."""
    low, high = (math.log10(v) for v in ax.get_ylim())
    order = sorted(range(len(labels)), key=lambda i: labels[i][1])
    want = np.array([(math.log10(labels[i][1]) - low) / (high - low) for i in order])
    steps = gap * np.arange(want.size)
    blocks: list[list[float]] = []  # [sum, count] of pooled values
    for value in want - steps:
        blocks.append([value, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            total, count = blocks.pop()
            blocks[-1][0] += total
            blocks[-1][1] += count
    pooled = np.concatenate([np.full(int(count), total / count) for total, count in blocks])
    spread = np.clip(pooled, gap / 2, 1 - gap / 2 - steps[-1]) + steps
    for k, i in enumerate(order):
        text, _, colour, style = labels[i]
        ax.annotate(text, xy=(x, 10 ** (low + spread[k] * (high - low))), xytext=(4, 0), textcoords="offset points",
                    ha="left", va="center", fontsize=7, color=colour, **style)


# --- init.he-forward and init.he-backward ---------------------------------------------------------

def _depth_plot(ctx: PlotContext, *, ylabel: str, residual_label: str, line_label: str) -> tuple[Figure, list[Points], list[int]]:
    """The closed form against depth for c in HE_CS (log y), the estimates, and relative residuals."""
    depths = depth_grid(int(ctx.params["depth"]))
    seeds = _Seeds(ctx)
    dense = np.arange(1, depths[-1] + 1)
    fig, (top, bottom) = new_figure(2, height=3.3, ratios=(2.3, 1))
    measured: list[Any] = []
    curves: list[Any] = []
    labels: list[Any] = []
    for c, colour in zip(HE_CS, _HE_COLOURS, strict=True):
        curve = ctx.closed_form("depth", dense, c=c)
        pts = seeds.measure("depth", depths, resolution=0.02, c=c)
        top.plot(dense, curve, color=colour, lw=1.0, zorder=2)
        draw_points(top, pts, pts.estimate, ctx.error_label, color=colour, zorder=3)
        name = rf"$c={c:g}$" + (" (He)" if c == 2.0 else "")
        labels.append((name, float(curve[-1]), colour, {}))
        measured.append(pts)
        curves.append(curve)
    top.set_yscale("log")
    _log_limits(top, np.concatenate(curves))
    top.set_xlim(0, depths[-1] * 1.3 + 0.5)
    _end_labels(top, dense[-1], labels)
    _depth_ticks(top, depths[-1])
    top.set_ylabel(ylabel)
    _legend_proxies(top, where="upper left", points_label=f"estimate ({ctx.error_label})", line_label=line_label)
    gap = float(np.min(np.diff(depths))) if len(depths) > 1 else 1.0
    _relative_residuals(bottom, list(zip(measured, _HE_COLOURS, strict=True)),
                        spacing=0.24 * gap, ylabel=residual_label)
    bottom.set_xlabel(r"depth $L$")
    fig.align_ylabels([top, bottom])
    return fig, measured, depths


def he_forward_plot(ctx: PlotContext) -> Figure:
    """q_L = E||h^L||^2/n against depth for c = 1.8, 2, 2.2: growth, preservation, decay."""
    fig, measured, depths = _depth_plot(
        ctx,
        ylabel=r"$q_L=\mathbb{E}\,\|h^L\|^2/n$",
        residual_label=r"$\hat q_L/q_L-1$",
        line_label=r"$c\,q_0\,(c/2)^{L-1}$",
    )
    n, q0, method = ctx.params["fan_in"], ctx.params["q0"], ctx.params["method"]
    return _finish(
        fig,
        rf"Mean squared pre-activation $q_L = \mathbb{{E}}\,\|h^L\|^2/n$ of ReLU networks of width $n = {n}$ with "
        rf"weights $\mathcal{{N}}(0, c/n)$ and input $q_0 = {q0:g}$, against depth $L$ at $c = 1.8$, $2$ (He) and $2.2$: "
        rf"the closed form $c\,q_0\,(c/2)^{{L-1}}$ (lines) and the verifier's estimates ({method} method) at "
        f"{len(depths)} depths ({_replicates(measured)} networks each; points, error bars one standard error); bottom: "
        "relative deviation of each estimate from the closed form.",
    )


def he_backward_plot(ctx: PlotContext) -> Figure:
    """E||J u||^2 against depth for c = 1.8, 2, 2.2."""
    fig, measured, depths = _depth_plot(
        ctx,
        ylabel=r"$r_L=\mathbb{E}\,\|J u\|^2$",
        residual_label=r"$\hat r_L/r_L-1$",
        line_label=r"$c\,(c/2)^{L-1}\,n_{\mathrm{out}}/n$",
    )
    n, out, method = ctx.params["fan_in"], ctx.params["fan_out"], ctx.params["method"]
    return _finish(
        fig,
        rf"Squared norm $\mathbb{{E}}\,\|J u\|^2$ of the input-output Jacobian of ReLU networks (width $n = {n}$, "
        rf"output width $n_{{\mathrm{{out}}}} = {out}$, weights $\mathcal{{N}}(0, c/n)$, linear last layer) applied to a "
        rf"unit vector $u$, against depth $L$ at $c = 1.8$, $2$ (He) and $2.2$: the closed form "
        rf"$c\,(c/2)^{{L-1}} n_{{\mathrm{{out}}}}/n$ (lines) and the verifier's estimates ({method} method) at "
        f"{len(depths)} depths ({_replicates(measured)} networks each; points, error bars one standard error); "
        "bottom: relative deviation of each estimate from the closed form.",
    )


# --- init.relu-critical -----------------------------------------------------------------------------

def relu_critical_plot(ctx: PlotContext) -> Figure:
    """Growth (c/2)^L of a perturbation against depth, five c across the critical line; chi_1 = c/2."""
    depths = depth_grid(int(ctx.params["depth"]))
    seeds = _Seeds(ctx)
    dense = np.arange(0, depths[-1] + 1)
    fig, (top, bottom) = new_figure(2, height=4.0, ratios=(1.35, 1), sharex=False)
    measured: list[Any] = []
    curves: dict[Any, Any] = {}
    labels: list[Any] = []
    for c in CRITICAL_CS:
        colour = _PHASE[c]
        curve = (c / 2.0) ** dense.astype(float)  # G(0) = 1: the closed form extended to the input
        curve[1:] = ctx.closed_form("depth", dense[1:], c=c)
        pts = seeds.measure("depth", depths, resolution=0.02, c=c)
        top.plot(dense, curve, color=colour, lw=1.0, zorder=2)
        draw_points(top, pts, pts.estimate, ctx.error_label, color=colour, zorder=3, ms=2.8)
        name = rf"$c={c:g}$" + (" (critical)" if c == 2.0 else "")
        labels.append((name, float(curve[-1]), colour, {}))
        measured.append(pts)
        curves[c] = curve
    top.set_yscale("log")
    highest, lowest = curves[max(CRITICAL_CS)], curves[min(CRITICAL_CS)]
    _log_limits(top, np.concatenate(list(curves.values())), pad=0.16)
    top.set_xlim(0, depths[-1] * 1.33 + 0.6)
    _depth_ticks(top, depths[-1])
    # the phases named above and below the curves' labels
    italic = {"fontstyle": "italic"}
    labels += [("chaotic", highest[-1] * 1.001, "C3", italic), ("ordered", lowest[-1] * 0.999, "C0", italic)]
    _end_labels(top, dense[-1], labels)
    top.set_xlabel(r"depth $L$", labelpad=1)
    top.set_ylabel(r"$G(L)=\mathbb{E}\,\|\delta^L\|^2/\|\delta^0\|^2$")
    _legend_proxies(top, where="upper left", points_label=f"estimate ({ctx.error_label})", line_label=r"$(c/2)^L$")

    cs = np.linspace(0.5, 4.0, 351)
    rates = seeds.measure("c", RATE_CS, resolution=0.02, depth=1)
    bottom.axvspan(0.5, 2.0, color="C0", alpha=0.06, lw=0)
    bottom.axvspan(2.0, 4.0, color="C3", alpha=0.06, lw=0)
    bottom.plot(cs, ctx.closed_form("c", cs, depth=1), color="0.15", label=r"$\chi_1=c/2$", zorder=2)
    draw_points(bottom, rates, rates.estimate, ctx.error_label, zorder=3)
    bottom.axvline(2.0, color="0.3", ls=":", lw=0.9)
    bottom.axhline(1.0, color="0.3", ls=":", lw=0.9)
    bottom.text(1.25, 1.2, "ordered", ha="center", va="center", fontsize=7, color="C0")
    bottom.text(3.0, 0.6, "chaotic", ha="center", va="center", fontsize=7, color="C3")
    bottom.annotate("critical: $c=2$", xy=(2.0, 1.0), xytext=(2.3, 0.22), fontsize=7, color="0.2", ha="left", va="center",
                    arrowprops={"arrowstyle": "->", "color": "0.3", "lw": 0.6, "shrinkB": 2})
    bottom.set_xlim(0.4, 4.1)
    bottom.set_ylim(0.0, 2.15)
    bottom.set_xlabel(r"weight variance $c=\sigma_w^2$")
    bottom.set_ylabel(r"$\chi_1=G(1)$")
    _legend_proxies(bottom, where="upper left", points_label=rf"estimate of $G(1)$ ({ctx.error_label})",
                    line_label=r"$c/2$")
    fig.align_ylabels([top, bottom])
    n, method = ctx.params["fan_in"], ctx.params["method"]
    return _finish(
        fig,
        rf"Growth $G(L) = \mathbb{{E}}\,\|\delta^L\|^2/\|\delta^0\|^2$ of an infinitesimal input perturbation through "
        rf"$L$ ReLU layers of width $n = {n}$ with weights $\mathcal{{N}}(0, c/n)$, for $c = 1.6$ and $1.8$ (ordered), $2$ "
        r"(critical) and $2.2$ and $2.4$ (chaotic): the closed form $(c/2)^L$ (lines) and the verifier's estimates "
        f"({method} method) at {len(depths)} depths (top; {_replicates(measured)} networks each); bottom: the per-layer "
        rf"rate $\chi_1 = c/2$ (line) against one-layer estimates of $G(1)$ at {len(RATE_CS)} values of $c$ "
        rf"({_replicates([rates])} networks each), the dotted lines marking the critical point $c = 2$, $\chi_1 = 1$; "
        "error bars one standard error.",
    )


NI, NO = r"n_{\mathrm{in}}", r"n_{\mathrm{out}}"  # in the captions


# --- init.xavier --------------------------------------------------------------------------------------

def xavier_plot(ctx: PlotContext) -> Figure:
    """The round-trip factor 4 n_in n_out/(n_in + n_out)^2 against n_out/n_in (log2 axis)."""
    n_in = int(ctx.params["n_in"])
    outs = sorted({min(4096, max(1, round(n_in * 2.0**k))) for k in range(-4, 5)})
    pts = ctx.measure("n_out", outs, resolution=0.02)
    ratio = pts.x / n_in
    pts = replace(pts, x=ratio)  # drawn against n_out / n_in
    low, high = ratio[0] / 1.5, ratio[-1] * 1.5
    dense = np.geomspace(low, high, 301)
    fig, (ax, bottom) = new_figure(2, height=3.0, ratios=(2.3, 1))
    ax.plot(dense, ctx.closed_form("n_out", dense * n_in), color="C0",
            label=r"$F\,B=4\,n_{\mathrm{in}}n_{\mathrm{out}}/(n_{\mathrm{in}}+n_{\mathrm{out}})^2$", zorder=2)
    ax.axhline(1.0, color="0.35", ls="--", lw=0.9, label=r"$1$: equality iff $n_{\mathrm{out}}=n_{\mathrm{in}}$", zorder=1)
    draw_points(ax, pts, pts.estimate, ctx.error_label, zorder=3)
    ax.set_xscale("log", base=2)
    ticks = [r for r in (1 / 16, 1 / 8, 1 / 4, 1 / 2, 1, 2, 4, 8, 16) if low <= r <= high]
    ax.set_xticks(ticks, [f"1/{round(1 / r)}" if r < 1 else f"{r:g}" for r in ticks])
    ax.minorticks_off()
    ax.set_xlim(low, high)
    ax.set_ylim(0.0, 1.5)
    ax.set_ylabel(r"round trip $F\,B$")
    ax.legend(loc="upper right" if ratio[0] >= 1 else "upper left", ncols=1, handlelength=1.8)
    residual_panel(bottom, pts, ctx.claim.scale)
    bottom.yaxis.set_major_formatter(_percent())
    bottom.set_ylabel(r"$\widehat{FB}/FB-1$")
    bottom.set_xlabel(rf"$n_{{\mathrm{{out}}}}/n_{{\mathrm{{in}}}}$  ($n_{{\mathrm{{in}}}}={n_in}$)")
    fig.align_ylabels([ax, bottom])
    method = ctx.params["method"]
    return _finish(
        fig,
        r"Forward times backward variance factor of a linear layer with Xavier (Glorot) weights "
        rf"$\mathcal{{N}}(0, 2/({NI} + {NO}))$, ${NI} = {n_in}$, against ${NO}/{NI}$: the closed form "
        rf"$4 {NI} {NO}/({NI} + {NO})^2$ (line), which is at most $1$ with equality iff ${NI} = {NO}$ (dashed), and the "
        f"verifier's estimates ({method} method) at {len(outs)} fan-outs ${NO}$ from {outs[0]} to {outs[-1]} "
        f"({_replicates([pts])} replicates each; points, error bars one standard error); bottom: relative deviation of "
        "the estimates from the closed form.",
    )


# --- init.gain ------------------------------------------------------------------------------------------



register_plots({
    "init.he-forward": he_forward_plot,
    "init.he-backward": he_backward_plot,
    "init.xavier": xavier_plot,
    "init.relu-critical": relu_critical_plot,
})
