"""The synthetic PDS: FHIR Patients in the ``synthetic_patient`` table, loaded from a file by ``idp pds load``."""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import delete, insert

from ...extensions import db
from ...models import SyntheticGpAccount, SyntheticPatient
from ...people import nhs_number_is_valid
from ..normalise import family_key as _family_key, given_keys, nhs_number_key, postcode_key
from . import PdsRecord
from .fhir import NotAPatient, record_from_patient

DEFAULT_SET = Path(__file__).resolve().parent.parent / "data" / "synthetic-pds.ndjson"
GP_ONLINE_URL = "https://fhir.example.invalid/StructureDefinition/synthetic-gp-online-account"
MAX_HOPS = 10  # a longer chain of replaced numbers is a loop or a broken set, not a person


class SyntheticSetError(ValueError):
    """The file is not a set of valid FHIR Patients; nothing was loaded."""


@dataclass(frozen=True)
class LoadResult:
    patients: int
    gp_accounts: int


class SyntheticPds:
    """``DemographicsService`` over the loaded set, answering as the PDS FHIR API's read and search do."""

    def get(self, nhs_number: str) -> PdsRecord | None:
        row = db.session.get(SyntheticPatient, nhs_number_key(nhs_number))
        if row is None:
            return None
        record, followed = record_from_patient(row.resource), []
        while record.replaced_by and len(followed) < MAX_HOPS:
            successor = db.session.get(SyntheticPatient, record.replaced_by)
            if successor is None or successor.nhs_number in followed or successor.nhs_number == record.nhs_number:
                # A dangling or looping link: the superseded record itself, which the matcher refuses as inactive.
                return record
            followed.append(record.nhs_number)
            record = record_from_patient(successor.resource)
        if record.replaced_by:
            return record
        return replace(record, superseded=tuple(followed)) if followed else record

    def search(self, *, family: str, given: str | None, birthdate: str, postcode: str | None) -> list[PdsRecord]:
        # Non-fuzzy PDS search: exact birthdate, family name (current or previous) and postcode compared by
        # key; the given name only by its first word. Loose on purpose: the matcher decides strictly.
        family_key, first = _family_key(family), given_keys([given] if given else [])[:1]
        if not family_key or not birthdate:
            return []
        found = []
        for row in SyntheticPatient.query.filter_by(birthdate=birthdate).order_by(SyntheticPatient.nhs_number):
            record = record_from_patient(row.resource)
            if record.replaced_by:
                continue
            if postcode and postcode_key(record.postcode) != postcode_key(postcode):
                continue
            if any(_family_key(n.family) == family_key and (not first or given_keys(n.given)[:1] == first)
                   for n in record.names):
                found.append(record)
        return found


def _resources(path: Path) -> list[tuple[str, object]]:
    """(where, resource) for each resource of a Bundle or of an NDJSON file, in file order."""
    text = Path(path).read_text(encoding="utf-8-sig")
    try:
        whole = json.loads(text)
    except ValueError:
        whole = None
    if isinstance(whole, dict) and whole.get("resourceType") == "Bundle":
        entries = whole.get("entry") or []
        if not isinstance(entries, list):
            raise SyntheticSetError("the Bundle's entry is not a list")
        return [(f"entry {i}", e.get("resource") if isinstance(e, dict) else None) for i, e in enumerate(entries, 1)]
    if isinstance(whole, dict):
        return [("line 1", whole)]  # one resource: a one-line NDJSON file, or one pretty-printed Patient
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            found.append((f"line {number}", json.loads(line)))
        except ValueError as exc:
            raise SyntheticSetError(f"line {number}: not JSON ({exc.msg})") from None
    return found


def _gp_accounts(where: str, resource: dict, record: PdsRecord) -> list[dict]:
    accounts = []
    for extension in resource.get("extension") or []:
        if extension.get("url") != GP_ONLINE_URL:
            continue
        parts = {p.get("url"): p for p in extension.get("extension") or []}
        account_id = (parts.get("accountId") or {}).get("valueString")
        linkage_key = (parts.get("linkageKey") or {}).get("valueString")
        if not account_id or not linkage_key:
            raise SyntheticSetError(f"{where}: a GP online account needs accountId and linkageKey")
        if not record.gp_ods_code:
            raise SyntheticSetError(f"{where}: a GP online account needs the Patient's GP practice (ODS code)")
        accounts.append({"ods_code": record.gp_ods_code.upper(), "account_id": account_id,
                         "nhs_number": record.nhs_number, "linkage_key": linkage_key,
                         "id_checked_on": (parts.get("idCheckedOn") or {}).get("valueDate")})
    return accounts


def _served(resource: dict) -> dict:
    """The resource as the real PDS would serve it: without the synthetic GP-online extension."""
    served = dict(resource)
    kept = [e for e in resource.get("extension") or [] if e.get("url") != GP_ONLINE_URL]
    if kept:
        served["extension"] = kept
    else:
        served.pop("extension", None)
    return served


def load(path) -> LoadResult:
    """Replace the whole synthetic set with the file's Patients, or change nothing if any is invalid."""
    patients, accounts, first_seen, account_seen = [], [], {}, set()
    for where, resource in _resources(path):
        try:
            record = record_from_patient(resource)
        except NotAPatient as exc:
            raise SyntheticSetError(f"{where}: {exc}") from None
        if not nhs_number_is_valid(record.nhs_number):
            raise SyntheticSetError(f"{where}: the NHS number is not 10 digits with a valid check digit")
        if record.nhs_number in first_seen:
            # The line, not the number: error output may be pasted into a ticket.
            raise SyntheticSetError(f"{where}: the same NHS number as {first_seen[record.nhs_number]}")
        first_seen[record.nhs_number] = where
        for account in _gp_accounts(where, resource, record):
            if (account["ods_code"], account["account_id"]) in account_seen:
                raise SyntheticSetError(f"{where}: a GP online account id its practice already has")
            account_seen.add((account["ods_code"], account["account_id"]))
            accounts.append(account)
        patients.append({"nhs_number": record.nhs_number, "birthdate": record.birthdate,
                         "resource": _served(resource)})
    if not patients:
        raise SyntheticSetError("no Patient resources in the file")
    try:
        db.session.execute(delete(SyntheticGpAccount))
        # The integrator portal's sandpit test people keep their records (idp/developer/test_people.py).
        from ...models import Person

        kept = {n for (n,) in db.session.query(Person.nhs_number).filter(Person.test_person_of.isnot(None),
                                                                          Person.nhs_number.isnot(None))}
        db.session.execute(delete(SyntheticPatient).where(SyntheticPatient.nhs_number.notin_(kept)))
        patients = [p for p in patients if p["nhs_number"] not in kept]
        db.session.execute(insert(SyntheticPatient), patients)
        if accounts:
            db.session.execute(insert(SyntheticGpAccount), accounts)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return LoadResult(patients=len(patients), gp_accounts=len(accounts))
