"""Browser-facing hardening: security headers, the session cookie, session fixation, error handling, forms."""
from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

import pytest

import support
from support import PASSWORD, make_app, csrf_from

HTTPS_ISSUER = "https://idp.test"
HTML_PAGES = [
    "/",
    "/login",
    "/no-such-page",
    # An authorization error page: unknown client, shown to the person, never redirected.
    "/authorize?response_type=code&client_id=unknown&redirect_uri=https%3A%2F%2Frp.example%2Fcallback"
    "&scope=openid&state=s&nonce=n",
]


def set_cookies(response) -> dict[str, str]:
    """name -> full Set-Cookie header."""
    return {h.split("=", 1)[0]: h for h in response.headers.getlist("Set-Cookie")}


def attributes(header: str) -> dict[str, str]:
    parts = [p.strip() for p in header.split(";")]
    attrs = {}
    for part in parts[1:]:
        name, _, value = part.partition("=")
        attrs[name.lower()] = value
    return attrs


def cookie_value(header: str) -> str:
    return header.split(";", 1)[0].split("=", 1)[1]


def log_in(http, email, base_url=None, headers=None):
    """The login page as first served (its cookie is the one before login) and the response that ends the login."""
    kwargs = {"base_url": base_url} if base_url else {}
    page = http.get("/login", **kwargs)
    return page, support.log_in(http, email, headers=headers or {}, **kwargs)


def is_logged_in(app, cookie_name, value, base_url=None) -> bool:
    """A fresh browser that presents only this cookie value: does /account show an account?"""
    other = app.test_client()
    kwargs = {"base_url": base_url} if base_url else {}
    if base_url:
        other.set_cookie(cookie_name, value, domain=urlsplit(base_url).hostname, secure=base_url.startswith("https"))
    else:
        other.set_cookie(cookie_name, value)
    response = other.get("/account", **kwargs)
    if response.status_code == 200:
        return True
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    return False


@pytest.fixture
def https_app(sqlite_copy, tmp_path):
    application = make_app(sqlite_copy("https.sqlite3"), str(tmp_path), IDP_ISSUER=HTTPS_ISSUER)
    yield application
    with application.app_context():
        from idp.extensions import db

        db.session.remove()
        db.engine.dispose()


# --- headers -------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", HTML_PAGES)
def test_html_pages_carry_security_headers(client, path):
    response = client.get(path)
    assert response.mimetype == "text/html"
    csp = response.headers.get("Content-Security-Policy", "")
    directives = {d.strip().split(" ")[0]: d.strip() for d in csp.split(";") if d.strip()}
    assert directives.get("frame-ancestors") == "frame-ancestors 'none'", csp
    assert "object-src" in directives and "'none'" in directives["object-src"]
    assert "base-uri" in directives
    script_src = directives.get("script-src", directives.get("default-src", ""))
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert response.headers.get("X-Frame-Options") == "DENY"
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy") in ("no-referrer", "strict-origin", "same-origin",
                                                       "strict-origin-when-cross-origin")
    assert "no-store" in response.headers.get("Cache-Control", "")


def test_csp_nonce_is_fresh_per_response(client):
    def nonce():
        return re.search(r"'nonce-([^']+)'", client.get("/login").headers["Content-Security-Policy"]).group(1)

    assert nonce() != nonce()


def test_error_pages_have_their_status(client):
    assert client.get(HTML_PAGES[3]).status_code == 400
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Page not found" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/.well-known/openid-configuration", "/.well-known/jwks.json", "/trustmark"])
def test_json_responses_are_nosniff(client, path):
    response = client.get(path)
    assert response.is_json
    assert response.headers.get("X-Content-Type-Options") == "nosniff"


def test_no_hsts_over_http_but_hsts_over_https(client, https_app):
    assert "Strict-Transport-Security" not in client.get("/").headers
    response = https_app.test_client().get("/", base_url=HTTPS_ISSUER)
    assert "max-age=" in response.headers.get("Strict-Transport-Security", "")


# --- the session cookie --------------------------------------------------------------------------
def test_session_cookie_flags_over_http(client):
    cookies = set_cookies(client.get("/login"))
    assert "idp_session" in cookies, cookies
    attrs = attributes(cookies["idp_session"])
    assert "httponly" in attrs
    assert attrs.get("samesite", "").lower() == "lax"
    assert "secure" not in attrs  # an http issuer (development) would never get it back otherwise
    assert attrs.get("path") == "/"


