"""Reading back what a figure drew (shared by the figure tests)."""

from __future__ import annotations

from functools import cache

import numpy as np
from matplotlib.container import ErrorbarContainer
from matplotlib.figure import Figure

import workbench as wb


@cache
def figure_of(claim_id: str, seed: int = 0, **params) -> Figure:
    return wb.claim(claim_id).figure(seed=seed, **params)


def errorbar_series(ax) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(x, y, half-width of the error bar) of every errorbar drawn on ``ax``, in drawing order."""
    out = []
    for container in ax.containers:
        if isinstance(container, ErrorbarContainer):
            data_line, _, (bars,) = container.lines
            x, y = (np.asarray(v, dtype=float) for v in data_line.get_data())
            half = np.array([abs(seg[1, 1] - seg[0, 1]) / 2 for seg in bars.get_segments()])
            out.append((x, y, half))
    return out


def assert_bars(y, half, expected):
    """Error bars equal ``expected``, up to the rounding of y +- error in the drawn segments."""
    np.testing.assert_allclose(half, expected, rtol=1e-9, atol=4 * np.finfo(float).eps * np.max(np.abs(y)))


def plotted_data(fig: Figure) -> list[np.ndarray]:
    return [np.asarray(line.get_xydata()) for ax in fig.axes for line in ax.get_lines()]
