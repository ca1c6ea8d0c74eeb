"""OIDC Discovery 1.0 (``/.well-known/openid-configuration``) and the trust mark, as a relying party reads them."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from support import ISSUER

ENDPOINT_KEYS = (
    "authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "revocation_endpoint",
    "introspection_endpoint", "end_session_endpoint",
)
# How a relying party would call each endpoint.
POST_ONLY = {"token_endpoint", "revocation_endpoint", "introspection_endpoint"}


@pytest.fixture
def config(client):
    response = client.get("/.well-known/openid-configuration")
    assert response.status_code == 200
    assert response.is_json
    return response.get_json()


def test_issuer_is_the_configured_issuer(config):
    assert config["issuer"] == ISSUER


def test_issuer_in_discovery_matches_id_tokens(config, rp, person):
    tokens = rp.tokens_for(person("P0"), vtr='["P0.Cp"]')
    assert rp.verify_id_token(tokens["id_token"])["iss"] == config["issuer"]


@pytest.mark.parametrize("key", ENDPOINT_KEYS)
def test_every_endpoint_is_under_the_issuer_and_exists(config, client, key):
    url = config[key]
    assert url.startswith(ISSUER + "/"), url
    path = urlsplit(url).path
    response = client.post(path, data={}) if key in POST_ONLY else client.get(path)
    assert response.status_code != 404, (key, url)
    assert response.status_code < 500, (key, url, response.status_code)


def test_required_discovery_members_are_present(config):
    for member in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "response_types_supported",
                   "subject_types_supported", "id_token_signing_alg_values_supported"):
        assert member in config, member
    assert "public" in config["subject_types_supported"]


def test_code_flow_only(config):
    assert config["response_types_supported"] == ["code"]
    assert "implicit" not in config.get("grant_types_supported", [])
    for advertised in config["response_types_supported"]:
        assert "token" not in advertised.split() and "id_token" not in advertised.split()
    assert "authorization_code" in config["grant_types_supported"]
    assert "fragment" not in config.get("response_modes_supported", ["query"])


def test_pkce_s256_only(config):
    assert config["code_challenge_methods_supported"] == ["S256"]


def test_id_token_signing_algs(config):
    algs = config["id_token_signing_alg_values_supported"]
    assert "RS256" in algs  # OIDC Discovery: RS256 MUST be included
    assert "RS512" in algs  # the NHS login default
    assert "none" not in algs
    assert not [a for a in algs if a.startswith("HS")]


def test_client_authentication_methods(config):
    methods = config["token_endpoint_auth_methods_supported"]
    assert "private_key_jwt" in methods
    assert "none" not in methods
    signing = config["token_endpoint_auth_signing_alg_values_supported"]
    assert "RS512" in signing
    assert "none" not in signing


def test_claims_supported(config):
    claims = config["claims_supported"]
    for claim in ("sub", "nhs_number", "vot", "vtm", "family_name", "birthdate", "identity_proofing_level",
                  "email", "phone_number", "auth_time", "nonce"):
        assert claim in claims, claim


def test_scopes_supported(config):
    for scope in ("openid", "profile", "email", "phone", "basic_demographics", "gp_registration_details"):
        assert scope in config["scopes_supported"], scope


def test_iss_parameter_in_authorization_response_is_advertised(config):
    assert config["authorization_response_iss_parameter_supported"] is True


def test_discovery_is_cacheable_json(client):
    response = client.get("/.well-known/openid-configuration")
    assert response.mimetype == "application/json"
    assert response.headers.get("Access-Control-Allow-Origin") in (None, "*")


def test_trustmark_is_json_listing_levels(config, client):
    url = config.get("trustmark", ISSUER + "/trustmark")
    assert url == ISSUER + "/trustmark"
    response = client.get(urlsplit(url).path)
    assert response.status_code == 200
    assert response.is_json
    body = response.get_json()
    assert isinstance(body, dict) and body
    assert body.get("idp", body.get("trustmark_provider")) == ISSUER
    assert set(body["P"]) >= {"P0", "P5", "P9"}
    assert "Cp" in body["C"]


def test_vtm_in_tokens_names_the_trustmark(rp, person):
    tokens = rp.tokens_for(person("P0"), vtr='["P0.Cp"]')
    assert rp.verify_id_token(tokens["id_token"])["vtm"] == ISSUER + "/trustmark"


def test_advertised_vectors_are_valid_vectors(config, client):
    """Every vector the provider advertises must be one it accepts in a ``vtr`` (e.g. never a bare ``P9.Cd``)."""
    from idp.levels import InvalidVectorError, VectorOfTrust

    trustmark = client.get("/trustmark").get_json()
    advertised = set(config.get("vtr_supported", [])) | set(config.get("acr_values_supported", [])) | set(
        trustmark.get("vectors", []))
    assert advertised
    for vector in advertised:
        try:
            VectorOfTrust.parse(vector)
        except InvalidVectorError as exc:  # pragma: no cover - the failure message is the point
            pytest.fail(f"advertised vector {vector!r} is refused by the provider: {exc}")
    assert set(trustmark.get("vectors", [])) == set(config.get("vtr_supported", []))
