"""Admin pages of the staff area: the audit of staff actions, and the staff accounts (disable one)."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext

from ..extensions import db
from ..models import StaffMember
from . import audit, members
from .access import ADMIN, current_staff, forget_current_staff, requires_role
from .blueprint import bp

AUDIT_PAGE_SIZE = 200


@bp.app_template_filter("staff_time")
def staff_time(at: int) -> str:
    return datetime.fromtimestamp(at, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


@bp.route("/audit")
@requires_role(ADMIN)
def audit_log():
    return render_template("staff/audit.html", events=audit.of(AUDIT_PAGE_SIZE))


@bp.route("/members", endpoint="members")
@requires_role(ADMIN)
def members_list():
    everyone = StaffMember.query.order_by(StaffMember.email).all()
    # The notice names a member looked up by id, never text from the link (no one can make it say anything else).
    disabled = db.session.get(StaffMember, request.args["disabled"]) if request.args.get("disabled") else None
    notice = gettext("%(email)s has been disabled. Their sessions have ended.", email=disabled.email) \
        if disabled is not None and disabled.status == "disabled" else None
    return render_template("staff/members.html", members=everyone, notice=notice, errors=[])


@bp.route("/members/<member_id>/disable", methods=["POST"])
@requires_role(ADMIN)
def disable_member(member_id):
    """An admin ends someone's access at once: the account is disabled and every session it has is deleted."""
    member = db.session.get(StaffMember, member_id)
    if member is None:
        abort(404)
    if member.id == current_staff().id:  # an admin cannot lock the area's last door behind themselves
        everyone = StaffMember.query.order_by(StaffMember.email).all()
        errors = [{"field": None, "message": gettext("You cannot disable your own account")}]
        return render_template("staff/members.html", members=everyone, notice=None, errors=errors), 400
    members.disable(member)
    audit.record("member.disabled", subject=member.id, via="staff_area")
    db.session.commit()
    forget_current_staff()
    return redirect(url_for("staff.members", disabled=member.id))
