"""oidcc-dynamic-certification-test-plan: clients registered at registration_endpoint (RFC 7591), private_key_jwt.

Each module registers its own client as OIDCCCreateDynamicClientRegistrationRequest does,
with an initial access token from ``idp clients initial-access-token`` (OIDCCDynamicTestPlan.java).
"""
import json
import secrets
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from oidf import checks, request_objects
from oidf.keys import new_rsa_key, public_jwk
from oidf.plans import DYNAMIC
from oidf.request_objects import redirect_uri_from_request_object
from oidf.suite import ModuleRun

pytestmark = pytest.mark.conformance
KEY_CACHE_SECONDS = 30
JWKS_REFETCH_SECONDS = 10


def module(name, **kw):
    return pytest.mark.oidf_module(name, DYNAMIC, **kw)


def _refused(conformance, metadata: dict, errors: set[str]) -> str:
    """A registration the provider must refuse with RFC 7591 3.2.2's error response."""
    response = conformance.register(metadata)
    assert response.status_code == 400, f"registration answered {response.status_code}, expected 400"
    assert response.headers.get("Content-Type", "").startswith("application/json"), "the error is not JSON"
    body = response.json()
    checks.check_error_text(body)
    assert body.get("error") in errors, f"error {body.get('error')!r}, expected one of {sorted(errors)}"
    return body["error"]


def _base_metadata(conformance, **extra) -> dict:
    key = new_rsa_key()
    return {"client_name": "conformance", "redirect_uris": [conformance.suite.receiver.url("callback")],
            "response_types": ["code"], "grant_types": ["authorization_code"], "token_endpoint_auth_method": "private_key_jwt",
            "jwks": {"keys": [public_jwk(key, secrets.token_hex(4))]}, **extra}


@module("oidcc-idtoken-rs256")
def test_oidcc_idtoken_rs256(conformance):
    client = conformance.dynamic_client(id_token_signed_response_alg="RS256")
    assert client.id_token_alg == "RS256", "the registration did not keep id_token_signed_response_alg=RS256"
    conformance.flow(conformance.rp(client))  # EnsureIdTokenContainsKid, CheckIdTokenSignatureAlgorithm


@module("oidcc-idtoken-unsigned")
def test_oidcc_idtoken_unsigned(conformance):
    assert "none" not in conformance.provider.metadata["id_token_signing_alg_values_supported"]
    _refused(conformance, _base_metadata(conformance, id_token_signed_response_alg="none"),
             {"invalid_client_metadata"})
    conformance.unsupported("unsigned ID tokens (alg none): not advertised, and a registration asking for them is "
                            "refused; the suite skips this module")


@module("oidcc-userinfo-rs256")
def test_oidcc_userinfo_rs256(conformance):
    assert not conformance.provider.metadata.get("userinfo_signing_alg_values_supported")
    _refused(conformance, _base_metadata(conformance, userinfo_signed_response_alg="RS256"), {"invalid_client_metadata"})
    conformance.unsupported("signed UserInfo responses: not advertised, and a registration asking for them is "
                            "refused; the suite FAILS this module (CheckDiscEndpointUserinfoSigningAlgValuesSupportedContainsRS256)")


@module("oidcc-ensure-redirect-uri-in-authorization-request")
def test_oidcc_ensure_redirect_uri_in_authorization_request(conformance):
    rp = conformance.rp(conformance.dynamic_client())
    request = rp.request(redirect_uri=None)
    visit = conformance.authorize(rp, conformance.browser(), request, log_in=False)
    # OIDC Core 3.1.2.1: redirect_uri is REQUIRED; an error page, or invalid_request with state.
    if visit.left_provider:
        checks.check_authorization_error(rp.callback(visit, request), request.state, rp.provider.issuer,
                                         {"invalid_request", "invalid_request_object"})
    else:
        checks.check_error_page(visit.page, "redirect_uri missing")


@module("oidcc-redirect-uri-query-OK")
def test_oidcc_redirect_uri_query_ok(conformance):
    _refused(conformance, _base_metadata(conformance, redirect_uris=[conformance.suite.receiver.url("callback?foo=bar")]),
             {"invalid_redirect_uri", "invalid_client_metadata"})
    conformance.unsupported("redirect URIs with a query component: refused at registration (interface.md: exact "
                            "match, no query string); the suite FAILS this module")


