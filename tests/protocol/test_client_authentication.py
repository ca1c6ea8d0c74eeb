"""Client authentication at /token (RFC 7523 2.2, OIDC Core 9, RFC 6749 2.3 and 5.2).

interface.md "Clients": private_key_jwt with iss = sub = client_id, aud = the token endpoint
(or the issuer), a unique jti, exp at most a few minutes ahead, RS512 (or the alg the client
registered); a PEM key is known by itself or by its RFC 7638 thumbprint; client_secret_basic
and client_secret_post only for clients registered with them.

Most tests present a made-up code: a client that authenticated gets ``invalid_grant`` (the code
is unknown), one that did not gets ``invalid_client`` - so the error tells which step failed.
"""
from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, RSAKey

ISSUER = "http://idp.test"
TOKEN_URL = ISSUER + "/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


# --- helpers -----------------------------------------------------------------------------------
def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def private_jwk(key):
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return ECKey.import_key(pem) if isinstance(key, ec.EllipticCurvePrivateKey) else RSAKey.import_key(pem)


def public_pem(key) -> str:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def rfc7638_thumbprint(key) -> str:
    """Computed by hand (not by the JOSE library the provider uses): SHA-256 of {"e","kty","n"}."""
    numbers = key.public_key().public_numbers()

    def uint(value: int) -> str:
        return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))

    canonical = json.dumps({"e": uint(numbers.e), "kty": "RSA", "n": uint(numbers.n)}, separators=(",", ":"),
                           sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode()).digest())


def make_assertion(client_id: str, key, *, alg: str = "RS512", header: dict | None = None, **claims) -> str:
    now = int(time.time())
    body = {"iss": client_id, "sub": client_id, "aud": TOKEN_URL, "jti": str(uuid.uuid4()), "iat": now,
            "exp": now + 120}
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    head = {"alg": alg, **(header or {})}
    return jwt.encode(head, body, key if not hasattr(key, "private_bytes") else private_jwk(key), algorithms=[alg])


def unsigned(client_id: str) -> str:
    now = int(time.time())
    head = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    body = b64url(json.dumps({"iss": client_id, "sub": client_id, "aud": TOKEN_URL, "jti": str(uuid.uuid4()),
                              "iat": now, "exp": now + 120}).encode())
    return f"{head}.{body}."


def present(http, assertion: str | None = None, *, headers=None, **form):
    """POST /token with a made-up code and the given client authentication."""
    data = {"grant_type": "authorization_code", "code": "made-up-code-" + uuid.uuid4().hex,
            "redirect_uri": "https://rp.example/callback", "code_verifier": "v" * 43}
    if assertion is not None:
        data.update(client_assertion_type=ASSERTION_TYPE, client_assertion=assertion)
    data.update(form)
    return http.post("/token", data=data, headers=headers or {})


def assert_authenticated(response):
    body = response.get_json()
    assert response.status_code == 400, body
    assert body["error"] == "invalid_grant", body


def assert_invalid_client(response):
    body = response.get_json()
    assert body["error"] == "invalid_client", body
    assert response.status_code == 401, body
    assert "no-store" in response.headers.get("Cache-Control", "")


