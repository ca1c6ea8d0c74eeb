"""POST/GET/DELETE /provisioning/v1/provision-account (issue 10, interface.md): every error code, the PDS and
account rules, idempotent retries, the per-ODS-code rate limit, the 7-day window and the audit."""
from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone

import pytest
from freezegun import freeze_time

from proofing.journey_support import case
from provisioning.conftest import API, body_for
from support import outbox


def _code(response):
    return response.get_json().get("code")


def _audit(app):
    from idp.models import ProvisioningAuditEvent

    with app.app_context():
        return [(e.operation, e.outcome, e.ods_code, e.replayed) for e in
                ProvisioningAuditEvent.query.order_by(ProvisioningAuditEvent.seq).all()]


def _requests(app):
    from idp.models import ProvisioningRequest

    with app.app_context():
        return ProvisioningRequest.query.count()


# --- success --------------------------------------------------------------------------------------
def test_a_request_for_a_person_on_pds_is_recorded_and_the_patient_emailed_a_link(app, system):
    someone = case("gp_online_without_id_check")
    response = system.provision(body_for(someone))
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    assert body["code"] == "create" and body["provisioning_id"] and body["description"]
    [email] = outbox(app, f"{someone['nhs_number']}@example.com")
    assert email.template == "provisioning_invitation" and "/set-up-your-nhs-login/" in email.body
    assert "A12345" in email.body and "7 days" in email.body
    status = system.call("GET", f"{API}/{body['provisioning_id']}").get_json()
    assert status["status"] == "pending" and status["code"] == "create" and status["ods_code"] == "A12345"
    assert _audit(app)[0] == ("provision", "create", "A12345", False)


def test_an_account_with_that_email_below_p9_is_uplifted(app, system, person):
    someone = case("hyphenated_family_name")
    email = person("P0", email="existing@example.com")
    response = system.provision(body_for(someone, email_address=email.upper()))
    assert response.status_code == 200 and response.get_json()["code"] == "uplift"


def test_a_superseded_number_is_followed_to_the_current_record(app, system):
    current = case("superseded")
    response = system.provision(body_for(current, nhs_number="9990001197"))
    assert response.status_code == 200, response.get_json()
    from idp.models import ProvisioningRequest

    with app.app_context():
        assert ProvisioningRequest.query.one().nhs_number == current["nhs_number"]


def test_the_audit_holds_no_personal_data(app, system):
    someone = case("accented_given_name_sian")
    system.provision(body_for(someone))
    system.provision(body_for(someone, date_of_birth="2001-04-08"))
    from idp.models import ProvisioningAuditEvent

    with app.app_context():
        rows = [json.dumps({c.name: getattr(e, c.name) for c in e.__table__.columns})
                for e in ProvisioningAuditEvent.query.all()]
    assert len(rows) == 2
    for row in rows:
        for value in (someone["nhs_number"], someone["mobile"], someone["birthdate"], "example.com"):
            assert value not in row


# --- 11010 request invalid ------------------------------------------------------------------------
@pytest.mark.parametrize("change, words", [
    ({"nhs_number": "9990001244"}, "modulus 11"),
    ({"nhs_number": "999 000 1243"}, "modulus 11"),
    ({"date_of_birth": "1999-02-30"}, "real calendar date"),
    ({"date_of_birth": "29/09/1999"}, "YYYY-MM-DD"),
    ({"date_of_birth": "2999-01-01"}, "future"),
    ({"phone_number": "07700900537"}, "E.164"),
    ({"phone_number": "+442079460000"}, "UK mobile"),
    ({"email_address": "not-an-email"}, "email_address"),
    ({"ods_code": "a1"}, "ODS code"),
    ({"nhs_number": 9990001243}, "must be strings"),
    ({"extra": "x"}, "Unknown fields: extra"),
    ({"ods_code": None}, "Missing fields: ods_code"),
])
def test_each_invalid_field_is_11010_naming_it(app, system, change, words):
    body = body_for(case("gp_online_without_id_check"))
    body.update(change)
    response = system.provision(body)
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["code"] == "11010" and words in problem["description"]
    assert problem["status"] == 400 and problem["title"] and problem["detail"] == problem["description"]
    assert _requests(app) == 0 and outbox(app) == []


