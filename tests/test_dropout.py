"""Dropout: the ridge identity and the NWGM derived from the Bernoulli law, the kernels against them (every mask
enumerated, Monte Carlo, averaged SGD), the usual wrong versions rejected, Hypothesis properties linking the two,
figures and bad input."""

from __future__ import annotations

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
from numerics import dropout as K
from proofs import dropout as P
from proofs.checks import StepNotChecked
from proofs.steps import hypothesis
from workbench.catalog.dropout import LATTICE_LIMIT, lattice_constraint

RIDGE, SCALING = "dropout.ridge", "dropout.weight-scaling"
LAMBDA = (1 - P.q) / P.q


def _np(seed: int):
    b = backend("numpy", seed)
    return b.xp, b.rng


def _z(values: np.ndarray, expected: float) -> float:
    return (values.mean() - expected) / (values.std(ddof=1) / math.sqrt(values.size))


# -- derivations ---------------------------------------------------------------------------------------


def test_ridge_derivation_is_checked_from_the_bernoulli_law_row_by_row():
    d = P.derive_ridge()
    assert d.status == "checked" and d.count("cited") == 0 and sp.simplify(d.closed_form - LAMBDA) == 0
    assert sum(s.is_hypothesis for s in d.steps) == 3  # the law of a mask entry, squared, and independence
    per_row = d.steps[9]
    assert per_row.lhs.has(P.Expectation) and per_row.rhs.has(P.r)
    assert [d.number(p) for p in per_row.uses] == [3, 5, 9]
    moments = [s for s in d.steps if s.status == "checked" and s.uses and s.uses[0].is_hypothesis and len(s.uses) == 1]
    assert [m.rhs for m in moments] == [0, LAMBDA]  # E eps = 0, E eps^2 = (1 - q)/q, from the sums over {0, 1}
    enumerated, gradient, ridge_gradient = d.remarks
    assert enumerated.status == gradient.status == ridge_gradient.status == "checked"


def test_the_non_inverted_mask_gives_another_second_moment_and_is_refused():
    """Without the 1/q the centred mask has second moment q(1 - q), not (1 - q)/q: the step is not confirmed."""
    second = next(s for s in P.derive_ridge().steps if s.rhs == LAMBDA)
    law = second.uses[0]
    unscaled = hypothesis(law.lhs, "=", P._bernoulli((1 - P.beta) ** 2))  # epsilon = 1 - m
    with pytest.raises(StepNotChecked):
        second.recheck([unscaled])
    with pytest.raises(StepNotChecked):
        P.equal(law.rhs, 1 - P.q)  # the penalty without its 1/q


def test_enumerating_every_mask_refuses_the_penalty_without_its_one_over_q_or_on_the_norm():
    enumerated = P.derive_ridge().remarks[0]
    lam = (1 - P.q) / P.q
    x1, x2, w1, w2 = sp.symbols("x_1 x_2 w_1 w_2", real=True)
    base = enumerated.rhs - lam * (x1**2 * w1**2 + x2**2 * w2**2)
    for wrong in (base + (1 - P.q) * (x1**2 * w1**2 + x2**2 * w2**2), base + lam * (w1**2 + w2**2)):
        with pytest.raises(StepNotChecked):
            P.equal(enumerated.lhs, wrong)


def test_weight_scaling_closed_form_is_q_for_the_softmax_and_one_for_the_relu_bound():
    d = P.derive_weight_scaling()
    at = {P.q: sp.Rational(3, 10)}
    assert d.closed_form.subs({**at, P.quantity: P.QUANTITIES["softmax"]}) == sp.Rational(3, 10)
    assert d.closed_form.subs({**at, P.quantity: P.QUANTITIES["relu"]}) == 1
    assert d.status == "cited"
    assert d.cited == ["Casella and Berger (2002), Theorem 2.2.5", "Casella and Berger (2002), Section 4.7"]
    assert "cited theorems" in wb.claim(SCALING).statement
    steps = {s.lhs: d.number(s) for s in d.steps if s.status != "definition"}
    # the step numbers the reasons quote
    assert steps[sp.Abs(P.z)] == 15 and d.steps[17].lhs == sp.Subs(P.Rho, P.mu, 0) and d.steps[20].lhs == P.R
    assert d.steps[18].lhs == 0 and d.steps[18].rhs == P.Gap and d.steps[19].rel == "<="  # (19) sign, (20) spread
    assert "(15) holds" in d.steps[15].reason and "by (14) and (16)" in d.steps[20].reason
    assert "(19) and (20)" in d.steps[20].reason and "(21)" in d.steps[21].reason
    softmax = d.steps[8]
    assert softmax.lhs == P.S and softmax.rhs == P.q and softmax.status == "checked"


