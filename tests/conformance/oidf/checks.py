"""What the suite's conditions check, written from the specs they cite; each raises AssertionError.

Signatures are verified with PyJWT against the keys at the discovered ``jwks_uri``; hashes
(``at_hash``, ``c_hash``) are computed here with hashlib. ``warn`` collects the checks the
suite reports as WARNING (the module still passes) so the report can show them.
"""
from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import time
from collections import Counter
from urllib.parse import urlsplit

import jwt

SKEW = 300  # the suite allows 5 minutes of clock skew (ValidateIdToken)
# RFC 6749 5.2 / 4.1.2.1: error and error_description use %x20-21 / %x23-5B / %x5D-7E.
ERROR_CHARS = re.compile(r"^[\x20-\x21\x23-\x5b\x5d-\x7e]*$")
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
USER_INTERFACE_ERRORS = {"login_required", "interaction_required", "consent_required", "account_selection_required"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def is_loopback(url: str) -> bool:
    return urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1")


def check_https_or_loopback(name: str, url) -> None:
    """The suite requires https for every endpoint; this run serves http on loopback, the only exception taken."""
    assert isinstance(url, str) and url, f"{name} is missing"
    parts = urlsplit(url)
    assert parts.scheme == "https" or (parts.scheme == "http" and is_loopback(url)), f"{name} is not https: {url}"
    assert parts.netloc and not parts.fragment, f"{name} is not an absolute URL without a fragment: {url}"


# --- discovery (OIDC Discovery 1.0 sections 3 and 4) ------------------------------------------------
def check_discovery_document(doc: dict, discovery_url: str, *, dynamic: bool, warn) -> None:
    """OIDCCDiscoveryEndpointVerification's conditions, static or dynamic variant."""
    issuer = doc.get("issuer")
    # CheckDiscEndpointDiscoveryUrl / CheckDiscEndpointIssuer (OIDCD 4.3): issuer + /.well-known/openid-configuration.
    assert isinstance(issuer, str), "issuer missing"
    assert discovery_url == issuer.rstrip("/") + "/.well-known/openid-configuration", "issuer does not match the discovery URL"
    parts = urlsplit(issuer)
    assert not parts.query and not parts.fragment, "issuer has a query or fragment (RFC 8414 2)"
    check_https_or_loopback("issuer", issuer)
    response_types = doc.get("response_types_supported")
    assert isinstance(response_types, list) and response_types, "response_types_supported missing"
    if dynamic:
        # OIDC Core 15.2 / OIDCD 3: dynamic OPs MUST support code, id_token and id_token token.
        missing = [t for t in ("code", "id_token", "token id_token") if not any(set(t.split()) == set(v.split()) for v in response_types)]
        assert not missing, f"response_types_supported lacks {missing}, mandatory for dynamic OPs (OIDC Core 15.2)"
    else:
        assert "code" in response_types, "response_types_supported does not offer code"
    assert "public" in doc.get("subject_types_supported", []) or "pairwise" in doc.get("subject_types_supported", []), \
        "subject_types_supported must list public or pairwise"
    algs = doc.get("id_token_signing_alg_values_supported")
    assert isinstance(algs, list) and "RS256" in algs, "id_token_signing_alg_values_supported must include RS256 (OIDCD 3)"
    if "userinfo_signing_alg_values_supported" in doc:
        assert isinstance(doc["userinfo_signing_alg_values_supported"], list), "userinfo_signing_alg_values_supported not an array"
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        check_https_or_loopback(name, doc.get(name))
    if "userinfo_endpoint" in doc:
        check_https_or_loopback("userinfo_endpoint", doc["userinfo_endpoint"])
    else:
        warn("userinfo_endpoint not advertised (recommended)")
    if "registration_endpoint" in doc:
        check_https_or_loopback("registration_endpoint", doc["registration_endpoint"])
    # CheckDiscEndpointAllEndpointsAreHttps: every *_endpoint member.
    for name, value in doc.items():
        if name.endswith("_endpoint"):
            check_https_or_loopback(name, value)
    for flag in ("request_parameter_supported", "request_uri_parameter_supported", "claims_parameter_supported"):
        if flag in doc:
            assert isinstance(doc[flag], bool), f"{flag} must be a boolean"
    if "request_object_signing_alg_values_supported" in doc and "RS256" not in doc["request_object_signing_alg_values_supported"]:
        warn("request_object_signing_alg_values_supported lacks RS256")
    claims = doc.get("claims_supported")
    if not (isinstance(claims, list) and all(isinstance(c, str) for c in claims)):
        warn("claims_supported missing or not an array of strings (recommended)")
    grant_types = doc.get("grant_types_supported")
    if grant_types is not None:
        assert isinstance(grant_types, list) and grant_types, "grant_types_supported must be a non-empty array"
        if dynamic:
            assert {"authorization_code", "implicit"} <= set(grant_types), \
                "grant_types_supported must list authorization_code and implicit for dynamic OPs"
    scopes = doc.get("scopes_supported")
    if scopes is None:
        warn("scopes_supported missing")
    else:
        assert "openid" in scopes, "scopes_supported lacks openid (OIDCD 3)"
        # RFC 6749 3.3 scope-token: %x21 / %x23-5B / %x5D-7E.
        bad = [s for s in scopes if not isinstance(s, str) or not re.fullmatch(r"[\x21\x23-\x5b\x5d-\x7e]+", s)]
        assert not bad, f"scopes_supported has invalid scope tokens: {bad}"
    for name in ("ui_locales_supported", "claims_locales_supported"):
        for tag in doc.get(name, []):
            # RFC 5646 language tag shape (the suite also checks the IANA registry).
            assert re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z]{4})?(-([A-Za-z]{2}|[0-9]{3}))?(-[A-Za-z0-9]{5,8})*", tag), \
                f"{name}: {tag!r} is not a BCP 47 tag"
    if "code_challenge_methods_supported" in doc:
        assert isinstance(doc["code_challenge_methods_supported"], list), "code_challenge_methods_supported not an array"


