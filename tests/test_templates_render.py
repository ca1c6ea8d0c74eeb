"""Render every page template through the real app (``create_app``: its Jinja set-up, context processors,
translations, CSP nonce and CSRF token) and check what people (and assistive technology) would get:
titles, headings, labels, error summaries, form fields, buttons, and that the page honours the strict CSP
(every <script> has the nonce, no inline styles or event handlers). Escaping is the app's own, so a change
that stops escaping the nhsuk .jinja macros fails here.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import g, render_template
from flask_wtf.csrf import generate_csrf

from support import make_app

REPO = Path(__file__).resolve().parents[1]
STATIC = REPO / "idp" / "static"

SERVICE = "NHS login"


# --------------------------------------------------------------------------
# A tiny DOM, enough to query rendered pages like a person would read them.
# --------------------------------------------------------------------------

VOID = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link",
    "meta", "source", "track", "wbr",
}


class Node:
    def __init__(self, tag: str, attrs: dict[str, str | None], parent: Node | None):
        self.tag = tag
        self.attrs = attrs
        self.parent = parent
        self.children: list[Node | str] = []

    def raw_text(self) -> str:
        return "".join(c if isinstance(c, str) else c.raw_text() for c in self.children)

    def text(self) -> str:
        return re.sub(r"\s+", " ", self.raw_text()).strip()

    def iter(self):
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs) -> list[Node]:
        found = []
        for node in self.iter():
            if tag is not None and node.tag != tag:
                continue
            if all(node._matches(k.rstrip("_").replace("_", "-"), v) for k, v in attrs.items()):
                found.append(node)
        return found

    def _matches(self, name: str, value: str) -> bool:
        if name == "class":
            return value in self.classes()
        return self.attrs.get(name) == value

    def find(self, tag: str | None = None, **attrs) -> Node:
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag}> with {attrs}"
        return found[0]

    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


class TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, dict(attrs), self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse(html: str) -> Node:
    builder = TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


# --------------------------------------------------------------------------
# App and rendering
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app(template_db, tmp_path_factory):
    """The real app (``create_app``, as conftest's ``app``), built once for this module: rendering reads no
    database, so the migrated template database serves every test."""
    url, _base, _keys = template_db
    return make_app(url, str(tmp_path_factory.mktemp("render")))


@pytest.fixture
def render(app):
    """Render ``template`` in a request for / of the real app; returns (html, document). The document also
    carries the request's real CSP nonce and CSRF token (``doc.nonce``, ``doc.csrf``) for the checks."""
    def _render(template: str, **context) -> tuple[str, Node]:
        with app.test_request_context("/"):
            html = render_template(template, **context)
            doc = parse(html)
            doc.nonce, doc.csrf = g.csp_nonce, generate_csrf()
        return html, doc

    return _render


def test_pages_are_rendered_by_the_real_app(app, render):
    assert app.extensions["idp"].settings.service_name == SERVICE
    html, doc = render("errors/error.html", heading="Page not found", message="Check the address.", status=404)
    assert doc.nonce and doc.csrf and doc.nonce != doc.csrf


LOGIN = {
    "email": "",
    "errors": [],
    "client_name": "Example GP Online",
    "action": "/login?sid=abc",
}
CONSENT = {
    "client_name": "Example GP Online",
    "claims": ["Your NHS number", "Your name", "Your date of birth"],
    "action": "/authorize/consent?sid=abc",
    "errors": [],
}
ACCOUNT = {
    "email": "pat@example.org",
    "proofing_level": "P9",
    "consents": [
        {
            "client_id": "client-one",
            "client_name": "Example GP Online",
            "granted_at": "3 March 2025",
            "claims": ["Your NHS number", "Your name"],
        },
        {
            "client_id": "client-two",
            "client_name": "Repeat Prescriptions",
            "granted_at": "9 April 2025",
            "claims": [],
        },
    ],
    "withdraw_action": "/account/consents/withdraw",
    "logout_url": "/logout",
    "methods": {"phone": "••••••••••123", "authenticator_app": None,
                "passkeys": [{"id": "pk1", "name": "My phone", "added": "1 May 2025", "last_used": None}],
                "devices": []},
    "links": {name: f"/account/{name}" for name in (
        "change_email", "change_phone", "change_password", "account_authenticator_app", "remove_authenticator_app",
        "add_passkey", "remove_passkey", "forget_devices", "log_out_everywhere", "delete_account")},
}
LOGOUT_CONFIRM = {
    "action": "/logout",
    "hidden": {
        "state": "st-123",
        "post_logout_redirect_uri": "https://rp.example/after?x=1&y=2",
        "client_id": "client-one",
        "id_token_hint": "eyJhbGciOi.payload.sig",
    },
    "client_name": "Example GP Online",
}
ERROR = {
    "heading": "Sorry, there is a problem with the service",
    "message": "We cannot send you back to the service you were using.",
    "advice": "Go back to the service you were using and try again.",
    "status": 400,
    "oauth_error": "invalid_request",
    "description": "redirect_uri is not registered for this client.",
}

PAGES = {
    "home.html": ({"logged_in": False, "account_url": "/account", "discovery_url": "/.well-known/openid-configuration"}, SERVICE),
    "errors/error.html": (ERROR, "Sorry, there is a problem with the service"),
    "accounts/login.html": (LOGIN, "Log in"),
    "accounts/consent.html": (CONSENT, "Share your information with Example GP Online?"),
    "accounts/account.html": (ACCOUNT, "Your account"),
    "protocol/logout_confirm.html": (LOGOUT_CONFIRM, "Do you want to log out?"),
    "protocol/logged_out.html": ({"client_name": None}, "You have logged out"),
}


# --------------------------------------------------------------------------
# Every page
# --------------------------------------------------------------------------


@pytest.mark.parametrize("template", sorted(PAGES))
def test_page_shell(render, template):
    context, heading = PAGES[template]
    html, doc = render(template, **context)

    assert doc.find("html").attrs["lang"] == "en"

    expected_title = heading if heading == SERVICE else f"{heading} – {SERVICE}"
    assert doc.find("title").text() == expected_title

    h1s = doc.find_all("h1")
    assert len(h1s) == 1
    assert h1s[0].text() == heading
    assert "nhsuk-heading-l" in h1s[0].classes()

    # Header shows the service name, linked to the home page, and has no search.
    header = doc.find("header")
    assert SERVICE in header.text()
    assert not header.find_all("search") and not header.find_all("form")
    assert not doc.find_all("input", type="search")

    # Skip link, main landmark and footer.
    assert doc.find("a", href="#maincontent")
    assert doc.find("main", id="maincontent")
    assert doc.find_all("footer")


@pytest.mark.parametrize("template", sorted(PAGES))
def test_page_honours_strict_csp(render, template):
    context, _ = PAGES[template]
    html, doc = render(template, **context)

    scripts = doc.find_all("script")
    assert scripts, "expected the NHS.UK frontend scripts"
    for script in scripts:
        assert script.attrs.get("nonce") == doc.nonce, script.attrs

    # No inline styles and no inline event handlers anywhere.
    for node in doc.iter():
        assert "style" not in node.attrs, (node.tag, node.attrs)
        assert not [a for a in node.attrs if a.startswith("on")], (node.tag, node.attrs)
    assert not doc.find_all("style")

    # Nothing is loaded from another origin.
    for node in doc.iter():
        if node.tag in {"script", "link", "img"}:
            for attr in ("src", "href"):
                if attr in node.attrs:
                    value = node.attrs[attr]
                    assert value.startswith("/") and not value.startswith("//"), (node.tag, value)


@pytest.mark.parametrize("template", sorted(PAGES))
def test_page_loads_nhsuk_frontend_assets(render, template):
    context, _ = PAGES[template]
    html, doc = render(template, **context)

    stylesheets = [n.attrs["href"] for n in doc.find_all("link", rel="stylesheet")]
    assert stylesheets == ["/static/nhsuk/nhsuk-frontend.min.css"]

    module_srcs = [n.attrs.get("src") for n in doc.find_all("script", type="module")]
    assert "/static/nhsuk/nhsuk-frontend.min.js" in module_srcs
    init = [n for n in doc.find_all("script", type="module") if "src" not in n.attrs]
    assert len(init) == 1 and "initAll()" in init[0].text()
    assert '"/static/nhsuk/nhsuk-frontend.min.js"' in init[0].text()

    icons = [n.attrs["href"] for n in doc.find_all("link") if n.attrs.get("rel") != "stylesheet"]
    assert "/static/nhsuk/assets/images/favicon.ico" in icons
    assert "/static/nhsuk/assets/manifest.json" in icons


@pytest.mark.skipif(
    not (STATIC / "nhsuk" / "nhsuk-frontend.min.css").exists(),
    reason="run scripts/install-frontend.sh to install the NHS.UK frontend assets",
)
def test_every_static_asset_referenced_exists(render):
    context, _ = PAGES["accounts/login.html"]
    html, doc = render("accounts/login.html", **context)
    refs = set()
    for node in doc.iter():
        for attr in ("src", "href"):
            value = node.attrs.get(attr) or ""
            if value.startswith("/static/"):
                refs.add(value)
    assert refs
    for ref in sorted(refs):
        assert (STATIC / ref.removeprefix("/static/")).is_file(), ref


@pytest.mark.parametrize("template", sorted(PAGES))
def test_every_form_posts_with_csrf_token_and_needs_no_javascript(render, template):
    context, _ = PAGES[template]
    html, doc = render(template, **context)
    for form in doc.find_all("form"):
        assert form.attrs["method"] == "post"
        assert form.attrs.get("action")
        tokens = form.find_all("input", name="csrf_token")
        assert len(tokens) == 1
        assert tokens[0].attrs["type"] == "hidden" and tokens[0].attrs["value"] == doc.csrf
        submits = [b for b in form.find_all("button") if b.attrs.get("type") == "submit"]
        assert submits, "every form needs a real submit button"
        for submit in submits:
            assert "hidden" not in submit.attrs
        # Any button that is not a submit button (the password show/hide
        # toggle) is hidden until JavaScript reveals it.
        for button in form.find_all("button"):
            if button.attrs.get("type") != "submit":
                assert "hidden" in button.attrs


def test_html_lang_comes_from_context(render):
    html, doc = render("protocol/logged_out.html", client_name=None, html_lang="cy")
    assert doc.find("html").attrs["lang"] == "cy"


# --------------------------------------------------------------------------
# Log in
# --------------------------------------------------------------------------


def test_login_fields_have_labels_and_autocomplete(render):
    html, doc = render("accounts/login.html", **{**LOGIN, "email": "pat@example.org"})

    form = doc.find("form")
    assert form.attrs["action"] == "/login?sid=abc"

    email = form.find("input", id="email")
    assert email.attrs["name"] == "email"
    assert email.attrs["type"] == "email"
    assert email.attrs["autocomplete"] == "username"
    assert email.attrs["spellcheck"] == "false"
    assert email.attrs["value"] == "pat@example.org"
    assert doc.find("label", for_="email").text() == "Email address"

    password = form.find("input", id="password")
    assert password.attrs["name"] == "password"
    assert password.attrs["type"] == "password"
    assert password.attrs["autocomplete"] == "current-password"
    assert "value" not in password.attrs
    assert doc.find("label", for_="password").text() == "Password"

    continue_button = [b for b in form.find_all("button") if b.attrs.get("type") == "submit"]
    assert [b.text() for b in continue_button] == ["Continue"]

    assert "to continue to Example GP Online" in doc.find("main").text()
    assert not doc.find_all(class_="nhsuk-error-summary")
    assert doc.find("title").text() == f"Log in – {SERVICE}"


def test_login_without_client_name(render):
    html, doc = render("accounts/login.html", **{**LOGIN, "client_name": None})
    assert "continue to" not in doc.find("main").text()


def test_login_with_errors_shows_summary_and_field_errors(render):
    errors = [
        {"field": "email", "message": "Enter your email address"},
        {"field": "password", "message": "Enter your password"},
    ]
    html, doc = render("accounts/login.html", **{**LOGIN, "errors": errors})

    assert doc.find("title").text() == f"Error: Log in – {SERVICE}"

    summary = doc.find("div", class_="nhsuk-error-summary")
    assert summary.find(role="alert")
    assert "There is a problem" in summary.find("h2").text()
    links = {a.attrs["href"]: a.text() for a in summary.find_all("a")}
    assert links == {"#email": "Enter your email address", "#password": "Enter your password"}

    # The summary comes before the heading and the form.
    order = [n for n in doc.iter() if n.tag in {"h1", "form"} or "nhsuk-error-summary" in n.classes()]
    assert "nhsuk-error-summary" in order[0].classes()

    for field, message in (("email", "Enter your email address"), ("password", "Enter your password")):
        error = doc.find(id=f"{field}-error")
        assert message in error.text()
        assert "nhsuk-error-message" in error.classes()
        field_input = doc.find("input", id=field)
        assert f"{field}-error" in field_input.attrs["aria-describedby"].split()
        assert "nhsuk-input--error" in field_input.classes()


def test_login_error_without_field_links_to_email(render):
    errors = [{"field": None, "message": "Enter a correct email address and password"}]
    html, doc = render("accounts/login.html", **{**LOGIN, "errors": errors, "email": "pat@example.org"})
    summary = doc.find("div", class_="nhsuk-error-summary")
    assert [a.attrs["href"] for a in summary.find_all("a")] == ["#email"]
    assert doc.find("title").text().startswith("Error: ")
    # A form-level error does not mark a particular field as wrong.
    assert not doc.find_all(class_="nhsuk-error-message")
    assert doc.find("input", id="email").attrs["value"] == "pat@example.org"


def test_login_registration_link_only_when_url_given(render):
    html, doc = render("accounts/login.html", **LOGIN)
    assert "Create an account" not in html

    html, doc = render("accounts/login.html", **{**LOGIN, "registration_url": "/register"})
    link = doc.find("a", href="/register")
    assert link.text() == "Create an account"


def test_user_supplied_text_is_escaped_even_inside_nhsuk_macros(render):
    evil = '<img src=x onerror="alert(1)">'
    html, doc = render(
        "accounts/login.html",
        **{**LOGIN, "email": evil, "client_name": evil,
           "errors": [{"field": "email", "message": evil}]},
    )
    assert "<img" not in html
    assert "&lt;img src=x" in html
    assert not doc.find_all("img")


# --------------------------------------------------------------------------
# Consent
# --------------------------------------------------------------------------


def test_consent_lists_claims_and_offers_both_decisions(render):
    html, doc = render("accounts/consent.html", **CONSENT)
    main = doc.find("main")

    items = [li.text() for li in main.find_all("li")]
    for claim in CONSENT["claims"]:
        assert claim in items

    form = main.find("form")
    assert form.attrs["action"] == CONSENT["action"]
    buttons = {
        b.attrs["value"]: (b.attrs["name"], b.attrs["type"], b.text(), b.classes())
        for b in form.find_all("button")
    }
    assert buttons["allow"][:3] == ("decision", "submit", "Share and continue")
    assert buttons["deny"][:3] == ("decision", "submit", "Do not share")
    assert "nhsuk-button--secondary" in buttons["deny"][3]
    assert "nhsuk-button--secondary" not in buttons["allow"][3]
    # Allow is first, so pressing Enter is never an accidental "deny".
    assert [b.attrs["value"] for b in form.find_all("button")] == ["allow", "deny"]

    assert "withdraw" in main.text().lower()
    assert "account" in main.text().lower()


def test_consent_with_no_claims_says_only_login_is_shared(render):
    html, doc = render("accounts/consent.html", **{**CONSENT, "claims": []})
    main = doc.find("main")
    assert "only share with Example GP Online that you have logged in" in main.text()
    assert not main.find_all("li")


def test_consent_with_error(render):
    html, doc = render(
        "accounts/consent.html",
        **{**CONSENT, "errors": [{"field": None, "message": "Choose whether to share"}]},
    )
    assert doc.find("title").text().startswith("Error: Share your information with")
    summary = doc.find("div", class_="nhsuk-error-summary")
    assert "Choose whether to share" in summary.text()


# --------------------------------------------------------------------------
# Account
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "level, words",
    [
        ("P0", "You have not proved who you are"),
        ("P5", "medium level"),
        ("P9", "high level"),
    ],
)
def test_account_shows_email_and_identity_level(render, level, words):
    html, doc = render("accounts/account.html", **{**ACCOUNT, "proofing_level": level})
    summary = doc.find("dl", class_="nhsuk-summary-list")
    assert "pat@example.org" in summary.text()
    assert words in summary.text()


