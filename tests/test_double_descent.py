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
from proofs import StepNotChecked
from proofs import double_descent as P
from proofs.operators import Expectation
from workbench.figures.double_descent import exact_curve, limit_curve

first_correction = sp.lambdify((P.gamma, P.sigma), P.first_correction())


@pytest.fixture(scope="module")
def ridgeless_default():
    return wb.verify("double-descent.ridgeless")


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


def rounded_mean(n, gamma, sigma, r):
    """The sweep's mean at n, written independently: the exact risk averaged over the randomised rounding of gamma n
    (up with probability f below the threshold; above it, so that E[1/p] = 1/(gamma n))."""
    low = int(np.floor(gamma * n))
    f = gamma * n - low
    if gamma > 1:
        f = (1 / low - 1 / (gamma * n)) / (1 / low - 1 / (low + 1))

    def risk(p):
        return sigma**2 * p / (n - p - 1) if p < n else r**2 * (1 - n / p) + sigma**2 * n / (p - n - 1)

    return (1 - f) * risk(low) + (f * risk(low + 1) if f > 0 else 0.0)


def test_the_correction_derivation_is_checked_from_the_exact_risk_and_its_premises_are_needed():
    d = P.derive_ridgeless_correction()
    assert d.closed_form == P.first_correction() and d.status == "cited"
    assert d.cited == ["Muirhead (1982), Section 3.2"]  # only through the exact finite-n risk
    limit = d.conclusion.uses[0]
    assert limit.status == "checked" and "branch by branch" in limit.how
    fold = limit.uses[0]
    assert fold.status == "checked" and len(fold.uses) == 6  # the risk at both rounded values, the rounding, the sides
    for step in (fold, limit):
        for i in range(len(step.uses)):
            with pytest.raises(StepNotChecked):
                step.recheck(step.uses[:i] + step.uses[i + 1:])
    second = d.remarks[0]
    assert second.status == "checked" and second.rhs.has(P.f)  # the 1/n^2 coefficient moves with the rounding


@settings(max_examples=25, deadline=None)
@given(gamma=st.floats(0.1, 4.0).filter(lambda g: abs(g - 1) >= 0.3), sigma=st.floats(0.1, 3.0),
       r=st.floats(0.0, 3.0))
def test_n_times_the_rounded_mean_minus_the_limit_tends_to_the_derived_b1(gamma, sigma, r):
    b1 = first_correction(gamma, sigma)
    for n in (20_000, 40_000):
        gap = n * (rounded_mean(n, gamma, sigma, r) - limit(gamma, sigma, r))
        # the remainder is O(1/n) times the coefficients' scale sigma^2/|1 - gamma|^3 + r^2
        assert gap == pytest.approx(b1, abs=60 * (sigma**2 / abs(1 - gamma) ** 3 + r**2) / n + 1e-9 * b1)


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


@pytest.mark.parametrize("n, p", [(32, 16), (16, 48), (24, 3)])
def test_control_variates_keep_the_mean_and_cut_the_variance(n, p):
    rng = np.random.default_rng(5)
    plain = K.risk_batch(np, rng, 4000, n=n, p=p, r=1.0, sigma=1.0)
    controlled = K.risk_batch(np, np.random.default_rng(6), 4000, n=n, p=p, r=1.0, sigma=1.0, control=True)
    agree(wb_estimate(plain), wb_estimate(controlled), float(P.finite_risk(n, p, sp.Integer(1), sp.Integer(1))))
    assert controlled.std() < 0.7 * plain.std()
    assert K.control_slopes(n, p) == K.control_slopes(n, p)  # fixed slopes: from their own seeded designs


def wb_estimate(values):
    from numerics import Accumulator

    acc = Accumulator()
    acc.add(values)
    return acc.estimate()


@pytest.mark.parametrize("d, k", [(1, 2), (1, 7), (3, 3), (5, 12), (20, 64)])
def test_the_log_det_mean_is_the_sum_of_digammas_of_bartletts_chi_squares(d, k):
    from scipy.special import digamma

    assert K.log_det_mean(d, k) == pytest.approx(sum(digamma((k - i) / 2) for i in range(d)) + d * np.log(2), rel=1e-13)