def basic(client_id: str, secret: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


# --- the baseline ------------------------------------------------------------------------------
def test_valid_assertion_without_kid_authenticates(rp, client, rp_key):
    assert_authenticated(present(client, make_assertion(rp.client_id, rp_key)))


def test_full_code_exchange_with_private_key_jwt(rp, person):
    email = person("P0")
    result = rp.login_flow(email)
    response = rp.token(result["code"])
    assert response.status_code == 200, response.get_json()
    assert "id_token" in response.get_json()


# --- private_key_jwt refusals -----------------------------------------------------------------
def test_wrong_audience_is_refused(rp, client, rp_key):
    assert_invalid_client(present(client, make_assertion(rp.client_id, rp_key, aud="https://other.example/token")))


def test_issuer_as_audience_is_accepted(rp, client, rp_key):
    assert_authenticated(present(client, make_assertion(rp.client_id, rp_key, aud=ISSUER)))


def test_expired_assertion_is_refused(rp, client, rp_key):
    now = int(time.time())
    assert_invalid_client(present(client, make_assertion(rp.client_id, rp_key, iat=now - 900, exp=now - 300)))


def test_missing_exp_is_refused(rp, client, rp_key):
    assert_invalid_client(present(client, make_assertion(rp.client_id, rp_key, exp=None)))


def test_exp_more_than_five_minutes_ahead_is_refused(rp, client, rp_key):
    now = int(time.time())
    assert_invalid_client(present(client, make_assertion(rp.client_id, rp_key, exp=now + 600)))
    assert_invalid_client(present(client, make_assertion(rp.client_id, rp_key, exp=now + 3600)))


def test_exp_a_few_minutes_ahead_is_accepted(rp, client, rp_key):
    now = int(time.time())
    assert_authenticated(present(client, make_assertion(rp.client_id, rp_key, exp=now + 240)))


def test_iss_different_from_sub_is_refused(rp, client, rp_key):
    assert_invalid_client(present(client, make_assertion(rp.client_id, rp_key, iss="someone-else")))


def test_assertion_signed_by_another_key_is_refused(rp, client, other_rp_key):
    assert_invalid_client(present(client, make_assertion(rp.client_id, other_rp_key)))


def test_hs256_is_refused(rp, client, rp_key):
    # HMAC would make the key a shared secret; keyed here with a digest of the client's public PEM
    # (what an algorithm-confusion attacker knows).
    secret = OctKey.import_key(hashlib.sha256(public_pem(rp_key).encode()).digest())
    assert_invalid_client(present(client, make_assertion(rp.client_id, secret, alg="HS256")))


def test_alg_none_is_refused(rp, client):
    assert_invalid_client(present(client, unsigned(rp.client_id)))


def test_replayed_assertion_is_refused(rp, client, rp_key):
    assertion = make_assertion(rp.client_id, rp_key)
    assert_authenticated(present(client, assertion))
    assert_invalid_client(present(client, assertion))


def test_same_jti_in_a_new_assertion_is_refused(rp, client, rp_key):
    jti = str(uuid.uuid4())
    assert_authenticated(present(client, make_assertion(rp.client_id, rp_key, jti=jti)))
    assert_invalid_client(present(client, make_assertion(rp.client_id, rp_key, jti=jti, iat=int(time.time()) + 1)))


def test_missing_jti_is_refused(rp, client, rp_key):
    assert_invalid_client(present(client, make_assertion(rp.client_id, rp_key, jti=None)))


def test_unknown_client_is_refused(rp, client, rp_key):
    assert_invalid_client(present(client, make_assertion("no-such-client", rp_key)))


def test_client_id_beside_the_assertion_must_match(rp, register, client, rp_key):
    other = register()
    assert_invalid_client(present(client, make_assertion(rp.client_id, rp_key), client_id=other.client_id))
    assert_authenticated(present(client, make_assertion(rp.client_id, rp_key), client_id=rp.client_id))


# --- kid and a PEM key -------------------------------------------------------------------------
def test_kid_equal_to_the_pem_keys_thumbprint_is_accepted(rp, client, rp_key):
    kid = rfc7638_thumbprint(rp_key)
    assert_authenticated(present(client, make_assertion(rp.client_id, rp_key, header={"kid": kid})))


def test_a_different_kid_is_refused(rp, client, rp_key, other_rp_key):
    assert_invalid_client(present(client, make_assertion(rp.client_id, rp_key, header={"kid": "some-other-key"})))
    wrong = rfc7638_thumbprint(other_rp_key)
    assert_invalid_client(present(client, make_assertion(rp.client_id, rp_key, header={"kid": wrong})))


# --- algorithms ----------------------------------------------------------------------------------
def test_rs256_is_refused_for_a_client_registered_with_rs512(rp, client, rp_key):
    assert_invalid_client(present(client, make_assertion(rp.client_id, rp_key, alg="RS256")))


@pytest.mark.parametrize("alg", ["RS256", "PS256"])
def test_client_may_sign_with_the_rsa_alg_it_registered(register, client, rp_key, alg):
    rp = register(id_token_signed_response_alg=alg)
    assert_authenticated(present(client, make_assertion(rp.client_id, rp_key, alg=alg)))
    assert_authenticated(present(client, make_assertion(rp.client_id, rp_key, alg="RS512")))


def test_es256_client_with_an_ec_pem_key(register, client):
    ec_key = ec.generate_private_key(ec.SECP256R1())
    rp = register(key=ec_key, id_token_signed_response_alg="ES256")
    assert_authenticated(present(client, make_assertion(rp.client_id, ec_key, alg="ES256")))
    other = ec.generate_private_key(ec.SECP256R1())
    assert_invalid_client(present(client, make_assertion(rp.client_id, other, alg="ES256")))


# --- a key registered as a JWKS ----------------------------------------------------------------
@pytest.fixture
def jwks_client(app, rp_key):
    from idp.protocol.registration import register_client

    public = RSAKey.import_key(public_pem(rp_key)).as_dict(private=False)
    public.update(kid="rp-key-1", alg="RS512", use="sig")
    fields = {"name": "JWKS service", "redirect_uris": ["https://rp.example/callback"], "scope": "openid email",
              "vtr": ["P0.Cp"], "token_endpoint_auth_method": "private_key_jwt"}
    with app.app_context():
        registered, secret = register_client(fields, development=True, key={"jwks": {"keys": [public]}})
        assert secret is None
        return registered.client_id


def test_client_registered_with_a_jwks_authenticates_by_kid(jwks_client, client, rp_key):
    assert_authenticated(present(client, make_assertion(jwks_client, rp_key, header={"kid": "rp-key-1"})))


def test_client_registered_with_a_single_key_jwks_may_omit_kid(jwks_client, client, rp_key):
    assert_authenticated(present(client, make_assertion(jwks_client, rp_key)))


def test_client_registered_with_a_jwks_refuses_unknown_kid_and_other_keys(jwks_client, client, rp_key, other_rp_key):
    assert_invalid_client(present(client, make_assertion(jwks_client, rp_key, header={"kid": "rp-key-2"})))
    assert_invalid_client(present(client, make_assertion(jwks_client, other_rp_key, header={"kid": "rp-key-1"})))


# --- client secrets (opt-in) -------------------------------------------------------------------
def test_client_secret_basic_full_exchange(register, person):
    rp = register(auth_method="client_secret_basic")
    assert rp.secret
    email = person("P0")
    result = rp.login_flow(email)
    response = rp.token(result["code"])
    assert response.status_code == 200, response.get_json()
    assert "access_token" in response.get_json()


def test_client_secret_basic_wrong_secret_is_refused(register, client):
    rp = register(auth_method="client_secret_basic")
    assert_authenticated(present(client, headers=basic(rp.client_id, rp.secret)))
    response = present(client, headers=basic(rp.client_id, rp.secret + "x"))
    assert_invalid_client(response)
    # RFC 6749 5.2: authentication tried through the Authorization header -> 401 with WWW-Authenticate.
    assert response.headers.get("WWW-Authenticate", "").startswith("Basic")


def test_client_secret_post_works_and_wrong_secret_is_refused(register, client):
    rp = register(auth_method="client_secret_post")
    assert_authenticated(present(client, client_id=rp.client_id, client_secret=rp.secret))
    assert_invalid_client(present(client, client_id=rp.client_id, client_secret="not-the-secret"))


def test_secret_client_cannot_use_the_other_secret_method(register, client):
    rp = register(auth_method="client_secret_basic")
    assert_invalid_client(present(client, client_id=rp.client_id, client_secret=rp.secret))
    post = register(auth_method="client_secret_post")
    assert_invalid_client(present(client, headers=basic(post.client_id, post.secret)))


def test_private_key_jwt_client_cannot_use_client_secret_basic(rp, client):
    assert_invalid_client(present(client, headers=basic(rp.client_id, "any-secret-at-all")))
    assert_invalid_client(present(client, client_id=rp.client_id, client_secret="any-secret-at-all"))


def test_no_client_authentication_is_refused(rp, client):
    assert_invalid_client(present(client, client_id=rp.client_id))
