"""Dynamic client registration (RFC 7591) at /register and its management (RFC 7592) at /register/<client_id>.

interface.md: registration needs an initial access token (``idp clients initial-access-token``),
follows the same rules as ``idp clients add``, and registers in the token's environment; the
secret methods only in sandpit; PKCE and nonce stay required unless ``"pkce"``/``"nonce"`` say
``"optional"``. Management needs the registration access token, which is rotated on read and update.
"""
from __future__ import annotations

import datetime
import hashlib

import pytest
from freezegun import freeze_time
from joserfc.jwk import RSAKey
from support import ISSUER, RelyingParty, callback_params, public_pem

CALLBACK = "https://dyn.example/callback"


@pytest.fixture
def initial_token(app):
    """``initial_token("--env", "integration")`` runs the CLI and returns the printed token."""
    runner = app.test_cli_runner()

    def _issue(*args) -> str:
        result = runner.invoke(args=["clients", "initial-access-token", *args])
        assert result.exit_code == 0, result.output
        return result.output.strip()

    return _issue


@pytest.fixture
def token(initial_token):
    return initial_token()


def bearer(value: str) -> dict:
    return {"Authorization": f"Bearer {value}"}


def jwks_for(key) -> dict:
    return {"keys": [RSAKey.import_key(public_pem(key)).as_dict(kid="rp-1", alg="RS256", use="sig")]}


def metadata(**overrides) -> dict:
    body = {"client_name": "Dynamic service", "redirect_uris": [CALLBACK], "scope": "openid email",
            "token_endpoint_auth_method": "client_secret_basic"}
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def post_register(http, token, body):
    return http.post("/register", json=body, headers=bearer(token) if token else {})


def relying_party(http, app, registered: dict, key=None) -> RelyingParty:
    return RelyingParty(http, app, registered["client_id"], key=key, secret=registered.get("client_secret"),
                        auth_method=registered["token_endpoint_auth_method"],
                        redirect_uri=registered["redirect_uris"][0],
                        alg=registered["id_token_signed_response_alg"])


def error_of(response):
    return response.status_code, (response.get_json(silent=True) or {}).get("error")


# --- discovery and the CLI ----------------------------------------------------------------------
def test_discovery_advertises_the_registration_endpoint(client):
    config = client.get("/.well-known/openid-configuration").get_json()
    assert config["registration_endpoint"] == ISSUER + "/register"


def test_the_cli_prints_a_token_once_and_stores_only_its_hash(app, initial_token):
    value = initial_token("--description", "conformance suite", "--expires-in", "3600")
    with app.app_context():
        from idp.models import InitialAccessToken

        rows = InitialAccessToken.query.all()
        assert [r.token_hash for r in rows] == [hashlib.sha256(value.encode()).hexdigest()]
        assert rows[0].environment == "sandpit" and rows[0].description == "conformance suite"
        assert rows[0].expires_at is not None


# --- registration, then a login with the registered client -------------------------------------
@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post", "private_key_jwt"])
def test_registered_client_completes_a_login_and_token_exchange(client, app, token, person, rp_key, method):
    extra = {"jwks": jwks_for(rp_key), "id_token_signed_response_alg": "RS256"} if method == "private_key_jwt" else {}
    response = post_register(client, token, metadata(token_endpoint_auth_method=method, **extra))
    assert response.status_code == 201, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    registered = response.get_json()
    assert registered["token_endpoint_auth_method"] == method
    assert registered["redirect_uris"] == [CALLBACK]
    assert registered["grant_types"] == ["authorization_code"]
    assert registered["response_types"] == ["code"]
    assert registered["vtr"] == ["P0.Cp"] and registered["environment"] == "sandpit"
    assert registered["pkce"] == "required" and registered["nonce"] == "required"
    assert isinstance(registered["client_id_issued_at"], int)
    assert registered["registration_access_token"]
    assert registered["registration_client_uri"] == f"{ISSUER}/register/{registered['client_id']}"
    if method == "private_key_jwt":
        assert "client_secret" not in registered and "client_secret_expires_at" not in registered
        assert registered["jwks"] == jwks_for(rp_key)
    else:
        assert registered["client_secret"] and registered["client_secret_expires_at"] == 0

    rp = relying_party(client, app, registered, key=rp_key)
    email = person("P0")
    tokens = rp.tokens_for(email, scope="openid email")
    claims = rp.verify_id_token(tokens["id_token"])
    assert claims["aud"] == registered["client_id"]
    assert claims["email"] == email
    assert claims["vot"] == "P0.Cp"


