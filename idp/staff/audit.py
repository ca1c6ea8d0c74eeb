"""The staff audit: who did what, to which person, when and from where, for every staff action (issue 9).

``record`` adds an event to the caller's database session without committing, so the event is kept
exactly when the change it describes is (one commit). Details carry ids and reasons, never personal data.
"""
from __future__ import annotations

from flask import has_request_context, request

from ..clock import now
from ..extensions import db
from ..models import StaffAuditEvent, StaffMember

_CURRENT = object()


def record(action: str, *, person_id: str | None = None, subject: str | None = None, member=_CURRENT,
           actor: str | None = None, **detail) -> StaffAuditEvent:
    """Append ``action`` by ``member`` (default the staff member logged in; None for nobody known); the caller commits.

    ``actor`` names who acted when it is not a staff member (``operator:cli``)."""
    if member is _CURRENT:
        from .access import current_staff

        member = current_staff()
    event = StaffAuditEvent(
        at=now(), staff_member_id=member.id if isinstance(member, StaffMember) else None,
        staff_email=member.email if isinstance(member, StaffMember) else actor,
        action=action, person_id=person_id, subject=subject, detail=detail,
        source=(request.remote_addr or "")[:64] if has_request_context() else None,
    )
    db.session.add(event)
    return event


def of(limit: int = 100, *, staff_member_id: str | None = None, person_id: str | None = None,
       action: str | None = None) -> list[StaffAuditEvent]:
    """The newest events first, optionally only one member's, one person's or one action's."""
    query = StaffAuditEvent.query
    if staff_member_id:
        query = query.filter_by(staff_member_id=staff_member_id)
    if person_id:
        query = query.filter_by(person_id=person_id)
    if action:
        query = query.filter_by(action=action)
    return query.order_by(StaffAuditEvent.seq.desc()).limit(limit).all()
