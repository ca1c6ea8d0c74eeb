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
        """One write per response: a new row at login (or when state first needs keeping), else the data.

        The row's ``expires_at`` is fixed when it is created, counted from the login, and activity never
        moves it (IDP_SESSION_TTL is an absolute lifetime: NIST SP 800-63B 4.2.3, ASVS 3.3).
        """
        if sess.sessionless:
            return
        current = now()
        if sess.pending_login is not None:
            # Renew at login: a fresh key and sid (session fixation), carrying over only the interaction state.
            _delete(sess)
            sess.record = _new_record(sess, current, app.extensions["idp"].settings.session_ttl, **sess.pending_login)
        elif sess.record is None:
            if not (sess.modified and sess):
                if sess.ended:
                    db.session.commit()  # keep the logout's deletion even if the view did not commit
                    response.delete_cookie(self.get_cookie_name(app), domain=self.get_cookie_domain(app),
                                           path=self.get_cookie_path(app))
                return
            sess.record = _new_record(sess, current, app.extensions["idp"].settings.session_ttl, components=[])
        elif sess.modified:
            sess.record.data = dict(sess)
            sess.record.updated_at = current
        else:
            return
        db.session.commit()
        response.set_cookie(
            self.get_cookie_name(app), sess.key, max_age=max(0, sess.record.expires_at - current), httponly=True,
            secure=self.get_cookie_secure(app), samesite=self.get_cookie_samesite(app),
            domain=self.get_cookie_domain(app), path=self.get_cookie_path(app),
        )
        response.vary.add("Cookie")


def _new_record(sess: ServerSideSession, current: int, ttl: int, **login) -> BrowserSession:
    sess.key = secrets.token_urlsafe(32)
    record = BrowserSession(
        key_hash=_hash(sess.key), sid=secrets.token_urlsafe(24), data=dict(sess),
        created_at=current, updated_at=current, expires_at=current + ttl, **login,
    )
    db.session.add(record)
    return record


def _delete(sess: ServerSideSession) -> None:
    if sess.record is not None:
        BrowserSession.query.filter_by(key_hash=sess.record.key_hash).delete()
        sess.record = None
        sess.key = None


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
    """Log this browser out at once; returns the login that ended. The caller commits.

    The row is deleted now, not when the response is saved, so whatever the caller does next
    (revoking the session's grants, queueing back-channel notices) commits with it.
    """
    login = current_login()
    _delete(session)
    session.ended = True
    session.pending_login = None
    session.clear()
    return login


def session_is_live(sid: str | None) -> bool:
    """Whether the browser session with this public ``sid`` still has someone logged in (not logged out, not expired)."""
    if not sid:
        return False
    return db.session.query(
        BrowserSession.query.filter(BrowserSession.sid == sid, BrowserSession.person_id.isnot(None),
                                    BrowserSession.expires_at > now()).exists()
    ).scalar()


def prune_expired_sessions() -> int:
    count = BrowserSession.query.filter(BrowserSession.expires_at <= now()).delete()
    db.session.commit()
    return count