def test_session_cookie_is_secure_for_an_https_issuer(https_app, person):
    http = https_app.test_client()
    response = http.get("/login", base_url=HTTPS_ISSUER)
    cookies = set_cookies(response)
    assert len(cookies) == 1, cookies
    name, header = next(iter(cookies.items()))
    attrs = attributes(header)
    assert "secure" in attrs
    assert "httponly" in attrs
    assert attrs.get("samesite", "").lower() == "lax"
    # The __Host- prefix pins it to this host: Secure, Path=/ and no Domain (RFC 6265bis 4.1.3.2).
    assert name.startswith("__Host-")
    assert attrs.get("path") == "/"
    assert "domain" not in attrs


def test_cookie_is_not_set_by_machine_endpoints(client):
    for response in (client.get("/.well-known/openid-configuration"), client.get("/.well-known/jwks.json"),
                     client.post("/token", data={"grant_type": "authorization_code"})):
        assert not response.headers.getlist("Set-Cookie")


# --- session fixation ----------------------------------------------------------------------------
def test_session_cookie_changes_at_login_and_the_old_value_is_dead(app, client, person):
    email = person("P0")
    page, response = log_in(client, email)
    before = cookie_value(set_cookies(page)["idp_session"])
    after_header = set_cookies(response).get("idp_session")
    assert after_header, "login must issue a new session cookie"
    after = cookie_value(after_header)
    assert after != before

    assert is_logged_in(app, "idp_session", after)
    assert not is_logged_in(app, "idp_session", before)