def test_weight_scaling_displays_its_content_not_the_encoding():
    """The theorem and the proof's conclusion print NWGM = softmax(sWh + b) and the chain of ReLU bounds; the
    verifier's encoding (the sharp constants q and 1) is the right-hand side only."""
    from workbench.tex import proof, theorem

    c = wb.claim(SCALING)
    for text in (theorem(c), proof(c.derivation)):
        assert r"\mathrm{NWGM}" in text and r"\operatorname{softmax}(sWh + b)" in text
        assert r"\sqrt{\operatorname{Var} z}" in text and r"\min\{\rho" in text
        assert "Q =" not in text
    assert r"\mathbb{E}|z - \mathbb{E}z|/2 \le \sqrt{\operatorname{Var} z}/2" in c.statement
    assert "by design" in c.statement and any("by design" in n for n in wb.verify(SCALING, quantity="relu").notes)


def test_the_nwgm_step_fails_if_units_were_kept_with_probability_one_over_q():
    d = P.derive_weight_scaling()
    mean_log = d.steps[4]
    geometric, log_softmax, mean = mean_log.uses
    wrong = hypothesis(mean.lhs, "=", 1 / P.q)
    with pytest.raises(StepNotChecked):
        mean_log.recheck([geometric, log_softmax, wrong])


def test_abs_at_most_checks_the_triangle_inequality_and_refuses_a_false_bound():
    a, b = sp.symbols("a b", real=True)
    assert "4 cases" in P.abs_at_most(a + b, sp.Abs(a) + sp.Abs(b), "", change={}, signs=(a, b)).how
    with pytest.raises(StepNotChecked):
        P.abs_at_most(a + b, sp.Abs(a), "", change={}, signs=(a, b))


# -- the enumeration kernels -----------------------------------------------------------------------------


def test_the_lattice_mean_is_the_probability_weighted_sum_over_masks():
    xp, rng = _np(0)
    n, q = 5, 0.3
    masks = K.mask_lattice(xp, n)
    assert masks.shape == (32, 5) and masks[1].tolist() == [0, 0, 0, 0, 1] and masks[16].tolist() == [1, 0, 0, 0, 0]
    values = rng.standard_normal((2, 32, 3))
    weights = np.prod(np.where(masks == 1, q, 1 - q), axis=1)
    np.testing.assert_allclose(K.lattice_mean(xp, values, q, n), np.einsum("m,bmk->bk", weights, values), rtol=0, atol=1e-15)


@pytest.mark.parametrize("units", [1, 2, 7, 12, 16])
def test_nwgm_is_the_weight_scaled_softmax_within_the_rounding_bound(units):
    xp, rng = _np(units)
    out = K.nwgm_check(xp, rng, q=0.3, units=units, outputs=6)
    ok = out["valid"]
    assert ok.sum() >= 5  # one reference class per network; a network whose hidden units are all off ties every pair
    assert np.all(np.abs(out["scale"][ok] - 0.3) <= out["tolerance"][ok])
    assert np.all(out["tolerance"][ok] < 1e-9)
    np.testing.assert_allclose(out["nwgm"], out["scaled"], atol=1e-13, rtol=0)


def test_the_arithmetic_mean_is_not_a_weight_scaled_softmax():
    """The kernel-level mutation: the arithmetic mean of the sub-networks in place of the NWGM."""
    xp, rng = _np(3)
    out = K.nwgm_check(xp, rng, q=0.5, units=10, outputs=8)
    ok = out["valid"]
    off = np.abs(out["arithmetic"][ok] - 0.5) / out["tolerance"][ok]
    assert off.max() > 1e9 and np.median(off) > 1e6
    assert np.abs(out["mean"] - out["scaled"]).max() > 1e-2


