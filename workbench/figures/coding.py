"""Figures of the ``huffman.*`` claims: redundancy of Huffman codes against its bounds, Kraft
sums, dyadic distributions, and the entropy of quantised Gaussian weights.

One function per claim, each ``plot(ctx) -> Figure`` (see :mod:`workbench.figures`). The
scatter of random distributions behind each bound is drawn from the generator of
``numerics.backend(ctx.backend, ctx.seed + 10_000)``; the points with error bars are
:func:`~workbench.verify` runs (point ``i`` with seed ``ctx.seed + i``).

>>> import workbench as wb
>>> fig = wb.claim("huffman.dyadic").figure()
>>> [ax.get_yscale() for ax in fig.axes]
['linear', 'log']
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from numerics import backend
from numerics.coding import comb_distribution, dirichlet, kraft_sums
from numerics.entropy import quantized_gaussian_entropy
from numerics.huffman import batch_code_lengths, code_lengths
from numerics.redundancy import GALLAGER_SIGMA, certify, gallager_bound, self_information, uniform_redundancy

from . import PlotContext, asymptotic_panel, draw_points, register_plots
from .style import new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["bounds_plot", "dyadic_plot", "gallager_plot", "kraft_plot", "quantized_gaussian_plot"]

SIZES = (2, 4, 8, 16, 32, 64, 128)  # alphabet sizes of the verifier's points
_SCATTER = ((2, 0.2), (3, 0.1), (4, 1.0), (8, 0.3), (16, 1.0), (64, 0.1), (256, 1.0))  # (K, alpha) of the clouds
_COLOURS = ("C0", "C1", "C2", "C3", "C4", "C5", "C6")


def _generator(ctx: PlotContext):

    b = backend(ctx.backend, ctx.seed + 10_000)
    return b.xp, b.rng


def _cloud(ctx: PlotContext, per: int = 300):
    """(K, alpha, p, lengths, certified) for a few Dirichlet clouds."""

    xp, rng = _generator(ctx)
    out = []
    for K, alpha in _SCATTER:
        p = dirichlet(xp, rng, per, K, alpha)
        lengths = batch_code_lengths(p)
        out.append((K, alpha, p, lengths, certify(p, lengths)))
    return out


def _entropy(p: np.ndarray) -> np.ndarray:
    return -(p * np.log2(p)).sum(axis=1)


def _largest_K(ctx: PlotContext) -> int:
    """The largest alphabet size the claim admits."""
    high = ctx.claim.parameter("K").high
    return int(high) if high is not None else max(SIZES)


def _fraction_panel(ax, ctx: PlotContext, label: str) -> None:
    """The verifier's fraction of draws within the bound, at several alphabet sizes."""
    sizes = [k for k in SIZES if k <= _largest_K(ctx)]
    pts = ctx.measure("K", sizes)
    ax.axhline(1.0, color="0.15", lw=1.0, label="closed form: 1")
    draw_points(ax, pts, pts.estimate, ctx.error_label, color="C3", ms=3)
    ax.set_xscale("log", base=2)
    ax.set_xticks(sizes, [str(k) for k in sizes])
    ax.set_xlabel(r"alphabet size $K$")
    ax.set_ylabel(label)
    low = min(float(np.min(pts.estimate - pts.error)), 1 - 2e-4)
    ax.set_ylim(low - 1e-4, 1 + 3e-4)
    ax.ticklabel_format(axis="y", useOffset=False)
    ax.legend(loc="lower left")


def _finish(fig: Figure, caption: str) -> Figure:
    fig.set_label(caption)
    return fig


# --- huffman.bounds ------------------------------------------------------------------------------

