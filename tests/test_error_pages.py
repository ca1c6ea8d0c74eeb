"""Error pages speak to the person: a plain heading and sentence, what to do next and a way to the home page;
the OAuth error and its technical description are folded away in an NHS.UK details component for the
service's developers. A browser never gets JSON, nor Werkzeug's own error pages.
"""
from __future__ import annotations

import re
import time
from html import unescape
from urllib.parse import urlencode

import pytest
from joserfc import jwt

from support import ISSUER, private_jwk

DEVELOPERS = "Details for the service's developers"
GO_BACK = "Go back to the service you were using and try again."


def text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def error_page(response, status=400) -> dict:
    """What the person sees: heading, the page's text outside the details, and the details' summary and text."""
    html = response.get_data(as_text=True)
    assert response.status_code == status, html[:300]
    assert response.mimetype == "text/html" and "Location" not in response.headers
    assert "<title>" in html and 'id="maincontent"' in html, "not our page layout"
    main = re.search(r"<main\b.*?</main>", html, re.S).group(0)
    disclosures = re.findall(r'<details class="nhsuk-details"\s*>(.*?)</details>', main, re.S)
    assert len(disclosures) <= 1
    summary = re.search(r"<summary\b.*?</summary>", disclosures[0], re.S).group(0) if disclosures else ""
    outside = re.sub(r"<details\b.*?</details>", " ", main, flags=re.S)
    return {
        "heading": text(re.search(r"<h1[^>]*>(.*?)</h1>", main, re.S).group(1)),
        "text": text(outside),
        "summary": text(summary),
        "details": text(disclosures[0].replace(summary, "")) if disclosures else None,
        "home_link": bool(re.search(r'<a href="/">Go to the NHS login home page</a>', outside)),
    }


def assert_for_the_person(page, heading, sentence, *, advice=GO_BACK):
    assert page["heading"] == heading
    assert sentence in page["text"]
    if advice:
        assert advice in page["text"]
    assert page["home_link"]


def assert_for_developers(page, error, description):
    assert page["summary"] == DEVELOPERS
    assert f"error {error}" in page["details"]
    assert f"error_description {description}" in page["details"]
    assert description not in page["text"], "developer text outside the details"


# --- /authorize, before the redirect URI is trusted ------------------------------------------------
def test_an_unknown_client_is_explained_to_the_person(client):
    page = error_page(client.get("/authorize?" + urlencode({
        "client_id": "nobody", "redirect_uri": "https://x.example/cb", "response_type": "code", "scope": "openid"})))
    assert_for_the_person(page, "Sorry, there is a problem with the service",
                          "The service that sent you here is not registered with us.")
    assert_for_developers(page, "invalid_request", "client_id is not a client registered here.")
    assert "Error code: 400" in page["text"]


def test_an_unregistered_redirect_uri_is_explained_to_the_person(rp):
    page = error_page(rp.authorize(redirect_uri="https://evil.example/cb"))
    assert_for_the_person(page, "Sorry, there is a problem with the service",
                          "We cannot send you back to the service you were using, because its link to us is not set "
                          "up correctly.")
    assert_for_developers(page, "invalid_request", "redirect_uri is not registered for this client.")
    assert "redirect_uri" not in page["text"] and "evil.example" not in page["text"]


@pytest.mark.parametrize("params, description", [
    ({"client_id": None}, "client_id is missing."),
    ({"state": ["a", "b"]}, "The request repeats the 'state' parameter; send it once."),
    ({"request": "not-a-jwt", "redirect_uri": "https://evil.example/cb"}, "The request object is not a signed JWT."),
])
def test_other_broken_links_say_so_plainly(rp, params, description):
    query = {k: v for k, v in rp.authorize_params(**params).items() if v is not None}
    page = error_page(rp.http.get("/authorize?" + urlencode(query, doseq=True)))
    assert_for_the_person(page, "Sorry, there is a problem with the service",
                          "The service you were using sent you here with a link that does not work.")
    error = "invalid_request_object" if "request" in params else "invalid_request"
    assert_for_developers(page, error, description)