def test_relu_gaps_stay_below_both_bounds_and_reach_the_first_at_zero_mean():
    xp, rng = _np(5)
    out = K.relu_check(xp, rng, q=0.4, units=9, outputs=12, networks=8)
    ok, ratio, tol = out["valid"], out["ratio"], out["tolerance"]
    assert ok.all() and np.all(ratio <= 1 + tol) and np.all(ratio >= -tol)
    np.testing.assert_allclose(ratio[:, 0], 1.0, atol=float(tol[:, 0].max()))  # the tuned units, E z = 0 exactly
    assert np.all(out["mean"][:, 0] == 0) or np.abs(out["mean"][:, 0]).max() < 1e-12
    assert np.all(out["gap"] <= out["sd_bound"] * (1 + 1e-12))
    np.testing.assert_allclose(out["variance"], out["derived"], rtol=1e-12)  # Var z = q(1 - q) sum_j V_j^2 x_j^2
    assert ratio[:, 1:].max() < 1 and ratio[:, 1:].min() >= -1e-12


# -- the ridge kernels -----------------------------------------------------------------------------------


@pytest.mark.parametrize("q", [0.1, 0.5, 0.8, 0.95])
def test_monte_carlo_over_masks_gives_the_coefficient(q):
    xp, rng = _np(int(100 * q))
    stat = K.ridge_identity(xp, rng, 4000, q=q, features=5, samples=12)
    assert abs(_z(stat, (1 - q) / q)) < Z


@pytest.mark.parametrize("penalty", ["isotropic", "norm"])
def test_a_penalty_on_the_norm_of_w_instead_of_diag_xtx_is_rejected(penalty):
    """The mutation: Lambda ||w||^2 (or the isotropic ridge of the same mean strength) in place of
    Lambda sum_j ||x_j||^2 w_j^2, by Monte Carlo over masks and through averaged SGD."""
    xp, rng = _np(11)
    stat = K.ridge_identity(xp, rng, 4000, q=0.8, features=8, samples=32, penalty=penalty)
    assert abs(_z(stat, 0.25)) > 3 * Z
    sgd, _ = K.ridge_sgd(xp, rng, 128, q=0.8, features=8, samples=32, penalty=penalty)
    assert abs(_z(sgd, 0.25)) > Z


def test_averaged_sgd_with_dropout_reaches_the_ridge_solution_not_the_least_squares():
    xp, rng = _np(12)
    stat, bias = K.ridge_sgd(xp, rng, 128, q=0.6, features=6, samples=20)
    assert abs(_z(stat, 0.4 / 0.6)) < Z and bias.max() < 1e-6
    trace = K.sgd_trace(xp, rng, q=0.6, features=6, samples=20, runs=8, checkpoints=[10, 1000])
    early, late = (np.median(d) for d in trace["distance"])
    assert late < early and late < trace["ols"] / 5 and late < trace["isotropic"] / 5


def test_the_sgd_schedule_contracts_as_derived():
    eta, rho, burn = K.sgd_schedule(0.8, 8, 32)
    assert eta == pytest.approx(32 * 0.64 / 16) and rho == pytest.approx(1 - 0.16 / 8)
    assert rho**burn <= K.TRANSIENT < rho ** (burn - 1)


# -- properties linking the derivations and the kernels ------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(q=st.floats(0.05, 0.95), features=st.integers(1, 7), samples=st.integers(1, 6), seed=st.integers(0, 2**32 - 1))
def test_every_mask_enumerated_gives_the_derived_penalty(q, features, samples, seed):
    """The derivation's closed form against the exact mask average (the lattice of every mask, one for all
    rows) of the dropout loss on a random problem, at float64 rounding."""
    xp, rng = _np(seed)
    lam = float(P.derive_ridge().closed_form.subs(P.q, q))
    x = rng.standard_normal((samples, features)) * np.array(K.column_scales(features))
    w, y = rng.standard_normal(features), rng.standard_normal(samples)
    masks = K.mask_lattice(xp, features)
    loss = np.sum((y[None, :] - (masks * w / q) @ x.T) ** 2, axis=1)  # (2^d,)
    mean = K.lattice_mean(xp, loss[None, :, None], q, features)[0, 0]
    penalty = np.sum(np.sum(x**2, axis=0) * w**2)
    base = np.sum((y - x @ w) ** 2)
    scale = np.sum((np.abs(y)[None, :] + np.abs(masks * w / q) @ np.abs(x).T) ** 2) / 2**features + base
    assert abs((mean - base) - lam * penalty) <= 1e-12 * scale


