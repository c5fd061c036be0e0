"""Figures: the closed form as a curve, the verifier's estimates as points with error bars.

The area modules here (such as :mod:`workbench.figures.cross_entropy`, loaded by
:mod:`workbench.figures.areas`) register their claims' plot functions by claim id; a user's own
claim may pass its ``plot(ctx) -> Figure``; otherwise :func:`default_plot` draws the closed
form against the claim's first numeric parameter. Every point is a real
:func:`~workbench.verify` run (point ``i`` with seed ``seed + i``), so a figure shows exactly
what the verifier measured. Error bars are one standard error for statistical claims and
the kernel's derived tolerance for exact ones.

>>> import workbench as wb
>>> fig = wb.claim("xent.margin").figure(K=3)
>>> [ax.get_ylabel() for ax in fig.axes][:1]
['$L(m)$']
"""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from numerics import backend as make_backend

from .._version import __version__
from ..faces import provide
from ..files import MARKER, OutputError, atomic_write, check_target
from ..plan import as_claim as _as_claim
from ..settings import RunSettings
from ..verification import verify
from .style import new_figure, styled

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..claim_type import Claim

__all__ = ["PlotContext", "Points", "asymptotic_panel", "figure", "default_plot", "save", "FORMATS", "PLOTS", "register_plots"]

FORMATS = ("pdf", "png", "svg", "eps")


@dataclass(frozen=True)
class Points:
    """Verifier runs along one parameter: ``x``, closed form, estimate, error bar, and which verdicts
    failed or were inconclusive."""

    x: np.ndarray
    expected: np.ndarray
    estimate: np.ndarray
    error: np.ndarray
    failed: np.ndarray
    verdicts: tuple

    @property
    def inconclusive(self) -> np.ndarray:
        return np.array([v.status == "inconclusive" for v in self.verdicts], dtype=bool)

    @property
    def residual(self) -> np.ndarray:
        return self.estimate - self.expected


@dataclass(frozen=True)
class PlotContext:
    """What a plot function gets: the claim, its validated parameters, seed and backend, and the verdict of a run
    at exactly these (a paper's table), which an asymptotic panel draws rather than running again."""

    claim: Claim
    params: dict[str, Any]
    seed: int = 0
    backend: str = "numpy"
    verdict: Any = None

    def closed_form(self, vary: str, xs: Sequence[float] | np.ndarray, **overrides: Any) -> np.ndarray:
        """The closed form evaluated (float64) along ``vary``, other parameters from the context."""
        import sympy as sp

        values = self.claim.symbolic({**self.params, **overrides})
        fixed = {p.symbol: values[p.name] for p in self.claim.parameters if p.name != vary}
        expr = self.claim.closed_form.subs(fixed)
        f = sp.lambdify(self.claim.parameter(vary).symbol, expr, modules=["scipy", "numpy"])  # scipy: digamma, erf...
        with np.errstate(all="ignore"):
            return np.broadcast_to(np.asarray(f(np.asarray(xs, dtype=float)), dtype=float), np.shape(xs)).copy()

    def measure(self, vary: str, xs: Sequence[float] | np.ndarray, *, resolution: float | None = None, **overrides: Any) -> Points:
        """One :func:`~workbench.verify` run per value of ``vary`` (seed ``seed + i``)."""

        values = {**self.params, **overrides}
        verdicts = tuple(
            verify(self.claim, backend=self.backend, seed=self.seed + i, resolution=resolution, **{**values, vary: x})
            for i, x in enumerate(xs)
        )
        error = [v.stderr if v.kind != "exact" else v.tolerance for v in verdicts]
        return Points(
            x=np.array([float(x) for x in xs]),
            expected=np.array([v.expected for v in verdicts]),
            estimate=np.array([v.estimate for v in verdicts]),
            error=np.array(error),
            failed=np.array([v.status == "fail" for v in verdicts], dtype=bool),
            verdicts=verdicts,
        )

    @property
    def error_label(self) -> str:
        return r"$\pm 1$ s.e." if self.claim.kind != "exact" else "tolerance"


PLOTS: dict[str, Callable[[PlotContext], Any]] = {}
"""The built-in claims' plot functions by claim id, registered by the area modules (a user's own claim
passes ``plot=`` to its Claim instead)."""


def register_plots(plots: dict[str, Callable[[PlotContext], Any]]) -> None:
    """Register area plot functions by claim id (each figure module does so for its own claims)."""
    PLOTS.update(plots)


