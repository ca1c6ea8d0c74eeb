"""One-time set-up links for an area's accounts: stored only as the token's SHA-256, lasting ``SET_UP_SECONDS``,
consumed by one conditional UPDATE so two tabs racing with one link cannot both set the account up."""
from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import update

from ..clock import now
from ..extensions import db
from .area import Area
from .sessions import end_sessions_of

SET_UP_SECONDS = 72 * 3600


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_link(area: Area, member, settings) -> str:
    """A fresh set-up link for ``member`` (any earlier one stops working); the caller commits."""
    token = secrets.token_urlsafe(32)
    member.set_up_token_hash, member.set_up_expires_at = token_hash(token), now() + SET_UP_SECONDS
    return f"{settings.issuer}{area.set_up_path}/{token}"


def reset(area: Area, member, settings) -> str:
    """Start again: no password, no authenticator app or passkey, sessions ended, a new set-up link; the caller
    commits."""
    from ..models import AreaPasskey

    AreaPasskey.query.filter_by(area=area.name, member_id=member.id).delete(synchronize_session=False)
    member.password_hash = member.totp_secret_sealed = member.totp_last_used_step = None
    member.totp_failures = 0
    member.status = "invited"
    end_sessions_of(area, member.id)
    return new_link(area, member, settings)


def disable(area: Area, member) -> None:
    """The member can no longer log in, and every session they have ends now; the caller commits."""
    member.status = "disabled"
    member.set_up_token_hash = member.set_up_expires_at = None
    end_sessions_of(area, member.id)


def for_set_up(area: Area, token: str):
    """The member a set-up link is for, and ``ok``, ``used``, ``expired`` or ``unknown``."""
    model = area.member_model
    member = model.query.filter_by(set_up_token_hash=token_hash(token)).first() if len(token) < 100 else None
    if member is None:
        return None, "unknown"
    if member.status != "invited":
        return member, "used"
    if member.set_up_expires_at is None or member.set_up_expires_at <= now():
        return member, "expired"
    return member, "ok"


def complete_set_up(area: Area, member, token: str, password_hash: str, sealed_secret: str, step: int) -> bool:
    """Consume the link and make the member active with this password and authenticator; the caller commits."""
    model = area.member_model
    done = db.session.execute(
        update(model)
        .where(model.id == member.id, model.set_up_token_hash == token_hash(token), model.status == "invited",
               model.set_up_expires_at > now())
        .values(status="active", password_hash=password_hash, totp_secret_sealed=sealed_secret,
                totp_last_used_step=step, last_login_at=now())
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if done:
        db.session.refresh(member)
    return done
