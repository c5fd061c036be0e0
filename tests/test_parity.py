"""Parities: the derivation (an exact identity from Parseval, the bound attained), the Walsh-Hadamard
kernel against the dense table and brute force, the networks' gradients against finite differences and the
complex-step check, the Hypothesis property linking the two, mutation and negative tests (a wrong derivative of
tanh caught, a transform off the identity failing the run), the figure and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from figure_helpers import errorbar_series, figure_of
from hypothesis import given, settings
from hypothesis import strategies as st

import workbench as wb
from numerics import backend
from numerics import parity as K
from proofs import parity as P
from proofs.checks import StepNotChecked
from proofs.derivation import equal, hypothesis
from workbench.catalog.parity import MAX_FLOATS, size_constraint

ID = "parity.gradient"


def _np(seed: int = 0):
    b = backend("numpy", seed)
    return b.xp, b.rng


def _step(derivation, lhs, rhs=None):
    """The derivation's step ``lhs = rhs`` (``rhs`` up to simplification; any right side if None)."""
    return next(s for s in derivation.steps
                if s.lhs == lhs and s.status != "definition" and (rhs is None or sp.simplify(s.rhs - rhs) == 0))


# -- the derivation ----------------------------------------------------------------------------------


def test_derivation_concludes_the_supremum_two_to_the_minus_d_resting_on_parseval():
    d = P.derive_gradient_variance()
    assert d.closed_form == 2**-P.d and d.status == "cited"
    assert d.cited == ["O'Donnell (2014), Section 1.4 (Parseval's Theorem)",
                       "O'Donnell (2014), Theorem 1.1 and Proposition 1.8"]
    assert d.support == list(range(1, len(d.steps) + 1))
    for cited in (s for s in d.steps if s.status == "cited"):
        (instance,) = cited.uses  # each citation rests on its d = 3 instance, checked entrywise
        assert instance.status == "checked" and instance.how.startswith("entrywise") and "d = 3" in instance.reason
    assert d.count("checked") >= 11


def test_the_identity_is_the_bound_less_the_gradient_at_the_all_ones_input():
    d = P.derive_gradient_variance()
    identity = _step(d, P.V, 2**-P.d * P.Gamma - 4**-P.d * P.G0)
    assert identity.status == "checked" and len(identity.uses) == 5
    (remark,) = d.remarks  # Theorem 1's form, G^2 = E||grad p||^2
    assert remark.rel == "<=" and remark.rhs == P.Gamma / 2**P.d and remark.uses == (identity,)


def test_the_gradient_splits_into_a_part_free_of_the_target_and_a_fourier_coefficient():
    split = _step(P.derive_gradient_variance(), sp.Derivative(P.F(P.w[P.j], P.s), P.w[P.j]))
    assert split.rhs == P.a[P.j] - P.ghat[P.s, P.j]
    loss, grad, free, coeff = split.uses
    halved = P.define(loss.lhs, loss.rhs * 2)  # the loss without its half: the gradient doubles
    with pytest.raises(StepNotChecked):
        split.recheck([halved, grad, free, coeff])


def test_a_unit_on_at_the_all_ones_input_does_not_attain_the_bound():
    zero = _step(P.derive_gradient_variance(), P.t0, 0)
    at_one, bias = zero.uses
    on = hypothesis(bias.lhs, "=", -bias.rhs)  # pre-activation +mu > 0 at x = 1
    with pytest.raises(StepNotChecked):
        zero.recheck([at_one, on])


def test_parseval_instance_fails_with_the_wrong_normalisation():
    table = P.walsh_table(3)
    g = sp.ImmutableMatrix(sp.symbols("g_1:9", real=True))
    coeffs = sp.MatMul(sp.Rational(1, 4), table, g, evaluate=False)  # 1/4 instead of 1/2^3
    with pytest.raises(StepNotChecked):
        P.equal_entrywise(sp.MatMul(sp.Transpose(coeffs), coeffs, evaluate=False),
                          sp.MatMul(sp.Rational(1, 8), sp.Transpose(g), g, evaluate=False))


