"""The integrator portal's pages: sign up, log in (``idp.areas.pages``), the team, services, clients per
environment with their configuration, keys and "try it", test people, and the organisation's audit.

Views parse the form, call the domain modules beside them and render; every page but sign-up, login and
set-up is ``requires_integrator``, and every service, client or test person is looked up as the member's own.
"""
from __future__ import annotations

import json
import secrets
from urllib.parse import urlencode

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from flask import abort, current_app, redirect, render_template, request, session, url_for

from ..areas import pages
from ..extensions import db
from ..i18n import N_
from ..models import ClientRequest, Client, Organisation
from . import approval, audit, clients, organisations, services, test_people
from .access import current_integrator, own_client, own_service, requires_integrator
from .area import DEVELOPER
from .blueprint import bp
from .configuration import SNIPPET_NAMES, SNIPPETS, for_client
from .organisations import IDENTIFIER_KINDS, PortalError

pages.install(bp, DEVELOPER, current_member=current_integrator, home="developer.home", texts=pages.AreaTexts(
    locked=N_("Your account is locked because of too many wrong codes. Ask another member of your organisation "
              "to remove and invite you again."),
    timed_out=N_("You were logged out because you had not used the portal for %(minutes)d minutes."),
    link_problems={
        "unknown": (N_("This set-up link is not valid"), N_("Check you copied the whole link, or sign up again.")),
        "used": (N_("This set-up link has already been used"), N_("Log in to the integrator portal.")),
        "expired": (N_("This set-up link has expired"),
                    N_("Set-up links last 72 hours. Sign up again, or ask a member of your organisation to invite you.")),
    }))


def _settings():
    return current_app.extensions["idp"].settings


def _errors(exc: PortalError) -> list[dict]:
    return [{"field": exc.field, "message": str(exc)}]


@bp.context_processor
def developer_context():
    member = current_integrator()
    organisation = db.session.get(Organisation, member.organisation_id) if member is not None else None
    return {"integrator": member, "organisation": organisation}


# --- signing up ---------------------------------------------------------------------------------------------
@bp.route("/sign-up", methods=["GET", "POST"])
def sign_up():
    if request.method == "GET":
        return render_template("developer/sign_up.html", form={}, errors=[], kinds=IDENTIFIER_KINDS)
    try:
        details = organisations.check_sign_up(request.form)
        organisations.sign_up(details, _settings(), request.remote_addr or "unknown")
    except PortalError as exc:
        return render_template("developer/sign_up.html", form=request.form, errors=_errors(exc),
                               kinds=IDENTIFIER_KINDS), 400
    # The same page whether or not the address already had an account (no enumeration).
    return render_template("developer/check_email.html", email=details.email)


# --- home, team, audit --------------------------------------------------------------------------------------
@bp.route("/")
@requires_integrator
def home():
    member = current_integrator()
    return render_template("developer/home.html", services=services.of(member.organisation_id),
                           test_people_allowed=test_people.allowed(_settings()))


@bp.route("/team", methods=["GET", "POST"])
@requires_integrator
def team():
    if request.method == "GET":
        return _team_page()
    try:
        address = organisations.invite(current_integrator(), request.form.get("email"), _settings())
    except PortalError as exc:
        return _team_page(errors=_errors(exc))
    return _team_page(notice=f"We have sent an email to {address} with a link to set up their account.")


@bp.route("/team/<member_id>/remove", methods=["POST"])
@requires_integrator
def remove_member(member_id):
    try:
        removed = organisations.disable(current_integrator(), member_id)
    except PortalError as exc:
        return _team_page(errors=_errors(exc))
    return _team_page(notice=f"{removed.email} can no longer use the portal.")


def _team_page(errors=(), notice=None):
    members = organisations.members_of(current_integrator().organisation_id)
    return render_template("developer/team.html", members=members, errors=list(errors), notice=notice), \
        400 if errors else 200


@bp.route("/audit")
@requires_integrator
def audit_log():
    return render_template("developer/audit.html", events=audit.of(current_integrator().organisation_id, 200))


