"""Figures of the ``depth.*`` claims: the sawtooth and its piece count, and the separation bounds
against the errors of the best few-piece approximations.

Every series of points is a list of real :func:`~workbench.verify` runs (point ``i``, counted across
the series in drawing order, with seed ``seed + i``); where a panel shows more of a run than its
verdict (the random shallow networks, the candidates' errors), the kernel is called again with that
run's seed, so it shows what the verifier drew.

>>> import workbench as wb
>>> fig = wb.claim("depth.sawtooth").figure(L=5)
>>> fig.axes[1].get_yscale()
'log'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from numerics import backend as make_backend
from numerics import depth as kernels
from numerics.namespaces import to_host

from . import PlotContext, draw_points, register_plots
from .style import new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["sawtooth_plot", "separation_plot"]

_KINDS = {"the constant $1/2$": ("0.4", "_"), "least squares": ("C1", "o"), "least squares, $L^1$ polish": ("C3", "^")}


def _exact_curve(L: int) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = kernels.knots(kernels.sawtooth(L))
    return np.array([float(v) for v in xs]), np.array([float(v) for v in ys])


def _shallow_most(ctx: PlotContext, seed: int, L: int) -> int:
    """The most pieces among the verifier's random one-hidden-layer networks of width 2L (its draws)."""
    b = make_backend(ctx.backend, seed)
    draws = to_host(b.rng.standard_normal((kernels.SHALLOW_NETWORKS, 3, 2 * L), dtype=b.xp.float64))
    return max(kernels.shallow_pieces(*draws[i]) for i in range(kernels.SHALLOW_NETWORKS))


def sawtooth_plot(ctx: PlotContext) -> Figure:
    """Top: t, t^2, t^3 from the exact knots. Bottom (log): the measured pieces of t^L against L, the
    closed form 2^L, and one hidden layer with the same 2L units: at most 2L + 1 (measured: the most of
    the verifier's random networks)."""
    fig, (top, bottom) = new_figure(2, height=4.2, ratios=(1, 1.3), sharex=False)
    for depth, colour, style in ((1, "C0", "-"), (2, "C1", "--"), (3, "C2", "-")):
        x, y = _exact_curve(depth)
        top.plot(x, y, color=colour, ls=style, lw=1.0 if depth < 3 else 0.8, label=f"$t^{{{depth}}}$: ${2 ** depth}$ pieces")
    top.axhline(0.5, color="0.5", lw=0.6, ls=":")
    top.set_xlabel("$x$")
    top.set_ylabel("$t^L(x)$")
    top.set_ylim(-0.04, 1.3)
    top.legend(loc="upper center", ncol=3, handlelength=1.6, columnspacing=0.8)

    count = ctx.params["count"]
    depths = np.arange(1, min(max(int(ctx.params["L"]), 8), 14) + 1)
    pts = ctx.measure("L", depths)
    dense = np.linspace(1, depths[-1], 200)
    bottom.plot(dense, 2.0**dense, color="C0", lw=1.0, label=r"closed form $2^L$")
    draw_points(bottom, pts, pts.estimate, ctx.error_label, zorder=3)
    bottom.plot(dense, 2 * dense + 1, color="0.3", lw=0.9, ls="--", label=r"one hidden layer, $2L$ units: $\leq 2L+1$")
    most = [_shallow_most(ctx, ctx.seed + n, int(d)) for n, d in enumerate(depths)]
    bottom.plot(depths, most, "s", color="0.3", mfc="none", ms=3.2, label=r"random width-$2L$ networks, on $\mathbb{R}$ (most)")
    bottom.set_yscale("log", base=2)
    bottom.set_xlabel("depth $L$ (layers of two units)")
    bottom.set_ylabel("affine pieces on $[0,1]$" if count == "pieces" else r"crossings of $1/2$")
    bottom.legend(loc="upper left", handlelength=1.8)
    fig.set_label(
        r"Top: the tent map $t$ and its compositions $t^2$, $t^3$, drawn from the knots found in exact arithmetic. "
        rf"Bottom: the {'affine pieces' if count == 'pieces' else 'crossings of $1/2$'} of the $L$-layer network "
        r"(points: the verifier's exact counts) against $2^L$ (line), and one hidden layer with the same $2L$ units, "
        r"at most $2L + 1$ pieces (dashed), reached by the verifier's random networks (squares)."
    )
    return fig


def _errors(ctx: PlotContext, seed: int, k: int) -> list[dict]:
    """The candidates of the verifier's run at ``k`` (its seed): their exact errors by kind."""
    b = make_backend(ctx.backend, seed)
    return kernels.separation_probes(b.xp, b.rng, L=int(ctx.params["L"]), k=k)


