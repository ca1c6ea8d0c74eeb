"""The rules of a provisioning request (interface.md "Account provisioning API"), as a short pipeline:

    provision = [read the body, check the ODS code, replay an Idempotency-Key, count the ODS code's rate,
                 read PDS, check the record, check the accounts, check for a pending request, record]

Each step returns nothing or raises ``Refusal`` (interface.md: every refusal is a 400 with its code; a
refusal that will pass later also says when, in Retry-After); the answer (success or refusal) is audited, and a
definitive one is kept for the Idempotency-Key. Recording the request, its Idempotency-Key, its audit
event and the email with the link is one commit, so a retry racing the first call either finds the
first answer or loses the unique key and returns it: never two requests, never two emails.
"""
from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass, field

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from ..authentication import throttle
from ..clock import now
from ..events import emit
from ..extensions import db
from ..levels import ProofingLevel
from ..models import Person, ProvisioningAuditEvent, ProvisioningIdempotency, ProvisioningRequest
from ..proofing.pds import PdsUnavailable, demographics_service
from . import errors
from .errors import Refusal
from .validation import MAX_BODY_BYTES, ProvisionAccount, invalid, parse

LINK_SECONDS = 7 * 24 * 3600  # the email link, and the window in which a second request is refused (11003)
CLAIM_PATH = "/set-up-your-nhs-login/"  # + the link's token: the patient's claim pages (claim.py)
MAX_IDEMPOTENCY_KEY = 255
IDEMPOTENCY_SECONDS = 24 * 3600  # answers kept this long for retries (housekeeping deletes older ones)
# Answers a retry must get again; a refusal that may change on its own (PDS down, the rate, a bad body) is not kept.
KEPT = {errors.UNABLE_TO_PROVISION, errors.PENDING_REQUEST, errors.EMAIL_IN_USE, errors.ALREADY_P9,
        errors.ACCOUNT_WITH_OTHER_EMAIL}


@dataclass
class Answer:
    status: int
    body: dict
    headers: dict = field(default_factory=dict)


@dataclass
class Call:
    """One call to provision-account as the steps see it."""

    client: object
    settings: object
    raw: bytes
    content_type: str
    idempotency_key: str | None
    actor: str | None = None  # a staff member who started it from the staff area, else the client itself
    body_hash: str = ""
    request: ProvisionAccount | None = None
    record: object = None
    person: Person | None = None  # the account to uplift
    code: str = "create"


def link_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def claim_link(settings, token: str) -> str:
    return f"{settings.issuer}{CLAIM_PATH}{token}"


# --- the pipeline ---------------------------------------------------------------------------------
def read_body(call: Call) -> None:
    if (call.content_type or "").split(";")[0].strip().lower() != "application/json":
        raise invalid("Send the body as application/json.")
    if len(call.raw) > MAX_BODY_BYTES:
        raise invalid(f"The body must be at most {MAX_BODY_BYTES} bytes.")
    try:
        body = json.loads(call.raw.decode("utf-8"), object_pairs_hook=_no_repeats)
    except (UnicodeDecodeError, ValueError) as exc:
        raise invalid(f"The body is not valid JSON ({str(exc)[:80]}).") from None
    call.request = parse(body)
    call.body_hash = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _no_repeats(pairs):
    names = [name for name, _ in pairs]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"repeated fields: {', '.join(repeated)[:60]}")
    return dict(pairs)


def check_ods_code(call: Call) -> None:
    if call.request.ods_code not in (call.client.ods_codes or []):
        raise Refusal(errors.ODS_CODE_NOT_SUPPORTED)


def check_idempotency_key(call: Call) -> Answer | None:
    key = call.idempotency_key
    if key is None:
        return None
    if not key or len(key) > MAX_IDEMPOTENCY_KEY or not key.isascii() or not key.isprintable():
        raise invalid(f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} printable ASCII characters.")
    kept = db.session.get(ProvisioningIdempotency, (call.client.client_id, key))
    if kept is None:
        return None
    if kept.created_at <= now() - IDEMPOTENCY_SECONDS:  # a key is remembered for a day, then may be used afresh
        db.session.delete(kept)
        db.session.flush()
        return None
    if kept.body_hash != call.body_hash:
        raise Refusal(errors.REQUEST_INVALID, "This Idempotency-Key was used with a different body. Use a new key "
                                              "for a new request.")
    return Answer(kept.status_code, dict(kept.response), {"Idempotent-Replayed": "true"})


