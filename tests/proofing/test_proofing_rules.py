"""The rules of proofing at the domain level (issue 8): the one writer of a level, the append-only evidence
ledger, one NHS number per account, the guess throttles, the P9 routes, the login-time PDS refresh and
``idp users explain``. The same journeys over HTTP are in ``test_uplift.py``."""
from __future__ import annotations

import json
import math
from datetime import datetime, timezone

import pytest
from freezegun import freeze_time

from journey_support import HARD_CASES
from support import PASSWORD, PG_URL

from idp.extensions import db
from idp.models import Evidence, FailedAttempt, Person
from idp.proofing import NhsNumberTaken, ProofingError, evidence, person_record, raise_level
from idp.proofing.matching import Details
from idp.proofing.pds import PdsUnavailable
from idp.proofing.pds.synthetic import DEFAULT_SET, SyntheticPds, load
from idp.proofing.routes import Outcome, demographics, fast_track, gp_online
from idp.proofing.routes.gp_online import RegistrationDetails

SOURCE = "203.0.113.7"
OTHER_SOURCE = "198.51.100.23"
OLIVIA = HARD_CASES["hyphenated_family_name"]
ZOE = HARD_CASES["accented_given_name_zoe"]
LEAH = HARD_CASES["restricted"]
TARIQ = HARD_CASES["gp_online_fast_track"]
BETHAN = HARD_CASES["gp_online_without_id_check"]


# --- helpers -------------------------------------------------------------------------------------
def settings_of(app):
    return app.extensions["idp"].settings


def the_person(email: str) -> Person:
    return Person.query.filter_by(email=email).one()


def by_number(case: dict, **typed) -> Details:
    return Details(**{"nhs_number": case["nhs_number"], "birthdate": case["birthdate"], "postcode": case["postcode"],
                      **typed})


def by_name(case: dict, **typed) -> Details:
    return Details(**{"given": " ".join(case["given_names"]), "family": case["family_name"],
                      "birthdate": case["birthdate"], "postcode": case["postcode"], **typed})


def wrong(case: dict) -> Details:
    return by_number(case, postcode="ZZ99 3CZ")


def registration(case: dict, **typed) -> RegistrationDetails:
    account = case["gp_account"]
    return RegistrationDetails(**{"linkage_key": account["linkage_key"], "ods_code": account["ods_code"],
                                  "account_id": account["account_id"], "given": " ".join(case["given_names"]),
                                  "family": case["family_name"], "birthdate": case["birthdate"], **typed})


def proofed_to_p5(app, person, case: dict, **extra) -> str:
    """A P0 person matched to ``case``'s record by the demographics route; returns the email."""
    email = person("P0", **extra)
    with app.app_context():
        result = demographics.attempt(the_person(email), by_number(case), settings_of(app), SOURCE)
        assert result.outcome is Outcome.RAISED, result
    return email


def rows_of(person_id: str, route: str) -> list[Evidence]:
    """The person's evidence of one route, in ledger order."""
    return [row for row in evidence.of(person_id) if row.route == route]


def other_phone(*taken: str | None) -> str:
    return next(p for p in ("+447700900001", "+447700900002", "+447700900003") if p not in taken)


class SpyPds:
    """The synthetic PDS, remembering each question asked of it."""

    def __init__(self):
        self.calls, self.real = [], SyntheticPds()

    def get(self, nhs_number):
        self.calls.append(("get", nhs_number))
        return self.real.get(nhs_number)

    def search(self, **kwargs):
        self.calls.append(("search", kwargs))
        return self.real.search(**kwargs)


class DownPds:
    def get(self, *args, **kwargs):
        raise PdsUnavailable("timeout")

    def search(self, *args, **kwargs):
        raise PdsUnavailable("timeout")


@pytest.fixture
def spy_pds(monkeypatch):
    spy = SpyPds()
    monkeypatch.setattr(demographics, "demographics_service", lambda settings: spy)
    return spy


@pytest.fixture
def level_raised():
    """Every ``proofing.level_raised`` event emitted during the test."""
    from idp.events import _signals, listen

    seen = []

    def receiver(sender, **data):
        seen.append(data)

    listen("proofing.level_raised", receiver)
    yield seen
    _signals.signal("proofing.level_raised").disconnect(receiver)


