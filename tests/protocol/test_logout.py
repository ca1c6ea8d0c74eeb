"""/logout: OpenID Connect RP-Initiated Logout 1.0 and Back-Channel Logout 1.0.

A valid id_token_hint for the person logged in, with a registered post_logout_redirect_uri,
logs out and redirects there with ``state``; anything short of that asks the person first;
requests that cannot be trusted show an error page and never redirect. Clients that
registered a back-channel URI get a logout token (a JWT, typ logout+jwt) by POST.
"""
from __future__ import annotations

import html
import re
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact

import support
from support import wait_until

ISSUER = "http://idp.test"
LOGGED_OUT = "https://rp.example/logged-out"
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"


# --- helpers -----------------------------------------------------------------------------------
def query_of(location: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def hidden_fields(page: str) -> dict:
    fields = {}
    for tag in re.findall(r"<input[^>]*>", page):
        if 'type="hidden"' not in tag:
            continue
        name = re.search(r'name="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            fields[html.unescape(name.group(1))] = html.unescape(value.group(1)) if value else ""
    return fields


def silent_authorize(rp) -> dict:
    """prompt=none: a code if the browser is still logged in, else an error."""
    response = rp.authorize(prompt="none")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].startswith(rp.redirect_uri)
    return query_of(response.headers["Location"])


def assert_logged_in(rp):
    result = silent_authorize(rp)
    assert "code" in result, result


def assert_logged_out(rp):
    result = silent_authorize(rp)
    assert result.get("error") == "login_required", result
    assert "code" not in result


def logout_get(http, **params):
    return http.get("/logout?" + urlencode(params))


def assert_error_page(response):
    support.assert_error_page(response, "Sorry, we could not log you out")


# --- RP-initiated logout -----------------------------------------------------------------------
def test_logout_with_id_token_hint_redirects_with_state_and_ends_the_session(rp, person, client):
    email = person("P0")
    tokens = rp.tokens_for(email)
    assert_logged_in(rp)

    response = logout_get(client, id_token_hint=tokens["id_token"], post_logout_redirect_uri=LOGGED_OUT,
                          state="state-123")
    assert response.status_code in (302, 303)
    location = response.headers["Location"]
    assert location.split("?")[0] == LOGGED_OUT
    assert query_of(location) == {"state": "state-123"}

    assert_logged_out(rp)


def test_logout_without_state_redirects_without_it(rp, person, client):
    email = person("P0")
    tokens = rp.tokens_for(email)
    response = logout_get(client, id_token_hint=tokens["id_token"], post_logout_redirect_uri=LOGGED_OUT)
    assert response.status_code in (302, 303)
    assert response.headers["Location"] == LOGGED_OUT
    assert_logged_out(rp)


def test_unregistered_post_logout_redirect_uri_shows_an_error_page(rp, person, client):
    email = person("P0")
    tokens = rp.tokens_for(email)
    response = logout_get(client, id_token_hint=tokens["id_token"],
                          post_logout_redirect_uri="https://evil.example/logged-out", state="s")
    assert_error_page(response)
    assert "evil.example" not in response.headers.get("Location", "")
    assert_logged_in(rp)  # nothing happened


def test_post_logout_redirect_uri_without_hint_or_client_id_is_an_error_page(rp, person, client):
    email = person("P0")
    rp.tokens_for(email)
    assert_error_page(logout_get(client, post_logout_redirect_uri=LOGGED_OUT))
    assert_logged_in(rp)


def test_garbage_id_token_hint_shows_an_error_page(rp, person, client):
    email = person("P0")
    rp.tokens_for(email)
    assert_error_page(logout_get(client, id_token_hint="this.is.garbage", post_logout_redirect_uri=LOGGED_OUT))
    assert_error_page(logout_get(client, id_token_hint="garbage"))
    assert_logged_in(rp)


def test_without_id_token_hint_the_person_is_asked_and_confirming_logs_out(rp, person, client):
    email = person("P0")
    rp.tokens_for(email)
    response = logout_get(client)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Do you want to log out?" in page
    assert_logged_in(rp)  # asking is not logging out

    fields = hidden_fields(page)
    assert fields.get("csrf_token")
    confirmed = client.post("/logout", data={**fields, "confirm": "yes"})
    assert confirmed.status_code == 200
    assert "You have logged out" in confirmed.get_data(as_text=True)
    assert_logged_out(rp)


def test_confirmation_keeps_the_redirect_and_state(rp, person, client):
    email = person("P0")
    rp.tokens_for(email)
    response = logout_get(client, client_id=rp.client_id, post_logout_redirect_uri=LOGGED_OUT, state="st-9")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Do you want to log out?" in page
    fields = hidden_fields(page)
    confirmed = client.post("/logout", data={**fields, "confirm": "yes"})
    assert confirmed.status_code in (302, 303)
    assert confirmed.headers["Location"].split("?")[0] == LOGGED_OUT
    assert query_of(confirmed.headers["Location"]) == {"state": "st-9"}
    assert_logged_out(rp)


def test_confirmation_without_csrf_token_does_not_log_out(rp, person, client):
    email = person("P0")
    rp.tokens_for(email)
    page = logout_get(client).get_data(as_text=True)
    assert "Do you want to log out?" in page
    response = client.post("/logout", data={"confirm": "yes"})
    assert response.status_code == 400
    assert_logged_in(rp)


def test_choosing_to_stay_logged_in(rp, person, client):
    email = person("P0")
    rp.tokens_for(email)
    fields = hidden_fields(logout_get(client).get_data(as_text=True))
    response = client.post("/logout", data={**fields, "confirm": "no"})
    assert response.status_code in (302, 303)
    assert_logged_in(rp)


# --- back-channel logout -----------------------------------------------------------------------
@pytest.fixture
def receiver():
    """A tiny relying-party back-channel endpoint on 127.0.0.1: yields (base_url, received requests)."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length") or 0)
            received.append({"path": self.path, "headers": dict(self.headers),
                             "body": self.rfile.read(length).decode()})
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def verify_logout_token(http, token: str, alg: str) -> tuple[dict, dict]:
    header = extract_compact(token.encode()).headers()
    jwks = KeySet.import_key_set(http.get("/.well-known/jwks.json").get_json())
    return header, jwt.decode(token, jwks, algorithms=[alg]).claims


def test_backchannel_logout_token(register, person, client, receiver):
    base, received = receiver
    rp = register(backchannel_logout_uri=base + "/backchannel-logout")
    email = person("P0")
    tokens = rp.tokens_for(email)
    id_claims = rp.verify_id_token(tokens["id_token"])
    assert id_claims.get("sid"), "the ID token of a client with back-channel logout carries sid"
    assert received == []

    response = logout_get(client, id_token_hint=tokens["id_token"], post_logout_redirect_uri=LOGGED_OUT, state="x")
    assert response.status_code in (302, 303)

    assert len(wait_until(lambda: received)) == 1
    request = received[0]
    assert request["path"] == "/backchannel-logout"
    assert request["headers"].get("Content-Type", "").startswith("application/x-www-form-urlencoded")
    form = {k: v for k, v in parse_qs(request["body"]).items()}
    assert list(form) == ["logout_token"] and len(form["logout_token"]) == 1

    header, claims = verify_logout_token(client, form["logout_token"][0], rp.alg)
    assert header["typ"] == "logout+jwt"
    assert header["alg"] == rp.alg
    assert claims["iss"] == ISSUER
    assert claims["aud"] in (rp.client_id, [rp.client_id])
    assert isinstance(claims["iat"], int)
    assert isinstance(claims["jti"], str) and claims["jti"]
    assert claims["events"] == {BACKCHANNEL_EVENT: {}}
    assert claims["sid"] == id_claims["sid"]
    assert claims["sub"] == id_claims["sub"]
    assert "nonce" not in claims
    assert claims["jti"] != id_claims["jti"]
    assert_logged_out(rp)


def test_backchannel_logout_reaches_every_client_of_the_session(register, person, client, receiver):
    base, received = receiver
    first = register(backchannel_logout_uri=base + "/first")
    second = register(backchannel_logout_uri=base + "/second")
    silent = register()  # no back-channel URI: nothing is sent to it
    email = person("P0")
    first_tokens = first.tokens_for(email)
    second_tokens = second.tokens_for(email)
    silent.tokens_for(email)

    response = logout_get(client, id_token_hint=first_tokens["id_token"], post_logout_redirect_uri=LOGGED_OUT)
    assert response.status_code in (302, 303)

    wait_until(lambda: len(received) >= 2)
    by_path = {r["path"]: parse_qs(r["body"])["logout_token"][0] for r in received}
    assert sorted(by_path) == ["/first", "/second"]
    for rp, path, tokens in ((first, "/first", first_tokens), (second, "/second", second_tokens)):
        _, claims = verify_logout_token(client, by_path[path], rp.alg)
        id_claims = rp.verify_id_token(tokens["id_token"])
        assert claims["aud"] in (rp.client_id, [rp.client_id])
        assert claims["sid"] == id_claims["sid"]
        assert claims["sub"] == id_claims["sub"]


def test_backchannel_after_confirmed_logout(register, person, client, receiver):
    base, received = receiver
    rp = register(backchannel_logout_uri=base + "/bc")
    email = person("P0")
    tokens = rp.tokens_for(email)
    fields = hidden_fields(logout_get(client).get_data(as_text=True))
    assert received == []  # only asking, nothing sent yet
    client.post("/logout", data={**fields, "confirm": "yes"})
    assert len(wait_until(lambda: received)) == 1
    _, claims = verify_logout_token(client, parse_qs(received[0]["body"])["logout_token"][0], rp.alg)
    assert claims["sid"] == rp.verify_id_token(tokens["id_token"])["sid"]
