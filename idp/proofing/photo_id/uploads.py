"""What an uploaded photo or video must be, decided by its bytes and never by its name or stated type.

Photos: JPEG, PNG or HEIC (phones' default), read with Pillow (and pillow-heif for HEIC) so the
dimensions are real, at most the configured size, large enough to read. Videos: MP4, MOV, 3GP or
WebM by their container signature, at most the configured size. Anything else is refused with a
message that says what to send instead.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError
from pillow_heif import register_heif_opener

from ...i18n import N_

register_heif_opener()
Image.MAX_IMAGE_PIXELS = 50_000_000  # a decompression bomb is refused, not decoded
IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "HEIF": "image/heic"}
MIN_IMAGE_SIDE = 300  # pixels: smaller cannot show a document's text or a face
MIN_VIDEO_BYTES = 1024
# ISO base media file brands (ISO/IEC 14496-12 4.3 "ftyp"): MP4, QuickTime and 3GPP families.
_VIDEO_BRANDS = {b"isom": "video/mp4", b"iso2": "video/mp4", b"iso5": "video/mp4", b"iso6": "video/mp4",
                 b"mp41": "video/mp4", b"mp42": "video/mp4", b"avc1": "video/mp4", b"dash": "video/mp4",
                 b"M4V ": "video/mp4", b"qt  ": "video/quicktime", b"3gp4": "video/3gpp", b"3gp5": "video/3gpp",
                 b"3gp6": "video/3gpp", b"3g2a": "video/3gpp2"}
_EBML = b"\x1a\x45\xdf\xa3"  # Matroska and WebM start with the EBML header


class UploadRefused(ValueError):
    """The upload is not what the page asked for; ``message`` (a msgid) says what to send."""

    def __init__(self, message: str, **values):
        super().__init__(message)
        self.message, self.values = message, values


@dataclass(frozen=True)
class Upload:
    content_type: str
    data: bytes
    width: int | None = None
    height: int | None = None


def _read(file, limit: int) -> bytes:
    if file is None or not getattr(file, "filename", None):
        raise UploadRefused(N_("Select a file to upload"))
    data = file.stream.read(limit + 1)
    if len(data) > limit:
        raise UploadRefused(N_("The file must be smaller than %(size)s"), size=_megabytes(limit))
    if not data:
        raise UploadRefused(N_("The selected file is empty"))
    return data


def _megabytes(limit: int) -> str:
    return f"{limit // (1024 * 1024)}MB"


def read_image(file, limit: int) -> Upload:
    """A JPEG, PNG or HEIC photo of at most ``limit`` bytes, with its real dimensions."""
    data = _read(file, limit)
    refused = UploadRefused(N_("The photo must be a JPG, PNG or HEIC file"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # Only the decoders of the formats accepted are tried: no other parser ever sees an upload.
            with Image.open(io.BytesIO(data), formats=list(IMAGE_FORMATS)) as image:
                kind = image.format
                width, height = image.size
                image.verify()  # reads the whole structure: a truncated or forged file fails here
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning,
            OSError, SyntaxError, ValueError):
        raise refused from None
    if kind not in IMAGE_FORMATS:
        raise refused
    if min(width, height) < MIN_IMAGE_SIDE:
        raise UploadRefused(N_("The photo is too small to read. Take a new photo, with the whole document in view"))
    return Upload(IMAGE_FORMATS[kind], data, width, height)


def video_type(data: bytes) -> str | None:
    """The container a video's first bytes declare, or None if it is not one we accept."""
    if data[:4] == _EBML:
        return "video/webm"
    if data[4:8] == b"ftyp":
        return _VIDEO_BRANDS.get(data[8:12])
    return None


def read_video(file, limit: int) -> Upload:
    """An MP4, MOV, 3GP or WebM video of at most ``limit`` bytes."""
    data = _read(file, limit)
    kind = video_type(data)
    if kind is None or len(data) < MIN_VIDEO_BYTES:
        raise UploadRefused(N_("The video must be an MP4, MOV, 3GP or WEBM file"))
    return Upload(kind, data)
