"""Attacks found in review, each now refused (one test per attack, as an attacker would try it)."""
import base64
import json
import time
from urllib.parse import urlencode

from support import ISSUER, callback_params, csrf_from


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _unsigned(header: dict, claims: dict) -> str:
    return _b64(header) + "." + _b64(claims) + "."


def _our_kid(client) -> str:
    return client.get("/.well-known/jwks.json").get_json()["keys"][0]["kid"]


def test_withdrawing_consent_stops_the_services_tokens(register, person, client):
    rp = register(refresh_tokens=True)
    tokens = rp.tokens_for(person("P5"), scope="openid profile email")
    page = client.get("/account").get_data(as_text=True)
    client.post("/account/consents/withdraw", data={"client_id": rp.client_id, "csrf_token": csrf_from(page)})
    assert rp.refresh(tokens["refresh_token"]).get_json()["error"] == "invalid_grant"
    userinfo = client.get("/userinfo", headers={"Authorization": "Bearer " + tokens["access_token"]})
    assert userinfo.status_code == 401


def test_unsigned_id_token_hint_does_not_log_anyone_out(rp, person, client):
    tokens = rp.tokens_for(person("P0"))
    sub = rp.verify_id_token(tokens["id_token"])["sub"]
    forged = _unsigned({"alg": "none", "kid": _our_kid(client)}, {"iss": ISSUER, "aud": rp.client_id, "sub": sub})
    response = client.get("/logout?" + urlencode({"id_token_hint": forged,
                                                  "post_logout_redirect_uri": "https://rp.example/logged-out"}))
    assert response.status_code == 400 and "Location" not in response.headers
    assert "code" in callback_params(rp.authorize(prompt="none"))  # still logged in


def test_unsigned_access_token_is_refused_at_userinfo(rp, person, client):
    tokens = rp.tokens_for(person("P0"), scope="openid email")
    jti = json.loads(base64.urlsafe_b64decode(tokens["access_token"].split(".")[1] + "=="))["jti"]
    forged = _unsigned({"alg": "none", "kid": _our_kid(client), "typ": "at+jwt"},
                       {"iss": ISSUER, "exp": int(time.time()) + 3600, "jti": jti})
    assert client.get("/userinfo", headers={"Authorization": "Bearer " + forged}).status_code == 401


def test_unsigned_id_token_hint_is_refused_at_authorize(rp, person, client):
    rp.tokens_for(person("P0"))
    forged = _unsigned({"alg": "none", "kid": _our_kid(client)}, {"iss": ISSUER, "aud": rp.client_id, "sub": "x"})
    assert callback_params(rp.authorize(prompt="none", id_token_hint=forged))["error"] == "invalid_request"


def test_a_logout_token_is_not_an_id_token_hint(app, rp, person, client):
    rp.tokens_for(person("P0"))
    with app.app_context():
        logout_token = app.extensions["idp"].tokens.logout_token(client=rp_client(app, rp), person=None, sid="s")
    assert callback_params(rp.authorize(prompt="none", id_token_hint=logout_token))["error"] == "invalid_request"


def rp_client(app, rp):
    from idp.models import Client

    return Client.find(rp.client_id)


def test_claims_asked_for_later_scopes_are_not_released_by_old_tokens(app, register, person, client):
    rp = register(scope="openid email", refresh_tokens=True)
    tokens = rp.tokens_for(person("P9"), scope="openid email", claims=json.dumps({"userinfo": {"nhs_number": None}}))
    with app.app_context():
        from idp.extensions import db
        from idp.models import Client
        from idp.protocol.registration import update_client

        update_client(db.session.get(Client, rp.client_id), {"scope": "openid email profile"}, development=True)
    refreshed = rp.refresh(tokens["refresh_token"]).get_json()
    claims = client.get("/userinfo", headers={"Authorization": "Bearer " + refreshed["access_token"]}).get_json()
    assert "email" in claims and "nhs_number" not in claims


def test_a_pairwise_client_cannot_move_to_another_sector(app, register):
    rp = register(subject_type="pairwise")
    with app.app_context():
        from idp.extensions import db
        from idp.models import Client
        from idp.protocol.registration import RegistrationError, update_client

        client_row = db.session.get(Client, rp.client_id)
        for change in ({"redirect_uris": ["https://victim.example/callback"]}, {"subject_type": "public"}):
            try:
                update_client(client_row, change, development=True)
            except RegistrationError:
                continue
            raise AssertionError(f"{change} was accepted")


def test_a_rotated_refresh_token_is_not_active_at_introspection(register, person, client):
    rp = register(refresh_tokens=True)
    tokens = rp.tokens_for(person("P0"))
    assert rp.refresh(tokens["refresh_token"]).status_code == 200
    form, headers = rp.auth()
    form["token"] = tokens["refresh_token"]
    assert client.post("/introspect", data=form, headers=headers).get_json() == {"active": False}


def test_the_error_page_does_not_echo_parameter_names_of_the_requesters_choosing(client):
    page = client.get("/authorize?" + urlencode({"Call 0800 000 000 now": "x" * 3000})).get_data(as_text=True)
    assert "0800" not in page


def test_pairwise_clients_in_different_sectors_see_different_session_ids(register, person, client):
    first = register(subject_type="pairwise")
    second = register(subject_type="pairwise", redirect_uris=["https://other.example/callback"],
                      post_logout_redirect_uris=["https://other.example/logged-out"])
    email = person("P0")
    sid_one = first.verify_id_token(first.tokens_for(email)["id_token"])["sid"]
    hint = second.tokens_for(email)["id_token"]
    sid_two = second.verify_id_token(hint)["sid"]
    assert sid_one != sid_two
    # The client's own sid still names the session: its hint logs out without a question.
    response = client.get("/logout?" + urlencode({"id_token_hint": hint,
                                                  "post_logout_redirect_uri": "https://other.example/logged-out"}))
    assert response.status_code == 302 and response.headers["Location"].startswith("https://other.example/logged-out")
