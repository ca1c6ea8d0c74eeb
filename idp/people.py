"""People outside the registration journey, for the ``idp users`` commands: test people for development
and sandpit, an authenticator app set up without the pages, and what someone can log in with."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import pyotp

from .authentication.factors import passkey, remembered_device, security_code, totp
from .authentication.passwords import hash_password
from .clock import now
from .extensions import db
from .models import AuthenticatorApp, Passkey, Person, RememberedDevice


class TestPersonError(ValueError):
    pass


@dataclass(frozen=True)
class LoginDevices:
    """What a person can log in with besides the password (interface.md Levels: Cd, Ck, Cm)."""

    phone: str | None  # the number codes go to (Cd), masked as the pages show it
    phone_channel: str | None  # "sms" or "voice"
    authenticator_app: AuthenticatorApp | None  # Ck
    passkeys: list[Passkey]  # Cm
    remembered_devices: list[RememberedDevice]  # Cd with the password, no code sent


E164 = re.compile(r"^\+[1-9]\d{7,14}$")


def nhs_number_is_valid(value: str) -> bool:
    """Modulus 11 check digit (NHS Data Dictionary)."""
    if not re.fullmatch(r"[0-9]{10}", value or ""):  # ASCII digits: \d would take any script's
        return False
    total = sum(int(d) * (10 - i) for i, d in enumerate(value[:9]))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(value[9])


def add_test_person(settings, *, email, password, phone=None, level="P0", nhs_number=None, given_name=None,
                    family_name=None, birthdate=None, postcode=None, gp_ods_code=None,
                    checked_by: str = "operator:cli", test_person_of: str | None = None) -> Person:
    if settings.env == "live":
        raise TestPersonError("test people cannot be created when IDP_ENV is live")
    email = Person.normalise_email(email)
    if "@" not in email or len(email) > 320:
        raise TestPersonError("--email is not an email address")
    if len(password) < 8:
        raise TestPersonError("--password must be at least 8 characters")
    if phone and not E164.match(phone):
        raise TestPersonError("--phone must be in E.164 form, like +447700900123")
    if nhs_number and not nhs_number_is_valid(nhs_number):
        raise TestPersonError("--nhs-number must be 10 digits with a valid check digit")
    if birthdate:
        try:
            date.fromisoformat(birthdate)
        except ValueError:
            raise TestPersonError("--birthdate must be YYYY-MM-DD") from None
    if level in ("P5", "P9") and not (nhs_number and family_name and birthdate):
        raise TestPersonError("P5 and P9 people need --nhs-number, --family-name and --birthdate")
    if Person.query.filter_by(email=email).first() is not None:
        raise TestPersonError(f"{email} already has an account")
    if nhs_number and Person.query.filter_by(nhs_number=nhs_number).first() is not None:
        raise TestPersonError(f"NHS number {nhs_number} already belongs to another account")
    person = Person(email=email, email_verified=True, password_hash=hash_password(password), phone_number=phone,
                    phone_number_verified=bool(phone), proofing_level="P0", is_test_person=True,
                    test_person_of=test_person_of)
    db.session.add(person)
    db.session.commit()
    if level != "P0":
        set_test_level(person, level, nhs_number=nhs_number, given_name=given_name, family_name=family_name,
                       birthdate=birthdate, postcode=postcode, gp_ods_code=gp_ods_code, checked_by=checked_by)
    return person


def set_test_level(person, level: str, *, nhs_number, given_name, family_name, birthdate, postcode=None,
                   gp_ods_code=None, checked_by: str = "operator:cli") -> Person:
    """A test person's level and demographics as an operator states them, recorded as evidence of its own
    ("set by an operator from the command line"); through ``raise_level`` like every other route."""
    from .proofing import evidence, raise_level
    from .proofing.pds import PdsName, PdsRecord

    stated = PdsRecord(nhs_number=nhs_number, version="", names=(PdsName(tuple((given_name or "").split()), family_name),),
                       birthdate=birthdate, postcode=postcode, mobile=person.phone_number, landline=None,
                       gp_ods_code=gp_ods_code)
    reason = ("made by an integrator in the portal as a sandpit test person" if checked_by.startswith("developer:")
              else "set by an operator from the command line")
    proof = evidence.new(route="operator", outcome="level_set", checked_by=checked_by, level=level,
                         nhs_number=nhs_number, reason=reason)
    return raise_level(person, level, proof, record=stated)


def find_person(email: str) -> Person:
    person = Person.query.filter_by(email=Person.normalise_email(email)).first()
    if person is None:
        raise TestPersonError(f"no person has the email {email}")
    return person


def add_authenticator_app(settings, email: str) -> tuple[Person, totp.Enrolment, bool]:
    """Set up an authenticator app (Ck) as the set-up page would, confirmed with the current code; returns
    the person, the enrolment (its key, for a tester's app) and whether it replaced an earlier app. Never in
    live: it would hand whoever runs it a second factor of a real person's account."""
    if settings.env == "live":
        raise TestPersonError("authenticator apps cannot be set up from the command line when IDP_ENV is live")
    person = find_person(email)
    replaced = totp.is_set_up(person)
    enrolment = totp.start_enrolment(person, settings)
    code = pyotp.TOTP(enrolment.secret, digits=totp.DIGITS, interval=totp.INTERVAL).at(now())
    if not totp.confirm_enrolment(person, enrolment.secret, code, settings):
        raise TestPersonError("the authenticator app could not be confirmed")
    return person, enrolment, replaced


def login_devices(email: str) -> LoginDevices:
    person = find_person(email)
    number, channel = security_code.phone_of(person) or (None, None)
    return LoginDevices(
        phone=security_code.masked(number) if number else None, phone_channel=channel,
        authenticator_app=AuthenticatorApp.query.filter_by(person_id=person.id).first(),
        passkeys=passkey.list_passkeys(person),
        remembered_devices=remembered_device.devices_of(person.id),
    )
