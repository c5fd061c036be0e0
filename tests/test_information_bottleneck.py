"""The information bottleneck: the Gaussian IB's critical betas and information curve derived and measured by Chechik
et al.'s iteration, the binned estimate of a deterministic layer derived and computed from joint histograms; the
usual wrong versions rejected, Hypothesis properties linking derivations and kernels, figures and bad input."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import sympy as sp
from estimates import Z
from figure_helpers import assert_bars, errorbar_series, figure_of
from hypothesis import given, settings
from hypothesis import strategies as st

import workbench as wb
from numerics import backend
from numerics import ib_binning as B
from numerics import ib_gaussian as G
from numerics import information_bottleneck as K
from proofs import information_bottleneck as P
from proofs.checks import StepNotChecked
from proofs.steps import hypothesis

GAUSSIAN, BINNING = "ib.gaussian", "ib.binning"


def _np(seed: int):
    b = backend("numpy", seed)
    return b.xp, b.rng


def _curve(rho: float, info_x: float, dimension: int = 1) -> float:
    at = {P.rho: rho, P.info_x: info_x, P.dimension: dimension, P.component: 1, P.quantity: P.QUANTITIES["curve"]}
    return float(P.derive_gaussian().closed_form.subs(at))


# -- derivations ------------------------------------------------------------------------------------------------


def test_gaussian_derivation_rests_on_theorem_3_1_only():
    d = P.derive_gaussian()
    assert d.status == "cited" and d.cited == ["Chechik et al. (2005), Theorem 3.1"]
    assert d.count("checked") >= 18 and "cited theorem" in wb.claim(GAUSSIAN).statement
    at = {P.rho: sp.Rational(3, 5), P.component: 2, P.quantity: P.QUANTITIES["critical"]}
    assert d.closed_form.subs(at) == sp.Rational(5, 3) ** 4  # beta_2 = rho^-4


def test_the_scalar_curve_is_the_usual_formula_and_continuous_across_segments():
    for rho, ix in ((0.6, 1.0), (0.3, 0.2), (0.9, 3.0)):
        assert _curve(rho, ix) == pytest.approx(-0.5 * math.log(1 - rho**2 * (1 - math.exp(-2 * ix))), rel=1e-13)
    rho = 0.6
    for k in (1, 2):
        c = float(P.segment_threshold(k).subs(P.rho, rho))
        left = float(P.segment_curve(k, sp.Float(c), *P._model(k)).subs(P.rho, rho))
        right = float(P.segment_curve(k + 1, sp.Float(c), *P._model(k + 1)).subs(P.rho, rho))
        assert left == pytest.approx(right, rel=1e-12)  # the curve is continuous where a component switches on
    assert _curve(rho, 1.0, 3) > _curve(rho, 1.0, 1)  # more components, more relevant information


def test_the_switch_on_step_refuses_one_over_rho():
    """The usual wrong version at the derivation: the component is not on above 1/r."""
    with pytest.raises(StepNotChecked):
        P.solutions(P.beta * (1 - P.lam) - 1 > 0, P.beta, sp.S.Reals, sp.Interval.open(1 / P.r, sp.oo),
                    uses=[P.define(P.lam, 1 - P.r**2)])


def test_binning_derivation_is_checked_and_noise_breaks_the_identity():
    d = P.derive_binning()
    assert d.status == "checked" and d.count("cited") == 0
    identity = d.steps[4]
    plug_in, entropy, distinct, _ = identity.uses
    noisy = hypothesis(P.n_xt, "=", sp.Rational(1, 2))  # an input's mass spread over two cells
    with pytest.raises(StepNotChecked):
        identity.recheck([plug_in, entropy, distinct, noisy])
    assert sp.simplify(d.closed_form.subs({P.samples: 4096, P.quantity: 1})) == 12


# -- the Gaussian kernels --------------------------------------------------------------------------------------


def test_the_iteration_finds_theorem_3_1s_encoder_in_a_random_basis():
    xp, rng = _np(1)
    p = G.problems(xp, rng, 8, rho=0.6, dimension=3)
    betas = [2.0, 5.0, 12.0, 40.0]
    out = G.ladder_run(xp, rng, p, betas)
    r2 = np.array(G.correlations(0.6, 3)) ** 2
    expected = np.maximum(0.0, (np.array(betas)[:, None] * r2 - 1) / (1 - r2))
    np.testing.assert_allclose(out["u"], np.broadcast_to(expected, out["u"].shape), rtol=1e-9, atol=1e-12)
    assert float(out["skew"].max()) < 1e-10  # diagonal in the canonical basis: a projection on the left eigenvectors


def test_the_pointwise_information_averages_to_the_encoders_own_information():
    xp, rng = _np(2)
    p = G.problems(xp, rng, 1, rho=0.7, dimension=2)
    beta, A, sxi, _ = G.calibrate(xp, rng, p, 0.8)
    ix, iy = (float(v[0]) for v in G.information(xp, A, sxi, p))
    assert ix == pytest.approx(0.8, abs=1e-10)
    pmi = G.pmi_samples(xp, rng, p, A, sxi, 200_000)
    assert abs(pmi.mean() - iy) <= Z * pmi.std() / math.sqrt(pmi.size)
    assert iy == pytest.approx(_curve(0.7, 0.8, 2), rel=1e-9)


# -- claims: verdicts and the usual wrong versions ---------------------------------------------------------------


def test_beta_c_of_one_over_rho_is_rejected_at_the_defaults():
    """The issue's wrong version: beta_c = 1/rho instead of 1/rho^2."""
    c = wb.claim(GAUSSIAN)
    v = wb.verify(c)
    assert v.passed and v.expected == pytest.approx(1 / 0.36) and v.resolution < 1e-9
    assert wb.verify(c.with_closed_form(1 / P.rho)).status == "fail"


