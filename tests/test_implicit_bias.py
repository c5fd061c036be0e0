"""Implicit max-margin bias (implicit.max-margin): the derivation, the max-margin QP against another solver, the
batched gradient descent against a plain loop, the derived constant and the Richardson combination against the
iterates, the claim, the wrong versions it rejects, bad input."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import workbench as wb
from numerics import backend
from numerics import implicit_bias as K
from proofs import StepNotChecked
from proofs import implicit_bias as P

CLAIM = "implicit.max-margin"


def _data(count: int, n: int = 4, d: int = 3, seed: int = 0) -> dict:
    b = backend("numpy", seed)
    return K.planted(b.rng, b.xp, count, n, d)


# -- derivation ------------------------------------------------------------------------------------


def test_derivation_concludes_one_and_rests_on_theorems_3_and_4_of_soudry_et_al():
    d = P.derive_max_margin()
    assert d.closed_form == 1 and d.status == "cited"
    assert d.cited == ["Soudry et al. (2018), Theorem 3", "Soudry et al. (2018), Theorem 4"]
    assert "cited theorem" in wb.claim(CLAIM).statement
    assert d.count("checked") >= 5 and all(s.source.key == "soudry2018" for s in d.steps if s.status == "cited")


def test_the_fixed_point_of_eq_7_needs_the_step_size():
    """Dropping eta from eta exp(-z^T w~) = alpha (the usual slip) leaves a 1/t term in the margins' increment."""
    d = P.derive_max_margin()
    (cancel,) = [s for s in d.steps if s.status == "checked" and isinstance(s.lhs, sp.Limit) and s.lhs.args[1] == P.t]
    kkt, first, second = cancel.uses
    assert cancel.recheck([kkt, first, second])
    wrong = P.define(P.c1, sp.log(1 / P.alpha1))
    with pytest.raises(StepNotChecked):
        cancel.recheck([kkt, wrong, second])


def test_the_rate_constant_and_first_correction_of_the_closed_form():
    e = P.direction_error()
    assert sp.limit(P.logt * e / P.C, P.logt, sp.oo) == 1
    assert sp.simplify(sp.limit(P.logt * (P.logt * e / P.C - 1), P.logt, sp.oo) + P.a) == 0
    # a rate 1/t would make log t * e -> 0: the limit the mutation test below rejects
    assert sp.limit(P.logt * sp.exp(-P.logt), P.logt, sp.oo) == 0


@settings(max_examples=40, deadline=None)
@given(d=st.integers(2, 6), s=st.floats(1.0, 40.0), seed=st.integers(0, 2**16))
def test_direction_error_of_the_asymptotic_form_is_the_derived_closed_form(d, s, seed):
    """The property linking the two sides: numerics' direction error of w = w_hat s + w~ and its offset and constant
    (as rate_constants computes them) against the derivation's closed form."""
    rng = np.random.default_rng(seed)
    w_hat, w_tilde = rng.standard_normal(d), rng.standard_normal(d)
    norm2 = w_hat @ w_hat
    a = w_tilde @ w_hat / norm2
    c = np.linalg.norm(w_tilde - a * w_hat) / math.sqrt(norm2)
    if s + a <= 0.5 or c < 1e-3:
        return
    got = float(K.direction_error(np, (w_hat * s + w_tilde)[:, None], w_hat[:, None])[0])
    want = float(sp.lambdify((P.a, P.C, P.logt), P.direction_error())(a, c, s))
    assert got == pytest.approx(want, rel=1e-9, abs=1e-14)


def test_richardson_combination_is_exact_on_the_asymptotic_form_and_cancels_the_transient():
    rng = np.random.default_rng(1)
    w_hat, w_tilde, A, B = (rng.standard_normal(3) for _ in range(4))

    def w(tau):
        return w_hat * math.log(tau) + w_tilde + (A * math.log(tau) + B) / tau

    for t in (1024.0, 16384.0):
        got = K.richardson(w(t / 16), w(t / 8), w(t / 4))
        assert np.allclose(got, w_hat * math.log(t) + w_tilde, rtol=1e-12, atol=1e-12)


# -- the kernels ------------------------------------------------------------------------------------


def test_planted_datasets_meet_their_conditions_and_the_step_is_half_the_bound():
    data = _data(64, n=5, d=3)
    z, alpha, eta = data["z"], data["alpha"], data["eta"]
    assert z.shape == (64, 5, 3) and (alpha > 0).all()
    assert np.allclose(eta * np.linalg.norm(z, ord=2, axis=(1, 2)) ** 2, 4.0)
    margins = np.einsum("bnd,bd->bn", z, data["w_hat"])
    assert np.allclose(margins[:, :3], 1.0) and (margins[:, 3:] >= K.MARGINS[0] - 1e-9).all()
    _, _, c = K.rate_constants(z, data["w_hat"], np.concatenate([alpha, np.zeros((64, 2))], axis=1), eta)
    assert (c >= K.CONSTANT).all()


