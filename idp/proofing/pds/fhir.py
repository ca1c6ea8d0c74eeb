"""FHIR R4 ``Patient`` (as PDS serves it) to ``PdsRecord``: the one place a FHIR shape is read.

Parsed and validated with ``fhir.resources`` (R4B, which is R4 for ``Patient``), never by hand, so a
malformed resource is refused the same way from a file and from the HTTP API.
"""
from __future__ import annotations

from datetime import date

import phonenumbers
from fhir.resources.R4B.patient import Patient
from pydantic import ValidationError

from . import PdsName, PdsRecord

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
CONFIDENTIALITY_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"


class NotAPatient(ValueError):
    """The resource is not a valid FHIR Patient of the shape PDS serves."""


def parse_patient(resource: dict) -> Patient:
    if not isinstance(resource, dict) or resource.get("resourceType") != "Patient":
        raise NotAPatient("not a FHIR Patient resource")
    try:
        return Patient.model_validate(resource)
    except ValidationError as exc:
        raise NotAPatient(f"not a valid FHIR Patient: {exc.error_count()} problem(s), first: "
                          f"{exc.errors()[0].get('msg')}") from None


def _nhs_number(patient: Patient) -> str:
    for identifier in patient.identifier or []:
        if identifier.system == NHS_NUMBER_SYSTEM and identifier.value:
            return identifier.value
    if patient.id:
        return patient.id  # PDS uses the NHS number as the resource id
    raise NotAPatient("the Patient has no NHS number")


def _names(patient: Patient) -> tuple[PdsName, ...]:
    today = date.today().isoformat()
    current, previous = [], []
    for name in patient.name or []:
        if not name.family:
            continue
        ended = name.period is not None and name.period.end is not None and str(name.period.end)[:10] < today
        entry = PdsName(given=tuple(g for g in (name.given or []) if g), family=name.family,
                        current=not (name.use == "old" or ended))
        (current if entry.current else previous).append(entry)
    return tuple(current + previous)


def _e164(value: str | None) -> str | None:
    if not value:
        return None
    try:
        number = phonenumbers.parse(value, "GB")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _phones(patient: Patient) -> tuple[str | None, str | None]:
    mobile = landline = None
    for point in patient.telecom or []:
        if point.system != "phone" or (point.period is not None and point.period.end is not None):
            continue
        number = _e164(point.value)
        if number is None:
            continue
        if point.use == "mobile":
            mobile = mobile or number
        elif point.use in ("home", "work", None):
            landline = landline or number
    return mobile, landline


def _postcode(patient: Patient) -> str | None:
    homes = [a for a in (patient.address or []) if a.use in ("home", None) and a.postalCode]
    return homes[0].postalCode if homes else None


def _gp(patient: Patient) -> str | None:
    for ref in patient.generalPractitioner or []:
        if ref.identifier is not None and ref.identifier.system == ODS_SYSTEM and ref.identifier.value:
            return ref.identifier.value
    return None


def _replaced_by(patient: Patient) -> str | None:
    for link in patient.link or []:
        if link.type == "replaced-by" and link.other is not None:
            if link.other.identifier is not None and link.other.identifier.value:
                return link.other.identifier.value
            if link.other.reference:
                return link.other.reference.rsplit("/", 1)[-1]
    return None


def record_from_patient(resource: dict | Patient) -> PdsRecord:
    """The record PDS describes; raises ``NotAPatient`` for anything else."""
    patient = resource if isinstance(resource, Patient) else parse_patient(resource)
    mobile, landline = _phones(patient)
    security = {(c.system, c.code) for c in ((patient.meta.security if patient.meta else None) or [])}
    deceased = bool(patient.deceasedBoolean) or patient.deceasedDateTime is not None
    return PdsRecord(
        nhs_number=_nhs_number(patient),
        version=str(patient.meta.versionId) if patient.meta and patient.meta.versionId else "1",
        names=_names(patient),
        birthdate=patient.birthDate.isoformat() if patient.birthDate else None,
        postcode=_postcode(patient),
        mobile=mobile,
        landline=landline,
        gp_ods_code=_gp(patient),
        active=patient.active is not False,
        deceased=deceased,
        restricted=(CONFIDENTIALITY_SYSTEM, "R") in security or any(code == "R" for _, code in security),
        replaced_by=_replaced_by(patient),
    )
