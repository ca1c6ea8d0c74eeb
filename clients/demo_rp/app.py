"""A demo relying party for the provider, written against shared/spec/interface.md.

It logs a tester in with the authorization code flow, PKCE (S256), a chosen
vector of trust (`vtr`, one choice per authentication component, to show a
step-up) and `private_key_jwt` client authentication (RS512), then shows the
vtr asked for, the ID token claims, `vot`, `identity_proofing_level` and the
userinfo answer.

Run it with:  gunicorn -b 127.0.0.1:5001 --threads 4 'clients.demo_rp.app:create_app()'
(one worker process: logged-in sessions live in that process's memory.)
"""

from __future__ import annotations

import hmac
import json
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oauth2.rfc7523.assertion import private_key_jwt_sign
from flask import Blueprint, Flask, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet, RSAKey
from joserfc.jwt import JWTClaimsRegistry


@dataclass(frozen=True)
class VectorChoice:
    """One radio of the login form: what the tester reads, and the vectors sent as ``vtr`` (alternatives)."""

    label: str
    vectors: tuple[str, ...]  # empty: send no vtr, so the provider uses the client's registered vectors

    @property
    def value(self) -> str:
        return " ".join(self.vectors)


# One choice needing each authentication component (interface.md Levels: Cp password, Cd security code or
# remembered device, Ck authenticator app, Cm passkey), so a tester sees the provider step up. Every vector
# here is in the demo client's registered vtr (clients/demo-rp.json), else the provider says invalid_request.
VECTOR_CHOICES = (
    VectorChoice("Password, any identity level (P0.Cp, P5.Cp or P9.Cp)", ("P0.Cp", "P5.Cp", "P9.Cp")),
    VectorChoice("Password only (P0.Cp)", ("P0.Cp",)),
    VectorChoice("Password and security code (P0.Cp.Cd)", ("P0.Cp.Cd",)),
    VectorChoice("Password and authenticator app (P0.Cp.Ck)", ("P0.Cp.Ck",)),
    VectorChoice("Passkey (P0.Cm)", ("P0.Cm",)),
    VectorChoice("Medium identity, password (P5.Cp)", ("P5.Cp",)),
    VectorChoice("High identity, password (P9.Cp)", ("P9.Cp",)),
    VectorChoice("High identity, password and security code (P9.Cp.Cd)", ("P9.Cp.Cd",)),
    VectorChoice("High identity, password and authenticator app (P9.Cp.Ck)", ("P9.Cp.Ck",)),
    VectorChoice("High identity, passkey (P9.Cm)", ("P9.Cm",)),
    VectorChoice("High identity, more than a password (P9.Cp.Cd, P9.Cp.Ck or P9.Cm)",
                 ("P9.Cp.Cd", "P9.Cp.Ck", "P9.Cm")),
    VectorChoice("No vtr: the client's registered vectors", ()),
)
DEFAULT_CHOICE = VECTOR_CHOICES[0]
# A GET /login may ask for any well-formed vector, so testers can probe the provider with ones the form lacks.
VECTOR_RE = re.compile(r"^P[059](\.C[pdkm])+$")
PROMPTS = ("", "none", "login")  # "" sends no prompt at all
# Asymmetric algorithms only: accepting HS* would let anyone holding the public JWKS forge tokens.
TOKEN_ALGS = ["RS512", "RS256", "PS256", "ES256"]
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
CLOCK_LEEWAY = 60  # seconds of clock skew tolerated between us and the provider
ASSERTION_LIFETIME = 120  # the provider refuses client assertions that live more than a few minutes
MAX_SESSIONS = 1000  # the in-process session store is a demo; cap it so it cannot grow without bound

bp = Blueprint("demo_rp", __name__)


class RPError(Exception):
    """A failure the tester should see on a page instead of a traceback."""

    def __init__(self, title: str, description: str = "", status: int = 400):
        super().__init__(title)
        self.title, self.description, self.status = title, description, status


