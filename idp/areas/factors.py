"""How a member of an area proves who they are: a password, then always an authenticator app (RFC 6238); never SMS.

Both checks are throttled per account and per source address (NIST SP 800-63B 5.2.2) with the
patients' throttle, under the area's subjects. An unknown email is checked against a dummy hash,
and a disabled or not-yet-set-up account fails like a wrong password, so no answer tells them apart.
"""
from __future__ import annotations

from sqlalchemy import update

from .. import sealing
from ..authentication import throttle
from ..authentication.email_address import normalise_email
from ..authentication.factors import totp
from ..authentication.factors.password import MAX_LENGTH, Outcome
from ..authentication.one_time_codes import FAILURES_PER_JOURNEY, FAILURES_PER_SOURCE, CodeCheck
from ..authentication.passwords import verify_password
from ..clock import now
from ..extensions import db
from .area import Area

__all__ = ["Outcome", "CodeCheck", "check_password", "check_code", "seal", "enrolment", "find"]

MAX_CONSECUTIVE_FAILURES = 100  # as the patients' authenticator app (idp/authentication/factors/totp.py)


def find(area: Area, email: str):
    return area.member_model.query.filter_by(email=normalise_email(email or "")).first()


def check_password(area: Area, email: str, password: str, source: str, settings):
    """(outcome, the account the email names if it is one of the area's); OK only for an active member."""
    member = find(area, email)
    # The address as stored, known or not: spellings of one address share a counter either way (no enumeration).
    account_key = throttle.subject(f"{area.throttle_prefix}-login-account", normalise_email(email or ""))
    source_key = throttle.subject(f"{area.throttle_prefix}-login-source", source)
    window = settings.login_lockout_seconds
    per_account, per_source = settings.login_attempts_per_account, settings.login_attempts_per_source
    # Counted before checking, so parallel guesses cannot slip past the limit.
    if (throttle.is_locked(source_key, per_source, window) or throttle.is_locked(account_key, per_account, window)
            or throttle.count_attempt(account_key, per_account, window) > per_account):
        return Outcome.THROTTLED, member
    usable = member is not None and member.status == "active" and len(password) <= MAX_LENGTH
    if not verify_password(member.password_hash if usable else None, password[:MAX_LENGTH]):
        throttle.count_attempt(source_key, per_source, window)
        return Outcome.WRONG, member
    throttle.clear(account_key)
    return Outcome.OK, member


def check_code(area: Area, member, code: str, source: str, settings) -> CodeCheck:
    """The authenticator app's code: within the drift, newer than the last step used (RFC 6238 5.2), throttled."""
    window, model = settings.login_lockout_seconds, area.member_model
    member_key = throttle.subject(f"{area.throttle_prefix}-totp", member.id)
    source_key = throttle.subject(f"{area.throttle_prefix}-code-source", source)
    if throttle.is_locked(member_key, FAILURES_PER_JOURNEY, window) or throttle.is_locked(
            source_key, FAILURES_PER_SOURCE, window) or is_blocked(member):
        return CodeCheck.THROTTLED
    if _accept(area, member, code, settings):
        throttle.clear(member_key)
        if member.totp_failures:
            member.totp_failures = 0
            db.session.commit()
        return CodeCheck.OK
    # Wrong codes in a row, whatever the time between them (NIST SP 800-63B 5.2.2): the window above slows
    # guessing, this stops it, until the account is reset.
    db.session.execute(update(model).where(model.id == member.id).values(totp_failures=model.totp_failures + 1))
    db.session.commit()
    db.session.refresh(member)
    if is_blocked(member):
        area.audit("login.blocked", member=member, reason="too many wrong authenticator codes in a row")
        db.session.commit()
        return CodeCheck.THROTTLED
    throttle.count_attempt(source_key, FAILURES_PER_SOURCE, window)
    if throttle.count_attempt(member_key, FAILURES_PER_JOURNEY, window) >= FAILURES_PER_JOURNEY:
        return CodeCheck.THROTTLED
    return CodeCheck.WRONG


def is_blocked(member) -> bool:
    return (member.totp_failures or 0) >= MAX_CONSECUTIVE_FAILURES


def _accept(area: Area, member, code: str, settings) -> bool:
    if not member.totp_secret_sealed or member.status != "active":
        return False
    model = area.member_model
    step = totp.matching_step(_unseal(area, settings, member.totp_secret_sealed), code)
    # RFC 6238 5.2: a code once accepted is never accepted again. One conditional UPDATE: two racing requests
    # with one code cannot both win.
    accepted = step is not None and db.session.execute(
        update(model)
        .where(model.id == member.id, (model.totp_last_used_step.is_(None)) | (model.totp_last_used_step < step))
        .values(totp_last_used_step=step, last_login_at=now())
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    db.session.commit()
    return accepted


def enrolment(area: Area, member, settings, secret: str | None = None) -> totp.Enrolment:
    """The authenticator app's key for a member setting up, listed in the app under the area's name."""
    return totp.enrolment_for(member.email, f"{settings.service_name} {area.authenticator_label}", secret)


def confirming_step(secret: str, code: str) -> int | None:
    """The step a set-up code proves (it then counts as used: it cannot log in a second time)."""
    return totp.matching_step(secret, code)


def seal(area: Area, settings, secret: str) -> str:
    return sealing.fernet(settings.secret_key, area.sealing_context).encrypt(secret.encode()).decode()


def _unseal(area: Area, settings, sealed: str) -> str:
    return sealing.fernet(settings.secret_key, area.sealing_context).decrypt(sealed.encode()).decode()
