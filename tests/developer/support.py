"""Helpers for tests of the integrator portal: an organisation and member made directly, logged in through the
real pages, and the forms the portal posts.

Import with ``from developer.support import integrator, portal_login`` (tests/ is on pytest's pythonpath).
"""
from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

import pyotp

from support import csrf_from, public_pem

PORTAL_PASSWORD = "integrator passphrase 2026"
STEP = 30


def integrator(app, organisation_id=None, email=None):
    """An active member (of a new organisation unless ``organisation_id``): ``(member, totp_secret, password)``."""
    from idp.areas import factors
    from idp.authentication.passwords import hash_password
    from idp.developer.area import DEVELOPER
    from idp.extensions import db
    from idp.models import Integrator, Organisation

    secret = pyotp.random_base32()
    with app.app_context():
        if organisation_id is None:
            organisation = Organisation(name=f"Org {uuid.uuid4().hex[:6]}", identifier_kind="company_number",
                                        identifier="01234567", contact_name="Dev Lead", contact_email="lead@org.example")
            db.session.add(organisation)
            db.session.flush()
            organisation_id = organisation.id
        member = Integrator(organisation_id=organisation_id, status="active",
                            email=email or f"dev-{uuid.uuid4().hex[:10]}@org.example",
                            password_hash=hash_password(PORTAL_PASSWORD),
                            totp_secret_sealed=factors.seal(DEVELOPER, app.extensions["idp"].settings, secret))
        db.session.add(member)
        db.session.commit()
        db.session.refresh(member)
        db.session.expunge(member)
    return member, secret, PORTAL_PASSWORD


def totp_code(app, member, secret: str) -> str:
    from idp.clock import now
    from idp.extensions import db
    from idp.models import Integrator

    with app.app_context():
        last = db.session.get(Integrator, member.id).totp_last_used_step
    step = max(now() // STEP, (last or 0) + 1)
    return pyotp.TOTP(secret).at(step * STEP)


def portal_login(client, member, password, secret):
    page = client.get("/developer/login")
    response = client.post("/developer/login", data={"email": member.email, "password": password,
                                                     "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/developer/login/authenticator"
    page = client.get("/developer/login/authenticator")
    response = client.post("/developer/login/authenticator", data={
        "code": totp_code(client.application, member, secret), "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def portal_csrf(client) -> str:
    return csrf_from(client.get("/developer/").get_data(as_text=True))


def logged_in_integrator(app, client, organisation_id=None):
    member, secret, password = integrator(app, organisation_id)
    portal_login(client, member, password, secret)
    return member


SERVICE_FORM = {"name": "Repeat prescriptions", "purpose": "Order repeat prescriptions from your GP surgery.",
                "audience": "Adults registered with a GP surgery in England.", "proofing_level": "P9",
                "vectors": ["P9.Cp.Cd", "P9.Cp.Ck"]}


def add_service(client, **changes) -> str:
    """Describe a service through the form; returns its id."""
    response = client.post("/developer/services/new", data={**SERVICE_FORM, **changes, "csrf_token": portal_csrf(client)})
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    return urlsplit(response.headers["Location"]).path.rsplit("/", 1)[1]


def client_form(signing_key, **changes) -> dict:
    """The client form with the public half of ``signing_key`` (None: no key); ``changes`` replace fields."""
    form = {"redirect_uris": "https://rp.example/callback", "post_logout_redirect_uris": "https://rp.example/logged-out",
            "backchannel_logout_uri": "", "scopes": ["openid", "email"], "vectors": ["P9.Cp.Cd"], "key_kind": "pem",
            "key": public_pem(signing_key) if signing_key is not None else "", "jwks_uri": "", "reason": ""}
    form.update(changes)
    return form


def register_client(client, service_id, signing_key, environment="sandpit", **changes):
    """Post the client form; returns the response (a redirect to the client, or to the service for a request)."""
    return client.post(f"/developer/services/{service_id}/clients/new?environment={environment}",
                       data={**client_form(signing_key, **changes), "environment": environment,
                             "csrf_token": portal_csrf(client)})


def client_id_from(response) -> str:
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    path = urlsplit(response.headers["Location"]).path
    assert path.startswith("/developer/clients/"), path
    return path.rsplit("/", 1)[1]


def error_of(response) -> str:
    """The first error message the page shows."""
    found = re.search(r'class="nhsuk-error-message"[^>]*>.*?</span>\s*(.*?)</span>', response.get_data(as_text=True), re.S)
    return found.group(1).strip() if found else ""
