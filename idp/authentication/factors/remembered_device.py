"""A remembered browser: stands for ``Cd`` together with the password, so no security code is sent.

"Remember this device and stop sending security codes" (journeys.md): a revocable device record
behind a long-lived HttpOnly cookie holding the record's id and a random secret (only its hash is
stored). A device unused for ``FORGET_AFTER`` is forgotten; each use moves that on.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from ...clock import now
from ...events import emit
from ...extensions import db
from ...models import RememberedDevice

COOKIE = "idp_device"
FORGET_AFTER = 183 * 24 * 3600  # six months unused
MAX_DEVICES = 20  # per person: the oldest is forgotten beyond this


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def remember(person_id: str, user_agent: str) -> str:
    """Record this browser; returns the cookie value. The caller commits and sets the cookie."""
    device_id, secret = secrets.token_hex(16), secrets.token_urlsafe(32)
    db.session.add(RememberedDevice(id=device_id, person_id=person_id, token_hash=_hash(secret),
                                    label=describe(user_agent), created_at=now(), last_used_at=now()))
    extra = RememberedDevice.query.filter_by(person_id=person_id).order_by(RememberedDevice.last_used_at.desc())
    for old in extra.offset(MAX_DEVICES - 1).all():
        db.session.delete(old)
    emit("device.remembered", person_id=person_id)
    return f"{device_id}.{secret}"


def recognise(person_id: str, cookie_value: str | None) -> bool:
    """Whether this browser's cookie is a live remembered device of this person (and mark it used)."""
    if not cookie_value or len(cookie_value) > 120 or "." not in cookie_value:
        return False
    device_id, secret = cookie_value.split(".", 1)
    device = db.session.get(RememberedDevice, device_id)
    if device is None or device.person_id != person_id or not hmac.compare_digest(device.token_hash, _hash(secret)):
        return False
    if device.last_used_at <= now() - FORGET_AFTER:
        db.session.delete(device)
        db.session.commit()
        return False
    device.last_used_at = now()
    db.session.commit()
    return True


def devices_of(person_id: str) -> list[RememberedDevice]:
    live = RememberedDevice.last_used_at > now() - FORGET_AFTER
    return RememberedDevice.query.filter(RememberedDevice.person_id == person_id, live).order_by(
        RememberedDevice.last_used_at.desc()).all()


def forget(person_id: str, device_id: str | None = None) -> int:
    """Forget one device of this person, or all of them."""
    query = RememberedDevice.query.filter_by(person_id=person_id)
    if device_id is not None:
        query = query.filter_by(id=device_id)
    count = query.delete()
    db.session.commit()
    if count:
        emit("device.forgotten", person_id=person_id, count=count)
    return count


def forget_all_of(person_id: str, except_cookie: str | None = None) -> int:
    """Forget every remembered browser of a person (a new password), but the one whose cookie is given.
    The caller commits."""
    keep = except_cookie.split(".", 1)[0] if except_cookie and "." in except_cookie else None
    query = RememberedDevice.query.filter(RememberedDevice.person_id == person_id)
    if keep:
        query = query.filter(RememberedDevice.id != keep)
    return query.delete(synchronize_session=False)


def prune_devices() -> int:
    count = RememberedDevice.query.filter(RememberedDevice.last_used_at <= now() - FORGET_AFTER).delete()
    db.session.commit()
    return count


def describe(user_agent: str) -> str:
    """A short, person-readable name for a browser, e.g. "Firefox on Windows"."""
    ua = user_agent or ""
    browser = next((name for key, name in (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
                                           ("Safari/", "Safari")) if key in ua), "A browser")
    system = next((name for key, name in (("Windows", "Windows"), ("Android", "Android"), ("iPhone", "iPhone"),
                                          ("iPad", "iPad"), ("Mac OS", "macOS"), ("Linux", "Linux")) if key in ua), None)
    return f"{browser} on {system}" if system else browser