def test_account_lists_services_with_withdraw_buttons(render):
    html, doc = render("accounts/account.html", **ACCOUNT)
    main = doc.find("main")
    forms = [f for f in main.find_all("form") if f.attrs["action"] == ACCOUNT["withdraw_action"]]
    assert len(forms) == 2
    for form, consent in zip(forms, ACCOUNT["consents"]):
        assert form.attrs["action"] == ACCOUNT["withdraw_action"]
        client_ids = form.find_all("input", name="client_id")
        assert [i.attrs["value"] for i in client_ids] == [consent["client_id"]]
        button = form.find("button")
        assert button.text() == f"Withdraw sharing with {consent['client_name']}"
        card = next(a for a in form.ancestors() if "nhsuk-card" in a.classes())
        assert consent["client_name"] in card.find("h3").text()
        assert consent["granted_at"] in card.text()
        for claim in consent["claims"]:
            assert claim in [li.text() for li in card.find_all("li")]

    assert doc.find("a", href="/logout").text() == "Log out"
    assert "You have not shared your information with any services" not in main.text()


def test_account_with_no_consents(render):
    html, doc = render("accounts/account.html", **{**ACCOUNT, "consents": [], "proofing_level": "P0"})
    main = doc.find("main")
    assert "You have not shared your information with any services" in main.text()
    assert not [f for f in main.find_all("form") if f.attrs["action"] == ACCOUNT["withdraw_action"]]
    assert doc.find("a", href="/logout")


