"""Write the synthetic PDS set (``idp/proofing/data/synthetic-pds.ndjson``) and its ``hard-cases.json``.

Deterministic (one fixed seed, no network, no clock): a rebuild is byte-identical, so the shipped files
only change when this script does. Run from the project root: ``.venv/bin/python scripts/generate_synthetic_pds.py``.
"""
from __future__ import annotations

import json
import random
import sys
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from idp.people import nhs_number_is_valid  # noqa: E402
from idp.proofing.normalise import name_key  # noqa: E402
from idp.proofing.pds.fhir import CONFIDENTIALITY_SYSTEM, NHS_NUMBER_SYSTEM, ODS_SYSTEM  # noqa: E402

DATA = ROOT / "idp" / "proofing" / "data"
GP_ONLINE_URL = "https://fhir.example.invalid/StructureDefinition/synthetic-gp-online-account"
SEED = 20261203
POPULATION = 520  # people, hard cases included; superseded numbers' own records come on top
REFERENCE = date(2026, 1, 1)  # "today" for the generator, so the output never depends on the clock
RESERVED = {"9990000018", "9990000026", "9990000034"}  # demo and conformance people: never in the set
# Drama-range mobile numbers the demo, conformance and test code already use: kept out so none of them
# is also a PDS person's mobile.
RESERVED_MOBILES = {0, 1, 2, 123, 321, 456, 789, 982}

# Real outward codes (so postcodes look right to a person and to a validator), each with a town and the
# Ofcom drama-range landline prefix of that area (01632 960 where the area has none).
AREAS = [
    ("LS1", "Leeds", "0113 496 0"), ("LS6", "Leeds", "0113 496 0"), ("S10", "Sheffield", "0114 496 0"),
    ("NG7", "Nottingham", "0115 496 0"), ("LE2", "Leicester", "0116 496 0"), ("BS6", "Bristol", "0117 496 0"),
    ("RG1", "Reading", "0118 496 0"), ("B15", "Birmingham", "0121 496 0"), ("EH9", "Edinburgh", "0131 496 0"),
    ("G12", "Glasgow", "0141 496 0"), ("L8", "Liverpool", "0151 496 0"), ("M14", "Manchester", "0161 496 0"),
    ("M20", "Manchester", "0161 496 0"), ("E8", "London", "020 7946 0"), ("N16", "London", "020 7946 0"),
    ("SE15", "London", "020 7946 0"), ("CF24", "Cardiff", "029 2018 0"), ("BT7", "Belfast", "028 9018 0"),
    ("NE6", "Newcastle upon Tyne", "01632 960"), ("YO10", "York", "01632 960"), ("OX4", "Oxford", "01632 960"),
    ("CB1", "Cambridge", "01632 960"), ("EX4", "Exeter", "01632 960"), ("PL4", "Plymouth", "01632 960"),
    ("HU5", "Hull", "01632 960"), ("SA1", "Swansea", "01632 960"), ("LL57", "Bangor", "01632 960"),
    ("NR2", "Norwich", "01632 960"), ("DD1", "Dundee", "01632 960"), ("TR1", "Truro", "01632 960"),
]
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the letters Royal Mail uses in an inward code
STREETS = ["High Street", "Station Road", "Church Lane", "Victoria Road", "Park Avenue", "Mill Lane",
           "Queens Road", "The Crescent", "Chapel Street", "Orchard Close", "Springfield Road", "Brook Street",
           "Castle View", "Albert Terrace", "Meadow Way", "Windsor Grove", "Heol y Parc", "Ffordd yr Eglwys"]
FEMALE = ["Olivia", "Amelia", "Isla", "Ava", "Grace", "Freya", "Emily", "Sophie", "Charlotte", "Aisha", "Priya",
          "Fatima", "Chloe", "Hannah", "Megan", "Rhiannon", "Niamh", "Catrin", "Eilidh", "Margaret", "Susan",
          "Patricia", "Joan", "Helen", "Sarah", "Deborah", "Ngozi", "Mei", "Ewa", "Anjali", "Lucy", "Ruth"]
