"""In-person verification by a health professional (issue 9): find by NHS number, see only what is
needed, confirm, record the ODS code; the person becomes P9 with that evidence and is emailed."""
from __future__ import annotations

from proofing.journey_support import case
from staff.support import audit_actions, health_professional, staff_csrf
from support import csrf_from, outbox


def _professional(app, client, ods_codes=("B86001",)):
    return health_professional(app, client, ods_codes)


def _p5_person(person):
    """A P5 account linked to a record of the synthetic PDS."""
    someone = case("gp_online_without_id_check")
    email = person("P5", nhs_number=someone["nhs_number"], given_name=" ".join(someone["given_names"]),
                   family_name=someone["family_name"], birthdate=someone["birthdate"], postcode=someone["postcode"])
    return email, someone


def test_a_health_professional_verifies_someone_they_know_in_person(app, client, person):
    email, someone = _p5_person(person)
    member = _professional(app, client)
    page = client.get("/staff/in-person")
    found = client.post("/staff/in-person", data={"nhs_number": someone["nhs_number"],
                                                  "csrf_token": csrf_from(page.get_data(as_text=True))})
    text = found.get_data(as_text=True)
    assert found.status_code == 200 and someone["family_name"] in text and someone["birthdate"] in text
    assert email not in text and f"{email[0]}***@example.com" in text  # the email masked

    csrf = csrf_from(text)
    unconfirmed = client.post("/staff/in-person/confirm", data={"nhs_number": someone["nhs_number"], "ods_code": "a12",
                                                                "csrf_token": csrf})
    body = unconfirmed.get_data(as_text=True)
    assert unconfirmed.status_code == 400 and "Confirm that you know this person" in body
    assert "Confirm that you have checked their record" in body

    done = client.post("/staff/in-person/confirm", data={
        "nhs_number": someone["nhs_number"], "knows_person": "yes", "checked_record": "yes", "ods_code": "b86001",
        "csrf_token": csrf})
    assert done.status_code == 200 and "They have proved who they are" in done.get_data(as_text=True)
    from idp.models import Person
    from idp.proofing import evidence

    with app.app_context():
        proofed = Person.query.filter_by(email=email).one()
        last = evidence.of(proofed.id)[-1]
        assert proofed.proofing_level == "P9"
        assert (last.route, last.outcome, last.level, last.staff_member, last.detail["ods_code"]) == (
            "in_person", "verified", "P9", member.id, "B86001")
        assert last.pds_version  # PDS was read again for it
    message = outbox(app, email)[-1]
    assert message.template == "in_person_verified" and "B86001" in message.body
    assert audit_actions(app, staff_member_id=member.id)[-2:] == ["in_person.searched", "in_person.verified"]


def test_an_nhs_number_without_an_account_or_invalid_says_so(app, client, person):
    _professional(app, client)
    csrf = staff_csrf(client)
    invalid = client.post("/staff/in-person", data={"nhs_number": "1234567890", "csrf_token": csrf})
    assert invalid.status_code == 400 and "Enter a valid 10 digit NHS number" in invalid.get_data(as_text=True)
    nobody = client.post("/staff/in-person", data={"nhs_number": case("deceased")["nhs_number"], "csrf_token": csrf})
    assert nobody.status_code == 400 and "No NHS login account is linked" in nobody.get_data(as_text=True)


def test_someone_not_yet_at_p5_has_no_nhs_number_to_find_and_stays_p0(app, client, person):
    """A P0 account has no NHS number linked until it is matched to PDS (P5), so there is nothing to verify."""
    someone = case("gp_online_without_id_check")
    email = person("P0", nhs_number=someone["nhs_number"])
    _professional(app, client)
    done = client.post("/staff/in-person/confirm", data={
        "nhs_number": someone["nhs_number"], "knows_person": "yes", "checked_record": "yes", "ods_code": "B86001",
        "csrf_token": staff_csrf(client)})
    assert done.status_code == 400 and "No NHS login account is linked" in done.get_data(as_text=True)
    from idp.models import Person

    with app.app_context():
        assert Person.query.filter_by(email=email).one().proofing_level == "P0"


def test_someone_already_at_p9_is_not_verified_again(app, client, person):
    email = person("P9")
    from idp.models import Evidence, Person

    with app.app_context():
        someone = Person.query.filter_by(email=email).one()
        number, before = someone.nhs_number, Evidence.query.filter_by(person_id=someone.id).count()
    _professional(app, client)
    found = client.post("/staff/in-person", data={"nhs_number": number, "csrf_token": staff_csrf(client)})
    assert "already proved who they are to a high level" in found.get_data(as_text=True)
    done = client.post("/staff/in-person/confirm", data={
        "nhs_number": number, "knows_person": "yes", "checked_record": "yes", "ods_code": "B86001",
        "csrf_token": staff_csrf(client)})
    assert done.status_code == 409 and "or they already have a high level" in done.get_data(as_text=True)
    with app.app_context():
        assert Evidence.query.filter_by(person_id=someone.id).count() == before
    assert all(m.template != "in_person_verified" for m in outbox(app, email))


def test_the_ods_code_is_filled_in_from_the_staff_account(app, client, person):
    email, someone = _p5_person(person)
    _professional(app, client)
    found = client.post("/staff/in-person", data={"nhs_number": someone["nhs_number"], "csrf_token": staff_csrf(client)})
    assert 'value="B86001"' in found.get_data(as_text=True)


def test_the_evidence_names_only_the_professionals_own_organisation(app, client, person):
    email, someone = _p5_person(person)
    _professional(app, client, ods_codes=["A12345"])
    other = client.post("/staff/in-person/confirm", data={
        "nhs_number": someone["nhs_number"], "knows_person": "yes", "checked_record": "yes", "ods_code": "Z99999",
        "csrf_token": staff_csrf(client)})
    assert other.status_code == 400 and "Choose your organisation" in other.get_data(as_text=True)
    from idp.models import Person

    with app.app_context():
        assert Person.query.filter_by(email=email).one().proofing_level == "P5"


def test_a_professional_without_an_organisation_cannot_verify(app, client, person):
    email, someone = _p5_person(person)
    _professional(app, client, ods_codes=[])
    refused = client.post("/staff/in-person/confirm", data={
        "nhs_number": someone["nhs_number"], "knows_person": "yes", "checked_record": "yes", "ods_code": "B86001",
        "csrf_token": staff_csrf(client)})
    assert refused.status_code == 400 and "not linked to an organisation" in refused.get_data(as_text=True)