def test_the_supremum_rule_refuses_a_bound_that_is_not_attained():
    sup = P.derive_gradient_variance().steps[-1]
    ratio, upper, witness = sup.uses
    with pytest.raises(StepNotChecked):
        sup.recheck([ratio, upper])  # a bound for every model, but no model attaining it
    elsewhere = sp.Symbol("t_1", positive=True)
    with pytest.raises(StepNotChecked):  # the witness is the formula at t_0, not at another point
        P.attained_supremum(sup.lhs, 2**-P.d, P.t, elsewhere, uses=[ratio, upper, witness])
    loose = equal(2**-P.d - P.t0 / 4**P.d, 2**-P.d, uses=witness.uses)
    with pytest.raises(StepNotChecked):  # a larger value is a bound, but not the one attained
        P.attained_supremum(sup.lhs, 2 * 2**-P.d, P.t, P.t0, uses=[ratio, upper, loose])


# -- the kernels -------------------------------------------------------------------------------------


@pytest.mark.parametrize("d", [1, 3, 6, 7, 9])
def test_walsh_hadamard_is_the_dense_table_of_parities(d):
    xp, rng = _np(d)
    x = K.cube(xp, d)
    member = ((np.arange(2**d)[:, None] >> np.arange(d)[None, :]) & 1).astype(bool)  # row s: the set S
    dense = np.prod(np.where(member[:, None, :], x[None, :, :], 1.0), axis=2)  # chi_S(x_k), every S and k
    values = rng.standard_normal((2**d, 5))
    np.testing.assert_allclose(K.walsh_hadamard(xp, values), dense @ values, rtol=0, atol=1e-12 * np.abs(values).sum())
    assert np.all(x[0] == 1)  # row 0 is the all-ones input


def test_the_kernels_table_is_the_derivations_table():
    xp, _ = _np()
    table = np.array(P.walsh_table(3).doit(), dtype=float)
    np.testing.assert_array_equal(K.parity_table(xp, 3), table)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_per_example_gradients_match_central_differences(activation):
    xp, rng = _np(4)
    d, m = 5, 3
    x = K.cube(xp, d)
    w, b, a = K.network(xp, rng, d, m, activation)
    out, grads = K.per_example_gradients(xp, x, w, b, a, activation)
    theta = np.concatenate([w.ravel(), b, a])
    h = 1e-6

    def output(th):
        ww, bb, aa = th[:m * d].reshape(m, d), th[m * d:m * d + m], th[m * d + m:]
        return K.per_example_gradients(xp, x, ww, bb, aa, activation)[0]

    for col in range(theta.size):
        step = np.zeros_like(theta)
        step[col] = h
        np.testing.assert_allclose(grads[:, col], (output(theta + step) - output(theta - step)) / (2 * h), atol=1e-7)
    np.testing.assert_allclose(out, output(theta))


def test_brute_force_variance_over_every_parity_agrees_with_the_kernel():
    """d = 4: the loss gradient E_x[(p - chi_S) g] of every target computed directly, no transform."""
    xp, rng = _np(2)
    d, m = 4, 3
    x = K.cube(xp, d)
    weights = K.network(xp, rng, d, m, "tanh")
    out, grads = K.per_example_gradients(xp, x, *weights, "tanh")
    loss = np.array([np.mean((out - np.prod(x[:, [i for i in range(d) if (s >> i) & 1]], axis=1))[:, None] * grads, axis=0)
                     for s in range(2**d)])
    variance = np.mean(np.sum((loss - loss.mean(axis=0)) ** 2, axis=1))
    energy = np.mean(np.sum(grads**2, axis=1))
    row = K._measure(xp, x, weights, "tanh")
    assert float(row["ratio"]) == pytest.approx(variance / energy, rel=1e-12)
    assert variance == pytest.approx(energy / 2**d - np.sum(grads[0] ** 2) / 4**d, rel=1e-12)


def test_attaining_network_is_off_at_all_ones_and_on_somewhere():
    xp, rng = _np(5)
    for d in (1, 2, 8):
        w, b, a = K.network(xp, rng, d, 4, "attaining")
        z = K.cube(xp, d) @ w.T + b
        assert np.all(z[0] < -1e-3) and np.all((z > 0).any(axis=0))


@pytest.mark.parametrize("d, width", [(1, 1), (2, 5), (8, 16), (10, 4)])
def test_every_network_meets_the_bound_and_the_exact_identity(d, width):
    out = K.gradient_variance(*_np(d * 31 + width), d=d, width=width)
    ok = out["valid"]
    ratio, tol = out["ratio"][ok], out["tolerance"][ok]
    assert np.all(ratio <= 2.0**-d + tol)
    assert abs(out["ratio"][0] - 2.0**-d) <= out["tolerance"][0] and out["at_one"][0] == 0
    assert np.all(out["residual"][ok] <= out["residual_tolerance"][ok])
    np.testing.assert_allclose(1 - 2.0**d * ratio, out["defect"][ok], atol=2.0**d * tol.max() + 1e-15)
    assert np.all(tol < 1e-11 * 2.0**-d)