MALE = ["Oliver", "George", "Harry", "Noah", "Jack", "Leo", "Mohammed", "Arthur", "Thomas", "Daniel", "Rhys",
        "Callum", "Ewan", "Dylan", "Ciaran", "Arjun", "Kwame", "Tomasz", "Wei", "Peter", "David", "John", "Michael",
        "Robert", "Stephen", "Paul", "Gareth", "Hamza", "Joseph", "Samuel", "Owen", "Connor"]
FAMILY = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson", "Wright",
          "Thompson", "Walker", "White", "Edwards", "Hughes", "Green", "Hall", "Lewis", "Harris", "Clarke",
          "Patel", "Khan", "Ahmed", "Begum", "Singh", "Ali", "Nowak", "Kowalski", "Chen", "Nguyen", "Okoye",
          "Mensah", "Campbell", "Stewart", "Murray", "MacDonald", "Kelly", "Murphy", "Byrne", "Price", "Morgan",
          "Pritchard", "Griffiths", "Rees", "Fraser", "Reid", "Shah", "Hussain", "Baker", "Cooper"]
PRACTICES = ["A81001", "A82034", "B82005", "B86012", "C81047", "C84001", "D82040", "E85003", "F84111", "G85020",
             "H81013", "J82068", "K81002", "L83045", "M85011", "N81018", "P84009", "W91001", "W95010", "Y02651"]
KEY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: a linkage key is read off a letter


def nhs_numbers():
    """Valid test-range numbers from 9990001000 up (the tests' own people start at 9990900000)."""
    for stem in range(999000100, 999090000):
        for check in range(10):
            number = f"{stem}{check}"
            if nhs_number_is_valid(number) and number not in RESERVED:
                yield number


class Generator:
    """One seeded source of every random choice, so the set is the same on every run."""

    def __init__(self):
        self.rng = random.Random(SEED)
        self.numbers = nhs_numbers()
        mobiles = [n for n in range(1000) if n not in RESERVED_MOBILES]
        self.rng.shuffle(mobiles)
        self.mobiles = iter(mobiles)
        self.landlines: dict[str, set[int]] = {}
        self.accounts = iter(self.rng.sample(range(10_000_000, 99_999_999), 400))
        self.taken: set[tuple[str, str]] = set()  # (family key, birthdate) of the hard cases

    def uid(self) -> str:
        return f"{self.rng.getrandbits(32):08X}"

    def mobile(self) -> str:
        return f"07700 900{next(self.mobiles):03d}"

    def landline(self, prefix: str) -> str:
        used = self.landlines.setdefault(prefix, set())
        while (n := self.rng.randrange(1000)) in used:
            pass
        used.add(n)
        return f"{prefix}{n:03d}"

    def postcode(self, outward: str) -> str:
        letters = self.rng.choice(INWARD_LETTERS) + self.rng.choice(INWARD_LETTERS)
        return f"{outward} {self.rng.randrange(1, 10)}{letters}"

    def day(self, start: date, end: date) -> date:
        return start + timedelta(days=self.rng.randrange((end - start).days + 1))

    def gp_account(self, checked: bool) -> dict:
        key = "".join(self.rng.choice(KEY_ALPHABET) for _ in range(12))
        return {"account_id": str(next(self.accounts)), "linkage_key": f"{key[:4]} {key[4:8]} {key[8:]}",
                "id_checked_on": self.day(date(2016, 1, 1), date(2025, 6, 30)).isoformat() if checked else None}