def changed_set(tmp_path, changes: dict) -> str:
    """A copy of the shipped set in which ``changes[nhs_number](resource)`` edited those Patients."""
    lines = []
    for line in DEFAULT_SET.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        resource = json.loads(line)
        if resource["id"] in changes:
            changes[resource["id"]](resource)
        lines.append(json.dumps(resource, ensure_ascii=False))
    path = tmp_path / "changed-pds.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def bump_version(resource: dict) -> None:
    resource["meta"]["versionId"] = str(int(resource["meta"]["versionId"]) + 1)


def usual_name(resource: dict) -> dict:
    return next(n for n in resource["name"] if n.get("use") == "usual")


@pytest.fixture
def synthetic_set_restored(app):
    """On PostgreSQL the synthetic set is shared: put the shipped one back after a test changed it.

    (The conftest compares only count and first and last NHS numbers, which an edited name keeps.)"""
    yield
    if PG_URL:
        with app.app_context():
            load(DEFAULT_SET)


# --- raise_level: the one writer of a level ------------------------------------------------------
def _proof(level="P5", outcome="matched", route="demographics"):
    return evidence.new(route=route, outcome=outcome, checked_by="test", level=level)


@pytest.mark.parametrize(("level", "proof_level", "outcome"), [
    pytest.param("P5", None, "matched", id="evidence-names-no-level"),
    pytest.param("P5", "P9", "matched", id="evidence-names-another-level"),
    pytest.param("P9", "P5", "verified", id="p5-evidence-for-p9"),
    pytest.param("P5", "P5", "not_matched", id="outcome-not-matched"),
    pytest.param("P5", "P5", "refused", id="outcome-refused"),
    pytest.param("P5", "P5", "changed", id="outcome-changed"),
    pytest.param("P9", "P9", "unchanged", id="outcome-unchanged"),
])
def test_raise_level_refuses_evidence_that_does_not_support_the_level(app, person, level_raised, level, proof_level,
                                                                      outcome):
    email = person("P0")
    with app.app_context():
        someone = the_person(email)
        record = SyntheticPds().get(OLIVIA["nhs_number"])
        with pytest.raises(ProofingError):
            raise_level(someone, level, _proof(proof_level, outcome), record=record)
        db.session.rollback()
        someone = the_person(email)
        assert someone.proofing_level == "P0" and someone.nhs_number is None
        assert evidence.of(someone.id) == []
        assert evidence.evidenced_level(someone.id) == "P0"
    assert [e for e in level_raised if e["person_id"] == someone.id] == []


def test_raise_level_never_lowers(app, person):
    email = person("P9")
    with app.app_context():
        someone = the_person(email)
        before = len(evidence.of(someone.id))
        with pytest.raises(ProofingError, match="never lowered"):
            raise_level(someone, "P5", _proof("P5"))
        db.session.rollback()
        someone = the_person(email)
        assert someone.proofing_level == "P9" == evidence.evidenced_level(someone.id)
        assert len(evidence.of(someone.id)) == before


def test_raise_level_records_the_evidence_and_the_level_in_one_commit(app, person, level_raised):
    from sqlalchemy import event

    email = person("P0")
    commits = []

    def before_commit(session):
        commits.append(([type(o).__name__ for o in session.new], [type(o).__name__ for o in session.dirty]))

    with app.app_context():
        someone = the_person(email)
        record = SyntheticPds().get(OLIVIA["nhs_number"])
        event.listen(db.session, "before_commit", before_commit)
        try:
            raise_level(someone, "P5", _proof("P5"), record=record)
        finally:
            event.remove(db.session, "before_commit", before_commit)
        assert commits == [(["Evidence"], ["Person"])]
        db.session.expire_all()
        someone = the_person(email)
        (row,) = evidence.of(someone.id)
        assert (someone.proofing_level, someone.nhs_number) == ("P5", OLIVIA["nhs_number"])
        assert (row.level, row.outcome, row.route) == ("P5", "matched", "demographics")
        assert someone.family_name == OLIVIA["family_name"] and someone.pds_version == record.version
    assert [e for e in level_raised if e["person_id"] == someone.id] == [
        {"person_id": someone.id, "level": "P5", "route": "demographics", "previous": "P0"}]


