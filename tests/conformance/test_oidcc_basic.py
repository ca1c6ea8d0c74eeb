"""oidcc-basic-certification-test-plan: static clients, response_type=code, client_secret_basic.

One test per suite module, in the plan's order (OIDCCBasicTestPlan.java). Every flow
runs OIDCCServerTest's checks (rp.py, checks.py); modules that need time between two
authorizations are in test_oidcc_basic_late.py.
"""
import secrets

import pytest

from oidf import checks
from oidf.plans import BASIC

pytestmark = pytest.mark.conformance

# OIDC Core 5.4: the standard claims each scope asks for (VerifyScopesReturnedInUserInfoClaims).
SCOPE_CLAIMS = {
    "profile": {"name", "family_name", "given_name", "middle_name", "nickname", "preferred_username", "profile",
                "picture", "website", "gender", "birthdate", "zoneinfo", "locale", "updated_at"},
    "email": {"email", "email_verified"},
    "phone": {"phone_number", "phone_number_verified"},
    "address": {"address"},
}


def module(name, **kw):
    return pytest.mark.oidf_module(name, BASIC, **kw)


@module("oidcc-server")
def test_oidcc_server(conformance):
    flow = conformance.flow()
    # ID token from the token endpoint of the code flow: c_hash and at_hash optional, checked if present.
    conformance.note(f"ID token {sorted(set(flow.id_claims) & {'at_hash', 'c_hash', 'auth_time', 'sid'})} present")


@module("oidcc-server", variant="private_key_jwt")
def test_oidcc_server_private_key_jwt(conformance):
    conformance.flow(conformance.rp("client-pkj"))


@module("oidcc-response-type-missing")
def test_oidcc_response_type_missing(conformance):
    rp = conformance.rp()
    request = rp.request(response_type=None)
    visit = conformance.authorize(rp, conformance.browser(), request, log_in=False)
    if visit.left_provider:
        # RFC 6749 4.1.2.1 (CheckErrorFromAuthorizationEndpointErrorInvalidRequestOrUnsupportedResponseType).
        checks.check_authorization_error(rp.callback(visit, request), request.state, rp.provider.issuer,
                                         {"invalid_request", "unsupported_response_type"})
    else:
        checks.check_error_page(visit.page, "response_type missing")


@module("oidcc-idtoken-signature")
def test_oidcc_idtoken_signature(conformance):
    conformance.not_applicable("the suite runs it only with dynamic registration (default alg); see oidcc-idtoken-rs256")


@module("oidcc-idtoken-unsigned")
def test_oidcc_idtoken_unsigned(conformance):
    conformance.not_applicable("the suite runs it only with dynamic registration; see the dynamic plan")


@module("oidcc-userinfo-get")
def test_oidcc_userinfo_get(conformance):
    flow = conformance.flow(userinfo=False)
    checks.check_userinfo(conformance.rp().userinfo(flow.tokens["access_token"], "get"), flow.id_claims)


@module("oidcc-userinfo-post-header")
def test_oidcc_userinfo_post_header(conformance):
    flow = conformance.flow(userinfo=False)
    checks.check_userinfo(conformance.rp().userinfo(flow.tokens["access_token"], "post-header"), flow.id_claims)


@module("oidcc-userinfo-post-body")
def test_oidcc_userinfo_post_body(conformance):
    flow = conformance.flow(userinfo=False)
    response = conformance.rp().userinfo(flow.tokens["access_token"], "post-body")
    if not 200 <= response.status_code < 300:
        # RFC 6750 2.2 is optional: the suite warns (UserInfoEndpointWithAccessTokenInBodyNotSupported).
        conformance.warn(f"access token in the body not supported (HTTP {response.status_code})")
        return
    checks.check_userinfo(response, flow.id_claims)


@module("oidcc-ensure-request-without-nonce-succeeds-for-code-flow")
def test_oidcc_ensure_request_without_nonce_succeeds_for_code_flow(conformance):
    # OIDC Core 3.1.2.1: nonce is OPTIONAL in the code flow; the ID token then carries none.
    conformance.flow(nonce=False)


def _scope_module(conformance, scopes: list[str]):
    supported = conformance.provider.metadata.get("scopes_supported", [])
    missing = [s for s in scopes if s not in supported]
    if missing:
        # OIDCCCheckScopesSupportedContainScopeTest: the suite skips what discovery does not offer.
        pytest.skip(f"the suite skips this module: scopes_supported lacks {' '.join(missing)}")
    flow = conformance.flow(scope=" ".join(["openid", *scopes]))
    for scope in scopes:
        if not SCOPE_CLAIMS[scope] & set(flow.userinfo):
            conformance.warn(f"no standard {scope} claim returned (OIDC Core 5.4)")
    return flow


@module("oidcc-scope-profile")
def test_oidcc_scope_profile(conformance):
    flow = _scope_module(conformance, ["profile"])
    conformance.note(f"profile released {sorted(set(flow.userinfo) - {'sub'})} for a P9 person")


