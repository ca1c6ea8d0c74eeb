"""The password factor (``Cp``): verify an email and password, throttled per account and per source.

The outcome never says whether an account exists: an unknown email is checked against a dummy
hash (the same cost as a wrong password) and reads as ``WRONG``; a locked account reads as
``THROTTLED`` whether or not it exists.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

from ...events import emit
from ...extensions import db
from ...models import Person
from .. import throttle
from ..passwords import hash_password, needs_rehash, verify_password
from . import Factor

MAX_LENGTH = 1024  # longer candidates are refused before hashing (a cheap denial of service otherwise)


class Outcome(enum.Enum):
    OK = "ok"
    WRONG = "wrong"
    THROTTLED = "throttled"


@dataclass(frozen=True)
class PasswordCheck:
    outcome: Outcome
    person: Person | None = None


def check_password(email: str, password: str, source: str, settings) -> PasswordCheck:
    """Whether ``password`` is this account's; counts every attempt before checking (parallel guesses)."""
    email = Person.normalise_email(email)
    account_key = throttle.subject("login-account", email)
    source_key = throttle.subject("login-source", source)
    window = settings.login_lockout_seconds
    per_account, per_source = settings.login_attempts_per_account, settings.login_attempts_per_source
    if (throttle.is_locked(source_key, per_source, window) or throttle.is_locked(account_key, per_account, window)
            or throttle.count_attempt(account_key, per_account, window) > per_account):
        emit("login.throttled")
        return PasswordCheck(Outcome.THROTTLED)
    person = Person.query.filter_by(email=email).first() if len(password) <= MAX_LENGTH else None
    if not verify_password(person.password_hash if person else None, password[:MAX_LENGTH]):
        throttle.count_attempt(source_key, per_source, window)
        emit("login.failed", component="Cp")
        return PasswordCheck(Outcome.WRONG)
    throttle.clear(account_key)
    if needs_rehash(person.password_hash):
        person.password_hash = hash_password(password)
        db.session.commit()
    return PasswordCheck(Outcome.OK, person)


FACTOR = Factor(component="Cp", name="password", is_set_up=lambda person: bool(person.password_hash))