def _config_from_env() -> dict:
    env = os.environ.get
    return {
        "ISSUER": env("DEMO_RP_ISSUER", "http://127.0.0.1:5000"),
        "CLIENT_ID": env("DEMO_RP_CLIENT_ID", "demo-rp"),
        "PRIVATE_KEY": env("DEMO_RP_PRIVATE_KEY", "keys/demo-rp-private.pem"),
        # As scripts/serve.sh and `idp demo load` (idp/demo.py) have it, so the registration matches.
        "BASE_URL": (env("DEMO_RP_BASE_URL") or f"http://localhost:{env('DEMO_RP_PORT') or 5001}").rstrip("/"),
        "SECRET_KEY": env("DEMO_RP_SECRET_KEY", "dev-only-demo-rp-secret"),
        "SCOPE": env("DEMO_RP_SCOPE", "openid profile profile_extended email phone"),
        # "thumbprint" (RFC 7638 kid, the default), "none" (no kid), or a literal kid.
        "ASSERTION_KID": env("DEMO_RP_ASSERTION_KID", "thumbprint"),
        "HTTP_TIMEOUT": 10,
        "HTTP_ADAPTER": None,  # a requests transport adapter; the tests plug a fake provider in here
    }


class _ShortLivedPrivateKeyJWT(PrivateKeyJWT):
    """Authlib's private_key_jwt, but with exp a couple of minutes ahead (Authlib's
    default is an hour, which the provider refuses) and a fresh header dict per call."""

    alg = "RS512"

    def sign(self, auth, token_endpoint):
        return private_key_jwt_sign(
            auth.client_secret, client_id=auth.client_id, token_endpoint=token_endpoint,
            alg=self.alg, header=dict(self.headers or {}), expires_in=ASSERTION_LIFETIME,
        )