def test_when_the_commit_fails_neither_the_level_nor_the_evidence_is_kept(app, person, monkeypatch, level_raised):
    """Two accounts racing to one record: the unique NHS number lets one win, and the loser keeps nothing."""
    first, second = person("P0"), person("P0")
    with app.app_context():
        record = SyntheticPds().get(OLIVIA["nhs_number"])
        raise_level(the_person(first), "P5", _proof("P5"), record=record)
        monkeypatch.setattr(person_record, "owner_of", lambda nhs_number: None)  # as if read before the winner's commit
        loser = the_person(second)
        with pytest.raises(NhsNumberTaken):
            raise_level(loser, "P5", _proof("P5"), record=record)
        db.session.expire_all()
        loser = the_person(second)
        assert (loser.proofing_level, loser.nhs_number) == ("P0", None)
        assert evidence.of(loser.id) == [] and evidence.evidenced_level(loser.id) == "P0"
        assert the_person(first).nhs_number == OLIVIA["nhs_number"]
    assert [e["level"] for e in level_raised if e["person_id"] == loser.id] == []


def test_a_level_never_stands_above_its_evidence(app, person, level_raised):
    email = person("P0")
    with app.app_context():
        someone = the_person(email)
        record = SyntheticPds().get(BETHAN["nhs_number"])
        steps = [("P5", _proof("P5", "not_matched"), False), ("P5", _proof("P5"), True),
                 ("P9", _proof("P5", "verified", "gp_online"), False), ("P9", _proof("P9", "refused", "gp_online"), False),
                 ("P9", _proof("P9", "verified", "gp_online"), True), ("P5", _proof("P5"), False)]
        for level, proof, raised in steps:
            if raised:
                raise_level(someone, level, proof, record=record)
            else:
                with pytest.raises(ProofingError):
                    raise_level(someone, level, proof, record=record)
                db.session.rollback()
            someone = the_person(email)
            assert someone.proofing_level == evidence.evidenced_level(someone.id)
        assert someone.proofing_level == "P9"
    assert [(e["previous"], e["level"]) for e in level_raised if e["person_id"] == someone.id] == [
        ("P0", "P5"), ("P5", "P9")]


# --- the evidence ledger ----------------------------------------------------------------------------
def _a_row(app, person):
    email = person("P0")
    with app.app_context():
        demographics.attempt(the_person(email), wrong(OLIVIA), settings_of(app), SOURCE)
    return email


@pytest.mark.parametrize("change", ["update", "delete"])
def test_evidence_cannot_be_changed_or_deleted_through_the_orm(app, person, change):
    email = _a_row(app, person)
    with app.app_context():
        (row,) = evidence.of(the_person(email).id)
        if change == "update":
            row.outcome = "matched"
        else:
            db.session.delete(row)
        with pytest.raises(RuntimeError, match="append-only"):
            db.session.commit()
        db.session.rollback()
        (row,) = evidence.of(the_person(email).id)
        assert row.outcome == "not_matched"


@pytest.mark.parametrize("change", [
    pytest.param("query-update", id="query-update"),
    pytest.param("query-delete", id="query-delete"),
])
def test_evidence_cannot_be_changed_or_deleted_by_an_orm_bulk_statement(app, person, change):
    email = _a_row(app, person)
    with app.app_context():
        person_id = the_person(email).id
        rows = Evidence.query.filter_by(person_id=person_id)
        with pytest.raises(RuntimeError):
            if change == "query-update":
                rows.update({"outcome": "matched", "level": "P9"}, synchronize_session=False)
            else:
                rows.delete(synchronize_session=False)
            db.session.commit()
        db.session.rollback()
        assert [r.outcome for r in evidence.of(person_id)] == ["not_matched"]


def test_evidence_reads_back_in_the_order_it_was_appended_within_one_second(app, person):
    email = person("P0")
    with app.app_context(), freeze_time(datetime.now(timezone.utc)):
        person_id = the_person(email).id
        for n in range(12):
            evidence.append(person_id, evidence.new(route="demographics", outcome="not_matched",
                                                    checked_by="test", n=n))
        assert [row.detail["n"] for row in evidence.of(person_id)] == list(range(12))


