"""Feature learning (mup.feature-learning): the derivation's exponents, the one-step kernel against ntk.lazy-training's
training loop and an unbatched finite-difference reference, the property linking the two, the claim, its mutations
and bad input."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import workbench as wb
from numerics import feature_learning as K
from numerics import lazy_training as L
from proofs import feature_learning as P

X_LIST, Y_LIST = L.task()
X, Y = np.array(X_LIST), np.array(Y_LIST)
LR = L.learning_rate(X_LIST)
CLAIM = "mup.feature-learning"


# -- derivation ------------------------------------------------------------------------------------


def test_derivation_concludes_minus_one_half_for_ntk_and_zero_for_mup():
    d = P.derive_feature_learning()
    code = P.PARAMETERIZATIONS
    assert d.closed_form.subs(P.parameterization, code["ntk"]) == sp.Rational(-1, 2)
    assert d.closed_form.subs(P.parameterization, code["mup"]) == 0
    assert (P.exponent("ntk"), P.exponent("mup")) == (sp.Rational(-1, 2), 0)


def test_the_exponents_are_checked_and_only_the_law_of_large_numbers_is_cited():
    d = P.derive_feature_learning()
    assert d.status == "cited" and d.cited == ["Casella and Berger (2002), Theorem 5.5.9"]
    assert "cited theorem" in wb.claim(CLAIM).statement
    (link,) = [s for s in d.steps if s.status == "cited"]
    assert link in d.conclusion.uses and all(p.status == "checked" for p in link.uses)
    # the general exponent -(c + 2 a_1 + a_2 + b_2) and its value in each parameterisation are checked by SymPy
    general = [s for s in d.steps if s.rhs == -(P.c + 2 * P.a1 + P.a2 + P.b2)]
    assert len(general) == 1 and general[0].status == "checked" and general[0] in d.conclusion.uses
    table = [s for s in d.steps if s.lhs == -(P.c + 2 * P.a1 + P.a2 + P.b2)]
    assert len(table) == 1 and table[0].status == "checked" and table[0].rhs == P.EXPONENT
    # the gradient is differentiated by SymPy from the SGD step, not stated
    assert any(s.status == "checked" and "evaluate" in s.how and s.lhs == P.dw for s in d.steps)
    assert d.count("checked") >= 7


def test_the_table_is_the_kernels_and_every_parameterisation_is_stable():
    for name in K.PARAMETERIZATIONS:
        assert tuple(float(t) for t in P.TABLE[name]) == K.EXPONENTS[name]
        a1, b1, a2, b2, c = P.TABLE[name]
        assert a1 + b1 == 0 and a2 + b2 >= sp.Rational(1, 2)  # features Theta(1), output O(1) at initialisation
        assert b2 <= a2 + c  # so the first step's exponent is Yang and Hu's r: min(a2 + b2, 2 a2 + c) = a2 + b2
    assert set(P.PARAMETERIZATIONS) == set(K.PARAMETERIZATIONS)


# -- the kernel -------------------------------------------------------------------------------------


def test_one_ntk_step_is_one_step_of_lazy_trainings_loop():
    """The NTK network is ntk.lazy-training's: one step of its training loop from the same draws."""
    z, u = L.initial(np, np.random.default_rng(0), 3, 16)
    w1, u1 = K.one_step(np, X, Y, z, u, LR, "ntk")
    lw, lv, _ = L.train(np, X, Y, z, u, LR, 1)
    assert np.allclose(w1, lw, rtol=1e-13, atol=1e-15) and np.allclose(u1, lv, rtol=1e-13, atol=1e-15)


def _reference_move(x, y, w, u, lr, name):
    """One network, unbatched: the loss gradient by central finite differences, explicit loops, then h after - before."""
    a1, _, a2, _, c = K.EXPONENTS[name]
    N, d = w.shape

    def pre(w):
        return N ** (-a1) * x @ w.T / math.sqrt(d)  # (n, N)

    def loss(w, u):
        return 0.5 * np.sum((math.sqrt(2) * N ** (-a2) * np.maximum(pre(w), 0) @ u - y) ** 2)

    e = 1e-6
    g = np.zeros_like(w)
    for i, k in itertools.product(range(N), range(d)):
        step = np.zeros_like(w)
        step[i, k] = e
        g[i, k] = (loss(w + step, u) - loss(w - step, u)) / (2 * e)
    return pre(w - lr * N ** (-c) * g) - pre(w)


