"""Log in and step up: the password, security code, authenticator app and passkey pages, and set-up inside a step-up.

Each view parses the form, calls the factor's module, records what was proven (login_journey.record)
and follows login_journey.next_page. The protocol parks the request; these pages never decide a ``vot``.
"""
from __future__ import annotations

from flask import current_app, make_response, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext

from ..authentication import current_login
from ..authentication.factors import factors_for, passkey, remembered_device, security_code, totp
from ..authentication.factors.password import Outcome, check_password
from ..authentication.one_time_codes import CodeCheck, TooManyCodes
from ..clock import now
from ..extensions import db
from ..i18n import N_
from ..models import Client
from ..protocol import interactions
from ..web import allow_form_target
from . import login_journey as journey
from .blueprint import bp

interactions.register_kind("login", "accounts.login")
interactions.register_kind("step_up", "accounts.continue_login")
GENERIC_FAILURE = N_("Enter a correct email address and password")
PASSKEY_REASONS = {
    "invalid": N_("We could not check your passkey. Try again."),
    "not_verified": N_("Your device did not check it was you. Use your fingerprint, face or screen lock when asked."),
    "already_registered": N_("This passkey is already registered."),
    "unknown": N_("We do not recognise this passkey. It may have been removed."),
    "refused": N_("This passkey cannot be used. Log in another way, remove it and add it again."),
    "someone_else": N_("This passkey is for a different account. Use a passkey for the account you are logged in to."),
}


def _settings():
    return current_app.extensions["idp"].settings


def _source() -> str:
    return request.remote_addr or "unknown"


def _client_name(interaction) -> str | None:
    client = db.session.get(Client, interaction.client_id) if interaction.client_id else None
    return client.name if client else None


def _load(interaction_id):
    """The interaction of this page, with the form target allowed for the redirect that will end it."""
    interaction = interactions.load(interaction_id)
    if interaction is not None:
        allow_form_target(interaction.params.get("redirect_uri"))
    return interaction


def journey_state(key: str):
    """A side journey of a login (registration, reset): the interaction and its state under ``key``, or
    (None, None) when the interaction has gone or is not a login."""
    interaction = _load(request.args.get("interaction"))
    if interaction is None or interaction.kind != "login":
        return None, None
    return interaction, dict(interaction.steps.get(key) or {})


def keep_state(interaction, key: str, state: dict) -> None:
    interaction.steps[key] = state
    interactions.save(interaction)


def timed_out_page():
    return render_template("errors/error.html", heading=gettext("Your login has timed out"),
                           message=gettext("Go back to the service you were using and try again."), status=400), 400


