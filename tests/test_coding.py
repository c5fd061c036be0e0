"""The ``huffman.*`` claims: derivations, kernels, and the properties and mutations that link them.

Huffman codes are not unique (ties), so every comparison between two constructions is of the
expected length (and completeness), never of the code itself.
"""

from __future__ import annotations

import heapq
import math
import time
from dataclasses import replace
from fractions import Fraction

import mpmath as mp
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, target
from hypothesis import strategies as st

import workbench as wb
from numerics import backend
from numerics import coding as K
from numerics.entropy import (
    miller_madow_bias,
    quantized_gaussian_entropy,
    quantized_gaussian_entropy_exact,
    quantized_gaussian_probabilities,
)
from numerics.huffman import (
    batch_code_lengths,
    canonical_codes,
    code_lengths,
    is_prefix_free,
    kraft_sum,
)
from numerics.redundancy import GALLAGER_SIGMA, certify, gallager_within, uniform_redundancy, within
from proofs import coding as D
from workbench.asymptotics import fit
from workbench.statistics import z_critical

IDS = ["huffman.bounds", "huffman.dyadic", "huffman.kraft", "huffman.gallager", "huffman.quantized-gaussian"]


def _heap_lengths(weights) -> list[int]:
    """Huffman's algorithm as textbooks write it, with a heap: the reference for the two-queue forms."""
    heap = [(w, i, [i]) for i, w in enumerate(weights)]
    heapq.heapify(heap)
    depth = [0] * len(weights)
    counter = len(weights)
    while len(heap) > 1:
        wa, _, a = heapq.heappop(heap)
        wb_, _, b = heapq.heappop(heap)
        for leaf in a + b:
            depth[leaf] += 1
        heapq.heappush(heap, (wa + wb_, counter, a + b))
        counter += 1
    return depth


def _expected(p, lengths) -> Fraction:
    return sum((Fraction(x) * int(n) for x, n in zip(p, lengths, strict=True)), Fraction(0))


# --- the five claims are registered, derived, and verify --------------------------------------------

def test_the_area_registers_five_claims_in_order():
    assert [c.id for c in wb.claims("huffman")] == IDS
    assert {c.kind for c in wb.claims("huffman")} == {"exact", "asymptotic"}


@pytest.mark.parametrize("claim_id, status, cited", [
    ("huffman.bounds", "cited", ["Cover and Thomas (2006), Theorems 5.4.1 and 5.8.1"]),
    ("huffman.dyadic", "checked", []),
    ("huffman.kraft", "checked", []),
    ("huffman.gallager", "cited", ["Gallager (1978), Theorem 2"]),
    ("huffman.quantized-gaussian", "cited", ["Cover and Thomas (2006), Theorem 8.3.1"]),
])
def test_every_derivation_checks_its_algebra_and_cites_only_the_theorem_it_is(claim_id, status, cited):
    """At most one cited step, the theorem the claim is (its statement says so); every other
    non-definition step is checked by SymPy, and the cited step uses checked special cases."""
    c = wb.claim(claim_id)
    d = c.derivation
    assert d.status == status and d.cited == cited
    assert d.count("checked") >= 3 and d.count("cited") == len(cited)
    for s in d.steps:
        if s.status == "cited":  # checked special cases among its premises, or checked links after it
            assert s.uses and any(p.status == "checked" for p in (*s.uses, *d.conclusion.uses))
    assert ("cited theorem, verified numerically" in c.statement) == bool(cited)


@pytest.mark.parametrize("claim_id", ["huffman.dyadic", "huffman.kraft"])
def test_the_comb_length_and_the_kraft_sum_follow_by_induction_along_huffmans_algorithm(claim_id):
    d = wb.claim(claim_id).derivation
    induction = [s for s in d.steps if s.how.startswith("induction")]
    assert len(induction) == 1
    rule, first = induction[0].uses
    assert rule.status == "checked" and first.status in ("checked", "definition")
    assert d.conclusion.how == "transitivity" and induction[0] in d.conclusion.uses


