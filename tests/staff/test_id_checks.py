"""The ID checking team's queue (issue 9): due times, one reviewer at a time, approve or reject with a
reason, the person emailed, the media deleted, and every action audited."""
from __future__ import annotations

import io

import pytest
from freezegun import freeze_time
from PIL import Image

from proofing.media_support import image, mp4
from staff.support import audit_actions, staff_csrf, staff_login, staff_member
from support import csrf_from, outbox


def _waiting_submission(app, email, at=None, language="en"):
    """A video submission in the queue, made through the route's own functions."""
    from idp.extensions import db
    from idp.models import Person
    from idp.proofing.photo_id import media, submissions
    from idp.proofing.photo_id.uploads import Upload
    from idp.proofing.routes import Outcome, photo_id_video

    with app.app_context():
        someone = Person.query.filter_by(email=email).one()
        submission = submissions.start(someone, "photo_id_video", "uk_driving_licence_full", language=language)
        media.keep(submission.id, "document", Upload("image/jpeg", image("JPEG"), 800, 600))
        media.keep(submission.id, "video", Upload("video/mp4", mp4()))
        db.session.commit()
        assert photo_id_video.submit(someone, submission, app.extensions["idp"].settings).outcome is Outcome.PENDING
        return submission.id


def _reviewer(app, client):
    member, secret, password = staff_member(app, roles=["id_checker"])
    staff_login(client, member, password, secret)
    return member


def _claim(client, submission_id):
    return client.post(f"/staff/id-checks/{submission_id}/claim", data={"csrf_token": staff_csrf(client)})


def _level(app, email):
    from idp.models import Person

    with app.app_context():
        return Person.query.filter_by(email=email).one().proofing_level


def _status(app, submission_id):
    from idp.extensions import db
    from idp.models import PhotoIdSubmission, ProofingMedia

    with app.app_context():
        return (db.session.get(PhotoIdSubmission, submission_id).status,
                ProofingMedia.query.filter_by(submission_id=submission_id).count())


def test_the_queue_lists_submissions_by_due_time_two_hours_after_sending_and_marks_the_overdue(app, client, person):
    with freeze_time("2026-12-03 08:00:00"):
        first = _waiting_submission(app, person("P5"))
    with freeze_time("2026-12-03 09:30:00"):
        second = _waiting_submission(app, person("P5"))
    with freeze_time("2026-12-03 10:15:00"):
        _reviewer(app, client)
        page = client.get("/staff/id-checks").get_data(as_text=True)
        assert page.index(first) < page.index(second)  # the earliest due first
        assert "Due (UTC)" in page and "2026-12-03 10:00:00" in page and "2026-12-03 11:30:00" in page
        assert page.count("Overdue") == 1  # the first was due at 10:00
        result = app.test_cli_runner().invoke(args=["staff", "queue"])
        lines = result.output.strip().splitlines()
        assert result.exit_code == 0 and first in lines[1] and "OVERDUE" in lines[1] and second in lines[2]


