"""Guesses at proofing details are throttled per account and per source (issue 8), so the service
cannot be used to look people up; the lockout clears by itself."""
from __future__ import annotations

from ..authentication import throttle


def _subjects(kind: str, person_id: str, source: str, settings):
    return ((throttle.subject(f"{kind}-person", person_id), settings.proofing_attempts_per_account),
            (throttle.subject(f"{kind}-source", source or "unknown"), settings.proofing_attempts_per_source))


def locked(kind: str, person_id: str, source: str, settings) -> bool:
    window = settings.proofing_lockout_seconds
    return any(throttle.is_locked(key, limit, window) for key, limit in _subjects(kind, person_id, source, settings))


def take(kind: str, person_id: str, source: str, settings) -> bool:
    """Count this attempt before any service is asked, so parallel requests cannot all slip under the
    limit; False when it is over. Every attempt counts, matched or not: a match ends the journey."""
    allowed = True
    for key, limit in _subjects(kind, person_id, source, settings):
        if throttle.count_attempt(key, limit, settings.proofing_lockout_seconds) > limit:
            allowed = False
    return allowed


def give_back(kind: str, person_id: str, source: str, settings) -> None:
    """A national service could not answer: the attempt was not the person's to lose."""
    for key, _ in _subjects(kind, person_id, source, settings):
        throttle.refund(key)
