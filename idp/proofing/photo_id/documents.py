"""The photo ID documents accepted (journeys.md "Prove who they are" 2), as the choice page lists them."""
from __future__ import annotations

from ...i18n import N_

DOCUMENT_TYPES: dict[str, str] = {
    "passport": N_("Passport"),
    "uk_driving_licence_full": N_("UK driving licence (full)"),
    "uk_driving_licence_provisional": N_("UK driving licence (provisional)"),
    "european_driving_licence": N_("Full European driving licence"),
    "european_identity_card": N_("European national identity card"),
    "biometric_residence_permit": N_("Biometric residence permit"),
    "uk_residence_card": N_("UK residence card"),
    "eea_biometric_residence_card": N_("EEA biometric residence card"),
}


def is_accepted(document_type: str | None) -> bool:
    return document_type in DOCUMENT_TYPES
