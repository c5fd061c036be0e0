"""Figures of the ``init.*`` claims: every point is a verifier run, every figure is labelled."""

import subprocess
import sys
from itertools import pairwise

import numpy as np
import pytest
from figure_helpers import assert_bars, errorbar_series, figure_of, plotted_data

import workbench as wb
from proofs.mathtext import check, to_latex, to_text
from workbench.figures import PLOTS, save
from workbench.figures.initialization import (
    CRITICAL_CS,
    HE_CS,
    RATE_CS,
    SLOPES,
    depth_grid,
)

INIT = [c.id for c in wb.claims("init")]
TANH_GAIN = 1.5925374197


def curves(ax) -> list:
    """The solid lines without markers: the closed forms."""
    return [line for line in ax.get_lines() if line.get_linestyle() == "-" and line.get_marker() in ("None", "", None)]


def test_the_five_init_claims_have_their_own_plot():
    assert sorted(INIT) == ["init.gain", "init.he-backward", "init.he-forward", "init.relu-critical", "init.xavier"]
    for claim_id in INIT:
        expected = "gains" if claim_id == "init.gain" else "initialization"
        assert PLOTS[claim_id].__module__ == f"workbench.figures.{expected}"


@pytest.mark.parametrize("claim_id", INIT)
def test_every_init_figure_has_a_caption_and_latex_axis_labels(claim_id):
    fig = figure_of(claim_id)
    caption = fig.get_label()
    assert caption and "\n" not in caption and caption.endswith(".")
    check(caption)  # text with inline $...$ math, as in a paper
    shown = to_text(caption)
    assert "$" not in shown and "\\" not in shown, shown  # the terminal reads Unicode
    assert "\\textasciicircum" not in to_latex(caption) and "\\textbar" not in to_latex(caption)
    assert all(ax.get_ylabel() for ax in fig.axes) and "$" in fig.axes[0].get_ylabel()
    ylabels = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()]
    xlabels = [ax.get_xlabel() for ax in fig.axes if ax.get_xlabel()]
    assert xlabels and all("$" in label for label in xlabels + ylabels)
    assert sum(len(errorbar_series(ax)) for ax in fig.axes) >= 2, "the verifier's estimates are drawn as error bars"
    assert fig.get_figwidth() == pytest.approx(3.4)  # one column


# --- the points are the verifier's runs ----------------------------------------------------------

def test_he_forward_points_are_the_verifier_runs_at_consecutive_seeds():
    fig = figure_of("init.he-forward")
    top, bottom = fig.axes
    series = errorbar_series(top)
    depths = depth_grid(20)
    assert len(series) == len(HE_CS) == 3 and top.get_yscale() == "log"
    for j, (c, (x, y, half)) in enumerate(zip(HE_CS, series, strict=True)):
        np.testing.assert_array_equal(x, depths)
        verdicts = [
            wb.verify("init.he-forward", seed=j * len(depths) + i, resolution=0.02, depth=int(L), c=c)
            for i, L in enumerate(x)
        ]
        np.testing.assert_array_equal(y, [v.estimate for v in verdicts])
        assert_bars(y, half, [v.stderr for v in verdicts])
        assert all(v.passed for v in verdicts)
        # bottom: the same runs relative to the closed form, one standard error relative too
        (_, rel, rel_half) = errorbar_series(bottom)[j]
        expected = np.array([v.expected for v in verdicts])
        np.testing.assert_allclose(rel, y / expected - 1, rtol=0, atol=1e-15)
        assert_bars(rel, rel_half, [v.stderr / v.expected for v in verdicts])
    # the lines are the closed form c q0 (c/2)^(L-1) on every depth 1..20
    lines = [line.get_xydata() for line in curves(top)]
    for c, curve in zip(HE_CS, lines, strict=True):
        np.testing.assert_array_equal(curve[:, 0], np.arange(1, 21))
        np.testing.assert_allclose(curve[:, 1], c * (c / 2) ** (curve[:, 0] - 1), rtol=1e-13)
    labels = " ".join(t.get_text() for t in top.texts)
    assert "$c=1.8$" in labels and "$c=2$ (He)" in labels and "$c=2.2$" in labels
    assert "$c = 1.8$, $2$ (He) and $2.2$" in fig.get_label()