def figure(claim: Claim | str, *, seed: int = 0, backend: str = "numpy", verdict: Any = None, **params: Any) -> Figure:
    """The claim's figure at ``params`` (defaults for the rest), a matplotlib Figure sized for one
    column of a paper: the closed form as curves, the verifier's estimates as points with error bars
    (real :func:`~workbench.verify` runs at ``seed``, ``seed + 1``, ... on ``backend``). Its caption is
    ``fig.get_label()`` (text with inline ``$...$`` math); :func:`save` writes it (.pdf, .png, .svg, .eps).
    ``verdict``: a run of this claim at these parameters (the paper's table), which the asymptotic panel draws.

    >>> fig = figure("xent.margin", K=3)
    >>> fig.axes[0].get_ylabel()
    '$L(m)$'
    """

    c = _as_claim(claim)
    values = c.resolve(params)
    RunSettings(backend=backend, seed=seed)  # validated as verify() validates them
    make_backend(backend, seed)  # an unusable backend fails here, before any work
    plot = PLOTS.get(c.id) or c.plot or default_plot
    with styled():
        fig = plot(PlotContext(c, values, seed, backend, verdict if _same_run(verdict, c, values) else None))
    if not fig.get_label():
        fig.set_label(f"Closed form of {c.id} (line) against the verifier's estimates (points).")
    return fig


def _axis_values(p, count: int) -> np.ndarray:
    """Values of parameter ``p`` to plot along: its typical range where that is moderate,
    otherwise a range around its default."""
    low, high = p.typical if p.typical else (p.low, p.high)
    finite = low is not None and high is not None and math.isfinite(low) and math.isfinite(high)
    if not finite or high - low > 1e3 * max(1.0, abs(p.default)):
        width = max(1.0, abs(p.default))
        low, high = p.default - 2 * width, p.default + 2 * width
        low = max(low, p.low) if p.low is not None else low
        high = min(high, p.high) if p.high is not None else high
    margin = 1e-3 * max(1.0, abs(high - low))
    if p.low is not None and p.open_low and low <= p.low:
        low = p.low + margin  # an open bound is not itself in the domain
    if p.high is not None and p.open_high and high >= p.high:
        high = p.high - margin
    xs = np.linspace(low, high, count)
    if p.kind == "integer":
        xs = np.unique(np.round(xs).astype(int))
    return xs


def _same_run(verdict: Any, c: Claim, values: dict[str, Any]) -> bool:
    """Whether ``verdict`` is a run of ``c`` at ``values`` (so a figure may draw it instead of running again)."""
    return verdict is not None and verdict.id == c.id and dict(verdict.parameters) == dict(values)


def asymptotic_panel(ax, ctx: PlotContext, *, resolution: float | None = None, **overrides: Any):
    """An asymptotic claim's check on ``ax``: the sweep's estimates (+-1 s.e.) against the small
    quantity of the expansion (``x^-p`` towards infinity), the fitted expansion, the extrapolated
    limit at 0 (+-1 s.e.) and the closed form. Returns the :class:`~workbench.Verdict` drawn."""

    lim = ctx.claim.limit
    if lim is None:
        raise TypeError(f"{ctx.claim.id} is not an asymptotic claim")
    tabled = ctx.verdict if resolution is None and not overrides else None  # the run the paper's table reports
    v = tabled or verify(ctx.claim, backend=ctx.backend, seed=ctx.seed, resolution=resolution, **{**ctx.params, **overrides})
    if v.fit is None or v.sweep is None:
        raise ValueError(f"{ctx.claim.id}: the run has no sweep to draw")
    xs = np.array([pt["x"] for pt in v.sweep], dtype=float)
    order = v.fit["order"]
    u = lim.scale(xs) ** order
    ax.errorbar(u, [pt["estimate"] for pt in v.sweep], yerr=[pt["stderr"] for pt in v.sweep], fmt="o", color="C1",
                ms=3, elinewidth=0.8, label=rf"estimates at ${lim.tex} = {int(xs[0]) if lim.integer else xs[0]:g}"
                rf", \ldots, {int(xs[-1]) if lim.integer else xs[-1]:g}$")
    dense = np.linspace(0.0, 1.05 * u.max(), 200)
    fitted = v.fit["limit"] + sum(b * dense ** (k + 1) for k, b in enumerate(v.fit["corrections"]))
    ax.plot(dense, fitted, color="C1", lw=0.8, ls="--", label="fitted expansion")
    ax.errorbar([0.0], [v.estimate], yerr=[v.stderr], fmt="D", color="C3", ms=3.5, elinewidth=1.0,
                label="extrapolated limit")
    ax.axhline(v.expected, color="C0", lw=1.0, label="closed form (limit)")
    if v.status != "pass":
        ax.plot([0.0], [v.estimate], "x" if v.status == "fail" else "s", color="red", ms=7, mfc="none",
                label=v.status)
    ax.set_xlabel(rf"${lim.correction_latex(1, order)}$")  # the first correction's power: n^{-2/3}, 1/N -> N^{-1}
    return v