def check_jwks(jwks: dict) -> None:
    """ValidateServerJWKs, CheckForKeyIdInServerJWKs, CheckDistinctKeyIdValueInServerJWKs, no private keys."""
    keys = jwks.get("keys")
    assert isinstance(keys, list) and keys, "the JWKS has no keys (RFC 7517 5)"
    kids = Counter(k.get("kid") for k in keys)
    for key in keys:
        assert key.get("kty") in ("RSA", "EC", "OKP"), f"unexpected kty {key.get('kty')!r}"
        assert key.get("kid"), "a key has no kid (OIDC Core 10.1)"
        assert kids[key["kid"]] == 1, f"kid {key['kid']} is used twice (RFC 7517 4.5)"
        private = {"d", "p", "q", "dp", "dq", "qi", "k"} & set(key)
        assert not private, f"key {key['kid']} publishes private or symmetric material: {sorted(private)}"
        members = {"RSA": ("n", "e"), "EC": ("crv", "x", "y"), "OKP": ("crv", "x")}[key["kty"]]
        for member in members:
            value = key.get(member)
            assert isinstance(value, str) and value, f"key {key['kid']} lacks {member}"
            if member != "crv":
                assert re.fullmatch(r"[A-Za-z0-9_-]+", value), f"key {key['kid']}: {member} is not unpadded base64url"
        jwt.PyJWK(key)  # usable by an independent library


# --- authorization responses (RFC 6749 4.1.2, RFC 9207) ---------------------------------------------
def check_callback(location: str, redirect_uri: str) -> dict:
    parts = urlsplit(location)
    assert location.split("?")[0] == redirect_uri, f"redirected to {location.split('?')[0]}, not the redirect_uri"
    assert not parts.fragment, "a code flow response must be in the query, not the fragment (OIDC Core 3.1.2.5)"
    from urllib.parse import parse_qs

    params = parse_qs(parts.query, keep_blank_values=True)
    assert all(len(v) == 1 for v in params.values()), f"repeated parameters in the response: {params}"
    return {k: v[0] for k, v in params.items()}


