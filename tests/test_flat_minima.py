"""Flat minima and reparametrisation: the derivation (the general block laws from the chain rule at symbolic width
and input dimension, the wrong ones refused; the 36-entry instance), the exact Hessian against finite differences of
the gradient, the law on trained networks, mutation tests, the sharpness it implies, the figure and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from figure_helpers import errorbar_series, figure_of
from hypothesis import given, settings
from hypothesis import strategies as st

import workbench as wb
from numerics import backend
from numerics import flat_minima as K
from proofs import flat_minima as P
from proofs.checks import StepNotChecked
from proofs.rules import matrix_equal
from proofs.steps import define
from workbench.figures.flat_minima import ALPHAS

ID = "flat-minima.reparam"
ALPHA = P.alpha  # the parameter scale, printed alpha
# the usual wrong versions of the law, as closed forms (W1 block, W2 block, cross block)
WRONG = {
    "wrong-way": (ALPHA**2, ALPHA**-2, 1),
    "unscaled": (1, 1, 1),
    "alpha-not-squared": (ALPHA**-1, ALPHA, 1),
}


def _piecewise(w1, w2, cross) -> sp.Piecewise:
    return sp.Piecewise(*((sp.sympify(f), sp.Eq(P.block, P.BLOCKS[b])) for f, b in zip((w1, w2, cross), P.BLOCKS, strict=True)))


@pytest.fixture(scope="module")
def default_check():
    return K.reparam_check(np, np.random.default_rng(0), scale=0.1, width=8)


# -- the derivation --------------------------------------------------------------------------------


def _blocks(d):
    """The three block steps (W1, W2, cross), in that order."""
    return [s for s in d.steps if isinstance(s.lhs, P.Block)]


def test_derivation_concludes_the_block_factors_resting_on_the_chain_rule_only():
    d = P.derive_reparam()
    assert d.status == "cited" and d.count("cited") == 1 and d.cited == ["Rudin (1976), Theorem 9.15"]
    assert d.closed_form == _piecewise(ALPHA**-2, ALPHA**2, 1)
    for b, value in (("W1", sp.Rational(100)), ("W2", sp.Rational(1, 100)), ("cross", sp.Integer(1))):
        assert d.closed_form.subs({ALPHA: sp.Rational(1, 10), P.block: P.BLOCKS[b]}) == value
    assert d.conclusion.how.startswith("rewrite by the premises")
    assert d.support == list(range(1, len(d.steps) + 1))


def test_the_general_steps_have_symbolic_width_and_input_dimension():
    d = P.derive_reparam()
    hom, invariance, _, keep, ddef, chain, law, hdef = d.steps[:8]
    assert invariance.status == "checked" and invariance.lhs.has(sp.Sum) and invariance.uses == (hom,)
    assert {P.m, P.d} <= invariance.lhs.free_symbols
    assert chain.status == "cited" and chain.cited is P.RUDIN and chain.how == "Theorem 9.15"
    assert chain.uses == (invariance, keep, ddef) and "Definition 9.11" in chain.reason
    assert law.status == "checked" and law.uses == (chain,) and law.rhs == sp.Inverse(P.D) * P.H * sp.Inverse(P.D)
    assert P.H.shape == (P.m * P.d + P.m,) * 2 and ddef.rhs.shape == P.H.shape
    for step in _blocks(d):
        assert step.status == "checked" and step.uses == (law, hdef, ddef) and step.how == "premises, matrix algebra"


@pytest.mark.parametrize("name", list(WRONG))
@pytest.mark.parametrize("block", ["W1", "W2"])
def test_sympy_refuses_the_usual_wrong_block_laws(name, block):
    """The block algebra does not confirm the W1 block scaled by alpha^2, not scaled, or by alpha^-1 (nor W2)."""
    step = _blocks(P.derive_reparam())[0 if block == "W1" else 1]
    here = P.H11 if block == "W1" else P.H22
    wrong = WRONG[name][0 if block == "W1" else 1]
    with pytest.raises(StepNotChecked):
        matrix_equal(step.lhs, wrong * here, uses=step.uses)


def test_the_block_laws_follow_from_the_chain_rule_and_from_nothing_else():
    w1 = _blocks(P.derive_reparam())[0]
    law, hdef, ddef = w1.uses
    with pytest.raises(StepNotChecked):
        w1.recheck([hdef, ddef])  # without the law
    backwards = define(P.H, sp.Inverse(P.D) * P.H_moved * sp.Inverse(P.D))  # the chain rule the wrong way round
    wrong_law = matrix_equal(P.H_moved, P.D * P.H * P.D, uses=[backwards])
    with pytest.raises(StepNotChecked):
        w1.recheck([wrong_law, hdef, ddef])
    assert matrix_equal(w1.lhs, ALPHA**2 * P.H11, uses=[wrong_law, hdef, ddef]).status == "checked"


def test_the_instance_on_a_small_network_checks_every_entry_and_refuses_the_wrong_law():
    instance = P.derive_reparam().remarks[0]
    keep = P.derive_reparam().steps[3]
    assert instance.status == "checked" and instance.uses == (keep,) and "36 entries" in instance.how
    pre, loss, variables, at, scaled = P.network()
    coords = (*P.A, *P.B)
    moved = sp.ImmutableMatrix(6, 6, lambda p, q: P.SecondPartial(loss, (coords[p], coords[q]), variables, scaled, "T"))
    here = sp.ImmutableMatrix(6, 6, lambda p, q: P.SecondPartial(loss, (coords[p], coords[q]), variables, at, "t"))
    wrong_way = sp.ImmutableMatrix(sp.diag(*([ALPHA] * 4), 1 / ALPHA, 1 / ALPHA))
    with pytest.raises(StepNotChecked):
        P._entrywise_at(moved, sp.MatMul(wrong_way, here, wrong_way, evaluate=False), uses=[keep], var=P.z, values=pre,
                        reason="")
    with pytest.raises(StepNotChecked):  # the patterns at T_alpha theta are those at theta only by step 4
        P._entrywise_at(moved, instance.rhs, uses=[], var=P.z, values=pre, reason="")


def test_remarks_cite_what_their_sources_state():
    instance, rayleigh, weyl, dinh, keskar = P.derive_reparam().remarks
    assert rayleigh.status == "cited" and rayleigh.cited is P.HORN_JOHNSON and rayleigh.how == "Theorem 4.2.2"
    assert weyl.status == "cited" and weyl.cited is P.HORN_JOHNSON and weyl.how == "Theorem 4.3.1" and weyl.rel == "<="
    assert dinh.status == "cited" and dinh.cited is P.DINH and dinh.how == "Theorem 3" and "Metric 2.1" not in dinh.reason
    assert keskar.status == "checked" and keskar.reason.startswith("derived here") and "Metric 2.1" in keskar.reason


def test_sources_are_the_papers():
    assert P.DINH.arxiv == "1703.04933" and P.DINH.pages == "1019-1028" and "PMLR 70" in P.DINH.venue
    assert P.KESKAR.arxiv == "1609.04836" and P.KESKAR.year == 2017
    assert {s.key for s in wb.claim(ID).sources} == {"dinh2017", "keskar2017", "horn2013", "rudin1976"}


# -- the kernel: the exact Hessian, the task, the law -------------------------------------------------


def _gradient(w1, v, x, y):
    z = x @ w1.T
    s = (z > 0).astype(float)
    r = (s * z) @ v - y
    return np.concatenate([(((r[:, None] * s) * v[None, :]).T @ x).ravel(), (s * z).T @ r]) / len(x)


def test_the_closed_form_hessian_is_the_derivative_of_the_gradient():
    """Independent of the law: central differences of the analytic gradient, which is a cubic polynomial in the
    weights on an activation region, so Richardson's (4 D(h) - D(2h))/3 has no truncation error at all."""
    task = K.make_task(np, np.random.default_rng(3), 5)
    w1, v = K.train(np, task)
    x, y = task["x"], task["y"]
    h, _ = K.hessian(np, w1, v, x, y)
    theta = np.concatenate([w1.ravel(), v])
    md, step = w1.size, 2.0**-12
    columns = []
    for p in range(theta.size):
        def diff(t, p=p):
            e = np.zeros_like(theta)
            e[p] = t
            plus, minus = theta + e, theta - e
            return (_gradient(plus[:md].reshape(w1.shape), plus[md:], x, y)
                    - _gradient(minus[:md].reshape(w1.shape), minus[md:], x, y)) / (2 * t)
        columns.append((4 * diff(step) - diff(2 * step)) / 3)
    np.testing.assert_allclose(np.array(columns).T, h, rtol=0, atol=1e-9 * np.abs(h).max())


