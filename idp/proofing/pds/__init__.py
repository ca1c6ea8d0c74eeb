"""The Personal Demographics Service (PDS) behind one interface, with two adapters.

``synthetic`` (the default in development and sandpit) reads FHIR R4 ``Patient`` resources loaded with
``idp pds load``; ``fhir`` talks to a PDS FHIR R4 API. Both return ``PdsRecord`` values built by
``pds.fhir.record_from_patient``, so matching never sees an adapter's own shapes (journeys.md
"Synthetic national services").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class PdsUnavailable(Exception):
    """PDS could not answer (timeout, 5xx, circuit open, a body that is not FHIR): try again later.

    Never a failed match: nothing about the person is recorded when this is raised (issue 8).
    """


@dataclass(frozen=True)
class PdsName:
    given: tuple[str, ...]
    family: str
    current: bool = True  # False for a previous name (FHIR HumanName.use "old", or a period that ended)


@dataclass(frozen=True)
class PdsRecord:
    """What the provider may use of one PDS record: the matching facts and the claims, nothing else."""

    nhs_number: str
    version: str  # meta.versionId: evidence says which version of the record a decision used
    names: tuple[PdsName, ...]  # the current name first, then previous names
    birthdate: str | None  # YYYY-MM-DD
    postcode: str | None  # as PDS holds it (matching normalises)
    mobile: str | None  # E.164
    landline: str | None  # E.164
    gp_ods_code: str | None
    active: bool = True
    deceased: bool = False
    restricted: bool = False  # meta.security R: address and GP are never shown or released
    replaced_by: str | None = None  # set on a superseded number's own record (Patient.link replaced-by)
    superseded: tuple[str, ...] = ()  # the older numbers followed to reach this record

    @property
    def current_name(self) -> PdsName | None:
        return next((n for n in self.names if n.current), self.names[0] if self.names else None)

    @property
    def given_name(self) -> str | None:
        name = self.current_name
        return " ".join(name.given) if name and name.given else None

    @property
    def family_name(self) -> str | None:
        name = self.current_name
        return name.family if name else None


class DemographicsService(Protocol):
    """The two questions proofing asks PDS (PDS FHIR API: read and search)."""

    def get(self, nhs_number: str) -> PdsRecord | None:
        """The record for this number, following a superseded number to its successor; None if none."""

    def search(self, *, family: str, given: str | None, birthdate: str, postcode: str | None) -> list[PdsRecord]:
        """Records that may match; the matcher decides. Never includes superseded numbers' own records."""


def demographics_service(settings) -> DemographicsService:
    """The adapter ``IDP_PDS_ADAPTER`` names (``synthetic`` or ``fhir``)."""
    if settings.pds_adapter == "fhir":
        from .fhir_client import FhirPds

        return FhirPds.for_settings(settings)
    from .synthetic import SyntheticPds

    return SyntheticPds()
