"""Forgotten password pages: email address, the emailed code, the phone or app code, a new password.

The state is the interaction's (``steps["reset"]``); the rules are authentication/password_reset.py.
At the end the person logs in again with the new password, inside the same authorization request.
"""
from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext

from ..authentication import password_reset
from ..authentication.email_address import is_valid_email, normalise_email
from ..authentication.factors import security_code, totp
from ..authentication.one_time_codes import CodeCheck, TooManyCodes
from ..authentication.password_policy import MESSAGES as PASSWORD_MESSAGES, check_new_password
from ..extensions import db
from ..models import Person
from ..protocol import interactions
from .blueprint import bp
from .login import (_client_name, _language, _settings, _source, app_code_error, code_error, journey_state, keep_state,
                    timed_out_page, too_many_codes)

STATE = "reset"


def _journey():
    return journey_state(STATE)


def _save(interaction, state: dict) -> None:
    keep_state(interaction, STATE, state)


def _person(state: dict) -> Person | None:
    return db.session.get(Person, state["person_id"]) if state.get("person_id") else None


def _second_factor(person: Person) -> str | None:
    """What proves the reset besides the email: the app if set up, else the phone; None if they have neither."""
    if totp.is_set_up(person):
        return "Ck"
    return "Cd" if security_code.phone_of(person) else None


@bp.route("/forgotten-password", methods=["GET", "POST"])
def forgotten_password():
    if not request.args.get("interaction"):
        started = interactions.start("login", params={}, client_id=None, return_to=url_for("accounts.account"))
        return redirect(url_for("accounts.forgotten_password", interaction=started.id))
    interaction, state = _journey()
    if interaction is None:
        return timed_out_page()
    email = request.form.get("email", state.get("email", ""))
    errors = []
    if request.method == "POST":
        if not email.strip():
            errors = [{"field": "email", "message": gettext("Enter your email address")}]
        elif not is_valid_email(email):
            errors = [{"field": "email", "message": gettext(
                "Enter an email address in the correct format, like name@example.com")}]
        else:
            email = normalise_email(email)
            try:
                password_reset.send_reset_code(interaction.id, email, _language())
            except TooManyCodes:
                errors = [too_many_codes("email")]
            else:
                _save(interaction, {"email": email})
                return redirect(url_for("accounts.reset_email_code", interaction=interaction.id))
    return render_template("accounts/forgotten_password.html", errors=errors, email=email,
                           action=url_for("accounts.forgotten_password", interaction=interaction.id)), (
        400 if errors else 200)


@bp.route("/forgotten-password/email-code", methods=["GET", "POST"])
def reset_email_code():
    interaction, state = _journey()
    if interaction is None or not state.get("email"):
        return timed_out_page()
    errors = []
    if request.method == "POST":
        outcome, person = password_reset.check_reset_code(
            interaction.id, state["email"], request.form.get("code", ""), _source(), _settings())
        if outcome is CodeCheck.OK:
            _save(interaction, {**state, "person_id": person.id, "second": _second_factor(person)})
            return redirect(url_for("accounts.reset_second_factor", interaction=interaction.id))
        errors = [code_error(outcome)]
    return render_template("accounts/enter_code.html", heading=gettext("Check your email"), errors=errors,
                           intro=gettext("If %(email)s has an account, we have sent a 6-digit security code to it.",
                                         email=state["email"]),
                           action=url_for("accounts.reset_email_code", interaction=interaction.id),
                           resend_action=None, resent=False, client_name=_client_name(interaction)), (
        400 if errors else 200)


@bp.route("/forgotten-password/security-code", methods=["GET", "POST"])
def reset_second_factor():
    interaction, state = _journey()
    person = _person(state or {})
    if interaction is None or person is None:
        return timed_out_page()
    if not state.get("second") or state.get("second_done"):
        return redirect(url_for("accounts.reset_new_password", interaction=interaction.id))
    journey_key = interaction.id + ":reset"  # its own code, apart from a login's in the same interaction
    errors = []
    if state["second"] == "Cd" and not state.get("code_sent"):
        try:
            security_code.send_code(person, journey_key, _language())
            _save(interaction, state := {**state, "code_sent": True})
        except TooManyCodes:
            errors = [too_many_codes("code")]
    if request.method == "POST":
        code = request.form.get("code", "")
        if state["second"] == "Ck":
            outcome = totp.check_code(person, code, _source(), _settings())
        else:
            outcome = security_code.check_code(person, journey_key, code, _source(), _settings())
        if outcome is CodeCheck.OK:
            _save(interaction, {**state, "second_done": True})
            return redirect(url_for("accounts.reset_new_password", interaction=interaction.id))
        errors = [code_error(outcome) if state["second"] == "Cd" else app_code_error(outcome)]
    if state["second"] == "Ck":
        heading, intro = gettext("Enter the code from your authenticator app"), gettext(
            "Open the authenticator app you set up for %(service)s and enter the 6-digit code it shows.",
            service=_settings().service_name)
    else:
        number, channel = security_code.phone_of(person)
        heading = gettext("Enter the security code")
        intro = gettext("We are calling your phone number ending %(number)s to read you a 6-digit code.",
                        number=number[-3:]) if channel == "voice" else gettext(
            "We have sent a 6-digit code by text message to your phone number ending %(number)s.", number=number[-3:])
    return render_template("accounts/enter_code.html", heading=heading, intro=intro, errors=errors,
                           action=url_for("accounts.reset_second_factor", interaction=interaction.id),
                           resend_action=None, resent=False, client_name=_client_name(interaction)), (
        400 if errors else 200)


@bp.route("/forgotten-password/new-password", methods=["GET", "POST"])
def reset_new_password():
    interaction, state = _journey()
    person = _person(state or {})
    if interaction is None or person is None:
        return timed_out_page()
    if state.get("second") and not state.get("second_done"):
        return redirect(url_for("accounts.reset_second_factor", interaction=interaction.id))
    errors = []
    if request.method == "POST":
        password = request.form.get("password", "")
        reasons = check_new_password(password, email=person.email) if password else ["missing"]
        if not reasons:
            password_reset.set_new_password(person, password, _language())
            interaction.steps.pop(STATE, None)
            interactions.save(interaction)
            return redirect(url_for("accounts.login", interaction=interaction.id, reset=1))
        errors = [{"field": "password", "message": gettext("Enter a new password") if reasons == ["missing"]
                   else gettext(PASSWORD_MESSAGES[reasons[0]])}]
    return render_template("accounts/new_password.html", errors=errors,
                           action=url_for("accounts.reset_new_password", interaction=interaction.id)), (
        400 if errors else 200)
