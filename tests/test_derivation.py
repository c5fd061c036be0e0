"""proofs: steps are checked from their premises or refused; a derivation is a proof or refused."""

import pytest
import sympy as sp

from proofs import (
    Derivation,
    DerivationError,
    Expectation,
    Hessian,
    MinEigenvalue,
    Source,
    StepNotChecked,
    cite,
    define,
    equal,
    equal_by_cases,
    hypothesis,
    recurrence,
    relation,
    solutions,
    substitute,
)

x = sp.Symbol("x", real=True)
t = sp.Symbol("t", nonnegative=True)
a, b = sp.symbols("a b", positive=True)
GIBBS = Source("cover2006", "Thomas M. Cover and Joy A. Thomas", "Elements of Information Theory (2nd edition)",
               "Wiley", 2006, doi="10.1002/047174882X", kind="book")


# -- steps ------------------------------------------------------------------------------------

def test_a_false_equality_is_refused_at_construction():
    with pytest.raises(StepNotChecked, match="could not confirm"):
        equal(sp.sin(x) ** 2, 1 - sp.cos(x))


def test_a_step_whose_sides_are_identical_is_refused_as_a_tautology():
    with pytest.raises(StepNotChecked, match="tautology"):
        equal(sp.binomial(a, 2) - 1, sp.binomial(a, 2) - 1)
    with pytest.raises(StepNotChecked, match="tautology"):
        equal(sp.Min(-1, 1), -1)  # work done before the step was built: Min evaluated to -1 already


def test_derivatives_limits_and_integrals_are_carried_out():
    assert equal(sp.Derivative(sp.log(1 + sp.exp(x)), x), 1 / (1 + sp.exp(-x))).status == "checked"
    assert equal(sp.Limit(sp.sin(x) / x, x, 0), 1).how.startswith("evaluate")
    assert equal(sp.Integral(sp.exp(-t), (t, 0, sp.oo)), 1).status == "checked"
    with pytest.raises(StepNotChecked):
        equal(sp.Limit(sp.sin(x) / x, x, 0), 2)


def test_a_step_is_checked_from_its_premises_and_fails_without_them():
    q = sp.Symbol("q")
    premise = define(q, a + b)
    step = equal(q**2, a**2 + 2 * a * b + b**2, uses=[premise])
    assert step.how.startswith("premises") and step.uses == (premise,)
    with pytest.raises(StepNotChecked):
        step.recheck([])
    with pytest.raises(StepNotChecked, match="could not confirm"):
        equal(q**2, a**2 + 2 * a * b + b**2)


def test_a_premise_the_check_does_not_use_is_refused():
    q, r = sp.symbols("q r")
    with pytest.raises(StepNotChecked, match="not used"):
        equal(sp.exp(a) * sp.exp(b), sp.exp(a + b), uses=[define(q, a), define(r, 2)])


def test_an_inequality_is_checked_from_assumptions_or_the_exact_minimum():
    assert relation(sp.exp(x), ">", 0).how == "assumptions"
    assert "minimum" in relation(x**2 - 2 * x, ">=", -1, over=(x, sp.S.Reals)).how
    with pytest.raises(StepNotChecked):
        relation(x**2 - 2 * x, ">=", 0, over=(x, sp.S.Reals))


def test_solution_sets_must_match_exactly_after_rewriting_by_the_premises():
    assert solutions(sp.Eq(x**2, 1), x, sp.S.Reals, sp.FiniteSet(-1, 1)).how == "solveset"
    with pytest.raises(StepNotChecked):
        solutions(sp.Eq(x**2, 1), x, sp.S.Reals, sp.FiniteSet(1))
    chi = sp.Symbol("chi")
    slope = define(chi, a / 2)
    step = solutions(sp.Eq(chi, 1), a, sp.Interval.open(0, sp.oo), sp.FiniteSet(2), uses=[slope])
    with pytest.raises(StepNotChecked):
        step.recheck([])


def test_equality_by_cases_covers_both_signs():
    step = equal_by_cases(sp.Max(x, 0) - sp.Max(-x, 0), x, x)
    assert r"$x \ge 0$" in step.how and "$x < 0$" in step.how  # text with inline math (proofs.mathtext)
    with pytest.raises(StepNotChecked):
        equal_by_cases(sp.Abs(x), x, x)


