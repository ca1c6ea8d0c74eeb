"""error_description holds only %x20-21 / %x23-5B / %x5D-7E (RFC 6749 4.1.2.1 and 5.2), on every form of error:
the redirect back to the client, the JSON answers of /par, /token and /register, and the Bearer challenge.

Each request below used to produce a description with a '"' or a '\\' (or, at /token, a 500).
"""
from __future__ import annotations

import re

import pytest

from support import ISSUER, callback_params

ALLOWED = re.compile(r"[\x20-\x21\x23-\x5b\x5d-\x7e]+")


def assert_allowed(description: str | None) -> str:
    assert description, "an error_description was expected"
    assert ALLOWED.fullmatch(description), f"characters RFC 6749 forbids in {description!r}"
    return description


# vtr values whose error names what was sent: not JSON (the text quoted ["P9.Cp.Cd"] as its example), a
# vector with a '"' in it, one with a '\' in it (their reprs carried both), and one the client may not ask for.
VTRS = {
    "not a JSON array": ("P9.Cp.Cd", "vtr must be a JSON array of strings, each a vector such as P9.Cp.Cd"),
    "a quote": ('["P9.C\\"x"]', "unknown authentication component 'C'x'"),
    "a backslash": ('["P9.C\\\\x"]', "unknown authentication component 'Cx'"),
    "not the client's": ('["P9.Cp.Cd"]', "This client may not ask for: P9.Cp.Cd."),
}


@pytest.fixture
def p0_client(register):
    return register(vtr=["P0.Cp", "P9.Cp"])


@pytest.mark.parametrize("case", sorted(VTRS))
def test_a_refused_vtr_is_described_in_rfc_6749_characters_on_the_redirect(p0_client, case):
    vtr, expected = VTRS[case]
    response = p0_client.authorize(vtr=vtr)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(p0_client.redirect_uri + "?")
    params = callback_params(response)
    assert params["error"] == "invalid_request" and params["iss"] == ISSUER
    assert expected in assert_allowed(params["error_description"])


@pytest.mark.parametrize("case", sorted(VTRS))
def test_a_refused_vtr_is_described_in_rfc_6749_characters_at_par(p0_client, case):
    vtr, expected = VTRS[case]
    form, headers = p0_client.auth(claims={"aud": ISSUER})
    form.update(p0_client.authorize_params(vtr=vtr))
    response = p0_client.http.post("/par", data=form, headers=headers)
    body = response.get_json()
    assert response.status_code == 400 and body["error"] == "invalid_request", body
    assert expected in assert_allowed(body["error_description"])


def test_a_claims_request_naming_a_quoted_claim_is_described_in_rfc_6749_characters(rp):
    params = callback_params(rp.authorize(claims='{"id_token": {"a\\"b\\\\c": 5}}'))
    assert params["error"] == "invalid_request"
    assert "claims.id_token.a'bc must be null or an object" in assert_allowed(params["error_description"])


def test_a_repeated_parameter_with_a_quote_in_its_name_is_a_400_at_token(client):
    """It was a 500: Authlib refuses to build an error whose description has a '"'."""
    response = client.post("/token", data="grant_type=authorization_code&a%22b=1&a%22b=2",
                           content_type="application/x-www-form-urlencoded")
    body = response.get_json()
    assert response.status_code == 400 and body["error"] == "invalid_request", body
    assert assert_allowed(body["error_description"]) == "The 'a'b' parameter is repeated."


def test_a_refused_registration_quoting_a_redirect_uri_is_described_in_rfc_6749_characters(app, client):
    from idp.protocol.dynamic_registration import issue_initial_access_token

    with app.app_context():
        token = issue_initial_access_token("sandpit")
    # repr() of a URI with a "'" in it is written between '"'s.
    response = client.post("/register", headers={"Authorization": "Bearer " + token}, json={
        "redirect_uris": ["https://dyn.example/it's here"], "token_endpoint_auth_method": "client_secret_basic"})
    body = response.get_json()
    assert response.status_code == 400 and body["error"] == "invalid_redirect_uri", body
    assert "https://dyn.example/it's here" in assert_allowed(body["error_description"])


def test_the_bearer_challenge_carries_the_same_description(client):
    response = client.get("/userinfo", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    description = assert_allowed(response.get_json()["error_description"])
    assert response.headers["WWW-Authenticate"] == f'Bearer error="invalid_token", error_description="{description}"'


@pytest.mark.parametrize("text, described", [
    ('vtr such as ["P9.Cp.Cd"]', "vtr such as ['P9.Cp.Cd']"),
    ("a\\b", "ab"),
    ("line\r\nbreak\tand tab", "line break and tab"),
    ("nul\x00 and del\x7f", "nul and del"),
    ("café ✓", "caf "),
    ("plain text: fine!", "plain text: fine!"),
])
def test_describe_keeps_only_the_characters_rfc_6749_allows(text, described):
    from idp.protocol.errors import describe

    assert describe(text) == described
