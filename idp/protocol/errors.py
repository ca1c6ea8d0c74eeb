"""OAuth error responses: the one rule for ``error_description`` and the one JSON error body.

RFC 6749 4.1.2.1 and 5.2: "Values for the error_description parameter MUST NOT include characters
outside the set %x20-21 / %x23-5B / %x5D-7E", that is printable ASCII without ``"`` and ``\\``.
Descriptions often quote what the request sent (a vector, a parameter name), so every error
response passes its description through ``describe`` where it is built: the redirect back to the
client (``authorization.error_location``), the JSON answers (``error_response``), and the Authlib
errors we raise with text of the request's choosing (Authlib refuses a bad one with a 500).
"""
from __future__ import annotations

import re

from flask import jsonify

_WHITESPACE = re.compile(r"[\t\n\r\f\v]+")
_OUTSIDE = re.compile(r"[^\x20-\x21\x23-\x5b\x5d-\x7e]")


def describe(text: str) -> str:
    """``text`` made a valid error_description: ``"`` becomes ``'``, line breaks and tabs a space, and every
    other character outside %x20-21 / %x23-5B / %x5D-7E (control characters, ``\\``, non-ASCII) is dropped."""
    return _OUTSIDE.sub("", _WHITESPACE.sub(" ", text.replace('"', "'")))


def error_fields(error: str, description: str) -> dict:
    """The ``error`` and ``error_description`` members of an error body (RFC 6749 5.2)."""
    return {"error": error, "error_description": describe(description)}


def error_response(status: int, error: str, description: str, /, **extra):
    """A JSON error answer (RFC 6749 5.2, RFC 6750 3.1, RFC 7591 3.2.2), never cached; ``extra`` members
    (an RFC 9457 problem's ``type``, ``title``, ``status``, ``detail``) come first."""
    response = jsonify({**extra, **error_fields(error, description)})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response
