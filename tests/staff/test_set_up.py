"""`idp staff add` prints a one-time set-up link; the set-up page takes a password and an authenticator app."""
from __future__ import annotations

import datetime
import re

import pyotp
from freezegun import freeze_time

from staff.support import audit_actions, staff_member
from support import csrf_from

T0 = datetime.datetime(2027, 3, 1, 9, 0, 0, tzinfo=datetime.timezone.utc)
LINK = re.compile(r"http://idp\.test(/staff/set-up/[A-Za-z0-9_-]+)")


def cli(app, *args):
    result = app.test_cli_runner().invoke(args=["staff", *args])
    return result.exit_code, result.output


def add(app, email="new.checker@nhs.example", *roles):
    code, output = cli(app, "add", "--email", email, *sum((["--role", r] for r in roles or ["id_checker"]), []))
    assert code == 0, output
    return LINK.search(output).group(1)


def set_up(client, path, password="a long staff passphrase"):
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)[:300]
    response = client.post(path, data={"password": password, "confirm": password,
                                       "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.headers["Location"].endswith(path + "/authenticator")
    page = client.get(path + "/authenticator")
    html = page.get_data(as_text=True)
    secret = re.search(r'<code class="idp-key">([A-Z2-7 ]+)</code>', html).group(1).replace(" ", "")
    assert "<svg" in html
    return secret, client.post(path + "/authenticator", data={"code": pyotp.TOTP(secret).now(),
                                                               "csrf_token": csrf_from(html)})


def test_cli_add_prints_a_link_and_refuses_unknown_roles_and_duplicates(app):
    path = add(app, "Mixed.Case@NHS.example", "id_checker", "admin")
    assert path.startswith("/staff/set-up/")
    code, output = cli(app, "add", "--email", "mixed.case@nhs.example", "--role", "admin")
    assert code != 0 and "already a staff member" in output
    code, output = cli(app, "add", "--email", "other@nhs.example", "--role", "superuser")
    assert code != 0 and "--role must be one of id_checker, health_professional, admin" in output
    code, output = cli(app, "list", "--json")
    assert '"email": "mixed.case@nhs.example"' in output and '"roles": ["id_checker", "admin"]' in output
    with app.app_context():
        from idp.models import StaffMember

        member = StaffMember.query.filter_by(email="mixed.case@nhs.example").one()
        assert member.status == "invited" and path.rsplit("/", 1)[1] not in (member.set_up_token_hash or "")
    assert audit_actions(app) == ["member.added"]


def test_the_set_up_journey_ends_logged_in_and_the_link_is_then_used(app, client):
    path = add(app)
    secret, done = set_up(client, path)
    assert done.status_code == 302 and done.headers["Location"].endswith("/staff/")
    home = client.get("/staff/")
    assert home.status_code == 200 and "Logged in as new.checker@nhs.example" in home.get_data(as_text=True)
    again = app.test_client().get(path)
    assert again.status_code == 400 and "This set-up link has already been used" in again.get_data(as_text=True)
    with app.app_context():
        from idp.models import StaffMember

        member = StaffMember.query.filter_by(email="new.checker@nhs.example").one()
        assert member.status == "active" and secret not in member.totp_secret_sealed
    assert audit_actions(app)[-1] == "set_up.completed"


def test_a_set_up_link_expires_after_72_hours_and_an_unknown_one_is_refused(app, client):
    with freeze_time(T0) as clock:
        path = add(app)
        clock.tick(72 * 3600 + 1)
        response = client.get(path)
    assert response.status_code == 400 and "This set-up link has expired" in response.get_data(as_text=True)
    response = client.get("/staff/set-up/not-a-token")
    assert response.status_code == 400 and "This set-up link is not valid" in response.get_data(as_text=True)


def test_set_up_refuses_a_common_password_and_a_wrong_code(app, client):
    path = add(app)
    page = client.get(path)
    response = client.post(path, data={"password": "password", "confirm": "password",
                                       "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 400
    assert "too common" in response.get_data(as_text=True)
    response = client.post(path, data={"password": "a long staff passphrase", "confirm": "something else",
                                       "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert "The passwords do not match" in response.get_data(as_text=True)
    assert client.get(path + "/authenticator").status_code == 302, "no password chosen yet"
    client.post(path, data={"password": "a long staff passphrase", "confirm": "a long staff passphrase",
                            "csrf_token": csrf_from(page.get_data(as_text=True))})
    page = client.get(path + "/authenticator")
    wrong = client.post(path + "/authenticator", data={"code": "12345", "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert wrong.status_code == 400 and "Enter the correct code" in wrong.get_data(as_text=True)
    assert client.get(path + "/authenticator").get_data(as_text=True).count("idp-key") == 1
    assert client.get(path).status_code == 200, "the link is still unused"


def test_reset_clears_the_account_and_disable_ends_its_sessions(app, client):
    member, secret, password = staff_member(app)
    from staff.support import staff_login

    staff_login(client, member, password, secret)
    code, output = cli(app, "reset", "--email", member.email)
    assert code == 0 and LINK.search(output)
    assert client.get("/staff/").status_code == 302, "a reset ends the member's sessions"
    with app.app_context():
        from idp.extensions import db
        from idp.models import StaffMember

        row = db.session.get(StaffMember, member.id)
        assert (row.status, row.password_hash, row.totp_secret_sealed) == ("invited", None, None)
    secret, done = set_up(app.test_client(), LINK.search(output).group(1))
    code, output = cli(app, "disable", "--email", member.email)
    assert code == 0 and "disabled" in output
    code, output = cli(app, "disable", "--email", "nobody@nhs.example")
    assert code != 0 and "is not a staff member" in output
    assert audit_actions(app)[-3:] == ["member.reset", "set_up.completed", "member.disabled"]
