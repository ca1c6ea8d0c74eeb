"""Photo ID and face scan, photo ID and video (issue 9), driven over HTTP inside a relying party's request.

The face-check simulator decides by the face picture's colour (idp/proofing/photo_id/face_check/simulator.py),
so every outcome is reachable: match, no match, poor image, vendor unavailable.
"""
from __future__ import annotations

import io
import json

import pytest

from journey_support import finish_at_rp, page_path, submit, to_proofing
from media_support import BLUE, RED, image, mp4
from support import csrf_from, outbox, wait_until

VTR = '["P9.Cp.Cd"]'


def _upload(http, path, field, data, name):
    page = http.get(path)
    assert page.status_code == 200, (path, page.status_code)
    import io

    return http.post(path, data={"csrf_token": csrf_from(page.get_data(as_text=True)), field: (io.BytesIO(data), name)},
                     content_type="multipart/form-data")


def _to_document_photo(rp, email, route):
    page, interaction = to_proofing(rp, email, vtr=VTR, state="pid", scope="openid profile")
    assert "Use photo ID and a face scan" in page.get_data(as_text=True)
    response = submit(rp.http, page_path(interaction, "start"), {"route": route})
    response = submit(rp.http, response.headers["Location"], {"document_type": "passport"})
    assert response.headers["Location"].startswith("/prove-who-you-are/photo-id/document-photo")
    response = _upload(rp.http, response.headers["Location"], "photo", image("JPEG"), "passport.jpg")
    assert response.status_code == 302, response.get_data(as_text=True)
    return interaction, response.headers["Location"]


def _submission(app, email):
    from idp.models import Person, PhotoIdSubmission

    with app.app_context():
        someone = Person.query.filter_by(email=email).one()
        return PhotoIdSubmission.query.filter_by(person_id=someone.id).order_by(PhotoIdSubmission.created_at.desc()).first()


def _person(app, email):
    from idp.models import Person

    with app.app_context():
        return Person.query.filter_by(email=email).one()


def _media_left(app, submission_id):
    from idp.models import ProofingMedia

    with app.app_context():
        return ProofingMedia.query.filter_by(submission_id=submission_id).count()


def _evidence(app, email):
    from idp.proofing import evidence

    with app.app_context():
        return [(row.route, row.outcome, row.level, row.document_type, row.detail) for row in evidence.of(_person(app, email).id)]


def _run_jobs(app):
    from idp import jobs

    with app.app_context():
        jobs.run_due()


def _checking(rp, app, interaction, until):
    """The checking page, once the vendor's result has arrived (the queued callback job has run)."""
    path = page_path(interaction, "photo-id/face-scan/checking")

    def arrived():
        _run_jobs(app)
        response = rp.http.get(path)
        return response if until(response) else None

    return wait_until(arrived)


def test_a_face_scan_that_matches_raises_the_person_to_p9_inside_the_login(rp, person, app):
    email = person("P5")
    interaction, scan_path = _to_document_photo(rp, email, "photo_id_face_scan")
    assert scan_path.startswith("/prove-who-you-are/photo-id/face-scan/scan")
    response = _upload(rp.http, scan_path, "face", image("PNG", size=(720, 960)), "me.png")
    assert response.headers["Location"].startswith("/prove-who-you-are/photo-id/face-scan/checking")
    pending = rp.http.get(response.headers["Location"])
    assert "We are checking your photos" in pending.get_data(as_text=True)

    done = _checking(rp, app, interaction, lambda r: r.status_code == 302)
    result = finish_at_rp(rp, done)
    assert result["state"] == "pid" and "code" in result, result
    claims = rp.verify_id_token(rp.token(result["code"]).get_json()["id_token"])
    assert claims["vot"] == "P9.Cp.Cd" and claims["identity_proofing_level"] == "P9"

    submission = _submission(app, email)
    assert submission.status == "matched" and _media_left(app, submission.id) == 0  # deleted at the decision
    route, outcome, level, document, detail = _evidence(app, email)[-1]
    assert (route, outcome, level, document) == ("photo_id_face_scan", "verified", "P9", "passport")
    assert detail["vendor_reference"].startswith("sim-")
    runner = app.test_cli_runner()
    explained = runner.invoke(args=["users", "explain", email]).output
    assert "face scan" in explained and "vendor reference sim-" in explained and "supports P9" in explained


@pytest.mark.parametrize("face, heading, outcome", [
    (image("JPEG", colour=RED), "We could not match your face to your ID", "not_matched"),
    (image("JPEG", size=(400, 400)), "Your photos were not clear enough", "refused"),
])
def test_a_face_scan_that_does_not_match_or_is_unclear_says_so_and_offers_the_video(rp, person, app, face, heading, outcome):
    email = person("P5")
    interaction, scan_path = _to_document_photo(rp, email, "photo_id_face_scan")
    _upload(rp.http, scan_path, "face", face, "me.jpg")
    page = _checking(rp, app, interaction, lambda r: "checking your photos" not in r.get_data(as_text=True))
    text = page.get_data(as_text=True)
    assert heading in text and "Record a video instead" in text
    assert _person(app, email).proofing_level == "P5"
    submission = _submission(app, email)
    assert _media_left(app, submission.id) == 0
    assert _evidence(app, email)[-1][:3] == ("photo_id_face_scan", outcome, None)


