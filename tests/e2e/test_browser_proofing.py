"""Real-browser identity proofing: a P0 person uplifted to P9 by GP online services details, inside one
authorization request from the demo relying party, in English and in Welsh, with axe-core checking every
provider page shown (the proofing pages and the details page's error state among them).

The HTTP-level version of this journey is tests/proofing/test_uplift.py. The served stack (browser_support.py)
has the synthetic PDS set and its GP simulator accounts loaded, as `make run` has. The steps are those of
tests/e2e/test_browser_journeys.py's ``Journey`` (selectors that avoid visible text, Welsh chosen with the
language link on the provider's first page, ``<html lang="cy">`` on every provider page after it).

Needs: Chromium (`make browser`), axe-core (`make assets`). Missing either fails, it never skips.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from browser_support import launch_chromium, serve_stack
from test_browser_journeys import Journey, new_person, provider_paths

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

HARD_CASES = json.loads((Path(__file__).resolve().parents[2] / "idp/proofing/data/hard-cases.json").read_text())
# One person per language: an NHS number may belong to one account only, so the second run needs another.
PEOPLE = {
    "en": HARD_CASES["gp_online_without_id_check"],  # Bethan Roberts
    # From idp/proofing/data/synthetic-pds.ndjson (not a hard case): Patient 9990005117, active, not deceased,
    # not restricted, no replaced-by link, one usual name, a GP online account (accountId, linkageKey, no
    # idCheckedOn) at its generalPractitioner W95010.
    "cy": {"nhs_number": "9990005117", "given_names": ["Noah"], "family_name": "Davies", "birthdate": "1955-08-25",
           "postcode": "NG7 3WR", "gp_account": {"linkage_key": "5WPV 7M6Q VYL3", "account_id": "78842816",
                                                 "ods_code": "W95010"}},
}
PROVE = "/prove-who-you-are"


@pytest.fixture(scope="module")
def stack():
    with serve_stack(workers=2) as served:
        yield served


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def journey(request, stack, browser):  # stack first: it outlives the browser's keep-alive connections
    journey = Journey(browser, stack, request.param)
    yield journey
    journey.close()


def fill_birthdate(journey, birthdate: str) -> None:
    year, month, day = birthdate.split("-")
    journey.page.fill("#birthdate-day", str(int(day)))
    journey.page.fill("#birthdate-month", str(int(month)))
    journey.page.fill("#birthdate-year", year)


def submit_with_errors(journey) -> None:
    """Submit the page's form as it is and check the page it answers with (400: not recorded as shown)."""
    with journey.page.expect_response(lambda r: r.request.method == "POST" and r.url.startswith(journey.stack.idp_url)) as answer:
        journey.submit()
    assert answer.value.status == 400, f"an empty form was not refused: {answer.value.status} {answer.value.url}"
    journey.page.wait_for_load_state("load")
    expect(journey.page.locator(".nhsuk-error-summary")).to_be_visible()
    expect(journey.page.locator(".nhsuk-error-summary a[href]").first).to_be_visible()
    journey.check_page()


@pytest.mark.parametrize("journey", ["en", "cy"], indirect=True)
def test_p0_to_p9_by_gp_online_details_inside_one_login(journey, stack):
    who = PEOPLE[journey.lang]
    person = new_person(stack)  # P0
    journey.rp_login("P9.Cp.Cd")
    journey.log_in_with_password(person)
    journey.on_provider("/login/security-code")
    journey.enter_code(stack.next_code(person["phone"]))

    # P5 first: the start page, then the details by NHS number (once empty, for the error summary).
    journey.on_provider(PROVE + "/start")
    expect(journey.page.locator("input[name=route]")).to_have_count(1)  # one route: the hidden P5 one
    journey.submit()
    journey.on_provider(PROVE + "/your-details")
    expect(journey.page.locator('a[href*="method=name"]')).to_have_count(1)  # "I do not know my NHS number"
    submit_with_errors(journey)
    expect(journey.page.locator("#nhs_number[aria-describedby*=error]")).to_have_count(1)
    journey.page.fill("#nhs_number", who["nhs_number"])
    fill_birthdate(journey, who["birthdate"])
    journey.page.fill("#postcode", who["postcode"])
    journey.submit()

    # Then P9: the start page again, now the choice of a high-level route, and the GP online details.
    journey.on_provider(PROVE + "/start")
    journey.page.check('input[name=route][value="gp_online"]')
    journey.submit()
    journey.on_provider(PROVE + "/gp-online-details")
    account = who["gp_account"]
    journey.page.fill("#linkage_key", account["linkage_key"])
    journey.page.fill("#account_id", account["account_id"])
    journey.page.fill("#ods_code", account["ods_code"])
    journey.page.fill("#given_name", " ".join(who["given_names"]))
    journey.page.fill("#family_name", who["family_name"])
    fill_birthdate(journey, who["birthdate"])
    journey.submit()

    journey.consent_if_asked()
    claims = journey.at_rp_logged_in()
    expect(journey.page.locator("#vot")).to_have_text("P9.Cp.Cd")
    expect(journey.page.locator("#identity-proofing-level")).to_have_text("P9")
    assert claims["vot"] == "P9.Cp.Cd" and claims["identity_proofing_level"] == "P9"
    assert claims["nhs_number"] == who["nhs_number"]
    assert json.loads(journey.page.inner_text("#userinfo"))["nhs_number"] == who["nhs_number"]
    assert provider_paths(journey) == ["/login", "/login/security-code", PROVE + "/start", PROVE + "/your-details",
                                       PROVE + "/start", PROVE + "/gp-online-details", "/consent"]
    journey.assert_accessible()
