"""oidcc-backchannel-rp-initiated-logout-certification-test-plan (OIDCCBackchannelRpInitiatedLogoutTestPlan.java).

The client ``client-bc`` registered a back-channel logout URI on the receiver; logging out
at end_session_endpoint must POST it a logout token (OIDC Back-Channel Logout 1.0) and
send the browser to the post_logout_redirect_uri.
"""
import secrets

import pytest

from oidf import checks
from oidf.plans import BACKCHANNEL

pytestmark = pytest.mark.conformance


@pytest.mark.oidf_module("oidcc-backchannel-logout-discovery-endpoint-verification", BACKCHANNEL)
def test_oidcc_backchannel_logout_discovery_endpoint_verification(conformance):
    metadata = conformance.provider.metadata
    for name, value in metadata.items():
        if name.endswith("_endpoint"):
            checks.check_https_or_loopback(name, value)
    # CheckDiscEndpointBackchannelLogoutSupported / ...SessionSupported (section 2.1): certification needs sid.
    assert metadata.get("backchannel_logout_supported") is True, "backchannel_logout_supported is not true"
    assert metadata.get("backchannel_logout_session_supported") is True, "backchannel_logout_session_supported is not true"
    checks.check_https_or_loopback("end_session_endpoint", metadata.get("end_session_endpoint"))


@pytest.mark.oidf_module("oidcc-backchannel-rp-initiated-logout", BACKCHANNEL)
def test_oidcc_backchannel_rp_initiated_logout(conformance):
    receiver = conformance.suite.receiver
    rp, browser = conformance.rp("client-bc"), conformance.browser()
    flow = conformance.flow(rp, browser, state_length=128)
    assert flow.id_claims.get("sid"), "no sid in the ID token, though backchannel_logout_session_supported is true"
    before = len(receiver.requests_to("backchannel_logout"))
    state = secrets.token_urlsafe(12)
    visit = browser.open(rp.logout_url(id_token_hint=flow.tokens["id_token"], state=state,
                                       post_logout_redirect_uri=rp.client.post_logout_redirect_uri))
    calls = receiver.wait_for("backchannel_logout", before + 1)[before:]
    assert len(calls) == 1, f"{len(calls)} back-channel logout requests, expected one"
    call = calls[0]
    # Section 2.5: an HTTP POST, form-encoded, with logout_token and nothing else (CheckForUnexpectedParameters...).
    assert call.method == "POST"
    assert call.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
    form = call.form
    assert list(form) == ["logout_token"] and len(form["logout_token"]) == 1, f"unexpected parameters {sorted(form)}"
    claims = checks.check_logout_token(
        form["logout_token"][0], issuer=rp.provider.issuer, client_id=rp.client.client_id,
        algs=rp.provider.metadata["id_token_signing_alg_values_supported"], jwks=rp.provider.jwks(),
        id_claims=flow.id_claims)
    conformance.note(f"logout token with {sorted(set(claims) & {'sub', 'sid', 'exp'})}")
    # The front channel: the post-logout redirect with state (CheckPostLogoutState).
    assert visit.left_provider, "no redirect to the post_logout_redirect_uri"
    received = checks.check_callback(visit.location, rp.client.post_logout_redirect_uri)
    assert received.get("state") == state, "state not returned to the post_logout_redirect_uri"
    conformance.expect_user_interface_error(rp, browser)
