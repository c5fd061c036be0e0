"""proofs: steps are confirmed by SymPy or refused, and conclusions must follow."""

import pytest
import sympy as sp

from proofs import (
    Derivation,
    DerivationError,
    Source,
    StepNotChecked,
    cite,
    define,
    equal,
    equal_by_cases,
    relation,
    solutions,
    substitute,
)

x = sp.Symbol("x", real=True)
t = sp.Symbol("t", nonnegative=True)
GIBBS = Source("cover2006", "Thomas M. Cover and Joy A. Thomas", "Elements of Information Theory (2nd edition)",
               "Wiley", 2006, doi="10.1002/047174882X", kind="book")


def test_a_false_equality_is_refused_at_construction():
    with pytest.raises(StepNotChecked, match="could not confirm"):
        equal(sp.sin(x) ** 2, 1 - sp.cos(x))


def test_derivatives_limits_and_integrals_are_carried_out():
    assert equal(sp.Derivative(sp.log(1 + sp.exp(x)), x), 1 / (1 + sp.exp(-x))).status == "checked"
    assert equal(sp.Limit(sp.sin(x) / x, x, 0), 1).how.startswith("evaluate")
    assert equal(sp.Integral(sp.exp(-t), (t, 0, sp.oo)), 1).status == "checked"
    with pytest.raises(StepNotChecked):
        equal(sp.Limit(sp.sin(x) / x, x, 0), 2)


def test_an_inequality_is_checked_from_assumptions_or_the_exact_minimum():
    assert relation(sp.exp(x), ">", 0).how == "assumptions"
    assert "minimum" in relation(x**2 - 2 * x, ">=", -1, over=(x, sp.S.Reals)).how
    with pytest.raises(StepNotChecked):
        relation(x**2 - 2 * x, ">=", 0, over=(x, sp.S.Reals))


def test_solution_sets_must_match_exactly():
    assert solutions(sp.Eq(x**2, 1), x, sp.S.Reals, sp.FiniteSet(-1, 1)).how == "solveset"
    with pytest.raises(StepNotChecked):
        solutions(sp.Eq(x**2, 1), x, sp.S.Reals, sp.FiniteSet(1))


def test_equality_by_cases_covers_both_signs():
    step = equal_by_cases(sp.Abs(x) ** 2, x**2, x)
    assert "x >= 0" in step.how and "x < 0" in step.how
    with pytest.raises(StepNotChecked):
        equal_by_cases(sp.Abs(x), x, x)


def test_substitution_that_changes_nothing_is_refused():
    y = sp.Symbol("y")
    with pytest.raises(StepNotChecked):
        substitute(x + 1, {y: 2})


def test_a_cited_step_needs_a_source_and_says_so_everywhere():
    p = sp.Symbol("p", positive=True)
    step = cite(p, ">=", 0, "Gibbs' inequality", GIBBS)
    assert step.status == "cited" and "cited" in step.justification and "Cover and Thomas (2006)" in str(step)
    d = Derivation("uses a citation", [step], (p, ">=", 0))
    assert d.count("cited") == 1 and GIBBS in d.sources
    assert r"\textbf{cited}" in d._repr_latex_()


def test_chains_conclude_by_transitivity_with_the_weakest_relation():
    a, b, c = sp.symbols("a b c")
    steps = [define(a, b + 1), relation(b + 1, "<=", b + 2), relation(b + 2, "<", b + 3)]
    assert Derivation("chain", steps, (a, "<", b + 3)).conclusion.how.startswith("steps 1-3")
    assert Derivation("chain", steps, (a, "<=", b + 3)).conclusion.rel == "<="
    with pytest.raises(DerivationError, match="does not follow"):
        Derivation("chain", steps, (a, "=", b + 3))


def test_opposite_inequalities_prove_nothing():
    a = sp.Symbol("a")
    steps = [relation(sp.exp(x), ">=", 0), relation(sp.Integer(0), "<=", sp.exp(x))]
    with pytest.raises(DerivationError):
        Derivation("no", steps, (sp.exp(x), "=", sp.exp(x) + a))


def test_rendering_in_text_and_latex():
    d = Derivation("softplus slope", [equal(sp.Derivative(sp.log(1 + sp.exp(x)), x), 1 / (1 + sp.exp(-x)), "chain rule")],
                   (sp.Derivative(sp.log(1 + sp.exp(x)), x), "=", 1 / (1 + sp.exp(-x))))
    text = str(d)
    assert "checked by SymPy" in text and "therefore" in text
    latex = sp.latex(d)
    assert latex.startswith(r"\begin{aligned}") and r"\text{chain rule; checked by SymPy" in latex


def test_latex_text_escapes_specials_in_reasons():
    d = Derivation("escape", [define(x, sp.Integer(1), "50% of a_i & {b}")], (x, "=", 1))
    assert r"50\% of a\_i \& \textbraceleft{}b\textbraceright{}" in d._latex()
