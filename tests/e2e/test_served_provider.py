"""An independent client library signs a person in at the provider served by gunicorn, over real HTTP.

The relying party is Authlib's *client* (``OAuth2Session`` with ``private_key_jwt``
and PKCE S256); the browser is a ``requests.Session`` with cookies that follows
nothing by itself. ID tokens are checked against the JWKS named in discovery with
``cryptography`` directly, not with the library the provider signs with.
The provider runs with 2 gunicorn workers sharing one database (conftest.py).
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oauth2.rfc7523.assertion import private_key_jwt_sign
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicNumbers
from joserfc.jwk import RSAKey

from benchmarks.served import csrf_token

pytestmark = pytest.mark.e2e

TIMEOUT = 10
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SCOPE = "openid profile email"


# --- the relying party: Authlib's client ------------------------------------------------------------
class ShortLivedPrivateKeyJWT(PrivateKeyJWT):
    """Authlib's ``private_key_jwt`` with ``exp`` two minutes ahead and a fresh ``jti`` every time.

    Authlib's default assertion lives an hour (the provider allows a few minutes, see
    test_assertion_living_an_hour_is_refused), and a ``claims`` dict given to
    ``PrivateKeyJWT`` gets its first ``jti`` written into it and reused, so neither is used.
    """

    def sign(self, auth, token_endpoint):
        return private_key_jwt_sign(RSAKey.import_key(auth.client_secret), client_id=auth.client_id,
                                    token_endpoint=token_endpoint, alg=self.alg, expires_in=120)


def relying_party(served, discovery) -> OAuth2Session:
    token_endpoint = discovery["token_endpoint"]
    return OAuth2Session(
        client_id=served.client_id,
        client_secret=served.private_key_pem,
        token_endpoint_auth_method=ShortLivedPrivateKeyJWT(token_endpoint, alg="RS512"),
        scope=SCOPE,
        redirect_uri=served.redirect_uri,
        code_challenge_method="S256",
        token_endpoint=token_endpoint,
        default_timeout=TIMEOUT,
    )


def assertion(served, discovery, expires_in: int = 120) -> str:
    return private_key_jwt_sign(RSAKey.import_key(served.private_key_pem), client_id=served.client_id,
                                token_endpoint=discovery["token_endpoint"], alg="RS512", expires_in=expires_in)


# --- ID token checks, independent of the provider's JOSE library -------------------------------------
def b64d(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def verify_rs512(token: str, jwks: dict) -> tuple[dict, dict]:
    """(header, claims) of a JWS signed RS512 by a key in ``jwks``; raises InvalidSignature otherwise."""
    header_b64, payload_b64, signature_b64 = token.split(".")
    header = json.loads(b64d(header_b64))
    assert header["alg"] == "RS512", header
    [jwk] = [k for k in jwks["keys"] if k.get("kid") == header["kid"]]
    assert jwk["kty"] == "RSA" and jwk["use"] == "sig" and jwk["alg"] == "RS512", jwk
    public_key = RSAPublicNumbers(int.from_bytes(b64d(jwk["e"]), "big"), int.from_bytes(b64d(jwk["n"]), "big")).public_key()
    public_key.verify(b64d(signature_b64), f"{header_b64}.{payload_b64}".encode(), padding.PKCS1v15(), hashes.SHA512())
    return header, json.loads(b64d(payload_b64))


def half_hash_512(value: str) -> str:
    digest = hashlib.sha512(value.encode()).digest()
    return base64.urlsafe_b64encode(digest[:32]).rstrip(b"=").decode()


def check_id_token(token: str, jwks: dict, served, discovery, *, nonce: str | None, access_token: str) -> dict:
    _, claims = verify_rs512(token, jwks)
    now = time.time()
    assert claims["iss"] == discovery["issuer"] == served.base_url
    assert claims["aud"] == served.client_id or claims["aud"] == [served.client_id]
    assert now - 60 <= claims["iat"] <= now + 60
    assert claims["exp"] > now and claims["exp"] - claims["iat"] == 3600  # ID token: 60 minutes
    assert claims["vot"] == "P9.Cp"
    assert claims["vtm"] == served.base_url + "/trustmark"
    assert claims["at_hash"] == half_hash_512(access_token)
    assert isinstance(claims["jti"], str) and claims["jti"]
    assert isinstance(claims["auth_time"], int)
    # The nonce sent; a refreshed ID token (nonce=None) repeats none (OIDC Core 12.2 allows either).
    assert claims.get("nonce") == nonce
    return claims


# --- the browser: a requests.Session that follows nothing by itself ----------------------------------
def location(response) -> str:
    assert response.status_code in (302, 303), (response.status_code, response.text[:300])
    return urljoin(response.url, response.headers["Location"])


def query(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def browse_login_and_consent(browser: requests.Session, served, authorize_url: str, consent_expected: bool) -> str:
    """GET /authorize, log in, consent if asked; returns the redirect back to the relying party (not followed)."""
    response = browser.get(authorize_url, allow_redirects=False, timeout=TIMEOUT)
    login_url = location(response)
    assert login_url.startswith(served.base_url + "/login?")
    assert query(login_url).get("interaction")

    page = browser.get(login_url, allow_redirects=False, timeout=TIMEOUT)
    assert page.status_code == 200
    assert "Log in" in page.text and "to continue to E2E" in page.text
    response = browser.post(login_url, data={"email": served.email, "password": served.password,
                                             "csrf_token": csrf_token(page.text)}, allow_redirects=False, timeout=TIMEOUT)
    resume_url = location(response)
    assert urlsplit(resume_url).path.startswith("/authorize/resume/")

    response = browser.get(resume_url, allow_redirects=False, timeout=TIMEOUT)
    consent_url = location(response)
    if consent_url.startswith(served.redirect_uri + "?"):
        assert not consent_expected, "the consent page was skipped"
        return consent_url  # consent remembered from an earlier test (one person per run)
    assert consent_url.startswith(served.base_url + "/consent?")
    page = browser.get(consent_url, allow_redirects=False, timeout=TIMEOUT)
    assert page.status_code == 200
    assert "Share your information with E2E?" in page.text
    assert "NHS number" in page.text
    response = browser.post(consent_url, data={"decision": "allow", "csrf_token": csrf_token(page.text)},
                            allow_redirects=False, timeout=TIMEOUT)
    response = browser.get(location(response), allow_redirects=False, timeout=TIMEOUT)
    callback = location(response)
    assert callback.startswith(served.redirect_uri + "?")
    return callback


@pytest.fixture(scope="module")
def discovery(served):
    response = requests.get(served.url("/.well-known/openid-configuration"), timeout=TIMEOUT)
    assert response.status_code == 200
    return response.json()


@pytest.fixture(scope="module")
def jwks(discovery):
    response = requests.get(discovery["jwks_uri"], timeout=TIMEOUT)
    assert response.status_code == 200
    return response.json()


def sign_in(served, discovery, browser, **extra):
    """Authlib builds the request (PKCE S256, nonce, vtr); the browser logs in and consents; Authlib redeems.

    ``prompt="consent"`` makes the consent page certain (it is otherwise remembered from earlier tests).
    """
    rp = relying_party(served, discovery)
    verifier, nonce = generate_token(48), generate_token(20)
    url, state = rp.create_authorization_url(discovery["authorization_endpoint"], code_verifier=verifier,
                                             nonce=nonce, vtr='["P9.Cp"]', **extra)
    assert query(url)["code_challenge_method"] == "S256"
    callback = browse_login_and_consent(browser, served, url, consent_expected=extra.get("prompt") == "consent")
    params = query(callback)
    assert params["state"] == state
    assert params["iss"] == discovery["issuer"]  # RFC 9207
    token = rp.fetch_token(authorization_response=callback, code_verifier=verifier, state=state)
    return rp, token, nonce


# --- tests --------------------------------------------------------------------------------------------
def test_discovery_names_this_instance(served, discovery, jwks):
    assert discovery["issuer"] == served.base_url
    for name in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "end_session_endpoint"):
        assert discovery[name].startswith(served.base_url + "/")
    assert "private_key_jwt" in discovery["token_endpoint_auth_methods_supported"]
    assert "RS512" in discovery["id_token_signing_alg_values_supported"]
    assert discovery["code_challenge_methods_supported"] == ["S256"]
    assert any(k["alg"] == "RS512" and k["use"] == "sig" and "kid" in k for k in jwks["keys"])
    assert all("d" not in k and "p" not in k for k in jwks["keys"])  # public keys only


def test_authlib_client_signs_a_person_in_and_refreshes(served, discovery, jwks):
    browser = requests.Session()
    rp, token, nonce = sign_in(served, discovery, browser, prompt="consent")

    assert token["token_type"] == "Bearer"
    assert set(token["scope"].split()) == set(SCOPE.split())
    claims = check_id_token(token["id_token"], jwks, served, discovery, nonce=nonce, access_token=token["access_token"])
    assert claims["nhs_number"] == "9990000026"
    assert claims["family_name"] == "Jones" and claims["birthdate"] == "1970-01-31"
    assert claims["identity_proofing_level"] == "P9"
    assert claims["email"] == served.email and claims["email_verified"] is True
    assert "given_name" not in claims  # profile_extended was not asked for

    # The checks can fail: a changed payload no longer verifies.
    header_b64, payload_b64, signature_b64 = token["id_token"].split(".")
    forged = dict(claims, vot="P9.Cp.Cd")
    forged_b64 = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    with pytest.raises(InvalidSignature):
        verify_rs512(f"{header_b64}.{forged_b64}.{signature_b64}", jwks)

    # UserInfo, with the access token in the Authorization header.
    response = rp.get(discovery["userinfo_endpoint"])
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    info = response.json()
    assert info["sub"] == claims["sub"]
    assert info["nhs_number"] == "9990000026" and info["family_name"] == "Jones"
    assert info["email"] == served.email and info["identity_proofing_level"] == "P9"

    # Refresh: a new access token and a rotated refresh token; the refreshed ID token is about the same login.
    old_refresh = token["refresh_token"]
    refreshed = rp.refresh_token(discovery["token_endpoint"])
    assert refreshed["access_token"] != token["access_token"]
    assert refreshed["refresh_token"] and refreshed["refresh_token"] != old_refresh
    # OIDC Core 12.2: openid was granted, so the refresh answers a new ID token about the same login.
    assert "id_token" in refreshed, sorted(refreshed)
    again = check_id_token(refreshed["id_token"], jwks, served, discovery, nonce=None,
                           access_token=refreshed["access_token"])
    assert (again["sub"], again["aud"], again["auth_time"]) == (claims["sub"], claims["aud"], claims["auth_time"])
    response = rp.get(discovery["userinfo_endpoint"])
    assert response.status_code == 200 and response.json()["sub"] == claims["sub"]

    # A reused refresh token is refused and revokes the family (interface.md Tokens).
    response = requests.post(discovery["token_endpoint"], timeout=TIMEOUT, data={
        "grant_type": "refresh_token", "refresh_token": old_refresh,
        "client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion(served, discovery)})
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    response = rp.get(discovery["userinfo_endpoint"])
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_returning_person_gets_a_code_without_pages(served, discovery, jwks):
    browser = requests.Session()
    sign_in(served, discovery, browser)  # logs in and remembers consent

    rp = relying_party(served, discovery)
    verifier, nonce = generate_token(48), generate_token(20)
    url, state = rp.create_authorization_url(discovery["authorization_endpoint"], code_verifier=verifier,
                                             nonce=nonce, vtr='["P9.Cp"]')
    callback = location(browser.get(url, allow_redirects=False, timeout=TIMEOUT))
    assert callback.startswith(served.redirect_uri + "?")
    token = rp.fetch_token(authorization_response=callback, code_verifier=verifier, state=state)
    check_id_token(token["id_token"], jwks, served, discovery, nonce=nonce, access_token=token["access_token"])

    # The code is single use: redeeming it again is invalid_grant.
    code = query(callback)["code"]
    response = requests.post(discovery["token_endpoint"], timeout=TIMEOUT, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": served.redirect_uri,
        "code_verifier": verifier, "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion(served, discovery)})
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_rp_initiated_logout_with_id_token_hint(served, discovery, jwks):
    browser = requests.Session()
    rp, token, _ = sign_in(served, discovery, browser)
    end_session = discovery["end_session_endpoint"]

    # An unregistered post_logout_redirect_uri is never redirected to.
    response = browser.get(end_session, allow_redirects=False, timeout=TIMEOUT, params={
        "id_token_hint": token["id_token"], "post_logout_redirect_uri": "http://127.0.0.1:9/elsewhere"})
    assert response.status_code == 400 and "Location" not in response.headers

    state = secrets.token_urlsafe(8)
    response = browser.get(end_session, allow_redirects=False, timeout=TIMEOUT, params={
        "id_token_hint": token["id_token"], "post_logout_redirect_uri": served.post_logout_redirect_uri,
        "state": state})
    target = location(response)
    assert target.split("?")[0] == served.post_logout_redirect_uri
    assert query(target) == {"state": state}

    # The browser's session is gone: prompt=none now comes back with login_required.
    url, auth_state = rp.create_authorization_url(discovery["authorization_endpoint"], code_verifier=generate_token(48),
                                                  nonce=generate_token(20), prompt="none")
    callback = location(browser.get(url, allow_redirects=False, timeout=TIMEOUT))
    assert callback.startswith(served.redirect_uri + "?")
    params = query(callback)
    assert params["error"] == "login_required" and params["state"] == auth_state and "code" not in params


def test_assertion_living_an_hour_is_refused(served, discovery):
    response = requests.post(discovery["introspection_endpoint"], timeout=TIMEOUT, data={
        "token": "x", "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion(served, discovery, expires_in=3600)})
    # RFC 6749 5.2: 400, or 401 (which is required only when the client used the Authorization header).
    assert response.status_code in (400, 401) and response.json()["error"] == "invalid_client"


def _access_log_lines(served) -> list[str]:
    with open(served.access_log) as fh:
        return fh.read().splitlines()


def _workers_that_answered(served, seen: int, count: int, path: str) -> list[str]:
    """Pids in gunicorn's access-log lines after line ``seen`` for ``path`` (waits, bounded, for ``count``)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        lines = [line.split() for line in _access_log_lines(served)[seen:]]
        pids = [pid for pid, method, logged_path, _ in lines if (method, logged_path) == ("POST", path)]
        if len(pids) >= count:
            return pids
        time.sleep(0.02)
    raise AssertionError("gunicorn did not log the requests")