@module("oidcc-redirect-uri-query-mismatch")
def test_oidcc_redirect_uri_query_mismatch(conformance):
    _refused(conformance, _base_metadata(conformance, redirect_uris=[conformance.suite.receiver.url("callback?foo=bar")]),
             {"invalid_redirect_uri", "invalid_client_metadata"})
    conformance.unsupported("registers a redirect URI with a query component, which is refused (interface.md), so "
                            "the mismatch it tests cannot arise; the suite FAILS this module at registration")


@module("oidcc-redirect-uri-query-added")
def test_oidcc_redirect_uri_query_added(conformance):
    rp = conformance.rp(conformance.dynamic_client())
    request = rp.request(redirect_uri=rp.client.redirect_uri + "?foo=bar")
    visit = conformance.authorize(rp, conformance.browser(), request, log_in=False)
    # OIDC Core 3.1.2.1: exact match, so an added query makes it unregistered: an error page, no redirect.
    assert not visit.left_provider, f"redirected to {visit.location}"
    checks.check_error_page(visit.page, "redirect_uri with a query added")


@module("oidcc-redirect-uri-regfrag")
def test_oidcc_redirect_uri_regfrag(conformance):
    # RFC 6749 3.1.2: the redirection endpoint URI MUST NOT include a fragment component.
    error = _refused(conformance, _base_metadata(conformance, redirect_uris=[conformance.suite.receiver.url("callback#frag")]),
                     {"invalid_request", "invalid_configuration_parameter", "invalid_redirect_uri"})
    conformance.note(f"refused with {error}")


@module("oidcc-discovery-endpoint-verification", variant="dynamic_client")
def test_oidcc_discovery_endpoint_verification_dynamic(conformance):
    provider = conformance.provider
    checks.check_discovery_document(provider.metadata, provider.discovery_url, dynamic=False, warn=conformance.warn)
    checks.check_https_or_loopback("registration_endpoint", provider.metadata.get("registration_endpoint"))
    try:
        checks.check_discovery_document(provider.metadata, provider.discovery_url, dynamic=True, warn=lambda m: None)
    except AssertionError as exc:
        conformance.unsupported(f"the dynamic variant demands the implicit flow: {exc}; this provider offers the code "
                                "flow only, so the suite FAILS this module in the dynamic plan (every other check passed)")


@module("oidcc-server", variant="dynamic_client")
def test_oidcc_server_dynamic(conformance):
    client = conformance.dynamic_client()
    info = client.registration
    assert info.get("registration_access_token") and info.get("registration_client_uri"), "no RFC 7592 management credentials"
    if info.get("id_token_signed_response_alg", "RS256") != "RS256":
        conformance.warn(f"id_token_signed_response_alg defaults to {info['id_token_signed_response_alg']}, "
                         "not RS256 (OIDC Registration 2)")
    conformance.flow(conformance.rp(client))


def _metadata_module(conformance, name: str):
    """OIDCCRegistration{Logo,Policy,Tos}Uri: registration keeps the URL, and the login page is shown."""
    url = conformance.suite.receiver.url(f"{name}.html")
    client = conformance.dynamic_client(**{name: url})
    assert client.registration.get(name) == url, f"{name} not returned as registered (RFC 7591 3.2.1)"
    rp = conformance.rp(client)
    visit = conformance.authorize(rp, conformance.browser(), rp.request(), log_in=False)
    assert "login" in visit.pages, "a fresh browser was not shown the login page"
    if url not in visit.page.text:
        conformance.note(f"the login page does not show {name} (the suite asks for a screenshot)")


@module("oidcc-registration-logo-uri")
def test_oidcc_registration_logo_uri(conformance):
    _metadata_module(conformance, "logo_uri")


@module("oidcc-registration-policy-uri")
def test_oidcc_registration_policy_uri(conformance):
    _metadata_module(conformance, "policy_uri")


@module("oidcc-registration-tos-uri")
def test_oidcc_registration_tos_uri(conformance):
    _metadata_module(conformance, "tos_uri")


