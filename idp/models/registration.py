"""Records for client self-service: initial access tokens (RFC 7591 section 3) and pushed requests (RFC 9126)."""
from sqlalchemy import JSON

from ..clock import now
from ..extensions import db


class InitialAccessToken(db.Model):
    """Lets its holder register clients at /register in one environment (sandpit self-service)."""

    __tablename__ = "initial_access_token"

    token_hash = db.Column(db.String(64), primary_key=True)
    environment = db.Column(db.String(20), nullable=False, default="sandpit")
    description = db.Column(db.String(200))
    # Defaults for clients registered with it, e.g. {"pkce": "optional", "nonce": "optional"} for a conformance
    # suite that sends neither; a client's own metadata still wins.
    client_defaults = db.Column(JSON, nullable=False, default=dict)
    created_at = db.Column(db.Integer, nullable=False, default=now)
    expires_at = db.Column(db.Integer)  # None: until revoked
    revoked_at = db.Column(db.Integer)


class PushedAuthorizationRequest(db.Model):
    """An authorization request pushed to /par, referenced once by its request_uri."""

    __tablename__ = "pushed_authorization_request"

    id = db.Column(db.String(64), primary_key=True)  # the random part of urn:ietf:params:oauth:request_uri:<id>
    client_id = db.Column(db.String(64), db.ForeignKey("client.client_id", ondelete="CASCADE"), nullable=False)
    params = db.Column(JSON, nullable=False)
    created_at = db.Column(db.Integer, nullable=False, default=now)
    expires_at = db.Column(db.Integer, nullable=False)
    used_at = db.Column(db.Integer)
