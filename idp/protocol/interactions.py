"""Parked authorization requests: the contract between the protocol and the login surface.

The protocol parks a request it cannot finish (``start``); the login surface
shows pages, then marks what the person did (``consent_given``/``consent_refused``;
a login is read from the session itself) and sends the browser to ``resume_url``,
which runs the authorization pipeline again. Interactions live in the
server-side browser session, so they survive the session renewal at login.
"""
from __future__ import annotations

import secrets

from flask import session, url_for

from ..clock import now

LIFETIME = 30 * 60
MAX_OPEN = 5


def _all() -> dict:
    return dict(session.get("interactions") or {})


def start(params: dict, kind: str, client_id: str, asserted_login: dict | None = None) -> str:
    """Park a request; ``asserted_login`` is the login an accepted assertion stands for (asserted_login.parked)."""
    current = now()
    open_ = {k: v for k, v in _all().items() if v.get("created_at", 0) + LIFETIME > current}
    # Bound the session's size: a browser rarely has more than a couple of logins in flight.
    for old in sorted(open_, key=lambda k: open_[k]["created_at"])[: max(0, len(open_) - MAX_OPEN + 1)]:
        open_.pop(old)
    interaction_id = secrets.token_urlsafe(16)
    open_[interaction_id] = {"params": params, "kind": kind, "client_id": client_id, "created_at": current}
    if asserted_login:
        open_[interaction_id]["asserted_login"] = asserted_login
    session["interactions"] = open_
    return interaction_id


def load(interaction_id: str | None) -> dict | None:
    if not interaction_id or not isinstance(interaction_id, str):
        return None
    record = _all().get(interaction_id)
    if record is None or record.get("created_at", 0) + LIFETIME <= now():
        return None
    return record


def update(interaction_id: str, **changes) -> None:
    records = _all()
    if interaction_id in records:
        records[interaction_id] = {**records[interaction_id], **changes}
        session["interactions"] = records


def set_kind(interaction_id: str, kind: str) -> None:
    update(interaction_id, kind=kind)


def login_finished(interaction_id: str, person_id: str) -> None:
    """The person logged in inside this request: it satisfies prompt=login, max_age and id_token_hint."""
    update(interaction_id, logged_in_as=person_id)


def consent_given(interaction_id: str) -> None:
    update(interaction_id, consent="allow")


def consent_refused(interaction_id: str) -> None:
    update(interaction_id, consent="deny")


def finish(interaction_id: str) -> None:
    records = _all()
    if records.pop(interaction_id, None) is not None:
        session["interactions"] = records


def resume_url(interaction_id: str) -> str:
    return url_for("protocol.resume", interaction_id=interaction_id)


def page_url(interaction_id: str, kind: str) -> str:
    return url_for("accounts.login" if kind == "login" else "accounts.consent", interaction=interaction_id)
