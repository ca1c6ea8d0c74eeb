"""Clients in the portal (issue 11): sandpit at once, integration and live only once an admin approves, changes
only within what was approved, keys checked by the one registration module, rotation, "try it", and one
organisation never seeing another's."""
from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.jwk import RSAKey

from developer.support import (add_service, client_id_from, error_of, logged_in_integrator, portal_csrf,
                               register_client)
from staff.support import audit_actions, staff_csrf, staff_login, staff_member
from support import RelyingParty, outbox, public_pem


@pytest.fixture
def portal(app, client):
    """A logged-in integrator with a P9 service: (member, service_id)."""
    member = logged_in_integrator(app, client)
    return member, add_service(client)


def _rp(app, client_id, key, redirect_uri="https://rp.example/callback"):
    return RelyingParty(app.test_client(), app, client_id, key=key, redirect_uri=redirect_uri)


def _client(app, client_id):
    from idp.extensions import db
    from idp.models import Client

    with app.app_context():
        found = db.session.get(Client, client_id)
        if found is not None:
            db.session.expunge(found)
        return found


def _requests(app, **filters):
    from idp.models import ClientRequest

    with app.app_context():
        return ClientRequest.query.filter_by(**filters).all()


def _admin(app):
    browser = app.test_client()
    member, secret, password = staff_member(app, roles=["admin"])
    staff_login(browser, member, password, secret)
    return browser, member


def _decide(browser, request_id, decision="approve", note="Checked the purpose with the organisation."):
    return browser.post(f"/staff/client-requests/{request_id}",
                        data={"decision": decision, "note": note, "csrf_token": staff_csrf(browser)})


# --- sandpit --------------------------------------------------------------------------------------------------
def test_a_sandpit_client_works_at_once_with_every_scope_and_vector(app, client, portal, rp_key, person):
    _, service_id = portal
    client_id = client_id_from(register_client(client, service_id, rp_key, scopes=["openid", "profile", "email"],
                                               vectors=["P9.Cp.Cd"]))
    registered = _client(app, client_id)
    assert registered.environment == "sandpit" and registered.approved is None and registered.service_id == service_id
    tokens = _rp(app, client_id, rp_key).tokens_for(person("P9"), scope="openid profile", vtr='["P9.Cp.Cd"]')
    claims = _rp(app, client_id, rp_key).verify_id_token(tokens["id_token"])
    assert claims["vot"] == "P9.Cp.Cd" and claims["aud"] == client_id
    page = client.get(f"/developer/clients/{client_id}").get_data(as_text=True)
    assert f'<code data-name="client_id">{client_id}</code>' in page and "https://rp.example/callback" in page
    assert "PrivateKeyJWT" in page and "openid-client" in page  # the snippets


def test_redirect_uris_follow_the_same_rules_as_everywhere(client, portal, rp_key):
    _, service_id = portal
    for uris, message in (("http://rp.example/cb", "must use https"), ("https://rp.example/cb?x=1", "no query"),
                          ("\n".join(f"https://rp.example/{n}" for n in range(11)), "at most 10")):
        response = register_client(client, service_id, rp_key, redirect_uris=uris)
        assert response.status_code == 400 and message in response.get_data(as_text=True), uris


