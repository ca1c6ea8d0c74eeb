"""Throttling of guesses: failures counted per subject in a window, then a lockout that clears by itself."""
from __future__ import annotations

import hashlib

from sqlalchemy.exc import IntegrityError

from ..clock import now
from ..extensions import db
from ..models import FailedAttempt


def subject(kind: str, value: str) -> str:
    # Hashed so the table never holds email addresses or IPs in clear.
    return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()[:40]}"


def locked_until(subject_key: str) -> int | None:
    row = db.session.get(FailedAttempt, subject_key)
    if row and row.locked_until and row.locked_until > now():
        return row.locked_until
    return None


def record_failure(subject_key: str, limit: int, window: int) -> None:
    current = now()
    row = db.session.get(FailedAttempt, subject_key)
    if row is None:
        try:
            with db.session.begin_nested():
                db.session.add(FailedAttempt(subject=subject_key, window_start=current, count=1))
        except IntegrityError:
            row = db.session.get(FailedAttempt, subject_key)
        else:
            db.session.commit()
            return
    if current - row.window_start > window:
        row.window_start, row.count, row.locked_until = current, 0, None
    row.count += 1
    if row.count >= limit:
        row.locked_until = current + window
    db.session.commit()


def clear(subject_key: str) -> None:
    FailedAttempt.query.filter_by(subject=subject_key).delete()
    db.session.commit()
