"""Creating people outside the registration journey: test people for development and sandpit."""
from __future__ import annotations

import re
from datetime import date

from .authentication.passwords import hash_password
from .extensions import db
from .models import Person


class TestPersonError(ValueError):
    pass


E164 = re.compile(r"^\+[1-9]\d{7,14}$")


def nhs_number_is_valid(value: str) -> bool:
    """Modulus 11 check digit (NHS Data Dictionary)."""
    if not re.fullmatch(r"\d{10}", value or ""):
        return False
    total = sum(int(d) * (10 - i) for i, d in enumerate(value[:9]))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(value[9])


def add_test_person(settings, *, email, password, phone=None, level="P0", nhs_number=None, given_name=None,
                    family_name=None, birthdate=None, postcode=None, gp_ods_code=None) -> Person:
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
    person = Person(
        email=email, email_verified=True, password_hash=hash_password(password), phone_number=phone,
        phone_number_verified=bool(phone), proofing_level=level, nhs_number=nhs_number, given_name=given_name,
        family_name=family_name, birthdate=birthdate, postcode=postcode, gp_ods_code=gp_ods_code,
        phone_number_pds_matched=bool(phone) and level in ("P5", "P9"), is_test_person=True,
    )
    db.session.add(person)
    db.session.commit()
    return person