@pytest.mark.parametrize("raw, content_type, words", [
    ("[1, 2]", "application/json", "JSON object"),
    ("{not json", "application/json", "not valid JSON"),
    ('{"nhs_number": "1", "nhs_number": "2"}', "application/json", "repeated fields: nhs_number"),
    ("nhs_number=9990001243", "application/x-www-form-urlencoded", "application/json"),
    ('{"a": "' + "x" * 5000 + '"}', "application/json", "at most 4096 bytes"),
    ("\xff\xfe", "application/json", "not valid JSON"),
])
def test_a_body_that_is_not_a_small_json_object_is_11010(system, raw, content_type, words):
    response = system.provision(None, raw=raw.encode("latin-1"), content_type=content_type)
    assert response.status_code == 400 and _code(response) == "11010" and words in response.get_json()["description"]


# --- tokens ----------------------------------------------------------------------------------------
def test_a_missing_expired_or_wrong_token_is_refused_with_a_challenge(app, system, rp, person):
    body = body_for(case("gp_online_without_id_check"))
    missing = system.http.post(API, json=body)
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"].startswith("Bearer")
    forged = system.provision(body, token="e30.e30.e30")
    assert forged.status_code == 401 and 'error="invalid_token"' in forged.headers["WWW-Authenticate"]
    token = system.token_for_api()
    with freeze_time(datetime.now(timezone.utc) + timedelta(seconds=301)):  # tokens live 300 seconds
        expired = system.provision(body, token=token)
    assert expired.status_code == 401 and 'error="invalid_token"' in expired.headers["WWW-Authenticate"]
    login = rp.login_flow(person("P0"))
    rp_token = rp.token(login["code"]).get_json()["access_token"]
    wrong = system.provision(body, token=rp_token)
    assert wrong.status_code == 403 and 'error="insufficient_scope"' in wrong.headers["WWW-Authenticate"]
    assert _requests(app) == 0


def test_an_ods_code_the_client_does_not_act_for_is_11021(app, staff_system):
    system = staff_system(ods_codes=["B86001"])
    response = system.provision(body_for(case("gp_online_without_id_check")))
    assert response.status_code == 400 and _code(response) == "11021" and _requests(app) == 0


# --- PDS --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, change", [
    ("gp_online_without_id_check", {"date_of_birth": "1999-09-28"}),
    ("gp_online_without_id_check", {"phone_number": "+447700900001"}),
    ("inactive", {}),
    ("deceased", {}),
    ("gp_online_without_id_check", {"nhs_number": "9990999991"}),  # valid, not on PDS
])
def test_a_person_pds_does_not_support_is_11001_whatever_the_reason(app, system, name, change):
    body = body_for(case(name), **change)
    if body["nhs_number"] == "9990999991":
        from idp.people import nhs_number_is_valid

        body["nhs_number"] = next(f"999099999{d}" for d in range(10) if nhs_number_is_valid(f"999099999{d}"))
    response = system.provision(body)
    assert response.status_code == 400 and _code(response) == "11001"
    # One description for every mismatch: nothing says which detail it was.
    assert response.get_json()["description"].startswith("An account cannot be provisioned from these details")
    assert _requests(app) == 0


def test_pds_out_of_reach_is_11000_and_records_nothing(app, system, monkeypatch):
    from idp.proofing.pds import PdsUnavailable

    class Down:
        def get(self, nhs_number):
            raise PdsUnavailable("test: PDS is down")

    monkeypatch.setattr("idp.provisioning.requests.demographics_service", lambda settings: Down())
    key = {"Idempotency-Key": "retry-after-outage"}
    response = system.provision(body_for(case("gp_online_without_id_check")), headers=key)
    assert response.status_code == 400 and _code(response) == "11000" and response.headers["Retry-After"]
    assert _requests(app) == 0 and outbox(app) == []
    monkeypatch.undo()
    again = system.provision(body_for(case("gp_online_without_id_check")), headers=key)
    assert again.status_code == 200  # the outage's answer is not kept for the key


