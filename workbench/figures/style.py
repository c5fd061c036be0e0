"""One look for every figure: one-column paper width, serif text, LaTeX (mathtext) labels.

Figures are plain :class:`matplotlib.figure.Figure` objects (no pyplot global state), so
they are safe in scripts, tests and notebooks alike.
"""

from __future__ import annotations

import contextlib
from typing import Any

__all__ = ["COLUMN_WIDTH", "STYLE", "new_figure", "styled"]

COLUMN_WIDTH = 3.4  # inches: one column of a two-column paper (about 86 mm)

STYLE: dict[str, Any] = {
    "font.family": "serif",
    "font.serif": ["DejaVu Serif"],
    "mathtext.fontset": "cm",
    "font.size": 8,
    "axes.labelsize": 8,
    "axes.titlesize": 8,
    "legend.fontsize": 7,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "lines.linewidth": 1.1,
    "lines.markersize": 3.5,
    "errorbar.capsize": 1.5,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "grid.linewidth": 0.5,
    "legend.frameon": False,
    "savefig.bbox": "tight",
    "savefig.dpi": 300,  # PNGs sharp enough for slides and print
    "savefig.pad_inches": 0.02,
    "pdf.fonttype": 42,  # TrueType: text stays text in the PDF
}


@contextlib.contextmanager
def styled():
    import matplotlib

    with matplotlib.rc_context(STYLE):
        yield


def new_figure(rows: int = 1, *, height: float = 2.4, ratios: tuple[float, ...] | None = None, sharex: bool = True):
    """A one-column figure with ``rows`` stacked axes (call inside :func:`styled`)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(COLUMN_WIDTH, height), layout="constrained")
    axes = fig.subplots(rows, 1, sharex=sharex, squeeze=False, gridspec_kw={"height_ratios": ratios} if ratios else None)
    return fig, [row[0] for row in axes]
