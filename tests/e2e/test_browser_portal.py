"""Real-browser integrator portal (issue 11): an organisation signs up at /developer from the emailed link (a
password, then an authenticator app), describes a P9 service, registers a sandpit client with a PEM public key
and a loopback redirect URI, makes a P9 test person, and a relying party of this test's own, running the Python
snippet the client page shows, logs that person in (the security code read on the portal's test person page) and
gets an ID token at P9.Cp.Cd. An integration client is then only a request, until an admin of the staff area
approves it from the queue (the difference table); the same relying party then logs in through it. axe-core
checks every portal and staff page shown (the client form and the review once with an error), the patients' login
pages on the way, and the portal's login page.

The HTTP-level versions are tests/developer/ (and tests/developer/test_client_configuration.py, which runs the
same snippet against the test client). The stack is browser_support.py's (the provider served by gunicorn on a
development instance, which registers every environment); the relying party is a ThreadingHTTPServer on
http://127.0.0.1:<free port> (loopback http redirect URIs are allowed on a development instance). Steps and page
checks are test_browser_journeys.py's ``Journey`` (every provider page the browser renders is checked).

Needs: Chromium (`make browser`), axe-core (`make assets`). Missing either fails, it never skips.
"""
from __future__ import annotations

import html
import json
import re
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet
from playwright.sync_api import expect

from benchmarks.served import free_port, rsa_key_pair
from browser_support import CODE
from test_browser_journeys import Journey, provider_paths

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PORTAL = "/developer"
ANY = "[^/?]+"  # one path segment: a token or an id
P9 = "P9.Cp.Cd"
# Every new page this test shows, each checked with axe-core at least once (paths, as regexes).
PAGES_CHECKED = [PORTAL + p for p in (
    "/sign-up", f"/set-up/{ANY}", f"/set-up/{ANY}/authenticator", "/", "/services/new", f"/services/{ANY}",
    f"/services/{ANY}/clients/new", f"/clients/{ANY}", "/test-people", f"/test-people/{ANY}", "/team", "/audit",
    "/login")] + ["/staff/client-requests", f"/staff/client-requests/{ANY}"]


# --- the relying party of this test --------------------------------------------------------------------------
class SnippetRelyingParty:
    """A relying party on http://127.0.0.1:<port> that runs the Python (Authlib) snippet of a client's portal page,
    as an integrator pastes it: ``/login?client=<name>`` calls its ``start_login()`` and sends the browser to the
    provider; ``/callback`` calls ``finish_login()`` (private_key_jwt RS512, PKCE), checks the ID token's
    signature, iss, aud and nonce, and shows its vot (``#vot``) and claims (``#claims``)."""

    def __init__(self, issuer: str, private_key_file: str):
        self.issuer, self.private_key_file = issuer, private_key_file
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.redirect_uri = self.url + "/callback"
        self.snippets: dict[str, dict] = {}  # client name -> the exec'd snippet's globals
        self.pending: dict[str, tuple[str, dict]] = {}  # state -> (client name, what start_login saved)
        self.claims: list[dict] = []
        self.errors: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    def add_client(self, name: str, code: str) -> dict:
        """The snippet, exec'd as printed; only where its private key is read from changes."""
        snippet: dict = {}
        exec(compile(code, f"snippet-{name}.py", "exec"), snippet)
        snippet["PRIVATE_KEY_FILE"] = self.private_key_file  # read by oauth_client() at each call
        self.snippets[name] = snippet
        return snippet

    def _login(self, query: dict) -> tuple[int, dict, str]:
        name = query["client"][0]
        url, saved = self.snippets[name]["start_login"]()
        self.pending[saved["state"]] = (name, saved)
        return 302, {"Location": url}, ""

    def _callback(self, path: str, query: dict) -> tuple[int, dict, str]:
        if "error" in query:
            raise AssertionError(f"the provider answered the callback with {query}")
        name, saved = self.pending.pop(query["state"][0])
        snippet = self.snippets[name]
        token = snippet["finish_login"](self.url + path, saved)
        keys = KeySet.import_key_set(requests.get(snippet["metadata"]["jwks_uri"], timeout=10).json())
        claims = jwt.decode(token["id_token"], keys, algorithms=["RS512"]).claims
        assert claims["iss"] == self.issuer and claims["aud"] == snippet["CLIENT_ID"], claims
        assert claims["nonce"] == saved["nonce"], claims
        self.claims.append({**claims, "client": name})
        body = (f"<h1>Logged in through {html.escape(name)}</h1><p id=\"vot\">{html.escape(claims['vot'])}</p>"
                f"<pre id=\"claims\">{html.escape(json.dumps(claims))}</pre>")
        return 200, {"Content-Type": "text/html; charset=utf-8"}, body

    def _handler(self):
        rp = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                try:
                    if parts.path == "/login":
                        status, headers, body = rp._login(query)
                    elif parts.path == "/callback":
                        status, headers, body = rp._callback(self.path, query)
                    else:
                        status, headers, body = 404, {}, "not found"
                except Exception:  # shown to the test, which fails on it
                    rp.errors.append(traceback.format_exc())
                    status, headers, body = 500, {"Content-Type": "text/plain"}, rp.errors[-1]
                page = (f"<!doctype html><html lang=\"en\"><head><title>Test RP</title></head><body><main>{body}"
                        f"</main></body></html>") if status == 200 else body
                data = page.encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        return Handler