def test_the_bounds_check_shannons_code_and_the_gallager_constant_is_reached():
    bounds = wb.claim("huffman.bounds").derivation
    (theorem,) = [s for s in bounds.steps if s.status == "cited"]
    H = sp.Symbol("H", real=True)
    (strict,) = [s for s in theorem.uses if s.rel == "<"]  # L_S < H + 1, through Shannon's lengths
    (upper,) = [s for s in theorem.uses if s.rhs == H + 1]
    assert strict.status == upper.status == "checked" and strict.lhs.has(sp.IndexedBase("psi", positive=True))
    gallager = wb.claim("huffman.gallager").derivation
    (tight,) = gallager.remarks
    assert tight.status == "checked" and tight.rhs == sp.Symbol("sigma_G", positive=True)


def test_the_dyadic_example_of_the_issue_is_seven_quarters_bits_exactly():
    assert wb.claim("huffman.dyadic").closed_form.subs(sp.Symbol("K", integer=True, positive=True), 4) == sp.Rational(7, 4)
    p = [Fraction(1, 2), Fraction(1, 4), Fraction(1, 8), Fraction(1, 8)]
    assert _expected(p, code_lengths(p)) == Fraction(7, 4)
    v = wb.verify("huffman.dyadic", K=4)
    assert v.passed and v.estimate == 1.75 and v.expected == 1.75


def test_gallager_constant_is_the_exact_one_and_the_derivations_agree():
    exact = sp.N(D.SIGMA, 30)
    assert abs(float(exact) - GALLAGER_SIGMA) <= 2 * np.finfo(float).eps
    assert str(exact).startswith("0.0860713320559342")
    assert GALLAGER_SIGMA > 0.086  # the rounded constant is smaller: it would claim more than was proved


def test_the_quantized_gaussian_closed_form_is_the_differential_entropy():
    sigma = sp.Symbol("sigma", positive=True)
    c = wb.claim("huffman.quantized-gaussian")
    assert sp.simplify(c.closed_form - sp.log(2 * sp.pi * sp.E * sigma**2) / (2 * sp.log(2))) == 0
    assert c.limit.name == "Delta" and c.limit.towards == "zero" and c.limit.order == 2


@pytest.mark.parametrize("claim_id, params", [
    ("huffman.bounds", {"K": 2, "concentration": 0.05}),
    ("huffman.bounds", {"K": 300, "concentration": 20.0, "draws": 256}),
    ("huffman.kraft", {"K": 1024, "concentration": 0.05, "draws": 64}),
    ("huffman.gallager", {"K": 3, "concentration": 0.05}),
    ("huffman.dyadic", {"K": 64}),
])
def test_claims_verify_at_the_edges_of_their_domains(claim_id, params):
    v = wb.verify(claim_id, **params)
    assert v.passed, str(v)


_K = sp.Symbol("K", integer=True, positive=True)


@pytest.mark.parametrize("claim_id, wrong", [
    *[(c, w) for c in IDS for w in ("x2", "x0")],
    ("huffman.dyadic", 2 - 2 ** (1 - _K)),  # off by 2^-(K-1): the comb one symbol shorter
    ("huffman.dyadic", 2 - 2 ** (2 - _K) + 2 ** -_K),
    ("huffman.kraft", 1 + sp.Rational(1, 2**52)),  # the nearest double above 1
    ("huffman.quantized-gaussian", sp.log(2 * sp.pi * sp.E * D.sigma**2) / 2),  # in nats
])
def test_the_defaults_reject_the_standard_wrong_variants(claim_id, wrong):
    c = wb.claim(claim_id)
    form = {"x2": 2 * c.closed_form, "x0": 0 * c.closed_form}.get(wrong, wrong)
    assert wb.verify(c.with_closed_form(form)).status == "fail"


# --- Huffman code lengths: fast paths against the textbook heap ------------------------------------

@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 10_000), min_size=2, max_size=40))
def test_two_queue_lengths_have_the_heap_expected_length_and_a_complete_code(weights):
    fast = code_lengths(weights)
    reference = _heap_lengths(weights)
    assert _expected(weights, fast) == _expected(weights, reference)  # ties may give other codes, never other L
    assert kraft_sum(fast) == 1
    batch = batch_code_lengths(np.array([weights], dtype=float))[0]
    assert _expected(weights, batch) == _expected(weights, reference)


