"""Initialization: derivations, the two network kernels (real networks and the exact
reduction) against each other and the closed forms, mutation tests, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from estimates import Recorder, Z, agree
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

import workbench as wb
from numerics import initialization as K
from proofs import initialization as P
from proofs.operators import Quadrature
from proofs.printing import latex_expr
from workbench.catalog.initialization import variance_constraint

# -- derivations ------------------------------------------------------------------------


def _hypotheses(d):
    return [s for s in d.steps if s.is_hypothesis]


def test_he_forward_closed_form_and_its_recurrence():
    d = P.derive_he_forward()
    L, c, q0 = P.depth, P.c, P.q0
    assert sp.simplify(d.closed_form - c * q0 * (c / 2) ** (L - 1)) == 0
    assert sp.simplify(d.closed_form.subs(L, L + 1) / d.closed_form - c / 2) == 0  # one layer: times c/2
    assert d.closed_form.subs({c: 2, q0: 1}) == 2  # c = 2 preserves it at every depth
    assert d.status == "checked" and d.count("cited") == 0
    (solved,) = [s for s in d.steps if "induction" in s.how]
    rule, initial = solved.uses
    assert rule.rhs == c * P.q(P.l - 1) / 2 and initial.rhs == c * q0
    # the weights' covariance is a hypothesis the checks use, with a Kronecker delta
    assert any(s.rhs.has(sp.KroneckerDelta) for s in _hypotheses(d))
    assert any("cases" in s.how for s in d.steps)  # relu(h)^2 + relu(-h)^2 = h^2


def test_he_backward_closed_form_has_the_width_ratio_and_no_half_for_the_last_layer():
    d = P.derive_he_backward()
    expected = P.c * (P.c / 2) ** (P.depth - 1) * P.fan_out / P.fan_in
    assert sp.simplify(d.closed_form - expected) == 0
    assert any("inactive" in a for a in d.assumptions)  # the dead-layer event is stated, not hidden
    assert d.status == "checked" and d.count("cited") == 0
    at_last = rf"the premise at ${latex_expr(sp.Eq(P.l, P.depth - 1))} \ge 0$"
    assert any(s.lhs == P.r(P.depth - 1) and at_last in s.how for s in d.steps)


def test_masked_gaussian_lemma_is_checked_by_integration():
    steps = P.masked_gaussian_lemma()
    assert all(s.status == "checked" and "evaluate" in s.how and not s.uses for s in steps)
    assert sp.simplify(steps[0].rhs - steps[1].rhs / 2) == 0  # the mask keeps half


def test_relu_critical_line_is_solved_exactly():
    d = P.derive_relu_critical()
    assert d.closed_form == (P.c / 2) ** P.depth and d.status == "checked"
    solved = [s for s in d.remarks if s.how.endswith("solveset")]
    assert solved and solved[0].rhs == sp.FiniteSet(2)
    chi = sp.Symbol("chi_1", positive=True)
    assert any(s.lhs == chi and s.rhs == P.c / 2 and s.status == "checked" for s in d.steps)


def test_xavier_product_is_at_most_one_with_equality_iff_equal_widths():
    d = P.derive_xavier()
    assert d.status == "checked"
    gap, equality = d.remarks
    assert sp.simplify(gap.rhs - (P.n_in - P.n_out) ** 2 / (P.n_in + P.n_out) ** 2) == 0
    assert equality.how.endswith("solveset") and equality.rhs == sp.FiniteSet(P.n_in)
    f = sp.lambdify((P.n_in, P.n_out), d.closed_form)
    assert f(7, 7) == 1 and f(3, 12) < 1


def test_gain_is_derived_from_checked_moments_and_keeps_tanh_for_quadrature():
    d = P.derive_gain()
    assert d.status == "checked" and d.count("cited") == 0
    final = d.conclusion.uses[0]
    assert sum(s.status == "checked" for s in final.uses) == 4  # relu, leaky, linear, selu moments
    assert d.closed_form.has(Quadrature) and d.closed_form.atoms(sp.Integral)  # tanh: an unevaluated integral


def test_gain_values_against_independent_quadrature():
    g = P.derive_gain().closed_form
    from workbench.reference import reference_value

    def gain(name, a=0.0):
        return float(reference_value(g, {"activation": P.ACTIVATIONS[name], "negative_slope": a})[0])

    density = stats.norm.pdf
    for name, phi in (("tanh", np.tanh), ("selu", lambda z: K.activate(np, "selu", np.asarray(z)))):
        moment = integrate.quad(lambda z, phi=phi: phi(z) ** 2 * density(z), -np.inf, np.inf, epsabs=1e-13)[0]
        assert gain(name) == pytest.approx(1 / math.sqrt(moment), rel=1e-9)
    assert gain("relu") == pytest.approx(math.sqrt(2), rel=1e-15)
    assert gain("linear") == 1.0
    assert gain("leaky_relu", 0.3) == pytest.approx(math.sqrt(2 / 1.09), rel=1e-15)


def test_gram_reduction_is_derived():
    d = P.derive_gram_reduction()
    assert d.status == "checked" and d.count("checked") >= 5
    s, C, K = (sp.Symbol(n, **a) for n, a in (("s", {"positive": True}), ("C", {"positive": True}),
                                              ("K", {"integer": True, "nonnegative": True})))
    assert d.closed_form == s * C * K


# -- kernels: real networks and the exact reduction agree ---------------------------------

CASES = [
    dict(fan_in=16, depth=4, c=2.2),
    dict(fan_in=8, depth=3, c=1.6),
    dict(fan_in=2, depth=3, c=2.0),  # many networks have an inactive layer
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"n{c['fan_in']}-L{c['depth']}")
def test_dense_and_gram_agree_on_the_forward_statistic(case):
    dense = K.he_forward_experiment(np, np.random.default_rng(1), 20_000, q0=1.3, method="dense", **case)
    gram = K.he_forward_experiment(np, np.random.default_rng(2), 200_000, q0=1.3, method="gram", **case)
    c, L = case["c"], case["depth"]
    agree(dense, gram, c * 1.3 * (c / 2) ** (L - 1))


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"n{c['fan_in']}-L{c['depth']}")
def test_dense_and_gram_agree_on_the_jacobian(case):
    dense = K.he_backward_experiment(np, np.random.default_rng(3), 20_000, fan_out=3, method="dense", **case)
    gram = K.he_backward_experiment(np, np.random.default_rng(4), 200_000, fan_out=3, method="gram", **case)
    c, L, n = case["c"], case["depth"], case["fan_in"]
    agree(dense, gram, c * (c / 2) ** (L - 1) * 3 / n)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"n{c['fan_in']}-L{c['depth']}")
def test_dense_and_gram_agree_on_perturbation_growth(case):
    dense = K.relu_critical_experiment(np, np.random.default_rng(5), 20_000, method="dense", **case)
    gram = K.relu_critical_experiment(np, np.random.default_rng(6), 200_000, method="gram", **case)
    agree(dense, gram, (case["c"] / 2) ** case["depth"])


def test_dense_and_gram_agree_on_xavier():
    dense = K.xavier_experiment(np, np.random.default_rng(7), 20_000, n_in=24, n_out=6, method="dense")
    gram = K.xavier_experiment(np, np.random.default_rng(8), 200_000, n_in=24, n_out=6, method="gram")
    agree(dense, gram, 4 * 24 * 6 / 30**2)


def test_inactive_layers_are_counted_and_included():
    """At width 2 about a quarter of the layers die; the identity holds with them included."""
    e = K.he_backward_experiment(np, np.random.default_rng(9), 200_000, fan_in=2, fan_out=2, depth=4, c=2.0, method="gram")
    (name, dead), = e.events
    p_alive = (1 - 0.25) ** 3  # three hidden ReLU layers, each wholly inactive with probability 2^-2
    assert "inactive" in name and abs(dead / e.n - (1 - p_alive)) < 5 * math.sqrt(p_alive * (1 - p_alive) / e.n)
    assert abs(e.mean - 2.0) <= Z * e.stderr
    v = wb.verify("init.he-backward", fan_in=8, fan_out=8, depth=3, resolution=0.05)
    assert any("inactive layer" in n for n in v.notes)



def test_dense_method_streams_over_depth_in_float32():
    rec = Recorder(0)
    K.relu_network(np, rec, 5, fan_in=12, depth=7, c=2.0, width_out=3, method="dense")
    assert rec.calls == [((5, 12, 12), "float32")] * 6 + [((5, 3, 12), "float32")]  # one layer at a time


def test_dense_batch_keeps_one_layer_within_64_mib():
    for n in (1, 64, 256, 4096):
        assert dense_weights_bytes(n) <= 64 * 2**20


def dense_weights_bytes(n):
    return K.dense_batch(n, n) * n * n * 4


@pytest.mark.parametrize("c", [4.0, 0.5])
def test_extreme_depth_neither_overflows_nor_underflows(c):
    """(c/2)^200 is 10^60 or 10^-120: beyond float32, yet both methods stay finite, positive
    and agree in distribution (mean of log, a two-sample z-test)."""
    logs = []
    for seed, method in enumerate(K.METHODS):
        forward, tangent, _ = K.relu_network(np, np.random.default_rng(seed), 400, fan_in=64, depth=200, c=c, method=method)
        assert np.all(np.isfinite(forward)) and np.all(forward > 0) and np.all(np.isfinite(tangent))
        logs.append(np.log(forward))
    se = math.hypot(*(x.std(ddof=1) / math.sqrt(x.size) for x in logs))
    assert abs(logs[0].mean() - logs[1].mean()) <= Z * se


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="method='sparse'"):
        K.relu_network(np, np.random.default_rng(0), 4, fan_in=4, depth=2, c=2.0, method="sparse")


@settings(max_examples=15, deadline=None)
@given(n=st.integers(4, 256), depth=st.integers(1, 8), c=st.floats(0.8, 3.0), q0=st.floats(0.1, 10.0))
def test_gram_kernel_matches_the_closed_form_anywhere(n, depth, c, q0):
    if variance_constraint({"fan_in": n, "depth": depth}):
        return
    e = K.he_forward_experiment(np, np.random.default_rng(n * 1000 + depth), 20_000, fan_in=n, depth=depth, c=c, q0=q0, method="gram")
    expected = float(P.derive_he_forward().closed_form.subs({P.c: c, P.q0: q0, P.depth: depth}))
    assert abs(e.mean - expected) <= Z * e.stderr + e.atol


# -- claims: mutation tests and verdicts -----------------------------------------------------


def test_lecun_variance_is_rejected_by_he_forward_at_depth_10():
    """Claiming that LeCun's Var[W] = 1/n_in (c = 1) preserves the signal is rejected."""
    c = wb.claim("init.he-forward")
    lecun = c.with_closed_form(P.q0)  # what 'variance preserved' would predict
    v = wb.verify(lecun, c=1.0, depth=10)
    assert not v.passed and v.estimate < 0.01