# --- steps --------------------------------------------------------------------------------------------------
def submit_and_check(journey, form: str = "main form[method=post]", status: int = 200) -> None:
    """Press the form's submit button, wait for the page it answers with (redirects followed), check it with
    axe-core (a page answered to a POST at the same path, or a 400, is not told apart by ``on_provider``)."""
    with journey.page.expect_navigation() as navigation:
        journey.submit(form)
    answer = navigation.value
    assert answer is not None and answer.status == status, \
        f"{answer and answer.status} {journey.page.url}: {journey.page.locator('main').inner_text()[:500]}"
    journey.page.wait_for_load_state("load")
    if status >= 400:
        expect(journey.page.locator(".nhsuk-error-summary")).to_be_visible()
        expect(journey.page.locator(".nhsuk-error-summary a[href]").first).to_be_visible()
    journey.check_page()


def set_up_account(journey, link: str, area: str, password: str) -> None:
    """An emailed set-up link of the portal or the staff area: a password, then the authenticator app's key
    (typed in from "I cannot scan the QR code"), its code; lands on the area's home, logged in."""
    journey.page.goto(link)
    journey.on_provider(f"{area}/set-up/{ANY}")
    journey.page.fill("#password", password)
    journey.page.fill("#confirm", password)
    journey.submit()
    journey.on_provider(f"{area}/set-up/{ANY}/authenticator")
    journey.page.click("main details summary")
    key = journey.page.inner_text("code.idp-key")
    assert re.fullmatch(r"[A-Z2-7]{4}( [A-Z2-7]{1,4})+", key), key  # in groups, spaces between
    journey.enter_code(pyotp.TOTP(key.replace(" ", "")).now())
    journey.on_provider(f"{area}/")


def client_form(journey, redirect_uri: str, public_pem: bytes) -> None:
    """The register-a-client form: the redirect URI, openid and email, P9.Cp.Cd, a PEM public key."""
    journey.page.fill("#redirect_uris", redirect_uri)
    journey.page.check('input[name=scopes][value="openid"]')
    journey.page.check('input[name=scopes][value="email"]')
    journey.page.check(f'input[name=vectors][value="{P9}"]')
    journey.page.check('input[name=key_kind][value="pem"]')
    journey.page.fill("#key", public_pem.decode())


def configuration(journey) -> dict[str, str]:
    """The client page's configuration summary list: ``<code data-name=...>`` by name."""
    codes = journey.page.locator("#configuration code[data-name]")
    return {codes.nth(i).get_attribute("data-name"): codes.nth(i).inner_text() for i in range(codes.count())}


def registered_with(stack, redirect_uri: str) -> dict[str, str]:
    """The clients of the served database that may redirect to ``redirect_uri``: client_id -> environment."""
    from idp.extensions import db
    from idp.models import Client

    with stack.app.app_context():
        try:
            return {c.client_id: c.environment for c in Client.query.all() if redirect_uri in c.redirect_uris}
        finally:
            db.session.remove()


def log_in_at_provider(person, stack, rp, who: dict, read_code) -> None:
    """From the provider's first page to the relying party's callback: the password, the security code (from
    ``read_code()``) and the consent, whichever the provider asks for."""
    provider = re.escape(stack.idp_url)
    pages = re.compile(rf"{provider}/(login|login/security-code|consent)(\?|$)|{re.escape(rp.redirect_uri)}\?")
    while True:
        person.page.wait_for_url(pages)
        path = urlsplit(person.page.url).path
        if person.page.url.startswith(rp.redirect_uri):
            return
        person.on_provider(path)
        with person.page.expect_navigation():
            if path == "/login":
                if person.page.locator("#email").count():
                    person.page.fill("#email", who["email"])
                person.page.fill("#password", who["password"])
                person.submit()
            elif path == "/login/security-code":
                person.enter_code(read_code())
            else:
                person.page.click("#decision-allow")


