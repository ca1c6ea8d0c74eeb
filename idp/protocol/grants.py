"""Token-endpoint grants, as Authlib asks them to be extended.

Codes and refresh tokens are consumed with one conditional UPDATE, committed
with the tokens they buy, so two processes racing on the same value cannot both
win; the loser is treated as a replay and revokes the whole grant (RFC 6749
4.1.2, RFC 9700 4.14.2).
"""
from __future__ import annotations

from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidScopeError, UnauthorizedClientError, grants
from flask import current_app

from ..clock import now
from ..events import emit
from ..extensions import db
from ..models import AuthorizationCode, Grant, IssuedToken, Person
from ..models.clients import AUTH_METHODS
from ..models.grants import token_hash
from .claims import approved_scope, known_scopes


def revoke_grant(grant_id: str, reason: str) -> None:
    """Revoke a grant and so every token issued under it."""
    Grant.query.filter(Grant.id == grant_id, Grant.revoked_at.is_(None)).update(
        {"revoked_at": now(), "revoked_reason": reason}
    )
    db.session.commit()


def revoke_grants_of(person_id: str, client_id: str, reason: str) -> None:
    """Revoke everything a person granted a client (consent withdrawn): its tokens stop working at once."""
    Grant.query.filter(Grant.person_id == person_id, Grant.client_id == client_id, Grant.revoked_at.is_(None)).update(
        {"revoked_at": now(), "revoked_reason": reason}
    )
    db.session.commit()


def revoke_session_grants(sid: str, reason: str) -> None:
    """Revoke every grant made in one browser session (logout); committed with the logout itself."""
    Grant.query.filter(Grant.sid == sid, Grant.revoked_at.is_(None)).update(
        {"revoked_at": now(), "revoked_reason": reason}, synchronize_session=False
    )


def _issuer():
    return current_app.extensions["idp"].tokens


class _TokenResponse:
    """Shared: issue the access token, maybe a refresh token, and an ID token for openid scope."""

    def issue(self, *, person, scope, grant_id, vot, auth_time, claims_request, nonce=None, sid=None,
              acr_requested=False, refresh_expires_at=None):
        client = self.request.client
        scope = approved_scope(scope, client)
        issuer = _issuer()
        access_token, expires_in = issuer.access_token(
            client=client, person=person, grant_id=grant_id, scope=scope, vot=vot, auth_time=auth_time,
            claims_request=claims_request,
        )
        token = {"access_token": access_token, "token_type": "Bearer", "expires_in": expires_in, "scope": scope}
        if client.check_grant_type("refresh_token"):
            token["refresh_token"] = issuer.refresh_token(
                client=client, person=person, grant_id=grant_id, scope=scope, vot=vot, auth_time=auth_time,
                claims_request=claims_request, expires_at=refresh_expires_at,
            )
        if "openid" in scope.split():
            token["id_token"] = issuer.id_token(
                client=client, person=person, scope=scope, auth_time=auth_time, vot=vot, nonce=nonce, sid=sid,
                claims_request=claims_request, access_token=access_token, acr_requested=acr_requested,
                grant_id=grant_id,
            )
        db.session.commit()
        return token


