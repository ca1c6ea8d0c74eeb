"""The ``sub`` a client sees for a person (OIDC Core 8): public (the person's UUID) or pairwise (8.1).

A pairwise ``sub`` is base64url(SHA-256(sector host + person id + salt)), the salt derived from
IDP_SECRET_KEY: stable for a sector, different in every other sector, and not reversible
without the secret. Changing IDP_SECRET_KEY changes every pairwise ``sub``.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
from urllib.parse import urlsplit

from flask import current_app

from ..outbound import FetchFailed, fetch

MAX_SECTOR_DOCUMENT = 64 * 1024


class SectorError(ValueError):
    """The sector identifier cannot be worked out or its document does not list the redirect URIs."""


def sector_host(redirect_uris: list[str], sector_identifier_uri: str | None) -> str:
    """OIDC Core 8.1: the host of sector_identifier_uri, else the host of the redirect URIs (only one allowed)."""
    if sector_identifier_uri:
        return urlsplit(sector_identifier_uri).hostname or ""
    hosts = {urlsplit(uri).hostname for uri in redirect_uris}
    if len(hosts) != 1:
        # OIDC Registration 5: several redirect hosts need a sector_identifier_uri to group them.
        raise SectorError("redirect URIs on several hosts need a sector_identifier_uri")
    return hosts.pop() or ""


def fetch_sector_redirect_uris(uri: str, *, timeout: int = 5) -> list[str]:
    """OIDC Registration 5: the sector document is a JSON array of redirect URIs, fetched at registration."""
    try:
        fetched = fetch("GET", uri, deadline=timeout, max_bytes=MAX_SECTOR_DOCUMENT, headers={"Accept": "application/json"})
    except FetchFailed as exc:
        raise SectorError(f"it could not be fetched: {exc}") from None
    if fetched.status != 200:
        raise SectorError(f"fetching it answered HTTP {fetched.status}")
    body = fetched.body
    try:
        uris = json.loads(body)
    except ValueError:
        raise SectorError("its document is not JSON") from None
    if not isinstance(uris, list) or not all(isinstance(u, str) for u in uris):
        raise SectorError("its document must be a JSON array of redirect URIs")
    return uris


@functools.lru_cache(maxsize=4)
def _salt(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode(), b"pairwise subject identifiers (OIDC Core 8.1)", hashlib.sha256).digest()


def pairwise_subject(sector: str, local_id: str, secret_key: str) -> str:
    """OIDC Core 8.1: sub = SHA-256(sector_identifier || local_account_id || salt)."""
    digest = hashlib.sha256(sector.encode() + local_id.encode() + _salt(secret_key)).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def subject_for(person, client) -> str:
    if client.subject_type != "pairwise":
        return person.id
    sector = sector_host(list(client.redirect_uris), client.sector_identifier_uri)
    return pairwise_subject(sector, person.id, current_app.extensions["idp"].settings.secret_key)


def session_id_for(sid: str, client) -> str:
    """The ``sid`` a client sees (Back-Channel Logout 1.0 2.1). Pairwise clients get one derived per
    sector, so two sectors cannot match people up by the browser session they share."""
    if client.subject_type != "pairwise":
        return sid
    return pairwise_subject("sid:" + sector_host(list(client.redirect_uris), client.sector_identifier_uri), sid,
                            current_app.extensions["idp"].settings.secret_key)
