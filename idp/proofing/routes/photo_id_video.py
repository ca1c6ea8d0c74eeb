"""High level (P9) with photo ID and a short video reviewed by the ID checking team (journeys.md P9 route 3).

The person uploads a document photo and a video saying, signing (BSL) or writing 4 random digits;
the submission waits in the team's queue, due 2 hours after it was sent. A reviewer holding the
claim approves (P9 through ``raise_level``, evidence naming the reviewer) or rejects with a reason;
either way the person is emailed and the media deleted. Unreviewed media expire (``expire``).
"""
from __future__ import annotations

from ...clock import now
from ...extensions import db
from ...i18n import N_
from ...levels import ProofingLevel
from ...models import Person, PhotoIdSubmission
from .. import evidence
from ..photo_id import media, submissions
from . import Outcome, Result, Route, raised, register

ROUTE = register(Route(
    name="photo_id_video", reaches=ProofingLevel.P9, needs=ProofingLevel.P5, endpoint="proofing.video_start",
    title=N_("Use photo ID and a short video"),
    hint=N_("Take a photo of your ID, then a short video of you saying, signing or writing 4 numbers. "
            "We check it and email you, normally within 2 hours."),
    offered=lambda person, settings: (ProofingLevel[person.proofing_level] == ProofingLevel.P5
                                      and settings.photo_id_video_route
                                      and submissions.waiting_for(person.id) is None),
    may_be_offered=lambda settings: settings.photo_id_video_route,
))
CHECKED_BY = "id_checking_team"
# Reasons a reviewer may give (the reason code is kept; the sentence is what the person is emailed).
REJECTION_REASONS: dict[str, tuple[str, str]] = {
    "document_unreadable": (N_("The photo of the document cannot be read"),
                            N_("We could not read the photo of your document. Take it in good light, with the whole document in view.")),
    "document_not_accepted": (N_("The document is not one we accept, or it has expired"),
                              N_("The document in the photo is not one we accept, or it has expired.")),
    "face_does_not_match": (N_("The person in the video does not match the photo ID"),
                            N_("We could not match the person in the video to the photo on the document.")),
    "digits_wrong": (N_("The video does not show the numbers asked for"),
                     N_("The video did not show the 4 numbers we asked for.")),
    "video_unclear": (N_("The video cannot be seen or heard clearly"),
                      N_("We could not see or hear the video clearly.")),
    "details_differ": (N_("The name or date of birth on the document differs from the NHS record"),
                       N_("The name or date of birth on the document is different from your NHS record.")),
    "other": (N_("Another reason (say what in the note)"), N_("We could not confirm who you are from what you sent.")),
}


def use_video(submission: PhotoIdSubmission) -> bool:
    """Move a face-scan attempt to this route (the person cannot use the flashing-light scan). Commits."""
    moved = submissions.move(submission.id, ("started",), route=ROUTE.name, digits=submissions.new_digits())
    if moved:
        media.delete(submission.id, "face")  # the document photo carries over; a face scan has no place here
    db.session.commit()
    return moved


def submit(person, submission: PhotoIdSubmission, settings) -> Result:
    """Put a submission with its document photo and video into the ID checking team's queue."""
    if not ROUTE.offered(person, settings) or submission.route != ROUTE.name:
        return Result(Outcome.NOT_OFFERED)
    if not (media.has(submission.id, "document") and media.has(submission.id, "video")):
        return Result(Outcome.NOT_OFFERED)
    sent = now()
    if not submissions.move(submission.id, ("started",), status="waiting", submitted_at=sent,
                            due_at=sent + settings.photo_id_review_seconds,
                            expires_at=sent + settings.photo_id_expiry_seconds):
        return Result(Outcome.NOT_OFFERED)
    evidence.append(person.id, evidence.new(route=ROUTE.name, outcome="submitted", checked_by="person",
                                            document_type=submission.document_type, submission=submission.id),
                    commit=False)
    _tell(person, submission, "photo_id_received", {})
    db.session.commit()
    return Result(Outcome.PENDING)


