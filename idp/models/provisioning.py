"""The account provisioning API's records (issue 10): requests made by staff systems for a patient, the answers
kept for their Idempotency-Keys, and the append-only audit of every call."""
from __future__ import annotations

import uuid

from sqlalchemy import JSON

from ..clock import now
from ..extensions import db
from .append_only import append_only

REQUEST_STATUSES = ("pending", "claimed", "expired", "cancelled")


class ProvisioningRequest(db.Model):
    """A staff system's request to create or uplift a patient's account to P9, until the patient claims it.

    Holds what the claim needs and no more: the NHS number and date of birth to read PDS again, the email
    the link went to, the mobile the code goes to (the one PDS holds). The link is kept only as a hash."""

    __tablename__ = "provisioning_request"

    id = db.Column(db.String(36), primary_key=True, default=lambda: str(uuid.uuid4()))  # the provisioning_id
    client_id = db.Column(db.String(64), nullable=False, index=True)
    ods_code = db.Column(db.String(8), nullable=False, index=True)
    code = db.Column(db.String(10), nullable=False)  # create | uplift
    person_id = db.Column(db.String(36))  # uplift: the account with that email
    nhs_number = db.Column(db.String(10), nullable=False, index=True)  # after following a superseded number
    birthdate = db.Column(db.String(10), nullable=False)
    email = db.Column(db.String(320), nullable=False)
    phone_number = db.Column(db.String(20), nullable=False)
    pds_version = db.Column(db.String(20))
    language = db.Column(db.String(5), nullable=False, default="en")
    status = db.Column(db.String(12), nullable=False, default="pending", index=True)
    link_hash = db.Column(db.String(64), nullable=False, unique=True)
    created_at = db.Column(db.Integer, nullable=False, default=now)
    expires_at = db.Column(db.Integer, nullable=False)
    claimed_at = db.Column(db.Integer)
    claimed_person_id = db.Column(db.String(36))
    cancelled_at = db.Column(db.Integer)
    cancelled_by = db.Column(db.String(80))  # a client_id, "operator:cli" or a staff member

    # One pending request per person: two systems racing for the same NHS number cannot both record one.
    __table_args__ = (db.Index("uq_provisioning_request_pending_nhs_number", "nhs_number", unique=True,
                               sqlite_where=db.text("status = 'pending'"),
                               postgresql_where=db.text("status = 'pending'")),)

    def status_at(self, at: int) -> str:
        """Pending until it expires; the stored status is brought up to date by housekeeping."""
        return "expired" if self.status == "pending" and self.expires_at <= at else self.status


class ProvisioningIdempotency(db.Model):
    """The first answer to a client's Idempotency-Key, returned again to every retry of the same body."""

    __tablename__ = "provisioning_idempotency"

    client_id = db.Column(db.String(64), primary_key=True)
    key = db.Column(db.String(255), primary_key=True)
    body_hash = db.Column(db.String(64), nullable=False)
    status_code = db.Column(db.Integer, nullable=False)
    response = db.Column(JSON, nullable=False)
    created_at = db.Column(db.Integer, nullable=False, default=now, index=True)


class ProvisioningAuditEvent(db.Model):
    """Every call to the provisioning API: which client, which ODS code, what outcome, when. Append-only;
    no NHS number, email, phone or date of birth (the request, while it lives, holds those)."""

    __tablename__ = "provisioning_audit"

    seq = db.Column(db.Integer, primary_key=True, autoincrement=True)
    at = db.Column(db.Integer, nullable=False, default=now, index=True)
    client_id = db.Column(db.String(64), nullable=False, index=True)
    ods_code = db.Column(db.String(8))
    operation = db.Column(db.String(20), nullable=False)  # provision | status | cancel | claim
    outcome = db.Column(db.String(20), nullable=False)  # create, uplift, or the error code
    provisioning_id = db.Column(db.String(36), index=True)
    status_code = db.Column(db.Integer)
    replayed = db.Column(db.Boolean, nullable=False, default=False)  # answered from an Idempotency-Key


append_only(ProvisioningAuditEvent, "provisioning audit")
