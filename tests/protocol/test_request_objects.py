"""Signed request objects at /authorize (JAR, RFC 9101; OIDC Core 6.1), as a relying party sends them.

The object is verified with the client's registered key before anything in it is used; then its
parameters are the only ones used (RFC 9101 6.3), with client_id and response_type outside
required to match (OIDC Core 6.1). A broken object is ``invalid_request_object``, sent to the
query's redirect_uri only if that one is registered, else shown as a page: the object's own
redirect_uri is never trusted before its signature is.
"""
from __future__ import annotations

import base64
import json
import time
import uuid
from urllib.parse import urlencode, urlsplit

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, RSAKey

from support import assert_error_page, ISSUER, RelyingParty, callback_params, follow_to_rp, private_jwk, public_pem

EVIL = "https://evil.example/callback"


# --- helpers -----------------------------------------------------------------------------------
def request_object(rp, *, alg="RS512", key=None, header=None, drop=(), **claims) -> str:
    """A request object carrying rp.authorize_params(), signed with the client's key unless told otherwise."""
    now = int(time.time())
    body = {"iss": rp.client_id, "aud": ISSUER, "iat": now, "exp": now + 300, "jti": str(uuid.uuid4()),
            **rp.authorize_params()}
    body.update(claims)
    body = {k: v for k, v in body.items() if k not in drop and v is not None}
    return jwt.encode({"alg": alg, **(header or {})}, body, key or private_jwk(rp.key), algorithms=[alg])


def authorize(rp, request, method="GET", **query):
    """/authorize with a request object and, outside it, client_id and response_type (OIDC Core 6.1)."""
    params = {"client_id": rp.client_id, "response_type": "code", "scope": "openid", "request": request, **query}
    params = {k: v for k, v in params.items() if v is not None}
    if method == "POST":
        return rp.http.post("/authorize", data=params)
    return rp.http.get("/authorize?" + urlencode(params))


def finish(rp, response, email):
    """Log in and consent; returns the parameters the browser brings back to the client."""
    response = follow_to_rp(rp.http, response, email=email, redirect_uri=rp.redirect_uri)
    return callback_params(response)


def assert_redirected_error(response, rp, error, state):
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    location = response.headers["Location"]
    assert location.startswith(rp.redirect_uri + "?"), location
    params = callback_params(response)
    assert params["error"] == error, params
    assert params.get("state") == state
    assert params["iss"] == ISSUER
    assert "code" not in params
    return params



def exchange(rp, code):
    response = rp.token(code)
    assert response.status_code == 200, response.get_json()
    return rp.verify_id_token(response.get_json()["id_token"])


# --- the happy path ----------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_signed_request_object_completes_the_flow(rp, person, method):
    email = person("P0")
    signed = request_object(rp, state="inside-state", nonce="inside-nonce")
    result = finish(rp, authorize(rp, signed, method=method), email)
    assert set(result) == {"code", "state", "iss"}, result
    assert result["state"] == "inside-state"
    assert exchange(rp, result["code"])["nonce"] == "inside-nonce"


def test_only_the_request_objects_parameters_are_used(rp, person):
    """RFC 9101 6.3: the query's state, nonce and even an unregistered redirect_uri are ignored."""
    email = person("P0")
    signed = request_object(rp, state="inside", nonce="inside-nonce")
    response = authorize(rp, signed, state="outside", nonce="outside-nonce", redirect_uri=EVIL)
    result = finish(rp, response, email)
    assert result["state"] == "inside"
    assert exchange(rp, result["code"])["nonce"] == "inside-nonce"


def test_a_parameter_only_in_the_query_does_not_count(rp, person):
    signed = request_object(rp, state="inside", drop=("nonce",))
    response = authorize(rp, signed, nonce="outside-nonce")
    assert_redirected_error(response, rp, "invalid_request", "inside")  # the nonce this client must send


def test_client_id_and_response_type_may_be_only_outside(rp, person):
    email = person("P0")
    signed = request_object(rp, state="st", drop=("client_id", "response_type"))
    result = finish(rp, authorize(rp, signed), email)
    assert result["state"] == "st" and "code" in result


def test_json_valued_claims_are_read_as_parameters(rp, person):
    """max_age as a number, claims as an object, vtr as an array: OIDC Core 6.1 request object members."""
    email = person("P0")
    signed = request_object(rp, state="st", max_age=3600, vtr=["P0.Cp"],
                            claims={"id_token": {"email": {"essential": True}}})
    result = finish(rp, authorize(rp, signed), email)
    assert "code" in result, result
    claims = exchange(rp, result["code"])
    assert claims["vot"] == "P0.Cp"
    assert "email" in claims


def test_without_iss_aud_or_exp_the_object_is_still_accepted(rp, person):
    email = person("P0")
    signed = request_object(rp, state="st", drop=("iss", "aud", "exp", "iat", "jti"))
    assert "code" in finish(rp, authorize(rp, signed), email)


def test_audience_may_be_a_list_containing_the_issuer(rp, person):
    email = person("P0")
    signed = request_object(rp, state="st", aud=["https://other.example", ISSUER])
    assert "code" in finish(rp, authorize(rp, signed), email)


def test_request_object_type_header_is_accepted(rp, person):
    email = person("P0")
    signed = request_object(rp, state="st", header={"typ": "oauth-authz-req+jwt"})
    assert "code" in finish(rp, authorize(rp, signed), email)


