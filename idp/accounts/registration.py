"""Create an account (P0): email and password, the emailed code, a phone number, its code; then the login resumes.

The journey's state is kept in the interaction (``steps["registration"]``), so Back keeps the person's
place and nothing is stored in the database until both codes are confirmed (authentication/registration.py).
"""
from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext

from ..authentication import registration
from ..authentication.email_address import is_valid_email, normalise_email
from ..authentication.one_time_codes import CodeCheck, TooManyCodes
from ..authentication.password_policy import MESSAGES as PASSWORD_MESSAGES, check_new_password
from ..authentication.phone_number import InvalidPhoneNumber, Kind, PhoneNumber, parse_phone_number
from ..clock import now
from ..protocol import interactions
from .blueprint import bp
from .login import (_client_name, _language, _settings, _source, code_error, journey_state, keep_state, timed_out_page,
                    too_many_codes)

STATE = "registration"


def _journey():
    """The login interaction this registration belongs to, and its registration state so far."""
    return journey_state(STATE)


def _save(interaction, state: dict) -> None:
    keep_state(interaction, STATE, state)


def _where_it_is(interaction, state: dict) -> str:
    """The page the registration is at (a page opened out of turn goes there)."""
    if not state.get("email"):
        return url_for("accounts.register", interaction=interaction.id)
    if not state.get("email_confirmed"):
        return url_for("accounts.register_email_code", interaction=interaction.id)
    if not state.get("phone"):
        return url_for("accounts.register_phone", interaction=interaction.id)
    return url_for("accounts.register_phone_code", interaction=interaction.id)


@bp.route("/create-account", methods=["GET", "POST"])
def register():
    if not request.args.get("interaction"):
        started = interactions.start("login", params={}, client_id=None, return_to=url_for("accounts.account"))
        return redirect(url_for("accounts.register", interaction=started.id))
    interaction, state = _journey()
    if interaction is None or interaction.params.get("allow_registration") == "false":
        return timed_out_page()
    email = request.form.get("email", state.get("email", ""))
    errors = []
    if request.method == "POST":
        password = request.form.get("password", "")
        errors = _account_errors(email, password, request.form.get("terms") == "accepted")
        if not errors:
            email = normalise_email(email)
            try:
                registration.send_email_code(interaction.id, email, _language())
            except TooManyCodes:
                errors = [too_many_codes("email")]
            else:
                _save(interaction, {"email": email, "password_hash": registration.hash_new_password(password)})
                return redirect(url_for("accounts.register_email_code", interaction=interaction.id))
    return render_template("accounts/register.html", errors=errors, email=email, client_name=_client_name(interaction),
                           action=url_for("accounts.register", interaction=interaction.id),
                           login_url=url_for("accounts.login", interaction=interaction.id)), (400 if errors else 200)


def _account_errors(email: str, password: str, terms: bool) -> list[dict]:
    errors = []
    if not email.strip():
        errors.append({"field": "email", "message": gettext("Enter your email address")})
    elif not is_valid_email(email):
        errors.append({"field": "email", "message": gettext(
            "Enter an email address in the correct format, like name@example.com")})
    if not password:
        errors.append({"field": "password", "message": gettext("Enter a password")})
    else:
        reasons = check_new_password(password, email=email if is_valid_email(email) else None)
        errors += [{"field": "password", "message": gettext(PASSWORD_MESSAGES[r])} for r in reasons[:1]]
    if not terms:
        errors.append({"field": "terms", "message": gettext("Agree to the terms of use to create an account")})
    return errors


def _code_page(interaction, *, heading: str, intro: str, action: str, resend_action: str, errors, status=None):
    return render_template("accounts/enter_code.html", heading=heading, intro=intro, errors=errors,
                           action=action, resend_action=resend_action, resent=request.args.get("resent") == "1",
                           client_name=_client_name(interaction)), status or (400 if errors else 200)


@bp.route("/create-account/email-code", methods=["GET", "POST"])
def register_email_code():
    interaction, state = _journey()
    if interaction is None:
        return timed_out_page()
    if not state.get("email") or state.get("email_confirmed"):
        return redirect(_where_it_is(interaction, state))
    errors = []
    if request.method == "POST":
        outcome = registration.check_email_code(interaction.id, state["email"], request.form.get("code", ""), _source(),
                                                _settings())
        if outcome is CodeCheck.OK:
            _save(interaction, {**state, "email_confirmed": True})
            return redirect(url_for("accounts.register_phone", interaction=interaction.id))
        errors = [code_error(outcome)]
    return _code_page(interaction, heading=gettext("Check your email"),
                      intro=gettext("We have sent a 6-digit security code to %(email)s.", email=state["email"]),
                      action=url_for("accounts.register_email_code", interaction=interaction.id),
                      resend_action=url_for("accounts.register_email_code_again", interaction=interaction.id),
                      errors=errors)


