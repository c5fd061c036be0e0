"""Depth separation: the sawtooth's derivation and exact piece count, the separation bounds against the
best few-piece approximations, mutation tests, figures and bad input."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from figure_helpers import errorbar_series, figure_of
from hypothesis import given, settings
from hypothesis import strategies as st

import workbench as wb
from numerics import depth as K
from proofs import depth as P
from proofs.checks import StepNotChecked
from proofs.printing import latex_expr
from proofs.rules import equal_at
from workbench.catalog.depth import separation_constraint

IDS = ("depth.sawtooth", "depth.separation")


# -- derivations ---------------------------------------------------------------------------------


def test_sawtooth_derivation_is_checked_by_induction_and_counts():
    d = P.derive_sawtooth()
    assert d.closed_form == 2**P.L and d.status == "checked" and d.cited == []
    pieces, crossings = d.conclusion.uses
    formula = d.steps[3]
    assert formula.status == "checked" and "induction on $L$" in formula.how
    assert [s.how for s in formula.uses] == ["premises, solveset"] * 2
    assert pieces.uses[1] is formula and crossings.uses[1] is formula
    assert "cited theorem" not in wb.claim("depth.sawtooth").statement


@pytest.mark.parametrize("wrong", [
    (-1) ** P.j * (3**P.L * P.x - P.j) + (1 - (-1) ** P.j) / 2,  # slopes tripling
    (-1) ** P.j * (2**P.L * P.x - P.j) + (1 + (-1) ** P.j) / 2,  # the pieces mirrored: t^0 would not be the identity
    2**P.L * P.x - P.j,  # no mirroring on the right half
])
def test_a_wrong_formula_for_t_to_the_L_fails_the_induction(wrong):
    left, right = P.derive_sawtooth().steps[1:3]
    with pytest.raises(StepNotChecked):
        P.composed(P.Piece(P.L, P.j, P.x), wrong, "", uses=[left, right])


def test_a_wrong_count_does_not_follow_from_the_formula():
    d = P.derive_sawtooth()
    pieces_def, _, pieces, _ = d.steps[4:8]
    for wrong in (2 ** (P.L + 1), 2**P.L - 1, 2 * P.L + 1):
        with pytest.raises(StepNotChecked):
            equal_at(P.N(P.L), wrong, uses=pieces.uses, at={P.j: (P.r - 1, P.r)})
    assert pieces.recheck(pieces.uses)  # and the right one is confirmed again


def test_the_tent_has_two_halves_and_the_knots_alternate():
    d = P.derive_sawtooth()
    left, right = d.steps[1:3]
    assert left.rhs == sp.Interval(0, sp.Rational(1, 2)) and right.rhs == sp.Interval(sp.Rational(1, 2), 1)
    one, before, after = d.remarks[:3]
    assert one.rhs == sp.FiniteSet(sp.Rational(1, 4), sp.Rational(3, 4))  # C(1) = 2
    assert before.rhs == after.rhs and before.status == after.status == "checked"


def test_separation_derivation_derives_both_constants_and_states_the_inequality():
    d = P.derive_separation()
    assert d.conclusion.lhs == P.E and d.conclusion.rel == ">=" and d.status == "cited"
    assert d.cited == ["Rudin (1976), Theorems 1.33(e) and 6.12(a), (b)", "Rudin (1976), Theorem 6.12(b), (c)"]
    assert all(s.source is not P.TELGARSKY for s in d.steps)
    b = P.bounds()
    steps = [s for s in d.steps if s.rel == ">=" and s.lhs == P.E and s.status == "checked"]
    assert {s.rhs for s in steps[:2]} == {b["breakpoints"], b["crossings"]}
    assert d.closed_form == sp.Piecewise((b["breakpoints"], sp.Eq(P.argument, 1)), (b["crossings"], True))
    at = {P.L: 6, P.k: 2}
    assert b["breakpoints"].subs(at) == sp.Rational(15, 64) and b["crossings"].subs(at) == sp.Rational(7, 64)
    assert latex_expr(b["breakpoints"]) == r"\frac{1}{4} - \frac{k}{2^{L + 1}}"
    twice, attained = d.remarks
    assert twice.rel == "<" and attained.rhs == sp.Rational(1, 4)


def _step(d, lhs, rel="="):
    return next(s for s in d.steps if s.lhs == lhs and s.rel == rel and s.status == "checked")


def test_the_tooth_and_the_triangle_are_integrals_checked_by_substitution():
    d = P.derive_separation()
    tooth, triangle = _step(d, P.Err(P.i)), _step(d, P.Area(P.m))
    assert "split" in tooth.how and "m = 2 i - 1" in tooth.how and "split" in triangle.how
    a, b = sp.Symbol("a", real=True), sp.Symbol("b", real=True)
    half_tooth = sp.Integral(sp.Abs(a + b * P.v - (1 - P.v)) + sp.Abs(a - b * P.v - (1 - P.v)), (P.v, 0, 1)) / 2 ** (P.L + 1)
    peak = (2 * P.i - 1) / 2**P.L
    with pytest.raises(StepNotChecked):  # half the tooth's width
        P.substituted(P.Err(P.i), half_tooth, [peak - P.v / 2**P.L, peak + P.v / 2**P.L], "", uses=tooth.uses,
                      at={P.m: 2 * P.i - 1})
    with pytest.raises(StepNotChecked):  # a peak where the tooth is a valley (m = 2i)
        P.substituted(P.Err(P.i), tooth.rhs, [peak - P.v / 2**P.L, peak + P.v / 2**P.L], "", uses=tooth.uses,
                      at={P.m: 2 * P.i})
    with pytest.raises(StepNotChecked):  # a triangle twice as high
        P.substituted(P.Area(P.m), 2 * triangle.rhs, [P.m / 2**P.L - P.v / 2 ** (P.L + 1), P.m / 2**P.L + P.v / 2 ** (P.L + 1)],
                      "", uses=triangle.uses)


def test_the_runs_count_is_checked_and_refuses_one_more():
    d = P.derive_separation()
    count = _step(d, P.wrong, ">=")
    assert count.rhs == 2 ** (P.L - 1) - P.k - 2 and count.status == "checked"
    with pytest.raises(StepNotChecked):
        P.combine(P.wrong, 2 ** (P.L - 1) - P.k - 1, "", uses=count.uses, weights=[1, 1, sp.Rational(1, 2), 1])
    alternate = _step(d, P.Wrong(P.s), ">=")
    assert "parity" in alternate.how
    with pytest.raises(StepNotChecked):  # every other interval, rounded up: false for odd lengths and one parity
        P.by_parity(P.Wrong(P.s), ">=", P.length(P.s) / 2, [P.length(P.s), P.phase(P.s)], "", uses=alternate.uses)


def test_the_assembly_refuses_a_bound_twice_as_large():
    d = P.derive_separation()
    bound = next(s for s in d.steps if s.status == "checked" and s.lhs == P.E and s.rhs == P.bounds()["breakpoints"])
    with pytest.raises(StepNotChecked):
        P.combine(P.E, 2 * bound.rhs, "", uses=bound.uses, weights=[1, 1, 1 / 2 ** (P.L + 1)])
    with pytest.raises(StepNotChecked):  # the per-tooth cost doubled
        P.combine(P.E, bound.rhs, "", uses=bound.uses, weights=[1, 1, 1 / 2**P.L])
    either = d.steps[-1]
    with pytest.raises(StepNotChecked):  # a case without its premise
        P.each_case(P.E, either.rhs, "", uses=either.uses[:1])


def test_the_tooth_minimum_is_a_quarter_not_a_third():
    a, v = sp.Symbol("a", real=True), sp.Symbol("v", real=True)
    half = sp.Integral(sp.Abs(a - 1 + v), (v, 0, 1))
    assert P.by_branches(half, sp.Rational(1, 4), a, "").status == "checked"
    with pytest.raises(StepNotChecked):
        P.by_branches(half, sp.Rational(1, 3), a, "")


# -- the exact engine ----------------------------------------------------------------------------


@pytest.mark.parametrize("L", [1, 2, 3, 7, 12])
def test_the_network_has_two_to_the_L_pieces_and_crossings(L):
    saw = K.sawtooth(L)
    assert K.pieces(saw) == K.crossings(saw) == 2**L
    xs, ys = K.knots(saw)
    assert xs == [Fraction(j, 2**L) for j in range(2**L + 1)] and ys == [Fraction(j % 2) for j in range(2**L + 1)]


@pytest.mark.slow
def test_the_network_of_depth_20_has_two_to_the_20_pieces():
    saw = K.sawtooth(20)
    assert K.pieces(saw) == K.crossings(saw) == 2**20 and len(saw.x) == 2**20 + 1


def test_relu_inserts_exact_rational_zeros():
    pl = K.network([([[3]], [-1])], ([1], 0))  # relu(3x - 1) on [0, 1] bends at 1/3, not a dyadic point
    assert K.knots(pl) == ([0, Fraction(1, 3), 1], [0, 0, 2]) and K.pieces(pl) == 2
    assert K.crossings(pl, Fraction(1, 2)) == 1
    with pytest.raises(ValueError, match="whole piece"):
        K.crossings(pl, Fraction(0))


@settings(max_examples=40, deadline=None)
@given(width=st.integers(1, 12), seed=st.integers(0, 2**32 - 1))
def test_one_hidden_layer_of_k_units_has_at_most_k_plus_one_pieces(width, seed):
    w, b, a = np.random.default_rng(seed).standard_normal((3, width))
    assert K.shallow_pieces(w, b, a) <= width + 1
    assert K.shallow_pieces(w, b, a) == width + 1  # generic weights: every unit bends the line


def test_coinciding_or_cancelling_units_give_fewer_pieces():
    assert K.shallow_pieces([1.0, 2.0], [-0.5, -1.0], [1.0, 1.0]) == 2  # both bend at 1/2
    assert K.shallow_pieces([1.0, 1.0], [0.0, 0.0], [1.0, -1.0]) == 1  # they cancel: the zero function


def test_l1_error_is_exact_and_agrees_with_quadrature():
    g = K.sawtooth(4)
    assert K.l1_error([Fraction(0), Fraction(1)], [K.HALF, K.HALF], g) == Fraction(1, 4)
    assert K.l1_error(*K.knots(g), g) == 0
    fx, fy = [Fraction(0), Fraction(3, 10), Fraction(1)], [Fraction(1, 5), Fraction(9, 10), Fraction(1, 3)]
    x = (np.arange(2_000_000) + 0.5) / 2_000_000
    gx, gy = (np.array([float(v) for v in u]) for u in K.knots(g))
    quad = np.mean(np.abs(np.interp(x, [float(v) for v in fx], [float(v) for v in fy]) - np.interp(x, gx, gy)))
    assert abs(float(K.l1_error(fx, fy, g)) - quad) < 1e-9


def test_teeth_and_changes_are_counted():
    assert K.breakpoint_teeth([Fraction(0), Fraction(1, 8), Fraction(1, 4), Fraction(1)], 3) == 1  # 1/4 ends a tooth
    assert K.changes([Fraction(0), Fraction(1, 2), Fraction(1)], [Fraction(0), Fraction(1), Fraction(0)]) == 2


# -- properties linking the derivations and the kernels -------------------------------------------


@settings(max_examples=12, deadline=None)
@given(L=st.integers(1, 11), count=st.sampled_from(K.COUNTS))
def test_the_kernel_counts_what_the_derivation_derives(L, count):
    expected = int(P.derive_sawtooth().closed_form.subs(P.L, L))
    e = K.sawtooth_experiment(np, np.random.default_rng(L), L=L, count=count)
    assert e.mean == expected and dict(e.events) and all(n == 0 for name, n in e.events if "more than" in name)


@settings(max_examples=30, deadline=None)
@given(L=st.integers(3, 9), data=st.data())
def test_random_few_piece_functions_meet_the_derived_bounds(L, data):
    k = data.draw(st.integers(0, 2 ** (L - 1) - 3), label="k")
    knots = sorted(set(data.draw(st.lists(st.fractions(0, 1, max_denominator=97), max_size=k), label="knots")) - {0, 1})
    fx = [Fraction(0), *knots, Fraction(1)]
    fy = data.draw(st.lists(st.fractions(-1, 2, max_denominator=50), min_size=len(fx), max_size=len(fx)), label="values")
    error = K.l1_error(fx, fy, K.sawtooth(L))
    for name, bound in P.bounds().items():
        derived = bound.subs({P.L: L, P.k: k})
        assert Fraction(int(derived.p), int(derived.q)) == K.separation_bound(L, k, name)
        assert error >= derived
    assert K.breakpoint_teeth(fx, L) <= k and K.changes(fx, fy) <= k + 1


# -- claims: verdicts and mutation tests -----------------------------------------------------------


@pytest.mark.parametrize("count", K.COUNTS)
@pytest.mark.parametrize("wrong", [2**P.L - 1, 2 ** (P.L + 1), P.L + 1, 2 * P.L + 1])
def test_a_wrong_piece_count_is_rejected(count, wrong):
    """One piece short, twice as many, linear growth, and the shallow network's 2L + 1."""
    c = wb.claim("depth.sawtooth")
    assert wb.verify(c, count=count).passed
    assert wb.verify(c.with_closed_form(wrong), count=count).status == "fail"


