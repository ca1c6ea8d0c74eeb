"""Staff accounts: added by an operator with a one-time set-up link, set up by the member, disabled by an admin.

A set-up link's token is stored only as its SHA-256, lasts ``SET_UP_SECONDS`` and is consumed by one
conditional UPDATE, so two tabs racing with one link cannot both set the account up.
"""
from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import update

from ..authentication.email_address import is_valid_email, normalise_email
from ..clock import now
from ..extensions import db
from ..models import StaffMember
from ..organisations import is_ods_code
from .access import ROLES
from .sessions import end_sessions_of

SET_UP_SECONDS = 72 * 3600


class StaffAccountError(ValueError):
    """The operator's request cannot be done; the message says why."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def find(email: str) -> StaffMember | None:
    return StaffMember.query.filter_by(email=normalise_email(email)).first()


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
    member.password_hash = member.totp_secret_sealed = member.totp_last_used_step = None
    member.totp_failures = 0
    member.status = "invited"
    end_sessions_of(member.id)
    return _new_link(member, settings)


def disable(member: StaffMember) -> None:
    """The member can no longer log in, and every session they have ends now; the caller commits."""
    member.status = "disabled"
    member.set_up_token_hash = member.set_up_expires_at = None
    end_sessions_of(member.id)


def _new_link(member: StaffMember, settings) -> str:
    token = secrets.token_urlsafe(32)
    member.set_up_token_hash, member.set_up_expires_at = token_hash(token), now() + SET_UP_SECONDS
    return f"{settings.issuer}/staff/set-up/{token}"


def for_set_up(token: str) -> tuple[StaffMember | None, str]:
    """The member a set-up link is for, and ``ok``, ``used``, ``expired`` or ``unknown``."""
    member = StaffMember.query.filter_by(set_up_token_hash=token_hash(token)).first() if len(token) < 100 else None
    if member is None:
        return None, "unknown"
    if member.status != "invited":
        return member, "used"
    if member.set_up_expires_at is None or member.set_up_expires_at <= now():
        return member, "expired"
    return member, "ok"


def complete_set_up(member: StaffMember, token: str, password_hash: str, sealed_secret: str, step: int) -> bool:
    """Consume the link and make the member active with this password and authenticator; the caller commits."""
    done = db.session.execute(
        update(StaffMember)
        .where(StaffMember.id == member.id, StaffMember.set_up_token_hash == token_hash(token),
               StaffMember.status == "invited", StaffMember.set_up_expires_at > now())
        .values(status="active", password_hash=password_hash, totp_secret_sealed=sealed_secret,
                totp_last_used_step=step, last_login_at=now())
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if done:
        db.session.refresh(member)
    return done
