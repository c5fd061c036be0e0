"""The product gate (depth.product-gate): the derivation, the float64 network and its rounding bound against
mpmath, Richardson extrapolation, trees of gates, the claim, the usual wrong versions, bad input."""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import workbench as wb
from numerics import product_gate as K
from proofs import product_gate as P

ID = "depth.product-gate"
Q = P.x**2 + P.y**2


def _xp():
    import array_api_compat.numpy as xp

    return xp


def _closed(activation: str, x: float, y: float) -> float:
    values = {P.x: x, P.y: y, P.activation: P.CODES[activation]}
    return float(wb.claim(ID).closed_form.subs(values))


# -- the derivation -----------------------------------------------------------------------------------


def test_derivation_is_checked_by_sympy_throughout_and_concludes_the_relative_coefficient():
    d = P.derive_product_gate()
    assert d.status == "checked" and not d.cited
    assert d.count("checked") == 5 and d.count("cited") == 0
    for a in P.ACTIVATIONS:
        assert sp.simplify(d.closed_form.subs(P.activation, P.CODES[a]) - P.coefficient(a)) == 0
    assert [P.gate_ratio(a) for a in P.ACTIVATIONS] == [sp.Rational(-1, 12), sp.Rational(1, 6), sp.Rational(-1, 3)]


def test_the_xy_form_is_the_absolute_errors_lambda4_coefficient_not_the_relative_ones():
    d = P.derive_product_gate()
    absolute = d.remarks[0]
    general = d.conclusion.uses[0]
    assert absolute.status == "checked" and general.status == "checked"
    assert sp.simplify(absolute.rhs / general.rhs - P.x * P.y) == 0  # they differ by the factor xy


def test_tanh_and_sigmoid_have_no_second_derivative_at_zero_and_their_neurons_cancel_exactly():
    u, v = sp.symbols("u v", real=True)
    for a in P.REFUSED:
        assert P.derivative(a, 2) == 0
        f = sp.Lambda(P.z, P.SIGMA[a])
        assert sp.simplify(f(u + v) + f(-u - v) - f(u - v) - f(-u + v)) == 0
    rng = np.random.default_rng(0)
    a, b = rng.uniform(-1, 1, 1000), rng.uniform(-1, 1, 1000)
    assert np.all(np.tanh(a + b) + np.tanh(-a - b) - np.tanh(a - b) - np.tanh(-a + b) == 0)  # exactly, in float64


def test_a_biased_tanh_gate_multiplies_so_the_refusal_is_for_the_bias_free_gate():
    biased = P.derive_product_gate().remarks[3]
    assert biased.status == "checked" and biased.rhs == P.x * P.y and "bias-free" in biased.reason
    assert sp.simplify(biased.lhs.doit() - P.x * P.y) == 0
    with pytest.raises(ValueError, match="bias-free gate"):
        wb.verify(ID, activation="tanh")


def test_the_theorem_states_the_admitted_domain_and_the_continuous_extension():
    from workbench.tex import theorem

    c = wb.claim(ID)
    t = theorem(c)
    assert r"$\sigma \in \{\texttt{softplus}, \texttt{exp}, \texttt{gelu}\}$" in t
    assert r"\texttt{tanh}" not in t and r"\texttt{sigmoid}" not in t
    assert r"$\tfrac{1}{64} \le |x| \le 4$" in t and r"$\tfrac{1}{64} \le |y| \le 4$" in t and "-4 \\le x" not in t
    assert "extended continuously to $\\lambda = 0$" in t and "for every $xy \\ne 0$" in t
    assert "Eqs. (10) and (11)" in c.statement and "a-posteriori" in c.statement
    assert any("not a rigorous bound" in note for note in wb.verify(ID).notes)
    assert c.parameter("activation").choices[-2:] == ("tanh", "sigmoid")  # accepted, only to be refused