def test_without_noise_the_overparameterised_risk_is_the_projection_bias_exactly():
    v = K.risk_batch(np, np.random.default_rng(0), 5, n=4, p=12, r=2.0, sigma=0.0)
    assert np.allclose(v, 4.0 * (1 - 4 / 12), rtol=0, atol=1e-12)


def test_randomised_rounding_keeps_the_mean_of_p_below_the_threshold_and_of_1_over_p_above_it():
    low, k_low, k_up = K.split_features(np.random.default_rng(0), 100_000, 10, 0.37)
    assert low == 3 and k_low + k_up == 100_000 and abs(k_up / 1e5 - 0.7) < 0.01
    assert K.split_features(np.random.default_rng(0), 10, 32, 0.5) == (16, 10, 0)
    low, w = K.rounding_weight(10, 2.37)
    assert low == 23 and (1 - w) / low + w / (low + 1) == pytest.approx(1 / 23.7, rel=1e-14)
    # so without noise the bias term is its limit at every n: no jagged 1/n^2 term for the fit to miss
    for n in (32, 64, 128, 192):
        e = K.ridgeless_experiment(np, np.random.default_rng(n), 8, gamma=1.37, sigma=0.0, r=100.0, n=n)
        assert e.mean == pytest.approx(1e4 * (1 - 1 / 1.37), rel=1e-12) and e.stderr < 1e-9


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


def test_ridgeless_verifies_at_its_defaults_and_resolves_the_derived_one_over_n_coefficient(ridgeless_default):
    v = ridgeless_default
    assert v.passed and [pt["x"] for pt in v.sweep] == [32, 64, 128, 192], str(v)
    (d,) = v.fit["derived"]
    assert d["term"] == 1 and d["passed"] and d["expected"] == pytest.approx(first_correction(0.5, 0.5), rel=1e-12)
    assert abs(d["estimate"] - d["expected"]) <= Z * d["stderr"]
    assert 0 < d["resolution"] < 0.5 * abs(d["expected"])  # resolved: a verdict that could tell b_1 from 0
    assert v.to_dict()["fit"]["derived"][0]["estimate"] == d["estimate"]


def test_ridgeless_rejects_the_derived_coefficient_with_its_sign_flipped(ridgeless_default):
    c = wb.claim("double-descent.ridgeless")
    flipped = c.with_correction(1, -c.correction(1).coefficient)
    v = wb.verify(flipped)
    assert v.mutated and v.status == "fail" and not v.fit["derived"][0]["passed"], str(v)
    assert v.estimate == ridgeless_default.estimate  # the same run: only the derived coefficient was changed


def test_ridgeless_rejects_b1_without_its_gamma_factor_below_the_threshold():
    """sigma^2/(1 - gamma)^2, the slip of expanding sigma^2/(1 - gamma - 1/n) as if its numerator were 1."""
    c = wb.claim("double-descent.ridgeless")
    slip = sp.Piecewise((P.sigma**2 / (1 - P.gamma) ** 2, P.gamma < 1), (P.sigma**2 / (P.gamma - 1) ** 2, True))
    assert wb.verify(c.with_correction(1, slip)).status == "fail"


def test_a_coarse_ridgeless_run_that_cannot_resolve_b1_says_so_and_never_passes_the_coefficient():
    v = wb.verify("double-descent.ridgeless", gamma=3.0, resolution=0.05)
    d = v.fit["derived"][0]
    assert v.status != "fail" and d["status"] == "inconclusive" and d["resolution"] > 0.5 * d["expected"], str(v)
    assert any("not resolved" in n and "tests the limit but not the coefficient" in n for n in v.notes_text)


def test_ridgeless_rejects_the_risk_without_its_noise_term():
    c = wb.claim("double-descent.ridgeless")
    no_noise = sp.Piecewise((sp.Integer(0), P.gamma < 1), (P.r**2 * (1 - 1 / P.gamma), True))
    assert not wb.verify(c.with_closed_form(no_noise), gamma=2.0, resolution=0.05).passed


