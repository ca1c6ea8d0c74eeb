"""Ending sessions: RP-initiated logout 1.0 rules and back-channel logout 1.0 delivery."""
from __future__ import annotations

from flask import current_app

from .. import jobs
from ..authentication import Login, end_login
from ..authentication.sessions import end_sessions_of as end_browser_sessions_of
from ..clock import now
from ..events import emit
from ..extensions import db
from ..i18n import N_
from ..models import Client, Grant, Person
from ..outbound import FetchFailed, fetch
from .grants import revoke_session_grants

BACKCHANNEL_JOB = "backchannel_logout"
MAX_ANSWER_BYTES = 64 * 1024


# What a person reads when a logout request cannot be acted on (translated on the page).
LOGOUT_NOT_ACCEPTED = N_("The service you were using asked us to log you out, but its request was not one we "
                         "can accept.")
SERVICE_NOT_REGISTERED = N_("The service asking to log you out is not registered with us.")


class LogoutRequestError(ValueError):
    """A logout request we must not act on by redirecting (shown as a page): the text is for the service's
    developers, ``message`` for the person."""

    def __init__(self, description: str, message: str = LOGOUT_NOT_ACCEPTED):
        super().__init__(description)
        self.message = message


def read_id_token_hint(hint: str, keystore, issuer: str) -> dict:
    """Claims of an ID token we issued; expired ones are fine (RP-Initiated Logout 1.0 section 2)."""
    from .authorization import ID_TOKEN_TYPES

    try:
        claims = keystore.read_own_jwt(hint, typ=ID_TOKEN_TYPES)
    except ValueError:
        raise LogoutRequestError("id_token_hint is not an ID token issued by this provider.") from None
    if claims.get("iss") != issuer:
        raise LogoutRequestError("id_token_hint was issued by another issuer.")
    return claims


def resolve_client(client_id: str | None, hint_claims: dict | None) -> Client | None:
    aud = (hint_claims or {}).get("aud")
    hint_client = aud[0] if isinstance(aud, list) and aud else aud
    if client_id and hint_client and client_id != hint_client:
        raise LogoutRequestError("client_id does not match the aud of id_token_hint.")
    chosen = client_id or hint_client
    if not chosen:
        return None
    client = Client.find(chosen)
    if client is None:
        raise LogoutRequestError("client_id is not a client registered here.", message=SERVICE_NOT_REGISTERED)
    return client


def check_post_logout_redirect_uri(uri: str | None, client: Client | None) -> str | None:
    if uri is None:
        return None
    if client is None:
        raise LogoutRequestError("post_logout_redirect_uri needs a client_id or id_token_hint to check it against.")
    if uri not in (client.post_logout_redirect_uris or []):
        raise LogoutRequestError("post_logout_redirect_uri is not registered for this client.")
    return uri


def end_session(login: Login) -> None:
    """Log this browser out: the session row goes, its grants are revoked, notices are queued; one commit.

    Back-Channel Logout 1.0 2.7: refresh tokens not issued for ``offline_access`` (we issue none that
    are) are revoked at logout, and so the access tokens of the same grants. Each client that took part
    in the session and registered a back-channel URI is told after the response (``deliver_logout_token``),
    so a slow relying party can delay nobody's logout.
    """
    end_login()
    if login.sid:
        client_ids = {g.client_id for g in Grant.query.filter_by(sid=login.sid)}
        revoke_session_grants(login.sid, "logout")
        listening = Client.query.filter(Client.client_id.in_(client_ids), Client.backchannel_logout_uri.isnot(None))
        for client in listening if client_ids else []:
            jobs.enqueue(BACKCHANNEL_JOB, {"client_id": client.client_id, "person_id": login.person_id, "sid": login.sid})
    db.session.commit()


def end_sessions_of(person_id: str, reason: str, *, keep_sid: str | None = None) -> int:
    """Log a person out of every browser (a password reset, "log out everywhere", a deleted account): their
    sessions go, every grant they made is revoked (refresh and access tokens stop working), and each
    listening client is told by back-channel logout. ``keep_sid`` spares the browser asking. One commit."""
    sids = end_browser_sessions_of(person_id, keep_sid)
    notices = {(g.client_id, g.sid) for g in Grant.query.filter(Grant.sid.in_(sids))} if sids else set()
    grants = Grant.query.filter(Grant.person_id == person_id, Grant.revoked_at.is_(None))
    if keep_sid:
        grants = grants.filter((Grant.sid != keep_sid) | Grant.sid.is_(None))
    grants.update({"revoked_at": now(), "revoked_reason": reason}, synchronize_session=False)
    listening = {c.client_id for c in Client.query.filter(
        Client.client_id.in_({client_id for client_id, _ in notices}), Client.backchannel_logout_uri.isnot(None))}
    for client_id, sid in sorted(notices):
        if client_id in listening:
            jobs.enqueue(BACKCHANNEL_JOB, {"client_id": client_id, "person_id": person_id, "sid": sid})
    db.session.commit()
    emit("sessions.ended", person_id=person_id, reason=reason, count=len(sids))
    return len(sids)


@jobs.handler(BACKCHANNEL_JOB)
def deliver_logout_token(payload: dict) -> None:
    """POST a fresh logout token (Back-Channel Logout 1.0 2.5) within the outbound deadline; retried on failure."""
    client = db.session.get(Client, payload["client_id"])
    if client is None or not client.backchannel_logout_uri:
        return  # the client has gone, or no longer listens
    ctx = current_app.extensions["idp"]
    person = db.session.get(Person, payload["person_id"]) if payload.get("person_id") else None
    token = ctx.tokens.logout_token(client=client, person=person, sid=payload.get("sid"))
    try:
        answer = fetch("POST", client.backchannel_logout_uri, deadline=ctx.settings.outbound_timeout_seconds,
                       max_bytes=MAX_ANSWER_BYTES, data={"logout_token": token}, headers={"Cache-Control": "no-cache"})
    except FetchFailed as exc:
        emit("logout.backchannel_failed", client_id=client.client_id, reason=str(exc))
        raise jobs.RetryLater(str(exc)) from None
    if answer.status in (200, 204):
        emit("logout.backchannel_sent", client_id=client.client_id)
        return
    emit("logout.backchannel_failed", client_id=client.client_id, reason=f"HTTP {answer.status}")
    if 400 <= answer.status < 500:
        # 2.8: a 400 says the relying party could not process this token; sending it again will not help.
        raise jobs.GiveUp(f"answered HTTP {answer.status}")
    raise jobs.RetryLater(f"answered HTTP {answer.status}")
