"""Products of random matrices: Newman's Lyapunov spectrum (rmt.lyapunov) and the second moment of a
Gaussian product's singular values (residual.isometry): derivations, kernels, claims, bad input."""

from __future__ import annotations

import itertools
import json
import math
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
from estimates import Recorder, Z
from scipy import integrate
from scipy.special import comb, digamma, polygamma

import workbench as wb
from numerics import random_matrices as K
from proofs import random_matrices as P
from workbench.catalog.random_matrices import WIDTHS
from workbench.figures.random_matrices import fuss_catalan_density, spectrum_indices

EPS = float(np.finfo(np.float64).eps)
ROOT = Path(__file__).resolve().parents[1]


def newman(N, i, sigma):
    """Newman's formula, evaluated independently of the derivation (scipy's digamma)."""
    return 0.5 * (math.log(2 * sigma**2) + digamma((N - np.asarray(i) + 1) / 2))


def within(estimate, expected, *, z=Z):
    return abs(estimate.mean - expected) <= z * estimate.stderr + estimate.atol


# -- derivations ---------------------------------------------------------------------------------


def test_lyapunov_closed_form_is_newmans_formula():
    d = P.derive_lyapunov()
    assert d.closed_form == P.lyapunov_exponent()
    f = sp.lambdify((P.N, P.i, P.sigma), d.closed_form.doit(), modules="scipy")
    for N, i, s in [(1, 1, 1.0), (5, 2, 0.3), (48, 48, 7.0), (48, 1, 1 / math.sqrt(48))]:
        assert f(N, i, s) == pytest.approx(newman(N, i, s), rel=1e-13, abs=1e-14)
    # N = 1: E ln|z| = -(gamma + ln 2)/2, checked against quadrature; Newman's variance 1/N is sigma^2 = 1/N
    quad = 2 * integrate.quad(lambda x: math.log(x) * math.exp(-x * x / 2) / math.sqrt(2 * math.pi), 0, np.inf, limit=200)[0]
    assert f(1, 1, 1.0) == pytest.approx(quad, rel=1e-9) == pytest.approx(-(np.euler_gamma + math.log(2)) / 2, rel=1e-12)


def test_lyapunov_derivation_checks_the_chi_integral_and_cites_the_rest():
    d = P.derive_lyapunov()
    checked = [s for s in d.steps if s.status == "checked"]
    assert any(s.lhs.has(sp.Integral) and "evaluate" in s.how for s in checked)  # E ln chi_k, for symbolic k
    assert {s.source.key for s in d.steps if s.status == "cited"} == {"newman1986", "muirhead1982"}
    bartlett = next(s for s in d.steps if s.source is not None and s.source.key == "muirhead1982")
    assert any(p.status == "checked" and p.lhs.has(sp.Integral) for p in bartlett.uses)  # the case N = 1, checked
    assert d.status == "cited" and d.cited == ["Newman (1986), p. 121", "Muirhead (1982), Section 3.2"]
    assert d.number(d.steps[-1]) in d.uses(d.conclusion)  # k = N - i + 1 substituted by SymPy from its definition
    assert any("orthogonal" in a for a in d.assumptions)


@pytest.mark.parametrize("k", [1, 2, 3, 7, 40])
def test_log_chi_moment_by_quadrature(k):
    """E ln chi_k = (ln 2 + psi(k/2))/2 and Var ln chi_k = psi'(k/2)/4, independently of SymPy."""
    density = sp.lambdify(P.x, P.chi_density(k), modules="scipy")
    mean = integrate.quad(lambda x: math.log(x) * density(x), 0, np.inf, limit=200)[0]
    second = integrate.quad(lambda x: math.log(x) ** 2 * density(x), 0, np.inf, limit=200)[0]
    assert mean == pytest.approx(0.5 * (math.log(2) + digamma(k / 2)), abs=1e-9)
    assert second - mean**2 == pytest.approx(polygamma(1, k / 2) / 4, rel=1e-7)


def test_exponents_decrease_with_the_index_and_sigma_only_shifts_them():
    for N in (2, 7, 48):
        lam = newman(N, np.arange(1, N + 1), 1.0)
        assert np.all(np.diff(lam) < 0)
        assert newman(N, 3 if N > 2 else 1, 2.5) - newman(N, 3 if N > 2 else 1, 1.0) == pytest.approx(math.log(2.5))
    assert newman(16, 15, 1.0) == pytest.approx(0.5 * (math.log(2) - np.euler_gamma))  # psi(1) = -gamma: 0.058