def check_authorization_success(params: dict, state: str, issuer: str) -> str:
    assert "error" not in params, f"authorization failed: {params.get('error')}: {params.get('error_description')}"
    assert params.get("state") == state, "state not returned unchanged (RFC 6749 4.1.2)"
    if "iss" in params:
        assert params["iss"] == issuer, "iss in the authorization response is not the issuer (RFC 9207 2.4)"
    code = params.get("code")
    assert code, "no code in the authorization response"
    check_code_entropy(code)
    return code


def check_code_entropy(code: str) -> None:
    """EnsureMinimumAuthorizationCodeLength/Entropy (RFC 6749 10.10, RFC 6819 5.1.4.2.2): 128 bits."""
    assert len(code) >= 22, f"the authorization code is only {len(code)} characters"
    counts = Counter(code)
    bits = -sum(n / len(code) * math.log2(n / len(code)) for n in counts.values()) * len(code)
    assert bits >= 96, f"the authorization code has about {bits:.0f} bits of entropy"


def check_authorization_error(params: dict, state: str | None, issuer: str, allowed: set[str]) -> str:
    error = params.get("error")
    assert error, f"expected an error response, got {sorted(params)}"
    assert error in allowed, f"error {error!r}, expected one of {sorted(allowed)}"
    assert "code" not in params, "an error response carries a code"
    if state is not None:
        assert params.get("state") == state, "state not returned unchanged in the error response (RFC 6749 4.1.2.1)"
    if "iss" in params:
        assert params["iss"] == issuer, "iss in the error response is not the issuer (RFC 9207 2)"
    check_error_text(params)
    return error


def check_error_text(body: dict) -> None:
    for name in ("error", "error_description"):
        if name in body:
            assert isinstance(body[name], str) and ERROR_CHARS.match(body[name]), f"{name} has characters RFC 6749 forbids"


def check_error_page(response, what: str) -> None:
    """ExpectRedirectUriErrorPage and friends: the provider shows a page and redirects nowhere."""
    assert response is not None, f"expected an error page ({what}), but the provider redirected"
    assert not response.is_redirect, f"expected an error page ({what}), got a redirect"
    assert 400 <= response.status_code < 500 or response.status_code == 200, f"status {response.status_code}"
    assert "text/html" in response.headers.get("Content-Type", ""), "the error is not a page for the person"


# --- token endpoint (RFC 6749 5, OIDC Core 3.1.3) ----------------------------------------------------
def check_token_response(response, warn) -> dict:
    assert response.status_code == 200, f"token endpoint answered {response.status_code}: {response.text[:300]}"
    assert response.headers.get("Content-Type", "").startswith("application/json"), "token response is not JSON"
    assert "no-store" in response.headers.get("Cache-Control", ""), "token response lacks Cache-Control: no-store (RFC 6749 5.1)"
    if "no-cache" not in response.headers.get("Pragma", ""):
        warn("token response lacks Pragma: no-cache (RFC 6749 5.1)")
    body = response.json()
    assert isinstance(body.get("access_token"), str) and body["access_token"], "no access_token"
    assert re.fullmatch(r"[\x20-\x7e]+", body["access_token"]), "access_token has characters RFC 6749 A.12 forbids"
    assert str(body.get("token_type", "")).lower() == "bearer", "token_type is not Bearer"
    if "expires_in" in body:
        assert isinstance(body["expires_in"], int) and body["expires_in"] > 0, "expires_in is not a positive integer"
    if "refresh_token" in body:
        assert re.fullmatch(r"[\x20-\x7e]+", body["refresh_token"]), "refresh_token has characters RFC 6749 A.17 forbids"
        assert len(body["refresh_token"]) >= 22, "refresh_token is too short to carry 128 bits"
    return body


def check_token_error(response, error: str, *, allow_401: bool = False) -> dict:
    """RFC 6749 5.2: 400 (401 for invalid_client), JSON, the expected error code, valid texts."""
    allowed = (400, 401) if allow_401 else (400,)
    assert response.status_code in allowed, f"expected {allowed}, got {response.status_code}: {response.text[:200]}"
    assert response.headers.get("Content-Type", "").startswith("application/json"), "the error is not JSON"
    body = response.json()
    assert body.get("error") == error, f"error {body.get('error')!r}, expected {error!r}"
    check_error_text(body)
    if "error_uri" in body:
        assert re.fullmatch(r"[\x21\x23-\x5b\x5d-\x7e]+", body["error_uri"]), "error_uri is not a URI"
    return body


