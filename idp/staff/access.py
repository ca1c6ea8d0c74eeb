"""Roles and access in the staff area: who is logged in, what each view needs, and the areas a member may use.

Every staff view but the login, set-up and logout pages is wrapped in ``requires_role``, which keeps the
roles on the view (``view._staff_roles``) so a test can check every route against every role.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from flask import g, redirect, request, session, url_for

from ..extensions import db
from ..i18n import N_
from ..models import StaffMember
from ..areas.sessions import current_member_id
from .area import STAFF

ID_CHECKER = "id_checker"
HEALTH_PROFESSIONAL = "health_professional"
ADMIN = "admin"
ROLES = (ID_CHECKER, HEALTH_PROFESSIONAL, ADMIN)
ROLE_NAMES = {ID_CHECKER: N_("ID checking team"), HEALTH_PROFESSIONAL: N_("Health professional"),
              ADMIN: N_("Administrator")}
NO_ACCESS = N_("You do not have access to this page")


def current_staff() -> StaffMember | None:
    """The active member this staff session belongs to, proven by both factors; None otherwise."""
    if "staff_member" not in g:
        member_id = current_member_id(STAFF)
        member = db.session.get(StaffMember, member_id) if member_id else None
        g.staff_member = member if member is not None and member.status == "active" else None
    return g.staff_member


def forget_current_staff() -> None:
    """The member changed (logged in, disabled): read again on next use."""
    g.pop("staff_member", None)


def requires_role(*roles: str):
    """A staff view for members with any of ``roles``: others are sent to log in (GET) or refused (403)."""
    unknown = set(roles) - set(ROLES)
    if not roles or unknown:
        raise ValueError(f"requires_role needs roles from {ROLES}, got {sorted(unknown) or 'none'}")

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            member = current_staff()
            if member is None:
                if request.method in ("GET", "HEAD"):
                    timed_out = 1 if getattr(session, "timed_out", False) else None
                    return redirect(url_for("staff.login", next=request.full_path.rstrip("?"), timed_out=timed_out))
                return refused()
            if not set(member.roles or ()) & set(roles):
                from . import audit

                audit.record("access.refused", member=member, endpoint=request.endpoint, method=request.method)
                db.session.commit()
                return refused()
            return view(*args, **kwargs)

        wrapper._staff_roles = frozenset(roles)
        return wrapper

    return decorate


def refused():
    from ..web import error_page

    return error_page(NO_ACCESS, N_("If you think you should have access, ask an administrator of the staff area."), 403)


@dataclass(frozen=True)
class Area:
    """A part of the staff area listed on the staff home page for members with ``role``."""

    title: str  # a message id (N_), shown through gettext
    endpoint: str
    role: str
    description: str


_AREAS: dict[str, Area] = {}


def register_area(title: str, endpoint: str, role: str, description: str) -> Area:
    """List an area on the staff home page for members with ``role`` (registering an endpoint again replaces it)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    area = Area(title, endpoint, role, description)
    _AREAS[endpoint] = area
    return area


def areas_for(member: StaffMember) -> list[Area]:
    """The areas this member's roles allow, in the order they were registered."""
    roles = set(member.roles or ())
    return [area for area in _AREAS.values() if area.role in roles]
