"""asserted_login_identity: single sign-on from client A to client B (interface.md "Authorization request").

Person logs in to A in one browser; A signs an assertion naming the jti of its ID token; B sends
the person, in another browser, to /authorize with it. An assertion we cannot accept is ignored
(the person logs in as usual, or B gets login_required with prompt=none).
"""
from __future__ import annotations

import base64
import dataclasses
import json
import time
import uuid
from datetime import datetime, timezone

from urllib.parse import urlsplit

import pytest
from freezegun import freeze_time
from joserfc import jwt
from joserfc.jwk import OctKey

from support import ISSUER, callback_params, csrf_from, follow_to_rp, private_jwk

B_CALLBACK = "https://b.example/callback"


@pytest.fixture
def partners(app, register, other_rp_key):
    """(A, B): B accepts A's assertions; B talks to the provider from a browser of its own."""
    a = register(name="Service A")
    b = register(name="Service B", redirect_uris=[B_CALLBACK], sso_partners=[a.client_id], key=other_rp_key)
    return a, dataclasses.replace(b, http=app.test_client())


def id_token_at_a(a, email, **params) -> tuple[str, dict]:
    tokens = a.tokens_for(email, **params)
    claims = a.verify_id_token(tokens["id_token"])
    return claims["jti"], claims


def assertion(a, b, code, *, key=None, alg="RS512", **claims) -> str:
    """A's assertion for B (interface.md: aud is the issuer and the receiving client)."""
    current = int(time.time())
    body = {"iss": a.client_id, "aud": [ISSUER, b.client_id], "code": code, "iat": current, "jti": str(uuid.uuid4()),
            "exp": current + 60}
    body.update(claims)
    return jwt.encode({"alg": alg}, body, key or private_jwk(a.key), algorithms=[alg])


def payload_of(token: str) -> dict:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def lands_on(response) -> str:
    """Where the provider sends the browser: 'login', 'consent', or 'rp'."""
    location = response.headers.get("Location", "")
    if location.startswith(B_CALLBACK):
        return "rp"
    return location.split("?")[0].lstrip("/").split("/")[0] or location


@pytest.fixture
def refusals():
    """The reasons assertions were refused for, as the ``asserted_login.refused`` event reports them."""
    from idp.events import _signals

    reasons: list[str] = []

    def receiver(sender, **data):
        reasons.append(data["reason"])

    signal = _signals.signal("asserted_login.refused")
    signal.connect(receiver)
    yield reasons
    signal.disconnect(receiver)


def consent_and_return(b, response):
    return callback_params(follow_to_rp(b.http, response, email=None, consent=True, redirect_uri=B_CALLBACK))


# --- the single sign-on ---------------------------------------------------------------------
def test_partner_assertion_logs_the_person_in_without_a_password(partners, person):
    a, b = partners
    email = person("P9")
    jti, a_claims = id_token_at_a(a, email)

    response = b.authorize(asserted_login_identity=assertion(a, b, jti))
    assert lands_on(response) == "consent"  # no password page; consent for B is still the person's
    result = consent_and_return(b, response)
    assert "code" in result, result
    token = b.token(result["code"])
    assert token.status_code == 200, token.get_json()
    b_claims = b.verify_id_token(token.get_json()["id_token"])
    assert b_claims["aud"] == b.client_id
    assert b_claims["auth_time"] == a_claims["auth_time"]
    assert b_claims["vot"] == a_claims["vot"] == "P9.Cp"
    assert b_claims["sid"] == a_claims["sid"]  # logging out of that session reaches B too


def test_remembered_consent_goes_straight_back_even_with_prompt_none(partners, person):
    a, b = partners
    email = person("P0")
    jti, _ = id_token_at_a(a, email)
    assert "code" in b.login_flow(email)  # the person agreed to share with B once, elsewhere
    fresh = dataclasses.replace(b, http=b.app.test_client())

    response = fresh.authorize(prompt="none", asserted_login_identity=assertion(a, b, jti))
    assert lands_on(response) == "rp"
    assert "code" in callback_params(response)