def _separation_with(factor, shift=0):
    """depth.separation with its bound replaced by factor * bound + shift, in the closed form and in the
    kernel's own exact comparison (a claim of that wrong bound)."""
    def experiment(xp, rng, budget=None, *, L, k, argument):
        bound = K.separation_bound(L, k, argument) * Fraction(factor) + Fraction(shift)
        return K.separation_check(xp, rng, L=L, k=k, argument=argument, bound=bound)
    c = wb.claim("depth.separation")
    return replace(c, experiment=experiment).with_closed_form(factor * c.closed_form + shift)


@pytest.mark.parametrize("argument, factor, status", [
    ("breakpoints", 1, "pass"), ("breakpoints", 2, "fail"), ("breakpoints", Fraction(21, 20), "fail"),
    ("crossings", 1, "pass"), ("crossings", 2, "pass"), ("crossings", Fraction(5, 2), "fail"),
])
def test_a_bound_constant_too_large_is_refuted_by_the_fits(argument, factor, status):
    """Twice the breakpoint bound (or 5 % more) falls above the least-squares fits; twice the crossing bound
    is no wrong version: the breakpoint bound implies it (remark 27)."""
    assert wb.verify(_separation_with(factor), argument=argument).status == status


def test_the_bound_without_its_correction_or_with_it_added_is_refuted():
    """1/4 for every k (shallow networks cannot beat the constant 1/2) and 1/4 + k/2^(L+1): both false."""
    k, L = 2, 6
    assert wb.verify(_separation_with(1, Fraction(k, 2 ** (L + 1)))).status == "fail"
    assert wb.verify(_separation_with(1, Fraction(2 * k, 2 ** (L + 1)))).status == "fail"
    assert wb.verify(_separation_with(1, Fraction(0))).passed