def test_real_networks_pass_the_bound_with_an_extra_half():
    """The mutation G^2/2^(d+1) is not merely loose: every random network exceeds it."""
    out = K.gradient_variance(*_np(1), d=8, width=16)
    assert np.all(out["ratio"][1:] > 2.0**-9 * 1.9)


@pytest.fixture(scope="module")
def identity_and_bound():
    """The derivation's identity Var_S = Gamma/2^d - ||g(1)||^2/4^d, lambdified, and its closed form 2^-d."""
    derivation = P.derive_gradient_variance()
    identity = _step(derivation, P.V, 2**-P.d * P.Gamma - 4**-P.d * P.G0)
    return sp.lambdify((P.d, P.Gamma, P.G0), identity.rhs), sp.lambdify(P.d, derivation.closed_form)


@settings(max_examples=25, deadline=None)
@given(d=st.integers(1, 9), width=st.integers(1, 12), seed=st.integers(0, 2**32 - 1))
def test_measured_variance_is_the_derivations_identity_and_below_its_supremum(identity_and_bound, d, width, seed):
    """At the measured Gamma and ||g(1)||^2 of every network the derivation's identity gives the measured
    variance, and no network's ratio passes the derivation's closed form 2^-d."""
    predict, bound = identity_and_bound
    out = K.gradient_variance(*_np(seed), d=d, width=width)
    for i in np.flatnonzero(out["valid"]):
        assert predict(d, out["energy"][i], out["at_one"][i]) == pytest.approx(out["variance"][i], rel=1e-9, abs=1e-300)
        assert out["ratio"][i] <= bound(d) + out["tolerance"][i]


# -- the claim: verdicts and mutation tests ------------------------------------------------------------


def test_default_verdict_is_an_exact_pass_reporting_how_tight_the_bound_is():
    v = wb.verify(ID)
    assert v.passed and v.kind == "exact" and v.expected == 2.0**-8
    assert 0 < v.tolerance < 1e-12 * v.expected
    above, off, gradients, left = v.notes[:4]
    assert above.endswith(": 0") and "the largest random-network ratio: $2^d R = 1 - " in above
    assert off.endswith(": 0") and "a failing condition (the largest residual: $" in off and "of its rounding bound" in off
    assert gradients.endswith(": 0") and "complex-step derivative" in gradients
    assert left.endswith(": 0")
    assert any("the attaining one is constructed" in note and "by design" in note for note in v.notes)


def test_a_corrupted_tanh_derivative_is_caught_by_the_gradient_check(monkeypatch):
    """The identity holds for any function g, so a wrong derivative of tanh leaves it intact: the complex-step
    check against the model itself catches it, and the run cannot pass."""
    right = K._slope
    monkeypatch.setattr(K, "_slope", lambda xp, z, act, activation: 1.0 - act if activation == "tanh" else right(
        xp, z, act, activation))
    v = wb.verify(ID, d=6, width=8)
    above, off, gradients, _ = v.notes[:4]
    assert v.status == "inconclusive" and not v.passed
    assert off.endswith(": 0") and not gradients.endswith(": 0")  # the identity still holds; the gradients do not
    assert any("did not measure gradients" in note for note in v.notes)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_the_gradient_check_passes_the_gradients_and_refuses_wrong_derivatives(activation, monkeypatch):
    xp, rng = _np(3)
    d, m = 7, 5
    x = K.cube(xp, d)
    weights = K.network(xp, rng, d, m, activation)
    along = K.direction(xp, rng, d, m)
    _, grads = K.per_example_gradients(xp, x, *weights, activation)
    worst, beyond = K.gradient_check(xp, x, weights, grads, along, activation)
    assert worst < 0.1 and beyond == 0
    flipped = {"tanh": lambda xp, z, act, a: act * act - 1.0, "relu": lambda xp, z, act, a: xp.astype(z < 0, xp.float64)}
    monkeypatch.setattr(K, "_slope", flipped[activation])
    _, wrong = K.per_example_gradients(xp, x, *weights, activation)
    worst, beyond = K.gradient_check(xp, x, weights, wrong, along, activation)
    assert worst > 1e10 and beyond > 2**d // 4


