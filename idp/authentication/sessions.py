"""Server-side browser sessions behind Flask's session interface.

The cookie carries a random key; the row (found by the key's SHA-256) holds the
login (person, auth_time, components, sid) and small interaction state. The key
and sid change at every login (session fixation), and logout deletes the row, so
"log out everywhere" is one DELETE.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from flask import session
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from ..clock import now
from ..extensions import db
from ..models import BrowserSession

# Machine-to-machine endpoints never carry a browser session; skip the lookup.
SESSIONLESS_PREFIXES = ("/static/", "/token", "/userinfo", "/.well-known/", "/revoke", "/introspect", "/trustmark")
_TOUCH_INTERVAL = 300


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class Login:
    person_id: str
    auth_time: int
    components: tuple[str, ...]
    sid: str


class ServerSideSession(CallbackDict, SessionMixin):
    def __init__(self, initial=None, key=None, record=None, sessionless=False):
        def on_update(self):
            self.modified = True

        super().__init__(initial or {}, on_update)
        self.key = key
        self.record: BrowserSession | None = record
        self.sessionless = sessionless
        self.modified = False
        self.pending_login: dict | None = None
        self.ended = False

    @property
    def login(self) -> Login | None:
        r = self.record
        if r is None or r.person_id is None or self.ended:
            return None
        return Login(r.person_id, r.auth_time, tuple(r.components or ()), r.sid)


class ServerSideSessionInterface(SessionInterface):
    def open_session(self, app, request):
        if request.path.startswith(SESSIONLESS_PREFIXES):
            return ServerSideSession(sessionless=True)
        key = request.cookies.get(self.get_cookie_name(app))
        if key and len(key) < 100:
            record = db.session.get(BrowserSession, _hash(key))
            if record is not None and record.expires_at > now():
                return ServerSideSession(dict(record.data or {}), key=key, record=record)
        return ServerSideSession()

    def save_session(self, app, sess: ServerSideSession, response):
        if sess.sessionless:
            return
        name = self.get_cookie_name(app)
        domain = self.get_cookie_domain(app)
        path = self.get_cookie_path(app)
        ttl = app.extensions["idp"].settings.session_ttl
        current = now()
        if sess.ended and sess.record is not None:
            BrowserSession.query.filter_by(key_hash=sess.record.key_hash).delete()
            sess.record = None
            sess.key = None
            db.session.commit()
            if sess.pending_login is None and not sess:
                response.delete_cookie(name, domain=domain, path=path)
                return
        if sess.pending_login is not None:
            # Renew at login: a fresh key and sid, carrying over only the interaction state.
            if sess.record is not None:
                BrowserSession.query.filter_by(key_hash=sess.record.key_hash).delete()
            sess.key = secrets.token_urlsafe(32)
            sess.record = BrowserSession(
                key_hash=_hash(sess.key), sid=secrets.token_urlsafe(24), created_at=current,
                data=dict(sess), updated_at=current, expires_at=current + ttl, **sess.pending_login,
            )
            db.session.add(sess.record)
        elif sess.record is None:
            if not sess.modified or not sess:
                return
            sess.key = secrets.token_urlsafe(32)
            sess.record = BrowserSession(
                key_hash=_hash(sess.key), sid=secrets.token_urlsafe(24), data=dict(sess), components=[],
                created_at=current, updated_at=current, expires_at=current + ttl,
            )
            db.session.add(sess.record)
        elif sess.modified or current - sess.record.updated_at > _TOUCH_INTERVAL:
            sess.record.data = dict(sess)
            sess.record.updated_at = current
            sess.record.expires_at = current + ttl
        else:
            return
        db.session.commit()
        response.set_cookie(
            name, sess.key, max_age=ttl, httponly=True, secure=self.get_cookie_secure(app),
            samesite=self.get_cookie_samesite(app), domain=domain, path=path,
        )
        response.vary.add("Cookie")


def current_login() -> Login | None:
    """The login of this browser, or None. Reads the session row loaded for this request."""
    if isinstance(session, ServerSideSession) and session.pending_login is not None:
        p = session.pending_login
        return Login(p["person_id"], p["auth_time"], tuple(p["components"]), "")
    return getattr(session, "login", None)


def establish_login(person_id: str, components: list[str], auth_time: int | None = None) -> None:
    """Record a successful login; the session key and sid are renewed when the response is sent."""
    existing = current_login()
    merged = list(components)
    # Step-up inside the same session adds components; a different person starts afresh.
    if existing and existing.person_id == person_id:
        merged = sorted(set(existing.components) | set(components))
    session.pending_login = {
        "person_id": person_id, "auth_time": auth_time or now(), "components": merged,
    }
    session.modified = True


def end_login() -> Login | None:
    """Log this browser out; returns the login that ended (for back-channel logout)."""
    login = current_login()
    session.ended = True
    session.pending_login = None
    session.clear()
    return login


def end_all_logins(person_id: str) -> list[str]:
    """Log a person out of every browser; returns the sids ended."""
    rows = BrowserSession.query.filter_by(person_id=person_id).all()
    sids = [r.sid for r in rows]
    BrowserSession.query.filter_by(person_id=person_id).delete()
    db.session.commit()
    return sids


def prune_expired_sessions() -> int:
    count = BrowserSession.query.filter(BrowserSession.expires_at <= now()).delete()
    db.session.commit()
    return count

