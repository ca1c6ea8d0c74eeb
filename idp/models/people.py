"""A person who logs in: their account, proofing level and verified demographics."""
from __future__ import annotations

import uuid

from ..clock import now
from ..extensions import db


class Person(db.Model):
    __tablename__ = "person"

    id = db.Column(db.String(36), primary_key=True, default=lambda: str(uuid.uuid4()))  # the public `sub`
    email = db.Column(db.String(320), nullable=False, unique=True)
    email_verified = db.Column(db.Boolean, nullable=False, default=False)
    password_hash = db.Column(db.String(200))
    phone_number = db.Column(db.String(20))
    phone_number_verified = db.Column(db.Boolean, nullable=False, default=False)
    phone_number_pds_matched = db.Column(db.Boolean, nullable=False, default=False)
    landline_number = db.Column(db.String(20))
    landline_number_verified = db.Column(db.Boolean, nullable=False, default=False)
    proofing_level = db.Column(db.String(2), nullable=False, default="P0")
    nhs_number = db.Column(db.String(10), index=True, unique=True)  # one NHS number, at most one account
    pds_version = db.Column(db.String(20))  # the PDS record version the demographics were taken from
    pds_restricted = db.Column(db.Boolean, nullable=False, default=False)  # meta.security R: no address or GP
    gp_credentials = db.Column(db.Text)  # sealed JSON {gp_user_id, gp_linkage_key, gp_ods_code}
    given_name = db.Column(db.String(200))
    family_name = db.Column(db.String(200))
    birthdate = db.Column(db.String(10))  # YYYY-MM-DD
    postcode = db.Column(db.String(10))
    gp_ods_code = db.Column(db.String(10))
    is_test_person = db.Column(db.Boolean, nullable=False, default=False)
    test_person_of = db.Column(db.String(36), index=True)  # the portal organisation that made this test person
    created_at = db.Column(db.Integer, nullable=False, default=now)
    updated_at = db.Column(db.Integer, nullable=False, default=now, onupdate=now)

    @staticmethod
    def normalise_email(email: str) -> str:
        """NFKC, trimmed and case-folded, so look-alike spellings cannot make a second account."""
        # Imported here: idp.authentication's __init__ loads the sessions, which load these models.
        from ..authentication.email_address import normalise_email

        return normalise_email(email)
