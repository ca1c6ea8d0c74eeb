"""The provider's own signing keys, stored encrypted; keys are data (see protocol/keys.py)."""
from __future__ import annotations

from ..clock import now
from ..extensions import db


class SigningKey(db.Model):
    __tablename__ = "signing_key"

    kid = db.Column(db.String(64), primary_key=True)
    alg = db.Column(db.String(10), nullable=False)
    private_jwk_encrypted = db.Column(db.Text, nullable=False)
    public_jwk = db.Column(db.JSON, nullable=False)
    development = db.Column(db.Boolean, nullable=False, default=False)
    created_at = db.Column(db.Integer, nullable=False, default=now)
    activates_at = db.Column(db.Integer, nullable=False)  # signs from then on
    deactivated_at = db.Column(db.Integer)  # stopped signing (a newer key took over)
    retire_at = db.Column(db.Integer)  # leaves the JWKS: no live token can need it after this
