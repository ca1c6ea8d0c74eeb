"""What a person agreed to share with a client, remembered until withdrawn."""
from __future__ import annotations

from sqlalchemy import JSON

from ..clock import now
from ..extensions import db


class Consent(db.Model):
    __tablename__ = "consent"

    person_id = db.Column(db.String(36), db.ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    client_id = db.Column(db.String(64), db.ForeignKey("client.client_id", ondelete="CASCADE"), primary_key=True)
    scopes = db.Column(JSON, nullable=False, default=list)
    claims = db.Column(JSON, nullable=False, default=list)
    granted_at = db.Column(db.Integer, nullable=False, default=now)


class ClientUserMetadata(db.Model):
    """``client_user_metadata``: a string a client keeps about a person (PATCH /userinfo)."""

    __tablename__ = "client_user_metadata"

    person_id = db.Column(db.String(36), db.ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    client_id = db.Column(db.String(64), db.ForeignKey("client.client_id", ondelete="CASCADE"), primary_key=True)
    value = db.Column(db.String(1024), nullable=False)
    updated_at = db.Column(db.Integer, nullable=False, default=now, onupdate=now)
