"""Routes of the account journeys. Views parse, call a named rule, render."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import (
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
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
from .blueprint import bp
from .login import timed_out_page

interactions.register_kind("consent", "accounts.consent")


def _settings():
    return current_app.extensions["idp"].settings


@bp.get("/")
def home():
    return render_template("home.html", logged_in=current_login() is not None, account_url=url_for("accounts.account"),
                           discovery_url=url_for("protocol.openid_configuration"))


@bp.route("/consent", methods=["GET", "POST"])
def consent():
    interaction = interactions.load(request.args.get("interaction"))
    login = login_for_interaction(interaction)  # an asserted_login_identity logs in for the request only
    if interaction is None or login is None or not interaction.is_authorization:
        return timed_out_page()
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
    from .settings import login_methods, settings_links

    return render_template("accounts/account.html", email=person.email, proofing_level=person.proofing_level,
                           consents=consents, withdraw_action=url_for("accounts.withdraw_consent"),
                           logout_url=url_for("protocol.logout"), methods=login_methods(person),
                           done=session.pop("settings_done", None), links=settings_links(),
                           prove_url=url_for("proofing.begin", level="P9") if person.proofing_level != "P9" else None)


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