# --- ID tokens (OIDC Core 2, 3.1.3.6, 3.1.3.7) --------------------------------------------------------
def half_hash(value: str, alg: str) -> str:
    """OIDC Core 3.1.3.6: base64url of the left half of the hash the JWS alg names."""
    digest = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}[alg[-3:]](value.encode()).digest()
    return b64url(digest[: len(digest) // 2])


def verify_jws(token: str, jwks: dict, alg: str, *, audience=None, issuer=None, require=()) -> tuple[dict, dict]:
    """(header, claims) of a JWS signed with ``alg`` by the key its ``kid`` names in ``jwks``."""
    header = jwt.get_unverified_header(token)
    assert header.get("alg") == alg, f"signed with {header.get('alg')!r}, expected {alg} (OIDC Core 3.1.3.7)"
    kid = header.get("kid")
    assert kid, "no kid in the JOSE header (OIDC Core 10.1: several keys are published)"
    keys = [k for k in jwks.get("keys", []) if k.get("kid") == kid]
    assert keys, f"kid {kid} is not in the provider's JWKS"
    key = jwt.PyJWK(keys[0], algorithm=alg)
    claims = jwt.decode(token, key.key, algorithms=[alg], audience=audience, issuer=issuer, leeway=SKEW,
                        options={"require": list(require), "verify_aud": audience is not None})
    return header, claims


def check_id_token(token: str, *, issuer: str, client_id: str, alg: str, jwks: dict, nonce: str | None,
                   access_token: str | None = None, code: str | None = None, max_age: int | None = None,
                   warn=lambda message: None) -> dict:
    """Every ID token check of OIDCCServerTest (ValidateIdToken*, CheckForSubjectInIdToken, at_hash, c_hash)."""
    header, claims = verify_jws(token, jwks, alg, audience=client_id, issuer=issuer,
                                require=("iss", "sub", "aud", "exp", "iat"))
    if "typ" in header:
        assert header["typ"].upper() == "JWT", f"ID token typ is {header['typ']!r}"
    now = time.time()
    assert claims["exp"] > now - SKEW, "the ID token has expired"
    assert claims["iat"] <= now + SKEW, "the ID token was issued in the future"
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1:
        # OIDC Core 3.1.3.7 (4): several audiences need azp.
        assert claims.get("azp") == client_id, "several audiences but no azp naming this client"
    if "azp" in claims:
        assert claims["azp"] == client_id, "azp is not this client (OIDC Core 3.1.3.7 (5))"
    sub = claims["sub"]
    assert isinstance(sub, str) and 0 < len(sub) <= 255 and sub.isascii(), "sub must be 1-255 ASCII characters (OIDC Core 2)"
    if nonce is not None:
        assert claims.get("nonce") == nonce, "nonce does not match the request (OIDC Core 3.1.3.7 (11))"
    else:
        assert "nonce" not in claims, "a nonce the client never sent"
    if max_age is not None:
        assert isinstance(claims.get("auth_time"), int), "max_age was asked, so auth_time is required (OIDC Core 3.1.2.1)"
    if "auth_time" in claims:
        assert isinstance(claims["auth_time"], (int, float)) and claims["auth_time"] <= now + SKEW, "auth_time is not a past time"
    if "at_hash" in claims:
        assert access_token and claims["at_hash"] == half_hash(access_token, alg), "at_hash does not match the access token"
    if "c_hash" in claims:
        assert code and claims["c_hash"] == half_hash(code, alg), "c_hash does not match the code"
    if "name" in claims:
        warn("the ID token contains name although only the UserInfo was asked for it (EnsureIdTokenDoesNotContainName)")
    return claims


def check_refreshed_id_token(first: dict, second: dict) -> None:
    """OIDC Core 12.2: a refreshed ID token keeps iss, sub, aud, azp and auth_time; iat is when it was issued."""
    for name in ("iss", "sub", "aud"):
        assert second.get(name) == first.get(name), f"{name} changed on refresh (OIDC Core 12.2)"
    if "azp" in first or "azp" in second:
        assert second.get("azp") == first.get("azp"), "azp changed on refresh"
    if "auth_time" in first and "auth_time" in second:
        assert second["auth_time"] == first["auth_time"], "auth_time changed on refresh (it is the original login's)"
    assert second["iat"] >= first["iat"], "the refreshed ID token's iat is older than the first's"
    assert "nonce" not in second or second["nonce"] == first.get("nonce"), "a new nonce on refresh (OIDC Core 12.2)"


# --- UserInfo (OIDC Core 5.3) -------------------------------------------------------------------------
def check_userinfo(response, id_claims: dict | None) -> dict:
    assert response.status_code == 200, f"UserInfo answered {response.status_code}: {response.text[:200]}"
    assert response.headers.get("Content-Type", "").startswith("application/json"), "UserInfo is not JSON (unsigned)"
    body = response.json()
    assert isinstance(body.get("sub"), str) and body["sub"], "UserInfo has no sub (OIDC Core 5.3.2)"
    if id_claims is not None:
        assert body["sub"] == id_claims["sub"], "UserInfo sub differs from the ID token's (OIDC Core 5.3.2)"
    # ValidateUserInfoStandardClaims / EnsureUserInfoBirthDateValid: types of the standard claims (OIDC Core 5.1).
    for name in ("email_verified", "phone_number_verified"):
        if name in body:
            assert isinstance(body[name], bool), f"{name} must be a JSON boolean"
    for name in ("email", "phone_number", "family_name", "given_name", "name"):
        if name in body:
            assert isinstance(body[name], str), f"{name} must be a string"
    if "birthdate" in body:
        assert re.fullmatch(r"\d{4}(-\d{2}-\d{2})?", body["birthdate"]), "birthdate is not YYYY-MM-DD or YYYY"
    if "updated_at" in body:
        assert isinstance(body["updated_at"], int), "updated_at must be a number"
    assert all(value is not None for value in body.values()), "UserInfo contains null claims (omit them instead)"
    return body


# --- back-channel logout (OIDC Back-Channel Logout 1.0 section 2.4, 2.6) ---------------------------------
def check_logout_token(token: str, *, issuer: str, client_id: str, algs: list[str], jwks: dict, id_claims: dict) -> dict:
    """Signed like ID tokens (section 2.4: "the same keys"), so with an advertised ID token alg."""
    alg = jwt.get_unverified_header(token).get("alg")
    assert alg in algs and alg != "none", f"logout token signed with {alg!r}, not an advertised ID token alg"
    header, claims = verify_jws(token, jwks, alg, audience=client_id, issuer=issuer, require=("iss", "aud", "iat", "jti"))
    if "typ" in header:
        assert header["typ"] == "logout+jwt", f"logout token typ is {header['typ']!r} (section 2.4 recommends logout+jwt)"
    assert claims["iat"] <= time.time() + SKEW, "logout token issued in the future"
    assert isinstance(claims["jti"], str) and claims["jti"], "logout token has no jti"
    events = claims.get("events")
    assert isinstance(events, dict) and list(events) == [BACKCHANNEL_EVENT], f"events must hold exactly {BACKCHANNEL_EVENT}"
    assert events[BACKCHANNEL_EVENT] == {}, "the back-channel logout event member should be an empty object"
    assert "nonce" not in claims, "a logout token must not contain a nonce (section 2.4)"
    assert "sub" in claims or "sid" in claims, "a logout token names sub, sid or both (section 2.4)"
    if "sub" in claims:
        assert claims["sub"] == id_claims["sub"], "logout token sub differs from the ID token's"
    if "sid" in claims:
        assert claims["sid"] == id_claims.get("sid"), "logout token sid differs from the ID token's"
    return claims


def decode_unverified(token: str) -> tuple[dict, dict]:
    head, body = token.split(".")[:2]
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return json.loads(base64.urlsafe_b64decode(pad(head))), json.loads(base64.urlsafe_b64decode(pad(body)))
