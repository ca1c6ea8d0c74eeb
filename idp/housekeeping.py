"""Deleting records nobody can use any more: run `idp housekeeping` from cron (e.g. every 10 minutes).

Nothing here changes what a person or a client can do; it only keeps tables small.
Tokens and codes are kept a day past expiry so reuse of a just-expired value is still recognised.
"""
from __future__ import annotations

from flask import current_app

from . import jobs
from .areas import area as areas, sessions as area_sessions
from .authentication.sessions import prune_expired_sessions
from .clock import now
from .extensions import db
from .models import AuthorizationCode, FailedAttempt, IssuedToken
from .notifications import prune_messages
from .proofing.routes import photo_id_video
from .protocol.client_auth import prune_used_assertions
from .protocol.pushed_requests import prune_pushed_requests
from .provisioning.requests import expire_due as expire_provisioning_requests

GRACE_SECONDS = 24 * 3600


def prune_expired(keystore, lockout_window: int) -> dict[str, int]:
    current = now()
    counts = {
        "browser_sessions": prune_expired_sessions(),
        "used_assertions": prune_used_assertions(),
        "pushed_requests": prune_pushed_requests(),
        "authorization_codes": AuthorizationCode.query.filter(
            AuthorizationCode.expires_at < current - GRACE_SECONDS
        ).delete(),
        "issued_tokens": IssuedToken.query.filter(IssuedToken.expires_at < current - GRACE_SECONDS).delete(),
        "finished_jobs": jobs.prune_finished(older_than=7 * 24 * 3600),
        "messages": prune_messages(older_than=7 * 24 * 3600),
        "failed_attempts": FailedAttempt.query.filter(
            FailedAttempt.window_start < current - lockout_window,
            (FailedAttempt.locked_until.is_(None)) | (FailedAttempt.locked_until < current),
        ).delete(),
    }
    db.session.commit()
    for each in areas.registered():  # the staff area's and the portal's: "staff_sessions", "developer_sessions"
        counts[f"{each.name}_sessions"] = area_sessions.prune_expired(each, current_app.extensions["idp"].settings)
    counts["expired_provisioning_requests"] = expire_provisioning_requests()
    # Photos and videos nobody decided on in time are deleted, and the people waiting are told.
    counts["expired_photo_id_submissions"] = photo_id_video.expire()
    counts["retired_keys"] = keystore.prune()
    return counts