@bp.post("/create-account/email-code/new")
def register_email_code_again():
    interaction, state = _journey()
    if interaction is None:
        return timed_out_page()
    if not state.get("email") or state.get("email_confirmed"):
        return redirect(_where_it_is(interaction, state))
    try:
        registration.send_email_code(interaction.id, state["email"], _language())
    except TooManyCodes:
        return _code_page(interaction, heading=gettext("Check your email"),
                          intro=gettext("We have sent a 6-digit security code to %(email)s.", email=state["email"]),
                          action=url_for("accounts.register_email_code", interaction=interaction.id),
                          resend_action=url_for("accounts.register_email_code_again", interaction=interaction.id),
                          errors=[too_many_codes("code")], status=429)
    return redirect(url_for("accounts.register_email_code", interaction=interaction.id, resent=1))


@bp.route("/create-account/phone", methods=["GET", "POST"])
def register_phone():
    interaction, state = _journey()
    if interaction is None:
        return timed_out_page()
    if not state.get("email_confirmed"):
        return redirect(_where_it_is(interaction, state))
    number = request.form.get("phone", state.get("phone_entered", ""))
    errors = []
    if request.method == "POST":
        try:
            phone = parse_phone_number(number)
            registration.send_phone_code(interaction.id, phone, _language())
        except InvalidPhoneNumber as error:
            errors = [{"field": "phone", "message": gettext(str(error))}]
        except TooManyCodes:
            errors = [too_many_codes("phone")]
        else:
            _save(interaction, {**state, "phone": phone.e164, "phone_kind": phone.kind.value, "phone_entered": number})
            return redirect(url_for("accounts.register_phone_code", interaction=interaction.id))
    return render_template("accounts/register_phone.html", errors=errors, phone=number,
                           client_name=_client_name(interaction),
                           action=url_for("accounts.register_phone", interaction=interaction.id)), (400 if errors else 200)


def _phone_intro(state: dict) -> str:
    last = state["phone"][-3:]
    if state.get("phone_kind") == Kind.LANDLINE.value:
        return gettext("We are calling your phone number ending %(number)s to read you a 6-digit code.", number=last)
    return gettext("We have sent a 6-digit code by text message to your phone number ending %(number)s.", number=last)


@bp.route("/create-account/phone-code", methods=["GET", "POST"])
def register_phone_code():
    interaction, state = _journey()
    if interaction is None:
        return timed_out_page()
    if not state.get("phone"):
        return redirect(_where_it_is(interaction, state))
    errors = []
    if request.method == "POST":
        phone = PhoneNumber(state["phone"], Kind(state["phone_kind"]))
        outcome = registration.check_phone_code(interaction.id, phone, request.form.get("code", ""), _source(), _settings())
        if outcome is CodeCheck.OK:
            person = registration.create_account(state["email"], state["password_hash"], phone)
            interaction.steps.pop(STATE, None)
            interactions.save(interaction)
            if person is None:  # registered meanwhile by another journey: start again, as for any lost state
                return timed_out_page()
            # Both codes and the password were proven just now: the login is Cp with Cd.
            at = now()
            return redirect(interactions.finish_login(interaction, person.id, {"Cp": at, "Cd": at}))
        errors = [code_error(outcome)]
    return _code_page(interaction, heading=gettext("Enter the security code"), intro=_phone_intro(state),
                      action=url_for("accounts.register_phone_code", interaction=interaction.id),
                      resend_action=url_for("accounts.register_phone_code_again", interaction=interaction.id),
                      errors=errors)


@bp.post("/create-account/phone-code/new")
def register_phone_code_again():
    interaction, state = _journey()
    if interaction is None:
        return timed_out_page()
    if not state.get("phone"):
        return redirect(_where_it_is(interaction, state))
    try:
        registration.send_phone_code(interaction.id, PhoneNumber(state["phone"], Kind(state["phone_kind"])), _language())
    except TooManyCodes:
        return _code_page(interaction, heading=gettext("Enter the security code"), intro=_phone_intro(state),
                          action=url_for("accounts.register_phone_code", interaction=interaction.id),
                          resend_action=url_for("accounts.register_phone_code_again", interaction=interaction.id),
                          errors=[too_many_codes("code")], status=429)
    return redirect(url_for("accounts.register_phone_code", interaction=interaction.id, resent=1))
