"""The verifier: statistics, calibration, bad input, and a claim defined by a user."""

import math

import numpy as np
import pytest
import sympy as sp
from scipy.stats import binom
from user_claim import user_claim

import workbench as wb
from numerics import Accumulator
from workbench.reference import ReferenceError, reference_value
from workbench.statistics import detectable, replicates_for, z_critical

# --- streaming estimates -------------------------------------------------------------

def test_accumulator_in_batches_matches_one_pass_mean_and_stderr():
    x = np.random.default_rng(0).standard_normal(10_001) * 3 + 1
    acc = Accumulator()
    for chunk in np.array_split(x, 7):
        acc.add(chunk)
    e = acc.estimate()
    assert e.n == x.size
    assert e.mean == pytest.approx(x.mean(), rel=1e-13)
    assert e.stderr == pytest.approx(x.std(ddof=1) / math.sqrt(x.size), rel=1e-12)


def test_merged_estimates_equal_the_pooled_estimate():
    x = np.random.default_rng(1).exponential(size=5000)
    a, b = Accumulator(), Accumulator()
    a.add(x[:1234])
    b.add(x[1234:])
    merged = a.estimate().merge(b.estimate())
    assert merged.mean == pytest.approx(x.mean(), rel=1e-13)
    assert merged.stderr == pytest.approx(x.std(ddof=1) / math.sqrt(x.size), rel=1e-12)


def test_float_floor_scales_with_the_dtype():
    a32, a64 = Accumulator(dtype="float32"), Accumulator(dtype="float64")
    for a in (a32, a64):
        a.add(np.array([1.0, 3.0]))
    assert a32.estimate().atol / a64.estimate().atol == pytest.approx(np.finfo(np.float32).eps / np.finfo(np.float64).eps)


# --- statistics ------------------------------------------------------------------------

def test_budget_reaches_the_detectable_deviation_it_promises():
    sd, target, alpha = 0.5, 0.01, 1e-6
    n = replicates_for(sd, target, alpha)
    assert detectable(sd / math.sqrt(n), 0.0, alpha) <= target < detectable(sd / math.sqrt(n - 1), 0.0, alpha)


def test_false_rejection_rate_at_alpha_005_is_consistent_with_alpha():
    """Calibration over 300 seeds: the count of rejections of a true claim is Binomial(300, 0.05)."""
    trials, alpha = 300, 0.05
    rejected = sum(
        not wb.verify("xent.score-identity", seed=seed, alpha=alpha, resolution=0.2, K=3, s=1.0).passed
        for seed in range(trials)
    )
    low, high = binom.ppf(1e-4, trials, alpha), binom.isf(1e-4, trials, alpha)
    assert low <= rejected <= high, rejected


def test_a_deviation_of_the_reported_resolution_is_caught_by_most_seeds():
    """Power: the resolution is the deviation detected with probability >= 0.99."""
    c = wb.claim("xent.score-identity")
    hits = 0
    for seed in range(40):
        v = wb.verify(c, seed=seed, resolution=0.2, alpha=0.05, K=3, s=1.0)
        hits += not wb.verify(c.with_closed_form(sp.Rational(v.resolution)), seed=seed, resolution=0.2, alpha=0.05, K=3, s=1.0).passed
    assert hits >= 36  # P(Binomial(40, 0.99) < 36) < 1e-4


def test_exact_claim_reports_its_tolerance_and_no_stderr():
    v = wb.verify("xent.margin", K=3, m=0.25)
    assert v.kind == "exact" and v.stderr == 0 and v.replicates == 1
    assert 0 < v.tolerance < 1e-13
    assert v.resolution >= v.tolerance / abs(v.expected)


# --- backends that cannot run (the table of bad input is tests/test_bad_input.py) ----

def test_cupy_missing_is_one_clear_error(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "cupy", None)
    with pytest.raises(wb.BackendUnavailable, match="CuPy is not installed"):
        wb.verify("xent.margin", backend="cupy")
    assert wb.verify("xent.margin", backend="auto").backend == "numpy"


# --- the reference value ----------------------------------------------------------------

def test_reference_encloses_values_a_fixed_precision_would_round_to_zero():
    m = sp.Symbol("m", real=True)
    value, how = reference_value(sp.log(1 + sp.exp(m)), {"m": -300.0})
    assert float(value) == pytest.approx(math.exp(-300), rel=1e-15)
    assert "interval" in how


def test_reference_needs_every_symbol():
    m, q = sp.symbols("m q", real=True)
    with pytest.raises(ReferenceError, match="needs values for q"):
        reference_value(m + q, {"m": 1.0})


# --- a claim defined in a notebook (tests/user_claim.py) -----------------------------------


def test_a_user_defined_claim_is_verified_like_a_built_in_one():
    c = user_claim()
    v = wb.verify(c, sigma=2.0, resolution=0.02)
    assert v.passed and v.expected == 4.0 and v.scale == "relative"
    assert v.resolution <= 0.021
    assert not wb.verify(c.with_closed_form(c.closed_form * (1 + 2 * v.resolution)), sigma=2.0, resolution=0.02).passed


def test_user_claim_is_not_registered_unless_asked():
    assert "user.gaussian-second-moment" not in [c.id for c in wb.claims()]


def test_critical_value_is_two_sided():
    assert z_critical(0.05) == pytest.approx(1.959964, rel=1e-6)


def test_verdict_json_has_no_non_finite_numbers():
    import json

    d = wb.verify("xent.margin").to_dict()
    json.dumps(d, allow_nan=False)
    assert {"id", "parameters", "expected", "estimate", "stderr", "resolution", "passed", "backend", "seed", "seconds"} <= set(d)