def _gaussian_expectation(expr, variables, variance):
    """E of a polynomial in independent centred Gaussians: each monomial becomes a product of moments."""
    poly = sp.Poly(sp.expand(expr), *variables)
    total = 0
    for powers, coefficient in poly.terms():
        moment = 1
        for p in powers:
            moment *= 0 if p % 2 else sp.factorial2(p - 1) * variance ** (p // 2)
        total += coefficient * moment
    return sp.expand(total)


@pytest.mark.parametrize("n", [2, 3])
def test_isserlis_identities_hold_exactly_for_small_widths(n):
    """E[S M S] = ((n+1)/n) M + tr(M) I/n and E tr(S B)^2 = (tr B)^2 + 2 tr(B^2)/n for S = W^T W, W_ij ~ N(0, 1/n),
    with generic symmetric M: exact polynomial moments, not Monte Carlo."""
    w = sp.symbols(f"w0:{n * n}")
    W = sp.Matrix(n, n, w)
    S = W.T * W
    m = sp.symbols(f"m0:{n * n}")
    M = sp.Matrix(n, n, lambda r, c: m[min(r, c) * n + max(r, c)])  # symmetric
    s = sp.Rational(1, n)
    lhs = (S * M * S).applyfunc(lambda e: _gaussian_expectation(e, w, s))
    rhs = (sp.Rational(n + 1, n) * M + M.trace() * sp.eye(n) / n).applyfunc(sp.expand)
    assert (lhs - rhs).applyfunc(sp.expand) == sp.zeros(n, n)
    trace = _gaussian_expectation((S * M).trace() ** 2, w, s)
    assert sp.expand(trace - (M.trace() ** 2 + 2 * (M * M).trace() / n)) == 0


def test_second_moment_solves_the_recurrence_exactly():
    """Iterate a_l, b_l in exact rationals; compare with (N/3)[(1 + 2/N)^(L+1) - (1 - 1/N)^(L+1)]."""
    for n in (1, 3, 7, 64):
        a, b = Fraction(n), Fraction(n * n)
        for depth in range(1, 9):
            a, b = (1 + Fraction(1, n)) * a + b / n, b + 2 * a / n
            assert sp.Rational(a.numerator, a.denominator) / n == P.second_moment(depth, sp.Integer(n))


def test_second_moment_expansion_limit_and_correction():
    exact = P.second_moment()
    assert sp.expand(P.second_moment(1)) == 2 + 1 / P.N
    for depth in range(1, 7):
        poly = sp.Poly(sp.expand(P.second_moment(depth)).subs(P.N, 1 / sp.Symbol("h")), sp.Symbol("h"))
        coefficients = poly.all_coeffs()[::-1]  # h^0, h^1, ...
        assert poly.degree() == depth and coefficients[0] == depth + 1 and coefficients[1] == sp.Rational(depth * (depth + 1), 2)
    d = P.derive_isometry()
    assert d.closed_form == P.L + 1 and d.conclusion.lhs == sp.Limit(P.m2(P.L, P.N), P.N, sp.oo)
    assert any(s.rhs == P.L * (P.L + 1) / 2 for s in d.remarks)  # the 1/N coefficient the verifier fits
    assert sp.limit(exact, P.N, sp.oo) == P.L + 1
    inductions = [s for s in d.steps if s.how.startswith("induction")]
    assert [s.lhs for s in inductions] == [P.u(P.L), P.v(P.L)]  # each from its checked rule and initial value
    assert all(p.status == "checked" for s in inductions for p in s.uses)
    assert {s.source.key for s in d.steps if s.status == "cited"} == {"petersen2012"}  # the quartic-form means only
    rules = [s for s in d.steps if s.lhs in (P.a(P.l), P.b(P.l)) and s.status == "checked"]
    assert len(rules) == 2 and all(any(p.status == "cited" for p in r.uses) for r in rules)  # tower steps, checked
    assert [s.rhs for s in d.steps if s.lhs in (P.a(0), P.b(0)) and s.status == "checked"] == [P.N, P.N**2]
    assert d.count("checked") >= 14 and d.status == "cited"


@pytest.mark.parametrize("term", [1, 2, 3])
def test_each_correction_coefficient_is_a_limit_sympy_evaluates_for_symbolic_depth(term):
    """b_k = lim N^k (m_2 - L - 1 - sum_{j<k} b_j N^-j), from the exact form: the binomial coefficient of the
    polynomial in 1/N, for every depth (and 0 beyond it)."""
    d = P.derive_isometry_correction(term)
    assert d.conclusion.lhs == sp.Symbol(f"b_{term}") and d.status == "cited"  # the exact form rests on the cookbook
    assert d.conclusion.how.startswith("rewrite by the premises") and isinstance(d.steps[-1].rhs, sp.Limit)
    for depth in range(1, 6):
        poly = sp.Poly(sp.expand(P.second_moment(depth)).subs(P.N, 1 / sp.Symbol("h")), sp.Symbol("h"))
        coefficients = poly.all_coeffs()[::-1] + [0] * 4
        assert d.closed_form.subs(P.L, depth) == coefficients[term] == P.isometry_coefficient(term).subs(P.L, depth)
    (general,) = d.remarks
    assert general.status == "checked" and general.lhs.has(sp.binomial)


@pytest.mark.parametrize("depth", [1, 2, 3, 5])
def test_fuss_catalan_density_has_the_fuss_catalan_moments(depth):
    """The parametrized density integrates to 1 and its k-th moment is binomial((L+1)k, k)/(Lk+1)."""

    def moment(k):
        def integrand(phi):
            x, rho = fuss_catalan_density(depth, np.array([phi]))
            h = 1e-7 * phi
            dx = (fuss_catalan_density(depth, np.array([phi + h]))[0] - fuss_catalan_density(depth, np.array([phi - h]))[0]) / (2 * h)
            return float(x[0] ** k * rho[0] * abs(dx[0]))

        return integrate.quad(integrand, 0.0, math.pi / (depth + 1), limit=400)[0]

    for k in range(4):
        assert moment(k) == pytest.approx(comb((depth + 1) * k, k) / (depth * k + 1), rel=2e-5)
    assert sp.simplify(sp.binomial(2 * P.L + 2, 2) / (2 * P.L + 1) - (P.L + 1)) == 0


# -- the QR algorithm ------------------------------------------------------------------------------


def test_spectrum_matches_newman_at_every_index():
    N, sigma = 6, 0.7
    estimates = K.lyapunov_spectrum(np, np.random.default_rng(1), 60_000, N=N, sigma=sigma)
    assert [e.n for e in estimates] == [60_000] * N
    for i, e in enumerate(estimates, 1):
        assert within(e, newman(N, i, sigma)), (i, e)


def test_qr_steps_are_independent_replicates():
    """Along a chain, ln|R_jj| at step t and t+1 are uncorrelated (rotation invariance), the diagonal
    entries of one step too (Bartlett), and each has the variance psi'(k/2)/4 of ln(sigma chi_k)."""
    N, chains, steps = 5, 200, 400
    logs = np.stack(list(K.qr_log_growth(np, np.random.default_rng(2), chains, steps, N=N, k=N, sigma=1.3)))
    assert logs.shape == (steps, chains, N)
    centred = logs - logs.mean(axis=(0, 1))
    n = (steps - 1) * chains
    for j in range(N):
        x = centred[:, :, j]
        lag = np.sum(x[1:] * x[:-1]) / np.sqrt(np.sum(x[1:] ** 2) * np.sum(x[:-1] ** 2))
        assert abs(lag) <= Z / math.sqrt(n), (j, lag)
        v = x.ravel()
        se = math.sqrt((np.mean(v**4) - np.mean(v**2) ** 2) / v.size)  # standard error of the sample variance
        assert abs(np.mean(v**2) - polygamma(1, (N - j) / 2) / 4) <= Z * se
    for j, k in itertools.combinations(range(N), 2):
        r = np.corrcoef(centred[:, :, j].ravel(), centred[:, :, k].ravel())[0, 1]
        assert abs(r) <= Z / math.sqrt(steps * chains)


def test_orthogonal_factors_have_every_exponent_zero():
    """|R_jj| = 1 to rounding: Householder QR is backward stable with error O(N^2 eps) at worst (Higham, Thm 19.4)."""
    N = 12
    for e in K.lyapunov_spectrum(np, np.random.default_rng(3), 500, N=N, sigma=1.0, factors="orthogonal"):
        assert abs(e.mean) <= N**2 * EPS and e.stderr <= N**2 * EPS
    shifted = K.lyapunov_spectrum(np, np.random.default_rng(3), 500, N=N, sigma=3.0, factors="orthogonal")
    assert all(abs(e.mean - math.log(3.0)) <= N**2 * EPS for e in shifted)


def test_sigma_shifts_every_exponent_by_ln_sigma_on_the_same_draws():
    one = K.lyapunov_spectrum(np, np.random.default_rng(4), 3000, N=7, sigma=1.0)
    scaled = K.lyapunov_spectrum(np, np.random.default_rng(4), 3000, N=7, sigma=0.05)
    for a, b in zip(one, scaled, strict=True):
        assert abs((b.mean - a.mean) - math.log(0.05)) <= 7**2 * EPS * max(1.0, abs(math.log(0.05)))


def test_a_budget_is_spent_exactly_whatever_the_chains():
    for budget, chains in [(10, 3), (1000, 64), (7, 100)]:
        (e,) = K.lyapunov_spectrum(np, np.random.default_rng(5), budget, N=4, sigma=1.0, k=1, chains=chains)
        assert e.n == budget



def test_qr_algorithm_draws_whole_factors_one_step_at_a_time():
    rec = Recorder(0)
    list(K.qr_log_growth(np, rec, 3, 4, N=6, k=2, sigma=1.0, last=2))
    assert rec.calls == [((3, 6, 6), "float64")] * 3 + [((2, 6, 6), "float64")]


def test_lyapunov_experiment_is_the_i_th_exponent_carrying_i_directions():
    e = K.lyapunov_experiment(np, np.random.default_rng(6), 40_000, N=9, sigma=2.0, i=4)
    assert within(e, newman(9, 4, 2.0))


# -- products and their singular values -------------------------------------------------------------


@pytest.mark.parametrize("depth, n", [(1, 4), (2, 8), (3, 16)])
def test_isometry_monte_carlo_matches_the_exact_finite_width_value(depth, n):
    exact = float(P.second_moment(depth, n))
    plain = K.isometry_estimate(np, np.random.default_rng(7), 30_000, L=depth, N=n, control=False)
    controlled = K.isometry_estimate(np, np.random.default_rng(8), 30_000, L=depth, N=n)
    assert within(plain, exact) and within(controlled, exact)
    assert controlled.stderr < plain.stderr  # the control variate (mean exactly 0) only removes variance


def test_mean_squared_singular_value_is_exactly_one_in_expectation():
    first, _ = K.product_moments(np, np.random.default_rng(9), 20_000, L=3, N=6, dtype="float64")
    assert abs(first.mean() - 1.0) <= Z * first.std(ddof=1) / math.sqrt(first.size)


def test_orthogonal_products_have_every_singular_value_one():
    for depth in (1, 5, 20):
        s = K.product_singular_values(np, np.random.default_rng(10), 8, L=depth, N=16, factors="orthogonal")
        assert np.max(np.abs(s - 1.0)) <= depth * 16**2 * EPS  # worst-case rounding, per factor and multiply
    gaussian = K.product_singular_values(np, np.random.default_rng(10), 8, L=5, N=16)
    assert np.max(gaussian) > 2.0 and np.min(gaussian) < 0.1  # a Gaussian product is far from an isometry


def test_product_kernel_streams_over_depth_in_float32():
    rec = Recorder(0)
    K.product_moments(np, rec, 5, L=4, N=3)
    assert rec.calls == [((5, 3, 3), "float32")] * 4


# -- claims ---------------------------------------------------------------------------------------------


def test_the_whole_spectrum_verifies_and_a_shifted_spectrum_is_rejected():
    c = wb.claim("rmt.lyapunov")
    for i in range(1, 5):
        v = wb.verify(c, N=4, sigma=0.5, i=i, resolution=0.05, seed=i)
        assert v.passed and v.scale == "absolute" and v.resolution <= 0.05, str(v)
        shifted = wb.verify(c.with_closed_form(c.closed_form + 2 * v.resolution), N=4, sigma=0.5, i=i, resolution=0.05,
                            seed=i)
        assert not shifted.passed
    assert any("exactly independent" in n for n in v.notes)


def test_the_large_width_form_and_a_reversed_index_are_rejected():
    c = wb.claim("rmt.lyapunov")
    triangle = (sp.log(2 * P.sigma**2) + sp.log((P.N - P.i + 1) / 2)) / 2  # psi(x) ~ ln x: not exact at the bottom
    assert not wb.verify(c.with_closed_form(triangle), N=8, i=8, resolution=0.05).passed
    reversed_index = (sp.log(2 * P.sigma**2) + P.digamma(P.i / sp.Integer(2))) / 2
    assert not wb.verify(c.with_closed_form(reversed_index), N=8, i=1, resolution=0.05).passed


def test_isometry_tests_the_exact_finite_width_form_at_its_defaults():
    c = wb.claim("residual.isometry")
    assert [k.term for k in c.corrections] == [1, 2] and c.limit.terms == 2
    assert [k.coefficient for k in c.corrections] == [P.L * (P.L + 1) / 2, (P.L - 1) * P.L * (P.L + 1) / 2]
    v = wb.verify(c)
    assert v.status == "pass" and [p["x"] for p in v.sweep] == list(WIDTHS)
    for d in v.fit["derived"]:  # b_1 = b_2 = 3 at L = 2, each resolved to well under half of itself
        assert d["expected"] == 3.0 and d["passed"] and d["resolution"] < 0.25 * d["expected"]
    for point in v.sweep:  # every width against the exact finite-width value
        exact = float(P.second_moment(2, sp.Integer(point["x"])))
        assert abs(point["estimate"] - exact) <= Z * point["stderr"] + point["tolerance"]


@pytest.mark.parametrize("term, wrong", [(1, "flipped"), (2, "flipped"), (2, "zero")])  # b_2 = 0: the 1/N form only
def test_isometry_rejects_a_correction_with_its_sign_flipped_or_dropped(term, wrong):
    c = wb.claim("residual.isometry")
    b = c.correction(term).coefficient
    v = wb.verify(c.with_correction(term, -b if wrong == "flipped" else 0))
    assert v.status == "fail" and not next(d for d in v.fit["derived"] if d["term"] == term)["passed"]


def test_isometry_at_depth_one_has_no_second_correction_and_deeper_products_are_refused():
    v = wb.verify("residual.isometry", L=1, resolution=0.02)
    assert v.status == "pass" and [d["expected"] for d in v.fit["derived"]] == [1.0, 0.0]  # m_2 = 2 + 1/N exactly
    with pytest.raises(ValueError, match="1 <= L <= 2"):
        wb.verify("residual.isometry", L=3)


@pytest.mark.parametrize("depth, n", [(1, 1), (2, 1), (2, 2), (3, 2)])
def test_norm_and_direction_make_small_widths_light_tailed(depth, n):
    """At N = 1 the estimate is 3^L up to rounding (a chi-square moment); at N = 2 the normalised estimator has a small
    kurtosis where the plain one's is in the hundreds."""
    e = K.isometry_estimate(np, np.random.default_rng(3), 20_000, L=depth, N=n)
    exact = float(P.second_moment(depth, sp.Integer(n)))
    if n == 1:
        assert e.stderr < 1e-6 * exact and abs(e.mean - exact) <= e.atol  # constant up to float32 rounding
        return
    plain = K.isometry_estimate(np, np.random.default_rng(3), 20_000, L=depth, N=n, control=False)
    assert within(e, exact) and e.kurtosis < 10 < plain.kurtosis and e.stderr < plain.stderr / 3
    block = K.isometry_experiment(np, np.random.default_rng(4), 64, L=depth, N=n)
    assert block.n == 64 and within(block, exact)  # a replicate is the mean of 4096/N^2 products


def test_isometry_rejects_the_second_moment_L_instead_of_L_plus_one():
    c = wb.claim("residual.isometry")
    assert not wb.verify(c.with_closed_form(P.L), L=2, resolution=0.05).passed
    assert not wb.verify(c.with_closed_form(sp.Integer(1)), L=1, resolution=0.05).passed  # 'Gaussian is an isometry'


def test_figure_helpers():
    assert spectrum_indices(3) == [1, 2, 3] and spectrum_indices(48)[0] == 1 and spectrum_indices(48)[-1] == 48


def test_the_rmt_area_verifies_from_the_command_line(capsys):
    from workbench.cli import main

    assert main(["verify", "rmt", "--json", "--jobs", "1"]) == 0  # in process (README runs the command itself)
    verdicts = json.loads(capsys.readouterr().out)
    assert [v["id"] for v in verdicts] == ["rmt.lyapunov"] and all(v["passed"] for v in verdicts)


def test_benchmark_reports_every_number_at_a_tiny_size():
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from benchmarks import AREAS
    from benchmarks import random_matrices as bench

    assert "random_matrices" in AREAS
    report = bench.run(quick=True)
    spectrum, step = report["spectrum"], report["step"]
    assert spectrum["N"] == 8 and spectrum["steps"] >= spectrum["pilot_steps"] and spectrum["all_within"]
    assert spectrum["worst_resolution"] <= 1.05 * spectrum["target_resolution"]
    assert spectrum["target_resolution"] == pytest.approx(0.1 * bench.spectrum_width(8))
    assert step["ratio"] == pytest.approx(step["kernel_seconds_per_step"] / step["qr_seconds_per_step"])
    assert step["blas_threads"] == "1"
    for row in report["rows"]:
        assert set(row) == {"benchmark", "value", "unit", "target", "ok"} and math.isfinite(row["value"])
