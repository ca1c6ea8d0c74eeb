"""Property: whatever proofing attempts a person makes, in whatever order, their level is exactly what the
evidence supports, and the claims never assert more than that level allows (issue 8).

Each example is one new P0 person making 1 to 6 attempts at one synthetic PDS person's record (drawn from
those with a GP online account), applied as the proofing pages apply them: the details and GP online
checks only while the pages offer them (``ROUTE.offered``), fast-track whenever asked. Examples share the
test's database but not its accounts: each example's person is deleted at its end, so every record but
the one linked beforehand ("someone already linked") is free again and an example replays the same.
"""
from __future__ import annotations

import itertools
import json
import uuid

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from journey_support import HARD_CASES

from idp.extensions import db
from idp.models import Client, Person
from idp.proofing import evidence
from idp.proofing.matching import Details
from idp.proofing.pds.fhir import record_from_patient
from idp.proofing.pds.synthetic import DEFAULT_SET, GP_ONLINE_URL
from idp.proofing.routes import Outcome, demographics, fast_track, gp_online
from idp.proofing.routes.gp_online import RegistrationDetails
from idp.protocol.claims import SCOPE_CLAIMS, person_claims

ALL_CLAIMS = sorted({name for claims, _level in SCOPE_CLAIMS.values() for name in claims})
NEVER_AT_P0 = {"nhs_number", "family_name", "birthdate", "given_name", "gp_registration_details"}
HOLDERS_CASE = HARD_CASES["hyphenated_family_name"]  # linked to another account before the examples run
ACTIONS = ["p5_by_number", "p5_by_name", "wrong_details", "someone_already_linked", "gp_right", "gp_wrong",
           "fast_track"]
NEVER_RAISE = {"wrong_details", "someone_already_linked", "gp_wrong"}


def _pool() -> list[dict]:
    """Usable synthetic people with a GP online account (about half with an earlier ID check)."""
    people = []
    for line in DEFAULT_SET.read_text(encoding="utf-8").splitlines():
        resource = json.loads(line)
        extension = next((e for e in resource.get("extension") or [] if e["url"] == GP_ONLINE_URL), None)
        if extension is None:
            continue
        record = record_from_patient(resource)
        if record.deceased or not record.active or record.replaced_by or record.restricted or not record.mobile:
            continue
        parts = {p["url"]: p.get("valueString") or p.get("valueDate") for p in extension["extension"]}
        people.append({"nhs_number": record.nhs_number, "given": record.given_name, "family": record.family_name,
                       "birthdate": record.birthdate, "postcode": record.postcode, "mobile": record.mobile,
                       "ods_code": record.gp_ods_code, "account_id": parts["accountId"],
                       "linkage_key": parts["linkageKey"], "id_checked_on": parts.get("idCheckedOn")})
    return people


POOL = _pool()
# A mobile no synthetic record has: the person's phone is then not the one on their record (no fast-track).
NOBODYS_MOBILE = next(m for m in (f"+447700900{n:03d}" for n in range(1000))
                      if m not in DEFAULT_SET.read_text(encoding="utf-8").replace("07700 900", "+447700900"))
SOURCES = (f"192.0.2.{n % 250}-{n}" for n in itertools.count())  # one per example: no source lockout between them


def test_the_pool_has_both_kinds_of_gp_account():
    assert len(POOL) > 50
    assert any(p["id_checked_on"] for p in POOL) and any(not p["id_checked_on"] for p in POOL)
    assert HARD_CASES["gp_online_fast_track"]["nhs_number"] in {p["nhs_number"] for p in POOL}


@pytest.fixture
def world(app, person, rp):
    """Set up once for the whole property test: a client, and a record already linked to someone else."""
    holder = person("P0")
    with app.app_context():
        settings_ = app.extensions["idp"].settings
        details = Details(nhs_number=HOLDERS_CASE["nhs_number"], birthdate=HOLDERS_CASE["birthdate"],
                          postcode=HOLDERS_CASE["postcode"])
        who = Person.query.filter_by(email=holder).one()
        assert demographics.attempt(who, details, settings_, "192.0.2.254").outcome is Outcome.RAISED
    return {"client_id": rp.client_id, "linked": details}


def _attempt(action: str, person, target: dict, world: dict, settings_, source: str):
    """One attempt as the pages make it; None when the page would not offer this check now."""
    if action == "fast_track":
        return fast_track.transfer(person, settings_)
    if action.startswith("gp_"):
        if not gp_online.ROUTE.offered(person, settings_):
            return None
        key = target["linkage_key"] if action == "gp_right" else "AAAA BBBB CCCC"
        return gp_online.attempt(person, RegistrationDetails(
            linkage_key=key, ods_code=target["ods_code"], account_id=target["account_id"], given=target["given"],
            family=target["family"], birthdate=target["birthdate"]), settings_, source)
    if not demographics.ROUTE.offered(person, settings_):
        return None
    details = {
        "p5_by_number": Details(nhs_number=target["nhs_number"], birthdate=target["birthdate"], postcode=target["postcode"]),
        "p5_by_name": Details(given=target["given"], family=target["family"], birthdate=target["birthdate"],
                              postcode=target["postcode"]),
        "wrong_details": Details(nhs_number=target["nhs_number"], birthdate=target["birthdate"], postcode="ZZ99 3CZ"),
        "someone_already_linked": world["linked"],
    }[action]
    return demographics.attempt(person, details, settings_, source)


@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(target=st.sampled_from(POOL), actions=st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=6),
       own_mobile=st.booleans())
def test_no_level_or_claim_above_the_evidence(app, person, world, target, actions, own_mobile):
    email = person("P0", email=f"prop-{uuid.uuid4().hex[:12]}@example.com",
                   phone=target["mobile"] if own_mobile else NOBODYS_MOBILE)
    source = next(SOURCES)
    with app.app_context():
        settings_ = app.extensions["idp"].settings
        client = db.session.get(Client, world["client_id"])
        try:
            for action in actions:
                someone = Person.query.filter_by(email=email).one()
                before = someone.proofing_level
                result = _attempt(action, someone, target, world, settings_, source)
                db.session.expire_all()
                someone = Person.query.filter_by(email=email).one()
                event(f"{action}: {result.outcome.value if result else 'not offered'}")
                if result is not None:
                    assert result.outcome is not Outcome.UNAVAILABLE
                    if action in NEVER_RAISE:
                        assert result.outcome is not Outcome.RAISED, action
                    if result.outcome is Outcome.RAISED:
                        assert someone.proofing_level == result.level
                    else:
                        assert someone.proofing_level == before, action

                level = someone.proofing_level
                assert level == evidence.evidenced_level(someone.id), (actions, action)
                supporting = [r for r in evidence.of(someone.id) if r.outcome in evidence.SUPPORTING and r.level]
                if level == "P0":
                    assert supporting == [] and someone.nhs_number is None
                else:
                    assert someone.nhs_number in {r.nhs_number for r in supporting}
                claims = person_claims(someone, client, ALL_CLAIMS, vot=f"{level}.Cp.Cd")
                if level == "P0":
                    assert not NEVER_AT_P0 & set(claims), claims
                if level != "P9":
                    assert "gp_integration_credentials" not in claims, claims
                assert claims.get("identity_proofing_level", level) == level
            event(f"ended at {level}")
        finally:
            # The account goes (its evidence with it, by the database's cascade), so the next example starts
            # from the same state: only the holder's record is linked, and every other record is free.
            db.session.rollback()
            db.session.delete(Person.query.filter_by(email=email).one())
            db.session.commit()
