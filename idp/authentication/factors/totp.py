"""The authenticator app factor (``Ck``): a key shared with an app on the person's device, TOTP (RFC 6238).

Codes are 6 digits for 30-second steps with HMAC-SHA-1, the parameters every authenticator app
supports (RFC 6238 4, 5.3). A code is accepted for the current step or one step either side, and
never for a step at or before the last one accepted for that app, so a code cannot be used twice
(RFC 6238 5.2). After ``MAX_CONSECUTIVE_FAILURES`` wrong codes in a row the app is refused until
``reset_failures`` (NIST SP 800-63B 5.2.2). The shared key is stored encrypted with a key derived
from IDP_SECRET_KEY.
"""
from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass

import pyotp
import segno
from cryptography.fernet import Fernet
from flask import current_app
from sqlalchemy import delete, update

from ... import sealing
from .. import throttle
from ..one_time_codes import FAILURES_PER_JOURNEY, FAILURES_PER_SOURCE, CodeCheck
from ...clock import now
from ...events import emit
from ...extensions import db
from ...models import AuthenticatorApp, FactorFailures, Person
from . import Factor

DIGITS = 6
INTERVAL = 30  # seconds per time step (RFC 6238 5.2 recommends 30)
DRIFT_STEPS = 1  # RFC 6238 5.2: "at most one time step is allowed as the network delay"
MAX_CONSECUTIVE_FAILURES = 100
COMPONENT = "Ck"
_CODE = re.compile(r"[0-9]{%d}" % DIGITS)  # ASCII digits only: str.isdigit() also takes other scripts' digits
_SECRET = re.compile(r"[A-Z2-7]{32}")  # what start_enrolment makes: 160 bits, base32 (RFC 4226 4 R6)


@dataclass(frozen=True)
class Enrolment:
    """What the set-up page shows. ``secret`` stays in the server-side interaction state, never in the page's form."""

    secret: str
    provisioning_uri: str  # otpauth://totp/...
    qr_svg: str  # inline SVG markup made here (safe to render unescaped)
    manual_key: str  # the secret in groups of 4, for typing into the app


def start_enrolment(person: Person, settings=None, secret: str | None = None) -> Enrolment:
    """A new shared key (or the one this enrolment already showed) and how to give it to the app (Key URI
    Format); nothing is stored until confirmed."""
    settings = settings or _settings()
    return enrolment_for(person.email, _service_name(settings), secret)


def enrolment_for(account_name: str, issuer_name: str, secret: str | None = None) -> Enrolment:
    """The enrolment of any account (a person's, a staff member's): ``secret`` if it is one we made, else a new one."""
    secret = secret if isinstance(secret, str) and _SECRET.fullmatch(secret) else pyotp.random_base32()
    uri = pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).provisioning_uri(
        name=account_name, issuer_name=issuer_name)
    qr_svg = segno.make(uri, error="m").svg_inline(scale=4, title="QR code for your authenticator app")
    manual_key = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return Enrolment(secret=secret, provisioning_uri=uri, qr_svg=qr_svg, manual_key=manual_key)


def confirm_enrolment(person: Person, secret: str, code: str, settings=None) -> bool:
    """Store the app (replacing any earlier one) only if ``code`` is right for ``secret`` now (RFC 6238 5.2)."""
    if not isinstance(secret, str) or not _SECRET.fullmatch(secret):
        return False
    step = matching_step(secret, code)
    if step is None:
        return False
    settings = settings or _settings()
    # Delete first, in its own statement: the unit of work would insert before deleting (unique person_id).
    db.session.execute(delete(AuthenticatorApp).where(AuthenticatorApp.person_id == person.id))
    # The confirming code counts as used: it cannot log in a second time.
    db.session.add(AuthenticatorApp(id=secrets.token_hex(16), person_id=person.id,
                                    secret_encrypted=_seal(settings, secret), created_at=now(),
                                    last_used_step=step, last_used_at=now()))
    FactorFailures.query.filter_by(person_id=person.id, component=COMPONENT).delete()
    db.session.commit()
    emit("authenticator_app.added", person_id=person.id)
    return True