@settings(max_examples=15, deadline=None)
@given(q=st.floats(0.01, 0.99), units=st.integers(1, 11), outputs=st.integers(2, 9), seed=st.integers(0, 2**32 - 1))
def test_the_nwgm_scale_is_the_derived_closed_form_for_any_layer(q, units, outputs, seed):
    expected = float(P.derive_weight_scaling().closed_form.subs({P.q: q, P.quantity: P.QUANTITIES["softmax"]}))
    xp, rng = _np(seed)
    out = K.nwgm_check(xp, rng, q=q, units=units, outputs=outputs)
    ok = out["valid"]
    assert np.all(np.abs(out["scale"][ok] - expected) <= out["tolerance"][ok])


@settings(max_examples=15, deadline=None)
@given(q=st.floats(0.01, 0.99), units=st.integers(2, 11), seed=st.integers(0, 2**32 - 1))
def test_no_relu_unit_exceeds_the_derived_supremum(q, units, seed):
    top = float(P.derive_weight_scaling().closed_form.subs({P.q: q, P.quantity: P.QUANTITIES["relu"]}))
    xp, rng = _np(seed)
    out = K.relu_check(xp, rng, q=q, units=units, outputs=5)
    ok = out["valid"]
    assert np.all(out["ratio"][ok] <= top + out["tolerance"][ok])
    assert np.all(np.abs(out["ratio"][:, 0] - top) <= out["tolerance"][:, 0])


# -- claims: verdicts and the usual wrong versions ----------------------------------------------------------


def test_the_penalty_without_its_one_over_q_is_rejected():
    c = wb.claim(RIDGE)
    assert wb.verify(c).passed
    v = wb.verify(c.with_closed_form(1 - P.q))
    assert v.status == "fail" and v.mutated


@pytest.mark.parametrize("wrong", [1 / P.q, sp.Integer(1), 2 * P.q])
def test_weight_scaling_by_one_over_q_or_none_is_rejected(wrong):
    """Scale 1/q (inverted dropout's factor at the wrong place), no scaling at all, twice the scale."""
    assert wb.verify(wb.claim(SCALING).with_closed_form(wrong), q=0.3).status == "fail"


@pytest.mark.parametrize("wrong", [sp.Integer(0), sp.Rational(1, 2)])
def test_a_relu_gap_of_zero_or_half_the_bound_is_rejected(wrong):
    """Weight scaling equal to the mask average (no gap), or a bound twice too loose."""
    assert wb.verify(wb.claim(SCALING).with_closed_form(wrong), quantity="relu").status == "fail"


def test_the_verdicts_report_the_arithmetic_mean_and_the_bounds():
    soft = wb.verify(SCALING, units=8)
    assert soft.passed and soft.expected == 0.5 and soft.tolerance < 1e-12
    assert any("arithmetic mean" in note and not note.endswith(": 0") for note in soft.notes)
    relu = wb.verify(SCALING, quantity="relu")
    assert relu.passed and relu.expected == 1
    assert all(note.endswith(": 0") for note in relu.notes if "beyond rounding" in note)


def test_sgd_verifies_the_ridge_coefficient():
    v = wb.verify(RIDGE, quantity="sgd", features=4, samples=16, resolution=0.02)
    assert v.passed and v.tolerance < 1e-6 * v.expected
    assert wb.verify(wb.claim(RIDGE).with_closed_form(1 - P.q), quantity="sgd", features=4, samples=16,
                     resolution=0.02).status == "fail"


@pytest.mark.parametrize("claim_id, params", [
    (RIDGE, {"q": 0.05, "features": 1, "samples": 1}),
    (RIDGE, {"q": 0.95, "features": 16, "samples": 3}),
    (SCALING, {"q": 0.01, "units": 2, "outputs": 2}),
    (SCALING, {"q": 0.99, "units": 16, "outputs": 2, "quantity": "relu"}),
])
def test_the_dropout_claims_pass_at_the_edges_of_their_domains(claim_id, params):
    assert wb.verify(claim_id, resolution=0.05, **params).status == "pass"


