"""``idp conformance setup`` and ``idp serve --tls``: what a security tester hands the conformance suite.

The filled configurations are checked by playing their own ``browser`` steps against our real
pages (a small interpreter of the suite's commands below), then completing each flow with the
credentials the configuration holds, as the suite would.
"""
from __future__ import annotations

import base64
import fnmatch
import json
import os
import re
import secrets
import shutil
import socket
import stat
import subprocess
import sys
import time
import uuid
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
import requests
from cryptography import x509
from joserfc import jwt
from joserfc.jwk import RSAKey
from joserfc.jws import extract_compact
from support import ISSUER, PG_URL, callback_params

SUITE = "https://suite.example"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def client_keys(tmp_path_factory):
    """The private_key_jwt clients' keys, made once and handed to each run (set-up reuses what it finds)."""
    keys = tmp_path_factory.mktemp("keys")
    from idp.conformance import client_key_set

    for client_id in ("conformance-idp-pkjwt", "conformance-idp-pkjwt-2"):
        client_key_set(str(keys), client_id)
    return keys


@pytest.fixture
def out(tmp_path, client_keys):
    path = tmp_path / "out"
    shutil.copytree(client_keys, path / "keys")
    return path


@pytest.fixture
def setup_cli(app, out):
    runner = app.test_cli_runner()

    def run(*extra, suite=SUITE):
        result = runner.invoke(args=["conformance", "setup", "--suite-url", suite, "--out", str(out), *extra])
        return result

    return run


@pytest.fixture
def configured(setup_cli, out):
    result = setup_cli()
    assert result.exit_code == 0, result.output
    return {name: json.loads((out / name).read_text()) for name in os.listdir(out)
            if name.endswith(("-plan.json", ".private_key_jwt.json"))}


def clients(app) -> dict:
    with app.app_context():
        from idp.models import Client

        return {c.client_id: c.to_dict() | {"source": c.source} for c in Client.query.all()}


# --- the clients, the person, the token -----------------------------------------------------------
def test_setup_registers_each_plans_clients_with_the_options_its_variant_needs(app, configured):
    registered = clients(app)
    expected = {
        "conformance-idp-basic": "client_secret_basic", "conformance-idp-basic-2": "client_secret_basic",
        "conformance-idp-basic-post": "client_secret_post", "conformance-idp-pkjwt": "private_key_jwt",
        "conformance-idp-pkjwt-2": "private_key_jwt", "conformance-idp-logout": "client_secret_basic",
        "conformance-idp-backchannel": "client_secret_basic",
    }
    assert {cid: c["token_endpoint_auth_method"] for cid, c in registered.items()} == expected
    for client_id, client in registered.items():
        alias = client_id.removeprefix("conformance-").removesuffix("-2").removesuffix("-post")
        assert client["redirect_uris"] == [f"{SUITE}/test/a/{alias}/callback"]
        assert (client["pkce"], client["nonce"]) == ("optional", "optional")
        assert client["id_token_signed_response_alg"] == "RS256"
        assert client["scope"].split() == ["openid", "profile", "email", "phone"]
        assert client["refresh_tokens"] is True
        assert client["environment"] == "sandpit"
        assert client["source"] == "conformance-suite"
        assert client["key"] == ("jwks" if client_id.startswith("conformance-idp-pkjwt") else None)
    assert registered["conformance-idp-logout"]["post_logout_redirect_uris"] == [
        f"{SUITE}/test/a/idp-logout/post_logout_redirect"]
    assert registered["conformance-idp-logout"]["backchannel_logout_uri"] is None
    assert registered["conformance-idp-backchannel"]["post_logout_redirect_uris"] == [
        f"{SUITE}/test/a/idp-backchannel/post_logout_redirect"]
    assert registered["conformance-idp-backchannel"]["backchannel_logout_uri"] == (
        f"{SUITE}/test/a/idp-backchannel/backchannel_logout")
    assert registered["conformance-idp-basic"]["post_logout_redirect_uris"] == []