def test_forgetting_the_relu_half_is_rejected():
    c = wb.claim("init.he-forward")
    assert not wb.verify(c.with_closed_form(P.c**P.depth * P.q0), c=2.0, depth=10).passed


def test_gain_off_by_the_resolution_is_rejected_and_the_tanh_convention_too():
    c = wb.claim("init.gain")
    v = wb.verify(c, activation="tanh")
    assert v.passed
    assert not wb.verify(c.with_closed_form(c.closed_form * (1 + 2 * v.resolution)), activation="tanh").passed
    assert not wb.verify(c.with_closed_form(sp.Rational(5, 3)), activation="tanh").passed


def test_gain_verdict_states_the_convention_honestly():
    tanh = wb.verify("init.gain", activation="tanh")
    assert any("5/3" in n and r"+4.65\%" in n for n in tanh.notes)  # notes are text with inline math
    selu = wb.verify("init.gain", activation="selu")
    assert any("3/4" in n and r"-25.00\%" in n for n in selu.notes)
    relu = wb.verify("init.gain", activation="relu")
    assert any(r"+0.00\%" in n for n in relu.notes)


@pytest.mark.parametrize("method", K.METHODS)
def test_he_forward_verifies_with_either_method_and_says_which(method):
    v = wb.verify("init.he-forward", fan_in=32, depth=4, method=method, resolution=0.05)
    assert v.passed and v.parameters["method"] == method
    assert v.dtype == ("float32" if method == "dense" else "float64")