@module("oidcc-registration-jwks-uri")
def test_oidcc_registration_jwks_uri(conformance):
    key, kid = new_rsa_key(), secrets.token_hex(6)
    jwks_uri = conformance.suite.receiver.serve(f"jwks-{kid}", json.dumps({"keys": [public_jwk(key, kid)]}))
    client = conformance.dynamic_client(key=key, kid=kid, jwks_uri=jwks_uri)
    conformance.flow(conformance.rp(client))
    assert conformance.suite.receiver.requests_to(f"jwks-{kid}", "GET"), "the provider never fetched the jwks_uri"


def _pairwise_offered(conformance) -> None:
    if "pairwise" not in conformance.provider.metadata.get("subject_types_supported", []):
        pytest.skip("the suite skips this module: subject_types_supported does not list pairwise")


@module("oidcc-registration-sector-uri")
def test_oidcc_registration_sector_uri(conformance):
    _pairwise_offered(conformance)
    receiver = conformance.suite.receiver
    sector = receiver.serve(f"redirect_uris-{secrets.token_hex(4)}.json", json.dumps([receiver.url("callback")]))
    client = conformance.dynamic_client(subject_type="pairwise", sector_identifier_uri=sector)
    flow = conformance.flow(conformance.rp(client))
    public = conformance.flow(conformance.rp("client"))
    assert flow.id_claims["sub"] != public.id_claims["sub"], "a pairwise sub equal to the public one (OIDC Core 8.1)"
    conformance.note("the pairwise client's sub differs from the public client's")


@module("oidcc-registration-sector-bad")
def test_oidcc_registration_sector_bad(conformance):
    _pairwise_offered(conformance)
    receiver = conformance.suite.receiver
    sector = receiver.serve(f"redirect_uris-{secrets.token_hex(4)}.json", json.dumps([receiver.url("elsewhere")]))
    # OIDC Registration 5: the document must list every redirect URI, else the registration fails.
    error = _refused(conformance, _base_metadata(conformance, subject_type="pairwise", sector_identifier_uri=sector),
                     {"invalid_client_metadata", "invalid_redirect_uri", "invalid_request"})
    if error != "invalid_client_metadata":
        conformance.warn(f"refused with {error}, the suite expects invalid_client_metadata (OIDC Registration 3.3)")


def rotate_op_keys(suite) -> dict:
    """The first half of oidcc-server-rotate-keys: the JWKS before, then the operator rotates (TellUserToRotateOpKeys)."""
    before = suite.provider.jwks(refresh=True)
    suite.cli("keys", "rotate", "--alg", "RS256")
    return {"before": before, "at": time.time()}


@module("oidcc-server-rotate-keys")
@pytest.mark.oidf_late(first_half=rotate_op_keys, wait=KEY_CACHE_SECONDS + 2)
def test_oidcc_server_rotate_keys(conformance):
    early = conformance.early(rotate_op_keys)
    checks.check_jwks(early["before"])
    old = {k["kid"] for k in early["before"]["keys"]}
    # Each worker keeps the keys it loaded for up to 30 s (idp/protocol/keys.py). Fetch in pairs, so both
    # workers answer, until three rounds in a row show the new key: what a tester pressing Start would see.
    deadline, rounds, after = early["at"] + KEY_CACHE_SECONDS + 2, 0, None
    with ThreadPoolExecutor(max_workers=2) as pool:
        while rounds < 3 and time.time() < deadline:
            fetched = list(pool.map(lambda _: conformance.provider.jwks(refresh=True), range(2)))
            rounds = rounds + 1 if all({k["kid"] for k in jwks["keys"]} - old for jwks in fetched) else 0
            after = fetched[0]
            if rounds < 3:
                time.sleep(0.25)
    checks.check_jwks(after)
    new = {k["kid"] for k in after["keys"]}
    assert rounds >= 3 and new - old, "the JWKS has no new key after rotation (OIDC Core 10.1.1)"  # VerifyNewJwksHasNewSigningKey
    if not old <= new:
        conformance.warn("a key left the JWKS at once; tokens it signed no longer verify")  # ...StillHasOldSigningKey
    conformance.note(f"the new key was in every JWKS served from {time.time() - early['at']:.0f} s after "
                     f"`idp keys rotate` (workers cache keys for up to {KEY_CACHE_SECONDS} s)")


