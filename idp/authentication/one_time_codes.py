"""Six-digit security codes (email confirmation, phone confirmation, login ``Cd``, password reset).

The rules, each named: a code lives ``CODE_LIFETIME`` seconds and is spent once (one conditional
UPDATE, so two racing guesses cannot both win); it is bound to the journey (the interaction, which
only this browser's server-side session can load) and to its purpose; asking for a new code never
resets the failures counted against the journey; at most ``SENDS_PER_HOUR`` codes go to one address
or number in an hour. Codes and addresses are stored as HMACs under a key derived from
IDP_SECRET_KEY, so the table holds neither.
"""
from __future__ import annotations

import enum
import hashlib
import hmac
import secrets

from flask import current_app
from sqlalchemy import func, update

from ..clock import now
from .. import sealing
from ..extensions import db
from ..models import OneTimeCode
from . import throttle

CODE_LIFETIME = 5 * 60
SENDS_PER_HOUR = 5
FAILURES_PER_JOURNEY = 5  # wrong codes before the journey is locked for the lockout window
FAILURES_PER_SOURCE = 30


class CodeCheck(enum.Enum):
    OK = "ok"
    WRONG = "wrong"  # wrong, expired or already used: the person is told the same thing
    THROTTLED = "throttled"


class TooManyCodes(Exception):
    """The hourly cap of codes to this destination is reached."""


def _mac(purpose: str, value: str) -> str:
    key = sealing.derived_key(current_app.extensions["idp"].settings.secret_key, b"idp-one-time-codes")
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def destination_key(destination: str) -> str:
    return _mac("destination", destination.strip().lower())


def issue(purpose: str, journey: str, destination: str) -> str:
    """A new code for ``destination`` in this journey; earlier unused ones of the journey stop working."""
    current = now()
    dest = destination_key(destination)
    sent = db.session.query(func.count(OneTimeCode.id)).filter(
        OneTimeCode.destination_hash == dest, OneTimeCode.created_at > current - 3600).scalar()
    if sent >= SENDS_PER_HOUR:
        raise TooManyCodes()
    db.session.execute(update(OneTimeCode).where(
        OneTimeCode.journey == journey, OneTimeCode.purpose == purpose, OneTimeCode.used_at.is_(None),
    ).values(used_at=current))
    code = f"{secrets.randbelow(10**6):06d}"
    code_id = secrets.token_hex(16)
    db.session.add(OneTimeCode(id=code_id, purpose=purpose, journey=journey, destination_hash=dest,
                               code_hash=_mac(purpose, f"{journey}:{code}"), created_at=current,
                               expires_at=current + CODE_LIFETIME))
    return code  # the caller sends it in the same transaction (notifications.send) and commits


def _throttle_keys(purpose: str, journey: str, source: str) -> tuple[str, str]:
    return throttle.subject(f"code-journey-{purpose}", journey), throttle.subject("code-source", source)


def is_throttled(purpose: str, journey: str, source: str, settings) -> bool:
    """Whether a guess now would be refused unchecked (the journey or the source is locked out)."""
    journey_key, source_key = _throttle_keys(purpose, journey, source)
    window = settings.login_lockout_seconds
    return throttle.is_locked(journey_key, FAILURES_PER_JOURNEY, window) or throttle.is_locked(
        source_key, FAILURES_PER_SOURCE, window)


def check(purpose: str, journey: str, candidate: str, source: str, settings, destination: str | None = None) -> CodeCheck:
    """Spend the journey's live code if ``candidate`` is it; failures are counted per journey and per source.

    With ``destination``, only a code sent to that address or number counts: a journey whose person changed
    (another password entered in the same login) cannot spend a code that went to someone else."""
    window = settings.login_lockout_seconds
    journey_key, source_key = _throttle_keys(purpose, journey, source)
    if is_throttled(purpose, journey, source, settings):
        return CodeCheck.THROTTLED
    candidate = (candidate or "").replace(" ", "").replace("-", "")
    current = now()
    spent = None
    if len(candidate) == 6 and candidate.isascii() and candidate.isdigit():
        bound = [] if destination is None else [OneTimeCode.destination_hash == destination_key(destination)]
        spent = db.session.execute(update(OneTimeCode).where(
            OneTimeCode.journey == journey, OneTimeCode.purpose == purpose, OneTimeCode.used_at.is_(None),
            OneTimeCode.expires_at > current, OneTimeCode.code_hash == _mac(purpose, f"{journey}:{candidate}"),
            *bound,
        ).values(used_at=current).returning(OneTimeCode.id)).first()
        db.session.commit()
    if spent is None:
        throttle.count_attempt(source_key, FAILURES_PER_SOURCE, window)
        if throttle.count_attempt(journey_key, FAILURES_PER_JOURNEY, window) >= FAILURES_PER_JOURNEY:
            return CodeCheck.THROTTLED
        return CodeCheck.WRONG
    return CodeCheck.OK


def prune_codes() -> int:
    """Delete codes that can no longer be used (kept an hour for the per-destination cap)."""
    result = db.session.execute(db.delete(OneTimeCode).where(OneTimeCode.created_at <= now() - 3600,
                                                             OneTimeCode.expires_at <= now()))
    db.session.commit()
    return result.rowcount
