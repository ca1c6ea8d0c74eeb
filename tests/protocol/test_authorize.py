"""The authorization endpoint as a relying party and a browser see it (interface.md
"Authorization request", OIDC Core 3.1.2, RFC 6749 4.1.2.1, RFC 9207).

Until the client and redirect URI are verified, every problem is a 400 HTML page
and never a redirect; after that, errors go back to the client with ``error``,
``state`` (unchanged) and ``iss``.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from freezegun import freeze_time
from joserfc import jwt

from support import assert_error_page, log_in, ISSUER, PASSWORD, callback_params, follow_to_rp, private_jwk



REDIRECT = "https://rp.example/callback"
ODD_STATE = "a b/c+d=é&x?"  # must come back byte for byte


# --- helpers -----------------------------------------------------------------------------------

def assert_error_redirect(response, rp, error, state=None):
    """An OAuth error sent back to the verified redirect URI with state and iss (RFC 6749 4.1.2.1, RFC 9207)."""
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == rp.redirect_uri
    params = callback_params(response)
    assert params.get("error") == error, params
    assert "code" not in params
    assert params.get("iss") == ISSUER
    if state is None:
        assert "state" not in params
    else:
        assert params.get("state") == state
    return params


def assert_success_redirect(response, rp, state):
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(rp.redirect_uri + "?"), location
    params = callback_params(response)
    assert set(params) == {"code", "state", "iss"}, params
    assert params["state"] == state
    assert params["iss"] == ISSUER
    return params


def goes_to_login(response) -> bool:
    return response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login"


def log_in_directly(http, email, password=PASSWORD):
    """Log in at /login with no authorization request in flight (the person's own account)."""
    log_in(http, email, password)


def input_value(html: str, name: str) -> str | None:
    tag = re.search(r'<input[^>]*\bname="%s"[^>]*>' % re.escape(name), html, re.S)
    if tag is None:
        return None
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
    return value.group(1) if value else None


def query(params) -> str:
    return "/authorize?" + urlencode(params)


def decode(rp, token):
    return rp.verify_id_token(token)


def frozen_now():
    return freeze_time(datetime.now(timezone.utc).replace(microsecond=0))


# --- before the redirect URI is verified: a page, never a redirect ---------------------------------
def test_unknown_client_id_shows_an_error_page(rp, client):
    params = rp.authorize_params(client_id="no-such-client")
    assert_error_page(client.get(query(params)))


def test_missing_client_id_shows_an_error_page(rp, client):
    params = rp.authorize_params(client_id=None)
    assert_error_page(client.get(query(params)))


def test_missing_redirect_uri_shows_an_error_page(rp, client):
    params = rp.authorize_params(redirect_uri=None)
    assert_error_page(client.get(query(params)))


@pytest.mark.parametrize("redirect_uri", [
    "https://rp.example/callback/",          # trailing slash
    "https://rp.example/Callback",           # different case in the path
    "https://RP.example/callback",           # different case in the host
    "HTTPS://rp.example/callback",           # different case in the scheme
    "https://rp.example/callback?extra=1",   # extra query
    "https://rp.example/callback#frag",      # fragment
    "http://rp.example/callback",            # http instead of https
    "https://rp.example:443/callback",       # explicit default port
    "https://rp.example/callback/../callback",
    "https://rp.example.evil.test/callback",
    "https://evil.example/callback",
])
def test_unregistered_redirect_uri_is_never_redirected_to(rp, client, redirect_uri):
    response = client.get(query(rp.authorize_params(redirect_uri=redirect_uri)))
    assert_error_page(response)


def test_bad_redirect_uri_wins_over_errors_that_would_otherwise_redirect(rp, client):
    params = rp.authorize_params(redirect_uri="https://evil.example/cb", response_type="token", state=None,
                                 scope="profile")
    assert_error_page(client.get(query(params)))


def test_unknown_client_with_a_registered_looking_redirect_uri_is_a_page(rp, client):
    params = rp.authorize_params(client_id=rp.client_id + "x", response_type="token")
    assert_error_page(client.get(query(params)))


def test_error_page_on_post_too(rp, client):
    response = client.post("/authorize", data=rp.authorize_params(redirect_uri="https://evil.example/cb"))
    assert_error_page(response)


@pytest.mark.parametrize("name,second", [
    ("state", "other-state"),
    ("redirect_uri", "https://evil.example/callback"),
    ("redirect_uri", REDIRECT),
    ("client_id", "someone-else"),
    ("response_type", "code"),
    ("scope", "openid"),
    ("nonce", "n2"),
    ("code_challenge", "x" * 43),
])
def test_repeated_parameters_show_an_error_page(rp, client, name, second):
    params = list(rp.authorize_params().items()) + [(name, second)]
    assert_error_page(client.get(query(params)))


# --- after the redirect URI is verified: errors go back with state and iss -------------------------
def test_missing_response_type(rp, client):
    response = rp.authorize(response_type=None, state=ODD_STATE)
    assert_error_redirect(response, rp, "invalid_request", ODD_STATE)


@pytest.mark.parametrize("response_type", ["token", "id_token", "code id_token", "code token", "none"])
def test_unsupported_response_type(rp, client, response_type):
    response = rp.authorize(response_type=response_type, state=ODD_STATE)
    assert_error_redirect(response, rp, "unsupported_response_type", ODD_STATE)


def test_missing_state_is_invalid_request(rp, client):
    response = rp.authorize(state=None)
    assert_error_redirect(response, rp, "invalid_request", state=None)


@pytest.mark.parametrize("scope", ["profile", "email phone", "", "OpenID profile"])
def test_scope_without_openid_is_invalid_scope(rp, client, scope):
    response = rp.authorize(scope=scope, state="s1")
    assert_error_redirect(response, rp, "invalid_scope", "s1")


def test_known_scope_the_client_is_not_approved_for_is_invalid_scope(register, client):
    rp = register(scope="openid email")
    for scope in ("openid profile", "openid email gp_integration_credentials", "openid landline"):
        response = rp.authorize(scope=scope, state="s2")
        assert_error_redirect(response, rp, "invalid_scope", "s2")


def test_unknown_scopes_are_ignored(rp, client, person):
    email = person("P0")
    result = rp.login_flow(email, scope="openid frobnicate offline_access_xyz")
    assert "code" in result, result
    token = rp.token(result["code"])
    assert token.status_code == 200, token.get_json()
    assert token.get_json()["scope"].split() == ["openid"]


def test_profile_and_basic_demographics_together_are_invalid_scope(rp, client):
    response = rp.authorize(scope="openid profile basic_demographics", state="s3")
    assert_error_redirect(response, rp, "invalid_scope", "s3")


def test_missing_nonce_is_invalid_request(rp, client):
    response = rp.authorize(nonce=None, state="s4")
    assert_error_redirect(response, rp, "invalid_request", "s4")


def test_nonce_optional_client_may_omit_nonce(register, client, person):
    rp = register(nonce="optional")
    email = person("P0")
    tokens = rp.tokens_for(email, nonce=None)
    claims = decode(rp, tokens["id_token"])
    assert "nonce" not in claims


def test_missing_pkce_is_invalid_request(rp, client):
    response = rp.authorize(code_challenge=None, code_challenge_method=None, state="s5")
    assert_error_redirect(response, rp, "invalid_request", "s5")


def test_pkce_optional_client_may_omit_pkce(register, client, person):
    rp = register(pkce="optional")
    email = person("P0")
    result = rp.login_flow(email, code_challenge=None, code_challenge_method=None)
    assert "code" in result, result
    response = rp.token(result["code"], verifier=None)
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("pkce", ["required", "optional"])
def test_plain_pkce_is_refused(register, client, pkce):
    rp = register(pkce=pkce)
    verifier = "v" * 50
    response = rp.authorize(code_challenge=verifier, code_challenge_method="plain", state="s6")
    assert_error_redirect(response, rp, "invalid_request", "s6")


def test_code_challenge_without_method_is_refused(rp, client):
    # RFC 7636 4.3: an absent method means plain, which we refuse.
    params = rp.authorize_params(state="s7")
    params.pop("code_challenge_method")
    assert_error_redirect(client.get(query(params)), rp, "invalid_request", "s7")


def test_unsigned_request_object_is_invalid_request_object(rp, client):
    # Request objects are supported signed only (tests/protocol/test_request_objects.py): alg none is refused.
    response = rp.authorize(request="eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.", state="s8")
    assert_error_redirect(response, rp, "invalid_request_object", "s8")


def test_https_request_uri_is_not_supported(rp, client):
    # Only request_uri values issued by /par are accepted (tests/protocol/test_pushed_authorization.py).
    response = rp.authorize(request_uri="https://rp.example/request.jwt", state="s9")
    assert_error_redirect(response, rp, "request_uri_not_supported", "s9")


@pytest.mark.parametrize("vtr", [
    "P9.Cp",                 # not JSON
    "[]",                    # empty
    '{"P9":"Cp"}',           # not an array
    "[9]",                   # not strings
    '["P7.Cp"]',             # unknown level
    '["P9.Cx"]',             # unknown component
    '["P9"]',                # no component
    '["P9.Cd"]',             # second factor alone
    '["P9.Cp.Cp"]',          # repeated component
])
def test_malformed_vtr_is_invalid_request(rp, client, vtr):
    response = rp.authorize(vtr=vtr, state="s10")
    assert_error_redirect(response, rp, "invalid_request", "s10")


@pytest.mark.parametrize("vtr", ['["P9.Cm"]', '["P9.Cp.Ck"]', '["P9.Cp", "P9.Cp.Ck"]'])
def test_vtr_outside_the_clients_vectors_is_invalid_request(rp, client, vtr):
    response = rp.authorize(vtr=vtr, state="s11")
    assert_error_redirect(response, rp, "invalid_request", "s11")


@pytest.mark.parametrize("max_age", ["-1", "abc", "1.5", "1e3"])
def test_bad_max_age_is_invalid_request(rp, client, max_age):
    response = rp.authorize(max_age=max_age, state="s12")
    assert_error_redirect(response, rp, "invalid_request", "s12")


@pytest.mark.parametrize("claims", [
    "not json",
    '["email"]',
    '"email"',
    '{"id_token": "email"}',
    '{"userinfo": ["email"]}',
    '{"userinfo": {"email": true}}',
])
def test_malformed_claims_is_invalid_request(rp, client, claims):
    response = rp.authorize(claims=claims, state="s13")
    assert_error_redirect(response, rp, "invalid_request", "s13")


# --- success --------------------------------------------------------------------------------------
def test_success_redirect_carries_code_state_and_iss(rp, client, person):
    email = person("P0")
    response = rp.authorize(state=ODD_STATE)
    assert goes_to_login(response)
    response = follow_to_rp(client, response, email=email, redirect_uri=rp.redirect_uri)
    params = assert_success_redirect(response, rp, ODD_STATE)
    token = rp.token(params["code"])
    assert token.status_code == 200, token.get_json()


def test_post_authorize_works_like_get(rp, client, person):
    email = person("P0")
    params = rp.authorize_params(state="posted")
    response = client.post("/authorize", data=params)
    assert goes_to_login(response)
    response = follow_to_rp(client, response, email=email, redirect_uri=rp.redirect_uri)
    result = assert_success_redirect(response, rp, "posted")
    token = rp.token(result["code"])
    assert token.status_code == 200, token.get_json()
    assert decode(rp, token.get_json()["id_token"])["nonce"] == params["nonce"]


def test_post_authorize_errors_redirect_like_get(rp, client):
    response = client.post("/authorize", data=rp.authorize_params(response_type="token", state="p2"))
    assert_error_redirect(response, rp, "unsupported_response_type", "p2")


# --- prompt ---------------------------------------------------------------------------------------
def test_prompt_none_without_a_session_is_login_required(rp, client):
    response = rp.authorize(prompt="none", state="n1")
    assert_error_redirect(response, rp, "login_required", "n1")


def test_prompt_none_sso_login_required_for_clients_that_opted_in(register, client):
    rp = register(prompt_none_error="sso_login_required")
    response = rp.authorize(prompt="none", state="n2")
    assert_error_redirect(response, rp, "sso_login_required", "n2")


def test_prompt_none_with_session_and_consent_returns_a_code_without_any_page(rp, client, person):
    email = person("P0")
    assert "code" in rp.login_flow(email)
    response = rp.authorize(prompt="none", state="n3")
    result = assert_success_redirect(response, rp, "n3")
    assert rp.token(result["code"]).status_code == 200


def test_prompt_none_when_consent_is_needed_is_consent_required(rp, client, person):
    email = person("P0")
    log_in_directly(client, email)
    response = rp.authorize(prompt="none", state="n4")
    assert_error_redirect(response, rp, "consent_required", "n4")


@pytest.mark.parametrize("prompt", ["none login", "login none", "none consent"])
def test_prompt_none_combined_with_other_values_is_invalid_request(rp, client, prompt):
    response = rp.authorize(prompt=prompt, state="n5")
    assert_error_redirect(response, rp, "invalid_request", "n5")


def test_prompt_login_with_a_session_asks_again_and_auth_time_is_the_new_login(rp, client, person):
    email = person("P0")
    with frozen_now() as frozen:
        first = rp.tokens_for(email)
        first_auth_time = decode(rp, first["id_token"])["auth_time"]
        frozen.tick(300)
        response = rp.authorize(prompt="login", state="l1")
        assert goes_to_login(response)
        page = client.get(response.headers["Location"])
        assert page.status_code == 200
        assert "Log in" in page.get_data(as_text=True)
        response = follow_to_rp(client, response, email=email, redirect_uri=rp.redirect_uri)
        result = assert_success_redirect(response, rp, "l1")
        token = rp.token(result["code"])
        assert token.status_code == 200, token.get_json()
        claims = decode(rp, token.get_json()["id_token"])
        assert claims["auth_time"] == first_auth_time + 300


def test_resuming_without_logging_in_does_not_satisfy_prompt_login(rp, client, person):
    """prompt=login right after a login (same second) still asks, and only a login made inside this
    request satisfies it: going straight to the resume URL is not a login."""
    email = person("P0")
    with frozen_now():
        assert "code" in rp.login_flow(email)
        response = rp.authorize(prompt="login", state="l3")
        assert goes_to_login(response)
        interaction = parse_qs(urlsplit(response.headers["Location"]).query)["interaction"][0]
        resumed = client.get(f"/authorize/resume/{interaction}")
        assert goes_to_login(resumed), resumed.headers.get("Location")


def test_max_age_exceeded_asks_for_login_again(rp, client, person):
    email = person("P0")
    with frozen_now() as frozen:
        first = rp.tokens_for(email)
        frozen.tick(5)
        response = rp.authorize(max_age="1", state="m1")
        assert goes_to_login(response), response.headers.get("Location")
        response = follow_to_rp(client, response, email=email, redirect_uri=rp.redirect_uri)
        result = assert_success_redirect(response, rp, "m1")
        claims = decode(rp, rp.token(result["code"]).get_json()["id_token"])
        assert claims["auth_time"] == decode(rp, first["id_token"])["auth_time"] + 5


def test_max_age_zero_is_like_prompt_login(rp, client, person):
    """OIDC Core 3.1.2.1 (errata set 2): max_age=0 is equivalent to prompt=login."""
    email = person("P0")
    with frozen_now():
        assert "code" in rp.login_flow(email)
        response = rp.authorize(max_age="0", state="m0")
        assert goes_to_login(response), response.headers.get("Location")


def test_max_age_exceeded_with_prompt_none_is_login_required(rp, client, person):
    email = person("P0")
    with frozen_now() as frozen:
        assert "code" in rp.login_flow(email)
        frozen.tick(5)
        response = rp.authorize(max_age="1", prompt="none", state="m2")
        assert_error_redirect(response, rp, "login_required", "m2")


def test_max_age_not_exceeded_needs_no_login(rp, client, person):
    email = person("P0")
    with frozen_now() as frozen:
        first = rp.tokens_for(email)
        frozen.tick(5)
        response = rp.authorize(max_age="10000", state="m3")
        result = assert_success_redirect(response, rp, "m3")
        token = rp.token(result["code"]).get_json()
        claims = decode(rp, token["id_token"])
        assert claims["auth_time"] == decode(rp, first["id_token"])["auth_time"]


def test_id_token_hint_for_the_logged_in_person_returns_a_code(rp, client, person):
    email = person("P0")
    first = rp.tokens_for(email)
    response = rp.authorize(id_token_hint=first["id_token"], prompt="none", state="h1")
    result = assert_success_redirect(response, rp, "h1")
    second = rp.token(result["code"]).get_json()
    assert decode(rp, second["id_token"])["sub"] == decode(rp, first["id_token"])["sub"]


@pytest.mark.parametrize("hint", ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."])
def test_garbage_id_token_hint_is_invalid_request(rp, client, hint):
    response = rp.authorize(id_token_hint=hint, state="h2")
    assert_error_redirect(response, rp, "invalid_request", "h2")


@pytest.mark.parametrize("use_provider_kid", [False, True])
def test_id_token_hint_not_signed_by_the_provider_is_invalid_request(rp, client, rp_key, use_provider_kid):
    header = {"alg": "RS512"}
    if use_provider_kid:  # names the provider's key, but signed with someone else's
        keys = client.get("/.well-known/jwks.json").get_json()["keys"]
        header["kid"] = next(k["kid"] for k in keys if k.get("alg") == "RS512")
    forged = jwt.encode(header, {"iss": ISSUER, "sub": "someone", "aud": rp.client_id},
                        private_jwk(rp_key), algorithms=["RS512"])
    response = rp.authorize(id_token_hint=forged, state="h3")
    assert_error_redirect(response, rp, "invalid_request", "h3")


def test_id_token_hint_issued_to_another_client_is_invalid_request(rp, register, client, person):
    email = person("P0")
    first = rp.tokens_for(email)
    other = register(redirect_uris=["https://other.example/callback"])
    response = other.authorize(id_token_hint=first["id_token"], state="h4")
    assert_error_redirect(response, other, "invalid_request", "h4")


def test_login_hint_prefills_the_email_field(rp, client):
    response = rp.authorize(login_hint="someone@example.com")
    assert goes_to_login(response)
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert input_value(page.get_data(as_text=True), "email") == "someone@example.com"


def test_no_login_hint_leaves_the_email_field_empty(rp, client):
    response = rp.authorize()
    page = client.get(response.headers["Location"])
    assert input_value(page.get_data(as_text=True), "email") in ("", None)


# --- the claims parameter (OIDC Core 5.5) ---------------------------------------------------------
def test_claims_parameter_puts_email_in_the_id_token(rp, client, person):
    email = person("P0")
    tokens = rp.tokens_for(email, scope="openid", claims=json.dumps({"id_token": {"email": {"essential": True}}}))
    claims = decode(rp, tokens["id_token"])
    assert claims["email"] == email


def test_claims_parameter_cannot_reach_beyond_the_clients_approved_scopes(register, client, person):
    rp = register(scope="openid")
    email = person("P0")
    tokens = rp.tokens_for(email, scope="openid", claims=json.dumps({"id_token": {"email": {"essential": True}}}))
    claims = decode(rp, tokens["id_token"])
    assert "email" not in claims


def test_claims_parameter_puts_given_name_in_userinfo(rp, client, person):
    email = person("P9")
    tokens = rp.tokens_for(email, scope="openid", vtr='["P9.Cp"]',
                           claims=json.dumps({"userinfo": {"given_name": None}}))
    id_claims = decode(rp, tokens["id_token"])
    assert "given_name" not in id_claims  # asked for userinfo only
    response = client.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["given_name"] == "Priya"
    assert body["sub"] == id_claims["sub"]


def test_claims_parameter_shows_on_the_consent_page(rp, client, person):
    email = person("P9")
    response = rp.authorize(scope="openid", claims=json.dumps({"userinfo": {"given_name": None}}))
    page = follow_to_rp(client, response, email=email, consent=None, redirect_uri=rp.redirect_uri)
    assert page.status_code == 200
    assert "Your first name" in page.get_data(as_text=True)
