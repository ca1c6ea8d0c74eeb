"""The staff area's own pages: log in (password, then the authenticator app), log out, set up an account, home.

Each view parses the form, calls ``factors``/``members``/``sessions``, records the action in the audit
and renders. Only these pages and the set-up link are open without a login; everything else is
``requires_role``.
"""
from __future__ import annotations

import re

from flask import current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext, ngettext

from ..authentication.password_policy import MESSAGES as PASSWORD_MESSAGES, check_new_password
from ..authentication.passwords import hash_password
from ..clock import now
from ..extensions import db
from ..i18n import N_
from ..models import StaffMember
from . import audit, factors, members, sessions
from .access import ADMIN, ROLE_NAMES, ROLES, areas_for, current_staff, register_area, requires_role
from .blueprint import bp
from .factors import CodeCheck, Outcome

PENDING_SECONDS = 300  # a password proven this long ago still waits for its second factor
LOGIN_FAILED = N_("Enter a correct email address and password")
WRONG_CODE = N_("Enter the correct code from your authenticator app")
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


def _settings():
    return current_app.extensions["idp"].settings


def _source() -> str:
    return request.remote_addr or "unknown"


_NEXT = re.compile(r"^/staff/[A-Za-z0-9/_.?=&%-]*$")


def _safe_next(value: str | None) -> str | None:
    # Only a page of the staff area itself, in plain URL characters: never an open redirect (RFC 6819 4.2.4
    # in spirit) nor a header Werkzeug must refuse (CR, LF).
    if value and len(value) <= 500 and _NEXT.match(value) and "//" not in value:
        return value
    return None


