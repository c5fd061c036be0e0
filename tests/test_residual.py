"""Residual stacks: derivations (matrix identities checked entrywise), the three kernels against
their closed forms and each other, mutation tests, figures and bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import sympy as sp
from estimates import Recorder, Z, agree
from figure_helpers import assert_bars, errorbar_series, figure_of
from hypothesis import given, settings
from hypothesis import strategies as st

import workbench as wb
from numerics import residual as K
from proofs import recurrence
from proofs import residual as P
from proofs.checks import StepNotChecked
from workbench.catalog.residual import (
    LOG_VARIANCE_LIMIT,
    relative_variance,
    variance_constraint,
)

IDS = ("residual.jacobian", "residual.singular-bounds", "residual.vanishing")



# -- derivations ---------------------------------------------------------------------------------


def test_jacobian_derivation_is_checked_by_induction_from_the_fixed_pattern_hypotheses():
    d = P.derive_jacobian()
    assert d.closed_form == 0 and d.status == "checked" and d.count("cited") == 0
    rule, unrolled = (s for s in d.steps if s.status == "checked" and s.uses and len(s.uses) >= 4)
    assert sum(s.is_hypothesis for s in rule.uses) == 2  # no ReLU changes sign at either end of the segment
    assert "induction" in unrolled.how and rule in unrolled.uses
    assert d.conclusion.uses[-1] is unrolled
    chain, relu = d.remarks  # the chain rule for generic blocks, and a ReLU block's Jacobian, entrywise
    assert chain.how.startswith("entrywise") and "do not commute" in chain.reason and relu.status == "checked"


def test_the_induction_needs_the_blocks_rule_and_the_products_recursion():
    unrolled = P.derive_jacobian().steps[-3]
    for i in range(len(unrolled.uses)):
        with pytest.raises(StepNotChecked):
            unrolled.recheck(unrolled.uses[:i] + unrolled.uses[i + 1:])
    rule, first, p0, p_rule = unrolled.uses
    swapped = P.define(P.p(P.l), P.p(P.l - 1) + P.p(P.l - 1) * P._J(P.l))  # the later block on the right
    with pytest.raises(StepNotChecked):
        recurrence(P.d, P.depth, 0, unrolled.rhs, uses=[rule, first, p0, swapped])


def test_the_two_block_product_in_the_wrong_order_is_not_confirmed():
    """(I + J_F(x))(I + J_G(y)) is not the Jacobian of z = y + G(y): the order of the factors matters."""
    _, jac_z, one, two = P._generic_blocks()
    P.equal_entrywise(jac_z, sp.MatMul(two, one, evaluate=False))
    with pytest.raises(StepNotChecked):
        P.equal_entrywise(jac_z, sp.MatMul(one, two, evaluate=False))


def test_equal_entrywise_refuses_a_wrong_entry_and_a_shape_mismatch():
    a = sp.Symbol("a")
    with pytest.raises(StepNotChecked):
        P.equal_entrywise(sp.ImmutableMatrix([[a, 1]]), sp.ImmutableMatrix([[a, 2]]))
    with pytest.raises(StepNotChecked, match="shapes differ"):
        P.equal_entrywise(sp.ImmutableMatrix([[a, 1]]), sp.ImmutableMatrix([[a], [1]]))


def test_notation_prints_compactly_but_is_its_value_to_every_check():
    x = sp.Symbol("x")
    n = P.Notation(sp.ImmutableMatrix([[sp.Derivative(x**2, x)]]), r"\frac{d}{dx}x^2", "d/dx x^2")
    assert sp.latex(n) == r"\frac{d}{dx}x^2" and str(n) == "d/dx x^2" and n.doit() == sp.ImmutableMatrix([[2 * x]])
    assert P.equal_entrywise(n, sp.ImmutableMatrix([[2 * x]])).status == "checked"
    with pytest.raises(StepNotChecked):
        P.equal_entrywise(n, sp.ImmutableMatrix([[x]]))


def test_singular_bounds_closed_form_is_the_bound_the_choice_names():
    d = P.derive_singular_bounds()
    at = {P.eps: sp.Rational(1, 10), P.depth: 3}
    assert d.closed_form.subs({**at, P.bound: P.BOUNDS["upper"]}) == sp.Rational(11, 10) ** 3
    assert d.closed_form.subs({**at, P.bound: P.BOUNDS["lower"]}) == sp.Rational(9, 10) ** 3
    (cited,) = [s for s in d.steps if s.status == "cited"]
    assert cited.source is P.HORN_JOHNSON and cited.how == "Section 5.6" and d.status == "cited"
    assert "cited theorem, verified numerically" in wb.claim("residual.singular-bounds").statement
    checked = [s for s in cited.uses if s.status == "checked"]  # the 2 x 2 rotation case and both attaining stacks
    assert len(checked) == 5 and sum(s.how.startswith("entrywise") for s in checked) == 3


def test_vanishing_is_checked_from_the_moment_hypotheses_and_the_rest_are_remarks():
    d = P.derive_vanishing()
    assert sp.simplify(d.closed_form - (1 + P.sigma2) ** P.depth) == 0 and d.status == "checked"
    assert d.support == list(range(1, len(d.steps) + 1)) and d.count("cited") == 0
    solved = d.conclusion.uses[0]
    assert "induction" in solved.how
    rule = solved.uses[0]
    later, fubini, expand, rows, earlier = rule.uses
    assert later.status == earlier.status == "definition" and not later.is_hypothesis  # notation r(l) = E||v_l||^2
    assert fubini.is_hypothesis and expand.status == rows.status == "checked"  # J_l independent of v; then checked
    assert [s.is_hypothesis for s in expand.uses] == [True, True]  # E[J_ij] = 0 and E[J_ij J_ij'] = sigma^2/n delta
    assert isinstance(expand.lhs, P.Expectation) and expand.lhs.expr == later.rhs.expr  # ||v + J v||^2 itself
    plain = [s for s in d.remarks if s.rel in ("<", ">")]
    assert sorted(s.rhs.doit() for s in plain) == [sp.Rational(2146, 10**4), sp.Rational(2147, 10**4)] and 0.2146 < 0.95**30 < 0.2147
    limit = [s for s in d.remarks if isinstance(s.lhs, sp.Limit)]
    assert limit and limit[0].rhs == sp.exp(P.alpha)


def test_vanishing_rule_fails_with_half_the_branch_variance():
    expand = P.derive_vanishing().conclusion.uses[0].uses[0].uses[2]
    centred, spread = expand.uses
    half = P.hypothesis(spread.lhs, "=", spread.rhs / 2)
    with pytest.raises(StepNotChecked):
        expand.recheck([centred, half])


def test_gaussian_reduction_gives_the_constraints_relative_variance():
    d = P.derive_gaussian_reduction()
    for n, s2 in ((1, 0.5), (7, 0.3), (128, 2.0)):
        assert float(d.closed_form.subs({P.width: n, P.sigma2: s2})) == pytest.approx(relative_variance(n, s2), rel=1e-14)
    assert [s.rhs for s in d.steps if s.status == "checked"][0] == 1 + sp.Symbol("s", positive=True)  # the first term's mean


# -- residual.jacobian: the kernel -----------------------------------------------------------------


@pytest.mark.parametrize("width, depth", [(1, 1), (1, 30), (2, 7), (16, 4), (48, 12)])
def test_chain_rule_product_matches_finite_differences_within_the_rounding_bound(width, depth):
    out = K.jacobian_check(np, np.random.default_rng(width * 100 + depth), width=width, depth=depth)
    assert out["valid"].all()
    assert np.all(out["discrepancy"]["product"] <= out["tolerance"])
    assert np.all(out["tolerance"] < 1e-7)  # a sharp check: rounding only, no truncation
    assert np.all(out["step"] >= 2.0 ** -K.FD_EXPONENTS[-1])


def test_dropping_the_identity_or_keeping_only_first_order_is_rejected():
    """Kernel-level mutation tests: two wrong Jacobian formulas on the very same stacks."""
    out = K.jacobian_check(np, np.random.default_rng(3), width=16, depth=6)
    tol = out["tolerance"]
    assert np.all(out["discrepancy"]["no-identity"] > 1e6 * tol)  # J_L ... J_1 u
    assert np.all(out["discrepancy"]["first-order"] > 100 * tol)  # (I + sum J_l) u
    one = K.jacobian_check(np, np.random.default_rng(3), width=16, depth=1)
    np.testing.assert_array_equal(one["discrepancy"]["first-order"], one["discrepancy"]["product"])  # same at L = 1


def test_finite_difference_points_are_exact_in_float64():
    x = K._dyadic(np, np.random.default_rng(0), (1000,))
    d = K._dyadic(np, np.random.default_rng(1), (1000,), nonzero=True)
    assert np.all(d != 0) and np.all(x / K.GRID == np.round(x / K.GRID))
    for k in (K.FD_EXPONENTS[0], K.FD_EXPONENTS[-1]):
        h = 2.0**-k
        assert np.array_equal((x + h * d) - h * d, x) and np.array_equal((x - h * d) + h * d, x)


    def standard_gamma(self, shape, size=None):
        return self.rng.standard_gamma(shape, size)


def test_jacobian_kernel_streams_over_depth_one_block_at_a_time():
    rec = Recorder(0)
    K.jacobian_check(np, rec, width=5, depth=3, stacks=4)
    block = [((4, 5, 5), "float64"), ((4, 5), "float64")] * 2
    assert rec.calls == [((4, 5), "float64")] * 2 + block * 3


@settings(max_examples=20, deadline=None)
@given(width=st.integers(1, 40), depth=st.integers(1, 24), seed=st.integers(0, 2**32 - 1))
def test_jacobian_discrepancy_is_within_its_bound_for_any_width_and_depth(width, depth, seed):
    out = K.jacobian_check(np, np.random.default_rng(seed), width=width, depth=depth, stacks=2)
    ok = out["valid"]
    assert np.all(out["discrepancy"]["product"][ok] <= out["tolerance"][ok])


# -- residual.singular-bounds: the kernel ----------------------------------------------------------


@pytest.mark.parametrize("bound", K.BOUNDS)
def test_attaining_stack_reaches_the_bound_and_random_stacks_stay_inside(bound):
    out = K.singular_extremes(np, np.random.default_rng(5), width=12, depth=15, eps=0.2, bound=bound)
    value, tol, exact = out["value"], out["tolerance"], out["bound_value"]
    assert abs(value[0] - exact) <= tol[0] + out["admissible"]
    assert tol[0] < 1e-11 * exact
    inside = value[1:] <= exact if bound == "upper" else value[1:] >= exact
    assert inside.all() and np.all(tol[1:] < value[1:])


@settings(max_examples=25, deadline=None)
@given(width=st.integers(1, 10), depth=st.integers(1, 25), eps=st.floats(0.001, 0.9), bound=st.sampled_from(K.BOUNDS),
       seed=st.integers(0, 2**32 - 1))
def test_no_random_stack_passes_the_bound_for_any_width_depth_and_eps(width, depth, eps, bound, seed):
    out = K.singular_extremes(np, np.random.default_rng(seed), width=width, depth=depth, eps=eps, bound=bound, stacks=4)
    value, tol, exact, slack = out["value"], out["tolerance"], out["bound_value"], out["admissible"]
    if bound == "upper":
        assert np.all(value - tol <= exact + slack)
    else:
        assert np.all(value + tol >= exact - slack)
    assert abs(value[0] - exact) <= tol[0] + slack


def test_singular_kernel_uses_no_inequality_under_test_and_refuses_an_unknown_bound():
    with pytest.raises(ValueError, match="bound='middle'"):
        K.singular_extremes(np, np.random.default_rng(0), width=2, depth=2, eps=0.1, bound="middle")


# -- residual.vanishing: the kernels ---------------------------------------------------------------

CASES = [dict(width=6, depth=4, sigma2=0.5), dict(width=3, depth=3, sigma2=0.2), dict(width=16, depth=8, sigma2=0.1)]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"n{c['width']}-L{c['depth']}")
@pytest.mark.parametrize("method", ["gaussian", "relu-mlp"])
def test_dense_methods_agree_with_the_exact_reduction_and_the_closed_form(case, method):
    assert variance_constraint(case) is None
    dense = K.vanishing_experiment(np, np.random.default_rng(1), 6_000, method=method, **case)
    reduced = K.vanishing_experiment(np, np.random.default_rng(2), 200_000, method="reduced", **case)
    agree(dense, reduced, (1 + case["sigma2"]) ** case["depth"])
    assert dense.dtype == "float32" and reduced.dtype == "float64"


def test_the_reduced_law_has_the_derived_relative_variance():
    n, s2 = 5, 0.7
    gain, _ = K.gradient_gain(np, np.random.default_rng(4), 400_000, width=n, depth=1, sigma2=s2, method="reduced")
    rel = gain.var() / gain.mean() ** 2
    assert rel == pytest.approx(relative_variance(n, s2), rel=0.05)


def test_dense_gaussian_method_streams_in_float32():
    rec = Recorder(0)
    K.gradient_gain(np, rec, 3, width=4, depth=5, sigma2=0.3, method="gaussian")
    assert rec.calls == [((3, 4, 4), "float32")] * 5
    rec = Recorder(0)
    K.gradient_gain(np, rec, 3, width=4, depth=2, sigma2=0.3, method="relu-mlp")
    assert rec.calls == [((3, 4, 4), "float32")] * 4  # W1 and W2 of each block, one block at a time


def test_relu_blocks_with_an_inactive_layer_are_counted_and_included():
    e = K.vanishing_experiment(np, np.random.default_rng(9), 40_000, width=2, depth=2, sigma2=0.3, method="relu-mlp")
    (name, dead), = e.events
    assert "inactive" in name and 0 < dead < e.n
    assert abs(e.mean - 1.3**2) <= Z * e.stderr


@settings(max_examples=15, deadline=None)
@given(width=st.integers(2, 256), depth=st.integers(1, 40), sigma2=st.floats(0.0, 1.5))
def test_reduced_kernel_matches_the_closed_form_anywhere_in_the_domain(width, depth, sigma2):
    if variance_constraint({"width": width, "depth": depth, "sigma2": sigma2}):
        return
    e = K.vanishing_experiment(np, np.random.default_rng(width * 1000 + depth), 20_000, width=width, depth=depth,
                               sigma2=sigma2, method="reduced")
    assert abs(e.mean - (1 + sigma2) ** depth) <= Z * e.stderr + e.atol


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="method='sparse'"):
        K.gradient_gain(np, np.random.default_rng(0), 4, width=4, depth=2, sigma2=0.1, method="sparse")


# -- claims: verdicts and mutation tests -----------------------------------------------------------


def test_lower_bound_one_layer_short_is_rejected():
    """The issue's mutation: (1 - eps)^(L-1) in place of (1 - eps)^L."""
    c = wb.claim("residual.singular-bounds")
    assert wb.verify(c, bound="lower").passed
    short = c.with_closed_form((1 - P.eps) ** (P.depth - 1))
    v = wb.verify(short, bound="lower")
    assert not v.passed and v.mutated


