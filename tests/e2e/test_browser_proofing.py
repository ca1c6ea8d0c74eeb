"""Real-browser identity proofing: a P0 person uplifted to P9 by GP online services details, inside one
authorization request from the demo relying party, in English and in Welsh, with axe-core checking every
provider page shown (the proofing pages and the details page's error state among them); and a P0 person
who sends a photo ID and a video (issue 9), approved by the ID checking team in the staff area, then at P9
at their next login, with axe-core checking the patients' pages and the staff pages alike.

The HTTP-level versions of these journeys are tests/proofing/test_uplift.py, tests/proofing/test_photo_id_routes.py
and tests/staff/test_id_checks.py. The served stack (browser_support.py) has the synthetic PDS set and its GP
simulator accounts loaded, as `make run` has; staff accounts come from `idp staff add`. The steps are those of
tests/e2e/test_browser_journeys.py's ``Journey`` (selectors that avoid visible text, Welsh chosen with the
language link on the provider's first page, ``<html lang="cy">`` on every provider page after it).

Needs: Chromium (`make browser`), axe-core (`make assets`). Missing either fails, it never skips.
"""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import expect, sync_playwright

from browser_support import launch_chromium, serve_stack
from proofing.media_support import image, mp4
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
# The photo ID and video run's person (another NHS number again): a plain record, matched at P5 by NHS number.
VIDEO_PERSON = HARD_CASES["hyphenated_family_name"]  # Olivia Smith-Jones
TOTP_STEP = 30


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


def details_to_p5(journey, who: dict) -> None:
    """From the start page of a P0 person: the hidden P5 route, then the details by NHS number."""
    journey.on_provider(PROVE + "/start")
    journey.submit()
    journey.on_provider(PROVE + "/your-details")
    journey.page.fill("#nhs_number", who["nhs_number"])
    fill_birthdate(journey, who["birthdate"])
    journey.page.fill("#postcode", who["postcode"])
    journey.submit()


def set_up_staff_member(browser, stack, email: str, password: str) -> tuple[str, int]:
    """`idp staff add` then the set-up link's pages (password, authenticator app) in a browser of its own:
    returns the authenticator key and the time step of the code the set-up used (used once, never again)."""
    staff = Journey(browser, stack, "en")
    try:
        link = stack.add_staff(email, "id_checker")
        assert link.startswith(stack.idp_url + "/staff/set-up/"), link
        staff.page.goto(link)
        staff.on_provider("/staff/set-up/[^/?]+")
        staff.page.fill("#password", password)
        staff.page.fill("#confirm", password)
        staff.submit()
        staff.on_provider("/staff/set-up/[^/?]+/authenticator")
        staff.page.click("main details summary")  # "I cannot scan the QR code": the key to type in
        key = staff.page.inner_text("code.idp-key").replace(" ", "")
        step = int(time.time()) // TOTP_STEP
        staff.page.fill("#code", pyotp.TOTP(key).at(step * TOTP_STEP))
        staff.submit()
        staff.on_provider("/staff/")  # set up and logged in
        staff.assert_accessible()
    finally:
        staff.close()
    return key, step


def next_authenticator_code(key: str, used_step: int) -> str:
    """The authenticator app's code once it shows a new one: a code is never accepted twice (RFC 6238 5.2),
    so wait (at most one 30-second step) until the step after the one already used has begun."""
    wait = (used_step + 1) * TOTP_STEP - time.time()
    if wait > 0:
        time.sleep(wait + 0.25)
    step = int(time.time()) // TOTP_STEP
    assert step > used_step
    return pyotp.TOTP(key).at(step * TOTP_STEP)


