"""Roles on every staff route (found from the URL map, so routes added later are covered), patients' sessions
refused under /staff, no-store on every staff page, CSRF on every staff form."""
from __future__ import annotations

import pytest

import support
from staff.support import audit_actions, staff_csrf, staff_login, staff_member
from support import csrf_from, make_app

# The only staff pages open without a login: logging in, setting up an account, logging out.
PUBLIC = {"staff.login", "staff.login_code", "staff.login_passkey", "staff.logout", "staff.set_up",
          "staff.set_up_authenticator", "staff.set_up_passkey"}
ROLES = ("id_checker", "health_professional", "admin")


def staff_rules(app):
    """(rule, methods, required roles or None) for every route under /staff."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/staff"):
            continue
        roles = getattr(app.view_functions[rule.endpoint], "_staff_roles", None)
        assert roles is not None or rule.endpoint in PUBLIC, f"{rule.endpoint} is not wrapped in requires_role"
        found.append((rule, sorted(rule.methods - {"HEAD", "OPTIONS"}), roles))
    return found


def url(rule) -> str:
    return rule.build({name: "1" for name in rule.arguments})[1]


def test_every_staff_view_declares_its_roles(app):
    rules = staff_rules(app)
    assert {r.endpoint for r, _, roles in rules if roles is None} == PUBLIC
    assert len(rules) > len(PUBLIC)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_is_refused_wherever_it_does_not_belong(app, client, role):
    member, secret, password = staff_member(app, roles=[role])
    staff_login(client, member, password, secret)
    token = staff_csrf(client)
    refused = 0
    for rule, methods, roles in staff_rules(app):
        if roles is None:
            continue
        for method in methods:
            response = client.open(url(rule), method=method, data={"csrf_token": token} if method != "GET" else None)
            if role in roles:
                assert response.status_code != 403, (rule.rule, method)
                continue
            body = response.get_data(as_text=True)
            assert response.status_code == 403 and "You do not have access to this page" in body, (rule.rule, method)
            assert response.headers["Cache-Control"] == "no-store"
            refused += 1
    assert audit_actions(app, staff_member_id=member.id).count("access.refused") == refused
    assert client.get("/staff/").status_code == 200, "still logged in"


def test_a_patient_logged_in_gets_the_staff_login_page_at_every_staff_route(app, client, person):
    email = person()
    support.log_in(client, email)
    assert client.get("/account").status_code == 200
    for rule, methods, roles in staff_rules(app):
        for method in methods:
            response = client.open(url(rule), method=method)
            body = response.get_data(as_text=True)
            assert "Logged in as" not in body and email not in body, rule.rule
            if roles is not None and method == "GET":
                assert response.status_code == 302 and "/staff/login" in response.headers["Location"], rule.rule
                page = client.get(response.headers["Location"])
                assert page.status_code == 200 and "Log in to the staff area" in page.get_data(as_text=True)
            elif roles is not None:
                assert response.status_code in (400, 403), rule.rule  # no staff session: no CSRF token, no access
            assert "idp_session=" not in " ".join(response.headers.getlist("Set-Cookie")), "patients' cookie untouched"


def test_the_patients_cookie_is_not_a_staff_cookie_and_the_staff_cookie_is_not_a_patients(app, client, person):
    email = person()
    support.log_in(client, email)
    patient_key = client.get_cookie("idp_session").value
    member, secret, password = staff_member(app)
    staff_browser = app.test_client()
    staff_login(staff_browser, member, password, secret)
    staff_key = staff_browser.get_cookie("idp_staff").value
    forged = app.test_client()
    forged.set_cookie("idp_staff", patient_key)
    assert forged.get("/staff/").status_code == 302
    forged = app.test_client()
    forged.set_cookie("idp_session", staff_key)
    response = forged.get("/account")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    both = app.test_client()
    both.set_cookie("idp_staff", staff_key)
    assert both.get("/account").status_code == 302, "the staff cookie is not read on patients' pages"


def test_every_staff_page_is_never_cached(app, client):
    member, secret, password = staff_member(app, roles=list(ROLES))
    for path in ("/staff/login", "/staff/set-up/unknown"):
        response = client.get(path)
        assert (response.headers["Cache-Control"], response.headers["Pragma"]) == ("no-store", "no-cache"), path
    staff_login(client, member, password, secret)
    for rule, methods, roles in staff_rules(app):
        if "GET" in methods:
            response = client.get(url(rule))
            assert (response.headers["Cache-Control"], response.headers["Pragma"]) == ("no-store", "no-cache"), rule.rule


def test_admin_pages_list_the_audit_and_the_members_and_disable_one(app, client):
    admin, secret, password = staff_member(app, roles=["admin"])
    other, other_secret, other_password = staff_member(app, roles=["id_checker"])
    other_browser = app.test_client()
    staff_login(other_browser, other, other_password, other_secret)
    staff_login(client, admin, password, secret)
    page = client.get("/staff/members")
    html = page.get_data(as_text=True)
    assert other.email in html and "ID checking team" in html
    done = client.post(f"/staff/members/{other.id}/disable", data={"csrf_token": csrf_from(html)})
    assert done.status_code == 302
    assert f"{other.email} has been disabled" in client.get(done.headers["Location"]).get_data(as_text=True)
    spoofed = client.get("/staff/members?disabled=Everyone%20must%20reset").get_data(as_text=True)
    assert "Everyone must reset" not in spoofed and "has been disabled" not in spoofed
    assert other_browser.get("/staff/").status_code == 302, "the disabled member's session has ended"
    self_disable = client.post(f"/staff/members/{admin.id}/disable", data={"csrf_token": csrf_from(html)})
    assert self_disable.status_code == 400 and "You cannot disable your own account" in self_disable.get_data(as_text=True)
    audit_page = client.get("/staff/audit").get_data(as_text=True)
    assert "member.disabled" in audit_page and "login.succeeded" in audit_page
    home = client.get("/staff/").get_data(as_text=True)
    assert "Staff accounts" in home and "Audit of staff actions" in home


def test_the_home_page_lists_only_the_areas_of_the_members_roles(app, client):
    member, secret, password = staff_member(app, roles=["health_professional"])
    staff_login(client, member, password, secret)
    home = client.get("/staff/").get_data(as_text=True)
    assert "Staff accounts" not in home and "Health professional" in home


@pytest.fixture
def csrf_app(sqlite_copy, tmp_path):
    """The app with CSRF on exactly as in production (no test config), over its own database copy."""
    return make_app(sqlite_copy("csrf.sqlite3"), str(tmp_path))


def test_csrf_is_enforced_on_every_staff_form(csrf_app):
    app = csrf_app
    assert app.config.get("WTF_CSRF_ENABLED", True)
    admin, secret, password = staff_member(app, roles=list(ROLES))
    client = app.test_client()
    client.get("/staff/login")
    refused = client.post("/staff/login", data={"email": admin.email, "password": password})
    assert refused.status_code == 400 and "Your page has expired" in refused.get_data(as_text=True)
    other = app.test_client()
    foreign = csrf_from(other.get("/staff/login").get_data(as_text=True))
    refused = client.post("/staff/login", data={"email": admin.email, "password": password, "csrf_token": foreign})
    assert refused.status_code == 400
    staff_login(client, admin, password, secret)
    for rule, methods, roles in staff_rules(app):
        if "POST" in methods:
            response = client.post(url(rule), data={})
            assert response.status_code == 400 and "Your page has expired" in response.get_data(as_text=True), rule.rule
    assert client.get("/staff/").status_code == 200, "a refused log-out did not log out"


def test_a_nul_in_a_path_is_refused_before_any_lookup(app, client):
    """PostgreSQL text cannot hold NUL: ids in paths are refused at the edge as query values are."""
    member, secret, password = staff_member(app, roles=["id_checker", "admin"])
    staff_login(client, member, password, secret)
    for path in ("/staff/id-checks/%00", "/staff/id-checks/%00/media/document"):
        assert client.get(path).status_code == 400
    assert client.post("/staff/members/%00/disable", data={"csrf_token": staff_csrf(client)}).status_code == 400