def test_counting_remarks_cite_rolnick_tegmark_and_count_four_neurons_per_gate():
    d = P.derive_product_gate()
    shallow, tree = d.remarks[-2], d.remarks[-1]
    assert shallow.status == "cited" and shallow.cited is P.ROLNICK2018 and shallow.how == "Theorem 4.1"
    assert shallow.rhs == 2**P.n and tree.status == "checked" and tree.rhs == 4 * (P.n - 1)


def test_numerics_normalisation_is_sympys_second_derivative():
    for a in K.ACTIVATIONS:
        assert K.SECOND_DERIVATIVE[a] == pytest.approx(float(P.derivative(a, 2)), rel=1e-16)


def test_the_tree_composition_rule_by_sympy_series():
    """A gate fed A(1 + alpha lam^2), B(1 + beta lam^2) returns AB(1 + (alpha + beta + k(A^2 + B^2)) lam^2 + ...)."""
    lam, A, B, al, be, zz = sp.symbols("lambda A B alpha beta z", positive=True)
    s = sp.symbols("s0:6")
    sig = sp.Lambda(zz, sum(s[k] * zz**k / sp.factorial(k) for k in range(6)))
    a, b = lam * A * (1 + al * lam**2), lam * B * (1 + be * lam**2)
    out = (sig(a + b) + sig(-a - b) - sig(a - b) - sig(-a + b)) / (4 * s[2] * lam**2)
    rel = sp.expand(out / (A * B) - 1)
    coeff = rel.coeff(lam, 2)
    assert sp.simplify(coeff - (al + be + s[4] / (6 * s[2]) * (A**2 + B**2))) == 0
    assert rel.coeff(lam, 0) == 0 and rel.coeff(lam, 1) == 0


def test_tree_coefficient_of_two_inputs_is_the_gates_and_of_one_is_zero():
    assert P.tree_coefficient([sp.Rational(7, 10), sp.Rational(-13, 10)], "gelu") == P.coefficient(
        "gelu", sp.Rational(7, 10), sp.Rational(-13, 10))
    assert P.tree_coefficient([3], "exp") == 0


# -- the float64 network and its rounding bound ---------------------------------------------------------


def _exact_sigma(a: str, z):
    if a == "softplus":
        return mpmath.log(1 + mpmath.exp(z))
    if a == "exp":
        return mpmath.exp(z)
    return z * (1 + mpmath.erf(z / mpmath.sqrt(2))) / 2


@pytest.mark.parametrize("activation", K.ACTIVATIONS)
def test_neuron_values_are_within_their_rounding_bound(activation):
    z = np.random.default_rng(1).uniform(-2, 2, 2000)
    value, bound = K.neurons(_xp(), z, activation)
    with mpmath.workdps(40):  # the difference taken in mpmath: rounding the reference would add half an ulp
        error = np.array([float(abs(mpmath.mpf(float(s)) - _exact_sigma(activation, mpmath.mpf(float(t)))))
                          for s, t in zip(value, z, strict=True)])
    # the bound also covers a rounding of z itself, which this test does not make: it is an upper bound here
    assert np.all(error <= bound)


@pytest.mark.parametrize("activation", K.ACTIVATIONS)
@pytest.mark.parametrize(("x", "y"), [(0.7, -1.3), (4.0, 1 / 64), (-0.3, 0.45), (2.5, 3.5)])
def test_each_ladder_point_is_within_its_rounding_bound_of_the_exact_relative_error(activation, x, y):
    lams = K.ladder(x, y) + (2.0**-20,)
    pts = K.relative_errors(_xp(), x, y, lams, activation)
    with mpmath.workdps(60):
        s2 = {"softplus": mpmath.mpf(1) / 4, "exp": mpmath.mpf(1), "gelu": mpmath.sqrt(2 / mpmath.pi)}[activation]
        for lam, f, bound in zip(lams, pts["f"], pts["f_bound"], strict=True):
            u, v = mpmath.mpf(lam) * x, mpmath.mpf(lam) * y  # exact: lam is a power of two
            m = (_exact_sigma(activation, u + v) + _exact_sigma(activation, -u - v) - _exact_sigma(activation, u - v)
                 - _exact_sigma(activation, -u + v)) / (4 * s2)
            exact = (m / (u * v) - 1) / mpmath.mpf(lam) ** 2
            assert abs(f - exact) <= bound, (lam, f, float(exact), bound)


