"""Deep linear networks, critical points: derivations, exact-stencil Hessians, Baldi-Hornik."""

from __future__ import annotations

import itertools
import subprocess
import sys

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import workbench as wb
from numerics import deep_linear as K
from proofs import MinEigenvalue, StepNotChecked, critical_set
from proofs import deep_linear as P

# -- derivations -------------------------------------------------------------------------


def test_scalar_derivation_checks_every_depth():
    d = P.derive_scalar()
    assert d.status == "checked" and d.count("cited") == 0 and d.count("checked") == 2 * len(P.DEPTHS)
    smallest = [s for s in d.steps if isinstance(s.lhs, MinEigenvalue)]
    assert len(smallest) == len(P.DEPTHS) and all(s.status == "checked" for s in smallest)
    assert all(len(s.uses) == 1 and s.uses[0].how.startswith("premises, entrywise") for s in smallest)  # from the Hessian
    assert set(map(id, d.conclusion.uses)) >= set(map(id, smallest))
    crit = [s for s in d.remarks if "solve (" in s.how]  # the critical set, shown after the proof
    assert len(crit) == len(P.DEPTHS)
    for n in P.DEPTHS:
        value = d.closed_form.subs(P.N, n)
        assert sp.simplify(value - (-(sp.Abs(P.t) ** (n - 2)))) == 0
    assert d.closed_form.subs({P.N: 2, P.t: 0}) == -1 and d.closed_form.subs({P.N: 3, P.t: 0}) == 0


def test_a_wrong_critical_set_is_refused():
    loss, w = P.scalar_loss(3)
    gradient = [sp.diff(loss, x) for x in w]
    product = sp.Mul(*w)
    only_minima = lambda sol: sp.simplify(product.subs(sol) - 1) == 0  # noqa: E731  (forgets the saddles)
    with pytest.raises(StepNotChecked, match="outside the stated set"):
        critical_set(sp.Symbol("C"), sp.Symbol("S"), gradient, w, [{w[2]: 1 / (w[0] * w[1])}], only_minima)
    one_zero = [{w[0]: 0}]  # a single zero weight is not critical
    with pytest.raises(StepNotChecked, match="does not vanish"):
        critical_set(sp.Symbol("C"), sp.Symbol("S"), gradient, w, one_zero, lambda sol: True)


def test_baldi_hornik_counts_the_saddles():
    d = P.derive_baldi_hornik()
    assert d.closed_form == sp.binomial(P.d_y, P.k) - 1
    assert {s.source.key for s in d.steps if s.status == "cited"} == {"baldi1989"}
    assert d.status == "cited" and d.cited == ["Baldi and Hornik (1989), Fact 4"]
    count = d.conclusion.uses[0]  # the count is checked from the two cited facts and the definition of a saddle
    assert count.status == "checked" and len(count.uses) == 3
    for cited in (s for s in d.steps if s.status == "cited"):  # each rests on the special case d_y = 2, k = 1
        assert cited.uses and all(p.status == "checked" for p in cited.uses)
    assert "cited theorem, verified numerically" in wb.claim("deeplinear.baldi-hornik").statement


# -- exact finite-difference stencils ----------------------------------------------------------


@pytest.mark.parametrize("degree", range(1, 11))
def test_stencils_are_exact_for_their_degree(degree):
    c2, c1 = K.second_derivative_weights(degree), K.first_derivative_weights(degree)
    m2, m1 = (len(c2) - 1) // 2, (len(c1) - 1) // 2
    for p in range(degree + 1):  # d^2/dx^2 x^p at 0 is 2 [p == 2]; d/dx x^p at 0 is [p == 1]
        assert sum(w * j**p for w, j in zip(c2, range(-m2, m2 + 1), strict=True)) == (2 if p == 2 else 0)
        assert sum(w * j**p for w, j in zip(c1, range(-m1, m1 + 1), strict=True)) == (1 if p == 1 else 0)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), p=st.integers(1, 5))
def test_polynomial_hessian_is_exact_up_to_its_rounding_bound(seed, p):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((p, p))
    a = a + a.T
    b = rng.standard_normal(p)
    x = rng.standard_normal(p)

    def f(z):  # quartic: (z.b)^4 / 12 + z^T a z / 2; Hessian (z.b)^2 b b^T + a
        return (z @ b) ** 4 / 12 + np.einsum("bi,ij,bj->b", z, a, z) / 2

    hessian, error = K.polynomial_hessian(f, x, degree=4)
    exact = (x @ b) ** 2 * np.outer(b, b) + a
    assert np.linalg.norm(hessian - exact) <= error + 1e-300
    grad, gerr = K.polynomial_gradient(f, x, degree=4)
    assert np.abs(grad - ((x @ b) ** 3 * b / 3 + a @ x)).max() <= gerr


