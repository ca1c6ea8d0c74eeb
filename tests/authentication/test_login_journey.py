"""Logging in with every component and stepping up inside one authorization request, driven over HTTP as a
browser would: the pages a person sees, the codes they are sent, and what the relying party gets back."""
from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

import pyotp
import pytest
from freezegun import freeze_time
from soft_authenticator import SoftAuthenticator
from support import ISSUER, PASSWORD, callback_params, csrf_from, follow_to_rp, last_code, log_in, outbox, phone_of

ALL_VECTORS = ["P0.Cp", "P0.Cp.Cd", "P0.Cp.Ck", "P0.Cm", "P9.Cp", "P9.Cp.Cd"]


@pytest.fixture
def rp(register):
    return register(vtr=ALL_VECTORS)


def path_of(response) -> str:
    return urlsplit(response.headers["Location"]).path


def go(http, response):
    """Follow one redirect inside the provider; returns the page."""
    location = response.headers["Location"]
    return http.get(location[len(ISSUER):] if location.startswith(ISSUER) else location)


def submit(http, page, **form):
    """Post the page's first form (its action) with ``form`` and the page's CSRF token."""
    text = page.get_data(as_text=True)
    action = html.unescape(re.search(r'<form method="post" action="([^"]+)"', text).group(1))
    return http.post(action, data={**form, "csrf_token": csrf_from(text)})


def authorize(http, rp, **params):
    """The relying party sends this browser to /authorize."""
    return http.get("/authorize?" + urlencode(rp.authorize_params(**params)))


def password_step(http, rp, email, **params):
    """Authorize and enter the password; returns the response after the password."""
    login = go(http, authorize(http, rp, **params))
    assert urlsplit(login.request.url).path == "/login", login.request.url
    return submit(http, login, email=email, password=PASSWORD)


def finish(http, rp, response) -> dict:
    """Consent if asked, and return the parameters the relying party receives."""
    return callback_params(follow_to_rp(http, response, consent=True, redirect_uri=rp.redirect_uri))


def id_token(rp, result) -> dict:
    assert "code" in result, result
    tokens = rp.token(result["code"])
    assert tokens.status_code == 200, tokens.get_json()
    return rp.verify_id_token(tokens.get_json()["id_token"])


def enrol_app(app, email) -> str:
    from idp.people import add_authenticator_app

    with app.app_context():
        return add_authenticator_app(app.extensions["idp"].settings, email)[1].secret


# --- Cp then Cd -----------------------------------------------------------------------------------
def test_a_security_code_vector_asks_for_the_code_after_the_password(client, rp, person, app):
    email = person("P0")
    after_password = password_step(client, rp, email, vtr='["P0.Cp.Cd"]')
    assert path_of(after_password) == "/login/security-code"
    page = go(client, after_password)
    text = page.get_data(as_text=True)
    assert "Enter the security code" in text and phone_of(app, email)[-3:] in text
    assert 'autocomplete="one-time-code"' in text and 'inputmode="numeric"' in text
    [sent] = [m for m in outbox(app, phone_of(app, email)) if m.template == "login_code"]
    assert sent.channel == "sms"

    wrong = submit(client, page, code="000000" if last_code(app, phone_of(app, email)) != "000000" else "111111")
    assert wrong.status_code == 400 and "not correct" in wrong.get_data(as_text=True)
    done = submit(client, page, code=last_code(app, phone_of(app, email)))
    claims = id_token(rp, finish(client, rp, done))
    assert claims["vot"] == "P0.Cp.Cd"


def test_a_password_vector_does_not_send_a_code(client, rp, person, app):
    email = person("P0")
    after_password = password_step(client, rp, email, vtr='["P0.Cp"]')
    assert id_token(rp, finish(client, rp, after_password))["vot"] == "P0.Cp"
    assert not [m for m in outbox(app, phone_of(app, email)) if m.template == "login_code"]