@pytest.mark.parametrize("wrong", [(1 + P.eps) ** (P.depth - 1), (1 + P.eps) ** (P.depth + 1), 1 + P.depth * P.eps])
def test_upper_bound_that_is_not_attained_or_not_a_bound_is_rejected(wrong):
    assert not wb.verify(wb.claim("residual.singular-bounds").with_closed_form(wrong), bound="upper").passed


@pytest.mark.parametrize("wrong", [(1 + P.sigma2 / 2) ** P.depth, (1 + P.sigma2) ** (P.depth - 1), sp.exp(P.sigma2 * P.depth)])
def test_a_wrong_growth_factor_is_rejected(wrong):
    """Half the branch variance, one block too few, and e^(sigma^2 L) (the limit's form, not the value)."""
    assert not wb.verify(wb.claim("residual.vanishing").with_closed_form(wrong)).passed


def test_claiming_the_residual_stack_preserves_the_gradient_exactly_is_rejected():
    """E||P_L u||^2 = 1 (no growth) is wrong at any sigma^2 > 0; a coarse resolution suffices to see it."""
    assert not wb.verify(wb.claim("residual.vanishing").with_closed_form(sp.Integer(1)), depth=5, resolution=0.2).passed


@pytest.mark.parametrize("depth", [5, 60])
def test_branch_variance_alpha_over_depth_keeps_the_gradient_below_e_alpha(depth):
    v = wb.verify("residual.vanishing", depth=depth, sigma2=1.0 / depth, resolution=0.02)
    assert v.passed and v.expected < math.e and abs(v.estimate - v.expected) < 0.05 * v.expected