def test_substitution_computes_its_right_side_from_the_premises():
    y = sp.Symbol("y")
    step = substitute(x + y, uses=[define(y, 2 * x)])
    assert step.rhs == 3 * x
    with pytest.raises(StepNotChecked, match="unchanged"):
        substitute(x + 1, uses=[define(y, 2)])


def test_a_recurrence_is_solved_from_the_rule_and_initial_value_its_premises_state():
    q, l = sp.Function("q"), sp.Symbol("l", integer=True, positive=True)
    rule, first = define(q(l), a * q(l - 1)), hypothesis(q(1), "=", b)
    step = recurrence(q, l, 1, b * a ** (l - 1), uses=[rule, first])
    assert step.how.startswith("induction")
    for premises in ([rule], [first]):
        with pytest.raises(StepNotChecked, match="no premise states"):
            step.recheck(premises)
    with pytest.raises(StepNotChecked):
        recurrence(q, l, 1, b * a**l, uses=[rule, first])


def test_expectations_by_linearity_with_the_moments_a_hypothesis_states():
    W, xs = sp.IndexedBase("W"), sp.IndexedBase("x")
    n = sp.Symbol("n", integer=True, positive=True)
    j, jp = sp.Symbol("j", integer=True, positive=True), sp.Symbol("j'", integer=True, positive=True)
    moments = hypothesis(Expectation(W[j] * W[jp], (W,)), "=", a / n * sp.KroneckerDelta(j, jp), "W_j iid N(0, a/n)")
    h = sp.Sum(W[j] * xs[j], (j, 1, n))
    step = equal(Expectation(h**2, (W,)), a / n * sp.Sum(xs[j] ** 2, (j, 1, n)), uses=[moments])
    with pytest.raises(StepNotChecked):
        step.recheck([])
    with pytest.raises(StepNotChecked):
        equal(Expectation(h**2, (W,)), 2 * a / n * sp.Sum(xs[j] ** 2, (j, 1, n)), uses=[moments])


def test_eigenvalues_of_an_explicit_hessian_are_computed_on_the_page():
    u, v = sp.symbols("u v", real=True)
    loss = (1 - u * v) ** 2 / 2
    assert equal(MinEigenvalue(Hessian(loss, (u, v)), {u: 0, v: 0}), -1).how.startswith("evaluate")
    with pytest.raises(StepNotChecked):
        equal(MinEigenvalue(Hessian(loss, (u, v)), {u: 0, v: 0}), 0)


def test_a_citation_needs_a_source_and_a_precise_locator():
    p = sp.Symbol("p", positive=True)
    step = cite(p, ">=", 0, "Theorem 2.6.3", GIBBS, "Gibbs' inequality")
    assert step.status == "cited" and "Cover and Thomas (2006), Theorem 2.6.3" in str(step)
    with pytest.raises(ValueError, match="does not locate"):
        cite(p, ">=", 0, "Gibbs' inequality", GIBBS)


# -- derivations --------------------------------------------------------------------------------

def test_a_conclusion_resting_on_a_citation_is_cited_and_names_it():
    p = sp.Symbol("p", positive=True)
    step = cite(p, ">=", 0, "Theorem 2.6.3", GIBBS)
    d = Derivation("uses a citation", [step], (p, ">=", 0))
    assert d.status == "cited" and d.cited == ["Cover and Thomas (2006), Theorem 2.6.3"]
    assert r"\textbf{cited}" in d._repr_latex_() and GIBBS in d.sources


def test_chains_conclude_by_transitivity_with_the_weakest_relation():
    c = sp.Symbol("c")
    s1 = define(c, b + 1)
    s2 = relation(b + 1, "<=", b + 2)
    s3 = relation(b + 2, "<", b + 3)
    d = Derivation("chain", [s1, s2, s3], (c, "<", b + 3), uses=[s1, s2, s3])
    assert d.conclusion.how == "transitivity" and d.status == "checked" and d.support == [1, 2, 3]
    assert Derivation("chain", [s1, s2, s3], (c, "<=", b + 3), uses=[s1, s2, s3]).conclusion.rel == "<="
    with pytest.raises(DerivationError, match="does not follow"):
        Derivation("chain", [s1, s2, s3], (c, "=", b + 3), uses=[s1, s2, s3])


def test_opposite_inequalities_prove_nothing():
    s1, s2 = relation(sp.exp(x), ">=", 0), relation(sp.Integer(0), "<=", sp.exp(x) + 1)
    with pytest.raises(DerivationError):
        Derivation("no", [s1, s2], (sp.exp(x), "<=", sp.exp(x) + 1), uses=[s1, s2])


