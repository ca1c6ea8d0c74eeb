"""Server-side browser sessions behind Flask's session interface.

The cookie carries a random key; the row (found by the key's SHA-256) holds the
login (person, auth_time, components, sid) and small interaction state. The key
and sid change at every login (session fixation), and logout deletes the row, so
"log out everywhere" is one DELETE.
"""
from __future__ import annotations

import copy
import hashlib
import secrets
from dataclasses import dataclass, field

from flask import session
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from ..areas.area import for_surface
from ..areas.sessions import AreaSessionData, open_area_session, save_area_session
from ..clock import now
from ..extensions import db
from ..levels import AuthenticationComponent
from ..models import BrowserSession
from ..surfaces import surface_of



def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class Login:
    """Who is logged in, and when each authentication component was last proven."""

    person_id: str
    auth_time: int  # OIDC Core 2: the last time the person really authenticated (a step-up moves it)
    components: tuple[str, ...]
    sid: str
    component_times: dict = field(default_factory=dict, compare=False)  # component -> time proven

    @classmethod
    def of(cls, person_id: str, component_times: dict, sid: str) -> "Login":
        times = {c: int(t) for c, t in (component_times or {}).items()}
        return cls(person_id, max(times.values(), default=0), tuple(sorted(times, key=_ORDER.index)), sid, times)


_ORDER = [c.value for c in AuthenticationComponent]


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
        return Login.of(r.person_id, r.component_times or dict.fromkeys(r.components or (), r.auth_time), r.sid)


class ServerSideSessionInterface(SessionInterface):
    def open_session(self, app, request):
        surface = surface_of(request.path, app)
        area = for_surface(surface)
        if area is not None:  # the staff area's or portal's own session: the patients' cookie is never read there
            return open_area_session(area, app, request)
        if not surface.has_browser_session:  # APIs and documents: skip the lookup
            return ServerSideSession(sessionless=True)
        key = request.cookies.get(self.get_cookie_name(app))
        if key and len(key) < 100:
            record = db.session.get(BrowserSession, _hash(key))
            if record is not None and record.expires_at > now():
                # A deep copy: state changed in place must differ from the loaded row, or the JSON column
                # compares equal and the change is never written.
                return ServerSideSession(copy.deepcopy(record.data or {}), key=key, record=record)
        return ServerSideSession()

    def save_session(self, app, sess: ServerSideSession, response):
        """One write per response: a new row at login (or when state first needs keeping), else the data.

        The row's ``expires_at`` is fixed when it is created, counted from the login, and activity never
        moves it (IDP_SESSION_TTL is an absolute lifetime: NIST SP 800-63B 4.2.3, ASVS 3.3).
        """
        if isinstance(sess, AreaSessionData):
            return save_area_session(app, sess, response)
        if sess.sessionless:
            return
        current = now()
        if sess.pending_login is not None:
            # Renew at login and at every step-up: a fresh key (session fixation), carrying over the interaction
            # state; a new person also gets a new sid and lifetime.
            _delete(sess)
            sess.record = _new_record(sess, current, app.extensions["idp"].settings.session_ttl, **sess.pending_login)
        elif sess.record is None:
            if not (sess.modified and sess):
                if sess.ended:
                    db.session.commit()  # keep the logout's deletion even if the view did not commit
                    response.delete_cookie(self.get_cookie_name(app), domain=self.get_cookie_domain(app),
                                           path=self.get_cookie_path(app))
                return
            sess.record = _new_record(sess, current, app.extensions["idp"].settings.session_ttl)
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


def _new_record(sess: ServerSideSession, current: int, ttl: int, person_id: str | None = None,
                component_times: dict | None = None, sid: str | None = None,
                expires_at: int | None = None) -> BrowserSession:
    sess.key = secrets.token_urlsafe(32)
    login = Login.of(person_id, component_times or {}, "") if person_id else None
    record = BrowserSession(
        key_hash=_hash(sess.key), sid=sid or secrets.token_urlsafe(24), data=dict(sess),
        person_id=person_id, auth_time=login.auth_time if login else None,
        components=list(login.components) if login else [], component_times=dict(component_times or {}),
        created_at=current, updated_at=current, expires_at=expires_at or current + ttl,
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
        return Login.of(p["person_id"], p["component_times"], p.get("sid") or "")
    return getattr(session, "login", None)


def establish_login(person_id: str, proven: dict[str, int]) -> None:
    """Record that ``person_id`` proved these components (component -> time); the key is renewed on save.

    A step-up by the same person adds to what the session had and keeps its ``sid`` (the relying
    parties' handle for back-channel logout) and its absolute expiry; another person starts afresh.
    """
    existing = current_login()
    times = {c: int(t) for c, t in proven.items()}
    carry = {}
    if existing and existing.person_id == person_id:
        times = {**existing.component_times, **times}
        carry = {"sid": existing.sid, "expires_at": session.record.expires_at if session.record else None}
    session.pending_login = {"person_id": person_id, "component_times": times, **carry}
    session.modified = True


def end_login() -> Login | None:
    """Log this browser out at once; returns the login that ended. The caller commits.

    The row is deleted now, not when the response is saved, so whatever the caller does next
    (revoking the session's grants, queueing back-channel notices) commits with it.
    """
    login = current_login()
    language = session.get("lang")  # the browser's language choice is not the person's: it stays
    _delete(session)
    session.ended = True
    session.pending_login = None
    session.clear()
    if language:
        session["lang"] = language
    return login


def end_sessions_of(person_id: str, keep_sid: str | None = None) -> list[str]:
    """Delete every browser session of a person but ``keep_sid``; returns their sids. The caller commits.

    If this browser is one of them it is logged out too, keeping its journey state (the interaction a
    password reset returns to) in a fresh anonymous row.
    """
    rows = BrowserSession.query.filter(BrowserSession.person_id == person_id)
    if keep_sid:
        rows = rows.filter(BrowserSession.sid != keep_sid)
    sids = [row.sid for row in rows]
    rows.delete(synchronize_session=False)
    if isinstance(session, ServerSideSession) and session.record is not None and session.record.sid in sids:
        db.session.expunge(session.record)
        session.record, session.pending_login, session.modified = None, None, True
    return sids


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

