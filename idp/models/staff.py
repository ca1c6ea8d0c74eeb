"""The staff area's records: staff accounts, their server-side sessions, and the append-only audit of their actions."""
from __future__ import annotations

import uuid

from sqlalchemy import JSON

from ..clock import now
from ..extensions import db
from .append_only import append_only


class StaffMember(db.Model):
    """Someone who works in the staff area (ID checking team, health professional, admin): never a patient."""

    __tablename__ = "staff_members"

    id = db.Column(db.String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    email = db.Column(db.String(254), nullable=False, unique=True)  # lower-case (normalise_email)
    roles = db.Column(JSON, nullable=False, default=list)  # idp.staff.access.ROLES
    ods_codes = db.Column(JSON, nullable=False, default=list, server_default="[]")  # organisations they act for
    password_hash = db.Column(db.String(255))  # argon2id; None until set up
    totp_secret_sealed = db.Column(db.Text)  # Fernet with the idp-staff-authenticator key
    totp_last_used_step = db.Column(db.Integer)  # RFC 6238 5.2: no step at or before this is accepted again
    totp_failures = db.Column(db.Integer, nullable=False, default=0, server_default="0")  # wrong codes in a row
    status = db.Column(db.String(10), nullable=False, default="invited")  # invited | active | disabled
    set_up_token_hash = db.Column(db.String(64), unique=True)  # SHA-256 of the one-time set-up link's token
    set_up_expires_at = db.Column(db.Integer)
    created_at = db.Column(db.Integer, nullable=False, default=now)
    last_login_at = db.Column(db.Integer)


class StaffSession(db.Model):
    """A staff browser session; the cookie holds a random key, the row is found by its SHA-256."""

    __tablename__ = "staff_sessions"

    key_hash = db.Column(db.String(64), primary_key=True)
    staff_member_id = db.Column(db.String(36), db.ForeignKey("staff_members.id", ondelete="CASCADE"), index=True)
    data = db.Column(JSON, nullable=False, default=dict)  # CSRF token, a login waiting for its second factor
    created_at = db.Column(db.Integer, nullable=False, default=now)
    last_seen_at = db.Column(db.Integer, nullable=False, default=now)
    expires_at = db.Column(db.Integer, nullable=False, index=True)  # absolute: activity never moves it


class StaffAuditEvent(db.Model):
    """Who did what, to which person, when, from where: append-only (refused below), ids only, no personal data."""

    __tablename__ = "staff_audit"

    seq = db.Column(db.Integer, primary_key=True, autoincrement=True)  # the order of events within a second
    id = db.Column(db.String(36), nullable=False, unique=True, default=lambda: str(uuid.uuid4()))
    at = db.Column(db.Integer, nullable=False, default=now, index=True)
    # No foreign keys: the record outlives the accounts and people it names.
    staff_member_id = db.Column(db.String(36), index=True)
    staff_email = db.Column(db.String(254))
    action = db.Column(db.String(60), nullable=False)
    person_id = db.Column(db.String(36), index=True)
    subject = db.Column(db.String(80))  # what was acted on besides a person: a submission id, a staff member id
    detail = db.Column(JSON, nullable=False, default=dict)
    source = db.Column(db.String(64))  # the request's source address


append_only(StaffAuditEvent, "staff audit")
