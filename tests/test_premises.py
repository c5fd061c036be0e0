"""Every registered derivation is a proof: its premises are needed, its steps all support the
conclusion, and the conclusion carries its weakest link."""

import pytest

import workbench as wb
from proofs import StepNotChecked

CLAIMS = wb.claims()
IDS = [c.id for c in CLAIMS]
REACH = 0.85  # the share of non-definition steps, across the registry, that SymPy must check


def _premise_cases():
    """(claim, step number, premise index) for every premise of every checked step: every conclusion's premises
    and every third of the others in the default run, the rest under the ``slow`` marker (CI runs both; the whole
    set is about 85 s of SymPy on two cores)."""
    cases, seen = [], set()
    for c in CLAIMS:
        d = c.derivation
        for step in (*d.steps, *d.remarks, d.conclusion):
            if step.status != "checked" or id(step) in seen:  # a step two claims share is tested once
                continue
            seen.add(id(step))
            n = "conclusion" if step is d.conclusion else d.number(step)
            for i in range(len(step.uses)):
                default = n == "conclusion" or len(cases) % 3 == 0
                cases.append(pytest.param(c.id, n, i, id=f"{c.id}-{n}-premise{i + 1}",
                                          marks=() if default else pytest.mark.slow))
    return cases


def _step(d, n):
    return d.conclusion if n == "conclusion" else (*d.steps, *d.remarks)[n - 1]


@pytest.mark.parametrize(("claim_id", "n", "i"), _premise_cases())
def test_dropping_a_premise_leaves_the_step_unconfirmed(claim_id, n, i):
    step = _step(wb.claim(claim_id).derivation, n)
    # (with all its premises the step was confirmed when it was built)
    rest = step.uses[:i] + step.uses[i + 1:]
    with pytest.raises(StepNotChecked):
        step.recheck(rest)


@pytest.mark.parametrize("c", CLAIMS, ids=IDS)
def test_every_step_supports_the_conclusion_and_none_is_a_tautology(c):
    d = c.derivation
    assert d.support == list(range(1, len(d.steps) + 1))
    for s in (*d.steps, *d.remarks, d.conclusion):
        assert s.status != "checked" or s.lhs != s.rhs


@pytest.mark.parametrize("c", CLAIMS, ids=IDS)
def test_the_conclusion_carries_its_weakest_link(c):
    d = c.derivation
    supporting = [d.steps[n - 1] for n in d.support]
    weakest = "cited" if any(s.status == "cited" for s in supporting) else "checked"
    assert d.status == weakest
    assert not any(s.status == "definition" and s.rhs == d.closed_form for s in supporting)
    if weakest == "cited":  # only a claim that is itself a cited theorem may rest on a citation
        assert d.cited and "cited theorem" in c.statement, (c.id, d.cited)


def test_sympy_checks_at_least_85_percent_of_the_non_definition_steps():
    checked = sum(c.derivation.count("checked") for c in CLAIMS)
    cited = sum(c.derivation.count("cited") for c in CLAIMS)
    assert checked / (checked + cited) >= REACH, (checked, cited)


@pytest.mark.parametrize("c", CLAIMS, ids=IDS)
def test_citations_are_precise(c):
    for s in c.derivation.steps:
        if s.status == "cited":
            assert s.source is not None and any(ch.isdigit() for ch in s.how), (c.id, s.how)
