"""Who is logged in to the portal, and the one check every portal page but login, sign-up and set-up makes.

``requires_integrator`` marks the view (``view._developer_login``) so a test can check every route. What a
member may see is their own organisation's: every lookup of a service or client goes through ``own_*``.
"""
from __future__ import annotations

import functools

from flask import abort, g, redirect, request, session, url_for

from ..areas.sessions import current_member_id
from ..extensions import db
from ..models import Client, Integrator, Service
from .area import DEVELOPER


def current_integrator() -> Integrator | None:
    """The active member this portal session belongs to, proven by both factors; None otherwise."""
    if "integrator" not in g:
        member_id = current_member_id(DEVELOPER)
        member = db.session.get(Integrator, member_id) if member_id else None
        g.integrator = member if member is not None and member.status == "active" else None
    return g.integrator


def requires_integrator(view):
    """A portal view for a logged-in member: others are sent to log in (GET) or refused (403)."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if current_integrator() is None:
            if request.method in ("GET", "HEAD"):
                timed_out = 1 if getattr(session, "timed_out", False) else None
                return redirect(url_for("developer.login", next=request.full_path.rstrip("?"), timed_out=timed_out))
            abort(403)
        return view(*args, **kwargs)

    wrapper._developer_login = True
    return wrapper


def own_service(service_id: str) -> Service:
    """The logged-in member's organisation's service, or 404 (another organisation's is not found, not refused)."""
    service = db.session.get(Service, service_id) if len(service_id) <= 36 else None
    if service is None or service.organisation_id != current_integrator().organisation_id:
        abort(404)
    return service


def own_client(client_id: str) -> tuple[Client, Service]:
    client = db.session.get(Client, client_id) if len(client_id) <= 64 else None
    service = db.session.get(Service, client.service_id) if client is not None and client.service_id else None
    if service is None or service.organisation_id != current_integrator().organisation_id:
        abort(404)
    return client, service