def test_a_naive_small_lambda_measures_rounding_not_the_gate():
    """At lambda = 2^-24 the float64 relative error over lambda^2 is off by orders of magnitude, and its rounding
    bound says so: the verifier's ladder stops at lambda (|x| + |y|) = 1/16."""
    x, y = 0.7, -1.3
    pts = K.relative_errors(_xp(), x, y, [2.0**-24], "softplus")
    c = _closed("softplus", x, y)
    assert abs(pts["f"][0] - c) > 1e3 * abs(c)
    assert pts["f_bound"][0] > 1e3 * abs(c)


def test_ladder_starts_at_one_over_the_largest_preactivation_in_powers_of_two():
    for x, y in [(0.7, -1.3), (4.0, 4.0), (1 / 64, 1 / 64), (-3.0, 2.5)]:
        lams = K.ladder(x, y)
        assert len(lams) == K.LADDER and all(math.log2(lam).is_integer() for lam in lams)
        assert 0.5 < lams[0] * (abs(x) + abs(y)) <= 1.0


@settings(max_examples=20, deadline=None)
@given(coeffs=st.lists(st.integers(-50, 50), min_size=K.LADDER, max_size=K.LADDER), top=st.integers(0, 6))
def test_richardson_weights_are_exact_for_polynomials_in_lambda_squared(coeffs, top):
    lams = [Fraction(1, 2 ** (top + j)) for j in range(K.LADDER)]
    values = [sum(Fraction(c) * (lam * lam) ** k for k, c in enumerate(coeffs)) for lam in lams]
    weights = K.richardson_weights([lam * lam for lam in lams])
    assert sum(w * f for w, f in zip(weights, values, strict=True)) == coeffs[0]


# -- the derivation and the numerics linked ----------------------------------------------------------------

_INPUT = st.one_of(st.floats(1 / 64, 4.0), st.floats(-4.0, -1 / 64))


@settings(max_examples=40, deadline=None)
@given(x=_INPUT, y=_INPUT, activation=st.sampled_from(K.ACTIVATIONS))
def test_extrapolated_network_coefficient_matches_sympys_within_its_tolerance(x, y, activation):
    est = K.product_gate_experiment(_xp(), None, None, x=x, y=y, activation=activation)
    exact = float(P.coefficient(activation, sp.Float(x, 30), sp.Float(y, 30)))
    assert not est.inconclusive
    assert abs(est.mean - exact) <= est.atol
    assert est.atol < 1e-3 * abs(exact)  # and the tolerance resolves it


# -- trees of gates -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", range(1, 9))
def test_tree_uses_four_neurons_per_gate_and_its_error_falls_as_lambda_squared(n):
    inputs = [1.2, 0.8, 1.1, 0.9, 1.3, 0.7, 1.05, 0.95][:n]
    lams = [2.0**-4, 2.0**-5]
    out, neurons = K.tree_product(_xp(), inputs, lams, "softplus")
    assert neurons == 4 * (n - 1)
    rel = np.asarray(out) / math.prod(inputs) - 1
    if n == 1:
        assert np.all(rel == 0)
    else:
        assert rel[0] / rel[1] == pytest.approx(4.0, rel=0.01)
        assert neurons < 2**n or n <= 3  # 4(n - 1) against one hidden layer's 2^n


