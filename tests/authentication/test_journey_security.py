"""Attacks on the login journey, registration, reset and settings, driven over HTTP as an attacker's browser
would: each test asserts what the attacker sees (and that the relying party never gets a code they did not earn)."""
from __future__ import annotations

import re

import pytest
from support import PASSWORD, callback_params, csrf_from, follow_to_rp, last_code, log_in, phone_of
from test_login_journey import authorize, finish, go, id_token, path_of, submit


@pytest.fixture
def rp(register):
    return register(vtr=["P0.Cp", "P0.Cp.Cd", "P0.Cp.Ck", "P0.Cm"])


def interaction_of(response_or_url) -> str:
    url = response_or_url if isinstance(response_or_url, str) else (
        response_or_url.headers.get("Location") or response_or_url.request.url)
    return re.search(r"interaction=([\w-]+)", url).group(1)


# --- a security code sent to one person's phone never proves another's ------------------------------
def test_a_code_sent_to_my_phone_does_not_finish_a_login_as_someone_else(client, rp, person, app):
    attacker, victim = person("P0"), person("P0")
    login = go(client, authorize(client, rp, vtr='["P0.Cp.Cd"]'))
    interaction = interaction_of(login)
    token = csrf_from(login.get_data(as_text=True))
    # The attacker logs in as themselves and receives a code on their own phone...
    code_page = go(client, submit(client, login, email=attacker, password=PASSWORD))
    assert "Enter the security code" in code_page.get_data(as_text=True)
    my_code = last_code(app, phone_of(app, attacker))
    # ...then, in the same journey, enters the victim's (known) password, and posts their own code at once.
    after = client.post(f"/login?interaction={interaction}", data={"email": victim, "password": PASSWORD,
                                                                   "csrf_token": token})
    assert path_of(after) == "/login/security-code"
    stolen = client.post(f"/login/security-code?interaction={interaction}", data={"code": my_code, "csrf_token": token})
    assert stolen.status_code == 400 and "not correct" in stolen.get_data(as_text=True)
    result = finish(client, rp, stolen)
    assert "code" not in result


def _reset_to_second_factor(http, app, email, login_page=None):
    """A forgotten-password journey up to the phone code (the attacker reads the victim's email)."""
    page = http.get("/forgotten-password")
    page = go(http, page) if page.status_code == 302 else page
    code_page = go(http, submit(http, page, email=email))
    return submit(http, code_page, code=last_code(app, email))


def test_a_reset_cannot_use_a_phone_code_sent_to_another_account(client, person, app):
    """Someone who can read the victim's email (not their phone) must not reset the password with the code of
    their own phone, even when the victim's phone has had all the codes it may get this hour."""
    attacker, victim = person("P0"), person("P0")
    after = _reset_to_second_factor(client, app, attacker)
    interaction = interaction_of(after)
    code_page = go(client, after)
    assert "Enter the security code" in code_page.get_data(as_text=True)
    my_code = last_code(app, phone_of(app, attacker))
    # The victim's phone reaches its hourly cap: they log in once, and each reset sends it a code.
    log_in(app.test_client(), victim)
    for _ in range(4):
        other = app.test_client()
        go(other, _reset_to_second_factor(other, app, victim))
    start = client.get(f"/forgotten-password?interaction={interaction}")
    email_code = go(client, submit(client, start, email=victim))
    to_phone = submit(client, email_code, code=last_code(app, victim))
    assert path_of(to_phone) == "/forgotten-password/security-code"
    token = csrf_from(start.get_data(as_text=True))
    answer = client.post(f"/forgotten-password/security-code?interaction={interaction}",
                         data={"code": my_code, "csrf_token": token})
    assert answer.status_code in (400, 429), answer.headers.get("Location")
    assert client.get(f"/forgotten-password/new-password?interaction={interaction}").status_code == 302



# --- throttling -------------------------------------------------------------------------------------
def test_the_phone_is_refused_after_100_wrong_codes_in_a_row_counting_each_journeys_last_guess(app, rp, person):
    """NIST SP 800-63B 3.2.2: at most 100 consecutive failed attempts. An attacker who knows the password
    starts journey after journey (from new addresses, five guesses each); the fifth guess of each journey
    is as much a failed attempt as the four before it."""
    from datetime import timedelta

    from freezegun import freeze_time

    email = person("P0")
    with freeze_time() as frozen:
        for n in range(20):
            http = app.test_client()
            http.environ_base["REMOTE_ADDR"] = f"198.51.100.{n + 1}"
            page = go(http, authorize(http, rp, vtr='["P0.Cp.Cd"]'))
            code_page = submit(http, page, email=email, password=PASSWORD)
            interaction, token = interaction_of(code_page), csrf_from(page.get_data(as_text=True))
            for _ in range(5):
                http.post(f"/login/security-code?interaction={interaction}", data={"code": "000000", "csrf_token": token})
        frozen.tick(timedelta(hours=2))  # the hourly cap on codes and every short lockout are over
        http = app.test_client()
        http.environ_base["REMOTE_ADDR"] = "203.0.113.9"
        page = go(http, authorize(http, rp, vtr='["P0.Cp.Cd"]'))
        code_page = go(http, submit(http, page, email=email, password=PASSWORD))
        right = submit(http, code_page, code=last_code(app, phone_of(app, email)))
        assert right.status_code != 302 and "too many times" in right.get_data(as_text=True)


# --- a login asked for inside a step-up starts from nothing -------------------------------------------
def test_max_age_reached_during_a_step_up_asks_for_the_password_again(client, rp, person, app):
    """The step-up started from the browser's login; when max_age runs out meanwhile the request needs a login,
    and "a login starts from nothing": the old password must not count as proven in it."""
    from datetime import timedelta

    from freezegun import freeze_time

    email = person("P0")
    with freeze_time() as frozen:
        id_token(rp, finish(client, rp, submit(client, go(client, authorize(client, rp, vtr='["P0.Cp"]')),
                                                email=email, password=PASSWORD)))
        frozen.tick(timedelta(seconds=100))
        step_up = authorize(client, rp, vtr='["P0.Cp.Cd"]', max_age="150")
        page = go(client, go(client, step_up)) if path_of(step_up) == "/login/continue" else go(client, step_up)
        assert "Enter the security code" in page.get_data(as_text=True)
        interaction = interaction_of(page)
        code = last_code(app, phone_of(app, email))
        frozen.tick(timedelta(seconds=100))  # the password is now 200 s old: max_age=150 asks for a new login
        again = client.get(f"/authorize/resume/{interaction}")
        assert path_of(again) == "/login"
        answer = client.post(f"/login/security-code?interaction={interaction}",
                             data={"code": code, "csrf_token": csrf_from(page.get_data(as_text=True))})
        assert path_of(answer) == "/login"  # the password first, not the request resumed
        result = callback_params(follow_to_rp(client, answer, email=None, redirect_uri=rp.redirect_uri))
        assert "code" not in result
