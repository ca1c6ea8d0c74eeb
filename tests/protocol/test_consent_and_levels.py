"""Vectors of trust, claims by proofing level, consent, CSRF and the login page
(interface.md "Levels", "Scopes and claims"; OIDC Core 3.1.2; RFC 6749 10.12).
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

from freezegun import freeze_time
from joserfc import jwt

from joserfc.jwk import KeySet
from joserfc.jws import extract_compact

from support import ISSUER, PASSWORD, callback_params, csrf_from, follow_to_rp


GENERIC_FAILURE = "Enter a correct email address and password"
TOO_MANY = "too many times"


# --- helpers -----------------------------------------------------------------------------------
def assert_error_redirect(response, rp, error, state):
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert response.headers["Location"].startswith(rp.redirect_uri + "?")
    params = callback_params(response)
    assert params.get("error") == error, params
    assert "code" not in params
    assert params.get("state") == state
    assert params.get("iss") == ISSUER
    return params


def location_path(response) -> str:
    assert response.status_code == 302, response.status_code
    return urlsplit(response.headers["Location"]).path


def code_directly(response, rp) -> str:
    """The authorization response went straight back to the client with a code: no page on the way."""
    assert response.status_code == 302
    assert response.headers["Location"].startswith(rp.redirect_uri + "?"), response.headers["Location"]
    params = callback_params(response)
    assert "code" in params, params
    return params["code"]


def access_token_claims(http, token: str) -> dict:
    jwks = KeySet.import_key_set(http.get("/.well-known/jwks.json").get_json())
    alg = extract_compact(token.encode()).headers()["alg"]
    return jwt.decode(token, jwks, algorithms=[alg]).claims


def login_page(http, email=None, password=None, path="/login"):
    page = http.get(path)
    assert page.status_code == 200
    data = {"csrf_token": csrf_from(page.get_data(as_text=True))}
    if email is not None:
        data["email"] = email
    if password is not None:
        data["password"] = password
    return http.post(path, data=data)


def error_summary(html: str) -> str:
    """The visible error text of the login page, without the per-request parts (csrf token, email, nonce)."""
    html = re.sub(r'name="csrf_token" value="[^"]*"', "", html)
    html = re.sub(r'nonce[-=]"?[A-Za-z0-9_\-]+', "", html)
    html = re.sub(r'value="[^"]*@[^"]*"', "", html)
    return html


def consent_page(http, rp, email, **params):
    """Authorize, log in if asked, and stop at the consent page; returns (page, path)."""
    response = rp.authorize(**params)
    for _ in range(5):
        path = location_path(response)
        if path == "/consent":
            location = response.headers["Location"]
            return http.get(location), location
        if path == "/login":
            page = http.get(response.headers["Location"])
            response = http.post(response.headers["Location"], data={
                "email": email, "password": PASSWORD, "csrf_token": csrf_from(page.get_data(as_text=True))})
            continue
        response = http.get(response.headers["Location"])
    raise AssertionError(f"no consent page: {response.headers.get('Location')}")


def frozen_now():
    return freeze_time(datetime.now(timezone.utc).replace(microsecond=0))


# --- vectors of trust -------------------------------------------------------------------------------
def test_p9_person_gets_the_p9_vector_and_level(rp, client, person):
    email = person("P9")
    tokens = rp.tokens_for(email, scope="openid profile", vtr='["P9.Cp"]')
    claims = rp.verify_id_token(tokens["id_token"])
    assert claims["vot"] == "P9.Cp"
    assert claims["vtm"] == f"{ISSUER}/trustmark"
    assert claims["identity_proofing_level"] == "P9"
    assert claims["nhs_number"] == "9990000018"
    access = access_token_claims(client, tokens["access_token"])
    assert access["vot"] == "P9.Cp"
    assert access["vtm"] == f"{ISSUER}/trustmark"


def test_p0_person_asking_p9_is_sent_to_prove_who_they_are_and_stopping_is_access_denied(rp, client, person):
    email = person("P0")
    page = follow_to_rp(rp.http, rp.authorize(vtr='["P9.Cp"]', state="v1"), email=email, redirect_uri=rp.redirect_uri)
    assert page.status_code == 200 and "Prove who you are" in page.get_data(as_text=True)
    stop = re.search(r'href="(/prove-who-you-are/stop\?interaction=[^"]+)"', page.get_data(as_text=True)).group(1)
    confirm = rp.http.get(stop)
    response = rp.http.post(stop, data={"csrf_token": csrf_from(confirm.get_data(as_text=True))})
    result = callback_params(follow_to_rp(rp.http, response, redirect_uri=rp.redirect_uri))
    assert result.get("error") == "access_denied", result
    assert "code" not in result
    assert result["state"] == "v1"
    assert result["iss"] == ISSUER


def test_proofing_level_can_be_above_the_vot(rp, client, person):
    email = person("P5")
    tokens = rp.tokens_for(email, scope="openid profile", vtr='["P0.Cp", "P9.Cp"]')
    claims = rp.verify_id_token(tokens["id_token"])
    assert claims["vot"] == "P0.Cp"
    assert claims["identity_proofing_level"] == "P5"


def test_second_factor_vector_is_met_only_with_the_security_code(rp, client, person):
    email = person("P9")
    stopped = follow_to_rp(client, rp.authorize(vtr='["P9.Cp.Cd"]', state="v2"), email=email, second=False)
    assert "Enter the security code" in stopped.get_data(as_text=True)  # the password alone does not finish
    tokens = rp.tokens_for(email, vtr='["P9.Cp.Cd"]', state="v2")
    assert rp.verify_id_token(tokens["id_token"])["vot"] == "P9.Cp.Cd"


def test_strongest_satisfied_vector_is_chosen(rp, client, person):
    email = person("P9")
    tokens = rp.tokens_for(email, vtr='["P0.Cp", "P9.Cp.Cd", "P9.Cp", "P5.Cp"]')
    assert rp.verify_id_token(tokens["id_token"])["vot"] == "P9.Cp"


def test_absent_vtr_means_the_clients_registered_vectors(register, client, person):
    rp = register(vtr=["P5.Cp"])
    high = person("P9")
    tokens = rp.tokens_for(high)
    assert rp.verify_id_token(tokens["id_token"])["vot"] == "P5.Cp"


def test_absent_vtr_uses_registered_vectors_to_take_too_low_a_person_to_prove_who_they_are(register, client, person):
    rp = register(vtr=["P5.Cp"])
    low = person("P0")
    page = follow_to_rp(rp.http, rp.authorize(state="v3"), email=low, redirect_uri=rp.redirect_uri)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Prove who you are" in text
    assert "one more way" not in text  # P5 is all that is asked: no high-level step is announced


def test_acr_values_map_onto_vectors_and_the_id_token_carries_acr(rp, client, person):
    email = person("P9")
    tokens = rp.tokens_for(email, acr_values="P9.Cp")
    claims = rp.verify_id_token(tokens["id_token"])
    assert claims["vot"] == "P9.Cp"
    assert claims["acr"] == "P9.Cp"


def test_acr_values_limit_the_vectors(rp, client, person):
    email = person("P5")
    page = follow_to_rp(rp.http, rp.authorize(acr_values="P9.Cp", state="v4"), email=email, redirect_uri=rp.redirect_uri)
    # P5 satisfies the client's other vectors, but acr_values asked for P9 only: no code, a P9 step instead.
    assert page.status_code == 200 and "Choose how to prove who you are" in page.get_data(as_text=True)


def test_no_acr_claim_unless_asked(rp, client, person):
    email = person("P9")
    tokens = rp.tokens_for(email, vtr='["P9.Cp"]')
    assert "acr" not in rp.verify_id_token(tokens["id_token"])


def test_p0_person_with_profile_gets_no_demographics_and_no_nulls(rp, client, person):
    email = person("P0")
    tokens = rp.tokens_for(email, scope="openid profile email", vtr='["P0.Cp"]')
    claims = rp.verify_id_token(tokens["id_token"])
    for name in ("nhs_number", "family_name", "birthdate", "given_name"):
        assert name not in claims
    assert None not in claims.values()
    assert claims["email"] == email
    assert claims["vot"] == "P0.Cp"
    userinfo = client.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert userinfo.status_code == 200
    body = userinfo.get_json()
    for name in ("nhs_number", "family_name", "birthdate", "given_name"):
        assert name not in body
    assert None not in body.values()


# --- consent ----------------------------------------------------------------------------------------
def test_first_login_shows_the_consent_page_listing_what_is_shared(rp, client, person):
    email = person("P9")
    page, _ = consent_page(client, rp, email, scope="openid profile email", vtr='["P9.Cp"]')
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Share your information with Test service?" in html
    assert "Your NHS number" in html
    assert "Your email address" in html
    assert "Your date of birth" in html
    assert "Your mobile phone number" not in html  # phone was not asked


def test_do_not_share_returns_access_denied(rp, client, person):
    email = person("P0")
    response = rp.authorize(scope="openid email", state="c1")
    response = follow_to_rp(client, response, email=email, consent=False, redirect_uri=rp.redirect_uri)
    assert_error_redirect(response, rp, "access_denied", "c1")
    # Refusing is not remembered as consent: the next request asks again.
    again = rp.authorize(scope="openid email")
    assert location_path(again) == "/consent"


def test_share_returns_a_code_and_the_next_request_skips_consent(rp, client, person):
    email = person("P0")
    response = rp.authorize(scope="openid email", state="c2")
    response = follow_to_rp(client, response, email=email, consent=True, redirect_uri=rp.redirect_uri)
    params = callback_params(response)
    assert "code" in params and params["state"] == "c2"
    assert rp.token(params["code"]).status_code == 200
    code = code_directly(rp.authorize(scope="openid email", state="c3"), rp)
    assert rp.token(code).status_code == 200


def test_a_new_scope_asks_again(rp, client, person):
    email = person("P0")
    assert "code" in rp.login_flow(email, scope="openid email")
    response = rp.authorize(scope="openid email phone")
    assert location_path(response) == "/consent"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your mobile phone number" in html


def test_prompt_consent_always_asks(rp, client, person):
    email = person("P0")
    assert "code" in rp.login_flow(email, scope="openid email")
    response = rp.authorize(scope="openid email", prompt="consent", state="c4")
    assert location_path(response) == "/consent"
    response = follow_to_rp(client, response, email=email, consent=True, redirect_uri=rp.redirect_uri)
    assert "code" in callback_params(response)


def test_withdrawing_consent_on_the_account_page_makes_the_next_login_ask_again(rp, client, person):
    email = person("P0")
    assert "code" in rp.login_flow(email, scope="openid email")
    account = client.get("/account")
    assert account.status_code == 200
    html = account.get_data(as_text=True)
    assert "Test service" in html
    response = client.post("/account/consents/withdraw",
                           data={"client_id": rp.client_id, "csrf_token": csrf_from(html)})
    assert response.status_code == 302
    assert "Test service" not in client.get("/account").get_data(as_text=True)
    assert location_path(rp.authorize(scope="openid email")) == "/consent"


def test_withdrawing_consent_needs_the_csrf_token(rp, client, person):
    email = person("P0")
    assert "code" in rp.login_flow(email, scope="openid email")
    response = client.post("/account/consents/withdraw", data={"client_id": rp.client_id})
    assert response.status_code == 400
    code_directly(rp.authorize(scope="openid email"), rp)  # consent still remembered


# --- CSRF -------------------------------------------------------------------------------------------
def test_login_post_without_csrf_token_is_refused(rp, client, person):
    email = person("P0")
    response = rp.authorize()
    login_url = response.headers["Location"]
    client.get(login_url)
    posted = client.post(login_url, data={"email": email, "password": PASSWORD})
    assert posted.status_code == 400
    assert "Location" not in posted.headers
    assert "Your page has expired" in posted.get_data(as_text=True)
    # No login happened: the account page sends the browser to log in.
    assert location_path(client.get("/account")) == "/login"
    assert callback_params(rp.authorize(prompt="none", state="x")).get("error") == "login_required"


def test_login_post_with_a_wrong_csrf_token_is_refused(client, person):
    email = person("P0")
    client.get("/login")
    posted = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": "forged"})
    assert posted.status_code == 400
    assert location_path(client.get("/account")) == "/login"


def test_consent_post_without_csrf_token_is_refused(rp, client, person):
    email = person("P0")
    page, consent_url = consent_page(client, rp, email, scope="openid email", state="c5")
    posted = client.post(consent_url, data={"decision": "allow"})
    assert posted.status_code == 400
    assert "Location" not in posted.headers
    # Nothing was agreed: the parked request goes back to the consent page, a new one still needs consent.
    interaction = parse_qs(urlsplit(consent_url).query)["interaction"][0]
    assert location_path(client.get(f"/authorize/resume/{interaction}")) == "/consent"
    response = rp.authorize(scope="openid email", prompt="none", state="c6")
    assert_error_redirect(response, rp, "consent_required", "c6")


# --- the login page ---------------------------------------------------------------------------------
def test_wrong_password_and_unknown_email_read_the_same(client, person):
    email = person("P0")
    wrong_password = login_page(client, email, "not the password")
    unknown_email = login_page(client, "nobody-here@example.com", "not the password")
    assert wrong_password.status_code == unknown_email.status_code == 400
    a, b = wrong_password.get_data(as_text=True), unknown_email.get_data(as_text=True)
    assert GENERIC_FAILURE in a and GENERIC_FAILURE in b
    assert error_summary(a) == error_summary(b)


def test_account_locks_after_five_wrong_passwords_and_unlocks_after_15_minutes(client, person):
    email = person("P0")
    with frozen_now() as frozen:
        for _ in range(5):
            response = login_page(client, email, "not the password")
            assert response.status_code == 400
            html = response.get_data(as_text=True)
            assert GENERIC_FAILURE in html and TOO_MANY not in html  # not locked before the fifth failure
        locked = login_page(client, email, PASSWORD)
        assert locked.status_code == 400
        assert TOO_MANY in locked.get_data(as_text=True)
        assert location_path(client.get("/account")) == "/login"
        frozen.tick(timedelta(minutes=14))
        still_locked = login_page(client, email, PASSWORD)
        assert TOO_MANY in still_locked.get_data(as_text=True)
        frozen.tick(timedelta(minutes=1, seconds=1))
        unlocked = login_page(client, email, PASSWORD)
        assert unlocked.status_code == 302, unlocked.get_data(as_text=True)[:300]
        follow_to_rp(client, unlocked, email=email)  # the security code: a login for the account pages is complete
        assert client.get("/account").status_code == 200

