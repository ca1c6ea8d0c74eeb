"""The one writer of a person's proofing level (interface.md Levels: P0, P5, P9)."""
from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from ..events import emit
from ..extensions import db
from ..levels import ProofingLevel
from . import evidence, person_record


class ProofingError(ValueError):
    """A level change the evidence does not support."""


class NhsNumberTaken(ProofingError):
    """The record matched belongs to another account: one NHS number, at most one account (issue 8)."""


def raise_level(person, level: str, proof, *, record=None):
    """Raise ``person`` to ``level`` on ``proof`` (an unsaved ``Evidence`` naming that level), in one commit.

    ``record`` (a ``PdsRecord``) is the record the proof matched: its demographics become what the
    claims assert. A level is never lowered here, and never raised without supporting evidence.
    """
    target = ProofingLevel.parse(level)
    current = ProofingLevel[person.proofing_level]
    if proof.level != level or proof.outcome not in evidence.SUPPORTING:
        raise ProofingError(f"evidence {proof.route}/{proof.outcome} does not support {level}")
    if not target.satisfies(current):
        raise ProofingError(f"{person.proofing_level} is above {level}: a level is never lowered by raise_level")
    if record is not None:
        owner = person_record.owner_of(record.nhs_number)
        if owner is not None and owner != person.id:
            raise NhsNumberTaken(record.nhs_number)
        person_record.adopt(person, record)
    person.proofing_level = level
    evidence.append(person.id, proof, commit=False)
    try:
        db.session.commit()
    except IntegrityError:
        # Two accounts raced to the same record: the unique NHS number lets only one win.
        db.session.rollback()
        raise NhsNumberTaken(record.nhs_number if record is not None else "") from None
    emit("proofing.level_raised", person_id=person.id, level=level, route=proof.route, previous=current.name)
    return person
