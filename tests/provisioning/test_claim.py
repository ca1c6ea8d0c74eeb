"""The patient's claim of a provisioning request (issue 10, part 3; interface.md "The patient's journey"): the
emailed link, a 6-digit code to the mobile on the PDS record, PDS read again, then a new password (create) or the
account's own (uplift); the account is then P9 on provisioning evidence, a confirmation email goes, and a relying
party's login says P9 with the PDS record's claims. Each problem has its page: a link not valid, used, expired or
cancelled, too many codes or link uses (15 minutes), a changed record, PDS down, an email taken meanwhile.

Requests are made as the API makes them (``requests.provision``); the link is read from the outbox and the code
with ``last_code``, as a person reads them."""
from __future__ import annotations

import dataclasses
import json
import re
from datetime import datetime, timedelta, timezone
from html import unescape

import pytest
from freezegun import freeze_time

from proofing.journey_support import case
from support import ISSUER, PASSWORD, csrf_from, last_code, outbox, public_pem

BASE = "/set-up-your-nhs-login"
NEW_PASSWORD = "a new long passphrase for nhs login"
SCOPE = "openid profile email phone profile_extended"
LINK = re.compile(re.escape(ISSUER + BASE + "/") + r"([A-Za-z0-9_\-]+)")


# --- helpers ---------------------------------------------------------------------------------------------
@pytest.fixture
def staff_client(app, rp_key):
    """A provisioning client (a practice system) acting for A12345; returns its client_id."""
    from idp.protocol.registration import register_client

    with app.app_context():
        registered, _ = register_client({"name": "Practice system", "kind": "provisioning", "ods_codes": ["A12345"]},
                                        development=True, key={"public_key_pem": public_pem(rp_key)})
        return registered.client_id


@pytest.fixture
def provision(app, staff_client):
    """``provision(person, email=...)``: a request as the API makes it; returns (answer body, link path)."""

    def _provision(who: dict, email: str | None = None, **overrides):
        from idp.extensions import db
        from idp.models import Client
        from idp.provisioning import requests

        email = email or f"{who['nhs_number']}@example.com"
        body = {"nhs_number": who["nhs_number"], "email_address": email, "date_of_birth": who["birthdate"],
                "phone_number": who["mobile"], "ods_code": "A12345", **overrides}
        with app.app_context():
            client = db.session.get(Client, staff_client)
            answer = requests.provision(client, json.dumps(body).encode(), "application/json", None,
                                        app.extensions["idp"].settings)
        assert answer.status == 200, answer.body
        sent = [entry for entry in outbox(app, email) if entry.template == "provisioning_invitation"]
        return answer.body, LINK.search(sent[-1].body).group(0)[len(ISSUER):]

    return _provision


def text(response) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def heading(response) -> str:
    html = response.get_data(as_text=True)
    return unescape(re.sub(r"<[^>]+>", "", re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1))).strip()


def follow(client, response, expected_status=None):
    """The page a 303 inside the claim leads to."""
    assert response.status_code in (302, 303), (response.status_code, text(response)[:300])
    location = response.headers["Location"]
    page = client.get(location[len(ISSUER):] if location.startswith(ISSUER) else location)
    if expected_status is not None:
        assert page.status_code == expected_status, (location, page.status_code, text(page)[:300])
    return page


def post(client, path: str, data: dict | None = None):
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code, text(page)[:300])
    return client.post(path, data={**(data or {}), "csrf_token": csrf_from(page.get_data(as_text=True))})


def located(response) -> str:
    return response.headers["Location"].removeprefix(ISSUER)


def to_code_page(client, link: str):
    """Open the link and ask for the code: the code page."""
    assert located(client.get(link)) == BASE + "/start"
    response = post(client, BASE + "/start")
    assert located(response) == BASE + "/security-code"
    return response


def to_password_page(client, app, link: str, mobile: str):
    to_code_page(client, link)
    response = post(client, BASE + "/security-code", {"code": last_code(app, mobile)})
    assert located(response) == BASE + "/password", text(follow(client, response))[:300]
    return client.get(BASE + "/password")


