"""The staff area's own pages: log in (password, then the authenticator app), log out, set up an account
(all from ``idp.areas.pages``), and home.

Only the login, set-up and logout pages are open without a login; everything else is ``requires_role``.
"""
from __future__ import annotations

from flask import render_template

from ..areas import pages
from ..i18n import N_
from .access import ADMIN, ROLE_NAMES, ROLES, areas_for, current_staff, register_area, requires_role
from .area import STAFF
from .blueprint import bp

LINK_PROBLEMS = {
    "unknown": (N_("This set-up link is not valid"), N_("Check you copied the whole link, or ask an administrator for a new one.")),
    "used": (N_("This set-up link has already been used"), N_("Log in to the staff area, or ask an administrator to reset your account.")),
    "expired": (N_("This set-up link has expired"), N_("Set-up links last 72 hours. Ask an administrator for a new one.")),
}

register_area(N_("Staff accounts"), "staff.members", ADMIN, N_("See who can use the staff area and disable an account."))
register_area(N_("Audit of staff actions"), "staff.audit_log", ADMIN, N_("See what staff have done, newest first."))


@bp.context_processor
def staff_context():
    return {"staff_member": current_staff(), "role_names": ROLE_NAMES}


def _safe_next(value):
    return pages.safe_next("/staff", value)


# --- logging in, logging out, setting up an account (idp.areas.pages) ---------------------------------
pages.install(bp, STAFF, current_member=current_staff, home="staff.home", texts=pages.AreaTexts(
    locked=N_("Your staff account is locked because of too many wrong codes. Ask an administrator to reset it."),
    timed_out=N_("You were logged out because you had not used the staff area for %(minutes)d minutes."),
    link_problems=LINK_PROBLEMS))


# --- home ------------------------------------------------------------------------------------------
@bp.route("/")
@requires_role(*ROLES)
def home():
    return render_template("staff/home.html", areas=areas_for(current_staff()))