def _replay(call: Call) -> Answer | None:
    """The first answer to this call's Idempotency-Key, audited as a replay and committed; None if there is none."""
    replay = check_idempotency_key(call) if call.idempotency_key is not None else None
    if replay is not None:
        _audit(call, "provision", replay.body.get("code", ""), replay.body.get("provisioning_id"), replay.status,
               replayed=True)
        db.session.commit()
    return replay


def count_rate(call: Call) -> None:
    settings = call.settings
    limit, window = settings.provisioning_requests_per_ods_code, settings.provisioning_rate_window_seconds
    if throttle.count_attempt(throttle.subject("provisioning_ods", call.request.ods_code), limit + 1, window) > limit:
        raise Refusal(errors.TOO_MANY_REQUESTS, retry_after=window)


def read_pds(call: Call) -> None:
    try:
        call.record = demographics_service(call.settings).get(call.request.nhs_number)
    except PdsUnavailable:
        raise Refusal(errors.SERVICE_UNAVAILABLE, retry_after=30) from None


def check_record(call: Call) -> None:
    """An active record (a superseded number followed to it) whose date of birth and mobile are the ones given.
    One code for every mismatch: the caller learns nothing about the record it did not already hold."""
    record = call.record
    if (record is None or not record.active or record.deceased or record.birthdate != call.request.birthdate
            or record.mobile != call.request.phone_number):
        raise Refusal(errors.UNABLE_TO_PROVISION)


def check_accounts(call: Call) -> None:
    number = call.record.nhs_number
    by_number = Person.query.filter(Person.nhs_number.in_({number, call.request.nhs_number})).first()
    by_email = Person.query.filter_by(email=call.request.email).first()
    if by_number is not None and ProofingLevel[by_number.proofing_level].satisfies(ProofingLevel.P9):
        raise Refusal(errors.ALREADY_P9)
    if by_email is not None and by_email.nhs_number and by_email.nhs_number != number:
        raise Refusal(errors.EMAIL_IN_USE)
    if by_number is not None and (by_email is None or by_email.id != by_number.id):
        raise Refusal(errors.ACCOUNT_WITH_OTHER_EMAIL if by_email is None else errors.EMAIL_IN_USE)
    if by_email is not None:
        if ProofingLevel[by_email.proofing_level].satisfies(ProofingLevel.P9):
            raise Refusal(errors.EMAIL_IN_USE)  # a P9 account of no NHS number cannot exist; refuse rather than guess
        call.person, call.code = by_email, "uplift"


def check_pending(call: Call) -> None:
    _expire_due(call.record.nhs_number)
    if pending_for(call.record.nhs_number) is not None:
        raise Refusal(errors.PENDING_REQUEST)


STEPS = [check_ods_code, count_rate, read_pds, check_record, check_accounts, check_pending]


def provision(client, raw: bytes, content_type: str, idempotency_key: str | None, settings, *,
              actor: str | None = None) -> Answer:
    """The answer to one provision-account call, audited."""
    call = Call(client, settings, raw, content_type, idempotency_key, actor)
    try:
        read_body(call)
        replay = _replay(call)
        if replay is not None:
            return replay
        for step in STEPS:
            step(call)
        return _record(call)
    except Refusal as refusal:
        db.session.rollback()
        if refusal.code in KEPT and call.idempotency_key:
            # A retry racing the first call with this key may have lost to it (the first's request is why
            # this one is refused): it gets the first answer.
            replay = _replay(call)
            if replay is not None:
                return replay
        answer = _refused(refusal)
        kept = _keep(call, answer) if refusal.code in KEPT else None
        if kept is not None:
            return kept
        _audit(call, "provision", refusal.code, None, answer.status)
        db.session.commit()
        return answer