@pytest.mark.parametrize("method", ["gaussian", "relu-mlp"])
def test_vanishing_verifies_with_real_matrices_and_says_which(method):
    v = wb.verify("residual.vanishing", width=8, depth=4, sigma2=0.3, method=method, resolution=0.05)
    assert v.passed and v.parameters["method"] == method and v.dtype == "float32"


def test_jacobian_verdict_is_exact_absolute_and_reports_excluded_stacks():
    v = wb.verify("residual.jacobian")
    assert v.passed and v.kind == "exact" and v.scale == "absolute" and v.expected == 0
    assert 0 < v.tolerance < 1e-8 and any("excluded" in n for n in v.notes)
    mutant = wb.verify(wb.claim("residual.jacobian").with_closed_form(sp.Rational(1, 10**6)))
    assert not mutant.passed


def test_singular_verdict_reports_how_close_random_stacks_came():
    v = wb.verify("residual.singular-bounds", bound="upper", depth=10, eps=0.3)
    assert v.passed and v.expected == pytest.approx(1.3**10, rel=1e-15)
    note = next(n for n in v.notes if "outside the upper bound" in n)
    assert note.endswith(": 0") and r"times $(1 + \epsilon)^L$" in note


@pytest.mark.parametrize("bound", ["lower", "upper"])
def test_a_run_that_certifies_no_random_stack_is_inconclusive_never_a_pass(bound):
    """At eps = 0.99 and depth 100 every random stack's rounding bound reaches its value: only the attaining
    stack is checked, which meets the bound by construction, so the run cannot pass; a wrong bound still fails."""
    c = wb.claim("residual.singular-bounds")
    v = wb.verify(c, eps=0.99, depth=100, bound=bound)
    assert v.status == "inconclusive" and not v.passed
    assert any("of 0 certified (none certified)" in n for n in v.notes)
    assert any("no random stack is certified" in n for n in v.notes)
    assert wb.verify(c.with_closed_form(2 * c.closed_form), eps=0.99, depth=100, bound=bound).status == "fail"
    e = K.singular_bounds_experiment(np, np.random.default_rng(0), width=4, depth=10, eps=0.5, bound=bound)
    assert e.inconclusive == ""  # certified random stacks: a real check