def test_a_used_code_cannot_log_in_again(client, rp, person, app):
    email = person("P0")
    page = go(client, password_step(client, rp, email, vtr='["P0.Cp.Cd"]'))
    code = last_code(app, phone_of(app, email))
    assert submit(client, page, code=code).status_code == 302
    other = app.test_client()
    page = go(other, password_step(other, rp, email, vtr='["P0.Cp.Cd"]'))
    assert submit(other, page, code=code).status_code == 400  # a new journey has its own code


def test_a_code_expires_after_five_minutes(client, rp, person, app):
    email = person("P0")
    with freeze_time() as frozen:
        page = go(client, password_step(client, rp, email, vtr='["P0.Cp.Cd"]'))
        code = last_code(app, phone_of(app, email))
        frozen.tick(timedelta(minutes=5, seconds=1))
        assert submit(client, page, code=code).status_code == 400


def test_wrong_codes_lock_the_journey_and_a_new_code_does_not_reset_the_count(client, rp, person, app):
    email = person("P0")
    page = go(client, password_step(client, rp, email, vtr='["P0.Cp.Cd"]'))
    code = last_code(app, phone_of(app, email))
    wrong = "%06d" % ((int(code) + 1) % 10**6)
    for _ in range(3):
        submit(client, page, code=wrong)
    resend_form = page.get_data(as_text=True).split("Not received a code?")[0]
    action = html.unescape(re.findall(r'<form method="post" action="([^"]+)"', resend_form)[-1])
    assert client.post(action, data={"csrf_token": csrf_from(page.get_data(as_text=True))}).status_code == 302
    fresh = last_code(app, phone_of(app, email))
    submit(client, page, code=wrong)
    locked = submit(client, page, code=wrong)
    assert "Wait 15 minutes" in locked.get_data(as_text=True)
    assert "Wait 15 minutes" in submit(client, page, code=fresh).get_data(as_text=True)


# --- remembered device ----------------------------------------------------------------------------
def test_a_remembered_browser_stands_for_the_code_with_the_password_only(client, rp, person, app):
    email = person("P0")
    page = go(client, password_step(client, rp, email, vtr='["P0.Cp.Cd"]'))
    done = submit(client, page, code=last_code(app, phone_of(app, email)), remember="yes")
    cookie = done.headers.getlist("Set-Cookie")
    assert any(c.startswith("idp_device=") and "HttpOnly" in c for c in cookie), cookie
    first = id_token(rp, finish(client, rp, done))
    sent = len(outbox(app, phone_of(app, email)))

    confirm = client.get("/logout")  # log out; a new login in the same browser: the password, and no code
    client.post("/logout", data={"confirm": "yes", "csrf_token": csrf_from(confirm.get_data(as_text=True))})
    with freeze_time(timedelta(minutes=2), tick=True):
        after_password = password_step(client, rp, email, vtr='["P0.Cp.Cd"]')
        claims = id_token(rp, finish(client, rp, after_password))
    assert claims["vot"] == "P0.Cp.Cd" and claims["auth_time"] > first["auth_time"]
    assert len(outbox(app, phone_of(app, email))) == sent  # no code was sent

    # Another browser with the device cookie but without the password gets nothing from it.
    stranger = app.test_client()
    stranger.set_cookie("idp_device", re.search(r"idp_device=([^;]+)", " ".join(cookie)).group(1))
    login = go(stranger, authorize(stranger, rp, vtr='["P0.Cp.Cd"]'))
    assert urlsplit(login.request.url).path == "/login"


def test_a_remembered_device_is_forgotten_after_six_months_unused(client, rp, person, app):
    email = person("P0")
    with freeze_time() as frozen:
        page = go(client, password_step(client, rp, email, vtr='["P0.Cp.Cd"]'))
        submit(client, page, code=last_code(app, phone_of(app, email)), remember="yes")
        frozen.tick(timedelta(days=184))
        other = app.test_client()
        other.set_cookie("idp_device", client.get_cookie("idp_device").value)
        assert path_of(password_step(other, rp, email, vtr='["P0.Cp.Cd"]')) == "/login/security-code"


