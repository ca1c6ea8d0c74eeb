"""The matcher over the shipped synthetic PDS: one row per way a person may type the hard cases.

Each row is an attempt (``Details`` as typed) and what ``match`` must answer: the NHS number of the one
record it matched, or the internal refusal ``reason`` the evidence ledger keeps (never shown to people).
The HTTP journeys over the same cases are in ``test_uplift.py``; these rows are the matcher's rules.
"""
from __future__ import annotations

import pytest

from journey_support import HARD_CASES

from idp.proofing.matching import Details, match, name_matches
from idp.proofing.pds.synthetic import SyntheticPds


def _case(name: str, index: int | None = None) -> dict:
    case = HARD_CASES[name]
    return case["people"][index] if index is not None else case


def by_number(case: dict, **typed) -> dict:
    return {"nhs_number": case["nhs_number"], "birthdate": case["birthdate"], "postcode": case["postcode"], **typed}


def by_name(case: dict, **typed) -> dict:
    return {"given": " ".join(case["given_names"]), "family": case["family_name"], "birthdate": case["birthdate"],
            "postcode": case["postcode"], **typed}


OLIVIA = _case("hyphenated_family_name")
LIAM = _case("apostrophe_family_name")
ZOE = _case("accented_given_name_zoe")
JOSE = _case("accented_names_jose")
SIAN = _case("accented_given_name_sian")
MARY = _case("several_given_names")
RACHEL = _case("name_change")
JAMES_A, JAMES_B = _case("same_name_and_birthdate", 0), _case("same_name_and_birthdate", 1)
EMILY_A, EMILY_B = _case("same_name_birthdate_and_postcode", 0), _case("same_name_birthdate_and_postcode", 1)
HAROLD = _case("no_mobile")
BRENDA = _case("landline_only")
ARTHUR = _case("deceased")
LEAH = _case("restricted")
GRAHAM = _case("inactive")
NADIA = _case("superseded")
KIERAN = _case("superseded_twice")

MATCHED = "matched"