@pytest.mark.parametrize("claim_id, params", [
    ("residual.jacobian", {"width": 1, "depth": 1}),
    ("residual.jacobian", {"width": 1, "depth": 64}),
    ("residual.singular-bounds", {"eps": 1e-300, "depth": 100, "bound": "upper"}),
    ("residual.singular-bounds", {"eps": 0.99, "depth": 1, "width": 1}),
    ("residual.vanishing", {"sigma2": 0.0}),
    ("residual.vanishing", {"sigma2": 5e-324, "width": 16, "depth": 10, "method": "gaussian"}),
    ("residual.vanishing", {"sigma2": 4.0, "width": 1, "depth": 1, "method": "gaussian"}),
])
def test_the_residual_claims_pass_at_the_edges_of_their_domains(claim_id, params):
    v = wb.verify(claim_id, resolution=0.05, **params)
    assert v.status == "pass", v


def test_same_seed_same_verdicts_and_different_seeds_differ():
    for cid in IDS:
        a, b = wb.verify(cid, seed=3), wb.verify(cid, seed=3)
        assert (a.estimate, a.tolerance) == (b.estimate, b.tolerance)
    assert wb.verify("residual.vanishing", seed=1).estimate != wb.verify("residual.vanishing", seed=2).estimate


def test_constraint_matches_its_own_formula_at_the_limit():
    n, s2 = 8, 0.5
    per_block = relative_variance(n, s2) + 5 * s2**2 / (n * (1 + s2) ** 2)
    deepest = math.floor(LOG_VARIANCE_LIMIT / math.log1p(per_block))
    assert variance_constraint({"width": n, "depth": deepest, "sigma2": s2}) is None
    assert f"use depth <= {deepest}" in variance_constraint({"width": n, "depth": deepest + 1, "sigma2": s2})