def lockout_minutes() -> int:
    return max(1, -(-_settings().login_lockout_seconds // 60))


def throttled_message() -> str:
    minutes = lockout_minutes()
    return ngettext("You have tried too many times. Wait %(num)d minute, then try again.",
                    "You have tried too many times. Wait %(num)d minutes, then try again.", minutes)


def _accepts(interaction, component: str) -> bool:
    """Whether a vector of the request could use ``component`` (offers such as "log in with a passkey")."""
    if not factors_for(component):
        return False
    if not interaction.is_authorization:
        return True
    return any(component in v.split(".")[1:] for v in interaction.vectors)


# --- password (Cp) --------------------------------------------------------------------------------
@bp.route("/login", methods=["GET", "POST"])
def login():
    interaction_id = request.args.get("interaction")
    interaction = _load(interaction_id) if interaction_id else None
    if interaction_id and interaction is None:
        return timed_out_page()
    if interaction is None:
        if request.method == "GET" and current_login() is not None:
            return render_template("accounts/already_logged_in.html", account_url=url_for("accounts.account"),
                                   logout_url=url_for("protocol.logout"))
        # A login for our own pages: parked only once there is something to keep (a right password).
        interaction = interactions.Interaction(id="", kind="login", params={}, client_id=None, created_at=now())
    progress = journey.begin(interaction)
    if progress is None:
        return timed_out_page()
    known = journey.person_of(progress) if interaction.kind == "step_up" else None
    hint = interaction.params.get("login_hint") or ""
    email = known.email if known else request.form.get("email", hint if "@" in hint else "")
    errors = []
    if request.method == "POST":
        errors = _login_form_errors(email, request.form.get("password", ""))
        if not errors:
            result = check_password(email, request.form["password"], _source(), _settings())
            if result.outcome is Outcome.OK and not interaction.id:
                interaction = interactions.start("login", params={}, client_id=None,
                                                 return_to=url_for("accounts.account"))
            if result.outcome is Outcome.OK and journey.record(interaction, result.person, "Cp", now()):
                return redirect(journey.next_page(interaction))
            errors = [{"field": "email", "message": throttled_message() if result.outcome is Outcome.THROTTLED
                       else gettext(GENERIC_FAILURE)}]
    show_registration = interaction.kind == "login" and interaction.params.get("allow_registration") != "false"
    here = {"interaction": interaction.id} if interaction.id else {}
    return render_template(
        "accounts/login.html", email=email, email_fixed=known is not None, errors=errors,
        client_name=_client_name(interaction), action=url_for("accounts.login", **here),
        registration_url=url_for("accounts.register", **here) if show_registration else None,
        forgotten_url=url_for("accounts.forgotten_password", **here) if known is None else None,
        password_changed=request.args.get("reset") == "1",
        passkey_url=url_for("accounts.passkey", **here) if _accepts(interaction, "Cm") else None,
        cannot_continue_url=_cannot_continue_url(interaction),
    ), (400 if errors else 200)


def _login_form_errors(email: str, password: str) -> list[dict]:
    errors = []
    if not email:
        errors.append({"field": "email", "message": gettext("Enter your email address")})
    elif "@" not in email or len(email) > 320:
        errors.append({"field": "email", "message": gettext(
            "Enter an email address in the correct format, like name@example.com")})
    if not password:
        errors.append({"field": "password", "message": gettext("Enter your password")})
    return errors


def _cannot_continue_url(interaction) -> str | None:
    return url_for("accounts.cannot_continue", interaction=interaction.id) if interaction.is_authorization else None


# --- the step-up's first page, and the way back into a journey -------------------------------------
@bp.get("/login/continue")
def continue_login():
    """check_vot parked the request because the login lacks a component (or the person comes back from a
    side page): go to the page the journey is at."""
    interaction = _load(request.args.get("interaction"))
    if interaction is None or interaction.kind not in ("login", "step_up"):
        return timed_out_page()
    return redirect(journey.next_page(interaction))


# --- security code (Cd) ---------------------------------------------------------------------------
@bp.route("/login/security-code", methods=["GET", "POST"], endpoint="security_code")
def security_code_page():
    interaction = _load(request.args.get("interaction"))
    allowed = journey.may_ask(interaction, "Cd") if interaction else None
    if allowed is None:
        return _elsewhere(interaction)
    progress, person = allowed
    errors = []
    if request.method == "GET" and not interaction.steps.get("code_sent"):
        errors = _send_code(interaction, person)
    if request.method == "POST":
        outcome = security_code.check_code(person, interaction.id, request.form.get("code", ""), _source(), _settings())
        if outcome is CodeCheck.OK and journey.record(interaction, person, "Cd", now()):
            response = make_response(redirect(journey.next_page(interaction)))
            if request.form.get("remember") == "yes":
                _remember_browser(response, person)
            return response
        errors = [code_error(outcome)]
    return _security_code_page(interaction, progress, person, errors, 400 if errors else 200)


@bp.post("/login/security-code/new")
def resend_security_code():
    interaction = _load(request.args.get("interaction"))
    allowed = journey.may_ask(interaction, "Cd") if interaction else None
    if allowed is None:
        return _elsewhere(interaction)
    progress, person = allowed
    errors = _send_code(interaction, person)
    if errors:
        return _security_code_page(interaction, progress, person, errors, 429)
    return redirect(url_for("accounts.security_code", interaction=interaction.id, resent=1))


def _security_code_page(interaction, progress, person, errors, status):
    number, channel = security_code.phone_of(person)
    return render_template(
        "accounts/security_code.html", errors=errors, client_name=_client_name(interaction),
        masked_number=security_code.masked(number), by_voice=channel == "voice",
        action=url_for("accounts.security_code", interaction=interaction.id),
        resend_action=url_for("accounts.resend_security_code", interaction=interaction.id),
        resent=request.args.get("resent") == "1" and not errors,
        alternatives=journey.alternatives(interaction, person, progress, "Cd"),
        cannot_continue_url=_cannot_continue_url(interaction),
    ), status


def code_error(outcome: CodeCheck) -> dict:
    """What a person reads for a refused security code (wrong, expired and used read the same)."""
    return {"field": "code", "message": throttled_message() if outcome is CodeCheck.THROTTLED else gettext(
        "The security code is not correct or has expired. Check it, or send a new code.")}


def app_code_error(outcome: CodeCheck) -> dict:
    return {"field": "code", "message": throttled_message() if outcome is CodeCheck.THROTTLED else gettext(
        "The code is not correct. Enter the code your authenticator app shows now.")}


def too_many_codes(field: str) -> dict:
    return {"field": field, "message": gettext(
        "You have asked for too many security codes. Wait 1 hour, then try again.")}


def _send_code(interaction, person) -> list[dict]:
    try:
        security_code.send_code(person, interaction.id, interaction.lang or _language())
    except TooManyCodes:
        return [too_many_codes("code")]
    interaction.steps["code_sent"] = True
    interactions.save(interaction)
    return []


def _language() -> str:
    from flask_babel import get_locale

    return str(get_locale() or "en")


def _remember_browser(response, person) -> None:
    value = remembered_device.remember(person.id, request.headers.get("User-Agent", ""))
    db.session.commit()
    response.set_cookie(remembered_device.COOKIE, value, max_age=remembered_device.FORGET_AFTER, httponly=True,
                        secure=request.is_secure or _settings().issuer.startswith("https:"), samesite="Lax", path="/")


# --- authenticator app (Ck) -----------------------------------------------------------------------
@bp.route("/login/authenticator-app", methods=["GET", "POST"])
def authenticator_app():
    interaction = _load(request.args.get("interaction"))
    allowed = journey.may_ask(interaction, "Ck") if interaction else None
    if allowed is None:
        return _elsewhere(interaction)
    progress, person = allowed
    errors = []
    if request.method == "POST":
        outcome = totp.check_code(person, request.form.get("code", ""), _source(), _settings())
        if outcome is CodeCheck.OK and journey.record(interaction, person, "Ck", now()):
            return redirect(journey.next_page(interaction))
        errors = [app_code_error(outcome)]
    return render_template(
        "accounts/authenticator_app.html", errors=errors, client_name=_client_name(interaction),
        action=url_for("accounts.authenticator_app", interaction=interaction.id),
        alternatives=journey.alternatives(interaction, person, progress, "Ck"),
        cannot_continue_url=_cannot_continue_url(interaction),
    ), (400 if errors else 200)


# --- passkey (Cm) ---------------------------------------------------------------------------------
@bp.route("/login/passkey", methods=["GET", "POST"], endpoint="passkey")
def passkey_page():
    if not request.args.get("interaction"):
        started = interactions.start("login", params={}, client_id=None, return_to=url_for("accounts.account"))
        return redirect(url_for("accounts.passkey", interaction=started.id))
    interaction = _load(request.args.get("interaction"))
    if interaction is None:
        return timed_out_page()
    progress = journey.begin(interaction)
    # A passkey is a first factor: on the login page anyone may offer one; in a step-up only when asked.
    if progress is None or (progress.person_id and journey.may_ask(interaction, "Cm") is None) or not _accepts(
            interaction, "Cm"):
        return _elsewhere(interaction)
    errors = []
    if request.method == "POST":
        challenge = interaction.steps.pop("passkey_challenge", None)  # single use, whatever the outcome
        interactions.save(interaction)
        try:
            person = passkey.authenticate(request.form.get("credential", ""), challenge or "", _settings())
        except passkey.PasskeyError as error:
            errors = [{"field": "passkey", "message": gettext(PASSKEY_REASONS.get(error.kind, PASSKEY_REASONS["invalid"]))}]
        else:
            if journey.record(interaction, person, "Cm", now()):
                return redirect(journey.next_page(interaction))
            errors = [{"field": "passkey", "message": gettext(PASSKEY_REASONS["someone_else"])}]
    options, challenge = passkey.authentication_options(_settings())
    interaction.steps["passkey_challenge"] = challenge
    interactions.save(interaction)
    return render_template(
        "accounts/passkey.html", errors=errors, client_name=_client_name(interaction), options=options,
        action=url_for("accounts.passkey", interaction=interaction.id),
        password_url=url_for("accounts.login", interaction=interaction.id) if _accepts_password(interaction) else None,
        cannot_continue_url=_cannot_continue_url(interaction),
    ), (400 if errors else 200)


def _accepts_password(interaction) -> bool:
    return interaction.kind == "login" and _accepts(interaction, "Cp")


# --- setting up a factor inside a step-up ---------------------------------------------------------
@bp.route("/login/set-up", methods=["GET", "POST"])
def set_up():
    """More than one factor would do: the person chooses which to set up."""
    interaction = _load(request.args.get("interaction"))
    progress = journey.begin(interaction) if interaction else None
    person = journey.person_of(progress) if progress else None
    if person is None:
        return _elsewhere(interaction)
    choices = journey.step_for(interaction, person, progress).set_up
    if not choices:
        return redirect(journey.next_page(interaction))
    errors = []
    if request.method == "POST":
        chosen = request.form.get("factor")
        if chosen in choices:
            return redirect(url_for(journey.SET_UP_PAGES[chosen], interaction=interaction.id))
        errors = [{"field": "factor", "message": gettext("Select how you want to log in")}]
    return render_template("accounts/set_up_choice.html", errors=errors, choices=choices,
                           client_name=_client_name(interaction),
                           action=url_for("accounts.set_up", interaction=interaction.id),
                           cannot_continue_url=_cannot_continue_url(interaction)), (400 if errors else 200)


@bp.route("/login/set-up/authenticator-app", methods=["GET", "POST"])
def set_up_authenticator_app():
    interaction = _load(request.args.get("interaction"))
    allowed = journey.may_set_up(interaction, "Ck") if interaction else None
    if allowed is None:
        return _elsewhere(interaction)
    _, person = allowed
    enrolment = totp.start_enrolment(person, _settings(), secret=interaction.steps.get("totp_secret"))
    interaction.steps["totp_secret"] = enrolment.secret  # server-side only; the page shows it to the person
    interactions.save(interaction)
    errors = []
    if request.method == "POST":
        if totp.confirm_enrolment(person, enrolment.secret, request.form.get("code", ""), _settings()):
            interaction.steps.pop("totp_secret", None)
            journey.record(interaction, person, "Ck", now())
            return redirect(journey.next_page(interaction))
        errors = [{"field": "code", "message": gettext(
            "The code is not correct. Enter the 6-digit code your authenticator app shows now.")}]
    return render_template("accounts/set_up_authenticator_app.html", errors=errors, enrolment=enrolment,
                           client_name=_client_name(interaction),
                           action=url_for("accounts.set_up_authenticator_app", interaction=interaction.id),
                           cannot_continue_url=_cannot_continue_url(interaction)), (400 if errors else 200)


@bp.route("/login/set-up/passkey", methods=["GET", "POST"])
def set_up_passkey():
    interaction = _load(request.args.get("interaction"))
    allowed = journey.may_set_up(interaction, "Cm") if interaction else None
    if allowed is None:
        return _elsewhere(interaction)
    _, person = allowed
    errors = []
    if request.method == "POST":
        challenge = interaction.steps.pop("passkey_challenge", None)
        interactions.save(interaction)
        try:
            passkey.register_passkey(person, request.form.get("credential", ""), challenge or "", _settings(),
                                     name=request.form.get("name"))
        except passkey.PasskeyError as error:
            errors = [{"field": "passkey", "message": gettext(PASSKEY_REASONS.get(error.kind, PASSKEY_REASONS["invalid"]))}]
        else:
            journey.record(interaction, person, "Cm", now())
            return redirect(journey.next_page(interaction))
    options, challenge = passkey.registration_options(person, _settings())
    interaction.steps["passkey_challenge"] = challenge
    interactions.save(interaction)
    return render_template("accounts/set_up_passkey.html", errors=errors, options=options,
                           client_name=_client_name(interaction),
                           action=url_for("accounts.set_up_passkey", interaction=interaction.id),
                           cannot_continue_url=_cannot_continue_url(interaction)), (400 if errors else 200)


# --- leaving the journey --------------------------------------------------------------------------
@bp.route("/login/cannot-continue", methods=["GET", "POST"])
def cannot_continue():
    """The person cannot (or will not) give what the service asks: the service is told access_denied."""
    interaction = _load(request.args.get("interaction"))
    if interaction is None or not interaction.is_authorization:
        return timed_out_page()
    if request.method == "POST":
        interaction.steps["abandoned"] = True
        interactions.save(interaction)
        return redirect(interactions.next_url(interaction))
    progress = journey.begin(interaction)
    person = journey.person_of(progress) if progress else None
    possible = person is None or journey.step_for(interaction, person, progress).possible
    return render_template("accounts/cannot_continue.html", client_name=_client_name(interaction), possible=possible,
                           action=url_for("accounts.cannot_continue", interaction=interaction.id),
                           back_url=url_for("accounts.continue_login", interaction=interaction.id) if possible else None)


@bp.get("/login/timed-out")
def timed_out():
    return timed_out_page()


def _elsewhere(interaction):
    """A page opened out of turn (Back, a stale tab): go where the journey really is."""
    if interaction is None:
        return timed_out_page()
    return redirect(journey.next_page(interaction))
