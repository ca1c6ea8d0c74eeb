"""Staff systems as clients (issue 10, interface.md "Account provisioning API"): registered with a public key and
the ODS codes they act for, they get 300-second `provisioning` access tokens with client_credentials and
private_key_jwt, and nothing else; relying parties cannot have that scope or that grant."""
from __future__ import annotations

import json

import pytest
from joserfc import jwt

from support import RelyingParty, public_pem


def _add(app, tmp_path, rp_key, *args):
    pem = tmp_path / "staff-system.pem"
    pem.write_text(public_pem(rp_key))
    return app.test_cli_runner().invoke(args=["clients", "add", "--name", "Practice system", "--public-key", str(pem),
                                              *args])


@pytest.fixture
def staff_system(app, client, tmp_path, rp_key):
    result = _add(app, tmp_path, rp_key, "--provisioning", "--ods-code", "a12345", "--ods-code", "B86001")
    assert result.exit_code == 0, result.output
    registered = json.loads(result.output)
    return RelyingParty(client, app, registered["client_id"], key=rp_key), registered


def _client_credentials(system, **extra):
    form, headers = system.auth()
    return system.http.post("/token", data={"grant_type": "client_credentials", **form, **extra}, headers=headers)


def test_a_provisioning_client_is_registered_with_its_ods_codes_and_nothing_that_logs_people_in(staff_system):
    _, registered = staff_system
    assert registered["kind"] == "provisioning" and registered["ods_codes"] == ["A12345", "B86001"]
    assert registered["scope"] == "provisioning" and registered["redirect_uris"] == []
    assert registered["token_endpoint_auth_method"] == "private_key_jwt" and registered["refresh_tokens"] is False


def test_it_gets_a_300_second_provisioning_token_with_client_credentials(app, staff_system):
    system, _ = staff_system
    response = _client_credentials(system)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 300 and body["scope"] == "provisioning"
    assert "refresh_token" not in body and "id_token" not in body
    claims = jwt.decode(body["access_token"], _jwks(system), algorithms=["RS512"]).claims
    assert claims["sub"] == system.client_id == claims["client_id"] and claims["scope"] == "provisioning"
    assert claims["exp"] - claims["iat"] == 300 and "vot" not in claims
    introspected = system.http.post("/introspect", data={"token": body["access_token"], **system.auth()[0]}).get_json()
    assert introspected["active"] is True and introspected["scope"] == "provisioning" and "sub" not in introspected


def test_the_token_is_not_a_login_userinfo_refuses_it(staff_system):
    system, _ = staff_system
    token = _client_credentials(system).get_json()["access_token"]
    response = system.http.get("/userinfo", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403 and "insufficient_scope" in response.headers["WWW-Authenticate"]


def test_a_replayed_assertion_is_refused_as_at_every_token_request(staff_system):
    system, _ = staff_system
    form, _ = system.auth()
    first = system.http.post("/token", data={"grant_type": "client_credentials", **form})
    again = system.http.post("/token", data={"grant_type": "client_credentials", **form})
    assert first.status_code == 200 and again.status_code == 401
    assert again.get_json()["error"] == "invalid_client"


def test_only_the_provisioning_scope_can_be_asked_for(staff_system):
    system, _ = staff_system
    assert _client_credentials(system, scope="provisioning").status_code == 200
    refused = _client_credentials(system, scope="openid profile")
    assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_scope"


def test_a_provisioning_client_cannot_make_an_authorization_request(staff_system):
    system, _ = staff_system
    response = system.http.get(f"/authorize?client_id={system.client_id}&response_type=code&scope=openid"
                               f"&redirect_uri=https://rp.example/callback&state=s&nonce=n")
    assert response.status_code == 400 and "Location" not in response.headers
    assert "not registered with us" in response.get_data(as_text=True)
    code = system.http.post("/token", data={"grant_type": "authorization_code", "code": "x",
                                             "redirect_uri": "https://rp.example/callback", **system.auth()[0]})
    assert code.status_code == 400 and code.get_json()["error"] == "unauthorized_client"


def test_a_relying_party_cannot_use_client_credentials_or_have_the_provisioning_scope(app, register, rp):
    refused = _client_credentials(rp)
    assert refused.status_code == 400 and refused.get_json()["error"] == "unauthorized_client"
    from idp.protocol.registration import RegistrationError

    with app.app_context(), pytest.raises(RegistrationError, match="only for provisioning clients"):
        register(scope="openid provisioning")


@pytest.mark.parametrize("args, message", [
    (["--provisioning"], "ods_codes: between 1 and 50"),
    (["--provisioning", "--ods-code", "A1"], "is not an ODS code"),
    (["--provisioning", "--ods-code", "A12345", "--redirect-uri", "https://rp.example/cb"], "logs nobody in"),
    (["--provisioning", "--ods-code", "A12345", "--scope", "openid"], "the scope provisioning and no other"),
    (["--provisioning", "--ods-code", "A12345", "--auth-method", "client_secret_basic"], "private_key_jwt"),
    (["--provisioning", "--ods-code", "A12345", "--refresh-tokens"], "refresh_tokens"),
    (["--ods-code", "A12345", "--redirect-uri", "https://rp.example/cb"], "only provisioning clients act for"),
])
def test_registration_rules_for_provisioning_clients(app, tmp_path, rp_key, args, message):
    result = _add(app, tmp_path, rp_key, *args)
    assert result.exit_code != 0 and message in result.output


def test_ods_codes_are_changed_with_update_and_the_kind_never_changes(app, staff_system, rp):
    system, _ = staff_system
    runner = app.test_cli_runner()
    updated = runner.invoke(args=["clients", "update", system.client_id, "--ods-code", "C81001"])
    assert updated.exit_code == 0, updated.output
    assert json.loads(updated.output)["ods_codes"] == ["C81001"]
    turned = runner.invoke(args=["clients", "update", rp.client_id, "--provisioning", "--ods-code", "C81001"])
    assert turned.exit_code != 0 and "register a new client" in turned.output


def test_a_clients_file_can_declare_a_provisioning_client(app, tmp_path, rp_key):
    (tmp_path / "system.pem").write_text(public_pem(rp_key))
    (tmp_path / "practice-system.json").write_text(json.dumps({
        "client_id": "practice-system", "name": "Practice system", "kind": "provisioning",
        "ods_codes": ["A12345"], "public_key_file": "system.pem"}))
    result = app.test_cli_runner().invoke(args=["clients", "sync", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    shown = json.loads(app.test_cli_runner().invoke(args=["clients", "show", "practice-system"]).output)
    assert shown["kind"] == "provisioning" and shown["ods_codes"] == ["A12345"] and shown["scope"] == "provisioning"


def test_discovery_lists_client_credentials(client):
    assert "client_credentials" in client.get("/.well-known/openid-configuration").get_json()["grant_types_supported"]


def _jwks(system):
    from joserfc.jwk import KeySet

    return KeySet.import_key_set(system.http.get("/.well-known/jwks.json").get_json())