def test_setup_creates_the_p9_test_person_and_an_initial_access_token(app, configured, out):
    dynamic = configured["oidcc-dynamic-certification-test-plan.json"]
    token = dynamic["client"]["initial_access_token"]
    assert dynamic["client2"]["initial_access_token"] == token
    from idp.extensions import db
    from idp.models import Person
    from idp.protocol.dynamic_registration import initial_access_token

    with app.app_context():
        person = Person.query.filter_by(email="conformance-tester@example.com").one()
        assert (person.proofing_level, person.nhs_number, person.is_test_person) == ("P9", "9990000034", True)
        assert person.family_name and person.birthdate and person.phone_number_verified
        person.proofing_level, person.phone_number = "P0", None  # someone changed the test person
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["conformance", "setup", "--suite-url", SUITE, "--out", str(out)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        person = Person.query.filter_by(email="conformance-tester@example.com").one()
        assert (person.proofing_level, person.phone_number) == ("P9", "+447700900123")
        row = initial_access_token(token)
        assert row is not None and row.environment == "sandpit" and row.revoked_at is None


def test_configs_point_at_the_suite_and_the_issuer_with_nothing_left_to_fill(configured, out):
    assert set(configured) == {
        "oidcc-basic-certification-test-plan.json", "oidcc-test-plan.private_key_jwt.json",
        "oidcc-config-certification-test-plan.json", "oidcc-dynamic-certification-test-plan.json",
        "oidcc-rp-initiated-logout-certification-test-plan.json",
        "oidcc-backchannel-rp-initiated-logout-certification-test-plan.json",
    }
    for name, config in configured.items():
        assert not re.search(r"\{\{\w+\}\}", json.dumps(config)), name
        assert config["server"]["discoveryUrl"] == f"{ISSUER}/.well-known/openid-configuration"
        assert config["alias"].startswith("idp-")
        for entry in config.get("browser", []):
            assert entry["match"].startswith(ISSUER + "/")
            completes = [t for t in entry["tasks"] if t["task"] == "Verify Complete"]
            assert completes and completes[-1]["match"].startswith(f"{SUITE}/test/a/{config['alias']}/")
    basic = configured["oidcc-basic-certification-test-plan.json"]
    assert basic["client"]["client_id"] == "conformance-idp-basic"
    assert basic["client_secret_post"]["client_id"] == "conformance-idp-basic-post"
    assert basic["server"]["login_hint"] == "conformance-tester@example.com"
    pkjwt = configured["oidcc-test-plan.private_key_jwt.json"]
    assert "d" in pkjwt["client"]["jwks"]["keys"][0] and pkjwt["client"]["jwks"] != pkjwt["client2"]["jwks"]
    plans = json.loads((out / "plans.json").read_text())
    assert [p["plan"] for p in plans][:2] == ["oidcc-basic-certification-test-plan", "oidcc-test-plan"]
    assert plans[1]["variant"]["client_auth_type"] == "private_key_jwt"
    # secrets and private keys: readable by their owner only
    for path in [*out.iterdir(), *(out / "keys").iterdir()]:
        if path.is_file():
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path


def test_a_new_output_folder_is_private(app, tmp_path):
    from idp.conformance import setup

    with app.app_context():
        setup(app.extensions["idp"].settings, SUITE, out_dir=str(tmp_path / "fresh"))
    assert stat.S_IMODE(os.stat(tmp_path / "fresh").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(tmp_path / "fresh" / "keys").st_mode) == 0o700


def test_templates_in_the_repository_only_use_known_placeholders():
    from idp.conformance import PLACEHOLDER, PLANS, PLANS_DIR

    names = set()
    for plan in PLANS:
        with open(os.path.join(PLANS_DIR, plan.template)) as fh:
            names |= set(PLACEHOLDER.findall(fh.read()))
    assert names == {"alias", "issuer", "suite_url", "email", "password", "client_id", "client_secret",
                     "client2_id", "client2_secret", "client_secret_post_id", "client_secret_post_secret",
                     "client_jwks", "client2_jwks", "initial_access_token"}
    assert sorted(os.listdir(PLANS_DIR)) == sorted(p.template for p in PLANS)


def test_rerunning_converges_and_keeps_working_credentials(app, setup_cli, out, configured):
    before = clients(app)
    first = {name: (out / name).read_text() for name in configured}
    with app.app_context():  # someone tightened a conformance client by hand: set-up puts it back
        from idp.extensions import db
        from idp.models import Client

        db.session.get(Client, "conformance-idp-basic").pkce_required = True
        db.session.commit()
        Client.forget_cached()
    result = setup_cli()
    assert result.exit_code == 0, result.output
    assert clients(app) == before
    assert {name: (out / name).read_text() for name in configured} == first  # same secrets, password, keys, token

    result = setup_cli(suite="https://other-suite.example:8443/")
    assert result.exit_code == 0, result.output
    moved = clients(app)
    assert set(moved) == set(before)
    assert moved["conformance-idp-basic"]["redirect_uris"] == ["https://other-suite.example:8443/test/a/idp-basic/callback"]
    basic = json.loads((out / "oidcc-basic-certification-test-plan.json").read_text())
    assert basic["client"]["client_secret"] == json.loads(first["oidcc-basic-certification-test-plan.json"])[
        "client"]["client_secret"]


def test_lost_credentials_are_replaced_and_the_old_token_revoked(app, setup_cli, out, configured):
    old = configured["oidcc-dynamic-certification-test-plan.json"]["client"]["initial_access_token"]
    old_secret = configured["oidcc-basic-certification-test-plan.json"]["client"]["client_secret"]
    (out / "credentials.json").unlink()
    assert setup_cli().exit_code == 0
    dynamic = json.loads((out / "oidcc-dynamic-certification-test-plan.json").read_text())
    basic = json.loads((out / "oidcc-basic-certification-test-plan.json").read_text())
    assert dynamic["client"]["initial_access_token"] != old
    assert basic["client"]["client_secret"] != old_secret
    with app.app_context():
        from idp.protocol.dynamic_registration import initial_access_token

        assert initial_access_token(old) is None
        assert initial_access_token(dynamic["client"]["initial_access_token"]) is not None


@pytest.mark.parametrize("args, message", [
    (["--suite-url", "http://suite.example"], "must use https"),
    (["--suite-url", SUITE, "--alias", "Bad Alias"], "--alias"),
])
def test_refuses_bad_input(app, out, args, message):
    result = app.test_cli_runner().invoke(args=["conformance", "setup", "--out", str(out), *args])
    assert result.exit_code != 0 and message in result.output


def test_never_takes_over_someone_elses_client_or_account(app, register, person, setup_cli):
    register(client_id="conformance-idp-basic")
    result = setup_cli()
    assert result.exit_code != 0 and "not the conformance suite's" in result.output
    with app.app_context():
        from idp.extensions import db
        from idp.models import Client, Person

        db.session.delete(db.session.get(Client, "conformance-idp-basic"))
        db.session.commit()
        real = Person.query.filter_by(email=person(email="someone@example.com")).one()
        real.is_test_person = False
        db.session.commit()
    result = setup_cli("--email", "someone@example.com")
    assert result.exit_code != 0 and "real person's account" in result.output


def test_refused_in_live(app, out):
    from idp.conformance import ConformanceSetupError, setup

    settings = app.extensions["idp"].settings
    with app.app_context(), pytest.raises(ConformanceSetupError, match="never in live"):
        setup(type(settings)(**{**settings.__dict__, "env": "live"}), SUITE, out_dir=str(out))


# --- the browser steps, played against our pages ----------------------------------------------------
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Page(HTMLParser):
    """Elements of one HTML page (attributes, text, parent, form) and the XPath subset our configurations use."""

    def __init__(self, html: str):
        super().__init__()
        self.elements, self.forms, self._stack = [], [], []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        parent = self._stack[-1] if self._stack else None
        form = next((e for e in reversed(self._stack) if e["tag"] == "form"), None)
        element = {"tag": tag, "attrs": dict(attrs), "text": "", "parent": parent,
                   "form": self.forms.index(form) if form else None}
        if tag == "form":
            self.forms.append(element)
        self.elements.append(element)
        if tag not in VOID:
            self._stack.append(element)

    def handle_endtag(self, tag):
        while self._stack and tag in {e["tag"] for e in self._stack}:
            if self._stack.pop()["tag"] == tag:
                break

    def handle_data(self, data):
        for element in self._stack:
            element["text"] += data

    def find(self, kind: str, target: str) -> list[dict]:
        if kind == "id":
            return [e for e in self.elements if e["attrs"].get("id") == target]
        assert kind == "xpath" and target.startswith("//"), kind
        found = None
        for step in _steps(target):
            matched = [e for e in self.elements if self._matches(e, step)]
            found = matched if found is None else [e for e in matched if any(self._within(e, a) for a in found)]
        return found

    def _within(self, element, ancestor) -> bool:
        while element["parent"] is not None:
            element = element["parent"]
            if element is ancestor:
                return True
        return False

    def _matches(self, element, step: str) -> bool:
        tag, _, conditions = step.partition("[")
        if element["tag"] != tag:
            return False
        for condition in _split(conditions[:-1], " and ") if conditions else []:
            if condition.startswith(".//"):
                inner = condition[3:]
                if not any(self._matches(e, inner) and self._within(e, element) for e in self.elements):
                    return False
            elif (attr := re.fullmatch(r"@(\w+)='([^']*)'", condition)):
                if element["attrs"].get(attr.group(1)) != attr.group(2):
                    return False
            else:
                text = re.fullmatch(r"normalize-space\(\)='([^']*)'", condition)
                if " ".join(element["text"].split()) != text.group(1):
                    return False
        return True


def _split(text: str, separator: str) -> list[str]:
    """Split outside brackets: XPath steps on '//', conditions on ' and '."""
    parts, depth, current, i = [], 0, "", 0
    while i < len(text):
        if depth == 0 and text.startswith(separator, i):
            parts.append(current)
            current, i = "", i + len(separator)
            continue
        depth += {"[": 1, "]": -1}.get(text[i], 0)
        current, i = current + text[i], i + 1
    return [p for p in parts + [current] if p]


def _steps(xpath: str) -> list[str]:
    return _split(xpath, "//")


class SuiteBrowser:
    """The suite's scripted browser, enough of it for our configurations: goToUrl, then the matching tasks."""

    def __init__(self, http, browser: list[dict]):
        self.http, self.browser, self.url, self.response, self.typed = http, browser, None, None, {}
        self.screenshots = []

    def _go(self, response, url):
        while response.status_code in (301, 302, 303):
            url = urljoin(url, response.headers["Location"])
            if not url.startswith(ISSUER):
                break  # the suite's own pages: the test client cannot reach them, and need not
            response = self.http.get(url[len(ISSUER):])
        self.url, self.response, self.typed = url, response, {}

    def go_to(self, url: str):
        entry = next(e for e in self.browser if fnmatch.fnmatchcase(url, e["match"]))
        self._go(self.http.get(url[len(ISSUER):]), url)
        for task in entry["tasks"]:
            if not fnmatch.fnmatchcase(self.url, task.get("match", "*")):
                assert task.get("optional"), f"unexpected url {self.url} for {task['task']}"
                continue
            for command in task.get("commands", []):
                self.run(command)
        return self.url

    def run(self, command: list):
        verb, kind, target = command[:3]
        if self.url.startswith(SUITE) or not self.url.startswith(ISSUER):
            assert (verb, target) == ("wait", "submission_complete")  # the suite's callback page
            return
        page = Page(self.response.get_data(as_text=True))
        found = page.find(kind, target)
        if verb == "wait":
            assert found, (command, self.url)
            if len(command) > 4:
                text = " ".join(found[0]["text"].split())
                assert re.search(command[4], text), (command, text)
                self.screenshots.append(text or f"{kind}={target}")
        elif verb == "text":
            assert found or command[4:] == ["optional"], command
            if found:
                self.typed[found[0]["attrs"]["name"]] = command[3]
        elif verb == "click":
            if not found and command[3:] == ["optional"]:
                return
            button = found[0]
            form = page.forms[button["form"]]
            data = {e["attrs"]["name"]: e["attrs"].get("value", "") for e in page.elements
                    if e["form"] == button["form"] and e["tag"] == "input" and "name" in e["attrs"]}
            data.update(self.typed)
            if button["attrs"].get("name"):
                data[button["attrs"]["name"]] = button["attrs"].get("value", "")
            action = urljoin(self.url, form["attrs"].get("action", ""))
            self._go(self.http.post(action[len(ISSUER):], data=data), action)
        else:
            raise AssertionError(f"unknown command {command}")


def authorize_url(client_id: str, alias: str, **extra) -> str:
    """An authorization request as the suite's modules send it: state and nonce, no PKCE."""
    params = {"client_id": client_id, "redirect_uri": f"{SUITE}/test/a/{alias}/callback", "response_type": "code",
              "scope": "openid", "state": secrets.token_urlsafe(8), "nonce": secrets.token_urlsafe(8), **extra}
    return f"{ISSUER}/authorize?{urlencode(params)}"


def redeem(http, config: dict, slot: str, code: str, auth: str):
    client = config[slot]
    form = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": f"{SUITE}/test/a/{config['alias']}/callback"}
    headers = {}
    if auth == "client_secret_basic":
        basic = base64.b64encode(f"{client['client_id']}:{client['client_secret']}".encode()).decode()
        headers["Authorization"] = f"Basic {basic}"
    elif auth == "client_secret_post":
        form.update(client_id=client["client_id"], client_secret=client["client_secret"])
    else:
        key = client["jwks"]["keys"][0]
        now = int(time.time())
        claims = {"iss": client["client_id"], "sub": client["client_id"], "aud": ISSUER + "/token",
                  "jti": str(uuid.uuid4()), "iat": now, "exp": now + 60}
        form.update(client_assertion_type="urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    client_assertion=jwt.encode({"alg": "RS256", "kid": key["kid"]}, claims, RSAKey.import_key(key)))
    response = http.post("/token", data=form, headers=headers)
    assert response.status_code == 200, response.get_json()
    tokens = response.get_json()
    assert extract_compact(tokens["id_token"].encode()).headers()["alg"] == "RS256"
    return tokens


@pytest.mark.parametrize("slot, auth", [
    ("client", "client_secret_basic"), ("client2", "client_secret_basic"), ("client_secret_post", "client_secret_post"),
])
def test_basic_plan_browser_steps_log_the_person_in_and_its_clients_redeem_codes(client, configured, slot, auth):
    config = configured["oidcc-basic-certification-test-plan.json"]
    browser = SuiteBrowser(client, config["browser"])
    landed = browser.go_to(authorize_url(config[slot]["client_id"], config["alias"], scope="openid profile email phone"))
    assert landed.startswith(f"{SUITE}/test/a/idp-basic/callback?")
    assert browser.screenshots == ["id=email"]
    params = callback_params(browser.response)
    tokens = redeem(client, config, slot, params["code"], auth)
    userinfo = client.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}).get_json()
    assert userinfo["email"] == "conformance-tester@example.com"
    assert userinfo["nhs_number"] == "9990000034" and userinfo["phone_number"] == "+447700900123"
    assert "refresh_token" in tokens

    # logged in already: straight back, the optional login and consent tasks skipped
    again = SuiteBrowser(client, config["browser"])
    assert again.go_to(authorize_url(config[slot]["client_id"], config["alias"], prompt="none")).startswith(
        f"{SUITE}/test/a/idp-basic/callback?")
    assert again.screenshots == [] and "code" in callback_params(again.response)