def test_evidence_holds_no_names_birthdates_or_postcodes(app, person):
    columns = {c.name for c in Evidence.__table__.columns}
    assert columns == {"id", "person_id", "at", "seq", "route", "outcome", "level", "checked_by", "nhs_number",
                       "pds_version", "document_type", "staff_member", "detail"}
    email = person("P0")
    with app.app_context():
        someone, settings = the_person(email), settings_of(app)
        typed = [by_name(ZOE, given="Zoe", postcode="zz99 3cz"),  # refused by name
                 by_number(ZOE, birthdate="1995-02-22"),  # refused by number
                 by_name(ZOE, given="zoe", family="MARSH", postcode="bt76qp")]  # matched
        outcomes = [demographics.attempt(someone, d, settings, SOURCE).outcome for d in typed]
        assert outcomes == [Outcome.NOT_MATCHED, Outcome.NOT_MATCHED, Outcome.RAISED]
        rows = evidence.of(someone.id)
        assert sorted((r.outcome, r.detail.get("reason") or "", r.detail.get("method")) for r in rows) == [
            ("matched", "", "name"), ("not_matched", "details_differ", "nhs_number"), ("not_matched", "no_record", "name")]
        forbidden = {"zoe", "zoë", "marsh", "1995-02-21", "1995-02-22", "19950221", "bt7", "bt76qp", "zz99", "zz993cz"}
        for row in rows:
            text = json.dumps({c: getattr(row, c) for c in columns if c != "at"}, ensure_ascii=False).casefold()
            assert not [word for word in forbidden if word in text], text
            assert set(row.detail) <= {"method", "reason", "superseded"}
        (matched,) = [r for r in rows if r.outcome == "matched"]
        assert matched.nhs_number == ZOE["nhs_number"] and matched.pds_version


# --- one NHS number, one account ---------------------------------------------------------------------
def test_a_second_account_cannot_take_a_linked_nhs_number(app, person):
    first, second = person("P0"), person("P0")
    with app.app_context():
        settings = settings_of(app)
        assert demographics.attempt(the_person(first), by_number(OLIVIA), settings, SOURCE).outcome is Outcome.RAISED
        result = demographics.attempt(the_person(second), by_name(OLIVIA), settings, SOURCE)
        assert result.outcome is Outcome.ALREADY_LINKED and result.level is None
        db.session.expire_all()
        loser = the_person(second)
        assert (loser.proofing_level, loser.nhs_number, loser.family_name) == ("P0", None, None)
        assert [(r.outcome, r.level, r.detail.get("reason")) for r in evidence.of(loser.id)] == [
            ("refused", None, "linked_to_another_account")]
        assert evidence.evidenced_level(loser.id) == "P0"
        winner = the_person(first)
        assert (winner.proofing_level, winner.nhs_number) == ("P5", OLIVIA["nhs_number"])


def test_the_race_for_one_record_is_decided_by_the_unique_nhs_number(app, person, monkeypatch):
    first, second = person("P0"), person("P0")
    with app.app_context():
        settings = settings_of(app)
        assert demographics.attempt(the_person(first), by_number(OLIVIA), settings, SOURCE).outcome is Outcome.RAISED
        monkeypatch.setattr(person_record, "owner_of", lambda nhs_number: None)  # both read "nobody" before committing
        result = demographics.attempt(the_person(second), by_number(OLIVIA), settings, SOURCE)
        assert result.outcome is Outcome.ALREADY_LINKED
        db.session.expire_all()
        loser = the_person(second)
        assert (loser.proofing_level, loser.nhs_number) == ("P0", None)
        assert [r.outcome for r in evidence.of(loser.id)] == ["refused"]
        assert the_person(first).nhs_number == OLIVIA["nhs_number"]


@pytest.mark.parametrize("level", ["P5", "P9"])
def test_a_proofed_person_is_not_relinked_to_another_record_by_the_demographics_route(app, person, level):
    email = proofed_to_p5(app, person, BETHAN)
    with app.app_context():
        settings = settings_of(app)
        if level == "P9":
            assert gp_online.attempt(the_person(email), registration(BETHAN), settings, SOURCE).outcome is Outcome.RAISED
        result = demographics.attempt(the_person(email), by_number(ZOE), settings, SOURCE)
        assert result.outcome is not Outcome.RAISED
        someone = the_person(email)
        assert (someone.proofing_level, someone.nhs_number) == (level, BETHAN["nhs_number"])


# --- throttles ------------------------------------------------------------------------------------------
def test_the_default_limits_are_the_configured_ones(app):
    settings = settings_of(app)
    assert (settings.proofing_attempts_per_account, settings.proofing_attempts_per_source,
            settings.proofing_lockout_seconds) == (5, 20, 3600)


def test_an_account_is_locked_after_its_limit_without_pds_being_asked(app, person, spy_pds):
    email = person("P0")
    with app.app_context():
        settings = settings_of(app)
        someone = the_person(email)
        for _ in range(settings.proofing_attempts_per_account):
            assert demographics.attempt(someone, wrong(OLIVIA), settings, SOURCE).outcome is Outcome.NOT_MATCHED
        asked = len(spy_pds.calls)
        for source in (SOURCE, OTHER_SOURCE):  # the account's lock holds whatever the source
            for details in (by_number(OLIVIA), by_name(OLIVIA)):
                assert demographics.attempt(someone, details, settings, source).outcome is Outcome.LOCKED
        assert len(spy_pds.calls) == asked
        someone = the_person(email)
        assert someone.proofing_level == "P0"
        assert len(evidence.of(someone.id)) == settings.proofing_attempts_per_account


