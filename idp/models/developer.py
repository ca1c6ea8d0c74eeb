"""The integrator portal's records (issue 11): organisations, their members and sessions, the services they
connect, requests for a client in integration or live awaiting approval, and the append-only audit."""
from __future__ import annotations

import uuid

from sqlalchemy import JSON

from ..clock import now
from ..extensions import db
from .append_only import append_only


def _uuid() -> str:
    return str(uuid.uuid4())


class Organisation(db.Model):
    """An integrator's organisation, named by its ODS code or its company number."""

    __tablename__ = "developer_organisation"

    id = db.Column(db.String(36), primary_key=True, default=_uuid)
    name = db.Column(db.String(200), nullable=False)
    identifier_kind = db.Column(db.String(20), nullable=False)  # ods_code | company_number
    identifier = db.Column(db.String(20), nullable=False)
    contact_name = db.Column(db.String(200), nullable=False)
    contact_email = db.Column(db.String(254), nullable=False)
    created_at = db.Column(db.Integer, nullable=False, default=now)


class Integrator(db.Model):
    """A member of an organisation who uses the portal (an ``idp.areas`` account: password, authenticator app)."""

    __tablename__ = "developer_member"

    id = db.Column(db.String(36), primary_key=True, default=_uuid)
    organisation_id = db.Column(db.String(36), db.ForeignKey("developer_organisation.id", ondelete="CASCADE"),
                                nullable=False, index=True)
    email = db.Column(db.String(254), nullable=False, unique=True)  # lower-case (normalise_email)
    password_hash = db.Column(db.String(255))
    totp_secret_sealed = db.Column(db.Text)  # Fernet with the idp-developer-authenticator key
    totp_last_used_step = db.Column(db.Integer)
    totp_failures = db.Column(db.Integer, nullable=False, default=0, server_default="0")
    status = db.Column(db.String(10), nullable=False, default="invited")  # invited | active | disabled
    set_up_token_hash = db.Column(db.String(64), unique=True)
    set_up_expires_at = db.Column(db.Integer)
    invited_by = db.Column(db.String(36))  # the member who invited them; None for whoever signed up
    created_at = db.Column(db.Integer, nullable=False, default=now)
    last_login_at = db.Column(db.Integer)


class IntegratorSession(db.Model):
    """A portal browser session; the cookie holds a random key, the row is found by its SHA-256."""

    __tablename__ = "developer_session"

    key_hash = db.Column(db.String(64), primary_key=True)
    member_id = db.Column(db.String(36), db.ForeignKey("developer_member.id", ondelete="CASCADE"), index=True)
    data = db.Column(JSON, nullable=False, default=dict)
    created_at = db.Column(db.Integer, nullable=False, default=now)
    last_seen_at = db.Column(db.Integer, nullable=False, default=now)
    expires_at = db.Column(db.Integer, nullable=False, index=True)


class Service(db.Model):
    """What an organisation connects: its purpose, who it serves and the level it believes it needs."""

    __tablename__ = "developer_service"

    id = db.Column(db.String(36), primary_key=True, default=_uuid)
    organisation_id = db.Column(db.String(36), db.ForeignKey("developer_organisation.id", ondelete="CASCADE"),
                                nullable=False, index=True)
    name = db.Column(db.String(200), nullable=False)
    purpose = db.Column(db.Text, nullable=False)
    audience = db.Column(db.Text, nullable=False)  # who it serves
    proofing_level = db.Column(db.String(2), nullable=False)  # P0 | P5 | P9
    vectors = db.Column(JSON, nullable=False, default=list)
    created_at = db.Column(db.Integer, nullable=False, default=now)


class ClientRequest(db.Model):
    """A client in integration or live asked for (new, or beyond what is approved), until an admin decides."""

    __tablename__ = "developer_client_request"

    id = db.Column(db.String(36), primary_key=True, default=_uuid)
    service_id = db.Column(db.String(36), db.ForeignKey("developer_service.id", ondelete="CASCADE"),
                           nullable=False, index=True)
    environment = db.Column(db.String(20), nullable=False)
    client_id = db.Column(db.String(64))  # the client it changes; for a new one, set when approved
    fields = db.Column(JSON, nullable=False)  # registration fields (idp.protocol.registration names)
    key = db.Column(JSON)  # {"public_key_pem"|"jwks"|"jwks_uri": ...} for a new client
    flags = db.Column(JSON, nullable=False, default=list)  # what carries more risk (idp.developer.approval)
    reason = db.Column(db.Text)  # the integrator's reason, needed when anything is flagged
    status = db.Column(db.String(10), nullable=False, default="pending", index=True)  # pending|approved|rejected|withdrawn
    requested_by = db.Column(db.String(36), nullable=False)
    requested_at = db.Column(db.Integer, nullable=False, default=now)
    decided_by = db.Column(db.String(36))  # staff member id
    decided_at = db.Column(db.Integer)
    decision_note = db.Column(db.Text)  # the admin's reason, required for a rejection and for approving flags


class DeveloperAuditEvent(db.Model):
    """Everything done in or to an organisation's portal account: append-only, ids only."""

    __tablename__ = "developer_audit"

    seq = db.Column(db.Integer, primary_key=True, autoincrement=True)
    id = db.Column(db.String(36), nullable=False, unique=True, default=_uuid)
    at = db.Column(db.Integer, nullable=False, default=now, index=True)
    organisation_id = db.Column(db.String(36), index=True)  # no foreign keys: the record outlives what it names
    actor_id = db.Column(db.String(36))
    actor = db.Column(db.String(260))  # an integrator's email, "staff:<email>" or "operator:cli"
    action = db.Column(db.String(60), nullable=False)
    subject = db.Column(db.String(80))  # a client id, a request id, a member id
    detail = db.Column(JSON, nullable=False, default=dict)
    source = db.Column(db.String(64))


append_only(DeveloperAuditEvent, "integrator audit")