def _minutes(seconds: int) -> int:
    return max(1, -(-seconds // 60))


# --- logging in ----------------------------------------------------------------------------------
@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_staff() is not None:
        return redirect(url_for("staff.home"))
    next_page = _safe_next(request.values.get("next"))
    if request.method == "GET":
        notice = (gettext("You were logged out because you had not used the staff area for %(minutes)d minutes.",
                          minutes=_minutes(_settings().staff_idle_seconds)) if request.args.get("timed_out")
                  else gettext("You have logged out.") if request.args.get("logged_out") else None)
        return render_template("staff/login.html", email="", errors=[], next_page=next_page, notice=notice)
    email, password = request.form.get("email", "").strip(), request.form.get("password", "")
    errors = [e for e in (
        {"field": "email", "message": gettext("Enter your email address")} if not email else None,
        {"field": "password", "message": gettext("Enter your password")} if not password else None) if e]
    if not errors:
        outcome, member = factors.check_password(email, password, _source(), _settings())
        if outcome is Outcome.OK:
            session["pending_login"] = {"member_id": member.id, "at": now(), "next": next_page}
            return redirect(url_for("staff.login_code"))
        # The account's email only when it is a staff account's (member); never the password.
        audit.record("login.throttled" if outcome is Outcome.THROTTLED else "login.failed", member=member,
                     factor="password")
        db.session.commit()
        minutes = _minutes(_settings().login_lockout_seconds)
        errors = [{"field": "email", "message": ngettext(
            "There have been too many attempts. Wait %(num)d minute and try again.",
            "There have been too many attempts. Wait %(num)d minutes and try again.", minutes)
            if outcome is Outcome.THROTTLED else gettext(LOGIN_FAILED)}]
    return render_template("staff/login.html", email=email, errors=errors, next_page=next_page, notice=None), 400


def _pending_member() -> StaffMember | None:
    pending = session.get("pending_login")
    if not isinstance(pending, dict) or pending.get("at", 0) + PENDING_SECONDS <= now():
        return None
    member = db.session.get(StaffMember, pending.get("member_id"))
    return member if member is not None and member.status == "active" else None


@bp.route("/login/authenticator", methods=["GET", "POST"])
def login_code():
    """The second factor, always (issue 9): the authenticator app's code; staff never get SMS."""
    member = _pending_member()
    if member is None:
        session.pop("pending_login", None)
        return redirect(url_for("staff.login"))
    if request.method == "GET":
        return render_template("staff/login_code.html", errors=[])
    outcome = factors.check_code(member, request.form.get("code", ""), _source(), _settings())
    if outcome is CodeCheck.OK:
        next_page = session["pending_login"].get("next")
        sessions.log_in(member.id)
        audit.record("login.succeeded", member=member, factor="authenticator_app")
        db.session.commit()
        return redirect(next_page or url_for("staff.home"))
    audit.record("login.throttled" if outcome is CodeCheck.THROTTLED else "login.failed", member=member,
                 factor="authenticator_app")
    db.session.commit()
    if outcome is CodeCheck.THROTTLED and factors.is_blocked(member):
        session.pop("pending_login", None)
        message = gettext("Your staff account is locked because of too many wrong codes. Ask an administrator "
                          "to reset it.")
    elif outcome is CodeCheck.THROTTLED:
        session.pop("pending_login", None)
        message = gettext("There have been too many wrong codes. Wait %(minutes)d minutes and log in again.",
                          minutes=_minutes(_settings().login_lockout_seconds))
    else:
        message = gettext(WRONG_CODE)
    return render_template("staff/login_code.html", errors=[{"field": "code", "message": message}]), 400


@bp.route("/logout", methods=["POST"])
def logout():
    member = current_staff()
    if member is not None:
        audit.record("logout", member=member)
    sessions.log_out()
    db.session.commit()
    return redirect(url_for("staff.login", logged_out=1))


# --- setting up an account -------------------------------------------------------------------------
def _link_problem(state: str):
    heading, message = LINK_PROBLEMS[state]
    return render_template("staff/link_problem.html", heading=gettext(heading), message=gettext(message)), 400


@bp.route("/set-up/<token>", methods=["GET", "POST"])
def set_up(token):
    """Choose a password (NIST SP 800-63B 3.1.1.2, the patients' policy), then an authenticator app."""
    member, state = members.for_set_up(token)
    if state != "ok":
        return _link_problem(state)
    errors = []
    if request.method == "POST":
        password, confirm = request.form.get("password", ""), request.form.get("confirm", "")
        errors = [{"field": "password", "message": gettext(PASSWORD_MESSAGES[reason])}
                  for reason in check_new_password(password, email=member.email)][:1]
        if not errors and password != confirm:
            errors = [{"field": "confirm", "message": gettext("The passwords do not match")}]
        if not errors:
            session["set_up"] = {"member_id": member.id, "password_hash": hash_password(password)}
            return redirect(url_for("staff.set_up_authenticator", token=token))
    return render_template("staff/set_up_password.html", member=member, errors=errors), 400 if errors else 200


@bp.route("/set-up/<token>/authenticator", methods=["GET", "POST"])
def set_up_authenticator(token):
    member, state = members.for_set_up(token)
    if state != "ok":
        return _link_problem(state)
    pending = session.get("set_up")
    if not isinstance(pending, dict) or pending.get("member_id") != member.id:
        return redirect(url_for("staff.set_up", token=token))
    enrolment = factors.enrolment(member, _settings(), pending.get("secret"))
    if pending.get("secret") != enrolment.secret:
        session["set_up"] = {**pending, "secret": enrolment.secret}  # the same key on every view of this page
    errors = []
    if request.method == "POST":
        step = factors.confirming_step(enrolment.secret, request.form.get("code", ""))
        if step is None:
            errors = [{"field": "code", "message": gettext(WRONG_CODE)}]
        elif not members.complete_set_up(member, token, pending["password_hash"],
                                         factors.seal(_settings(), enrolment.secret), step):
            return _link_problem("used")
        else:
            sessions.log_in(member.id)
            audit.record("set_up.completed", member=member, subject=member.id)
            db.session.commit()
            return redirect(url_for("staff.home"))
    return render_template("staff/set_up_authenticator.html", enrolment=enrolment, errors=errors), \
        400 if errors else 200


# --- home ------------------------------------------------------------------------------------------
@bp.route("/")
@requires_role(*ROLES)
def home():
    return render_template("staff/home.html", areas=areas_for(current_staff()))
