"""Real-browser journeys: headless Chromium (Debian's, driven by Playwright) through the demo relying party to
the provider and back, with axe-core checking every provider page the browser shows, in English and in Welsh.

The provider (gunicorn, 2 workers) and the demo RP are served on http://localhost ports (browser_support.py);
security codes come from the served provider's development outbox. Journeys 1 and 3, which between them show
every provider page reached here, run in English and in Welsh; 2 and 4 (no page the others lack) in English.
The Welsh run picks Cymraeg with the language link on the provider's first page, and every provider page after
it must then be in Welsh (``<html lang="cy">``). Selectors avoid visible text, so both languages share the steps.

Needs: Chromium (`make browser`), axe-core (`make assets`). Missing either fails, it never skips.
"""
from __future__ import annotations

import itertools
import json
import re
import secrets
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from browser_support import check_accessibility, format_violations

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

# Journeys 1 and 3 between them show every provider page these tests reach (login, the four account creation
# pages, consent, security code, adding a passkey, the passkey login): they run in both languages.
BOTH_LANGUAGES = pytest.mark.parametrize("journey", ["en", "cy"], indirect=True)
TIMEOUT_MS = 15_000
_numbers = itertools.count(100)


def new_person(stack) -> dict:
    """A P0 person with a password and a verified mobile (Ofcom's drama range), made straight in the database."""
    n = next(_numbers)
    person = {"email": f"browser.{n}.{secrets.token_hex(3)}@example.com",
              "password": "browser-" + secrets.token_urlsafe(12),
              "phone": f"+447700900{n:03d}"}
    stack.add_person(person["email"], person["password"], phone=person["phone"])
    return person


class Journey:
    """One browser context (its own cookies) and page, with the steps every journey shares.

    Every page the provider shows (a 200 HTML document) is recorded; ``on_provider`` waits for the next one,
    checks it with axe-core and, once Welsh is chosen, that it is in Welsh.
    """

    def __init__(self, browser, stack, lang: str):
        self.stack, self.lang = stack, lang
        # bypass_csp: the provider's CSP (script-src 'self' 'nonce-...') would refuse the injected axe-core.
        self.context = browser.new_context(bypass_csp=True, locale="en-GB")
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        self.shown: list[str] = []  # provider pages the browser rendered, in order
        self.checked: set[str] = set()  # paths of the pages checked with axe-core
        self.violations: list[str] = []
        self.welsh_chosen = False
        self.page.on("response", self._record)

    def _record(self, response) -> None:
        request = response.request
        if (request.resource_type == "document" and response.url.startswith(self.stack.idp_url)
                and response.status == 200 and request.frame == self.page.main_frame):
            self.shown.append(response.url)

    def close(self) -> None:
        self.context.close()

    # --- the provider's pages -------------------------------------------------------------------------
    def on_provider(self, path: str) -> None:
        """Wait until the provider shows ``path`` (a regex on the URL path), then check the page."""
        pattern = re.compile(re.escape(self.stack.idp_url) + path + r"(\?|$)")
        self.page.wait_for_url(pattern)
        self.page.wait_for_load_state("load")
        self.check_page()

    def check_page(self) -> None:
        url = self.page.url
        if self.lang == "cy" and not self.welsh_chosen:
            self.choose_welsh()
            url = self.page.url
        if self.welsh_chosen:
            assert self.page.get_attribute("html", "lang") == "cy", f"not in Welsh: {url}"
        violations = check_accessibility(self.page)
        self.checked.add(urlsplit(url).path)
        if violations:
            self.violations.append(format_violations(f"{self.lang} {url}", violations))

    def choose_welsh(self) -> None:
        """The language link (shown on the login and consent pages) reloads the page in Welsh."""
        link = self.page.locator('a[hreflang="cy"]')
        expect(link).to_have_count(1)
        link.click()
        self.page.wait_for_url(re.compile(r"[?&]lang=cy"))
        self.page.wait_for_load_state("load")
        self.welsh_chosen = True

    def submit(self, form: str = "main form[method=post]") -> None:
        """Press the form's first submit button (by its place, not its words)."""
        self.page.locator(form).first.locator("button[type=submit], button:not([type])").first.click()

    def enter_code(self, code: str, *, remember: bool = False) -> None:
        self.page.fill("#code", code)
        if remember:
            self.page.check("#remember")
        self.submit()

    def log_in_with_password(self, person: dict) -> None:
        self.on_provider("/login")
        if self.page.locator("#email").count():
            self.page.fill("#email", person["email"])
        self.page.fill("#password", person["password"])
        self.submit()

    def consent_if_asked(self) -> None:
        """The first login to the demo RP asks to share; later ones go straight back."""
        self.page.wait_for_url(re.compile(re.escape(self.stack.idp_url) + r"/consent|" + re.escape(self.stack.rp_url)))
        if self.page.url.startswith(self.stack.idp_url):
            self.on_provider("/consent")
            self.page.click("#decision-allow")

    # --- the demo relying party --------------------------------------------------------------------------
    def rp_login(self, vtr: str) -> None:
        """On the demo RP, choose the radio sending exactly ``vtr`` and press Log in."""
        self.page.goto(self.stack.rp_url + "/")
        self.page.check(f'input[name=vtr][value="{vtr}"]')
        self.page.click('form[action$="/login"] button[type=submit]')

    def at_rp_logged_in(self) -> dict:
        """Back at the demo RP, logged in: the ID token's claims (vot, sid, sub...)."""
        self.page.wait_for_url(re.compile(re.escape(self.stack.rp_url) + r"/(\?|$)"))
        expect(self.page.locator("#vot")).to_be_visible()
        return json.loads(self.page.inner_text("#id-token-claims"))

    def rp_logout(self) -> None:
        """The demo RP's Log out: RP-initiated logout at the provider, which sends the browser back."""
        self.page.click('form[action$="/logout"] button[type=submit]')
        self.page.wait_for_url(re.compile(re.escape(self.stack.rp_url) + r"/\?"))
        expect(self.page.locator('form[action$="/logout"]')).to_have_count(0)
        # Logging out ends the login; the language chosen in this browser stays (every page after must be Welsh).

    def assert_accessible(self) -> None:
        unchecked = [url for url in self.shown if urlsplit(url).path not in self.checked]
        assert not unchecked, f"provider pages shown but not checked with axe-core: {unchecked}"
        assert not self.violations, "\n\n".join(self.violations)