def test_replayed_client_assertion_is_refused_by_every_worker(served, discovery):
    """Both workers share the database, so an assertion accepted by one is refused by the other."""
    browser = requests.Session()
    rp, token, _ = sign_in(served, discovery, browser)
    token_endpoint = discovery["token_endpoint"]
    path = urlsplit(token_endpoint).path
    used = assertion(served, discovery)

    seen = len(_access_log_lines(served))
    first = requests.post(token_endpoint, timeout=TIMEOUT, data={
        "grant_type": "refresh_token", "refresh_token": token["refresh_token"],
        "client_assertion_type": ASSERTION_TYPE, "client_assertion": used})
    assert first.status_code == 200, first.text
    assert first.headers["Cache-Control"] == "no-store"
    [first_pid] = _workers_that_answered(served, seen, 1, path)
    fresh_refresh = first.json()["refresh_token"]

    # Replay it (with a valid refresh token) in bursts of simultaneous requests, so that both workers
    # answer some (a sync worker takes one request at a time); bounded.
    replay = {"grant_type": "refresh_token", "refresh_token": fresh_refresh,
              "client_assertion_type": ASSERTION_TYPE, "client_assertion": used}
    pids = {first_pid}
    for _ in range(10):
        seen = len(_access_log_lines(served))
        responses: list[requests.Response] = []
        barrier = threading.Barrier(4, timeout=TIMEOUT)

        def send():
            barrier.wait()
            responses.append(requests.post(token_endpoint, data=replay, timeout=TIMEOUT))

        threads = [threading.Thread(target=send) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(TIMEOUT + 5)
        assert len(responses) == 4
        for response in responses:
            assert response.status_code in (400, 401), response.text
            assert response.json()["error"] == "invalid_client"
        pids.update(_workers_that_answered(served, seen, 4, path))
        if len(pids) == 2:
            break
    assert len(pids) == 2, f"every request went to worker {first_pid}: the replay never crossed workers"

    # The refresh token was not consumed by the refused replays: the client still uses it, once.
    response = requests.post(token_endpoint, timeout=TIMEOUT, data={
        "grant_type": "refresh_token", "refresh_token": fresh_refresh,
        "client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion(served, discovery)})
    assert response.status_code == 200, response.text


def test_simultaneous_replays_one_assertion_is_accepted_once(served, discovery):
    """The same assertion sent at once to both workers: exactly one request is authenticated."""
    introspect = discovery["introspection_endpoint"]
    for _ in range(3):
        used = assertion(served, discovery)
        barrier = threading.Barrier(4, timeout=TIMEOUT)
        outcomes: list[tuple[int, str | None]] = []

        def send():
            barrier.wait()
            response = requests.post(introspect, timeout=TIMEOUT, data={
                "token": "not-a-token", "client_assertion_type": ASSERTION_TYPE, "client_assertion": used})
            outcomes.append((response.status_code, response.json().get("error")))

        threads = [threading.Thread(target=send) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(TIMEOUT + 5)
        accepted = [o for o in outcomes if o[0] == 200]
        refused = [o for o in outcomes if o[0] in (400, 401) and o[1] == "invalid_client"]
        assert len(accepted) == 1 and len(refused) == 3, outcomes


# --- a browser gets our pages, even for requests the served stack finds odd -----------------------
def our_page(response, status: int, heading: str) -> str:
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["Content-Type"].startswith("text/html")
    assert f"<title>{heading} – NHS login</title>" in response.text, response.text[:300]
    return response.text


def test_a_nul_in_a_form_field_gets_our_page(served):
    response = requests.post(served.url("/login"), data={"email": "a\x00@example.com", "password": "x"},
                             timeout=TIMEOUT, allow_redirects=False)
    assert response.status_code == 400
    assert "Go to the NHS login home page" in response.text and "<title>" in response.text


def test_a_page_request_with_a_nul_gets_a_page_not_json(served):
    html = our_page(requests.get(served.url("/authorize?client_id=%00"), timeout=TIMEOUT), 400,
                    "Sorry, there is a problem with the service")
    assert "Details for the service" in html and "Parameters must not contain NUL." in html


def test_a_five_kilobyte_path_gets_our_page_not_gunicorns(served):
    our_page(requests.get(served.url("/" + "a" * 5000), timeout=TIMEOUT), 404, "Page not found")
