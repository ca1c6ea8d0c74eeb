"""POST /token with the authorization_code grant (RFC 6749 4.1.3, RFC 7636, OIDC Core 3.1.3, RFC 9068).

interface.md "Tokens": the ID token and the access token carry the listed claims, responses
are `Cache-Control: no-store`, codes are single use (a reused code revokes what it issued)
and live 60 s, and errors are the OAuth ones.
"""
from __future__ import annotations

import base64
import datetime
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from freezegun import freeze_time
from joserfc import jwt
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact

ISSUER = "http://idp.test"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
FORM = "application/x-www-form-urlencoded"


# --- helpers -----------------------------------------------------------------------------------
def header_of(token: str) -> dict:
    return extract_compact(token.encode()).headers()


def jwks_of(http) -> dict:
    return http.get("/.well-known/jwks.json").get_json()


def decode(http, token: str, alg: str) -> dict:
    """Verify ``token`` with the published JWKS, accepting only ``alg``; returns the claims."""
    return jwt.decode(token, KeySet.import_key_set(jwks_of(http)), algorithms=[alg]).claims


def half_hash(value: str, alg: str) -> str:
    digest = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}[alg[-3:]](value.encode()).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


def code_for(rp, email, **params) -> str:
    result = rp.login_flow(email, **params)
    assert "code" in result, result
    return result["code"]


def another_code(rp, **params) -> str:
    """A second authorization in the same browser session (login and consent remembered)."""
    response = rp.authorize(**params)
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert location.startswith(rp.redirect_uri), location
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert "code" in query, query
    return query["code"]


def error_of(response) -> str | None:
    return (response.get_json(silent=True) or {}).get("error")


def userinfo(http, access_token: str):
    return http.get("/userinfo", headers={"Authorization": f"Bearer {access_token}"})


# --- the ID token ------------------------------------------------------------------------------
def test_id_token_has_every_required_claim_and_is_rs512_by_default(rp, person, client):
    email = person("P0")
    code = code_for(rp, email, scope="openid")
    response = rp.token(code)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["token_type"].lower() == "bearer"
    assert body["expires_in"] == 300

    id_token = body["id_token"]
    header = header_of(id_token)
    assert header["alg"] == "RS512"
    published = {k["kid"]: k for k in jwks_of(client)["keys"]}
    assert header["kid"] in published
    assert published[header["kid"]]["alg"] == "RS512"
    assert published[header["kid"]]["use"] == "sig"

    claims = decode(client, id_token, "RS512")
    for name in ("iss", "sub", "aud", "exp", "iat", "jti", "auth_time", "nonce", "vot", "vtm", "at_hash"):
        assert name in claims, name
    assert claims["iss"] == ISSUER
    assert claims["aud"] == rp.client_id or claims["aud"] == [rp.client_id]
    assert claims["nonce"] == rp.last["nonce"]
    assert claims["vtm"] == ISSUER + "/trustmark"
    assert claims["vot"] == "P0.Cp"
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["auth_time"] <= claims["iat"]
    assert claims["at_hash"] == half_hash(body["access_token"], "RS512")
    assert isinstance(claims["sub"], str) and claims["sub"]
    assert isinstance(claims["jti"], str) and claims["jti"]


@pytest.mark.parametrize("alg", ["RS256", "PS256", "ES256"])
def test_id_token_is_signed_with_the_alg_the_client_registered(register, person, client, alg):
    rp = register(id_token_signed_response_alg=alg)
    rp.alg = "RS512"  # the client's own assertion stays RS512 (its key is RSA); only the ID token alg changes
    email = person("P0")
    response = rp.token(code_for(rp, email))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    header = header_of(body["id_token"])
    assert header["alg"] == alg
    published = {k["kid"]: k for k in jwks_of(client)["keys"]}
    assert published[header["kid"]]["alg"] == alg
    claims = decode(client, body["id_token"], alg)
    assert claims["aud"] in (rp.client_id, [rp.client_id])
    assert claims["at_hash"] == half_hash(body["access_token"], alg)
    # The RS512 signature check must fail: the token really is signed with the registered alg.
    with pytest.raises(Exception):
        decode(client, body["id_token"], "RS512")


def test_each_id_token_has_a_fresh_jti(rp, person):
    email = person("P0")
    first = rp.token(code_for(rp, email)).get_json()
    second = rp.token(another_code(rp)).get_json()
    a, b = rp.verify_id_token(first["id_token"]), rp.verify_id_token(second["id_token"])
    assert a["jti"] != b["jti"]
    assert a["sub"] == b["sub"]


# --- the access token --------------------------------------------------------------------------
def test_access_token_is_an_rfc9068_jwt(rp, person, client):
    email = person("P0")
    body = rp.token(code_for(rp, email, scope="openid email")).get_json()
    access_token = body["access_token"]
    header = header_of(access_token)
    assert header["typ"].lower() in ("at+jwt", "application/at+jwt")
    assert "kid" in header
    claims = decode(client, access_token, header["alg"])
    for name in ("iss", "sub", "aud", "client_id", "exp", "iat", "jti", "scope", "auth_time", "vot", "vtm"):
        assert name in claims, name
    id_claims = rp.verify_id_token(body["id_token"])
    assert claims["iss"] == ISSUER
    assert claims["sub"] == id_claims["sub"]
    assert claims["client_id"] == rp.client_id
    assert claims["scope"].split() == ["openid", "email"]
    assert claims["exp"] - claims["iat"] == 300
    assert claims["auth_time"] == id_claims["auth_time"]
    assert claims["vot"] == id_claims["vot"]
    assert claims["vtm"] == ISSUER + "/trustmark"
    assert claims["jti"] != id_claims["jti"]
    assert body["scope"].split() == ["openid", "email"]