# --- step-up inside the request -------------------------------------------------------------------
def test_step_up_from_password_to_security_code_keeps_the_sid_and_renews_the_cookie(client, rp, person, app):
    email = person("P0")
    first = id_token(rp, finish(client, rp, password_step(client, rp, email, vtr='["P0.Cp"]')))
    before = client.get_cookie("idp_session").value
    response = rp.authorize(vtr='["P0.Cp.Cd"]')
    page = go(client, response)
    page = go(client, page) if page.status_code == 302 else page
    assert "Enter the security code" in page.get_data(as_text=True)  # no password asked again
    done = submit(client, page, code=last_code(app, phone_of(app, email)))
    claims = id_token(rp, finish(client, rp, done))
    assert claims["vot"] == "P0.Cp.Cd" and claims["sid"] == first["sid"]
    assert claims["auth_time"] >= first["auth_time"]
    assert client.get_cookie("idp_session").value != before


def test_prompt_none_never_shows_a_step_up_page(client, rp, person):
    email = person("P0")
    id_token(rp, finish(client, rp, password_step(client, rp, email, vtr='["P0.Cp"]')))
    result = callback_params(rp.authorize(vtr='["P0.Cp.Cd"]', prompt="none"))
    assert result["error"] == "interaction_required"


def test_authenticator_app_login_and_replay(client, rp, person, app):
    email = person("P0")
    key = enrol_app(app, email)
    page = go(client, password_step(client, rp, email, vtr='["P0.Cp.Ck"]'))
    assert "authenticator app" in page.get_data(as_text=True)
    totp = pyotp.TOTP(key)
    with freeze_time(timedelta(seconds=60), tick=True):
        code = totp.now()
        done = submit(client, page, code=code)
        assert id_token(rp, finish(client, rp, done))["vot"] == "P0.Cp.Ck"
        other = app.test_client()
        page = go(other, password_step(other, rp, email, vtr='["P0.Cp.Ck"]'))
        assert submit(other, page, code=code).status_code == 400  # never accepted twice


def passkey_options(page) -> str:
    return html.unescape(re.search(r'data-options="([^"]+)"', page.get_data(as_text=True)).group(1))


def test_step_up_to_a_passkey_sets_one_up_after_the_full_login_and_then_logs_in_with_it(client, rp, person, app):
    email = person("P0")
    id_token(rp, finish(client, rp, password_step(client, rp, email, vtr='["P0.Cp"]')))
    page = go(client, authorize(client, rp, vtr='["P0.Cm"]'))
    page = go(client, page) if page.status_code == 302 else page
    # A password alone must not add a passkey: the phone code first.
    assert "Enter the security code" in page.get_data(as_text=True)
    set_up = go(client, submit(client, page, code=last_code(app, phone_of(app, email))))
    assert "Add a passkey" in set_up.get_data(as_text=True)
    authenticator = SoftAuthenticator()
    credential = authenticator.create(passkey_options(set_up), ISSUER)
    done = submit(client, set_up, credential=credential, name="Test phone")
    assert id_token(rp, finish(client, rp, done))["vot"] == "P0.Cm"

    fresh = app.test_client()  # a new browser: the passkey alone
    login = go(fresh, authorize(fresh, rp, vtr='["P0.Cm"]'))
    passkey_link = html.unescape(re.search(r'href="([^"]*/login/passkey[^"]*)"', login.get_data(as_text=True)).group(1))
    page = fresh.get(passkey_link)
    done = submit(fresh, page, credential=authenticator.get(passkey_options(page), ISSUER))
    assert id_token(rp, finish(fresh, rp, done))["vot"] == "P0.Cm"