def test_the_curve_with_beta_c_one_over_rho_is_rejected():
    c = wb.claim(GAUSSIAN)
    v = wb.verify(c, quantity="curve", resolution=0.03)
    assert v.passed and v.expected == pytest.approx(_curve(0.6, 1.0))
    wrong = -sp.log(1 - P.rho * (1 - sp.exp(-2 * P.info_x))) / 2
    assert wb.verify(c.with_closed_form(wrong), quantity="curve", resolution=0.03).status == "fail"


def test_every_component_of_the_vector_case_switches_on_at_its_beta():
    c = wb.claim(GAUSSIAN)
    v = wb.verify(c, dimension=3, component=3)
    assert v.passed and v.expected == pytest.approx(0.6**-6)
    assert wb.verify(c.with_closed_form(P.rho ** (-P.component)), dimension=3, component=3).status == "fail"


def test_binning_limit_is_log2_n_not_nats_nor_a_count_of_cells():
    c = wb.claim(BINNING)
    for activation in ("tanh", "relu"):
        v = wb.verify(c, activation=activation)
        assert v.passed and v.estimate == 12.0 and v.tolerance < 1e-10
    for wrong in (sp.log(P.samples), sp.log(P.samples + 1, 2), sp.log(P.samples, 2) - 1, sp.Integer(0)):
        assert wb.verify(c.with_closed_form(wrong)).status == "fail"


def _noisy(sigma: float):
    def experiment(xp, rng, budget=None, *, activation, samples, width, quantity):
        out = B.sweep(xp, rng, activation=activation, samples=samples, width=width, noise=sigma, draws=4)
        return B.estimate(xp, out, quantity, samples)

    return experiment


def test_information_computed_as_if_the_layer_were_noisy_is_rejected():
    """The plug-in I(X; T) of a noisy layer, f(x) + N(0, sigma^2) drawn 4 times per input, is not H(T): the identity
    fails (at fine bins I still reaches log2 N while H grows to log2 4N)."""
    c = dataclasses.replace(wb.claim(BINNING), experiment=_noisy(0.05))
    v = wb.verify(c, quantity="identity")
    assert v.status == "fail" and v.estimate < 0.9


def test_a_histogram_of_one_unit_misses_the_limit_the_distances_predict(monkeypatch):
    """Binning only the first unit (a mutation of the histogram) leaves inputs sharing cells at widths far below
    the outputs' smallest distance, found apart by the k-d tree: the limit fails for both layers."""
    cells = B._cells
    monkeypatch.setattr(B, "_cells", lambda xp, t, origin, delta: cells(xp, t[:, :1], origin, delta))
    for activation in B.ACTIVATIONS:
        v = wb.verify(BINNING, activation=activation)
        assert v.status == "fail" and v.estimate < 12.0
        assert any("smallest" in n and not n.endswith(": 0") for n in v.notes)


def test_the_separation_is_the_smallest_chebyshev_distance_between_distinct_rows():
    xp, rng = _np(5)
    t = rng.standard_normal((300, 3))
    t = np.concatenate([t, t[:7]])  # repeated rows do not count
    pairs = np.abs(t[:, None, :] - t[None, :, :]).max(axis=2)
    assert B.separation(t) == pairs[pairs > 0].min()
    assert B.separation(np.zeros((4, 2))) == np.inf


def test_outputs_the_finest_grid_cannot_separate_leave_the_limit_inconclusive(monkeypatch):
    monkeypatch.setattr(B, "FINEST", 2)
    v = wb.verify(BINNING)
    assert v.status == "inconclusive" and any("cannot resolve" in n for n in v.notes)


def test_a_layer_that_is_not_injective_is_inconclusive_for_the_limit():
    v = wb.verify(BINNING, activation="relu", width=1)
    assert v.status == "inconclusive" and any("shared outputs" in n for n in v.notes)
    assert wb.verify(BINNING, activation="relu", width=1, quantity="identity").passed