def separation_plot(ctx: PlotContext) -> Figure:
    """Top: t^L and the closest candidate at the claim's k. Middle: both bounds against k, every candidate's
    exact error and the verifier's estimates. Bottom: each candidate's error over the breakpoint bound (its
    tightness), with the crossing bound on the same scale."""
    L, k0 = int(ctx.params["L"]), int(ctx.params["k"])
    ks = np.arange(0, min(max(k0, 4), 2 ** (L - 1) - 3) + 1)
    fig, (top, middle, bottom) = new_figure(3, height=5.8, ratios=(1, 1.4, 1.0), sharex=False)
    runs = [_errors(ctx, ctx.seed + n, int(k)) for n, k in enumerate(ks)]

    x, y = _exact_curve(L)
    top.plot(x, y, color="0.55", lw=0.5, label=f"$t^{{{L}}}$")
    rows = runs[int(np.searchsorted(ks, k0))] if k0 in ks else _errors(ctx, ctx.seed, k0)
    best = min(rows, key=lambda r: r["error"])
    top.plot([float(v) for v in best["knots"]], [float(v) for v in best["values"]], color="C3", lw=1.2,
             label=rf"closest with ${k0 + 1}$ pieces: {best['kind']}")
    top.set_xlabel("$x$")
    top.set_ylabel("$t^L(x)$, $f(x)$")
    top.set_ylim(-0.04, 1.35)
    top.legend(loc="upper center", ncol=2, fontsize=6, handlelength=1.4)

    dense = np.linspace(ks[0], ks[-1], 100)
    n = 2.0**L
    middle.plot(dense, 0.25 - dense / (2 * n), color="C0", lw=1.0, label=r"breakpoints: $1/4 - k/2^{L+1}$")
    middle.plot(dense, 0.125 - (dense + 2) / (4 * n), color="C2", lw=1.0, ls="--", label=r"crossings: $1/8 - (k+2)/2^{L+2}$")
    middle.plot(dense, 2 * (0.125 - (dense + 2) / (4 * n)), color="C2", lw=0.7, ls=":", label="twice the crossing bound")
    seen = set()
    for k, run in zip(ks, runs, strict=True):
        bound = kernels.separation_bound(L, int(k), "breakpoints")
        for r in run:
            kind = r["kind"] if r["kind"] in _KINDS else "trained"
            colour, marker = _KINDS.get(kind, ("C4", "x"))
            label = (r"trained width-$k$ networks" if kind == "trained" else kind) if kind not in seen else None
            seen.add(kind)
            style = {"color": colour, "ms": 3.2, "mfc": "none" if marker == "o" else colour, "zorder": 3}
            middle.plot([k], [float(r["error"])], marker, label=label, **style)
            bottom.plot([k], [float(r["error"] / bound)], marker, **style)
    pts = ctx.measure("k", ks)
    draw_points(middle, pts, pts.estimate, ctx.error_label, color="0.1", ms=2.4, zorder=4)
    from matplotlib.ticker import MaxNLocator

    for ax in (middle, bottom):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    middle.set_xlabel("width $k$ (at most $k+1$ pieces)")
    middle.set_ylabel(r"$\int_0^1 |f - t^L|$")
    middle.legend(loc="center", bbox_to_anchor=(0.5, 0.47), fontsize=5.5, ncol=2, handlelength=1.6, columnspacing=0.6)

    bottom.axhline(1.0, color="C0", lw=1.0, label="the breakpoint bound")
    bottom.plot(dense, (0.125 - (dense + 2) / (4 * n)) / (0.25 - dense / (2 * n)), color="C2", lw=1.0, ls="--",
                label="the crossing bound")
    bottom.set_xlabel("width $k$")
    bottom.set_ylabel(r"error $/\,(1/4 - k/2^{L+1})$")
    bottom.set_ylim(0.4, max(1.25, bottom.get_ylim()[1]))
    bottom.legend(loc="center right", fontsize=6)
    which = "breakpoint" if ctx.params["argument"] == "breakpoints" else "crossing"
    ratios = [float(min(r["error"] for r in run) / kernels.separation_bound(L, int(k), "breakpoints"))
              for k, run in zip(ks, runs, strict=True) if k > 0] or [1.0]
    fig.set_label(
        rf"Top: the sawtooth $t^{{{L}}}$ and the closest approximation with ${k0 + 1}$ affine pieces the verifier "
        rf"constructed. Middle: the breakpoint bound $1/4 - k/2^{{L+1}}$, the crossing bound $1/8 - (k+2)/2^{{L+2}}$ "
        r"and twice it (lines) against the exact errors of the candidates (the constant $1/2$, least-squares fits with "
        r"free knots, their $L^1$ polish, trained width-$k$ ReLU networks), and the verifier's estimates "
        rf"$\min(B, \min_f \int_0^1 |f - t^L|)$ for the {which} bound $B$ (black; error bars: float64's rounding of "
        r"$B$): none falls below either bound. Bottom: each candidate's error divided by the breakpoint bound, and the "
        rf"crossing bound on the same scale: the closest candidate comes within ${100 * (min(ratios) - 1):.0f}$ to "
        rf"${100 * (max(ratios) - 1):.0f}$ per cent of the breakpoint bound for $k \geq 1$ (and meets it at $k = 0$), "
        r"while the crossing bound stays below half of it."
    )
    return fig


register_plots({"depth.sawtooth": sawtooth_plot, "depth.separation": separation_plot})
