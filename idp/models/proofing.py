"""Identity proofing records: the append-only evidence ledger and the synthetic national services."""
from __future__ import annotations

import uuid

from sqlalchemy import event
from sqlalchemy.orm import Session

from ..clock import now
from ..extensions import db


class Evidence(db.Model):
    """One check of who a person is: who or what checked, when, by which route, and what it found.

    Append-only (the listeners below refuse updates and deletes through the ORM): a level is explained
    by replaying these rows. Holds the PDS record's NHS number and version and a document type, never an
    image and never the demographics themselves (issue 8).
    """

    __tablename__ = "proofing_evidence"

    id = db.Column(db.String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    person_id = db.Column(db.String(36), db.ForeignKey("person.id", ondelete="CASCADE"), nullable=False, index=True)
    at = db.Column(db.Integer, nullable=False, default=now)
    seq = db.Column(db.Integer, nullable=False)  # the row's place in the person's ledger (1, 2, ...): order within a second
    route = db.Column(db.String(40), nullable=False)  # demographics, gp_online, fast_track, operator, pds_refresh...
    outcome = db.Column(db.String(30), nullable=False)  # matched, not_matched, refused, changed, level_set...
    level = db.Column(db.String(2))  # the level this evidence supports, when it supports one
    checked_by = db.Column(db.String(80), nullable=False)  # pds:synthetic, gp_system:simulator, operator:cli...
    nhs_number = db.Column(db.String(10))
    pds_version = db.Column(db.String(20))
    document_type = db.Column(db.String(40))
    staff_member = db.Column(db.String(36))
    detail = db.Column(db.JSON, nullable=False, default=dict)  # non-personal facts: method, reason, fields changed


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state):
    # query.update()/delete() bypass the mapper events below; the ledger refuses them too.
    if (state.is_update or state.is_delete) and state.bind_mapper is not None and state.bind_mapper.class_ is Evidence:
        raise RuntimeError("evidence is append-only")


@event.listens_for(Evidence, "before_update")
def _refuse_update(mapper, connection, target):
    raise RuntimeError("evidence is append-only")


@event.listens_for(Evidence, "before_delete")
def _refuse_delete(mapper, connection, target):
    raise RuntimeError("evidence is append-only")


class SyntheticPatient(db.Model):
    """A FHIR R4 Patient of the synthetic PDS (development and sandpit), as ``idp pds load`` stored it."""

    __tablename__ = "synthetic_patient"

    nhs_number = db.Column(db.String(10), primary_key=True)
    birthdate = db.Column(db.String(10), index=True)  # the search key every PDS search carries
    resource = db.Column(db.JSON, nullable=False)


class SyntheticGpAccount(db.Model):
    """A GP online services account of the GP system simulator, seeded from the same synthetic set."""

    __tablename__ = "synthetic_gp_account"

    ods_code = db.Column(db.String(10), primary_key=True)
    account_id = db.Column(db.String(40), primary_key=True)
    nhs_number = db.Column(db.String(10), nullable=False, index=True)
    linkage_key = db.Column(db.String(60), nullable=False)
    id_checked_on = db.Column(db.String(10))  # YYYY-MM-DD of an earlier GP online ID check (fast-track)


class PhotoIdSubmission(db.Model):
    """One attempt at P9 with photo ID (journeys.md routes 2 and 3): a face scan or a video for review.

    ``status`` moves started -> checking (face scan, with the vendor) or waiting (video, in the ID
    checking team's queue) -> a decision (approved, rejected, matched, not_matched, poor_image) or
    expired or withdrawn. The media are separate rows, deleted when a decision is made or it expires.
    """

    __tablename__ = "photo_id_submission"

    id = db.Column(db.String(36), primary_key=True, default=lambda: str(uuid.uuid4()))
    person_id = db.Column(db.String(36), db.ForeignKey("person.id", ondelete="CASCADE"), nullable=False, index=True)
    route = db.Column(db.String(20), nullable=False)  # photo_id_face_scan | photo_id_video
    document_type = db.Column(db.String(40))
    status = db.Column(db.String(20), nullable=False, default="started", index=True)
    digits = db.Column(db.String(4))  # the video's random digits, new for each attempt
    language = db.Column(db.String(5), nullable=False, default="en")  # for the email that tells the outcome
    client_id = db.Column(db.String(64))  # the service the person came from: the email links back to it
    created_at = db.Column(db.Integer, nullable=False, default=now)
    submitted_at = db.Column(db.Integer)
    due_at = db.Column(db.Integer, index=True)  # the review's target time (2 hours after submission)
    expires_at = db.Column(db.Integer, nullable=False, index=True)  # media deleted by then, decided or not
    claimed_by = db.Column(db.String(36))  # the reviewer holding it now
    claim_expires_at = db.Column(db.Integer)
    decided_by = db.Column(db.String(36))  # staff member, or the vendor's name
    decided_at = db.Column(db.Integer)
    reason = db.Column(db.String(40))  # a rejection's reason code
    vendor_reference = db.Column(db.String(80), unique=True)


class ProofingMedia(db.Model):
    """A photo or video of a submission, encrypted at rest (AES-GCM, a key derived for media only)."""

    __tablename__ = "proofing_media"

    submission_id = db.Column(db.String(36), db.ForeignKey("photo_id_submission.id", ondelete="CASCADE"),
                              primary_key=True)
    kind = db.Column(db.String(10), primary_key=True)  # document | face | video
    content_type = db.Column(db.String(40), nullable=False)
    size = db.Column(db.Integer, nullable=False)
    width = db.Column(db.Integer)
    height = db.Column(db.Integer)
    sealed = db.Column(db.LargeBinary, nullable=False)  # nonce + ciphertext; never the upload's bytes
    created_at = db.Column(db.Integer, nullable=False, default=now)