@settings(max_examples=25, deadline=None)
@given(values=st.lists(st.integers(50, 150), min_size=2, max_size=8), activation=st.sampled_from(K.ACTIVATIONS))
def test_tree_error_coefficient_matches_the_composed_derivation(values, activation):
    inputs = [Fraction(v, 100) for v in values]
    lams = tuple(2.0 ** -(4 + j) for j in range(4))
    out, _ = K.tree_product(_xp(), [float(v) for v in inputs], lams, activation)
    exact = math.prod(float(v) for v in inputs)
    fs = [(float(o) / exact - 1) / (lam * lam) for o, lam in zip(np.asarray(out), lams, strict=True)]
    weights = [float(w) for w in K.richardson_weights([lam * lam for lam in lams])]
    measured = math.fsum(w * f for w, f in zip(weights, fs, strict=True))
    predicted = float(P.tree_coefficient(inputs, activation))
    assert measured == pytest.approx(predicted, rel=1e-5)


# -- the claim ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("activation", K.ACTIVATIONS)
def test_verifies_at_defaults_for_each_activation(activation):
    v = wb.verify(ID, activation=activation)
    assert v.passed and v.kind == "exact" and v.scale == "relative", str(v)
    assert 0 < v.resolution < 1e-6


def _wrong(expr_by_activation) -> sp.Piecewise:
    return sp.Piecewise(*[(expr_by_activation(a), sp.Eq(P.activation, P.CODES[a])) for a in P.ACTIVATIONS])


@pytest.mark.parametrize("activation", ["softplus", "gelu"])
def test_rejects_sigma_second_where_sigma_fourth_belongs(activation):
    """sigma''(0)(x^2 + y^2)/(6 sigma''(0)) = (x^2 + y^2)/6: for exp (sigma'' = sigma'''' = 1) it is the truth."""
    c = wb.claim(ID).with_closed_form(_wrong(lambda a: Q / 6))
    assert wb.verify(c, activation=activation).status == "fail"
    assert wb.verify(c, activation="exp").passed  # the one activation where the slip is harmless


@pytest.mark.parametrize("activation", K.ACTIVATIONS)
def test_rejects_one_twelfth_for_one_sixth_and_the_flipped_sign(activation):
    half = wb.claim(ID).with_closed_form(_wrong(lambda a: P.derivative(a, 4) * Q / (12 * P.derivative(a, 2))))
    flipped = wb.claim(ID).with_closed_form(-wb.claim(ID).closed_form)
    assert wb.verify(half, activation=activation).status == "fail"
    assert wb.verify(flipped, activation=activation).status == "fail"


@pytest.mark.parametrize("activation", K.ACTIVATIONS)
def test_rejects_the_absolute_errors_xy_form_as_the_relative_coefficient(activation):
    c = wb.claim(ID).with_closed_form(wb.claim(ID).closed_form * P.x * P.y)
    assert wb.verify(c, activation=activation).status == "fail"  # default xy = -0.91


@pytest.mark.parametrize(("params", "error", "words"), [
    ({"activation": "tanh"}, ValueError, "tanh is odd, so sigma''(0) = 0"),
    ({"activation": "sigmoid"}, ValueError, "1/2 plus an odd function"),
    ({"activation": "relu"}, ValueError, "activation='relu' is outside the domain"),
    ({"x": 0.0}, ValueError, "1/64 <= |x| <= 4"),
    ({"y": -0.01}, ValueError, "1/64 <= |y| <= 4"),
    ({"y": 4.5}, ValueError, "y=4.5 is outside the domain"),
    ({"x": "1"}, TypeError, "x='1' must be a number"),
])
def test_bad_input_is_refused_naming_the_parameter(params, error, words):
    with pytest.raises(error) as info:
        wb.verify(ID, **params)
    assert words in str(info.value)


def test_kernels_refuse_what_the_claim_refuses():
    with pytest.raises(ValueError, match="sigma''\\(0\\) = 0"):
        K.product_gate_experiment(_xp(), None, None, x=1.0, y=1.0, activation="tanh")
    with pytest.raises(ValueError, match="x=0"):
        K.product_gate_experiment(_xp(), None, None, x=0.0, y=1.0, activation="exp")
    with pytest.raises(ValueError, match="GELU series"):
        K.neurons(_xp(), np.array([2.5]), "gelu")