# --- Cache-Control -----------------------------------------------------------------------------
def test_success_and_error_responses_are_no_store(rp, person):
    email = person("P0")
    code = code_for(rp, email)
    ok = rp.token(code)
    assert ok.status_code == 200
    assert "no-store" in ok.headers.get("Cache-Control", "")
    reused = rp.token(code)
    assert reused.status_code == 400
    assert "no-store" in reused.headers.get("Cache-Control", "")
    no_client = rp.http.post("/token", data={"grant_type": "authorization_code", "code": "x",
                                             "redirect_uri": rp.redirect_uri})
    assert no_client.status_code == 401
    assert error_of(no_client) == "invalid_client"
    assert "no-store" in no_client.headers.get("Cache-Control", "")
    bad_client = rp.http.post("/token", data={"grant_type": "authorization_code", "code": "x",
                                              "client_assertion_type": ASSERTION_TYPE, "client_assertion": "x.y.z"})
    assert error_of(bad_client) == "invalid_client"
    assert "no-store" in bad_client.headers.get("Cache-Control", "")


# --- codes are single use ----------------------------------------------------------------------
def test_reused_code_is_refused_and_revokes_what_it_issued(register, person, client):
    rp = register(refresh_tokens=True)
    email = person("P0")
    code = code_for(rp, email)
    first = rp.token(code)
    assert first.status_code == 200
    tokens = first.get_json()
    assert "refresh_token" in tokens
    assert userinfo(client, tokens["access_token"]).status_code == 200

    second = rp.token(code)
    assert second.status_code == 400
    assert error_of(second) == "invalid_grant"

    after = userinfo(client, tokens["access_token"])
    assert after.status_code == 401
    assert 'error="invalid_token"' in after.headers.get("WWW-Authenticate", "")
    refreshed = rp.refresh(tokens["refresh_token"])
    assert refreshed.status_code == 400
    assert error_of(refreshed) == "invalid_grant"


def test_code_expires_after_60_seconds(rp, person):
    start = datetime.datetime.now(datetime.timezone.utc)
    with freeze_time(start) as frozen:
        email = person("P0")
        code = code_for(rp, email)
        frozen.tick(datetime.timedelta(seconds=59))
        assert rp.token(code).status_code == 200  # still inside its lifetime

        late = another_code(rp)
        frozen.tick(datetime.timedelta(seconds=61))
        response = rp.token(late)
    assert response.status_code == 400
    assert error_of(response) == "invalid_grant"


# --- the code is bound to redirect_uri, PKCE and the client -------------------------------------
def test_wrong_redirect_uri_is_invalid_grant(register, person):
    rp = register(redirect_uris=["https://rp.example/callback", "https://rp.example/other"])
    email = person("P0")
    code = code_for(rp, email)
    response = rp.token(code, redirect_uri="https://rp.example/other")
    assert response.status_code == 400
    assert error_of(response) == "invalid_grant"


def test_wrong_pkce_verifier_is_invalid_grant(rp, person):
    email = person("P0")
    code = code_for(rp, email)
    response = rp.token(code, verifier=secrets.token_urlsafe(48))
    assert response.status_code == 400
    assert error_of(response) == "invalid_grant"


def test_missing_verifier_when_a_challenge_was_sent_is_invalid_request(rp, person):
    email = person("P0")
    code = code_for(rp, email)
    response = rp.token(code, verifier=None)
    assert response.status_code == 400
    assert error_of(response) == "invalid_request"


def test_code_issued_to_another_client_is_invalid_grant(rp, register, person):
    other = register()
    email = person("P0")
    code = code_for(rp, email)
    other.last = dict(rp.last)  # the thief even has the verifier
    response = other.token(code)
    assert response.status_code == 400
    assert error_of(response) == "invalid_grant"


# --- malformed requests -----------------------------------------------------------------------
def _form(rp, **fields) -> dict:
    form, headers = rp.auth()
    assert not headers
    form.update(fields)
    return form


def test_missing_grant_type_is_invalid_request(rp):
    response = rp.http.post("/token", data=_form(rp, code="abc", redirect_uri=rp.redirect_uri))
    assert response.status_code == 400
    assert error_of(response) == "invalid_request"
    assert "no-store" in response.headers.get("Cache-Control", "")


def test_unknown_grant_type_is_unsupported_grant_type(rp):
    response = rp.http.post("/token", data=_form(rp, grant_type="urn:example:magic", code="abc"))
    assert response.status_code == 400
    assert error_of(response) == "unsupported_grant_type"


def test_json_body_is_invalid_request_and_does_not_burn_the_code(rp, person):
    email = person("P0")
    code = code_for(rp, email)
    fields = _form(rp, grant_type="authorization_code", code=code, redirect_uri=rp.redirect_uri,
                   code_verifier=rp.last["verifier"])
    response = rp.http.post("/token", json=fields)
    assert response.status_code == 400
    assert error_of(response) == "invalid_request"
    # The refused request did not consume the code: the proper request still works.
    assert rp.token(code).status_code == 200


def test_repeated_parameter_is_invalid_request(rp, person):
    email = person("P0")
    code = code_for(rp, email)
    fields = list(_form(rp, grant_type="authorization_code", redirect_uri=rp.redirect_uri,
                        code_verifier=rp.last["verifier"]).items())
    fields += [("code", code), ("code", code)]
    response = rp.http.post("/token", data=urlencode(fields), content_type=FORM)
    assert response.status_code == 400
    assert error_of(response) == "invalid_request"
    assert rp.token(code).status_code == 200