def test_basic_plan_overrides_match_our_pages(client, configured):
    config = configured["oidcc-basic-certification-test-plan.json"]
    overrides = config["override"]
    error = SuiteBrowser(client, overrides["oidcc-ensure-registered-redirect-uri"]["browser"])
    url = authorize_url(config["client"]["client_id"], config["alias"]).replace("callback", "not-registered")
    assert error.go_to(url).startswith(ISSUER + "/authorize")
    assert error.screenshots == ["Sorry, there is a problem with the service"]

    hinted = SuiteBrowser(client, overrides["oidcc-login-hint"]["browser"])
    url = authorize_url(config["client"]["client_id"], config["alias"], login_hint=config["server"]["login_hint"])
    assert hinted.go_to(url).startswith(f"{SUITE}/test/a/idp-basic/callback?")
    assert "code" in callback_params(hinted.response)


def test_private_key_jwt_plan_clients_authenticate_with_the_keys_in_the_config(client, configured):
    config = configured["oidcc-test-plan.private_key_jwt.json"]
    for slot in ("client", "client2"):
        browser = SuiteBrowser(client, config["browser"])
        browser.go_to(authorize_url(config[slot]["client_id"], config["alias"]))
        redeem(client, config, slot, callback_params(browser.response)["code"], "private_key_jwt")