def test_a_candidate_below_the_bound_by_less_than_float64_shows_is_still_a_refutation():
    closest = min(r["error"] for r in K.separation_probes(np, np.random.default_rng(0), L=6, k=2))
    e = K.separation_check(np, np.random.default_rng(0), L=6, k=2, argument="breakpoints", bound=closest + Fraction(1, 10**30))
    assert e.mean < float(closest) and abs(e.mean - float(closest)) > e.atol and e.events[0][1] == 1


def test_separation_verdict_is_the_bound_and_reports_tightness_and_the_class():
    v = wb.verify("depth.separation")
    assert v.passed and v.kind == "exact" and v.expected == v.estimate == 15 / 64
    assert 0 < v.tolerance <= 2.0**-53 * 15 / 64
    note = next(n for n in v.notes if "below the bound" in n)
    ratio = float(note.split("times the bound")[0].rsplit("$", 2)[-2])
    assert note.endswith(": 0") and 1 < ratio < 1.1
    assert any("outside the bound's class" in n and n.endswith(": 0") for n in v.notes)
    at_zero = wb.verify("depth.separation", k=0)
    assert at_zero.passed and any("constant $1/2$" in n and "$1.0000$ times" in n for n in at_zero.notes)


def test_sawtooth_verdict_reports_the_other_count_and_the_shallow_networks():
    v = wb.verify("depth.sawtooth", L=5)
    assert v.passed and v.expected == 32 and v.kind == "exact"
    assert any("crossings of $1/2$: 32" in n for n in v.notes)
    assert any("more than $2L + 1 = 11$" in n and n.endswith(": 0") for n in v.notes)


