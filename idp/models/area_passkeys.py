"""Passkeys of the signed-in areas' members (staff, integrators): the second factor after the password, in
place of an authenticator app (WebAuthn Level 3 "credential record", 4). Never a patient's ``Passkey``."""
from __future__ import annotations

from sqlalchemy import JSON

from ..clock import now
from ..extensions import db


class AreaPasskey(db.Model):
    __tablename__ = "area_passkey"

    id = db.Column(db.String(32), primary_key=True)
    area = db.Column(db.String(20), nullable=False)  # idp.areas.Area.name: staff | developer
    member_id = db.Column(db.String(36), nullable=False, index=True)  # the area's member (no FK: two tables)
    user_handle = db.Column(db.String(88), nullable=False)  # L3 5.4.3 user.id: random, the same for a member's keys
    credential_id = db.Column(db.String(1400), nullable=False, unique=True)  # base64url; L3 7.1: <= 1023 bytes
    public_key = db.Column(db.LargeBinary, nullable=False)  # COSE_Key
    sign_count = db.Column(db.BigInteger, nullable=False, default=0)
    transports = db.Column(JSON, nullable=False, default=list)
    backup_eligible = db.Column(db.Boolean, nullable=False, default=False)
    backed_up = db.Column(db.Boolean, nullable=False, default=False)
    name = db.Column(db.String(60), nullable=False)
    created_at = db.Column(db.Integer, nullable=False, default=now)
    last_used_at = db.Column(db.Integer)
