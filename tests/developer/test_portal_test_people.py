"""Sandpit test people (issue 11): made at P0, P5 or P9 with synthetic PDS records, logging in through a sandpit
client, their one-time codes shown on the portal and never sent anywhere, each organisation seeing only its own."""
from __future__ import annotations

import re

import pytest

from developer.support import add_service, client_id_from, logged_in_integrator, portal_csrf, register_client
from support import RelyingParty, _deliver_queued, callback_params, csrf_from, follow_to_rp


def _make(client, level):
    response = client.post("/developer/test-people", data={"level": level, "csrf_token": portal_csrf(client)})
    assert response.status_code == 200, response.get_data(as_text=True)[:1000]
    html = response.get_data(as_text=True)
    email = re.search(r'<code data-name="email">([^<]+)</code>', html).group(1)
    password = re.search(r'<code data-name="password">([^<]+)</code>', html).group(1)
    return email, password


@pytest.mark.parametrize("level", ["P0", "P5", "P9"])
def test_a_test_person_at_each_level_has_what_that_level_needs(app, client, level):
    logged_in_integrator(app, client)
    email, _ = _make(client, level)
    from idp.extensions import db
    from idp.models import Evidence, Person, SyntheticPatient
    from idp.proofing.pds import demographics_service

    with app.app_context():
        person = Person.query.filter_by(email=email).one()
        assert person.proofing_level == level and person.is_test_person and person.test_person_of
        assert person.phone_number.startswith("+447700900") and person.email_verified
        if level == "P0":
            assert person.nhs_number is None
            return
        record = demographics_service(app.extensions["idp"].settings).get(person.nhs_number)
        assert record is not None and record.birthdate == person.birthdate
        assert db.session.get(SyntheticPatient, person.nhs_number) is not None
        proof = Evidence.query.filter_by(person_id=person.id).order_by(Evidence.at.desc()).first()
        assert proof.checked_by.startswith("developer:") and "integrator in the portal" in proof.detail["reason"]


def test_a_test_person_logs_in_through_a_sandpit_client_with_the_code_shown_on_the_portal(app, client, rp_key):
    logged_in_integrator(app, client)
    client_id = client_id_from(register_client(client, add_service(client), rp_key))
    email, password = _make(client, "P9")
    rp = RelyingParty(app.test_client(), app, client_id, key=rp_key)
    browser = rp.http
    code_page = follow_to_rp(browser, rp.authorize(vtr='["P9.Cp.Cd"]', scope="openid email"), email=email,
                             password=password, second=False)
    assert code_page.request.path == "/login/security-code"
    # The integrator reads the code on the portal: the message never left the outbox.
    _deliver_queued(app)
    from idp.models import Person

    with app.app_context():
        person_id = Person.query.filter_by(email=email).one().id
    portal_page = client.get(f"/developer/test-people/{person_id}").get_data(as_text=True)
    code = re.search(r"\b(\d{6})\b", portal_page.split('id="messages"', 1)[1]).group(1)
    path = code_page.request.full_path.rstrip("?")
    response = browser.post(path, data={"code": code, "csrf_token": csrf_from(code_page.get_data(as_text=True))})
    result = callback_params(follow_to_rp(browser, response, email=email, password=password))
    tokens = rp.token(result["code"])
    assert tokens.status_code == 200
    assert rp.verify_id_token(tokens.get_json()["id_token"])["vot"] == "P9.Cp.Cd"


def test_test_peoples_messages_stay_in_the_outbox_whatever_the_adapter(app, client, monkeypatch):
    logged_in_integrator(app, client)
    email, _ = _make(client, "P0")
    from idp import notifications
    from idp.extensions import db
    from idp.models import OutboundMessage

    from idp.notifications import delivery

    class RealService:  # stands in for this deployment's email service: a test person's message must not reach it
        name = "real"

        def deliver(self, message):
            raise AssertionError(f"a test person's message was sent to {message.to}")

    monkeypatch.setattr(delivery, "adapter_for", lambda settings, channel: RealService())
    with app.app_context():
        notifications.send("email_confirmation_code", email, "email", {"code": "123456"})
        db.session.commit()
    _deliver_queued(app, email)
    with app.app_context():
        [message] = OutboundMessage.query.filter_by(to_address=email).all()
        assert message.status == "sent" and message.adapter == "outbox"