def rotate_rp_key(suite) -> dict:
    """The first half of oidcc-refresh-token-rp-key-rotation: a refresh token, then the RP puts a new key in its jwks_uri."""
    run = ModuleRun.first_half(suite, "oidcc-refresh-token-rp-key-rotation")
    receiver = suite.receiver
    name = f"jwks-rotating-{secrets.token_hex(4)}"
    key, kid = new_rsa_key(), secrets.token_hex(6)
    jwks_uri = receiver.serve(name, json.dumps({"keys": [public_jwk(key, kid)]}))
    client = run.dynamic_client(key=key, kid=kid, jwks_uri=jwks_uri, grant_types=["authorization_code", "refresh_token"])
    client.scope = "openid offline_access"  # SetScopeInClientConfigurationToOpenIdOfflineAccess
    rp = run.rp(client)
    first = run.flow(rp, prompt="consent")  # OIDC Core 11: offline_access comes with prompt=consent
    assert first.tokens.get("refresh_token"), "no refresh_token for a client registered with the refresh_token grant"
    new_key, new_kid = new_rsa_key(), secrets.token_hex(6)  # GenerateRS256ClientJWKsWithKeyID
    receiver.serve(name, json.dumps({"keys": [public_jwk(new_key, new_kid)]}))
    client.key, client.kid = new_key, new_kid
    return {"run": run, "rp": rp, "first": first, "at": time.time()}


@module("oidcc-refresh-token-rp-key-rotation")
@pytest.mark.oidf_late(first_half=rotate_rp_key, wait=JWKS_REFETCH_SECONDS + 1)
def test_oidcc_refresh_token_rp_key_rotation(conformance):
    early = conformance.early(rotate_rp_key)
    rp, first = early["rp"], early["first"]
    # The suite waits 60 s so that limits on re-fetching a jwks_uri pass; this provider re-fetches at most
    # every 10 s per worker (idp/protocol/client_keys.py REFETCH_INTERVAL).
    time.sleep(max(0.0, early["at"] + JWKS_REFETCH_SECONDS + 1 - time.time()))
    conformance.note(f"refreshed with the new kid {time.time() - early['at']:.0f} s after the RP rotated (the suite waits 60 s)")
    refreshed = rp.tokens(rp.refresh(first.tokens["refresh_token"], scope=rp.client.scope))
    if "id_token" in refreshed:
        checks.check_refreshed_id_token(first.id_claims, rp.id_token(refreshed["id_token"], None,
                                                                     access_token=refreshed["access_token"]))


@module("oidcc-request-uri-unsigned")
def test_oidcc_request_uri_unsigned(conformance):
    receiver = conformance.suite.receiver
    request_uri = receiver.url(f"request-{secrets.token_hex(4)}.jwt")
    rp = conformance.rp(conformance.dynamic_client(request_uris=[request_uri]))
    request = rp.request()
    receiver.serve(request_uri.rsplit("/", 1)[1], request_objects.request_object(rp, request, signed=False),
                   "application/oauth-authz-req+jwt")
    visit = conformance.browser().open(request_objects.by_reference(rp, request, request_uri), log_in=False)
    _client_request_uri_refused(conformance, rp, visit)
    conformance.unsupported("request_uri pointing at a client-hosted, unsigned request object (OIDC Core 6.2): "
                            "request_uri is only the one /par issues, and alg none is not offered; the suite FAILS this module")


def _client_request_uri_refused(conformance, rp, visit) -> None:
    assert not _receiver_fetched(conformance), "the provider fetched a client-hosted request_uri it does not advertise"
    if visit.left_provider:
        params = checks.check_callback(visit.location, rp.client.redirect_uri)
        assert params.get("error") in {"request_uri_not_supported", "invalid_request_uri", "invalid_request"}, params
    else:
        checks.check_error_page(visit.page, "client-hosted request_uri")


def _receiver_fetched(conformance) -> bool:
    return any(r.path.split("/")[-1].startswith("request-") for r in conformance.suite.receiver.received if r.method == "GET")


