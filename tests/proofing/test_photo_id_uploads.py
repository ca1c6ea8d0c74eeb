"""Photo ID uploads (issue 9): checked by their bytes, not their names, and sealed at rest."""
from __future__ import annotations

import io

import pytest
from werkzeug.datastructures import FileStorage

from media_support import PDF, image, mp4, webm
from idp.proofing.photo_id.uploads import UploadRefused, read_image, read_video

MB = 1024 * 1024


def _file(data: bytes, name: str = "upload.jpg", content_type: str = "image/jpeg") -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name, content_type=content_type)


@pytest.mark.parametrize("fmt, expected", [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("HEIF", "image/heic")])
def test_jpeg_png_and_heic_photos_are_read_with_their_real_dimensions(fmt, expected):
    upload = read_image(_file(image(fmt, size=(640, 480)), name="photo.bin", content_type="application/octet-stream"), 10 * MB)
    assert (upload.content_type, upload.width, upload.height) == (expected, 640, 480)


@pytest.mark.parametrize("data, name", [
    (PDF, "passport.jpg"),  # a PDF calling itself a photo
    (image("GIF"), "passport.png"),  # a real image, of a kind not accepted
    (image("JPEG")[:200], "cut-short.jpg"),  # a truncated JPEG
    (mp4(), "video-as-photo.jpg"),
])
def test_a_file_that_is_not_a_jpeg_png_or_heic_photo_is_refused_whatever_its_name(data, name):
    with pytest.raises(UploadRefused) as refused:
        read_image(_file(data, name=name), 10 * MB)
    assert refused.value.message == "The photo must be a JPG, PNG or HEIC file"


def test_a_photo_over_the_size_limit_is_refused_with_the_limit_named():
    with pytest.raises(UploadRefused) as refused:
        read_image(_file(image("PNG", size=(1200, 1200)) + bytes(2 * MB)), 1 * MB)
    assert refused.value.message == "The file must be smaller than %(size)s" and refused.value.values == {"size": "1MB"}


def test_a_photo_too_small_to_read_is_refused():
    with pytest.raises(UploadRefused) as refused:
        read_image(_file(image("JPEG", size=(200, 150))), 10 * MB)
    assert "too small to read" in refused.value.message


def test_no_file_and_an_empty_file_each_say_what_to_do():
    with pytest.raises(UploadRefused, match="Select a file"):
        read_image(None, MB)
    with pytest.raises(UploadRefused, match="Select a file"):
        read_image(FileStorage(io.BytesIO(b""), filename=""), MB)
    with pytest.raises(UploadRefused, match="empty"):
        read_image(_file(b""), MB)


@pytest.mark.parametrize("data, expected", [(mp4(), "video/mp4"), (webm(), "video/webm")])
def test_mp4_and_webm_videos_are_recognised_by_their_container(data, expected):
    assert read_video(_file(data, name="clip.dat", content_type="text/plain"), MB).content_type == expected


@pytest.mark.parametrize("data", [image("JPEG"), PDF, b"\x00" * 4096])
def test_a_file_that_is_not_a_video_is_refused(data):
    with pytest.raises(UploadRefused) as refused:
        read_video(_file(data, name="clip.mp4", content_type="video/mp4"), MB)
    assert refused.value.message == "The video must be an MP4, MOV, 3GP or WEBM file"


def test_a_video_over_the_size_limit_is_refused():
    with pytest.raises(UploadRefused, match="smaller than"):
        read_video(_file(mp4(2 * MB)), 1 * MB)


def test_media_are_sealed_at_rest_and_bound_to_their_submission_and_kind(app, person):
    from cryptography.exceptions import InvalidTag

    from idp.extensions import db
    from idp.models import Person, ProofingMedia
    from idp.proofing.photo_id import media, submissions
    from idp.proofing.photo_id.uploads import Upload

    email = person("P5")
    photo = image("PNG", size=(700, 500))
    with app.app_context():
        someone = Person.query.filter_by(email=email).one()
        first = submissions.start(someone, "photo_id_video", "passport")
        media.keep(first.id, "document", Upload("image/png", photo, 700, 500))
        db.session.commit()
        stored = db.session.get(ProofingMedia, (first.id, "document"))
        assert photo not in stored.sealed and photo[:64] not in stored.sealed  # not the upload's bytes
        assert media.read(first.id, "document") == ("image/png", photo)
        # The same sealed bytes under another kind do not open: each row is bound to its place.
        db.session.add(ProofingMedia(submission_id=first.id, kind="face", content_type="image/png", size=1,
                                     sealed=stored.sealed))
        db.session.commit()
        with pytest.raises(InvalidTag):
            media.read(first.id, "face")
        # Relabelled as another type (to have a browser render it as something else), it does not open either.
        stored.content_type = "text/html"
        db.session.commit()
        with pytest.raises(InvalidTag):
            media.read(first.id, "document")
