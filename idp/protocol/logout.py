"""Ending sessions: RP-initiated logout 1.0 rules and back-channel logout 1.0 delivery."""
from __future__ import annotations

import logging

import requests

from ..events import emit
from ..models import Client, Grant, Person
from ..outbound import DestinationRefused, check_destination

log = logging.getLogger(__name__)


class LogoutRequestError(ValueError):
    """A logout request we must not act on by redirecting (shown as a page)."""


def read_id_token_hint(hint: str, keystore, issuer: str) -> dict:
    """Claims of an ID token we issued; expired ones are fine (RP-Initiated Logout 1.0 section 2)."""
    from .authorization import ID_TOKEN_TYPES

    try:
        claims = keystore.read_own_jwt(hint, typ=ID_TOKEN_TYPES)
    except ValueError:
        raise LogoutRequestError("The id_token_hint is not an ID token we issued.") from None
    if claims.get("iss") != issuer:
        raise LogoutRequestError("The id_token_hint was issued by someone else.")
    return claims


def resolve_client(client_id: str | None, hint_claims: dict | None) -> Client | None:
    aud = (hint_claims or {}).get("aud")
    hint_client = aud[0] if isinstance(aud, list) and aud else aud
    if client_id and hint_client and client_id != hint_client:
        raise LogoutRequestError("client_id does not match the id_token_hint.")
    chosen = client_id or hint_client
    if not chosen:
        return None
    client = Client.find(chosen)
    if client is None:
        raise LogoutRequestError("The service asking to log you out is not registered with us.")
    return client


def check_post_logout_redirect_uri(uri: str | None, client: Client | None) -> str | None:
    if uri is None:
        return None
    if client is None:
        raise LogoutRequestError("post_logout_redirect_uri needs a client_id or id_token_hint to check it against.")
    if uri not in (client.post_logout_redirect_uris or []):
        raise LogoutRequestError("The post_logout_redirect_uri is not registered for this service.")
    return uri


def notify_backchannel(sid: str, person: Person | None, issuer, timeout: int) -> list[str]:
    """POST a logout token to every client that got a grant in this session and registered a URI."""
    client_ids = {g.client_id for g in Grant.query.filter_by(sid=sid).all()} if sid else set()
    notified = []
    for client in Client.query.filter(Client.client_id.in_(client_ids)).all() if client_ids else []:
        if not client.backchannel_logout_uri:
            continue
        token = issuer.logout_token(client=client, person=person, sid=sid)
        try:
            check_destination(client.backchannel_logout_uri)
            response = requests.post(
                client.backchannel_logout_uri, data={"logout_token": token}, timeout=timeout,
                headers={"Cache-Control": "no-cache"}, allow_redirects=False,
            )
            ok = response.status_code in (200, 204)
        except (requests.RequestException, DestinationRefused):
            ok = False
        emit("logout.backchannel_sent" if ok else "logout.backchannel_failed", client_id=client.client_id)
        if ok:
            notified.append(client.client_id)
    return notified