def verify(person: Person, code: str, settings=None) -> bool:
    """Whether ``code`` proves ``Ck``: right for a step within the drift, newer than the last used (RFC 6238 5.2)."""
    app = AuthenticatorApp.query.filter_by(person_id=person.id).first()
    if app is None:
        return False
    if is_blocked(person):
        emit("authenticator_app.blocked", person_id=person.id)
        return False
    step = matching_step(_unseal(settings or _settings(), app.secret_encrypted), code)
    # RFC 6238 5.2: the verifier MUST NOT accept the second attempt of an OTP once the first succeeded.
    # One conditional UPDATE: two requests racing with one code cannot both win.
    accepted = step is not None and db.session.execute(
        update(AuthenticatorApp)
        .where(AuthenticatorApp.id == app.id, AuthenticatorApp.last_used_step < step)
        .values(last_used_step=step, last_used_at=now())
    ).rowcount == 1
    if accepted:
        FactorFailures.query.filter_by(person_id=person.id, component=COMPONENT).delete()
    else:
        _count_failure(person)
    db.session.commit()
    emit("authenticator_app.accepted" if accepted else "login.failed", person_id=person.id, component=COMPONENT)
    return accepted


def check_code(person: Person, code: str, source: str, settings) -> CodeCheck:
    """``verify`` behind the same short-window throttles as security codes: per person and per source address,
    a lockout that clears by itself; the 100-in-a-row cap stays underneath."""
    window = settings.login_lockout_seconds
    person_key = throttle.subject("totp-person", person.id)
    source_key = throttle.subject("code-source", source)
    if throttle.is_locked(person_key, FAILURES_PER_JOURNEY, window) or throttle.is_locked(
            source_key, FAILURES_PER_SOURCE, window) or is_blocked(person):
        return CodeCheck.THROTTLED
    if verify(person, code, settings):
        throttle.clear(person_key)
        return CodeCheck.OK
    throttle.count_attempt(source_key, FAILURES_PER_SOURCE, window)
    if throttle.count_attempt(person_key, FAILURES_PER_JOURNEY, window) >= FAILURES_PER_JOURNEY:
        return CodeCheck.THROTTLED
    return CodeCheck.WRONG


def is_set_up(person: Person) -> bool:
    return AuthenticatorApp.query.filter_by(person_id=person.id).first() is not None


def is_blocked(person: Person) -> bool:
    """Too many wrong codes in a row: the app is refused until ``reset_failures``."""
    row = db.session.get(FactorFailures, (person.id, COMPONENT))
    return row is not None and row.count >= MAX_CONSECUTIVE_FAILURES


def reset_failures(person: Person) -> None:
    """A password reset (or a new app) proves the person again: the app may be tried afresh. Caller commits."""
    FactorFailures.query.filter_by(person_id=person.id, component=COMPONENT).delete()


def remove(person: Person) -> bool:
    """Remove the person's app; False if they had none."""
    removed = db.session.execute(delete(AuthenticatorApp).where(AuthenticatorApp.person_id == person.id)).rowcount
    db.session.commit()
    if removed:
        emit("authenticator_app.removed", person_id=person.id)
    return bool(removed)


def matching_step(secret: str, code: str) -> int | None:
    """The newest time step within the drift window whose code is ``code`` (RFC 6238 4.2: T = floor(now / X))."""
    if not isinstance(code, str):
        return None
    code = "".join(code.split())  # apps show "123 456"; people type what they see
    if not _CODE.fullmatch(code):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL)
    current = now() // INTERVAL
    # Every step compared in constant time, so timing does not tell which step a guess was near.
    matches = [step for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1)
               if hmac.compare_digest(totp.generate_otp(step), code)]
    return max(matches, default=None)


def _count_failure(person: Person) -> None:
    changed = db.session.execute(update(FactorFailures).where(
        FactorFailures.person_id == person.id, FactorFailures.component == COMPONENT,
    ).values(count=FactorFailures.count + 1)).rowcount
    if not changed:
        db.session.add(FactorFailures(person_id=person.id, component=COMPONENT, count=1))


# --- the shared key at rest -------------------------------------------------------------------
def _fernet(secret_key: str) -> Fernet:
    return sealing.fernet(secret_key, b"idp-authenticator-apps")


def _seal(settings, secret: str) -> str:
    return _fernet(settings.secret_key).encrypt(secret.encode()).decode()


def _unseal(settings, sealed: str) -> str:
    # A changed IDP_SECRET_KEY raises InvalidToken here: loud, as every app would otherwise fail silently.
    return _fernet(settings.secret_key).decrypt(sealed.encode()).decode()


def _settings():
    return current_app.extensions["idp"].settings


def _service_name(settings) -> str:
    return settings.service_name  # the name the app lists the account under


FACTOR = Factor(component=COMPONENT, name="authenticator_app", is_set_up=is_set_up, order=10)
