"""The patient's claim of a provisioning request (journeys.md "Provisioned", interface.md "The patient's journey").

    claim = [open the emailed link, send a code to the mobile on the PDS record, check the code,
             read PDS again, then a new password (create) or the account's own (uplift), complete]

The rules, each named:
- the link works while its request is pending (7 days, once); opening it is counted per request, and more than
  ``LINK_USES`` opens, or ``one_time_codes.FAILURES_PER_JOURNEY`` wrong codes, lock the journey for the lockout
  window (``settings.login_lockout_seconds``, 15 minutes);
- the code (6 digits, 5 minutes, single use) goes to ``row.phone_number``, the mobile PDS held when the request was
  made; proving it lets the person finish within ``PROVEN_SECONDS``;
- PDS is read again after the code and at completion: a record gone, inactive, deceased, superseded, or whose date
  of birth or mobile is no longer the request's stops the claim for good (``stop``: the request leaves pending, so
  the organisation can ask again once the record is right); PDS unreachable changes nothing;
- completion is one commit: the request moves pending -> claimed by a conditional UPDATE (a double submit or a
  racing cancel cannot both win), the account is created (or its password checked, throttled as a login is), the
  level raised to P9 on evidence naming the organisation, the client and both times, the audit event and the
  confirmation email. ``raise_level`` commits it; a refusal there rolls all of it back.

No HTML here: ``pages.py`` shows each outcome.
"""
from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from .. import notifications
from ..authentication import one_time_codes, throttle
from ..authentication.factors.password import Outcome as PasswordOutcome, check_password
from ..authentication.one_time_codes import CodeCheck
from ..authentication.password_policy import check_new_password
from ..authentication.passwords import hash_password
from ..clock import now
from ..events import emit
from ..extensions import db
from ..levels import ProofingLevel
from ..models import Person, ProvisioningRequest
from ..proofing import evidence
from ..proofing.level import NhsNumberTaken, ProofingError, raise_level
from ..proofing.pds import PdsUnavailable, demographics_service
from . import requests

PURPOSE = "provisioning_claim"  # the one-time code's purpose; its journey is the request's id
LINK_USES = 10  # opens of one link in the lockout window; the next one locks the journey
PROVEN_SECONDS = 15 * 60  # after the code, the password must follow within this
STOPPED_BY = "claim:"  # ``cancelled_by`` of a request the claim stopped for good, then the reason


class Problem(str, enum.Enum):
    """Why the claim cannot go on now; each has a page that says what to do next."""

    NOT_VALID = "not_valid"  # no request has this link
    USED = "used"
    EXPIRED = "expired"
    CANCELLED = "cancelled"  # by the organisation (or an operator)
    LOCKED = "locked"  # too many link uses or wrong codes: wait for the lockout window
    RECORD_CHANGED = "record_changed"  # the PDS record is not the one the request was made on
    UNAVAILABLE = "unavailable"  # PDS could not answer: try again later, nothing changed
    HAS_ACCOUNT = "has_account"  # create: the email or the NHS number has an account since
    ACCOUNT_CHANGED = "account_changed"  # uplift: the account's email, level or record changed since


STOPS = (Problem.RECORD_CHANGED, Problem.HAS_ACCOUNT, Problem.ACCOUNT_CHANGED)  # reasons ``stop`` records


@dataclass(frozen=True)
class Completion:
    """What ``complete`` did: ``person`` when claimed; else a ``problem``, or a password to enter again
    (``reasons``: password_policy keys of a refused new password; ``wrong`` or ``throttled`` for an uplift's)."""

    person: Person | None = None
    problem: Problem | None = None
    reasons: list = field(default_factory=list)

    @property
    def claimed(self) -> bool:
        return self.person is not None


# --- the request's state --------------------------------------------------------------------------
def problem_of(row: ProvisioningRequest | None) -> Problem | None:
    """The page a request's status calls for; None while it can still be claimed."""
    if row is None:
        return Problem.NOT_VALID
    status = row.status_at(now())
    if status == "claimed":
        return Problem.USED
    if status == "expired":
        return Problem.EXPIRED
    if status == "cancelled":
        by = row.cancelled_by or ""
        return next((p for p in STOPS if by == f"{STOPPED_BY}{p.value}"), Problem.CANCELLED)
    return None


def _link_key(row: ProvisioningRequest) -> str:
    return throttle.subject("provisioning_link", row.id)


