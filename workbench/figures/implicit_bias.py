r"""Figure of ``implicit.max-margin``.

Top: for a few random separable datasets (the claim's ``n`` and ``d``), :math:`\log t\; e(t)/C` of the gradient-
descent iterates against the step count :math:`t` (log axis; thin lines), the derived asymptotic curve
:math:`\log t\; e_\infty(\log t)/C` of each dataset (dashed, from :math:`\tilde w` of Soudry et al.'s eq. 7), and the
Richardson combination :math:`w(t/16) - 4w(t/8) + 4w(t/4)` that the verifier measures (points): the iterates approach
their derived curves as :math:`1/t`, the curves approach 1 as :math:`1 - a/\log t`. A rate :math:`1/t` would send
every curve to 0. Bottom: the verifier's means of R against :math:`t^{-3/4}` and their extrapolation
(:func:`asymptotic_panel`).

The top panel uses seed ``seed + 1``; the bottom one ``seed``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from numerics import backend
from numerics.implicit_bias import richardson, trajectories

from . import PlotContext, asymptotic_panel, register_plots
from .style import new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["DATASETS", "STEPS", "max_margin_plot", "asymptote"]

DATASETS = 6
STEPS = tuple(2**k for k in range(2, 13))  # recorded iterates: t = 4, ..., 4096


def asymptote(log_t, offset, constant) -> np.ndarray:
    r""":math:`\log t\; e_\infty(\log t)/C`, :math:`e_\infty = \sqrt{2 - 2x/\sqrt{x^2 + C^2}}`, :math:`x = \log t + a`
    (``proofs.implicit_bias.direction_error``), for arrays broadcasting together."""
    x = np.asarray(log_t, dtype=float) + offset
    return np.asarray(log_t) * np.sqrt(2.0 - 2.0 * x / np.sqrt(x * x + constant * constant)) / constant


def max_margin_plot(ctx: PlotContext) -> Figure:
    """Per-dataset trajectories with their derived curves (top); the verifier's sweep and extrapolation (bottom)."""

    n, d = int(ctx.params["n"]), int(ctx.params["d"])
    fig, (top, bottom) = new_figure(2, height=4.8, ratios=(1.3, 1), sharex=False)
    b = backend(ctx.backend, ctx.seed + 1)
    r = trajectories(b.xp, b.rng, DATASETS, n, d, STEPS)
    ts = np.asarray(r["steps"])
    logs = np.log(ts)
    ws = dict(zip(STEPS, r["iterates"], strict=True))
    combined_t = np.array([16 * t for t in STEPS if t >= 64 and 4 * t in ws], dtype=float)
    dense = np.exp(np.linspace(np.log(ts[0]), np.log(16 * ts[-1]), 200))
    for k in range(DATASETS):
        colour = f"C{k % 10}"
        c, a = r["constant"][k], r["offset"][k]
        top.plot(ts, logs * r["error"][:, k] / c, color=colour, lw=0.7, alpha=0.8,
                 label="iterates $w(t)$" if k == 0 else None)
        top.plot(dense, asymptote(np.log(dense), a, c), color=colour, lw=0.8, ls="--",
                 label=r"derived $\log t\, e_\infty/C$" if k == 0 else None)
        rich = []
        for t in combined_t:
            t4 = int(t) // 16
            wr = richardson(ws[t4][:, k], ws[2 * t4][:, k], ws[4 * t4][:, k])
            u = wr / np.linalg.norm(wr)
            v = r["w_hat"][k] / np.linalg.norm(r["w_hat"][k])
            rich.append(np.log(t) * np.linalg.norm(u - v) / c)
        top.plot(combined_t, rich, "o", color=colour, ms=2.5, mfc="none", mew=0.8,
                 label=r"$w(t/16) - 4w(t/8) + 4w(t/4)$" if k == 0 else None)
    top.axhline(1.0, color="0.2", lw=0.8, label="limit 1 (rate $C/\\log t$)")
    top.set_xscale("log")
    top.set_xlabel(r"steps $t$ (circles: $w_R$ at $t$, from $t/4$ steps)")
    top.set_ylabel(r"$\log t\;\|w/\|w\| - \hat w/\|\hat w\|\|\,/\,C$")
    top.legend(loc="lower right", fontsize="x-small", ncol=1)
    v = asymptotic_panel(bottom, ctx)
    bottom.set_ylabel(r"mean of $R = 1 + \log t\,(e(w_R) - e_\infty)/C$")
    bottom.legend(loc="best", fontsize="x-small")
    fig.align_ylabels([top, bottom])
    sweep = ", ".join(str(pt["x"]) for pt in v.sweep)
    fig.set_label(
        f"Top: {DATASETS} random separable datasets of $n = {n}$ points in $\\mathbb{{R}}^{{{d}}}$ trained by gradient "
        r"descent on the logistic loss ($\eta = 4/\sigma_{\max}^2$, from $w = 0$): $\log t$ times the distance between "
        r"$w(t)/\|w(t)\|$ and the max-margin direction, in units of each dataset's derived constant "
        r"$C = \|P_\perp\tilde w\|/\|\hat w\|$ (lines), the derived asymptotic curves (dashed) and the Richardson "
        r"combination the verifier measures (circles), against the step count; a rate $1/t$ would send every curve "
        r"to $0$. Bottom: the verifier's means over independent datasets of $R$, the measured error against the "
        r"error $e_\infty(\log t)$ of $\hat w\log t + \tilde w$ itself in units of $C/\log t$ (which removes each "
        f"dataset's offset), at $t = {sweep}$ against $t^{{-3/4}}$, the fitted expansion in $t^{{-3/4}}$ and $t^{{-3/2}}$ "
        r"(dashed), its limit (diamond) and the closed form $1$ (line)."
    )
    return fig


register_plots({
    "implicit.max-margin": max_margin_plot,
})