def bounds_plot(ctx: PlotContext) -> Figure:
    """L - H against H for Dirichlet clouds, between the bounds 0 and 1; the verifier's fractions."""
    fig, (top, bottom) = new_figure(2, height=4.0, ratios=(1.6, 1), sharex=False)
    top.axhspan(0.0, 1.0, color="C2", alpha=0.06, lw=0)
    top.axhline(0.0, color="0.15", lw=1.0, label=r"$H \leq L$")
    top.axhline(1.0, color="0.15", lw=1.0, ls="--", label=r"$L < H+1$")
    for (K, alpha, p, _, c), colour in zip(_cloud(ctx), _COLOURS, strict=True):
        top.plot(_entropy(p), c.redundancy, ".", color=colour, ms=1.6, alpha=0.6,
                 label=rf"$K={K},\ \alpha={alpha:g}$")
    top.set_xlabel(r"entropy $H$ (bits)")
    top.set_ylabel(r"$L-H$ (bits)")
    top.set_ylim(-0.06, 1.1)
    top.legend(loc="upper right", ncol=3, fontsize=5.5, markerscale=3, handletextpad=0.2, columnspacing=0.6,
               bbox_to_anchor=(1.0, 0.92))
    _fraction_panel(bottom, ctx, r"$\hat P(H \leq L < H+1)$")
    alpha, draws = ctx.params["concentration"], ctx.params["draws"]
    return _finish(
        fig,
        rf"Redundancy $L - H$ of Huffman codes for random distributions (Dirichlet clouds, 300 draws each; top) "
        rf"against the entropy $H$: every draw lies in $[0, 1)$, small alphabets and small $\alpha$ reaching both "
        rf"ends. Bottom: the verifier's fraction of {draws} $\mathrm{{Dirichlet}}({alpha:g})$ draws satisfying "
        rf"$H \le L < H + 1$, decided exactly, at {len(SIZES)} alphabet sizes (error bars: half a count, the "
        "tolerance of the exact check).",
    )


# --- huffman.gallager ----------------------------------------------------------------------------

def gallager_plot(ctx: PlotContext) -> Figure:
    """L - H against p_max for Dirichlet clouds and uniform distributions, under Gallager's bound."""

    fig, (top, bottom) = new_figure(2, height=4.2, ratios=(1.7, 1), sharex=False)
    for (K, alpha, _, _, c), colour in zip(_cloud(ctx), _COLOURS, strict=True):
        top.plot(c.pmax, c.redundancy, ".", color=colour, ms=1.6, alpha=0.6, label=rf"$K={K},\ \alpha={alpha:g}$")
    ks = np.arange(2, 4097)
    top.plot(1.0 / ks, [uniform_redundancy(int(k)) for k in ks], ".", color="0.35", ms=1.0,
             label=r"uniform, $K \leq 4096$")
    grid = np.geomspace(1.0 / 4096, 1.0 - 1e-6, 600)
    top.plot(grid, grid + GALLAGER_SIGMA, color="0.1", lw=1.1, label=r"$p_{\max}+\sigma$")
    half = grid[grid >= 0.5]
    top.plot(half, gallager_bound(half), color="0.1", lw=1.1, ls="-.", label=r"$2-h(p_{\max})-p_{\max}$")
    top.axhline(GALLAGER_SIGMA, color="0.4", lw=0.7, ls=":")
    top.text(1.3 / 4096, GALLAGER_SIGMA * 1.08, rf"$\sigma = {GALLAGER_SIGMA:.7f}$", fontsize=6.5, va="bottom")
    top.set_xscale("log")
    top.set_xlim(1.0 / 4096, 1.0)
    top.set_ylim(0.0, 1.12)
    top.set_xlabel(r"largest probability $p_{\max}$")
    top.set_ylabel(r"$L-H$ (bits)")
    top.legend(loc="upper left", fontsize=5.3, markerscale=3, ncol=2, handletextpad=0.1, columnspacing=0.5)
    _fraction_panel(bottom, ctx, r"$\hat P(L-H \leq \mathrm{bound})$")
    alpha, draws = ctx.params["concentration"], ctx.params["draws"]
    return _finish(
        fig,
        rf"Redundancy $L - H$ of Huffman codes against the largest probability $p_{{\mathrm{{max}}}}$ (top): "
        rf"Dirichlet clouds (300 draws each) and the uniform distributions on $K \le 4096$ symbols, whose "
        rf"redundancy approaches $\sigma_G = {GALLAGER_SIGMA:.7f}$ as $p_{{\mathrm{{max}}}} = 1/K \to 0$, all under "
        rf"Gallager's bound $p_{{\mathrm{{max}}}} + \sigma_G$ ($2 - h(p_{{\mathrm{{max}}}}) - p_{{\mathrm{{max}}}}$ "
        rf"for $p_{{\mathrm{{max}}}} \ge 1/2$; line). Bottom: the verifier's fraction of probes ({draws} "
        rf"$\mathrm{{Dirichlet}}({alpha:g})$ draws and the adversarial families) within the bound, decided exactly "
        "(error bars: half a count).",
    )


