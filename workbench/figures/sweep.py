"""The figure of a sweep (``workbench plot --sweep``): estimates and closed form along one grid axis,
and each point's standardised deviation."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from ..errors import DomainError
from .style import new_figure, styled

if TYPE_CHECKING:
    from ..sweeps import SweepResult

__all__ = ["sweep_figure"]


def sweep_figure(result: SweepResult):
    """The sweep drawn (``workbench plot --sweep``): estimates (+-1 s.e., or the tolerance of an
    exact check) and the closed form against the first numeric grid axis, one series per
    combination of the other axes (at most 8); below, each point's standardised deviation z
    (exact checks: deviation / tolerance). Points rejected family-wise are red crosses."""

    names = list(result.grid)
    numeric = [n for n in names if all(isinstance(x, (int, float)) for x in result.grid[n])]
    xname = numeric[0] if numeric else names[0]
    others = [n for n in names if n != xname]
    groups: dict[tuple, list[int]] = {}
    for i, v in enumerate(result.verdicts):
        groups.setdefault(tuple(v.parameters[n] for n in others), []).append(i)
    if len(groups) > 8:
        raise DomainError(f"the sweep has {len(groups)} series along {xname} (one per value of {', '.join(others)}); "
                         "a figure draws at most 8: sweep fewer values of the other axes")
    with styled():
        fig, (top, bottom) = new_figure(2, height=3.2, ratios=(2.2, 1))
        for k, (combo, idx) in enumerate(groups.items()):
            vs = [result.verdicts[i] for i in idx]
            xs = np.arange(len(vs)) if xname not in numeric else np.array([float(v.parameters[xname]) for v in vs])
            err = np.array([v.stderr if v.kind != "exact" else v.tolerance for v in vs])
            label = ", ".join(f"{n} = {x}" for n, x in zip(others, combo, strict=True)) or "estimate"
            color = f"C{k % 10}"
            top.plot(xs, [v.expected for v in vs], color=color, lw=0.8)
            top.errorbar(xs, [v.estimate for v in vs], yerr=err, fmt="o", color=color, ms=3, elinewidth=0.8, label=label)
            z = np.array([v.z if math.isfinite(v.z) else np.nan for v in vs])
            bottom.plot(xs, z, "o-", color=color, ms=3, lw=0.6)
            bad = [j for j, i in enumerate(idx) if result.rejected[i]]
            if bad:
                top.plot(xs[bad], [vs[j].estimate for j in bad], "x", color="red", ms=7)
                bottom.plot(xs[bad], z[bad], "x", color="red", ms=7)
            if xname not in numeric:
                bottom.set_xticks(xs, [str(v.parameters[xname]) for v in vs])
        bottom.axhline(0.0, color="k", lw=0.6)
        if xname in numeric and all(isinstance(x, int) for x in result.grid[xname]):
            from matplotlib.ticker import MaxNLocator

            bottom.xaxis.set_major_locator(MaxNLocator(integer=True))
        top.set_ylabel("closed form (lines), estimates")
        bottom.set_ylabel("z")
        bottom.set_xlabel(xname)
        top.legend()
        fig.set_label(
            f"Sweep of {result.claim}: closed form (lines) and estimates (points) along {xname}; below, the standardised "
            f"deviation z. Family-wise verdict ({result.method}, alpha {result.alpha:g}): "
            f"{ {'pass': 'passed', 'fail': 'failed', 'inconclusive': 'inconclusive'}[result.status]}.")
    return fig
