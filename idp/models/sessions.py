"""A browser session kept server-side; the cookie holds only a random key.

The row is found by the SHA-256 of the cookie value, so a copy of the table
cannot be replayed as cookies.
"""
from __future__ import annotations

from sqlalchemy import JSON

from ..clock import now
from ..extensions import db


class BrowserSession(db.Model):
    __tablename__ = "browser_session"

    key_hash = db.Column(db.String(64), primary_key=True)
    sid = db.Column(db.String(64), nullable=False, unique=True)  # public id, used in logout tokens
    person_id = db.Column(db.String(36), db.ForeignKey("person.id", ondelete="CASCADE"), index=True)
    auth_time = db.Column(db.Integer)
    components = db.Column(JSON, nullable=False, default=list)  # authentication components achieved: Cp, Cd...
    component_times = db.Column(JSON)  # component -> when it was last proven (auth_time is the latest)
    data = db.Column(JSON, nullable=False, default=dict)
    created_at = db.Column(db.Integer, nullable=False, default=now)
    updated_at = db.Column(db.Integer, nullable=False, default=now)
    expires_at = db.Column(db.Integer, nullable=False, index=True)
