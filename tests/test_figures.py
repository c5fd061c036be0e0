"""Figures: every claim draws one, its points are the verifier's runs, and saving is safe."""

import os
import subprocess
import sys

import numpy as np
import pytest
from figure_helpers import assert_bars, errorbar_series, figure_of, plotted_data
from matplotlib.figure import Figure
from user_claim import user_claim

import workbench as wb
from workbench.figures import FORMATS, PLOTS, save
from workbench.files import MARKER, OutputError, owned

CLAIMS = wb.claims()


# --- every registered claim ------------------------------------------------------------------

# slow: each figure reruns its claim's verification at the defaults (about 70 s for the registry on two cores);
# the default run still draws every figure once, in the paper README's command builds (tests/test_latex.py)
@pytest.mark.slow
@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_every_claim_draws_a_labelled_figure_with_latex_axis_labels(claim):
    fig = figure_of(claim.id)
    assert isinstance(fig, Figure) and fig.axes
    caption = fig.get_label()
    assert caption and "\n" not in caption and caption.endswith(".")
    assert all(ax.get_ylabel() for ax in fig.axes)
    assert "$" in fig.axes[0].get_ylabel()
    xlabels = [ax.get_xlabel() for ax in fig.axes if ax.get_xlabel()]
    assert xlabels and all("$" in label for label in xlabels)
    assert any(errorbar_series(ax) for ax in fig.axes), "the verifier's estimates are drawn as error bars"


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_every_built_in_claim_has_its_own_plot(claim):
    """Each area's figures live in the figures module named like its kernels module (init.gain's in
    figures.gains: the initialization figures would pass 400 lines in one module)."""
    area_module = claim.experiment.__module__.rsplit(".", 1)[-1]  # numerics.initialization -> initialization
    expected = "gains" if claim.id == "init.gain" else area_module
    assert PLOTS[claim.id].__module__ == f"workbench.figures.{expected}"


def test_importing_the_workbench_does_not_import_matplotlib():
    code = "import sys, workbench; sys.exit(any(m.split('.')[0] == 'matplotlib' for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# --- the points are the verifier's runs ----------------------------------------------------

def test_margin_points_are_the_verifier_estimates():
    fig = figure_of("xent.margin", K=3)
    (x, y, half), = errorbar_series(fig.axes[0])
    assert x.size == 17 and x[0] == -8 and x[-1] == 8
    verdicts = [wb.verify("xent.margin", seed=i, K=3, m=float(m)) for i, m in enumerate(x)]
    np.testing.assert_array_equal(y, [v.estimate for v in verdicts])
    assert_bars(y, half, [v.tolerance for v in verdicts])
    (_, residual, _), = errorbar_series(fig.axes[1])
    np.testing.assert_allclose(residual, [(v.estimate - v.expected) / v.expected for v in verdicts], rtol=1e-12, atol=0)
    assert "K = 3" in fig.get_label()


def test_margin_window_follows_the_knee_for_many_classes():
    (x, _, _), = errorbar_series(figure_of("xent.margin", K=1_000_000).axes[0])
    assert x.min() < -np.log(1_000_000 - 1) < x.max()


def test_derivative_points_are_finite_differences_for_both_orders():
    fig = figure_of("xent.derivatives")
    first, second = errorbar_series(fig.axes[0])
    for n, (x, y, half) in ((1, first), (2, second)):
        verdicts = [wb.verify("xent.derivatives", seed=i, m=float(m), n=n) for i, m in enumerate(x)]
        np.testing.assert_array_equal(y, [v.estimate for v in verdicts])
        assert_bars(y, half, [v.tolerance for v in verdicts])
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "$L'$ (finite differences)" in legend and "$L''$ (finite differences)" in legend
    assert [len(errorbar_series(ax)) for ax in fig.axes] == [2, 1, 1]


def test_asymptote_points_and_the_naive_kernel_trap():
    fig = figure_of("xent.asymptotes")
    top, bottom = fig.axes
    (x, y, _), = errorbar_series(top)
    np.testing.assert_array_equal(y, [wb.verify("xent.asymptotes", seed=i, m=float(m)).estimate for i, m in enumerate(x)])
    assert top.get_yscale() == bottom.get_yscale() == "log"
    # the closed form is drawn at high precision: no float64 underflow to 0 at |m| = 60
    curve = top.get_lines()[0].get_ydata()
    assert np.all(curve > 0) and curve[0] == pytest.approx(np.exp(-60.0), rel=1e-14)
    texts = " ".join(t.get_text() for t in bottom.texts)
    assert "overflow" in texts and "returns 0" in texts
    assert any(np.allclose(line.get_ydata(), np.finfo(float).eps) for line in bottom.get_lines())


def test_score_identity_points_carry_one_standard_error():
    fig = figure_of("xent.score-identity")
    (x, y, half), = errorbar_series(fig.axes[0])
    np.testing.assert_array_equal(x, [0.25, 0.5, 1, 2, 4, 8, 16])
    verdicts = [wb.verify("xent.score-identity", seed=i, resolution=0.02, K=10, s=float(s)) for i, s in enumerate(x)]
    np.testing.assert_array_equal(y, [v.estimate for v in verdicts])
    assert_bars(y, half, [v.stderr for v in verdicts])
    assert fig.axes[0].get_xscale() == "log"