def is_locked(row: ProvisioningRequest, source: str, settings) -> bool:
    """Too many link uses or wrong codes in the lockout window."""
    window = settings.login_lockout_seconds
    return throttle.is_locked(_link_key(row), LINK_USES + 1, window) or one_time_codes.is_throttled(
        PURPOSE, row.id, source, settings)


def open_link(token: str, source: str, settings) -> tuple[ProvisioningRequest | None, Problem | None]:
    """The request of an emailed link, each use counted; (row, None) when the claim can start."""
    row = requests.by_link(token)
    problem = problem_of(row)
    if problem is not None:
        return row, problem
    uses = throttle.count_attempt(_link_key(row), LINK_USES + 1, settings.login_lockout_seconds)
    if uses > LINK_USES:
        if uses == LINK_USES + 1:  # the use that locked it, audited once
            requests.audit_claim(row, "link_locked")
            db.session.commit()
            emit("provisioning.claim_locked", provisioning_id=row.id, reason="link_uses")
        return row, Problem.LOCKED
    if one_time_codes.is_throttled(PURPOSE, row.id, source, settings):
        return row, Problem.LOCKED
    return row, None


# --- the code to the mobile on the record -----------------------------------------------------------
def masked_mobile(row: ProvisioningRequest) -> str:
    """The last 3 digits, as the pages say "the mobile ending 123"."""
    return row.phone_number[-3:]


def send_code(row: ProvisioningRequest, language: str) -> None:
    """A new code by text message to the mobile of the request; raises TooManyCodes at the hourly cap."""
    code = one_time_codes.issue(PURPOSE, row.id, row.phone_number)
    notifications.send("login_code", row.phone_number, "sms", {"code": code}, language=language)
    db.session.commit()
    emit("provisioning.claim_code_sent", provisioning_id=row.id)


def check_code(row: ProvisioningRequest, candidate: str, source: str, settings) -> CodeCheck:
    """Spend the code; THROTTLED once the journey is locked (the lock that this guess made is audited)."""
    already = one_time_codes.is_throttled(PURPOSE, row.id, source, settings)
    outcome = one_time_codes.check(PURPOSE, row.id, candidate, source, settings, destination=row.phone_number)
    if outcome is CodeCheck.THROTTLED and not already:
        requests.audit_claim(row, "code_locked")
        db.session.commit()
        emit("provisioning.claim_locked", provisioning_id=row.id, reason="wrong_codes")
    return outcome


# --- PDS again --------------------------------------------------------------------------------------
def record_still_matches(row: ProvisioningRequest, record) -> bool:
    """The record the request was made on: still there, active, alive, the same number, date of birth and mobile."""
    return (record is not None and record.active and not record.deceased and not record.replaced_by
            and record.nhs_number == row.nhs_number and record.birthdate == row.birthdate
            and record.mobile == row.phone_number)


def recheck(row: ProvisioningRequest, settings):
    """``(record, None)`` when PDS still holds the request's record; ``(None, problem)`` otherwise. A changed
    record stops the request (``stop``); PDS unreachable changes nothing."""
    try:
        record = demographics_service(settings).get(row.nhs_number)
    except PdsUnavailable:
        return None, Problem.UNAVAILABLE
    if not record_still_matches(row, record):
        stop(row, Problem.RECORD_CHANGED)
        return None, Problem.RECORD_CHANGED
    return record, None


def stop(row: ProvisioningRequest, reason: Problem) -> bool:
    """End a pending request the claim can never complete (cancelled, by ``claim:<reason>``), so the
    organisation can make a new one once the cause is put right. Conditional, as ``requests.cancel`` is."""
    current = now()
    stopped = db.session.execute(update(ProvisioningRequest).where(
        ProvisioningRequest.id == row.id, ProvisioningRequest.status == "pending",
        ProvisioningRequest.expires_at > current,
    ).values(status="cancelled", cancelled_at=current, cancelled_by=f"{STOPPED_BY}{reason.value}"),
        execution_options={"synchronize_session": False}).rowcount
    if stopped == 1:
        requests.audit_claim(row, reason.value)
    db.session.commit()
    db.session.expire(row)
    if stopped == 1:
        emit("provisioning.claim_stopped", client_id=row.client_id, provisioning_id=row.id, reason=reason.value)
    return stopped == 1