def test_a_network_off_the_identity_fails_the_run(monkeypatch):
    """A transform off by one part in a million: every identity's residual passes its rounding bound, and the
    verdict fails (it is not merely inconclusive): the estimate is the supremum that network's identity gives."""
    right = K.walsh_hadamard
    monkeypatch.setattr(K, "walsh_hadamard", lambda xp, values, **on: right(xp, values, **on) * (1 + 1e-6))
    v = wb.verify(ID, d=6, width=8)
    _, off, gradients, _ = v.notes[:4]
    assert v.status == "fail" and not off.endswith(": 0") and gradients.endswith(": 0")
    assert abs(v.estimate - 2.0**-6) > v.tolerance > 0


@pytest.mark.parametrize("wrong", [sp.Integer(1), 2 ** (-P.d / 2), 2 ** (-(P.d + 1)), 4 * 2**-P.d],
                         ids=["no-2^d", "2^(d/2)", "2^(d+1)", "unhalved-loss"])
def test_the_bound_without_its_two_to_the_d_and_other_wrong_bounds_are_rejected(wrong):
    c = wb.claim(ID)
    v = wb.verify(c.with_closed_form(wrong))
    assert v.status == "fail" and v.mutated


def test_a_bound_a_hair_below_the_supremum_is_rejected():
    c = wb.claim(ID)
    assert not wb.verify(c.with_closed_form(2**-P.d * (1 - sp.Rational(1, 10**9)))).passed


def test_same_seed_same_verdict():
    a, b = wb.verify(ID, seed=4), wb.verify(ID, seed=4)
    assert (a.estimate, a.tolerance, a.notes) == (b.estimate, b.tolerance, b.notes)


@pytest.mark.parametrize("params", [{"d": 1, "width": 1}, {"d": 1, "width": 64}, {"d": 11, "width": 1}])
def test_the_claim_passes_at_the_edges_of_its_domain(params):
    assert wb.verify(ID, **params).status == "pass"


@pytest.mark.slow
@pytest.mark.parametrize("params", [{"d": 12}, {"d": 12, "width": 64}, {"d": 14}])
def test_every_input_and_every_parity_enumerated_up_to_d_12_and_beyond(params):
    v = wb.verify(ID, **params)
    assert v.passed and all(note.endswith(": 0") for note in v.notes[:3])


# -- bad input -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("params, error, text", [
    ({"d": 0}, ValueError, "d=0 is outside the domain"),
    ({"d": 15}, ValueError, "d=15 is outside the domain"),
    ({"width": 0}, ValueError, "width=0 is outside the domain"),
    ({"d": 2.5}, TypeError, "d=2.5 must be an integer"),
    ({"d": 14, "width": 64}, ValueError, "use width <= 32"),
])
def test_bad_parameters_are_refused_naming_the_parameter(params, error, text):
    with pytest.raises(error, match=text.replace("(", r"\(")):
        wb.verify(ID, **params)


def test_size_constraint_admits_the_largest_table_and_refuses_the_next():
    assert size_constraint({"d": 12, "width": 64}) is None and 2**12 * 64 * 14 <= MAX_FLOATS
    assert "use width <= 32" in size_constraint({"d": 14, "width": 33})
    with pytest.raises(ValueError, match="kind='sigmoid'"):
        K.network(*_np(), 3, 2, "sigmoid")


# -- the figure -----------------------------------------------------------------------------------------


def test_figure_points_are_the_verifier_runs_on_the_bound_with_random_networks_below():
    fig = figure_of(ID, d=6)
    top, bottom = fig.axes[:2]
    assert top.get_yscale() == bottom.get_yscale() == "log"
    (x, y, half), = errorbar_series(top)
    np.testing.assert_array_equal(x, np.arange(1, 13))
    first = wb.verify(ID, seed=0, d=1)
    assert y[0] == first.estimate and half[0] == pytest.approx(first.tolerance, abs=1e-15)
    np.testing.assert_allclose(y, 2.0**-x, rtol=1e-11)
    markers = [line for line in top.get_lines() if line.get_marker() in ("v", "^")]
    assert markers and all(np.all(line.get_ydata() <= 2.0 ** -np.round(line.get_xdata()) * (1 + 1e-11)) for line in markers)
    labels = " ".join(t.get_text() for t in fig.legends[0].get_texts())
    assert "2^{d+1}" in labels and "no $2^d$" in labels
    assert math.isclose(bottom.get_lines()[-1].get_ydata()[0], 0.5)
