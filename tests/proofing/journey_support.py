"""Driving the proofing pages over HTTP as a browser would (shared by the proofing tests)."""
from __future__ import annotations

import json
import re
from pathlib import Path

from support import ISSUER, callback_params, csrf_from, follow_to_rp

HARD_CASES = json.loads((Path(__file__).resolve().parents[2] / "idp/proofing/data/hard-cases.json").read_text())


def case(name: str) -> dict:
    return HARD_CASES[name]


def path_of(response) -> str:
    location = response.headers.get("Location", "")
    return location[len(ISSUER):] if location.startswith(ISSUER) else location


def submit(http, path: str, data: dict):
    """GET the page (for its CSRF token), then POST ``data`` to it."""
    page = http.get(path)
    assert page.status_code == 200, (path, page.status_code)
    return http.post(path, data={**data, "csrf_token": csrf_from(page.get_data(as_text=True))})


def birthdate_fields(birthdate: str) -> dict:
    year, month, day = birthdate.split("-")
    return {"birthdate-day": str(int(day)), "birthdate-month": str(int(month)), "birthdate-year": year}


def details_by_number(person: dict, **override) -> dict:
    return {"nhs_number": person["nhs_number"], "postcode": person["postcode"],
            **birthdate_fields(person["birthdate"]), **override}


def details_by_name(person: dict, **override) -> dict:
    return {"given_name": " ".join(person["given_names"]), "family_name": person["family_name"],
            "postcode": person["postcode"], **birthdate_fields(person["birthdate"]), **override}


def gp_details(person: dict, **override) -> dict:
    account = person["gp_account"]
    return {"linkage_key": account["linkage_key"], "account_id": account["account_id"], "ods_code": account["ods_code"],
            "given_name": " ".join(person["given_names"]), "family_name": person["family_name"],
            **birthdate_fields(person["birthdate"]), **override}


def interaction_in(page) -> str:
    """The interaction a proofing page belongs to (its forms and links carry it)."""
    return re.search(r"interaction=([A-Za-z0-9_\-]+)", page.get_data(as_text=True)).group(1)


def page_path(interaction: str, page: str, **query) -> str:
    extra = "".join(f"&{k}={v}" for k, v in query.items())
    return f"/prove-who-you-are/{page}?interaction={interaction}{extra}"


def to_proofing(rp, email: str, **params):
    """Authorize, log in (password and code), and stop at the first proofing page: (page, interaction)."""
    page = follow_to_rp(rp.http, rp.authorize(**params), email=email, redirect_uri=rp.redirect_uri)
    assert page.status_code == 200, page.status_code
    return page, interaction_in(page)


def onward(rp, response):
    """Follow the provider's redirects (consent allowed) to the next page, or back to the RP."""
    return follow_to_rp(rp.http, response, redirect_uri=rp.redirect_uri)


def finish_at_rp(rp, response) -> dict:
    return callback_params(onward(rp, response))