def approve(submission: PhotoIdSubmission, reviewer_id: str, reviewer_email: str) -> Result:
    """The reviewer holding the claim confirms who the person is: P9, with evidence naming them."""
    if not submissions.holds_claim(submission, reviewer_id):
        return Result(Outcome.NOT_OFFERED)
    if not submissions.finish(submission.id, ("waiting",), "approved", decided_by=reviewer_id, commit=False):
        return Result(Outcome.NOT_OFFERED)
    person = db.session.get(Person, submission.person_id)
    proof = evidence.new(route=ROUTE.name, outcome="verified", checked_by=CHECKED_BY, level="P9",
                         nhs_number=person.nhs_number, document_type=submission.document_type,
                         staff_member=reviewer_id, reviewer=reviewer_email, submission=submission.id)
    _tell(person, submission, "photo_id_approved", {})  # queued in the same commit as the level
    result = raised(person, "P9", proof, None)
    if result.outcome is not Outcome.RAISED:
        # Refused (already P9 another way, or the record is another account's): still decided, media still gone.
        submissions.finish(submission.id, ("waiting",), "approved", decided_by=reviewer_id)
    return result


def reject(submission: PhotoIdSubmission, reviewer_id: str, reviewer_email: str, reason: str, note: str) -> Result:
    """The reviewer holding the claim could not confirm who the person is, for ``reason``."""
    if reason not in REJECTION_REASONS or not submissions.holds_claim(submission, reviewer_id):
        return Result(Outcome.NOT_OFFERED)
    if not submissions.finish(submission.id, ("waiting",), "rejected", decided_by=reviewer_id, reason=reason,
                              commit=False):
        return Result(Outcome.NOT_OFFERED)
    person = db.session.get(Person, submission.person_id)
    evidence.append(person.id, evidence.new(route=ROUTE.name, outcome="refused", checked_by=CHECKED_BY,
                                            nhs_number=person.nhs_number, document_type=submission.document_type,
                                            staff_member=reviewer_id, reviewer=reviewer_email, reason=reason,
                                            note=note or None, submission=submission.id), commit=False)
    _tell(person, submission, "photo_id_rejected", {"reason": REJECTION_REASONS[reason][1]}, translate=("reason",))
    db.session.commit()
    return Result(Outcome.NOT_MATCHED)


def expire(at: int | None = None) -> int:
    """Close every open submission past its expiry and delete its media (housekeeping); tells those waiting."""
    count = 0
    for submission in submissions.expired(at):
        was_waiting = submission.status == "waiting"
        if not submissions.finish(submission.id, submissions.OPEN, "expired", commit=False):
            continue
        count += 1
        if was_waiting:
            person = db.session.get(Person, submission.person_id)
            evidence.append(person.id, evidence.new(route=submission.route, outcome="expired", checked_by="housekeeping",
                                                    document_type=submission.document_type,
                                                    submission=submission.id), commit=False)
            _tell(person, submission, "photo_id_expired", {})
        db.session.commit()
    return count


def _tell(person, submission: PhotoIdSubmission, template: str, values: dict, translate: tuple = ()) -> None:
    """Email the person, in the language they used, with a link back to the service they came from.

    ``translate`` names values that are marked messages, put in that language too."""
    from flask_babel import force_locale, gettext

    from ...notifications import ChannelUnavailable, send

    language = submission.language if submission.language in ("en", "cy") else "en"
    with force_locale(language):
        values = {k: gettext(v) if k in translate else v for k, v in values.items()}
    try:
        send(template, person.email, "email", {"link": service_link(submission.client_id), **values},
             language=language)
    except ChannelUnavailable:
        pass  # a deployment without email: the outcome is still on the account page


def service_link(client_id: str | None) -> str:
    """The relying party's home page (its registered https ``client_uri``), else our account page."""
    from flask import current_app

    from ...models import Client

    from urllib.parse import urlsplit

    from ...protocol.registration import RegistrationError, check_uri

    client = db.session.get(Client, client_id) if client_id else None
    uri = (client.extra_metadata or {}).get("client_uri") if client is not None else None
    try:
        # Into an email under our name: a real https URI, on a host the client's redirect URIs are on.
        uri = check_uri(uri, "client_uri", allow_http_loopback=False) if uri else None
    except RegistrationError:
        uri = None
    hosts = {urlsplit(u).hostname for u in (client.redirect_uris if client is not None else [])}
    if uri and urlsplit(uri).hostname in hosts:
        return uri
    return current_app.extensions["idp"].settings.issuer + "/account"
