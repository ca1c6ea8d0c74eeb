"""Every staff page passes axe-core (WCAG 2.2 AA) in Chromium, error states included.

Chromium's requests to http://idp.test are answered by the Flask test client (Playwright's request
routing), so the pages, their CSS and their forms are the app's own without serving it.
Needs: Chromium (`make browser`), axe-core (`make assets`). Missing either fails, it never skips.
"""
from __future__ import annotations

import re

import pyotp
import pytest
from playwright.sync_api import sync_playwright

from browser_support import check_accessibility, format_violations, launch_chromium
from staff.support import staff_member, totp_code

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
BASE = "http://idp.test"


served = []


def answer_from(client):
    def handle(route):
        request = route.request
        path = request.url[len(BASE):]
        response = client.open(path, method=request.method, data=request.post_data_buffer,
                               headers={"Content-Type": request.headers.get("content-type", "")},
                               follow_redirects=True)  # the forms' actions are absolute paths
        # The test client keeps the cookies; the browser only shows the pages.
        headers = {k: v for k, v in response.headers.items() if k.lower() not in ("set-cookie", "content-length")}
        route.fulfill(status=response.status_code, headers=headers, body=response.get_data())
        served.append((request.method, path, response.status_code))

    return handle


def test_staff_pages_pass_axe(app):
    client = app.test_client()
    member, secret, password = staff_member(app, roles=["id_checker", "health_professional", "admin"])
    target, _, _ = staff_member(app, roles=["id_checker"])
    added = app.test_cli_runner().invoke(args=["staff", "add", "--email", "axe@nhs.example", "--role", "admin"])
    assert added.exit_code == 0, added.output
    with app.app_context():
        from idp.extensions import db
        from idp.models import StaffMember
        from idp.staff import members

        invited = StaffMember.query.filter_by(email="axe@nhs.example").one()
        link = members.reset(invited, app.extensions["idp"].settings)
        db.session.commit()
    set_up_path = link[len(BASE):]
    problems = []
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(bypass_csp=True)  # axe-core is injected as an inline script
        page.route(f"{BASE}/**", answer_from(client))

        def submit(selector="main button[type=submit]"):  # not the header's "Log out" once logged in
            with page.expect_navigation():
                page.locator(selector).first.click()

        def check(label):
            violations = check_accessibility(page)
            if violations:
                problems.append(format_violations(label, violations))

        page.goto(f"{BASE}/staff/login")
        check("login")
        submit()
        check("login with errors")
        page.fill("#email", member.email)
        page.fill("#password", password)
        submit()
        assert "authenticator app" in page.content()
        check("code")
        page.fill("#code", "1")
        submit()
        check("code with an error")
        page.fill("#code", totp_code(app, member, secret))
        submit()
        assert "Logged in as" in page.content(), [s for s in served if "static" not in s[1]]
        check("home")
        for path in ("/staff/members", "/staff/audit", "/staff/set-up/not-a-link"):
            page.goto(BASE + path)
            check(path)
        page.goto(BASE + "/staff/members")
        submit(f"form[action$='/{target.id}/disable'] button")
        check("members after disabling")
        page.goto(BASE + set_up_path)
        check("set-up password")
        page.fill("#password", "short")
        page.fill("#confirm", "short")
        submit()
        assert "at least 8 characters" in page.content(), page.locator("h1").inner_text()
        check("set-up password with an error")
        page.fill("#password", "a long staff passphrase")
        page.fill("#confirm", "a long staff passphrase")
        submit()
        check("set-up authenticator")
        key = re.search(r'<code class="idp-key">([A-Z2-7 ]+)</code>', page.content()).group(1).replace(" ", "")
        page.fill("#code", "000")
        submit()
        check("set-up authenticator with an error")
        assert pyotp.TOTP(key).now()
        browser.close()
    assert not problems, "\n\n".join(problems)