class Provider:
    """What the RP knows about the provider, its own key, and its logged-in sessions.
    One per app, shared between requests; everything is fetched on first use so the
    RP starts even while the provider is down."""

    def __init__(self, config):
        self.config = config
        self._metadata = None
        self._jwks = None
        self._key = None
        self.lock = threading.Lock()
        self.sessions: dict[str, dict] = {}  # local session id -> tokens, claims, userinfo
        self.seen_logout_jtis: set[str] = set()

    # --- HTTP -------------------------------------------------------------
    def _mount(self, http: requests.Session) -> requests.Session:
        if self.config["HTTP_ADAPTER"] is not None:
            http.mount("http://", self.config["HTTP_ADAPTER"])
            http.mount("https://", self.config["HTTP_ADAPTER"])
        return http

    def _get_json(self, url: str) -> dict:
        try:
            resp = self._mount(requests.Session()).get(url, timeout=self.config["HTTP_TIMEOUT"])
            resp.raise_for_status()
            return resp.json()
        except (requests.RequestException, ValueError) as e:
            raise RPError("Could not read from the provider", f"{url}: {e}", 502) from e

    def metadata(self) -> dict:
        if self._metadata is None:
            issuer = self.config["ISSUER"]
            doc = self._get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
            # OIDC Discovery 4.3: the document must name exactly the issuer we asked.
            if doc.get("issuer") != issuer:
                raise RPError("Discovery names another issuer", f"expected {issuer}, got {doc.get('issuer')}", 502)
            self._metadata = doc
        return self._metadata

    def jwks(self, refresh: bool = False) -> KeySet:
        if self._jwks is None or refresh:
            self._jwks = KeySet.import_key_set(self._get_json(self.metadata()["jwks_uri"]))
        return self._jwks

    # --- our key and the token endpoint ------------------------------------
    def private_key(self) -> RSAKey:
        if self._key is None:
            path = self.config["PRIVATE_KEY"]
            try:
                with open(path, "rb") as f:
                    self._key = RSAKey.import_key(f.read())
            except (OSError, ValueError, JoseError) as e:
                raise RPError("Cannot load the RP's private key", f"{os.path.abspath(path)}: {e}", 500) from e
        return self._key

    def _assertion_header(self) -> dict:
        kid = self.config["ASSERTION_KID"]
        if kid == "thumbprint":
            return {"kid": self.private_key().thumbprint()}
        return {} if kid in ("", "none") else {"kid": kid}

    def oauth_client(self) -> OAuth2Session:
        client = OAuth2Session(
            self.config["CLIENT_ID"], client_secret=self.private_key(),
            token_endpoint_auth_method="private_key_jwt", code_challenge_method="S256",
            redirect_uri=self.config["BASE_URL"] + "/callback", default_timeout=self.config["HTTP_TIMEOUT"],
        )
        # aud of the assertion is the token endpoint URL, as the spec requires.
        client.register_client_auth_method(
            _ShortLivedPrivateKeyJWT(self.metadata()["token_endpoint"], headers=self._assertion_header()))
        return self._mount(client)

    def token_request(self, call) -> dict:
        """Run one token-endpoint call, turning every failure into a page for the tester."""
        try:
            token = dict(call(self.oauth_client(), self.metadata()["token_endpoint"]))
        except OAuthError as e:
            raise RPError("The token endpoint refused the request", f"{e.error}: {e.description or ''}", 502) from e
        except (requests.RequestException, ValueError) as e:
            raise RPError("The token request failed", str(e), 502) from e
        if not token.get("access_token"):
            raise RPError("The token response has no access_token", json.dumps(token), 502)
        return token

    # --- JWT checks ----------------------------------------------------------
    def verify_jwt(self, token: str, **claim_options) -> dict:
        """Check signature (provider JWKS), iss and aud, plus whatever the caller adds."""
        if not isinstance(token, str) or not token:
            raise RPError("A token is missing", "expected a signed JWT from the provider", 502)
        try:
            try:
                decoded = jwt.decode(token, self.jwks(), algorithms=TOKEN_ALGS)
            except InvalidKeyIdError:  # the provider may have rotated keys: refetch once
                decoded = jwt.decode(token, self.jwks(refresh=True), algorithms=TOKEN_ALGS)
            JWTClaimsRegistry(
                leeway=CLOCK_LEEWAY,
                iss={"essential": True, "value": self.config["ISSUER"]},
                aud={"essential": True, "value": self.config["CLIENT_ID"]},
                **claim_options,
            ).validate(decoded.claims)
        except JoseError as e:
            raise RPError("A token from the provider was refused", f"{e.error}: {e.description or ''}", 502) from e
        return decoded.claims

    def verify_id_token(self, id_token: str, nonce: str | None) -> dict:
        required = {"essential": True}
        options = {"sub": required, "exp": required, "iat": required}
        if nonce is not None:  # ID tokens from a refresh need not repeat the nonce (OIDC Core 12.2)
            options["nonce"] = {"essential": True, "value": nonce}
        claims = self.verify_jwt(id_token, **options)
        aud = claims["aud"]
        if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != self.config["CLIENT_ID"]:
            raise RPError("A token from the provider was refused", "several audiences but azp is not us", 502)
        return claims

    def verify_logout_token(self, token: str) -> dict:
        required = {"essential": True}
        claims = self.verify_jwt(token, iat=required, jti=required)
        events = claims.get("events")
        if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_EVENT), dict):
            raise RPError("Not a logout token", "events lacks the back-channel logout event")
        if not (claims.get("sid") or claims.get("sub")):
            raise RPError("Not a logout token", "it names neither sid nor sub")
        if "nonce" in claims:  # forbidden, so an ID token can never pass as a logout token
            raise RPError("Not a logout token", "it carries a nonce")
        with self.lock:
            if claims["jti"] in self.seen_logout_jtis:
                raise RPError("Logout token replayed", claims["jti"])
            if len(self.seen_logout_jtis) > MAX_SESSIONS * 10:
                self.seen_logout_jtis.clear()
            self.seen_logout_jtis.add(claims["jti"])
        return claims

    def fetch_userinfo(self, access_token: str, sub: str) -> tuple[dict | None, str | None]:
        """Return (userinfo, error); a userinfo failure should not undo a login."""
        try:
            resp = self._mount(requests.Session()).get(
                self.metadata()["userinfo_endpoint"], timeout=self.config["HTTP_TIMEOUT"],
                headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"})
            if resp.status_code != 200:
                return None, f"HTTP {resp.status_code} {resp.headers.get('WWW-Authenticate', '')} {resp.text[:300]}"
            if resp.headers.get("Content-Type", "").startswith("application/jwt"):
                info = self.verify_jwt(resp.text.strip())
            else:
                info = resp.json()
        except (requests.RequestException, ValueError, KeyError, RPError) as e:
            return None, str(e)
        # OIDC Core 5.3.2: a userinfo answer about someone else must be ignored.
        if not isinstance(info, dict) or info.get("sub") != sub:
            return None, "userinfo sub does not match the ID token sub"
        return info, None

    # --- local sessions (in-process: the cookie is too small for tokens) ----
    def save_session(self, data: dict) -> str:
        sid = secrets.token_urlsafe(32)
        with self.lock:
            self.sessions[sid] = data
            while len(self.sessions) > MAX_SESSIONS:
                self.sessions.pop(next(iter(self.sessions)))
        return sid

    def forget(self, sid: str | None) -> None:
        with self.lock:
            self.sessions.pop(sid, None)

    def forget_matching(self, sid: str | None, sub: str | None) -> int:
        # Back-Channel Logout 1.0: sid ends one provider session; sub alone ends all of that person's.
        def matches(data):
            if sid and data.get("sid"):
                return data["sid"] == sid and (not sub or data["sub"] == sub)
            return bool(sub) and data["sub"] == sub

        with self.lock:
            doomed = [key for key, data in self.sessions.items() if matches(data)]
            for key in doomed:
                del self.sessions[key]
        return len(doomed)


def _rp() -> Provider:
    return current_app.extensions["demo_rp"]


def _current() -> dict | None:
    """The logged-in session of this browser, if the provider has not ended it."""
    sid = session.get("rp_sid")
    data = _rp().sessions.get(sid) if sid else None
    if sid and data is None:  # ended by back-channel logout or a restart
        session.pop("rp_sid", None)
    return data


def _csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


@bp.before_app_request
def _check_csrf():
    # Every browser POST carries the form token; back-channel logout is exempt because
    # the provider calls it server to server, without our cookie.
    if request.method == "POST" and request.endpoint != "demo_rp.backchannel_logout":
        expected = session.get("csrf")
        if not expected or not hmac.compare_digest(request.form.get("csrf_token", ""), expected):
            raise RPError("This form has expired", "Go back to the start page and try again.")


@bp.get("/")
def index():
    notice = None
    if request.args.get("state") and request.args["state"] == session.pop("logout_state", None):
        notice = "You have been logged out at the provider as well."
    return render_template("index.html", data=_current(), choices=VECTOR_CHOICES, default_choice=DEFAULT_CHOICE,
                           notice=notice)


@bp.route("/login", methods=["GET", "POST"])
def login():
    args = request.form if request.method == "POST" else request.args
    # A radio's value holds its vectors separated by spaces; a GET may also repeat vtr, one vector each.
    vectors = [vector for value in args.getlist("vtr") for vector in value.split()]
    if request.method == "GET" and "vtr" not in args:
        vectors = list(DEFAULT_CHOICE.vectors)  # a bare link to /login logs in with the defaults
    bad = [v for v in vectors if not VECTOR_RE.match(v)]
    prompt = args.get("prompt", "")
    if bad or prompt not in PROMPTS:
        raise RPError("Cannot build that login request", f"unknown vector or prompt: {bad or prompt}")

    rp = _rp()
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)  # 86 characters, inside PKCE's 43..128
    url, _ = rp.oauth_client().create_authorization_url(
        rp.metadata()["authorization_endpoint"], state=state, code_verifier=verifier,
        scope=rp.config["SCOPE"], nonce=nonce, prompt=prompt or None,
        # No boxes ticked: send no vtr, so the provider uses the client's registered vectors.
        vtr=json.dumps(vectors, separators=(",", ":")) if vectors else None,
    )
    # One login in flight per browser; small enough for the cookie.
    session["pending"] = {"state": state, "nonce": nonce, "verifier": verifier, "vtr": vectors}
    return redirect(url)


