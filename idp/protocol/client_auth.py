"""Client authentication at /token, /revoke and /introspect.

``private_key_jwt`` (RFC 7523 section 2.2, OIDC Core 9) is the default and the
only method most clients may use; the ``client_secret_*`` methods are opt-in.
"""
from __future__ import annotations

import base64

from authlib.oauth2.rfc6749 import InvalidClientError
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from flask import current_app, url_for
from flask import request as http_request
from joserfc import jwt
from joserfc.errors import JoseError

from ..clock import now
from ..extensions import db
from ..models import UsedAssertion
from .client_keys import ClientKeyError, verification_keys
from .jwt_rules import numeric_dates_ok

# Never HMAC (the key would be a shared secret) and never "none".
ASSERTION_ALGS = ("RS512", "RS256", "PS256", "ES256")


class PrivateKeyJWT(JWTBearerClientAssertion):
    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self):
        super().__init__(validate_jti=True, leeway=30)

    def __call__(self, query_client, request):
        try:
            return self._authenticate(query_client, request)
        except InvalidClientError as error:
            error.status_code = 401  # RFC 6749 5.2: failed client authentication is a 401
            raise

    def _authenticate(self, query_client, request):
        data = request.form
        assertion = data.get("client_assertion")
        if data.get("client_assertion_type") != self.CLIENT_ASSERTION_TYPE or not assertion:
            return None
        headers, claims = self.extract_assertion(assertion)
        if not numeric_dates_ok(claims):
            raise InvalidClientError(description="The client assertion's exp, iat and nbf must be numeric dates.")
        client_id = claims.get("sub")
        if not isinstance(client_id, str) or not client_id:
            raise InvalidClientError(description="The client assertion has no 'sub'.")
        # RFC 6749 2.3: a client_id beside the assertion must name the same client.
        if data.get("client_id") not in (None, client_id):
            raise InvalidClientError(description="client_id does not match the client assertion.")
        client = query_client(client_id)
        if not client:
            raise InvalidClientError(description="The client does not exist on this server.")
        alg = headers.get("alg")
        if alg not in allowed_assertion_algs(client):
            raise InvalidClientError(description=f"Client assertions must be signed with {', '.join(allowed_assertion_algs(client))}.")
        settings = current_app.extensions["idp"].settings
        try:
            key = verification_keys(
                client, headers.get("kid"), timeout=settings.outbound_timeout_seconds, max_age=settings.jwks_uri_cache_seconds
            )
            token = jwt.decode(assertion, key, algorithms=[alg])
        except ClientKeyError as exc:
            raise InvalidClientError(description=str(exc)) from None
        except JoseError:
            raise InvalidClientError(description="The client assertion signature is invalid.") from None
        request.client = client
        # Lifetime and audience first: an assertion refused for them is refused before its jti is recorded.
        self.check_lifetime(token.claims, settings.client_assertion_max_age)
        self.check_audience(token.claims)
        self.verify_claims(token.claims)
        return self.authenticate_client(client)

    def get_audiences(self):
        """Our names: the issuer (RFC 7523bis), the token endpoint (OIDC Core 9) and the endpoint being
        called (the PAR endpoint, RFC 9126 2; revocation and introspection)."""
        issuer = current_app.extensions["idp"].settings.issuer
        called = issuer + url_for(http_request.endpoint) if http_request.endpoint else None
        return [name for name in (issuer, issuer + "/", issuer + url_for("protocol.token"), called) if name]

    def check_audience(self, claims):
        """``aud`` names us and nobody else: one of our names, or a list of nothing but them.

        A list is otherwise accepted by JWT libraries when any member matches, which lets an assertion
        made for another server (that shares the member) be replayed here: the private_key_jwt
        audience-injection class (RFC 7523bis, 2025 advisories).
        """
        ours = set(self.get_audiences())
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if not audiences or not all(isinstance(a, str) and a in ours for a in audiences):
            raise InvalidClientError(
                description="The client assertion's aud must be this provider's issuer or the endpoint called, and nothing else.")

    def check_lifetime(self, claims, max_age: int):
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)) or exp - now() > max_age + self.leeway:
            raise InvalidClientError(description=f"The client assertion must expire within {max_age} seconds.")

    def validate_jti(self, claims, jti):
        """A jti is accepted once per client, across every process (the row's key is the lock)."""
        if not isinstance(jti, str) or not jti or len(jti) > 200:
            return False
        current = now()
        expires = int(claims.get("exp", current)) + self.leeway
        return UsedAssertion.spend(claims["sub"], jti, expires)


def allowed_assertion_algs(client) -> list[str]:
    """RS512 always; the client's ID token alg, its JWKS keys' algs and a registered
    token_endpoint_auth_signing_alg (RFC 7591 2) too."""
    algs = ["RS512"]
    registered = (client.extra_metadata or {}).get("token_endpoint_auth_signing_alg")
    if registered in ASSERTION_ALGS and registered not in algs:
        algs.append(registered)
    if client.id_token_alg in ASSERTION_ALGS and client.id_token_alg not in algs:
        algs.append(client.id_token_alg)
    for key in (client.jwks or {}).get("keys", []) if isinstance(client.jwks, dict) else []:
        if key.get("alg") in ASSERTION_ALGS and key["alg"] not in algs:
            algs.append(key["alg"])
    if client.jwks_uri:
        algs = list(ASSERTION_ALGS)
    return algs


def prune_used_assertions() -> int:
    count = UsedAssertion.query.filter(UsedAssertion.expires_at < now()).delete()
    db.session.commit()
    return count


def malformed_authorization_header(value: str | None) -> InvalidClientError | None:
    """RFC 6749 2.3.1: in the Authorization header, only well-formed HTTP Basic credentials (RFC 7617)."""
    if value is None:
        return None
    scheme, _, credentials = value.partition(" ")
    error = InvalidClientError(description="The Authorization header must carry HTTP Basic client credentials.")
    error.status_code = 401
    if scheme.lower() != "basic":
        return error
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return error
    return None if ":" in decoded else error