# --- accounts ----------------------------------------------------------------------------------------
def test_a_person_with_a_p9_account_is_11005(app, system, person):
    someone = case("gp_online_without_id_check")
    person("P9", nhs_number=someone["nhs_number"])
    response = system.provision(body_for(someone))
    assert response.status_code == 400 and _code(response) == "11005"


def test_an_email_of_another_persons_account_is_11004(app, system, person):
    other = person("P5")  # linked to another NHS number
    response = system.provision(body_for(case("gp_online_without_id_check"), email_address=other))
    assert response.status_code == 400 and _code(response) == "11004"


def test_a_person_whose_account_has_another_email_is_told_to_use_it(app, system, person):
    someone = case("gp_online_without_id_check")
    person("P5", nhs_number=someone["nhs_number"], family_name=someone["family_name"], birthdate=someone["birthdate"])
    response = system.provision(body_for(someone, email_address="new-address@example.com"))
    assert response.status_code == 400 and _code(response) == "11006"


# --- the 7-day window ---------------------------------------------------------------------------------
def test_a_second_request_within_7_days_is_11003_and_after_them_is_accepted(app, system):
    someone = case("several_given_names")
    start = datetime.now(timezone.utc)
    with freeze_time(start):
        first = system.provision(body_for(someone)).get_json()["provisioning_id"]
    with freeze_time(start + timedelta(days=7, seconds=-60)):
        again = system.provision(body_for(someone))
        assert again.status_code == 400 and _code(again) == "11003"
    with freeze_time(start + timedelta(days=7, seconds=1)):
        assert system.call("GET", f"{API}/{first}").get_json()["status"] == "expired"
        later = system.provision(body_for(someone))
        assert later.status_code == 200 and later.get_json()["provisioning_id"] != first


def test_a_cancelled_request_makes_way_for_a_new_one_and_cannot_be_cancelled_twice(app, system):
    someone = case("name_change")
    first = system.provision(body_for(someone)).get_json()["provisioning_id"]
    cancelled = system.call("DELETE", f"{API}/{first}")
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    twice = system.call("DELETE", f"{API}/{first}")
    assert twice.status_code == 409 and _code(twice) == "11012"
    assert system.provision(body_for(someone)).status_code == 200


def test_another_client_cannot_see_or_cancel_a_request(app, system, staff_system):
    other = staff_system(ods_codes=["A12345"], name="Another system")
    made = system.provision(body_for(case("apostrophe_family_name"))).get_json()["provisioning_id"]
    assert other.call("GET", f"{API}/{made}").status_code == 404
    assert other.call("DELETE", f"{API}/{made}").status_code == 404
    assert other.call("GET", f"{API}/not-a-request").status_code == 404
    for strange in (made.upper(), "%2e%2e", "x" * 40):  # not one of our ids: never looked up
        answer = system.call("GET", f"{API}/{strange}")
        assert answer.status_code == 404 and answer.mimetype == "application/problem+json"
        assert system.call("DELETE", f"{API}/{strange}").status_code == 404
    assert system.call("GET", f"{API}/a%00b").status_code == 400  # NUL refused at the edge (PostgreSQL cannot hold it)
    assert system.call("GET", f"{API}/{made}").get_json()["status"] == "pending"