def patient(g: Generator, person: dict) -> dict:
    """The FHIR R4 Patient PDS would serve for ``person``, plus the synthetic GP-online extension."""
    birth = date.fromisoformat(person["birthdate"])
    adult = min(birth.replace(year=birth.year + 18) if (birth.month, birth.day) != (2, 29)
                else date(birth.year + 18, 3, 1), REFERENCE - timedelta(days=30))
    since = g.day(adult, REFERENCE - timedelta(days=30)).isoformat()
    name = {"id": g.uid(), "use": "usual", "period": {"start": since}, "given": person["given_names"],
            "family": person["family_name"]}
    if person.get("prefix"):
        name["prefix"] = [person["prefix"]]
    names = [name]
    if person.get("previous_family_name"):
        names.append({"id": g.uid(), "use": "old", "period": {"start": person["birthdate"], "end": since},
                      "given": person["given_names"], "family": person["previous_family_name"]})
    resource = {
        "resourceType": "Patient", "id": person["nhs_number"],
        "meta": {"versionId": str(person["version"])},
        "identifier": [{"system": NHS_NUMBER_SYSTEM, "value": person["nhs_number"], "extension": [{
            "url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus",
            "valueCodeableConcept": {"coding": [{
                "system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatusEngland",
                "code": "01", "display": "Number present and verified"}]}}]}],
        "name": names,
        "gender": person["gender"],
        "birthDate": person["birthdate"],
    }
    if person.get("restricted"):
        resource["meta"]["security"] = [{"system": CONFIDENTIALITY_SYSTEM, "code": "R", "display": "restricted"}]
    if person.get("active") is False:
        resource["active"] = False
    if person.get("deceased"):
        resource["deceasedDateTime"] = person["deceased"]
    resource["address"] = [{"id": g.uid(), "use": "home", "period": {"start": since},
                            "line": person["address_lines"], "postalCode": person["postcode"]}]
    telecom = []
    if person.get("mobile_as_written"):
        telecom.append({"id": g.uid(), "period": {"start": since}, "system": "phone", "use": "mobile",
                        "value": person["mobile_as_written"]})
    if person.get("landline_as_written"):
        telecom.append({"id": g.uid(), "period": {"start": since}, "system": "phone", "use": "home",
                        "value": person["landline_as_written"]})
    if telecom:
        resource["telecom"] = telecom
    resource["generalPractitioner"] = [{"id": g.uid(), "type": "Organization", "identifier": {
        "system": ODS_SYSTEM, "value": person["gp_ods_code"], "period": {"start": since}}}]
    account = person.get("gp_account")
    if account:
        parts = [{"url": "accountId", "valueString": account["account_id"]},
                 {"url": "linkageKey", "valueString": account["linkage_key"]}]
        if account["id_checked_on"]:
            parts.append({"url": "idCheckedOn", "valueDate": account["id_checked_on"]})
        resource["extension"] = [{"url": GP_ONLINE_URL, "extension": parts}]
    return resource


def superseded(old: str, new: str, person: dict) -> dict:
    """A superseded number's own record, as PDS keeps it: inactive, pointing at its successor."""
    return {"resourceType": "Patient", "id": old, "meta": {"versionId": "1"},
            "identifier": [{"system": NHS_NUMBER_SYSTEM, "value": old}],
            "active": False,
            "link": [{"type": "replaced-by", "other": {"identifier": {"system": NHS_NUMBER_SYSTEM, "value": new}}}],
            "name": [{"use": "usual", "given": person["given_names"], "family": person["family_name"]}],
            "gender": person["gender"], "birthDate": person["birthdate"]}


def e164(written: str | None) -> str | None:
    return "+44" + written.replace(" ", "")[1:] if written else None


def person_details(g: Generator, *, given, family, birthdate, gender, area=None, postcode=None, lines=None,
                   mobile=True, landline=False, gp_account=None, **flags) -> dict:
    outward, town, prefix = area or g.rng.choice(AREAS)
    person = {
        "nhs_number": next(g.numbers), "given_names": list(given), "family_name": family,
        "previous_family_name": flags.pop("previous_family_name", None), "birthdate": birthdate, "gender": gender,
        "postcode": postcode or g.postcode(outward),
        "address_lines": lines or [f"{g.rng.randrange(1, 180)} {g.rng.choice(STREETS)}", town],
        "mobile_as_written": g.mobile() if mobile else None,
        "landline_as_written": g.landline(prefix) if landline else None,
        "gp_ods_code": flags.pop("gp_ods_code", None) or g.rng.choice(PRACTICES),
        "gp_account": gp_account, "version": g.rng.randrange(1, 9),
        "deceased": None, "restricted": False, "active": True,
    }
    person.update(flags)
    return person


def public(person: dict, about: str, **extra) -> dict:
    """What a test needs to attempt a match for this person (hard-cases.json)."""
    account = person["gp_account"]
    details = {
        "about": about, "nhs_number": person["nhs_number"], "given_names": person["given_names"],
        "family_name": person["family_name"], "previous_family_name": person["previous_family_name"],
        "birthdate": person["birthdate"], "postcode": person["postcode"],
        "mobile": e164(person["mobile_as_written"]), "landline": e164(person["landline_as_written"]),
        "gp_ods_code": person["gp_ods_code"],
        "gp_account": dict(account, ods_code=person["gp_ods_code"]) if account else None,
        "deceased": bool(person["deceased"]), "restricted": person["restricted"], "active": person["active"],
    }
    details.update(extra)
    return details


