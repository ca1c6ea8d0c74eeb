"""Prove who you are with photo ID: the document, its photo, then a face scan or a video.

Every page works without JavaScript: uploads are plain file inputs (on a phone they open the
camera), and the face scan's result is waited for with a "continue" button. The submission being
built is kept in the interaction's server-side state, never in the page.
"""
from __future__ import annotations

from flask import current_app, redirect, render_template, request
from flask_babel import gettext
from werkzeug.exceptions import RequestEntityTooLarge

from ... import surfaces
from ...authentication import current_login
from ...extensions import csrf, db
from ...i18n import current_language
from ...protocol.errors import error_response
from ...protocol import interactions
from ..photo_id import documents, media, submissions
from ..photo_id.face_check import SIGNATURE_HEADER, BadCallback
from ..photo_id.uploads import UploadRefused, read_image, read_video
from ..routes import Outcome, photo_id_face_scan, photo_id_video
from .blueprint import bp
from .views import _journey, _settings, _source, _stopped, _timed_out, onward

ROUTES = {"face-scan": photo_id_face_scan, "video": photo_id_video}
_STATE = "photo_id"


def accepts_upload(limit_setting: str):
    """Mark a view as taking a file of at most the setting's size (read before CSRF reads the form)."""
    def mark(view):
        view._upload_limit = limit_setting
        return view
    return mark


@bp.record_once
def _install_upload_limit(state):
    # First of the app's before_request functions: the body limit must be raised before Flask-WTF's
    # CSRF check reads the form; every other request keeps the app's 64 KB.
    def raise_limit():
        view = current_app.view_functions.get(request.endpoint or "")
        setting = getattr(view, "_upload_limit", None)
        # Only for someone logged in: a stranger's 40 MB body is refused at the app's limit, never parsed.
        if setting and request.method == "POST" and current_login() is not None:
            request.max_content_length = getattr(_settings(), setting) + 256 * 1024  # the form's other fields
    state.app.before_request_funcs.setdefault(None, []).insert(0, raise_limit)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error):
    limits = {"size": f"{_settings().photo_id_max_image_bytes // (1024 * 1024)}MB",
              "video_size": f"{_settings().photo_id_max_video_bytes // (1024 * 1024)}MB"}
    return render_template("errors/error.html", status=413, heading=gettext("The file you chose is too large"),
                           message=gettext("Photos must be smaller than %(size)s and videos smaller than "
                                           "%(video_size)s. Go back and choose a smaller file.", **limits)), 413


def _submission(j):
    return submissions.of_person(j.interaction.steps.get("proofing", {}).get(_STATE), j.person.id)


def _file_error(error: UploadRefused) -> dict:
    return {"message": gettext(error.message, **error.values)}


# --- the document ----------------------------------------------------------------------------------
@bp.route("/photo-id/face-scan", methods=["GET", "POST"], endpoint="face_scan_start", defaults={"kind": "face-scan"})
@bp.route("/photo-id/video", methods=["GET", "POST"], endpoint="video_start", defaults={"kind": "video"})
def document_type(kind: str):
    j = _journey()
    if j is None:
        return _timed_out()
    route = ROUTES[kind]
    if not route.ROUTE.offered(j.person, _settings()):
        return redirect(j.url("proofing.start"))
    errors = []
    if request.method == "POST":
        chosen = request.form.get("document_type")
        if documents.is_accepted(chosen):
            submission = submissions.start(j.person, route.ROUTE.name, chosen, language=current_language(),
                                           client_id=j.interaction.client_id)
            j.interaction.steps.setdefault("proofing", {})[_STATE] = submission.id
            interactions.save(j.interaction)
            return redirect(j.url("proofing.photo_id_document"))
        errors = [{"field": "document_type", "message": gettext("Choose the photo ID you will use")}]
    return render_template("proofing/photo_id_document_type.html", j=j, kind=kind, errors=errors,
                           documents=documents.DOCUMENT_TYPES, action=j.url(request.endpoint),
                           back_url=j.url("proofing.start"), stop_url=j.url("proofing.cannot_continue")), \
        400 if errors else 200


@bp.route("/photo-id/document-photo", methods=["GET", "POST"], endpoint="photo_id_document")
@accepts_upload("photo_id_max_image_bytes")
def document_photo():
    j = _journey()
    if j is None:
        return _timed_out()
    submission = _submission(j)
    if submission is None or submission.status != "started":
        return redirect(j.url("proofing.start"))
    errors = []
    if request.method == "POST":
        try:
            upload = read_image(request.files.get("photo"), _settings().photo_id_max_image_bytes)
        except UploadRefused as refused:
            errors = [{"field": "photo", **_file_error(refused)}]
        else:
            media.keep(submission.id, "document", upload)
            db.session.commit()
            nxt = "proofing.face_scan" if submission.route == photo_id_face_scan.ROUTE.name else "proofing.video_record"
            return redirect(j.url(nxt))
    back = "proofing.face_scan_start" if submission.route == photo_id_face_scan.ROUTE.name else "proofing.video_start"
    return render_template("proofing/photo_id_document_photo.html", j=j, errors=errors,
                           document=documents.DOCUMENT_TYPES[submission.document_type], action=j.url(request.endpoint),
                           back_url=j.url(back), stop_url=j.url("proofing.cannot_continue")), 400 if errors else 200


