"""The portal's own server-side session (``idp.areas.sessions``): cookie ``__Host-idp_developer``, idle
``IDP_DEVELOPER_IDLE_SECONDS`` (30 minutes), at most ``IDP_DEVELOPER_SESSION_MAX_SECONDS`` (12 hours)."""
from __future__ import annotations

from ..areas import sessions
from .area import DEVELOPER


def prune_expired_developer_sessions(settings=None) -> int:
    """Delete portal sessions past their lifetime or idle too long (for housekeeping); returns how many."""
    from flask import current_app

    return sessions.prune_expired(DEVELOPER, settings or current_app.extensions["idp"].settings)
