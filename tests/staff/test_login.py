"""Staff login: password then always the authenticator app; no enumeration; throttling; sessions of their own."""
from __future__ import annotations

import datetime
import re

from freezegun import freeze_time

from staff.support import audit_actions, staff_csrf, staff_login, staff_member, staff_password_step, totp_code
from support import csrf_from

T0 = datetime.datetime(2027, 3, 1, 9, 0, 0, tzinfo=datetime.timezone.utc)


def cookie(client, name="idp_staff"):
    found = client.get_cookie(name)
    return found.value if found else None


def test_a_right_password_alone_does_not_log_in(app, client):
    member, secret, password = staff_member(app)
    response = staff_password_step(client, member, password)
    assert response.headers["Location"].endswith("/staff/login/authenticator")
    home = client.get("/staff/")
    assert home.status_code == 302 and "/staff/login" in home.headers["Location"]
    page = client.get("/staff/login/authenticator")
    wrong = client.post("/staff/login/authenticator", data={"code": "000000", "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert wrong.status_code == 400 and "Enter the correct code" in wrong.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302
    assert audit_actions(app, staff_member_id=member.id) == ["login.failed"]


def test_logging_in_with_both_factors_shows_who_is_logged_in(app, client):
    member, secret, password = staff_member(app)
    response = staff_login(client, member, password, secret)
    assert response.headers["Location"].endswith("/staff/")
    home = client.get("/staff/")
    body = home.get_data(as_text=True)
    assert home.status_code == 200 and "Staff area" in body and f"Logged in as {member.email}" in body
    assert home.headers["Cache-Control"] == "no-store" and home.headers["Pragma"] == "no-cache"
    assert audit_actions(app, staff_member_id=member.id) == ["login.succeeded"]


def test_a_code_is_never_accepted_twice(app, client):
    member, secret, password = staff_member(app)
    with freeze_time(T0):
        staff_login(client, member, password, secret)
        code = totp_code(app, member, secret)
        staff_login(app.test_client(), member, password, secret)  # the next step: the last within the drift
        other = app.test_client()
        staff_password_step(other, member, password)
        page = other.get("/staff/login/authenticator")
        again = other.post("/staff/login/authenticator", data={"code": code, "csrf_token": csrf_from(page.get_data(as_text=True))})
        assert again.status_code == 400


def test_wrong_password_and_unknown_email_get_the_same_answer(app, client):
    member, _, _ = staff_member(app)
    invited, _, _ = staff_member(app, status="invited")
    answers = []
    for email, password in ((member.email, "not the password"), ("nobody@nhs.example", "whatever it is"),
                            (invited.email, "whatever it is")):
        page = client.get("/staff/login")
        response = client.post("/staff/login", data={"email": email, "password": password,
                                                     "csrf_token": csrf_from(page.get_data(as_text=True))})
        body = response.get_data(as_text=True)
        body = re.sub(r'nonce="[^"]+"', "", body.replace(email, "EMAIL").replace(csrf_from(body), "TOKEN"))
        answers.append((response.status_code, body))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 400 and "Enter a correct email address and password" in answers[0][1]
    assert audit_actions(app, staff_member_id=member.id) == ["login.failed"]
    with app.app_context():
        from idp.models import StaffAuditEvent

        unknown = StaffAuditEvent.query.filter_by(staff_member_id=None, action="login.failed").one()
        assert unknown.staff_email is None and "nobody" not in str(unknown.detail)
        assert "not the password" not in str([e.detail for e in StaffAuditEvent.query.all()])


def test_a_disabled_member_cannot_log_in(app, client):
    member, secret, password = staff_member(app, status="disabled")
    response = staff_password_step(client, member, password)
    assert response.status_code == 400 and "Enter a correct email address and password" in response.get_data(as_text=True)


def test_guessing_passwords_is_throttled_per_account(app, client):
    member, secret, password = staff_member(app)
    limit = app.extensions["idp"].settings.login_attempts_per_account
    for _ in range(limit):
        assert staff_password_step(client, member, "a wrong guess").status_code == 400
    response = staff_password_step(client, member, password)
    assert response.status_code == 400 and "too many attempts" in response.get_data(as_text=True)
    assert "login.throttled" in audit_actions(app, staff_member_id=member.id)


def test_guessing_codes_is_throttled(app, client):
    member, secret, password = staff_member(app)
    staff_password_step(client, member, password)
    for _ in range(5):
        page = client.get("/staff/login/authenticator")
        response = client.post("/staff/login/authenticator", data={"code": "999999", "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert "too many wrong codes" in response.get_data(as_text=True)
    assert client.get("/staff/login/authenticator").headers["Location"].endswith("/staff/login")


def test_the_key_changes_at_login_and_logout_deletes_the_session(app, client):
    member, secret, password = staff_member(app)
    client.get("/staff/login")
    before = cookie(client)
    assert before
    staff_login(client, member, password, secret)
    after = cookie(client)
    assert after and after != before
    fixated = app.test_client()
    fixated.set_cookie("idp_staff", before)
    assert fixated.get("/staff/").status_code == 302, "the key from before the login does not log in"
    token = staff_csrf(client)
    response = client.post("/staff/logout", data={"csrf_token": token})
    assert response.status_code == 302 and "logged_out" in response.headers["Location"]
    assert cookie(client) is None
    replay = app.test_client()
    replay.set_cookie("idp_staff", after)
    assert replay.get("/staff/").status_code == 302
    assert audit_actions(app, staff_member_id=member.id) == ["login.succeeded", "logout"]


def test_the_cookie_is_host_only_strict_and_http_only(app, client):
    client.get("/staff/login")
    header = next(h for h in client.get("/staff/login").headers.getlist("Set-Cookie") if h.startswith("idp_staff="))
    attributes = header.lower()
    assert "httponly" in attributes and "samesite=strict" in attributes and "path=/" in attributes
    assert "domain=" not in attributes and "max-age" not in attributes


def test_the_session_ends_after_15_idle_minutes(app, client):
    member, secret, password = staff_member(app)
    with freeze_time(T0) as clock:
        staff_login(client, member, password, secret)
        clock.tick(14 * 60)
        assert client.get("/staff/").status_code == 200, "activity within 15 minutes keeps it"
        clock.tick(14 * 60)
        assert client.get("/staff/").status_code == 200
        clock.tick(15 * 60)
        response = client.get("/staff/")
        assert response.status_code == 302 and "timed_out=1" in response.headers["Location"]
        page = client.get(response.headers["Location"])
        assert "had not used the staff area for 15 minutes" in page.get_data(as_text=True)
    assert audit_actions(app, staff_member_id=member.id)[-1] == "session.timed_out"


def test_the_session_ends_8_hours_after_login_whatever_the_activity(app, client):
    member, secret, password = staff_member(app)
    with freeze_time(T0) as clock:
        staff_login(client, member, password, secret)
        for _ in range(8 * 60 // 10 - 1):
            clock.tick(10 * 60)
            assert client.get("/staff/").status_code == 200
        clock.tick(10 * 60)
        assert client.get("/staff/").status_code == 302
    with app.app_context():
        from idp.models import StaffAuditEvent

        event = StaffAuditEvent.query.filter_by(action="session.timed_out").one()
        assert event.detail == {"reason": "lifetime"}


def test_expired_staff_sessions_are_pruned(app, client):
    member, secret, password = staff_member(app)
    with freeze_time(T0) as clock:
        staff_login(client, member, password, secret)
        runner = app.test_cli_runner()
        assert "staff_sessions: 0" in runner.invoke(args=["housekeeping"]).output
        clock.tick(16 * 60)
        assert "staff_sessions: 1" in runner.invoke(args=["housekeeping"]).output


def test_next_page_is_kept_only_inside_the_staff_area(app, client):
    member, secret, password = staff_member(app, roles=["admin"])
    response = client.get("/staff/audit")
    assert "next=/staff/audit" in response.headers["Location"]
    page = client.get(response.headers["Location"])
    client.post("/staff/login?next=/staff/audit", data={"email": member.email, "password": password,
                                                        "csrf_token": csrf_from(page.get_data(as_text=True))})
    page = client.get("/staff/login/authenticator")
    done = client.post("/staff/login/authenticator", data={"code": totp_code(app, member, secret),
                                                           "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert done.headers["Location"].endswith("/staff/audit")
    from idp.staff.views import _safe_next

    assert _safe_next("https://evil.example/staff/") is None and _safe_next("//evil.example") is None
    assert _safe_next("/staff//evil.example") is None and _safe_next("/account") is None
    assert _safe_next("/staff/members\r\nX-Injected: 1") is None and _safe_next("/staff/a\\b") is None


def test_a_next_page_with_control_characters_is_ignored_not_an_error(app, client):
    member, secret, password = staff_member(app)
    page = client.get("/staff/login")
    client.post("/staff/login?next=/staff/members%0d%0aX-Injected:%201", data={
        "email": member.email, "password": password, "csrf_token": csrf_from(page.get_data(as_text=True))})
    page = client.get("/staff/login/authenticator")
    done = client.post("/staff/login/authenticator", data={"code": totp_code(app, member, secret),
                                                           "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert done.status_code == 302 and done.headers["Location"].endswith("/staff/")


def _code_page_csrf(client) -> str:
    return csrf_from(client.get("/staff/login/authenticator").get_data(as_text=True))


def test_wrong_codes_in_a_row_block_the_app_until_an_administrator_resets_the_account(app, client):
    """The window slows guessing; wrong codes in a row, however spread out, stop it (NIST SP 800-63B 5.2.2)."""
    from idp.extensions import db
    from idp.models import StaffMember

    member, secret, password = staff_member(app)
    with freeze_time(T0) as clock:
        for _ in range(2):  # two lockout windows apart: the failures add up
            staff_password_step(client, member, password)
            for _ in range(5):
                client.post("/staff/login/authenticator", data={"code": "999999", "csrf_token": _code_page_csrf(client)})
            clock.tick(16 * 60)
        with app.app_context():
            row = db.session.get(StaffMember, member.id)
            assert row.totp_failures == 10
            row.totp_failures = 99
            db.session.commit()
        staff_password_step(client, member, password)
        blocked = client.post("/staff/login/authenticator", data={"code": "999999", "csrf_token": _code_page_csrf(client)})
        assert "Ask an administrator to reset it" in blocked.get_data(as_text=True)
        clock.tick(16 * 60)
        staff_password_step(client, member, password)
        right = client.post("/staff/login/authenticator",
                            data={"code": totp_code(app, member, secret), "csrf_token": _code_page_csrf(client)})
        assert right.status_code == 400 and "Ask an administrator to reset it" in right.get_data(as_text=True)
    assert "login.blocked" in audit_actions(app)
    reset = app.test_cli_runner().invoke(args=["staff", "reset", "--email", member.email])
    assert reset.exit_code == 0
    with app.app_context():
        assert db.session.get(StaffMember, member.id).totp_failures == 0