def test_an_integrator_from_sign_up_to_an_approved_integration_client(stack, browser, tmp_path):
    """Sign up, a service, a sandpit client and a P9 test person, a login through the client page's own snippet
    at P9.Cp.Cd; an integration client requested, approved by a staff admin, then logged in through. Four
    browser contexts: the integrator, the test person (at the relying party), the admin, and a visitor."""
    private_pem, public_pem = rsa_key_pair()  # RSA 2048, cryptography
    private_key_file = tmp_path / "private-key.pem"
    private_key_file.write_bytes(private_pem)
    email, password = "lead.integrator@supplier.example", "a long integrator passphrase 2026"
    portal, person, staff, visitor = (Journey(browser, stack, "en") for _ in range(4))
    with SnippetRelyingParty(stack.idp_url, str(private_key_file)) as rp:
        try:
            # --- 1. sign up (refused empty first), the emailed link, a password and an authenticator app ------
            portal.page.goto(stack.idp_url + PORTAL + "/sign-up")
            portal.on_provider(PORTAL + "/sign-up")
            submit_and_check(portal, status=400)
            expect(portal.page.locator("#organisation_name[aria-describedby*=error]")).to_have_count(1)
            portal.page.fill("#organisation_name", "Supplier Health Ltd")
            portal.page.check('input[name=identifier_kind][value="company_number"]')
            portal.page.fill("#identifier", "01234567")
            portal.page.fill("#contact_name", "Lee Integrator")
            portal.page.fill("#email", email)
            submit_and_check(portal)  # "Check your email", at the same path
            expect(portal.page.locator("main h1")).to_contain_text("Check your email")
            expect(portal.page.locator("main")).to_contain_text(email)
            [link] = stack.links_sent(email, stack.idp_url + PORTAL + "/set-up/")
            set_up_account(portal, link, PORTAL, password)
            expect(portal.page.locator("body")).to_contain_text(f"Supplier Health Ltd: logged in as {email}")

            # --- 2. a P9 service ------------------------------------------------------------------------------
            portal.page.click(f'main a[href$="{PORTAL}/services/new"]')
            portal.on_provider(PORTAL + "/services/new")
            portal.page.fill("#name", "Repeat prescriptions")
            portal.page.fill("#purpose", "Order repeat prescriptions from your GP surgery.")
            portal.page.fill("#audience", "Patients of GP surgeries in Leeds, aged 16 and over.")
            portal.page.check('input[name=proofing_level][value="P9"]')
            portal.page.check(f'input[name=vectors][value="{P9}"]')
            portal.submit()
            portal.on_provider(f"{PORTAL}/services/{ANY}")
            service_url = portal.page.url
            expect(portal.page.locator("main h1")).to_have_text("Repeat prescriptions")
            expect(portal.page.locator("#clients")).to_have_count(0)

            # --- 3. a sandpit client (refused empty first): the configuration to paste ------------------------
            portal.page.click('main a[href*="/clients/new"][href*="environment=sandpit"]')
            portal.on_provider(f"{PORTAL}/services/{ANY}/clients/new")
            expect(portal.page.locator('input[name=environment][value="sandpit"]')).to_be_checked()
            submit_and_check(portal, status=400)  # no key (nor redirect URI)
            expect(portal.page.locator("#key[aria-describedby*=error]")).to_have_count(1)  # "Paste your public key"
            client_form(portal, rp.redirect_uri, public_pem)
            portal.submit()
            portal.on_provider(f"{PORTAL}/clients/{ANY}")
            expect(portal.page.locator("main [role=status]")).to_be_visible()  # "registered and works now"
            sandpit = configuration(portal)
            assert sandpit["issuer"] == stack.idp_url and sandpit["environment"] == "sandpit", sandpit
            assert sandpit["redirect_uris"] == rp.redirect_uri and sandpit["scope"] == "openid email", sandpit
            assert json.loads(sandpit["vtr"]) == [P9] and sandpit["token_endpoint_auth_method"] == "private_key_jwt"
            assert sandpit["discovery_url"] == stack.idp_url + "/.well-known/openid-configuration"
            expect(portal.page.locator("#keys tbody tr")).to_contain_text("RSA 2048 bits")
            snippet = rp.add_client("sandpit", portal.page.text_content("#snippet-python"))
            assert (snippet["ISSUER"], snippet["CLIENT_ID"], snippet["REDIRECT_URI"], snippet["SCOPE"],
                    snippet["VTR"]) == (sandpit["issuer"], sandpit["client_id"], rp.redirect_uri,
                                        sandpit["scope"], sandpit["vtr"])

            # --- 4. a P9 test person: email and password shown once ---------------------------------------------
            portal.page.click(f'a[href$="{PORTAL}/test-people"]')
            portal.on_provider(PORTAL + "/test-people")
            portal.page.check('input[name=level][value="P9"]')
            submit_and_check(portal)  # "Test person made", at the same path
            who = {"email": portal.page.inner_text('#created code[data-name="email"]'),
                   "password": portal.page.inner_text('#created code[data-name="password"]')}
            portal.page.click("#people tbody a")
            portal.on_provider(f"{PORTAL}/test-people/{ANY}")
            test_person_url = portal.page.url
            mobile = portal.page.locator("main .nhsuk-summary-list__row", has_text="Mobile phone") \
                .locator("dd").inner_text().strip()
            assert re.fullmatch(r"\+447700900\d{3}", mobile), mobile

            def code_from_the_portal() -> str:
                """The newest SMS code, as the portal's test person page shows it (once it is delivered)."""
                code = stack.next_code(mobile)
                portal.page.goto(test_person_url)
                portal.on_provider(f"{PORTAL}/test-people/{ANY}")
                newest = portal.page.locator("#messages tbody tr").first.locator("td")
                expect(newest.nth(1)).to_have_text("sms")
                shown = CODE.search(newest.nth(2).inner_text())
                assert shown and shown.group(0).replace(" ", "") == code, newest.nth(2).inner_text()
                return shown.group(0).replace(" ", "")

            # --- 5. the relying party logs the test person in through the sandpit client: P9.Cp.Cd -------------
            person.page.goto(rp.url + "/login?client=sandpit")
            log_in_at_provider(person, stack, rp, who, code_from_the_portal)
            assert not rp.errors, rp.errors[-1]
            expect(person.page.locator("#vot")).to_have_text(P9)
            claims = rp.claims[-1]
            assert claims["vot"] == P9 and claims["aud"] == sandpit["client_id"], claims
            assert claims["email"] == who["email"] and claims["email_verified"] is True, claims  # the email scope
            assert provider_paths(person) == ["/login", "/login/security-code", "/consent"]

            # --- 6. an integration client is only a request until it is approved -------------------------------
            portal.page.goto(service_url)
            portal.on_provider(f"{PORTAL}/services/{ANY}")
            portal.page.click('main a[href*="/clients/new"][href*="environment=integration"]')
            portal.on_provider(f"{PORTAL}/services/{ANY}/clients/new")
            expect(portal.page.locator('input[name=environment][value="integration"]')).to_be_checked()
            client_form(portal, rp.redirect_uri, public_pem)
            portal.submit()
            portal.on_provider(f"{PORTAL}/services/{ANY}")  # ?requested=<id>
            assert "requested=" in portal.page.url
            expect(portal.page.locator("main [role=status]")).to_contain_text("sent for approval")
            expect(portal.page.locator("#clients tbody tr")).to_have_count(1)  # the sandpit client only
            expect(portal.page.locator("#clients tbody")).not_to_contain_text("integration")
            expect(portal.page.locator("#requests tbody tr")).to_have_count(1)
            expect(portal.page.locator("#requests tbody tr")).to_contain_text("Waiting for approval")
            expect(portal.page.locator("#requests tbody tr")).not_to_contain_text("(")  # no client_id yet
            # Nothing was registered: the one client of the served database with this redirect URI is the sandpit
            # one, and the request waits without a client_id (the client_id is made when it is approved).
            assert registered_with(stack, rp.redirect_uri) == {sandpit["client_id"]: "sandpit"}

            # --- 7. an admin of the staff area approves it from the queue --------------------------------------
            staff_link = stack.add_staff("portal.admin@nhs.example", "admin")
            assert staff_link.startswith(stack.idp_url + "/staff/set-up/"), staff_link
            set_up_account(staff, staff_link, "/staff", "a long staff passphrase 2026")
            staff.page.click('main a[href$="/staff/client-requests"]')
            staff.on_provider("/staff/client-requests")
            expect(staff.page.locator("#requests tbody tr")).to_have_count(1)
            expect(staff.page.locator("#requests tbody tr")).to_contain_text("Repeat prescriptions")
            staff.page.click("#requests tbody a")
            staff.on_provider(f"/staff/client-requests/{ANY}")
            expect(staff.page.locator("main")).to_contain_text("Supplier Health Ltd (01234567, as the organisation gave it: not verified)")
            expect(staff.page.locator("main")).to_contain_text(email)
            scopes_row = staff.page.locator("#difference tbody tr", has_text="Scopes")
            expect(scopes_row.locator("td").first).to_have_text("email, openid")  # all added: a new client
            redirect_row = staff.page.locator("#difference tbody tr", has_text="Redirect URIs")
            expect(redirect_row.locator("td").first).to_have_text(rp.redirect_uri)
            expect(staff.page.locator("#flags")).to_have_count(0)  # nothing that carries more risk
            submit_and_check(staff, status=400)  # no decision chosen
            staff.page.check('input[name=decision][value="approve"]')
            staff.submit()
            staff.on_provider("/staff/client-requests")  # ?decided=<id>
            expect(staff.page.locator("main [role=status]")).to_be_visible()
            expect(staff.page.locator("#requests")).to_have_count(0)

            # --- the integrator's service now has the integration client; the RP logs in through it -----------
            portal.page.goto(service_url)
            portal.on_provider(f"{PORTAL}/services/{ANY}")
            expect(portal.page.locator("#clients tbody tr")).to_have_count(2)
            expect(portal.page.locator("#requests tbody tr")).to_contain_text("Approved")
            portal.page.locator("#clients tbody tr", has_text="integration").locator("a").click()
            portal.on_provider(f"{PORTAL}/clients/{ANY}")
            integration = configuration(portal)
            assert integration["environment"] == "integration" and integration["client_id"] != sandpit["client_id"]
            assert integration["redirect_uris"] == rp.redirect_uri and json.loads(integration["vtr"]) == [P9]
            assert registered_with(stack, rp.redirect_uri) == {sandpit["client_id"]: "sandpit",
                                                               integration["client_id"]: "integration"}
            expect(portal.page.locator("main h1")).to_contain_text(integration["client_id"])
            rp.add_client("integration", portal.page.text_content("#snippet-python"))
            before = len(person.shown)
            person.page.goto(rp.url + "/login?client=integration")
            log_in_at_provider(person, stack, rp, who, code_from_the_portal)
            assert not rp.errors, rp.errors[-1]
            expect(person.page.locator("#vot")).to_have_text(P9)
            claims = rp.claims[-1]
            assert claims["client"] == "integration" and claims["aud"] == integration["client_id"], claims
            assert claims["vot"] == P9 and claims["email"] == who["email"], claims
            # Still logged in at the provider at P9.Cp.Cd: only the consent to share with this new client.
            assert provider_paths(person, before) == ["/consent"]

            # --- 8. the portal's other pages, and its login page (a fresh browser, refused empty first) --------
            portal.page.goto(stack.idp_url + PORTAL + "/test-people")
            portal.on_provider(PORTAL + "/test-people")
            expect(portal.page.locator("#created")).to_have_count(0)  # the password was shown once
            portal.page.click(f'nav a[href$="{PORTAL}/team"]')
            portal.on_provider(PORTAL + "/team")
            expect(portal.page.locator("#members tbody tr")).to_contain_text(email)
            portal.page.click(f'nav a[href$="{PORTAL}/audit"]')
            portal.on_provider(PORTAL + "/audit")
            events = portal.page.inner_text("#events tbody")
            for action in ("organisation.signed_up", "set_up.completed", "service.created", "client.registered",
                           "test_person.created", "client.requested", "client.approved"):
                assert action in events, f"{action} not in the audit:\n{events}"
            visitor.page.goto(stack.idp_url + PORTAL + "/login")
            visitor.on_provider(PORTAL + "/login")
            submit_and_check(visitor, status=400)
            for journey in (portal, person, staff, visitor):
                journey.assert_accessible()
            checked = portal.checked | visitor.checked | staff.checked
            for page in PAGES_CHECKED:
                assert any(re.fullmatch(page, path) for path in checked), f"{page} not checked: {sorted(checked)}"
        finally:
            for journey in (portal, person, staff, visitor):
                journey.close()
