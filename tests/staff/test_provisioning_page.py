"""Provisioning from the staff area (issue 10, part 4): a health professional at an organisation without its
own system makes the same request, through the same rules and both audits."""
from __future__ import annotations

from proofing.journey_support import case
from staff.support import health_professional, staff_csrf
from support import outbox


def _professional(app, client, ods_codes=("A12345",)):
    return health_professional(app, client, ods_codes)


def _events(app, action):
    from idp.staff import audit

    with app.app_context():
        return [(e.subject, dict(e.detail)) for e in reversed(audit.of(1000, action=action))]


def _form(client, someone, **changes):
    year, month, day = someone["birthdate"].split("-")
    form = {"nhs_number": someone["nhs_number"], "birthdate-day": day, "birthdate-month": month,
            "birthdate-year": year, "email": "patient@example.com",
            "phone": "0" + someone["mobile"][3:], "ods_code": "A12345", "csrf_token": staff_csrf(client)}
    form.update(changes)
    return client.post("/staff/provisioning", data=form)


def test_a_health_professional_sets_up_nhs_login_for_a_patient(app, client):
    member = _professional(app, client)
    someone = case("gp_online_without_id_check")
    page = client.get("/staff/provisioning").get_data(as_text=True)
    assert "exactly as they are on their NHS record" in page and "A12345" in page
    done = _form(client, someone)
    assert done.status_code == 200, done.get_data(as_text=True)
    text = done.get_data(as_text=True)
    assert "We have emailed the patient" in text and "p***@example.com" in text
    [email] = outbox(app, "patient@example.com")
    assert email.template == "provisioning_invitation" and "/set-up-your-nhs-login/" in email.body
    from idp.models import ProvisioningAuditEvent, ProvisioningRequest

    with app.app_context():
        row = ProvisioningRequest.query.one()
        assert row.client_id == f"staff:{member.id}" and row.ods_code == "A12345" and row.code == "create"
        assert row.phone_number == someone["mobile"]
        assert ProvisioningAuditEvent.query.one().client_id == f"staff:{member.id}"
    [(subject, detail)] = _events(app, "provisioning.requested")
    assert subject == row.id and detail["ods_code"] == "A12345"


def test_the_same_rules_refuse_with_words_for_staff(app, client, person):
    _professional(app, client)
    someone = case("gp_online_without_id_check")
    wrong_birthday = _form(client, someone, **{"birthdate-day": "28"})
    assert wrong_birthday.status_code == 400
    assert "cannot be set up from these details" in wrong_birthday.get_data(as_text=True)
    assert _form(client, someone).status_code == 200
    again = _form(client, someone)
    assert again.status_code == 400 and "in the last 7 days" in again.get_data(as_text=True)
    assert [detail["outcome"] for _, detail in _events(app, "provisioning.refused")] == ["11001", "11003"]


def test_each_field_says_what_to_fix(app, client):
    _professional(app, client)
    response = _form(client, case("gp_online_without_id_check"), nhs_number="123", email="nope",
                     phone="020 7946 0000", **{"birthdate-month": "13"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    for words in ("valid 10 digit NHS number", "correct format", "UK mobile number on their record", "real date"):
        assert words in page


def test_only_their_own_organisations(app, client):
    _professional(app, client, ods_codes=["A12345"])
    response = _form(client, case("gp_online_without_id_check"), ods_code="B86001")
    assert response.status_code == 400 and "Choose your organisation" in response.get_data(as_text=True)


def test_a_member_without_an_organisation_is_told_to_ask_an_administrator(app, client):
    _professional(app, client, ods_codes=[])
    page = client.get("/staff/provisioning").get_data(as_text=True)
    assert "not linked to an organisation" in page and 'name="nhs_number"' not in page
    result = app.test_cli_runner().invoke(args=["staff", "list", "--json"])
    assert '"ods_codes": []' in result.output


def test_ods_codes_are_set_from_the_command_line(app):
    runner = app.test_cli_runner()
    added = runner.invoke(args=["staff", "add", "--email", "gp@nhs.example", "--role", "health_professional",
                                "--ods-code", "a12345"])
    assert added.exit_code == 0, added.output
    changed = runner.invoke(args=["staff", "ods-codes", "--email", "gp@nhs.example", "--ods-code", "B86001"])
    assert changed.exit_code == 0 and "B86001" in changed.output
    assert runner.invoke(args=["staff", "ods-codes", "--email", "gp@nhs.example", "--ods-code", "x"]).exit_code != 0
