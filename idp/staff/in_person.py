"""In-person verification (issue 9, journeys.md "In person"): a health professional who knows the person
finds their account by NHS number, sees only what confirming needs, confirms, and records their ODS code.
The rule is ``idp/proofing/routes/in_person.py``; these views parse, call it, audit and render.
"""
from __future__ import annotations

import re

from flask import current_app, render_template, request
from flask_babel import gettext

from ..extensions import db
from ..i18n import N_
from ..organisations import is_ods_code
from ..people import nhs_number_is_valid
from ..proofing.normalise import nhs_number_key
from ..proofing.routes import Outcome, in_person
from . import audit
from .access import HEALTH_PROFESSIONAL, current_staff, register_area, requires_role
from .blueprint import bp

register_area(N_("Verify someone in person"), "staff.in_person", HEALTH_PROFESSIONAL,
              N_("Confirm who someone you know is, so they can use services that need a high level of proof."))


def _nhs_number(form, errors: list) -> str | None:
    value = nhs_number_key(form.get("nhs_number"))
    if not value:
        errors.append({"field": "nhs_number", "message": gettext("Enter their NHS number")})
    elif not re.fullmatch(r"[0-9]{10}", value) or not nhs_number_is_valid(value):
        errors.append({"field": "nhs_number", "message": gettext("Enter a valid 10 digit NHS number, like 485 777 3456")})
    else:
        return value
    return None


@bp.route("/in-person", methods=["GET", "POST"], endpoint="in_person")
@requires_role(HEALTH_PROFESSIONAL)
def search():
    errors: list = []
    if request.method == "POST":
        number = _nhs_number(request.form, errors)
        if number:
            found = in_person.find(number)
            audit.record("in_person.searched", person_id=found.person.id if found else None, found=bool(found))
            db.session.commit()
            if found is not None:
                codes = list(current_staff().ods_codes or [])  # their organisation, when their account says it
                return render_template("staff/in_person_confirm.html", found=found, nhs_number=number, errors=[],
                                       form={"ods_code": codes[0]} if len(codes) == 1 else {})
            errors = [{"field": "nhs_number", "message": gettext(
                "No NHS login account is linked to that NHS number. They need to create an NHS login and "
                "enter their details first.")}]
    return render_template("staff/in_person_search.html", errors=errors, form=request.form), 400 if errors else 200


@bp.post("/in-person/confirm", endpoint="in_person_confirm")
@requires_role(HEALTH_PROFESSIONAL)
def confirm():
    errors: list = []
    number = _nhs_number(request.form, errors)
    found = in_person.find(number) if number else None
    if found is None:
        return render_template("staff/in_person_search.html", errors=errors or [
            {"field": "nhs_number", "message": gettext("No NHS login account is linked to that NHS number.")}],
            form=request.form), 400
    ods_code = (request.form.get("ods_code") or "").strip().upper()
    own = list(current_staff().ods_codes or [])  # the evidence names the professional's own organisation only
    if request.form.get("knows_person") != "yes":
        errors.append({"field": "knows_person", "message": gettext("Confirm that you know this person")})
    if request.form.get("checked_record") != "yes":
        errors.append({"field": "checked_record", "message": gettext("Confirm that you have checked their record")})
    if not own:
        errors.append({"field": "ods_code", "message": gettext(
            "Your staff account is not linked to an organisation. Ask an administrator to add your organisation's "
            "ODS code.")})
    elif not is_ods_code(ods_code):
        errors.append({"field": "ods_code", "message": gettext("Enter your organisation's ODS code, like A12345")})
    elif ods_code not in own:
        errors.append({"field": "ods_code", "message": gettext("Choose your organisation")})
    if errors:
        return render_template("staff/in_person_confirm.html", found=found, nhs_number=number, errors=errors,
                               form=request.form), 400
    member = current_staff()
    result = in_person.verify(found.person, staff_id=member.id, staff_email=member.email, ods_code=ods_code,
                              settings=current_app.extensions["idp"].settings)
    audit.record("in_person.verified" if result.outcome is Outcome.RAISED else "in_person.refused",
                 person_id=found.person.id, ods_code=ods_code, outcome=result.outcome.value)
    db.session.commit()
    status = {Outcome.RAISED: 200, Outcome.UNAVAILABLE: 503}.get(result.outcome, 409)
    return render_template("staff/in_person_done.html", outcome=result.outcome.value, found=found), status
