"""Account settings at /account: change email, phone or password; manage remembered devices, passkeys and the
authenticator app; log out everywhere; delete the account.

Every change needs a fresh login (``FRESH_LOGIN``): older logins are sent through the login journey again
and come back here. The rules are authentication/login_details.py and the factor modules.
"""
from __future__ import annotations

import secrets

from flask import redirect, render_template, request, session, url_for
from flask_babel import format_date, gettext

from ..authentication import current_login, login_details
from ..authentication.email_address import is_valid_email, normalise_email
from ..authentication.factors import passkey, remembered_device, security_code, totp
from ..authentication.one_time_codes import CodeCheck, TooManyCodes
from ..authentication.password_policy import MESSAGES as PASSWORD_MESSAGES, check_new_password
from ..authentication.factors.password import Outcome, check_password
from ..authentication.phone_number import InvalidPhoneNumber, Kind, PhoneNumber, parse_phone_number
from ..clock import now
from ..extensions import db
from ..models import AuthenticatorApp, Person
from ..protocol import interactions
from .blueprint import bp
from .login import PASSKEY_REASONS, _language, _settings, _source, code_error, throttled_message, too_many_codes

FRESH_LOGIN = 15 * 60  # a change to login details needs a login at most this old
CHANGE = "settings_change"  # the pending change (new email or phone) in the browser session


def _person_or_login(fresh: bool = True):
    """(person, None) for a logged-in person with a fresh enough login; else (None, a redirect to log in)."""
    login = current_login()
    person = db.session.get(Person, login.person_id) if login else None
    if person is None:
        return None, redirect(url_for("accounts.login"))
    if fresh and login.auth_time < now() - FRESH_LOGIN:
        again = interactions.start("login", params={"prompt": "login"}, client_id=None, return_to=request.path)
        return None, redirect(url_for("accounts.login", interaction=again.id))
    return person, None


def _done(message: str):
    session["settings_done"] = message
    return redirect(url_for("accounts.account"))


def _date(seconds: int | None) -> str | None:
    from datetime import datetime, timezone

    return format_date(datetime.fromtimestamp(seconds, timezone.utc), "d MMMM y") if seconds else None


def login_methods(person: Person) -> dict:
    """What the account page shows of the person's ways to log in."""
    app = AuthenticatorApp.query.filter_by(person_id=person.id).first()
    phone = security_code.phone_of(person)
    return {
        "phone": security_code.masked(phone[0]) if phone else None,
        "authenticator_app": {"added": _date(app.created_at)} if app else None,
        "passkeys": [{"id": p.id, "name": p.name, "added": _date(p.created_at), "last_used": _date(p.last_used_at)}
                     for p in passkey.list_passkeys(person)],
        "devices": [{"id": d.id, "label": d.label, "last_used": _date(d.last_used_at)}
                    for d in remembered_device.devices_of(person.id)],
    }


def settings_links() -> dict:
    names = ("change_email", "change_phone", "change_password", "account_authenticator_app", "remove_authenticator_app",
             "add_passkey", "remove_passkey", "forget_devices", "log_out_everywhere", "delete_account")
    return {name: url_for(f"accounts.{name}") for name in names}


# --- password -------------------------------------------------------------------------------------
@bp.route("/account/password", methods=["GET", "POST"])
def change_password():
    person, elsewhere = _person_or_login()
    if elsewhere:
        return elsewhere
    errors = []
    if request.method == "POST":
        current, new = request.form.get("current_password", ""), request.form.get("password", "")
        if not current:
            errors.append({"field": "current_password", "message": gettext("Enter your current password")})
        else:
            checked = check_password(person.email, current, _source(), _settings())
            if checked.outcome is Outcome.THROTTLED:
                errors.append({"field": "current_password", "message": throttled_message()})
            elif checked.outcome is not Outcome.OK:
                errors.append({"field": "current_password", "message": gettext("Your current password is not correct")})
        reasons = check_new_password(new, email=person.email) if new else ["missing"]
        if reasons:
            errors.append({"field": "password", "message": gettext("Enter a new password") if reasons == ["missing"]
                           else gettext(PASSWORD_MESSAGES[reasons[0]])})
        if not errors:
            login_details.change_password(person, new, _language(), keep_sid=current_login().sid,
                                          keep_device=request.cookies.get(remembered_device.COOKIE))
            return _done(gettext("Your password has been changed. You have been logged out everywhere else."))
    return render_template("accounts/settings_password.html", errors=errors,
                           action=url_for("accounts.change_password")), (400 if errors else 200)