def request_row(app, provisioning_id: str) -> dict:
    from idp.extensions import db
    from idp.models import ProvisioningRequest

    with app.app_context():
        row = db.session.get(ProvisioningRequest, provisioning_id)
        return {c.name: getattr(row, c.name) for c in row.__table__.columns}


def account(app, email: str):
    from idp.models import Person

    with app.app_context():
        person = Person.query.filter_by(email=email).first()
        return None if person is None else {c.name: getattr(person, c.name) for c in person.__table__.columns}


def evidence_rows(app, email: str) -> list:
    from idp.models import Evidence, Person

    with app.app_context():
        person = Person.query.filter_by(email=email).one()
        return [(row.route, row.outcome, row.level, dict(row.detail or {}), row.checked_by, row.nhs_number)
                for row in Evidence.query.filter_by(person_id=person.id).order_by(Evidence.seq)]


def claim_audit(app, provisioning_id: str) -> list[str]:
    from idp.models import ProvisioningAuditEvent

    with app.app_context():
        return [row.outcome for row in ProvisioningAuditEvent.query.filter_by(
            provisioning_id=provisioning_id, operation="claim").order_by(ProvisioningAuditEvent.seq)]


def change_pds(monkeypatch, **changes):
    """PDS now answers with the record changed (``active=False``, ``mobile=...``), or raising (``raises=...``)."""
    from idp.proofing.pds.synthetic import SyntheticPds

    real = SyntheticPds.get
    raises = changes.pop("raises", None)

    def get(self, nhs_number):
        if raises is not None:
            raise raises
        record = real(self, nhs_number)
        return dataclasses.replace(record, **changes) if record is not None else None

    monkeypatch.setattr(SyntheticPds, "get", get)


# --- complete claims ----------------------------------------------------------------------------------------
def test_create_claims_a_new_p9_account_and_a_relying_party_login_says_p9_with_the_pds_claims(
        app, client, provision, register):
    olivia = case("hyphenated_family_name")
    answer, link = provision(olivia)
    assert answer["code"] == "create"

    start = follow(client, client.get(link), 200)
    words = text(start)
    assert heading(start) == "Set up your NHS login"
    assert "ODS code A12345" in words and "ending 399" in words and olivia["mobile"] not in words
    assert link not in start.get_data(as_text=True)  # the token is not needed after the first URL
    response = post(client, BASE + "/start")
    code_page = follow(client, response, 200)
    assert heading(code_page) == "Enter the security code" and "ending 399" in text(code_page)
    sms = outbox(app, olivia["mobile"])[-1]
    assert sms.channel == "sms" and sms.template == "login_code"
    response = post(client, BASE + "/security-code", {"code": last_code(app, olivia["mobile"])})
    page = follow(client, response, 200)
    assert heading(page) == "Create a password" and answer["code"] == "create"

    refused = client.post(BASE + "/password", data={"password": "password", "csrf_token": csrf_from(
        page.get_data(as_text=True))})
    assert refused.status_code == 400 and "too common" in text(refused)
    response = client.post(BASE + "/password", data={"password": NEW_PASSWORD, "csrf_token": csrf_from(
        page.get_data(as_text=True))})
    done = follow(client, response, 200)
    assert heading(done) == "Your NHS login is set up"
    assert f"We have sent an email to {answer_email(olivia)} to confirm this." in text(done)

    created = account(app, answer_email(olivia))
    assert created["proofing_level"] == "P9" and created["email_verified"] is True
    assert created["phone_number"] == olivia["mobile"] and created["phone_number_verified"] is True
    assert created["phone_number_pds_matched"] is True and created["nhs_number"] == olivia["nhs_number"]
    row = request_row(app, answer["provisioning_id"])
    assert row["status"] == "claimed" and row["claimed_person_id"] == created["id"] and row["claimed_at"]
    [(route, outcome, level, detail, checked_by, nhs_number)] = evidence_rows(app, answer_email(olivia))
    assert (route, outcome, level, nhs_number) == ("provisioning", "verified", "P9", olivia["nhs_number"])
    assert checked_by == f"provisioning:{row['client_id']}"
    assert detail == {"ods_code": "A12345", "client_id": row["client_id"], "provisioning_id": row["id"],
                      "provisioned_at": row["created_at"], "claimed_at": row["claimed_at"]}
    confirmation = [e for e in outbox(app, answer_email(olivia)) if e.template == "provisioning_claimed"]
    assert len(confirmation) == 1 and "A12345" in confirmation[0].body and ISSUER + "/account" in confirmation[0].body
    assert claim_audit(app, row["id"]) == ["claimed"]

    # A relying party's login with the new password (and the code to the PDS mobile): P9, claims from PDS.
    rp = register()
    tokens = rp.tokens_for(answer_email(olivia), password=NEW_PASSWORD, vtr='["P9.Cp.Cd"]', scope=SCOPE)
    claims = rp.verify_id_token(tokens["id_token"])
    assert claims["vot"] == "P9.Cp.Cd" and claims["identity_proofing_level"] == "P9"
    assert claims["nhs_number"] == olivia["nhs_number"] and claims["birthdate"] == olivia["birthdate"]
    assert claims["family_name"] == olivia["family_name"] and claims["given_name"] == " ".join(olivia["given_names"])
    userinfo = client.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}).get_json()
    assert userinfo["nhs_number"] == olivia["nhs_number"] and userinfo["identity_proofing_level"] == "P9"