def test_a_reviewer_approves_and_the_person_is_p9_emailed_and_their_media_deleted(app, client, person):
    email = person("P5")
    submission_id = _waiting_submission(app, email)
    member = _reviewer(app, client)
    response = _claim(client, submission_id)
    assert response.headers["Location"].endswith(f"/staff/id-checks/{submission_id}")
    page = client.get(f"/staff/id-checks/{submission_id}")
    text = page.get_data(as_text=True)
    from idp.extensions import db
    from idp.models import PhotoIdSubmission

    with app.app_context():
        digits = db.session.get(PhotoIdSubmission, submission_id).digits
    assert "Priya Patel" in text and "1985-04-12" in text and " ".join(digits) in text
    assert "UK driving licence (full)" in text
    photo = client.get(f"/staff/id-checks/{submission_id}/media/document")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    with Image.open(io.BytesIO(photo.data)) as shown, Image.open(io.BytesIO(image("JPEG"))) as sent:
        assert shown.size == sent.size and shown.convert("RGB").getpixel((400, 300)) == pytest.approx(
            sent.convert("RGB").getpixel((400, 300)), abs=8)  # the photo sent, re-encoded for the browser
    assert photo.headers["Cache-Control"] == "no-store"
    assert client.get(f"/staff/id-checks/{submission_id}/media/video").data == mp4()

    done = client.post(f"/staff/id-checks/{submission_id}/decision",
                       data={"decision": "approve", "csrf_token": csrf_from(text)})
    assert done.headers["Location"].endswith("/staff/id-checks?notice=approved")
    assert _level(app, email) == "P9" and _status(app, submission_id) == ("approved", 0)
    assert client.get(f"/staff/id-checks/{submission_id}/media/document").status_code == 403  # gone with the decision
    assert [m.template for m in outbox(app, email)][-1] == "photo_id_approved"
    from idp.proofing import evidence
    from idp.models import Person

    with app.app_context():
        last = evidence.of(Person.query.filter_by(email=email).one().id)[-1]
        assert (last.route, last.outcome, last.level, last.staff_member) == ("photo_id_video", "verified", "P9", member.id)
    explained = app.test_cli_runner().invoke(args=["users", "explain", email]).output
    assert f"by staff member {member.email}" in explained and "supports P9" in explained
    assert audit_actions(app, staff_member_id=member.id)[-5:] == [
        "id_check.claimed", "id_check.viewed", "id_check.media_viewed", "id_check.media_viewed", "id_check.approved"]


def test_a_rejection_needs_a_reason_and_tells_the_person_why(app, client, person):
    email = person("P5")
    submission_id = _waiting_submission(app, email)
    _reviewer(app, client)
    _claim(client, submission_id)
    csrf = staff_csrf(client)
    missing = client.post(f"/staff/id-checks/{submission_id}/decision", data={"decision": "reject", "csrf_token": csrf})
    assert missing.status_code == 400 and "Choose the reason for rejecting" in missing.get_data(as_text=True)
    other = client.post(f"/staff/id-checks/{submission_id}/decision",
                        data={"decision": "reject", "reason": "other", "csrf_token": csrf})
    assert other.status_code == 400 and "Say why the ID check is rejected" in other.get_data(as_text=True)
    done = client.post(f"/staff/id-checks/{submission_id}/decision",
                       data={"decision": "reject", "reason": "digits_wrong", "note": "said 1234", "csrf_token": csrf})
    assert done.status_code == 302
    assert _level(app, email) == "P5" and _status(app, submission_id) == ("rejected", 0)
    message = outbox(app, email)[-1]
    assert message.template == "photo_id_rejected" and "did not show the 4 numbers" in message.body
    explained = app.test_cli_runner().invoke(args=["users", "explain", email]).output
    assert "refused" in explained and "reason: digits_wrong" in explained


def test_a_person_who_sent_their_video_in_welsh_is_told_why_in_welsh(app, client, person):
    email = person("P5")
    submission_id = _waiting_submission(app, email, language="cy")
    _reviewer(app, client)
    _claim(client, submission_id)
    client.post(f"/staff/id-checks/{submission_id}/decision",
                data={"decision": "reject", "reason": "video_unclear", "csrf_token": staff_csrf(client)})
    message = outbox(app, email)[-1]
    assert message.language == "cy" and "Nid oeddem yn gallu gweld na chlywed y fideo yn glir." in message.body