def test_logout_plan_browser_steps_and_overrides_match_our_pages(client, configured):
    config = configured["oidcc-rp-initiated-logout-certification-test-plan.json"]
    post_logout = f"{SUITE}/test/a/idp-logout/post_logout_redirect"

    def log_in():
        browser = SuiteBrowser(client, config["browser"])
        browser.go_to(authorize_url(config["client"]["client_id"], config["alias"]))
        return redeem(client, config, "client", callback_params(browser.response)["code"], "client_secret_basic")

    hint = log_in()["id_token"]
    happy = SuiteBrowser(client, config["browser"])
    query = urlencode({"id_token_hint": hint, "post_logout_redirect_uri": post_logout, "state": "s" * 128})
    assert happy.go_to(f"{ISSUER}/logout?{query}") == f"{post_logout}?state={'s' * 128}"

    overrides = config["override"]
    cases = [
        ("oidcc-rp-initiated-logout-no-params", "", "You have logged out"),
        ("oidcc-rp-initiated-logout-only-state", "state=abc", "You have logged out"),
        ("oidcc-rp-initiated-logout-no-id-token-hint",
         urlencode({"post_logout_redirect_uri": post_logout, "client_id": config["client"]["client_id"]}),
         "Do you want to log out?"),
        ("oidcc-rp-initiated-logout-bad-post-logout-redirect-uri",
         None, "Sorry, we could not log you out"),
        ("oidcc-rp-initiated-logout-no-post-logout-redirect-uri", None, "You have logged out"),
    ]
    for module, query, seen in cases:
        hint = log_in()["id_token"]
        if module.endswith("bad-post-logout-redirect-uri"):
            query = urlencode({"id_token_hint": hint, "post_logout_redirect_uri": SUITE + "/elsewhere"})
        elif module.endswith("no-post-logout-redirect-uri"):
            query = urlencode({"id_token_hint": hint})
        browser = SuiteBrowser(client, overrides[module]["browser"])
        landed = browser.go_to(f"{ISSUER}/logout?{query}")
        assert landed.startswith(ISSUER + "/logout"), module
        assert browser.screenshots == [seen], module


