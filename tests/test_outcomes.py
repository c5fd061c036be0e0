"""Three outcomes (pass, fail, inconclusive): when a run could not have failed, it says so.

The claims here are a user's, built in the test, so each rule is exercised on its own: the budget
cap, a resolution that is not small against the quantity, a standard error a heavy tail makes
untrustworthy, a kernel's own reason, and derived correction coefficients of an asymptotic claim.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import sympy as sp
from scipy.stats import kurtosis, skew
from test_asymptotic import SOURCE, derive_plug_in_variance, variance_claim

import workbench as wb
from numerics import Accumulator, Estimate
from proofs import Derivation, cite, equal
from workbench import cli
from workbench.statistics import TAIL_LIMIT, replicates_for_tail, variance_uncertainty

t = sp.Symbol("t", positive=True)
z = sp.Symbol("z", real=True)
sigma, N = sp.Symbol("sigma", positive=True), sp.Symbol("N", integer=True, positive=True)


# -- the replicates' shape -------------------------------------------------------------------------


def test_the_accumulator_keeps_skewness_and_kurtosis_across_batches_and_merges():
    x = np.random.default_rng(3).lognormal(size=20_001)
    acc = Accumulator()
    for chunk in np.array_split(x, 9):
        acc.add(chunk)
    e = acc.estimate()
    assert e.skewness == pytest.approx(skew(x), rel=1e-10)
    assert e.kurtosis == pytest.approx(kurtosis(x, fisher=False), rel=1e-10)
    a, b = Accumulator(), Accumulator()
    a.add(x[:5000])
    b.add(x[5000:])
    m = a.estimate().merge(b.estimate())
    assert (m.skewness, m.kurtosis) == (pytest.approx(e.skewness, rel=1e-10), pytest.approx(e.kurtosis, rel=1e-10))


def test_a_part_without_spread_keeps_the_shape_when_merged():
    flat = Estimate(1.0, 0.0, 256)  # 256 equal replicates: no spread, every central moment 0
    acc = Accumulator()
    acc.add(np.r_[np.ones(10), 5.0])
    merged = flat.merge(acc.estimate())
    x = np.r_[np.ones(266), 5.0]
    assert merged.kurtosis == pytest.approx(kurtosis(x, fisher=False), rel=1e-10)


def test_the_variance_uncertainty_is_the_delta_method_and_plans_enough_replicates():
    assert variance_uncertainty(3.0, 200) == pytest.approx(0.1)
    assert variance_uncertainty(None, 200) is None
    assert replicates_for_tail(3.0) == 200 and replicates_for_tail(None) == 0
    assert variance_uncertainty(101.0, replicates_for_tail(101.0)) <= TAIL_LIMIT


# -- a user's heavy-tailed claim ------------------------------------------------------------------


def _derive_mgf() -> Derivation:
    integral = sp.Integral(sp.exp(t * z) * sp.exp(-z**2 / 2) / sp.sqrt(2 * sp.pi), (z, -sp.oo, sp.oo))
    return Derivation("The Gaussian moment generating function", [equal(integral, sp.exp(t**2 / 2), "Gaussian integral")],
                      (integral, "=", sp.exp(t**2 / 2)))


def _mgf(xp, rng, budget, *, t):
    acc = Accumulator()
    for start in range(0, budget, 1 << 21):
        acc.add(np.exp(t * rng.standard_normal(min(budget - start, 1 << 21))))
    return acc.estimate()


MGF = wb.Claim(id="user.mgf", title="$E e^{tZ} = e^{t^2/2}$", statement="For $Z \\sim N(0, 1)$, $E e^{tZ} = e^{t^2/2}$.",
               kind="statistical", parameters=(wb.real("t", 3.0, "the argument", low=0.0, high=6.0),), derive=_derive_mgf,
               experiment=_mgf, sources=(SOURCE,))


@pytest.mark.parametrize("seed", range(3))
def test_a_heavy_tail_is_inconclusive_whatever_the_draws(seed):
    """E e^{3Z}: per-replicate relative variance e^9 - 1 and a sample kurtosis that grows with n. Its
    CLT standard error cannot be trusted at any affordable n: never a pass (and never a false fail)."""
    v = wb.verify(MGF, seed=seed, t=3.0, resolution=0.1, max_replicates=4_000_000)
    assert v.status == "inconclusive", str(v)
    assert any("heavy tail" in n and "kurtosis" in n for n in v.notes_text), v.notes_text


def test_the_same_claim_with_a_light_tail_passes():
    v = wb.verify(MGF, t=0.5, resolution=0.01)
    assert v.status == "pass", str(v)
    assert variance_uncertainty(3.0, v.replicates) < TAIL_LIMIT


def test_a_wrong_closed_form_still_fails_when_the_tail_is_heavy():
    v = wb.verify(MGF.with_closed_form(2 * sp.exp(t**2 / 2)), t=3.0, resolution=0.1, max_replicates=4_000_000)
    assert v.status == "fail", str(v)


# -- the budget cap, and the quantity's own scale ------------------------------------------------


def test_a_run_stopped_by_its_cap_short_of_the_target_is_inconclusive():
    v = wb.verify(MGF, t=0.5, resolution=0.001, max_replicates=5000)
    assert v.status == "inconclusive" and v.replicates == 5000
    assert any("budget cap of 5,000 replicates" in n for n in v.notes_text)


def _counted(calls: list[int]) -> wb.Claim:
    """The light-tailed MGF claim with its own cap of 100,000 replicates, counting what it is asked to draw."""
    def experiment(xp, rng, budget, *, t):
        calls.append(budget)
        return _mgf(xp, rng, budget, t=t)
    return wb.Claim(id="user.mgf-counted", title=MGF.title, statement=MGF.statement, kind="statistical",
                    parameters=MGF.parameters, derive=_derive_mgf, experiment=experiment, sources=(SOURCE,),
                    max_replicates=100_000, pilot=4096)


def test_an_unreachable_resolution_is_refused_after_the_pilot_naming_what_the_cap_reaches():
    calls: list[int] = []
    c = _counted(calls)
    with pytest.raises(ValueError, match=r"user.mgf-counted: resolution=1e-05 is out of reach: it needs about .* "
                                         r"replicates and the claim's cap is 100,000, which reaches about ") as info:
        wb.verify(c, t=0.5, resolution=1e-5)
    assert sum(calls) <= c.pilot  # refused before the spending
    best = float(str(info.value).split("which reaches about ")[1].split(";")[0])
    calls.clear()
    v = wb.verify(c, t=0.5, resolution=best)  # what the message offers is accepted, and reached
    assert v.status == "pass" and v.resolution <= best and sum(calls) <= c.max_replicates


@pytest.mark.parametrize("resolution", [1e-300, 5e-324])
def test_a_resolution_near_the_end_of_float64_is_refused_with_a_resolution_that_is_reached(resolution):
    """Squaring the replicates such a target needs overflows float64: it is refused like any other, naming
    the resolution the cap reaches (a finite one, not inf)."""
    with pytest.raises(ValueError, match=r"out of reach: it needs more than 1e\+300 replicates") as info:
        wb.verify(_counted([]), t=0.5, resolution=resolution)
    best = float(str(info.value).split("which reaches about ")[1].split(";")[0])
    assert 0 < best < 1


def test_an_explicit_cap_runs_an_unreachable_resolution_to_the_cap_inconclusive():
    calls: list[int] = []
    v = wb.verify(_counted(calls), t=0.5, resolution=1e-5, max_replicates=20_000)
    assert v.status == "inconclusive" and v.replicates == 20_000 == sum(calls)


def test_the_command_line_refuses_an_unreachable_resolution_in_one_line(capsys):
    assert cli.main(["verify", "xent.score-identity", "--resolution", "1e-12"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "out of reach" in err[0] and "--max-replicates" in err[0]


def _exact_value(xp, rng, budget, *, t):
    value = math.exp(t**2 / 2)
    return Estimate.exact(value, atol=0.75 * value)  # a check too coarse to tell the value from 0 or twice it


COARSE = wb.Claim(id="user.coarse", title="coarse", statement="A check whose tolerance is most of the value.",
                  kind="exact", parameters=MGF.parameters, derive=_derive_mgf, experiment=_exact_value, sources=(SOURCE,))


def test_a_check_that_cannot_tell_the_value_from_zero_is_inconclusive():
    v = wb.verify(COARSE)
    assert v.status == "inconclusive" and not v.passed
    assert any("could not tell the closed form from zero or from twice itself" in n for n in v.notes_text)
    assert wb.verify(COARSE.with_closed_form(3 * sp.exp(t**2 / 2))).status == "fail"


def _undecided(xp, rng, budget, *, t):
    return Estimate(math.exp(t**2 / 2), 0.0, 1, atol=1e-12, inconclusive="the kernel's own reason")


UNDECIDED = wb.Claim(id="user.undecided", title="undecided", statement="A kernel that says it cannot decide.",
                     kind="exact", parameters=MGF.parameters, derive=_derive_mgf, experiment=_undecided, sources=(SOURCE,))


def test_a_kernels_own_reason_makes_the_verdict_inconclusive_unless_it_fails():
    v = wb.verify(UNDECIDED)
    assert v.status == "inconclusive" and "inconclusive: the kernel's own reason" in v.notes_text
    assert wb.verify(UNDECIDED.with_closed_form(2)).status == "fail"


@pytest.mark.parametrize("scale", [1e-150, 1e150])
def test_z_and_the_resolution_do_not_depend_on_the_scale(scale):
    """sigma^2 from 1e-300 to 1e300: the same draws give the same z and relative resolution."""
    from user_claim import user_claim

    c = user_claim(low=0.0, open_low=True, high=1e200)
    ref = wb.verify(c, sigma=1.0, seed=4)
    v = wb.verify(c, sigma=scale, seed=4)
    assert v.status == "pass" and math.isfinite(v.z)
    assert v.z == pytest.approx(ref.z, rel=1e-6, abs=1e-9) and v.resolution == pytest.approx(ref.resolution, rel=1e-6)


# -- what the user sees ------------------------------------------------------------------------


def test_json_status_and_the_exit_status_3(capsys, monkeypatch):
    v = wb.verify(COARSE)
    monkeypatch.setattr(cli.run, "execute", lambda plan, **kwargs: [v])
    assert cli.main(["verify", "xent.margin", "--json"]) == 3
    (row,) = json.loads(capsys.readouterr().out)
    assert row["status"] == "inconclusive" and row["passed"] is False
    assert cli.main(["verify", "xent.margin"]) == 3
    out = capsys.readouterr().out
    assert "INCONCLUSIVE" in out and "1 claim: 0 pass, 0 fail, 1 inconclusive" in out


def test_a_sweep_counts_inconclusive_points_apart():
    """xent.margin at m = -800 underflows: that point is inconclusive, the others pass."""
    r = wb.sweep("xent.margin", {"m": [0.0, -800.0, 3.0]}, params={"K": 2}, scheduler="serial")
    assert [v.status for v in r.verdicts] == ["pass", "inconclusive", "pass"]
    assert r.status == "inconclusive" and not r.passed and r.inconclusive == 1
    d = r.to_dict()
    assert d["status"] == "inconclusive" and d["family"]["inconclusive"] == 1 and d["family"]["rejected"] == 0


# -- derived corrections of an asymptotic claim ---------------------------------------------------


def _derive_bias() -> Derivation:
    expectation = sp.Symbol("E[s_N^2]")
    mean = cite(expectation, "=", sigma**2 * (1 - 1 / N), "Theorem 5.2.6", SOURCE,
                "E sum (x_i - mean)^2 = (N - 1) sigma^2")
    bias = sp.Limit(N * (expectation - sigma**2), N, sp.oo)
    value = equal(bias, -sigma**2, "the coefficient of 1/N in the mean, by evaluating the limit", uses=[mean])
    return Derivation("The 1/N bias of the plug-in variance", [mean, value], (bias, "=", -sigma**2))


def _with_bias(claim: wb.Claim) -> wb.Claim:
    from dataclasses import replace

    return replace(claim, corrections=(wb.Correction(1, _derive_bias),))


def test_a_derived_coefficient_is_tested_beside_the_limit():
    v = wb.verify(_with_bias(variance_claim()), sigma=2.0)
    assert v.status == "pass", str(v)
    (d,) = v.fit["derived"]
    assert set(d) >= {"term", "expected", "estimate", "stderr", "passed"} and d["term"] == 1
    assert d["expected"] == -4.0 and d["passed"] and abs(d["estimate"] + 4) <= 6 * d["stderr"]
    assert any(n.startswith("derived correction") for n in v.notes)
    assert derive_plug_in_variance().closed_form == sigma**2


def test_a_derived_coefficient_with_its_sign_flipped_fails():
    c = _with_bias(variance_claim())
    flipped = c.with_correction(1, -c.correction(1).coefficient)
    v = wb.verify(flipped, sigma=2.0)
    assert flipped.mutated and v.status == "fail", str(v)
    assert not v.fit["derived"][0]["passed"]


def test_a_correction_belongs_to_an_asymptotic_claim_with_a_known_order():
    with pytest.raises(ValueError, match="known order"):
        _with_bias(variance_claim(order=None))
    with pytest.raises(ValueError, match="from 1 to 1"):
        from dataclasses import replace

        replace(variance_claim(), corrections=(wb.Correction(2, _derive_bias),))
