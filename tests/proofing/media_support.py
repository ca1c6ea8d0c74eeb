"""Real files of each kind for the photo ID tests: photos made with Pillow, videos with a real container header."""
from __future__ import annotations

import io

from PIL import Image

GREY, RED, BLUE, DARK = (128, 128, 128), (220, 30, 30), (30, 30, 220), (10, 10, 10)


def image(fmt: str = "JPEG", size=(800, 600), colour=GREY) -> bytes:
    """A photo in ``fmt`` (JPEG, PNG or HEIF); its colour decides the face-check simulator's outcome."""
    buffer = io.BytesIO()
    picture = Image.new("RGB", size, colour)
    if fmt == "HEIF":
        from pillow_heif import register_heif_opener

        register_heif_opener()
    picture.save(buffer, format=fmt)
    return buffer.getvalue()


def mp4(size: int = 4096) -> bytes:
    """An ISO base media file: an ``ftyp`` box (brand isom) then padding in an ``mdat`` box."""
    ftyp = (24).to_bytes(4, "big") + b"ftypisom" + (512).to_bytes(4, "big") + b"isomiso2"
    mdat = (size - len(ftyp)).to_bytes(4, "big") + b"mdat"
    return ftyp + mdat + bytes(size - len(ftyp) - 8)


def webm(size: int = 4096) -> bytes:
    return b"\x1a\x45\xdf\xa3" + bytes(size - 4)


PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
