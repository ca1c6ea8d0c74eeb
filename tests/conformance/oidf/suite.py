"""One served provider set up the way a tester configures the plans, and the flows the modules share.

``Suite`` lives for the session: the provider, the relying party's receiver, the
registered clients and the test person. ``ModuleRun`` is one module's run: it makes
fresh browsers (the suite's browser starts each module without cookies), collects the
module's warnings and notes for the report, and runs the happy flow every
``AbstractOIDCCServerTest`` module starts with.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
import requests

from . import checks
from .browser import Browser, Visit
from .keys import new_rsa_key, public_jwk
from .rp import TIMEOUT, AuthRequest, ClientConfig, Provider, RelyingParty


@dataclass
class Flow:
    """What one authorization + token exchange produced."""

    request: AuthRequest
    visit: Visit
    code: str
    tokens: dict
    id_claims: dict
    userinfo: dict | None = None
    browser: Browser | None = None


@dataclass
class Suite:
    served: object  # benchmarks.served.ServedProvider
    receiver: object  # oidf.receiver.Receiver
    provider: Provider
    clients: dict[str, ClientConfig]
    email: str
    password: str
    initial_access_token: str  # RFC 7591 3: what the operator hands a tester for dynamic registration
    early: dict = field(default_factory=dict)  # first halves of the modules that need time to pass

    def cli(self, *args: str) -> str:
        return self.served.cli(*args)


class ModuleRun:
    """The context of one module: its relying parties, browsers, warnings and notes."""

    def __init__(self, suite: Suite, item):
        self.suite = suite
        self.item = item

    @classmethod
    def first_half(cls, suite: Suite, name: str) -> "ModuleRun":
        """A run outside any test, for a module's first half; ``early`` hands its warnings to the module."""
        return cls(suite, SimpleNamespace(user_properties=[], name=name))

    def early(self, first_half) -> dict:
        """What ``first_half`` (an ``oidf_late`` module's) left at the start of the run; its notes become ours."""
        result = self.suite.early.get(first_half.__name__)
        if result is None or isinstance(result, Exception):
            raise AssertionError(f"the module's first half failed: {result}")
        if isinstance(result.get("run"), ModuleRun):
            self.item.user_properties.extend(result["run"].item.user_properties)
        return result

    # --- the report -------------------------------------------------------------------------------
    def warn(self, message: str) -> None:
        """A check the suite reports as WARNING: the module passes, the report says why it warned."""
        self.item.user_properties.append(("warning", message))

    def note(self, message: str) -> None:
        self.item.user_properties.append(("note", message))

    def unsupported(self, reason: str) -> None:
        """Skip a module the provider deliberately does not support; the report lists it with the reason."""
        self.item.user_properties.append(("unsupported", reason))
        pytest.skip(f"deliberately unsupported: {reason}")

    def not_applicable(self, reason: str) -> None:
        pytest.skip(f"not applicable: {reason}")

    # --- actors -----------------------------------------------------------------------------------
    @property
    def provider(self) -> Provider:
        return self.suite.provider

    def rp(self, client: str | ClientConfig = "client") -> RelyingParty:
        config = self.suite.clients[client] if isinstance(client, str) else client
        return RelyingParty(self.suite.provider, config, self.warn)

    def browser(self) -> Browser:
        return Browser(self.suite.served.base_url, self.suite.email, self.suite.password)

    # --- the happy flow (AbstractOIDCCServerTest) -----------------------------------------------------
    def authorize(self, rp: RelyingParty, browser: Browser, request: AuthRequest, *, post: bool = False, **kw) -> Visit:
        if post:
            return browser.open(rp.provider.endpoint("authorization_endpoint"), data=request.params, **kw)
        return browser.open(rp.url(request), **kw)

    def flow(self, rp: RelyingParty | None = None, browser: Browser | None = None, request: AuthRequest | None = None,
             *, post: bool = False, userinfo: bool = True, **params) -> Flow:
        """Authorize (logging in as needed), check the response, redeem the code, check every token."""
        rp = rp or self.rp()
        browser = browser or self.browser()
        request = request or rp.request(**params)
        visit = self.authorize(rp, browser, request, post=post)
        code = rp.code(visit, request)
        tokens = rp.tokens(rp.redeem(code, request))
        assert "id_token" in tokens, "no id_token for an openid request (OIDC Core 3.1.3.3)"
        claims = rp.id_token(tokens["id_token"], request, access_token=tokens["access_token"], code=code)
        flow = Flow(request, visit, code, tokens, claims, browser=browser)
        if userinfo:
            # requestProtectedResource: the plans configure the UserInfo endpoint as the resource.
            flow.userinfo = checks.check_userinfo(rp.userinfo(tokens["access_token"]), claims)
        return flow

    def expect_user_interface_error(self, rp: RelyingParty, browser: Browser, **params) -> str:
        """A prompt=none request that must come back with an error needing a UI (OIDC Core 3.1.2.6)."""
        request = rp.request(prompt="none", **params)
        visit = self.authorize(rp, browser, request, log_in=False)
        assert "login" not in visit.pages, "prompt=none showed a login page (OIDC Core 3.1.2.1)"
        return checks.check_authorization_error(rp.callback(visit, request), request.state, rp.provider.issuer,
                                                checks.USER_INTERFACE_ERRORS)

    # --- dynamic registration (RFC 7591) ----------------------------------------------------------------
    def register(self, metadata: dict) -> requests.Response:
        """POST client metadata to registration_endpoint with the operator's initial access token (RFC 7591 3.1)."""
        endpoint = self.provider.metadata.get("registration_endpoint")
        assert endpoint, "discovery advertises no registration_endpoint, so no client can register dynamically"
        return requests.post(endpoint, json=metadata, timeout=TIMEOUT,
                             headers={"Authorization": f"Bearer {self.suite.initial_access_token}"})

    def dynamic_client(self, *, key=None, kid: str | None = None, jwks_uri: str | None = None,
                       redirect_uri: str | None = None, **metadata) -> ClientConfig:
        """Register as the suite's OIDCCCreateDynamicClientRegistrationRequest does, private_key_jwt with a jwks."""
        key = key or new_rsa_key()
        kid = kid or secrets.token_hex(8)
        redirect_uri = redirect_uri or self.suite.receiver.url("callback")
        body = {"client_name": f"conformance {self.item.name}"[:60], "redirect_uris": [redirect_uri],
                "response_types": ["code"], "grant_types": ["authorization_code"],
                "token_endpoint_auth_method": "private_key_jwt", "contacts": ["certification@example.com"]}
        if jwks_uri:
            body["jwks_uri"] = jwks_uri
        else:
            body["jwks"] = {"keys": [public_jwk(key, kid)]}
        body.update(metadata)
        response = self.register(body)
        assert response.status_code == 201, f"registration answered {response.status_code}: {response.text[:300]}"
        assert response.headers.get("Content-Type", "").startswith("application/json"), "registration response is not JSON"
        info = response.json()
        assert info.get("client_id"), "no client_id in the registration response (RFC 7591 3.2.1)"
        return ClientConfig(client_id=info["client_id"], redirect_uri=redirect_uri, auth_method="private_key_jwt",
                            key=key, kid=kid, id_token_alg=info.get("id_token_signed_response_alg", "RS256"),
                            scope="openid", registration=info)