def test_account_lists_the_ways_to_log_in_with_their_forms(render):
    html, doc = render("accounts/account.html", **ACCOUNT)
    main = doc.find("main")
    assert "••••••••••123" in main.text() and "My phone" in main.text()
    actions = {f.attrs["action"] for f in main.find_all("form")}
    assert {"/account/remove_passkey", "/account/log_out_everywhere"} <= actions
    hrefs = {a.attrs.get("href") for a in main.find_all("a")}
    assert {"/account/change_email", "/account/change_phone", "/account/change_password",
            "/account/account_authenticator_app", "/account/add_passkey", "/account/delete_account"} <= hrefs


# --------------------------------------------------------------------------
# Logout
# --------------------------------------------------------------------------


def test_logout_confirm_echoes_hidden_fields_and_offers_choice(render):
    html, doc = render("protocol/logout_confirm.html", **LOGOUT_CONFIRM)
    form = doc.find("main").find("form")
    assert form.attrs["action"] == "/logout"
    hidden = {
        i.attrs["name"]: i.attrs["value"]
        for i in form.find_all("input", type="hidden")
        if i.attrs["name"] != "csrf_token"
    }
    assert hidden == LOGOUT_CONFIRM["hidden"]

    buttons = [(b.attrs["name"], b.attrs["value"], b.text()) for b in form.find_all("button")]
    assert buttons == [("confirm", "yes", "Log out"), ("confirm", "no", "Stay logged in")]
    assert "Example GP Online" in doc.find("main").text()