class AuthorizationCodeGrant(_TokenResponse, grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(AUTH_METHODS)

    def save_authorization_code(self, code, request):  # codes are made by protocol/authorization.py
        raise NotImplementedError

    def query_authorization_code(self, code, client):
        row = db.session.get(AuthorizationCode, token_hash(code))
        if row is None or row.client_id != client.client_id:
            return None
        # Consumed in the same transaction that records the tokens: a concurrent redemption waits on
        # this row and then finds it used; a request that fails later (PKCE) leaves the code unused.
        consumed = AuthorizationCode.query.filter(
            AuthorizationCode.code_hash == row.code_hash, AuthorizationCode.used_at.is_(None)
        ).update({"used_at": now()}, synchronize_session=False)
        if consumed != 1:
            db.session.rollback()
            revoke_grant(row.grant_id, "code.reused")
            emit("code.reused", client_id=client.client_id, grant_id=row.grant_id)
            return None
        if row.is_expired() or (row.grant and row.grant.revoked_at):
            return None
        return row

    def delete_authorization_code(self, authorization_code):
        pass  # already consumed atomically in query_authorization_code

    def authenticate_user(self, authorization_code):
        return db.session.get(Person, authorization_code.person_id)

    def create_token_response(self):
        code: AuthorizationCode = self.request.authorization_code
        person = self.authenticate_user(code)
        if person is None:
            raise InvalidGrantError("The person this code was issued for no longer exists.")
        self.request.user = person
        token = self.issue(
            person=person, scope=code.scope, grant_id=code.grant_id, vot=code.vot, auth_time=code.auth_time,
            claims_request=code.claims_request, nonce=code.nonce, sid=code.sid, acr_requested=code.acr_requested,
        )
        emit("token.issued", client_id=code.client_id, grant_type="authorization_code", grant_id=code.grant_id)
        return 200, token, self.TOKEN_RESPONSE_HEADER


class RefreshTokenGrant(_TokenResponse, grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = list(AUTH_METHODS)
    INCLUDE_NEW_REFRESH_TOKEN = True

    def _requested_scope(self) -> str | None:
        """The known scopes asked for; unknown ones (e.g. offline_access) are ignored, as at /authorize."""
        asked = self.request.payload.scope
        return " ".join(known_scopes(asked)) if asked else None

    def _validate_token_scope(self, token):
        # RFC 6749 6: the requested scope MUST NOT include any scope not originally granted.
        asked = self._requested_scope()
        if asked is not None and not set(asked.split()) <= set(token.get_scope().split()):
            raise InvalidScopeError("The refresh request asks for a scope that was not granted.")

    def authenticate_refresh_token(self, refresh_token):
        client = self.request.client
        row = db.session.get(IssuedToken, token_hash(refresh_token))
        # Another client's refresh token is simply unknown to this client, and stays usable by its owner.
        if row is None or row.kind != "refresh" or row.client_id != client.client_id:
            return None
        if row.rotated_at is not None:
            self._reused(row)
            return None
        return row if row.is_active() else None

    def _reused(self, row):
        revoke_grant(row.grant_id, "refresh_token.reused")
        emit("refresh_token.reused", client_id=row.client_id, grant_id=row.grant_id)

    def authenticate_user(self, refresh_token):
        return db.session.get(Person, refresh_token.person_id)

    def revoke_old_credential(self, refresh_token):
        pass  # rotated atomically in authenticate_refresh_token

    def create_token_response(self):
        old: IssuedToken = self.request.refresh_token
        person = self.authenticate_user(old)
        if person is None:
            raise InvalidGrantError("The person this token was issued for no longer exists.")
        # Rotate only now that the request is valid, so a bad request does not burn the token.
        rotated = IssuedToken.query.filter(IssuedToken.id == old.id, IssuedToken.rotated_at.is_(None)).update(
            {"rotated_at": now()}, synchronize_session=False
        )
        if rotated != 1:
            db.session.rollback()
            self._reused(old)
            raise InvalidGrantError("The refresh token has already been used.")
        self.request.user = person
        scope = self._requested_scope() or old.scope
        # Rotation hands on the grant's lifetime, never a fresh one; the ID token keeps its session's sid
        # (Back-Channel Logout 1.0 2.1: the sid is what logout and asserted logins are checked against).
        token = self.issue(
            person=person, scope=scope, grant_id=old.grant_id, vot=old.vot, auth_time=old.auth_time,
            claims_request=old.claims_request, sid=old.grant.sid if old.grant else None,
            refresh_expires_at=old.expires_at,
        )
        emit("token.refreshed", client_id=old.client_id, grant_id=old.grant_id)
        return 200, token, self.TOKEN_RESPONSE_HEADER


PROVISIONING_TOKEN_TTL = 300  # interface.md: provisioning access tokens live 300 s


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    """A staff system's access token for the provisioning API (RFC 6749 4.4): the client acts for itself and
    its ODS codes, no person. Only provisioning clients may use it (``Client.check_grant_type``), only with
    private_key_jwt, and only for the scope ``provisioning``."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["private_key_jwt"]

    def validate_requested_scope(self):
        asked = self.request.payload.scope
        client = self.request.client
        if asked is not None and set(asked.split()) - set(client.scopes):
            raise InvalidScopeError("A provisioning client may ask for the scope provisioning only.")

    def validate_token_request(self):
        client = self.authenticate_token_endpoint_client()
        if not client.check_grant_type(self.GRANT_TYPE):
            raise UnauthorizedClientError("Only provisioning clients (staff systems) use client_credentials.")
        self.request.client = client
        self.validate_requested_scope()

    def create_token_response(self):
        client = self.request.client
        issuer = _issuer()
        scope = approved_scope(" ".join(client.scopes), client)
        access_token, expires_in = issuer.access_token(
            client=client, person=None, grant_id=None, scope=scope, vot=None, auth_time=None,
            ttl=min(PROVISIONING_TOKEN_TTL, issuer.settings.access_token_ttl),
        )
        db.session.commit()
        emit("token.issued", client_id=client.client_id, grant_type=self.GRANT_TYPE)
        return 200, {"access_token": access_token, "token_type": "Bearer", "expires_in": expires_in,
                     "scope": scope}, self.TOKEN_RESPONSE_HEADER
