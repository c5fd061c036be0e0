"""xent.*: the derivations, the kernels, and the properties that link them."""

import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import workbench as wb
from numerics import backend
from numerics import cross_entropy as kernels
from proofs import cross_entropy as derivations

EPS = np.finfo(np.float64).eps
TINY = np.finfo(np.float64).smallest_subnormal
FULL_RANGE = st.floats(allow_nan=False, allow_infinity=False)


def softplus_reference(m: float) -> mpmath.mpf:
    # log(1 + e^m) = max(m, 0) + log1p(e^-|m|), evaluated at a precision no float64 input can defeat
    with mpmath.workdps(60):
        x = mpmath.mpf(m)
        return max(x, 0) + mpmath.log1p(mpmath.exp(-abs(x)))


def ulps_apart(value: float, reference: mpmath.mpf) -> float:
    return float(abs(mpmath.mpf(value) - reference)) / max(EPS * float(abs(reference)), TINY)


# --- derivations ---------------------------------------------------------------------

@pytest.mark.parametrize(
    "derive, closed_form",
    [
        (derivations.derive_margin, sp.log(1 + (derivations.K - 1) * sp.exp(derivations.m))),
        (derivations.derive_asymptotes, sp.log(1 + sp.exp(-sp.Abs(derivations.m)))),
        (derivations.derive_score_identity, sp.Integer(0)),
    ],
)
def test_each_derivation_ends_in_its_closed_form(derive, closed_form):
    assert derive().closed_form == closed_form


ALL = (derivations.derive_margin, derivations.derive_derivatives, derivations.derive_asymptotes,
       derivations.derive_score_identity)


@pytest.mark.parametrize("derive", ALL)
def test_derivations_have_no_unchecked_mathematics(derive):
    d = derive()
    assert d.status == "checked" and not d.cited
    assert all(s.status in ("checked", "definition") for s in (*d.steps, *d.remarks))
    assert d.count("checked") >= 2
    assert not any(s.is_hypothesis and s.rhs == d.closed_form for s in d.steps)


def test_margin_rests_on_the_softmax_and_the_equal_margins_hypothesis():
    d = derivations.derive_margin()
    (margins,) = [s for s in d.steps if s.is_hypothesis]
    assert d.number(margins) in d.support
    wrong = next(s for s in d.steps if margins in s.uses)
    assert wrong.status == "checked" and wrong.rhs == (derivations.K - 1) * sp.exp(margins.rhs)


def test_score_identity_uses_the_normalisation_of_the_softmax():
    d = derivations.derive_score_identity()
    last = d.conclusion.uses[-1]
    assert last.rhs == 0 and last.status == "checked"
    assert all(p.status == "checked" for p in last.uses)


def test_derivative_closed_form_is_sigmoid_then_its_derivative():
    cf = derivations.derive_derivatives().closed_form
    s = derivations.sigmoid
    assert sp.simplify(cf.subs(derivations.n, 1) - s) == 0
    assert sp.simplify(cf.subs(derivations.n, 2) - s * (1 - s)) == 0


def test_finite_difference_bounds_in_numerics_are_the_derived_ones():
    d = derivations.derive_derivatives()
    bounds = [step for step in d.remarks if step.rel in ("<=", ">=")]
    assert all(step.status == "checked" for step in bounds)
    rhs = {step.rhs for step in bounds}
    assert sp.sqrt(3) / 18 in rhs and sp.Rational(1, 8) in rhs
    assert kernels.THIRD_DERIVATIVE_BOUND == pytest.approx(float(sp.sqrt(3) / 18), rel=EPS)
    assert kernels.FOURTH_DERIVATIVE_BOUND == 1 / 8


def test_finite_differences_scale_with_derived_bounds_that_fall_off_like_exp_minus_abs_m():
    d = derivations.derive_derivatives()
    m, t = derivations.m, sp.Symbol("t", nonnegative=True)
    checked = [step for step in d.remarks if step.status == "checked"]
    # the reflection L(m) = m + L(-m) that moves the differences to -|m|
    assert any(step.rel == "=" and step.rhs == m and step.lhs.has(sp.Subs) for step in checked)
    # L'' <= e^{-|m|}, |L'''| <= L'' (|1 - 2 sigma| <= 1), |L''''| <= L'' (|1 - 6u| <= 1), L'(-t) <= e^{-t}
    r = sp.Symbol("r", positive=True)  # e^{-|m|}
    assert any(step.rel == "<=" and step.rhs == r and step.lhs == r / (1 + r) ** 2 for step in checked)
    assert any(step.rel == "<=" and step.rhs == sp.exp(-t) for step in checked)
    assert sum(step.rel == "<=" and step.rhs == 1 and step.lhs.has(sp.Abs) for step in checked) == 2


