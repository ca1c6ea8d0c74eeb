"""Helpers shared by the tests: a relying party that talks to the provider, and a browser that follows it.

Import with ``from support import ...`` (tests/ is on pytest's pythonpath).
"""
from __future__ import annotations

import base64
import hashlib
import os
import secrets
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlsplit

from cryptography.hazmat.primitives import serialization
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

ISSUER = "http://idp.test"
PASSWORD = "correct horse battery staple"
PG_URL = os.environ.get("IDP_TEST_DATABASE_URL")


def _env(db_url: str, instance: str) -> dict:
    # The fast argon2 profile: real hashing, cheap parameters (refused outside development).
    return {"IDP_ENV": "development", "IDP_ISSUER": ISSUER, "IDP_DATABASE_URL": db_url, "PORT": "5000",
            "IDP_PASSWORD_HASH_PROFILE": "fast"}


def make_app(db_url: str, instance: str, **overrides):
    from idp import create_app
    from idp.config import Settings

    env = _env(db_url, instance)
    env.update({k: str(v) for k, v in overrides.items()})
    settings = Settings.from_env(env, instance_path=instance)
    return create_app({"TESTING": True}, settings=settings)


# --- keys for relying parties ------------------------------------------------------------------
def public_pem(key) -> str:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def private_jwk(key) -> RSAKey:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return RSAKey.import_key(pem)