def test_omitted_method_is_client_secret_basic_and_keys_mean_private_key_jwt(client, token, rp_key):
    """RFC 7591 2: the default token_endpoint_auth_method is client_secret_basic."""
    plain = post_register(client, token, metadata(token_endpoint_auth_method=None)).get_json()
    assert plain["token_endpoint_auth_method"] == "client_secret_basic" and plain["client_secret"]
    keyed = post_register(client, token, metadata(token_endpoint_auth_method=None, jwks=jwks_for(rp_key))).get_json()
    assert keyed["token_endpoint_auth_method"] == "private_key_jwt" and "client_secret" not in keyed


def test_refresh_tokens_come_with_the_refresh_token_grant_type(client, app, token, person):
    registered = post_register(client, token, metadata(grant_types=["authorization_code", "refresh_token"])).get_json()
    assert registered["grant_types"] == ["authorization_code", "refresh_token"]
    rp = relying_party(client, app, registered)
    tokens = rp.tokens_for(person("P0"))
    refreshed = rp.refresh(tokens["refresh_token"])
    assert refreshed.status_code == 200, refreshed.get_json()


def test_pkce_and_nonce_stay_required_unless_registered_optional(client, app, token, person):
    strict = relying_party(client, app, post_register(client, token, metadata()).get_json())
    refused = callback_params(strict.authorize(code_challenge=None, code_challenge_method=None))
    assert refused["error"] == "invalid_request"
    refused = callback_params(strict.authorize(nonce=None))
    assert refused["error"] == "invalid_request"

    loose = post_register(client, token, metadata(pkce="optional", nonce="optional")).get_json()
    assert loose["pkce"] == "optional" and loose["nonce"] == "optional"
    rp = relying_party(client, app, loose)
    result = rp.login_flow(person("P0"), code_challenge=None, code_challenge_method=None, nonce=None)
    assert "code" in result, result
    assert rp.token(result["code"], verifier=None).status_code == 200


def test_custom_vtr_and_informational_metadata_are_kept_unknown_metadata_ignored(client, token):
    registered = post_register(client, token, metadata(
        vtr=["P9.Cp.Cd", "P9.Cp"], contacts=["ops@dyn.example"], logo_uri="https://dyn.example/logo.png",
        backchannel_logout_session_required=True, made_up_field="ignored")).get_json()
    assert registered["vtr"] == ["P9.Cp.Cd", "P9.Cp"]
    assert registered["contacts"] == ["ops@dyn.example"]
    assert registered["logo_uri"] == "https://dyn.example/logo.png"
    assert registered["backchannel_logout_session_required"] is True
    assert "made_up_field" not in registered


# --- the initial access token ----------------------------------------------------------------------
def test_missing_initial_access_token_is_401_without_an_error_code(client):
    response = post_register(client, None, metadata())
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "error=" not in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize("authorization", ["Bearer not-a-token", "Basic dXNlcjpwYXNz", "Bearer "])
def test_wrong_initial_access_token_is_401_invalid_token(client, authorization):
    response = client.post("/register", json=metadata(), headers={"Authorization": authorization})
    assert error_of(response) == (401, "invalid_token")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_expired_initial_access_token_is_refused(client, initial_token):
    with freeze_time("2030-01-01 12:00:00") as frozen:
        value = initial_token("--expires-in", "60")
        assert post_register(client, value, metadata()).status_code == 201
        frozen.tick(datetime.timedelta(seconds=61))
        assert error_of(post_register(client, value, metadata())) == (401, "invalid_token")


def test_revoked_initial_access_token_is_refused(app, client, token):
    assert post_register(client, token, metadata()).status_code == 201
    with app.app_context():
        from idp.extensions import db
        from idp.models import InitialAccessToken

        row = db.session.get(InitialAccessToken, hashlib.sha256(token.encode()).hexdigest())
        row.revoked_at = row.created_at
        db.session.commit()
    assert error_of(post_register(client, token, metadata())) == (401, "invalid_token")