def test_margin_derivation_specialises_to_softplus_for_two_classes():
    cf = derivations.derive_margin().closed_form
    assert cf.subs(derivations.K, 2) == derivations.softplus


# --- kernels against 60-digit references over the whole float64 range ----------------

@given(FULL_RANGE)
def test_stable_softplus_is_within_four_ulp_of_mpmath_for_any_float(m):
    assert ulps_apart(float(kernels.softplus(np, np.float64(m))), softplus_reference(m)) <= 4


@given(FULL_RANGE)
def test_gap_to_the_hinge_is_accurate_and_within_zero_and_ln2(m):
    gap = float(kernels.softplus_gap(np, np.float64(m)))
    with mpmath.workdps(60):
        ref = mpmath.log1p(mpmath.exp(-abs(mpmath.mpf(m))))
    assert ulps_apart(gap, ref) <= 4
    assert 0 <= gap <= math.log(2)
    if abs(m) < 700:
        assert gap > 0  # strictly positive wherever float64 can represent it


@pytest.mark.parametrize("m", [-745.0, -300.0, -40.0, 0.0, 40.0, 709.0, 745.0, 1e300])
def test_stable_softplus_at_the_edges_of_the_float_range(m):
    assert ulps_apart(float(kernels.softplus(np, np.float64(m))), softplus_reference(m)) <= 4


def test_naive_softplus_overflows_and_loses_all_digits():
    with np.errstate(over="ignore"):
        assert math.isinf(float(kernels.naive_softplus(np, np.float64(710.0))))
    assert float(kernels.naive_softplus(np, np.float64(-40.0))) == 0.0
    assert float(kernels.softplus(np, np.float64(-40.0))) > 4e-18


@given(st.integers(2, 8), st.floats(-700, 700), st.integers(0, 7), st.floats(-5, 5))
def test_multiclass_cross_entropy_is_relatively_accurate_even_when_tiny(K, m, y, offset):
    y = y % K
    z = kernels.margin_logits(np, K, m, offset, y)
    loss = float(kernels.cross_entropy(np, z, np.asarray(y)))
    with mpmath.workdps(60):
        zs = [mpmath.mpf(float(v)) for v in z]
        top = max(zs)
        ref = (top - zs[y]) + mpmath.log1p(sum(mpmath.exp(v - top) for v in zs) - 1)
    assert abs(mpmath.mpf(loss) - ref) <= EPS * ((K + 3) * abs(ref) + 4 * (abs(offset) + abs(m)) * 1) + TINY


@settings(max_examples=60)
@given(
    st.integers(2, 8).flatmap(
        lambda K: st.tuples(
            st.lists(st.floats(-30, 30), min_size=K, max_size=K), st.integers(0, K - 1)
        )
    )
)
def test_multiclass_gradient_is_softmax_minus_onehot_by_central_differences(case):
    logits, y = case
    z = np.array(logits)
    grad = kernels.cross_entropy_grad(np, z, np.asarray(y))
    # Along any coordinate L = log(e^{z_k} + R) - z_y, a shifted softplus: |L'''| <= sqrt(3)/18.
    err = EPS * (4 * float(kernels.cross_entropy(np, z, np.asarray(y))) + 4 * np.abs(z).max() + 4)
    h = 2.0 ** round(math.log2((3 * err / kernels.THIRD_DERIVATIVE_BOUND) ** (1 / 3)))
    tol = h**2 * kernels.THIRD_DERIVATIVE_BOUND / 6 + (err + 2 * EPS * (np.abs(z).max() + h)) / h
    for k in range(len(z)):
        up, down = z.copy(), z.copy()
        up[k] += h
        down[k] -= h
        fd = (float(kernels.cross_entropy(np, up, np.asarray(y))) - float(kernels.cross_entropy(np, down, np.asarray(y)))) / (2 * h)
        assert abs(fd - grad[k]) <= tol


def test_gradient_components_sum_to_zero():
    z = np.random.default_rng(3).standard_normal((50, 7))
    y = np.arange(50) % 7
    np.testing.assert_allclose(kernels.cross_entropy_grad(np, z, y).sum(axis=-1), 0, atol=8 * EPS)


# --- verdicts --------------------------------------------------------------------------

