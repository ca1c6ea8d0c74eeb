"""/userinfo (OIDC Core 5.3, RFC 6750) and PATCH /userinfo for client_user_metadata.

interface.md: GET and POST with a bearer token; PATCH sets ``client_user_metadata`` (a string
of at most 1024 characters, 204 on success, needs the client_metadata scope); errors use
WWW-Authenticate with invalid_token (401) or insufficient_scope (403).
"""
from __future__ import annotations

import datetime

from freezegun import freeze_time

FORM = "application/x-www-form-urlencoded"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def www_authenticate(response) -> str:
    return response.headers.get("WWW-Authenticate", "")


def test_get_with_bearer_header_returns_sub_and_the_scope_claims(rp, person, client):
    email = person("P9", phone="+447700900123")
    tokens = rp.tokens_for(email, scope="openid profile email phone", vtr='["P9.Cp"]')
    sub = rp.verify_id_token(tokens["id_token"])["sub"]
    response = client.get("/userinfo", headers=bearer(tokens["access_token"]))
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    info = response.get_json()
    assert info["sub"] == sub
    assert info["nhs_number"] == "9990000018"
    assert info["family_name"] == "Patel"
    assert info["birthdate"] == "1985-04-12"
    assert info["identity_proofing_level"] == "P9"
    assert info["email"] == email
    assert info["email_verified"] is True
    assert info["phone_number"] == "+447700900123"
    assert info["phone_number_verified"] is True
    # Only the scopes asked: no given_name (profile_extended), no GP details.
    assert "given_name" not in info
    assert "gp_registration_details" not in info
    assert None not in info.values()


def test_post_with_bearer_header_and_with_form_body(rp, person, client):
    email = person("P0")
    tokens = rp.tokens_for(email, scope="openid email")
    sub = rp.verify_id_token(tokens["id_token"])["sub"]

    by_header = client.post("/userinfo", headers=bearer(tokens["access_token"]))
    assert by_header.status_code == 200
    assert by_header.get_json() == {"sub": sub, "email": email, "email_verified": True}

    by_body = client.post("/userinfo", data={"access_token": tokens["access_token"]}, content_type=FORM)
    assert by_body.status_code == 200
    assert by_body.get_json() == {"sub": sub, "email": email, "email_verified": True}


def test_p0_person_gets_no_profile_claims(rp, person, client):
    email = person("P0")
    tokens = rp.tokens_for(email, scope="openid profile email")
    info = client.get("/userinfo", headers=bearer(tokens["access_token"])).get_json()
    assert info["email"] == email
    for name in ("nhs_number", "family_name", "birthdate", "identity_proofing_level"):
        assert name not in info


def test_no_token_is_401_with_www_authenticate(client):
    response = client.get("/userinfo")
    assert response.status_code == 401
    assert www_authenticate(response).startswith("Bearer")


def test_bad_token_is_401_invalid_token(rp, client):
    response = client.get("/userinfo", headers=bearer("not.a.token"))
    assert response.status_code == 401
    assert www_authenticate(response).startswith("Bearer")
    assert 'error="invalid_token"' in www_authenticate(response)

    by_body = client.post("/userinfo", data={"access_token": "garbage"}, content_type=FORM)
    assert by_body.status_code == 401
    assert 'error="invalid_token"' in www_authenticate(by_body)


def test_id_token_is_not_an_access_token(rp, person, client):
    email = person("P0")
    tokens = rp.tokens_for(email)
    response = client.get("/userinfo", headers=bearer(tokens["id_token"]))
    assert response.status_code == 401
    assert 'error="invalid_token"' in www_authenticate(response)


def test_tampered_access_token_is_401(rp, person, client):
    email = person("P0")
    tokens = rp.tokens_for(email)
    head, payload, signature = tokens["access_token"].split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    response = client.get("/userinfo", headers=bearer(f"{head}.{payload}.{flipped}"))
    assert response.status_code == 401
    assert 'error="invalid_token"' in www_authenticate(response)


