"""Pushed authorization requests (RFC 9126): stored once checked at /par, redeemed once at /authorize."""
from __future__ import annotations

import secrets

from sqlalchemy import delete, update

from ..clock import now
from ..events import emit
from ..extensions import db
from ..models import PushedAuthorizationRequest

REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"  # RFC 9126 2.2
LIFETIME = 60  # RFC 9126 2.2: short-lived ("between 5 and 600 seconds" is the suggested range)


def store(client_id: str, params: dict) -> tuple[str, int]:
    """Keep a checked request; returns its request_uri and how long it lives (RFC 9126 2.2)."""
    request_id = secrets.token_urlsafe(32)
    created = now()
    db.session.add(PushedAuthorizationRequest(
        id=request_id, client_id=client_id, params=params, created_at=created, expires_at=created + LIFETIME,
    ))
    db.session.commit()
    emit("authorization.pushed", client_id=client_id)
    return REQUEST_URI_PREFIX + request_id, LIFETIME


def redeem(request_uri: str, client_id: str) -> dict | None:
    """The pushed parameters, once: None if unknown, expired, used, or pushed by another client (RFC 9126 4)."""
    request_id = request_uri[len(REQUEST_URI_PREFIX):] if request_uri.startswith(REQUEST_URI_PREFIX) else ""
    if not request_id or len(request_id) > 64:
        return None
    current = now()
    table = PushedAuthorizationRequest
    # One conditional UPDATE: two requests racing on the same request_uri cannot both win.
    row = db.session.execute(
        update(table)
        .where(table.id == request_id, table.client_id == client_id, table.used_at.is_(None), table.expires_at > current)
        .values(used_at=current)
        .returning(table.params)
    ).first()
    db.session.commit()
    return dict(row[0]) if row is not None else None


def prune_pushed_requests() -> int:
    """Delete pushed requests that can no longer be used."""
    table = PushedAuthorizationRequest
    result = db.session.execute(delete(table).where(table.expires_at <= now()))
    db.session.commit()
    return result.rowcount