# --- Idempotency-Key ----------------------------------------------------------------------------------
def test_a_retry_with_the_same_key_gets_the_first_answer_and_no_second_email(app, system):
    someone = case("accented_names_jose")
    key = {"Idempotency-Key": "order-42"}
    first = system.provision(body_for(someone), headers=key)
    retry = system.provision(body_for(someone), headers=key)
    assert first.status_code == retry.status_code == 200 and first.get_json() == retry.get_json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert len(outbox(app, f"{someone['nhs_number']}@example.com")) == 1 and _requests(app) == 1
    assert [row[3] for row in _audit(app)] == [False, True]
    different = system.provision(body_for(someone, email_address="other@example.com"), headers=key)
    assert different.status_code == 400 and _code(different) == "11010"
    assert "different body" in different.get_json()["description"]


@pytest.mark.parametrize("key", ["", "k" * 256, "caf\u00e9"])
def test_an_idempotency_key_that_is_not_1_to_255_printable_ascii_characters_is_11010(system, key):
    response = system.provision(body_for(case("accented_names_jose")), headers={"Idempotency-Key": key})
    assert response.status_code == 400 and _code(response) == "11010" and "Idempotency-Key" in \
        response.get_json()["description"]


def test_a_refusal_is_kept_for_its_key_too(app, system, person):
    someone = case("accented_given_name_zoe")
    person("P9", nhs_number=someone["nhs_number"])
    key = {"Idempotency-Key": "refused-once"}
    first = system.provision(body_for(someone), headers=key)
    retry = system.provision(body_for(someone), headers=key)
    assert _code(first) == _code(retry) == "11005" and retry.headers.get("Idempotent-Replayed") == "true"


def test_two_retries_racing_make_one_request_and_one_email(app, system, monkeypatch):
    from idp.proofing.pds import demographics_service

    someone = case("gp_online_fast_track")
    token = system.token_for_api()
    answers = []
    both_checked_the_key = threading.Barrier(2, timeout=10)

    class Slow:  # both calls are past the Idempotency-Key check before either records anything
        def __init__(self, settings):
            self.real = demographics_service(settings)

        def get(self, nhs_number):
            both_checked_the_key.wait()
            return self.real.get(nhs_number)

    monkeypatch.setattr("idp.provisioning.requests.demographics_service", Slow)

    def call():
        with app.test_client() as http:
            answers.append(http.post(API, json=body_for(someone), headers={
                "Authorization": f"Bearer {token}", "Idempotency-Key": "raced"}))

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].get_json() == answers[1].get_json()
    assert _requests(app) == 1 and len(outbox(app, f"{someone['nhs_number']}@example.com")) == 1


# --- rate limit ---------------------------------------------------------------------------------------
def test_the_rate_per_ods_code_is_limited(app, staff_system, monkeypatch):
    settings = app.extensions["idp"].settings
    monkeypatch.setattr(settings, "provisioning_requests_per_ods_code", 2)
    system = staff_system(ods_codes=["A12345", "B86001"])
    token = system.token_for_api()
    bodies = [body_for(case(n)) for n in ("hyphenated_family_name", "apostrophe_family_name", "name_change")]
    with freeze_time(datetime.now(timezone.utc)):
        assert [system.provision(b, token=token).status_code for b in bodies[:2]] == [200, 200]
        limited = system.provision(bodies[2], token=token)
        assert limited.status_code == 400 and _code(limited) == "11011" and limited.headers["Retry-After"] == "60"
        other_code = system.provision(body_for(case("name_change"), ods_code="B86001"), token=token)
        assert other_code.status_code == 200  # the limit is per ODS code
    assert _requests(app) == 3


# --- the document ----------------------------------------------------------------------------------
def test_an_unknown_path_under_the_api_is_the_apis_404(client):
    response = client.get("/provisioning/v1/no-such-thing")
    assert response.status_code == 404 and response.is_json and "<html" not in response.get_data(as_text=True)


def test_the_openapi_document_is_served(client):
    response = client.get("/provisioning/v1/openapi.json")
    document = response.get_json()
    assert response.status_code == 200 and document["openapi"] == "3.1.0"
    assert set(document["paths"]) == {"/provision-account", "/provision-account/{provisioning_id}"}
    assert "11021" in document["components"]["schemas"]["Problem"]["properties"]["code"]["enum"]