@pytest.mark.parametrize("N", P.DEPTHS)
@pytest.mark.parametrize("t", [0.0, 0.5, -1.3, 2.0])
def test_scalar_kernel_against_the_closed_form(N, t):
    e = K.scalar_experiment(np, None, None, N=N, t=t)
    assert abs(e.mean - (-(abs(t) ** (N - 2)))) <= e.atol


# -- Baldi-Hornik on random data ------------------------------------------------------------


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), d_x=st.integers(1, 6), data=st.data())
def test_critical_points_vanish_and_only_the_top_k_is_a_minimum(seed, d_x, data):
    d_y = data.draw(st.integers(1, d_x), label="d_y")
    k = data.draw(st.integers(1, d_y), label="k")
    points = K.critical_points(np.random.default_rng(seed), d_x=d_x, d_y=d_y, k=k, n=4 * d_x + 20)
    assert len(points) == sp.binomial(d_y, k)
    for p in points:
        assert p["gradient"] <= p["gradient_tolerance"]
        assert p["loss"] == pytest.approx(p["closed_form_loss"], rel=1e-9, abs=1e-12)
        assert (p["negative"] == 0) == p["is_top"]
    # the Hessian's index is the number of pairs i in I, j outside I with lambda_j > lambda_i
    for p in points:
        inversions = sum(j > i for i in p["subset"] for j in range(d_y) if j not in p["subset"])
        assert p["negative"] == inversions


def test_a_spurious_extra_minimum_is_rejected():
    c = wb.claim("deeplinear.baldi-hornik")
    v = wb.verify(c)
    assert v.passed and v.expected == 5
    assert not wb.verify(c.with_closed_form(sp.binomial(P.d_y, P.k) - 2)).passed  # claims two minima
    assert not wb.verify(c.with_closed_form(sp.binomial(P.d_y, P.k))).passed  # claims no minimum


def test_a_wrong_saddle_curvature_is_rejected():
    c = wb.claim("deeplinear.scalar")
    for n in P.DEPTHS:
        assert wb.verify(c, N=n, t=0.7).passed
    wrong = sp.Piecewise(*[(-(sp.Abs(P.t) ** (n - 1)), sp.Eq(P.N, n)) for n in P.DEPTHS])  # off by one power
    assert not wb.verify(c.with_closed_form(wrong), N=3, t=0.7).passed


def test_cli_singular_covariance_is_exit_2():
    proc = subprocess.run([sys.executable, "-m", "workbench", "verify", "deeplinear.baldi-hornik", "--set", "n=3"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "singular data covariance" in proc.stderr


def test_every_subset_is_enumerated_once():
    points = K.critical_points(np.random.default_rng(1), d_x=5, d_y=4, k=2, n=100)
    assert sorted(p["subset"] for p in points) == list(itertools.combinations(range(4), 2))


# -- scale-free: the scalar model's eigenvalue from 1 down to float64's smallest normal ------------


@pytest.mark.parametrize("N, t", [(3, 1e-300), (3, 1e-160), (4, 1e-100), (5, 1e-100), (5, 1e-8)])
def test_scalar_kernel_keeps_its_relative_precision_at_tiny_t(N, t):
    """-|t|^(N-2) to 14 digits: the stencil differentiates L - 1/2, not L, whose 1/2 swamped the change."""
    e = K.scalar_experiment(np, None, None, N=N, t=t)
    expected = -(mpmath.mpf(t) ** (N - 2))
    assert abs(mpmath.mpf(e.mean) - expected) <= e.atol <= 1e-12 * abs(expected) and not e.inconclusive


@pytest.mark.parametrize("N, t", [(3, 5e-324), (4, 1e-160), (4, 1e-300), (5, 1e-160)])
def test_scalar_kernel_says_inconclusive_where_its_products_underflow(N, t):
    e = K.scalar_experiment(np, None, None, N=N, t=t)
    assert "underflow" in e.inconclusive
    assert abs(mpmath.mpf(e.mean) + mpmath.mpf(t) ** (N - 2)) <= e.atol  # never a false rejection


def test_scalar_claim_at_tiny_t_rejects_the_wrong_forms_or_says_it_cannot():
    c = wb.claim("deeplinear.scalar")
    assert wb.verify(c, N=3, t=1e-300).status == "pass"
    for wrong in (2 * c.closed_form, sp.Integer(0)):
        assert wb.verify(c.with_closed_form(wrong), N=3, t=1e-300).status == "fail"
    for form in (c.closed_form, 2 * c.closed_form):
        assert wb.verify(c.with_closed_form(form), N=5, t=1e-300).status == "inconclusive"


def test_frobenius_norm_of_subnormal_entries_is_not_zero():
    a = np.full((3, 3), 1e-321)
    assert float(K._frobenius(np, a)) == pytest.approx(3e-321, rel=1e-2)
    assert float(K._frobenius(np, np.zeros((2, 2)))) == 0.0
