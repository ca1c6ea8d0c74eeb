"""Integrator accounts (issue 11): signing up an organisation, setting up with a password and an authenticator
app, logging in to the portal's own session, inviting and removing members, and no page open without a login."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pyotp
import pytest

from developer.support import PORTAL_PASSWORD, integrator, logged_in_integrator, portal_csrf, portal_login
from support import csrf_from, outbox

SIGN_UP = {"organisation_name": "Leeds Health Apps Ltd", "identifier_kind": "company_number",
           "identifier": "01234567", "contact_name": "Dev Lead", "email": "lead@leedsapps.example"}


def _sign_up(client, **changes):
    page = client.get("/developer/sign-up")
    return client.post("/developer/sign-up", data={**SIGN_UP, **changes,
                                                   "csrf_token": csrf_from(page.get_data(as_text=True))})


def _link(app, email) -> str:
    message = [m for m in outbox(app, email) if "/developer/set-up/" in m.body][-1]
    return re.search(r"https?://\S+/developer/set-up/\S+", message.body).group(0)


def test_signing_up_emails_a_set_up_link_that_sets_up_password_and_authenticator(app, client):
    response = _sign_up(client)
    assert response.status_code == 200 and "Check your email" in response.get_data(as_text=True)
    path = urlsplit(_link(app, SIGN_UP["email"])).path
    page = client.get(path)
    assert "Set up your integrator portal account" in page.get_data(as_text=True)
    response = client.post(path, data={"password": PORTAL_PASSWORD, "confirm": PORTAL_PASSWORD,
                                       "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 302
    page = client.get(path + "/authenticator")
    key = re.search(r'<code class="idp-key">([A-Z2-7 ]+)</code>', page.get_data(as_text=True)).group(1)
    response = client.post(path + "/authenticator", data={"code": pyotp.TOTP(key.replace(" ", "")).now(),
                                                          "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/developer/"
    home = client.get("/developer/")
    assert home.status_code == 200 and "Leeds Health Apps Ltd: logged in as lead@leedsapps.example" in home.get_data(as_text=True)
    # The link worked once.
    assert client.get(path).status_code == 400


def test_signing_up_with_an_address_that_has_an_account_looks_the_same_and_emails_the_owner(app, client):
    member, _, _ = integrator(app, email="taken@org.example")
    response = _sign_up(client, email="taken@org.example")
    assert response.status_code == 200 and "Check your email" in response.get_data(as_text=True)
    [message] = outbox(app, "taken@org.example")
    assert message.template == "developer_account_exists" and "/developer/set-up/" not in message.body
    from idp.models import Organisation

    with app.app_context():
        assert Organisation.query.filter_by(name=SIGN_UP["organisation_name"]).count() == 0


@pytest.mark.parametrize("changes, message", [
    ({"organisation_name": ""}, "Enter the name of your organisation"),
    ({"identifier_kind": "vat"}, "Select whether your organisation has an ODS code or a company number"),
    ({"identifier_kind": "ods_code", "identifier": "A1-23"}, "Enter an ODS code"),
    ({"identifier": "12345"}, "Enter a company number of 8 characters"),
    ({"email": "not-an-email"}, "Enter an email address in the correct format"),
])
def test_sign_up_errors_say_what_to_fix(client, changes, message):
    response = _sign_up(client, **changes)
    assert response.status_code == 400 and message in response.get_data(as_text=True)


def test_sign_ups_are_limited_per_source(app, client):
    for n in range(10):
        assert _sign_up(client, email=f"lead{n}@spam.example").status_code == 200
    response = _sign_up(client, email="lead-again@spam.example")
    assert response.status_code == 400 and "too many sign-ups" in response.get_data(as_text=True)


def test_login_needs_the_authenticator_app_and_the_portal_session_is_its_own(app, client):
    member, secret, password = integrator(app)
    page = client.get("/developer/login")
    response = client.post("/developer/login", data={"email": member.email, "password": password,
                                                     "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert urlsplit(response.headers["Location"]).path == "/developer/login/authenticator"
    # Password alone is not a login.
    assert urlsplit(client.get("/developer/").headers["Location"]).path == "/developer/login"
    page = client.get("/developer/login/authenticator")
    wrong = client.post("/developer/login/authenticator", data={"code": "000000",
                                                               "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert wrong.status_code == 400 and "Enter the correct code" in wrong.get_data(as_text=True)
    portal_login(client, member, password, secret)
    cookie = client.get_cookie("idp_developer")
    assert cookie is not None and client.get_cookie("idp_session") is None
    # Neither the patients' pages nor the staff area take the portal's session.
    assert urlsplit(client.get("/staff/").headers["Location"]).path == "/staff/login"
    assert client.get("/account").status_code == 302


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(app, client):
    member, _, _ = integrator(app)
    answers = []
    for email, password in ((member.email, "wrong password here"), ("nobody@org.example", "wrong password here")):
        page = client.get("/developer/login")
        response = client.post("/developer/login", data={"email": email, "password": password,
                                                         "csrf_token": csrf_from(page.get_data(as_text=True))})
        answers.append((response.status_code, "Enter a correct email address and password" in response.get_data(as_text=True)))
    assert answers == [(400, True), (400, True)]


def test_every_portal_route_needs_a_logged_in_member(app, client):
    open_views = {"developer.login", "developer.login_code", "developer.login_passkey", "developer.logout",
                  "developer.set_up", "developer.set_up_passkey",
                  "developer.set_up_authenticator", "developer.sign_up", "developer.static"}
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("developer.") or rule.endpoint in open_views:
            continue
        assert getattr(app.view_functions[rule.endpoint], "_developer_login", False), rule.endpoint
        path = re.sub(r"<[^>]+>", "x", rule.rule)
        if "GET" in rule.methods:
            response = client.get(path)
            assert response.status_code == 302 and "/developer/login" in response.headers["Location"], path
        if "POST" in rule.methods:
            assert client.post(path, data={}).status_code in (400, 403), path  # CSRF first, then the login


def test_a_patient_or_staff_session_does_not_open_the_portal(app, client, person):
    from staff.support import staff_login, staff_member
    from support import log_in

    log_in(client, person("P9"))
    assert client.get("/developer/").status_code == 302
    member, secret, password = staff_member(app, roles=["admin"])
    staff_login(client, member, password, secret)
    assert client.get("/developer/").status_code == 302


def test_every_portal_form_needs_its_csrf_token(app, client):
    logged_in_integrator(app, client)
    for path, data in (("/developer/services/new", {"name": "x"}), ("/developer/team", {"email": "a@b.example"}),
                       ("/developer/test-people", {"level": "P0"}), ("/developer/logout", {})):
        assert client.post(path, data=data).status_code == 400, path
    assert client.get("/developer/").status_code == 200  # still logged in


def test_inviting_a_member_who_then_sets_up_and_sees_the_same_organisation(app, client):
    inviter = logged_in_integrator(app, client)
    response = client.post("/developer/team", data={"email": "new.dev@org.example", "csrf_token": portal_csrf(client)})
    assert response.status_code == 200 and "We have sent an email to new.dev@org.example" in response.get_data(as_text=True)
    link = _link(app, "new.dev@org.example")
    from idp.models import Integrator

    with app.app_context():
        invited = Integrator.query.filter_by(email="new.dev@org.example").one()
        assert invited.organisation_id == inviter.organisation_id and invited.status == "invited"
        assert invited.invited_by == inviter.id
    assert client.get(urlsplit(link).path).status_code == 200
    # Inviting again sends a new link; the first stops working.
    again = client.post("/developer/team", data={"email": "new.dev@org.example", "csrf_token": portal_csrf(client)})
    assert again.status_code == 200
    links = [m for m in outbox(app, "new.dev@org.example") if "/developer/set-up/" in m.body]
    assert len(links) == 2 and client.get(urlsplit(link).path).status_code == 400
    # Someone already active in the organisation is not invited again.
    active, _, _ = integrator(app, inviter.organisation_id)
    taken = client.post("/developer/team", data={"email": active.email, "csrf_token": portal_csrf(client)})
    assert taken.status_code == 400 and "already a member" in taken.get_data(as_text=True)


def test_removing_a_member_ends_their_sessions_and_they_cannot_remove_themselves(app, client):
    inviter = logged_in_integrator(app, client)
    other, secret, password = integrator(app, inviter.organisation_id)
    other_browser = app.test_client()
    portal_login(other_browser, other, password, secret)
    assert other_browser.get("/developer/").status_code == 200
    response = client.post(f"/developer/team/{other.id}/remove", data={"csrf_token": portal_csrf(client)})
    assert response.status_code == 200 and "can no longer use the portal" in response.get_data(as_text=True)
    assert other_browser.get("/developer/").status_code == 302
    itself = client.post(f"/developer/team/{inviter.id}/remove", data={"csrf_token": portal_csrf(client)})
    assert itself.status_code == 400 and "You cannot remove yourself" in itself.get_data(as_text=True)
    stranger, _, _ = integrator(app)  # another organisation's member cannot be removed from here
    assert client.post(f"/developer/team/{stranger.id}/remove",
                       data={"csrf_token": portal_csrf(client)}).status_code == 400


def test_the_portal_session_ends_when_idle(app, client):
    from datetime import datetime, timedelta, timezone

    from freezegun import freeze_time

    start = datetime.now(timezone.utc)
    with freeze_time(start) as frozen:
        logged_in_integrator(app, client)
        frozen.tick(timedelta(minutes=31))
        response = client.get("/developer/")
        assert response.status_code == 302 and "timed_out=1" in response.headers["Location"]
        page = client.get(urlsplit(response.headers["Location"]).path + "?timed_out=1")
        assert "had not used the portal for 30 minutes" in page.get_data(as_text=True)


def test_portal_pages_are_never_cached(app, client):
    logged_in_integrator(app, client)
    response = client.get("/developer/")
    assert response.headers["Cache-Control"] == "no-store"


def test_housekeeping_deletes_portal_sessions_that_have_ended(app, client):
    from datetime import datetime, timedelta, timezone

    from freezegun import freeze_time

    from idp.models import IntegratorSession

    with freeze_time(datetime.now(timezone.utc)) as frozen:
        logged_in_integrator(app, client)
        with app.app_context():
            assert IntegratorSession.query.count() == 1
        frozen.tick(timedelta(hours=1))
        result = app.test_cli_runner().invoke(args=["housekeeping"])
        assert result.exit_code == 0, result.output
        with app.app_context():
            assert IntegratorSession.query.count() == 0


def test_invitations_are_limited_per_organisation(app, client):
    logged_in_integrator(app, client)
    for n in range(20):
        response = client.post("/developer/team", data={"email": f"dev{n}@org.example", "csrf_token": portal_csrf(client)})
        assert response.status_code == 200
    refused = client.post("/developer/team", data={"email": "one.more@org.example", "csrf_token": portal_csrf(client)})
    assert refused.status_code == 400 and "too many invitations" in refused.get_data(as_text=True)


def test_a_removed_member_can_be_invited_again(app, client):
    inviter = logged_in_integrator(app, client)
    other, _, _ = integrator(app, inviter.organisation_id, email="leaver@org.example")
    client.post(f"/developer/team/{other.id}/remove", data={"csrf_token": portal_csrf(client)})
    response = client.post("/developer/team", data={"email": "leaver@org.example", "csrf_token": portal_csrf(client)})
    assert response.status_code == 200
    assert client.get(urlsplit(_link(app, "leaver@org.example")).path).status_code == 200


def test_an_address_signed_up_by_someone_else_but_never_set_up_can_still_sign_up(app, client):
    _sign_up(client, organisation_name="Squatters Ltd")
    other_browser = app.test_client()
    assert _sign_up(other_browser).status_code == 200
    from idp.models import Integrator, Organisation

    with app.app_context():
        member = Integrator.query.filter_by(email=SIGN_UP["email"]).one()
        assert db_name(member) == SIGN_UP["organisation_name"]
        assert Organisation.query.filter_by(name="Squatters Ltd").count() == 0  # it had nothing else in it
    # The newest link is the one that works.
    assert other_browser.get(urlsplit(_link(app, SIGN_UP["email"])).path).status_code == 200


def db_name(member):
    from idp.extensions import db
    from idp.models import Organisation

    return db.session.get(Organisation, member.organisation_id).name


def test_the_team_page_does_not_show_whether_an_address_has_an_account_elsewhere(app, client):
    logged_in_integrator(app, client)
    integrator(app, email="busy@elsewhere.example")
    pages = []
    for address in ("busy@elsewhere.example", "nobody.yet@elsewhere.example"):
        response = client.post("/developer/team", data={"email": address, "csrf_token": portal_csrf(client)})
        pages.append(response.get_data(as_text=True).replace(address, "ADDRESS"))
    table = [re.search(r'<table class="nhsuk-table" id="members">.*?</table>', p, re.S).group(0) for p in pages]
    assert table[0] == table[1]


def test_spellings_of_an_address_share_one_login_counter_whether_or_not_it_has_an_account(app, client):
    integrator(app, email="known@org.example")
    outcomes = {}
    for email in ("known@org.example", "unknown@org.example"):
        seen = []
        for n in range(6):
            page = client.get("/developer/login")
            response = client.post("/developer/login", data={
                "email": " " * n + email.upper() if n % 2 else email, "password": "wrong password here",
                "csrf_token": csrf_from(page.get_data(as_text=True))})
            seen.append("too many attempts" in response.get_data(as_text=True))
        outcomes[email] = seen
        from idp.extensions import db
        from idp.models import FailedAttempt

        with app.app_context():
            FailedAttempt.query.delete()  # a fresh source for the second address
            db.session.commit()
    assert outcomes["known@org.example"] == outcomes["unknown@org.example"]


def test_a_member_locked_by_wrong_codes_is_unlocked_by_a_new_invitation(app, client):
    inviter = logged_in_integrator(app, client)
    locked, _, _ = integrator(app, inviter.organisation_id, email="locked@org.example")
    from idp.extensions import db
    from idp.models import Integrator

    with app.app_context():
        db.session.get(Integrator, locked.id).totp_failures = 100
        db.session.commit()
    response = client.post("/developer/team", data={"email": "locked@org.example", "csrf_token": portal_csrf(client)})
    assert response.status_code == 200
    with app.app_context():
        again = db.session.get(Integrator, locked.id)
        assert again.status == "invited" and again.totp_failures == 0 and again.password_hash is None