# --- objects that are refused ------------------------------------------------------------------
@pytest.mark.parametrize("claims", [
    {"iss": "someone-else"},
    {"aud": "https://other.example"},
    {"aud": ISSUER + "/authorize"},
    {"exp": int(time.time()) - 120},
    {"nbf": int(time.time()) + 600},
    {"exp": "tomorrow"},
    {"client_id": "someone-else"},
    {"response_type": "code id_token"},
    {"request_uri": "urn:ietf:params:oauth:request_uri:abc"},
    {"request": "eyJhbGciOiJub25lIn0.e30."},
])
def test_bad_claims_are_invalid_request_object(rp, client, claims):
    response = authorize(rp, request_object(rp, **claims), state="outer", redirect_uri=rp.redirect_uri)
    assert_redirected_error(response, rp, "invalid_request_object", "outer")


def test_typ_of_another_kind_of_jwt_is_refused(rp, client):
    signed = request_object(rp, header={"typ": "logout+jwt"})
    assert_redirected_error(authorize(rp, signed, redirect_uri=rp.redirect_uri, state="o"), rp,
                            "invalid_request_object", "o")


def test_object_signed_by_another_key_is_refused(rp, client, other_rp_key):
    signed = request_object(rp, key=private_jwk(other_rp_key), state="inner")
    response = authorize(rp, signed, state="outer", redirect_uri=rp.redirect_uri)
    assert_redirected_error(response, rp, "invalid_request_object", "outer")


def test_unverified_object_never_sends_the_browser_to_its_own_redirect_uri(rp, client, other_rp_key):
    """RFC 6749 4.1.2.1: the object names a registered redirect_uri, but it is not verified: a page."""
    signed = request_object(rp, key=private_jwk(other_rp_key))
    assert_error_page(authorize(rp, signed, redirect_uri=EVIL))
    assert_error_page(authorize(rp, signed))


@pytest.mark.parametrize("alg", ["none", "HS256"])
def test_unsigned_and_hmac_objects_are_refused(rp, client, alg):
    if alg == "none":
        body = base64.urlsafe_b64encode(json.dumps(rp.authorize_params()).encode()).rstrip(b"=").decode()
        signed = "eyJhbGciOiJub25lIn0." + body + "."
    else:
        signed = jwt.encode({"alg": "HS256"}, {"state": "x"}, OctKey.import_key(b"k" * 32), algorithms=["HS256"])
    assert_redirected_error(authorize(rp, signed, redirect_uri=rp.redirect_uri, state="o"), rp,
                            "invalid_request_object", "o")


@pytest.mark.parametrize("garbage", ["not-a-jwt", "a.b.c", "a.b.c.d.e", "x" * 20000])
def test_garbage_is_refused(rp, client, garbage):
    assert_redirected_error(authorize(rp, garbage, redirect_uri=rp.redirect_uri, state="o"), rp,
                            "invalid_request_object", "o")


def test_request_and_request_uri_together_are_invalid_request(rp, client):
    response = authorize(rp, request_object(rp), request_uri="urn:ietf:params:oauth:request_uri:abc",
                         redirect_uri=rp.redirect_uri, state="o")
    assert_redirected_error(response, rp, "invalid_request", "o")


def test_client_id_is_required_outside(rp, client):
    response = rp.http.get("/authorize?" + urlencode({"request": request_object(rp), "response_type": "code"}))
    assert_error_page(response)


def test_a_registered_request_object_alg_is_the_only_one_accepted(register, person):
    rp = register(request_object_signing_alg="PS256")
    email = person("P0")
    refused = authorize(rp, request_object(rp, alg="RS512"), redirect_uri=rp.redirect_uri, state="o")
    assert_redirected_error(refused, rp, "invalid_request_object", "o")
    assert "code" in finish(rp, authorize(rp, request_object(rp, alg="PS256", state="st")), email)


def test_request_object_signing_alg_must_be_an_asymmetric_one(app, register):
    from idp.protocol.registration import RegistrationError

    for alg in ("none", "HS256", "RS384"):
        with pytest.raises(RegistrationError):
            register(request_object_signing_alg=alg)


def test_es256_object_from_a_client_registered_with_a_jwks(app, client, person):
    from idp.protocol.registration import register_client

    key = ec.generate_private_key(ec.SECP256R1())
    public = ECKey.import_key(public_pem(key)).as_dict(private=False)
    public.update(kid="ec-1", alg="ES256", use="sig")
    fields = {"name": "EC service", "redirect_uris": ["https://rp.example/callback"], "scope": "openid",
              "vtr": ["P0.Cp"], "id_token_signed_response_alg": "ES256"}
    with app.app_context():
        registered, _ = register_client(fields, development=True, key={"jwks": {"keys": [public]}})
    rp = RelyingParty(client, app, registered.client_id, key=key, alg="ES256")
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    signed = request_object(rp, alg="ES256", key=ECKey.import_key(pem), header={"kid": "ec-1"}, state="st")
    result = finish(rp, authorize(rp, signed), person("P0"))
    assert result.get("state") == "st" and "code" in result, result


def test_secret_client_without_a_key_cannot_send_request_objects(register, client):
    rp = register(auth_method="client_secret_basic")
    signed = jwt.encode({"alg": "RS512"}, rp.authorize_params(), RSAKey.generate_key(2048), algorithms=["RS512"])
    assert_redirected_error(authorize(rp, signed, redirect_uri=rp.redirect_uri, state="o"), rp,
                            "invalid_request_object", "o")


def test_discovery_advertises_signed_request_objects(client):
    doc = client.get("/.well-known/openid-configuration").get_json()
    assert doc["request_parameter_supported"] is True
    assert doc["request_object_signing_alg_values_supported"] == ["RS512", "RS256", "PS256", "ES256"]
    assert "none" not in doc["request_object_signing_alg_values_supported"]
    assert urlsplit(doc["authorization_endpoint"]).path == "/authorize"