# --- email and phone --------------------------------------------------------------------------------
def _pending(kind: str) -> dict | None:
    change = session.get(CHANGE)
    return change if isinstance(change, dict) and change.get("kind") == kind and change.get("at", 0) > now() - 1800 else None


@bp.route("/account/email", methods=["GET", "POST"])
def change_email():
    person, elsewhere = _person_or_login()
    if elsewhere:
        return elsewhere
    email = request.form.get("email", "")
    errors = []
    if request.method == "POST":
        if not is_valid_email(email):
            errors = [{"field": "email", "message": gettext(
                "Enter an email address in the correct format, like name@example.com")}]
        elif normalise_email(email) == person.email:
            errors = [{"field": "email", "message": gettext("Enter an email address that is not your current one")}]
        else:
            change = {"kind": "email", "value": normalise_email(email), "journey": secrets.token_urlsafe(16), "at": now()}
            try:
                login_details.send_email_change_code(change["journey"], change["value"], _language())
            except TooManyCodes:
                errors = [too_many_codes("email")]
            else:
                session[CHANGE] = change
                return redirect(url_for("accounts.confirm_email"))
    return render_template("accounts/settings_email.html", errors=errors, email=email, current=person.email,
                           action=url_for("accounts.change_email")), (400 if errors else 200)


@bp.route("/account/email/code", methods=["GET", "POST"])
def confirm_email():
    person, elsewhere = _person_or_login()
    if elsewhere:
        return elsewhere
    change = _pending("email")
    if change is None:
        return redirect(url_for("accounts.change_email"))
    errors = []
    if request.method == "POST":
        outcome = login_details.confirm_email_change(person, change["journey"], change["value"],
                                                     request.form.get("code", ""), _source(), _settings(), _language())
        if outcome is CodeCheck.OK:
            session.pop(CHANGE, None)
            return _done(gettext("Your email address has been changed."))
        errors = [code_error(outcome)]
    return render_template("accounts/enter_code.html", heading=gettext("Check your email"), errors=errors,
                           intro=gettext("We have sent a 6-digit security code to %(email)s.", email=change["value"]),
                           action=url_for("accounts.confirm_email"), resend_action=None, resent=False,
                           client_name=None), (400 if errors else 200)


@bp.route("/account/phone", methods=["GET", "POST"])
def change_phone():
    person, elsewhere = _person_or_login()
    if elsewhere:
        return elsewhere
    number = request.form.get("phone", "")
    errors = []
    if request.method == "POST":
        try:
            phone = parse_phone_number(number)
            change = {"kind": "phone", "value": phone.e164, "phone_kind": phone.kind.value,
                      "journey": secrets.token_urlsafe(16), "at": now()}
            login_details.send_phone_change_code(change["journey"], phone, _language())
        except InvalidPhoneNumber as error:
            errors = [{"field": "phone", "message": gettext(str(error))}]
        except TooManyCodes:
            errors = [too_many_codes("phone")]
        else:
            session[CHANGE] = change
            return redirect(url_for("accounts.confirm_phone"))
    return render_template("accounts/register_phone.html", errors=errors, phone=number, client_name=None,
                           action=url_for("accounts.change_phone")), (400 if errors else 200)


@bp.route("/account/phone/code", methods=["GET", "POST"])
def confirm_phone():
    person, elsewhere = _person_or_login()
    if elsewhere:
        return elsewhere
    change = _pending("phone")
    if change is None:
        return redirect(url_for("accounts.change_phone"))
    phone = PhoneNumber(change["value"], Kind(change["phone_kind"]))
    errors = []
    if request.method == "POST":
        outcome = login_details.confirm_phone_change(person, change["journey"], phone, request.form.get("code", ""),
                                                     _source(), _settings(), _language())
        if outcome is CodeCheck.OK:
            session.pop(CHANGE, None)
            return _done(gettext("Your phone number has been changed."))
        errors = [code_error(outcome)]
    intro = (gettext("We are calling your phone number ending %(number)s to read you a 6-digit code.", number=phone.e164[-3:])
             if phone.kind is Kind.LANDLINE else gettext(
                 "We have sent a 6-digit code by text message to your phone number ending %(number)s.",
                 number=phone.e164[-3:]))
    return render_template("accounts/enter_code.html", heading=gettext("Enter the security code"), intro=intro,
                           errors=errors, action=url_for("accounts.confirm_phone"), resend_action=None, resent=False,
                           client_name=None), (400 if errors else 200)


