"""The integrator audit: every action in or to an organisation's portal account, by whom, when, from where.

``record`` adds the event to the caller's database session without committing, so the event is kept exactly
when the change it describes is. Details carry ids and what changed, never keys' private parts or codes.
"""
from __future__ import annotations

from flask import has_request_context, request

from ..clock import now
from ..extensions import db
from ..models import DeveloperAuditEvent, Integrator

_CURRENT = object()


def record(action: str, *, member=_CURRENT, organisation_id: str | None = None, actor: str | None = None,
           subject: str | None = None, **detail) -> DeveloperAuditEvent:
    """Append ``action`` by ``member`` (default the integrator logged in) or ``actor`` (``staff:<email>``)."""
    if member is _CURRENT:
        from .access import current_integrator

        member = current_integrator()
    is_member = isinstance(member, Integrator)
    event = DeveloperAuditEvent(
        at=now(), organisation_id=organisation_id or (member.organisation_id if is_member else None),
        actor_id=member.id if is_member else None, actor=member.email if is_member else actor,
        action=action, subject=subject, detail=detail,
        source=(request.remote_addr or "")[:64] if has_request_context() else None,
    )
    db.session.add(event)
    return event


def of(organisation_id: str, limit: int = 100) -> list[DeveloperAuditEvent]:
    """An organisation's events, newest first."""
    return (DeveloperAuditEvent.query.filter_by(organisation_id=organisation_id)
            .order_by(DeveloperAuditEvent.seq.desc()).limit(limit).all())