def test_the_task_minimum_is_inside_its_activation_region(default_check):
    out = default_check
    assert out["kinks"] == 0 and out["negative"] == 0 and out["gradient"] < 1e-12
    values = np.linalg.eigvalsh(out["H"])
    assert np.sum(np.abs(values) < 1e-9 * values[-1]) == 8  # one zero eigenvalue per unit: its own rescaling
    assert out["loss"] > 1e-3  # a nonzero residual: the cross block's residual term is exercised


def test_training_never_crosses_a_kink():
    task = K.make_task(np, np.random.default_rng(5), 6)
    w1, _ = K.train(np, task)
    np.testing.assert_array_equal(task["x"] @ w1.T > 0, task["x"] @ task["w1"].T > 0)


@pytest.mark.parametrize("scale", [1e-3, 0.37, 64.0])
def test_every_entry_obeys_the_derived_law_and_none_of_the_wrong_ones(scale):
    """Kernel-level mutation tests: the same Hessians against D^-1 H D^-1 and the usual wrong laws."""
    out = K.reparam_check(np, np.random.default_rng(1), scale=scale, width=6)
    worst = out["law_worst"]
    assert out["law_violations"] == 0 and worst["derived"] < 0.5
    for law in ("wrong-way", "unscaled", "alpha-not-squared"):
        assert worst[law] > 1e6, law
    assert out["output_violations"] == 0 and out["test_loss_scaled"] == pytest.approx(out["test_loss"], rel=1e-14)


