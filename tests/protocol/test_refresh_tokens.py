"""The refresh_token grant (RFC 6749 6, OIDC Core 12, RFC 9700 4.14.2).

interface.md "Tokens": refresh tokens live 30 days, only for clients registered with them,
are rotated on every use, and a reused refresh token revokes its family.
"""
from __future__ import annotations

import datetime

import pytest
from freezegun import freeze_time

ISSUER = "http://idp.test"


def error_of(response) -> str | None:
    return (response.get_json(silent=True) or {}).get("error")


def userinfo(http, access_token: str):
    return http.get("/userinfo", headers={"Authorization": f"Bearer {access_token}"})


@pytest.fixture
def rrp(register):
    """A relying party registered with refresh tokens."""
    return register(refresh_tokens=True)


def test_refresh_returns_new_tokens_and_an_id_token_for_the_same_login(rrp, person, client):
    email = person("P0")
    first = rrp.tokens_for(email, scope="openid email")
    assert first.get("refresh_token")
    original = rrp.verify_id_token(first["id_token"])

    response = rrp.refresh(first["refresh_token"])
    assert response.status_code == 200, response.get_json()
    assert "no-store" in response.headers.get("Cache-Control", "")
    second = response.get_json()
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] and second["refresh_token"] != first["refresh_token"]
    assert second["token_type"].lower() == "bearer"
    renewed = rrp.verify_id_token(second["id_token"])
    assert renewed["iss"] == ISSUER
    assert renewed["aud"] in (rrp.client_id, [rrp.client_id])
    assert renewed["sub"] == original["sub"]
    assert renewed["auth_time"] == original["auth_time"]
    assert renewed["vot"] == original["vot"]
    assert renewed["jti"] != original["jti"]
    # The new access token works.
    info = userinfo(client, second["access_token"])
    assert info.status_code == 200
    assert info.get_json()["sub"] == original["sub"]
    assert info.get_json()["email"] == email


def test_rotated_refresh_token_reuse_revokes_the_family(rrp, person, client):
    email = person("P0")
    first = rrp.tokens_for(email)
    second = rrp.refresh(first["refresh_token"]).get_json()
    assert "refresh_token" in second

    reused = rrp.refresh(first["refresh_token"])
    assert reused.status_code == 400
    assert error_of(reused) == "invalid_grant"

    # The reuse revoked the whole family: the newest refresh token and its access token too.
    newest = rrp.refresh(second["refresh_token"])
    assert newest.status_code == 400
    assert error_of(newest) == "invalid_grant"
    assert userinfo(client, second["access_token"]).status_code == 401
    assert userinfo(client, first["access_token"]).status_code == 401


def test_another_clients_refresh_token_is_invalid_grant_and_still_works_for_its_owner(rrp, register, person):
    thief = register(refresh_tokens=True)
    email = person("P0")
    tokens = rrp.tokens_for(email)

    stolen = thief.refresh(tokens["refresh_token"])
    assert stolen.status_code == 400
    assert error_of(stolen) == "invalid_grant"

    owner = rrp.refresh(tokens["refresh_token"])
    assert owner.status_code == 200, owner.get_json()
    assert owner.get_json()["refresh_token"]


def test_client_without_refresh_tokens_gets_none(rp, person):
    email = person("P0")
    tokens = rp.tokens_for(email)
    assert "access_token" in tokens
    assert "refresh_token" not in tokens


def test_client_without_refresh_tokens_cannot_use_the_grant(rp):
    response = rp.refresh("some-refresh-token")
    assert response.status_code == 400
    assert error_of(response) == "unauthorized_client"


def test_unknown_refresh_token_is_invalid_grant(rrp):
    response = rrp.refresh("not-a-refresh-token")
    assert response.status_code == 400
    assert error_of(response) == "invalid_grant"


def test_scope_can_be_narrowed(rrp, person, client):
    email = person("P9")
    tokens = rrp.tokens_for(email, scope="openid profile email", vtr='["P9.Cp"]')
    response = rrp.refresh(tokens["refresh_token"], scope="openid email")
    assert response.status_code == 200, response.get_json()
    narrowed = response.get_json()
    assert narrowed["scope"].split() == ["openid", "email"]
    id_claims = rrp.verify_id_token(narrowed["id_token"])
    assert id_claims["email"] == email
    assert "nhs_number" not in id_claims
    info = userinfo(client, narrowed["access_token"]).get_json()
    assert info["email"] == email
    assert "nhs_number" not in info


def test_scope_cannot_be_widened(rrp, person):
    email = person("P0")
    tokens = rrp.tokens_for(email, scope="openid email")
    response = rrp.refresh(tokens["refresh_token"], scope="openid email phone")
    assert response.status_code == 400
    assert error_of(response) == "invalid_scope"
    # A refused request did not burn the refresh token.
    assert rrp.refresh(tokens["refresh_token"]).status_code == 200


def test_refresh_token_expires_after_30_days(rrp, person):
    with freeze_time(datetime.datetime.now(datetime.timezone.utc)) as frozen:
        email = person("P0")
        tokens = rrp.tokens_for(email)
        frozen.tick(datetime.timedelta(days=29))
        response = rrp.refresh(tokens["refresh_token"])
        assert response.status_code == 200, response.get_json()
        latest = response.get_json()["refresh_token"]

        frozen.tick(datetime.timedelta(days=31))
        expired = rrp.refresh(latest)
    assert expired.status_code == 400
    assert error_of(expired) == "invalid_grant"


def test_refresh_token_unused_for_31_days_is_refused(rrp, person):
    with freeze_time(datetime.datetime.now(datetime.timezone.utc)) as frozen:
        email = person("P0")
        tokens = rrp.tokens_for(email)
        frozen.tick(datetime.timedelta(days=31))
        expired = rrp.refresh(tokens["refresh_token"])
    assert expired.status_code == 400
    assert error_of(expired) == "invalid_grant"
