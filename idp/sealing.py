"""Keys derived from IDP_SECRET_KEY, one per purpose (HKDF, RFC 5869), and Fernet sealing with them.

Each purpose has its own salt, so the key that opens one kind of data (signing keys, messages,
authenticator-app secrets) opens nothing else. Derivation is cached: it runs once per process.
"""
from __future__ import annotations

import base64
import functools

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


@functools.lru_cache(maxsize=16)
def derived_key(secret_key: str, purpose: bytes) -> bytes:
    """32 bytes for ``purpose`` (the HKDF salt, e.g. b"idp-messages")."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=purpose, info=b"v1").derive(secret_key.encode())


@functools.lru_cache(maxsize=16)
def fernet(secret_key: str, purpose: bytes) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(derived_key(secret_key, purpose)))