def test_same_seed_same_verdicts():
    for cid in IDS:
        a, b = wb.verify(cid, seed=3), wb.verify(cid, seed=3)
        assert (a.estimate, a.tolerance, a.notes) == (b.estimate, b.tolerance, b.notes)


@pytest.mark.parametrize("claim_id, params, error", [
    ("depth.sawtooth", {"L": 0}, ValueError),
    ("depth.sawtooth", {"L": 21}, ValueError),
    ("depth.sawtooth", {"L": 2.5}, TypeError),
    ("depth.sawtooth", {"count": "edges"}, ValueError),
    ("depth.separation", {"L": 2}, ValueError),
    ("depth.separation", {"k": -1}, ValueError),
    ("depth.separation", {"L": 4, "k": 6}, ValueError),
    ("depth.separation", {"argument": "teeth"}, ValueError),
])
def test_bad_input_names_the_parameter(claim_id, params, error):
    name = next(iter(params))
    with pytest.raises(error, match=name):
        wb.verify(claim_id, **params)


def test_the_constraint_names_the_largest_k():
    assert separation_constraint({"L": 4, "k": 5}) is None
    assert "use k <= 5" in separation_constraint({"L": 4, "k": 6})


# -- figures ---------------------------------------------------------------------------------------


def test_sawtooth_figure_points_are_the_verifier_runs():
    fig = figure_of("depth.sawtooth", L=5)
    (x, y, _), = errorbar_series(fig.axes[1])
    np.testing.assert_array_equal(y, 2.0**x)
    assert wb.verify("depth.sawtooth", seed=2, L=int(x[2])).estimate == y[2]
    assert fig.axes[1].get_yscale() == "log"
    labels = " ".join(t.get_text() for t in fig.axes[1].get_legend().get_texts())
    assert "one hidden layer" in labels and "2L+1" in labels


def test_separation_figure_shows_both_bounds_the_verdicts_and_the_tightness():
    fig = figure_of("depth.separation")
    (x, y, tol), = errorbar_series(fig.axes[1])
    np.testing.assert_array_equal(y, 0.25 - x / 2**7)  # the verifier's estimates: the bound, met by every candidate
    assert np.all(tol < 1e-16)  # float64 rounding of the bound (as the bars read it back)
    errors = [line.get_ydata()[0] for line in fig.axes[1].get_lines() if len(line.get_ydata()) == 1]
    assert errors and min(errors) >= 0.25 - x.max() / 2**7
    labels = " ".join(t.get_text() for t in fig.axes[1].get_legend().get_texts())
    assert "breakpoints" in labels and "crossings" in labels
    ratios = [line.get_ydata()[0] for line in fig.axes[2].get_lines() if len(line.get_ydata()) == 1]
    assert len(ratios) == len(errors) and min(ratios) >= 1 and max(ratios) < 2
