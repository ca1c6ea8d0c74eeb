"""Clients whose keys live at their ``jwks_uri`` (OIDC Registration 2, OIDC Core 10.1.1).

A real JWKS server on 127.0.0.1 plays the client's key host. The provider fetches the keys once,
serves later assertions from its cache, and fetches again when an assertion names a kid it has
not seen (the client rotated its keys: the conformance suite's oidcc-refresh-token-rp-key-rotation),
but at most once every ``REFETCH_INTERVAL`` seconds, so a client cannot make it hammer a server.

Client authentication is probed as in test_client_authentication.py: a made-up code gets
``invalid_grant`` from a client that authenticated and ``invalid_client`` from one that did not.
"""
from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import pytest
from freezegun import freeze_time
from joserfc import jwt

from support import ISSUER, RelyingParty, callback_params, follow_to_rp, private_jwk

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


# --- the client's key host ---------------------------------------------------------------------
class JwksServer:
    """Serves a JWKS that the test changes, and counts how often the provider asks for it."""

    def __init__(self):
        self.keys: list[dict] = []
        self.hits = 0
        self.status = 200
        self.location = None
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                outer.hits += 1
                if outer.status in (301, 302):
                    self.send_response(outer.status)
                    self.send_header("Location", outer.location)
                    self.end_headers()
                    return
                body = json.dumps({"keys": outer.keys}).encode()
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # A fresh path per server: the provider's cache is per process and keyed by URL.
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/{uuid.uuid4().hex}/jwks.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def publish(self, *keys):
        self.keys = [public_jwk(key, kid) for key, kid in keys]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def public_jwk(key, kid: str) -> dict:
    jwk = private_jwk(key).as_dict(private=False)
    jwk.update(kid=kid, alg="RS256", use="sig")
    return jwk


@pytest.fixture
def jwks_server():
    server = JwksServer()
    yield server
    server.close()


@pytest.fixture
def key_host_rp(app, client, jwks_server, rp_key):
    """A client registered with the server's jwks_uri, publishing rp_key as kid k1."""
    from idp.protocol.registration import register_client

    jwks_server.publish((rp_key, "k1"))
    fields = {"name": "Key host service", "redirect_uris": ["https://rp.example/callback"], "scope": "openid email",
              "vtr": ["P0.Cp"], "refresh_tokens": True, "id_token_signed_response_alg": "RS256"}
    with app.app_context():
        registered, _ = register_client(fields, development=True, key={"jwks_uri": jwks_server.url})
    return RelyingParty(client, app, registered.client_id, key=rp_key, alg="RS256")


@pytest.fixture
def frozen():
    with freeze_time(datetime.now(timezone.utc)) as clock:
        yield clock


def assertion(rp, key, kid):
    return rp.assertion(header={"kid": kid}, key=private_jwk(key))


def present(rp, client_assertion):
    return rp.http.post("/token", data={
        "grant_type": "authorization_code", "code": "made-up-" + uuid.uuid4().hex, "redirect_uri": rp.redirect_uri,
        "code_verifier": "v" * 43, "client_assertion_type": ASSERTION_TYPE, "client_assertion": client_assertion,
    })


def authenticated(response) -> bool:
    body = response.get_json()
    if body.get("error") == "invalid_client":
        assert response.status_code == 401
        return False
    assert body.get("error") == "invalid_grant", body
    return True


# --- tests -------------------------------------------------------------------------------------
def test_jwks_uri_client_authenticates_and_the_keys_are_cached(key_host_rp, jwks_server, rp_key):
    for _ in range(3):
        assert authenticated(present(key_host_rp, assertion(key_host_rp, rp_key, "k1")))
    assert jwks_server.hits == 1


def test_key_rotation_is_picked_up_on_the_new_kid(key_host_rp, jwks_server, rp_key, other_rp_key, person, frozen):
    """The conformance suite's RP key rotation: refresh with an assertion signed by a new key, after 60 s."""
    tokens = _tokens(key_host_rp, person("P0"), rp_key)
    assert jwks_server.hits == 1
    jwks_server.publish((other_rp_key, "k2"))
    frozen.tick(60)
    form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
            "client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion(key_host_rp, other_rp_key, "k2")}
    response = key_host_rp.http.post("/token", data=form)
    assert response.status_code == 200, response.get_json()
    assert jwks_server.hits == 2
    # The old key is gone from the client's JWKS, and from ours once re-fetched.
    assert not authenticated(present(key_host_rp, assertion(key_host_rp, rp_key, "k1")))


def test_unknown_kid_is_invalid_client_after_one_refetch(key_host_rp, jwks_server, rp_key, other_rp_key, frozen):
    assert authenticated(present(key_host_rp, assertion(key_host_rp, rp_key, "k1")))
    frozen.tick(60)
    assert not authenticated(present(key_host_rp, assertion(key_host_rp, other_rp_key, "not-published")))
    assert jwks_server.hits == 2
    # Another unknown kid right away does not reach the client's server again.
    assert not authenticated(present(key_host_rp, assertion(key_host_rp, other_rp_key, "also-not-published")))
    assert jwks_server.hits == 2


