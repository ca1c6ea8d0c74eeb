"""The staff area's own server-side session (``idp.areas.sessions``): cookie ``__Host-idp_staff``, idle
``IDP_STAFF_IDLE_SECONDS``, at most ``IDP_STAFF_SESSION_MAX_SECONDS``; never the patients' session."""
from __future__ import annotations

from ..areas import sessions
from .area import STAFF


def end_sessions_of(member_id: str) -> int:
    """Delete every session of a staff member (disabled, reset); the caller commits."""
    return sessions.end_sessions_of(STAFF, member_id)


def prune_expired_staff_sessions(settings=None) -> int:
    """Delete staff sessions past their lifetime or idle too long (for housekeeping); returns how many."""
    from flask import current_app

    return sessions.prune_expired(STAFF, settings or current_app.extensions["idp"].settings)
