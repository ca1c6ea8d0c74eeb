"""The ID checking team's queue (issue 9): photo ID and video submissions by due time, one reviewer at a
time, approve or reject with a reason. The rules are the video route's (idp/proofing/routes/photo_id_video.py);
these views parse, call them, audit and render.
"""
from __future__ import annotations

from flask import Response, abort, redirect, render_template, request, url_for
from flask_babel import gettext

from ..clock import now
from ..extensions import db
from ..i18n import N_
from ..models import Person, PhotoIdSubmission, ProofingMedia
from ..proofing.photo_id import documents, media, submissions
from ..proofing.routes import Outcome, photo_id_video
from . import audit
from .access import ID_CHECKER, current_staff, register_area, requires_role
from .blueprint import bp

register_area(N_("Review ID checks"), "staff.queue", ID_CHECKER,
              N_("Check photo ID and videos people have sent, most urgent first."))
MAX_NOTE = 500
NOTICES = {
    "approved": N_("The ID check was approved. The person has been emailed."),
    "rejected": N_("The ID check was rejected. The person has been emailed."),
    "taken": N_("Someone else is reviewing that ID check. Choose another."),
    "gone": N_("That ID check has already been decided or has expired."),
    "released": N_("You have put the ID check back in the queue."),
}


@bp.get("/id-checks", endpoint="queue")
@requires_role(ID_CHECKER)
def queue():
    entries = submissions.queue()
    audit.record("id_check.queue_viewed", waiting=len(entries))
    db.session.commit()
    notice = NOTICES.get(request.args.get("notice") or "")
    return render_template("staff/id_check_queue.html", entries=entries, documents=documents.DOCUMENT_TYPES,
                           notice=gettext(notice) if notice else None, me=current_staff().id)


@bp.post("/id-checks/<submission_id>/claim", endpoint="claim_id_check")
@requires_role(ID_CHECKER)
def claim(submission_id):
    submission = _waiting(submission_id)
    if not submissions.claim(submission.id, current_staff().id):
        return redirect(url_for("staff.queue", notice="taken"))
    audit.record("id_check.claimed", person_id=submission.person_id, subject=submission.id)
    db.session.commit()
    return redirect(url_for("staff.id_check", submission_id=submission.id))


@bp.get("/id-checks/<submission_id>", endpoint="id_check")
@requires_role(ID_CHECKER)
def review(submission_id):
    submission = _held(submission_id)
    if isinstance(submission, Response):
        return submission
    audit.record("id_check.viewed", person_id=submission.person_id, subject=submission.id)
    db.session.commit()
    return _review_page(submission, errors=[], form={})


@bp.get("/id-checks/<submission_id>/media/<kind>", endpoint="id_check_media")
@requires_role(ID_CHECKER)
def media_file(submission_id, kind):
    """The document photo or the video, decrypted for the reviewer holding the claim only."""
    if kind not in ("document", "video"):
        abort(404)
    submission = _held(submission_id)
    if isinstance(submission, Response):
        abort(403)
    stored = media.read(submission.id, kind)
    if stored is None:
        abort(404)
    audit.record("id_check.media_viewed", person_id=submission.person_id, subject=submission.id, kind=kind)
    db.session.commit()
    content_type, data = stored
    if content_type.startswith("image/"):
        # Re-encoded for the reviewer: browsers do not show HEIC, and the photo's metadata (EXIF: where and when
        # it was taken, the phone) is not the reviewer's to see. The stored original is unchanged.
        content_type, data = "image/jpeg", media.as_jpeg(data)
    response = Response(data, mimetype=content_type)
    response.headers["Content-Disposition"] = "inline"
    return response


@bp.post("/id-checks/<submission_id>/decision", endpoint="decide_id_check")
@requires_role(ID_CHECKER)
def decide(submission_id):
    submission = _held(submission_id)
    if isinstance(submission, Response):
        return submission
    member = current_staff()
    decision, reason = request.form.get("decision"), request.form.get("reason") or ""
    note = " ".join((request.form.get("note") or "").split())
    errors = []
    if decision not in ("approve", "reject"):
        errors.append({"field": "decision", "message": gettext("Choose whether the ID check is approved or rejected")})
    elif decision == "reject" and reason not in photo_id_video.REJECTION_REASONS:
        errors.append({"field": "reason", "message": gettext("Choose the reason for rejecting the ID check")})
    elif decision == "reject" and reason == "other" and not note:
        errors.append({"field": "note", "message": gettext("Say why the ID check is rejected")})
    if len(note) > MAX_NOTE:
        errors.append({"field": "note", "message": gettext("The note must be %(num)d characters or fewer", num=MAX_NOTE)})
    if errors:
        return _review_page(submission, errors=errors, form=request.form), 400
    if decision == "approve":
        result = photo_id_video.approve(submission, member.id, member.email)
    else:
        result = photo_id_video.reject(submission, member.id, member.email, reason, note)
    if result.outcome is Outcome.NOT_OFFERED:
        return redirect(url_for("staff.queue", notice="gone"))
    audit.record(f"id_check.{decision}d", person_id=submission.person_id, subject=submission.id,
                 reason=reason if decision == "reject" else None, outcome=result.outcome.value)
    db.session.commit()
    return redirect(url_for("staff.queue", notice=f"{decision}d"))


@bp.post("/id-checks/<submission_id>/release", endpoint="release_id_check")
@requires_role(ID_CHECKER)
def release(submission_id):
    submission = _waiting(submission_id)
    submissions.release(submission.id, current_staff().id)
    audit.record("id_check.released", person_id=submission.person_id, subject=submission.id)
    db.session.commit()
    return redirect(url_for("staff.queue", notice="released"))


def _waiting(submission_id: str) -> PhotoIdSubmission:
    submission = db.session.get(PhotoIdSubmission, submission_id)
    if submission is None or submission.route != photo_id_video.ROUTE.name:
        abort(404)
    return submission


def _held(submission_id: str):
    """The submission, if this reviewer holds its claim; else the way back to the queue."""
    submission = _waiting(submission_id)
    if submission.status != "waiting":
        return redirect(url_for("staff.queue", notice="gone"))
    if not submissions.holds_claim(submission, current_staff().id):
        return redirect(url_for("staff.queue", notice="taken"))
    return submission


def _review_page(submission: PhotoIdSubmission, *, errors: list, form):
    person = db.session.get(Person, submission.person_id)
    return render_template(
        "staff/id_check_review.html", submission=submission, person=person, errors=errors, form=form,
        document=documents.DOCUMENT_TYPES.get(submission.document_type, submission.document_type),
        reasons=photo_id_video.REJECTION_REASONS, overdue=(submission.due_at or 0) < now(), max_note=MAX_NOTE,
        video=db.session.get(ProofingMedia, (submission.id, "video")))