@module("oidcc-scope-email")
def test_oidcc_scope_email(conformance):
    flow = _scope_module(conformance, ["email"])
    assert flow.userinfo.get("email") == conformance.suite.email and flow.userinfo.get("email_verified") is True


@module("oidcc-scope-address")
def test_oidcc_scope_address(conformance):
    _scope_module(conformance, ["address"])


@module("oidcc-scope-phone")
def test_oidcc_scope_phone(conformance):
    flow = _scope_module(conformance, ["phone"])
    assert flow.userinfo.get("phone_number", "").startswith("+"), "phone_number is not E.164"


@module("oidcc-scope-all")
def test_oidcc_scope_all(conformance):
    supported = conformance.provider.metadata.get("scopes_supported", [])
    if "address" not in supported:
        # The suite skips (it asks for address too); run the rest anyway: address is ignored as unknown.
        flow = conformance.flow(scope="openid email phone address profile")
        for scope in ("profile", "email", "phone"):
            assert SCOPE_CLAIMS[scope] & set(flow.userinfo), f"no {scope} claim returned"
        pytest.skip("the suite skips this module: scopes_supported lacks address; here openid email phone address "
                    "profile succeeded, address ignored as unknown (RFC 6749 3.3), the other scopes' claims returned")
    _scope_module(conformance, ["email", "phone", "address", "profile"])


@module("oidcc-ensure-other-scope-order-succeeds")
def test_oidcc_ensure_other_scope_order_succeeds(conformance):
    # RFC 6749 3.3: the order of scope values does not matter.
    flow = conformance.flow(scope="email openid")
    assert "email" in flow.userinfo


@module("oidcc-display-page")
def test_oidcc_display_page(conformance):
    flow = conformance.flow(display="page")
    assert flow.visit.logged_in, "a fresh browser must be shown the login page"


@module("oidcc-display-popup")
def test_oidcc_display_popup(conformance):
    conformance.flow(display="popup")


@module("oidcc-prompt-none-not-logged-in")
def test_oidcc_prompt_none_not_logged_in(conformance):
    rp = conformance.rp()
    # A long state (128 characters) to check it comes back intact.
    error = conformance.expect_user_interface_error(rp, conformance.browser(), state_length=128)
    conformance.note(f"error={error}")


def _same_auth_twice(conformance, second: dict, first: dict | None = None):
    """AbstractOIDCCSameAuthTwiceServerTest: the second authorization reuses the login; sub and auth_time agree."""
    rp, browser = conformance.rp(), conformance.browser()
    one = conformance.flow(rp, browser, **(first or {}))
    request = rp.request(**{k: (v(one) if callable(v) else v) for k, v in second.items()})
    visit = conformance.authorize(rp, browser, request, log_in=False)
    assert not visit.pages, f"the second authorization showed {visit.pages}; it must not ask the person again"
    code = rp.code(visit, request)
    tokens = rp.tokens(rp.redeem(code, request))
    two = rp.id_token(tokens["id_token"], request, access_token=tokens["access_token"], code=code)
    assert two["sub"] == one.id_claims["sub"], "sub differs between the two authorizations (OIDC Core 2)"
    if "auth_time" in one.id_claims and "auth_time" in two:
        assert two["auth_time"] == one.id_claims["auth_time"], "auth_time changed without a new login"
    return one, two


@module("oidcc-prompt-none-logged-in")
def test_oidcc_prompt_none_logged_in(conformance):
    _same_auth_twice(conformance, {"prompt": "none"})


@module("oidcc-max-age-10000")
def test_oidcc_max_age_10000(conformance):
    one, two = _same_auth_twice(conformance, {"max_age": "10000"}, {"max_age": "15000"})
    # CheckIdTokenAuthTimeClaimPresentDueToMaxAge, both times.
    assert "auth_time" in one.id_claims and "auth_time" in two


@module("oidcc-ensure-request-with-unknown-parameter-succeeds")
def test_oidcc_ensure_request_with_unknown_parameter_succeeds(conformance):
    # RFC 6749 3.1: the authorization server MUST ignore unrecognized request parameters.
    conformance.flow(extra="foobar")


@module("oidcc-id-token-hint")
def test_oidcc_id_token_hint(conformance):
    _same_auth_twice(conformance, {"prompt": "none", "id_token_hint": lambda first: first.tokens["id_token"]})


@module("oidcc-login-hint")
def test_oidcc_login_hint(conformance):
    rp, browser = conformance.rp(), conformance.browser()
    request = rp.request(login_hint=conformance.suite.email)
    page = browser.session.get(rp.url(request), timeout=10)  # follow to the login page, as the person sees it
    if conformance.suite.email in page.text:
        conformance.note("the login page is filled in with the login_hint")
    flow = conformance.flow(rp, browser, request)
    assert flow.userinfo["sub"]


@module("oidcc-ui-locales")
def test_oidcc_ui_locales(conformance):
    # OIDC Core 3.1.2.1 / 15.1: must not cause an error ('se' is the suite's default value).
    conformance.flow(ui_locales="se")


