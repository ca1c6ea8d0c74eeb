"""GP practice systems behind one interface: GP online services accounts and their earlier ID checks.

The ``simulator`` adapter reads accounts seeded from the synthetic PDS set (``idp pds load``); a
supplier's adapter (EMIS, TPP) implements the same two questions. ``none`` offers no GP route.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class GpSystemUnavailable(Exception):
    """The GP system could not answer: try again later, and record nothing as a failed check."""


@dataclass(frozen=True)
class GpOnlineAccount:
    """A patient's GP online services account (journeys.md P9 route 4)."""

    nhs_number: str
    ods_code: str  # the practice
    account_id: str  # released as gp_user_id
    linkage_key: str  # secret: released only as gp_integration_credentials, never logged
    id_checked_on: str | None  # YYYY-MM-DD of the practice's earlier ID check (fast-track), if any


class GpSystem(Protocol):
    def find_account(self, *, ods_code: str, account_id: str, linkage_key: str) -> GpOnlineAccount | None:
        """The account these registration details open, or None (wrong details read the same)."""

    def accounts_of(self, nhs_number: str) -> list[GpOnlineAccount]:
        """The GP online accounts of this NHS number (fast-track asks for an earlier ID check)."""


def gp_system(settings) -> GpSystem | None:
    """The adapter ``IDP_GP_SYSTEM_ADAPTER`` names; None when no GP system is connected."""
    if settings.gp_system_adapter == "simulator":
        from .simulator import GpSystemSimulator

        return GpSystemSimulator()
    return None