def test_a_step_that_supports_nothing_is_refused_unless_shown_as_a_remark():
    s1 = equal(sp.Integral(sp.exp(-t), (t, 0, sp.oo)), 1)
    aside = relation(sp.exp(x), ">", 0)
    with pytest.raises(DerivationError, match="support nothing"):
        Derivation("orphan", [aside, s1], (sp.Integral(sp.exp(-t), (t, 0, sp.oo)), "=", 1))
    d = Derivation("with a remark", [s1], (sp.Integral(sp.exp(-t), (t, 0, sp.oo)), "=", 1), remarks=[aside])
    assert d.number(aside) == 2 and "remark 2." in str(d)


def test_a_conclusion_that_is_its_own_definition_is_refused():
    g = sp.Symbol("g")
    with pytest.raises(DerivationError, match="introduced by the definition"):
        Derivation("circular", [define(g, sp.sqrt(2))], (g, "=", sp.sqrt(2)))


def test_premises_must_be_earlier_steps_of_the_proof():
    q = sp.Symbol("q")
    outside = define(q, a)
    step = equal(q + 1, a + 1, uses=[outside])
    with pytest.raises(DerivationError, match="not an earlier step"):
        Derivation("missing premise", [step], (q + 1, "=", a + 1))


def test_json_lists_premises_support_and_counts():
    q = sp.Symbol("q")
    s1 = define(q, a + b)
    s2 = equal(q**2, a**2 + 2 * a * b + b**2, uses=[s1])
    d = Derivation("square", [s1, s2], (q**2, "=", a**2 + 2 * a * b + b**2))
    data = d.to_dict()
    assert [s["uses"] for s in data["steps"]] == [[], [1]]
    assert data["conclusion"]["support"] == [1, 2] and data["conclusion"]["status"] == "checked"
    assert data["counts"] == {"checked": 1, "cited": 0, "definition": 1}
    assert set(data["steps"][1]) >= {"n", "lhs", "rel", "rhs", "latex", "status", "how", "uses", "source"}


def test_rendering_cites_premises_by_number_in_text_and_latex():
    q = sp.Symbol("q")
    s1 = define(q, a + b, "a name")
    s2 = equal(q**2, a**2 + 2 * a * b + b**2, "square it", uses=[s1])
    d = Derivation("square", [s1, s2], (q**2, "=", a**2 + 2 * a * b + b**2))
    assert "by (1)" in str(d) and "therefore" in str(d)
    latex = sp.latex(d)
    assert latex.startswith(r"\begin{aligned}") and "by (1)" in latex


def test_latex_text_escapes_specials_in_reasons():
    s1 = equal(sp.Integral(sp.exp(-t), (t, 0, sp.oo)), 1, "50% of a_i & {b}")
    d = Derivation("escape", [s1], (sp.Integral(sp.exp(-t), (t, 0, sp.oo)), "=", 1))
    assert r"50\% of a\_i \& \textbraceleft{}b\textbraceright{}" in d._latex()


def test_a_long_sum_breaks_over_lines_with_its_signs_and_a_short_one_does_not():
    from proofs.printing import latex_lines, width

    x = sp.symbols("x1:13")
    long = sum(sp.log(1 + s) * (-1) ** i for i, s in enumerate(x))
    lines = latex_lines(long, budget=40)
    assert len(lines) > 1 and all(width(line) <= 40 for line in lines)
    assert all(line.startswith(("+ ", "-")) for line in lines[1:])
    assert " ".join(lines).count("log") == 12
    assert latex_lines(x[0] + x[1]) == [sp.latex(x[0] + x[1])]


def test_abbreviations_show_a_symbol_inside_an_expression_but_not_for_the_expression_itself():
    from proofs import Derivation
    from proofs.steps import equal, hypothesis

    a, b, c = sp.symbols("a b c", positive=True)
    value = sp.log(1 + 1 / a**2)
    given = hypothesis(b, "=", 2 * value, "given")
    d = Derivation("t", [given, equal(b / 2, value, "halved", uses=[given])], (b / 2, "=", value),
                   abbreviations=[(c, value)])
    assert d.abbreviate(sp.Le(a, value)) == sp.Le(a, c)
    assert d.abbreviate(value) == value  # the side that defines it stays whole