def answer_email(who: dict) -> str:
    return f"{who['nhs_number']}@example.com"


def test_uplift_raises_the_account_with_that_email_to_p9_with_its_own_password(
        app, client, provision, person, register):
    zoe = case("accented_given_name_zoe")
    email = person("P0")
    answer, link = provision(zoe, email=email)
    assert answer["code"] == "uplift"
    start = follow(client, client.get(link), 200)
    assert "prove who you are on your NHS login account" in text(start) and email in text(start)
    page = to_password_page(client, app, link, zoe["mobile"])
    assert heading(page) == "Enter your password" and 'autocomplete="current-password"' in page.get_data(as_text=True)

    wrong = client.post(BASE + "/password", data={"password": "not the password", "csrf_token": csrf_from(
        page.get_data(as_text=True))})
    assert wrong.status_code == 400 and "The password is not correct" in text(wrong)
    assert account(app, email)["proofing_level"] == "P0"
    assert request_row(app, answer["provisioning_id"])["status"] == "pending"

    response = client.post(BASE + "/password", data={"password": PASSWORD, "csrf_token": csrf_from(
        page.get_data(as_text=True))})
    assert heading(follow(client, response, 200)) == "Your NHS login is set up"
    uplifted = account(app, email)
    assert uplifted["proofing_level"] == "P9" and uplifted["nhs_number"] == zoe["nhs_number"]
    assert uplifted["given_name"] == "Zoë"  # from the record
    assert request_row(app, answer["provisioning_id"])["claimed_person_id"] == uplifted["id"]
    assert [e.template for e in outbox(app, email)][-1] == "provisioning_claimed"

    rp = register()
    claims = rp.verify_id_token(rp.tokens_for(email, vtr='["P9.Cp.Cd"]', scope=SCOPE)["id_token"])
    assert claims["vot"] == "P9.Cp.Cd" and claims["nhs_number"] == zoe["nhs_number"]
    assert claims["birthdate"] == zoe["birthdate"] and claims["family_name"] == zoe["family_name"]


def test_wrong_passwords_on_an_uplift_are_throttled_as_at_a_login(app, client, provision, person):
    jose = case("accented_names_jose")
    email = person("P0")
    answer, link = provision(jose, email=email)
    page = to_password_page(client, app, link, jose["mobile"])
    token = csrf_from(page.get_data(as_text=True))
    for _ in range(5):
        assert client.post(BASE + "/password", data={"password": "wrong guess", "csrf_token": token}).status_code == 400
    locked = client.post(BASE + "/password", data={"password": PASSWORD, "csrf_token": token})
    assert locked.status_code == 400 and "You have tried too many times. Wait 15 minutes" in text(locked)
    assert account(app, email)["proofing_level"] == "P0"
    # The login page shares the lock: the same account, the same counter.
    login = client.get("/login")
    refused = client.post("/login", data={"email": email, "password": PASSWORD,
                                          "csrf_token": csrf_from(login.get_data(as_text=True))})
    assert "You have tried too many times" in text(refused)