def test_a_source_is_locked_after_its_limit_across_accounts(app, person, spy_pds):
    with app.app_context():
        settings = settings_of(app)
        per_account, per_source = settings.proofing_attempts_per_account, settings.proofing_attempts_per_source
    remaining = per_source
    for _ in range(math.ceil(per_source / per_account)):
        email = person("P0")
        with app.app_context():
            for _ in range(min(per_account, remaining)):
                assert demographics.attempt(the_person(email), wrong(OLIVIA), settings, SOURCE).outcome is Outcome.NOT_MATCHED
                remaining -= 1
    assert remaining == 0
    fresh = person("P0")
    with app.app_context():
        asked = len(spy_pds.calls)
        assert demographics.attempt(the_person(fresh), by_number(OLIVIA), settings, SOURCE).outcome is Outcome.LOCKED
        assert len(spy_pds.calls) == asked and the_person(fresh).proofing_level == "P0"
        # The same account from another source is not locked: the source's lock is the source's.
        assert demographics.attempt(the_person(fresh), by_number(OLIVIA), settings, OTHER_SOURCE).outcome is Outcome.RAISED


def test_the_lock_clears_after_the_lockout(app, person):
    email = person("P0")
    with app.app_context():
        settings = settings_of(app)
        lockout = settings.proofing_lockout_seconds
        with freeze_time(datetime.now(timezone.utc).replace(microsecond=0)) as frozen:
            someone = the_person(email)
            for _ in range(settings.proofing_attempts_per_account):
                demographics.attempt(someone, wrong(OLIVIA), settings, SOURCE)
            assert demographics.attempt(someone, by_number(OLIVIA), settings, SOURCE).outcome is Outcome.LOCKED
            frozen.tick(lockout - 1)
            assert demographics.attempt(someone, by_number(OLIVIA), settings, SOURCE).outcome is Outcome.LOCKED
            frozen.tick(2)
            assert demographics.attempt(someone, by_number(OLIVIA), settings, SOURCE).outcome is Outcome.RAISED
        assert the_person(email).proofing_level == "P5"


def test_pds_unavailable_records_nothing_and_counts_no_attempt(app, person, monkeypatch):
    from idp.proofing import attempts

    email = person("P0")
    monkeypatch.setattr(demographics, "demographics_service", lambda settings: DownPds())
    with app.app_context():
        settings = settings_of(app)
        someone = the_person(email)
        for details in [by_number(OLIVIA), by_name(OLIVIA)] * settings.proofing_attempts_per_account:
            result = demographics.attempt(someone, details, settings, SOURCE)
            assert result.outcome is Outcome.UNAVAILABLE and result.level is None
        assert evidence.of(someone.id) == []
        keys = [key for key, _limit in attempts._subjects(demographics.THROTTLE, someone.id, SOURCE, settings)]
        # Counted first (so parallel requests cannot slip under the limit), then given back.
        assert [getattr(db.session.get(FailedAttempt, key), "count", 0) for key in keys] == [0, 0]
        assert the_person(email).proofing_level == "P0"
    monkeypatch.undo()
    with app.app_context():  # PDS is back: nothing was counted against the account
        assert demographics.attempt(the_person(email), by_number(OLIVIA), settings, SOURCE).outcome is Outcome.RAISED


# --- P9 with GP online services registration details ------------------------------------------------
def test_gp_online_details_raise_p5_to_p9_and_keep_the_credentials(app, person, level_raised):
    email = proofed_to_p5(app, person, BETHAN)
    with app.app_context():
        result = gp_online.attempt(the_person(email), registration(BETHAN), settings_of(app), SOURCE)
        assert (result.outcome, result.level) == (Outcome.RAISED, "P9")
        someone = the_person(email)
        assert someone.proofing_level == "P9" == evidence.evidenced_level(someone.id)
        (row,) = rows_of(someone.id, "gp_online")
        assert (row.route, row.outcome, row.level, row.nhs_number) == ("gp_online", "verified", "P9", BETHAN["nhs_number"])
        assert row.checked_by == "gp_system:simulator"
        account = BETHAN["gp_account"]
        assert person_record.gp_credentials(someone) == {
            "gp_user_id": account["account_id"], "gp_linkage_key": account["linkage_key"], "gp_ods_code": account["ods_code"]}
        assert account["linkage_key"] not in (someone.gp_credentials or "")  # sealed at rest
    assert [e["route"] for e in level_raised if e["person_id"] == someone.id] == ["demographics", "gp_online"]