def hard_cases(g: Generator) -> tuple[list[dict], list[tuple[str, str, dict]], dict]:
    """The people a matcher must get right, with what hard-cases.json says about each."""
    people, links, cases = [], [], {}
    leeds, cardiff, manchester = AREAS[1], AREAS[16], AREAS[11]

    def one(key, about, extra=None, **details):
        person = person_details(g, **details)
        people.append(person)
        cases[key] = public(person, about, **(extra or {}))
        return person

    one("hyphenated_family_name", "Family name with a hyphen; typed with a space it still matches",
        {"as_typed": {"family_name": "smith jones"}},
        given=["Olivia"], family="Smith-Jones", birthdate="1987-06-14", gender="female")
    one("apostrophe_family_name", "Stored with a straight apostrophe; the person may type a curly one",
        {"as_typed": {"family_name": "O\u2019Brien"}},
        given=["Liam"], family="O'Brien", birthdate="1979-09-03", gender="male")
    one("accented_given_name_zoe", "Diaeresis in the given name", {"as_typed": {"given_names": "Zoe"}},
        given=["Zoë"], family="Marsh", birthdate="1995-02-21", gender="female")
    one("accented_names_jose", "Accents in both names", {"as_typed": {"given_names": "Jose", "family_name": "Garcia"}},
        given=["José"], family="García", birthdate="1968-12-30", gender="male")
    one("accented_given_name_sian", "Circumflex in a Welsh given name", {"as_typed": {"given_names": "Sian"}},
        given=["Siân"], family="Llewellyn", birthdate="2001-04-07", gender="female",
        area=cardiff)
    one("several_given_names", "Three given names: the first, or the first two, match; the second alone does not",
        {"as_typed": {"given_names": "Mary Ann"}},
        given=["Mary", "Ann", "Louise"], family="Whitfield", birthdate="1958-07-19", gender="female", prefix="Mrs")
    one("name_change", "A current family name and a previous one (use old, with a period end); either matches",
        given=["Rachel"], family="Okafor", previous_family_name="Brennan", birthdate="1984-10-11", gender="female")

    twins = [person_details(g, given=["James"], family="Wilson", birthdate="1980-03-15", gender="male", area=area)
             for area in (leeds, manchester)]
    people += twins
    cases["same_name_and_birthdate"] = {
        "about": "Two people with the same name and date of birth and different postcodes: the postcode decides",
        "people": [public(p, "one of the two") for p in twins]}
    shared = g.postcode(cardiff[0])
    pair = [person_details(g, given=["Emily"], family="Clarke", birthdate="1992-11-02", gender="female",
                           area=cardiff, postcode=shared, lines=[f"Flat {flat}, 27 Heol y Parc", "Cardiff"])
            for flat in (1, 2)]
    people += pair
    cases["same_name_birthdate_and_postcode"] = {
        "about": "Two people with the same name, date of birth and postcode: only the NHS number separates them",
        "people": [public(p, "one of the two") for p in pair]}

    one("no_mobile", "No phone number of any kind on the record",
        given=["Harold"], family="Pemberton", birthdate="1941-05-26", gender="male", mobile=False)
    one("landline_only", "A home landline and no mobile",
        given=["Brenda"], family="Ashworth", birthdate="1946-01-09", gender="female", mobile=False, landline=True,
        area=leeds)
    one("deceased", "Died (deceasedDateTime): never matched",
        given=["Arthur"], family="Bellamy", birthdate="1938-08-08", gender="male",
        deceased="2024-02-11T09:30:00+00:00")
    one("restricted", "Restricted record (meta.security R): matched, but address and GP never shown or released",
        given=["Leah"], family="Marlowe", birthdate="1990-05-17", gender="female", restricted=True)
    one("inactive", "A record that is not active (active false) and not superseded: never matched",
        given=["Graham"], family="Fenwick", birthdate="1973-03-28", gender="male", active=False)

    successor = one("superseded", "An old NHS number replaced by this one: the old number leads here",
                    given=["Nadia"], family="Rahman", birthdate="1989-12-05", gender="female")
    old = next(g.numbers)
    links.append((old, successor["nhs_number"], successor))
    cases["superseded"]["superseded_nhs_numbers"] = [old]
    chained = one("superseded_twice", "Replaced twice: the oldest number leads through the middle one to here",
                  given=["Kieran"], family="Doyle", birthdate="1977-07-01", gender="male")
    oldest, middle = next(g.numbers), next(g.numbers)
    links += [(middle, chained["nhs_number"], chained), (oldest, middle, chained)]
    cases["superseded_twice"]["superseded_nhs_numbers"] = [oldest, middle]

    one("gp_online_fast_track", "GP online account with an earlier ID check and a mobile: the fast-track route",
        given=["Tariq"], family="Hussain", birthdate="1982-02-14", gender="male",
        gp_account=g.gp_account(True))
    one("gp_online_without_id_check", "GP online account without an earlier ID check: linkage key route only",
        given=["Bethan"], family="Roberts", birthdate="1999-09-29", gender="female",
        gp_account=g.gp_account(False))

    for person in people:
        for family in (person["family_name"], person["previous_family_name"]):
            if family:
                g.taken.add((name_key(family), person["birthdate"]))
    return people, links, cases