# --- the password, and completing -----------------------------------------------------------------------
def new_password_reasons(row: ProvisioningRequest, password: str) -> list[str]:
    """The project's password policy (as registration applies it), with the request's email as context."""
    return check_new_password(password, email=row.email)


def _account_to_uplift(row: ProvisioningRequest) -> Person | None:
    """The account with the request's email, if it is still the one to uplift and still can be."""
    person = db.session.get(Person, row.person_id) if row.person_id else None
    if person is None or person.email != row.email or ProofingLevel[person.proofing_level].satisfies(ProofingLevel.P9):
        return None
    if person.nhs_number and person.nhs_number != row.nhs_number:
        return None
    return person


def complete(row: ProvisioningRequest, password: str, source: str, settings, language: str) -> Completion:
    """Claim the request with ``password``: a new account (create) or the account's own password (uplift)."""
    problem = problem_of(row)
    if problem is not None:
        return Completion(problem=problem)
    if row.code == "create":
        reasons = new_password_reasons(row, password)
        if reasons:
            return Completion(reasons=reasons)
        if Person.query.filter_by(email=row.email).first() is not None:
            stop(row, Problem.HAS_ACCOUNT)
            return Completion(problem=Problem.HAS_ACCOUNT)
        person = None
    else:
        person = _account_to_uplift(row)
        if person is None:
            stop(row, Problem.ACCOUNT_CHANGED)
            return Completion(problem=Problem.ACCOUNT_CHANGED)
        checked = check_password(row.email, password, source, settings)  # counted and locked as a login is
        if checked.outcome is PasswordOutcome.THROTTLED:
            return Completion(reasons=["throttled"])
        if checked.outcome is not PasswordOutcome.OK or checked.person.id != person.id:
            return Completion(reasons=["wrong"])
    record, problem = recheck(row, settings)
    if problem is not None:
        return Completion(problem=problem)
    return _claim(row, person, password, record, settings, language)


def _claim(row, person, password, record, settings, language) -> Completion:
    current = now()
    person_id = person.id if person is not None else str(uuid.uuid4())
    claimed = db.session.execute(update(ProvisioningRequest).where(
        ProvisioningRequest.id == row.id, ProvisioningRequest.status == "pending",
        ProvisioningRequest.expires_at > current,
    ).values(status="claimed", claimed_at=current, claimed_person_id=person_id),
        execution_options={"synchronize_session": False}).rowcount
    if claimed != 1:  # a double submit, a cancel or the expiry got there first
        db.session.rollback()
        db.session.expire(row)
        return Completion(problem=problem_of(row) or Problem.USED)
    if person is None:
        person = Person(id=person_id, email=row.email, email_verified=True, password_hash=hash_password(password),
                        phone_number=row.phone_number, phone_number_verified=True, proofing_level="P0")
        db.session.add(person)
        try:
            db.session.flush()
        except IntegrityError:  # the address was registered a moment ago
            db.session.rollback()
            stop(row, Problem.HAS_ACCOUNT)
            return Completion(problem=Problem.HAS_ACCOUNT)
    proof = evidence.new(route="provisioning", outcome="verified", checked_by=f"provisioning:{row.client_id}",
                         level="P9", record=record, ods_code=row.ods_code, client_id=row.client_id,
                         provisioning_id=row.id, provisioned_at=row.created_at, claimed_at=current)
    notifications.send("provisioning_claimed", row.email, "email",
                       {"link": settings.issuer + "/account", "organisation": row.ods_code}, language=language)
    requests.audit_claim(row, "claimed")
    try:
        raise_level(person, "P9", proof, record=record)  # commits the claim, the account, the evidence, the email
    except NhsNumberTaken:  # another account holds the record now: one NHS number, one account
        stop(row, Problem.HAS_ACCOUNT)
        return Completion(problem=Problem.HAS_ACCOUNT)
    except ProofingError:  # the account's level or record moved while this ran
        stop(row, Problem.ACCOUNT_CHANGED)
        return Completion(problem=Problem.ACCOUNT_CHANGED)
    db.session.expire(row)
    if row.code == "create":
        emit("account.created", person_id=person.id, proofing_level="P9")
    emit("provisioning.claimed", client_id=row.client_id, ods_code=row.ods_code, provisioning_id=row.id,
         code=row.code, person_id=person.id)
    return Completion(person=person)
