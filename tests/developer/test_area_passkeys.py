"""A passkey in place of the authenticator app, after the password, for staff and integrators (issue 11: "a
password and an authenticator app or passkey"; the staff area's gap from issue 9), with a software authenticator."""
from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import pytest

from authentication.soft_authenticator import SoftAuthenticator
from support import ISSUER, csrf_from

PASSWORD = "a long area passphrase 2026"
STAFF_LINK = re.compile(r"http://idp\.test(/staff/set-up/[A-Za-z0-9_-]+)")


def _options(page) -> str:
    return html.unescape(re.search(r'data-options="([^"]+)"', page.get_data(as_text=True)).group(1))


def _post_credential(client, path, page, credential):
    return client.post(path, data={"credential": credential, "csrf_token": csrf_from(page.get_data(as_text=True))})


def _staff_link(app, email="passkey.admin@nhs.example") -> str:
    result = app.test_cli_runner().invoke(args=["staff", "add", "--email", email, "--role", "admin"])
    assert result.exit_code == 0, result.output
    return STAFF_LINK.search(result.output).group(1)


def _choose_password(client, path):
    page = client.get(path)
    response = client.post(path, data={"password": PASSWORD, "confirm": PASSWORD,
                                       "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 302
    assert "Use a passkey instead" in client.get(path + "/authenticator").get_data(as_text=True)


def _set_up_with_passkey(client, path, authenticator):
    _choose_password(client, path)
    page = client.get(path + "/passkey")
    assert page.status_code == 200
    return _post_credential(client, path + "/passkey", page, authenticator.create(_options(page), ISSUER))


def _password(client, prefix, email):
    page = client.get(f"{prefix}/login")
    return client.post(f"{prefix}/login", data={"email": email, "password": PASSWORD,
                                                "csrf_token": csrf_from(page.get_data(as_text=True))})


@pytest.fixture
def staff_with_passkey(app, client):
    authenticator = SoftAuthenticator()
    response = _set_up_with_passkey(client, _staff_link(app), authenticator)
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/staff/"
    client.post("/staff/logout", data={"csrf_token": csrf_from(client.get("/staff/").get_data(as_text=True))})
    return "passkey.admin@nhs.example", authenticator


def test_a_staff_member_sets_up_with_a_passkey_and_logs_in_with_password_then_passkey(app, client, staff_with_passkey):
    email, authenticator = staff_with_passkey
    from idp.models import AreaPasskey, StaffMember

    with app.app_context():
        member = StaffMember.query.filter_by(email=email).one()
        assert member.status == "active" and member.totp_secret_sealed is None
        [stored] = AreaPasskey.query.filter_by(area="staff", member_id=member.id).all()
    response = _password(client, "/staff", email)
    assert urlsplit(response.headers["Location"]).path == "/staff/login/passkey"
    assert urlsplit(client.get("/staff/").headers["Location"]).path == "/staff/login"  # not yet logged in
    page = client.get("/staff/login/passkey")
    response = _post_credential(client, "/staff/login/passkey", page, authenticator.get(_options(page), ISSUER))
    assert response.status_code == 302 and client.get("/staff/").status_code == 200
    from staff.support import audit_actions

    assert audit_actions(app)[-1] == "login.succeeded"


def test_the_passkey_page_allows_only_the_members_own_passkeys_and_each_challenge_once(app, client, staff_with_passkey):
    email, authenticator = staff_with_passkey
    other_browser, other_authenticator = app.test_client(), SoftAuthenticator()
    assert _set_up_with_passkey(other_browser, _staff_link(app, "other.admin@nhs.example"),
                                other_authenticator).status_code == 302
    _password(client, "/staff", email)
    page = client.get("/staff/login/passkey")
    # Another member's real passkey does not answer for this member.
    other = _post_credential(client, "/staff/login/passkey", page, other_authenticator.get(_options(page), ISSUER))
    assert other.status_code == 400 and "We could not check your passkey" in other.get_data(as_text=True)
    # That attempt used the page's challenge: this member's own assertion for it is refused as well.
    replay = _post_credential(client, "/staff/login/passkey", page, authenticator.get(_options(page), ISSUER))
    assert replay.status_code == 400
    fresh = client.get("/staff/login/passkey")
    ok = _post_credential(client, "/staff/login/passkey", fresh, authenticator.get(_options(fresh), ISSUER))
    assert ok.status_code == 302


def test_wrong_passkeys_are_throttled(app, client, staff_with_passkey):
    email, _ = staff_with_passkey
    _password(client, "/staff", email)
    for _ in range(5):
        page = client.get("/staff/login/passkey")
        assert _post_credential(client, "/staff/login/passkey", page, "{}").status_code == 400
    page = client.get("/staff/login/passkey")
    locked = _post_credential(client, "/staff/login/passkey", page, "{}")
    assert locked.status_code == 400 and "too many attempts" in locked.get_data(as_text=True)
    # The pending login is gone: the password must be given again.
    assert urlsplit(client.get("/staff/login/passkey").headers["Location"]).path == "/staff/login"


def test_a_failed_passkey_set_up_leaves_the_account_invited_and_its_link_usable(app, client):
    path = _staff_link(app, "half.set.up@nhs.example")
    _choose_password(client, path)
    page = client.get(path + "/passkey")
    refused = _post_credential(client, path + "/passkey", page, SoftAuthenticator().create(
        _options(page), ISSUER, user_verified=False))
    assert refused.status_code == 400 and "We could not check your passkey" in refused.get_data(as_text=True)
    from idp.models import AreaPasskey, StaffMember

    with app.app_context():
        assert StaffMember.query.filter_by(email="half.set.up@nhs.example").one().status == "invited"
        assert AreaPasskey.query.count() == 0
    page = client.get(path + "/passkey")
    done = _post_credential(client, path + "/passkey", page, SoftAuthenticator().create(_options(page), ISSUER))
    assert done.status_code == 302


def test_an_integrator_sets_up_with_a_passkey_from_the_emailed_link(app, client):
    from support import outbox

    page = client.get("/developer/sign-up")
    client.post("/developer/sign-up", data={
        "organisation_name": "Passkey Apps", "identifier_kind": "ods_code", "identifier": "X26",
        "contact_name": "Dev", "email": "dev@passkey.example", "csrf_token": csrf_from(page.get_data(as_text=True))})
    [message] = outbox(app, "dev@passkey.example")
    path = urlsplit(re.search(r"http://idp\.test\S+", message.body).group(0)).path
    authenticator = SoftAuthenticator()
    response = _set_up_with_passkey(client, path, authenticator)
    assert response.status_code == 302 and client.get("/developer/").status_code == 200
    client.post("/developer/logout", data={"csrf_token": csrf_from(client.get("/developer/").get_data(as_text=True))})
    response = _password(client, "/developer", "dev@passkey.example")
    assert urlsplit(response.headers["Location"]).path == "/developer/login/passkey"
    page = client.get("/developer/login/passkey")
    assert _post_credential(client, "/developer/login/passkey", page,
                            authenticator.get(_options(page), ISSUER)).status_code == 302
    assert client.get("/developer/").status_code == 200
    # A portal passkey is not a staff one: the staff area has no such member.
    from idp.models import AreaPasskey

    with app.app_context():
        assert {p.area for p in AreaPasskey.query.all()} == {"developer"}


def test_resetting_a_staff_account_removes_its_passkeys(app, client, staff_with_passkey):
    email, _ = staff_with_passkey
    result = app.test_cli_runner().invoke(args=["staff", "reset", "--email", email])
    assert result.exit_code == 0, result.output
    from idp.models import AreaPasskey, StaffMember

    with app.app_context():
        assert StaffMember.query.filter_by(email=email).one().status == "invited"
        assert AreaPasskey.query.count() == 0
