"""Sandpit test people an integrator makes (issue 11): at P0, P5 or P9, with a synthetic PDS record of their
own, and their one-time codes shown on the portal (their messages never leave: ``notifications`` keeps them in
the outbox). Only where synthetic data is allowed (development and sandpit: interface.md "Environments").
"""
from __future__ import annotations

import random
import secrets
from dataclasses import dataclass

from .. import people
from ..extensions import db
from ..models import Person, SyntheticPatient
from ..notifications.adapters import outbox
from . import audit
from .organisations import PortalError

LEVELS = ("P0", "P5", "P9")
MAX_PER_ORGANISATION = 50
DRAMA_MOBILES = [f"+447700900{n:03d}" for n in range(1000)]  # Ofcom's numbers for drama: never a real phone
TEST_NHS_PREFIX = "9991"  # test NHS numbers (999...) of their own, apart from the loaded synthetic set
GIVEN_NAMES = ("Alex", "Sam", "Jordan", "Priya", "Owen", "Megan", "Tariq", "Ffion", "Chen", "Grace")


@dataclass(frozen=True)
class NewTestPerson:
    person: Person
    password: str  # shown once; only its hash is kept


def allowed(settings) -> bool:
    return settings.env in ("development", "sandpit") and settings.pds_adapter == "synthetic"


def of(organisation_id: str) -> list[Person]:
    return Person.query.filter_by(test_person_of=organisation_id).order_by(Person.created_at).all()


def _nhs_number(rng) -> str:
    """A free test NHS number; its check digit is the one ``people.nhs_number_is_valid`` accepts."""
    while True:
        stem = TEST_NHS_PREFIX + "".join(rng.choice("0123456789") for _ in range(5))
        candidate = next((stem + d for d in "0123456789" if people.nhs_number_is_valid(stem + d)), None)
        if candidate and db.session.get(SyntheticPatient, candidate) is None and \
                Person.query.filter_by(nhs_number=candidate).first() is None:
            return candidate


def _mobile(rng) -> str:
    used = {p for (p,) in db.session.query(Person.phone_number).filter(Person.phone_number.like("+447700900%"))}
    free = [n for n in DRAMA_MOBILES if n not in used]
    if not free:
        raise PortalError("level", "All the test phone numbers are in use: remove some test people first")
    return rng.choice(free)


def _patient(nhs_number: str, given: str, family: str, birthdate: str, mobile: str, postcode: str) -> dict:
    return {"resourceType": "Patient", "id": nhs_number, "meta": {"versionId": "1"},
            "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs_number}],
            "name": [{"use": "usual", "given": [given], "family": family}], "birthDate": birthdate,
            "address": [{"use": "home", "line": ["1 Sandpit Lane", "Leeds"], "postalCode": postcode}],
            "telecom": [{"system": "phone", "use": "mobile", "value": "0" + mobile[3:]}],
            "generalPractitioner": [{"type": "Organization", "identifier": {
                "system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "A81001"}}]}


def create(member, level: str, settings) -> NewTestPerson:
    """A test person at ``level`` for the member's organisation: email, password, phone, and for P5 and P9 a
    synthetic PDS record and the level, set through ``raise_level`` like every route."""
    if not allowed(settings):
        raise PortalError(None, "Test people can only be made in sandpit, with the synthetic PDS")
    if level not in LEVELS:
        raise PortalError("level", "Select the level the test person has proved who they are to")
    if Person.query.filter_by(test_person_of=member.organisation_id).count() >= MAX_PER_ORGANISATION:
        raise PortalError("level", f"Your organisation has {MAX_PER_ORGANISATION} test people: remove some first")
    rng = random.SystemRandom()
    password = secrets.token_urlsafe(12)
    mobile = _mobile(rng)
    email = f"test-{secrets.token_hex(4)}@sandpit.{member.organisation_id[:8]}.test"
    given, family = rng.choice(GIVEN_NAMES), "Sandpit"
    details = {}
    if level != "P0":
        birthdate = f"{rng.randint(1940, 2004)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        details = {"nhs_number": _nhs_number(rng), "given_name": given, "family_name": family,
                   "birthdate": birthdate, "postcode": "LS1 4AP", "gp_ods_code": "A81001"}
        db.session.add(SyntheticPatient(nhs_number=details["nhs_number"], birthdate=birthdate,
                                        resource=_patient(details["nhs_number"], given, family, birthdate, mobile,
                                                          "LS1 4AP")))
        db.session.flush()
    try:
        person = people.add_test_person(settings, email=email, password=password, phone=mobile, level=level,
                                        checked_by=f"developer:{member.organisation_id}"[:80],
                                        test_person_of=member.organisation_id, **details)
    except people.TestPersonError as exc:
        db.session.rollback()
        raise PortalError("level", str(exc)) from None
    _own_number(person, rng)
    audit.record("test_person.created", member=member, subject=person.id, level=level)
    db.session.commit()
    return NewTestPerson(person, password)


def _own_number(person: Person, rng) -> None:
    """Two test people made at once may draw one number: the later one draws again, so a number (and the codes
    the portal shows for it) belongs to one test person only."""
    for _ in range(5):
        others = Person.query.filter(Person.phone_number == person.phone_number, Person.id != person.id).count()
        if not others:
            return
        person.phone_number = _mobile(rng)
        db.session.commit()
    raise PortalError("level", "We could not give the test person a phone number of their own. Try again.")


def remove(member, person: Person) -> None:
    """Delete a test person, their synthetic PDS record and their sessions (numbers and places are freed)."""
    from ..protocol.logout import end_sessions_of

    nhs_number = person.nhs_number
    end_sessions_of(person.id, "account_deleted")
    audit.record("test_person.removed", member=member, subject=person.id)
    db.session.delete(person)
    if nhs_number and nhs_number.startswith(TEST_NHS_PREFIX):
        SyntheticPatient.query.filter_by(nhs_number=nhs_number).delete(synchronize_session=False)
    db.session.commit()


def own(member, person_id: str) -> Person:
    person = db.session.get(Person, person_id) if len(person_id or "") <= 36 else None
    if person is None or person.test_person_of != member.organisation_id:
        raise PortalError(None, "That is not one of your organisation's test people")
    return person


def messages(person: Person, settings, last: int = 10) -> list[outbox.OutboxEntry]:
    """The newest messages to the test person (codes included), newest first."""
    found = outbox.read(settings.secret_key, to=person.email, last=last)
    if person.phone_number:
        found += outbox.read(settings.secret_key, to=person.phone_number, last=last)
    return sorted(found, key=lambda entry: entry.created_at, reverse=True)[:last]