def test_ties_can_change_the_code_but_not_its_expected_length():
    weights = [1, 1, 2, 2]  # (2, 2, 2, 2) and (1, 2, 3, 3) are both Huffman codes
    a = sorted(code_lengths(weights).tolist())
    assert a in ([2, 2, 2, 2], [1, 2, 3, 3])
    assert _expected(weights, [2, 2, 2, 2]) == _expected(weights, [3, 3, 2, 1]) == 12


def test_canonical_codes_are_prefix_free_and_a_non_prefix_code_is_caught():
    lengths = [1, 2, 3, 4, 4]
    codes = canonical_codes(lengths)
    assert is_prefix_free(codes, lengths)
    assert not is_prefix_free([0, 1, 2], [1, 2, 2])  # "0" is a prefix of "01"
    assert not is_prefix_free([0, 0], [1, 1])  # the same codeword twice
    assert not is_prefix_free([4], [2])  # 4 needs 3 bits


# --- huffman.bounds ----------------------------------------------------------------------------

def test_a_nearly_degenerate_draw_is_not_a_false_violation():
    p = np.array([[1.0, 1e-19], [1.0, 1e-300], [0.5, 0.5]])
    c = certify(p, batch_code_lengths(p))
    assert c.upper_ok.all() and c.lower_ok.all() and not c.undecided.any()
    naive = (p * 1).sum(axis=1) + (p * np.log2(p)).sum(axis=1)
    assert naive[0] == 1.0  # the naive L - H equals the bound


def _shifted_bounds(lower: float, upper: float):
    def experiment(xp, rng, budget, *, K: int, concentration: float, draws: int):
        p = K_.dirichlet(xp, rng, draws, K, concentration)
        c = certify(p, batch_code_lengths(p))
        return K_.fraction_estimate(within(c, lower, upper), xp, [])

    K_ = K
    return replace(wb.claim("huffman.bounds"), experiment=experiment)


@pytest.mark.parametrize("lower, upper, params", [
    (0.0, 0.999, {"K": 2, "concentration": 0.05}),  # claiming L < H + 0.999: degenerate draws refute it
    (0.001, 1.0, {"K": 2, "concentration": 1.0}),  # claiming L >= H + 0.001: near-uniform pairs refute it
    (0.0, 0.999, {}),  # the defaults approach both bounds, so they refute both
    (0.001, 1.0, {}),
])
def test_a_bound_off_by_a_thousandth_of_a_bit_is_rejected(lower, upper, params):
    assert wb.verify("huffman.bounds", **params).passed
    assert wb.verify(_shifted_bounds(0.0, 1.0), **params).passed  # the same experiment, the proved bounds
    v = wb.verify(_shifted_bounds(lower, upper), **params)
    assert not v.passed and v.estimate < 1


# --- huffman.kraft ------------------------------------------------------------------------------

def test_kraft_sums_are_exact_far_below_float_resolution():
    assert K.kraft_sums(np.array([[1, 2, 3, 3]]))[0].tolist() == [0]
    lengths = np.array([list(range(1, 80)) + [79], list(range(1, 80)) + [80], list(range(1, 80)) + [78]])
    sign, value = K.kraft_sums(lengths)
    assert sign.tolist() == [0, -1, 1]  # misses 1 by -2^-80 and +2^-79, far below float64 resolution
    assert value.tolist() == [1.0, 1.0, 1.0]


def test_a_code_that_is_not_prefix_free_makes_the_kraft_claim_fail():
    def shortened(xp, rng, budget, *, K: int, concentration: float, draws: int):
        p = K_.dirichlet(xp, rng, draws, K, concentration)
        lengths = batch_code_lengths(p)
        rows = np.arange(draws)
        longest = np.argmax(lengths, axis=1)
        lengths[rows, longest] -= 1  # one codeword a bit too short: Kraft sum > 1, no prefix code exists
        return K_.kraft_estimate(xp, p, lengths)

    K_ = K
    c = replace(wb.claim("huffman.kraft"), experiment=shortened)
    v = wb.verify(c)
    assert not v.passed and v.estimate > 1
    violated = "Huffman codes with Kraft sum $> 1$ (no prefix code has these lengths): 0 "
    assert any("Kraft sum $> 1$" in n and not n.startswith(violated) for n in v.notes)