# --- huffman.kraft -------------------------------------------------------------------------------

def kraft_plot(ctx: PlotContext) -> Figure:
    """Kraft sums of Huffman codes (exactly 1) and of Shannon codes (below 1) against K."""

    fig, (ax,) = new_figure(1, height=2.6)
    xp, rng = _generator(ctx)
    sizes = [k for k in SIZES if k <= _largest_K(ctx)]
    alpha = ctx.params["concentration"]
    for j, K in enumerate(sizes):
        p = dirichlet(xp, rng, 300, K, alpha)
        _, shannon = kraft_sums(np.ceil(self_information(p)).astype(np.int64))
        jitter = K * 2 ** (0.25 * (np.linspace(-1, 1, shannon.size)))
        ax.plot(jitter, shannon, ".", color="C0", ms=1.4, alpha=0.5, label="Shannon codes" if j == 0 else None)
    pts = ctx.measure("K", sizes)
    ax.axhline(1.0, color="0.15", lw=1.0, label="closed form: 1")
    draw_points(ax, pts, pts.estimate, ctx.error_label, color="C3", ms=3.5)
    ax.set_xscale("log", base=2)
    ax.set_xticks(sizes, [str(k) for k in sizes])
    ax.set_ylim(0.45, 1.2)
    ax.set_xlabel(r"alphabet size $K$")
    ax.set_ylabel(r"Kraft sum $\Sigma_i\, 2^{-\ell_i}$")
    ax.legend(loc="upper center", ncol=3, fontsize=6, markerscale=2)
    return _finish(
        fig,
        f"Kraft sums of Huffman codes (points with error bars: the verifier's Kraft sum farthest from 1 among "
        rf"{ctx.params['draws']} $\mathrm{{Dirichlet}}({alpha:g})$ draws, compared with 1 exactly) and of Shannon "
        rf"codes with lengths $\lceil -\log_2 p_i\rceil$ (dots, 300 draws per $K$): Huffman codes are complete, "
        "Shannon codes usually are not.",
    )


# --- huffman.dyadic ------------------------------------------------------------------------------

def dyadic_plot(ctx: PlotContext) -> Figure:
    """L = H = 2 - 2^(2-K) for the dyadic comb; L - H > 0 once the comb is perturbed."""
    from fractions import Fraction

    import mpmath as mp


    fig, (top, bottom) = new_figure(2, height=3.6, ratios=(1.4, 1))
    high = _largest_K(ctx)
    ks = list(range(2, 17))
    dense = np.arange(2, 17)
    top.plot(dense, ctx.closed_form("K", dense), color="0.15", lw=1.0, label=r"$2-2^{2-K}$", zorder=2)
    pts = ctx.measure("K", [k for k in ks if k <= high])
    draw_points(top, pts, pts.estimate, ctx.error_label, color="C3", ms=3, zorder=3)
    top.annotate(r"$(\frac{1}{2},\frac{1}{4},\frac{1}{8},\frac{1}{8})$: $\frac{7}{4}$ bits", xy=(4, 1.75), xytext=(6.5, 1.45), fontsize=7,
                 arrowprops={"arrowstyle": "->", "lw": 0.6, "color": "0.3"})
    top.set_ylabel(r"$L = H$ (bits)")
    top.legend(loc="lower right")
    gaps = []
    for K in ks:  # move 2^-(K+1)/3 of mass from the first symbol to the last: no longer dyadic
        comb = comb_distribution(K)
        delta = Fraction(1, 3 << (K + 1))
        p = [comb[0] - delta, *comb[1:-1], comb[-1] + delta]
        lengths = code_lengths(p)
        L = sum((pi * int(li) for pi, li in zip(p, lengths, strict=True)), Fraction(0))
        with mp.workdps(40):
            h = -mp.fsum(mp.mpf(q.numerator) / q.denominator * mp.log(mp.mpf(q.numerator) / q.denominator, 2) for q in p)
            gaps.append(float(mp.mpf(L.numerator) / L.denominator - h))
    bottom.plot(ks, gaps, "o-", color="C0", ms=2.5, lw=0.8, label=r"comb $\pm\,2^{-(K+1)}/3$")
    bottom.set_yscale("log")
    bottom.set_xlabel(r"alphabet size $K$")
    bottom.set_ylabel(r"$L-H$ (bits)")
    bottom.legend(loc="upper right")
    return _finish(
        fig,
        r"Expected Huffman length $L$ of the dyadic comb $(1/2, 1/4, \dots, 2^{-(K-1)}, 2^{-(K-1)})$ against $K$ "
        r"(top): the closed form $L = H = 2 - 2^{2-K}$ (line) and the verifier's exact rational values (points; error "
        r"bars: half an ulp of the conversion to float64). Bottom: moving $2^{-(K+1)}/3$ of mass from the first "
        r"symbol to the last makes the distribution non-dyadic, and $L - H > 0$ (exact $L$, 40-digit $H$).",
    )