# --- determinism ------------------------------------------------------------------------------

def test_a_figure_is_deterministic_for_a_seed(tmp_path):
    a, b = (wb.claim("xent.score-identity").figure(seed=5, K=3) for _ in range(2))
    for u, v in zip(plotted_data(a), plotted_data(b), strict=True):
        np.testing.assert_array_equal(u, v)
    assert a.get_label() == b.get_label()
    c = wb.claim("xent.score-identity").figure(seed=6, K=3)
    assert not all(np.array_equal(u, v) for u, v in zip(plotted_data(a), plotted_data(c), strict=True))
    assert save(a, tmp_path / "a.png").read_bytes() == save(b, tmp_path / "b.png").read_bytes()


# --- saving -------------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_save_writes_each_format_atomically_with_the_marker(tmp_path, fmt):
    path = tmp_path / f"fig.{fmt}"
    assert save(figure_of("xent.margin"), path) == path
    assert path.stat().st_size > 1000 and owned(path)
    assert sorted(os.listdir(tmp_path)) == [".workbench-manifest.json", path.name]  # no temporary file left behind
    save(figure_of("xent.margin"), path)  # its own file is overwritten without force
    assert owned(path)


def test_save_content_matches_its_suffix(tmp_path):
    heads = {"pdf": b"%PDF", "png": b"\x89PNG", "svg": b"<?xml", "eps": b"%!PS"}
    for fmt, head in heads.items():
        assert save(figure_of("xent.margin"), tmp_path / f"f.{fmt.upper()}").read_bytes().startswith(head)


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = save(figure_of("xent.margin"), tmp_path / "fig.png")
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OutputError, match="^cannot write .*fig.png: disk full$"):
        save(figure_of("xent.derivatives"), path)
    assert path.read_bytes() == before and sorted(os.listdir(tmp_path)) == [".workbench-manifest.json", "fig.png"]


def test_save_refuses_a_file_it_did_not_write_unless_forced(tmp_path):
    path = tmp_path / "mine.pdf"
    path.write_text("a figure made by hand\n")
    with pytest.raises(OutputError, match="not written by the workbench"):
        save(figure_of("xent.margin"), path)
    assert path.read_text() == "a figure made by hand\n"
    save(figure_of("xent.margin"), path, force=True)
    assert owned(path) and MARKER not in "a figure made by hand"


def test_save_refuses_an_unknown_suffix_and_a_file_for_a_directory(tmp_path):
    with pytest.raises(OutputError, match=r"unknown figure format '\.xyz'"):
        save(figure_of("xent.margin"), tmp_path / "fig.xyz")
    with pytest.raises(OutputError, match="unknown figure format"):
        save(figure_of("xent.margin"), tmp_path / "fig")
    assert os.listdir(tmp_path) == []
    (tmp_path / "plain").write_text("not a directory\n")
    with pytest.raises(OutputError, match="is not a directory"):
        save(figure_of("xent.margin"), tmp_path / "plain" / "fig.pdf")
    assert sorted(os.listdir(tmp_path)) == ["plain"]


def test_save_creates_a_missing_directory(tmp_path):
    path = save(figure_of("xent.margin"), tmp_path / "new" / "deeper" / "fig.pdf")
    assert owned(path) and sorted(os.listdir(path.parent)) == [".workbench-manifest.json", "fig.pdf"]


# --- bad parameters --------------------------------------------------------------------------

# --- a claim without a plot of its own ---------------------------------------------------------

def test_default_plot_draws_a_user_claim_against_its_parameter():
    c = user_claim(low=0.5, high=3.0)
    fig = c.figure()
    top, bottom = fig.axes
    (x, y, half), = errorbar_series(top)
    assert x.min() == 0.5 and x.max() == 3.0
    verdicts = [wb.verify(c, seed=i, sigma=float(s)) for i, s in enumerate(x)]
    np.testing.assert_array_equal(y, [v.estimate for v in verdicts])
    assert_bars(y, half, [v.stderr for v in verdicts])
    assert bottom.get_xlabel() == r"$\sigma$"
    assert "user.gaussian-second-moment" in fig.get_label()


def test_default_plot_stays_inside_an_open_bound():
    fig = user_claim(low=0.0, open_low=True, high=3.0).figure()
    (x, _, _), = errorbar_series(fig.axes[0])
    assert 0.0 < x.min() < 0.01 and x.max() == 3.0


def test_an_asymptotic_panel_draws_the_tabled_run_not_a_new_one():
    """The paper's figure shows the verdict its table reports (here at a per-claim alpha, which changes the
    replicates), so the two agree; without a verdict, or with other parameters, the panel runs its own."""
    from workbench.figures import figure

    tabled = wb.verify("mup.feature-learning", alpha=1.67e-7)
    fresh = wb.verify("mup.feature-learning")
    assert tabled.estimate != fresh.estimate

    def limit_point(fig):
        return next(float(y[0]) for ax in fig.axes for x, y, _ in errorbar_series(ax) if list(x) == [0.0])

    assert limit_point(figure("mup.feature-learning", verdict=tabled)) == tabled.estimate
    assert limit_point(figure("mup.feature-learning")) == fresh.estimate
    assert limit_point(figure("mup.feature-learning", verdict=tabled, parameterization="mup")) != tabled.estimate
