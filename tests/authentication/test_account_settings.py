"""Account settings at /account, as the person uses them: each change needs a fresh login, tells the old
address, and the password change ends the other sessions."""
from __future__ import annotations

import html
import re
from datetime import timedelta

import pyotp
from freezegun import freeze_time
from soft_authenticator import SoftAuthenticator
from support import ISSUER, PASSWORD, csrf_from, last_code, log_in, outbox, phone_of
from test_login_journey import go, path_of, submit

NEW_PASSWORD = "another long pass phrase to use"


def account(http) -> str:
    page = http.get("/account")
    assert page.status_code == 200, page.headers.get("Location")
    return page.get_data(as_text=True)


def post_form(http, page_html: str, action: str, **form):
    return http.post(action, data={**form, "csrf_token": csrf_from(page_html)})


def test_the_account_page_lists_the_ways_to_log_in(client, person, app):
    email = person("P0")
    log_in(client, email, remember=True)
    text = account(client)
    assert phone_of(app, email)[-3:] in text and "Set up an authenticator app" in text
    assert "You have no passkeys." in text and "Log out everywhere" in text and "Delete your account" in text
    assert "Forget" in text  # this browser is remembered


def test_change_password_needs_the_current_one_and_ends_other_sessions(client, person, app):
    email = person("P0")
    other = app.test_client()
    log_in(other, email)
    log_in(client, email)
    page = client.get("/account/password")
    wrong = submit(client, page, current_password="not it", password=NEW_PASSWORD)
    assert wrong.status_code == 400 and "current password is not correct" in wrong.get_data(as_text=True)
    done = submit(client, page, current_password=PASSWORD, password=NEW_PASSWORD)
    assert path_of(done) == "/account"
    assert "Your password has been changed" in account(client)  # this browser stays logged in
    assert other.get("/account").status_code == 302  # the other is logged out
    assert outbox(app, email)[-1].template == "password_changed"
    assert log_in(app.test_client(), email, NEW_PASSWORD).status_code == 302


def test_a_change_needs_a_fresh_login(client, person, app):
    email = person("P0")
    with freeze_time() as frozen:
        log_in(client, email)
        frozen.tick(timedelta(minutes=16))
        stale = client.get("/account/password")
        assert path_of(stale) == "/login"
        assert client.get("/account").status_code == 200  # looking needs no fresh login
        back = log_in_again(client, stale, email, app)
        assert path_of(back) == "/account/password"


def log_in_again(http, redirect_to_login, email, app):
    page = go(http, redirect_to_login)
    response = submit(http, page, email=email, password=PASSWORD)
    code_page = go(http, response)
    return submit(http, code_page, code=last_code(app, phone_of(app, email)))


def test_change_email_confirms_the_new_address_and_tells_the_old(client, person, app):
    email = person("P0")
    log_in(client, email)
    page = client.get("/account/email")
    code_page = go(client, submit(client, page, email="Moved@Example.com"))
    done = submit(client, code_page, code=last_code(app, "moved@example.com"))
    assert path_of(done) == "/account"
    assert "moved@example.com" in account(client)
    assert outbox(app, email)[-1].template == "email_changed"


def test_changing_to_a_taken_email_reads_the_same_and_never_confirms(client, person, app):
    email, taken = person("P0"), person("P0")
    log_in(client, email)
    code_page = go(client, submit(client, client.get("/account/email"), email=taken))
    assert "Check your email" in code_page.get_data(as_text=True)
    assert outbox(app, taken)[-1].template == "already_registered"
    assert submit(client, code_page, code="123456").status_code == 400


def test_change_phone_to_a_landline(client, person, app):
    email = person("P0")
    log_in(client, email)
    code_page = go(client, submit(client, client.get("/account/phone"), phone="0113 496 0456"))
    assert "calling your phone number ending 456" in code_page.get_data(as_text=True)
    submit(client, code_page, code=last_code(app, "+441134960456"))
    assert outbox(app, email)[-1].template == "phone_changed"
    assert phone_of(app, email) == "+441134960456"