def _check_iss(received: str | None) -> None:
    # RFC 9207 stops mix-up attacks: a provider that advertises iss must send ours.
    rp = _rp()
    if received is None and not rp.metadata().get("authorization_response_iss_parameter_supported"):
        return
    if received != rp.config["ISSUER"]:
        raise RPError("The response came from the wrong issuer", f"iss={received!r}, expected {rp.config['ISSUER']}")


@bp.get("/callback")
def callback():
    rp, args = _rp(), request.args
    pending = session.pop("pending", None)  # single use, whatever happens next
    if pending is None:
        raise RPError("No login in progress", "Start again from the home page.")
    if not hmac.compare_digest(args.get("state", ""), pending["state"]):
        raise RPError("The state does not match", "This response does not belong to the login started here.")
    _check_iss(args.get("iss"))
    if "error" in args:
        raise RPError(f"The provider returned an error: {args['error']}", args.get("error_description", ""))
    if not args.get("code"):
        raise RPError("The provider returned no code")

    token = rp.token_request(lambda client, url: client.fetch_token(
        url, grant_type="authorization_code", code=args["code"], code_verifier=pending["verifier"]))
    claims = rp.verify_id_token(token.get("id_token"), nonce=pending["nonce"])
    userinfo, userinfo_error = rp.fetch_userinfo(token["access_token"], claims["sub"])
    rp.forget(session.pop("rp_sid", None))  # a fresh id per login also defeats session fixation
    session["rp_sid"] = rp.save_session({
        "sub": claims["sub"], "sid": claims.get("sid"), "id_token": token["id_token"], "claims": claims,
        "token": token, "userinfo": userinfo, "userinfo_error": userinfo_error, "asked": pending.get("vtr"),
    })
    return redirect(url_for(".index"))


