"""The demo relying party against a fake provider.

The fake provider is a tiny Flask app reached through a requests transport
adapter, so the RP's real HTTP code (Authlib's OAuth2Session, requests) runs
without a network. Its token endpoint checks what the real provider will:
the private_key_jwt assertion (RS512, iss/sub/aud/jti/exp, kid) and PKCE S256.
"""

import base64
import hashlib
import html
import json
import pathlib
import re
import secrets
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, jsonify, request
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from requests.structures import CaseInsensitiveDict
from support import public_pem

from clients.demo_rp.app import BACKCHANNEL_EVENT, VECTOR_CHOICES, create_app

ISSUER = "https://op.test"
TOKEN_URL = ISSUER + "/token"
CLIENT_ID = "demo-rp"
BASE_URL = "http://rp.test"
REPO = pathlib.Path(__file__).parent.parent
NHSUK_CSS = REPO / "idp" / "static" / "nhsuk" / "nhsuk-frontend.min.css"
DEMO_CLIENT = json.loads((REPO / "clients" / "demo-rp.json").read_text())


def _rsa_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    """RP key on disk (as the RP reads it), provider key, and an impostor with the provider's kid."""
    path = tmp_path_factory.mktemp("keys") / "demo-rp-private.pem"
    path.write_bytes(_rsa_pem())
    rp_key = RSAKey.import_key(path.read_bytes())
    return {
        "rp_path": str(path),
        "rp_public": RSAKey.import_key(rp_key.as_dict(private=False)),
        "op": RSAKey.import_key(_rsa_pem(), parameters={"kid": "op-1", "use": "sig", "alg": "RS512"}),
        "impostor": RSAKey.import_key(_rsa_pem(), parameters={"kid": "op-1", "use": "sig", "alg": "RS512"}),
    }


class FakeProvider:
    def __init__(self, keys):
        self.keys = keys
        self.signing_key = keys["op"]
        self.codes, self.refresh_tokens, self.access_tokens = {}, {}, {}
        self.seen_jtis, self.assertion_headers, self.token_errors = set(), [], []
        self.id_token_overrides = {}
        self.app = self._build_app()

    def sign(self, claims, key=None):
        key = key or self.signing_key
        return jwt.encode({"alg": "RS512", "kid": key.kid}, claims, key, algorithms=["RS512"])

    def issue_code(self, auth_params, vot="P9.Cp.Cd"):
        """What /authorize would do after the person logged in."""
        code = secrets.token_urlsafe(16)
        self.codes[code] = dict(auth_params, sub=str(uuid.uuid4()), vot=vot, sid="op-session-1")
        return code

    def logout_token(self, key=None, **changes):
        claims = {"iss": ISSUER, "aud": CLIENT_ID, "iat": int(time.time()), "jti": secrets.token_hex(8),
                  "sid": "op-session-1", "events": {BACKCHANNEL_EVENT: {}}}
        claims.update(changes)
        return self.sign({k: v for k, v in claims.items() if v is not None}, key)

    def _check_client_assertion(self, form):
        """The private_key_jwt checks of RFC 7523 as the interface spec states them."""
        assert form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        token = jwt.decode(form["client_assertion"], self.keys["rp_public"], algorithms=["RS512"])
        kid = token.header.get("kid")
        assert kid in (None, self.keys["rp_public"].thumbprint())
        self.assertion_headers.append(token.header)
        c, now = token.claims, time.time()
        assert c["iss"] == c["sub"] == CLIENT_ID and c["aud"] == TOKEN_URL
        assert c["jti"] not in self.seen_jtis
        assert now < c["exp"] <= now + 300
        self.seen_jtis.add(c["jti"])

    def _tokens(self, grant):
        now = int(time.time())
        id_claims = {"iss": ISSUER, "sub": grant["sub"], "aud": CLIENT_ID, "iat": now, "exp": now + 3600,
                     "jti": secrets.token_hex(8), "auth_time": now, "nonce": grant.get("nonce"),
                     "vot": grant["vot"], "vtm": ISSUER + "/trustmark", "sid": grant["sid"],
                     "identity_proofing_level": "P9", "nhs_number": "9000000009"}
        id_claims.update(self.id_token_overrides)
        access, refresh = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        self.access_tokens[access] = grant
        self.refresh_tokens[refresh] = grant
        return {"access_token": access, "token_type": "Bearer", "expires_in": 300, "refresh_token": refresh,
                "id_token": self.sign({k: v for k, v in id_claims.items() if v is not None})}

    def _build_app(self):
        app = Flask("fake_provider")
        metadata = {
            "issuer": ISSUER, "authorization_endpoint": ISSUER + "/authorize", "token_endpoint": TOKEN_URL,
            "userinfo_endpoint": ISSUER + "/userinfo", "jwks_uri": ISSUER + "/.well-known/jwks.json",
            "end_session_endpoint": ISSUER + "/logout", "authorization_response_iss_parameter_supported": True,
        }

        @app.get("/.well-known/openid-configuration")
        def discovery():
            return jsonify(metadata)

        @app.get("/.well-known/jwks.json")
        def jwks():
            return jsonify(KeySet([self.keys["op"]]).as_dict(private=False))

        @app.post("/token")
        def token():
            form = request.form
            try:
                self._check_client_assertion(form)
            except Exception as e:  # noqa: BLE001 - any failure is invalid_client
                self.token_errors.append(repr(e))
                return jsonify(error="invalid_client", error_description=repr(e)), 401
            if form["grant_type"] == "refresh_token":
                grant = self.refresh_tokens.pop(form["refresh_token"], None)
                if grant is None:
                    return jsonify(error="invalid_grant", error_description="refresh token unknown"), 400
                return jsonify(self._tokens(dict(grant, nonce=None)))
            grant = self.codes.pop(form.get("code"), None)
            if grant is None:
                return jsonify(error="invalid_grant", error_description="code unknown or used"), 400
            challenge = base64.urlsafe_b64encode(hashlib.sha256(form["code_verifier"].encode()).digest())
            if challenge.rstrip(b"=").decode() != grant["code_challenge"]:
                return jsonify(error="invalid_grant", error_description="PKCE verifier does not match"), 400
            assert form["redirect_uri"] == grant["redirect_uri"]
            return jsonify(self._tokens(grant))

        @app.get("/userinfo")
        def userinfo():
            grant = self.access_tokens.get(request.headers.get("Authorization", "")[len("Bearer "):])
            if grant is None:
                return "", 401, {"WWW-Authenticate": 'Bearer error="invalid_token"'}
            return jsonify(sub=grant["sub"], identity_proofing_level="P9", email="test@example.org")

        return app


