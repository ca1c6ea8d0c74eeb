"""How a staff member proves who they are (``idp.areas.factors``): a password, then always an authenticator
app (RFC 6238); never SMS. Throttled under the staff area's own subjects."""
from __future__ import annotations

from ..areas import factors
from ..areas.factors import CodeCheck, Outcome
from .area import STAFF

__all__ = ["Outcome", "CodeCheck", "check_password", "check_code", "seal", "enrolment"]


def check_password(email: str, password: str, source: str, settings):
    return factors.check_password(STAFF, email, password, source, settings)


def check_code(member, code: str, source: str, settings) -> CodeCheck:
    return factors.check_code(STAFF, member, code, source, settings)


def enrolment(member, settings, secret: str | None = None):
    return factors.enrolment(STAFF, member, settings, secret)


def seal(settings, secret: str) -> str:
    return factors.seal(STAFF, settings, secret)