# (id, what was typed, the NHS number matched or None, the reason[, a mark])
ROWS = [
    # Hyphens: a space in place of the hyphen, or the hyphen left out.
    ("hyphen-typed-as-space", by_name(OLIVIA, family=OLIVIA["as_typed"]["family_name"]), OLIVIA["nhs_number"], MATCHED),
    ("hyphen-as-stored", by_name(OLIVIA), OLIVIA["nhs_number"], MATCHED),
    ("hyphen-upper-case-with-space", by_name(OLIVIA, family="SMITH JONES", given="olivia"), OLIVIA["nhs_number"], MATCHED),
    ("hyphen-left-out-run-together", by_name(OLIVIA, family="SmithJones"), OLIVIA["nhs_number"], MATCHED),
    # Apostrophes: curly, straight, left out.
    ("apostrophe-typed-curly", by_name(LIAM, family=LIAM["as_typed"]["family_name"]), LIAM["nhs_number"], MATCHED),
    ("apostrophe-typed-straight", by_name(LIAM, family="O'Brien"), LIAM["nhs_number"], MATCHED),
    ("apostrophe-left-out", by_name(LIAM, family="OBrien"), LIAM["nhs_number"], MATCHED),
    ("apostrophe-left-out-lower-case", by_name(LIAM, family="obrien", given="LIAM"), LIAM["nhs_number"], MATCHED),
    # Accents.
    ("zoe-typed-without-diaeresis", by_name(ZOE, given="Zoe"), ZOE["nhs_number"], MATCHED),
    ("zoe-typed-upper-case", by_name(ZOE, given="ZOE", family="MARSH"), ZOE["nhs_number"], MATCHED),
    ("zoe-as-stored", by_name(ZOE), ZOE["nhs_number"], MATCHED),
    ("jose-garcia-typed-without-accents", by_name(JOSE, given="Jose", family="Garcia"), JOSE["nhs_number"], MATCHED),
    ("jose-garcia-as-stored", by_name(JOSE), JOSE["nhs_number"], MATCHED),
    ("sian-typed-without-circumflex", by_name(SIAN, given="Sian"), SIAN["nhs_number"], MATCHED),
    # Several given names: from the first, never the second alone.
    ("several-given-first-only", by_name(MARY, given="Mary"), MARY["nhs_number"], MATCHED),
    ("several-given-first-two", by_name(MARY, given="Mary Ann"), MARY["nhs_number"], MATCHED),
    ("several-given-first-two-hyphenated", by_name(MARY, given="Mary-Ann"), MARY["nhs_number"], MATCHED),
    ("several-given-all-three", by_name(MARY, given="Mary Ann Louise"), MARY["nhs_number"], MATCHED),
    ("several-given-second-alone-refused", by_name(MARY, given="Ann"), None, "no_record"),
    ("several-given-first-and-third-refused", by_name(MARY, given="Mary Louise"), None, "no_record"),
    ("several-given-one-too-many-refused", by_name(MARY, given="Mary Ann Louise Jane"), None, "no_record"),
    # A change of family name: the previous one and the current one both match.
    ("name-change-previous-family-name", by_name(RACHEL, family=RACHEL["previous_family_name"]), RACHEL["nhs_number"], MATCHED),
    ("name-change-current-family-name", by_name(RACHEL), RACHEL["nhs_number"], MATCHED),
    ("name-change-previous-by-number", by_number(RACHEL), RACHEL["nhs_number"], MATCHED),
    # Same name and date of birth: the postcode decides.
    ("same-name-and-dob-first-own-postcode", by_name(JAMES_A), JAMES_A["nhs_number"], MATCHED),
    ("same-name-and-dob-second-own-postcode", by_name(JAMES_B), JAMES_B["nhs_number"], MATCHED),
    ("same-name-and-dob-postcode-of-neither", by_name(JAMES_A, postcode="ZZ99 3CZ"), None, "no_record"),
    # Same name, date of birth and postcode: refused by name, each found by number.
    ("same-name-dob-postcode-by-name-refused", by_name(EMILY_A), None, "several_records"),
    ("same-name-dob-postcode-first-by-number", by_number(EMILY_A), EMILY_A["nhs_number"], MATCHED),
    ("same-name-dob-postcode-second-by-number", by_number(EMILY_B), EMILY_B["nhs_number"], MATCHED),
    # No phone is needed for P5.
    ("no-phone-at-all-by-name", by_name(HAROLD), HAROLD["nhs_number"], MATCHED),
    ("no-phone-at-all-by-number", by_number(HAROLD), HAROLD["nhs_number"], MATCHED),
    ("landline-only-by-name", by_name(BRENDA), BRENDA["nhs_number"], MATCHED),
    ("landline-only-by-number", by_number(BRENDA), BRENDA["nhs_number"], MATCHED),
    # Deceased, inactive, restricted.
    ("deceased-by-number-refused", by_number(ARTHUR), None, "deceased"),
    ("deceased-by-name-refused", by_name(ARTHUR), None, "deceased"),
    ("inactive-by-number-refused", by_number(GRAHAM), None, "inactive"),
    ("inactive-by-name-refused", by_name(GRAHAM), None, "inactive"),
    ("restricted-by-number-matches", by_number(LEAH), LEAH["nhs_number"], MATCHED),
    ("restricted-by-name-matches", by_name(LEAH), LEAH["nhs_number"], MATCHED),
    # Superseded numbers lead to their successor.
    ("superseded-old-number", by_number(NADIA, nhs_number=NADIA["superseded_nhs_numbers"][0]), NADIA["nhs_number"], MATCHED),
    ("superseded-successor-number", by_number(NADIA), NADIA["nhs_number"], MATCHED),
    ("superseded-by-name-finds-successor", by_name(NADIA), NADIA["nhs_number"], MATCHED),
    ("superseded-twice-oldest-number", by_number(KIERAN, nhs_number=KIERAN["superseded_nhs_numbers"][0]),
     KIERAN["nhs_number"], MATCHED),
    ("superseded-twice-middle-number", by_number(KIERAN, nhs_number=KIERAN["superseded_nhs_numbers"][1]),
     KIERAN["nhs_number"], MATCHED),
    # A detail that differs.
    ("wrong-postcode-by-number", by_number(OLIVIA, postcode="ZZ99 3CZ"), None, "details_differ"),
    ("wrong-birthdate-by-number", by_number(OLIVIA, birthdate="1987-06-15"), None, "details_differ"),
    ("wrong-postcode-by-name", by_name(OLIVIA, postcode="ZZ99 3CZ"), None, "no_record"),
    ("wrong-birthdate-by-name", by_name(OLIVIA, birthdate="1987-06-15"), None, "no_record"),
    ("wrong-family-name", by_name(OLIVIA, family="Smith"), None, "no_record"),
    ("another-persons-postcode-by-number", by_number(JAMES_A, postcode=JAMES_B["postcode"]), None, "details_differ"),
    ("unknown-nhs-number", by_number(OLIVIA, nhs_number="9990900973"), None, "no_record"),
    # How postcodes and NHS numbers are typed.
    ("postcode-lower-case-without-space-by-number",
     by_number(OLIVIA, postcode=OLIVIA["postcode"].replace(" ", "").lower()), OLIVIA["nhs_number"], MATCHED),
    ("postcode-lower-case-without-space-by-name",
     by_name(ZOE, postcode=ZOE["postcode"].replace(" ", "").lower()), ZOE["nhs_number"], MATCHED),
    ("postcode-with-extra-spaces", by_number(OLIVIA, postcode="  l8   5fu "), OLIVIA["nhs_number"], MATCHED),
    ("nhs-number-typed-in-groups", by_number(OLIVIA, nhs_number="999 000 1006"), OLIVIA["nhs_number"], MATCHED),
    ("nhs-number-typed-with-dashes", by_number(OLIVIA, nhs_number="999-000-1006"), OLIVIA["nhs_number"], MATCHED),
]