def test_a_passkey_without_user_verification_is_refused_on_the_page(client, rp, person, app):
    email = person("P0")
    page = go(client, password_step(client, rp, email, vtr='["P0.Cp.Cd", "P0.Cm"]'))
    authenticator = SoftAuthenticator()
    from idp.authentication.factors import passkey
    from idp.models import Person

    with app.test_request_context():
        owner = Person.query.filter_by(email=email).one()
        options, challenge = passkey.registration_options(owner, app.extensions["idp"].settings)
        passkey.register_passkey(owner, authenticator.create(options, ISSUER), challenge, app.extensions["idp"].settings)
    fresh = app.test_client()
    login = go(fresh, authorize(fresh, rp, vtr='["P0.Cm"]'))
    link = html.unescape(re.search(r'href="([^"]*/login/passkey[^"]*)"', login.get_data(as_text=True)).group(1))
    page = fresh.get(link)
    refused = submit(fresh, page, credential=authenticator.get(passkey_options(page), ISSUER, user_verified=False))
    assert refused.status_code == 400 and "did not check it was you" in refused.get_data(as_text=True)
    replay_page = fresh.get(link)
    good = authenticator.get(passkey_options(replay_page), ISSUER)
    assert submit(fresh, replay_page, credential=good).status_code == 302

    # The same assertion replayed in another browser's journey: its challenge is not that journey's.
    other = app.test_client()
    login = go(other, authorize(other, rp, vtr='["P0.Cm"]'))
    other_link = html.unescape(re.search(r'href="([^"]*/login/passkey[^"]*)"', login.get_data(as_text=True)).group(1))
    replayed = submit(other, other.get(other_link), credential=good)
    assert replayed.status_code == 400 and "could not check your passkey" in replayed.get_data(as_text=True)


def test_a_person_who_cannot_give_the_component_can_leave_and_the_service_gets_access_denied(client, rp, app):
    from idp.people import add_test_person

    with app.app_context():
        add_test_person(app.extensions["idp"].settings, email="nophone@example.com", password=PASSWORD)
    after_password = password_step(client, rp, "nophone@example.com", vtr='["P0.Cp.Cd"]')
    assert path_of(after_password) == "/login/cannot-continue"
    page = go(client, after_password)
    assert "You cannot continue to Test service" in page.get_data(as_text=True)
    result = finish(client, rp, submit(client, page))
    assert result["error"] == "access_denied"


def test_leaving_from_the_code_page_sends_access_denied(client, rp, person):
    email = person("P0")
    page = go(client, password_step(client, rp, email, vtr='["P0.Cp.Cd"]'))
    leave = html.unescape(re.search(r'href="([^"]*/login/cannot-continue[^"]*)"', page.get_data(as_text=True)).group(1))
    confirm = client.get(leave)
    assert "Do you want to stop logging in?" in confirm.get_data(as_text=True)
    assert finish(client, rp, submit(client, confirm))["error"] == "access_denied"


def test_a_code_page_opened_out_of_turn_goes_where_the_journey_is(client, rp, person):
    login = go(client, authorize(client, rp, vtr='["P0.Cp.Cd"]'))
    interaction = re.search(r"interaction=([\w-]+)", login.request.url).group(1)
    response = client.get(f"/login/security-code?interaction={interaction}")
    assert response.status_code == 302 and path_of(response) == "/login"  # no code without the password


# --- pages around the login -----------------------------------------------------------------------
def test_an_open_login_page_for_someone_logged_in_says_so(client, person):
    log_in(client, person("P0"))
    page = client.get("/login")
    assert page.status_code == 200 and "You are already logged in" in page.get_data(as_text=True)


def test_the_lockout_text_follows_the_configured_lockout(sqlite_copy, tmp_path, person):
    from support import make_app

    app = make_app(sqlite_copy(), str(tmp_path), IDP_LOGIN_LOCKOUT_SECONDS="300")
    http = app.test_client()
    for _ in range(6):
        page = http.get("/login")
        response = http.post("/login", data={"email": "who@example.com", "password": "wrong password",
                                             "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert "Wait 5 minutes" in response.get_data(as_text=True)
