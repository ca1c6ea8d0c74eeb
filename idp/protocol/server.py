"""The Authlib authorization server, wired with our grants, client authentication and endpoints."""
from __future__ import annotations

import json

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from flask import current_app
from joserfc.errors import JoseError
from joserfc.jws import extract_compact

from ..clock import now
from ..extensions import db
from ..models import Client, IssuedToken, Person
from ..models.grants import token_hash
from .bearer import read_access_token
from .claims import approved_scope
from .client_auth import PrivateKeyJWT
from .grants import AuthorizationCodeGrant, ClientCredentialsGrant, RefreshTokenGrant, revoke_grant
from .registration import serves
from .subjects import subject_for


class S256CodeChallenge(CodeChallenge):
    """PKCE with S256 only: ``plain`` is refused (interface.md, RFC 9700 2.1.1)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"


def _refresh_token(token_string):
    row = db.session.get(IssuedToken, token_hash(token_string))
    return row if row is not None and row.kind == "refresh" else None


def _access_token(token_string):
    ctx = current_app.extensions["idp"]
    return read_access_token(token_string, ctx.keystore, ctx.settings.issuer)


def find_presented_token(token_string, token_type_hint):
    """The token presented, as we issued it: a refresh token by its hash, an access token by its signature.

    RFC 7009 2.1 / RFC 7662 2.1: the hint only orders the search; a wrong hint extends it to every type.
    """
    lookups = [_refresh_token, _access_token]
    if token_type_hint == "access_token":
        lookups.reverse()
    for lookup in lookups:
        row = lookup(token_string)
        if row is not None:
            return row
    return None


def _any_access_token(token_string):
    """An access token that is no longer active still belongs to its client (for revocation checks)."""
    try:
        payload = json.loads(extract_compact(token_string.encode()).payload)
    except (JoseError, ValueError, TypeError):
        return None  # unreadable: simply not our token
    jti = payload.get("jti") if isinstance(payload, dict) else None
    row = db.session.get(IssuedToken, jti) if isinstance(jti, str) and len(jti) <= 64 and "\x00" not in jti else None
    # Unverified input: only ever used to revoke a token of the caller's own (never to introspect).
    return row if row is not None and row.kind == "access" else None


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = ["private_key_jwt", "client_secret_basic", "client_secret_post"]

    def query_token(self, token_string, token_type_hint):
        # An expired or revoked access token fails verification but may still be revoked by its owner
        # (a no-op that answers 200, RFC 7009 2.2); check_permission keeps it to the caller's own.
        return find_presented_token(token_string, token_type_hint) or _any_access_token(token_string)

    def revoke_token(self, token, request):
        if token.kind == "refresh":
            # RFC 7009 2.1: revoking a refresh token also invalidates access tokens of the same grant.
            revoke_grant(token.grant_id, "refresh_token.revoked")
        else:
            token.revoked_at = now()
            db.session.commit()


class Introspection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = ["private_key_jwt", "client_secret_basic", "client_secret_post"]

    def query_token(self, token_string, token_type_hint):
        # RFC 7662 2.2: "active" is about the token presented, so only a verified token is looked up.
        return find_presented_token(token_string, token_type_hint)

    def check_permission(self, token, client, request):
        return token.client_id == client.client_id

    def introspect_token(self, token):
        ctx = current_app.extensions["idp"]
        person = db.session.get(Person, token.person_id) if token.person_id else None
        client = Client.find(token.client_id)
        payload = {
            "active": True,
            "iss": ctx.settings.issuer,
            "client_id": token.client_id,
            "scope": approved_scope(token.scope, client) if client is not None else "",
            "token_type": "Bearer" if token.kind == "access" else "refresh_token",
            "exp": token.expires_at,
            "iat": token.issued_at,
        }
        if person is not None and client is not None:
            payload["sub"] = subject_for(person, client)
        if token.kind == "access":
            payload.update({"jti": token.id, "aud": ctx.settings.issuer})
        if token.vot:
            payload.update({"vot": token.vot, "vtm": ctx.tokens.trustmark})
        if token.auth_time:
            payload["auth_time"] = token.auth_time
        return payload


class IdentityProviderServer(AuthorizationServer):
    def __init__(self):
        super().__init__()
        self.register_grant(AuthorizationCodeGrant, [S256CodeChallenge(required=True)])
        self.register_grant(RefreshTokenGrant)
        self.register_grant(ClientCredentialsGrant)
        self.register_client_auth_method(PrivateKeyJWT.CLIENT_AUTH_METHOD, PrivateKeyJWT())
        self.register_endpoint(Revocation)
        self.register_endpoint(Introspection)

    def query_client(self, client_id):
        client = Client.find(client_id)
        # Another environment's client is unknown here: a sandpit client never reaches integration or live data.
        return client if client is not None and serves(current_app.extensions["idp"].settings, client) else None

    def save_token(self, token, request):
        pass  # tokens are recorded as they are minted (protocol/tokens.py)
