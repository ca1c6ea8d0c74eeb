"""Staff accounts: added by an operator with a one-time set-up link (``idp.areas.accounts``), set up by the
member, disabled by an admin."""
from __future__ import annotations

from ..authentication.email_address import is_valid_email, normalise_email
from ..areas import accounts, factors
from ..clock import now
from ..extensions import db
from ..models import StaffMember
from ..organisations import is_ods_code
from .access import ROLES
from .area import STAFF


class StaffAccountError(ValueError):
    """The operator's request cannot be done; the message says why."""


def find(email: str) -> StaffMember | None:
    return factors.find(STAFF, email)


def ods_codes_of(values) -> list[str]:
    """The ODS codes a member acts for (provisioning from the staff area), checked; ``StaffAccountError`` if not."""
    codes = [str(v).strip().upper() for v in values or ()]
    wrong = [c for c in codes if not is_ods_code(c)]
    if wrong:
        raise StaffAccountError(f"--ods-code must be an ODS code, like A12345 (got {', '.join(wrong)[:60]})")
    return list(dict.fromkeys(codes))


def add(email: str, roles: list[str], settings, ods_codes=()) -> tuple[StaffMember, str]:
    """A new invited member with these roles and their set-up link; the caller commits."""
    address = normalise_email(email)
    if not is_valid_email(address):
        raise StaffAccountError(f"{email!r} is not a valid email address")
    unknown = [role for role in roles if role not in ROLES]
    if unknown or not roles:
        raise StaffAccountError(f"--role must be one of {', '.join(ROLES)} (got {', '.join(unknown) or 'none'})")
    if find(address) is not None:
        raise StaffAccountError(f"{address} is already a staff member (use `idp staff reset` for a new set-up link)")
    member = StaffMember(email=address, roles=sorted(set(roles), key=ROLES.index), status="invited", created_at=now(),
                         ods_codes=ods_codes_of(ods_codes))
    db.session.add(member)
    return member, _new_link(member, settings)


def reset(member: StaffMember, settings) -> str:
    """Start again: no password, no authenticator, sessions ended, a new set-up link; the caller commits."""
    return accounts.reset(STAFF, member, settings)


def disable(member: StaffMember) -> None:
    """The member can no longer log in, and every session they have ends now; the caller commits."""
    accounts.disable(STAFF, member)


def _new_link(member: StaffMember, settings) -> str:
    return accounts.new_link(STAFF, member, settings)


def for_set_up(token: str) -> tuple[StaffMember | None, str]:
    """The member a set-up link is for, and ``ok``, ``used``, ``expired`` or ``unknown``."""
    return accounts.for_set_up(STAFF, token)
