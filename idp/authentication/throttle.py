"""Throttling of guesses: attempts counted per subject (an account, a source address) in a window.

Counting is one atomic upsert, so parallel guesses cannot slip past the limit
between reading and writing the count; the lockout clears when the window ends.
"""
from __future__ import annotations

import hashlib

from sqlalchemy import case
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..clock import now
from ..extensions import db
from ..models import FailedAttempt

_INSERTS = {"postgresql": pg_insert, "sqlite": sqlite_insert}


def subject(kind: str, value: str) -> str:
    # Hashed so the table never holds email addresses or IPs in clear.
    return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()[:40]}"


def count_attempt(subject_key: str, limit: int, window: int) -> int:
    """Add one attempt and return the count in the current window (a new window starts at 1)."""
    current = now()
    table = FailedAttempt.__table__
    insert = _INSERTS[db.engine.dialect.name](table)
    expired = table.c.window_start <= current - window
    count = case((expired, 1), else_=table.c.count + 1)
    statement = insert.values(subject=subject_key, window_start=current, count=1, locked_until=None).on_conflict_do_update(
        index_elements=[table.c.subject],
        set_={
            "count": count,
            "window_start": case((expired, current), else_=table.c.window_start),
            "locked_until": case((count >= limit, current + window), else_=None),
        },
    ).returning(table.c.count)
    value = db.session.execute(statement).scalar_one()
    db.session.commit()
    return value


def is_locked(subject_key: str, limit: int, window: int) -> bool:
    row = db.session.get(FailedAttempt, subject_key)
    return row is not None and row.count >= limit and row.window_start > now() - window


def clear(subject_key: str) -> None:
    FailedAttempt.query.filter_by(subject=subject_key).delete()
    db.session.commit()


def refund(subject_key: str) -> None:
    """Give back one attempt that was counted first but could not be tried (a service was down)."""
    table = FailedAttempt.__table__
    db.session.execute(table.update().where(table.c.subject == subject_key, table.c.count > 0)
                       .values(count=table.c.count - 1))
    db.session.commit()