def population(g: Generator, count: int) -> tuple[list[dict], list[tuple[str, str, dict]]]:
    """Ordinary people around the hard cases, so a search has others to tell apart."""
    people, links, seen = [], [], set()
    while len(people) < count:
        gender = g.rng.choice(["female", "male"])
        given = [g.rng.choice(FEMALE if gender == "female" else MALE)]
        if g.rng.random() < 0.3:
            given.append(g.rng.choice(FEMALE if gender == "female" else MALE))
        family = g.rng.choice(FAMILY)
        previous = g.rng.choice(FAMILY) if g.rng.random() < 0.1 else None
        birthdate = g.day(date(1935, 1, 1), date(2008, 12, 31)).isoformat()
        keys = {(name_key(f), birthdate) for f in (family, previous) if f}
        # No ordinary person may share a hard case's family name and birthdate: the cases stay exact.
        if keys & g.taken or (family, given[0], birthdate) in seen or previous == family:
            continue
        seen.add((family, given[0], birthdate))
        roll = g.rng.random()
        account = g.gp_account(g.rng.random() < 0.5) if g.rng.random() < 0.25 else None
        person = person_details(
            g, given=given, family=family, previous_family_name=previous, birthdate=birthdate, gender=gender,
            mobile=roll >= 0.06, landline=roll < 0.03 or 0.9 < roll, gp_account=account,
            deceased=(g.day(date(2019, 1, 1), date(2025, 6, 30)).isoformat() + "T12:00:00+00:00"
                      if g.rng.random() < 0.02 else None),
            restricted=g.rng.random() < 0.01)
        people.append(person)
        if g.rng.random() < 0.01:
            links.append((next(g.numbers), person["nhs_number"], person))
    return people, links


def main(out: Path = DATA) -> None:
    """Write both files into ``out`` (the package's data folder; a test writes elsewhere to compare)."""
    g = Generator()
    hard, hard_links, cases = hard_cases(g)
    ordinary, links = population(g, POPULATION - len(hard))
    resources = [patient(g, p) for p in hard + ordinary]
    resources += [superseded(old, new, person) for old, new, person in hard_links + links]
    g.rng.shuffle(resources)  # hard cases anywhere in the file, as they would be in a real extract
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "synthetic-pds.ndjson", "w", encoding="utf-8", newline="\n") as ndjson:
        for resource in resources:
            ndjson.write(json.dumps(resource, ensure_ascii=False, separators=(",", ":")) + "\n")
    (out / "hard-cases.json").write_text(json.dumps(cases, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    accounts = sum(1 for p in hard + ordinary if p["gp_account"])
    print(f"wrote {len(resources)} Patient resources ({len(hard) + len(ordinary)} people, {accounts} GP online "
          f"accounts) and {len(cases)} hard cases to {out}")


if __name__ == "__main__":
    main()
