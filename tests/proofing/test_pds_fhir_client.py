"""The PDS FHIR adapter against a real local FHIR server (``fhir_server.py``): reads, searches, failures."""
from __future__ import annotations

import json
import logging
import socket
import time
import uuid
from types import SimpleNamespace

import pybreaker
import pytest

from idp.people import nhs_number_is_valid
from idp.proofing.pds import PdsUnavailable
from idp.proofing.pds.fhir_client import FhirPds, breaker_for

JANE, JOHN, OLD, MISSING = "9990000018", "9990000026", "9990000034", "9990000042"


def patient(nhs, family="Smith", given=("Jane",), birthdate="1990-01-02", postcode="LS1 4HT", restricted=False):
    """A Patient in the shape PDS serves it."""
    security = [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
                 "code": "R" if restricted else "U", "display": "restricted" if restricted else "unrestricted"}]
    return {"resourceType": "Patient", "id": nhs,
            "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs}],
            "meta": {"versionId": "2", "security": security},
            "name": [{"use": "usual", "family": family, "given": list(given)}],
            "birthDate": birthdate,
            "address": [{"use": "home", "postalCode": postcode}],
            "telecom": [{"system": "phone", "use": "mobile", "value": "07700 900123"}],
            "generalPractitioner": [{"type": "Organization", "identifier": {
                "system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "Y12345"}}]}


@pytest.fixture
def pds(fhir_server):
    """``pds(**overrides)``: an adapter for the local server with its own breaker and no backoff."""
    assert all(nhs_number_is_valid(n) for n in (JANE, JOHN, OLD, MISSING))
    fhir_server.add(patient(JANE, restricted=True), patient(JOHN, family="Jones", given=("John",), postcode="M1 1AE"))
    made = []

    def _make(**overrides):
        options = {"base_url": fhir_server.base_url, "access_token": "token-123", "timeout": 2, "backoff": 0,
                   "breaker": pybreaker.CircuitBreaker(fail_max=5, reset_timeout=60)} | overrides
        made.append(FhirPds(**options))
        return made[-1]

    yield _make
    for client in made:
        client.close()


def test_a_read_returns_the_record(pds):
    record = pds().get(JANE)
    assert record.nhs_number == JANE and record.version == "2"
    assert (record.given_name, record.family_name, record.birthdate) == ("Jane", "Smith", "1990-01-02")
    assert (record.postcode, record.mobile, record.gp_ods_code) == ("LS1 4HT", "+447700900123", "Y12345")
    assert record.restricted and record.superseded == ()
    assert not pds().get(JOHN).restricted


def test_no_record_and_an_invalid_number_are_none_and_not_failures(pds, fhir_server):
    client = pds()
    assert client.get(MISSING) is None
    assert client.get("9990000019") is None  # bad check digit: PDS answers 400 INVALID_RESOURCE_ID
    assert [r["path"] for r in fhir_server.requests] == [f"/Patient/{MISSING}", "/Patient/9990000019"]
    assert client.breaker.fail_counter == 0


def test_a_400_that_is_not_about_the_number_is_unavailable(pds, fhir_server):
    fhir_server.fail_next(1, 400)  # an OperationOutcome with another code: our request was wrong
    with pytest.raises(PdsUnavailable, match="400"):
        pds().get(JANE)


def test_a_replaced_by_link_to_nothing_is_unavailable(pds, fhir_server):
    fhir_server.supersede(OLD, JANE, link=True)
    del fhir_server.patients[JANE]
    with pytest.raises(PdsUnavailable):
        pds().get(OLD)


def test_a_superseded_number_gives_the_successor(pds, fhir_server):
    fhir_server.supersede(OLD, JANE)
    record = pds().get(OLD)
    assert record.nhs_number == JANE and record.superseded == (OLD,)


def test_a_replaced_by_link_is_followed(pds, fhir_server):
    fhir_server.supersede(OLD, JANE, link=True)
    record = pds().get(OLD)
    assert record.nhs_number == JANE and record.superseded == (OLD,) and record.replaced_by is None
    assert [r["path"] for r in fhir_server.requests] == [f"/Patient/{OLD}", f"/Patient/{JANE}"]


def test_search_sends_the_pds_parameters_and_returns_records(pds, fhir_server):
    client = pds()
    records = client.search(family="SMITH", given="Jane", birthdate="1990-01-02", postcode="ls14ht")
    assert [r.nhs_number for r in records] == [JANE]
    assert fhir_server.requests[-1]["path"] == "/Patient"
    assert fhir_server.requests[-1]["query"] == {"family": ["SMITH"], "given": ["Jane"], "birthdate": ["eq1990-01-02"],
                                                 "address-postcode": ["ls14ht"]}
    assert client.search(family="Jones", given=None, birthdate="1990-01-02", postcode=None)[0].nhs_number == JOHN
    assert fhir_server.requests[-1]["query"] == {"family": ["Jones"], "birthdate": ["eq1990-01-02"]}
    assert client.search(family="Nobody", given=None, birthdate="1990-01-02", postcode=None) == []


def test_search_leaves_out_a_superseded_numbers_own_record(pds, fhir_server):
    fhir_server.supersede(OLD, JANE, link=True)
    records = pds().search(family="Smith", given=None, birthdate="1990-01-02", postcode=None)
    assert [r.nhs_number for r in records] == [JANE]


def test_headers_request_id_accept_and_bearer_token(pds, fhir_server):
    client = pds()
    client.get(JANE)
    client.search(family="Smith", given=None, birthdate="1990-01-02", postcode=None)
    ids = [r["headers"]["X-Request-ID"] for r in fhir_server.requests]
    assert all(uuid.UUID(i).version == 4 for i in ids) and len(set(ids)) == 2
    assert all(r["headers"]["Accept"] == "application/fhir+json" for r in fhir_server.requests)
    assert all(r["headers"]["Authorization"] == "Bearer token-123" for r in fhir_server.requests)
    pds(access_token="").get(JANE)
    assert "Authorization" not in fhir_server.requests[-1]["headers"]


def test_a_timeout_is_unavailable(pds, fhir_server):
    fhir_server.delay = 1
    started = time.monotonic()
    with pytest.raises(PdsUnavailable):
        pds(timeout=0.2, retries=0).get(JANE)
    assert time.monotonic() - started < 0.9


def test_one_503_is_retried_with_the_same_request_id(pds, fhir_server):
    fhir_server.fail_next(1, 503)
    assert pds().get(JANE).nhs_number == JANE
    assert len(fhir_server.requests) == 2
    assert fhir_server.requests[0]["headers"]["X-Request-ID"] == fhir_server.requests[1]["headers"]["X-Request-ID"]


def test_429_is_retried(pds, fhir_server):
    fhir_server.fail_next(2, 429)
    assert pds().search(family="Smith", given=None, birthdate="1990-01-02", postcode=None)


def test_three_503s_with_two_retries_are_unavailable(pds, fhir_server):
    fhir_server.fail_next(3, 503)
    with pytest.raises(PdsUnavailable, match="503"):
        pds(retries=2).get(JANE)
    assert len(fhir_server.requests) == 3


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_are_unavailable_and_not_retried(pds, fhir_server, status):
    fhir_server.fail_next(1, status)
    with pytest.raises(PdsUnavailable, match=str(status)):
        pds().get(JANE)
    assert len(fhir_server.requests) == 1


def test_malformed_json_is_unavailable(pds, fhir_server):
    fhir_server.respond_next_with(b'{"resourceType": "Patient", ')
    with pytest.raises(PdsUnavailable, match="not JSON"):
        pds().get(JANE)


@pytest.mark.parametrize("body", [
    {"resourceType": "OperationOutcome", "issue": []},
    ["a", "list"],
    {"resourceType": "Patient", "id": JANE, "birthDate": "the second of January"},
])
def test_a_read_answer_that_is_not_a_patient_is_unavailable(pds, fhir_server, body):
    fhir_server.respond_next_with(json.dumps(body))
    with pytest.raises(PdsUnavailable):
        pds().get(JANE)


@pytest.mark.parametrize("body", [
    patient(JANE),
    {"resourceType": "Bundle", "type": "collection", "entry": []},
    {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": {"resourceType": "Patient", "gender": 7}}]},
])
def test_a_search_answer_that_is_not_a_searchset_of_patients_is_unavailable(pds, fhir_server, body):
    fhir_server.respond_next_with(body)
    with pytest.raises(PdsUnavailable):
        pds().search(family="Smith", given=None, birthdate="1990-01-02", postcode=None)


def test_the_breaker_opens_after_fail_max_failures(pds, fhir_server):
    client = pds(retries=0, breaker=pybreaker.CircuitBreaker(fail_max=3, reset_timeout=60))
    fhir_server.fail_next(3, 500)
    for _ in range(3):
        with pytest.raises(PdsUnavailable):
            client.get(JANE)
    assert client.breaker.current_state == "open" and len(fhir_server.requests) == 3
    with pytest.raises(PdsUnavailable, match="circuit open"):
        client.get(JANE)
    assert len(fhir_server.requests) == 3  # refused without a request


def test_a_closed_port_is_unavailable(pds):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(PdsUnavailable):
        pds(base_url=f"http://127.0.0.1:{port}", retries=1).get(JANE)


def test_failures_log_status_and_request_id_but_no_personal_data(pds, fhir_server, caplog):
    caplog.set_level(logging.DEBUG)
    client = pds(retries=0)
    messages = []
    for fail in (lambda: fhir_server.fail_next(1, 503), lambda: fhir_server.respond_next_with(b"not json"),
                 lambda: fhir_server.respond_next_with({"resourceType": "Bundle", "type": "history"})):
        fail()
        with pytest.raises(PdsUnavailable) as raised:
            client.search(family="Smith", given="Jane", birthdate="1990-01-02", postcode="LS1 4HT")
        messages.append(str(raised.value))
    fhir_server.respond_next_with(b"not json")
    with pytest.raises(PdsUnavailable) as raised:
        client.get(JANE)
    messages.append(str(raised.value))
    failures = [r for r in caplog.records if r.name == "idp.proofing.pds"]
    assert len(failures) == 4
    assert all("x_request_id=" in r.getMessage() and "status=" in r.getMessage() for r in failures)
    text = caplog.text + "\n".join(messages)
    for personal in ("Smith", "Jane", "1990-01-02", "LS1", "LS1+4HT", JANE):
        assert personal not in text  # httpx's own request log line included


def test_breakers_are_shared_per_base_url_and_for_settings_uses_the_settings(fhir_server):
    settings = SimpleNamespace(pds_base_url=fhir_server.base_url, pds_access_token="abc", pds_timeout_seconds=3,
                               outbound_timeout_seconds=5)
    client = FhirPds.for_settings(settings)
    assert client is FhirPds.for_settings(settings)
    assert client.breaker is breaker_for(fhir_server.base_url) is FhirPds(fhir_server.base_url, "", 1).breaker
    assert client.breaker is not breaker_for("https://elsewhere.example")
    assert client.http.timeout.read == 3 and client.http.headers["Authorization"] == "Bearer abc"
