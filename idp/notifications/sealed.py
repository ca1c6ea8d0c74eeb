"""Sealing message contents at rest: Fernet with a key derived from IDP_SECRET_KEY by HKDF (RFC 5869).

The same approach as the signing keys (idp/protocol/keys.py), with its own salt, so the key that
opens messages opens nothing else.
"""
from __future__ import annotations

import json

from cryptography.fernet import Fernet, InvalidToken

from .. import sealing

__all__ = ["seal", "unseal", "InvalidToken"]


def _fernet(secret_key: str) -> Fernet:
    return sealing.fernet(secret_key, b"idp-messages")


def seal(secret_key: str, value: dict) -> str:
    """The value as JSON, encrypted and authenticated."""
    return _fernet(secret_key).encrypt(json.dumps(value, sort_keys=True).encode()).decode()


def unseal(secret_key: str, token: str) -> dict:
    """The sealed value; raises ``InvalidToken`` if it was altered or sealed under another secret."""
    return json.loads(_fernet(secret_key).decrypt(token.encode()))