def test_block_factors_and_their_tolerances(default_check):
    out = default_check
    for b, exact in (("W1", 100.0), ("W2", 0.01), ("cross", 1.0)):
        assert abs(out["factor"][b] - exact) <= out["tolerance"][b]
        assert out["tolerance"][b] < 1e-11 * exact  # rounding only
    with pytest.raises(ValueError, match="block='W3'"):
        K.reparam_experiment(np, np.random.default_rng(0), scale=0.1, width=2, block="W3")


@settings(max_examples=12, deadline=None)
@given(log_scale=st.floats(-3.0, 3.0), width=st.integers(1, 12), block=st.sampled_from(K.BLOCKS),
       seed=st.integers(0, 2**32 - 1))
def test_the_kernel_measures_the_derived_factor_at_any_scale_width_and_block(log_scale, width, block, seed):
    """The link: the derivation's closed form, lambdified at the drawn point, is what the kernel measures."""
    scale = 10.0**log_scale
    closed = sp.lambdify(ALPHA, P.derive_reparam().closed_form.subs(P.block, P.BLOCKS[block]))
    e = K.reparam_experiment(np, np.random.default_rng(seed), scale=scale, width=width, block=block)
    assert abs(e.mean - closed(scale)) <= e.atol
    if not e.inconclusive:  # a kink within rounding of a training input is reported, never hidden
        assert all(k == 0 for name, k in e.events if "off" in name or "differ" in name)


# -- the claim: verdicts and mutation tests --------------------------------------------------------


def test_the_default_verdict_passes_exactly_with_notes():
    v = wb.verify(ID)
    assert v.passed and v.kind == "exact" and v.expected == pytest.approx(100.0, rel=1e-15) and v.resolution < 1e-12
    notes = " ".join(v.notes)
    assert "off $D^{-1}" in notes and "beyond rounding (test loss" in notes and "Levenberg-Marquardt" in notes