@module("oidcc-claims-locales")
def test_oidcc_claims_locales(conformance):
    conformance.flow(claims_locales="se")


@module("oidcc-ensure-request-with-acr-values-succeeds")
def test_oidcc_ensure_request_with_acr_values_succeeds(conformance):
    requested = conformance.provider.metadata.get("acr_values_supported") or ["1", "2"]
    flow = conformance.flow(acr_values=" ".join(requested))
    acr = flow.id_claims.get("acr")
    # ValidateIdTokenACRClaimAgainstAcrValuesRequest is a warning: OIDC Core 15.1 only requires no error.
    if acr not in requested:
        conformance.warn(f"acr {acr!r} is not one of the requested values")
    else:
        conformance.note(f"acr={acr}")


@module("oidcc-codereuse")
def test_oidcc_codereuse(conformance):
    rp = conformance.rp()
    flow = conformance.flow(rp)
    # OIDC Core 3.1.3.2 / RFC 6749 4.1.2: a code is single use; a second redemption is invalid_grant.
    checks.check_token_error(rp.redeem(flow.code, flow.request), "invalid_grant")


@module("oidcc-ensure-registered-redirect-uri")
def test_oidcc_ensure_registered_redirect_uri(conformance):
    rp = conformance.rp()
    bad = conformance.suite.receiver.url(secrets.token_hex(6))
    request = rp.request(redirect_uri=bad)
    visit = conformance.authorize(rp, conformance.browser(), request, log_in=False)
    # OIDC Core 3.1.2.1 / RFC 6749 4.1.2.1: an unregistered redirect_uri gets an error page, never a redirect.
    assert not visit.left_provider, f"redirected to {visit.location}"
    checks.check_error_page(visit.page, "unregistered redirect_uri")


@module("oidcc-ensure-post-request-succeeds")
def test_oidcc_ensure_post_request_succeeds(conformance):
    # OIDC Core 3.1.2.1: authorization servers MUST support GET and POST.
    conformance.flow(post=True)


@module("oidcc-server-client-secret-post")
def test_oidcc_server_client_secret_post(conformance):
    conformance.flow(conformance.rp("client-post"))


@module("oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported")
def test_oidcc_request_uri_unsigned_static(conformance):
    conformance.not_applicable("the suite runs it only with dynamic registration (request_uris)")


@module("oidcc-claims-essential")
def test_oidcc_claims_essential(conformance):
    rp, browser = conformance.rp(), conformance.browser()
    flow = conformance.flow(rp, browser, claims='{"userinfo":{"name":{"essential":true}}}')
    # OIDC Core 5.5.1: an essential claim the OP cannot provide is not an error; the suite warns.
    if "name" not in flow.userinfo:
        conformance.warn("no name claim in the UserInfo response (this provider has no name claim)")
    # Ours as well: a claim this client may receive, asked for by the claims parameter alone.
    extra = conformance.flow(rp, browser, scope="openid", claims='{"userinfo":{"email":{"essential":true}}}')
    assert extra.userinfo.get("email") == conformance.suite.email, "claims parameter: email not released"
    conformance.note("claims={userinfo:{email:essential}} with scope=openid released email")


@module("oidcc-refresh-token")
def test_oidcc_refresh_token(conformance):
    rp, rp2, browser = conformance.rp("client"), conformance.rp("client2"), conformance.browser()
    first = conformance.flow(rp, browser)
    refresh_token = first.tokens.get("refresh_token")
    assert refresh_token, "no refresh_token for a client registered for refresh tokens"
    assert "refresh_token" in conformance.provider.metadata.get("grant_types_supported", []), "refresh_token grant not advertised"
    # RefreshTokenRequestSteps: with the client's scope (RFC 6749 6), then OIDC Core 12.2 on the new ID token.
    refreshed = rp.tokens(rp.refresh(refresh_token, scope="openid"))
    if "id_token" in refreshed:
        second = rp.id_token(refreshed["id_token"], None, access_token=refreshed["access_token"])
        checks.check_refreshed_id_token(first.id_claims, second)
    assert refreshed["access_token"] != first.tokens["access_token"]
    checks.check_userinfo(rp.userinfo(refreshed["access_token"]), first.id_claims)
    # The second client: its refresh token is bound to it (RFC 6749 6) and refused for client 1.
    other = conformance.flow(rp2, browser)
    assert other.tokens.get("refresh_token"), "client2 got no refresh_token"
    checks.check_token_error(rp.refresh(other.tokens["refresh_token"]), "invalid_grant")
    rp2.tokens(rp2.refresh(other.tokens["refresh_token"]))
    conformance.note("client2's refresh token still works for client2 after client1's attempt")


@module("oidcc-ensure-request-with-valid-pkce-succeeds")
def test_oidcc_ensure_request_with_valid_pkce_succeeds(conformance):
    # RFC 7636 4.3-4.6 with S256.
    conformance.flow(pkce=True)
