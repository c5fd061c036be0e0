"""Spectral norms and Lipschitz constants: the derivations (their premises needed, the custom rules refusing what
they should), the Tracy-Widom mean recomputed, the kernels against each other and against brute force, the
issue's wrong versions rejected at the defaults, figures and bad input."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import sympy as sp
from figure_helpers import errorbar_series, figure_of
from hypothesis import given, settings
from hypothesis import strategies as st

import workbench as wb
from numerics import lipschitz as K
from proofs import lipschitz as P
from proofs.checks import StepNotChecked
from workbench.catalog.lipschitz import ROWS

# -- derivations ----------------------------------------------------------------------------------------------


def _checked(d):
    return [s for s in (*d.steps, *d.remarks, d.conclusion) if s.status == "checked"]


@pytest.mark.parametrize("derive", [P.derive_spectral, P.derive_spectral_correction, P.derive_bound])
def test_every_premise_of_every_checked_step_is_needed(derive):
    for step in _checked(derive()):
        for i in range(len(step.uses)):
            with pytest.raises(StepNotChecked):
                step.recheck(step.uses[:i] + step.uses[i + 1:])


def test_spectral_limit_rests_on_the_cited_eigenvalue_limit_and_a_checked_square_root():
    d = P.derive_spectral()
    assert d.closed_form == 1 + sp.sqrt(P.aspect) and d.status == "cited"
    assert d.cited == ["Bai and Silverstein (2010), Theorem 5.8"]
    limit = d.conclusion.uses[0]
    assert limit.status == "checked" and "continuous at the inner limit" in limit.how
    (wrong,) = d.remarks  # 1 + sqrt(a) = 2 sqrt(a) only at a = 1: why the default aspect is 1/4
    assert wrong.rhs == sp.FiniteSet(1)


@pytest.mark.parametrize("outer", [lambda e: sp.Heaviside(e - 1), lambda e: 1 / (e - 1)], ids=["jump", "pole"])
def test_the_continuity_rule_refuses_a_function_not_known_continuous_at_the_limit(outer):
    body = P.define(P.NormW(P.n), outer(P.LamX(P.n) / P.n))
    at_one = P.hypothesis(sp.Limit(P.LamX(P.n) / P.n, P.n, sp.oo), "=", 1)
    with pytest.raises(StepNotChecked, match="continuous"):
        P._continuous_limit(sp.Limit(P.NormW(P.n), P.n, sp.oo), P.LamX(P.n) / P.n, P.LamX(P.n), sp.Rational(1, 2), "",
                            uses=[body, at_one])


def test_the_correction_is_the_tracy_widom_mean_times_the_scale_sympy_derives():
    d = P.derive_spectral_correction()
    assert float(d.closed_form.subs(P.aspect, sp.Rational(1, 4))) == pytest.approx(-1.2065335745820 * 3 ** (1 / 3) / 2, rel=1e-13)
    assert {"Johnstone (2001), Theorem 1.1", "Ferrari and Spohn (2005), Section 1"} <= set(d.cited)
    scale = next(s for s in d.steps if s.status == "checked" and "scale" in s.reason)
    assert scale.rhs == (1 + 1 / sp.sqrt(P.aspect)) ** sp.Rational(1, 3) / 2
    hypotheses = [s for s in d.steps if s.is_hypothesis]
    assert len(hypotheses) == 2 and "assumed" in hypotheses[0].reason  # the means converging: said, not hidden


def test_tracy_widom_mean_recomputed_from_the_ferrari_spohn_determinant():
    """F_1(s) = det(I - B_s), B_s(x, y) = Ai(x + y + s) on L^2(0, oo) (Nystrom, Gauss-Legendre), and
    E = -int_{-oo}^0 F_1 + int_0^oo (1 - F_1): the cited constant to 1e-9."""
    from numpy.polynomial.legendre import leggauss
    from scipy.special import airy

    x, w = leggauss(60)
    x, w = (x + 1) * 10.0, w * 10.0
    root = np.sqrt(w)

    def f1(s: float) -> float:
        return float(np.linalg.det(np.eye(x.size) - root[:, None] * airy(x[:, None] + x[None, :] + s)[0] * root[None, :]))

    t, wt = leggauss(80)

    def integral(f, a: float, b: float) -> float:
        return sum(wi * f(si) for wi, si in zip(wt * (b - a) / 2, (t + 1) * (b - a) / 2 + a, strict=True))

    mean = -integral(f1, -12.0, 0.0) + integral(lambda s: 1.0 - f1(s), 0.0, 10.0)
    assert mean == pytest.approx(float(P.TW_MEAN), abs=1e-9)


def test_bound_derivation_is_an_induction_and_the_aligned_chain_attains_it():
    d = P.derive_bound()
    assert d.closed_form == P.norm**P.depth and d.status == "cited"
    deep = next(s for s in d.steps if s.rel == "<=" and s.status == "checked" and "induction" in s.how)
    assert deep.rhs == P.norm**P.depth * deep.uses[1].rhs
    product = next(s for s in d.steps if s.status == "checked" and s.rel == "=" and "induction" in s.how)
    assert product.rhs == P.norm**P.depth * P.Vec(P.depth) * P.VecT(0)
    assert d.count("checked") == 5 and d.count("cited") == 3


def test_the_custom_rules_refuse_what_does_not_follow():
    a, b, c = sp.symbols("a b c", positive=True)
    neg = sp.Symbol("neg", negative=True)
    with pytest.raises(StepNotChecked, match="nonnegative"):
        P._scaled(neg * a, neg * b, neg, "", uses=[P.hypothesis(a, "<=", b)])
    with pytest.raises(StepNotChecked, match="chain"):
        P._transitive(a, c, "", uses=[P.hypothesis(a, "<=", b)])
    rule = P.hypothesis(P.Gap(P.l), "<=", -P.Gap(P.l - 1))  # a negative factor: no induction
    start = P.define(P.Gap(0), 1)
    with pytest.raises(StepNotChecked, match="nonnegative"):
        P._induction_bound(P.Gap, P.depth, 0, (-1) ** P.depth, "", uses=[rule, start])
    good = P.hypothesis(P.Gap(P.l), "<=", 2 * P.Gap(P.l - 1))
    with pytest.raises(StepNotChecked):  # the wrong bound: 3^L
        P._induction_bound(P.Gap, P.depth, 0, 3**P.depth, "", uses=[good, start])


def test_the_chain_in_the_wrong_order_is_not_confirmed():
    d = P.derive_bound()
    product = next(s for s in d.steps if s.status == "checked" and s.rel == "=" and "induction" in s.how)
    chain, first, rank_one, unit = product.uses
    swapped = P.define(P.Prod(P.l), P.Prod(P.l - 1) * P.Layer(P.l))
    with pytest.raises(StepNotChecked):
        product.recheck([swapped, first, rank_one, unit])


# -- lipschitz.spectral: kernels -------------------------------------------------------------------------------


@pytest.mark.parametrize("n, m", [(32, 8), (16, 40)])
def test_the_bidiagonal_reduction_has_the_law_of_the_dense_matrix(n, m):
    from scipy.stats import ks_2samp

    rng = np.random.default_rng(n + m)
    bidiagonal = K.spectral_norms(np, rng, 3000, n=n, m=m)
    dense = K.spectral_norms(np, rng, 3000, n=n, m=m, method="dense")
    assert ks_2samp(bidiagonal, dense).pvalue > 1e-4


@settings(max_examples=30, deadline=None)
@given(a=st.floats(0.25, 4.0), n=st.integers(10_000, 10**7))
def test_the_centring_shift_removes_exactly_the_derived_one_over_n_term(a, n):
    """Links the kernel's shift to the derivation's remark: n delta_n tends to -(1 + a^(-1/2))/4, off by O(1/n)."""
    remark = next(s for s in P.derive_spectral_correction().remarks if s.lhs.args[0].has(P.n) and not s.rhs == 0)
    derived = float(remark.rhs.subs(P.aspect, a))
    shift = K.centring_shift(n, a * n, a)  # m = a n, not rounded
    assert abs(n * shift - derived) <= 2.0 * (1 + a**-1.5) / n + 1e-9


def test_the_sweep_mean_follows_the_derived_expansion():
    """At n = 64, a = 1/4: 1 + sqrt(a) + c n^(-2/3) - 0.17 n^(-4/3) within five standard errors."""
    e = K.spectral_experiment(np, np.random.default_rng(3), 40_000, aspect=0.25, method="bidiagonal", n=64)
    c = float(P.derive_spectral_correction().closed_form.subs(P.aspect, sp.Rational(1, 4)))
    assert abs(e.mean - (1.5 + c * 64 ** (-2 / 3) - 0.17 * 64 ** (-4 / 3))) < 5 * e.stderr


def test_spectral_kernel_refuses_an_unknown_method_and_a_degenerate_matrix():
    with pytest.raises(ValueError, match="method='lanczos'"):
        K.spectral_norms(np, np.random.default_rng(0), 4, n=8, m=4, method="lanczos")
    with pytest.raises(ValueError, match="both sides"):
        K.spectral_experiment(np, np.random.default_rng(0), 4, aspect=0.25, method="dense", n=4)


# -- lipschitz.bound: kernels -----------------------------------------------------------------------------------


def _jacobian(weights, theta):
    """The Jacobian at the direction theta by a plain forward pass (host NumPy)."""
    u = np.array([math.cos(theta), math.sin(theta)])
    jac, h = weights[0], weights[0] @ u
    for w in weights[1:]:
        active = (h > 0).astype(float)
        jac, h = w @ (active[:, None] * jac), w @ np.maximum(h, 0.0)
    return jac


def test_the_sectors_hold_the_jacobian_of_a_forward_pass_and_no_direction_beats_their_maximum():
    rng = np.random.default_rng(7)
    nets = K.random_networks(np, rng, width=6, depth=4, norm=1.5, networks=3)
    for i in range(3):
        weights = [w[i] for w in nets]
        found = K.sectors(weights)
        assert np.all(found["end"] > found["start"]) and found["start"][0] == 0 and found["end"][-1] == 2 * np.pi
        for k in range(0, found["start"].size, 5):  # the sector's Jacobian is the forward pass's at its midpoint
            mid = 0.5 * (found["start"][k] + found["end"][k])
            np.testing.assert_allclose(found["jacobian"][k], _jacobian(weights, mid), rtol=1e-12, atol=1e-12)
        scan = max(np.linalg.norm(_jacobian(weights, t), 2) for t in np.linspace(0, 2 * np.pi, 4000, endpoint=False))
        lip = float(found["norm"].max())
        assert scan <= lip * (1 + 1e-12) and lip <= 1.5**4 * (1 + 1e-12)


@settings(max_examples=25, deadline=None)
@given(width=st.integers(1, 10), depth=st.integers(1, 6), norm=st.floats(0.25, 3.0), seed=st.integers(0, 2**32 - 1))
def test_no_network_exceeds_the_derived_bound_and_the_chain_attains_it(width, depth, norm, seed):
    """Links the derivation's closed form s^L to the kernel, over the whole typical domain."""
    bound = float(P.derive_bound().closed_form.subs({P.norm: norm, P.depth: depth}))
    out = K.bound_check(np, np.random.default_rng(seed), width=width, depth=depth, norm=norm, networks=4)
    lip, err, slack = out["lip"], out["error"], out["slack"]
    assert np.all(lip - err <= bound + slack)
    assert abs(lip[0] - bound) <= slack + err[0] + 1e-13 * bound  # the aligned rank-one chain


