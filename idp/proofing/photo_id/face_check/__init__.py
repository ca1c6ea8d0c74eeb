"""The face-match-and-liveness vendor, behind one interface: ask for a check, hear the result later.

``request_check`` hands the vendor the document photo and the face scan under our reference and
returns at once (``VendorUnavailable`` if it cannot take the work). The vendor answers by a signed
callback (``verify_callback``): an HMAC-SHA256 over the timestamp and the body with a secret shared
with the vendor (IDP_FACE_CHECK_CALLBACK_SECRET, or one derived from IDP_SECRET_KEY), refused if
the signature is wrong or older than ``TOLERANCE_SECONDS``, as webhook signatures usually are.
``simulator`` is the deterministic default for development and tests; ``none`` offers no face scan.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Protocol

from .... import sealing
from ....clock import now

OUTCOMES = ("match", "no_match", "poor_image")
TOLERANCE_SECONDS = 300
SIGNATURE_HEADER = "X-Face-Check-Signature"


class VendorUnavailable(Exception):
    """The vendor could not take the check now: nothing recorded, the person tries again later."""


class BadCallback(ValueError):
    """A callback that is not signed by the vendor, too old, or not a result we understand."""


@dataclass(frozen=True)
class CheckResult:
    reference: str  # ours, sent with the request
    outcome: str  # one of OUTCOMES
    vendor_check_id: str  # the vendor's own reference, kept in the evidence


class FaceCheckVendor(Protocol):
    name: str

    def request_check(self, reference: str, document: tuple[str, bytes], face: tuple[str, bytes]) -> None: ...


def face_check(settings) -> FaceCheckVendor | None:
    """The vendor configured (IDP_FACE_CHECK_ADAPTER), or None when the face scan is not offered."""
    if settings.face_check_adapter == "simulator":
        return simulator.SimulatedVendor(settings)
    return None


def _secret(settings) -> bytes:
    if settings.face_check_callback_secret:
        return settings.face_check_callback_secret.encode()
    return sealing.derived_key(settings.secret_key, b"idp-face-check-callback")


def sign(body: bytes, settings, at: int | None = None) -> str:
    """The signature header value for ``body``: ``t=<epoch>,v1=<hex hmac>``."""
    at = now() if at is None else at
    mac = hmac.new(_secret(settings), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def verify_callback(body: bytes, header: str | None, settings) -> CheckResult:
    """The result in a callback, if the vendor signed it within the tolerance; else ``BadCallback``."""
    parts = dict(p.split("=", 1) for p in (header or "").split(",") if "=" in p)
    try:
        at = int(parts.get("t", ""))
    except ValueError:
        raise BadCallback("missing or malformed signature") from None
    expected = hmac.new(_secret(settings), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    given = parts.get("v1", "")
    # compare_digest refuses non-ASCII text (TypeError): compare bytes, so any header is just a wrong signature.
    if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogateescape")):
        raise BadCallback("the signature does not match")
    if abs(now() - at) > TOLERANCE_SECONDS:
        raise BadCallback("the signature is too old")  # a replayed callback
    try:
        data = json.loads(body)
        result = CheckResult(str(data["reference"]), str(data["outcome"]), str(data.get("check_id") or ""))
    except (ValueError, KeyError, TypeError):
        raise BadCallback("the body is not a face check result") from None
    if result.outcome not in OUTCOMES or not result.reference:
        raise BadCallback("unknown outcome")
    return result


def callback_body(result: CheckResult) -> bytes:
    return json.dumps({"reference": result.reference, "outcome": result.outcome,
                       "check_id": result.vendor_check_id}, separators=(",", ":")).encode()


from . import simulator  # noqa: E402,F401 - registers the simulator's delivery job in every process
