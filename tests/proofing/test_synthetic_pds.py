"""The synthetic PDS: the shipped set and its hard cases, the loader, the adapter and ``idp pds load``."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from idp.people import nhs_number_is_valid
from idp.proofing.pds.fhir import record_from_patient
from idp.proofing.pds.synthetic import DEFAULT_SET, GP_ONLINE_URL

ROOT = Path(__file__).resolve().parents[2]
HARD_CASES = json.loads((DEFAULT_SET.parent / "hard-cases.json").read_text(encoding="utf-8"))
RESOURCES = [json.loads(line) for line in DEFAULT_SET.read_text(encoding="utf-8").splitlines() if line.strip()]
BY_NUMBER = {r["id"]: r for r in RESOURCES}
GOOD_SECRET = "s3cure-" + "x" * 40
EXPECTED_CASES = {
    "hyphenated_family_name", "apostrophe_family_name", "accented_given_name_zoe", "accented_names_jose",
    "accented_given_name_sian", "several_given_names", "name_change", "same_name_and_birthdate",
    "same_name_birthdate_and_postcode", "no_mobile", "landline_only", "deceased", "restricted", "inactive",
    "superseded", "superseded_twice", "gp_online_fast_track", "gp_online_without_id_check",
}


def people_of(case: dict) -> list[dict]:
    return case.get("people") or [case]


def gp_extension(resource: dict) -> dict | None:
    for extension in resource.get("extension") or []:
        if extension["url"] == GP_ONLINE_URL:
            return {p["url"]: p.get("valueString") or p.get("valueDate") for p in extension["extension"]}
    return None


def write_ndjson(path: Path, resources, *raw_lines) -> Path:
    path.write_text("\n".join([json.dumps(r) for r in resources] + list(raw_lines)) + "\n", encoding="utf-8")
    return path


def pds_runner(app):
    from idp.proofing.cli import pds_cli

    if "pds" not in app.cli.commands:
        app.cli.add_command(pds_cli)
    return app.test_cli_runner()


# --- the shipped file ----------------------------------------------------------------------------
def test_shipped_set_is_large_valid_and_in_the_test_range():
    records = [record_from_patient(r) for r in RESOURCES]
    people = [r for r in records if not r.replaced_by]
    assert len(people) >= 500 and DEFAULT_SET.stat().st_size < 1_000_000
    numbers = [r.nhs_number for r in records]
    assert len(set(numbers)) == len(numbers)
    assert all(nhs_number_is_valid(n) and n.startswith("999") for n in numbers)
    assert not {"9990000018", "9990000026", "9990000034"} & set(numbers)
    assert all(n < "9990900000" for n in numbers)  # the tests' own people start there (conftest)
    assert all(r.gp_ods_code and len(r.gp_ods_code) == 6 for r in people)
    assert all(r.postcode for r in people)
    mobiles = [r.mobile for r in people if r.mobile]
    assert len(set(mobiles)) == len(mobiles) and all(m.startswith("+447700900") for m in mobiles)
    accounts = [gp_extension(r) for r in RESOURCES if gp_extension(r)]
    assert len(people) / 5 < len(accounts) < len(people) / 3
    assert len(accounts) / 3 < sum(1 for a in accounts if "idCheckedOn" in a) < len(accounts) * 2 / 3


def test_generator_is_deterministic_and_the_shipped_files_are_its_output(tmp_path):
    spec = importlib.util.spec_from_file_location("generate_synthetic_pds", ROOT / "scripts/generate_synthetic_pds.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    assert (tmp_path / "synthetic-pds.ndjson").read_bytes() == DEFAULT_SET.read_bytes()
    assert (tmp_path / "hard-cases.json").read_bytes() == (DEFAULT_SET.parent / "hard-cases.json").read_bytes()


def test_every_hard_case_is_in_the_set_as_described():
    assert set(HARD_CASES) == EXPECTED_CASES
    for key, case in HARD_CASES.items():
        for person in people_of(case):
            record = record_from_patient(BY_NUMBER[person["nhs_number"]])
            current = record.current_name
            assert (list(current.given), current.family) == (person["given_names"], person["family_name"]), key
            previous = [n.family for n in record.names if not n.current]
            assert previous == ([person["previous_family_name"]] if person["previous_family_name"] else []), key
            assert (record.birthdate, record.postcode, record.mobile, record.landline, record.gp_ods_code) == (
                person["birthdate"], person["postcode"], person["mobile"], person["landline"], person["gp_ods_code"])
            assert (record.deceased, record.restricted, record.active) == (
                person["deceased"], person["restricted"], person["active"]), key
            assert record.replaced_by is None
            extension = gp_extension(BY_NUMBER[person["nhs_number"]])
            account = person["gp_account"]
            assert (extension is None) == (account is None), key
            if account:
                assert extension == {k: v for k, v in {"accountId": account["account_id"],
                                                        "linkageKey": account["linkage_key"],
                                                        "idCheckedOn": account["id_checked_on"]}.items() if v}
    c = HARD_CASES
    assert c["hyphenated_family_name"]["family_name"] == "Smith-Jones"
    assert c["apostrophe_family_name"]["family_name"] == "O'Brien"
    assert c["apostrophe_family_name"]["as_typed"]["family_name"] == "O\u2019Brien"
    assert [c[k]["given_names"][0] for k in ("accented_given_name_zoe", "accented_names_jose",
                                              "accented_given_name_sian")] == ["Zoë", "José", "Siân"]
    assert c["several_given_names"]["given_names"] == ["Mary", "Ann", "Louise"]
    assert c["name_change"]["previous_family_name"] and c["name_change"]["previous_family_name"] != c["name_change"]["family_name"]
    a, b = c["same_name_and_birthdate"]["people"]
    assert (a["given_names"], a["family_name"], a["birthdate"]) == (b["given_names"], b["family_name"], b["birthdate"])
    assert a["postcode"] != b["postcode"]
    a, b = c["same_name_birthdate_and_postcode"]["people"]
    assert (a["given_names"], a["family_name"], a["birthdate"], a["postcode"]) == (
        b["given_names"], b["family_name"], b["birthdate"], b["postcode"]) and a["nhs_number"] != b["nhs_number"]
    assert c["no_mobile"]["mobile"] is None and c["no_mobile"]["landline"] is None
    assert c["landline_only"]["mobile"] is None and c["landline_only"]["landline"]
    assert c["deceased"]["deceased"] and "deceasedDateTime" in BY_NUMBER[c["deceased"]["nhs_number"]]
    assert BY_NUMBER[c["restricted"]["nhs_number"]]["meta"]["security"][0]["code"] == "R"
    assert BY_NUMBER[c["inactive"]["nhs_number"]]["active"] is False and "link" not in BY_NUMBER[c["inactive"]["nhs_number"]]
    for key in ("superseded", "superseded_twice"):
        chain = c[key]["superseded_nhs_numbers"] + [c[key]["nhs_number"]]
        for old, new in zip(chain, chain[1:]):
            assert record_from_patient(BY_NUMBER[old]).replaced_by == new
            assert BY_NUMBER[old]["active"] is False
    fast = c["gp_online_fast_track"]
    assert fast["gp_account"]["id_checked_on"] and fast["mobile"] and fast["gp_account"]["ods_code"] == fast["gp_ods_code"]
    assert c["gp_online_without_id_check"]["gp_account"]["id_checked_on"] is None


# --- load, get and search --------------------------------------------------------------------------
def test_shipped_set_loads_and_answers_reads_and_searches(app):
    from idp.extensions import db
    from idp.models import SyntheticGpAccount, SyntheticPatient
    from idp.proofing.gp_system.simulator import GpSystemSimulator
    from idp.proofing.pds.synthetic import SyntheticPds, load

    c = HARD_CASES
    with app.app_context():
        result = load(DEFAULT_SET)
        assert (result.patients, result.gp_accounts) == (len(RESOURCES), sum(1 for r in RESOURCES if gp_extension(r)))
        assert db.session.query(SyntheticPatient).count() == len(RESOURCES)
        assert db.session.query(SyntheticGpAccount).count() == result.gp_accounts
        # The synthetic PDS serves resources shaped like the real one's: no GP-online extension.
        fast = c["gp_online_fast_track"]
        assert "extension" not in db.session.get(SyntheticPatient, fast["nhs_number"]).resource
        account = GpSystemSimulator().accounts_of(fast["nhs_number"])[0]
        assert (account.ods_code, account.account_id, account.id_checked_on) == (
            fast["gp_account"]["ods_code"], fast["gp_account"]["account_id"], fast["gp_account"]["id_checked_on"])

        pds = SyntheticPds()
        assert pds.get("9990000018") is None
        direct = pds.get(c["restricted"]["nhs_number"])
        assert direct.restricted and direct.superseded == ()
        old = c["superseded"]["superseded_nhs_numbers"][0]
        followed = pds.get(old)
        assert (followed.nhs_number, followed.superseded) == (c["superseded"]["nhs_number"], (old,))
        oldest, middle = c["superseded_twice"]["superseded_nhs_numbers"]
        assert pds.get(oldest).superseded == (oldest, middle)
        assert pds.get(oldest).nhs_number == c["superseded_twice"]["nhs_number"]

        def numbers(case, **typed):
            person = people_of(case)[0]
            query = dict(family=person["family_name"], given=person["given_names"][0],
                         birthdate=person["birthdate"], postcode=person["postcode"])
            query.update(typed)
            return sorted(r.nhs_number for r in pds.search(**query))

        twins = c["same_name_and_birthdate"]["people"]
        assert numbers(c["same_name_and_birthdate"], postcode=None) == sorted(p["nhs_number"] for p in twins)
        assert numbers(c["same_name_and_birthdate"]) == [twins[0]["nhs_number"]]
        assert numbers(c["same_name_and_birthdate"], postcode=twins[1]["postcode"].lower().replace(" ", "")) == [
            twins[1]["nhs_number"]]
        pair = c["same_name_birthdate_and_postcode"]["people"]
        assert numbers(c["same_name_birthdate_and_postcode"]) == sorted(p["nhs_number"] for p in pair)
        for key in ("apostrophe_family_name", "hyphenated_family_name", "accented_names_jose"):
            typed = c[key]["as_typed"]
            assert numbers(c[key], family=typed["family_name"]) == [c[key]["nhs_number"]], key
        for key in ("accented_given_name_zoe", "accented_given_name_sian", "accented_names_jose"):
            assert numbers(c[key], given=c[key]["as_typed"]["given_names"].upper()) == [c[key]["nhs_number"]], key
        assert numbers(c["several_given_names"], given="Mary Ann") == [c["several_given_names"]["nhs_number"]]
        assert numbers(c["several_given_names"], given=None) == [c["several_given_names"]["nhs_number"]]
        assert numbers(c["several_given_names"], given="Ann") == []
        assert numbers(c["name_change"], family=c["name_change"]["previous_family_name"]) == [c["name_change"]["nhs_number"]]
        assert numbers(c["name_change"], family="Nobody") == []
        assert numbers(c["name_change"], birthdate="1984-10-12") == []
        # A superseded number's own record is never a search result; its successor is.
        assert numbers(c["superseded"]) == [c["superseded"]["nhs_number"]]
        assert numbers(c["deceased"]) == [c["deceased"]["nhs_number"]]  # the matcher, not search, refuses it


def test_invalid_files_change_nothing_and_name_the_line(app, tmp_path):
    from idp.extensions import db
    from idp.models import SyntheticGpAccount, SyntheticPatient
    from idp.proofing.pds.synthetic import SyntheticPds, SyntheticSetError, load

    fast = BY_NUMBER[HARD_CASES["gp_online_fast_track"]["nhs_number"]]
    first = [fast] + [r for r in RESOURCES if "link" not in r and r is not fast][:3]
    bad_date = dict(first[2], birthDate="1980-02-30")
    organisation = {"resourceType": "Organization", "id": "A81001"}
    files = {
        "line 3: not JSON": write_ndjson(tmp_path / "json.ndjson", first[:2], "{not json", json.dumps(first[3])),
        "line 2: not a FHIR Patient": write_ndjson(tmp_path / "org.ndjson", [first[0], organisation]),
        "line 3: not a valid FHIR Patient": write_ndjson(tmp_path / "date.ndjson", [first[0], first[1], bad_date]),
        "line 4: the same NHS number as line 2": write_ndjson(tmp_path / "dup.ndjson", [first[0], first[1], first[2], first[1]]),
        "entry 2: not a FHIR Patient": tmp_path / "bundle.json",
        "no Patient resources": write_ndjson(tmp_path / "empty.ndjson", [], ""),
    }
    files["entry 2: not a FHIR Patient"].write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": first[0]}, {"resource": organisation}]}))
    with app.app_context():
        load(write_ndjson(tmp_path / "good.ndjson", first))
        for expected, path in files.items():
            with pytest.raises(SyntheticSetError) as refused:
                load(path)
            assert str(refused.value).startswith(expected), (expected, str(refused.value))
            assert not any(r["id"] in str(refused.value) for r in first)  # no NHS number in a message
            assert db.session.query(SyntheticPatient).count() == 4
            assert db.session.query(SyntheticGpAccount).count() == sum(1 for r in first if gp_extension(r))
            assert SyntheticPds().get(first[3]["id"]).nhs_number == first[3]["id"]


def test_loading_replaces_the_earlier_set(app, tmp_path):
    from idp.extensions import db
    from idp.models import SyntheticGpAccount, SyntheticPatient
    from idp.proofing.pds.synthetic import SyntheticPds, load

    with_account = [r for r in RESOURCES if gp_extension(r)][:3]
    plain = [r for r in RESOURCES if "link" not in r and not gp_extension(r)][:2]
    with app.app_context():
        pds = SyntheticPds()
        result = load(write_ndjson(tmp_path / "first.ndjson", with_account, "", "   "))  # blank lines are ignored
        assert (result.patients, result.gp_accounts) == (3, 3)
        assert pds.get(with_account[0]["id"]) is not None  # in the session's identity map now
        searchset = {"resourceType": "Bundle", "type": "searchset", "total": 3,
                     "entry": [{"fullUrl": f"https://pds.example/Patient/{r['id']}", "search": {"score": 1},
                                "resource": r} for r in plain + with_account[2:]]}
        (tmp_path / "searchset.json").write_text(json.dumps(searchset, indent=2))
        result = load(tmp_path / "searchset.json")
        assert (result.patients, result.gp_accounts) == (3, 1)
        assert pds.get(with_account[0]["id"]) is None
        assert {row.nhs_number for row in SyntheticPatient.query} == {r["id"] for r in plain + with_account[2:]}
        assert [row.nhs_number for row in SyntheticGpAccount.query] == [with_account[2]["id"]]
        assert db.session.query(SyntheticPatient).count() == 3


# --- the command -------------------------------------------------------------------------------
def test_pds_load_command_prints_the_counts(app, tmp_path):
    from sqlalchemy import delete

    from idp.extensions import db
    from idp.models import SyntheticGpAccount, SyntheticPatient

    runner = pds_runner(app)
    with app.app_context():  # the template database holds the shipped set: start from none
        db.session.execute(delete(SyntheticGpAccount))
        db.session.execute(delete(SyntheticPatient))
        db.session.commit()
    small = write_ndjson(tmp_path / "small.ndjson", RESOURCES[:2])
    result = runner.invoke(args=["pds", "load", str(small)])
    accounts = sum(1 for r in RESOURCES[:2] if gp_extension(r))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"loaded 2 patients and {accounts} GP online accounts into the synthetic PDS\n"
    bad = write_ndjson(tmp_path / "bad.ndjson", [RESOURCES[0]], "[")
    result = runner.invoke(args=["pds", "load", str(bad)])
    assert result.exit_code == 1 and "line 2: not JSON" in result.stderr and "nothing was loaded" in result.stderr
    result = runner.invoke(args=["pds", "load", str(DEFAULT_SET)])
    accounts = sum(1 for r in RESOURCES if gp_extension(r))
    assert result.exit_code == 0, result.output
    assert result.stdout == (f"loaded {len(RESOURCES)} patients and {accounts} GP online accounts into the "
                             "synthetic PDS (replacing the earlier set)\n")
    assert runner.invoke(args=["pds", "load", str(tmp_path / "missing.ndjson")]).exit_code == 2


def test_pds_load_command_is_refused_in_live(sqlite_copy, tmp_path, monkeypatch):
    from idp import create_app
    from idp.config import Settings
    from idp.extensions import db
    from idp.models import SyntheticPatient

    monkeypatch.setenv("IDP_INSTANCE_PATH", str(tmp_path / "instance"))
    settings = Settings.from_env({"IDP_ENV": "live", "IDP_ISSUER": "https://login.example.nhs.uk",
                                  "IDP_SECRET_KEY": GOOD_SECRET, "IDP_DATABASE_URL": sqlite_copy("live.sqlite3"),
                                  "IDP_PDS_ADAPTER": "fhir", "IDP_PDS_BASE_URL": "https://pds.example.invalid"},
                                 instance_path=str(tmp_path))
    live = create_app({"TESTING": True}, settings=settings)
    try:
        with live.app_context():
            before = db.session.query(SyntheticPatient).count()
        small = write_ndjson(tmp_path / "small.ndjson", RESOURCES[:2])
        result = pds_runner(live).invoke(args=["pds", "load", str(small)])
        assert result.exit_code == 1 and "IDP_ENV is live" in result.stderr
        with live.app_context():
            assert db.session.query(SyntheticPatient).count() == before
    finally:
        with live.app_context():
            db.session.remove()
            db.engine.dispose()