def test_p0_to_p9_by_photo_id_and_video_approved_in_the_staff_area(stack, browser, tmp_path):
    """Issue 9: a P0 person asked for P9 sends a photo of their passport and a video, is told they will be
    emailed (the relying party gets access_denied), an ID checker with an authenticator app approves it in the
    staff area, and the person's next login gives P9.Cp.Cd. axe-core checks every page, patients' and staff's."""
    staff_email, staff_password = "id.checker.browser@nhs.example", "a long staff passphrase 2026"
    key, used_step = set_up_staff_member(browser, stack, staff_email, staff_password)
    document_file, video_file = tmp_path / "passport.jpg", tmp_path / "video.mp4"
    document_file.write_bytes(image("JPEG"))
    video_file.write_bytes(mp4())

    # --- the person: P5 by NHS number, then the photo ID and video route ----------------------------------
    person = new_person(stack)  # P0
    journey = Journey(browser, stack, "en")
    staff = Journey(browser, stack, "en")
    try:
        journey.rp_login("P9.Cp.Cd")
        journey.log_in_with_password(person)
        journey.on_provider("/login/security-code")
        journey.enter_code(stack.next_code(person["phone"]))
        details_to_p5(journey, VIDEO_PERSON)

        journey.on_provider(PROVE + "/start")  # now the choice of a high-level route
        journey.page.check('input[name=route][value="photo_id_video"]')
        journey.submit()
        journey.on_provider(PROVE + "/photo-id/video")
        journey.page.check('input[name=document_type][value="passport"]')
        journey.submit()
        journey.on_provider(PROVE + "/photo-id/document-photo")
        submit_with_errors(journey)  # no file chosen
        expect(journey.page.locator("#photo[aria-describedby*=error]")).to_have_count(1)
        # NHS.UK's file upload moves the id to its "choose file" button; the input itself keeps its name.
        journey.page.set_input_files("input[type=file][name=photo]", str(document_file))
        journey.submit()
        journey.on_provider(PROVE + "/photo-id/video/record")
        digits = journey.page.inner_text("#digits")
        assert re.fullmatch(r"\d \d \d \d", digits), digits
        journey.page.set_input_files("input[type=file][name=video]", str(video_file))
        journey.submit()
        journey.on_provider(PROVE + "/photo-id/video/sent")  # "we will email you"
        assert stack.templates_sent(person["email"])[-1:] == ["photo_id_received"]
        journey.submit()  # "Go back to the demo RP": the request ends with access_denied
        journey.page.wait_for_url(re.compile(re.escape(stack.rp_url) + "/callback"))
        expect(journey.page.locator("h1")).to_contain_text("access_denied")
        expect(journey.page.locator("#error-description")).to_contain_text("waiting for review")
        assert provider_paths(journey) == [
            "/login", "/login/security-code", PROVE + "/start", PROVE + "/your-details", PROVE + "/start",
            PROVE + "/photo-id/video", PROVE + "/photo-id/document-photo", PROVE + "/photo-id/video/record",
            PROVE + "/photo-id/video/sent"]

        # --- the ID checker: log in (password, then a new authenticator code), the queue, the review -----
        staff.page.goto(stack.idp_url + "/staff/login")
        staff.on_provider("/staff/login")
        staff.page.fill("#email", staff_email)
        staff.page.fill("#password", staff_password)
        staff.submit()
        staff.on_provider("/staff/login/authenticator")
        staff.enter_code(next_authenticator_code(key, used_step))
        staff.on_provider("/staff/")
        staff.page.click('main a[href$="/staff/id-checks"]')
        staff.on_provider("/staff/id-checks")
        expect(staff.page.locator("#queue tbody tr")).to_have_count(1)  # the person's submission
        staff.submit("#queue form[method=post]")  # Review: claims it
        staff.on_provider("/staff/id-checks/[^/?]+")
        expect(staff.page.locator("main .nhsuk-summary-list")).to_contain_text(VIDEO_PERSON["family_name"])
        assert staff.page.inner_text("#digits") == digits  # the numbers the person was asked to say
        assert staff.page.evaluate("() => document.querySelector('img.idp-media').naturalWidth") == 800, \
            "the document photo was not shown to the reviewer"
        staff.page.check('input[name=decision][value="approve"]')
        staff.submit()
        staff.on_provider("/staff/id-checks")  # the queue again, with the decision's notice
        expect(staff.page.locator("main [role=status]")).to_be_visible()
        expect(staff.page.locator("#queue")).to_have_count(0)
        assert stack.templates_sent(person["email"])[-2:] == ["photo_id_received", "photo_id_approved"]

        # --- the person's next login to the relying party: P9 -------------------------------------------
        before = len(journey.shown)
        journey.rp_login("P9.Cp.Cd")
        journey.consent_if_asked()
        claims = journey.at_rp_logged_in()
        expect(journey.page.locator("#vot")).to_have_text("P9.Cp.Cd")
        expect(journey.page.locator("#identity-proofing-level")).to_have_text("P9")
        assert claims["vot"] == "P9.Cp.Cd" and claims["identity_proofing_level"] == "P9"
        assert claims["nhs_number"] == VIDEO_PERSON["nhs_number"]
        # Still logged in at the provider (password and security code a moment ago): only the consent to share,
        # never asked before as the first request ended on the "sent" page.
        assert provider_paths(journey, before) == ["/consent"]
        journey.assert_accessible()
        staff.assert_accessible()
    finally:
        staff.close()
        journey.close()
