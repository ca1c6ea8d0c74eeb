"""Keys known to be for development: published in specifications' examples, or made by this installation for
its demo relying party and the conformance suite. Their private halves are not secret, so an integration or
live client, or any client of an instance that is not development, may not register one.
"""
from __future__ import annotations

import glob
import json
import os
import time
from dataclasses import dataclass
from functools import lru_cache

from joserfc.jwk import ECKey, KeySet, RSAKey

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Where generated development material lives: keys/ (idp demo load) and conformance/out/keys (idp conformance setup).
GENERATED = (os.path.join(ROOT, "keys"), os.path.join(ROOT, "conformance", "out", "keys"))

# OpenID Connect Core 1.0 Appendix A.7, the key its example ID tokens are signed with.
_OIDC_CORE_A7 = {
    "kty": "RSA", "e": "AQAB",
    "n": "w7Zdfmece8iaB0kiTY8pCtiBtzbptJmP28nSWwtdjRu0f2GFpajvWE4VhfJAjEsOcwYzay7XGN0b-X84BfC8hmCTOj2b2eHT7NsZegFPKRUQ"
         "zJ9wW8ipn_aDJWMGDuB1XyqT1E7DYqjUCEOD1b4FLpy_xPn6oV_TYOfQ9fZdbE5HGxJUzekuGcOKqOQ8M7wfYHhHHLxGpQVgL0apWuP2gDD"
         "OdTtpuld4D2LK1MZK99s9gaSjRHE8JDb1Z4IGhEcEyzkxswVdPndUWzfvWBBWXWxtSUvQGBRkuy1BHOa4sP6FKjWEeeF7gm7UMs2Nm2QUgN"
         "Zw6xvEDGaLk4KASdIxRQ",
}
PUBLISHED = (_OIDC_CORE_A7,)


def _thumbprints_in(path: str) -> set[str]:
    try:
        with open(path) as fh:
            text = fh.read(256 * 1024)
    except OSError:
        return set()
    if path.endswith(".json"):
        try:
            return {k.thumbprint() for k in KeySet.import_key_set(json.loads(text)).keys}
        except Exception:  # a file that is not a key set is not a key
            return set()
    for key_type in (RSAKey, ECKey):
        try:
            return {key_type.import_key(text).thumbprint()}
        except Exception:
            continue
    return set()


@lru_cache(maxsize=1)
def _published() -> frozenset[str]:
    return frozenset(RSAKey.import_key(jwk).thumbprint() for jwk in PUBLISHED)


@dataclass(frozen=True)
class _Known:
    read_at: float  # time.monotonic() of the read
    directories: tuple
    thumbprints: frozenset


_known: _Known | None = None
CACHE_SECONDS = 60  # keys are also checked when used (every client assertion): the files are read once a minute


def thumbprints() -> frozenset[str]:
    """RFC 7638 thumbprints of every known development key (generated files change, so they are re-read)."""
    global _known
    current = time.monotonic()
    known = _known
    if known is not None and current - known.read_at < CACHE_SECONDS and known.directories == GENERATED:
        return known.thumbprints
    found = set(_published())
    for directory in GENERATED:
        for path in glob.glob(os.path.join(directory, "*.pem")) + glob.glob(os.path.join(directory, "*.json")):
            found |= _thumbprints_in(path)
    _known = _Known(current, GENERATED, frozenset(found))
    return _known.thumbprints


def forbidden_here(development: bool, environment: str | None) -> bool:
    """Where a development key may not be used: integration and live clients, and every client of an instance
    that is not development (interface.md: live has no dev keys)."""
    return not development or environment in ("integration", "live")


def is_development_key(key) -> bool:
    return key.thumbprint() in thumbprints()