@pytest.mark.parametrize("name", K.PARAMETERIZATIONS)
def test_the_batched_move_matches_an_unbatched_finite_difference_reference(name):
    rng = np.random.default_rng(1)
    _, b1, _, b2, _ = K.EXPONENTS[name]
    z, u = L.initial(np, rng, 2, 8)
    w, uu = z * 8 ** (-b1), u * 8 ** (-b2)
    h0, _ = K.forward(np, X, w, uu, name)
    w1, u1 = K.one_step(np, X, Y, w, uu, LR, name)
    h1, _ = K.forward(np, X, w1, u1, name)
    for b in range(2):
        ref = _reference_move(X, Y, w[b], uu[b], LR, name)
        assert np.allclose((h1 - h0)[b], ref.T, atol=1e-7)
    y = K.preactivation_move(np, X, Y, z, u, LR, name)
    assert np.allclose(y, np.sqrt(np.mean((h1 - h0) ** 2, axis=(1, 2))), rtol=1e-13)


def test_every_unit_is_on_at_some_input_and_its_mean_square_move_is_bounded_below():
    """The hypothesis of the cited step: the task's inputs sum to zero, so no unit is off at all of them, and every
    non-empty set of active inputs gives Q = sum_b (sum_a y_a 1_a x_a . x_b/d)^2 > 0."""
    assert np.allclose(X.sum(axis=0), 0.0, atol=1e-12)
    patterns = np.array(list(itertools.product((0, 1), repeat=L.INPUTS))[1:])
    q = np.sum(((patterns * Y) @ (X @ X.T / L.DIMENSION)) ** 2, axis=1)
    assert q.min() > 0.2


@settings(max_examples=25, deadline=None)
@given(half=st.integers(1, 24), seed=st.integers(0, 2**16), name=st.sampled_from(K.PARAMETERIZATIONS),
       lr=st.floats(0.01, 2.0))
def test_a_width_doubled_by_copying_every_unit_moves_by_exactly_two_to_the_derived_exponent(half, seed, name, lr):
    """The property linking the derivation and the kernel: copying every unit keeps the units' empirical law, so the
    one-step move of the root-mean-square pre-activation scales by exactly 2^e, e the derived exponent."""
    rng = np.random.default_rng(seed)
    zb, ub = rng.standard_normal((2, half, L.DIMENSION)), rng.standard_normal((2, half))
    z1, u1 = L.doubled(np, zb, ub)
    z2, u2 = L.doubled(np, np.concatenate([zb, zb], axis=1), np.concatenate([ub, ub], axis=1))
    y1 = K.preactivation_move(np, X, Y, z1, u1, lr, name)
    y2 = K.preactivation_move(np, X, Y, z2, u2, lr, name)
    derived = P.derive_feature_learning().closed_form.subs(P.parameterization, P.PARAMETERIZATIONS[name])
    assert np.allclose(np.log2(y2 / y1), float(derived), rtol=0, atol=1e-12)


def test_with_the_same_draws_the_two_parameterisations_differ_by_exactly_one_half():
    """One step from the doubled start: muP's move is N^(1/2) times NTK's, unit by unit."""
    got = {name: K.feature_batch(np, np.random.default_rng(2), 64, parameterization=name, N=32)
           for name in K.PARAMETERIZATIONS}
    assert np.allclose(got["mup"] - got["ntk"], float(P.exponent("mup") - P.exponent("ntk")), atol=1e-12)


