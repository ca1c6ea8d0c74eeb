"""The relying party: builds requests the way the suite's conditions do and checks every answer.

Client authentication follows RFC 6749 2.3.1 (``client_secret_basic`` / ``_post``) and
RFC 7523 with OIDC Core 9 (``private_key_jwt``, signed here with PyJWT).
"""
from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import quote_plus, urlencode

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from . import checks

TIMEOUT = 10
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass
class ClientConfig:
    """What the suite's plan configuration holds for a client (``client``, ``client2``...)."""

    client_id: str
    redirect_uri: str
    auth_method: str
    secret: str | None = None
    key: rsa.RSAPrivateKey | None = None
    kid: str | None = None
    id_token_alg: str = "RS256"
    scope: str = "openid"
    post_logout_redirect_uri: str | None = None
    registration: dict = field(default_factory=dict)  # the RFC 7591 response, for dynamic clients


@dataclass
class Provider:
    """The OP as discovery describes it."""

    discovery_url: str
    metadata: dict
    _jwks: dict | None = None

    @classmethod
    def discover(cls, issuer: str) -> "Provider":
        url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        response = requests.get(url, timeout=TIMEOUT)
        response.raise_for_status()
        return cls(url, response.json())

    @property
    def issuer(self) -> str:
        return self.metadata["issuer"]

    def endpoint(self, name: str) -> str:
        value = self.metadata.get(name)
        assert value, f"discovery does not advertise {name}"
        return value

    def jwks(self, refresh: bool = False) -> dict:
        if self._jwks is None or refresh:
            response = requests.get(self.endpoint("jwks_uri"), timeout=TIMEOUT)
            assert response.status_code == 200, f"jwks_uri answered {response.status_code}"
            self._jwks = response.json()
        return self._jwks


@dataclass
class AuthRequest:
    params: dict
    verifier: str | None = None

    @property
    def state(self) -> str | None:
        return self.params.get("state")

    @property
    def nonce(self) -> str | None:
        return self.params.get("nonce")

    @property
    def max_age(self) -> int | None:
        return int(self.params["max_age"]) if "max_age" in self.params else None