# --- services -----------------------------------------------------------------------------------------------
@bp.route("/services/new", methods=["GET", "POST"])
@requires_integrator
def new_service():
    errors = []
    if request.method == "POST":
        try:
            service = services.create(current_integrator(), services.check(request.form))
            return redirect(url_for("developer.service", service_id=service.id))
        except PortalError as exc:
            errors = _errors(exc)
    return render_template("developer/service_new.html", form=request.form, errors=errors, levels=services.LEVELS,
                           vectors=services.VECTORS, guidance=services.GUIDANCE), 400 if errors else 200


@bp.route("/services/<service_id>")
@requires_integrator
def service(service_id):
    found = own_service(service_id)
    registered = Client.query.filter_by(service_id=found.id).order_by(Client.environment, Client.created_at).all()
    requests = ClientRequest.query.filter_by(service_id=found.id).order_by(ClientRequest.requested_at.desc()).all()
    return render_template("developer/service.html", service=found, clients=registered, requests=requests,
                           environments=clients.offered(_settings()))


def _client_form(template: str, status: int = 200, **context):
    return render_template(template, scopes=clients.SCOPES, all_vectors=[v for level in services.LEVELS
                                                                         for v in services.VECTORS[level]],
                           **context), status


@bp.route("/services/<service_id>/clients/new", methods=["GET", "POST"])
@requires_integrator
def new_client(service_id):
    found = own_service(service_id)
    environment = request.values.get("environment") or "sandpit"
    if request.method == "GET":
        form = {"scopes": ["openid"], "vectors": list(found.vectors), "key_kind": "pem", "kind": "relying_party"}
        return _client_form("developer/client_new.html", service=found, environment=environment, form=form,
                            errors=[], environments=clients.offered(_settings()),
                            needs_approval=approval.needs_approval(environment))
    try:
        result = clients.register(current_integrator(), found, environment, clients.form_fields(request.form),
                                  clients.form_key(request.form), request.form.get("reason"), _settings())
    except PortalError as exc:
        form = {**request.form.to_dict(), "scopes": request.form.getlist("scopes"),
                "vectors": request.form.getlist("vectors")}
        return _client_form("developer/client_new.html", 400, service=found, environment=environment, form=form,
                            errors=_errors(exc), environments=clients.offered(_settings()),
                            needs_approval=approval.needs_approval(environment))
    if isinstance(result, ClientRequest):
        return redirect(url_for("developer.service", service_id=found.id, requested=result.id))
    return redirect(url_for("developer.client", client_id=result.client_id, registered=1))


# --- a client -----------------------------------------------------------------------------------------------
def _client_page(client, service, status=200, **context):
    settings = _settings()
    configuration = None if client.is_provisioning else for_client(client, settings)
    pending = ClientRequest.query.filter_by(client_id=client.client_id, status="pending").first()
    return render_template(
        "developer/client.html", client=client, service=service, configuration=configuration, issuer=settings.issuer,
        snippets=[(name, SNIPPET_NAMES[name], configuration.snippet(name)) for name in SNIPPETS] if configuration else [],
        keys=[(k, clients.describe(k)) for k in clients.keys_of(client)], pending=pending,
        try_it=session.get("try_it") if (session.get("try_it") or {}).get("client_id") == client.client_id else None,
        test_people=test_people.of(service.organisation_id) if client.environment == "sandpit" else [],
        errors=context.pop("errors", []), **context), status


@bp.route("/clients/<client_id>")
@requires_integrator
def client(client_id):
    found, service_ = own_client(client_id)
    notice = "Your sandpit client is registered and works now." if request.args.get("registered") else None
    return _client_page(found, service_, notice=notice)


@bp.route("/clients/<client_id>/edit", methods=["GET", "POST"])
@requires_integrator
def edit_client(client_id):
    found, service_ = own_client(client_id)
    if request.method == "GET":
        form = {"redirect_uris": "\n".join(found.redirect_uris),
                "post_logout_redirect_uris": "\n".join(found.post_logout_redirect_uris),
                "backchannel_logout_uri": found.backchannel_logout_uri or "", "scopes": list(found.scopes),
                "vectors": list(found.vectors), "ods_codes": " ".join(found.ods_codes or ())}
        return _client_form("developer/client_edit.html", client=found, service=service_, form=form, errors=[])
    try:
        result = clients.change(current_integrator(), found, clients.form_fields(request.form, found.kind),
                                request.form.get("reason"), _settings())
    except PortalError as exc:
        form = {**request.form.to_dict(), "scopes": request.form.getlist("scopes"),
                "vectors": request.form.getlist("vectors")}
        return _client_form("developer/client_edit.html", 400, client=found, service=service_, form=form,
                            errors=_errors(exc))
    if isinstance(result, ClientRequest):
        return redirect(url_for("developer.service", service_id=service_.id, requested=result.id))
    return redirect(url_for("developer.client", client_id=found.client_id, changed=1))