def test_he_backward_draws_the_fan_out_ratio_and_the_verifier_runs():
    fig = figure_of("init.he-backward", fan_in=64, fan_out=16, depth=6)
    top = fig.axes[0]
    series = errorbar_series(top)
    x, y, half = series[2]  # c = 2.2, the third series: seeds 12 ... 17
    np.testing.assert_array_equal(x, [1, 2, 3, 4, 5, 6])
    verdicts = [
        wb.verify("init.he-backward", seed=12 + i, resolution=0.02, fan_in=64, fan_out=16, depth=int(L), c=2.2)
        for i, L in enumerate(x)
    ]
    np.testing.assert_array_equal(y, [v.estimate for v in verdicts])
    assert_bars(y, half, [v.stderr for v in verdicts])
    he = curves(top)[1].get_ydata()
    np.testing.assert_allclose(he, 2.0 * 16 / 64, rtol=1e-13)  # c (c/2)^(L-1) n_out/n at c = 2


def test_relu_critical_growth_and_per_layer_rates_are_verifier_runs():
    fig = figure_of("init.relu-critical")
    top, bottom = fig.axes
    depths = depth_grid(10)
    assert len(errorbar_series(top)) == len(CRITICAL_CS) == 5
    (x, y, half), = errorbar_series(bottom)
    np.testing.assert_array_equal(x, RATE_CS)
    first = len(CRITICAL_CS) * len(depths)  # the rates come after the five growth series
    verdicts = [wb.verify("init.relu-critical", seed=first + i, resolution=0.02, depth=1, c=c) for i, c in enumerate(x)]
    np.testing.assert_array_equal(y, [v.estimate for v in verdicts])
    assert_bars(y, half, [v.stderr for v in verdicts])
    # the critical point is marked by a vertical dotted line at c = 2, the phases are named
    assert any(np.all(np.asarray(line.get_xdata()) == 2.0) and line.get_linestyle() == ":" for line in bottom.get_lines())
    words = " ".join(t.get_text() for ax in (top, bottom) for t in ax.texts)
    assert all(w in words for w in ("ordered", "chaotic", "critical"))
    # G(L) = (c/2)^L: the chaotic curves end above 1, the ordered below
    ends = {round(line.get_ydata()[-1], 12) for line in curves(top)}
    assert ends == {round((c / 2) ** 10, 12) for c in CRITICAL_CS}


def test_xavier_points_are_against_the_width_ratio_on_a_log2_axis():
    fig = figure_of("init.xavier")
    ax = fig.axes[0]
    (x, y, half), = errorbar_series(ax)
    outs = [4, 8, 16, 32, 64, 128, 256, 512, 1024]
    np.testing.assert_array_equal(x, np.array(outs) / 64)
    verdicts = [wb.verify("init.xavier", seed=i, resolution=0.02, n_in=64, n_out=n) for i, n in enumerate(outs)]
    np.testing.assert_array_equal(y, [v.estimate for v in verdicts])
    assert_bars(y, half, [v.stderr for v in verdicts])
    assert ax.get_xscale() == "log" and ax.xaxis.get_transform().base == 2
    assert any(np.all(np.asarray(line.get_ydata()) == 1.0) and line.get_linestyle() == "--" for line in ax.get_lines())
    # clipped to the domain of n_out at the extremes
    (x1, _, _), = errorbar_series(figure_of("init.xavier", n_in=1).axes[0])
    np.testing.assert_array_equal(x1, [1, 2, 4, 8, 16])


