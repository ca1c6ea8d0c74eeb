"""High level (P9) with photo ID and an automated face scan (journeys.md P9 route 2).

The person uploads a photo of an accepted document and takes a face scan; the vendor matches the
face to the photo and checks liveness, and its signed result arrives later (``receive_callback``).
A match raises the person to P9 with evidence naming the vendor and its reference; every result
deletes the media. A person who cannot use the flashing-light scan moves to the video route.
"""
from __future__ import annotations

import logging
import secrets

from ...extensions import db
from ...i18n import N_
from ...levels import ProofingLevel
from ...models import Person, PhotoIdSubmission
from .. import attempts, evidence
from ..photo_id import media, submissions
from ..photo_id.face_check import BadCallback, VendorUnavailable, face_check, verify_callback
from . import Outcome, Result, Route, raised, register

log = logging.getLogger(__name__)
ROUTE = register(Route(
    name="photo_id_face_scan", reaches=ProofingLevel.P9, needs=ProofingLevel.P5, endpoint="proofing.face_scan_start",
    title=N_("Use photo ID and a face scan"),
    hint=N_("Take a photo of your passport, driving licence or identity card, then a short scan of your face."),
    offered=lambda person, settings: (ProofingLevel[person.proofing_level] == ProofingLevel.P5
                                      and face_check(settings) is not None),
    may_be_offered=lambda settings: face_check(settings) is not None,
))
THROTTLE = "proofing-face-scan"


def request_check(person, submission: PhotoIdSubmission, settings, source: str) -> Result:
    """Send the document photo and the face scan to the vendor; the result comes by callback."""
    if not ROUTE.offered(person, settings) or submission.route != ROUTE.name:
        return Result(Outcome.NOT_OFFERED)
    if not (media.has(submission.id, "document") and media.has(submission.id, "face")):
        return Result(Outcome.NOT_OFFERED)
    if attempts.locked(THROTTLE, person.id, source, settings) or not attempts.take(THROTTLE, person.id, source, settings):
        return Result(Outcome.LOCKED)
    reference = secrets.token_urlsafe(24)
    if not submissions.move(submission.id, ("started",), status="checking", vendor_reference=reference,
                            submitted_at=submission.created_at):
        return Result(Outcome.NOT_OFFERED)  # already sent (a second tab): its result is awaited
    try:
        face_check(settings).request_check(reference, media.read(submission.id, "document", settings),
                                           media.read(submission.id, "face", settings))
    except VendorUnavailable:
        db.session.rollback()  # back to "started": the person may send the same photos again later
        attempts.give_back(THROTTLE, person.id, source, settings)
        return Result(Outcome.UNAVAILABLE)
    db.session.commit()  # the status and the vendor's delivery job together
    return Result(Outcome.PENDING)


def receive_callback(body: bytes, signature: str | None, settings) -> str:
    """A vendor's signed result: decide the submission it names, once. Returns what was done."""
    result = verify_callback(body, signature, settings)  # BadCallback for anything unsigned or stale
    submission = PhotoIdSubmission.query.filter_by(vendor_reference=result.reference).first()
    if submission is None:
        raise BadCallback("no check has that reference")
    status = {"match": "matched", "no_match": "not_matched", "poor_image": "poor_image"}[result.outcome]
    checked_by = f"face_check:{settings.face_check_adapter}"
    if not submissions.finish(submission.id, ("checking",), status, decided_by=checked_by, commit=False):
        return "already decided"  # a repeated callback changes nothing
    person = db.session.get(Person, submission.person_id)
    if result.outcome != "match":
        evidence.append(person.id, evidence.new(
            route=ROUTE.name, outcome="not_matched" if result.outcome == "no_match" else "refused",
            checked_by=checked_by, document_type=submission.document_type,
            reason=result.outcome, vendor_reference=result.vendor_check_id))
        return status
    proof = evidence.new(route=ROUTE.name, outcome="verified", checked_by=checked_by, level="P9",
                         nhs_number=person.nhs_number, document_type=submission.document_type,
                         vendor_reference=result.vendor_check_id)
    # The decision, the media's deletion and the level in one commit: the person's page never sees one without the other.
    outcome = raised(person, "P9", proof, None)
    if outcome.outcome is not Outcome.RAISED:
        # Refused (the level moved meanwhile, or the record is another account's): still decided, media still gone.
        submissions.finish(submission.id, ("checking",), status, decided_by=checked_by)
        log.warning("face check %s matched but the level was not raised (%s)", submission.id, outcome.outcome.value)
    return status


def result_of(submission: PhotoIdSubmission) -> Result:
    """What the person's "checking" page shows for their submission now."""
    if submission.status in ("started", "checking"):
        return Result(Outcome.PENDING)
    if submission.status == "matched":
        return Result(Outcome.RAISED, "P9")
    if submission.status == "poor_image":
        return Result(Outcome.POOR_IMAGE)
    return Result(Outcome.NOT_MATCHED)