@module("oidcc-request-uri-signed-rs256")
def test_oidcc_request_uri_signed_rs256(conformance):
    metadata = conformance.provider.metadata
    # CheckDiscEndpointRequestObjectSigningAlgValuesSupportedContainsRS256 (a FAILURE in the suite).
    assert "RS256" in metadata.get("request_object_signing_alg_values_supported", []), "RS256 request objects not offered"
    receiver = conformance.suite.receiver
    request_uri = receiver.url(f"request-{secrets.token_hex(4)}.jwt")
    client = conformance.dynamic_client(request_uris=[request_uri], request_object_signing_alg="RS256")
    rp = conformance.rp(client)
    request = rp.request(scope="openid")
    signed = request_objects.request_object(rp, request, signed=True)
    receiver.serve(request_uri.rsplit("/", 1)[1], signed, "application/oauth-authz-req+jwt")
    visit = conformance.browser().open(request_objects.by_reference(rp, request, request_uri), log_in=False)
    _client_request_uri_refused(conformance, rp, visit)
    note = ""
    if metadata.get("pushed_authorization_request_endpoint"):
        # The same signed object pushed to /par (RFC 9126 2.1) and referenced by the request_uri /par returns.
        form = {"request": signed, "client_id": client.client_id}
        headers = rp.authenticate(form, audience=metadata["issuer"])
        pushed = requests.post(metadata["pushed_authorization_request_endpoint"], data=form,
                               headers=headers, timeout=10)
        assert pushed.status_code == 201, f"/par answered {pushed.status_code}: {pushed.text[:200]}"
        visit = conformance.browser().open(request_objects.by_reference(rp, request, pushed.json()["request_uri"]))
        code = rp.code(visit, request)
        tokens = rp.tokens(rp.redeem(code, request))
        rp.id_token(tokens["id_token"], request, access_token=tokens["access_token"], code=code)
        note = "; the same RS256 object pushed to /par and referenced by its request_uri succeeds"
    conformance.unsupported("request_uri pointing at a client-hosted request object (OIDC Core 6.2): only request_uri "
                            "values issued by /par are accepted, so no URL is ever fetched; the suite FAILS this module" + note)


@module("oidcc-ensure-request-object-with-redirect-uri", variant="dynamic_client, RS256-signed")
def test_oidcc_ensure_request_object_with_redirect_uri_dynamic(conformance):
    redirect_uri_from_request_object(conformance, conformance.rp(conformance.dynamic_client()))
    conformance.note("signed RS256 with the registered key: alg none is not offered")


@module("oidcc-refresh-token", variant="dynamic_client")
def test_oidcc_refresh_token_dynamic(conformance):
    grants = ["authorization_code", "refresh_token"]
    rp, rp2 = conformance.rp(conformance.dynamic_client(grant_types=grants)), conformance.rp(conformance.dynamic_client(grant_types=grants))
    browser = conformance.browser()
    first = conformance.flow(rp, browser)
    refreshed = rp.tokens(rp.refresh(first.tokens["refresh_token"], scope="openid"))
    if "id_token" in refreshed:
        checks.check_refreshed_id_token(first.id_claims, rp.id_token(refreshed["id_token"], None,
                                                                     access_token=refreshed["access_token"]))
    other = conformance.flow(rp2, browser)
    checks.check_token_error(rp.refresh(other.tokens["refresh_token"]), "invalid_grant")


@module("oidcc-ensure-client-assertion-with-iss-aud-succeeds")
def test_oidcc_ensure_client_assertion_with_iss_aud_succeeds(conformance):
    rp = conformance.rp(conformance.dynamic_client())
    browser = conformance.browser()
    request = rp.request()
    code = rp.code(conformance.authorize(rp, browser, request), request)
    # UpdateClientAuthenticationAssertionClaimsWithISSAud: aud is the issuer, not the token endpoint (RFC 7523 3).
    response = rp.redeem(code, request, audience=rp.provider.issuer)
    if response.status_code != 200:
        checks.check_token_error(response, "invalid_client", allow_401=True)
        conformance.warn("a client assertion with the issuer as aud was refused (allowed, with a warning)")
        return
    tokens = rp.tokens(response)
    rp.id_token(tokens["id_token"], request, access_token=tokens["access_token"], code=code)
