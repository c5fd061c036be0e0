"""Typed parameters: parsing, validation, error messages, and Hypothesis strategies."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import workbench as wb
from workbench.parameters import Parameter, choice, integer, real

CLAIMS = wb.claims()
ALL_PARAMETERS = [(c.id, p.name) for c in CLAIMS for p in c.parameters]
NUMERIC_PARAMETERS = [(cid, name) for cid, name in ALL_PARAMETERS if wb.claim(cid).parameter(name).kind != "choice"]
INVALID = [
    pytest.param(c.id, p.name, bad, id=f"{c.id}-{p.name}-{i}-{type(bad).__name__}")
    for c in CLAIMS
    for p in c.parameters
    for i, bad in enumerate(p.invalid_examples())
]


def _param(claim_id: str, name: str) -> Parameter:
    return wb.claim(claim_id).parameter(name)


def test_every_registered_claim_has_parameters_to_test():
    assert ALL_PARAMETERS, "no registered parameters"
    assert NUMERIC_PARAMETERS
    assert {"integer", "real", "choice"} <= {_param(c, n).kind for c, n in ALL_PARAMETERS}


# -- parse: valid text -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [("2", 2), ("17", 17), (" 64 ", 64), ("1000000", 1_000_000), ("+5", 5)],
)
def test_integer_parse_returns_an_int(text, value):
    p = integer("K", 2, "classes", low=2, high=1_000_000)
    parsed = p.parse(text)
    assert parsed == value and type(parsed) is int


@pytest.mark.parametrize(
    ("text", "value"),
    [("1.5", 1.5), ("-40", -40.0), ("1e-3", 1e-3), (" 2.0 ", 2.0), ("1E6", 1e6)],
)
def test_real_parse_returns_a_float(text, value):
    p = real("m", 0.0, "margin")
    parsed = p.parse(text)
    assert parsed == value and type(parsed) is float


def test_open_bound_admits_values_just_inside_it():
    p = real("s", 1.0, "scale", low=0.0, open_low=True, high=100.0)
    assert p.parse("1e-300") == 1e-300
    assert p.parse("100") == 100.0


@pytest.mark.parametrize(("text", "value"), [("1", 1), ("2", 2), (" 2", 2)])
def test_integer_choice_parse_returns_the_choice(text, value):
    p = choice("n", (1, 2), 1, "order")
    parsed = p.parse(text)
    assert parsed == value and type(parsed) is int


@pytest.mark.parametrize("text", ["sum", "mean", " mean "])
def test_string_choice_parse_returns_the_choice(text):
    p = choice("reduction", ("sum", "mean"), "mean", "how to reduce")
    assert p.parse(text) == text.strip()


def test_registered_parameters_parse_their_own_defaults():
    for claim_id, name in ALL_PARAMETERS:
        p = _param(claim_id, name)
        assert p.parse(str(p.default)) == p.default


# -- validate: invalid values ----------------------------------------------------------


@pytest.mark.parametrize(("claim_id", "name", "bad"), INVALID)
def test_every_invalid_example_is_refused_naming_the_parameter_and_its_domain(claim_id, name, bad):
    p = _param(claim_id, name)
    with pytest.raises((TypeError, ValueError)) as info:
        p.validate(bad)
    message = str(info.value)
    assert message.startswith(f"{p.name}="), message
    assert p.domain in message, message


@pytest.mark.parametrize(("claim_id", "name"), ALL_PARAMETERS)
def test_invalid_examples_are_refused_by_resolve_too(claim_id, name):
    c = wb.claim(claim_id)
    for bad in c.parameter(name).invalid_examples():
        with pytest.raises((TypeError, ValueError), match=name):
            c.resolve({name: bad})


@pytest.mark.parametrize(("claim_id", "name"), NUMERIC_PARAMETERS)
@pytest.mark.parametrize("text", ["abc", "", "1,5", "0x10"])
def test_parse_of_non_numeric_text_raises_value_error_naming_the_parameter(claim_id, name, text):
    p = _param(claim_id, name)
    with pytest.raises(ValueError) as info:
        p.parse(text)
    message = str(info.value)
    assert message.startswith(f"{name}={text!r} is not "), message
    assert p.domain in message


def test_outside_domain_message_reads_name_value_and_domain():
    p = _param("xent.margin", "K")
    assert p.domain == "integer with 2 <= K <= 1000000"
    with pytest.raises(ValueError) as info:
        p.parse("0")
    assert str(info.value) == "K=0 is outside the domain: integer with 2 <= K <= 1000000"
    with pytest.raises(ValueError, match=r"^K=0 is outside the domain: integer with 2 <= K <= 1000000$"):
        p.validate(0)


@pytest.mark.parametrize(
    ("p", "domain"),
    [
        (integer("K", 2, "classes", low=2), "integer >= 2"),
        (integer("d", 0, "shift", high=5), "integer <= 5"),
        (real("m", 0.0, "margin"), "finite real"),
        (real("s", 1.0, "scale", low=0.0, open_low=True), "finite real > 0"),
        (real("s", 1.0, "scale", low=0.0, open_low=True, high=100.0), "finite real with 0 < s <= 100"),
        (real("p", 0.5, "probability", low=0.0, high=1.0, open_high=True), "finite real with 0 <= p < 1"),
        (choice("n", (1, 2), 1, "order"), "one of 1, 2"),
    ],
)
def test_domain_is_described_in_words(p, domain):
    assert p.domain == domain


def test_open_bounds_are_excluded_and_closed_bounds_included():
    p = real("p", 0.5, "probability", low=0.0, high=1.0, open_high=True)
    assert p.validate(0.0) == 0.0
    with pytest.raises(ValueError, match=r"^p=1\.0 is outside the domain"):
        p.validate(1.0)


@pytest.mark.parametrize("flag", [True, False])
def test_bool_is_refused_for_an_integer_parameter(flag):
    p = _param("xent.margin", "K")
    with pytest.raises(TypeError, match=r"^K=(True|False) must be an integer"):
        p.validate(flag)


def test_bool_is_refused_for_real_and_choice_parameters():
    with pytest.raises(TypeError, match="^m="):
        _param("xent.margin", "m").validate(True)
    with pytest.raises(ValueError, match="^n="):
        _param("xent.derivatives", "n").validate(True)  # True == 1, but a bool is not a choice


def test_integer_parameter_refuses_a_float_even_when_integral():
    with pytest.raises(TypeError, match=r"^K=3\.0 must be an integer"):
        _param("xent.margin", "K").validate(3.0)


def test_validate_normalises_types():
    assert type(_param("xent.margin", "m").validate(2)) is float
    assert type(_param("xent.margin", "K").validate(3)) is int


def test_a_default_outside_the_domain_is_refused_at_definition():
    with pytest.raises(ValueError, match="K=1 is outside the domain: integer >= 2"):
        integer("K", 1, "classes", low=2)


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda: Parameter("not a name", "real", 0.0, "doc"), "must be an identifier"),
        (lambda: Parameter("x", "complex", 0.0, "doc"), "must be integer, real or choice"),
        (lambda: Parameter("x", "choice", 1, "doc"), "needs choices"),
    ],
)
def test_malformed_parameter_definitions_are_refused(make, error):
    with pytest.raises(ValueError, match=error):
        make()


# -- Claim.resolve ------------------------------------------------------------------------


def test_resolve_with_an_unknown_name_raises_type_error_naming_the_claims_parameters():
    c = wb.claim("xent.margin")
    with pytest.raises(TypeError) as info:
        c.resolve({"k": 3})
    message = str(info.value)
    assert "'k'" in message and "xent.margin" in message
    assert "K, m" in message


def test_resolve_fills_defaults_and_validates_overrides():
    c = wb.claim("xent.margin")
    assert c.resolve() == {"K": 2, "m": 1.5}
    assert c.resolve({"K": 5}) == {"K": 5, "m": 1.5}
    with pytest.raises(ValueError, match="^K=1 is outside the domain"):
        c.resolve({"K": 1})


# -- Hypothesis: the strategies stay inside the domain --------------------------------------


@pytest.mark.parametrize(("claim_id", "name"), ALL_PARAMETERS)
@settings(max_examples=50, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_values_drawn_from_the_strategy_validate(claim_id, name, data):
    p = _param(claim_id, name)
    value = data.draw(p.strategy(), label=f"{claim_id}:{name}")
    validated = p.validate(value)
    assert validated == value
    if p.kind == "real":
        assert math.isfinite(validated)