def test_max_margin_matches_the_planted_solution_and_scipys_slsqp():
    from scipy.optimize import minimize

    data = _data(32, n=5, d=3, seed=2)
    w, alpha = K.max_margin(data["z"])
    assert np.allclose(w, data["w_hat"], rtol=1e-12, atol=1e-12)
    assert np.allclose(alpha[:, :3], data["alpha"], rtol=1e-10) and (alpha[:, 3:] == 0).all()
    for b in range(3):  # an independent solver of the primal QP
        z = data["z"][b]
        res = minimize(lambda v: v @ v, np.ones(3) * 3, jac=lambda v: 2 * v, method="SLSQP",
                       constraints=[{"type": "ineq", "fun": lambda v, z=z: z @ v - 1, "jac": lambda v, z=z: z}],
                       options={"ftol": 1e-14, "maxiter": 500})
        assert res.success and np.allclose(res.x, w[b], atol=1e-6)


def test_max_margin_refuses_inseparable_data():
    with pytest.raises(ArithmeticError, match="not linearly separable"):
        K.max_margin(np.array([[[1.0, 0.0], [-1.0, 0.0]]]))


def test_the_rate_constant_does_not_depend_on_the_step_but_the_offset_does():
    data = _data(16)
    w, alpha = K.max_margin(data["z"])
    wt1, a1, c1 = K.rate_constants(data["z"], w, alpha, data["eta"])
    wt2, a2, c2 = K.rate_constants(data["z"], w, alpha, data["eta"] * 3.0)
    assert np.allclose(c1, c2, rtol=1e-12) and np.allclose(a2 - a1, math.log(3.0), rtol=1e-12)
    assert np.allclose(wt2 - wt1, math.log(3.0) * w, atol=1e-12)  # eta shifts w~ along w_hat only


def test_batched_gradient_descent_matches_a_plain_loop():
    data = _data(3, n=5, d=3, seed=3)
    z = np.ascontiguousarray(np.transpose(data["z"], (1, 2, 0)))
    w, (w10,) = K.descend(np, z, data["eta"], 40, (10,))
    for b in range(3):
        v = np.zeros(3)
        for t in range(40):
            v = v + data["eta"][b] * data["z"][b].T @ (1 / (1 + np.exp(data["z"][b] @ v)))  # -eta grad of the loss
            if t == 9:
                assert np.allclose(w10[:, b], v, rtol=1e-13)
        assert np.allclose(w[:, b], v, rtol=1e-13)


def test_the_margins_increment_matches_log_t_at_the_derived_fixed_point_and_not_without_eta():
    """Numerics' side of the derivation's checked step: at w = w_hat log t + w~, one gradient step raises the support
    vectors' margins by log(1 + 1/t) up to O(1/t^2); with w~ solved without eta the gap is O(1/t)."""
    data = _data(8, n=5, d=3, seed=4)
    w_hat, alpha = K.max_margin(data["z"])
    w_tilde, _, _ = K.rate_constants(data["z"], w_hat, alpha, data["eta"])
    slip, _, _ = K.rate_constants(data["z"], w_hat, alpha, np.ones(8))
    for t in (1e4, 1e6):
        gaps = []
        for wt in (w_tilde, slip):
            w = w_hat * math.log(t) + wt
            p = 1 / (1 + np.exp(np.einsum("bnd,bd->bn", data["z"], w)))
            step = data["eta"][:, None] * np.einsum("bn,bnd->bd", p, data["z"])
            gaps.append(t * np.abs(np.einsum("bnd,bd->bn", data["z"][:, :3], step) - math.log1p(1 / t)).max())
        assert gaps[0] < 20 / t and gaps[1] > 0.1


def test_richardson_removes_the_transients_of_the_iterates():
    """At t = 4096 from the iterates at 256, 512, 1024: the combination's statistic sits on the derived curve, to
    far less than the raw iterate at 1024 does on its own."""
    b = backend("numpy", 5)
    r = K.trajectories(b.xp, b.rng, 128, 5, 3, (256, 512, 1024))
    c, a = r["constant"], r["offset"]
    curve = sp.lambdify((P.a, P.C, P.logt), P.logt * P.direction_error() / P.C, "numpy")
    raw = math.log(1024) * r["error"][2] / c - curve(a, c, math.log(1024))
    combined = K.richardson(*r["iterates"])
    v = (r["w_hat"] / np.linalg.norm(r["w_hat"], axis=1)[:, None]).T
    e = np.linalg.norm(combined / np.linalg.norm(combined, axis=0) - v, axis=0)
    rich = math.log(4096) * e / c - curve(a, c, math.log(4096))
    assert abs(rich.mean()) < abs(raw.mean()) / 5 and abs(rich.mean()) < 2e-3


