"""The asymptotic claim kind: a sweep of the limiting parameter, a fitted expansion, a limit.

The test claim is a user's: the plug-in variance (1/N) sum (x_i - mean)^2 of N Gaussian draws has
mean sigma^2 (1 - 1/N), so it tends to sigma^2 with a 1/N correction of exactly -sigma^2.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import sympy as sp
from figure_helpers import errorbar_series
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure

import workbench as wb
from numerics import Accumulator
from proofs import Derivation, Source, cite, equal
from workbench.asymptotics import Limit, extrapolation_weights, fit

SOURCE = Source("casella2002", "George Casella and Roger L. Berger", "Statistical Inference (2nd edition)",
                "Duxbury, Pacific Grove", 2002, isbn="978-0534243128", kind="book")
sigma = sp.Symbol("sigma", positive=True)
N = sp.Symbol("N", integer=True, positive=True)


def derive_plug_in_variance() -> Derivation:
    biased = sp.Symbol("E[s_N^2]")
    mean = cite(biased, "=", sigma**2 * (1 - 1 / N), "Theorem 5.2.6", SOURCE,
                "E sum (x_i - mean)^2 = (N - 1) sigma^2, so the plug-in variance has mean (1 - 1/N) sigma^2")
    limit = equal(sp.Limit(biased, N, sp.oo), sigma**2, "the bias vanishes like 1/N", uses=[mean])
    return Derivation("The plug-in variance is asymptotically unbiased", [mean, limit],
                      (sp.Limit(biased, N, sp.oo), "=", sigma**2))


def plug_in_variance(xp, rng, budget, *, sigma, N):
    acc = Accumulator()
    x = sigma * rng.standard_normal((budget, N))
    acc.add(x.var(axis=1))
    return acc.estimate()


def variance_claim(sweep=(4, 8, 16, 32), order=1.0, terms=1) -> wb.Claim:
    return wb.Claim(
        id="user.plug-in-variance",
        title="The plug-in variance tends to sigma^2",
        statement="(1/N) sum (x_i - mean)^2 of N draws from N(0, sigma^2) has mean sigma^2 (1 - 1/N) -> sigma^2.",
        kind="asymptotic",
        parameters=(wb.real("sigma", 1.5, "standard deviation", low=0.0, open_low=True, high=100.0),),
        derive=derive_plug_in_variance,
        experiment=plug_in_variance,
        sources=(SOURCE,),
        limit=Limit("N", sweep, order=order, terms=terms, description="sample size"),
        pilot=2048,
    )


CLAIM = variance_claim()


def test_the_limit_is_extrapolated_and_the_correction_reported():
    v = wb.verify(CLAIM, sigma=2.0)
    assert v.passed and v.kind == "asymptotic", str(v)
    assert v.expected == 4.0
    assert [p["x"] for p in v.sweep] == [4, 8, 16, 32]
    assert v.replicates == sum(p["replicates"] for p in v.sweep)
    # the fitted 1/N coefficient is -sigma^2 = -4, within its own standard error
    b, sb = v.fit["corrections"][0], v.fit["correction_stderrs"][0]
    assert abs(b + 4.0) <= 5 * sb
    assert any("fitted corrections" in n and "N^{-1}" in n for n in v.notes)  # text with $math$
    assert any(n.startswith(r"fit $\chi^2 = ") for n in v.notes)
    assert v.resolution <= 0.01


def test_a_wrong_limit_just_beyond_the_resolution_is_rejected():
    v = wb.verify(CLAIM, sigma=2.0)
    wrong = CLAIM.with_closed_form(CLAIM.closed_form * (1 + 2 * v.resolution))
    assert not wb.verify(wrong, sigma=2.0).passed


def test_the_finite_n_value_is_not_mistaken_for_the_limit():
    """A closed form equal to the value at the largest N (not extrapolated) is rejected."""
    at_32 = CLAIM.closed_form * (1 - sp.Rational(1, 32))
    assert not wb.verify(CLAIM.with_closed_form(at_32), sigma=2.0).passed


def test_a_wrong_correction_order_is_caught_by_the_fit():
    """Assuming a 1/sqrt(N) approach, the sweep does not fit: not verified."""
    v = wb.verify(variance_claim(order=0.5, sweep=(2, 4, 8, 16, 32, 64)), sigma=1.0, resolution=0.002)
    assert not v.passed
    assert any("does not fit the sweep" in n for n in v.notes)


def test_a_fitted_order_recovers_one():
    v = wb.verify(variance_claim(order=None, sweep=(2, 3, 4, 6, 8, 16)), sigma=1.0, resolution=0.005)
    assert v.passed, str(v)
    assert abs(v.fit["order"] - 1.0) <= 5 * v.fit["order_stderr"]
    assert "fitted order" in v.notes[0]


def test_the_same_seed_gives_the_same_verdict_and_json_carries_the_sweep():
    a, b = wb.verify(CLAIM, seed=5), wb.verify(CLAIM, seed=5)
    assert (a.estimate, a.stderr, a.replicates) == (b.estimate, b.stderr, b.replicates)
    d = json.loads(json.dumps(a.to_dict()))
    assert d["kind"] == "asymptotic" and len(d["sweep"]) == 4 and d["fit"]["dof"] == 2


def test_with_sweep_changes_the_sweep_only():
    c = CLAIM.with_sweep((8, 16, 32, 64))
    assert c.limit.sweep == (8, 16, 32, 64) and c.limit.order == 1.0 and c.id == CLAIM.id
    with pytest.raises(TypeError, match="only asymptotic claims have a sweep"):
        wb.claim("xent.margin").with_sweep((1, 2))


# --- the fit itself ------------------------------------------------------------------------------

@settings(max_examples=30)
@given(a=st.floats(-10, 10), b=st.floats(-10, 10), c=st.floats(-10, 10), p=st.sampled_from([0.5, 1.0, 2.0]))
def test_a_noiseless_expansion_is_recovered_exactly(a, b, c, p):
    lim = Limit("N", (4, 8, 16, 32, 64), order=p, terms=2)
    xs = np.array(lim.sweep, dtype=float)
    y = a + b * xs**-p + c * xs ** (-2 * p)
    f = fit(lim, xs, y, np.full(len(xs), 1e-3))
    scale = 1 + abs(a) + abs(b) + abs(c)
    assert math.isclose(f.limit, a, abs_tol=1e-9 * scale)
    assert np.allclose(f.corrections, (b, c), atol=1e-7 * scale)
    assert f.chi2 <= 1e-6 and f.dof == 2


def test_extrapolation_weights_sum_to_one_and_reproduce_the_limit():
    lim = Limit("N", (16, 32, 64, 128), order=1, terms=2)
    c = extrapolation_weights(lim, lim.sweep)
    assert math.isclose(c.sum(), 1.0, rel_tol=1e-12)  # a constant is its own limit
    xs = np.array(lim.sweep, dtype=float)
    assert abs(c @ (1 / xs)) < 1e-12 and abs(c @ (1 / xs**2)) < 1e-12  # corrections are removed


def test_the_limit_towards_zero_uses_positive_powers():
    lim = Limit("h", (0.1, 0.05, 0.025, 0.0125), order=2, terms=1, towards="zero", integer=False)
    xs = np.array(lim.sweep)
    f = fit(lim, xs, 3.0 + 7.0 * xs**2, np.full(4, 1e-6))
    assert math.isclose(f.limit, 3.0, rel_tol=1e-9) and math.isclose(f.corrections[0], 7.0, rel_tol=1e-6)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"sweep": (4, 8)}, "cannot test a fit of 2 parameters; give at least 3"),
        ({"sweep": (4, 4, 8)}, "must be distinct"),
        ({"sweep": (0, 4, 8)}, "finite and positive"),
        ({"sweep": (4.5, 8, 16)}, "must be integers"),
        ({"sweep": (4, 8, 16), "order": -1.0}, "must be a positive number or None"),
        ({"sweep": (4, 8, 16), "terms": 0}, "terms=0 must be an integer >= 1"),
        ({"sweep": (4, 8, 16, 32), "order": None, "terms": 2}, "exactly one correction term"),
        ({"sweep": (4, 8, 16), "towards": "minus infinity"}, "is not one of infinity, zero"),
    ],
)
def test_a_malformed_limit_is_refused_with_a_clear_message(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Limit("N", **kwargs)


def test_an_asymptotic_claim_needs_a_limit_and_an_experiment_taking_it():
    with pytest.raises(ValueError, match="only one, takes a limit"):
        wb.Claim(**{**_fields(), "limit": None})
    with pytest.raises(TypeError, match="experiment takes parameters"):
        wb.Claim(**{**_fields(), "experiment": lambda xp, rng, budget, *, sigma: None})
    with pytest.raises(ValueError, match="is swept, so it is not also a parameter"):
        wb.Claim(**{**_fields(), "parameters": (wb.real("sigma", 1.0, "sd"), wb.integer("N", 4, "n", low=1))})


def _fields() -> dict:
    return {f: getattr(CLAIM, f) for f in ("id", "title", "statement", "kind", "parameters", "derive", "experiment",
                                            "sources", "limit")}


# --- figure and LaTeX -----------------------------------------------------------------------------

def test_the_default_figure_draws_the_sweep_and_the_extrapolated_limit():
    fig = CLAIM.figure(sigma=2.0)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    series = errorbar_series(ax)
    assert len(series) == 2  # the sweep, and the limit at 0
    x, y, half = series[1]
    assert x.tolist() == [0.0] and half[0] > 0
    assert "$" in ax.get_xlabel() and "N^{-1}" in ax.get_xlabel()


def test_the_verification_table_lists_the_sweep():
    from workbench.tex import verification_table

    v = wb.verify(CLAIM, sigma=2.0)
    table = verification_table(CLAIM, v)
    assert "extrapolated Monte Carlo" in table and r"N \to \infty" in table
    assert table.count("at $N = ") == 4
