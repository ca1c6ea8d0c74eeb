"""Photos and videos at rest: AES-256-GCM with a key derived from IDP_SECRET_KEY for media alone.

The submission id and the kind of media are the additional data, so a row copied onto another
submission or kind does not open. Reading is for the route's own check and the reviewer holding the
claim (``submissions``); deleting is the end of every decision and every expiry.
"""
from __future__ import annotations

import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

from ... import sealing
from ...clock import now
from ...extensions import db
from ...models import ProofingMedia
from .uploads import Upload

_PURPOSE = b"idp-proofing-media"
KINDS = ("document", "face", "video")


def _cipher(settings) -> AESGCM:
    return AESGCM(sealing.derived_key(settings.secret_key, _PURPOSE))


def _aad(submission_id: str, kind: str, content_type: str) -> bytes:
    # Bound to its submission, kind and type: a row moved or relabelled (to make a browser render it as
    # something else) no longer decrypts.
    return f"{submission_id}/{kind}/{content_type}".encode()


def keep(submission_id: str, kind: str, upload: Upload, settings=None) -> ProofingMedia:
    """Store ``upload`` sealed, replacing this submission's earlier media of that kind. The caller commits."""
    if kind not in KINDS:
        raise ValueError(f"unknown media kind {kind!r}")
    settings = settings or current_app.extensions["idp"].settings
    nonce = os.urandom(12)
    sealed = nonce + _cipher(settings).encrypt(nonce, upload.data, _aad(submission_id, kind, upload.content_type))
    row = db.session.get(ProofingMedia, (submission_id, kind)) or ProofingMedia(submission_id=submission_id, kind=kind)
    row.content_type, row.size, row.width, row.height = upload.content_type, len(upload.data), upload.width, upload.height
    row.sealed, row.created_at = sealed, now()
    db.session.add(row)
    return row


def has(submission_id: str, kind: str) -> bool:
    return db.session.query(ProofingMedia.query.filter_by(submission_id=submission_id, kind=kind).exists()).scalar()


def read(submission_id: str, kind: str, settings=None) -> tuple[str, bytes] | None:
    """(content type, bytes), or None if there is none (never stored, or deleted after a decision)."""
    row = db.session.get(ProofingMedia, (submission_id, kind))
    if row is None:
        return None
    settings = settings or current_app.extensions["idp"].settings
    # A changed IDP_SECRET_KEY raises InvalidTag here: loud, not a blank picture in front of a reviewer.
    aad = _aad(submission_id, kind, row.content_type)
    return row.content_type, _cipher(settings).decrypt(row.sealed[:12], row.sealed[12:], aad)


def as_jpeg(data: bytes) -> bytes:
    """A photo re-encoded as JPEG for a browser to show, upright and without its metadata (EXIF is not
    written back); the stored original is unchanged."""
    import io

    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data), formats=["HEIF", "JPEG", "PNG"]) as image:
        shown = ImageOps.exif_transpose(image).convert("RGB")
    out = io.BytesIO()
    shown.save(out, "JPEG", quality=90)
    return out.getvalue()


def delete(submission_id: str, kind: str) -> int:
    return ProofingMedia.query.filter_by(submission_id=submission_id, kind=kind).delete(synchronize_session=False)


def delete_all(submission_id: str) -> int:
    """Delete every photo and video of a submission. The caller commits."""
    return ProofingMedia.query.filter_by(submission_id=submission_id).delete(synchronize_session=False)