# --- locks ---------------------------------------------------------------------------------------------------
def test_five_wrong_codes_lock_the_journey_for_15_minutes(app, client, provision):
    sian = case("accented_given_name_sian")
    start = datetime(2026, 5, 4, 9, 0, tzinfo=timezone.utc)
    with freeze_time(start) as frozen:
        answer, link = provision(sian)
        to_code_page(client, link)
        right = last_code(app, sian["mobile"])
        wrong = "000000" if right != "000000" else "111111"
        for _ in range(4):
            response = post(client, BASE + "/security-code", {"code": wrong})
            assert response.status_code == 400 and "not correct or has expired" in text(response)
        response = post(client, BASE + "/security-code", {"code": wrong})
        assert located(response) == BASE + "/try-again-later"
        locked = client.get(BASE + "/try-again-later")
        assert locked.status_code == 429
        assert "Wait 15 minutes, then use the link in the email we sent you again." in text(locked)
        # Locked: the right code is not even tried, opening the link again does not help.
        assert located(client.get(BASE + "/security-code")) == BASE + "/try-again-later"
        assert located(client.get(link)) == BASE + "/try-again-later"
        assert claim_audit(app, answer["provisioning_id"]) == ["code_locked"]

        frozen.tick(timedelta(minutes=14))
        assert located(client.get(link)) == BASE + "/try-again-later"
        frozen.tick(timedelta(minutes=1, seconds=1))
        page = to_password_page(client, app, link, sian["mobile"])  # a new code: the old one expired meanwhile
        assert heading(page) == "Create a password"


def test_more_than_10_uses_of_the_link_lock_it_for_15_minutes(app, client, provision):
    names = case("several_given_names")
    with freeze_time(datetime(2026, 5, 4, 9, 0, tzinfo=timezone.utc)) as frozen:
        answer, link = provision(names)
        for _ in range(10):
            assert located(client.get(link)) == BASE + "/start"
        assert located(client.get(link)) == BASE + "/try-again-later"
        assert located(client.get(BASE + "/start")) == BASE + "/try-again-later"  # the journey, not just the link
        assert claim_audit(app, answer["provisioning_id"]) == ["link_locked"]
        frozen.tick(timedelta(minutes=15, seconds=1))
        assert located(client.get(link)) == BASE + "/start"


# --- links that no longer work ----------------------------------------------------------------------------------
def test_the_link_expires_after_7_days(app, client, provision):
    changed = case("name_change")
    with freeze_time(datetime(2026, 5, 4, 9, 0, tzinfo=timezone.utc)) as frozen:
        answer, link = provision(changed)
        frozen.tick(timedelta(days=7) - timedelta(seconds=2))
        to_code_page(client, link)  # still valid: the journey starts
        page = client.get(BASE + "/security-code")
        frozen.tick(timedelta(seconds=2))
        response = client.post(BASE + "/security-code", data={"code": last_code(app, changed["mobile"]),
                                                               "csrf_token": csrf_from(page.get_data(as_text=True))})
        assert located(response) == BASE + "/link-expired"
        expired = follow(client, response, 410)
        assert heading(expired) == "This link has expired" and "send you a new link" in text(expired)
        assert located(app.test_client().get(link)) == BASE + "/link-expired"
        assert account(app, answer_email(changed)) is None


