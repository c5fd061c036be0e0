"""The figure of ``init.gain``: leaky-ReLU gains against the slope, and the tanh and SELU gains
derived against the library conventions (the helpers are those of :mod:`.initialization`)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..catalog.initialization import CONVENTIONS
from . import PlotContext, Points, draw_points, register_plots
from .initialization import SLOPES, _finish, _replicates, _Seeds
from .style import new_figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["gain_plot"]


def _gain_panel(ax: Axes, pts: Points, convention: tuple[str, float], title: str) -> None:
    """Derived gain (closed form and estimate) next to the library convention, on its own scale;
    an arrow from the derived value to the convention, labelled with the relative difference."""
    (derived,), (estimate,), (err,) = pts.expected, pts.estimate, pts.error
    text, conventional = convention
    ax.plot([-0.3, 0.3], [derived, derived], color="C0", lw=1.4, zorder=2)
    ax.plot([0.3, 1.0], [derived, derived], color="C0", lw=0.6, ls=":", zorder=1)
    ax.errorbar([0.0], [estimate], yerr=[err], fmt="o", color="C1", ms=3, elinewidth=0.8, zorder=3)
    if pts.failed.any():
        ax.plot([0.0], [estimate], "x", color="red", ms=6)
    ax.plot([1.0], [conventional], marker="D", ls="none", color="C3", ms=3.8, zorder=3)
    ax.annotate("", xy=(1.0, conventional), xytext=(1.0, derived),
                arrowprops={"arrowstyle": "->", "color": "0.4", "lw": 0.6, "shrinkA": 0, "shrinkB": 3.5})
    gap = (conventional - derived) / derived
    ax.annotate(f"{100 * gap:+.1f}%".replace("-", "\u2212"), xy=(1.0, (conventional + derived) / 2), xytext=(-4, 0),
                textcoords="offset points", ha="right", va="center", fontsize=6.5, color="0.3")
    span = abs(conventional - derived)
    ax.set_ylim(min(derived, conventional) - 0.3 * span, max(derived, conventional) + 0.3 * span)
    ax.set_xlim(-0.55, 1.45)
    ax.set_xticks([0.0, 1.0], [f"derived\n{derived:.4f}", f"PyTorch\n{text}"])
    ax.tick_params(axis="x", length=0, pad=2)
    ax.grid(False, axis="x")
    ax.set_title(title, pad=2)


def gain_plot(ctx: PlotContext) -> Figure:
    """Leaky-ReLU gains sqrt(2/(1 + a^2)) against a; tanh and SELU derived gains against the conventions."""
    # torch.nn.init.calculate_gain's values, kept with the claims (which import this module, hence here)

    seeds = _Seeds(ctx)
    slopes = seeds.measure("negative_slope", SLOPES, resolution=0.02, activation="leaky_relu")
    dense = np.linspace(0.0, 1.0, 201)
    curve = ctx.closed_form("negative_slope", dense, activation="leaky_relu")
    fig, (top, bottom) = new_figure(2, height=3.7, ratios=(1.25, 1), sharex=False)
    top.plot(dense, curve, color="C0", label=r"$\sqrt{2/(1+a^2)}$", zorder=2)
    draw_points(top, slopes, slopes.estimate, ctx.error_label, zorder=3)
    top.annotate(r"ReLU ($a=0$): $\sqrt{2}$", xy=(0.0, math.sqrt(2)), xytext=(5, 5), textcoords="offset points",
                 fontsize=7, ha="left", va="bottom")
    top.annotate(r"linear ($a=1$): $1$", xy=(1.0, 1.0), xytext=(-7, 0), textcoords="offset points",
                 fontsize=7, ha="right", va="center")
    top.set_xlim(-0.04, 1.04)
    top.set_ylim(0.94, 1.5)
    top.set_xlabel(r"leaky-ReLU slope $a$", labelpad=1)
    top.set_ylabel(r"gain $g=1/\sqrt{\mathbb{E}[\phi(z)^2]}$")
    top.legend(loc="upper right", handlelength=1.8)

    spec = bottom.get_subplotspec()
    bottom.remove()
    grid = spec.subgridspec(1, 2, wspace=0.08)
    left, right = fig.add_subplot(grid[0]), fig.add_subplot(grid[1])
    # one point each; the slope a is the claim's own and plays no part for tanh and SELU
    at = [ctx.params["negative_slope"]]
    tanh = seeds.measure("negative_slope", at, resolution=0.02, activation="tanh")
    selu = seeds.measure("negative_slope", at, resolution=0.02, activation="selu")
    _gain_panel(left, tanh, CONVENTIONS["tanh"], r"$\phi=\tanh$")
    _gain_panel(right, selu, CONVENTIONS["selu"], r"$\phi=\mathrm{SELU}$")
    (g_tanh,), (g_selu,) = tanh.expected, selu.expected
    (t_text, t_value), (s_text, s_value) = CONVENTIONS["tanh"], CONVENTIONS["selu"]
    left.set_ylabel(r"gain $g$")
    right.set_ylabel(r"gain $g$", labelpad=1)
    fig.align_ylabels([top, left])
    return _finish(
        fig,
        r"Gains $g = 1/\sqrt{\mathbb{E}[\phi(z)^2]}$, $z \sim \mathcal{N}(0, 1)$, that preserve the second moment "
        r"through an activation $\phi$: for leaky ReLU (top), $g = \sqrt{2/(1 + a^2)}$ against the slope $a$ (line; "
        f"$a = 0$ is ReLU, $a = 1$ linear) with Monte Carlo estimates at {len(SLOPES)} slopes ({_replicates([slopes])} "
        f"draws each; points), and for tanh and SELU (bottom), the derived gains ${g_tanh:.4f}$ (by quadrature) and "
        f"${g_selu:.4f}$ (lines) with their estimates (points) next to the conventions ${t_text}$ and ${s_text}$ of "
        r"PyTorch's $\texttt{calculate\_gain}$ (diamonds), "
        f"{100 * (t_value - g_tanh) / g_tanh:+.1f}% and {100 * (s_value - g_selu) / g_selu:+.1f}% from the derived "
        "values; error bars one standard error.",
    )


register_plots({"init.gain": gain_plot})
