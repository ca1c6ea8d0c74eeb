"""The served OpenAPI document against the served API (issue 10).

schemathesis reads /provisioning/v1/openapi.json from the app and calls every operation with what it makes of
the document, with a valid provisioning token: its coverage phase (each field missing, of the wrong type,
empty, too long; bodies that are not JSON objects or not JSON; headers, tokens and path ids that break their
schemas; methods the document does not list) and its fuzzing phase (valid and invalid data; some valid bodies
are given a synthetic PDS person's details, so that they get past the body's rules to PDS, the accounts and
the record). Each answer is checked: never a 5xx; its status, content type, headers and body are ones the
document describes; invalid data and a missing token are refused; an unlisted method is a 405 with Allow.
A second test walks the answers generated data seldom reaches (created, replayed, pending, cancelled, 11003,
11012, 11021, 11011, a body over the app's size limit, a token sent two ways) and checks each the same way.

Deterministic (a fixed seed, derandomised, no example database) and bounded (MAX_EXAMPLES fuzzed calls per
operation): a few seconds. The app fixture is a fresh database for each test, so nothing these calls record
outlives them.
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.config import HealthCheck
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from proofing.journey_support import case as pds_case
from provisioning.conftest import body_for

DOCUMENT = "/provisioning/v1/openapi.json"
MAX_EXAMPLES = 40
SEED = 20240610
TOKEN_SECONDS = 240  # tokens live 300 s: a fresh one well before that
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance, negative_data_rejection, missing_required_header, unsupported_method,
          ignored_auth, allow_header_conformance]
ODS_CODES = ["A12345", "B86001"]
# Synthetic PDS people (hard-cases.json): most can be provisioned, one is inactive, one deceased, one superseded.
PEOPLE = ["gp_online_without_id_check", "hyphenated_family_name", "apostrophe_family_name", "name_change",
          "several_given_names", "accented_names_jose", "superseded", "inactive", "deceased"]


def _load(app):
    schema = schemathesis.openapi.from_wsgi(DOCUMENT, app)
    schema.config.seed = SEED
    schema.config.update(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                                HealthCheck.data_too_large])
    schema.config.generation.update(modes=["positive", "negative"], max_examples=MAX_EXAMPLES, deterministic=True,
                                    database="none")
    schema.config.phases.update(phases=["examples", "coverage", "fuzzing"])
    return schema


@pytest.fixture
def raised_rate(app, monkeypatch):
    """The per-ODS-code rate (60 a minute) raised, so that generated calls are answered on their merits, not 11011."""
    settings = app.extensions["idp"].settings
    monkeypatch.setattr(settings, "provisioning_requests_per_ods_code", 100_000)
    return settings


@pytest.fixture
def api_schema(app, staff_system, raised_rate):
    system = staff_system(ods_codes=ODS_CODES)
    schema = _load(app)

    @schema.auth(refresh_interval=TOKEN_SECONDS, retry_on=[])
    class ProvisioningToken:
        """The staff system's token, by client_credentials and private_key_jwt as a real one gets it."""

        def get(self, case, context):
            return system.token_for_api()

        def set(self, case, data, context):
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    @schema.hook
    def flatmap_case(context, case):
        """Most valid bodies the fuzzer makes stop at the NHS number or the ODS code; some get a synthetic PDS
        person's details and an ODS code of the client instead, and go on to PDS, the accounts and the record
        (with the generated email address)."""
        if case.method != "POST" or not isinstance(case.body, dict) or case.meta is None \
                or case.meta.generation.mode != "positive":
            return st.just(case)
        return st.sampled_from([None, *PEOPLE]).map(lambda name: _as_person(case, name))

    return schema


def _as_person(case, name):
    if name is not None:
        person = pds_case(name)
        case.body = {**case.body, "nhs_number": person["nhs_number"], "date_of_birth": person["birthdate"],
                     "phone_number": person["mobile"], "ods_code": ODS_CODES[len(name) % 2]}
    return case


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request):
    # schemathesis (4.32) renames the running test through Node._nodeid, which pytest 9.2 no longer has.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_every_generated_call_is_answered_as_the_document_says(case):
    case.call_and_validate(checks=CHECKS)


def test_the_answers_behind_the_body_rules_are_as_the_document_says(app, staff_system, raised_rate, monkeypatch):
    system = staff_system(ods_codes=ODS_CODES)
    schema = _load(app)
    token = system.token_for_api()
    auth = {"Authorization": f"Bearer {token}"}
    provision = schema["/provision-account"]["POST"]
    status = schema["/provision-account/{provisioning_id}"]["GET"]
    cancel = schema["/provision-account/{provisioning_id}"]["DELETE"]

    def call(operation, expected, *, headers=None, **kw):
        response = operation.Case(headers={**auth, **(headers or {})}, **kw).call_and_validate(checks=CHECKS)
        assert response.status_code == expected, response.text
        return response.json()

    someone = body_for(pds_case("gp_online_without_id_check"))
    key = {"Idempotency-Key": "conformance one"}
    made = call(provision, 200, body=someone, media_type="application/json", headers=key)
    assert made["code"] == "create"
    assert call(provision, 200, body=someone, media_type="application/json", headers=key) == made  # replayed
    assert call(provision, 400, body=someone, media_type="application/json")["code"] == "11003"
    id_ = {"provisioning_id": made["provisioning_id"]}
    assert call(status, 200, path_parameters=id_)["status"] == "pending"
    assert call(cancel, 200, path_parameters=id_)["status"] == "cancelled"
    assert call(cancel, 409, path_parameters=id_)["code"] == "11012"
    assert call(status, 200, path_parameters=id_)["cancelled_at"]
    assert call(status, 404, path_parameters={"provisioning_id": "a\nb"})["code"] == "11010"
    assert call(cancel, 404, path_parameters={"provisioning_id": "x" * 64})["code"] == "11010"

    other = body_for(pds_case("hyphenated_family_name"), ods_code="C12345")
    assert call(provision, 400, body=other, media_type="application/json")["code"] == "11021"
    over_the_apps_limit = b'{"nhs_number": "' + b"9" * (64 * 1024) + b'"}'
    assert call(provision, 400, body=over_the_apps_limit, media_type="application/json")["code"] == "11010"
    big_form = {"x": "y" * (64 * 1024)}  # read for a token in it (RFC 6750 2.2) before the client is known
    assert call(provision, 400, body=big_form, media_type="application/x-www-form-urlencoded")["code"] == "11010"
    two_ways = call(provision, 400, body={"access_token": token}, media_type="application/x-www-form-urlencoded")
    assert two_ways["error"] == "invalid_request"

    monkeypatch.setattr(raised_rate, "provisioning_requests_per_ods_code", 0)
    limited = call(provision, 400, body=body_for(pds_case("hyphenated_family_name")), media_type="application/json")
    assert limited["code"] == "11011"