def test_each_organisation_sees_only_its_own_test_people(app, client):
    logged_in_integrator(app, client)
    email, _ = _make(client, "P0")
    from idp.models import Person

    with app.app_context():
        person_id = Person.query.filter_by(email=email).one().id
    other = app.test_client()
    logged_in_integrator(app, other)
    assert other.get(f"/developer/test-people/{person_id}").status_code == 404
    assert email not in other.get("/developer/test-people").get_data(as_text=True)
    assert email in client.get("/developer/test-people").get_data(as_text=True)


@pytest.mark.parametrize("env", ["integration", "live"])
def test_no_test_people_outside_sandpit(app, client, monkeypatch, env):
    logged_in_integrator(app, client)
    monkeypatch.setattr(app.extensions["idp"].settings, "env", env)
    response = client.post("/developer/test-people", data={"level": "P9", "csrf_token": portal_csrf(client)})
    assert response.status_code == 400 and "only be made in sandpit" in response.get_data(as_text=True)


def test_loading_another_synthetic_set_keeps_the_test_peoples_records(app, client, tmp_path):
    logged_in_integrator(app, client)
    email, _ = _make(client, "P5")
    from idp.extensions import db
    from idp.models import Person, SyntheticPatient
    from idp.proofing.pds.synthetic import DEFAULT_SET

    (tmp_path / "one.ndjson").write_text(DEFAULT_SET.read_text().splitlines()[0] + "\n")
    result = app.test_cli_runner().invoke(args=["pds", "load", str(tmp_path / "one.ndjson")])
    assert result.exit_code == 0, result.output
    with app.app_context():
        person = Person.query.filter_by(email=email).one()
        assert db.session.get(SyntheticPatient, person.nhs_number) is not None
        assert SyntheticPatient.query.count() == 2


def test_removing_a_test_person_frees_their_record(app, client):
    logged_in_integrator(app, client)
    email, _ = _make(client, "P5")
    from idp.extensions import db
    from idp.models import Person, SyntheticPatient

    with app.app_context():
        person = Person.query.filter_by(email=email).one()
        person_id, nhs_number = person.id, person.nhs_number
    other = app.test_client()
    logged_in_integrator(app, other)
    assert other.post(f"/developer/test-people/{person_id}/remove",
                      data={"csrf_token": portal_csrf(other)}).status_code == 404
    response = client.post(f"/developer/test-people/{person_id}/remove", data={"csrf_token": portal_csrf(client)})
    assert response.status_code == 200 and f"{email} has been removed." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Person, person_id) is None and db.session.get(SyntheticPatient, nhs_number) is None


def test_a_test_person_who_draws_a_number_already_taken_draws_again(app, client, monkeypatch):
    """Two test people made at once may draw one number (the draw and the insert are not one statement): the
    later one draws again, so the codes the portal shows for a number are one person's."""
    logged_in_integrator(app, client)
    from idp.developer import test_people
    from idp.models import Person

    first = _make(client, "P0")[0]
    with app.app_context():
        taken = Person.query.filter_by(email=first).one().phone_number
    real_draw, draws = test_people._mobile, []

    def racing_draw(rng):  # the first draw is the number the other request has just taken
        draws.append(taken if not draws else real_draw(rng))
        return draws[-1]

    monkeypatch.setattr(test_people, "_mobile", racing_draw)
    second = _make(client, "P0")[0]
    with app.app_context():
        number = Person.query.filter_by(email=second).one().phone_number
    assert len(draws) == 2 and number == draws[1] != taken