def test_a_used_link_says_so_and_a_made_up_one_is_not_valid(app, client, provision):
    olivia = case("apostrophe_family_name")
    answer, link = provision(olivia)
    page = to_password_page(client, app, link, olivia["mobile"])
    client.post(BASE + "/password", data={"password": NEW_PASSWORD,
                                          "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert located(client.get(link)) == BASE + "/done"  # this browser claimed it
    other = app.test_client()
    response = other.get(link)
    assert located(response) == BASE + "/link-already-used"
    assert heading(follow(other, response, 410)) == "This link has already been used"
    response = other.get(BASE + "/" + "x" * 43)
    assert located(response) == BASE + "/link-not-valid"
    assert heading(follow(other, response, 404)) == "This link does not work"
    # Pages after the link, without it: the session has nothing to claim.
    assert located(app.test_client().get(BASE + "/password")) == BASE + "/use-the-link-again"


def test_a_cancelled_request_stops_the_link_even_mid_journey(app, client, provision, staff_client):
    from idp.extensions import db
    from idp.models import Client
    from idp.provisioning import requests

    who = case("gp_online_without_id_check")
    answer, link = provision(who)
    to_code_page(client, link)
    with app.app_context():
        assert requests.cancel(db.session.get(Client, staff_client), answer["provisioning_id"]).status == 200
    response = client.get(BASE + "/security-code")
    assert located(response) == BASE + "/request-cancelled"
    cancelled = follow(client, response, 410)
    assert heading(cancelled) == "This link has been cancelled"
    assert located(app.test_client().get(link)) == BASE + "/request-cancelled"


# --- PDS read again -------------------------------------------------------------------------------------------
def test_a_record_whose_mobile_changed_since_the_request_stops_the_claim(app, client, provision, monkeypatch):
    from idp.provisioning import requests

    fast = case("gp_online_fast_track")
    answer, link = provision(fast)
    to_code_page(client, link)
    change_pds(monkeypatch, mobile="+447700900001")
    response = post(client, BASE + "/security-code", {"code": last_code(app, fast["mobile"])})
    assert located(response) == BASE + "/check-your-details-with-your-gp"
    page = follow(client, response, 409)
    assert heading(page) == "We cannot set up your NHS login" and "Contact your GP surgery" in text(page)
    row = request_row(app, answer["provisioning_id"])
    assert row["status"] == "cancelled" and row["cancelled_by"] == "claim:record_changed"
    assert claim_audit(app, row["id"]) == ["record_changed"]
    assert located(app.test_client().get(link)) == BASE + "/check-your-details-with-your-gp"
    with app.app_context():
        assert requests.pending_for(fast["nhs_number"]) is None  # the organisation can ask again
    assert account(app, answer_email(fast)) is None


def test_a_record_that_became_inactive_before_the_last_step_stops_it_and_creates_nothing(app, client, provision):
    from idp.extensions import db
    from idp.models import SyntheticPatient

    olivia = case("hyphenated_family_name")
    answer, link = provision(olivia)
    page = to_password_page(client, app, link, olivia["mobile"])
    with app.app_context():  # the synthetic PDS's own record changes: it is no longer active
        row = db.session.get(SyntheticPatient, olivia["nhs_number"])
        row.resource = {**row.resource, "active": False}
        db.session.commit()
    response = client.post(BASE + "/password", data={"password": NEW_PASSWORD,
                                                      "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert located(response) == BASE + "/check-your-details-with-your-gp"
    assert account(app, answer_email(olivia)) is None
    assert request_row(app, answer["provisioning_id"])["status"] == "cancelled"


def test_pds_unavailable_changes_nothing_and_the_check_can_be_tried_again(app, client, provision, monkeypatch):
    from idp.proofing.pds import PdsUnavailable

    who = case("accented_given_name_zoe")
    answer, link = provision(who)
    to_code_page(client, link)
    change_pds(monkeypatch, raises=PdsUnavailable("down"))
    response = post(client, BASE + "/security-code", {"code": last_code(app, who["mobile"])})
    assert located(response) == BASE + "/service-unavailable"
    page = follow(client, response, 503)
    assert "We cannot check your details at the moment. Try again later." in text(page)
    assert request_row(app, answer["provisioning_id"])["status"] == "pending"
    assert located(client.get(BASE + "/password")) == BASE + "/service-unavailable"  # not before the check
    response = client.post(BASE + "/check-your-details", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert located(response) == BASE + "/service-unavailable"  # still down
    monkeypatch.undo()
    response = client.post(BASE + "/check-your-details", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert located(response) == BASE + "/password"
    assert heading(client.get(BASE + "/password")) == "Create a password"


# --- races and forms ------------------------------------------------------------------------------------------
def test_an_email_registered_meanwhile_stops_a_create(app, client, provision, person):
    who = case("several_given_names")
    answer, link = provision(who)
    page = to_password_page(client, app, link, who["mobile"])
    person("P0", email=answer_email(who))  # registered in another journey since the request
    response = client.post(BASE + "/password", data={"password": NEW_PASSWORD,
                                                      "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert located(response) == BASE + "/you-already-have-an-nhs-login"
    assert heading(follow(client, response, 409)) == "You already have an NHS login"
    assert account(app, answer_email(who))["proofing_level"] == "P0"
    row = request_row(app, answer["provisioning_id"])
    assert row["status"] == "cancelled" and row["cancelled_by"] == "claim:has_account"


def test_a_double_submit_of_the_last_step_claims_once(app, client, provision):
    who = case("name_change")
    answer, link = provision(who)
    page = to_password_page(client, app, link, who["mobile"])
    form = {"password": NEW_PASSWORD, "csrf_token": csrf_from(page.get_data(as_text=True))}
    first, second = client.post(BASE + "/password", data=form), client.post(BASE + "/password", data=form)
    assert located(first) == located(second) == BASE + "/done"
    assert len(evidence_rows(app, answer_email(who))) == 1
    assert [e.template for e in outbox(app, answer_email(who))].count("provisioning_claimed") == 1


def test_the_claim_is_one_conditional_update_a_racing_second_claim_or_cancel_loses(app, client, provision, person,
                                                                                  staff_client):
    """Two completions that both passed their checks (two tabs, a double click): the UPDATE lets one win."""
    from idp.extensions import db
    from idp.models import Client, Person, ProvisioningRequest
    from idp.provisioning import claim, requests

    zoe, olivia = case("accented_given_name_zoe"), case("hyphenated_family_name")
    email = person("P0")
    answer, _ = provision(zoe, email=email)
    other, _ = provision(olivia)
    settings = app.extensions["idp"].settings
    with app.app_context():
        row = db.session.get(ProvisioningRequest, answer["provisioning_id"])
        record, problem = claim.recheck(row, settings)
        assert problem is None
        uplifted = Person.query.filter_by(email=email).one()
        assert claim._claim(row, uplifted, PASSWORD, record, settings, "en").claimed
        again = claim._claim(row, db.session.get(Person, uplifted.id), PASSWORD, record, settings, "en")
        assert again.problem is claim.Problem.USED

        racing = db.session.get(ProvisioningRequest, other["provisioning_id"])
        record, _ = claim.recheck(racing, settings)
        requests.cancel(db.session.get(Client, staff_client), racing.id)  # the organisation cancels meanwhile
        lost = claim._claim(racing, None, NEW_PASSWORD, record, settings, "en")
        assert lost.problem is claim.Problem.CANCELLED
    assert len(evidence_rows(app, email)) == 1
    assert account(app, answer_email(olivia)) is None


def test_forms_without_their_csrf_token_are_refused(app, client, provision):
    who = case("apostrophe_family_name")
    answer, link = provision(who)
    client.get(link)
    response = client.post(BASE + "/start", data={})
    assert response.status_code == 400 and "Your page has expired" in text(response)
    assert not [e for e in outbox(app, who["mobile"])]  # no code was sent
    post(client, BASE + "/start")
    for path, data in ((BASE + "/security-code", {"code": last_code(app, who["mobile"])}),
                       (BASE + "/security-code/new", {}), (BASE + "/password", {"password": NEW_PASSWORD}),
                       (BASE + "/check-your-details", {})):
        refused = client.post(path, data=data)
        assert refused.status_code == 400 and "Your page has expired" in text(refused), path
    assert request_row(app, answer["provisioning_id"])["status"] == "pending"


def test_a_new_code_can_be_sent_and_only_the_newest_works(app, client, provision):
    bethan = case("gp_online_without_id_check")
    _, link = provision(bethan)
    to_code_page(client, link)
    first = last_code(app, bethan["mobile"])
    page = client.get(BASE + "/security-code")
    response = client.post(BASE + "/security-code/new", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert located(response) == BASE + "/security-code?resent=1"
    assert "We have sent you a new code." in text(client.get(BASE + "/security-code?resent=1"))
    second = last_code(app, bethan["mobile"])
    assert len([e for e in outbox(app, bethan["mobile"]) if e.template == "login_code"]) == 2
    if first != second:
        assert post(client, BASE + "/security-code", {"code": first}).status_code == 400
    assert located(post(client, BASE + "/security-code", {"code": second})) == BASE + "/password"


# --- Welsh, and the evidence explained ---------------------------------------------------------------------------
def test_the_pages_the_code_and_the_email_are_welsh_when_asked(app, client, provision):
    who = case("accented_given_name_sian")
    answer, link = provision(who)
    start = follow(client, client.get(link + "?lang=cy"), 200)
    assert '<html lang="cy"' in start.get_data(as_text=True)
    assert heading(start) == "Sefydlu eich NHS login"
    assert "cod ODS A12345" in text(start) and 'hreflang="en"' in start.get_data(as_text=True)
    response = post(client, BASE + "/start")
    code_page = follow(client, response, 200)
    assert heading(code_page) == "Rhowch y cod diogelwch"
    assert outbox(app, who["mobile"])[-1].language == "cy"
    page = follow(client, post(client, BASE + "/security-code", {"code": last_code(app, who["mobile"])}), 200)
    assert heading(page) == "Creu cyfrinair"
    done = follow(client, client.post(BASE + "/password", data={
        "password": NEW_PASSWORD, "csrf_token": csrf_from(page.get_data(as_text=True))}), 200)
    assert heading(done) == "Mae eich NHS login wedi'i sefydlu"
    assert [e.language for e in outbox(app, answer_email(who)) if e.template == "provisioning_claimed"] == ["cy"]
    for path, status in (("/link-already-used", 410), ("/link-expired", 410), ("/request-cancelled", 410),
                         ("/try-again-later", 429), ("/check-your-details-with-your-gp", 409),
                         ("/service-unavailable", 503), ("/link-not-valid", 404), ("/use-the-link-again", 400),
                         ("/you-already-have-an-nhs-login", 409), ("/cannot-set-up", 409)):
        page = client.get(BASE + path)
        assert page.status_code == status and '<html lang="cy"' in page.get_data(as_text=True), path
        english = app.test_client().get(BASE + path)
        assert heading(page) != heading(english), path
    assert "Arhoswch 15 munud, yna defnyddiwch y ddolen" in text(client.get(BASE + "/try-again-later"))


def test_idp_users_explain_shows_the_provisioning_evidence(app, client, provision):
    who = case("apostrophe_family_name")
    answer, link = provision(who)
    page = to_password_page(client, app, link, who["mobile"])
    client.post(BASE + "/password", data={"password": NEW_PASSWORD,
                                          "csrf_token": csrf_from(page.get_data(as_text=True))})
    row = request_row(app, answer["provisioning_id"])
    output = app.test_cli_runner().invoke(args=["users", "explain", answer_email(who)]).output
    assert "is at P9" in output
    assert "was provisioned by a health service's system and claimed from the emailed link - verified" in output
    assert "- supports P9" in output and f"PDS record {who['nhs_number']}" in output
    assert "- at organisation A12345" in output
    when = lambda epoch: datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")  # noqa: E731
    assert f"- provisioned at {when(row['created_at'])} by client {row['client_id']} (request {row['id']})" in output
    assert f"- claimed at {when(row['claimed_at'])}" in output
    assert f"[checked by provisioning:{row['client_id']}]" in output