@pytest.fixture
def journey(request, stack, browser):  # stack first: it outlives the browser's keep-alive connections
    journey = Journey(browser, stack, getattr(request, "param", "en"))
    yield journey
    journey.close()


def provider_paths(journey, since: int = 0) -> list[str]:
    """The paths of the provider pages shown since ``since``, a page shown again (in Welsh) counted once."""
    paths = [urlsplit(url).path for url in journey.shown[since:]]
    return [path for i, path in enumerate(paths) if i == 0 or paths[i - 1] != path]


# --- 1. create an account from the login page ----------------------------------------------------------
@BOTH_LANGUAGES
def test_create_an_account_from_the_login_page(journey, stack):
    n = next(_numbers)
    email = f"new.{n}.{secrets.token_hex(3)}@example.com"
    mobile, e164 = f"07700 900{n:03d}", f"+447700900{n:03d}"
    journey.rp_login("P0.Cp")
    journey.on_provider("/login")
    journey.page.click('a[href*="/create-account"]')

    journey.on_provider("/create-account")
    journey.page.fill("#email", email)
    journey.page.fill("#password", "browser-" + secrets.token_urlsafe(12))
    journey.page.check("#terms")
    journey.submit()

    journey.on_provider("/create-account/email-code")
    journey.enter_code(stack.next_code(email))

    journey.on_provider("/create-account/phone")
    journey.page.fill("#phone", mobile)
    journey.submit()

    journey.on_provider("/create-account/phone-code")
    journey.enter_code(stack.next_code(e164))

    journey.consent_if_asked()
    claims = journey.at_rp_logged_in()
    assert claims["vot"] == "P0.Cp"
    assert email in journey.page.inner_text("#userinfo")
    journey.assert_accessible()