def test_set_up_and_remove_an_authenticator_app(client, person, app):
    email = person("P0")
    log_in(client, email)
    page = client.get("/account/authenticator-app")
    key = re.search(r'<code class="idp-key">([A-Z2-7 ]+)</code>', page.get_data(as_text=True)).group(1).replace(" ", "")
    assert 'name="secret"' not in page.get_data(as_text=True)  # the key stays on the server
    assert path_of(submit(client, page, code=pyotp.TOTP(key).now())) == "/account"
    text = account(client)
    assert "Remove authenticator app" in text
    remove = re.search(r'action="([^"]*authenticator-app/remove)"', text).group(1)
    post_form(client, text, remove)
    assert "Set up an authenticator app" in account(client)


def test_add_and_remove_a_passkey(client, person, app):
    email = person("P0")
    log_in(client, email)
    page = client.get("/account/passkeys/add")
    options = html.unescape(re.search(r'data-options="([^"]+)"', page.get_data(as_text=True)).group(1))
    submit(client, page, credential=SoftAuthenticator().create(options, ISSUER), name="Kitchen tablet")
    text = account(client)
    assert "Kitchen tablet" in text
    passkey_id = re.search(r'name="passkey_id" value="([^"]+)"', text).group(1)
    post_form(client, text, "/account/passkeys/remove", passkey_id=passkey_id)
    assert "You have no passkeys." in account(client)


def test_forgetting_a_remembered_device_brings_the_code_back(client, rp, person, app):
    email = person("P0")
    log_in(client, email, remember=True)
    text = account(client)
    device_id = re.search(r'name="device_id" value="([^"]+)"', text).group(1)
    post_form(client, text, "/account/devices/forget", device_id=device_id)
    assert "No devices are remembered" in account(client)
    confirm = client.get("/logout")
    client.post("/logout", data={"confirm": "yes", "csrf_token": csrf_from(confirm.get_data(as_text=True))})
    page = client.get("/login")
    after_password = client.post("/login", data={"email": email, "password": PASSWORD,
                                                 "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert path_of(after_password) == "/login/security-code"  # the browser's cookie no longer stands for Cd


def test_log_out_everywhere(client, person, app):
    email = person("P0")
    other = app.test_client()
    log_in(other, email)
    log_in(client, email)
    post_form(client, account(client), "/account/log-out-everywhere")
    assert client.get("/account").status_code == 302 and other.get("/account").status_code == 302


def db_person(email):
    from idp.models import Person

    return Person.query.filter_by(email=email).first()


def test_delete_the_account(client, rp, person, app):
    email = person("P0")
    tokens = rp.tokens_for(email)
    with app.app_context():
        from idp.models import Grant, Person

        person_id = Person.query.filter_by(email=email).one().id
        assert Grant.query.filter_by(person_id=person_id).count() == 1
    page = client.get("/account/delete")
    refused = submit(client, page)
    assert refused.status_code == 400 and "Select yes" in refused.get_data(as_text=True)
    gone = submit(client, page, confirm="delete")
    assert "Your account has been deleted" in gone.get_data(as_text=True)
    with app.app_context():
        assert db_person(email) is None
        assert Grant.query.filter_by(person_id=person_id).count() == 0
    assert outbox(app, email)[-1].template == "account_deleted"
    assert client.get("/account").status_code == 302
    userinfo = client.get("/userinfo", headers={"Authorization": "Bearer " + tokens["access_token"]})
    assert userinfo.status_code == 401


def test_a_new_password_forgets_other_remembered_browsers_but_this_one(client, rp, person, app):
    email = person("P0")
    other = app.test_client()
    log_in(other, email, remember=True)
    log_in(client, email, remember=True)
    page = client.get("/account/password")
    submit(client, page, current_password=PASSWORD, password=NEW_PASSWORD)
    with app.app_context():
        from idp.authentication.factors import remembered_device

        devices = remembered_device.devices_of(db_person(email).id)
    assert [d.id for d in devices] == [client.get_cookie("idp_device").value.split(".")[0]]