@bp.route("/clients/<client_id>/keys", methods=["POST"])
@requires_integrator
def add_key(client_id):
    found, service_ = own_client(client_id)
    try:
        kid = clients.add_key(current_integrator(), found, clients.pasted_key(request.form.get("key")), _settings())
    except PortalError as exc:
        return _client_page(found, service_, 400, errors=[{"field": "key", "message": str(exc)}])
    return _client_page(found, service_, notice=f"Key {kid} added. Sign with it (naming it as kid), then remove "
                                                f"the old key.")


@bp.route("/clients/<client_id>/keys/<kid>/remove", methods=["POST"])
@requires_integrator
def remove_key(client_id, kid):
    found, service_ = own_client(client_id)
    try:
        clients.remove_key(current_integrator(), found, kid, _settings())
    except PortalError as exc:
        return _client_page(found, service_, 400, errors=[{"field": "keys", "message": str(exc)}])
    return _client_page(found, service_, notice=f"Key {kid} removed.")


@bp.route("/clients/<client_id>/try-it", methods=["POST"])
@requires_integrator
def try_it(client_id):
    """A sandpit login against the client's own redirect URI: PKCE, state and nonce made here and shown on the
    client's page, so the integrator can exchange the code their redirect URI receives with their own key."""
    found, service_ = own_client(client_id)
    if found.environment != "sandpit" or found.is_provisioning:
        return _client_page(found, service_, 400, errors=[{"field": None, "message":
                                                           "Try it is for sandpit relying parties, with test people"}])
    verifier = secrets.token_urlsafe(48)
    challenge = create_s256_code_challenge(verifier)  # RFC 7636 4.2
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    session["try_it"] = {"client_id": found.client_id, "code_verifier": verifier, "state": state, "nonce": nonce,
                         "redirect_uri": found.redirect_uris[0]}
    audit.record("client.tried", subject=found.client_id)
    db.session.commit()
    query = {"response_type": "code", "client_id": found.client_id, "redirect_uri": found.redirect_uris[0],
             "scope": " ".join(found.scopes), "state": state, "nonce": nonce, "code_challenge": challenge,
             "code_challenge_method": "S256", "vtr": json.dumps(list(found.vectors), separators=(",", ":")),
             "prompt": "login"}
    return redirect(f"{_settings().issuer}/authorize?{urlencode(query)}")


# --- test people --------------------------------------------------------------------------------------------
@bp.route("/test-people", methods=["GET", "POST"])
@requires_integrator
def test_people_list():
    member, errors, created = current_integrator(), [], None
    if request.method == "POST":
        try:
            created = test_people.create(member, request.form.get("level"), _settings())
        except PortalError as exc:
            errors = _errors(exc)
    return render_template("developer/test_people.html", people=test_people.of(member.organisation_id),
                           created=created, errors=errors, levels=test_people.LEVELS,
                           allowed=test_people.allowed(_settings())), 400 if errors else 200


@bp.route("/test-people/<person_id>/remove", methods=["POST"])
@requires_integrator
def remove_test_person(person_id):
    member = current_integrator()
    try:
        person = test_people.own(member, person_id)
    except PortalError:
        abort(404)
    email = person.email
    test_people.remove(member, person)
    return render_template("developer/test_people.html", people=test_people.of(member.organisation_id),
                           created=None, errors=[], levels=test_people.LEVELS, notice=f"{email} has been removed.",
                           allowed=test_people.allowed(_settings()))


@bp.route("/test-people/<person_id>")
@requires_integrator
def test_person(person_id):
    try:
        person = test_people.own(current_integrator(), person_id)
    except PortalError:
        abort(404)
    return render_template("developer/test_person.html", person=person,
                           messages=test_people.messages(person, _settings()))