# --- relying party helper ----------------------------------------------------------------------
@dataclass
class RelyingParty:
    """A client registered at the provider, with what it needs to talk to it."""

    http: object
    app: object
    client_id: str
    key: object = None
    secret: str | None = None
    redirect_uri: str = "https://rp.example/callback"
    auth_method: str = "private_key_jwt"
    alg: str = "RS512"
    last: dict = field(default_factory=dict)

    # client authentication
    def assertion(self, **overrides) -> str:
        now = int(time.time())
        claims = {"iss": self.client_id, "sub": self.client_id, "aud": ISSUER + "/token", "jti": str(uuid.uuid4()),
                  "iat": now, "exp": now + 120}
        claims.update(overrides.pop("claims", {}))
        header = {"alg": overrides.pop("alg", self.alg)}
        header.update(overrides.pop("header", {}))
        return jwt.encode(header, claims, overrides.pop("key", None) or private_jwk(self.key), algorithms=[header["alg"]])

    def auth(self, **overrides) -> tuple[dict, dict]:
        """(form fields, headers) that authenticate this client."""
        if self.auth_method == "private_key_jwt":
            return {"client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    "client_assertion": self.assertion(**overrides)}, {}
        if self.auth_method == "client_secret_post":
            return {"client_id": self.client_id, "client_secret": self.secret}, {}
        basic = base64.b64encode(f"{self.client_id}:{self.secret}".encode()).decode()
        return {}, {"Authorization": f"Basic {basic}"}

    # authorization request
    def authorize_params(self, **params) -> dict:
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        base = {
            "response_type": "code", "client_id": self.client_id, "redirect_uri": self.redirect_uri,
            "scope": "openid", "state": secrets.token_urlsafe(8), "nonce": secrets.token_urlsafe(8),
            "code_challenge": challenge, "code_challenge_method": "S256",
        }
        base.update(params)
        self.last = {"verifier": verifier, **{k: v for k, v in base.items() if v is not None}}
        return {k: v for k, v in base.items() if v is not None}

    def authorize(self, **params):
        return self.http.get("/authorize?" + urlencode(self.authorize_params(**params)))

    def token(self, code: str, verifier: str | None = "last", **extra):
        form, headers = self.auth()
        form.update({"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri})
        verifier = self.last.get("verifier") if verifier == "last" else verifier
        if verifier:
            form["code_verifier"] = verifier
        form.update(extra)
        return self.http.post("/token", data=form, headers=headers)

    def refresh(self, refresh_token: str, **extra):
        form, headers = self.auth()
        form.update({"grant_type": "refresh_token", "refresh_token": refresh_token, **extra})
        return self.http.post("/token", data=form, headers=headers)

    def verify_id_token(self, token: str) -> dict:
        jwks = self.http.get("/.well-known/jwks.json").get_json()
        decoded = jwt.decode(token, KeySet.import_key_set(jwks), algorithms=[self.alg])
        return decoded.claims

    # whole flows
    def login_flow(self, email: str, password: str = PASSWORD, consent: bool = True, remember: bool = False,
                   **params) -> dict:
        """Authorize, log in (with the security code if the request needs one), consent if asked; returns the
        parsed redirect back to the RP."""
        response = self.authorize(**params)
        response = follow_to_rp(self.http, response, email=email, password=password, consent=consent,
                                redirect_uri=self.redirect_uri, remember=remember)
        return callback_params(response)

    def tokens_for(self, email: str, **params) -> dict:
        result = self.login_flow(email, **params)
        assert "code" in result, result
        response = self.token(result["code"])
        assert response.status_code == 200, response.get_json()
        return response.get_json()


def wait_until(predicate, timeout: float = 10.0):
    """Poll ``predicate`` until it returns something truthy (returned) or ``timeout`` passes (then its last value):
    for work the provider does from its job queue after answering the browser."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return value


def callback_params(response) -> dict:
    location = response.headers.get("Location", "")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def csrf_from(html: str) -> str:
    marker = 'name="csrf_token" type="hidden" value="'
    if marker not in html:
        marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start: html.index('"', start)]


def follow_to_rp(http, response, *, email=None, password=PASSWORD, consent=True, redirect_uri="https://rp.example",
                 remember=False, second=True):
    """Play the browser: follow redirects inside the provider, filling the login pages (password, then the
    security code from the outbox when the request needs one) and the consent page.

    ``second=False`` stops at the second factor's page and returns it."""
    for _ in range(16):
        if response.status_code not in (301, 302, 303):
            return response
        location = response.headers["Location"]
        if location.startswith(redirect_uri) or not (location.startswith("/") or location.startswith(ISSUER)):
            return response
        path = location[len(ISSUER):] if location.startswith(ISSUER) else location
        route = urlsplit(path).path
        page = http.get(path)
        if page.status_code in (301, 302, 303):
            response = page
        elif route == "/login":
            if email is None:
                return page
            token = csrf_from(page.get_data(as_text=True))
            response = http.post(path, data={"email": email, "password": password, "csrf_token": token})
            if response.status_code != 302:
                return response
        elif route == "/login/security-code":
            if not second or email is None:
                return page
            code = last_code(http.application, phone_of(http.application, email))
            form = {"code": code, "csrf_token": csrf_from(page.get_data(as_text=True))}
            if remember:
                form["remember"] = "yes"
            response = http.post(path, data=form)
            if response.status_code != 302:
                return response
        elif route == "/consent":
            if consent is None:
                return page
            token = csrf_from(page.get_data(as_text=True))
            response = http.post(path, data={"decision": "allow" if consent else "deny", "csrf_token": token})
        else:
            return page
    raise AssertionError("too many redirects")


def log_in(http, email: str, password: str = PASSWORD, *, remember: bool = False, **request_args):
    """Log in at /login for the account pages (no authorization request), with the security code when the
    person has a phone; returns the response the journey ends with (the account page's redirect)."""
    page = http.get("/login", **request_args)
    response = http.post("/login", data={"email": email, "password": password,
                                         "csrf_token": csrf_from(page.get_data(as_text=True))}, **request_args)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    if urlsplit(response.headers["Location"]).path == "/login/security-code":
        page = http.get(response.headers["Location"], **request_args)
        form = {"code": last_code(http.application, phone_of(http.application, email)),
                "csrf_token": csrf_from(page.get_data(as_text=True))}
        if remember:
            form["remember"] = "yes"
        response = http.post(response.headers["Location"], data=form, **request_args)
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return response


def assert_error_page(response, heading: str = "Sorry, there is a problem with the service"):
    """A 400 page shown to the person, not a redirect to the client: no Location, HTML, the plain heading."""
    assert response.status_code == 400, (response.status_code, response.headers.get("Location"))
    assert "Location" not in response.headers
    assert response.mimetype == "text/html"
    assert heading in response.get_data(as_text=True)


def phone_of(app, email: str) -> str:
    """The verified number a person's security codes go to."""
    from idp.models import Person

    with app.app_context():
        person = Person.query.filter_by(email=Person.normalise_email(email)).one()
        return person.phone_number or person.landline_number


# --- messages (idp/notifications) ----------------------------------------------------------------
def _deliver_queued(app, to=None) -> None:
    """Run due jobs, and wait for any message still being sent by the app's own worker thread."""
    from idp import jobs
    from idp.models import OutboundMessage

    def settled():
        jobs.run_due()
        pending = OutboundMessage.query.filter(OutboundMessage.status == "pending")
        if to is not None:
            pending = pending.filter(OutboundMessage.to_address == to)
        return pending.count() == 0

    with app.app_context():
        wait_until(settled, timeout=5)


def outbox(app, to=None) -> list:
    """The messages kept by the development outbox (to ``to``, or to anyone), newest last, after running due jobs.

    Each has ``channel``, ``to``, ``template``, ``language``, ``subject``, ``body`` and ``text`` (one line)."""
    from idp.notifications.adapters.outbox import read

    _deliver_queued(app, to)
    with app.app_context():
        return [entry for entry in read(app.extensions["idp"].settings.secret_key, to=to) if entry.body]


def last_code(app, to) -> str:
    """The 6-digit code in the newest message to ``to`` that has one (voice reads it digit by digit)."""
    import re

    for entry in reversed(outbox(app, to)):
        match = re.search(r"(?<!\d)\d(?: ?\d){5}(?!\d)", entry.body)
        if match:
            return match.group(0).replace(" ", "")
    raise AssertionError(f"no code has been sent to {to}")
