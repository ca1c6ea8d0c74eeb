"""Vectors of trust (interface.md "Levels"): parsing, satisfaction, and the single ``vot`` chosen."""
from __future__ import annotations

import pytest

from idp.levels import (
    InvalidVectorError,
    ProofingLevel,
    VectorOfTrust,
    choose_vot,
    parse_vector_list,
    parse_vtr_parameter,
)

P0, P5, P9 = ProofingLevel.P0, ProofingLevel.P5, ProofingLevel.P9


def vec(text: str) -> VectorOfTrust:
    return VectorOfTrust.parse(text)


# --- parsing -------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, proofing, components", [
    ("P9.Cp.Cd", P9, {"Cp", "Cd"}),
    ("P9.Cp.Ck", P9, {"Cp", "Ck"}),
    ("P9.Cm", P9, {"Cm"}),
    ("P5.Cp", P5, {"Cp"}),
    ("P0.Cp", P0, {"Cp"}),
    ("P0.Cm.Cd", P0, {"Cm", "Cd"}),
])
def test_valid_vectors_parse(text, proofing, components):
    vector = vec(text)
    assert vector.proofing is proofing
    assert vector.components == frozenset(components)


def test_vector_prints_in_canonical_component_order():
    assert str(vec("P9.Cd.Cp")) == "P9.Cp.Cd"
    assert str(vec("P9.Cp.Cd")) == "P9.Cp.Cd"
    assert vec("P9.Cd.Cp") == vec("P9.Cp.Cd")


@pytest.mark.parametrize("text", [
    "P3.Cp",        # no such proofing level
    "P9",           # no authentication component
    "P9.Cd",        # a device is a second factor only
    "P9.Ck",        # a TOTP key is a second factor only
    "P9.Cd.Ck",     # two second factors, no first factor
    "P9.Cp.Cp",     # a repeated component
    "P9.Cp.Cx",     # unknown component
    "p9.cp",        # case matters
    "Cp.P9",
    "P9.Cp.",
    "",
    "P9." + ".".join(["Cp"] * 20),  # absurdly long
])
def test_invalid_vectors_are_refused(text):
    with pytest.raises(InvalidVectorError):
        vec(text)


def test_non_string_vector_is_refused():
    with pytest.raises(InvalidVectorError):
        VectorOfTrust.parse(9)  # type: ignore[arg-type]


def test_vtr_parameter_is_a_json_array_of_alternatives():
    vectors = parse_vtr_parameter('["P9.Cp.Cd","P9.Cp.Ck","P9.Cm"]')
    assert [str(v) for v in vectors] == ["P9.Cp.Cd", "P9.Cp.Ck", "P9.Cm"]


def test_vtr_parameter_drops_repeated_vectors():
    vectors = parse_vtr_parameter('["P9.Cp.Cd","P9.Cd.Cp","P5.Cp"]')
    assert [str(v) for v in vectors] == ["P9.Cp.Cd", "P5.Cp"]
    assert [str(v) for v in parse_vector_list(["P0.Cp", "P0.Cp"])] == ["P0.Cp"]


@pytest.mark.parametrize("raw", [
    '"P9.Cp.Cd"',            # a JSON string, not an array
    "P9.Cp.Cd",              # not JSON at all
    '{"vtr": "P9.Cp"}',      # an object
    "[]",                    # empty
    "[9]",                   # not strings
    '["P9.Cp", null]',
    '["P9.Cp", "P9.Cd"]',    # one bad vector spoils the list
    '["P3.Cp"]',
    "",
    "[" + ",".join(['"P9.Cp"'] * 200) + "]",  # too long
])
def test_invalid_vtr_parameters_are_refused(raw):
    with pytest.raises(InvalidVectorError):
        parse_vtr_parameter(raw)


# --- satisfaction ----------------------------------------------------------------------------------
def test_higher_proofing_satisfies_lower_but_not_the_reverse():
    assert vec("P5.Cp").is_satisfied_by(P9, ["Cp"])
    assert vec("P0.Cp").is_satisfied_by(P9, ["Cp"])
    assert vec("P0.Cp").is_satisfied_by(P5, ["Cp"])
    assert not vec("P9.Cp").is_satisfied_by(P5, ["Cp"])
    assert not vec("P5.Cp").is_satisfied_by(P0, ["Cp"])
    assert P9.satisfies(P5) and not P5.satisfies(P9)


def test_every_component_of_a_vector_is_required():
    wanted = vec("P9.Cp.Cd")
    assert wanted.is_satisfied_by(P9, ["Cp", "Cd"])
    assert wanted.is_satisfied_by(P9, ["Cp", "Cd", "Ck"])  # more than asked is fine
    assert not wanted.is_satisfied_by(P9, ["Cp"])
    assert not wanted.is_satisfied_by(P9, ["Cd"])
    assert not wanted.is_satisfied_by(P9, [])
    assert not vec("P9.Cm").is_satisfied_by(P9, ["Cp", "Cd"])  # a password and a device are not a passkey


# --- choosing the vot ------------------------------------------------------------------------------
def test_choose_vot_picks_the_strongest_satisfied_vector():
    requested = parse_vtr_parameter('["P0.Cp","P5.Cp","P9.Cp","P9.Cp.Cd"]')
    assert str(choose_vot(requested, P9, ["Cp", "Cd"])) == "P9.Cp.Cd"
    assert str(choose_vot(requested, P9, ["Cp"])) == "P9.Cp"
    assert str(choose_vot(requested, P5, ["Cp", "Cd"])) == "P5.Cp"
    assert str(choose_vot(requested, P0, ["Cp"])) == "P0.Cp"


def test_choose_vot_never_asserts_a_vector_that_was_not_requested():
    requested = parse_vtr_parameter('["P5.Cp"]')
    # A P9 person with two factors still gets the vector asked for, not a stronger invented one.
    assert str(choose_vot(requested, P9, ["Cp", "Cd"])) == "P5.Cp"


def test_choose_vot_returns_none_when_nothing_is_satisfied():
    assert choose_vot(parse_vtr_parameter('["P9.Cp.Cd","P9.Cm"]'), P9, ["Cp"]) is None
    assert choose_vot(parse_vtr_parameter('["P9.Cp"]'), P5, ["Cp", "Cd"]) is None
    assert choose_vot(parse_vtr_parameter('["P0.Cp"]'), P9, []) is None
    assert choose_vot([], P9, ["Cp", "Cd"]) is None


def test_chosen_vot_satisfies_one_requested_vector():
    requested = parse_vtr_parameter('["P9.Cp.Cd","P5.Cp.Ck","P0.Cm"]')
    for level in (P0, P5, P9):
        for used in ([], ["Cp"], ["Cp", "Cd"], ["Cp", "Ck"], ["Cm"], ["Cp", "Cd", "Ck", "Cm"]):
            chosen = choose_vot(requested, level, used)
            if chosen is not None:
                assert chosen in requested
                assert chosen.is_satisfied_by(level, used)
            else:
                assert not any(v.is_satisfied_by(level, used) for v in requested)