def _param(row):
    """(id, typed, number, reason[, marks]) as a pytest.param with a readable id."""
    row_id, typed, number, reason, *marks = row
    return pytest.param(typed, number, reason, marks=marks, id=row_id)


@pytest.mark.parametrize(("typed", "expected_number", "expected_reason"), [_param(r) for r in ROWS])
def test_match(app, typed, expected_number, expected_reason):
    with app.app_context():
        found = match(Details(**typed), SyntheticPds())
    assert found.reason == expected_reason
    if expected_number is None:
        assert found.record is None and not found.matched
    else:
        assert found.matched and found.record.nhs_number == expected_number


@pytest.mark.parametrize(("case", "old", "expected_superseded"), [
    pytest.param(NADIA, NADIA["superseded_nhs_numbers"][0], tuple(NADIA["superseded_nhs_numbers"]), id="one-hop"),
    pytest.param(KIERAN, KIERAN["superseded_nhs_numbers"][0], tuple(KIERAN["superseded_nhs_numbers"]), id="two-hops"),
    pytest.param(KIERAN, KIERAN["superseded_nhs_numbers"][1], tuple(KIERAN["superseded_nhs_numbers"][1:]), id="from-the-middle"),
    pytest.param(NADIA, NADIA["nhs_number"], (), id="the-successor-itself"),
])
def test_a_superseded_number_is_followed_and_named_on_the_record(app, case, old, expected_superseded):
    with app.app_context():
        found = match(Details(**by_number(case, nhs_number=old)), SyntheticPds())
    assert found.matched and found.record.nhs_number == case["nhs_number"]
    assert found.record.superseded == expected_superseded
    assert set(expected_superseded) <= set(case["superseded_nhs_numbers"])


def test_a_restricted_match_carries_the_restriction(app):
    with app.app_context():
        found = match(Details(**by_number(LEAH)), SyntheticPds())
    assert found.matched and found.record.restricted


def test_a_matched_record_is_the_record_not_what_was_typed(app):
    with app.app_context():
        found = match(Details(**by_name(JOSE, given="jose", family="GARCIA")), SyntheticPds())
    assert (found.record.given_name, found.record.family_name) == ("José", "García")
    assert found.record.birthdate == JOSE["birthdate"] and found.record.postcode == JOSE["postcode"]


def test_name_matches_reads_given_names_from_the_first(app):
    with app.app_context():
        record = SyntheticPds().get(MARY["nhs_number"])
    assert name_matches(record, "mary", "WHITFIELD")
    assert name_matches(record, "Mary Ann", "Whitfield")
    assert not name_matches(record, "Ann", "Whitfield")
    assert not name_matches(record, "Louise", "Whitfield")
    assert not name_matches(record, "", "Whitfield") and not name_matches(record, "Mary", "")
    assert not name_matches(record, None, None)