def test_the_prefix_constants_are_those_of_the_truncated_networks():
    """The enumeration's constant after layer l is Lip of the network cut there (its own enumeration)."""
    nets = K.random_networks(np, np.random.default_rng(3), width=5, depth=4, norm=1.5, networks=3)
    prefix = K.lipschitz_constants(nets)["prefix"]
    for depth in range(1, 5):
        cut = K.lipschitz_constants(nets[:depth])["lip"]
        np.testing.assert_allclose(prefix[:, depth - 1], cut, rtol=1e-13)
    assert np.all(prefix[:, 0] == pytest.approx(1.5, rel=1e-13))


def test_near_aligned_networks_probe_the_bound_from_just_below():
    """Tilted rank-one chains come within a few percent of s^L (random ones stay near 0.06 at depth 5), so a
    kernel that overstated Lip(f) by a few percent would push one past the bound and fail the run."""
    out = K.bound_check(np, np.random.default_rng(11), width=8, depth=5, norm=2.0)
    ratios = out["near"]["lip"] / out["bound"]
    assert 0.9 < ratios.max() <= 1 + 1e-12 and out["ratio"][1:].max() < 0.5


def test_a_run_that_enumerates_no_random_network_is_inconclusive(monkeypatch):
    monkeypatch.setattr(K, "SECTOR_CAP", 0)
    e = K.bound_experiment(np, np.random.default_rng(0), width=4, depth=3, norm=2.0)
    assert e.inconclusive and e.mean == pytest.approx(8.0)
    v = wb.verify("lipschitz.bound", width=4, depth=3)
    assert v.status == "inconclusive" and any("no random network was enumerated" in note for note in v.notes)


