"""A client's public keys, from a PEM, a JWKS, or its ``jwks_uri`` (fetched, cached, re-fetched on a new kid)."""
from __future__ import annotations

import functools
import json
import threading
import time

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, RSAKey

from ..outbound import FetchFailed, fetch

# A client may not make us hammer its server (or any server it names): at most one fetch of a
# jwks_uri per interval, whatever its assertions' kids say (the conformance suite waits 60 s).
REFETCH_INTERVAL = 10
MAX_JWKS_BYTES = 256 * 1024
_jwks_cache: dict[str, tuple[float, KeySet]] = {}  # jwks_uri -> (fetched at, keys)
_last_attempt: dict[str, float] = {}  # jwks_uri -> when we last tried, successful or not
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


MIN_RSA_BITS, MAX_RSA_BITS = 2048, 8192  # NIST SP 800-131A; the top bound keeps verification cheap
EC_CURVES = ("P-256", "P-384", "P-521")


def strength_problem(key) -> str | None:
    """Why a public key is too weak (or too costly) to verify a client's assertions with; None if it will do."""
    if isinstance(key, RSAKey):
        bits = key.public_key.key_size
        if bits < MIN_RSA_BITS:
            return f"an RSA key of {bits} bits is too weak: use at least {MIN_RSA_BITS}"
        if bits > MAX_RSA_BITS:
            return f"an RSA key of {bits} bits is larger than {MAX_RSA_BITS}"
        return None
    if isinstance(key, ECKey):
        curve = key.as_dict(private=False).get("crv")
        return None if curve in EC_CURVES else f"EC keys must be on {', '.join(EC_CURVES)}, not {curve}"
    return "only RSA and EC keys are accepted"


def key_set(jwks: dict) -> KeySet:
    try:
        return KeySet.import_key_set(jwks)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise ClientKeyError("registered JWKS cannot be read") from exc


# One message for every way a fetch can fail: the caller of /token must not learn what the
# provider's network looks like from here (status codes, timeouts, refused connections).
FETCH_FAILED = "the client's jwks_uri could not be used"


def fetch_jwks(uri: str, *, timeout: int, max_age: int, force: bool = False) -> KeySet:
    """The keys at ``uri``, cached ``max_age`` seconds; ``force`` re-fetches early (an unknown kid arrived)."""
    current = time.monotonic()
    with _lock:
        cached = _jwks_cache.get(uri)
        attempted = _last_attempt.get(uri)
    if cached and not force and current - cached[0] < max_age:
        return cached[1]
    if attempted is not None and current - attempted < REFETCH_INTERVAL:
        if cached:
            return cached[1]
        raise ClientKeyError(FETCH_FAILED)
    with _lock:
        _last_attempt[uri] = current
    try:
        keys = key_set(_download(uri, timeout))
    except ClientKeyError:
        if cached:
            return cached[1]  # the client's server is down: keep using the keys it last published
        raise
    with _lock:
        _jwks_cache[uri] = (current, keys)
    return keys


def _download(uri: str, timeout: int) -> dict:
    """GET the JWKS: no redirects (the registered URI is the one trusted), at most MAX_JWKS_BYTES in ``timeout`` s."""
    try:
        fetched = fetch("GET", uri, deadline=timeout, max_bytes=MAX_JWKS_BYTES, headers={"Accept": "application/json"})
    except FetchFailed as exc:
        raise ClientKeyError(FETCH_FAILED) from exc
    if fetched.status != 200:
        raise ClientKeyError(FETCH_FAILED)
    try:
        data = json.loads(fetched.body)
    except ValueError:
        raise ClientKeyError(FETCH_FAILED) from None
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise ClientKeyError(FETCH_FAILED)
    return data


def verification_keys(client, kid: str | None, *, timeout: int = 5, max_age: int = 300):
    """The key that may verify a JWT from ``client`` whose header names ``kid``; never a development key where
    one may not be used, however the client came to hold it (a move to live, a jwks_uri)."""
    from flask import current_app

    from .development_keys import forbidden_here, is_development_key

    key = _verification_key(client, kid, timeout=timeout, max_age=max_age)
    if key.is_private or (forbidden_here(current_app.extensions["idp"].settings.is_development, client.environment)
                          and is_development_key(key)):
        raise ClientKeyError("the client's key is a development key, which cannot be used here")
    return key


def _verification_key(client, kid: str | None, *, timeout: int, max_age: int):
    if client.public_key_pem:
        key = pem_key(client.public_key_pem)
        # interface.md: a PEM key is known by itself, or by its RFC 7638 thumbprint.
        if kid is not None and kid != key.thumbprint():
            raise ClientKeyError("the assertion's kid is not the registered key's thumbprint")
        return key
    if client.jwks:
        return _select(key_set(client.jwks), kid)
    if client.jwks_uri:
        keys = fetch_jwks(client.jwks_uri, timeout=timeout, max_age=max_age)
        if kid is not None and not any(k.kid == kid for k in _signing_keys(keys)):
            # OIDC Core 10.1.1: a new kid means the client rotated its keys; fetch them again.
            keys = fetch_jwks(client.jwks_uri, timeout=timeout, max_age=max_age, force=True)
        key = _select(keys, kid)
        if strength_problem(key):  # a published set is checked when used, as a registered key is at registration
            raise ClientKeyError("the client's key is too weak to verify with")
        return key
    raise ClientKeyError("the client has no registered key")


def _signing_keys(keys: KeySet) -> list:
    """RFC 7517 4.2: a key published for encryption never verifies a signature."""
    return [k for k in keys.keys if k.get("use") in (None, "sig")]


def _select(keys: KeySet, kid: str | None):
    candidates = _signing_keys(keys)
    if kid is None:
        if len(candidates) == 1:
            return candidates[0]
        raise ClientKeyError("the assertion has no kid and the client has several keys")
    for key in candidates:
        if key.kid == kid:
            return key
    raise ClientKeyError("no registered key has the assertion's kid")