def _refused(refusal: Refusal) -> Answer:
    headers = {"Retry-After": str(refusal.retry_after)} if refusal.retry_after else {}
    return Answer(refusal.status, refusal.body(), headers)


def _record(call: Call) -> Answer:
    from ..notifications import send

    token = secrets.token_urlsafe(32)
    current = now()
    row = ProvisioningRequest(
        client_id=call.client.client_id, ods_code=call.request.ods_code, code=call.code,
        person_id=call.person.id if call.person else None, nhs_number=call.record.nhs_number,
        birthdate=call.request.birthdate, email=call.request.email, phone_number=call.request.phone_number,
        pds_version=call.record.version, status="pending", link_hash=link_hash(token), created_at=current,
        expires_at=current + LINK_SECONDS, language="en",
    )
    description = ("An account will be created" if call.code == "create" else
                   "The account with this email address will be uplifted to P9") + \
        " when the patient uses the link emailed to them (valid 7 days, once)."
    try:
        db.session.add(row)
        db.session.flush()  # PostgreSQL: waits here for a racing call's commit, then finds the unique keys taken
        answer = Answer(200, {"code": call.code, "provisioning_id": row.id, "description": description})
        send("provisioning_invitation", row.email, "email",
             {"link": claim_link(call.settings, token), "organisation": row.ods_code})
        _keep(call, answer, commit=False)
        _audit(call, "provision", call.code, row.id, 200)
        db.session.commit()
    except IntegrityError:
        # A retry with the same key, or another request for the same person, committed first.
        db.session.rollback()
        replay = _replay(call)
        if replay is not None:
            return replay
        answer = _refused(Refusal(errors.PENDING_REQUEST))
        _audit(call, "provision", errors.PENDING_REQUEST, None, answer.status)
        db.session.commit()
        return answer
    emit("provisioning.requested", client_id=row.client_id, ods_code=row.ods_code, provisioning_id=row.id,
         code=row.code)
    return answer


def _keep(call: Call, answer: Answer, *, commit: bool = True) -> Answer | None:
    """Keep the answer for the call's Idempotency-Key; if a racing retry kept one first, that one is returned."""
    if not call.idempotency_key or not call.body_hash:
        return None
    db.session.add(ProvisioningIdempotency(client_id=call.client.client_id, key=call.idempotency_key,
                                             body_hash=call.body_hash, status_code=answer.status,
                                             response=answer.body, created_at=now()))
    if not commit:
        return None
    _audit(call, "provision", answer.body.get("code", ""), answer.body.get("provisioning_id"), answer.status)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return _replay(call)
    return answer


def _audit(call_or_client, operation: str, outcome: str, provisioning_id: str | None, status: int, *,
           ods_code: str | None = None, replayed: bool = False) -> None:
    call = call_or_client if isinstance(call_or_client, Call) else None
    client = call.client if call else call_or_client
    if call is not None and call.request is not None:
        ods_code = call.request.ods_code
    db.session.add(ProvisioningAuditEvent(at=now(), client_id=client.client_id, ods_code=ods_code,
                                          operation=operation, outcome=str(outcome)[:20],
                                          provisioning_id=provisioning_id, status_code=status, replayed=replayed))


# --- the request after it is made -----------------------------------------------------------------
def _expire_due(nhs_number: str | None = None) -> int:
    """Mark pending requests past their link's lifetime as expired (for one person, or all)."""
    statement = update(ProvisioningRequest).where(ProvisioningRequest.status == "pending",
                                                  ProvisioningRequest.expires_at <= now())
    if nhs_number is not None:
        statement = statement.where(ProvisioningRequest.nhs_number == nhs_number)
    return db.session.execute(statement.values(status="expired"), execution_options={"synchronize_session": False}
                              ).rowcount


def pending_for(nhs_number: str) -> ProvisioningRequest | None:
    return ProvisioningRequest.query.filter_by(nhs_number=nhs_number, status="pending").filter(
        ProvisioningRequest.expires_at > now()).first()


