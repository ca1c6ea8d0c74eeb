"""oidcc-config-certification-test-plan: the discovery document and the keys it points at.

OIDCCDiscoveryEndpointVerification (static_client variant); the dynamic variant, which also
demands the implicit-flow response types, is in test_oidcc_dynamic.py.
"""
import pytest
import requests

from oidf import checks
from oidf.plans import CONFIG

pytestmark = pytest.mark.conformance


@pytest.mark.oidf_module("oidcc-discovery-endpoint-verification", CONFIG)
def test_oidcc_discovery_endpoint_verification(conformance):
    provider = conformance.provider
    response = requests.get(provider.discovery_url, timeout=10)
    # EnsureDiscoveryEndpointResponseStatusCodeIs200, CheckDiscoveryEndpointReturnedJsonContentType (OIDCD 4).
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    doc = response.json()
    checks.check_discovery_document(doc, provider.discovery_url, dynamic=False, warn=conformance.warn)
    # FetchServerKeys, ValidateServerJWKs, EnsureServerJwksDoesNotContainPrivateOrSymmetricKeys (OIDCD 3, RFC 7517).
    jwks = requests.get(doc["jwks_uri"], timeout=10)
    assert jwks.status_code == 200 and jwks.headers["Content-Type"].startswith("application/json")
    checks.check_jwks(jwks.json())
    # OIDCD 3: whatever is advertised as supported for ID tokens has a key to verify it with.
    key_algs = {key.get("alg") for key in jwks.json()["keys"]}
    missing = [alg for alg in doc["id_token_signing_alg_values_supported"] if alg != "none" and alg not in key_algs]
    assert not missing, f"no published key for advertised ID token algs {missing}"
    # Claims the ID token and UserInfo carry must be among claims_supported (OIDCD 3, RECOMMENDED).
    assert {"sub", "iss", "aud", "exp", "iat"} <= set(doc.get("claims_supported", [])), "claims_supported lacks the ID token's claims"
    if doc.get("claims_parameter_supported") is not True:
        conformance.warn("claims_parameter_supported is not true")
    assert doc.get("code_challenge_methods_supported") == ["S256"], "PKCE: S256 only (plain refused)"
    assert "none" not in doc["id_token_signing_alg_values_supported"], "unsigned ID tokens must not be offered"
