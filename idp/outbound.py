"""Requests the provider makes to addresses a client chose (jwks_uri, sector_identifier_uri,
backchannel_logout_uri): outside development they may only reach public internet addresses, so a
registration cannot turn the provider into a scanner of its own network (server-side request forgery).
"""
from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from flask import current_app, has_app_context


class DestinationRefused(Exception):
    """The URL points somewhere the provider must not send requests."""


def _development() -> bool:
    return has_app_context() and current_app.extensions["idp"].settings.is_development


def check_destination(url: str) -> None:
    """https to a host whose every address is global; development may also use loopback over http."""
    parts = urlsplit(url)
    if _development():
        return  # the registration rules already limit development to https or http loopback
    if parts.scheme != "https" or not parts.hostname:
        raise DestinationRefused("only https URLs are fetched")
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)}
    except (socket.gaierror, UnicodeError):
        raise DestinationRefused("the host does not resolve") from None
    for address in addresses:
        if not ipaddress.ip_address(address.split("%")[0]).is_global:
            raise DestinationRefused("the host is not a public internet address")


class FetchFailed(Exception):
    """The request could not be completed within its deadline and size limit (the message says why)."""


@dataclass(frozen=True)
class Fetched:
    status: int
    body: bytes


def fetch(method: str, url: str, *, deadline: float, max_bytes: int, data: dict | None = None,
          headers: dict | None = None) -> Fetched:
    """One request to a client-chosen URL: checked destination, no redirects, at most ``max_bytes`` of
    body, and ``deadline`` seconds from start to finish however slowly the other end answers.

    Per-read timeouts (requests, urllib3) let a server that trickles bytes hold a worker for ever, so
    the whole exchange runs under one asyncio deadline, which cancels it wherever it is.
    """
    try:
        check_destination(url)
    except DestinationRefused as exc:
        raise FetchFailed(str(exc)) from None
    try:
        return asyncio.run(_fetch(method, url, deadline, max_bytes, data, headers or {}))
    except TimeoutError:
        raise FetchFailed(f"no complete answer within {deadline:g} seconds") from None
    except httpx.HTTPError as exc:
        raise FetchFailed(f"the request failed ({type(exc).__name__})") from None


async def _fetch(method, url, deadline, max_bytes, data, headers) -> Fetched:
    async with asyncio.timeout(deadline):
        # trust_env=False: a proxy from the environment would bypass check_destination.
        async with httpx.AsyncClient(follow_redirects=False, timeout=deadline, trust_env=False) as http:
            async with http.stream(method, url, data=data, headers=headers) as response:
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > max_bytes:
                        raise FetchFailed(f"the answer is larger than {max_bytes} bytes")
                return Fetched(response.status_code, bytes(body))