def _found(provisioning_id) -> ProvisioningRequest | None:
    """The request with this id; anything that is not one of our ids (a uuid4) is never looked up."""
    try:
        if not isinstance(provisioning_id, str) or str(uuid.UUID(provisioning_id)) != provisioning_id:
            return None
    except ValueError:
        return None
    return db.session.get(ProvisioningRequest, provisioning_id)


def owned(client, provisioning_id: str) -> ProvisioningRequest | None:
    """The request, only to the client that made it: another client's is as unknown as a made-up id."""
    row = _found(provisioning_id)
    return row if row is not None and row.client_id == client.client_id else None


def status_body(row: ProvisioningRequest) -> dict:
    from datetime import datetime, timezone

    def when(value):
        return datetime.fromtimestamp(value, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None

    body = {"provisioning_id": row.id, "code": row.code, "status": row.status_at(now()), "ods_code": row.ods_code,
            "created_at": when(row.created_at), "expires_at": when(row.expires_at)}
    if row.claimed_at:
        body["claimed_at"] = when(row.claimed_at)
    if row.cancelled_at:
        body["cancelled_at"] = when(row.cancelled_at)
    return body


def status(client, provisioning_id: str) -> Answer:
    row = owned(client, provisioning_id)
    if row is None:
        return Answer(404, _not_found())
    _audit(client, "status", row.status_at(now()), row.id, 200, ods_code=row.ods_code)
    db.session.commit()
    return Answer(200, status_body(row))


def cancel(client, provisioning_id: str, *, by: str | None = None) -> Answer:
    """Cancel a pending request: its link stops working at once. Conditional, so a claim racing it wins or loses whole."""
    row = owned(client, provisioning_id) if client is not None else _found(provisioning_id)
    if row is None:
        return Answer(404, _not_found())
    current = now()
    cancelled = db.session.execute(update(ProvisioningRequest).where(
        ProvisioningRequest.id == row.id, ProvisioningRequest.status == "pending",
        ProvisioningRequest.expires_at > current,
    ).values(status="cancelled", cancelled_at=current, cancelled_by=(by or row.client_id)[:80]),
        execution_options={"synchronize_session": False}).rowcount
    db.session.expire(row)
    if cancelled != 1:
        answer = _refused(Refusal(errors.NOT_PENDING, status=409))
        _audit(client or _Operator(row.client_id), "cancel", errors.NOT_PENDING, row.id, 409, ods_code=row.ods_code)
        db.session.commit()
        return answer
    _audit(client or _Operator(row.client_id), "cancel", "cancelled", row.id, 200, ods_code=row.ods_code)
    db.session.commit()
    emit("provisioning.cancelled", client_id=row.client_id, provisioning_id=row.id, by=by or row.client_id)
    return Answer(200, status_body(row))


def by_link(token: str) -> ProvisioningRequest | None:
    """The request an emailed link is for (any status: the claim pages say what each means)."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        return None
    return ProvisioningRequest.query.filter_by(link_hash=link_hash(token)).first()


def audit_claim(row: ProvisioningRequest, outcome: str) -> None:
    """The claim's steps in the same audit as the API calls (outcome: claimed, code_locked, record_changed...)."""
    _audit(_Operator(row.client_id), "claim", outcome, row.id, 200, ods_code=row.ods_code)


@dataclass(frozen=True)
class _Operator:
    client_id: str  # audited under the client whose request it was


def _not_found() -> dict:
    return {"type": "about:blank", "title": "Not found", "status": 404, "code": "11010",
            "description": "No provisioning request with that id was made by this client.",
            "detail": "No provisioning request with that id was made by this client."}


def expire_due() -> int:
    """Housekeeping: pending requests past their link's lifetime become expired; a request that is over
    (claimed, expired, cancelled) keeps its status for the client but no longer the patient's details;
    idempotency answers older than a day go."""
    count = _expire_due()
    db.session.execute(update(ProvisioningRequest).where(
        ProvisioningRequest.status != "pending", ProvisioningRequest.email != "",
    ).values(email="", phone_number="", birthdate="", nhs_number=""), execution_options={"synchronize_session": False})
    ProvisioningIdempotency.query.filter(ProvisioningIdempotency.created_at <= now() - IDEMPOTENCY_SECONDS).delete()
    db.session.commit()
    return count