def test_the_error_page_is_welsh_but_the_details_stay_as_developers_read_them(client):
    page = error_page(client.get("/authorize?client_id=nobody&redirect_uri=https://x.example/cb&ui_locales=cy"))
    assert page["heading"] == "Mae'n ddrwg gennym, mae problem gyda'r gwasanaeth"
    assert "Nid yw'r gwasanaeth a'ch anfonodd yma wedi'i gofrestru gyda ni." in page["text"]
    assert "Ewch yn ôl i'r gwasanaeth roeddech yn ei ddefnyddio a rhowch gynnig arall arni." in page["text"]
    assert page["summary"] == "Manylion i ddatblygwyr y gwasanaeth"
    assert "error_description client_id is not a client registered here." in page["details"]


# --- /logout -------------------------------------------------------------------------------------
def foreign_id_token(key, client_id):
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "someone", "aud": client_id, "iat": now, "exp": now + 600}
    return jwt.encode({"alg": "RS512", "kid": "not-ours"}, claims, private_jwk(key), algorithms=["RS512"])


def test_an_id_token_hint_that_is_not_ours_is_explained_to_the_person(rp, client, other_rp_key):
    page = error_page(client.get("/logout?" + urlencode({"id_token_hint": foreign_id_token(other_rp_key, rp.client_id)})))
    assert_for_the_person(page, "Sorry, we could not log you out",
                          "The service you were using asked us to log you out, but its request was not one we can "
                          "accept.", advice="You may still be logged in. " + GO_BACK)
    assert_for_developers(page, "invalid_request", "id_token_hint is not an ID token issued by this provider.")
    assert "id_token_hint" not in page["text"]


def test_an_unregistered_post_logout_redirect_uri_is_explained_to_the_person(rp, client):
    page = error_page(client.get("/logout?" + urlencode({
        "client_id": rp.client_id, "post_logout_redirect_uri": "https://evil.example/bye"})))
    assert "its request was not one we can accept" in page["text"]
    assert_for_developers(page, "invalid_request", "post_logout_redirect_uri is not registered for this client.")


def test_an_unknown_client_asking_to_log_out_is_named_plainly(client):
    page = error_page(client.get("/logout?client_id=nobody"))
    assert "The service asking to log you out is not registered with us." in page["text"]
    assert_for_developers(page, "invalid_request", "client_id is not a client registered here.")


# --- never JSON, never Werkzeug's pages, for a browser ---------------------------------------------
def test_a_nul_in_the_authorization_request_is_a_page(client):
    page = error_page(client.get("/authorize?client_id=%00"))
    assert_for_the_person(page, "Sorry, there is a problem with the service",
                          "The link or form you used contains a character we cannot accept.", advice=None)
    assert_for_developers(page, "invalid_request", "Parameters must not contain NUL.")


def test_a_nul_in_a_form_field_is_our_page(client):
    response = client.post("/login", data={"email": "a\x00@example.com", "password": "x"})
    page = error_page(response)
    assert page["heading"] in ("Sorry, there is a problem with the service", "Your page has expired")
    assert page["home_link"]
    assert "The browser (or proxy) sent a request" not in response.get_data(as_text=True)


def test_a_five_kilobyte_path_is_our_not_found_page(client):
    page = error_page(client.get("/" + "a" * 5000), status=404)
    assert_for_the_person(page, "Page not found", "If you typed the web address, check it is correct.", advice=None)
    assert page["details"] is None
    assert "a" * 100 not in page["text"]


def test_werkzeugs_description_is_only_for_developers(app):
    from flask import abort

    app.add_url_rule("/test-only/broken", "broken", lambda: abort(400, description="Werkzeug says: bad framing."))
    page = error_page(app.test_client().get("/test-only/broken"))
    assert_for_the_person(page, "Sorry, there is a problem with the service", "The link or form you used did not work.")
    assert page["summary"] == DEVELOPERS and "Werkzeug says: bad framing." in page["details"]
    assert "Werkzeug says" not in page["text"]


def test_machines_still_get_json(client):
    response = client.post("/token", data={"grant_type": "authorization_code\x00"})
    assert response.status_code == 400 and response.is_json and response.get_json()["error"] == "invalid_request"