# -- claims: verdicts and the wrong versions ----------------------------------------------------------------


def test_spectral_passes_and_rejects_two_sqrt_aspect_at_the_defaults():
    """The issue's mutation: ||W|| -> 2 sqrt(aspect); at aspect 1/4 that is 1, not 1.5."""
    c = wb.claim("lipschitz.spectral")
    v = wb.verify(c)
    assert v.passed and v.expected == 1.5 and v.fit["derived"][0]["status"] == "pass"
    wrong = wb.verify(c.with_closed_form(2 * sp.sqrt(P.aspect)))
    assert wrong.status == "fail" and abs(wrong.z) > 50


@pytest.mark.slow  # about four seconds: 400,000 matrices
def test_a_fine_sweep_resolves_the_limit_and_the_tracy_widom_coefficient():
    """At a resolution of 0.4% the limit 1.5 and the coefficient -0.870 of n^(-2/3) still pass: the fit in powers
    of n^(-2/3) after the centring shift is not biased at a scale ten times finer than the default's."""
    v = wb.verify("lipschitz.spectral", resolution=0.004)
    derived = v.fit["derived"][0]
    assert v.passed and derived["status"] == "pass" and derived["resolution"] < 0.2  # a sixth of |c|


@pytest.mark.parametrize("coefficient", [0, "flip"])
def test_a_missing_or_flipped_tracy_widom_correction_is_rejected(coefficient):
    c = wb.claim("lipschitz.spectral")
    derived = c.correction(1).coefficient
    v = wb.verify(c.with_correction(1, -derived if coefficient == "flip" else 0))
    assert v.status == "fail" and v.fit["derived"][0]["status"] == "fail"


