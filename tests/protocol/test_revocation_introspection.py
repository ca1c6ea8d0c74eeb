"""Token revocation (RFC 7009) at /revoke and introspection (RFC 7662) at /introspect.

Both need client authentication (the same methods as /token); a client may only revoke or
introspect its own tokens; revoking a refresh token also ends the access tokens of its grant.
"""
from __future__ import annotations

import datetime
import time

import pytest
from freezegun import freeze_time

ISSUER = "http://idp.test"
FORM = "application/x-www-form-urlencoded"


def userinfo(http, access_token: str):
    return http.get("/userinfo", headers={"Authorization": f"Bearer {access_token}"})


def revoke(rp, token: str, **extra):
    form, headers = rp.auth()
    form.update({"token": token, **extra})
    return rp.http.post("/revoke", data=form, headers=headers)


def introspect(rp, token: str, **extra):
    form, headers = rp.auth()
    form.update({"token": token, **extra})
    return rp.http.post("/introspect", data=form, headers=headers)


def error_of(response) -> str | None:
    return (response.get_json(silent=True) or {}).get("error")


@pytest.fixture
def rrp(register):
    return register(refresh_tokens=True)


# --- revocation --------------------------------------------------------------------------------
def test_revoking_the_access_token_ends_it(rp, person, client):
    email = person("P0")
    tokens = rp.tokens_for(email)
    assert userinfo(client, tokens["access_token"]).status_code == 200
    response = revoke(rp, tokens["access_token"], token_type_hint="access_token")
    assert response.status_code == 200
    after = userinfo(client, tokens["access_token"])
    assert after.status_code == 401
    assert 'error="invalid_token"' in after.headers.get("WWW-Authenticate", "")


def test_revoking_the_access_token_without_a_hint(rp, person, client):
    email = person("P0")
    tokens = rp.tokens_for(email)
    assert revoke(rp, tokens["access_token"]).status_code == 200
    assert userinfo(client, tokens["access_token"]).status_code == 401


def test_revoking_the_refresh_token_ends_it_and_the_grants_access_tokens(rrp, person, client):
    email = person("P0")
    first = rrp.tokens_for(email)
    second = rrp.refresh(first["refresh_token"]).get_json()
    assert userinfo(client, second["access_token"]).status_code == 200

    response = revoke(rrp, second["refresh_token"], token_type_hint="refresh_token")
    assert response.status_code == 200

    refused = rrp.refresh(second["refresh_token"])
    assert refused.status_code == 400
    assert error_of(refused) == "invalid_grant"
    assert userinfo(client, second["access_token"]).status_code == 401
    assert userinfo(client, first["access_token"]).status_code == 401


def test_revoking_an_unknown_token_is_200(rp):
    assert revoke(rp, "no-such-token").status_code == 200
    assert revoke(rp, "no-such-token", token_type_hint="refresh_token").status_code == 200


def test_revocation_requires_client_authentication(rp, person, client):
    email = person("P0")
    tokens = rp.tokens_for(email)
    response = client.post("/revoke", data={"token": tokens["access_token"], "client_id": rp.client_id})
    assert response.status_code == 401
    assert error_of(response) == "invalid_client"
    assert userinfo(client, tokens["access_token"]).status_code == 200


def test_another_client_cannot_revoke_your_token(rp, register, person, client):
    other = register()
    email = person("P0")
    tokens = rp.tokens_for(email)
    response = revoke(other, tokens["access_token"])
    # RFC 7009 2.1: the server verifies the token was issued to the caller, else refuses the request.
    assert response.status_code == 400
    assert error_of(response) is not None
    assert userinfo(client, tokens["access_token"]).status_code == 200


# --- introspection -----------------------------------------------------------------------------
def test_active_access_token(rp, person):
    email = person("P0")
    tokens = rp.tokens_for(email, scope="openid email")
    sub = rp.verify_id_token(tokens["id_token"])["sub"]
    response = introspect(rp, tokens["access_token"])
    assert response.status_code == 200
    assert "no-store" in response.headers.get("Cache-Control", "")
    body = response.get_json()
    assert body["active"] is True
    assert body["scope"].split() == ["openid", "email"]
    assert body["client_id"] == rp.client_id
    assert body["sub"] == sub
    assert body["vot"] == "P0.Cp"
    assert isinstance(body["exp"], int) and 0 < body["exp"] - time.time() <= 300
    assert body.get("iss", ISSUER) == ISSUER


def test_active_refresh_token(rrp, person):
    email = person("P0")
    tokens = rrp.tokens_for(email)
    body = introspect(rrp, tokens["refresh_token"], token_type_hint="refresh_token").get_json()
    assert body["active"] is True
    assert body["client_id"] == rrp.client_id
    assert body["sub"] == rrp.verify_id_token(tokens["id_token"])["sub"]


def test_revoked_access_token_is_inactive(rp, person):
    email = person("P0")
    tokens = rp.tokens_for(email)
    assert introspect(rp, tokens["access_token"]).get_json()["active"] is True
    assert revoke(rp, tokens["access_token"]).status_code == 200
    response = introspect(rp, tokens["access_token"])
    assert response.status_code == 200
    assert response.get_json() == {"active": False}


def test_revoked_refresh_token_is_inactive(rrp, person):
    email = person("P0")
    tokens = rrp.tokens_for(email)
    assert revoke(rrp, tokens["refresh_token"]).status_code == 200
    assert introspect(rrp, tokens["refresh_token"]).get_json() == {"active": False}
    assert introspect(rrp, tokens["access_token"]).get_json() == {"active": False}


def test_expired_access_token_is_inactive(rp, person):
    with freeze_time(datetime.datetime.now(datetime.timezone.utc)) as frozen:
        email = person("P0")
        tokens = rp.tokens_for(email)
        frozen.tick(datetime.timedelta(minutes=6))
        response = introspect(rp, tokens["access_token"])
    assert response.status_code == 200
    assert response.get_json() == {"active": False}


@pytest.mark.parametrize("garbage", ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.eyJqdGkiOiJ4In0."])
def test_garbage_is_inactive(rp, garbage):
    response = introspect(rp, garbage)
    assert response.status_code == 200
    assert response.get_json() == {"active": False}


def test_another_client_cannot_introspect_your_token(rp, register, person):
    other = register()
    email = person("P0")
    tokens = rp.tokens_for(email)
    response = introspect(other, tokens["access_token"])
    assert response.status_code == 200
    assert response.get_json() == {"active": False}
    assert introspect(rp, tokens["access_token"]).get_json()["active"] is True


def test_introspection_requires_client_authentication(rp, person, client):
    email = person("P0")
    tokens = rp.tokens_for(email)
    response = client.post("/introspect", data={"token": tokens["access_token"]})
    assert response.status_code == 401
    assert error_of(response) == "invalid_client"
    assert "active" not in (response.get_json() or {})