def test_the_whole_area_verifies_from_the_command_line(capsys):
    import json

    from workbench.cli import main

    assert main(["verify", "init", "--json", "--jobs", "1"]) == 0  # in process (README runs the command itself)
    verdicts = json.loads(capsys.readouterr().out)
    assert {v["id"] for v in verdicts} == {c.id for c in wb.claims("init")}
    assert all(v["passed"] for v in verdicts)


# -- scale-free: the input scale, (c/2)^L and the width at the edges of their domains ----------------


def test_forward_statistic_is_q0_times_the_unit_one_draw_for_draw():
    """Positive homogeneity, kept exactly: the same draws at q0 and at 1 differ by the factor q0 alone
    (one rounding), with the same replicates' shape."""
    for method in K.METHODS:
        unit = K.he_forward_experiment(np, np.random.default_rng(3), 2000, fan_in=16, depth=4, c=2.0, q0=1.0,
                                       method=method)
        for q0 in (1e-300, 1e-160, 3.7, 100.0):
            e = K.he_forward_experiment(np, np.random.default_rng(3), 2000, fan_in=16, depth=4, c=2.0, q0=q0,
                                        method=method)
            assert e.mean == pytest.approx(q0 * unit.mean, rel=2**-52)
            assert e.stderr == pytest.approx(q0 * unit.stderr, rel=2**-52)
            assert (e.skewness, e.kurtosis) == (unit.skewness, unit.kurtosis) and not e.inconclusive