def test_it_does_not_log_the_browser_in(partners, person):
    a, b = partners
    jti, _ = id_token_at_a(a, person("P0"))
    consent_and_return(b, b.authorize(asserted_login_identity=assertion(a, b, jti)))

    assert lands_on(b.authorize()) == "login"
    assert b.http.get("/account").status_code == 302  # no account page: nobody is logged in here


def test_the_assertion_is_single_use(partners, person, refusals):
    a, b = partners
    jti, _ = id_token_at_a(a, person("P0"))
    value = assertion(a, b, jti)
    assert lands_on(b.authorize(asserted_login_identity=value)) == "consent"

    other_browser = dataclasses.replace(b, http=b.app.test_client())
    assert lands_on(other_browser.authorize(asserted_login_identity=value)) == "login"
    assert refusals == ["already used"]
    again = other_browser.authorize(asserted_login_identity=value, prompt="none")
    assert callback_params(again)["error"] == "login_required"


def test_the_browser_can_resume_after_consent_without_spending_it_twice(partners, person):
    a, b = partners
    jti, _ = id_token_at_a(a, person("P0"))
    response = b.authorize(asserted_login_identity=assertion(a, b, jti))
    consent_page = b.http.get(response.headers["Location"])
    assert consent_page.status_code == 200
    assert "Service B" in consent_page.get_data(as_text=True)
    decided = b.http.post(response.headers["Location"], data={
        "decision": "allow", "csrf_token": csrf_from(consent_page.get_data(as_text=True))})
    back = b.http.get(decided.headers["Location"])
    assert "code" in callback_params(back)


# --- what is refused (and so ignored) --------------------------------------------------------
def test_a_client_not_approved_as_partner_cannot_assert(app, register, person, other_rp_key, refusals):
    a = register(name="Service A")
    b = register(name="Service B", redirect_uris=[B_CALLBACK], key=other_rp_key)  # no sso_partners
    b = dataclasses.replace(b, http=app.test_client())
    jti, _ = id_token_at_a(a, person("P0"))
    assert lands_on(b.authorize(asserted_login_identity=assertion(a, b, jti))) == "login"
    assert refusals == ["iss is not an SSO partner of this client"]


@pytest.mark.parametrize("forge, reason", [
    ("other key", "signature does not verify with the partner's key"),
    ("hmac", "alg must be one of RS512, RS256, PS256, ES256"),
    ("none alg", "alg must be one of RS512, RS256, PS256, ES256"),
    ("not a jwt", "not a compact JWS"),
])
def test_only_the_partners_own_signature_counts(partners, person, forge, reason, refusals):
    from cryptography.hazmat.primitives.asymmetric import rsa

    a, b = partners
    jti, _ = id_token_at_a(a, person("P0"))
    if forge == "other key":
        value = assertion(a, b, jti, key=private_jwk(rsa.generate_private_key(public_exponent=65537, key_size=2048)))
    elif forge == "hmac":
        value = assertion(a, b, jti, key=OctKey.import_key(b"x" * 32), alg="HS256")
    elif forge == "none alg":
        header = base64.urlsafe_b64encode(json.dumps({"alg": "none"}).encode()).rstrip(b"=").decode()
        value = header + "." + assertion(a, b, jti).split(".")[1] + "."
    else:
        value = "not-a-jwt"
    response = b.authorize(asserted_login_identity=value, prompt="none")
    assert callback_params(response)["error"] == "login_required"
    assert refusals == [reason]


