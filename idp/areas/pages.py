"""An area's own pages: log in (password, then the authenticator app), log out, and set up an account from
its one-time link. ``install(bp, area, ...)`` adds them to the area's blueprint under the same endpoint names
in every area (``login``, ``login_code``, ``logout``, ``set_up``, ``set_up_authenticator``).

Each view parses the form, calls ``factors``/``accounts``/``sessions``, records the action in the area's audit
and renders the area's own template. Only these pages are open without a login.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from flask import current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext, ngettext

from ..authentication.password_policy import MESSAGES as PASSWORD_MESSAGES, check_new_password
from ..authentication.passwords import hash_password
from ..clock import now
from ..extensions import db
from ..i18n import N_
from ..authentication import throttle
from ..authentication.one_time_codes import FAILURES_PER_JOURNEY
from . import accounts, factors, passkeys, sessions
from .area import Area
from .factors import CodeCheck, Outcome

PENDING_SECONDS = 300  # a password proven this long ago still waits for its second factor
LOGIN_FAILED = N_("Enter a correct email address and password")
WRONG_CODE = N_("Enter the correct code from your authenticator app")
PASSKEY_FAILED = N_("We could not check your passkey. Try again.")


@dataclass(frozen=True)
class AreaTexts:
    """What the pages say that differs between areas (message ids, shown through gettext)."""

    locked: str  # too many wrong authenticator codes in a row: who unlocks it
    timed_out: str  # logged out for inactivity, with %(minutes)d
    link_problems: dict  # state -> (heading, message) for ``unknown``, ``used``, ``expired``


def _settings():
    return current_app.extensions["idp"].settings


def _source() -> str:
    return request.remote_addr or "unknown"


def _minutes(seconds: int) -> int:
    return max(1, -(-seconds // 60))


def _first_in_window(area: Area, member) -> bool:
    """Whether this throttled attempt is the first of the lockout window: a flood of attempts on a locked account
    is one audit event, so it cannot push what else happened out of view."""
    subject = throttle.subject(f"{area.throttle_prefix}-audited-lock", member.id if member else "unknown")
    return throttle.count_attempt(subject, 1, _settings().login_lockout_seconds) == 1


def safe_next(area_prefix: str, value: str | None) -> str | None:
    """Only a page of the area itself, in plain URL characters: never an open redirect (RFC 6819 4.2.4 in
    spirit) nor a header Werkzeug must refuse (CR, LF)."""
    pattern = re.compile(rf"^{re.escape(area_prefix)}/[A-Za-z0-9/_.?=&%-]*$")
    if value and len(value) <= 500 and pattern.match(value) and "//" not in value:
        return value
    return None


def install(bp, area: Area, *, current_member: Callable[[], object], texts: AreaTexts, home: str,
            after_set_up: Callable[[object], None] | None = None) -> None:
    """Add the log-in, log-out and set-up pages of ``area`` to ``bp``; ``home`` is the endpoint after logging in."""
    prefix = bp.url_prefix

    def login():
        if current_member() is not None:
            return redirect(url_for(home))
        next_page = safe_next(prefix, request.values.get("next"))
        if request.method == "GET":
            notice = (gettext(texts.timed_out, minutes=_minutes(getattr(_settings(), f"{area.name}_idle_seconds")))
                      if request.args.get("timed_out")
                      else gettext("You have logged out.") if request.args.get("logged_out") else None)
            return render_template(area.template("login.html"), email="", errors=[], next_page=next_page,
                                   notice=notice)
        email, password = request.form.get("email", "").strip(), request.form.get("password", "")
        errors = [e for e in (
            {"field": "email", "message": gettext("Enter your email address")} if not email else None,
            {"field": "password", "message": gettext("Enter your password")} if not password else None) if e]
        if not errors:
            outcome, member = factors.check_password(area, email, password, _source(), _settings())
            if outcome is Outcome.OK:
                session["pending_login"] = {"member_id": member.id, "at": now(), "next": next_page}
                second = "login_passkey" if passkeys.has_passkey(area, member) else "login_code"
                return redirect(url_for(area.endpoint(second)))
            # The account's email only when it is one of the area's (member); never the password.
            if outcome is not Outcome.THROTTLED or _first_in_window(area, member):
                area.audit("login.throttled" if outcome is Outcome.THROTTLED else "login.failed", member=member,
                           factor="password")
            db.session.commit()
            minutes = _minutes(_settings().login_lockout_seconds)
            errors = [{"field": "email", "message": ngettext(
                "There have been too many attempts. Wait %(num)d minute and try again.",
                "There have been too many attempts. Wait %(num)d minutes and try again.", minutes)
                if outcome is Outcome.THROTTLED else gettext(LOGIN_FAILED)}]
        return render_template(area.template("login.html"), email=email, errors=errors, next_page=next_page,
                               notice=None), 400

    def pending_member():
        pending = session.get("pending_login")
        if not isinstance(pending, dict) or pending.get("at", 0) + PENDING_SECONDS <= now():
            return None
        member = db.session.get(area.member_model, pending.get("member_id"))
        return member if member is not None and member.status == "active" else None

    def login_code():
        """The second factor, always: the authenticator app's code; never SMS."""
        member = pending_member()
        if member is None:
            session.pop("pending_login", None)
            return redirect(url_for(area.endpoint("login")))
        if request.method == "GET":
            return render_template(area.template("login_code.html"), errors=[],
                                   has_passkey=passkeys.has_passkey(area, member))
        outcome = factors.check_code(area, member, request.form.get("code", ""), _source(), _settings())
        if outcome is CodeCheck.OK:
            next_page = session["pending_login"].get("next")
            sessions.log_in(member.id)
            area.audit("login.succeeded", member=member, factor="authenticator_app")
            db.session.commit()
            return redirect(next_page or url_for(home))
        area.audit("login.throttled" if outcome is CodeCheck.THROTTLED else "login.failed", member=member,
                   factor="authenticator_app")
        db.session.commit()
        if outcome is CodeCheck.THROTTLED and factors.is_blocked(member):
            session.pop("pending_login", None)
            message = gettext(texts.locked)
        elif outcome is CodeCheck.THROTTLED:
            session.pop("pending_login", None)
            message = gettext("There have been too many wrong codes. Wait %(minutes)d minutes and log in again.",
                              minutes=_minutes(_settings().login_lockout_seconds))
        else:
            message = gettext(WRONG_CODE)
        return render_template(area.template("login_code.html"), errors=[{"field": "code", "message": message}],
                               has_passkey=passkeys.has_passkey(area, member)), 400

    def login_passkey():
        """The second factor by passkey (WebAuthn L3 7.2), for a member who has one: only their own credentials."""
        member = pending_member()
        if member is None or not passkeys.has_passkey(area, member):
            session.pop("pending_login", None)
            return redirect(url_for(area.endpoint("login")))
        key = throttle.subject(f"{area.throttle_prefix}-passkey", member.id)
        window = _settings().login_lockout_seconds
        errors = []
        if request.method == "POST":
            challenge = session["pending_login"].pop("passkey_challenge", None)  # single use
            session.modified = True
            if throttle.is_locked(key, FAILURES_PER_JOURNEY, window):
                session.pop("pending_login", None)
                area.audit("login.throttled", member=member, factor="passkey")
                db.session.commit()
                return render_template(area.template("link_problem.html"), heading=gettext(
                    "There have been too many attempts"), message=gettext(
                    "Wait %(minutes)d minutes and log in again.", minutes=_minutes(window))), 400
            try:
                passkeys.authenticate(area, member, request.form.get("credential", ""), challenge, _settings())
            except passkeys.PasskeyError:
                throttle.count_attempt(key, FAILURES_PER_JOURNEY, window)
                area.audit("login.failed", member=member, factor="passkey")
                db.session.commit()
                errors = [{"field": "passkey", "message": gettext(PASSKEY_FAILED)}]
            else:
                next_page = session["pending_login"].get("next")
                throttle.clear(key)
                sessions.log_in(member.id)
                area.audit("login.succeeded", member=member, factor="passkey")
                db.session.commit()
                return redirect(next_page or url_for(home))
        options, challenge = passkeys.authentication_options(area, member, _settings())
        session["pending_login"] = {**session["pending_login"], "passkey_challenge": challenge}
        return render_template(area.template("login_passkey.html"), options=options, errors=errors,
                               has_app=bool(member.totp_secret_sealed)), 400 if errors else 200

    def logout():
        member = current_member()
        if member is not None:
            area.audit("logout", member=member)
        sessions.log_out()
        db.session.commit()
        return redirect(url_for(area.endpoint("login"), logged_out=1))

    def link_problem(state: str):
        heading, message = texts.link_problems[state]
        return render_template(area.template("link_problem.html"), heading=gettext(heading),
                               message=gettext(message)), 400

    def set_up(token):
        """Choose a password (NIST SP 800-63B 3.1.1.2, the patients' policy), then an authenticator app."""
        member, state = accounts.for_set_up(area, token)
        if state != "ok":
            return link_problem(state)
        errors = []
        if request.method == "POST":
            password, confirm = request.form.get("password", ""), request.form.get("confirm", "")
            errors = [{"field": "password", "message": gettext(PASSWORD_MESSAGES[reason])}
                      for reason in check_new_password(password, email=member.email)][:1]
            if not errors and password != confirm:
                errors = [{"field": "confirm", "message": gettext("The passwords do not match")}]
            if not errors:
                session["set_up"] = {"member_id": member.id, "password_hash": hash_password(password)}
                return redirect(url_for(area.endpoint("set_up_authenticator"), token=token))
        return render_template(area.template("set_up_password.html"), member=member, errors=errors), \
            400 if errors else 200

    def set_up_authenticator(token):
        member, state = accounts.for_set_up(area, token)
        if state != "ok":
            return link_problem(state)
        pending = session.get("set_up")
        if not isinstance(pending, dict) or pending.get("member_id") != member.id:
            return redirect(url_for(area.endpoint("set_up"), token=token))
        enrolment = factors.enrolment(area, member, _settings(), pending.get("secret"))
        if pending.get("secret") != enrolment.secret:
            session["set_up"] = {**pending, "secret": enrolment.secret}  # the same key on every view of this page
        errors = []
        if request.method == "POST":
            step = factors.confirming_step(enrolment.secret, request.form.get("code", ""))
            if step is None:
                errors = [{"field": "code", "message": gettext(WRONG_CODE)}]
            elif not accounts.complete_set_up(area, member, token, pending["password_hash"],
                                              factors.seal(area, _settings(), enrolment.secret), step):
                return link_problem("used")
            else:
                sessions.log_in(member.id)
                area.audit("set_up.completed", member=member, subject=member.id)
                if after_set_up is not None:
                    after_set_up(member)
                db.session.commit()
                return redirect(url_for(home))
        return render_template(area.template("set_up_authenticator.html"), enrolment=enrolment, errors=errors), \
            400 if errors else 200

    bp.add_url_rule("/login", "login", login, methods=["GET", "POST"])
    bp.add_url_rule("/login/authenticator", "login_code", login_code, methods=["GET", "POST"])
    bp.add_url_rule("/logout", "logout", logout, methods=["POST"])
    def set_up_passkey(token):
        """A passkey in place of the authenticator app (L3 7.1): the account is set up with it in one commit."""
        member, state = accounts.for_set_up(area, token)
        if state != "ok":
            return link_problem(state)
        pending = session.get("set_up")
        if not isinstance(pending, dict) or pending.get("member_id") != member.id:
            return redirect(url_for(area.endpoint("set_up"), token=token))
        errors = []
        if request.method == "POST" and pending.get("passkey_challenge"):
            challenge, handle = pending["passkey_challenge"], pending["passkey_handle"]
            session["set_up"] = {k: v for k, v in pending.items() if not k.startswith("passkey_")}  # single use
            if not accounts.complete_set_up(area, member, token, pending["password_hash"], None, None):
                db.session.rollback()
                return link_problem("used")
            try:
                passkeys.register(area, member, request.form.get("credential", ""), challenge, handle, _settings())
            except passkeys.PasskeyError:
                db.session.rollback()  # the account stays invited, its link still usable
                errors = [{"field": "passkey", "message": gettext(PASSKEY_FAILED)}]
            else:
                sessions.log_in(member.id)
                area.audit("set_up.completed", member=member, subject=member.id, factor="passkey")
                if after_set_up is not None:
                    after_set_up(member)
                db.session.commit()
                return redirect(url_for(home))
        options, challenge, handle = passkeys.registration_options(area, member, _settings())
        session["set_up"] = {**session["set_up"], "passkey_challenge": challenge, "passkey_handle": handle}
        return render_template(area.template("set_up_passkey.html"), options=options, errors=errors), \
            400 if errors else 200

    bp.add_url_rule("/set-up/<token>", "set_up", set_up, methods=["GET", "POST"])
    bp.add_url_rule("/set-up/<token>/passkey", "set_up_passkey", set_up_passkey, methods=["GET", "POST"])
    bp.add_url_rule("/login/passkey", "login_passkey", login_passkey, methods=["GET", "POST"])
    bp.add_url_rule("/set-up/<token>/authenticator", "set_up_authenticator", set_up_authenticator,
                    methods=["GET", "POST"])
