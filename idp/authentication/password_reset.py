"""Forgotten password: an emailed code, then the phone code (or an authenticator-app code), then a new password.

The first page never reveals whether the address has an account (journeys.md): for an unknown
address a code is still drawn and counted against the address's hourly cap, but nothing is sent and
that journey's code can never be confirmed. Setting the new password ends every session and refresh
token of the person (``end_sessions_of``), lets their phone and app be tried afresh, and tells the
owner by email.
"""
from __future__ import annotations

from .. import notifications
from ..events import emit
from ..extensions import db
from ..models import Person
from . import one_time_codes, throttle
from .factors import remembered_device, security_code, totp
from .one_time_codes import CodeCheck
from .passwords import hash_password

PURPOSE = "password_reset"
UNKNOWN_PURPOSE = "password_reset_unknown"  # drawn for an unknown address: counts toward the cap, never confirmable


def send_reset_code(journey: str, email: str, language: str) -> None:
    """Email a reset code to the account's address; for an unknown address, the same work and no email."""
    person = Person.query.filter_by(email=email).first()
    code = one_time_codes.issue(PURPOSE if person else UNKNOWN_PURPOSE, journey, email)
    if person is not None:
        notifications.send("password_reset_code", email, "email", {"code": code}, language)
    db.session.commit()
    emit("password_reset.code_sent")


def check_reset_code(journey: str, email: str, code: str, source: str, settings) -> tuple[CodeCheck, Person | None]:
    outcome = one_time_codes.check(PURPOSE, journey, code, source, settings, destination=email)
    person = Person.query.filter_by(email=email).first() if outcome is CodeCheck.OK else None
    return (outcome, person) if outcome is not CodeCheck.OK or person else (CodeCheck.WRONG, None)


def set_new_password(person: Person, password: str, language: str) -> None:
    """The new password, and everything a reset ends: every session and token, lockouts of the phone and app."""
    from ..protocol.logout import end_sessions_of

    person.password_hash = hash_password(password)
    security_code.reset_failures(person)
    totp.reset_failures(person)
    remembered_device.forget_all_of(person.id)  # a reset may follow a compromise: no browser skips the code
    notifications.send("password_changed", person.email, "email", {}, language)
    db.session.commit()
    throttle.clear(throttle.subject("login-account", person.email))
    end_sessions_of(person.id, "password_reset")
    emit("password_reset.completed", person_id=person.id)
