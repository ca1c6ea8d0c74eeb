"""The evidence ledger: every proofing check appended, never changed, and read back to explain a level.

A row says who or what checked (``checked_by``), when, by which route, what it found, and which PDS
record (NHS number and version) or document type it used. Nothing else about the person is kept.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..clock import now
from ..extensions import db
from ..models import Evidence

# Outcomes that support the level they name; every other outcome is a check that raised nothing.
SUPPORTING = ("matched", "verified", "transferred", "level_set")


def new(*, route: str, outcome: str, checked_by: str, level: str | None = None, record=None,
        nhs_number: str | None = None, document_type: str | None = None, staff_member: str | None = None,
        **detail) -> Evidence:
    """An unsaved row; ``record`` (a ``PdsRecord``) gives the NHS number and version."""
    return Evidence(route=route, outcome=outcome, checked_by=checked_by, level=level, at=now(),
                    nhs_number=record.nhs_number if record is not None else nhs_number,
                    pds_version=record.version if record is not None else None,
                    document_type=document_type, staff_member=staff_member,
                    detail={k: v for k, v in detail.items() if v is not None})


def append(person_id: str, row: Evidence, *, commit: bool = True) -> Evidence:
    row.person_id = person_id
    # Without flushing: the caller's other changes go in its own single commit (raise_level's).
    with db.session.no_autoflush:
        last = db.session.query(db.func.max(Evidence.seq)).filter(Evidence.person_id == person_id).scalar() or 0
    pending = [r.seq for r in db.session.new if isinstance(r, Evidence) and r.person_id == person_id and r.seq]
    row.seq = max([last, *pending]) + 1
    db.session.add(row)
    if commit:
        db.session.commit()
    return row


def of(person_id: str) -> list[Evidence]:
    return Evidence.query.filter_by(person_id=person_id).order_by(Evidence.seq).all()


def evidenced_level(person_id: str) -> str:
    """The highest level some supporting evidence names: what a person's level must never exceed."""
    levels = [row.level for row in of(person_id) if row.outcome in SUPPORTING and row.level]
    return max(levels, key=lambda lvl: int(lvl[1:]), default="P0")


ROUTE_WORDS = {
    "demographics": "matched their details to the Personal Demographics Service (PDS)",
    "gp_online": "gave their GP online services registration details, checked with the GP practice system",
    "fast_track": "had an earlier GP online services ID check transferred (fast-track)",
    "operator": "was set by an operator from the command line",
    "pds_refresh": "had their PDS record read again at a login",
    "photo_id_face_scan": "sent photo ID and a face scan, checked by the face-check vendor",
    "photo_id_video": "sent photo ID and a video, reviewed by the ID checking team",
    "in_person": "was verified in person by a health professional",
    "provisioning": "was provisioned by a health service's system and claimed from the emailed link",
}
OUTCOME_WORDS = {
    "matched": "matched", "verified": "verified", "transferred": "transferred", "level_set": "level set",
    "not_matched": "did not match", "refused": "refused", "changed": "record changed", "unchanged": "no change",
    "submitted": "submitted for review", "expired": "expired before review (media deleted)",
}


@dataclass(frozen=True)
class Explanation:
    """One line of ``idp users explain``: the evidence in plain words, and the same as data."""

    at: int
    text: str
    data: dict


def _utc(epoch) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(int(epoch), timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def explain(person) -> list[Explanation]:
    from datetime import datetime, timezone

    lines = []
    for row in of(person.id):
        when = datetime.fromtimestamp(row.at, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        words = [f"{when}: {ROUTE_WORDS.get(row.route, row.route)}", f"- {OUTCOME_WORDS.get(row.outcome, row.outcome)}"]
        if row.level and row.outcome in SUPPORTING:
            words.append(f"- supports {row.level}")
        if row.nhs_number and row.pds_version:
            words.append(f"- PDS record {row.nhs_number} version {row.pds_version}")
        elif row.nhs_number:
            words.append(f"- NHS number {row.nhs_number} (as stated, not read from PDS)")
        if row.document_type:
            words.append(f"- document {row.document_type}")
        if row.staff_member:
            who = row.detail.get("reviewer")
            words.append(f"- by staff member {who} ({row.staff_member})" if who else f"- by staff member {row.staff_member}")
        if row.detail.get("ods_code"):
            words.append(f"- at organisation {row.detail['ods_code']}")
        if row.detail.get("provisioned_at"):  # "provisioned for ODS code X at T by client C, claimed at U"
            words.append(f"- provisioned at {_utc(row.detail['provisioned_at'])} by client {row.detail.get('client_id')}"
                         f" (request {row.detail.get('provisioning_id')})")
        if row.detail.get("claimed_at"):
            words.append(f"- claimed at {_utc(row.detail['claimed_at'])}")
        if row.detail.get("vendor_reference"):
            words.append(f"- vendor reference {row.detail['vendor_reference']}")
        if row.detail.get("reason") and row.detail["reason"] not in ROUTE_WORDS.get(row.route, ""):
            words.append(f"(reason: {row.detail['reason']})")
        words.append(f"[checked by {row.checked_by}]")
        data = {"at": row.at, "route": row.route, "outcome": row.outcome, "level": row.level,
                "checked_by": row.checked_by, "nhs_number": row.nhs_number, "pds_version": row.pds_version,
                "document_type": row.document_type, "staff_member": row.staff_member, "detail": row.detail}
        lines.append(Explanation(row.at, " ".join(words), data))
    return lines


def level_summary(person_id: str) -> str | None:
    """One sentence: which evidence the current level rests on."""
    supporting = [row for row in of(person_id) if row.outcome in SUPPORTING and row.level]
    if not supporting:
        return None
    top = max(supporting, key=lambda row: (int(row.level[1:]), row.at))
    steps = " then ".join(f"{row.level} by {row.route}" for row in supporting)
    return f"Level: {top.level}, reached {steps}; the last step rests on the {top.route} evidence above."
