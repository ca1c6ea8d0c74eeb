"""The one writer of a person's proofing level (interface.md Levels: P0, P5, P9)."""
from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from ..clock import now
from ..events import emit
from ..extensions import db
from ..levels import ProofingLevel
from ..models import Person
from . import evidence, person_record


class ProofingError(ValueError):
    """A level change the evidence does not support."""


class NhsNumberTaken(ProofingError):
    """The record matched belongs to another account: one NHS number, at most one account (issue 8)."""


def _claim_row(person, current, held) -> None:
    """Write only if the row still holds the level and NHS number this decision was made on.

    One conditional UPDATE: two checks of the same person racing (two tabs) cannot both raise it, or
    link it to two records; the later one is refused.
    """
    table = Person.__table__
    unchanged = [table.c.id == person.id, table.c.proofing_level == current.name,
                 table.c.nhs_number.is_(None) if held is None else table.c.nhs_number == held]
    result = db.session.execute(update(table).where(*unchanged).values(updated_at=now()))
    if result.rowcount != 1:
        raise ProofingError("the person's level changed while this check ran")


def raise_level(person, level: str, proof, *, record=None):
    """Raise ``person`` to ``level`` on ``proof`` (an unsaved ``Evidence`` naming that level), in one commit.

    ``record`` (a ``PdsRecord``) is the record the proof matched: its demographics become what the
    claims assert. A level is never lowered here, and never raised without supporting evidence. A
    refusal rolls back whatever the caller staged for this raise (the GP credentials) with it.
    """
    try:
        return _raise(person, level, proof, record)
    except ProofingError:
        db.session.rollback()
        raise


def _raise(person, level: str, proof, record):
    target = ProofingLevel.parse(level)
    current = ProofingLevel[person.proofing_level]
    if proof.level != level or proof.outcome not in evidence.SUPPORTING:
        raise ProofingError(f"evidence {proof.route}/{proof.outcome} does not support {level}")
    if not target.satisfies(current):
        raise ProofingError(f"{person.proofing_level} is above {level}: a level is never lowered by raise_level")
    held = person.nhs_number
    if record is not None and held and record.nhs_number != held and held not in record.superseded:
        # A proofed person's record changes only when PDS supersedes their number, never by another match.
        raise ProofingError("the person is already linked to another PDS record")
    if record is not None:
        owner = person_record.owner_of(record.nhs_number)
        if owner is not None and owner != person.id:
            raise NhsNumberTaken(record.nhs_number)
    _claim_row(person, current, held)
    if record is not None:
        person_record.adopt(person, record)
    person.proofing_level = level
    evidence.append(person.id, proof, commit=False)
    try:
        db.session.commit()
    except IntegrityError:
        # Two accounts raced to the same record: the unique NHS number lets only one win.
        raise NhsNumberTaken(record.nhs_number if record is not None else "") from None
    emit("proofing.level_raised", person_id=person.id, level=level, route=proof.route, previous=current.name)
    return person