def test_shannon_codes_are_usually_incomplete():
    v = wb.verify("huffman.kraft", K=16, concentration=1.0, draws=512)
    assert v.passed
    note = next(n for n in v.notes if n.startswith("Shannon codes"))
    assert int(note.split(": ")[1].split(" of ")[0]) < 50


# --- huffman.gallager ----------------------------------------------------------------------------

def test_the_rounded_constant_is_refuted_by_a_uniform_alphabet():
    k = 22713  # round(2^14 * 2 ln 2)
    lengths = code_lengths(np.ones(k, dtype=np.int64))
    assert sorted(set(lengths.tolist())) == [14, 15]
    with mp.workdps(40):
        redundancy = mp.mpf(int(lengths.sum())) / k - mp.log(k, 2)
        excess = redundancy - mp.mpf(1) / k
    assert excess > mp.mpf("0.086")  # so L - H <= p_max + 0.086 is false
    assert redundancy - mp.mpf(1) / k < mp.mpf(GALLAGER_SIGMA)  # and Gallager's exact bound holds
    assert abs(float(redundancy) - uniform_redundancy(k)) < 1e-12


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(1, 1 << 20), min_size=2, max_size=48), st.integers(0, 6))
def test_gallager_holds_on_adversarial_distributions(weights, spread):
    """Hypothesis searches for distributions that approach Gallager's bound (target: the smallest
    slack); the bound must hold on every one, decided exactly."""
    w = np.array(weights, dtype=float) ** (1 + spread / 3)  # heavier tails make p_max large
    p = (w / w.sum())[None, :]
    c = certify(p, batch_code_lengths(p))
    target(-float(c.gallager_margin[0]), label="closeness to Gallager's bound")
    target(float(c.redundancy[0] - c.pmax[0]), label="L - H - p_max")
    assert c.gallager_ok[0] and not c.undecided[0]
    assert c.lower_ok[0] and c.upper_ok[0]


def test_the_adversarial_probes_come_within_a_hundredth_of_a_bit_of_the_bound():
    v = wb.verify("huffman.gallager", K=1024, draws=64)
    assert v.passed
    near = next(n for n in v.notes if n.startswith("probes within"))
    assert int(near.split(": ")[1].split(" of ")[0]) >= 5
    assert any("0.0860713320559342" in n for n in v.notes)


def _gallager_with(sigma: float):
    def experiment(xp, rng, budget, *, K: int, concentration: float, draws: int):
        return K_.gallager_probes(xp, rng, K=K, concentration=concentration, draws=draws, sigma=sigma)

    K_ = K
    return replace(wb.claim("huffman.gallager"), experiment=experiment)


@pytest.mark.parametrize("sigma, status", [(0.08, "fail"), (0.083, "fail"), (GALLAGER_SIGMA, "pass"), (0.1, "pass")])
def test_the_gallager_defaults_tell_the_constant_from_0_08(sigma, status):
    """At its default K = 360 the uniform probe on 355 symbols has L - H - p_max = 0.08325: the bound with
    0.08 (or 0.083) in place of Gallager's 0.0861 is refuted; with K = 16 it was not."""
    began = time.perf_counter()
    v = wb.verify(_gallager_with(sigma))
    assert v.status == status and time.perf_counter() - began < 5
    assert wb.claim("huffman.gallager").defaults["K"] == 360 and K.closest_uniform(360)[0] == 355
    assert wb.verify(_gallager_with(0.08), K=16).status == "pass"  # the old default could not tell


def test_gallager_within_decides_another_constant_in_float64():
    p = np.full((1, 22), 1 / 22)  # L - H - p_max = 0.040568
    c = certify(p, batch_code_lengths(p))
    assert [bool(gallager_within(c, s)[0]) for s in (GALLAGER_SIGMA, 0.0406, 0.0405, 0.0)] == [True, True, False, False]