def test_gain_figure_sets_the_derived_gains_against_the_conventions():
    fig = figure_of("init.gain")
    top, tanh, selu = fig.axes
    (x, y, half), = errorbar_series(top)
    np.testing.assert_array_equal(x, SLOPES)
    np.testing.assert_allclose(top.get_lines()[0].get_ydata()[[0, -1]], [np.sqrt(2), 1.0], rtol=1e-15)
    verdicts = [
        wb.verify("init.gain", seed=i, resolution=0.02, activation="leaky_relu", negative_slope=a) for i, a in enumerate(x)
    ]
    np.testing.assert_array_equal(y, [v.estimate for v in verdicts])
    assert_bars(y, half, [v.stderr for v in verdicts])
    for ax, name, seed, derived, conventional in ((tanh, "tanh", 9, TANH_GAIN, 5 / 3), (selu, "selu", 10, 1.0, 0.75)):
        (_, (estimate,), (err,)), = errorbar_series(ax)
        v = wb.verify("init.gain", seed=seed, resolution=0.02, activation=name)
        assert (estimate, err) == pytest.approx((v.estimate, v.stderr), rel=1e-12)
        lines = {line.get_marker(): line.get_ydata()[0] for line in ax.get_lines()}
        assert lines["D"] == pytest.approx(conventional, rel=1e-15)  # the convention, a diamond
        assert ax.get_lines()[0].get_ydata()[0] == pytest.approx(derived, rel=1e-10)  # the derived gain, a line
        low, high = ax.get_ylim()
        assert low < min(derived, conventional) and max(derived, conventional) < high
    ticks = [t.get_text() for t in tanh.get_xticklabels()]
    assert ticks == ["derived\n1.5925", "PyTorch\n5/3"]
    assert "1.5925" in fig.get_label() and "5/3" in fig.get_label() and "+4.7%" in fig.get_label()


# --- layout -------------------------------------------------------------------------------------------

def test_end_labels_stay_inside_the_axes_and_apart_when_the_curves_crowd():
    fig = figure_of("init.relu-critical", depth=1)  # five curves ending within a factor 1.5, plus two phase names
    top = fig.axes[0]
    low, high = np.log10(top.get_ylim())
    ys = sorted((np.log10(t.xy[1]) - low) / (high - low) for t in top.texts)
    assert len(ys) == len(CRITICAL_CS) + 2
    assert ys[0] > 0 and ys[-1] < 1 and np.min(np.diff(ys)) >= 0.075 - 1e-9


@pytest.mark.parametrize("deepest", [1, 2, 9, 10, 11, 19, 20, 21, 37, 99, 100, 150, 200])
def test_depth_grid_spans_one_to_the_deepest(deepest):
    grid = depth_grid(deepest)
    assert grid[0] == 1 and grid[-1] == deepest and len(grid) <= 11
    assert all(b > a for a, b in pairwise(grid))


# --- determinism and imports ------------------------------------------------------------------------

def test_init_figures_are_deterministic_for_a_seed(tmp_path):
    params = {"fan_in": 32, "depth": 4}
    a, b = (wb.claim("init.he-forward").figure(seed=7, **params) for _ in range(2))
    for u, v in zip(plotted_data(a), plotted_data(b), strict=True):
        np.testing.assert_array_equal(u, v)
    assert a.get_label() == b.get_label()
    assert save(a, tmp_path / "a.png").read_bytes() == save(b, tmp_path / "b.png").read_bytes()
    c = wb.claim("init.he-forward").figure(seed=8, **params)
    assert not all(np.array_equal(u, v) for u, v in zip(plotted_data(a), plotted_data(c), strict=True))


def test_importing_the_init_figures_does_not_import_matplotlib():
    code = (
        "import sys, workbench.figures.initialization, workbench.catalog.initialization; "
        "sys.exit(any(m.split('.')[0] == 'matplotlib' for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
