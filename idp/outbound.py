"""Requests the provider makes to addresses a client chose (jwks_uri, sector_identifier_uri,
backchannel_logout_uri): outside development they may only reach public internet addresses, so a
registration cannot turn the provider into a scanner of its own network (server-side request forgery).
"""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

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