@pytest.mark.parametrize("claims, reason", [
    ({"exp": None}, "iat and exp must be numbers"),
    ({"iat": None}, "iat and exp must be numbers"),
    ({"jti": None}, "jti must be a non-empty string"),
    ({"code": 42}, "code must be a non-empty string"),
    ({"exp_offset": 120}, "exp must be at most 60 seconds after iat and now"),
    ({"iat_offset": 600, "exp_offset": 630}, "exp must be at most 60 seconds after iat and now"),
    ({"exp_offset": -60}, "expired"),
    ({"aud": None}, "aud must name this provider and the receiving client"),
    ({"aud": "https://someone-else.example"}, "aud must name this provider and the receiving client"),
    ({"aud": ISSUER}, "aud must name this provider and the receiving client"),
    ({"aud": "B"}, "aud must name this provider and the receiving client"),
    ({"aud": [ISSUER, "A"]}, "aud must name this provider and the receiving client"),
    ({"aud": [ISSUER, "B", "https://evil.example"]}, "aud names someone other than this provider and the receiving client"),
    ({"aud": [ISSUER, "B", "A"]}, "aud names someone other than this provider and the receiving client"),
])
def test_assertion_claims_are_checked(partners, person, claims, reason, refusals):
    a, b = partners
    jti, _ = id_token_at_a(a, person("P0"))
    current = int(time.time())
    names = {"A": a.client_id, "B": b.client_id}
    body = {k: ([names.get(x, x) for x in v] if isinstance(v, list) else names.get(v, v) if isinstance(v, str) else v)
            for k, v in claims.items()}
    if "exp_offset" in body:
        body["exp"] = current + body.pop("exp_offset")
    if "iat_offset" in body:
        body["iat"] = current + body.pop("iat_offset")
    value = assertion(a, b, body.pop("code", jti), **body)
    if None in body.values():  # drop the claim altogether
        payload = {k: v for k, v in payload_of(value).items() if v is not None}
        value = jwt.encode({"alg": "RS512"}, payload, private_jwk(a.key), algorithms=["RS512"])
    response = b.authorize(asserted_login_identity=value, prompt="none")
    assert callback_params(response)["error"] == "login_required"
    assert refusals == [reason]


def test_the_issuer_may_be_named_with_a_trailing_slash(partners, person):
    a, b = partners
    jti, _ = id_token_at_a(a, person("P0"))
    response = b.authorize(asserted_login_identity=assertion(a, b, jti, aud=[b.client_id, ISSUER + "/"]))
    assert lands_on(response) == "consent"


def test_an_assertion_made_for_one_partner_logs_nobody_in_at_another(app, partners, register, person, refusals):
    """The probe: A's assertion for B, replayed at C (which also trusts A) from a browser with no session."""
    a, b = partners
    c = register(name="Service C", redirect_uris=["https://c.example/cb"], sso_partners=[a.client_id])
    c = dataclasses.replace(c, http=app.test_client())
    jti, _ = id_token_at_a(a, person("P9"))
    value = assertion(a, b, jti)

    response = c.authorize(asserted_login_identity=value, prompt="none", redirect_uri="https://c.example/cb")
    assert callback_params(response)["error"] == "login_required"
    assert refusals == ["aud must name this provider and the receiving client"]


def test_an_assertion_is_refused_once_the_person_logged_out_there(partners, person, refusals):
    a, b = partners
    id_token = a.tokens_for(person("P0"))["id_token"]
    value = assertion(a, b, a.verify_id_token(id_token)["jti"])
    assert a.http.get("/logout", query_string={"id_token_hint": id_token}).status_code == 200  # logged out

    response = b.authorize(asserted_login_identity=value, prompt="none")
    assert callback_params(response)["error"] == "login_required"
    assert refusals == ["code is not a live ID token issued to the partner"]  # logout revoked the session's grants


def test_an_assertion_is_refused_once_the_browser_session_behind_it_has_expired(app, partners, person, refusals):
    from idp.extensions import db
    from idp.models import BrowserSession

    a, b = partners
    jti, _ = id_token_at_a(a, person("P0"))
    with app.app_context():  # the ID token lives on (an hour), the session it came from has reached its end
        BrowserSession.query.update({"expires_at": int(time.time()) - 1})
        db.session.commit()
    response = b.authorize(asserted_login_identity=assertion(a, b, jti), prompt="none")
    assert callback_params(response)["error"] == "login_required"
    assert refusals == ["the browser session behind the ID token has ended"]