def test_tiny_statistics_keep_their_shape_and_their_standard_error():
    """(c/2)^200 = 4e-121: the replicates' fourth powers would underflow; on a binary scale they do not."""
    e = K.relu_critical_experiment(np, np.random.default_rng(0), 2000, fan_in=4096, depth=200, c=0.5, method="gram")
    expected = 0.25**200
    assert abs(e.mean - expected) <= Z * e.stderr + e.atol and 0.001 < e.stderr / e.mean < 0.1
    assert e.kurtosis is not None and 3.0 < e.kurtosis < 100.0 and not e.inconclusive


def test_a_quantity_below_float64_is_inconclusive_and_never_rejected():
    """q0 (c/2)^(L-1) c = 1e-300 * 0.25^199 / 2, about 1e-420: no double holds it."""
    e = K.he_forward_experiment(np, np.random.default_rng(0), 2000, fan_in=4096, depth=200, c=0.5, q0=1e-300,
                                method="gram")
    assert "10^{-420}" in e.inconclusive and e.mean == 0.0 and e.atol > 0  # the grid's unit covers 1e-420
    subnormal = K.he_forward_experiment(np, np.random.default_rng(0), 2000, fan_in=32, depth=5, c=2.0, q0=5e-324,
                                        method="gram")
    assert "coarser than the measurement's standard error" in subnormal.inconclusive
    assert abs(subnormal.mean - 2 * 5e-324) <= Z * subnormal.stderr + subnormal.atol  # c (c/2)^(L-1) q0 = 2 q0


def test_gain_estimate_keeps_the_replicates_shape():
    """The delta method maps the mean by a decreasing function: kurtosis kept, skewness negated."""
    e = K.gain_experiment(np, np.random.default_rng(5), 4000, activation="tanh", negative_slope=0.01)
    z = np.random.default_rng(5).standard_normal(4000)
    x = np.tanh(z) ** 2
    d = x - x.mean()
    skew = math.sqrt(x.size) * np.sum(d**3) / np.sum(d**2) ** 1.5
    kurt = x.size * np.sum(d**4) / np.sum(d**2) ** 2
    assert e.skewness == pytest.approx(-skew, rel=1e-9) and e.kurtosis == pytest.approx(kurt, rel=1e-9)


EDGE = dict(fan_in=32, depth=5, resolution=0.05)


@pytest.mark.parametrize("q0", [1e-300, 1e-200, 1e-160, 100.0])
def test_he_forward_is_decided_at_extreme_input_scales(q0):
    """Issue 20: the standard error underflowed to 0 at q0 = 1e-300 and a true claim failed with z = inf."""
    c = wb.claim("init.he-forward")
    v = wb.verify(c, q0=q0, **EDGE)
    assert v.status == "pass" and v.stderr > 0 and abs(v.z) < Z, str(v)
    for wrong in (2 * c.closed_form, sp.Integer(0)):
        assert wb.verify(c.with_closed_form(wrong), q0=q0, **EDGE).status == "fail"


def test_he_forward_at_the_smallest_subnormal_input_is_inconclusive_not_a_verdict():
    c = wb.claim("init.he-forward")
    for form in (c.closed_form, 2 * c.closed_form, sp.Integer(0)):
        v = wb.verify(c.with_closed_form(form), q0=5e-324, **EDGE)
        assert v.status == "inconclusive" and any("float64" in n for n in v.notes), str(v)


@pytest.mark.parametrize("claim_id, params", [
    ("init.he-backward", dict(fan_in=4096, fan_out=1, depth=200, c=0.5)),
    ("init.he-backward", dict(fan_in=4096, fan_out=4096, depth=200, c=4.0)),
    ("init.he-backward", dict(fan_in=1, fan_out=4096, depth=1, c=0.5)),
    ("init.relu-critical", dict(fan_in=4096, depth=200, c=0.5)),
    ("init.he-forward", dict(fan_in=4096, depth=200, c=4.0, q0=1e-300)),
    ("init.xavier", dict(n_in=1, n_out=4096)),
    ("init.gain", dict(activation="leaky_relu", negative_slope=5e-324)),
], ids=lambda x: x if isinstance(x, str) else "-".join(f"{k}{v}" for k, v in x.items()))
def test_every_init_claim_is_decided_at_the_edges_of_its_domain(claim_id, params):
    """(c/2)^200 from 1e-121 to 1e60, widths 1 and 4096, the smallest slope: the true form passes, twice it fails."""
    c = wb.claim(claim_id)
    assert wb.verify(c, resolution=0.05, **params).status == "pass"
    assert wb.verify(c.with_closed_form(2 * c.closed_form), resolution=0.05, **params).status == "fail"