def pkce_pair() -> tuple[str, str]:
    """RFC 7636 4.1/4.2: a 43+ character verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


class RelyingParty:
    def __init__(self, provider: Provider, client: ClientConfig, warn=lambda message: None):
        self.provider = provider
        self.client = client
        self.warn = warn

    # --- authorization request (OIDC Core 3.1.2.1) -------------------------------------------------
    def request(self, *, scope: str | None = None, nonce: bool = True, pkce: bool = False, state_length: int = 16,
                **extra) -> AuthRequest:
        params = {"client_id": self.client.client_id, "redirect_uri": self.client.redirect_uri,
                  "scope": scope or self.client.scope, "state": secrets.token_urlsafe(state_length)[:state_length],
                  "response_type": "code"}
        if nonce:
            params["nonce"] = secrets.token_urlsafe(12)
        verifier = None
        if pkce:
            verifier, challenge = pkce_pair()
            params.update(code_challenge=challenge, code_challenge_method="S256")
        params.update({k: v for k, v in extra.items()})
        return AuthRequest({k: v for k, v in params.items() if v is not None}, verifier)

    def url(self, request: AuthRequest) -> str:
        return self.provider.endpoint("authorization_endpoint") + "?" + urlencode(request.params)

    def callback(self, visit, request: AuthRequest, redirect_uri: str | None = None) -> dict:
        """The parameters the provider sent back to the redirect URI (it must have redirected there)."""
        assert visit.left_provider, _page_summary(visit.page)
        return checks.check_callback(visit.location, redirect_uri or self.client.redirect_uri)

    def code(self, visit, request: AuthRequest) -> str:
        return checks.check_authorization_success(self.callback(visit, request), request.state, self.provider.issuer)

    # --- token endpoint --------------------------------------------------------------------------
    def assertion(self, *, audience: str | None = None, key=None, kid: str | None = None) -> str:
        """RFC 7523 3 / OIDC Core 9: iss = sub = client_id, aud = the token endpoint, a fresh jti, short exp."""
        now = int(time.time())
        claims = {"iss": self.client.client_id, "sub": self.client.client_id,
                  "aud": audience or self.provider.endpoint("token_endpoint"), "jti": str(uuid.uuid4()),
                  "iat": now, "exp": now + 60}
        headers = {"kid": kid or self.client.kid} if (kid or self.client.kid) else None
        return jwt.encode(claims, key or self.client.key, algorithm="RS256", headers=headers)

    def authenticate(self, form: dict, *, audience: str | None = None, key=None, kid: str | None = None) -> dict:
        """Add this client's credentials to ``form``; returns the headers to send."""
        method = self.client.auth_method
        if method == "client_secret_basic":
            # RFC 6749 2.3.1: id and secret are form-urlencoded before base64.
            raw = f"{quote_plus(self.client.client_id)}:{quote_plus(self.client.secret)}".encode()
            return {"Authorization": "Basic " + base64.b64encode(raw).decode()}
        if method == "client_secret_post":
            form.update(client_id=self.client.client_id, client_secret=self.client.secret)
            return {}
        assert method == "private_key_jwt", method
        form.update(client_assertion_type=ASSERTION_TYPE,
                    client_assertion=self.assertion(audience=audience, key=key, kid=kid))
        return {}

    def post_token(self, form: dict, **auth) -> requests.Response:
        headers = self.authenticate(form, **auth)
        return requests.post(self.provider.endpoint("token_endpoint"), data=form, headers=headers, timeout=TIMEOUT)

    def redeem(self, code: str, request: AuthRequest, **auth) -> requests.Response:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": request.params["redirect_uri"]}
        if request.verifier:
            form["code_verifier"] = request.verifier
        return self.post_token(form, **auth)

    def refresh(self, refresh_token: str, scope: str | None = None, **auth) -> requests.Response:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        if scope:
            form["scope"] = scope
        return self.post_token(form, **auth)

    def tokens(self, response: requests.Response) -> dict:
        return checks.check_token_response(response, self.warn)

    def id_token(self, token: str, request: AuthRequest | None, *, access_token: str | None = None,
                 code: str | None = None) -> dict:
        advertised = self.provider.metadata.get("id_token_signing_alg_values_supported", [])
        assert self.client.id_token_alg in advertised, f"{self.client.id_token_alg} is not advertised for ID tokens"
        return checks.check_id_token(
            token, issuer=self.provider.issuer, client_id=self.client.client_id, alg=self.client.id_token_alg,
            jwks=self.provider.jwks(), nonce=request.nonce if request else None, access_token=access_token,
            code=code, max_age=request.max_age if request else None, warn=self.warn)

    # --- UserInfo (OIDC Core 5.3.1, RFC 6750 2) -------------------------------------------------------
    def userinfo(self, access_token: str, how: str = "get") -> requests.Response:
        url = self.provider.endpoint("userinfo_endpoint")
        bearer = {"Authorization": f"Bearer {access_token}"}
        if how == "get":
            return requests.get(url, headers=bearer, timeout=TIMEOUT)
        if how == "post-header":
            return requests.post(url, headers=bearer, timeout=TIMEOUT)
        assert how == "post-body", how
        return requests.post(url, data={"access_token": access_token}, timeout=TIMEOUT)

    # --- RP-initiated logout (RP-Initiated Logout 1.0 section 2) ----------------------------------------
    def logout_url(self, **params) -> str:
        params = {k: v for k, v in params.items() if v is not None}
        url = self.provider.endpoint("end_session_endpoint")
        return url + ("?" + urlencode(params) if params else "")


def _page_summary(page) -> str:
    if page is None:
        return "the provider neither redirected nor showed a page"
    title = re.search(r"<title>(.*?)</title>", page.text, flags=re.S)
    message = re.search(r'<p[^>]*>(.*?)</p>', page.text, flags=re.S)
    return (f"expected a redirect back to the client, the provider showed a page: HTTP {page.status_code} "
            f"{(title.group(1).strip() if title else '')!r} {(message.group(1).strip()[:200] if message else '')!r}")
