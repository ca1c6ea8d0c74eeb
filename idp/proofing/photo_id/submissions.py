"""A photo ID submission's life: started, sent to the vendor or the ID checking team, decided or expired.

Every change of status is one conditional UPDATE from the statuses it may come from, so a callback
and an expiry, or two reviewers, racing cannot both act on one submission. A reviewer holds a claim
for ``CLAIM_SECONDS``; an abandoned claim lapses and the submission is back in the queue.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import or_, update

from ...clock import now
from ...extensions import db
from ...models import PhotoIdSubmission
from . import media

STARTED_SECONDS = 24 * 3600  # uploads never sent are deleted after a day
CLAIM_SECONDS = 20 * 60
OPEN = ("started", "checking", "waiting")


def new_digits() -> str:
    """4 random digits for a video, new for every attempt (journeys.md "Prove who they are" 3)."""
    return f"{secrets.randbelow(10000):04d}"


def start(person, route: str, document_type: str, *, language: str = "en", client_id: str | None = None) -> PhotoIdSubmission:
    """A new attempt; the person's earlier unsent attempts are withdrawn and their media deleted. Commits."""
    for earlier in PhotoIdSubmission.query.filter_by(person_id=person.id, status="started"):
        finish(earlier.id, ("started",), "withdrawn", commit=False)
    submission = PhotoIdSubmission(person_id=person.id, route=route, document_type=document_type, status="started",
                                   digits=new_digits() if route == "photo_id_video" else None, language=language,
                                   client_id=client_id, created_at=now(), expires_at=now() + STARTED_SECONDS)
    db.session.add(submission)
    db.session.commit()
    return submission


def of_person(submission_id: str | None, person_id: str) -> PhotoIdSubmission | None:
    """The submission, if it is this person's: never another person's by a guessed id."""
    if not submission_id:
        return None
    submission = db.session.get(PhotoIdSubmission, submission_id)
    return submission if submission is not None and submission.person_id == person_id else None


def waiting_for(person_id: str) -> PhotoIdSubmission | None:
    """The person's submission in the ID checking team's queue, if any (one at a time)."""
    return PhotoIdSubmission.query.filter_by(person_id=person_id, status="waiting").first()


def move(submission_id: str, from_statuses: tuple[str, ...], **values) -> bool:
    """Change a submission only if it is still in one of ``from_statuses``. The caller commits."""
    result = db.session.execute(update(PhotoIdSubmission).where(
        PhotoIdSubmission.id == submission_id, PhotoIdSubmission.status.in_(from_statuses)).values(**values))
    return result.rowcount == 1


def finish(submission_id: str, from_statuses: tuple[str, ...], status: str, *, decided_by: str | None = None,
           reason: str | None = None, commit: bool = True) -> bool:
    """Close a submission with ``status`` and delete its media, if no one else closed it first."""
    moved = move(submission_id, from_statuses, status=status, decided_by=decided_by, decided_at=now(), reason=reason,
                 claimed_by=None, claim_expires_at=None)
    if moved:
        media.delete_all(submission_id)
    if commit:
        db.session.commit()
    return moved


# --- the ID checking team's queue ------------------------------------------------------------------
@dataclass(frozen=True)
class QueueEntry:
    submission: PhotoIdSubmission
    overdue: bool
    claimed_by: str | None  # a live claim's holder, if any


def queue(at: int | None = None) -> list[QueueEntry]:
    """Submissions waiting for review, the most urgent (earliest due) first."""
    at = now() if at is None else at
    rows = PhotoIdSubmission.query.filter_by(status="waiting").order_by(PhotoIdSubmission.due_at,
                                                                        PhotoIdSubmission.id).all()
    return [QueueEntry(row, row.due_at is not None and row.due_at < at,
                       row.claimed_by if row.claim_expires_at and row.claim_expires_at > at else None) for row in rows]


def claim(submission_id: str, staff_id: str) -> bool:
    """Hold a waiting submission for this reviewer: free, already theirs, or a lapsed claim. Commits."""
    current = now()
    result = db.session.execute(update(PhotoIdSubmission).where(
        PhotoIdSubmission.id == submission_id, PhotoIdSubmission.status == "waiting",
        or_(PhotoIdSubmission.claimed_by.is_(None), PhotoIdSubmission.claimed_by == staff_id,
            PhotoIdSubmission.claim_expires_at <= current),
    ).values(claimed_by=staff_id, claim_expires_at=current + CLAIM_SECONDS))
    db.session.commit()
    return result.rowcount == 1


def holds_claim(submission: PhotoIdSubmission, staff_id: str) -> bool:
    return (submission.status == "waiting" and submission.claimed_by == staff_id
            and (submission.claim_expires_at or 0) > now())


def release(submission_id: str, staff_id: str) -> None:
    db.session.execute(update(PhotoIdSubmission).where(
        PhotoIdSubmission.id == submission_id, PhotoIdSubmission.claimed_by == staff_id,
    ).values(claimed_by=None, claim_expires_at=None))
    db.session.commit()


def expired(at: int | None = None) -> list[PhotoIdSubmission]:
    at = now() if at is None else at
    return PhotoIdSubmission.query.filter(PhotoIdSubmission.status.in_(OPEN),
                                          PhotoIdSubmission.expires_at <= at).all()