@pytest.mark.parametrize("wrong", [P.depth * P.norm, P.norm ** (P.depth - 1)], ids=["sum-of-norms", "missing-layer"])
def test_bound_rejects_the_sum_of_the_norms_and_a_missing_layer(wrong):
    c = wb.claim("lipschitz.bound")
    assert wb.verify(c).passed
    assert wb.verify(c.with_closed_form(wrong)).status == "fail"


def test_bound_verdict_reports_the_random_networks_ratio():
    v = wb.verify("lipschitz.bound")
    assert v.kind == "exact" and v.expected == 32 and 0 < v.tolerance < 1e-11 * 32
    note = next(n for n in v.notes if "beyond rounding" in n)
    assert note.endswith(": 0") and "the largest ratio" in note
    medians = [float(x) for x in re.search(r"has median (.*?) and largest", note).group(1).replace("$", "").split(", ")]
    assert medians[0] == 1 and len(medians) == 5 and medians[-1] < medians[1] < 1  # it falls with depth


@pytest.mark.parametrize("claim_id, params", [
    ("lipschitz.spectral", {"aspect": 4.0}),
    ("lipschitz.spectral", {"aspect": 1.0}),
    ("lipschitz.spectral", {"method": "dense"}),
    ("lipschitz.bound", {"width": 1, "depth": 8, "norm": 4.0}),
    ("lipschitz.bound", {"width": 16, "depth": 8, "norm": 0.25}),
    ("lipschitz.bound", {"depth": 1}),
])
def test_the_claims_pass_at_the_edges_of_their_domains(claim_id, params):
    v = wb.verify(claim_id, resolution=0.03, **params)
    assert v.status == "pass", v


@pytest.mark.parametrize("claim_id, params, match", [
    ("lipschitz.spectral", {"aspect": 0.2}, "aspect=0.2 is outside the domain"),
    ("lipschitz.spectral", {"method": "power"}, "method='power' is outside the domain"),
    ("lipschitz.bound", {"depth": 0}, "depth=0 is outside the domain"),
    ("lipschitz.bound", {"norm": 0.0}, "norm=0.0 is outside the domain"),
])
def test_bad_input_names_the_parameter_and_its_domain(claim_id, params, match):
    with pytest.raises(ValueError, match=match):
        wb.verify(claim_id, **params)


# -- figures ------------------------------------------------------------------------------------------------------


def test_spectral_figure_draws_the_verifiers_sweep():
    fig = figure_of("lipschitz.spectral")
    v = wb.verify("lipschitz.spectral")
    (x, y, half), limit = errorbar_series(fig.axes[0])[:2]
    np.testing.assert_allclose(x, np.array(ROWS, dtype=float) ** (-2 / 3))
    np.testing.assert_array_equal(y, [pt["estimate"] for pt in v.sweep])
    assert limit[1][0] == v.estimate
    assert fig.axes[1].get_yscale() == "log"


def test_bound_figure_points_are_the_verifier_runs():
    fig = figure_of("lipschitz.bound")
    (x, y, _), = errorbar_series(fig.axes[0])
    verdicts = [wb.verify("lipschitz.bound", seed=i, depth=int(d)) for i, d in enumerate(x)]
    np.testing.assert_array_equal(y, [v.estimate / v.expected for v in verdicts])
    assert fig.axes[0].get_yscale() == "log" and "per layer" in fig.get_label()
