"""Pairwise subject identifiers (OIDC Core 8.1) and the sector identifier document (OIDC Registration 5).

A pairwise client sees ``sub`` = base64url(SHA-256(sector host + person id + salt)): the same for
every client of one sector (the host of ``sector_identifier_uri``, else of the redirect URIs),
different across sectors, and the same in the ID token, access token, userinfo and introspection.
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from support import ISSUER


@pytest.fixture
def sector_server():
    """A tiny http server on 127.0.0.1: ``documents[path] = body`` serves it as JSON (http loopback: development)."""
    documents: dict[str, object] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path not in documents:
                self.send_response(404)
                self.end_headers()
                return
            body = documents[self.path]
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    server.documents = documents
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


def sub_of(rp, email, **params) -> str:
    tokens = rp.tokens_for(email, **params)
    return rp.verify_id_token(tokens["id_token"])["sub"]


def test_clients_in_different_sectors_see_different_subs(register, person, rp):
    email = person("P0")
    a = register(subject_type="pairwise", redirect_uris=["https://a.example/cb"])
    b = register(subject_type="pairwise", redirect_uris=["https://b.example/cb"])
    public = sub_of(rp, email)
    sub_a, sub_b = sub_of(a, email), sub_of(b, email)
    assert len({public, sub_a, sub_b}) == 3
    assert len(sub_a) == 43 and "=" not in sub_a  # base64url of a SHA-256 digest
    assert sub_of(a, email) == sub_a  # stable for the same client and person
    assert sub_of(a, person("P0"), prompt="login") != sub_a  # and different for another person


def test_clients_of_one_sector_see_the_same_sub(register, person, sector_server):
    sector_server.documents["/sector.json"] = ["https://a.example/cb", "https://b.example/cb", "https://b.example/cb2"]
    sector = sector_server.url + "/sector.json"
    a = register(subject_type="pairwise", redirect_uris=["https://a.example/cb"], sector_identifier_uri=sector)
    b = register(subject_type="pairwise", redirect_uris=["https://b.example/cb", "https://b.example/cb2"],
                 sector_identifier_uri=sector)
    alone = register(subject_type="pairwise", redirect_uris=["https://a.example/cb"])  # sector a.example
    email = person("P0")
    assert sub_of(a, email) == sub_of(b, email) != sub_of(alone, email)


def test_the_id_token_access_token_userinfo_and_introspection_agree(register, person, client):
    rp = register(subject_type="pairwise", redirect_uris=["https://a.example/cb"])
    email = person("P0")
    tokens = rp.tokens_for(email, scope="openid email")
    sub = rp.verify_id_token(tokens["id_token"])["sub"]
    jwks = KeySet.import_key_set(client.get("/.well-known/jwks.json").get_json())
    assert jwt.decode(tokens["access_token"], jwks, algorithms=["RS512"]).claims["sub"] == sub
    info = client.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}).get_json()
    assert info == {"sub": sub, "email": email, "email_verified": True}
    form, headers = rp.auth()
    introspected = client.post("/introspect", data={**form, "token": tokens["access_token"]}, headers=headers)
    assert introspected.get_json()["active"] is True
    assert introspected.get_json()["sub"] == sub


def test_id_token_hint_with_a_pairwise_sub_is_recognised(register, person):
    rp = register(subject_type="pairwise", redirect_uris=["https://a.example/cb"])
    tokens = rp.tokens_for(person("P0"))
    again = rp.login_flow(None, prompt="none", id_token_hint=tokens["id_token"])
    assert "code" in again, again


def test_a_redirect_uri_missing_from_the_sector_document_is_refused(app, register, sector_server):
    from idp.protocol.registration import RegistrationError

    sector_server.documents["/sector.json"] = ["https://a.example/cb"]
    with pytest.raises(RegistrationError, match="does not list https://a.example/other"):
        register(subject_type="pairwise", redirect_uris=["https://a.example/cb", "https://a.example/other"],
                 sector_identifier_uri=sector_server.url + "/sector.json")


@pytest.mark.parametrize("path, body, reason", [
    ("/missing.json", None, "HTTP 404"),
    ("/not-json", b"<html>", "not JSON"),
    ("/object.json", {"redirect_uris": ["https://a.example/cb"]}, "JSON array"),
])
def test_an_unusable_sector_document_is_refused(register, sector_server, path, body, reason):
    from idp.protocol.registration import RegistrationError

    if body is not None:
        sector_server.documents[path] = body
    with pytest.raises(RegistrationError, match=reason):
        register(subject_type="pairwise", redirect_uris=["https://a.example/cb"],
                 sector_identifier_uri=sector_server.url + path)


def test_sector_identifier_uri_must_be_https_outside_loopback(register):
    from idp.protocol.registration import RegistrationError

    with pytest.raises(RegistrationError, match="sector_identifier_uri"):
        register(subject_type="pairwise", sector_identifier_uri="http://sector.example/s.json")


def test_several_redirect_hosts_need_a_sector_identifier_uri(register):
    from idp.protocol.registration import RegistrationError

    with pytest.raises(RegistrationError, match="sector_identifier_uri"):
        register(subject_type="pairwise", redirect_uris=["https://a.example/cb", "https://b.example/cb"])


def test_the_salt_comes_from_the_secret_key():
    from idp.protocol.subjects import pairwise_subject

    person_id = "0b5f3c1e-6f7a-4a55-9a51-3f0d9c5c2a11"
    first = pairwise_subject("a.example", person_id, "secret-one" * 4)
    assert first == pairwise_subject("a.example", person_id, "secret-one" * 4)
    assert first != pairwise_subject("b.example", person_id, "secret-one" * 4)
    assert first != pairwise_subject("a.example", person_id, "secret-two" * 4)


# --- the CLI and /register --------------------------------------------------------------------------
def test_cli_registers_a_pairwise_client_with_a_sector(app, sector_server, tmp_path, rp_key):
    from support import public_pem

    sector_server.documents["/sector.json"] = ["https://a.example/cb", "https://b.example/cb"]
    pem = tmp_path / "rp.pem"
    pem.write_text(public_pem(rp_key))
    runner = app.test_cli_runner()
    args = ["clients", "add", "--name", "Pairwise", "--redirect-uri", "https://a.example/cb",
            "--redirect-uri", "https://b.example/cb", "--public-key", str(pem), "--subject-type", "pairwise"]
    refused = runner.invoke(args=args)
    assert refused.exit_code != 0 and "sector_identifier_uri" in refused.output
    added = runner.invoke(args=args + ["--sector-identifier-uri", sector_server.url + "/sector.json"])
    assert added.exit_code == 0, added.output
    shown = json.loads(added.output)
    assert shown["subject_type"] == "pairwise"
    assert shown["sector_identifier_uri"] == sector_server.url + "/sector.json"
    sector_server.documents["/sector.json"] = ["https://a.example/cb"]
    updated = runner.invoke(args=["clients", "update", shown["client_id"], "--name", "Renamed"])
    assert updated.exit_code != 0 and "does not list https://b.example/cb" in updated.output


def test_register_endpoint_accepts_pairwise_and_checks_the_sector_document(app, client, sector_server):
    runner = app.test_cli_runner()
    token = runner.invoke(args=["clients", "initial-access-token"]).output.strip()
    sector_server.documents["/sector.json"] = ["https://a.example/cb"]
    body = {"redirect_uris": ["https://a.example/cb"], "subject_type": "pairwise",
            "sector_identifier_uri": sector_server.url + "/sector.json"}
    headers = {"Authorization": f"Bearer {token}"}
    response = client.post("/register", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["subject_type"] == "pairwise"
    assert response.get_json()["sector_identifier_uri"] == body["sector_identifier_uri"]
    bad = client.post("/register", json={**body, "redirect_uris": ["https://a.example/elsewhere"]}, headers=headers)
    assert bad.status_code == 400
    assert bad.get_json()["error"] == "invalid_client_metadata"
    several = client.post("/register", json={"redirect_uris": ["https://a.example/cb", "https://b.example/cb"],
                                              "subject_type": "pairwise"}, headers=headers)
    assert several.get_json()["error"] == "invalid_client_metadata"


def test_discovery_advertises_pairwise(client):
    config = client.get("/.well-known/openid-configuration").get_json()
    assert config["subject_types_supported"] == ["public", "pairwise"]
    assert config["issuer"] == ISSUER
