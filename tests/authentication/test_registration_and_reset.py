"""Creating an account (P0) and resetting a forgotten password, as a person does it in the browser: the pages,
the messages sent, and that neither journey tells a stranger whether an address has an account."""
from __future__ import annotations

import re

import pytest
from support import last_code, log_in, outbox, phone_of
from test_login_journey import authorize, finish, go, id_token, path_of, submit

NEW_PASSWORD = "a long and memorable pass phrase"


@pytest.fixture
def rp(register):
    return register(vtr=["P0.Cp", "P0.Cp.Cd"])


def registration_page(http, rp, **params):
    login = go(http, authorize(http, rp, **params))
    link = re.search(r'href="([^"]*/create-account[^"]*)"', login.get_data(as_text=True))
    return login, (http.get(link.group(1).replace("&amp;", "&")) if link else None)


def create_account(http, app, rp, email, phone="07700 900 456", **params):
    _, page = registration_page(http, rp, **params)
    after = submit(http, page, email=email, password=NEW_PASSWORD, terms="accepted")
    assert path_of(after) == "/create-account/email-code", after.get_data(as_text=True)[:500]
    return after


def test_create_an_account_with_both_codes_and_the_login_resumes(client, app, rp):
    email = "New.Person@Example.com "
    code_page = go(client, create_account(client, app, rp, email, vtr='["P0.Cp.Cd"]'))
    assert "new.person@example.com" in code_page.get_data(as_text=True)
    [message] = outbox(app, "new.person@example.com")
    assert message.template == "email_confirmation_code"
    phone_page = go(client, submit(client, code_page, code=last_code(app, "new.person@example.com")))
    text = phone_page.get_data(as_text=True)
    assert 'type="tel"' in text and 'autocomplete="tel"' in text
    sms_page = go(client, submit(client, phone_page, phone="07700 900 456"))
    assert "ending 456" in sms_page.get_data(as_text=True)
    assert outbox(app, "+447700900456")[-1].channel == "sms"
    done = submit(client, sms_page, code=last_code(app, "+447700900456"))
    claims = id_token(rp, finish(client, rp, done))
    assert claims["vot"] == "P0.Cp.Cd"
    with app.app_context():
        from idp.models import Person

        person = Person.query.filter_by(email="new.person@example.com").one()
        assert (person.proofing_level, person.email_verified, person.phone_number_verified) == ("P0", True, True)
        assert claims["sub"] == person.id


def test_a_landline_gets_its_code_by_a_call(client, app, rp):
    code_page = go(client, create_account(client, app, rp, "landline@example.com"))
    phone_page = go(client, submit(client, code_page, code=last_code(app, "landline@example.com")))
    call_page = go(client, submit(client, phone_page, phone="0113 496 0123"))
    assert "calling your phone number ending 123" in call_page.get_data(as_text=True)
    assert outbox(app, "+441134960123")[-1].channel == "voice"


def test_an_address_already_registered_continues_the_same_way_and_the_owner_is_told(client, app, rp, person):
    taken = person("P0")
    fresh = "fresh-" + taken
    pages = {}
    for email in (taken, fresh):
        http = app.test_client()
        after = create_account(http, app, rp, email)
        page = go(http, after)
        pages[email] = (after.status_code, path_of(after), re.sub(re.escape(email), "EMAIL", re.sub(
            r'(csrf_token" value="|nonce="|interaction=)[^"&]+', "", page.get_data(as_text=True))))
    assert pages[taken] == pages[fresh]
    assert outbox(app, taken)[-1].template == "already_registered"
    assert not re.search(r"\d{6}", outbox(app, taken)[-1].body)  # no code to confirm someone else's address
    assert outbox(app, fresh)[-1].template == "email_confirmation_code"


def test_a_taken_address_never_gets_past_the_email_code(client, app, rp, person):
    taken = person("P0")
    code_page = go(client, create_account(client, app, rp, taken))
    for guess in ("000000", "123456"):
        refused = submit(client, code_page, code=guess)
        assert refused.status_code == 400 and "not correct" in refused.get_data(as_text=True)


@pytest.mark.parametrize("password, message", [
    ("short", "at least 8 characters"),
    ("password123", "too common"),
])
def test_a_weak_password_is_refused_with_a_reason(client, rp, password, message):
    _, page = registration_page(client, rp)
    refused = submit(client, page, email="weak@example.com", password=password, terms="accepted")
    assert refused.status_code == 400 and message in refused.get_data(as_text=True)


