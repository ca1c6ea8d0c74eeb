"""What a person granted a client, and the codes and tokens issued under it.

A ``Grant`` ties together one authorization code and every token issued from
it, so a reused code or refresh token revokes the whole family in one update.
"""
from __future__ import annotations

import hashlib

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, TokenMixin
from sqlalchemy import JSON

from ..clock import now
from ..extensions import db


def token_hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class Grant(db.Model):
    __tablename__ = "authorization_grant"

    id = db.Column(db.String(36), primary_key=True)
    client_id = db.Column(db.String(64), db.ForeignKey("client.client_id", ondelete="CASCADE"), nullable=False, index=True)
    person_id = db.Column(db.String(36), db.ForeignKey("person.id", ondelete="CASCADE"), nullable=False, index=True)
    sid = db.Column(db.String(64), index=True)
    created_at = db.Column(db.Integer, nullable=False, default=now)
    revoked_at = db.Column(db.Integer)
    revoked_reason = db.Column(db.String(60))


class AuthorizationCode(db.Model, AuthorizationCodeMixin):
    __tablename__ = "authorization_code"

    code_hash = db.Column(db.String(64), primary_key=True)
    grant_id = db.Column(db.String(36), db.ForeignKey("authorization_grant.id", ondelete="CASCADE"), nullable=False, index=True)
    client_id = db.Column(db.String(64), nullable=False)
    person_id = db.Column(db.String(36), nullable=False)
    redirect_uri = db.Column(db.String(500), nullable=False)
    scope = db.Column(db.Text, nullable=False)
    nonce = db.Column(db.String(500))
    code_challenge = db.Column(db.String(128))
    code_challenge_method = db.Column(db.String(10))
    auth_time = db.Column(db.Integer, nullable=False)
    vot = db.Column(db.String(20), nullable=False)
    claims_request = db.Column(JSON)
    acr_requested = db.Column(db.Boolean, nullable=False, default=False)
    sid = db.Column(db.String(64))
    created_at = db.Column(db.Integer, nullable=False, default=now)
    expires_at = db.Column(db.Integer, nullable=False)
    used_at = db.Column(db.Integer)

    grant = db.relationship("Grant", lazy="joined")  # revocation is checked on every use

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.auth_time

    def is_expired(self):
        return self.expires_at <= now()


class IssuedToken(db.Model, TokenMixin):
    """An access token (a JWT, found by ``jti``) or a refresh token (opaque, found by hash)."""

    __tablename__ = "issued_token"

    id = db.Column(db.String(64), primary_key=True)  # jti for access tokens, hash for refresh tokens
    kind = db.Column(db.String(10), nullable=False)  # "access" | "refresh"
    grant_id = db.Column(db.String(36), db.ForeignKey("authorization_grant.id", ondelete="CASCADE"), index=True)
    client_id = db.Column(db.String(64), nullable=False, index=True)
    person_id = db.Column(db.String(36), index=True)
    scope = db.Column(db.Text, nullable=False, default="")
    vot = db.Column(db.String(20))
    auth_time = db.Column(db.Integer)
    claims_request = db.Column(JSON)
    issued_at = db.Column(db.Integer, nullable=False, default=now)
    expires_at = db.Column(db.Integer, nullable=False, index=True)
    revoked_at = db.Column(db.Integer)
    rotated_at = db.Column(db.Integer)  # refresh tokens: when it was exchanged for a new one

    grant = db.relationship("Grant", lazy="joined")  # revocation is checked on every use

    # --- Authlib TokenMixin --------------------------------------------------
    def check_client(self, client):
        return self.client_id == client.client_id

    def get_scope(self):
        return self.scope

    def get_expires_in(self):
        return max(0, self.expires_at - self.issued_at)

    def is_expired(self):
        return self.expires_at <= now()

    def is_revoked(self):
        return bool(self.revoked_at or self.rotated_at or (self.grant is not None and self.grant.revoked_at))

    def is_active(self) -> bool:
        return not self.is_expired() and not self.is_revoked()
