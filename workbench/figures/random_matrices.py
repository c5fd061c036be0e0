r"""Figures of the random-matrix claims: ``rmt.lyapunov`` and ``residual.isometry``.

- ``rmt.lyapunov``: the whole spectrum :math:`\lambda_1 \ge \dots \ge \lambda_N` against the index,
  Newman's formula (line) and one verifier run per index (points, one standard error), with
  the level of orthogonal factors (:math:`\ln\sigma`) and the large-:math:`N - i` form
  :math:`\ln\sigma + \tfrac12\ln(N - i + 1)` for comparison; below, estimate minus formula in nats.
- ``residual.isometry``: histograms of the squared singular values of Gaussian products at several
  depths against the Fuss-Catalan densities of their :math:`N \to \infty` limit, with orthogonal
  products (every singular value 1) for contrast; below, the verifier's sweep over the width and
  its extrapolation to :math:`L + 1` (:func:`workbench.figures.asymptotic_panel`).

A figure's ``k``-th verifier run uses seed ``seed + k`` (``residual.isometry`` has one run, the
sweep, with ``seed``); its histograms use the generator of ``seed + 1``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from numerics import backend
from numerics.random_matrices import product_singular_values
from proofs import random_matrices as P

from ..reference import reference_value
from . import PlotContext, asymptotic_panel, draw_points, register_plots
from .style import new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["lyapunov_plot", "isometry_plot", "spectrum_indices", "fuss_catalan_density", "exact_second_moment", "HISTOGRAM_DEPTHS"]

FIGURE_RESOLUTION = 0.05  # absolute, nats per factor: one verdict per exponent, the bottom ones need the most steps
HISTOGRAM_DEPTHS = (1, 2, 4)  # with the claim's own L
HISTOGRAM_WIDTH = 64
HISTOGRAM_PRODUCTS = 256
_DEPTH_COLOURS = ("C0", "C2", "C1", "C3", "C4", "C5")


def spectrum_indices(n: int, most: int = 16) -> list[int]:
    """Every index 1..n, or ``most`` of them spread evenly (always 1 and n) for wide matrices.

    >>> spectrum_indices(5), spectrum_indices(48)[:3], spectrum_indices(48)[-1], len(spectrum_indices(48))
    ([1, 2, 3, 4, 5], [1, 4, 7], 48, 16)
    """
    if n <= most:
        return list(range(1, n + 1))
    return sorted({int(round(x)) for x in np.linspace(1, n, most)})


def _closed_form_at(ctx: PlotContext, **values) -> float:
    """The claim's closed form (rigorously evaluated, as the verifier does) at the context's values overridden."""

    return float(reference_value(ctx.claim.closed_form, ctx.claim.symbolic({**ctx.params, **values}))[0])


def lyapunov_plot(ctx: PlotContext) -> Figure:
    """The spectrum against the index: Newman's formula, the estimates, orthogonal factors; residuals below."""
    n, sd = int(ctx.params["N"]), float(ctx.params["sigma"])
    every = np.arange(1, n + 1)
    formula = np.array([_closed_form_at(ctx, i=int(j)) for j in every])
    indices = spectrum_indices(n)
    pts = ctx.measure("i", indices, resolution=FIGURE_RESOLUTION)
    fig, (top, bottom) = new_figure(2, height=3.3, ratios=(2.3, 1))
    top.plot(every, formula, color="C0", lw=1.1, marker="." if n <= 24 else None, ms=3, zorder=2,
             label=r"$\frac{1}{2}\left[\ln 2\sigma^2+\psi\left(\frac{N-i+1}{2}\right)\right]$")
    top.plot(every, math.log(sd) + 0.5 * np.log(n - every + 1.0), color="0.45", lw=0.8, ls=":", zorder=1,
             label=r"$\ln\sigma+\frac{1}{2}\ln(N-i+1)$ (large $N-i$)")
    top.axhline(math.log(sd), color="C3", lw=0.9, ls="--", zorder=1, label=r"orthogonal factors: $\ln\sigma$")
    draw_points(top, pts, pts.estimate, ctx.error_label, zorder=3)
    top.set_ylabel(r"$\lambda_i$ (nats per factor)")
    top.legend(loc="upper right", handlelength=1.8)
    span = float(formula.max() - formula.min()) or 1.0
    top.set_ylim(min(formula.min(), math.log(sd)) - 0.12 * span, max(formula.max(), math.log(sd)) + 0.75 * span)
    bottom.axhline(0.0, color="C0", lw=0.8)
    bottom.errorbar(pts.x, pts.residual, yerr=pts.error, fmt="o", color="C1", ms=3, elinewidth=0.8)
    if pts.failed.any():
        bottom.plot(pts.x[pts.failed], pts.residual[pts.failed], "x", color="red", ms=6)
    reach = float(np.max(np.abs(pts.residual) + pts.error))
    bottom.set_ylim(-1.3 * reach, 1.3 * reach)
    bottom.set_ylabel(r"$\hat\lambda_i-\lambda_i$")
    bottom.set_xlabel(r"index $i$ ($\lambda_1\geq\cdots\geq\lambda_N$)")
    top.set_xlim(0.5, n + 0.5)
    fig.align_ylabels([top, bottom])
    steps = [v.replicates for v in pts.verdicts]
    fig.set_label(
        f"Lyapunov exponents of products of ${n} \\times {n}$ matrices with iid $\\mathcal{{N}}(0, \\sigma^2)$ entries, "
        f"$\\sigma = {sd:g}$, against the index $i$: Newman's formula (line), the verifier's QR-algorithm estimates at "
        f"{len(indices)} indices ({min(steps)} to {max(steps)} QR steps each, every step an independent replicate; "
        f"points, error bars one standard error, absolute resolution {FIGURE_RESOLUTION:g} nats), the large-$(N - i)$ "
        f"form $\\ln\\sigma + \\ln(N - i + 1)/2$ (dotted) and orthogonal factors, whose exponents are all "
        f"$\\ln\\sigma$ (dashed); bottom: estimate minus formula, in nats per factor."
    )
    return fig