def _require_login() -> dict:
    data = _current()
    if data is None:
        raise RPError("You are not logged in", "Log in first.")
    return data


@bp.post("/userinfo")
def userinfo():
    data = _require_login()
    data["userinfo"], data["userinfo_error"] = _rp().fetch_userinfo(data["token"]["access_token"], data["sub"])
    return redirect(url_for(".index"))


@bp.post("/refresh")
def refresh():
    rp, data = _rp(), _require_login()
    refresh_token = data["token"].get("refresh_token")
    if not refresh_token:
        raise RPError("No refresh token was issued", "This client may not be registered for refresh tokens.")
    token = rp.token_request(lambda client, url: client.refresh_token(url, refresh_token=refresh_token))
    if token.get("id_token"):
        claims = rp.verify_id_token(token["id_token"], nonce=None)
        if claims["sub"] != data["sub"]:  # OIDC Core 12.2: must be the same person
            raise RPError("The refreshed ID token is about someone else", claims["sub"], 502)
        data.update(id_token=token["id_token"], claims=claims)
    data["token"] = token
    data["userinfo"], data["userinfo_error"] = rp.fetch_userinfo(token["access_token"], data["sub"])
    flash(f"Tokens refreshed at {time.strftime('%H:%M:%S')}.")
    return redirect(url_for(".index"))


@bp.post("/logout")
def logout():
    rp, data = _rp(), _current()
    rp.forget(session.pop("rp_sid", None))  # local logout first, whatever the provider says
    end_session = rp.metadata().get("end_session_endpoint") if data else None
    if not end_session:
        return redirect(url_for(".index"))
    session["logout_state"] = state = secrets.token_urlsafe(16)
    params = {"id_token_hint": data["id_token"], "post_logout_redirect_uri": rp.config["BASE_URL"] + "/",
              "state": state, "client_id": rp.config["CLIENT_ID"]}
    return redirect(end_session + ("&" if "?" in end_session else "?") + urlencode(params))


@bp.post("/backchannel-logout")
def backchannel_logout():
    def refuse(description):
        return jsonify(error="invalid_request", error_description=description), 400, {"Cache-Control": "no-store"}

    token = request.form.get("logout_token")
    if not token:
        return refuse("logout_token is missing")
    try:
        claims = _rp().verify_logout_token(token)
    except RPError as e:
        return refuse(f"{e.title}: {e.description}")
    _rp().forget_matching(claims.get("sid"), claims.get("sub"))
    return "", 200, {"Cache-Control": "no-store"}


def _error_page(e: RPError):
    return render_template("error.html", error=e), e.status


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(_config_from_env())
    app.config.update(config or {})
    app.config.update(
        # Own cookie name: the provider on 127.0.0.1 would otherwise overwrite ours (cookies ignore ports).
        SESSION_COOKIE_NAME="demo_rp_session", SESSION_COOKIE_HTTPONLY=True,
        # Lax still sends the cookie on the provider's top-level redirect back to /callback.
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=app.config["BASE_URL"].startswith("https://"),
    )
    app.extensions["demo_rp"] = Provider(app.config)
    app.register_blueprint(bp)
    app.register_error_handler(RPError, _error_page)
    app.jinja_env.filters["pretty"] = lambda value: json.dumps(value, indent=2, sort_keys=True)
    app.context_processor(lambda: {"csrf_token": _csrf_token, "issuer": app.config["ISSUER"].rstrip("/")})
    return app