# --- huffman.dyadic ------------------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 12), min_size=2, max_size=12))
def test_l_equals_h_iff_the_distribution_is_dyadic(depths):
    """A distribution from a complete prefix code's lengths (dyadic) is coded at its entropy; any
    other is coded above it."""
    lengths = sorted(depths)
    total = kraft_sum(lengths)
    if total != 1:  # complete the tree by deepening the last leaves until Kraft's sum is 1
        return
    p = [Fraction(1, 1 << n) for n in lengths]
    H = sum((q * n for q, n in zip(p, lengths, strict=True)), Fraction(0))
    assert _expected(p, code_lengths(p)) == H
    w = [Fraction(3, 1 << n) if j == 0 else Fraction(1, 1 << n) for j, n in enumerate(lengths)]
    q = [x / sum(w) for x in w]  # no longer dyadic
    with mp.workdps(50):
        h = -mp.fsum(mp.mpf(x.numerator) / x.denominator * mp.log(mp.mpf(x.numerator) / x.denominator, 2) for x in q)
        Lq = _expected(q, code_lengths(q))
        assert mp.mpf(Lq.numerator) / Lq.denominator - h > mp.mpf(10) ** -40


def test_dyadic_events_report_both_directions():
    v = wb.verify("huffman.dyadic", K=12)
    notes = " ".join(v.notes)
    assert "random dyadic distributions with $L = H$ exactly: 24" in notes
    assert "random non-dyadic distributions with $L > H$ (50 digits): 24" in notes


# --- huffman.quantized-gaussian ------------------------------------------------------------------

@pytest.mark.parametrize("sigma, Delta", [(1.0, 0.2), (0.5, 0.4), (2.0, 0.1)])
def test_the_exact_series_the_float_series_and_sampled_weights_agree(sigma, Delta):
    value, bound = quantized_gaussian_entropy_exact(sigma, Delta)
    assert bound < 1e-30
    assert abs(float(value) - quantized_gaussian_entropy(sigma, Delta)) < 1e-12
    b = backend("numpy", 3)
    e = K.quantized_gaussian_experiment(b.xp, b.rng, 48, sigma=sigma, Delta=Delta)
    deviation = e.mean - math.log2(Delta) - float(value)
    assert abs(deviation) <= 5.3 * e.stderr + e.atol  # the verifier's z at alpha = 1e-6
    assert dict(e.events)["groups whose Huffman bits per weight fell outside $[H, H + 1)$ of their own histogram"] == 0


def test_the_correction_is_delta_squared_over_24_sigma_squared_ln2_and_the_next_as_the_docstring_says():
    sigma = 1.3
    h = 0.5 * math.log2(2 * math.pi * math.e * sigma**2)
    b1, b2 = 1 / (24 * sigma**2 * math.log(2)), -1 / (576 * sigma**4 * math.log(2))
    assert float(D.derive_quantized_gaussian_correction().closed_form.subs(D.sigma, sigma)) == pytest.approx(b1)
    for Delta in (0.05, 0.1, 0.3):
        value, _ = quantized_gaussian_entropy_exact(sigma, Delta)
        ratio = (float(value) + math.log2(Delta) - h) / (Delta**2 * b1)
        assert abs(ratio - 1) < (Delta / sigma) ** 2 / 10  # the next term is O(Delta^2) relative
        assert (float(value) + math.log2(Delta) - h - b1 * Delta**2) / (b2 * Delta**4) == pytest.approx(1, abs=0.05)


def test_the_delta_squared_coefficient_rests_on_checked_steps_and_one_cited_theorem():
    c = wb.claim("huffman.quantized-gaussian")
    d = c.correction(1).derive()
    assert d.closed_form == 1 / (24 * D.sigma**2 * sp.log(2)) == c.correction(1).coefficient
    assert d.cited == ["Trefethen and Weideman (2014), Theorem 5.1"] and d.count("checked") == 3
    (cited,) = [s for s in d.steps if s.status == "cited"]
    assert [p.status for p in cited.uses].count("checked") == 2  # the bin mean and the first-order change
    assert d.conclusion.how == "transitivity" and isinstance(d.conclusion.uses[0].rhs, sp.Limit)
    assert D.TREFETHEN in c.sources


def test_the_quantized_gaussian_verdict_at_defaults_tests_the_derived_coefficient():
    v = wb.verify("huffman.quantized-gaussian")
    (b1,) = v.fit["derived"]
    assert v.status == "pass" and b1["term"] == 1 and b1["expected"] == pytest.approx(0.0601123, rel=1e-6)
    assert b1["passed"] and b1["resolution"] < 0.25 * b1["expected"]  # resolved: a sign flip is 20 resolutions off
    for wrong in (2 * b1["expected"], b1["expected"] / 2):  # so is a coefficient twice or half the derived one
        assert abs(b1["estimate"] - wrong) > z_critical(1e-6 / 3) * b1["stderr"]
    edge = wb.verify("huffman.quantized-gaussian", sigma=4.0)  # b_1 sixteen times smaller, still resolved
    assert edge.status == "pass" and edge.fit["derived"][0]["resolution"] < 0.5 * edge.fit["derived"][0]["expected"]