def test_a_planted_cookie_value_is_not_adopted(app, client, person):
    """An attacker who sets the victim's cookie to a value of their choosing gains nothing."""
    planted = "attacker-chosen-value-" + uuid.uuid4().hex
    client.set_cookie("idp_session", planted)
    page = client.get("/login")
    issued = set_cookies(page).get("idp_session")
    assert issued is None or cookie_value(issued) != planted
    response = client.post("/login", data={"email": person("P0"), "password": PASSWORD,
                                           "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 302
    assert cookie_value(set_cookies(response)["idp_session"]) != planted
    assert not is_logged_in(app, "idp_session", planted)


def test_logout_kills_the_session_cookie_value(app, client, person):
    email = person("P0")
    _, response = log_in(client, email)
    value = cookie_value(set_cookies(response)["idp_session"])
    assert is_logged_in(app, "idp_session", value)
    confirm = client.get("/logout")
    assert confirm.status_code == 200
    done = client.post("/logout", data={"confirm": "yes", "csrf_token": csrf_from(confirm.get_data(as_text=True))})
    assert done.status_code in (200, 302)
    assert not is_logged_in(app, "idp_session", value)


def https_person(https_app) -> str:
    from idp.people import add_test_person

    email = f"{uuid.uuid4().hex[:10]}@example.com"
    with https_app.app_context():
        add_test_person(https_app.extensions["idp"].settings, email=email, password=PASSWORD)
    return email


def test_https_login_works_for_a_browser_that_obeys_the_referrer_policy(https_app):
    """Pages say Referrer-Policy: the browser then sends (or omits) Referer on the login POST accordingly.

    With ``no-referrer`` a browser sends no Referer at all, so the provider must not demand one over https.
    """
    email = https_person(https_app)
    http = https_app.test_client()
    page = http.get("/login", base_url=HTTPS_ISSUER)
    policy = page.headers.get("Referrer-Policy")
    headers = {} if policy == "no-referrer" else {"Referer": HTTPS_ISSUER + "/login"}
    response = http.post("/login", data={"email": email, "password": PASSWORD,
                                         "csrf_token": csrf_from(page.get_data(as_text=True))},
                         base_url=HTTPS_ISSUER, headers=headers)
    assert response.status_code == 302, (policy, re.findall(r"<h1[^>]*>(.*?)</h1>", response.get_data(as_text=True)))


def test_https_session_changes_at_login(https_app):
    email = https_person(https_app)
    http = https_app.test_client()
    page, response = log_in(http, email, base_url=HTTPS_ISSUER, headers={"Referer": HTTPS_ISSUER + "/login"})
    before = set_cookies(page)["__Host-idp_session"]
    after = set_cookies(response)["__Host-idp_session"]
    assert cookie_value(after) != cookie_value(before)
    assert "secure" in attributes(after)
    assert is_logged_in(https_app, "__Host-idp_session", cookie_value(after), base_url=HTTPS_ISSUER)
    assert not is_logged_in(https_app, "__Host-idp_session", cookie_value(before), base_url=HTTPS_ISSUER)


# --- CSRF ----------------------------------------------------------------------------------------
def test_login_post_without_csrf_token_is_refused(client):
    client.get("/login")
    response = client.post("/login", data={"email": "someone@example.com", "password": PASSWORD})
    assert response.status_code == 400
    assert "Your page has expired" in response.get_data(as_text=True)
    assert "Location" not in response.headers


def test_csrf_token_from_another_browser_is_refused(app, client):
    token = csrf_from(app.test_client().get("/login").get_data(as_text=True))
    client.get("/login")
    response = client.post("/login", data={"email": "someone@example.com", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 400
    assert "Your page has expired" in response.get_data(as_text=True)


# --- errors and limits ---------------------------------------------------------------------------
def test_unknown_path_is_a_404_html_page(client):
    response = client.get("/definitely/not/here")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    assert "Page not found" in body
    assert "Traceback" not in body


def test_get_token_is_405_json(client):
    response = client.get("/token")
    assert response.status_code == 405
    assert response.is_json
    assert "POST" in response.headers.get("Allow", "")
    assert response.get_json()["error"] == "invalid_request"


def test_oversized_token_request_is_413_not_500(client):
    response = client.post("/token", data={"grant_type": "authorization_code", "code": "x" * (65 * 1024)})
    assert response.status_code == 413
    assert response.is_json
    assert "Traceback" not in response.get_data(as_text=True)


def test_oversized_non_form_body_to_token_is_a_client_error(client):
    response = client.post("/token", data="x" * (65 * 1024), content_type="application/json")
    assert response.status_code in (400, 413)
    assert response.is_json
    assert response.get_json()["error"] == "invalid_request"


def test_oversized_login_post_is_413_html(client):
    response = client.post("/login", data={"email": "a@example.com", "password": "p" * (65 * 1024)})
    assert response.status_code == 413
    assert response.mimetype == "text/html"
    assert "too much to send" in response.get_data(as_text=True)


def test_body_just_under_the_limit_is_accepted(client):
    response = client.post("/token", data={"grant_type": "authorization_code", "code": "x" * (60 * 1024)})
    assert response.status_code in (400, 401)
    assert response.get_json()["error"] in ("invalid_client", "invalid_request")


# --- forms ---------------------------------------------------------------------------------------
def _input_tag(html: str, name: str) -> str:
    for tag in re.findall(r"<input\b[^>]*>", html, flags=re.S):
        if re.search(rf'\bname="{name}"', tag):
            return tag
    raise AssertionError(f"no input named {name}")


def test_login_form_fields_have_autocomplete_hints(client):
    html = client.get("/login").get_data(as_text=True)
    email = _input_tag(html, "email")
    password = _input_tag(html, "password")
    assert 'autocomplete="username"' in email
    assert 'autocomplete="current-password"' in password
    assert 'type="password"' in password
    assert re.search(r'<form\b[^>]*method="post"', html, flags=re.I)
    assert 'name="csrf_token"' in html


def test_login_page_never_echoes_the_password(client):
    page = client.get("/login")
    response = client.post("/login", data={"email": "nobody@example.com", "password": "hunter2-secret-value",
                                           "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 400
    assert "hunter2-secret-value" not in response.get_data(as_text=True)


def test_a_nul_in_a_page_request_gets_a_page_not_json(client):
    """Part 10 of issue 7: a browser never gets raw JSON; machines still do."""
    page = client.get("/authorize?client_id=%00")
    assert page.status_code == 400 and page.mimetype == "text/html"
    assert b"character we cannot accept" in page.data
    api = client.post("/token", data={"grant_type": "authorization_code\x00"})
    assert api.status_code == 400 and api.is_json and api.get_json()["error"] == "invalid_request"