# --- huffman.quantized-gaussian ----------------------------------------------------------------

def quantized_gaussian_plot(ctx: PlotContext) -> Figure:
    """H_Delta against Delta with the high-resolution line; the sweep and its extrapolation."""

    fig, (top, bottom) = new_figure(2, height=4.4, ratios=(1.3, 1), sharex=False)
    v = asymptotic_panel(bottom, ctx)
    sigma = float(ctx.params["sigma"])
    h = 0.5 * math.log2(2 * math.pi * math.e * sigma**2)
    grid = np.geomspace(0.02 * sigma, 3.0 * sigma, 80)
    top.plot(grid, [quantized_gaussian_entropy(sigma, float(d)) for d in grid], color="C0", lw=1.1,
             label=r"$H_\Delta$ (exact series)")
    top.plot(grid, h - np.log2(grid), color="0.2", lw=0.9, ls="--",
             label=r"$\frac{1}{2}\log_2(2\pi e\sigma^2)-\log_2\Delta$")
    xs = np.array([pt["x"] for pt in v.sweep])
    est = np.array([pt["estimate"] for pt in v.sweep]) - np.log2(xs)
    err = np.array([pt["stderr"] for pt in v.sweep])
    top.errorbar(xs, est, yerr=err, fmt="o", color="C1", ms=3, elinewidth=0.8,
                 label=r"Miller-Madow estimate ($\pm 1$ s.e.)")
    top.set_xscale("log")
    top.set_xlabel(r"quantisation step $\Delta$")
    top.set_ylabel(r"entropy $H_\Delta$ (bits)")
    top.legend(loc="upper right")
    bottom.set_ylabel(r"$H_\Delta+\log_2\Delta$ (bits)")
    bottom.legend(loc="upper left", fontsize=6)
    groups = [pt["replicates"] for pt in v.sweep]
    return _finish(
        fig,
        rf"Entropy $H_{{\Delta}}$ of weights $\mathcal{{N}}(0, \sigma^2)$, $\sigma = {sigma:g}$, rounded to "
        rf"multiples of $\Delta$ (top): the exact series (line), the high-resolution approximation "
        rf"$\frac{{1}}{{2}} \log_2(2\pi e\sigma^2) - \log_2 \Delta$ (dashed) and the verifier's Miller-Madow "
        rf"estimates from {min(groups)} to {max(groups)} groups of 16384 sampled weights (points). Bottom: "
        rf"$H_{{\Delta}} + \log_2 \Delta$ against $\Delta^2$ at the sweep, the fitted expansion "
        rf"$a + b \Delta^2 + c \Delta^4$ (dashed; $b$ tested against the derived $1/(24 \sigma^2 \ln 2) = "
        rf"{1 / (24 * sigma**2 * math.log(2)):.4g}$) and its value at $\Delta = 0$ (diamond) against the closed form "
        "(line).",
    )


register_plots({
    "huffman.bounds": bounds_plot,
    "huffman.dyadic": dyadic_plot,
    "huffman.kraft": kraft_plot,
    "huffman.gallager": gallager_plot,
    "huffman.quantized-gaussian": quantized_gaussian_plot,
})