def test_replicate_is_the_log2_ratio_of_the_coupled_pair():
    N = 16
    got = K.feature_batch(np, np.random.default_rng(3), 3, parameterization="mup", N=N)
    rng = np.random.default_rng(3)
    zb, ub = rng.standard_normal((3, N, L.DIMENSION)), rng.standard_normal((3, N))
    y1 = K.preactivation_move(np, X, Y, *L.doubled(np, zb[:, : N // 2], ub[:, : N // 2]), LR, "mup")
    y2 = K.preactivation_move(np, X, Y, *L.doubled(np, zb, ub), LR, "mup")
    assert np.allclose(got, np.log2(y2 / y1), rtol=1e-12)


def test_the_local_exponents_spread_and_bias_shrink_like_one_over_n():
    """The delta method: a unit's mean square move has CV^2 about 2.9 on this task, so the local exponent has mean
    e + CV^2/(4 N ln 2) and variance CV^2/(4 N ln^2 2): both about 1/N (1.04/N and 1.5/N)."""
    rng = np.random.default_rng(4)
    small, large = (K.feature_batch(np, rng, 4000, parameterization="mup", N=N) for N in (16, 128))
    assert 6.0 < small.var() / large.var() < 10.5  # 128/16 = 8
    assert 0.7 < 16 * small.mean() < 1.4 and 1.2 < 16 * small.var() < 2.2


# -- the claim --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def default_verdicts():
    return {name: wb.verify(CLAIM, parameterization=name) for name in K.PARAMETERIZATIONS}


@pytest.mark.parametrize("name", K.PARAMETERIZATIONS)
def test_verifies_at_defaults_for_each_parameterisation(default_verdicts, name):
    v = default_verdicts[name]
    assert v.passed and v.kind == "asymptotic" and v.scale == "absolute", str(v)
    assert 0 < v.resolution < 0.05 and v.fit["p_value"] > 1e-3
    assert v.expected == float(P.exponent(name))


def test_rejects_the_ntk_exponent_claimed_for_mup():
    """The usual wrong version, 'muP is lazy too': e = -1/2 for muP, every setting but the parameterisation at its
    default (sweep, budget, resolution, seed)."""
    v = wb.verify(wb.claim(CLAIM).with_closed_form(sp.Rational(-1, 2)), parameterization="mup")
    assert v.mutated and v.status == "fail" and abs(v.estimate + 0.5) > 10 * v.resolution, str(v)


def test_rejects_feature_learning_claimed_for_ntk_at_the_defaults():
    c = wb.claim(CLAIM)
    assert c.defaults["parameterization"] == "ntk"
    v = wb.verify(c.with_closed_form(0))
    assert v.mutated and v.status == "fail" and abs(v.estimate) > 10 * v.resolution, str(v)


@pytest.mark.parametrize("name", K.PARAMETERIZATIONS)
def test_rejects_the_exponent_moved_down_by_twice_the_resolution(default_verdicts, name):
    """(Moved up at the defaults: the registry-wide mutation test.)"""
    v = default_verdicts[name]
    mutant = wb.verify(wb.claim(CLAIM).with_closed_form(P.exponent(name) - 2 * v.resolution), parameterization=name)
    assert mutant.mutated and mutant.status == "fail", str(mutant)


@pytest.mark.slow
@pytest.mark.parametrize("name", K.PARAMETERIZATIONS)
def test_verifies_at_a_fine_resolution_over_wider_networks(name):
    c = dataclasses.replace(wb.claim(CLAIM).with_sweep((64, 128, 256, 512)), max_replicates=2_000_000)
    v = wb.verify(c, parameterization=name, resolution=0.01)
    assert v.passed and v.resolution < 0.01, str(v)


# -- bad input --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, error, match", [
    ({"parameterization": "sp"}, ValueError, "parameterization"),
    ({"parameterization": "ntk", "N": 31}, ValueError, "even"),
    ({"parameterization": "mup", "N": 0}, ValueError, "N=0"),
    ({"parameterization": 1, "N": 32}, ValueError, "parameterization"),
])
def test_the_experiment_refuses_bad_input_naming_the_parameter(kwargs, error, match):
    with pytest.raises(error, match=match):
        K.feature_experiment(np, np.random.default_rng(0), 8, **{"N": 32, **kwargs})


def test_verify_refuses_an_unknown_parameterisation():
    with pytest.raises(ValueError, match="parameterization"):
        wb.verify(CLAIM, parameterization="standard")