# --- keys -----------------------------------------------------------------------------------------------------
def _private_pem(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.mark.filterwarnings("ignore:Key size should be")
def test_keys_are_refused_as_everywhere_private_weak_or_development(app, client, portal, rp_key):
    _, service_id = portal
    private = register_client(client, service_id, None, key=_private_pem(rp_key))
    assert private.status_code == 400 and "that is a private key" in private.get_data(as_text=True)
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    refused = register_client(client, service_id, weak)
    assert refused.status_code == 400 and "1024 bits is too weak" in refused.get_data(as_text=True)
    from idp.protocol.development_keys import PUBLISHED

    example = json.dumps({"keys": [dict(PUBLISHED[0], kid="example")]})
    for environment in ("integration", "live"):
        response = register_client(client, service_id, None, environment=environment, key_kind="jwks", key=example)
        assert response.status_code == 400 and "known development key" in response.get_data(as_text=True)
    assert not _requests(app)
    missing = register_client(client, service_id, None)
    assert missing.status_code == 400 and error_of(missing) == "Paste your public key"


def test_key_rotation_add_a_second_key_then_remove_the_first_without_a_failed_login(app, client, portal, rp_key,
                                                                                     other_rp_key, person):
    _, service_id = portal
    client_id = client_id_from(register_client(client, service_id, rp_key))
    email = person("P9")
    old_kid = RSAKey.import_key(public_pem(rp_key)).thumbprint()
    new_jwk = RSAKey.import_key(public_pem(other_rp_key)).as_dict(kid="key-2026")
    added = client.post(f"/developer/clients/{client_id}/keys",
                        data={"key": json.dumps(new_jwk), "csrf_token": portal_csrf(client)})
    assert added.status_code == 200 and "Key key-2026 added" in added.get_data(as_text=True)
    # Both keys verify while both are registered, each assertion naming its key.
    old, new = _rp(app, client_id, rp_key), _rp(app, client_id, other_rp_key)
    for rp, kid in ((old, old_kid), (new, "key-2026")):
        login = rp.login_flow(email, vtr='["P9.Cp.Cd"]')
        form, _ = rp.auth(header={"kid": kid})
        response = rp.http.post("/token", data={**form, "grant_type": "authorization_code", "code": login["code"],
                                                "redirect_uri": rp.redirect_uri, "code_verifier": rp.last["verifier"]})
        assert response.status_code == 200, response.get_json()
    removed = client.post(f"/developer/clients/{client_id}/keys/{old_kid}/remove", data={"csrf_token": portal_csrf(client)})
    assert removed.status_code == 200 and f"Key {old_kid} removed" in removed.get_data(as_text=True)
    login = old.login_flow(email, vtr='["P9.Cp.Cd"]')
    assert old.token(login["code"]).status_code == 401  # the old key no longer authenticates
    last = client.post(f"/developer/clients/{client_id}/keys/key-2026/remove", data={"csrf_token": portal_csrf(client)})
    assert last.status_code == 400 and "at least one key" in last.get_data(as_text=True)
    from idp.developer import audit

    with app.app_context():
        actions = [e.action for e in audit.of(_client_org(app, client_id))]
    assert "client.key_added" in actions and "client.key_removed" in actions


def _client_org(app, client_id):
    from idp.extensions import db
    from idp.models import Service

    with app.app_context():
        return db.session.get(Service, _client(app, client_id).service_id).organisation_id


# --- approval -------------------------------------------------------------------------------------------------
def test_integration_needs_an_admin_and_the_client_then_works(app, client, portal, rp_key, person):
    member, service_id = portal
    response = register_client(client, service_id, rp_key, environment="integration")
    assert response.status_code == 302 and "requested=" in response.headers["Location"]
    [pending] = _requests(app, status="pending")
    assert pending.client_id is None and pending.environment == "integration"
    from idp.models import Client

    with app.app_context():
        assert Client.query.filter_by(service_id=service_id, environment="integration").count() == 0
    admin_browser, admin = _admin(app)
    queue = admin_browser.get("/staff/client-requests").get_data(as_text=True)
    assert "Repeat prescriptions" in queue
    review = admin_browser.get(f"/staff/client-requests/{pending.id}").get_data(as_text=True)
    assert "Order repeat prescriptions from your GP surgery." in review and 'id="difference"' in review
    assert _decide(admin_browser, pending.id).status_code == 302
    [decided] = _requests(app, id=pending.id)
    assert decided.status == "approved" and decided.decided_by == admin.id and decided.client_id
    approved = _client(app, decided.client_id)
    assert approved.environment == "integration" and approved.approved["scopes"] == ["openid", "email"]
    rp = _rp(app, approved.client_id, rp_key)
    login = rp.login_flow(person("P9"), vtr='["P9.Cp.Cd"]')
    assert rp.token(login["code"]).status_code == 200
    # The organisation was told, and both audits have the decision.
    [email] = [m for m in outbox(app, member.email) if m.template == "developer_request_approved"]
    assert "Checked the purpose with the organisation." in email.body
    assert "client_request.approved" in audit_actions(app)
    assert "client.approved" in [e.action for e in _org_audit(app, member.organisation_id)]
    # A second decision is refused.
    again = _decide(admin_browser, pending.id, "reject", "no")
    assert again.status_code == 400 and "already been decided" in again.get_data(as_text=True)


def _org_audit(app, organisation_id):
    from idp.developer import audit

    with app.app_context():
        return audit.of(organisation_id)


def test_the_approved_integration_client_authenticates_at_token(app, client, portal, rp_key, person):
    _, service_id = portal
    register_client(client, service_id, rp_key, environment="integration")
    [pending] = _requests(app, status="pending")
    admin_browser, _ = _admin(app)
    _decide(admin_browser, pending.id)
    client_id = _requests(app, id=pending.id)[0].client_id
    rp = _rp(app, client_id, rp_key)
    tokens = rp.tokens_for(person("P9"), vtr='["P9.Cp.Cd"]', scope="openid email")
    assert rp.verify_id_token(tokens["id_token"])["aud"] == client_id


def test_only_admins_decide_and_a_rejection_needs_a_reason(app, client, portal, rp_key):
    member, service_id = portal
    register_client(client, service_id, rp_key, environment="live")
    [pending] = _requests(app, status="pending")
    checker_browser = app.test_client()
    checker, secret, password = staff_member(app, roles=["id_checker", "health_professional"])
    staff_login(checker_browser, checker, password, secret)
    assert checker_browser.get("/staff/client-requests").status_code == 403
    assert checker_browser.post(f"/staff/client-requests/{pending.id}",
                                data={"decision": "approve", "csrf_token": staff_csrf(checker_browser)}).status_code == 403
    # The integrator's own session opens nothing in the staff area.
    assert client.get(f"/staff/client-requests/{pending.id}").status_code == 302
    admin_browser, _ = _admin(app)
    no_reason = _decide(admin_browser, pending.id, "reject", "")
    assert no_reason.status_code == 400 and "Enter the reason for rejecting" in no_reason.get_data(as_text=True)
    assert _decide(admin_browser, pending.id, "reject", "Live needs a clinical safety case first.").status_code == 302
    assert _requests(app, id=pending.id)[0].status == "rejected"
    [email] = [m for m in outbox(app, member.email) if m.template == "developer_request_rejected"]
    assert "Live needs a clinical safety case first." in email.body
    service_page = client.get(f"/developer/services/{service_id}").get_data(as_text=True)
    assert "Not approved" in service_page and "Live needs a clinical safety case first." in service_page


def test_risky_scopes_are_flagged_and_need_reasons_from_both_sides(app, client, portal, rp_key):
    _, service_id = portal
    asked = dict(scopes=["openid", "profile", "gp_integration_credentials"], vectors=["P9.Cp.Cd"])
    without = register_client(client, service_id, rp_key, environment="integration", **asked)
    assert without.status_code == 400 and "Say why your service needs" in without.get_data(as_text=True)
    assert register_client(client, service_id, rp_key, environment="integration",
                           reason="We show the GP record and book GP appointments.", **asked).status_code == 302
    [pending] = _requests(app, status="pending")
    assert any("gp_integration_credentials" in f for f in pending.flags)
    assert any("profile at P9" in f for f in pending.flags)
    admin_browser, _ = _admin(app)
    review = admin_browser.get(f"/staff/client-requests/{pending.id}").get_data(as_text=True)
    assert 'id="flags"' in review and "We show the GP record and book GP appointments." in review
    no_note = _decide(admin_browser, pending.id, "approve", "")
    assert no_note.status_code == 400 and "Enter why the flagged scopes are appropriate" in no_note.get_data(as_text=True)
    assert _requests(app, id=pending.id)[0].status == "pending"


def test_an_approved_client_changes_within_its_approval_at_once_and_asks_for_more(app, client, portal, rp_key):
    member, service_id = portal
    register_client(client, service_id, rp_key, environment="integration", scopes=["openid", "email", "phone"],
                    redirect_uris="https://rp.example/callback\nhttps://rp.example/other")
    [pending] = _requests(app, status="pending")
    admin_browser, _ = _admin(app)
    _decide(admin_browser, pending.id)
    client_id = _requests(app, id=pending.id)[0].client_id

    def edit(**changes):
        form = {"redirect_uris": "https://rp.example/callback", "post_logout_redirect_uris": "",
                "backchannel_logout_uri": "", "scopes": ["openid", "email"], "vectors": ["P9.Cp.Cd"], "reason": ""}
        form.update(changes)
        return client.post(f"/developer/clients/{client_id}/edit", data={**form, "csrf_token": portal_csrf(client)})

    # Narrower: fewer scopes and one redirect URI. Applied now, audited and emailed.
    within = edit()
    assert within.status_code == 302 and "changed=1" in within.headers["Location"]
    changed = _client(app, client_id)
    assert changed.scopes == ["openid", "email"] and changed.redirect_uris == ["https://rp.example/callback"]
    assert [m for m in outbox(app, member.email) if m.template == "developer_client_changed"]
    # Back to what was approved: still within.
    assert edit(scopes=["openid", "email", "phone"]).status_code == 302
    # More than approved: a new request; the client keeps working as approved.
    flagged = edit(scopes=["openid", "email", "phone", "profile"], redirect_uris="https://rp.example/new")
    assert flagged.status_code == 400 and "profile at P9" in flagged.get_data(as_text=True)
    beyond = edit(scopes=["openid", "email", "phone", "profile"], redirect_uris="https://rp.example/new",
                  reason="The prescription shows the NHS number.")
    assert beyond.status_code == 302 and "requested=" in beyond.headers["Location"]
    assert _client(app, client_id).scopes == ["openid", "email", "phone"]
    [more] = _requests(app, status="pending")
    assert more.client_id == client_id
    review = admin_browser.get(f"/staff/client-requests/{more.id}").get_data(as_text=True)
    assert "https://rp.example/new" in review and "profile" in review
    assert edit(scopes=["openid", "landline"]).status_code == 400  # one request at a time
    _decide(admin_browser, more.id)
    now_approved = _client(app, client_id)
    assert "profile" in now_approved.scopes and now_approved.approved["redirect_uris"] == ["https://rp.example/new"]


def test_a_sandpit_client_changes_freely(app, client, portal, rp_key):
    _, service_id = portal
    client_id = client_id_from(register_client(client, service_id, rp_key))
    response = client.post(f"/developer/clients/{client_id}/edit", data={
        "redirect_uris": "https://rp.example/elsewhere", "scopes": ["openid", "profile", "gp_registration_details"],
        "vectors": ["P9.Cm"], "csrf_token": portal_csrf(client)})
    assert response.status_code == 302
    changed = _client(app, client_id)
    assert changed.redirect_uris == ["https://rp.example/elsewhere"] and changed.vectors == ["P9.Cm"]


# --- environments ---------------------------------------------------------------------------------------------
def test_an_instance_registers_only_its_own_environment(app, client, portal, rp_key, monkeypatch):
    _, service_id = portal
    monkeypatch.setattr(app.extensions["idp"].settings, "env", "integration")
    page = client.get(f"/developer/services/{service_id}").get_data(as_text=True)
    assert "Register a integration client" in page and "Register a sandpit client" not in page
    refused = register_client(client, service_id, rp_key, environment="sandpit")
    assert refused.status_code == 400 and "Select an environment this service registers clients for" in refused.get_data(as_text=True)


def test_a_sandpit_client_never_works_against_an_integration_instance(app, client, portal, rp_key, monkeypatch):
    _, service_id = portal
    client_id = client_id_from(register_client(client, service_id, rp_key))
    monkeypatch.setattr(app.extensions["idp"].settings, "env", "integration")
    page = _rp(app, client_id, rp_key).authorize()
    assert page.status_code == 400 and "Location" not in page.headers


# --- try it ---------------------------------------------------------------------------------------------------
def test_try_it_runs_a_sandpit_login_to_the_clients_own_redirect_uri(app, client, portal, rp_key, person):
    _, service_id = portal
    client_id = client_id_from(register_client(client, service_id, rp_key))
    response = client.post(f"/developer/clients/{client_id}/try-it", data={"csrf_token": portal_csrf(client)})
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["client_id"] == [client_id] and query["redirect_uri"] == ["https://rp.example/callback"]
    assert query["code_challenge_method"] == ["S256"] and query["vtr"] == ['["P9.Cp.Cd"]']
    page = client.get(f"/developer/clients/{client_id}").get_data(as_text=True)
    verifier = page.split("<dt class=\"nhsuk-summary-list__key\">code_verifier</dt>")[1].split("<code>")[1].split("</code>")[0]
    # The same browser logs a test person in and comes back to the client's redirect URI with a code.
    from support import callback_params, follow_to_rp

    back = follow_to_rp(client, response, email=person("P9"))
    result = callback_params(back)
    assert result["state"] == query["state"][0]
    token = _rp(app, client_id, rp_key).token(result["code"], verifier=verifier)
    assert token.status_code == 200, token.get_json()


# --- organisations apart ---------------------------------------------------------------------------------------
def test_another_organisations_services_and_clients_are_not_found(app, client, portal, rp_key):
    _, service_id = portal
    client_id = client_id_from(register_client(client, service_id, rp_key))
    stranger = app.test_client()
    logged_in_integrator(app, stranger)
    for path in (f"/developer/services/{service_id}", f"/developer/clients/{client_id}",
                 f"/developer/clients/{client_id}/edit", f"/developer/services/{service_id}/clients/new"):
        assert stranger.get(path).status_code == 404, path
    assert stranger.post(f"/developer/clients/{client_id}/try-it",
                         data={"csrf_token": portal_csrf(stranger)}).status_code == 404


# --- staff systems (provisioning clients) ---------------------------------------------------------------------
def _provisioning_token(app, client_id, key):
    rp = _rp(app, client_id, key)
    form, headers = rp.auth()
    return rp.http.post("/token", data={"grant_type": "client_credentials", "scope": "provisioning", **form},
                        headers=headers)


def test_a_staff_system_registers_as_a_provisioning_client_and_gets_its_token(app, client, portal, rp_key):
    _, service_id = portal
    response = register_client(client, service_id, rp_key, kind="provisioning", ods_codes="A12345 b67890")
    client_id = client_id_from(response)
    registered = _client(app, client_id)
    assert registered.is_provisioning and registered.ods_codes == ["A12345", "B67890"] and not registered.redirect_uris
    page = client.get(f"/developer/clients/{client_id}").get_data(as_text=True)
    assert '<code data-name="grant_type">client_credentials</code>' in page and "Try it" not in page
    token = _provisioning_token(app, client_id, rp_key)
    assert token.status_code == 200 and token.get_json()["scope"] == "provisioning"
    bad = register_client(client, service_id, rp_key, kind="provisioning", ods_codes="not-an-ods-code")
    assert bad.status_code == 400 and "is not an ODS code" in bad.get_data(as_text=True)


def test_provisioning_in_integration_is_flagged_and_more_ods_codes_need_a_new_approval(app, client, portal, rp_key):
    _, service_id = portal
    without = register_client(client, service_id, rp_key, environment="integration", kind="provisioning",
                              ods_codes="A12345")
    assert without.status_code == 400 and "provisioning: creating NHS logins" in without.get_data(as_text=True)
    register_client(client, service_id, rp_key, environment="integration", kind="provisioning", ods_codes="A12345",
                    reason="Our practice system sets up NHS logins at the front desk.")
    [pending] = _requests(app, status="pending")
    admin_browser, _ = _admin(app)
    _decide(admin_browser, pending.id, note="The practice confirmed the front-desk process.")
    client_id = _requests(app, id=pending.id)[0].client_id
    assert _provisioning_token(app, client_id, rp_key).status_code == 200
    more = client.post(f"/developer/clients/{client_id}/edit", data={
        "ods_codes": "A12345 C11111", "reason": "A second practice joins.", "csrf_token": portal_csrf(client)})
    assert more.status_code == 302 and "requested=" in more.headers["Location"]
    assert _client(app, client_id).ods_codes == ["A12345"]
    [request] = _requests(app, status="pending")
    review = admin_browser.get(f"/staff/client-requests/{request.id}").get_data(as_text=True)
    assert "C11111" in review and "ODS codes (provisioning)" in review


def test_operators_see_organisations_and_waiting_requests(app, client, portal, rp_key):
    _, service_id = portal
    register_client(client, service_id, rp_key)
    register_client(client, service_id, rp_key, environment="live", scopes=["openid", "gp_integration_credentials"],
                    reason="GP record access for booking.")
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["developer", "organisations", "--json"])
    assert listed.exit_code == 0
    [row] = [json.loads(line) for line in listed.output.splitlines()]
    assert (row["services"], row["clients"], row["active_members"], row["company_number"]) == (1, 1, 1, "01234567")
    waiting = runner.invoke(args=["developer", "requests"])
    assert waiting.exit_code == 0 and "live\tRepeat prescriptions\tnew client\tFLAGGED: gp_integration_credentials" in waiting.output


def test_a_request_for_a_client_removed_meanwhile_is_refused_and_nothing_is_half_recorded(app, client, portal, rp_key):
    member, service_id = portal
    register_client(client, service_id, rp_key, environment="integration")
    [first] = _requests(app, status="pending")
    admin_browser, _ = _admin(app)
    _decide(admin_browser, first.id)
    client_id = _requests(app, id=first.id)[0].client_id
    client.post(f"/developer/clients/{client_id}/edit", data={
        "redirect_uris": "https://rp.example/callback", "scopes": ["openid", "email", "phone"], "vectors": ["P9.Cp.Cd"],
        "csrf_token": portal_csrf(client)})
    [change] = _requests(app, status="pending")
    assert app.test_cli_runner().invoke(args=["clients", "remove", client_id]).exit_code == 0
    review = admin_browser.get(f"/staff/client-requests/{change.id}")
    assert "has been removed" in review.get_data(as_text=True)
    refused = _decide(admin_browser, change.id)
    assert refused.status_code == 400 and "has been removed" in refused.get_data(as_text=True)
    assert _requests(app, id=change.id)[0].status == "pending"
    assert not [m for m in outbox(app, member.email) if m.template == "developer_request_approved"][1:]