# -- the claim --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def default_verdict():
    return wb.verify(CLAIM)


def test_verifies_at_its_defaults_with_a_resolution_of_a_few_percent(default_verdict):
    v = default_verdict
    assert v.passed and v.kind == "asymptotic" and v.scale == "relative", str(v)
    assert 0 < v.resolution < 0.05 and v.fit["p_value"] > 1e-4
    assert [pt["x"] for pt in v.sweep] == list(K.TIMES)


def test_the_points_themselves_sit_at_one_within_the_transients(default_verdict):
    """R is 1 on the asymptotic form whatever the offset a, so each point, not only the extrapolation, is 1 up to
    what the Richardson combination leaves (below 3e-3 from t = 1024 on, see numerics.implicit_bias) and its
    standard error; and the derived constants are reported."""
    for pt in default_verdict.sweep:
        assert abs(pt["estimate"] - 1) <= 3e-3 + 5 * pt["stderr"], pt
    note = next(n for n in default_verdict.notes if "derived rate constant" in n)
    assert re.search(r"of the family: mean \$0\.\d+\$", note)


def test_a_rate_constant_without_the_projection_is_rejected(monkeypatch):
    """The usual slip in the constant, ||w~||/||w_hat|| for ||P_perp w~||/||w_hat||: R then tends to C/C' < 1. (A w~
    solved without eta in eq. (7) moves it along w_hat only, so C and the limit stay; the offset a absorbs it.)"""
    constants = K.rate_constants

    def slipped(z, w_hat, alpha, eta):
        w_tilde, a, _ = constants(z, w_hat, alpha, eta)
        return w_tilde, a, np.linalg.norm(w_tilde, axis=1) / np.linalg.norm(w_hat, axis=1)

    monkeypatch.setattr(K, "rate_constants", slipped)
    v = wb.verify(CLAIM, resolution=0.05)  # R spreads far more about its wrong limit
    assert v.status == "fail" and v.estimate < 0.9, str(v)


def test_rejects_a_rate_of_one_over_t():
    """The issue's wrong version: were the direction error O(1/t), log t times it would tend to 0."""
    v = wb.verify(wb.claim(CLAIM).with_closed_form(0))
    assert v.status == "fail" and abs(v.z) > 50, str(v)


def test_rejects_the_constant_moved_down_by_twice_the_resolution(default_verdict):
    """(Moved up: the registry-wide mutation test.)"""
    c = wb.claim(CLAIM)
    v = wb.verify(c.with_closed_form(1 - 2 * default_verdict.resolution))
    assert v.mutated and v.status == "fail", str(v)


def test_the_constant_without_the_projection_is_far_from_the_measured_rate():
    """A usual slip in the constant, ||w~||/||w_hat|| (the whole residual, not its part orthogonal to w_hat), is off
    by far more than the verifier's resolution on the same runs."""
    b = backend("numpy", 6)
    data = K.planted(b.rng, np, 256, 4, 3)
    w_hat, alpha = K.max_margin(data["z"])
    w_tilde, _, c = K.rate_constants(data["z"], w_hat, alpha, data["eta"])
    wrong = np.linalg.norm(w_tilde, axis=1) / np.linalg.norm(w_hat, axis=1)
    assert np.mean(wrong / c) > 1.2


BAD = [
    ({"n": 2, "d": 3}, "n=2 is outside d <= n <= d + 1"),
    ({"n": 5, "d": 3}, "n=5 is outside d <= n <= d + 1"),
    ({"d": 1, "n": 2}, "d=1 is outside the domain"),
    ({"d": 9, "n": 9}, "d=9 is outside the domain"),
    ({"n": 3.5}, "n=3.5 must be an integer"),
]


@pytest.mark.parametrize(("values", "message"), BAD, ids=[m.split(" ")[0] for _, m in BAD])
def test_bad_parameters_are_refused_naming_them(values, message):
    with pytest.raises((ValueError, TypeError), match=message.replace("+", r"\+")):
        wb.verify(CLAIM, **values)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"t": 1000}, "t=1000 is not a multiple of 16"),
    ({"t": 16}, "t=16 is outside the domain"),
    ({"t": 1024.0}, "t=1024.0 is outside the domain"),
    ({"t": 1024, "n": 7}, "n=7 is outside the domain"),
])
def test_the_kernel_refuses_bad_arguments(kwargs, message):
    args = {"n": 4, "d": 3, **kwargs}
    with pytest.raises(ValueError, match=message):
        K.rate_experiment(np, np.random.default_rng(0), 4, **args)