def fuss_catalan_density(L: int, phi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""Points :math:`(x, \rho(x))` of the Fuss-Catalan density of order ``L`` (the limiting law of the
    squared singular values of a product of ``L`` Ginibre factors with variance :math:`1/N`), by its
    parametrization over :math:`0 < \varphi < \pi/(L+1)` (Haagerup and Moller; Neuschel):

    .. math::

        x = \frac{\sin^{L+1}((L+1)\varphi)}{\sin\varphi\,\sin^L(L\varphi)}, \qquad
        \rho = \frac{\sin^2\varphi\,\sin^{L-1}(L\varphi)}{\pi\,\sin^L((L+1)\varphi)}.

    ``L = 1`` is Marchenko-Pastur, :math:`\sqrt{(4-x)/x}/(2\pi)`; the support is
    :math:`(0, (L+1)^{L+1}/L^L]`. Tests check its moments against the Fuss-Catalan numbers.

    >>> x, rho = fuss_catalan_density(1, np.array([np.pi / 4]))
    >>> bool(np.isclose(rho[0], np.sqrt((4 - x[0]) / x[0]) / (2 * np.pi)))
    True
    """
    x = np.sin((L + 1) * phi) ** (L + 1) / (np.sin(phi) * np.sin(L * phi) ** L)
    rho = np.sin(phi) ** 2 * np.sin(L * phi) ** (L - 1) / (np.pi * np.sin((L + 1) * phi) ** L)
    return x, rho


def exact_second_moment(L: int, widths) -> np.ndarray:
    """The exact finite-width m_2(L, N) of :func:`proofs.random_matrices.second_moment`, along ``widths``."""
    import sympy as sp


    f = sp.lambdify(P.N, P.second_moment(L), modules="numpy")
    return np.asarray(f(np.asarray(widths, dtype=float)), dtype=float)


def _histograms(ax, ctx: PlotContext, depths: list[int]) -> None:
    """Squared singular values of Gaussian products (per unit ln s^2) against Fuss-Catalan; orthogonal at 1."""

    b = backend(ctx.backend, ctx.seed + 1)  # independent of the verifier's run with ctx.seed
    edges = np.linspace(math.log(1e-4), math.log(40.0), 61)
    for depth, colour in zip(depths, _DEPTH_COLOURS, strict=False):
        s = product_singular_values(b.xp, b.rng, HISTOGRAM_PRODUCTS, L=depth, N=HISTOGRAM_WIDTH)
        log_s2 = np.log(np.asarray(s.tolist()).ravel() ** 2)
        counts, _ = np.histogram(log_s2, bins=edges)
        density = counts / (log_s2.size * np.diff(edges))  # per unit ln s^2, over all values
        ax.stairs(density, np.exp(edges), color=colour, lw=0.8, alpha=0.9)
        phi = np.linspace(1e-6, math.pi / (depth + 1) - 1e-6, 600)
        x, rho = fuss_catalan_density(depth, phi)
        ax.plot(x, x * rho, color=colour, lw=1.2, label=rf"$L={depth}$")
    ax.axvline(1.0, color="0.15", lw=1.4, ls="-", label="orthogonal, any $L$")
    ax.set_xscale("log")
    ax.set_xlim(1e-4, 40.0)
    ax.set_ylim(0.0, None)
    ax.set_xlabel(r"squared singular value $s^2$ of $P_L$")
    ax.set_ylabel(r"density of $\ln s^2$")
    ax.legend(loc="upper left", handlelength=1.5, ncols=2, columnspacing=0.8)


def isometry_plot(ctx: PlotContext) -> Figure:
    """Singular-value histograms (Gaussian against Fuss-Catalan, orthogonal at 1), and the sweep to L + 1."""
    depth = int(ctx.params["L"])
    depths = sorted({*HISTOGRAM_DEPTHS, depth})
    fig, (top, bottom) = new_figure(2, height=4.4, ratios=(1.15, 1), sharex=False)
    _histograms(top, ctx, depths)
    v = asymptotic_panel(bottom, ctx)
    widths = np.geomspace(v.sweep[0]["x"] / 1.04, 4096.0, 200)
    bottom.plot(1.0 / widths, exact_second_moment(depth, widths), color="0.45", lw=0.8, ls=":", zorder=1,
                label=r"exact $m_2(L,N)$")
    bottom.set_ylabel(rf"$m_2=\frac{{1}}{{N}}\mathbb{{E}}\,\mathrm{{tr}}\,(P^\top P)^2$, $L={depth}$")
    bottom.legend(loc="upper left", handlelength=1.5)
    fig.align_ylabels([top, bottom])
    corrections = ", ".join(f"{b:.3g}" for b in v.fit["corrections"])
    fig.set_label(
        f"Top: density of $\\ln s^2$ for the squared singular values $s^2$ of products $P_L = W_L \\cdots W_1$ of "
        f"${HISTOGRAM_WIDTH} \\times {HISTOGRAM_WIDTH}$ Gaussian factors with $\\mathcal{{N}}(0, 1/N)$ entries "
        f"(histograms of {HISTOGRAM_PRODUCTS} products per depth) against the Fuss-Catalan densities of the limit "
        f"$N \\to \\infty$ (lines) at depths $L = {', '.join(str(d) for d in depths)}$: the spread grows with depth, "
        f"whereas every singular value of a product of orthogonal factors is exactly $1$ (black line). Bottom: the "
        f"verifier's estimates of $m_2 = \\frac{{1}}{{N}} \\mathbb{{E}} \\operatorname{{tr}}((P^\\top P)^2)$ at "
        f"$L = {depth}$ for $N = {', '.join(str(pt['x']) for pt in v.sweep)}$ (points, one standard error) against "
        f"$1/N$, the fitted expansion $a + b_1/N + b_2/N^2$ (dashed; $b = {corrections}$, against the derived "
        f"${depth * (depth + 1) / 2:g}$ and ${(depth - 1) * depth * (depth + 1) / 2:g}$, both tested), its limit "
        f"(diamond), the exact finite-width $m_2(L, N)$ (dotted) "
        f"and the closed form $L + 1 = {depth + 1}$ (line)."
    )
    return fig


register_plots({
    "rmt.lyapunov": lyapunov_plot,
    "residual.isometry": isometry_plot,
})