class FakeProviderAdapter(requests.adapters.BaseAdapter):
    """A requests transport that hands every request to the fake provider's test client."""

    def __init__(self, app):
        super().__init__()
        self.client = app.test_client()
        self.calls = []

    def send(self, req, **kwargs):
        url = urlsplit(req.url)
        assert f"{url.scheme}://{url.netloc}" == ISSUER, f"unexpected outbound request {req.url}"
        self.calls.append(url.path)
        resp = self.client.open(url.path, method=req.method, query_string=url.query,
                                headers=dict(req.headers), data=req.body)
        out = requests.Response()
        out.status_code, out._content, out.url, out.request = resp.status_code, resp.get_data(), req.url, req
        out.headers = CaseInsensitiveDict(resp.headers)
        return out

    def close(self):
        pass


@pytest.fixture
def provider(keys):
    return FakeProvider(keys)


@pytest.fixture
def adapter(provider):
    return FakeProviderAdapter(provider.app)


@pytest.fixture
def rp(keys, adapter):
    app = create_app({"ISSUER": ISSUER, "CLIENT_ID": CLIENT_ID, "BASE_URL": BASE_URL,
                      "PRIVATE_KEY": keys["rp_path"], "SECRET_KEY": "test", "HTTP_ADAPTER": adapter})
    return app


@pytest.fixture
def client(rp):
    return rp.test_client()