# -- figures ---------------------------------------------------------------------------------------


def test_jacobian_figure_points_are_the_verifier_runs_with_their_rounding_bounds():
    fig = figure_of("residual.jacobian", depth=4)
    (x, y, half), = errorbar_series(fig.axes[0])
    verdicts = [wb.verify("residual.jacobian", seed=i, depth=int(d)) for i, d in enumerate(x)]
    np.testing.assert_array_equal(y, [v.estimate for v in verdicts])
    assert_bars(y, half, [v.tolerance for v in verdicts])
    assert fig.axes[1].get_yscale() == "log"
    labels = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert any("without the identity" in s for s in labels) and any("first order" in s for s in labels)


def test_singular_figure_shows_both_bounds_attained():
    fig = figure_of("residual.singular-bounds", depth=6)
    upper, lower = errorbar_series(fig.axes[0])[:2]
    np.testing.assert_allclose(upper[1], 1.1 ** upper[0], rtol=1e-12)
    np.testing.assert_allclose(lower[1], 0.9 ** lower[0], rtol=1e-12)
    ratios = [line.get_ydata() for line in fig.axes[1].get_lines() if line.get_marker() == "."]
    assert ratios and all(np.all(np.asarray(r) <= 1 + 1e-12) for r in ratios)


def test_vanishing_figure_measures_sigma2_alpha_over_depth_and_the_plain_chain():
    fig = figure_of("residual.vanishing", depth=12)
    fixed, scaled = errorbar_series(fig.axes[0])
    depths = fixed[0]
    offset = len(depths)  # the depth-scaled series was measured first
    first = wb.verify("residual.vanishing", seed=0, resolution=0.02, depth=int(scaled[0][0]), sigma2=1.0 / scaled[0][0])
    assert scaled[1][0] == first.estimate
    last = wb.verify("residual.vanishing", seed=offset + len(depths) - 1, resolution=0.02, depth=int(depths[-1]))
    assert fixed[1][-1] == last.estimate
    legend = " ".join(t.get_text() for t in fig.axes[0].get_legend().get_texts())
    assert "plain chain" in legend and r"e^{\alpha}" in legend


# -- the command line ------------------------------------------------------------------------------


def test_the_three_claims_verify_from_the_command_line(capsys):
    from workbench.cli import main

    assert main(["verify", *IDS, "--json", "--jobs", "1"]) == 0  # in process (README runs the command itself)
    verdicts = json.loads(capsys.readouterr().out)
    assert [v["id"] for v in verdicts] == list(IDS) and all(v["passed"] for v in verdicts)
