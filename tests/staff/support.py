"""Helpers for tests of the staff area: make a staff member directly, and log them in through the real pages.

Import with ``from staff.support import staff_member, staff_login`` (tests/ is on pytest's pythonpath).
"""
from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import pyotp

from support import csrf_from

STAFF_PASSWORD = "staff area passphrase 2026"
STEP = 30


def staff_member(app, roles=("id_checker",), email=None, status="active"):
    """An active staff member made directly in the database: ``(member, totp_secret, password)``."""
    from idp.authentication.passwords import hash_password
    from idp.extensions import db
    from idp.models import StaffMember
    from idp.staff import factors

    secret = pyotp.random_base32()
    with app.app_context():
        member = StaffMember(email=email or f"staff-{uuid.uuid4().hex[:10]}@nhs.example", roles=list(roles),
                             password_hash=hash_password(STAFF_PASSWORD), status=status,
                             totp_secret_sealed=factors.seal(app.extensions["idp"].settings, secret))
        db.session.add(member)
        db.session.commit()
    return member, secret, STAFF_PASSWORD


def totp_code(app, member, secret: str) -> str:
    """A code the member has not used yet: this step's, or the next one's (within the drift) if this one is used."""
    from idp.clock import now
    from idp.extensions import db
    from idp.models import StaffMember

    with app.app_context():
        last = db.session.get(StaffMember, member.id).totp_last_used_step
    step = max(now() // STEP, (last or 0) + 1)
    assert step <= now() // STEP + 1, "every code within the drift is used: move the clock on (freezegun)"
    return pyotp.TOTP(secret).at(step * STEP)


def staff_password_step(client, member, password):
    """Post the login form; returns the response (a redirect to the code page when the password is right)."""
    page = client.get("/staff/login")
    return client.post("/staff/login", data={"email": member.email, "password": password,
                                             "csrf_token": csrf_from(page.get_data(as_text=True))})


def staff_login(client, member, password, totp_secret):
    """Log in at /staff/login with the password then the authenticator app; returns the final redirect."""
    response = staff_password_step(client, member, password)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert urlsplit(response.headers["Location"]).path == "/staff/login/authenticator"
    page = client.get("/staff/login/authenticator")
    response = client.post("/staff/login/authenticator", data={
        "code": totp_code(client.application, member, totp_secret), "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def staff_csrf(client) -> str:
    """The CSRF token of this browser's staff session (from the log-out form on the home page)."""
    return csrf_from(client.get("/staff/").get_data(as_text=True))


def audit_actions(app, **filters) -> list[str]:
    """The actions in the staff audit, oldest first."""
    from idp.staff import audit

    with app.app_context():
        return [event.action for event in reversed(audit.of(1000, **filters))]


def health_professional(app, client, ods_codes=("A12345",)):
    """A health professional of these organisations, logged in on ``client``."""
    from idp.extensions import db
    from idp.models import StaffMember

    member, secret, password = staff_member(app, roles=["health_professional"])
    with app.app_context():
        db.session.get(StaffMember, member.id).ods_codes = list(ods_codes)
        db.session.commit()
    staff_login(client, member, password, secret)
    return member