@pytest.mark.parametrize(("typed", "reason"), [
    pytest.param({"linkage_key": "AAAA BBBB CCCC"}, "no_account", id="wrong-linkage-key"),
    pytest.param({"account_id": "00000000"}, "no_account", id="wrong-account-id"),
    pytest.param({"ods_code": "A81001"}, "no_account", id="wrong-practice"),
    pytest.param({"birthdate": "1999-09-30"}, "details_differ", id="wrong-birthdate"),
    pytest.param({"family": "Robertson"}, "details_differ", id="wrong-family-name"),
])
def test_wrong_gp_online_details_raise_nothing(app, person, typed, reason):
    email = proofed_to_p5(app, person, BETHAN)
    with app.app_context():
        result = gp_online.attempt(the_person(email), registration(BETHAN, **typed), settings_of(app), SOURCE)
        assert result.outcome is Outcome.NOT_MATCHED
        someone = the_person(email)
        assert someone.proofing_level == "P5" == evidence.evidenced_level(someone.id)
        assert person_record.gp_credentials(someone) is None
        (row,) = rows_of(someone.id, "gp_online")
        assert (row.route, row.outcome, row.level, row.detail) == ("gp_online", "not_matched", None, {"reason": reason})


@pytest.mark.parametrize("proofed_as", ["operator-p5", "tariqs-record"])
def test_another_persons_gp_online_details_do_not_match(app, person, proofed_as):
    email = person("P5") if proofed_as == "operator-p5" else proofed_to_p5(app, person, TARIQ)
    with app.app_context():
        someone = the_person(email)
        assert someone.nhs_number != BETHAN["nhs_number"]
        result = gp_online.attempt(someone, registration(BETHAN), settings_of(app), SOURCE)
        assert result.outcome is Outcome.NOT_MATCHED
        someone = the_person(email)
        assert someone.proofing_level == "P5" and person_record.gp_credentials(someone) is None
        assert [(r.outcome, r.detail) for r in rows_of(someone.id, "gp_online")] == [
            ("not_matched", {"reason": "another_record"})]


@pytest.mark.parametrize("typed_key", ["2r4w 5avx vj34", " 2r4w5avxvj34 ", "2R4W5AVXVJ34", "2r4w  5avx\tvj34"])
def test_a_linkage_key_may_be_typed_in_any_case_and_spacing(app, person, typed_key):
    assert "".join(typed_key.split()).upper() == "".join(BETHAN["gp_account"]["linkage_key"].split())
    email = proofed_to_p5(app, person, BETHAN)
    with app.app_context():
        typed = registration(BETHAN, linkage_key=typed_key, ods_code=" " + BETHAN["gp_account"]["ods_code"].lower())
        assert gp_online.attempt(the_person(email), typed, settings_of(app), SOURCE).outcome is Outcome.RAISED
        assert the_person(email).proofing_level == "P9"


def test_gp_online_guesses_are_throttled(app, person):
    email = proofed_to_p5(app, person, BETHAN)
    with app.app_context():
        settings = settings_of(app)
        for _ in range(settings.proofing_attempts_per_account):
            result = gp_online.attempt(the_person(email), registration(BETHAN, linkage_key="AAAA BBBB CCCC"), settings, SOURCE)
            assert result.outcome is Outcome.NOT_MATCHED
        assert gp_online.attempt(the_person(email), registration(BETHAN), settings, SOURCE).outcome is Outcome.LOCKED
        assert the_person(email).proofing_level == "P5"


# --- P9 by fast-track -------------------------------------------------------------------------------
def test_fast_track_transfers_an_earlier_id_check(app, person):
    email = proofed_to_p5(app, person, TARIQ, phone=TARIQ["mobile"])
    with app.app_context():
        settings = settings_of(app)
        someone = the_person(email)
        assert someone.phone_number_pds_matched
        assert fast_track.offered(someone, settings)
        result = fast_track.transfer(someone, settings)
        assert (result.outcome, result.level) == (Outcome.RAISED, "P9")
        someone = the_person(email)
        assert someone.proofing_level == "P9" == evidence.evidenced_level(someone.id)
        (row,) = rows_of(someone.id, "fast_track")
        assert (row.route, row.outcome, row.level, row.nhs_number) == ("fast_track", "transferred", "P9", TARIQ["nhs_number"])
        assert row.detail == {"id_checked_on": TARIQ["gp_account"]["id_checked_on"]}  # no practice: not needed


