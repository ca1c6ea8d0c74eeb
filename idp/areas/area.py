"""What makes one signed-in area itself: its accounts, session table, cookie, settings and audit."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..surfaces import Surface

_AREAS: dict[Surface, "Area"] = {}


@dataclass(frozen=True)
class Area:
    """One signed-in area. The member model has ``email``, ``status`` (invited | active | disabled),
    ``password_hash``, ``totp_secret_sealed``, ``totp_last_used_step``, ``totp_failures``, ``set_up_token_hash``,
    ``set_up_expires_at`` and ``last_login_at``; the session model ``key_hash``, ``member_column``, ``data``,
    ``created_at``, ``last_seen_at`` and ``expires_at``."""

    name: str  # the blueprint's name: endpoints are ``name.login`` and so on
    surface: Surface
    member_model: type
    session_model: type
    member_column: str  # the session model's column naming the member
    cookie_config: str  # the app.config key holding the cookie's name
    throttle_prefix: str  # throttle subjects of its own: a staff lockout never locks an integrator
    sealing_context: bytes  # the authenticator keys' own Fernet key (idp.sealing)
    authenticator_label: str  # how the account is listed in the authenticator app, after the service name
    templates: str  # the folder of its login and set-up templates
    audit: Callable[..., object]  # audit(action, member=..., **detail): adds an event, the caller commits
    set_up_path: str  # the set-up link's path under the issuer, before the token

    def endpoint(self, view: str) -> str:
        return f"{self.name}.{view}"

    def template(self, name: str) -> str:
        return f"{self.templates}/{name}"

    def member_of(self, record) -> str | None:
        return getattr(record, self.member_column)


def register(area: Area) -> Area:
    """Make ``area`` the one whose session serves requests on its surface."""
    _AREAS[area.surface] = area
    return area


def for_surface(surface: Surface) -> Area | None:
    return _AREAS.get(surface)


def registered() -> list[Area]:
    """Every area whose session serves requests (housekeeping prunes each one's sessions)."""
    return list(_AREAS.values())