# --- authenticator app and passkeys -------------------------------------------------------------------
@bp.route("/account/authenticator-app", methods=["GET", "POST"])
def account_authenticator_app():
    person, elsewhere = _person_or_login()
    if elsewhere:
        return elsewhere
    enrolment = totp.start_enrolment(person, _settings(), secret=session.get("totp_enrolment"))
    session["totp_enrolment"] = enrolment.secret  # server-side session; shown to the person, never in a form
    errors = []
    if request.method == "POST":
        if totp.confirm_enrolment(person, enrolment.secret, request.form.get("code", ""), _settings()):
            session.pop("totp_enrolment", None)
            return _done(gettext("Your authenticator app has been set up."))
        errors = [{"field": "code", "message": gettext(
            "The code is not correct. Enter the 6-digit code your authenticator app shows now.")}]
    return render_template("accounts/set_up_authenticator_app.html", errors=errors, enrolment=enrolment,
                           client_name=None, action=url_for("accounts.account_authenticator_app"),
                           cannot_continue_url=None), (400 if errors else 200)


@bp.post("/account/authenticator-app/remove")
def remove_authenticator_app():
    person, elsewhere = _person_or_login()
    if elsewhere:
        return elsewhere
    totp.remove(person)
    return _done(gettext("Your authenticator app has been removed."))


@bp.route("/account/passkeys/add", methods=["GET", "POST"])
def add_passkey():
    person, elsewhere = _person_or_login()
    if elsewhere:
        return elsewhere
    errors = []
    if request.method == "POST":
        challenge = session.pop("passkey_challenge", None)
        try:
            passkey.register_passkey(person, request.form.get("credential", ""), challenge or "", _settings(),
                                     name=request.form.get("name"))
        except passkey.PasskeyError as error:
            errors = [{"field": "passkey", "message": gettext(PASSKEY_REASONS.get(error.kind, PASSKEY_REASONS["invalid"]))}]
        else:
            return _done(gettext("Your passkey has been added."))
    options, challenge = passkey.registration_options(person, _settings())
    session["passkey_challenge"] = challenge
    return render_template("accounts/set_up_passkey.html", errors=errors, options=options, client_name=None,
                           action=url_for("accounts.add_passkey"), cannot_continue_url=None), (400 if errors else 200)


@bp.post("/account/passkeys/remove")
def remove_passkey():
    person, elsewhere = _person_or_login()
    if elsewhere:
        return elsewhere
    passkey.remove(person, request.form.get("passkey_id", ""))
    return _done(gettext("The passkey has been removed."))


@bp.post("/account/devices/forget")
def forget_devices():
    person, elsewhere = _person_or_login(fresh=False)  # forgetting only takes away: no fresh login needed
    if elsewhere:
        return elsewhere
    device_id = request.form.get("device_id") or None
    remembered_device.forget(person.id, device_id)
    return _done(gettext("We will send you a security code the next time you log in on that device.")
                 if device_id else gettext("We will send you a security code the next time you log in on any device."))


# --- logging out everywhere, deleting the account ---------------------------------------------------
@bp.post("/account/log-out-everywhere")
def log_out_everywhere():
    person, elsewhere = _person_or_login(fresh=False)
    if elsewhere:
        return elsewhere
    login_details.log_out_everywhere(person)
    return redirect(url_for("accounts.login"))


@bp.route("/account/delete", methods=["GET", "POST"])
def delete_account():
    person, elsewhere = _person_or_login()
    if elsewhere:
        return elsewhere
    errors = []
    if request.method == "POST":
        if request.form.get("confirm") == "delete":
            login_details.delete_account(person, _language())
            return render_template("accounts/account_deleted.html")
        errors = [{"field": "confirm", "message": gettext("Select yes if you want to delete your account")}]
    return render_template("accounts/settings_delete.html", errors=errors, email=person.email,
                           action=url_for("accounts.delete_account")), (400 if errors else 200)