def test_expired_access_token_is_401(rp, person, client):
    with freeze_time(datetime.datetime.now(datetime.timezone.utc)) as frozen:
        email = person("P0")
        tokens = rp.tokens_for(email)
        frozen.tick(datetime.timedelta(minutes=4))
        assert client.get("/userinfo", headers=bearer(tokens["access_token"])).status_code == 200
        frozen.tick(datetime.timedelta(minutes=2))  # 6 minutes after issue; access tokens live 5
        response = client.get("/userinfo", headers=bearer(tokens["access_token"]))
    assert response.status_code == 401
    assert 'error="invalid_token"' in www_authenticate(response)


# --- PATCH client_user_metadata ---------------------------------------------------------------
def test_patch_sets_client_user_metadata(rp, person, client):
    email = person("P0")
    tokens = rp.tokens_for(email, scope="openid client_metadata")
    before = client.get("/userinfo", headers=bearer(tokens["access_token"])).get_json()
    assert "client_user_metadata" not in before

    response = client.patch("/userinfo", json={"client_user_metadata": "x"}, headers=bearer(tokens["access_token"]))
    assert response.status_code == 204
    assert response.get_data() == b""
    after = client.get("/userinfo", headers=bearer(tokens["access_token"]))
    assert after.status_code == 200
    assert after.get_json()["client_user_metadata"] == "x"

    longest = "y" * 1024
    assert client.patch("/userinfo", json={"client_user_metadata": longest},
                        headers=bearer(tokens["access_token"])).status_code == 204
    assert client.get("/userinfo", headers=bearer(tokens["access_token"])).get_json()["client_user_metadata"] == longest


def test_patch_with_1025_characters_is_400(rp, person, client):
    email = person("P0")
    tokens = rp.tokens_for(email, scope="openid client_metadata")
    response = client.patch("/userinfo", json={"client_user_metadata": "z" * 1025},
                            headers=bearer(tokens["access_token"]))
    assert response.status_code == 400
    info = client.get("/userinfo", headers=bearer(tokens["access_token"])).get_json()
    assert "client_user_metadata" not in info


def test_patch_with_a_non_string_is_400(rp, person, client):
    email = person("P0")
    tokens = rp.tokens_for(email, scope="openid client_metadata")
    for body in ({"client_user_metadata": 5}, {"other": "x"}, ["x"]):
        response = client.patch("/userinfo", json=body, headers=bearer(tokens["access_token"]))
        assert response.status_code == 400, body


def test_patch_without_client_metadata_scope_is_403_insufficient_scope(rp, person, client):
    email = person("P0")
    tokens = rp.tokens_for(email, scope="openid email")
    response = client.patch("/userinfo", json={"client_user_metadata": "x"}, headers=bearer(tokens["access_token"]))
    assert response.status_code == 403
    assert www_authenticate(response).startswith("Bearer")
    assert 'error="insufficient_scope"' in www_authenticate(response)


def test_patch_without_a_token_is_401(client):
    response = client.patch("/userinfo", json={"client_user_metadata": "x"})
    assert response.status_code == 401
    assert www_authenticate(response).startswith("Bearer")


def test_client_user_metadata_belongs_to_one_client(rp, register, person, client):
    other = register()
    email = person("P0")
    mine = rp.tokens_for(email, scope="openid client_metadata")
    assert client.patch("/userinfo", json={"client_user_metadata": "mine"},
                        headers=bearer(mine["access_token"])).status_code == 204
    theirs = other.tokens_for(email, scope="openid client_metadata")
    info = client.get("/userinfo", headers=bearer(theirs["access_token"])).get_json()
    assert "client_user_metadata" not in info
    assert client.get("/userinfo", headers=bearer(mine["access_token"])).get_json()["client_user_metadata"] == "mine"