@pytest.mark.parametrize(
    "claim_id, params, wrong",
    [
        # classic slip: K terms instead of K - 1 wrong classes
        ("xent.margin", {"K": 5, "m": 0.5}, sp.log(1 + derivations.K * sp.exp(derivations.m))),
        # a small wrong term, far below anything a plot would show
        ("xent.margin", {"K": 2, "m": 3.0}, derivations.derive_margin().closed_form + sp.Rational(1, 10**12)),
        # L'' put where L' belongs
        ("xent.derivatives", {"m": 0.3, "n": 1}, derivations.sigmoid * (1 - derivations.sigmoid)),
        # sigma(m)(1 - sigma(m)) written as sigma(m)^2(1 - sigma(m)) * 4: equal at m = 0 only
        ("xent.derivatives", {"m": 1.0, "n": 2}, 4 * derivations.sigmoid**2 * (1 - derivations.sigmoid)),
        # log instead of log1p-equivalent off by the 1: ln(e^{-|m|}) = -|m|
        ("xent.asymptotes", {"m": -3.0}, sp.exp(-sp.Abs(derivations.m))),
        # a plausible wrong mean: 1/K
        ("xent.score-identity", {"K": 4, "s": 1.0}, 1 / derivations.K),
    ],
)
def test_a_wrong_closed_form_is_rejected(claim_id, params, wrong):
    c = wb.claim(claim_id)
    assert wb.verify(c, **params).passed
    assert not wb.verify(c.with_closed_form(wrong), **params).passed


def test_score_identity_budget_reaches_the_requested_resolution():
    v = wb.verify("xent.score-identity", resolution=0.02, K=5, s=3.0)
    assert v.passed and v.scale == "absolute"
    assert v.resolution <= 0.02 * 1.05
    assert v.replicates >= wb.claim("xent.score-identity").pilot


# --- derivatives on their own scale: finite differences that can fail -----------------

def derivative_reference(m: float, n: int) -> mpmath.mpf:
    # sigma(m), and sigma(1 - sigma) = e^{-|m|} / (1 + e^{-|m|})^2 without the cancellation of 1 - sigma
    with mpmath.workdps(60):
        x = mpmath.mpf(m)
        r = mpmath.exp(-abs(x))
        return 1 / (1 + mpmath.exp(-x)) if n == 1 else r / (1 + r) ** 2


def mutations(claim_id: str):
    c = wb.claim(claim_id)
    return c, c.with_closed_form(2 * c.closed_form), c.with_closed_form(sp.Integer(0))


MARGINS = [20.0, 40.0, 60.0, -20.0, -40.0, -60.0, 0.5, -3.0, 700.0, -700.0, 707.0, -707.0]


@pytest.mark.parametrize("n", [1, 2])
@pytest.mark.parametrize("m", MARGINS)
def test_derivatives_reject_twice_and_zero_the_closed_form_on_the_derivatives_own_scale(m, n):
    true, doubled, zero = mutations("xent.derivatives")
    v = wb.verify(true, m=m, n=n)
    assert v.status == "pass" and v.passed
    assert v.resolution < 1e-5  # relative to L^(n)(m) itself, as small as e^{-|m|} = 1e-304
    for wrong in (doubled, zero):
        w = wb.verify(wrong, m=m, n=n)
        assert w.status == "fail" and not w.passed


@pytest.mark.parametrize("n", [1, 2])
@pytest.mark.parametrize("m", [708.0, -708.0, 740.0, -740.0])
def test_derivatives_beyond_float64s_normal_range_are_certified_in_interval_arithmetic(m, n):
    true, doubled, zero = mutations("xent.derivatives")
    v = wb.verify(true, m=m, n=n)
    assert v.status == "pass" and v.dtype.startswith("mpmath")
    assert any("interval arithmetic" in note for note in v.notes)
    assert wb.verify(doubled, m=m, n=n).status == "fail"
    assert wb.verify(zero, m=m, n=n).status == "fail"


@pytest.mark.parametrize("n", [1, 2])
@pytest.mark.parametrize("m", [745.0, -745.0, 800.0, -800.0, 1e6, -1e6])
def test_derivatives_below_the_subnormals_are_inconclusive_unless_they_round_to_one(m, n):
    true, doubled, zero = mutations("xent.derivatives")
    v = wb.verify(true, m=m, n=n)
    if n == 1 and m > 0:  # L'(m) = 1 - e^{-m}: a double holds it, so it passes and the mutations fail
        assert v.status == "pass"
        assert wb.verify(doubled, m=m, n=n).status == wb.verify(zero, m=m, n=n).status == "fail"
        return
    assert v.status == "inconclusive" and any("subnormal" in note for note in v.notes)
    for wrong in (doubled, zero):
        assert wb.verify(wrong, m=m, n=n).status != "pass"