def test_when_the_vendor_is_unavailable_nothing_is_recorded_and_the_photos_can_be_sent_again(rp, person, app):
    email = person("P5")
    interaction, scan_path = _to_document_photo(rp, email, "photo_id_face_scan")
    before = _evidence(app, email)
    response = _upload(rp.http, scan_path, "face", image("JPEG", colour=BLUE), "me.jpg")
    assert response.status_code == 503 and "Try again later" in response.get_data(as_text=True)
    assert _evidence(app, email) == before
    assert _submission(app, email).status == "started"  # the same photos can go again
    again = _upload(rp.http, scan_path, "face", image("JPEG"), "me.jpg")
    assert again.headers["Location"].startswith("/prove-who-you-are/photo-id/face-scan/checking")


def test_a_person_who_cannot_use_the_flashing_light_scan_records_a_video_instead(rp, person, app):
    email = person("P5")
    interaction, scan_path = _to_document_photo(rp, email, "photo_id_face_scan")
    page = rp.http.get(scan_path)
    assert "flashing lights" in page.get_data(as_text=True)
    response = rp.http.post(page_path(interaction, "photo-id/face-scan/use-video"),
                            data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.headers["Location"].startswith("/prove-who-you-are/photo-id/video/record")
    submission = _submission(app, email)
    assert submission.route == "photo_id_video" and len(submission.digits) == 4
    assert " ".join(submission.digits) in rp.http.get(response.headers["Location"]).get_data(as_text=True)


def test_a_photo_of_the_wrong_kind_is_refused_on_the_page_with_what_to_send(rp, person, app):
    email = person("P5")
    page, interaction = to_proofing(rp, email, vtr=VTR)
    response = submit(rp.http, page_path(interaction, "start"), {"route": "photo_id_video"})
    response = submit(rp.http, response.headers["Location"], {"document_type": "passport"})
    refused = _upload(rp.http, response.headers["Location"], "photo", b"%PDF-1.7 not a photo", "passport.jpg")
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "The photo must be a JPG, PNG or HEIC file" in text
    assert 'href="#photo"' in text  # the error summary links to the field


def test_an_unaccepted_document_type_is_refused(rp, person, app):
    email = person("P5")
    page, interaction = to_proofing(rp, email, vtr=VTR)
    response = submit(rp.http, page_path(interaction, "start"), {"route": "photo_id_video"})
    refused = submit(rp.http, response.headers["Location"], {"document_type": "library_card"})
    assert refused.status_code == 400 and "Choose the photo ID you will use" in refused.get_data(as_text=True)


def test_an_upload_far_over_the_limit_gets_a_page_saying_how_large_files_may_be(rp, person, app):
    app.extensions["idp"].settings.photo_id_max_image_bytes = 1024 * 1024
    email = person("P5")
    page, interaction = to_proofing(rp, email, vtr=VTR)
    response = submit(rp.http, page_path(interaction, "start"), {"route": "photo_id_video"})
    response = submit(rp.http, response.headers["Location"], {"document_type": "passport"})
    too_large = _upload(rp.http, response.headers["Location"], "photo", bytes(3 * 1024 * 1024), "big.jpg")
    assert too_large.status_code == 413 and "Photos must be smaller than 1MB" in too_large.get_data(as_text=True)


def test_the_video_route_ends_the_request_with_access_denied_and_a_we_will_email_you_page(rp, person, app):
    from freezegun import freeze_time

    email = person("P5")
    with freeze_time("2026-12-03 09:00:00", tick=True):
        interaction, record_path = _to_document_photo(rp, email, "photo_id_video")
        assert record_path.startswith("/prove-who-you-are/photo-id/video/record")
        submission = _submission(app, email)
        page = rp.http.get(record_path).get_data(as_text=True)
        assert "British Sign Language" in page
        # The digits are shown as a heading of their own, not as markup the person would read.
        assert f'id="digits">{" ".join(submission.digits)}</p>' in page and "&lt;p" not in page
        response = _upload(rp.http, record_path, "video", mp4(), "clip.mp4")
        assert response.headers["Location"].startswith("/prove-who-you-are/photo-id/video/sent")
        sent = rp.http.get(response.headers["Location"])
        text = sent.get_data(as_text=True)
        assert "We will email you within about 2 hours" in text
        result = finish_at_rp(rp, rp.http.post(response.headers["Location"], data={"csrf_token": csrf_from(text)}))
    assert result["error"] == "access_denied" and result["state"] == "pid"
    assert "waiting for review" in result["error_description"]

    waiting = _submission(app, email)
    assert waiting.status == "waiting" and waiting.due_at - waiting.submitted_at == 2 * 3600
    assert _media_left(app, waiting.id) == 2  # the document photo and the video, for the reviewer
    assert [m.template for m in outbox(app, email)][-1] == "photo_id_received"
    assert _evidence(app, email)[-1][:2] == ("photo_id_video", "submitted")
    assert _person(app, email).proofing_level == "P5"


def test_each_video_attempt_has_its_own_digits(app, person):
    from idp.models import Person
    from idp.proofing.photo_id import submissions

    email = person("P5")
    with app.app_context():
        someone = Person.query.filter_by(email=email).one()
        digits = {submissions.start(someone, "photo_id_video", "passport").digits for _ in range(8)}
    assert all(len(d) == 4 and d.isdigit() for d in digits) and len(digits) > 1


# --- the vendor's callback ------------------------------------------------------------------------
@pytest.fixture
def _checking_submission(rp, person, app, monkeypatch):
    """A face scan sent to a vendor that answers only when the test sends its callback."""
    from idp.proofing.photo_id.face_check.simulator import SimulatedVendor

    monkeypatch.setattr(SimulatedVendor, "request_check", lambda self, reference, document, face: None)
    email = person("P5")
    interaction, scan_path = _to_document_photo(rp, email, "photo_id_face_scan")
    _upload(rp.http, scan_path, "face", image("JPEG"), "me.jpg")
    return email, _submission(app, email)


def _callback(app, body: dict, signature=None, at=None):
    from idp.proofing.photo_id.face_check import SIGNATURE_HEADER, sign

    raw = json.dumps(body).encode()
    with app.app_context():
        header = signature if signature is not None else sign(raw, app.extensions["idp"].settings, at=at)
    return app.test_client().post("/prove-who-you-are/photo-id/face-check-result", data=raw,
                                  headers={SIGNATURE_HEADER: header, "Content-Type": "application/json"})


def test_a_signed_callback_decides_the_check_once(app, _checking_submission):
    email, submission = _checking_submission
    body = {"reference": submission.vendor_reference, "outcome": "match", "check_id": "v-123"}
    assert _callback(app, body).status_code == 204
    assert _person(app, email).proofing_level == "P9"
    repeated = _callback(app, {**body, "outcome": "no_match"})
    assert repeated.status_code == 204 and _submission(app, email).status == "matched"
    assert [row[1] for row in _evidence(app, email)].count("verified") == 1


@pytest.mark.parametrize("tamper", ["wrong signature", "non-ASCII signature", "stale", "unknown reference",
                                    "unknown outcome"])
def test_a_callback_that_is_not_the_vendors_is_refused_and_changes_nothing(app, _checking_submission, tamper):
    import time

    email, submission = _checking_submission
    body = {"reference": submission.vendor_reference, "outcome": "match", "check_id": "v-1"}
    if tamper == "wrong signature":
        response = _callback(app, body, signature=f"t={int(time.time())},v1={'0' * 64}")
    elif tamper == "non-ASCII signature":
        response = _callback(app, body, signature=f"t={int(time.time())},v1=\u00e9")
    elif tamper == "stale":
        response = _callback(app, body, at=int(time.time()) - 3600)
    elif tamper == "unknown reference":
        response = _callback(app, {**body, "reference": "not-ours"})
    else:
        response = _callback(app, {**body, "outcome": "probably"})
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"
    assert _person(app, email).proofing_level == "P5" and _submission(app, email).status == "checking"


@pytest.mark.parametrize("client_uri, expected", [
    ("https://rp.example/home", "https://rp.example/home"),
    ("https://rp.example/\n\nYour NHS login will be closed today. Call 0300 000 0000", None),
    ("https://elsewhere.example/", None),
    ("http://rp.example/", None),
])
def test_emails_link_to_the_service_only_on_its_own_https_host(app, register, client_uri, expected):
    """The link in photo ID emails is the client's client_uri only when it is a clean https URI on a host of its
    redirect URIs; anything else would put a stranger's words or site in an email under our name."""
    from idp.proofing.routes.photo_id_video import service_link

    rp = register(extra_metadata={"client_uri": client_uri})
    with app.app_context():
        assert service_link(rp.client_id) == (expected or app.extensions["idp"].settings.issuer + "/account")


def test_a_strangers_large_upload_is_refused_at_the_apps_limit_before_it_is_read(app):
    """Only a person logged in gets the upload limit raised: a 2 MB body with no session is refused unread."""
    response = app.test_client().post("/prove-who-you-are/photo-id/video/record",
                                      data={"video": (io.BytesIO(bytes(2 * 1024 * 1024)), "v.mp4")},
                                      content_type="multipart/form-data")
    assert response.status_code == 413
