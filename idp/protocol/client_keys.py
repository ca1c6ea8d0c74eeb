"""A client's public keys, from a PEM, a JWKS, or its ``jwks_uri`` (fetched, cached, re-fetched on a new kid)."""
from __future__ import annotations

import functools
import threading
import time

import requests
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, RSAKey

_jwks_cache: dict[str, tuple[float, dict]] = {}
_lock = threading.Lock()


class ClientKeyError(Exception):
    """The client's registered key cannot be used."""


@functools.lru_cache(maxsize=1024)
def pem_key(pem: str):
    """Parsed once per process: a registered PEM is immutable text, and parsing costs more than verifying."""
    for key_type in (RSAKey, ECKey):
        try:
            return key_type.import_key(pem)
        except (JoseError, ValueError, TypeError):
            continue
    raise ClientKeyError("registered PEM key cannot be read as an RSA or EC key")


def key_set(jwks: dict) -> KeySet:
    try:
        return KeySet.import_key_set(jwks)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise ClientKeyError("registered JWKS cannot be read") from exc


def fetch_jwks(uri: str, *, timeout: int, max_age: int, force: bool = False) -> dict:
    with _lock:
        cached = _jwks_cache.get(uri)
    if cached and not force and time.monotonic() - cached[0] < max_age:
        return cached[1]
    # Re-fetching on an unknown kid is rate limited so a client cannot make us hammer its server.
    if cached and force and time.monotonic() - cached[0] < 10:
        return cached[1]
    try:
        response = requests.get(uri, timeout=timeout, headers={"Accept": "application/json"})
        response.raise_for_status()
        data = response.json()
    except (requests.RequestException, ValueError) as exc:
        if cached:
            return cached[1]
        raise ClientKeyError("could not fetch the client's jwks_uri") from exc
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise ClientKeyError("the client's jwks_uri did not return a JWKS")
    with _lock:
        _jwks_cache[uri] = (time.monotonic(), data)
    return data


def verification_keys(client, kid: str | None, *, timeout: int = 5, max_age: int = 300):
    """The key (or key set) that may verify a JWT from ``client`` whose header names ``kid``."""
    if client.public_key_pem:
        key = pem_key(client.public_key_pem)
        # interface.md: a PEM key is known by itself, or by its RFC 7638 thumbprint.
        if kid is not None and kid != key.thumbprint():
            raise ClientKeyError("the assertion's kid is not the registered key's thumbprint")
        return key
    if client.jwks:
        return _select(key_set(client.jwks), kid)
    if client.jwks_uri:
        keys = key_set(fetch_jwks(client.jwks_uri, timeout=timeout, max_age=max_age))
        if kid is not None and not any(k.kid == kid for k in keys.keys):
            keys = key_set(fetch_jwks(client.jwks_uri, timeout=timeout, max_age=max_age, force=True))
        return _select(keys, kid)
    raise ClientKeyError("the client has no registered key")


def _select(keys: KeySet, kid: str | None):
    if kid is None:
        if len(keys.keys) == 1:
            return keys.keys[0]
        raise ClientKeyError("the assertion has no kid and the client has several keys")
    for key in keys.keys:
        if key.kid == kid:
            return key
    raise ClientKeyError("no registered key has the assertion's kid")