@pytest.mark.parametrize("why", ["phone-differs", "no-earlier-id-check", "still-p0"])
def test_fast_track_is_refused_when_not_eligible(app, person, why):
    if why == "phone-differs":
        email = proofed_to_p5(app, person, TARIQ, phone=other_phone(TARIQ["mobile"]))
    elif why == "no-earlier-id-check":
        assert BETHAN["gp_account"]["id_checked_on"] is None
        email = proofed_to_p5(app, person, BETHAN, phone=BETHAN["mobile"])
    else:
        email = person("P0", phone=TARIQ["mobile"])
    with app.app_context():
        settings = settings_of(app)
        before = the_person(email).proofing_level
        assert not fast_track.offered(the_person(email), settings)
        assert fast_track.transfer(the_person(email), settings).outcome is Outcome.NOT_MATCHED
        someone = the_person(email)
        assert someone.proofing_level == before == evidence.evidenced_level(someone.id)
        assert rows_of(someone.id, "fast_track") == []


# --- the login-time PDS refresh ---------------------------------------------------------------------
def test_a_changed_record_reaches_the_person_with_evidence(app, person, tmp_path, synthetic_set_restored):
    email = proofed_to_p5(app, person, OLIVIA)

    def marry(resource):
        usual_name(resource)["family"] = "Smith-Jones-Adeyemi"
        bump_version(resource)

    with app.app_context():
        settings = settings_of(app)
        person_record.refresh(the_person(email), settings)  # nothing changed yet: no row
        assert [r.route for r in evidence.of(the_person(email).id)] == ["demographics"]
        old_version = the_person(email).pds_version
        load(changed_set(tmp_path, {OLIVIA["nhs_number"]: marry}))
        person_record.refresh(the_person(email), settings)
        someone = the_person(email)
        assert someone.family_name == "Smith-Jones-Adeyemi" and someone.given_name == "Olivia"
        assert someone.pds_version == str(int(old_version) + 1)
        (row,) = rows_of(someone.id, "pds_refresh")
        assert (row.route, row.outcome, row.level, row.nhs_number, row.pds_version) == (
            "pds_refresh", "changed", None, OLIVIA["nhs_number"], someone.pds_version)
        assert row.detail == {"fields": ["family_name", "pds_version"]}
        assert someone.proofing_level == "P5" == evidence.evidenced_level(someone.id)
        person_record.refresh(the_person(email), settings)  # read again, unchanged: no new row
        assert len(evidence.of(someone.id)) == 2


def test_a_person_never_proofed_against_pds_is_not_refreshed(app, person):
    email = person("P5")  # set by an operator: no PDS record version
    with app.app_context():
        before = len(evidence.of(the_person(email).id))
        person_record.refresh(the_person(email), settings_of(app))
        assert len(evidence.of(the_person(email).id)) == before


def test_a_restricted_record_never_stores_an_address_or_gp(app, person, tmp_path, synthetic_set_restored):
    leah, olivia = proofed_to_p5(app, person, LEAH), proofed_to_p5(app, person, OLIVIA)

    def move(resource):
        resource["address"][0]["postalCode"] = "M20 2RN"
        resource["generalPractitioner"][0]["identifier"]["value"] = "P84009"
        bump_version(resource)

    def restrict(resource):
        resource["meta"]["security"] = [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
                                         "code": "R", "display": "restricted"}]
        bump_version(resource)

    with app.app_context():
        settings = settings_of(app)
        someone = the_person(leah)
        assert (someone.postcode, someone.gp_ods_code, someone.pds_restricted) == (None, None, True)
        assert someone.nhs_number == LEAH["nhs_number"] and someone.family_name == LEAH["family_name"]
        assert the_person(olivia).postcode == OLIVIA["postcode"]

        load(changed_set(tmp_path, {LEAH["nhs_number"]: move, OLIVIA["nhs_number"]: restrict}))
        for email in (leah, olivia):
            person_record.refresh(the_person(email), settings)
        someone = the_person(leah)
        assert (someone.postcode, someone.gp_ods_code, someone.pds_restricted) == (None, None, True)
        assert [r.detail for r in rows_of(someone.id, "pds_refresh")] == [{"fields": ["pds_version"]}]
        now_restricted = the_person(olivia)
        assert (now_restricted.postcode, now_restricted.gp_ods_code, now_restricted.pds_restricted) == (None, None, True)
        assert [r.detail for r in rows_of(now_restricted.id, "pds_refresh")] == [
            {"fields": ["gp_ods_code", "pds_restricted", "pds_version", "postcode"]}]
        rows = [r for email in (leah, olivia) for r in evidence.of(the_person(email).id)]
        assert not any(word in json.dumps(r.detail) for r in rows for word in ("M20", "M14", "L8 ", "P84009", "D82040"))


