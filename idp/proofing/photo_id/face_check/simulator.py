"""A deterministic stand-in for the face-check vendor, so tests and the demo reach every outcome.

It decides by the face picture alone, which any phone or test can produce:
- mostly blue (blue well above red and green): the vendor is unavailable (no check taken);
- mostly red: no match;
- smaller than 480 pixels on its short side, or very dark: poor image;
- anything else: match.
The result comes back as the real vendor's would: a signed callback, delivered by a queued job.
"""
from __future__ import annotations

import io
import secrets

from PIL import Image

from .... import jobs
from ..uploads import IMAGE_FORMATS
from . import CheckResult, VendorUnavailable, callback_body, sign

JOB = "face_check.simulated_result"
MIN_SIDE = 480


def outcome_for(face: bytes) -> str | None:
    """The simulated outcome for a face picture; None means "vendor unavailable"."""
    with Image.open(io.BytesIO(face), formats=list(IMAGE_FORMATS)) as image:
        width, height = image.size
        red, green, blue = image.convert("RGB").resize((1, 1)).getpixel((0, 0))
    if blue > 150 and blue > red + 60 and blue > green + 60:
        return None
    if red > 150 and red > green + 60 and red > blue + 60:
        return "no_match"
    if min(width, height) < MIN_SIDE or (red + green + blue) / 3 < 40:
        return "poor_image"
    return "match"


class SimulatedVendor:
    name = "simulator"

    def __init__(self, settings):
        self.settings = settings

    def request_check(self, reference: str, document: tuple[str, bytes], face: tuple[str, bytes]) -> None:
        outcome = outcome_for(face[1])
        if outcome is None:
            raise VendorUnavailable("the simulated vendor is unavailable for a blue picture")
        jobs.enqueue(JOB, {"reference": reference, "outcome": outcome, "check_id": "sim-" + secrets.token_hex(8)})


@jobs.handler(JOB)
def _deliver(payload: dict) -> None:
    """Send the result the way the vendor does: a signed body through the callback's own handler."""
    from flask import current_app

    from ...routes import photo_id_face_scan

    settings = current_app.extensions["idp"].settings
    body = callback_body(CheckResult(payload["reference"], payload["outcome"], payload["check_id"]))
    photo_id_face_scan.receive_callback(body, sign(body, settings), settings)