def test_the_environment_comes_from_the_token_and_secrets_are_for_sandpit(client, initial_token, rp_key):
    value = initial_token("--env", "integration")
    refused = post_register(client, value, metadata(token_endpoint_auth_method="client_secret_basic"))
    assert error_of(refused) == (400, "invalid_client_metadata")
    registered = post_register(client, value, metadata(token_endpoint_auth_method="private_key_jwt",
                                                       jwks=jwks_for(rp_key), environment="sandpit"))
    assert registered.status_code == 201
    assert registered.get_json()["environment"] == "integration"


# --- refused metadata --------------------------------------------------------------------------------
@pytest.mark.parametrize("redirect_uris", [
    None, [], ["http://dyn.example/callback"], ["https://dyn.example/cb#frag"], ["https://*.example/cb"],
    ["https://dyn.example/cb?x=1"], "https://dyn.example/callback", [42], [f"https://dyn.example/{i}" for i in range(11)],
])
def test_bad_redirect_uris_are_invalid_redirect_uri(client, token, redirect_uris):
    body = metadata()
    body.pop("redirect_uris")
    if redirect_uris is not None:
        body["redirect_uris"] = redirect_uris
    assert error_of(post_register(client, token, body)) == (400, "invalid_redirect_uri")


@pytest.mark.parametrize("changes", [
    {"response_types": ["code", "id_token"]},
    {"response_types": ["token"]},
    {"grant_types": ["implicit"]},
    {"grant_types": ["client_credentials"]},
    {"token_endpoint_auth_method": "none"},
    {"token_endpoint_auth_method": "client_secret_jwt"},
    {"token_endpoint_auth_method": "private_key_jwt"},  # without keys
    {"token_endpoint_auth_method": "private_key_jwt", "jwks": {}},
    {"id_token_signed_response_alg": "none"},
    {"id_token_signed_response_alg": "HS256"},
    {"userinfo_signed_response_alg": "RS256"},
    {"id_token_encrypted_response_alg": "RSA-OAEP"},
    {"scope": "email"},
    {"scope": "openid made_up"},
    {"scope": "openid gp_integration_credentials"},
    {"vtr": ["P7.Cz"]},
    {"pkce": "plain"},
    {"subject_type": "secret"},
    {"jwks": "not an object"},
    {"jwks_uri": "http://keys.example/jwks"},
    {"client_name": ["a list"]},
    {"post_logout_redirect_uris": ["http://dyn.example/out"]},
    {"backchannel_logout_uri": "https://dyn.example/bc#x"},
    {"token_endpoint_auth_signing_alg": "HS256"},
])
def test_bad_metadata_is_invalid_client_metadata(client, token, changes):
    response = post_register(client, token, metadata(**changes))
    assert error_of(response) == (400, "invalid_client_metadata"), response.get_json()
    assert response.get_json()["error_description"]


def test_private_key_material_and_non_json_bodies_are_refused(client, token, rp_key):
    from support import private_jwk

    private = {"keys": [private_jwk(rp_key).as_dict(private=True)]}
    response = post_register(client, token, metadata(token_endpoint_auth_method="private_key_jwt", jwks=private))
    assert error_of(response) == (400, "invalid_client_metadata")
    for body, content_type in (("not json", "application/json"), ("[]", "application/json"),
                               ("redirect_uris=x", "application/x-www-form-urlencoded")):
        response = client.post("/register", data=body, content_type=content_type, headers=bearer(token))
        assert error_of(response) == (400, "invalid_client_metadata")


# --- management (RFC 7592) ---------------------------------------------------------------------------
@pytest.fixture
def registered(client, token):
    response = post_register(client, token, metadata(contacts=["ops@dyn.example"]))
    assert response.status_code == 201
    return response.get_json()


def manage(http, method, registered, access_token=None, body=None):
    path = registered["registration_client_uri"][len(ISSUER):]
    headers = bearer(access_token or registered["registration_access_token"])
    return http.open(path, method=method, json=body, headers=headers)


def test_read_returns_the_registration_and_rotates_the_access_token(client, registered):
    response = manage(client, "GET", registered)
    assert response.status_code == 200
    read = response.get_json()
    for name in ("client_id", "client_name", "redirect_uris", "scope", "token_endpoint_auth_method", "contacts"):
        assert read[name] == registered[name]
    assert "client_secret" not in read and read["client_secret_expires_at"] == 0
    assert read["registration_access_token"] != registered["registration_access_token"]
    # RFC 7592 2.1: the client must discard the previous token; it no longer works.
    assert error_of(manage(client, "GET", registered)) == (401, "invalid_token")
    assert manage(client, "GET", registered, access_token=read["registration_access_token"]).status_code == 200


