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