# --- idp users explain / add ----------------------------------------------------------------------------
def test_users_explain_tells_each_piece_of_evidence_in_order(app, person):
    email = person("P0")
    with app.app_context(), freeze_time(datetime(2025, 6, 2, 9, 30, tzinfo=timezone.utc)) as frozen:
        settings = settings_of(app)
        assert demographics.attempt(the_person(email), wrong(BETHAN), settings, SOURCE).outcome is Outcome.NOT_MATCHED
        frozen.tick(60)
        assert demographics.attempt(the_person(email), by_number(BETHAN), settings, SOURCE).outcome is Outcome.RAISED
        frozen.tick(60)
        assert gp_online.attempt(the_person(email), registration(BETHAN), settings, SOURCE).outcome is Outcome.RAISED
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "explain", email])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"{email} is at P9."
    assert lines[1].startswith("1. 2025-06-02 09:30:00 UTC: matched their details to the Personal Demographics Service (PDS)")
    assert "- did not match" in lines[1] and "(reason: details_differ)" in lines[1] and "supports" not in lines[1]
    assert lines[2].startswith("2. 2025-06-02 09:31:00 UTC: matched their details to the Personal Demographics Service")
    assert "- matched - supports P5" in lines[2] and f"PDS record {BETHAN['nhs_number']} version" in lines[2]
    assert "[checked by pds:synthetic]" in lines[2]
    assert lines[3].startswith("3. 2025-06-02 09:32:00 UTC: gave their GP online services registration details, "
                               "checked with the GP practice system")
    assert "- verified - supports P9" in lines[3] and "[checked by gp_system:simulator]" in lines[3]
    assert lines[4] == ("Level: P9, reached P5 by demographics then P9 by gp_online; "
                        "the last step rests on the gp_online evidence above.")
    assert len(lines) == 5
    assert BETHAN["gp_account"]["linkage_key"] not in result.output and BETHAN["postcode"] not in result.output

    as_json = runner.invoke(args=["users", "explain", email, "--json"])
    assert as_json.exit_code == 0, as_json.output
    told = json.loads(as_json.output)
    assert (told["proofing_level"], told["evidenced_level"]) == ("P9", "P9")
    assert [(e["route"], e["outcome"], e["level"]) for e in told["evidence"]] == [
        ("demographics", "not_matched", None), ("demographics", "matched", "P5"), ("gp_online", "verified", "P9")]
    assert [e["at"] for e in told["evidence"]] == sorted(e["at"] for e in told["evidence"])
    assert told["evidence"][0]["detail"] == {"method": "nhs_number", "reason": "details_differ"}


def test_users_explain_of_a_person_without_evidence(app, person):
    email = person("P0")
    result = app.test_cli_runner().invoke(args=["users", "explain", email])
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        f"{email} is at P0.", "No evidence is recorded: the account has not proved who they are (P0)."]
    told = json.loads(app.test_cli_runner().invoke(args=["users", "explain", email, "--json"]).output)
    assert (told["proofing_level"], told["evidenced_level"], told["evidence"]) == ("P0", "P0", [])


def test_users_add_at_p9_records_an_operator_evidence_row(app):
    email = "operator-made@example.com"
    result = app.test_cli_runner().invoke(args=[
        "users", "add", "--email", email, "--password", PASSWORD, "--level", "P9", "--nhs-number", "9990900019",
        "--given-name", "Ada", "--family-name", "Lovelace", "--birthdate", "1985-12-10"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["level"] == "P9"
    with app.app_context():
        someone = the_person(email)
        (row,) = evidence.of(someone.id)
        assert (row.route, row.outcome, row.level, row.checked_by, row.nhs_number) == (
            "operator", "level_set", "P9", "operator:cli", "9990900019")
        assert row.detail == {"reason": "set by an operator from the command line"}
        assert someone.proofing_level == "P9" == evidence.evidenced_level(someone.id)
    told = app.test_cli_runner().invoke(args=["users", "explain", email]).output
    assert "was set by an operator from the command line - level set - supports P9" in told
    assert "[checked by operator:cli]" in told and "Lovelace" not in told
