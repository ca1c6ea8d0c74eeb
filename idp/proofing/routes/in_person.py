"""High level (P9) in person: a health professional who knows the person and can see their record
confirms who they are, from a staff page (journeys.md "In person").

Started by staff, not chosen by the person, so it is not on the choice page (not registered). The
professional finds the account by NHS number and sees only what confirming needs: the name and
date of birth of the PDS record and the account's email, masked. PDS is read again, so a record
that is no longer active, or belongs to someone who has died, is not verified.
"""
from __future__ import annotations

from dataclasses import dataclass

from ...extensions import db
from ...levels import ProofingLevel
from ...models import Person
from ...organisations import ODS_CODE
from .. import evidence
from ..pds import PdsUnavailable, demographics_service
from . import Outcome, Result, raised

NAME = "in_person"


@dataclass(frozen=True)
class Found:
    person: Person
    name: str
    birthdate: str
    masked_email: str
    level: str


def mask_email(email: str) -> str:
    """``j***@example.com``: enough for the person to recognise, not enough to learn an address."""
    local, _, domain = (email or "").partition("@")
    return f"{local[:1]}***@{domain}" if local and domain else "***"


def find(nhs_number: str) -> Found | None:
    """The account linked to this NHS number, as the professional may see it; None if there is none."""
    person = Person.query.filter_by(nhs_number=nhs_number).first()
    if person is None:
        return None
    name = " ".join(part for part in (person.given_name, person.family_name) if part)
    return Found(person, name, person.birthdate or "", mask_email(person.email), person.proofing_level)


def verify(person: Person, *, staff_id: str, staff_email: str, ods_code: str, settings) -> Result:
    """Raise ``person`` to P9 on a health professional's confirmation; ``ods_code`` is their organisation."""
    if not ODS_CODE.match(ods_code or ""):
        raise ValueError("an ODS code is 3 to 8 letters and numbers")
    if ProofingLevel[person.proofing_level] != ProofingLevel.P5 or not person.nhs_number:
        return Result(Outcome.NOT_OFFERED)  # P9 already, or not yet matched to a record (P5 first)
    try:
        record = demographics_service(settings).get(person.nhs_number)
    except PdsUnavailable:
        return Result(Outcome.UNAVAILABLE)
    if record is None or record.deceased or not record.active or record.nhs_number != person.nhs_number:
        evidence.append(person.id, evidence.new(route=NAME, outcome="refused", checked_by=f"staff:{ods_code}",
                                                nhs_number=person.nhs_number, staff_member=staff_id,
                                                reviewer=staff_email, ods_code=ods_code, reason="no_usable_record"))
        return Result(Outcome.NOT_MATCHED)
    proof = evidence.new(route=NAME, outcome="verified", checked_by=f"staff:{ods_code}", level="P9", record=record,
                         staff_member=staff_id, reviewer=staff_email, ods_code=ods_code)
    result = raised(person, "P9", proof, record)
    if result.outcome is Outcome.RAISED:
        from .photo_id_video import service_link
        from ...notifications import ChannelUnavailable, send

        try:
            send("in_person_verified", person.email, "email", {"organisation": ods_code, "link": service_link(None)})
            db.session.commit()
        except ChannelUnavailable:
            pass
    return result