@pytest.mark.parametrize("claim_id, params, match", [
    (GAUSSIAN, {"component": 2}, "component <= 1"),
    (GAUSSIAN, {"rho": 0.2, "dimension": 3}, "beyond 1e4"),
    (GAUSSIAN, {"rho": 1.0}, "rho=1.0 is outside"),
    (GAUSSIAN, {"info_x": 0.0}, "info_x=0.0 is outside"),
    (GAUSSIAN, {"quantity": "slope"}, "quantity='slope'"),
    (BINNING, {"samples": 1}, "samples=1"),
    (BINNING, {"activation": "sigmoid"}, "activation='sigmoid'"),
])
def test_bad_input_names_the_parameter(claim_id, params, match):
    with pytest.raises(ValueError, match=match):
        wb.verify(claim_id, **params)


# -- properties linking the derivations and the kernels ----------------------------------------------------------


@settings(max_examples=12, deadline=None)
@given(rho=st.floats(0.3, 0.9), beta=st.floats(1.05, 60.0), dimension=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
def test_the_iterations_fixed_point_is_the_derived_minimiser(rho, beta, dimension, seed):
    """Every component's SNR after the iteration from a random start is the derivation's max(0, u*) at lambda_i."""
    u_star = sp.lambdify((P.beta, P.lam), sp.Max(0, (P.beta * (1 - P.lam) - 1) / P.lam))
    xp, rng = _np(seed)
    p = G.problems(xp, rng, 2, rho=rho, dimension=dimension)
    u = G.ladder_run(xp, rng, p, [beta], steps=600)["u"][:, 0, :]
    for i, r in enumerate(G.correlations(rho, dimension)):
        expected = u_star(beta, 1 - r * r)
        slow = abs(beta * r * r - 1) < 0.05  # near a switch-on the iteration converges slowly
        assert u[:, i] == pytest.approx(expected, rel=1e-3 if slow else 1e-8, abs=1e-3 if slow else 1e-9)


@settings(max_examples=12, deadline=None)
@given(activation=st.sampled_from(B.ACTIVATIONS), samples=st.integers(2, 600), width=st.integers(8, 16),
       seed=st.integers(0, 2**32 - 1))
def test_the_binned_estimate_is_the_derived_entropy_and_limit(activation, samples, width, seed):
    limit = float(P.derive_binning().closed_form.subs({P.samples: samples, P.quantity: 1}))
    xp, rng = _np(seed)
    out = B.sweep(xp, rng, activation=activation, samples=samples, width=width)
    for s in out["steps"]:
        assert abs(s["I"] - s["H"]) <= s["I_tol"] + s["H_tol"]
    if out["collisions"] == 0:
        assert abs(out["steps"][-1]["I"] - limit) <= out["steps"][-1]["I_tol"]


def test_partition_counts_every_row_like_numpy_unique():
    xp, rng = _np(4)
    keys = rng.integers(0, 3, size=(500, 3))
    counts, distinct = B.partition(xp, keys)
    _, inverse, reference = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    assert distinct == reference.size and np.array_equal(counts, reference[inverse.ravel()])


# -- figures ----------------------------------------------------------------------------------------------------


def test_gaussian_figure_draws_the_verifier_curve_points():
    from workbench.figures.information_bottleneck import CURVE_POINTS, FIGURE_RESOLUTION

    fig = figure_of(GAUSSIAN)
    (x, y, half), *_ = errorbar_series(fig.axes[0])
    np.testing.assert_array_equal(x, CURVE_POINTS)
    v = wb.verify(GAUSSIAN, seed=2, resolution=FIGURE_RESOLUTION, quantity="curve", info_x=CURVE_POINTS[2])
    assert y[2] == v.estimate
    assert_bars(y[2:3], half[2:3], [v.stderr])
    assert fig.axes[1].get_xscale() == "log" and "$" in fig.get_label()


def test_binning_figure_draws_the_verifier_limits_on_log2_n():
    fig = figure_of(BINNING)
    sweep = fig.axes[2]
    limits = errorbar_series(sweep)
    assert [float(y[0]) for _, y, _ in limits] == [12.0, 12.0]
    curves = [line.get_ydata() for line in sweep.get_lines() if line.get_marker() == "o"]
    assert all(c[-1] == 12.0 and np.all(np.diff(c) >= -1e-9) for c in curves) and len(curves) == 2
    assert len(fig.axes) == 3 and fig.axes[0].get_xlabel() == fig.axes[1].get_xlabel()


def test_unknown_quantities_and_components_are_refused_by_the_kernels():
    xp, rng = _np(0)
    with pytest.raises(ValueError, match="quantity='slope'"):
        K.gaussian_experiment(xp, rng, 2, rho=0.6, info_x=1.0, dimension=1, component=1, quantity="slope")
    with pytest.raises(ValueError, match="component=2"):
        K.gaussian_experiment(xp, rng, 2, rho=0.6, info_x=1.0, dimension=1, component=2, quantity="critical")
    with pytest.raises(ValueError, match="quantity='bits'"):
        K.binning_experiment(xp, rng, None, activation="tanh", samples=8, width=2, quantity="bits")