@pytest.mark.parametrize("claim_id, params, match", [
    (RIDGE, {"q": 1.0}, "q=1.0 is outside"),
    (RIDGE, {"features": 0}, "features=0"),
    (RIDGE, {"quantity": "exact"}, "quantity='exact'"),
    (SCALING, {"units": 1}, "units=1"),
    (SCALING, {"units": 16, "outputs": 64}, "use outputs <= 32"),
])
def test_bad_input_names_the_parameter(claim_id, params, match):
    with pytest.raises(ValueError, match=match):
        wb.verify(claim_id, **params)


def test_the_lattice_constraint_is_exact_at_its_limit():
    assert lattice_constraint({"units": 16, "outputs": LATTICE_LIMIT // 2**16}) is None
    assert lattice_constraint({"units": 16, "outputs": LATTICE_LIMIT // 2**16 + 1})


def test_unknown_quantities_and_penalties_are_refused_by_the_kernels():
    xp, rng = _np(0)
    with pytest.raises(ValueError, match="quantity='gap'"):
        K.weight_scaling_experiment(xp, rng, None, q=0.5, units=3, outputs=2, quantity="gap")
    with pytest.raises(ValueError, match="penalty='l1'"):
        K.ridge_identity(xp, rng, 2, q=0.5, features=2, samples=2, penalty="l1")


# -- figures -----------------------------------------------------------------------------------------------


@pytest.mark.slow  # three SGD verdicts and seven Monte Carlo ones
def test_ridge_figure_points_are_the_verifier_runs():
    from workbench.figures.dropout import FIGURE_RESOLUTION, IDENTITY_KEEPS

    fig = figure_of(RIDGE)
    (x, y, half), sgd = errorbar_series(fig.axes[0])
    np.testing.assert_array_equal(x, IDENTITY_KEEPS)
    verdicts = [wb.verify(RIDGE, seed=i, resolution=FIGURE_RESOLUTION, q=float(q)) for i, q in enumerate(x)]
    np.testing.assert_array_equal(y, [v.estimate for v in verdicts])
    assert_bars(y, half, [v.stderr for v in verdicts])
    assert fig.axes[0].get_yscale() == fig.axes[1].get_xscale() == "log"
    _the_coefficient_is_capital_lambda_and_no_index_is_free(fig)


def _the_coefficient_is_capital_lambda_and_no_index_is_free(fig) -> None:
    """The coefficient is the theorem's Lambda (not the product gate's lambda), and the isotropic ridge's legend
    names the mean column norm tr(X^T X)/d (no free index j)."""
    texts = [fig.axes[0].get_ylabel(), *(t.get_text() for ax in fig.axes for t in ax.get_legend().get_texts()),
             fig.get_label()]
    assert not any("\\lambda" in t for t in texts) and "\\Lambda" in fig.axes[0].get_ylabel()
    isotropic = next(t for t in texts if t.startswith("isotropic ridge"))
    assert "x_j" not in isotropic and "\\operatorname{tr}(X^\\top X)" in isotropic


def test_weight_scaling_figure_draws_the_nwgm_runs_with_their_tolerances():
    from workbench.figures.dropout import FIGURE_RESOLUTION, SCALE_KEEPS

    fig = figure_of(SCALING, units=8)
    (x, y, half), = errorbar_series(fig.axes[0])
    np.testing.assert_array_equal(x, SCALE_KEEPS)
    verdicts = [wb.verify(SCALING, seed=i, resolution=FIGURE_RESOLUTION, units=8, q=float(q)) for i, q in enumerate(x)]
    np.testing.assert_array_equal(y, [v.estimate for v in verdicts])
    assert_bars(y, half, [v.tolerance for v in verdicts])
    assert len(fig.axes) == 3 and "$" in fig.axes[2].get_xlabel()
    fig.canvas.draw()  # the top legend stays inside the axes, clear of the y tick labels
    legend = fig.axes[0].get_legend().get_window_extent()
    ticks = [t.get_window_extent() for t in fig.axes[0].get_yticklabels() if t.get_text()]
    assert legend.x0 >= fig.axes[0].get_window_extent().x0 and not any(legend.overlaps(t) for t in ticks)