def test_new_kids_refetch_at_most_once_per_interval(key_host_rp, jwks_server, rp_key, other_rp_key, frozen):
    from idp.protocol.client_keys import REFETCH_INTERVAL

    assert authenticated(present(key_host_rp, assertion(key_host_rp, rp_key, "k1")))
    jwks_server.publish((rp_key, "k1"), (other_rp_key, "k2"))
    assert not authenticated(present(key_host_rp, assertion(key_host_rp, other_rp_key, "k2")))
    assert jwks_server.hits == 1
    frozen.tick(REFETCH_INTERVAL + 1)
    assert authenticated(present(key_host_rp, assertion(key_host_rp, other_rp_key, "k2")))
    assert jwks_server.hits == 2


def test_cache_expires_after_the_configured_lifetime(key_host_rp, jwks_server, rp_key, app, frozen):
    assert authenticated(present(key_host_rp, assertion(key_host_rp, rp_key, "k1")))
    frozen.tick(app.extensions["idp"].settings.jwks_uri_cache_seconds - 5)
    assert authenticated(present(key_host_rp, assertion(key_host_rp, rp_key, "k1")))
    assert jwks_server.hits == 1
    frozen.tick(10)
    assert authenticated(present(key_host_rp, assertion(key_host_rp, rp_key, "k1")))
    assert jwks_server.hits == 2


def test_cached_keys_are_kept_while_the_clients_server_fails(key_host_rp, jwks_server, rp_key, app, frozen):
    assert authenticated(present(key_host_rp, assertion(key_host_rp, rp_key, "k1")))
    jwks_server.status = 500
    frozen.tick(app.extensions["idp"].settings.jwks_uri_cache_seconds + 1)
    assert authenticated(present(key_host_rp, assertion(key_host_rp, rp_key, "k1")))
    assert jwks_server.hits == 2


def test_unreachable_or_redirecting_jwks_uri_is_invalid_client(key_host_rp, jwks_server, rp_key, frozen):
    jwks_server.status, jwks_server.location = 302, jwks_server.url
    assert not authenticated(present(key_host_rp, assertion(key_host_rp, rp_key, "k1")))
    assert jwks_server.hits == 1  # the redirect is not followed
    frozen.tick(11)
    jwks_server.status = 404
    assert not authenticated(present(key_host_rp, assertion(key_host_rp, rp_key, "k1")))
    frozen.tick(11)
    jwks_server.status = 200
    assert authenticated(present(key_host_rp, assertion(key_host_rp, rp_key, "k1")))


def test_oversized_jwks_is_refused(key_host_rp, jwks_server, rp_key):
    from idp.protocol.client_keys import MAX_JWKS_BYTES

    jwks_server.keys = [{**public_jwk(rp_key, "k1"), "padding": "x" * MAX_JWKS_BYTES}]
    assert not authenticated(present(key_host_rp, assertion(key_host_rp, rp_key, "k1")))


def test_encryption_keys_never_verify_signatures(key_host_rp, jwks_server, rp_key, other_rp_key):
    jwks_server.keys = [public_jwk(rp_key, "k1"), {**public_jwk(other_rp_key, "enc-1"), "use": "enc"}]
    assert not authenticated(present(key_host_rp, assertion(key_host_rp, other_rp_key, "enc-1")))
    # Without a kid, the one signing key is the key.
    assert authenticated(present(key_host_rp, key_host_rp.assertion(key=private_jwk(rp_key))))


def test_request_objects_are_verified_with_the_jwks_uri_keys(key_host_rp, jwks_server, rp_key, person):
    email = person("P0")
    claims = {"iss": key_host_rp.client_id, "aud": ISSUER, **key_host_rp.authorize_params(state="jar")}
    signed = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, private_jwk(rp_key), algorithms=["RS256"])
    query = {"client_id": key_host_rp.client_id, "response_type": "code", "scope": "openid", "request": signed}
    response = key_host_rp.http.get("/authorize?" + urlencode(query))
    result = callback_params(follow_to_rp(key_host_rp.http, response, email=email, redirect_uri=key_host_rp.redirect_uri))
    assert result.get("state") == "jar" and "code" in result, result
    assert jwks_server.hits == 1


def _tokens(rp, email, key) -> dict:
    result = callback_params(follow_to_rp(rp.http, rp.authorize(), email=email, redirect_uri=rp.redirect_uri))
    assert "code" in result, result
    form = {"grant_type": "authorization_code", "code": result["code"], "redirect_uri": rp.redirect_uri,
            "code_verifier": rp.last["verifier"], "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion(rp, key, "k1")}
    response = rp.http.post("/token", data=form)
    assert response.status_code == 200, response.get_json()
    assert "refresh_token" in response.get_json()
    return response.get_json()

