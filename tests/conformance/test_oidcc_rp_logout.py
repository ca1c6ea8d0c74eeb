"""oidcc-rp-initiated-logout-certification-test-plan (OIDCCRpInitiatedLogoutTestPlan.java).

Every module first runs the happy flow, then sends the browser to end_session_endpoint
with the suite's parameters, changed the module's way (AbstractOIDCCRpInitiatedLogout).
Modules that expect the post-logout redirect then check that the person is logged out
with a prompt=none request, which must come back with an error needing a UI.
"""
import secrets

import jwt
import pytest

from oidf import checks
from oidf.keys import new_rsa_key
from oidf.plans import RP_LOGOUT

pytestmark = pytest.mark.conformance


def module(name):
    return pytest.mark.oidf_module(name, RP_LOGOUT)


def _logged_in(conformance, client: str = "client"):
    rp, browser = conformance.rp(client), conformance.browser()
    flow = conformance.flow(rp, browser, state_length=128)  # a long state, to check nothing corrupts it
    params = {"id_token_hint": flow.tokens["id_token"], "post_logout_redirect_uri": rp.client.post_logout_redirect_uri,
              "state": secrets.token_urlsafe(12)}
    return rp, browser, flow, params


def _expect_post_logout_redirect(conformance, rp, browser, params, *, state: bool = True) -> dict:
    visit = browser.open(rp.logout_url(**params))
    redirect = rp.client.post_logout_redirect_uri
    assert visit.left_provider, f"no redirect to the post_logout_redirect_uri: HTTP {visit.page.status_code}"
    received = checks.check_callback(visit.location, redirect)
    if state:
        # CheckPostLogoutState (RP-Initiated Logout 1.0 section 2): state returned unchanged.
        assert received.get("state") == params["state"], "state not returned to the post_logout_redirect_uri"
    else:
        assert "state" not in received, "a state the client never sent"  # CheckNoPostLogoutState
    unexpected = set(received) - {"state"}
    if unexpected:
        conformance.warn(f"unexpected parameters in the post-logout redirect: {sorted(unexpected)}")
    # The person is logged out: prompt=none must now fail (OIDC Core 3.1.2.6).
    conformance.expect_user_interface_error(rp, browser)
    return received


def _expect_no_redirect(conformance, rp, browser, params, what: str):
    """The OP must not redirect back: an error page, or a confirmation (pressed here) that ends on a page."""
    visit = browser.open(rp.logout_url(**params))
    assert not visit.left_provider, f"redirected to {visit.location} although {what}"
    checks.check_error_page(visit.page, what)
    conformance.note(f"HTTP {visit.page.status_code} page" + (f" after {visit.pages}" if visit.pages else ""))


def _expect_logged_out_page(conformance, rp, browser, params):
    """ExpectSuccessfulLogoutPage: the person is logged out and shown a page, with no redirect."""
    visit = browser.open(rp.logout_url(**params))
    assert not visit.left_provider, f"redirected to {visit.location} without a post_logout_redirect_uri"
    assert visit.page.status_code == 200, f"HTTP {visit.page.status_code} instead of a logged-out page"
    if visit.pages:
        conformance.note(f"the provider asked first ({', '.join(visit.pages)}), as section 2 allows without a valid hint")
    conformance.expect_user_interface_error(rp, browser)


@module("oidcc-rp-initiated-logout-discovery-endpoint-verification")
def test_oidcc_rp_initiated_logout_discovery_endpoint_verification(conformance):
    metadata = conformance.provider.metadata
    # CheckDiscEndSessionEndpoint (RP-Initiated Logout 1.0 section 2.1), CheckDiscEndpointAllEndpointsAreHttps.
    checks.check_https_or_loopback("end_session_endpoint", metadata.get("end_session_endpoint"))
    for name, value in metadata.items():
        if name.endswith("_endpoint"):
            checks.check_https_or_loopback(name, value)


@module("oidcc-rp-initiated-logout")
def test_oidcc_rp_initiated_logout(conformance):
    rp, browser, _, params = _logged_in(conformance)
    _expect_post_logout_redirect(conformance, rp, browser, params)


@module("oidcc-rp-initiated-logout-bad-post-logout-redirect-uri")
def test_oidcc_rp_initiated_logout_bad_post_logout_redirect_uri(conformance):
    rp, browser, _, params = _logged_in(conformance)
    params["post_logout_redirect_uri"] = conformance.suite.receiver.url("unregistered_post_logout_redirect")
    _expect_no_redirect(conformance, rp, browser, params, "the post_logout_redirect_uri is not registered")


@module("oidcc-rp-initiated-logout-modified-id-token-hint")
def test_oidcc_rp_initiated_logout_modified_id_token_hint(conformance):
    rp, browser, flow, params = _logged_in(conformance)
    # ChangeIdTokenToAlgNone: same claims, alg none, no signature.
    header, claims = checks.decode_unverified(flow.tokens["id_token"])
    params["id_token_hint"] = jwt.encode(claims, None, algorithm="none")
    _expect_no_redirect(conformance, rp, browser, params, "the id_token_hint was changed to alg none")


@module("oidcc-rp-initiated-logout-no-id-token-hint")
def test_oidcc_rp_initiated_logout_no_id_token_hint(conformance):
    rp, browser, _, params = _logged_in(conformance)
    del params["id_token_hint"]
    _expect_no_redirect(conformance, rp, browser, params, "there is no id_token_hint")


@module("oidcc-rp-initiated-logout-no-params")
def test_oidcc_rp_initiated_logout_no_params(conformance):
    rp, browser, _, _ = _logged_in(conformance)
    _expect_logged_out_page(conformance, rp, browser, {})


@module("oidcc-rp-initiated-logout-no-post-logout-redirect-uri")
def test_oidcc_rp_initiated_logout_no_post_logout_redirect_uri(conformance):
    rp, browser, _, params = _logged_in(conformance)
    del params["post_logout_redirect_uri"]
    _expect_logged_out_page(conformance, rp, browser, params)


@module("oidcc-rp-initiated-logout-no-state")
def test_oidcc_rp_initiated_logout_no_state(conformance):
    rp, browser, _, params = _logged_in(conformance)
    del params["state"]
    _expect_post_logout_redirect(conformance, rp, browser, params, state=False)


@module("oidcc-rp-initiated-logout-only-state")
def test_oidcc_rp_initiated_logout_only_state(conformance):
    rp, browser, _, params = _logged_in(conformance)
    _expect_logged_out_page(conformance, rp, browser, {"state": params["state"]})


@module("oidcc-rp-initiated-logout-query-added-to-post-logout-redirect-uri")
def test_oidcc_rp_initiated_logout_query_added_to_post_logout_redirect_uri(conformance):
    rp, browser, _, params = _logged_in(conformance)
    params["post_logout_redirect_uri"] += "?foo=bar"
    _expect_no_redirect(conformance, rp, browser, params, "the post_logout_redirect_uri had a query added")


@module("oidcc-rp-initiated-logout-bad-id-token-hint")
def test_oidcc_rp_initiated_logout_bad_id_token_hint(conformance):
    rp, browser, flow, params = _logged_in(conformance)
    # GenerateFakeIdTokenClaims + SignFakeIdToken: the same claims, signed by a key the OP never published.
    _, claims = checks.decode_unverified(flow.tokens["id_token"])
    header = {"kid": jwt.get_unverified_header(flow.tokens["id_token"])["kid"]}
    params["id_token_hint"] = jwt.encode(claims, new_rsa_key(), algorithm="RS256", headers=header)
    _expect_no_redirect(conformance, rp, browser, params, "the id_token_hint was signed by someone else")
