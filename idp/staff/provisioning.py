"""Provisioning from the staff area (issue 10, part 4): a health professional at an organisation without a
system of its own starts the same request a staff system would, through the same rules (requests.py: PDS,
accounts, the 7-day window, the ODS code's rate) and the same audit, plus the staff audit. The form reads and
explains; the rules decide.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from flask import current_app, render_template, request
from flask_babel import gettext

from ..authentication.email_address import is_valid_email, normalise_email
from ..authentication.phone_number import InvalidPhoneNumber, Kind, parse_phone_number
from ..extensions import db
from ..i18n import N_
from ..people import nhs_number_is_valid
from ..proofing.normalise import nhs_number_key
from ..proofing.pages.forms import birthdate
from ..proofing.routes.in_person import mask_email
from ..provisioning import errors, requests as rules
from . import audit
from .access import HEALTH_PROFESSIONAL, current_staff, register_area, requires_role
from .blueprint import bp

register_area(N_("Set up NHS login for a patient"), "staff.provisioning", HEALTH_PROFESSIONAL,
              N_("Create or upgrade a patient's NHS login to a high level; they finish it from an email."))

# What the staff member reads for each refusal (the API's descriptions are for systems' developers).
REFUSALS = {
    errors.SERVICE_UNAVAILABLE: N_("We cannot check the NHS record at the moment. Nothing was saved. Try again later."),
    errors.UNABLE_TO_PROVISION: N_("NHS login cannot be set up from these details. Check the NHS number, date of "
                                   "birth and mobile number against their record, and that the record is active."),
    errors.PENDING_REQUEST: N_("NHS login was already set up for this patient in the last 7 days. They need to use "
                               "the link we emailed them."),
    errors.EMAIL_IN_USE: N_("That email address is used by another person's NHS login. Use the patient's own "
                            "email address."),
    errors.ALREADY_P9: N_("This patient has already proved who they are to a high level. They can log in with "
                          "their NHS login."),
    errors.ACCOUNT_WITH_OTHER_EMAIL: N_("This patient already has an NHS login with another email address. Use the "
                                        "address of that NHS login."),
    errors.TOO_MANY_REQUESTS: N_("Too many patients have been set up for your organisation in the last minute. "
                                 "Wait a minute and try again."),
    errors.ODS_CODE_NOT_SUPPORTED: N_("You cannot set up NHS login for that organisation."),
}


@dataclass(frozen=True)
class StaffActor:
    """The staff member as the rules see a caller: an id for the request and audit, and their organisations."""

    client_id: str
    ods_codes: list


def _read(form, ods_codes: list, errors_: list) -> dict | None:
    def error(field, message):
        errors_.append({"field": field, "message": message})

    number = nhs_number_key(form.get("nhs_number"))
    if not number:
        error("nhs_number", gettext("Enter their NHS number"))
    elif not nhs_number_is_valid(number):
        error("nhs_number", gettext("Enter a valid 10 digit NHS number, like 485 777 3456"))
    born = birthdate(form, errors_)
    email = normalise_email(form.get("email"))
    if not email:
        error("email", gettext("Enter their email address"))
    elif not is_valid_email(email):
        error("email", gettext("Enter an email address in the correct format, like name@example.com"))
    mobile = None
    try:
        phone = parse_phone_number(form.get("phone"))
        if phone.kind is not Kind.MOBILE or not phone.e164.startswith("+447"):
            error("phone", gettext("Enter the UK mobile number on their record, like 07700 900 982"))
        else:
            mobile = phone.e164
    except InvalidPhoneNumber:
        error("phone", gettext("Enter the UK mobile number on their record, like 07700 900 982"))
    ods_code = (form.get("ods_code") or "").strip().upper()
    if ods_code not in ods_codes:
        error("ods_code", gettext("Choose your organisation"))
    if errors_:
        return None
    return {"nhs_number": number, "email_address": email, "date_of_birth": born, "phone_number": mobile,
            "ods_code": ods_code}


@bp.route("/provisioning", methods=["GET", "POST"], endpoint="provisioning")
@requires_role(HEALTH_PROFESSIONAL)
def provisioning():
    member = current_staff()
    ods_codes = list(member.ods_codes or [])
    form_errors: list = []
    if request.method == "GET" or not ods_codes:
        return render_template("staff/provisioning.html", errors=[], form={}, ods_codes=ods_codes)
    body = _read(request.form, ods_codes, form_errors)
    if body is None:
        return render_template("staff/provisioning.html", errors=form_errors, form=request.form,
                               ods_codes=ods_codes), 400
    actor = StaffActor(f"staff:{member.id}", ods_codes)
    answer = rules.provision(actor, json.dumps(body).encode(), "application/json", None,
                             current_app.extensions["idp"].settings)
    code = answer.body.get("code")
    audit.record("provisioning.requested" if answer.status == 200 else "provisioning.refused",
                 subject=answer.body.get("provisioning_id"), ods_code=body["ods_code"], outcome=code)
    db.session.commit()
    if answer.status != 200:
        message = REFUSALS.get(code) or N_("Check the details and try again.")
        return render_template("staff/provisioning.html", errors=[], refusal=gettext(message), form=request.form,
                               ods_codes=ods_codes), 400
    return render_template("staff/provisioning_done.html", code=code, masked_email=mask_email(body["email_address"]),
                           provisioning_id=answer.body["provisioning_id"])
