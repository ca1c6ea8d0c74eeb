"""Sealing message contents at rest: Fernet with a key derived from IDP_SECRET_KEY by HKDF (RFC 5869).

The same approach as the signing keys (idp/protocol/keys.py), with its own salt, so the key that
opens messages opens nothing else.
"""
from __future__ import annotations

import base64
import functools
import json

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["seal", "unseal", "InvalidToken"]


@functools.lru_cache(maxsize=4)
def _fernet(secret_key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"idp-messages", info=b"v1").derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(secret_key: str, value: dict) -> str:
    """The value as JSON, encrypted and authenticated."""
    return _fernet(secret_key).encrypt(json.dumps(value, sort_keys=True).encode()).decode()


def unseal(secret_key: str, token: str) -> dict:
    """The sealed value; raises ``InvalidToken`` if it was altered or sealed under another secret."""
    return json.loads(_fernet(secret_key).decrypt(token.encode()))