def start_login(client, **params):
    resp = client.get("/login", query_string=params)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    url = urlsplit(resp.headers["Location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == ISSUER + "/authorize"
    return {k: v[0] for k, v in parse_qs(url.query).items()}


def finish_login(client, provider, auth, **callback_params):
    params = {"code": provider.issue_code(auth), "state": auth["state"], "iss": ISSUER}
    params.update(callback_params)
    return client.get("/callback", query_string=params)


def page(resp):
    return html.unescape(resp.get_data(as_text=True))


def csrf(client):
    return client.get("/").get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]


def test_discovery_is_lazy(adapter):
    create_app({"ISSUER": ISSUER, "HTTP_ADAPTER": adapter})
    assert adapter.calls == []


def test_header_is_the_nhsuk_service_name_link(client):
    header = page(client.get("/")).split('<header class="nhsuk-header" role="banner">')[1].split("</header>")[0]
    service = header.split('<div class="nhsuk-header__service">')[1]
    # NHS.UK frontend 10: the link itself carries the class; a plain <a> inside it stays link blue on the blue header.
    assert service.lstrip().startswith('<a class="nhsuk-header__service-name" href="/">Demo relying party</a>')
    assert header.count("<a ") == 1


@pytest.mark.skipif(not NHSUK_CSS.exists(), reason="the NHS.UK frontend assets are fetched by make")
def test_the_nhsuk_styles_make_that_link_white_on_the_blue_header():
    css = NHSUK_CSS.read_text()
    rules = [(selectors.split(","), body) for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css)]
    assert any(".nhsuk-header__service-name[href]" in sel and body == "color:#fff" for sel, body in rules)
    assert any(".nhsuk-header" in sel and "background-color:#005eb8" in body for sel, body in rules)


def test_login_redirect_has_every_required_parameter(client):
    auth = start_login(client)
    assert auth["response_type"] == "code"
    assert auth["client_id"] == CLIENT_ID
    assert auth["redirect_uri"] == BASE_URL + "/callback"
    assert auth["scope"] == "openid profile profile_extended email phone"
    assert json.loads(auth["vtr"]) == ["P0.Cp", "P5.Cp", "P9.Cp"]
    assert auth["code_challenge_method"] == "S256" and len(auth["code_challenge"]) == 43
    assert len(auth["state"]) >= 32 and len(auth["nonce"]) >= 32
    assert "prompt" not in auth
    assert start_login(client)["state"] != auth["state"]  # fresh every time


def test_login_form_post_needs_csrf_and_sends_chosen_vectors_and_prompt(client):
    form = {"vtr": ["P9.Cp", "P9.Cp.Cd"], "prompt": "login"}
    assert client.post("/login", data=form).status_code == 400
    resp = client.post("/login", data=dict(form, csrf_token=csrf(client)))
    auth = {k: v[0] for k, v in parse_qs(urlsplit(resp.headers["Location"]).query).items()}
    assert auth["vtr"] == '["P9.Cp","P9.Cp.Cd"]' and auth["prompt"] == "login"


def form_choices(client) -> dict:
    """The login form's vtr radios as {label: value}, read from the page as a browser would."""
    home = page(client.get("/"))
    values = dict(re.findall(r'type="radio" id="(vtr-\d+)" name="vtr" value="([^"]*)"', home))
    labels = re.findall(r'<label class="nhsuk-label nhsuk-radios__label" for="(vtr-\d+)">([^<]*)</label>', home)
    return {label: values[radio] for radio, label in labels}


def post_login(client, **form) -> dict:
    """Submit the login form; the query of the authorization request it redirects to."""
    resp = client.post("/login", data=dict(form, csrf_token=csrf(client)))
    assert resp.status_code == 302, page(resp)
    return {k: v[0] for k, v in parse_qs(urlsplit(resp.headers["Location"]).query).items()}


@pytest.mark.parametrize("label, sent", [
    ("Password, any identity level (P0.Cp, P5.Cp or P9.Cp)", ["P0.Cp", "P5.Cp", "P9.Cp"]),
    ("Password only (P0.Cp)", ["P0.Cp"]),
    ("Password and security code (P0.Cp.Cd)", ["P0.Cp.Cd"]),
    ("Password and authenticator app (P0.Cp.Ck)", ["P0.Cp.Ck"]),
    ("Passkey (P0.Cm)", ["P0.Cm"]),
    ("Medium identity, password (P5.Cp)", ["P5.Cp"]),
    ("High identity, password (P9.Cp)", ["P9.Cp"]),
    ("High identity, password and security code (P9.Cp.Cd)", ["P9.Cp.Cd"]),
    ("High identity, password and authenticator app (P9.Cp.Ck)", ["P9.Cp.Ck"]),
    ("High identity, passkey (P9.Cm)", ["P9.Cm"]),
    ("High identity, more than a password (P9.Cp.Cd, P9.Cp.Ck or P9.Cm)", ["P9.Cp.Cd", "P9.Cp.Ck", "P9.Cm"]),
    ("No vtr: the client's registered vectors", None),
])
def test_each_vector_choice_sends_its_vtr_as_a_json_array(client, label, sent):
    auth = post_login(client, vtr=form_choices(client)[label], prompt="")
    assert (json.loads(auth["vtr"]) if "vtr" in auth else None) == sent
    if sent:
        assert auth["vtr"] == json.dumps(sent, separators=(",", ":"))