def test_update_replaces_the_metadata_and_takes_effect_at_once(client, app, registered, person):
    rp = relying_party(client, app, registered)
    assert "code" in rp.login_flow(person("P0"))  # caches the registration in this process
    body = {k: v for k, v in registered.items() if k not in ("registration_access_token", "registration_client_uri")}
    body.update(redirect_uris=["https://dyn.example/new-callback"], client_name="Renamed", scope="openid")
    del body["contacts"]
    response = manage(client, "PUT", registered, body=body)
    assert response.status_code == 200, response.get_json()
    updated = response.get_json()
    assert updated["redirect_uris"] == ["https://dyn.example/new-callback"]
    assert updated["client_name"] == "Renamed" and updated["scope"] == "openid"
    assert "contacts" not in updated  # RFC 7592 2.2: omitted fields are deleted
    assert "client_secret" not in updated  # the secret is kept, not reissued
    old = rp.authorize()
    assert old.status_code == 400  # the old redirect URI is no longer registered: an error page, no redirect
    rp.redirect_uri = "https://dyn.example/new-callback"
    result = rp.login_flow(person("P0"))
    assert "code" in result, result
    assert rp.token(result["code"]).status_code == 200  # the original secret still authenticates


def test_update_is_validated_like_a_registration(client, registered):
    body = {k: v for k, v in registered.items() if k not in ("registration_access_token", "registration_client_uri")}
    bad = manage(client, "PUT", registered, body={**body, "redirect_uris": ["http://dyn.example/cb"]})
    assert error_of(bad) == (400, "invalid_redirect_uri")
    access = registered["registration_access_token"]  # a refused update leaves the token as it was
    assert error_of(manage(client, "PUT", registered, access, {**body, "client_id": "someone-else"})) == (
        400, "invalid_client_metadata")
    assert error_of(manage(client, "PUT", registered, access, {**body, "client_secret": "wrong"})) == (
        400, "invalid_client_metadata")
    assert error_of(manage(client, "PUT", registered, access, {**body, "client_secret": True})) == (
        400, "invalid_client_metadata")  # any JSON value is a mismatch, not a server error
    assert error_of(manage(client, "PUT", registered, access, {**body, "response_types": ["token"]})) == (
        400, "invalid_client_metadata")
    read = manage(client, "GET", registered, access).get_json()
    assert read["redirect_uris"] == [CALLBACK]


def test_delete_deprovisions_the_client(client, app, registered):
    rp = relying_party(client, app, registered)
    assert manage(client, "DELETE", registered).status_code == 204
    assert rp.authorize().status_code == 400  # unknown client: an error page
    assert error_of(rp.token("any-code")) == (401, "invalid_client")
    assert error_of(manage(client, "GET", registered)) == (401, "invalid_token")


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_management_with_a_wrong_or_missing_token_is_401(client, registered, method):
    body = {"client_id": registered["client_id"], "redirect_uris": [CALLBACK]}
    response = manage(client, method, registered, access_token="wrong", body=body)
    assert error_of(response) == (401, "invalid_token")
    path = registered["registration_client_uri"][len(ISSUER):]
    missing = client.open(path, method=method, json=body)
    assert missing.status_code == 401 and "error=" not in missing.headers["WWW-Authenticate"]
    assert manage(client, "GET", registered).status_code == 200  # still registered, unchanged


def test_another_clients_token_and_static_clients_cannot_be_managed(client, token, registered, rp):
    other = post_register(client, token, metadata()).get_json()
    assert error_of(manage(client, "GET", registered, access_token=other["registration_access_token"])) == (
        401, "invalid_token")
    static = {"registration_client_uri": f"{ISSUER}/register/{rp.client_id}", "registration_access_token": "x"}
    assert error_of(manage(client, "GET", static)) == (401, "invalid_token")
    assert error_of(manage(client, "DELETE", {**static, "registration_client_uri": f"{ISSUER}/register/nobody"})) == (
        401, "invalid_token")
