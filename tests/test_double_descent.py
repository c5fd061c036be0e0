"""Double descent of min-norm least squares (double-descent.finite-n, double-descent.ridgeless): derivations,
kernels, claims, mutations, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from estimates import Z, agree
from hypothesis import given, settings
from hypothesis import strategies as st

import workbench as wb
from numerics import double_descent as K
from proofs import double_descent as P
from proofs.operators import Expectation
from workbench.figures.double_descent import exact_curve, limit_curve


def limit(gamma, sigma, r):
    """The limiting risk, written independently of the derivation."""
    return sigma**2 * gamma / (1 - gamma) if gamma < 1 else r**2 * (1 - 1 / gamma) + sigma**2 / (gamma - 1)


# -- derivations ---------------------------------------------------------------------------------


def test_closed_forms_are_the_finite_risk_and_its_limit():
    assert P.derive_finite().closed_form == P.finite_risk()
    assert P.derive_ridgeless().closed_form == P.limiting_risk()
    f = sp.lambdify((P.gamma, P.sigma, P.r), P.limiting_risk())
    for g, s, r in [(0.3, 1.0, 2.0), (0.9, 0.5, 0.0), (1.1, 1.0, 1.0), (4.0, 2.0, 3.0)]:
        assert f(g, s, r) == pytest.approx(limit(g, s, r), rel=1e-14)


def test_derivations_check_the_decomposition_and_the_limit_and_cite_only_the_wishart_mean():
    finite, ridgeless = P.derive_finite(), P.derive_ridgeless()
    wishart = next(s for s in finite.steps if s.status == "cited" and s.source.key == "muirhead1982")
    assert [p.lhs.has(sp.Integral) and p.status == "checked" for p in wishart.uses] == [True]  # E[1/chi^2_k], d = 1
    assert finite.status == ridgeless.status == "cited"
    assert finite.cited == ridgeless.cited == ["Muirhead (1982), Section 3.2"]
    assert {s.source.key for s in (*finite.steps, *ridgeless.steps) if s.status == "cited"} == {"muirhead1982"}
    hypotheses = [s for s in finite.steps if s.is_hypothesis]
    assert len(hypotheses) == 4  # y = X beta + eps, E eps eps^T, E eps, E beta beta^T
    split = next(s for s in finite.steps if s.rhs.has(P.Einv) and s.lhs == P.R(P.n, P.p))
    assert split.status == "checked" and len(split.uses) == 3  # the definition and both regimes, each checked
    for regime in split.uses[1:]:
        assert regime.status == "checked" and regime.lhs.has(Expectation)
    assert sum(s.status == "checked" for s in finite.steps) >= 18
    assert not any(s.status == "checked" and s.lhs == s.rhs for s in (*finite.steps, finite.conclusion))
    limit = ridgeless.steps[-1]
    assert limit.status == "checked" and limit.lhs.has(sp.Limit) and "branch by branch" in limit.how
    assert sum(s.lhs.has(sp.Limit) and s.status == "checked" for s in ridgeless.remarks) == 3  # gamma -> 1-, 1+, oo


@settings(max_examples=40, deadline=None)
@given(gamma=st.floats(0.05, 6.0).filter(lambda g: abs(g - 1) > 0.02), sigma=st.floats(0.1, 3.0),
       r=st.floats(0.0, 3.0))
def test_the_finite_n_risk_converges_to_the_limit_like_one_over_n(gamma, sigma, r):
    ns = np.array([1e4, 1e5])
    gap = np.abs(np.array([exact_curve(int(n), gamma, sigma, r) for n in ns]) - limit(gamma, sigma, r))
    assert gap[1] <= gap[0] / 5 + 1e-12 * limit(gamma, sigma, r)
    assert limit_curve(gamma, sigma, r) == pytest.approx(limit(gamma, sigma, r), rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(gamma=st.floats(0.05, 0.999), sigma=st.floats(0.1, 3.0), r=st.floats(0.0, 3.0))
def test_the_risk_increases_towards_the_threshold_and_exceeds_the_null_risk_just_above_it(gamma, sigma, r):
    assert limit(gamma, sigma, r) < limit((1 + gamma) / 2, sigma, r)
    above = 1 + (1 - gamma) / 2
    assert limit(above, sigma, r) >= sigma**2 / (above - 1)  # the noise term alone blows up


# -- kernels ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("n, p", [(20, 6), (6, 20)])
def test_conditional_and_simulated_risks_have_the_same_mean(n, p):
    full = K.min_norm_risk(np, np.random.default_rng(1), 6000, n=n, p=p, r=1.5, sigma=0.7, conditional=False)
    cond = K.min_norm_risk(np, np.random.default_rng(2), 3000, n=n, p=p, r=1.5, sigma=0.7)
    exact = float(P.finite_risk(n, p, sp.Rational(7, 10), sp.Rational(3, 2)))
    agree(full, cond, exact)
    assert cond.stderr < full.stderr  # Rao-Blackwell: never more variance


def test_without_noise_the_overparameterised_risk_is_the_projection_bias_exactly():
    v = K.risk_batch(np, np.random.default_rng(0), 5, n=4, p=12, r=2.0, sigma=0.0)
    assert np.allclose(v, 4.0 * (1 - 4 / 12), rtol=0, atol=1e-12)


def test_randomised_rounding_interpolates_between_the_two_integers():
    low, k_low, k_up = K.split_features(np.random.default_rng(0), 100_000, 10, 2.37)
    assert low == 23 and k_low + k_up == 100_000 and abs(k_up / 1e5 - 0.7) < 0.01
    assert K.split_features(np.random.default_rng(0), 10, 32, 0.5) == (16, 10, 0)


# -- claims -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("n, p", [(40, 8), (12, 40)])
def test_finite_n_risk_verifies_in_both_regimes(n, p):
    v = wb.verify("double-descent.finite-n", n=n, p=p, sigma=0.8, r=1.2, resolution=0.03)
    assert v.passed and v.kind == "statistical", str(v)


def test_finite_n_rejects_the_risk_without_its_noise_term():
    c = wb.claim("double-descent.finite-n")
    bias_only = P.r**2 * (1 - P.n / P.p)
    v = wb.verify(c.with_closed_form(bias_only), n=12, p=40, resolution=0.05)
    assert not v.passed


def test_ridgeless_verifies_below_the_threshold_and_fits_the_exact_correction():
    v = wb.verify("double-descent.ridgeless", gamma=0.5, sigma=1.0, r=1.0, resolution=0.03)
    assert v.passed and [pt["x"] for pt in v.sweep] == [32, 64, 128, 192], str(v)
    b1, se1 = v.fit["corrections"][0], v.fit["correction_stderrs"][0]
    assert abs(b1 - 2.0) <= Z * se1  # gamma/(1 - gamma - 1/n) = 1 + 2/n + ... at gamma = 1/2


def test_ridgeless_rejects_the_risk_without_its_noise_term():
    c = wb.claim("double-descent.ridgeless")
    no_noise = sp.Piecewise((sp.Integer(0), P.gamma < 1), (P.r**2 * (1 - 1 / P.gamma), True))
    assert not wb.verify(c.with_closed_form(no_noise), gamma=2.0, resolution=0.05).passed


