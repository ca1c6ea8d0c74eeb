"""Client keys are checked by the one registration module, so the CLI, clients/ files and dynamic registration
(and the integrator portal after them) refuse the same keys: a private key, a weak one, a development key where
real people's data is, oversized key material (issue 11, "the same rules everywhere")."""
from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc.jwk import RSAKey

from support import public_pem


def _private_pem(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.fixture(scope="module")
def weak_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=1024)


def _add(app, tmp_path, pem: str, *args):
    path = tmp_path / "key.pem"
    path.write_text(pem)
    return app.test_cli_runner().invoke(args=["clients", "add", "--name", "Keyed service", "--redirect-uri",
                                              "https://keyed.example/cb", "--public-key", str(path), *args])


def test_a_private_key_is_refused(app, tmp_path, rp_key):
    result = _add(app, tmp_path, _private_pem(rp_key))
    assert result.exit_code != 0 and "that is a private key" in result.output


@pytest.mark.filterwarnings("ignore:Key size should be")  # joserfc warns about the very key refused
def test_a_1024_bit_key_is_refused_everywhere(app, client, tmp_path, weak_key):
    result = _add(app, tmp_path, public_pem(weak_key))
    assert result.exit_code != 0 and "1024 bits is too weak" in result.output
    token = app.test_cli_runner().invoke(args=["clients", "initial-access-token"]).output.strip()
    jwks = {"keys": [RSAKey.import_key(public_pem(weak_key)).as_dict(kid="weak")]}
    response = client.post("/register", headers={"Authorization": f"Bearer {token}"}, json={
        "client_name": "Weak", "redirect_uris": ["https://weak.example/cb"], "jwks": jwks,
        "token_endpoint_auth_method": "private_key_jwt"})
    assert response.status_code == 400 and "too weak" in response.get_json()["error_description"]
    (tmp_path / "weak.json").write_text(json.dumps({"client_id": "weak-file", "name": "Weak file", "jwks": jwks,
                                                    "redirect_uris": ["https://weak.example/cb"]}))
    synced = app.test_cli_runner().invoke(args=["clients", "sync", "--dir", str(tmp_path)])
    assert "too weak" in synced.output
    from idp.extensions import db
    from idp.models import Client

    with app.app_context():
        assert db.session.get(Client, "weak-file") is None


def test_an_ec_key_on_an_accepted_curve_is_fine_and_on_another_is_not(app, tmp_path):
    assert _add(app, tmp_path, public_pem(ec.generate_private_key(ec.SECP256R1()))).exit_code == 0
    refused = _add(app, tmp_path, public_pem(ec.generate_private_key(ec.SECP256K1())))
    assert refused.exit_code != 0


def test_a_published_example_key_is_refused_for_integration_and_live(app, tmp_path):
    from idp.protocol.development_keys import PUBLISHED

    jwks_file = tmp_path / "example.json"
    jwks_file.write_text(json.dumps({"keys": [dict(PUBLISHED[0], kid="example")]}))
    runner = app.test_cli_runner()
    base = ["clients", "add", "--name", "Example", "--redirect-uri", "https://ex.example/cb", "--jwks-file",
            str(jwks_file)]
    live = runner.invoke(args=[*base, "--env", "live"])
    assert live.exit_code != 0 and "known development key" in live.output
    assert runner.invoke(args=[*base, "--env", "integration"]).exit_code != 0
    assert runner.invoke(args=[*base, "--env", "sandpit"]).exit_code == 0  # a development instance's sandpit


def test_this_installations_demo_key_is_a_development_key(app, tmp_path, monkeypatch, rp_key):
    from idp.protocol import development_keys

    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "demo-rp-private.pem").write_text(_private_pem(rp_key))
    monkeypatch.setattr(development_keys, "GENERATED", (str(keys),))
    result = _add(app, tmp_path, public_pem(rp_key), "--env", "integration")
    assert result.exit_code != 0 and "known development key" in result.output


def test_oversized_key_material_is_refused(app, tmp_path, rp_key):
    result = _add(app, tmp_path, public_pem(rp_key) + "\n" * 17000)
    assert result.exit_code != 0 and "at most 16384 characters" in result.output


def test_a_development_key_stops_working_when_its_client_moves_to_live(app, client, tmp_path, monkeypatch, rp_key):
    """However a client came to hold a development key (a move to live, a jwks_uri), it cannot be used there."""
    from idp.protocol import development_keys
    from support import RelyingParty

    keys = tmp_path / "keys"
    keys.mkdir()
    (keys / "demo-rp-private.pem").write_text(_private_pem(rp_key))
    monkeypatch.setattr(development_keys, "GENERATED", (str(keys),))
    added = _add(app, tmp_path, public_pem(rp_key), "--env", "sandpit")
    client_id = json.loads(added.output)["client_id"]
    rp = RelyingParty(client, app, client_id, key=rp_key, redirect_uri="https://keyed.example/cb")
    form, _ = rp.auth()
    assert client.post("/token", data={"grant_type": "authorization_code", "code": "x",
                                       "redirect_uri": rp.redirect_uri, **form}).get_json()["error"] == "invalid_grant"
    moved = app.test_cli_runner().invoke(args=["clients", "update", client_id, "--env", "live"])
    assert moved.exit_code == 0
    form, _ = rp.auth()
    refused = client.post("/token", data={"grant_type": "authorization_code", "code": "x",
                                          "redirect_uri": rp.redirect_uri, **form})
    assert refused.status_code == 401 and refused.get_json()["error"] == "invalid_client"