def test_derivative_order_three_is_outside_the_domain():
    with pytest.raises(ValueError, match="n=3"):
        wb.verify("xent.derivatives", m=1.0, n=3)


@settings(max_examples=150)
@given(st.one_of(st.floats(-707.0, 707.0), st.floats(-3.0, 3.0)), st.integers(0, 2**32 - 1), st.sampled_from([1, 2]))
def test_finite_difference_error_is_within_its_tolerance_and_the_tolerance_is_relative(m, seed, n):
    b = backend("numpy", seed)
    est = kernels.derivatives_experiment(b.xp, b.rng, None, m=m, n=n)
    ref = derivative_reference(m, n)
    assert abs(mpmath.mpf(est.mean) - ref) <= est.atol
    assert est.atol <= 2e-6 * float(ref)  # 1e-7 to 1e-6 relative for L'' at |m| up to 707: resolves 0 and 2x


@pytest.mark.parametrize("n", [1, 2])
@pytest.mark.parametrize("m", [-707.5, 708.0, -745.0, 2000.0, -1e6, 1e6])
def test_interval_enclosure_holds_the_derivative_and_is_tight(m, n):
    lo, hi = kernels.certified_derivative(m, n)
    with mpmath.workdps(80):
        x = mpmath.mpf(m)
        r = mpmath.exp(-abs(x))
        ref = 1 / (1 + mpmath.exp(-x)) if n == 1 else r / (1 + r) ** 2
        assert lo <= ref <= hi
        assert hi - lo <= mpmath.mpf(2) ** -70 * abs(ref)


def test_interval_precision_is_restored_after_a_certification():
    before = mpmath.iv.prec
    kernels.certified_derivative(-1000.0, 2)
    assert mpmath.iv.prec == before


# --- the other claims at the ends of their domains ---------------------------------------

@pytest.mark.parametrize(
    "claim_id, params",
    [
        ("xent.margin", {"K": 2, "m": -740.0}),
        ("xent.margin", {"K": 7, "m": -740.0}),  # K - 1 exponentials rounded among the subnormals
        ("xent.margin", {"K": 1_000_000, "m": -740.0}),
        ("xent.margin", {"K": 7, "m": -700.0}),
        ("xent.margin", {"K": 7, "m": 800.0}),
        ("xent.margin", {"K": 1_000_000, "m": 1e308}),
        ("xent.asymptotes", {"m": -740.0}),
        ("xent.asymptotes", {"m": 700.0}),
        ("xent.asymptotes", {"m": -700.0}),
    ],
)
def test_exact_claims_pass_and_reject_twice_and_zero_wherever_float64_resolves_them(claim_id, params):
    true, doubled, zero = mutations(claim_id)
    assert wb.verify(true, **params).status == "pass"
    assert wb.verify(doubled, **params).status == "fail"
    assert wb.verify(zero, **params).status == "fail"


@pytest.mark.parametrize(
    "claim_id, params",
    [
        ("xent.margin", {"K": 2, "m": -1e308}),
        ("xent.margin", {"K": 7, "m": -800.0}),
        ("xent.margin", {"K": 7, "m": -745.0}),
        ("xent.margin", {"K": 1_000_000, "m": -746.0}),
        ("xent.asymptotes", {"m": -1e308}),
        ("xent.asymptotes", {"m": 800.0}),
        ("xent.asymptotes", {"m": 1e308}),
        ("xent.asymptotes", {"m": -745.0}),
    ],
)
def test_exact_claims_below_the_subnormals_are_inconclusive_not_passed(claim_id, params):
    true, doubled, zero = mutations(claim_id)
    v = wb.verify(true, **params)
    assert v.status == "inconclusive" and not v.passed
    assert any("subnormal" in note for note in v.notes)
    assert wb.verify(doubled, **params).status != "pass"
    assert wb.verify(zero, **params).status != "pass"


@pytest.mark.parametrize("K, s", [(2, 100.0), (2, 1e-300), (64, 100.0), (64, 1e-300)])
def test_score_identity_at_extreme_logit_scales_never_fails_the_true_form(K, s):
    c = wb.claim("xent.score-identity")
    assert wb.verify(c, K=K, s=s).status in ("pass", "inconclusive")
    assert not wb.verify(c.with_closed_form(1 / derivations.K), K=K, s=s).passed
