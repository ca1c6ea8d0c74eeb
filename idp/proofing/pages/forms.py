"""Reading the proofing forms: each field's rule and the message that says how to fix it."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone

from flask_babel import gettext

from ...clock import now
from ...organisations import is_ods_code
from ...people import nhs_number_is_valid
from ..matching import Details
from ..normalise import nhs_number_key, postcode_key
from ..routes.gp_online import RegistrationDetails

POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$")
# Letters of any alphabet, spaces, hyphens, apostrophes (straight or curly) and full stops: nothing a
# search could read as a wildcard or an operator.
NAME = re.compile(r"^[^\W\d_](?:[^\W\d_]|[ \-'\u2019.])*$")
MAX_NAME = 100


def _error(field: str, message: str) -> dict:
    return {"field": field, "message": message}


def birthdate(form, errors: list) -> str | None:
    parts = [(form.get(f"birthdate-{p}") or "").strip() for p in ("day", "month", "year")]
    if not all(parts):
        errors.append(_error("birthdate-day", gettext("Enter your date of birth")))
        return None
    try:
        day, month, year = (int(p) for p in parts)
        value = date(year, month, day)
    except ValueError:
        errors.append(_error("birthdate-day", gettext("Date of birth must be a real date, like 31 3 1980")))
        return None
    if value >= datetime.fromtimestamp(now(), timezone.utc).date():
        errors.append(_error("birthdate-day", gettext("Date of birth must be in the past")))
        return None
    if year < 1900:
        errors.append(_error("birthdate-year", gettext("Year of birth must be 1900 or later")))
        return None
    return value.isoformat()


def _name(form, field: str, missing: str, errors: list) -> str:
    value = " ".join((form.get(field) or "").split())
    if not value:
        errors.append(_error(field, missing))
    elif not NAME.match(value):
        errors.append(_error(field, gettext("Name must only include letters, spaces, hyphens and apostrophes")))
    elif len(value) > MAX_NAME:
        errors.append(_error(field, gettext("Name must be %(num)d characters or fewer", num=MAX_NAME)))
    return value


def _postcode(form, errors: list) -> str:
    value = postcode_key(form.get("postcode"))
    if not value:
        errors.append(_error("postcode", gettext("Enter your postcode")))
    elif not POSTCODE.match(value):
        errors.append(_error("postcode", gettext("Enter a real postcode, like LS1 4AP")))
    return value


def medium_details(form, method: str) -> tuple[Details | None, list]:
    """The P5 details: NHS number (``method`` "nhs-number") or first and last name ("name")."""
    errors: list = []
    nhs_number = given = family = None
    if method == "name":
        given = _name(form, "given_name", gettext("Enter your first name"), errors)
        family = _name(form, "family_name", gettext("Enter your last name"), errors)
    else:
        nhs_number = nhs_number_key(form.get("nhs_number"))
        if not nhs_number:
            errors.append(_error("nhs_number", gettext("Enter your NHS number")))
        elif not re.fullmatch(r"[0-9]{10}", nhs_number):
            errors.append(_error("nhs_number", gettext("Your NHS number must be 10 numbers, like 485 777 3456")))
        elif not nhs_number_is_valid(nhs_number):
            errors.append(_error("nhs_number", gettext("Check your NHS number: this is not a valid NHS number")))
    born = birthdate(form, errors)
    postcode = _postcode(form, errors)
    if errors:
        return None, errors
    return Details(birthdate=born, postcode=postcode, nhs_number=nhs_number, given=given, family=family), []


def registration_details(form) -> tuple[RegistrationDetails | None, list]:
    """The GP online services registration details, with the name and date of birth they belong to."""
    errors: list = []
    linkage_key = "".join((form.get("linkage_key") or "").split())
    if not linkage_key:
        errors.append(_error("linkage_key", gettext("Enter your linkage key")))
    elif not re.fullmatch(r"[A-Za-z0-9]{6,30}", linkage_key):
        errors.append(_error("linkage_key", gettext("Your linkage key must be letters and numbers only, as on your letter")))
    account_id = (form.get("account_id") or "").strip()
    if not account_id:
        errors.append(_error("account_id", gettext("Enter your account ID")))
    elif not re.fullmatch(r"[A-Za-z0-9\-]{1,40}", account_id):
        errors.append(_error("account_id", gettext("Your account ID must be letters and numbers only, as on your letter")))
    ods_code = (form.get("ods_code") or "").strip().upper()
    if not ods_code:
        errors.append(_error("ods_code", gettext("Enter your practice ID")))
    elif not is_ods_code(ods_code):
        errors.append(_error("ods_code", gettext("Your practice ID must be 3 to 8 letters and numbers, like A12345")))
    given = _name(form, "given_name", gettext("Enter your first name"), errors)
    family = _name(form, "family_name", gettext("Enter your last name"), errors)
    born = birthdate(form, errors)
    if errors:
        return None, errors
    return RegistrationDetails(linkage_key=linkage_key, ods_code=ods_code, account_id=account_id, given=given,
                               family=family, birthdate=born), []
