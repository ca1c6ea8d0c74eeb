"""The provision-account request body, checked field by field: every problem is 11010 with a description
that names the field, for the calling system's developers."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from ..authentication.email_address import is_valid_email, normalise_email
from ..clock import now
from ..organisations import is_ods_code
from ..people import nhs_number_is_valid
from .errors import REQUEST_INVALID, Refusal

FIELDS = ("nhs_number", "email_address", "date_of_birth", "phone_number", "ods_code")
MAX_BODY_BYTES = 4096
UK_MOBILE = re.compile(r"^\+447[0-9]{9}$")  # E.164: +44 7xxx xxxxxx
ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


@dataclass(frozen=True)
class ProvisionAccount:
    nhs_number: str
    email: str
    birthdate: str
    phone_number: str
    ods_code: str


def invalid(description: str) -> Refusal:
    return Refusal(REQUEST_INVALID, description)


def parse(body) -> ProvisionAccount:
    """The request, or ``Refusal(11010)`` saying what is wrong."""
    if not isinstance(body, dict):
        raise invalid("The body must be a JSON object with nhs_number, email_address, date_of_birth, phone_number "
                      "and ods_code.")
    unknown = sorted(str(k)[:40] for k in body if k not in FIELDS)
    if unknown:
        raise invalid(f"Unknown fields: {', '.join(unknown)}. Send only {', '.join(FIELDS)}.")
    missing = [f for f in FIELDS if f not in body or body[f] in (None, "")]
    if missing:
        raise invalid(f"Missing fields: {', '.join(missing)}. All of {', '.join(FIELDS)} are required.")
    wrong_type = [f for f in FIELDS if not isinstance(body[f], str)]
    if wrong_type:
        raise invalid(f"These fields must be strings: {', '.join(wrong_type)}.")
    nhs_number = body["nhs_number"]
    if not nhs_number_is_valid(nhs_number):
        raise invalid("nhs_number must be 10 digits with a valid modulus 11 check digit, without spaces.")
    email = body["email_address"]
    if len(email) > 320 or not is_valid_email(email):
        raise invalid("email_address is not a valid email address.")
    birthdate = body["date_of_birth"]
    if not ISO_DATE.fullmatch(birthdate):
        raise invalid("date_of_birth must be a date written YYYY-MM-DD.")
    try:
        born = date.fromisoformat(birthdate)
    except ValueError:
        raise invalid("date_of_birth is not a real calendar date.") from None
    if born > date.fromtimestamp(now()) or born.year < 1880:
        raise invalid("date_of_birth must not be in the future (or before 1880).")
    phone = body["phone_number"]
    if not UK_MOBILE.fullmatch(phone):
        raise invalid("phone_number must be a UK mobile number in E.164 form, like +447700900123.")
    ods_code = body["ods_code"]
    if not is_ods_code(ods_code):
        raise invalid("ods_code must be an ODS code: 3 to 8 capital letters and digits, like A12345.")
    return ProvisionAccount(nhs_number, normalise_email(email), birthdate, phone, ods_code)
