"""Routes of the account journeys. Views parse, call a named rule, render."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date, gettext

from ..authentication import current_login
from ..events import emit
from ..extensions import db
from ..models import Client, Consent, Person
from ..protocol import interactions
from ..protocol.asserted_login import login_for_interaction, parked_login
from ..protocol.authorization import requested_claim_names_for
from ..protocol.claims import describe_claims
from ..protocol.grants import revoke_grants_of
from ..web import allow_form_target
from ..authentication.factors.password import Outcome, check_password
from ..clock import now
from ..i18n import N_

bp = Blueprint("accounts", __name__)
interactions.register_kind("login", "accounts.login")
interactions.register_kind("consent", "accounts.consent")
GENERIC_FAILURE = N_("Enter a correct email address and password")


def _settings():
    return current_app.extensions["idp"].settings


@bp.get("/")
def home():
    return render_template("home.html", logged_in=current_login() is not None, account_url=url_for("accounts.account"),
                           discovery_url=url_for("protocol.openid_configuration"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    interaction_id = request.args.get("interaction")
    interaction = interactions.load(interaction_id) if interaction_id else None
    if interaction_id and interaction is None:
        return _timed_out()
    params = interaction.params if interaction else {}
    client = db.session.get(Client, interaction.client_id) if interaction and interaction.client_id else None
    allow_form_target(params.get("redirect_uri"))  # the login finishes with a redirect to the client
    hint = params.get("login_hint") or ""
    email = request.form.get("email", hint if "@" in hint else "")
    errors = []
    if request.method == "POST":
        errors = _login_form_errors(request.form.get("email", ""), request.form.get("password", ""))
        if not errors:
            result = check_password(request.form["email"], request.form["password"],
                                    request.remote_addr or "unknown", _settings())
            if result.outcome is Outcome.OK:
                emit("login.succeeded", person_id=result.person.id, components=["Cp"])
                if interaction is None:
                    interaction = interactions.start("login", params={}, client_id=None,
                                                     return_to=url_for("accounts.account"))
                return redirect(interactions.finish_login(interaction, result.person.id, {"Cp": now()}))
            errors = [{"field": "email", "message": _password_failure(result.outcome)}]
    return render_template(
        "accounts/login.html", email=email, errors=errors, client_name=client.name if client else None,
        action=url_for("accounts.login", interaction=interaction_id) if interaction_id else url_for("accounts.login"),
        show_registration=params.get("allow_registration") != "false", registration_url=None,
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


def _password_failure(outcome: Outcome) -> str:
    # Never says whether the account exists; a lockout reads the same for every address.
    if outcome is Outcome.THROTTLED:
        return gettext("You have tried to log in too many times. Wait 15 minutes, then try again.")
    return gettext(GENERIC_FAILURE)


@bp.route("/consent", methods=["GET", "POST"])
def consent():
    interaction = interactions.load(request.args.get("interaction"))
    login = login_for_interaction(interaction)  # an asserted_login_identity logs in for the request only
    if interaction is None or login is None or not interaction.is_authorization:
        return _timed_out()
    client = db.session.get(Client, interaction.client_id)
    if client is None:
        abort(400)
    allow_form_target(interaction.params.get("redirect_uri"))
    names = requested_claim_names_for(interaction.params, client)
    if request.method == "POST":
        decision = request.form.get("decision")
        if decision == "allow":
            scopes = [s for s in (interaction.params.get("scope") or "").split() if s in client.scopes]
            # On an asserted login the browser may not be the person's own: this request only, not remembered.
            if parked_login(interaction) is None:
                _remember_consent(login.person_id, client.client_id, scopes, names)
            emit("consent.given", client_id=client.client_id, person_id=login.person_id)
            return redirect(interactions.decide_consent(interaction, True))
        if decision == "deny":
            emit("consent.refused", client_id=client.client_id, person_id=login.person_id)
            return redirect(interactions.decide_consent(interaction, False))
    return render_template("accounts/consent.html", client_name=client.name, claims=describe_claims(names),
                           action=url_for("accounts.consent", interaction=interaction.id), errors=[])


def _timed_out():
    return render_template("errors/error.html", heading=gettext("Your login has timed out"),
                           message=gettext("Go back to the service you were using and try again."), status=400), 400


def _remember_consent(person_id: str, client_id: str, scopes: list[str], claims: list[str]) -> None:
    row = db.session.get(Consent, (person_id, client_id))
    if row is None:
        db.session.add(Consent(person_id=person_id, client_id=client_id, scopes=scopes, claims=claims))
    else:
        row.scopes = sorted(set(row.scopes) | set(scopes))
        row.claims = sorted(set(row.claims) | set(claims))
    db.session.commit()


@bp.get("/account")
def account():
    login = current_login()
    person = db.session.get(Person, login.person_id) if login else None
    if person is None:
        return redirect(url_for("accounts.login"))
    consents = []
    for row in Consent.query.filter_by(person_id=person.id).order_by(Consent.granted_at).all():
        client = db.session.get(Client, row.client_id)
        consents.append({
            "client_id": row.client_id,
            "client_name": client.name if client else row.client_id,
            "granted_at": format_date(datetime.fromtimestamp(row.granted_at, timezone.utc), "d MMMM y"),
            "claims": describe_claims(row.claims) or [gettext("That you have logged in")],
        })
    return render_template("accounts/account.html", email=person.email, proofing_level=person.proofing_level,
                           consents=consents, withdraw_action=url_for("accounts.withdraw_consent"),
                           logout_url=url_for("protocol.logout"))


@bp.post("/account/consents/withdraw")
def withdraw_consent():
    login = current_login()
    if login is None:
        return redirect(url_for("accounts.login"))
    client_id = request.form.get("client_id", "")
    Consent.query.filter_by(person_id=login.person_id, client_id=client_id).delete()
    db.session.commit()
    # Withdrawing consent also ends what was shared under it: the service's tokens stop working now.
    revoke_grants_of(login.person_id, client_id, "consent.withdrawn")
    emit("consent.withdrawn", client_id=client_id, person_id=login.person_id)
    return redirect(url_for("accounts.account"))

