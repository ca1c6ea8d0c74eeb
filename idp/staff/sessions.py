"""The staff area's own server-side session: a cookie of its own (``idp_staff``), never the patients' session.

The cookie carries a random key; the row (found by the key's SHA-256) holds the member once both
factors are proven, the CSRF token and a login waiting for its second factor. The session ends after
``staff_idle_seconds`` without a request and ``staff_session_max_seconds`` after it began (NIST SP
800-63B 4.2.3, ASVS 3.3); the key changes at login (session fixation) and logout deletes the row.
"""
from __future__ import annotations

import copy
import hashlib
import secrets

from flask import session
from flask.sessions import SessionMixin
from werkzeug.datastructures import CallbackDict

from ..clock import now
from ..extensions import db
from ..models import StaffSession

NOT_CARRIED = ("csrf_token", "pending_login", "set_up")  # what a new login never inherits from the session before


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class StaffSessionData(CallbackDict, SessionMixin):
    """This request's staff session: Flask's ``session`` under /staff."""

    sessionless = False  # i18n may keep a language choice in it

    def __init__(self, initial=None, key=None, record=None, timed_out=False):
        def on_update(self):
            self.modified = True

        super().__init__(initial or {}, on_update)
        self.key = key
        self.record: StaffSession | None = record
        self.modified = False
        self.timed_out = timed_out  # the session this browser had ended for inactivity or age just now
        self.log_in_as: str | None = None  # a member proven by both factors: the key is renewed on save
        self.ended = False

    @property
    def staff_member_id(self) -> str | None:
        if self.ended:
            return None
        return self.log_in_as or (self.record.staff_member_id if self.record is not None else None)


def _settings(app):
    return app.extensions["idp"].settings


def open_staff_session(app, request) -> StaffSessionData:
    key = request.cookies.get(app.config["STAFF_SESSION_COOKIE_NAME"])
    if not key or len(key) >= 100:
        return StaffSessionData()
    record = db.session.get(StaffSession, _hash(key))
    if record is None:
        return StaffSessionData()
    current, settings = now(), _settings(app)
    if record.expires_at <= current or record.last_seen_at + settings.staff_idle_seconds <= current:
        member_id = record.staff_member_id
        db.session.delete(record)
        if member_id:
            from . import audit
            from ..models import StaffMember

            audit.record("session.timed_out", member=db.session.get(StaffMember, member_id),
                         reason="lifetime" if record.expires_at <= current else "idle")
        db.session.commit()
        return StaffSessionData(timed_out=bool(member_id))
    # A deep copy: state changed in place must differ from the loaded row, or the JSON column never changes.
    return StaffSessionData(copy.deepcopy(record.data or {}), key=key, record=record)


def save_staff_session(app, sess: StaffSessionData, response) -> None:
    """One write per response: a new row at login or when state first needs keeping, else the data and
    ``last_seen_at`` (the idle clock). ``expires_at`` is fixed when the row is made."""
    current, settings = now(), _settings(app)
    name = app.config["STAFF_SESSION_COOKIE_NAME"]
    if sess.ended:
        db.session.commit()  # keep the logout's deletion even if the view did not commit
        response.delete_cookie(name, path="/", secure=app.config["SESSION_COOKIE_SECURE"], samesite="Strict")
        return
    if sess.log_in_as is not None:
        data = {k: v for k, v in sess.items() if k not in NOT_CARRIED}
        _delete(sess)
        sess.record = _new_record(sess, data, current, settings.staff_session_max_seconds, sess.log_in_as)
    elif sess.record is None:
        if not (sess.modified and sess):
            if sess.timed_out:
                response.delete_cookie(name, path="/", secure=app.config["SESSION_COOKIE_SECURE"], samesite="Strict")
            return
        sess.record = _new_record(sess, dict(sess), current, settings.staff_session_max_seconds)
    else:
        if sess.modified:
            sess.record.data = dict(sess)
        sess.record.last_seen_at = current
    db.session.commit()
    # No Max-Age: the cookie also ends when the browser closes. Strict: no other site's link or form carries it.
    response.set_cookie(name, sess.key, httponly=True, secure=app.config["SESSION_COOKIE_SECURE"],
                        samesite="Strict", path="/")
    response.vary.add("Cookie")


def _new_record(sess: StaffSessionData, data: dict, current: int, lifetime: int,
                member_id: str | None = None) -> StaffSession:
    sess.key = secrets.token_urlsafe(32)
    record = StaffSession(key_hash=_hash(sess.key), staff_member_id=member_id, data=data, created_at=current,
                          last_seen_at=current, expires_at=current + lifetime)
    db.session.add(record)
    return record


def _delete(sess: StaffSessionData) -> None:
    if sess.record is not None:
        StaffSession.query.filter_by(key_hash=sess.record.key_hash).delete()
        sess.record = None
        sess.key = None


def log_in(member_id: str) -> None:
    """Both factors are proven: this browser is ``member_id``'s from the response on, under a new key."""
    session.log_in_as = member_id
    for name in NOT_CARRIED:
        session.pop(name, None)
    session.modified = True


def log_out() -> None:
    """End this browser's staff session now (the row is deleted with the caller's commit)."""
    _delete(session)
    session.ended = True
    session.log_in_as = None
    session.clear()


def end_sessions_of(member_id: str) -> int:
    """Delete every session of a member (disabled, reset); the caller commits."""
    count = StaffSession.query.filter(StaffSession.staff_member_id == member_id).delete(synchronize_session=False)
    if isinstance(session, StaffSessionData) and session.staff_member_id == member_id:
        session.record, session.log_in_as, session.ended = None, None, True  # this browser too: its cookie goes
    return count


def prune_expired_staff_sessions(settings=None) -> int:
    """Delete sessions past their lifetime or idle too long (for housekeeping); returns how many."""
    from flask import current_app

    settings = settings or current_app.extensions["idp"].settings
    current = now()
    count = StaffSession.query.filter(
        (StaffSession.expires_at <= current) | (StaffSession.last_seen_at <= current - settings.staff_idle_seconds)
    ).delete(synchronize_session=False)
    db.session.commit()
    return count
