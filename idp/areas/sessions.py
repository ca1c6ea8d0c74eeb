"""An area's own server-side session: a cookie of its own, never the patients' session.

The cookie carries a random key; the row (found by the key's SHA-256) holds the member once both factors
are proven, the CSRF token and a login waiting for its second factor. The session ends after the area's
idle time without a request and its maximum lifetime after it began (NIST SP 800-63B 4.2.3, ASVS 3.3);
the key changes at login (session fixation) and logout deletes the row.
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
from .area import Area

NOT_CARRIED = ("csrf_token", "pending_login", "set_up")  # what a new login never inherits from the session before


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class AreaSessionData(CallbackDict, SessionMixin):
    """This request's session in an area: Flask's ``session`` under the area's prefix."""

    sessionless = False  # i18n may keep a language choice in it

    def __init__(self, area: Area, initial=None, key=None, record=None, timed_out=False):
        def on_update(self):
            self.modified = True

        super().__init__(initial or {}, on_update)
        self.area = area
        self.key = key
        self.record = record
        self.modified = False
        self.timed_out = timed_out  # the session this browser had ended for inactivity or age just now
        self.log_in_as: str | None = None  # a member proven by both factors: the key is renewed on save
        self.ended = False

    @property
    def member_id(self) -> str | None:
        if self.ended:
            return None
        return self.log_in_as or (self.area.member_of(self.record) if self.record is not None else None)


def _lifetimes(area: Area, app) -> tuple[int, int]:
    settings = app.extensions["idp"].settings
    return getattr(settings, f"{area.name}_idle_seconds"), getattr(settings, f"{area.name}_session_max_seconds")


def open_area_session(area: Area, app, request) -> AreaSessionData:
    key = request.cookies.get(app.config[area.cookie_config])
    if not key or len(key) >= 100:
        return AreaSessionData(area)
    record = db.session.get(area.session_model, _hash(key))
    if record is None:
        return AreaSessionData(area)
    current, (idle, _) = now(), _lifetimes(area, app)
    if record.expires_at <= current or record.last_seen_at + idle <= current:
        member_id = area.member_of(record)
        db.session.delete(record)
        if member_id:
            area.audit("session.timed_out", member=db.session.get(area.member_model, member_id),
                       reason="lifetime" if record.expires_at <= current else "idle")
        db.session.commit()
        return AreaSessionData(area, timed_out=bool(member_id))
    # A deep copy: state changed in place must differ from the loaded row, or the JSON column never changes.
    return AreaSessionData(area, copy.deepcopy(record.data or {}), key=key, record=record)


def save_area_session(app, sess: AreaSessionData, response) -> None:
    """One write per response: a new row at login or when state first needs keeping, else the data and
    ``last_seen_at`` (the idle clock). ``expires_at`` is fixed when the row is made."""
    area, current = sess.area, now()
    _, lifetime = _lifetimes(area, app)
    name, secure = app.config[area.cookie_config], app.config["SESSION_COOKIE_SECURE"]
    if sess.ended:
        db.session.commit()  # keep the logout's deletion even if the view did not commit
        response.delete_cookie(name, path="/", secure=secure, samesite="Strict")
        return
    if sess.log_in_as is not None:
        data = {k: v for k, v in sess.items() if k not in NOT_CARRIED}
        _delete(sess)
        sess.record = _new_record(sess, data, current, lifetime, sess.log_in_as)
    elif sess.record is None:
        if not (sess.modified and sess):
            if sess.timed_out:
                response.delete_cookie(name, path="/", secure=secure, samesite="Strict")
            return
        sess.record = _new_record(sess, dict(sess), current, lifetime)
    else:
        if sess.modified:
            sess.record.data = dict(sess)
        sess.record.last_seen_at = current
    db.session.commit()
    # No Max-Age: the cookie also ends when the browser closes. Strict: no other site's link or form carries it.
    response.set_cookie(name, sess.key, httponly=True, secure=secure, samesite="Strict", path="/")
    response.vary.add("Cookie")


def _new_record(sess: AreaSessionData, data: dict, current: int, lifetime: int, member_id: str | None = None):
    sess.key = secrets.token_urlsafe(32)
    record = sess.area.session_model(key_hash=_hash(sess.key), data=data, created_at=current, last_seen_at=current,
                                     expires_at=current + lifetime, **{sess.area.member_column: member_id})
    db.session.add(record)
    return record


def _delete(sess: AreaSessionData) -> None:
    if sess.record is not None:
        sess.area.session_model.query.filter_by(key_hash=sess.record.key_hash).delete()
        sess.record = None
        sess.key = None


def current_member_id(area: Area) -> str | None:
    """The member this request's session in ``area`` belongs to, once both factors are proven."""
    return session.member_id if isinstance(session, AreaSessionData) and session.area is area else None


def log_in(member_id: str) -> None:
    """Both factors are proven: this browser is ``member_id``'s from the response on, under a new key."""
    session.log_in_as = member_id
    for name in NOT_CARRIED:
        session.pop(name, None)
    session.modified = True


def log_out() -> None:
    """End this browser's session in its area now (the row is deleted with the caller's commit)."""
    _delete(session)
    session.ended = True
    session.log_in_as = None
    session.clear()


def end_sessions_of(area: Area, member_id: str) -> int:
    """Delete every session of a member (disabled, reset); the caller commits."""
    model = area.session_model
    count = model.query.filter(getattr(model, area.member_column) == member_id).delete(synchronize_session=False)
    if isinstance(session, AreaSessionData) and session.area is area and session.member_id == member_id:
        session.record, session.log_in_as, session.ended = None, None, True  # this browser too: its cookie goes
    return count


def prune_expired(area: Area, settings) -> int:
    """Delete sessions past their lifetime or idle too long (for housekeeping); returns how many."""
    model, current = area.session_model, now()
    idle = getattr(settings, f"{area.name}_idle_seconds")
    count = model.query.filter((model.expires_at <= current) | (model.last_seen_at <= current - idle)
                               ).delete(synchronize_session=False)
    db.session.commit()
    return count