@pytest.mark.parametrize("name", list(WRONG))
@pytest.mark.parametrize("block", ["W1", "W2"])
def test_the_usual_wrong_laws_are_rejected_at_the_defaults(name, block):
    """The issue's mutations: the blocks scaled the wrong way (W1 by alpha^2, W2 by alpha^-2), not scaled, and
    alpha in place of alpha^2."""
    c = wb.claim(ID)
    v = wb.verify(c.with_closed_form(_piecewise(*WRONG[name])), block=block)
    assert v.status == "fail" and v.mutated


def test_a_closed_form_off_by_twice_the_resolution_is_rejected():
    c = wb.claim(ID)
    v = wb.verify(c)
    assert wb.verify(c.with_closed_form(c.closed_form * (1 + 2 * v.resolution))).status == "fail"


@pytest.mark.parametrize("params", [dict(scale=1e-4, width=1, block="W1"), dict(scale=1e4, width=24, block="cross"),
                                    dict(scale=1.0, block="W2")])
def test_the_claim_passes_at_the_edges_of_its_domain(params):
    assert wb.verify(ID, **params).status == "pass"


@pytest.mark.parametrize("params, error, text", [
    (dict(scale=0.0), ValueError, "scale=0.0 is outside the domain"),
    (dict(scale=2e4), ValueError, "scale=20000.0 is outside the domain"),
    (dict(width=25), ValueError, "width=25 is outside the domain"),
    (dict(block="W3"), ValueError, "block='W3'"),
    (dict(scale="0.1"), TypeError, "scale='0.1' must be a number"),
])
def test_bad_input_names_the_parameter_and_its_domain(params, error, text):
    with pytest.raises(error, match=text):
        wb.verify(ID, **params)


def test_the_same_seed_gives_the_same_verdict_and_torch_agrees():
    a, b = wb.verify(ID, seed=4), wb.verify(ID, seed=4)
    assert (a.estimate, a.tolerance) == (b.estimate, b.tolerance)
    try:
        backend("torch")
    except Exception:
        pytest.skip("torch not installed")
    t = wb.verify(ID, seed=4, backend="torch")
    assert t.passed and abs(t.estimate - a.estimate) <= t.tolerance + a.tolerance


# -- what the law says of sharpness ------------------------------------------------------------------


def test_sharpness_grows_at_both_ends_between_its_bounds_while_the_loss_stays():
    out = K.sharpness_curves(np, np.random.default_rng(0), width=8, alphas=[1e-2, 0.1, 1.0, 10.0, 1e2])
    top, lower, upper = (np.array(out[k]) for k in ("top", "lower", "upper"))
    assert np.all(lower * (1 - 1e-12) <= top) and np.all(top <= upper * (1 + 1e-12))
    assert top[0] > 100 * top[2] and top[-1] > 100 * top[2]  # arbitrarily sharp at both ends
    assert np.min(lower) >= math.sqrt(lower[0] * 1e-4 * lower[-1] * 1e-4) * (1 - 1e-12)  # never below sqrt(ac)
    keskar = np.array(out["keskar"])
    assert keskar[0] > 50 * keskar[2] and keskar[-1] > 50 * keskar[2]
    np.testing.assert_allclose(out["test_loss"], out["test_loss"][2], rtol=1e-13)
    np.testing.assert_allclose(out["loss"], out["loss"][2], rtol=1e-13)


# -- the figure ---------------------------------------------------------------------------------------


def test_figure_points_are_verifier_runs_and_the_lower_panels_follow_one_network():
    fig = figure_of(ID)
    top, sharp, keskar, flat = fig.axes
    w1, w2, cross = errorbar_series(top)
    assert w1[0][0] == ALPHAS[0] == pytest.approx(0.01)
    assert w1[1][0] == wb.verify(ID, seed=0, scale=float(w1[0][0]), block="W1").estimate
    assert w2[1][-1] == wb.verify(ID, seed=2 * len(ALPHAS) - 1, scale=float(w2[0][-1]), block="W2").estimate
    np.testing.assert_allclose(cross[1], 1.0, rtol=1e-12)
    assert all(ax.get_xscale() == "log" for ax in fig.axes) and sharp.get_yscale() == keskar.get_yscale() == "log"
    assert "Metric 2.1" in fig.get_label() and "sqrt{ac}" in fig.get_label()
