"""Passwords (the ``Cp`` component), hashed with argon2id.

The ``fast`` profile (tiny memory and time cost) exists only so the test suite
can log people in thousands of times on two cores; outside development the
provider refuses to start with it (config.py).
"""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

PROFILES = {
    "standard": dict(),  # argon2-cffi's RFC 9106 low-memory recommendation
    "fast": dict(time_cost=1, memory_cost=1024, parallelism=1),
}
_hasher = PasswordHasher()
_dummy_hash = None


def configure(profile: str) -> None:
    global _hasher, _dummy_hash
    _hasher = PasswordHasher(**PROFILES[profile])
    _dummy_hash = None


def _dummy() -> str:
    # Verified when the account does not exist, so a miss costs the same time as a wrong password.
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash("not-a-real-password-but-same-cost")
    return _dummy_hash


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, candidate: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _dummy(), candidate) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