def test_logout_confirm_without_client(render):
    html, doc = render(
        "protocol/logout_confirm.html", action="/logout", hidden={}, client_name=None
    )
    form = doc.find("main").find("form")
    assert [i.attrs["name"] for i in form.find_all("input")] == ["csrf_token"]


def test_logout_confirm_when_nobody_is_logged_in_only_offers_the_way_back(render):
    html, doc = render("protocol/logout_confirm.html", **LOGOUT_CONFIRM, nobody_logged_in=True)
    main = doc.find("main")
    assert main.find("h1").text() == "You are not logged in"
    assert "Example GP Online has asked to log you out" in main.text()
    buttons = [(b.attrs["name"], b.attrs["value"], b.text()) for b in main.find("form").find_all("button")]
    assert buttons == [("confirm", "yes", "Continue")]


def test_logged_out(render):
    html, doc = render("protocol/logged_out.html", client_name="Example GP Online")
    main = doc.find("main")
    assert main.find("h1").text() == "You have logged out"
    assert "Example GP Online" in main.text()
    assert not main.find_all("form")


# --------------------------------------------------------------------------
# Errors and home
# --------------------------------------------------------------------------


def test_error_page(render):
    html, doc = render("errors/error.html", **ERROR)
    main = doc.find("main")
    assert main.find("h1").text() == ERROR["heading"]
    paragraphs = [p.text() for p in main.find_all("p") if not any(a.tag == "details" for a in p.ancestors())]
    assert paragraphs[:3] == [ERROR["message"], ERROR["advice"], f"Go to the {SERVICE} home page"]
    assert main.find("a", href="/").text() == f"Go to the {SERVICE} home page"
    # The technical text is folded away for the service's developers.
    details = main.find("details", class_="nhsuk-details")
    assert details.find("summary").text() == "Details for the service's developers"
    rows = {row.find("dt").text(): row.find("dd").text() for row in details.find_all(class_="nhsuk-summary-list__row")}
    assert rows == {"error": "invalid_request", "error_description": ERROR["description"]}
    outside = [n for n in main.iter() if n.tag in ("p", "h1") and details not in n.ancestors()]
    assert not any(ERROR["description"] in n.text() for n in outside)
    assert "Error code: 400" in main.text()
    assert not main.find_all("form")


def test_error_page_without_details(render):
    html, doc = render(
        "errors/error.html", heading="Sorry, there is a problem with the service",
        message="Try again later.", status=500,
    )
    main = doc.find("main")
    assert not main.find_all("details")
    assert main.find("a", href="/")
    assert doc.find("title").text() == f"Sorry, there is a problem with the service – {SERVICE}"


def test_error_page_escapes_the_developer_text(render):
    """The description may quote what the request sent: it is text, inside the nhsuk details macro too."""
    evil = '<img src=x onerror="alert(1)">'
    html, doc = render("errors/error.html", heading="Sorry", message=evil, status=400, oauth_error=evil,
                       description=evil)
    assert "<img" not in html and html.count("&lt;img src=x") == 3
    assert not doc.find_all("img")


@pytest.mark.parametrize("logged_in", [True, False])
def test_home(render, logged_in):
    html, doc = render(
        "home.html", logged_in=logged_in, account_url="/account",
        discovery_url="/.well-known/openid-configuration",
    )
    main = doc.find("main")
    assert "health and care websites and apps" in main.text()
    assert main.find("a", href="/.well-known/openid-configuration")
    assert bool(main.find_all("a", href="/account")) is logged_in