def default_plot(ctx: PlotContext) -> Figure:
    """Closed form against the first numeric parameter (top), residuals with error bars (bottom);
    for an asymptotic claim, the sweep and its extrapolation (:func:`asymptotic_panel`)."""
    if ctx.claim.limit is not None:
        fig, (ax,) = new_figure(1, height=2.5)
        asymptotic_panel(ax, ctx)
        ax.set_ylabel("estimate")
        ax.legend()
        fig.set_label(
            f"{ctx.claim.id}: estimates along the sweep of {ctx.claim.limit.name} (points), the fitted expansion (dashed) "
            f"and its value at {ctx.claim.limit.name} -> {'oo' if ctx.claim.limit.towards == 'infinity' else '0'} "
            "(diamond) against the closed form (line)."
        )
        return fig
    numeric = [p for p in ctx.claim.parameters if p.kind in ("real", "integer")]
    if not numeric:
        raise ValueError(f"{ctx.claim.id} has no numeric parameter to plot against; give the claim a plot function")
    p = next((q for q in numeric if q.kind == "real"), numeric[0])
    xs = _axis_values(p, 9)
    fig, (top, bottom) = new_figure(2, height=3.0, ratios=(2.2, 1))
    dense = np.linspace(xs.min(), xs.max(), 200) if p.kind == "real" else xs
    top.plot(dense, ctx.closed_form(p.name, dense), color="C0", label="closed form")
    pts = ctx.measure(p.name, xs)
    draw_points(top, pts, pts.estimate, ctx.error_label)
    residual_panel(bottom, pts, ctx.claim.scale)
    bottom.set_xlabel(f"${p.tex}$")
    top.set_ylabel("closed form")
    top.legend()
    return fig


def draw_points(ax, pts: Points, y: np.ndarray, label: str, **style: Any) -> None:
    """Estimates as points with error bars; a failed verdict is drawn as a red cross, an inconclusive
    one in an open square."""
    style = {"fmt": "o", "color": "C1", "ms": 3, "elinewidth": 0.8, **style}
    ax.errorbar(pts.x, y, yerr=pts.error, label=f"estimate ({label})", **style)
    if pts.failed.any():
        ax.plot(pts.x[pts.failed], y[pts.failed], "x", color="red", ms=6, label="failed")
    unsure = pts.inconclusive
    if unsure.any():
        ax.plot(pts.x[unsure], y[unsure], "s", color="0.4", mfc="none", ms=6, label="inconclusive")


def residual_panel(ax, pts: Points, scale: str) -> None:
    """Estimate minus closed form (relative to it when the claim's scale is relative)."""
    relative = scale == "relative" and np.all(pts.expected != 0)
    unit = np.abs(pts.expected) if relative else 1.0
    ax.axhline(0.0, color="C0", lw=0.8)
    ax.errorbar(pts.x, pts.residual / unit, yerr=pts.error / unit, fmt="o", color="C1", ms=3, elinewidth=0.8)
    ax.set_ylabel("rel. error" if relative else "error")
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))


def _metadata(fmt: str) -> dict[str, str]:

    creator = f"{MARKER} by workbench {__version__}"
    return {"png": {"Software": creator}}.get(fmt, {"Creator": creator})


def save(fig: Figure, path: str | Path, *, force: bool = False) -> Path:
    """Write ``fig`` atomically to ``path`` (format from its suffix), never over a file the
    workbench did not write unless ``force``."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise OutputError(f"cannot write {path}: unknown figure format {path.suffix!r}; use one of " + ", ".join("." + f for f in FORMATS))
    check_target(path, force=force)
    buffer = io.BytesIO()
    fonttools = logging.getLogger("fontTools")  # it logs the font files' odd timestamps while embedding them
    level = fonttools.level
    fonttools.setLevel(logging.ERROR)
    try:
        with styled():
            fig.savefig(buffer, format=fmt, metadata=_metadata(fmt))
    finally:
        fonttools.setLevel(level)
    return atomic_write(path, buffer.getvalue())


PlotFunction = Callable[[PlotContext], "Figure"]

provide("figure", figure)
