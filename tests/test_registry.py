"""Properties over the whole registry: a claim is tested the day it is registered."""

import functools
import math

import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import workbench as wb

CLAIMS = wb.claims()
IDS = [c.id for c in CLAIMS]
# the tests that read a claim's verdict at its defaults share one worker, so they share the verdict
GROUPED = [pytest.param(c, id=c.id, marks=pytest.mark.xdist_group(f"defaults-{c.id}")) for c in CLAIMS]


@pytest.mark.parametrize("c", CLAIMS, ids=IDS)
def test_closed_form_uses_only_the_claims_parameters(c):
    names = {s.name for s in c.closed_form.free_symbols}
    assert names <= {p.name for p in c.parameters}


@functools.cache
def _default_verdict(claim_id: str):
    """One verdict per claim at its defaults, shared by the tests below (in one worker)."""
    return wb.verify(claim_id)


@pytest.mark.parametrize("c", GROUPED)
def test_every_claim_passes_at_its_defaults(c):
    v = _default_verdict(c.id)
    assert v.passed, str(v)
    assert v.resolution > 0


@pytest.mark.parametrize("c", GROUPED)
def test_closed_form_off_by_twice_the_resolution_is_rejected(c):
    """The mutation test: a verifier that cannot fail is a defect."""
    v = _default_verdict(c.id)
    shift = 2 * v.resolution
    wrong = c.closed_form * (1 + shift) if v.scale == "relative" else c.closed_form + shift
    mutant = wb.verify(c.with_closed_form(wrong))
    assert mutant.mutated and mutant.status == "fail", str(mutant)


@pytest.mark.slow  # two more default runs of every claim (the twice-the-resolution mutation above runs by default)
@pytest.mark.parametrize("c", [c for c in GROUPED if c.id not in ("xent.score-identity", "residual.jacobian")])
@pytest.mark.parametrize("factor", [2, 0])
def test_the_standard_wrong_variants_fail_at_the_defaults(c, factor):
    """Power at the defaults: twice the closed form, and zero, are rejected (not merely not passed).
    The two claims left out have the closed form 0, which both variants leave unchanged."""
    mutant = wb.verify(c.with_closed_form(factor * c.closed_form))
    assert mutant.status == "fail", str(mutant)


@pytest.mark.slow  # twelve points of every claim's whole domain, edges included
@pytest.mark.parametrize("c", CLAIMS, ids=IDS)
@settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_verify_passes_for_any_parameters_in_the_domain(c, data):
    params = {p.name: data.draw(p.strategy(), label=p.name) for p in c.parameters}
    assume(c.constraint is None or c.constraint(params) is None)  # joint domains (deep, narrow networks)
    # a property of the whole domain, at a coarse resolution (never finer than twice the claim's own default)
    v = wb.verify(c, resolution=max(0.05, 2 * c.resolution), **params)
    assert v.status != "fail", str(v)  # inconclusive where the arithmetic or the budget cannot decide
    if v.passed:
        assert math.isfinite(v.tolerance) and math.isfinite(v.resolution)  # a check that could fail


@pytest.mark.parametrize("c", CLAIMS, ids=IDS)
def test_every_claim_cites_a_source_with_an_identifier(c):
    assert c.sources
    for s in c.sources:
        assert s.doi or s.arxiv or s.url or s.isbn


@pytest.mark.parametrize("c", GROUPED)
def test_same_seed_gives_the_same_verdict(c):
    a, b = _default_verdict(c.id), wb.verify(c, seed=0)  # the defaults' seed is 0
    assert (a.estimate, a.stderr, a.replicates, a.passed) == (b.estimate, b.stderr, b.replicates, b.passed)


def test_ids_read_area_dot_name_and_are_unique():
    assert len(set(IDS)) == len(IDS)
    assert all(i.count(".") == 1 for i in IDS)


def test_registry_refuses_a_duplicate_id():
    with pytest.raises(ValueError, match="already registered"):
        wb.register(wb.claim("xent.margin"))


def test_claim_refuses_an_experiment_whose_parameters_differ():
    c = wb.claim("xent.margin")

    def experiment(xp, rng, budget, *, K):  # m is missing
        raise AssertionError

    with pytest.raises(TypeError, match="experiment takes parameters"):
        wb.Claim(c.id, c.title, c.statement, c.kind, c.parameters, c.derive, experiment, c.sources)


def test_unknown_claim_suggests_close_ids():
    with pytest.raises(wb.UnknownClaim, match="did you mean xent.margin"):
        wb.claim("xent.margn")


def test_mutated_claims_keep_the_derivation_but_not_its_closed_form():
    c = wb.claim("xent.margin")
    m = c.with_closed_form(sp.Integer(1))
    assert m.closed_form == 1 and m.derivation is c.derivation and not c.mutated


@pytest.mark.parametrize("c", GROUPED)
def test_claims_derivations_and_verdicts_render_for_jupyter_and_text(c):
    assert c._repr_latex_().startswith(r"\textbf{") and "$" in c._repr_latex_()
    assert r"\begin{aligned}" in c.derivation._repr_latex_()
    v = _default_verdict(c.id)
    assert v._repr_latex_().startswith("$") and r"\checkmark" in v._repr_latex_()
    assert str(v).startswith("PASS " + c.id) and c.id in str(c)