def test_the_form_offers_each_choice_once_without_javascript_and_checks_the_first(client):
    home = page(client.get("/"))
    assert len(form_choices(client)) == len(VECTOR_CHOICES) and "<script" not in home
    checked = re.findall(r'id="(vtr-\d+)" name="vtr" value="[^"]*" checked', home)
    assert checked == ["vtr-1"]


def test_every_component_has_a_choice_and_the_demo_client_is_registered_for_each():
    from idp.levels import parse_vector_list

    offered = parse_vector_list(v for choice in VECTOR_CHOICES for v in choice.vectors)
    assert {c for vector in offered for c in vector.components} == {"Cp", "Cd", "Ck", "Cm"}
    registered = parse_vector_list(DEMO_CLIENT["vtr"])
    assert [str(v) for v in offered if v not in registered] == []


def test_the_provider_accepts_every_choice_from_the_demo_client(app, rp_key, keys, adapter):
    """The real provider, with clients/demo-rp.json registered, starts a login for each choice (no invalid_request)."""
    from idp.protocol.registration import register_client

    with app.app_context():
        register_client(dict(DEMO_CLIENT), development=True, client_id=CLIENT_ID,
                        key={"public_key_pem": public_pem(rp_key)})
    callback = DEMO_CLIENT["redirect_uris"][0]
    demo = create_app({"ISSUER": ISSUER, "CLIENT_ID": CLIENT_ID, "BASE_URL": callback.rsplit("/", 1)[0],
                       "PRIVATE_KEY": keys["rp_path"], "SECRET_KEY": "test", "HTTP_ADAPTER": adapter}).test_client()
    idp = app.test_client()
    for choice in VECTOR_CHOICES:
        auth = post_login(demo, vtr=choice.value)
        assert auth["redirect_uri"] == callback
        resp = idp.get("/authorize", query_string=auth)
        assert resp.status_code in (302, 303), resp.get_data(as_text=True)
        assert not resp.headers["Location"].startswith(callback), (choice.label, resp.headers["Location"])


def test_valid_flow_shows_vot_and_identity_proofing_level(client, provider, keys):
    resp = finish_login(client, provider, start_login(client, vtr=["P9.Cp.Cd"]))
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    home = page(client.get("/"))
    assert '<dd class="nhsuk-summary-list__value" id="vot">P9.Cp.Cd</dd>' in home
    assert '<dd class="nhsuk-summary-list__value" id="vtr-asked">P9.Cp.Cd</dd>' in home
    assert '"vot": "P9.Cp.Cd"' in home  # and in the ID token claims shown
    assert "P9" in home.split('id="identity-proofing-level">')[1].split("</dd>")[0]
    assert '"email": "test@example.org"' in home  # userinfo was fetched
    assert provider.token_errors == []
    assert provider.assertion_headers == [{"alg": "RS512", "kid": keys["rp_public"].thumbprint(), "typ": "JWT"}]


def test_client_assertion_without_kid_when_configured(rp, provider):
    rp.config["ASSERTION_KID"] = "none"
    client = rp.test_client()
    assert finish_login(client, provider, start_login(client)).status_code == 302
    assert "kid" not in provider.assertion_headers[0]


def test_wrong_state_is_refused(client, provider, adapter):
    resp = finish_login(client, provider, start_login(client), state="forged")
    assert resp.status_code == 400 and "The state does not match" in page(resp)
    assert "/token" not in adapter.calls


def test_wrong_iss_is_refused(client, provider, adapter):
    resp = finish_login(client, provider, start_login(client), iss="https://evil.test")
    assert resp.status_code == 400 and "wrong issuer" in page(resp)
    assert "/token" not in adapter.calls


