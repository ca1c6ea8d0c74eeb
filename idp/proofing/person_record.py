"""What the claims assert about a person, taken from the PDS record proofing matched (interface.md claims).

The record is copied at the time of proofing and read again at each later login (``refresh``), so a
change in PDS reaches the claims at the next login, and is recorded as evidence when it changes them.
A restricted record's address and GP are never kept, so no claim or page can show them.
"""
from __future__ import annotations

import json
import logging

from flask import current_app

from ..extensions import db
from ..models import Person
from ..sealing import fernet
from . import evidence
from .pds import PdsUnavailable, demographics_service

log = logging.getLogger("idp.proofing")
_GP_CREDENTIALS = b"idp-gp-credentials"


def owner_of(nhs_number: str) -> str | None:
    row = db.session.query(Person.id).filter_by(nhs_number=nhs_number).first()
    return row[0] if row else None


def asserted(record) -> dict:
    """The person's columns a record sets."""
    return {
        "nhs_number": record.nhs_number,
        "given_name": record.given_name,
        "family_name": record.family_name,
        "birthdate": record.birthdate,
        "postcode": None if record.restricted else record.postcode,
        "gp_ods_code": None if record.restricted else record.gp_ods_code,
        "pds_restricted": record.restricted,
        "pds_version": record.version or None,
    }


def adopt(person, record) -> list[str]:
    """Copy the record's demographics onto the person; returns the names of the columns that changed."""
    changed = []
    for name, value in asserted(record).items():
        if getattr(person, name) != value:
            setattr(person, name, value)
            changed.append(name)
    matched = bool(person.phone_number and person.phone_number_verified and person.phone_number == record.mobile)
    if person.phone_number_pds_matched != matched:
        person.phone_number_pds_matched = matched
        changed.append("phone_number_pds_matched")
    return changed


def refresh(person, settings) -> None:
    """Read the person's PDS record again at a login; record evidence when it changes what is asserted.

    Only people proofed against PDS (who hold a record version) are re-read; if PDS cannot answer the
    login goes on with what was asserted before, and a record now gone, deceased or inactive is logged
    and changes nothing here (it needs a person to look at it, not an automatic downgrade).
    """
    if not person.pds_version or not person.nhs_number:
        return
    try:
        record = demographics_service(settings).get(person.nhs_number)
    except PdsUnavailable:
        log.warning("PDS could not be read at login; the claims stay as last proofed")
        return
    if record is None or record.deceased or not record.active:
        log.warning("the PDS record of a proofed person is gone, deceased or inactive: needs review")
        return
    if record.nhs_number != person.nhs_number and owner_of(record.nhs_number) not in (None, person.id):
        log.warning("a superseded NHS number's successor belongs to another account: needs review")
        return
    changed = adopt(person, record)
    if person.gp_credentials and (record.restricted or "nhs_number" in changed or "gp_ods_code" in changed):
        person.gp_credentials = None  # given for another record, practice or openness: not to be released
        changed.append("gp_integration_credentials")
    if not changed:
        return
    evidence.append(person.id, evidence.new(route="pds_refresh", outcome="changed", checked_by=f"pds:{settings.pds_adapter}",
                                            record=record, fields=sorted(changed)), commit=False)
    db.session.commit()


# --- GP integration credentials (interface.md gp_integration_credentials) -------------------------
def keep_gp_credentials(person, account) -> None:
    """Sealed at rest: the linkage key opens the person's GP record for approved clients."""
    value = json.dumps({"gp_user_id": account.account_id, "gp_linkage_key": account.linkage_key,
                        "gp_ods_code": account.ods_code})
    person.gp_credentials = fernet(current_app.config["SECRET_KEY"], _GP_CREDENTIALS).encrypt(value.encode()).decode()


def gp_credentials(person) -> dict | None:
    if not person.gp_credentials:
        return None
    return json.loads(fernet(current_app.config["SECRET_KEY"], _GP_CREDENTIALS).decrypt(person.gp_credentials.encode()))