# --- the face scan ---------------------------------------------------------------------------------
@bp.route("/photo-id/face-scan/scan", methods=["GET", "POST"], endpoint="face_scan")
@accepts_upload("photo_id_max_image_bytes")
def face_scan():
    j = _journey()
    if j is None:
        return _timed_out()
    submission = _submission(j)
    if submission is None or submission.route != photo_id_face_scan.ROUTE.name:
        return redirect(j.url("proofing.start"))
    if submission.status != "started":
        return redirect(j.url("proofing.face_scan_checking"))
    if not media.has(submission.id, "document"):
        return redirect(j.url("proofing.photo_id_document"))
    errors = []
    if request.method == "POST":
        try:
            upload = read_image(request.files.get("face"), _settings().photo_id_max_image_bytes)
        except UploadRefused as refused:
            errors = [{"field": "face", **_file_error(refused)}]
        else:
            media.keep(submission.id, "face", upload)
            db.session.commit()
            result = photo_id_face_scan.request_check(j.person, submission, _settings(), _source())
            if result.outcome is Outcome.PENDING:
                return redirect(j.url("proofing.face_scan_checking"))
            return _stopped(j, result)
    return render_template("proofing/photo_id_face_scan.html", j=j, errors=errors, action=j.url(request.endpoint),
                           switch_action=j.url("proofing.face_scan_switch"), back_url=j.url("proofing.photo_id_document"),
                           stop_url=j.url("proofing.cannot_continue")), 400 if errors else 200


@bp.post("/photo-id/face-scan/use-video", endpoint="face_scan_switch")
def face_scan_switch():
    """journeys.md route 2: a person who cannot use the flashing-light scan records a video instead."""
    j = _journey()
    if j is None:
        return _timed_out()
    submission = _submission(j)
    if (submission is None or not photo_id_video.ROUTE.offered(j.person, _settings())
            or not photo_id_video.use_video(submission)):
        return redirect(j.url("proofing.start"))
    return redirect(j.url("proofing.video_record"))


@bp.get("/photo-id/face-scan/checking", endpoint="face_scan_checking")
def face_scan_checking():
    j = _journey()
    if j is None:
        return _timed_out()
    submission = _submission(j)
    if submission is None or submission.route != photo_id_face_scan.ROUTE.name:
        return redirect(j.url("proofing.start"))
    result = photo_id_face_scan.result_of(submission)
    if result.outcome is Outcome.RAISED:
        return onward(j)
    return render_template("proofing/photo_id_checking.html", j=j, outcome=result.outcome.value,
                           check_url=j.url(request.endpoint), again_url=j.url("proofing.face_scan_start"),
                           video_url=j.url("proofing.video_start")
                           if photo_id_video.ROUTE.offered(j.person, _settings()) else None,
                           stop_url=j.url("proofing.cannot_continue"))


# --- the video -------------------------------------------------------------------------------------
@bp.route("/photo-id/video/record", methods=["GET", "POST"], endpoint="video_record")
@accepts_upload("photo_id_max_video_bytes")
def video_record():
    j = _journey()
    if j is None:
        return _timed_out()
    submission = _submission(j)
    if submission is None or submission.route != photo_id_video.ROUTE.name:
        return redirect(j.url("proofing.start"))
    if submission.status == "waiting":
        return redirect(j.url("proofing.video_sent"))
    if submission.status != "started" or not media.has(submission.id, "document"):
        return redirect(j.url("proofing.start"))
    errors = []
    if request.method == "POST":
        try:
            upload = read_video(request.files.get("video"), _settings().photo_id_max_video_bytes)
        except UploadRefused as refused:
            errors = [{"field": "video", **_file_error(refused)}]
        else:
            media.keep(submission.id, "video", upload)
            db.session.commit()
            result = photo_id_video.submit(j.person, submission, _settings())
            if result.outcome is Outcome.PENDING:
                return redirect(j.url("proofing.video_sent"))
            return _stopped(j, result)
    return render_template("proofing/photo_id_video.html", j=j, errors=errors, digits=submission.digits,
                           action=j.url(request.endpoint), back_url=j.url("proofing.photo_id_document"),
                           stop_url=j.url("proofing.cannot_continue")), 400 if errors else 200


@bp.route("/photo-id/video/sent", methods=["GET", "POST"], endpoint="video_sent")
def video_sent():
    """journeys.md Step-up: a route that needs hours ends the request with access_denied and this page."""
    j = _journey()
    if j is None:
        return _timed_out()
    submission = _submission(j)
    if submission is None or submission.status != "waiting":
        return redirect(j.url("proofing.start"))
    if request.method == "POST":
        if not j.interaction.is_authorization:
            interactions.finish(j.interaction.id)
            return redirect(j.interaction.return_to or "/account")
        j.interaction.steps["abandoned"] = True
        j.interaction.steps["waiting_for_review"] = True
        interactions.save(j.interaction)
        return redirect(interactions.next_url(j.interaction))
    return render_template("proofing/photo_id_sent.html", j=j, action=j.url(request.endpoint),
                           hours=max(1, _settings().photo_id_review_seconds // 3600))


# --- the vendor's callback (a machine, not a person) -------------------------------------------------
@bp.post("/photo-id/face-check-result", endpoint="face_check_result")
@surfaces.view(surfaces.Surface.API)
@csrf.exempt
def face_check_result():
    """The face-check vendor's signed result (face_check.verify_callback): 204 once decided, 400 if not ours."""
    if (request.content_length or 0) > 16 * 1024:
        return error_response(413, "invalid_request", "The result is too large.")
    try:
        photo_id_face_scan.receive_callback(request.get_data(cache=False), request.headers.get(SIGNATURE_HEADER),
                                            _settings())
    except BadCallback as refused:
        return error_response(400, "invalid_request", str(refused))
    return "", 204