def test_a_long_password_is_accepted_whole_and_the_terms_are_needed(client, app, rp):
    _, page = registration_page(client, rp)
    refused = submit(client, page, email="terms@example.com", password=NEW_PASSWORD)
    assert refused.status_code == 400 and "Agree to the terms" in refused.get_data(as_text=True)
    long_password = "correct horse battery staple " * 4  # 116 characters, never truncated
    assert path_of(submit(client, page, email="terms@example.com", password=long_password, terms="accepted")) == (
        "/create-account/email-code")


def test_registration_is_hidden_when_the_request_says_so(client, rp):
    login, link = registration_page(client, rp, allow_registration="false")
    assert link is None and "Create an account" not in login.get_data(as_text=True)


def test_pages_opened_out_of_order_go_back_to_where_the_journey_is(client, app, rp):
    after = create_account(client, app, rp, "order@example.com")
    interaction = re.search(r"interaction=([\w-]+)", after.headers["Location"]).group(1)
    skipped = client.get(f"/create-account/phone?interaction={interaction}")
    assert skipped.status_code == 302 and path_of(skipped) == "/create-account/email-code"


# --- forgotten password ---------------------------------------------------------------------------
def reset_page(http):
    login = http.get("/login")
    link = re.search(r'href="([^"]*/forgotten-password[^"]*)"', login.get_data(as_text=True)).group(1)
    return go(http, http.get(link.replace("&amp;", "&")))


def test_reset_with_the_emailed_code_and_the_phone_code_ends_every_session(client, app, rp, person):
    email = person("P0")
    tokens = rp.tokens_for(email, scope="openid")  # the relying party's browser is logged in, with tokens
    elsewhere = app.test_client()
    log_in(elsewhere, email, remember=True)
    assert elsewhere.get("/account").status_code == 200
    assert client.get("/account").status_code == 200
    client = app.test_client()  # the person resets from a third browser

    page = submit(client, reset_page(client), email=email)
    code_page = go(client, page)
    phone_step = go(client, submit(client, code_page, code=last_code(app, email)))
    assert "Enter the security code" in phone_step.get_data(as_text=True)
    new_password_page = go(client, submit(client, phone_step, code=last_code(app, phone_of(app, email))))
    assert 'autocomplete="new-password"' in new_password_page.get_data(as_text=True)
    weak = submit(client, new_password_page, password="password")
    assert weak.status_code == 400
    back_to_login = submit(client, new_password_page, password=NEW_PASSWORD)
    assert path_of(back_to_login) == "/login"
    assert "Your password has been changed" in go(client, back_to_login).get_data(as_text=True)

    assert elsewhere.get("/account").status_code == 302  # logged out everywhere
    assert rp.http.get("/account").status_code == 302
    with app.app_context():  # every grant ends, so the relying party's tokens stop working
        from idp.models import Grant, Person

        person_id = Person.query.filter_by(email=email).one().id
        assert {g.revoked_reason for g in Grant.query.filter_by(person_id=person_id)} == {"password_reset"}
    assert rp.http.get("/userinfo", headers={"Authorization": "Bearer " + tokens["access_token"]}).status_code == 401
    assert outbox(app, email)[-1].template == "password_changed"
    assert log_in(app.test_client(), email, NEW_PASSWORD).status_code == 302
    with app.app_context():  # no remembered browser skips the code after a reset
        from idp.models import RememberedDevice

        assert RememberedDevice.query.filter_by(person_id=person_id).count() == 0


def test_reset_for_an_unknown_address_reads_the_same_and_sends_nothing(client, app, person):
    known = person("P0")
    unknown = "nobody-" + known
    seen = []
    for email in (known, unknown):
        http = app.test_client()
        after = submit(http, reset_page(http), email=email)
        page = go(http, after)
        seen.append((after.status_code, path_of(after), re.sub(re.escape(email), "EMAIL", re.sub(
            r'(csrf_token" value="|nonce="|interaction=)[^"&]+', "", page.get_data(as_text=True)))))
    assert seen[0] == seen[1]
    assert outbox(app, known)[-1].template == "password_reset_code"
    assert outbox(app, unknown) == []


def test_codes_to_one_address_are_capped_an_hour_for_known_and_unknown_alike(client, app, person):
    known = person("P0")
    for email in (known, "nobody-" + known):
        http = app.test_client()
        page = reset_page(http)
        answers = [submit(http, page, email=email).status_code for _ in range(6)]
        assert answers == [302] * 5 + [400], (email, answers)