def test_provider_error_is_shown(client, provider):
    auth = start_login(client)
    resp = client.get("/callback", query_string={"error": "access_denied", "error_description": "User left",
                                                 "state": auth["state"], "iss": ISSUER})
    assert resp.status_code == 400
    assert "access_denied" in page(resp) and "User left" in page(resp)


def test_token_endpoint_error_is_shown_not_a_500(client, provider):
    auth = start_login(client)
    resp = client.get("/callback", query_string={"code": "unknown", "state": auth["state"], "iss": ISSUER})
    assert resp.status_code == 502
    assert "invalid_grant" in page(resp) and "Traceback" not in page(resp)


def test_id_token_with_wrong_nonce_is_refused(client, provider):
    provider.id_token_overrides["nonce"] = "someone-elses-nonce"
    resp = finish_login(client, provider, start_login(client))
    assert resp.status_code == 502 and "refused" in page(resp) and "nonce" in page(resp)
    assert "id=\"vot\"" not in page(client.get("/"))


def test_id_token_with_bad_signature_is_refused(client, provider, keys):
    provider.signing_key = keys["impostor"]  # same kid, different key
    resp = finish_login(client, provider, start_login(client))
    assert resp.status_code == 502 and "refused" in page(resp)
    assert "id=\"vot\"" not in page(client.get("/"))


def test_refresh_uses_a_fresh_client_assertion(client, provider):
    finish_login(client, provider, start_login(client))
    old = page(client.get("/")).split('"refresh_token": "')[1].split('"')[0]
    resp = client.post("/refresh", data={"csrf_token": csrf(client)})
    assert resp.status_code == 302
    home = page(client.get("/"))
    assert "Tokens refreshed" in home and old not in home
    assert len(provider.seen_jtis) == 2 and provider.token_errors == []


def test_logout_redirects_to_end_session_and_clears_local_session(client, provider):
    finish_login(client, provider, start_login(client))
    resp = client.post("/logout", data={"csrf_token": csrf(client)})
    url = urlsplit(resp.headers["Location"])
    params = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == ISSUER + "/logout"
    assert params["post_logout_redirect_uri"] == BASE_URL + "/" and params["state"] and params["id_token_hint"]
    assert 'id="vot"' not in page(client.get("/"))
    assert "logged out at the provider" in page(client.get("/", query_string={"state": params["state"]}))


def test_backchannel_logout_with_valid_token_clears_the_session(client, provider):
    finish_login(client, provider, start_login(client))
    assert 'id="vot"' in page(client.get("/"))
    resp = client.post("/backchannel-logout", data={"logout_token": provider.logout_token()})
    assert resp.status_code == 200
    assert 'id="vot"' not in page(client.get("/"))


def test_backchannel_logout_by_sub_alone(client, provider):
    finish_login(client, provider, start_login(client))
    sub = page(client.get("/")).split('id="sub">')[1].split("<")[0]
    token = provider.logout_token(sid=None, sub=sub)
    assert client.post("/backchannel-logout", data={"logout_token": token}).status_code == 200
    assert 'id="vot"' not in page(client.get("/"))


@pytest.mark.parametrize("bad", ["impostor", "nonce", "no_event", "wrong_aud", "no_sid_or_sub", "replay", "missing"])
def test_backchannel_logout_with_invalid_token_is_refused(client, provider, keys, bad):
    finish_login(client, provider, start_login(client))
    token = {
        "impostor": lambda: provider.logout_token(key=keys["impostor"]),
        "nonce": lambda: provider.logout_token(nonce="n"),
        "no_event": lambda: provider.logout_token(events={"other": {}}),
        "wrong_aud": lambda: provider.logout_token(aud="another-client"),
        "no_sid_or_sub": lambda: provider.logout_token(sid=None),
        "replay": lambda: provider.logout_token(jti="used-once"),
        "missing": lambda: "",
    }[bad]()
    if bad == "replay":  # the first use is fine, but log in again afterwards
        assert client.post("/backchannel-logout", data={"logout_token": token}).status_code == 200
        finish_login(client, provider, start_login(client))
    resp = client.post("/backchannel-logout", data={"logout_token": token})
    assert resp.status_code == 400 and resp.get_json()["error"] == "invalid_request"
    assert 'id="vot"' in page(client.get("/"))  # still logged in