# --- development TLS ------------------------------------------------------------------------------
def test_dev_certificate_names_localhost_the_issuer_and_extra_hosts(tmp_path):
    from idp.devtls import certificate_hosts, ensure_dev_certificate

    made = ensure_dev_certificate(str(tmp_path / "tls"), ["idp.local", "192.168.1.20"])
    assert made.created
    with open(made.cert_path, "rb") as fh:
        cert = x509.load_pem_x509_certificate(fh.read())
    assert certificate_hosts(cert) == {"localhost", "127.0.0.1", "::1", "idp.local", "192.168.1.20"}
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert stat.S_IMODE(os.stat(made.key_path).st_mode) == 0o600
    assert not ensure_dev_certificate(str(tmp_path / "tls"), ["idp.local"]).created  # made once
    assert ensure_dev_certificate(str(tmp_path / "tls"), ["elsewhere.local"]).created  # a host it lacks


def test_tls_arguments_need_an_https_issuer_in_development(app, tmp_path):
    from idp.devtls import DevTLSError, gunicorn_tls_arguments

    settings = app.extensions["idp"].settings
    with pytest.raises(DevTLSError, match="IDP_ISSUER=https://127.0.0.1:5443"):
        gunicorn_tls_arguments(settings, str(tmp_path), "5443")
    https = type(settings)(**{**settings.__dict__, "issuer": "https://idp.test:5443"})
    args, cert = gunicorn_tls_arguments(https, str(tmp_path), "5443", ["extra.test"])
    assert args == ["--certfile", cert.cert_path, "--keyfile", cert.key_path]
    assert cert.cert_path == str(tmp_path / "tls" / "cert.pem") and "idp.test" in cert.hosts
    live = type(settings)(**{**settings.__dict__, "issuer": "https://idp.test", "env": "sandpit"})
    with pytest.raises(DevTLSError, match="development only"):
        gunicorn_tls_arguments(live, str(tmp_path), "443")


def test_serve_tls_refuses_an_http_issuer(app):
    result = app.test_cli_runner().invoke(args=["serve", "--tls"])
    assert result.exit_code != 0 and "the issuer must be https" in result.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.e2e
@pytest.mark.skipif(bool(PG_URL), reason="served check runs on the SQLite pass")
def test_serve_tls_serves_discovery_over_https(app, tmp_path):
    port = str(_free_port())
    env = {**os.environ, "IDP_ENV": "development", "IDP_ISSUER": f"https://127.0.0.1:{port}", "PORT": port,
           "IDP_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "IDP_INSTANCE_PATH": str(tmp_path)}
    proc = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "idp"), "serve", "--tls", "--workers", "1"],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline, response = time.monotonic() + 5, None
        while time.monotonic() < deadline and response is None:
            try:
                response = requests.get(f"https://127.0.0.1:{port}/.well-known/openid-configuration",
                                        verify=str(tmp_path / "tls" / "cert.pem"), timeout=1)
            except OSError:  # not listening yet, or the certificate not written yet
                time.sleep(0.1)
        assert response is not None and response.status_code == 200
        assert response.json()["issuer"] == f"https://127.0.0.1:{port}"
        assert urlsplit(response.json()["token_endpoint"]).scheme == "https"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
