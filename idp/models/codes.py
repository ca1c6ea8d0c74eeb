"""One-time security codes and remembered devices: the records behind the ``Cd`` component."""
from __future__ import annotations

from ..clock import now
from ..extensions import db


class OneTimeCode(db.Model):
    """A 6-digit code sent for one purpose, to one destination, inside one journey (an interaction)."""

    __tablename__ = "one_time_code"

    id = db.Column(db.String(32), primary_key=True)
    purpose = db.Column(db.String(30), nullable=False)  # login, confirm_email, confirm_phone, reset_password...
    journey = db.Column(db.String(64), nullable=False, index=True)  # the interaction it was sent for
    destination_hash = db.Column(db.String(64), nullable=False, index=True)  # HMAC of the address: no clear text
    code_hash = db.Column(db.String(64), nullable=False)  # HMAC of the code
    created_at = db.Column(db.Integer, nullable=False, default=now, index=True)
    expires_at = db.Column(db.Integer, nullable=False, index=True)
    used_at = db.Column(db.Integer)


class RememberedDevice(db.Model):
    """A browser the person asked us to remember, so it stands for ``Cd`` together with the password."""

    __tablename__ = "remembered_device"

    id = db.Column(db.String(32), primary_key=True)
    person_id = db.Column(db.String(36), db.ForeignKey("person.id", ondelete="CASCADE"), nullable=False, index=True)
    token_hash = db.Column(db.String(64), nullable=False)
    label = db.Column(db.String(120), nullable=False)  # what the person sees: browser and system, from User-Agent
    created_at = db.Column(db.Integer, nullable=False, default=now)
    last_used_at = db.Column(db.Integer, nullable=False, default=now, index=True)


class FactorFailures(db.Model):
    """Consecutive failures of one authenticator; at the limit it is unusable until reset (NIST 800-63B 3.2.2)."""

    __tablename__ = "factor_failures"

    person_id = db.Column(db.String(36), db.ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    component = db.Column(db.String(2), primary_key=True)
    count = db.Column(db.Integer, nullable=False, default=0)