# --- 2. remember this device -----------------------------------------------------------------------------
def test_a_remembered_device_is_not_sent_a_code_again(journey, stack):
    person = new_person(stack)
    journey.rp_login("P0.Cp.Cd")
    journey.log_in_with_password(person)
    journey.on_provider("/login/security-code")
    journey.enter_code(stack.next_code(person["phone"]), remember=True)
    journey.consent_if_asked()
    assert journey.at_rp_logged_in()["vot"] == "P0.Cp.Cd"
    journey.rp_logout()

    before, sent = len(journey.shown), stack.messages_to(person["phone"])
    journey.rp_login("P0.Cp.Cd")
    journey.log_in_with_password(person)
    assert journey.at_rp_logged_in()["vot"] == "P0.Cp.Cd"
    assert provider_paths(journey, before) == ["/login"], "asked for more than the password on a remembered device"
    assert stack.messages_to(person["phone"]) == sent, "a security code was sent to a remembered device"
    journey.assert_accessible()


# --- 3. a passkey: added inside a step-up, then logging in with it alone ---------------------------------
def add_virtual_authenticator(context, page) -> tuple:
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True}})
    return cdp, added["authenticatorId"]


@BOTH_LANGUAGES
def test_a_passkey_added_in_a_step_up_logs_in_alone(journey, stack, browser):
    person = new_person(stack)
    cdp, authenticator = add_virtual_authenticator(journey.context, journey.page)
    journey.rp_login("P0.Cp")
    journey.log_in_with_password(person)
    journey.consent_if_asked()
    first = journey.at_rp_logged_in()
    assert first["vot"] == "P0.Cp"

    # P0.Cm from someone without a passkey: a complete login with their own factors first (the security code),
    # then the provider offers to add one.
    journey.rp_login("P0.Cm")
    journey.on_provider("/login/security-code")
    journey.enter_code(stack.next_code(person["phone"]))
    journey.on_provider("/login/set-up/passkey")
    journey.page.fill("#name", "Virtual authenticator")
    journey.submit("form[data-passkey]")
    stepped_up = journey.at_rp_logged_in()
    assert stepped_up["vot"] == "P0.Cm"
    assert stepped_up["sub"] == first["sub"]
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert len(credentials) == 1 and credentials[0]["isResidentCredential"]

    # A fresh browser context (no cookies at all) holding only that passkey: it alone logs in.
    fresh = Journey(browser, stack, journey.lang)
    try:
        fresh_cdp, fresh_authenticator = add_virtual_authenticator(fresh.context, fresh.page)
        fresh_cdp.send("WebAuthn.addCredential", {"authenticatorId": fresh_authenticator, "credential": credentials[0]})
        fresh.rp_login("P0.Cm")
        fresh.on_provider("/login")
        fresh.page.click('a[href*="/login/passkey"]')
        fresh.on_provider("/login/passkey")
        fresh.submit("form[data-passkey]")
        claims = fresh.at_rp_logged_in()
        assert claims["vot"] == "P0.Cm"
        assert claims["sub"] == first["sub"]
        assert provider_paths(fresh) == ["/login", "/login/passkey"]
        fresh.assert_accessible()
    finally:
        fresh.close()
    journey.assert_accessible()


# --- 4. a step-up inside one authorization request -------------------------------------------------------
def test_a_step_up_asks_only_for_the_security_code(journey, stack):
    person = new_person(stack)
    journey.rp_login("P0.Cp")
    journey.log_in_with_password(person)
    journey.consent_if_asked()
    first = journey.at_rp_logged_in()
    assert first["vot"] == "P0.Cp"

    before = len(journey.shown)
    journey.rp_login("P0.Cp.Cd")
    journey.on_provider("/login/security-code")
    journey.enter_code(stack.next_code(person["phone"]))
    stepped_up = journey.at_rp_logged_in()
    assert stepped_up["vot"] == "P0.Cp.Cd"
    assert stepped_up["sub"] == first["sub"]
    assert stepped_up["sid"] == first["sid"], "a step-up keeps the provider session"
    assert provider_paths(journey, before) == ["/login/security-code"]
    journey.assert_accessible()


# --- the checker itself -----------------------------------------------------------------------------------
def test_axe_reports_a_violation_on_a_provider_page(journey, stack):
    """So that a green run means axe-core ran on the pages (despite their CSP) and would have said."""
    journey.page.goto(stack.idp_url + "/login")
    journey.page.evaluate("() => document.querySelector('label[for=email]').remove()")
    violations = check_accessibility(journey.page)
    assert "label" in [v["id"] for v in violations]
    report = format_violations(journey.page.url, violations)
    assert "label (critical): Form elements must have labels" in report and "#email" in report
