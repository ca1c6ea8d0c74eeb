"""Password login (the ``Cp`` component) with throttling per account and per source.

Messages never say whether an account exists: a wrong email and a wrong
password read the same, and a locked account looks like any other failure.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext

from ..authentication import establish_login, throttle
from ..authentication.passwords import hash_password, needs_rehash, verify_password
from ..events import emit
from ..extensions import db
from ..i18n import N_
from ..levels import AuthenticationComponent
from ..models import Person

GENERIC_FAILURE = N_("Enter a correct email address and password")


@dataclass
class LoginResult:
    person: Person | None = None
    errors: list | None = None


def validate_form(email: str, password: str) -> list[dict]:
    errors = []
    if not email:
        errors.append({"field": "email", "message": gettext("Enter your email address")})
    elif "@" not in email or len(email) > 320:
        errors.append({"field": "email", "message": gettext(
            "Enter an email address in the correct format, like name@example.com")})
    if not password:
        errors.append({"field": "password", "message": gettext("Enter your password")})
    elif len(password) > 1024:
        errors.append({"field": "password", "message": gettext(GENERIC_FAILURE)})
    return errors


def log_in_with_password(email: str, password: str, source: str, settings) -> LoginResult:
    email = Person.normalise_email(email)
    errors = validate_form(email, password)
    if errors:
        return LoginResult(errors=errors)
    account_key = throttle.subject("login-account", email)
    source_key = throttle.subject("login-source", source)
    window = settings.login_lockout_seconds
    per_account, per_source = settings.login_attempts_per_account, settings.login_attempts_per_source
    # Count the attempt before checking the password, so parallel guesses cannot exceed the limit.
    if (throttle.is_locked(source_key, per_source, window) or throttle.is_locked(account_key, per_account, window)
            or throttle.count_attempt(account_key, per_account, window) > per_account):
        emit("login.throttled")
        return LoginResult(errors=[{"field": None, "message": gettext(
            "You have tried to log in too many times. Wait 15 minutes, then try again.")}])
    person = Person.query.filter_by(email=email).first()
    if not verify_password(person.password_hash if person else None, password):
        throttle.count_attempt(source_key, per_source, window)
        emit("login.failed")
        return LoginResult(errors=[{"field": "email", "message": gettext(GENERIC_FAILURE)}])
    throttle.clear(account_key)
    if needs_rehash(person.password_hash):
        person.password_hash = hash_password(password)
        db.session.commit()
    establish_login(person.id, [AuthenticationComponent.PASSWORD.value])
    emit("login.succeeded", person_id=person.id, components=["Cp"])
    return LoginResult(person=person)