def test_consent_on_an_asserted_login_lasts_for_that_request_only(partners, person):
    a, b = partners
    email = person("P0")
    jti, _ = id_token_at_a(a, email)
    assert "code" in consent_and_return(b, b.authorize(asserted_login_identity=assertion(a, b, jti)))

    # Nothing remembered: the next asserted login asks again, and the person's account does not list B.
    again = b.authorize(asserted_login_identity=assertion(a, b, jti), prompt="none")
    assert callback_params(again)["error"] == "consent_required"
    account = a.http.get("/account").get_data(as_text=True)
    assert "Service A" in account and "Service B" not in account


def test_code_must_be_an_id_token_issued_to_the_partner(partners, register, person, refusals):
    a, b = partners
    email = person("P0")
    c = register(name="Service C")
    c_jti, _ = id_token_at_a(c, email)
    access_jti = payload_of(a.tokens_for(email)["access_token"])["jti"]
    for code in (c_jti, access_jti, str(uuid.uuid4())):
        response = b.authorize(asserted_login_identity=assertion(a, b, code), prompt="none")
        assert callback_params(response)["error"] == "login_required", code
    assert refusals == ["code is not a live ID token issued to the partner"] * 3




def test_an_expired_id_token_is_refused(partners, person, refusals):
    a, b = partners
    with freeze_time(datetime.now(timezone.utc)) as frozen:
        jti, _ = id_token_at_a(a, person("P0"))
        frozen.tick(3601)
        response = b.authorize(asserted_login_identity=assertion(a, b, jti), prompt="none")
    assert callback_params(response)["error"] == "login_required"
    assert refusals == ["code is not a live ID token issued to the partner"]


def test_an_id_token_from_a_revoked_grant_is_refused(app, partners, person, refusals):
    from idp.extensions import db
    from idp.models import IssuedToken
    from idp.protocol.grants import revoke_grant

    a, b = partners
    jti, _ = id_token_at_a(a, person("P0"))
    with app.app_context():
        revoke_grant(db.session.get(IssuedToken, jti).grant_id, "test")
    response = b.authorize(asserted_login_identity=assertion(a, b, jti), prompt="none")
    assert callback_params(response)["error"] == "login_required"
    assert refusals == ["code is not a live ID token issued to the partner"]


# --- the asserted login meets B's request like any login ----------------------------------------
def test_the_asserted_vot_must_satisfy_bs_vtr(partners, person):
    a, b = partners
    jti, _ = id_token_at_a(a, person("P9"))  # a password login: Cp only
    response = b.authorize(asserted_login_identity=assertion(a, b, jti), vtr='["P9.Cp.Cd"]')
    # Not this browser's own login, so no step-up on top of it: the person logs in afresh here.
    assert "code" not in callback_params(response)
    assert urlsplit(response.headers["Location"]).path == "/login"


def test_prompt_login_still_asks_for_the_password(partners, person):
    a, b = partners
    email = person("P0")
    jti, _ = id_token_at_a(a, email)
    response = b.authorize(asserted_login_identity=assertion(a, b, jti), prompt="login")
    assert lands_on(response) == "login"
    result = callback_params(follow_to_rp(b.http, response, email=email, redirect_uri=B_CALLBACK))
    assert "code" in result


def test_max_age_is_measured_from_the_partner_login(partners, person):
    a, b = partners
    with freeze_time(datetime.now(timezone.utc)) as frozen:
        jti, _ = id_token_at_a(a, person("P0"))
        frozen.tick(120)
        response = b.authorize(asserted_login_identity=assertion(a, b, jti), max_age="60", prompt="none")
    assert callback_params(response)["error"] == "login_required"


def test_sso_partners_are_registered_from_the_cli(app, tmp_path, rp_key):
    from support import public_pem

    pem = tmp_path / "key.pem"
    pem.write_text(public_pem(rp_key))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["clients", "add", "--name", "B", "--redirect-uri", B_CALLBACK, "--public-key",
                                 str(pem), "--sso-partner", "client-a", "--sso-partner", "client-c"])
    assert result.exit_code == 0, result.output
    client = json.loads(result.output)
    assert client["sso_partners"] == ["client-a", "client-c"]
    result = runner.invoke(args=["clients", "update", client["client_id"], "--name", "B2"])
    assert json.loads(result.output)["sso_partners"] == ["client-a", "client-c"]  # kept by an update