def test_one_reviewer_at_a_time_until_an_abandoned_claim_lapses(app, person):
    submission_id = _waiting_submission(app, person("P5"))
    first, second = app.test_client(), app.test_client()
    with freeze_time("2026-12-03 12:00:00", tick=True):
        _reviewer(app, first)
        _reviewer(app, second)
        assert _claim(first, submission_id).headers["Location"].endswith(submission_id)
        taken = _claim(second, submission_id)
        assert taken.headers["Location"].endswith("notice=taken")
        assert second.get(f"/staff/id-checks/{submission_id}").headers["Location"].endswith("notice=taken")
        assert second.get(f"/staff/id-checks/{submission_id}/media/document").status_code == 403
    with freeze_time("2026-12-03 12:21:00", tick=True):  # the claim (20 minutes) has lapsed
        _reviewer(app, second)
        assert _claim(second, submission_id).headers["Location"].endswith(submission_id)


def test_unreviewed_media_expire_and_the_person_is_told(app, person):
    from idp.housekeeping import prune_expired

    email = person("P5")
    with freeze_time("2026-12-01 08:00:00"):
        submission_id = _waiting_submission(app, email)
    with freeze_time("2026-12-08 07:59:00"), app.app_context():
        assert prune_expired(app.extensions["idp"].keystore, 3600)["expired_photo_id_submissions"] == 0
    with freeze_time("2026-12-08 08:00:01"), app.app_context():
        assert prune_expired(app.extensions["idp"].keystore, 3600)["expired_photo_id_submissions"] == 1
    assert _status(app, submission_id) == ("expired", 0)
    with freeze_time("2026-12-08 08:00:02"):  # the email is due when it was queued, not at today's date
        assert [m.template for m in outbox(app, email)][-1] == "photo_id_expired"


@pytest.mark.parametrize("path", ["/staff/id-checks/{id}", "/staff/id-checks/{id}/media/document"])
def test_a_decided_submission_cannot_be_reopened(app, client, person, path):
    submission_id = _waiting_submission(app, person("P5"))
    _reviewer(app, client)
    _claim(client, submission_id)
    client.post(f"/staff/id-checks/{submission_id}/decision", data={"decision": "approve", "csrf_token": staff_csrf(client)})
    assert client.get(path.format(id=submission_id)).status_code in (302, 403)
    assert _claim(client, submission_id).headers["Location"].endswith("notice=taken")


def test_a_heic_document_photo_is_shown_to_the_reviewer_as_a_jpeg(app, client, person):
    """Phones send HEIC, which browsers do not show: the reviewer gets the same photo as a JPEG."""
    from idp.extensions import db
    from idp.proofing.photo_id import media
    from idp.proofing.photo_id.uploads import Upload

    submission_id = _waiting_submission(app, person("P5"))
    with app.app_context():
        media.keep(submission_id, "document", Upload("image/heic", image("HEIF"), 800, 600))
        db.session.commit()
    _reviewer(app, client)
    _claim(client, submission_id)
    shown = client.get(f"/staff/id-checks/{submission_id}/media/document")
    assert shown.status_code == 200 and shown.mimetype == "image/jpeg"
    with Image.open(io.BytesIO(shown.data)) as picture:
        assert picture.format == "JPEG" and picture.size == (800, 600)


def test_the_reviewer_never_sees_the_photos_metadata(app, client, person):
    """EXIF (the phone, where and when the photo was taken) is not the reviewer's to see."""
    from idp.extensions import db
    from idp.proofing.photo_id import media
    from idp.proofing.photo_id.uploads import Upload

    exif = Image.Exif()
    exif[0x010F], exif[0x0132] = "PhoneMaker", "2026:12:01 08:00:00"  # Make, DateTime
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (120, 120, 120)).save(buffer, "JPEG", exif=exif.tobytes())
    submission_id = _waiting_submission(app, person("P5"))
    with app.app_context():
        media.keep(submission_id, "document", Upload("image/jpeg", buffer.getvalue(), 800, 600))
        db.session.commit()
    _reviewer(app, client)
    _claim(client, submission_id)
    shown = client.get(f"/staff/id-checks/{submission_id}/media/document")
    assert b"PhoneMaker" not in shown.data
    with Image.open(io.BytesIO(shown.data)) as picture:
        assert not dict(picture.getexif())
