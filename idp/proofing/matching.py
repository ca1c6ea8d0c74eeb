"""Do the details a person gave match exactly one PDS record? (journeys.md "Medium (P5)")

Every refusal reads the same to the person: no record, several records, a deceased or inactive one,
or a detail that differs. ``Match.reason`` says which, for the evidence ledger only.
"""
from __future__ import annotations

from dataclasses import dataclass

from .normalise import family_key, given_keys, nhs_number_key, postcode_key
from .pds import DemographicsService, PdsRecord


@dataclass(frozen=True)
class Details:
    """What the person typed: an NHS number, or a name, with a date of birth and a postcode."""

    birthdate: str  # YYYY-MM-DD
    postcode: str
    nhs_number: str | None = None
    given: str | None = None
    family: str | None = None

    @property
    def method(self) -> str:
        return "nhs_number" if self.nhs_number else "name"


@dataclass(frozen=True)
class Match:
    record: PdsRecord | None
    reason: str  # matched, no_record, several_records, deceased, inactive, details_differ

    @property
    def matched(self) -> bool:
        return self.record is not None


def name_matches(record: PdsRecord, given: str | None, family: str | None) -> bool:
    """The family name of the current or a previous name, and the given names as typed from the first.

    ``Mary`` and ``Mary Ann`` match ``Mary Ann Louise``; ``Ann`` does not; a maiden name still matches.
    """
    wanted, typed = family_key(family), given_keys([given] if given else [])
    if not wanted or not typed:
        return False
    for name in record.names:
        held = given_keys(name.given)
        if family_key(name.family) == wanted and held[: len(typed)] == typed:
            return True
    return False


def _usable(record: PdsRecord) -> str | None:
    if record.deceased:
        return "deceased"
    if not record.active or record.replaced_by:
        return "inactive"
    return None


def _same_place_and_birth(record: PdsRecord, details: Details) -> bool:
    return record.birthdate == details.birthdate and postcode_key(record.postcode) == postcode_key(details.postcode)


def match(details: Details, pds: DemographicsService) -> Match:
    """Raises ``PdsUnavailable`` when PDS cannot answer: that is never a failed match."""
    if details.nhs_number:
        record = pds.get(nhs_number_key(details.nhs_number))  # follows a superseded number
        if record is None:
            return Match(None, "no_record")
        if not _same_place_and_birth(record, details):
            return Match(None, "details_differ")
        unusable = _usable(record)
        return Match(None, unusable) if unusable else Match(record, "matched")
    found = pds.search(family=details.family or "", given=details.given, birthdate=details.birthdate,
                       postcode=details.postcode)
    candidates = {r.nhs_number: r for r in found
                  if _same_place_and_birth(r, details) and name_matches(r, details.given, details.family)}
    if not candidates:
        return Match(None, "no_record")
    if len(candidates) > 1:
        return Match(None, "several_records")
    (record,) = candidates.values()
    unusable = _usable(record)
    return Match(None, unusable) if unusable else Match(record, "matched")