@pytest.mark.parametrize("factor", [-1, 0])
def test_a_flipped_or_dropped_delta_squared_coefficient_is_rejected(factor):
    c = wb.claim("huffman.quantized-gaussian")
    v = wb.verify(c.with_correction(1, factor * c.correction(1).coefficient))
    assert v.status == "fail" and not v.fit["derived"][0]["passed"]


def test_the_control_variate_leaves_only_the_rounding_error_spread():
    """Per weight, about Delta/(sigma sqrt(12) ln 2) bits instead of the plain estimator's 1/(sqrt(2) ln 2)."""
    b = backend("numpy", 5)
    e = K.quantized_gaussian_experiment(b.xp, b.rng, 64, sigma=1.0, Delta=0.4)
    spread = e.stderr * math.sqrt(64 * K.SAMPLE)
    assert 0.8 < spread / (0.4 / (math.sqrt(12) * math.log(2))) < 1.4 and spread < 0.2 / (math.sqrt(2) * math.log(2))


def test_the_expansion_truncated_at_delta_4_is_exact_enough_at_the_smallest_sigma():
    """The exact series at the sweep, fitted with a default run's standard errors at sigma = 0.5 (Delta up to
    1.2 sigma): the unfitted Delta^6 term moves the limit and b_1 by a fraction of their standard errors."""
    c = wb.claim("huffman.quantized-gaussian")
    v = wb.verify(c, sigma=0.5)
    xs = c.limit.sweep
    exact = [float(quantized_gaussian_entropy_exact(0.5, x)[0]) + math.log2(x) for x in xs]
    f = fit(c.limit, xs, exact, [p["stderr"] for p in v.sweep])
    assert abs(f.limit - v.expected) < 0.2 * f.stderr and f.chi2 < 0.1
    assert abs(f.corrections[0] - 1 / (6 * math.log(2))) < 0.4 * f.correction_stderrs[0]


def test_miller_madow_residual_bias_matches_the_binomial_law():
    from scipy.stats import binom

    sigma, Delta, N = 1.0, 0.3, 3000
    p = quantized_gaussian_probabilities(sigma, Delta)
    p = p[p > 1e-300]
    n = np.arange(N + 1)
    expect_plug, occupied = 0.0, 0.0
    for q in p:
        pmf = binom.pmf(n, N, q)
        with np.errstate(divide="ignore", invalid="ignore"):
            expect_plug += float((pmf * np.where(n > 0, -(n / N) * np.log(np.maximum(n, 1) / N), 0.0)).sum())
        occupied += 1 - float(pmf[0])
    exact = (expect_plug + (occupied - 1) / (2 * N) + float((p * np.log(p)).sum())) / math.log(2)
    estimate, bound = miller_madow_bias(sigma, Delta, N)
    assert abs(estimate - exact) < 0.05 * abs(exact) and bound >= abs(exact)


def test_an_entropy_limit_missing_the_log2_delta_term_is_rejected():
    """Claiming H_Delta itself tends to the differential entropy: the sweep grows like -log2 Delta."""
    def without_log(xp, rng, budget, *, sigma: float, Delta: float):
        e = K.quantized_gaussian_experiment(xp, rng, budget, sigma=sigma, Delta=Delta)
        return replace(e, mean=e.mean - math.log2(Delta))

    c = wb.claim("huffman.quantized-gaussian")
    assert wb.verify(c, resolution=0.05).passed
    v = wb.verify(replace(c, experiment=without_log), resolution=0.05)
    assert not v.passed


def test_the_value_at_the_finest_step_is_not_mistaken_for_the_limit():
    c = wb.claim("huffman.quantized-gaussian")
    sigma = sp.Symbol("sigma", positive=True)
    finest = c.closed_form + sp.Float(0.1) ** 2 / (24 * sigma**2 * sp.log(2))
    assert wb.verify(c.with_closed_form(finest), sigma=0.5, resolution=0.002).passed is False
