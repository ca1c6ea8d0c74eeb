"""Real-browser identity proofing: a P0 person uplifted to P9 by GP online services details, inside one
authorization request from the demo relying party, in English and in Welsh, with axe-core checking every
provider page shown (the proofing pages and the details page's error state among them); and a P0 person
who sends a photo ID and a video (issue 9), approved by the ID checking team in the staff area, then at P9
at their next login, with axe-core checking the patients' pages and the staff pages alike; and a patient claiming
the NHS login a staff system provisioned for them (issue 10) from the emailed link, in English (a new account) and
in Welsh (an uplift of the account with that email), with axe-core on every claim page and every problem page.

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
import uuid
from pathlib import Path

import pyotp
import pytest
import requests
from joserfc import jwt
from joserfc.jwk import RSAKey
from playwright.sync_api import expect

from benchmarks.served import rsa_key_pair
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


# --- issue 10: claiming a provisioned NHS login --------------------------------------------------------------------
CLAIM = "/set-up-your-nhs-login"
# The problem pages of the claim, each reachable on its own (what they say needs no state).
CLAIM_PROBLEMS = ["/link-not-valid", "/link-already-used", "/link-expired", "/request-cancelled", "/try-again-later",
                  "/check-your-details-with-your-gp", "/service-unavailable", "/you-already-have-an-nhs-login",
                  "/cannot-set-up", "/use-the-link-again"]
CLAIMANTS = {"en": HARD_CASES["apostrophe_family_name"],  # a new account (create)
             "cy": HARD_CASES["accented_given_name_sian"]}  # the account with that email, uplifted


def provision_over_http(stack, client_id: str, private_pem: bytes, who: dict, email: str) -> dict:
    """What a staff system does: a 300-second token (client_credentials, private_key_jwt signed RS512, aud the
    token endpoint), then POST /provisioning/v1/provision-account."""
    issued = int(time.time())
    assertion = jwt.encode({"alg": "RS512"}, {"iss": client_id, "sub": client_id, "aud": stack.idp_url + "/token",
                                              "jti": str(uuid.uuid4()), "iat": issued, "exp": issued + 120},
                           RSAKey.import_key(private_pem), algorithms=["RS512"])
    token = requests.post(stack.idp_url + "/token", timeout=10, data={
        "grant_type": "client_credentials", "client_assertion": assertion,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"})
    assert token.status_code == 200, token.text
    answer = requests.post(stack.idp_url + "/provisioning/v1/provision-account", timeout=10, json={
        "nhs_number": who["nhs_number"], "email_address": email, "date_of_birth": who["birthdate"],
        "phone_number": who["mobile"], "ods_code": "A12345"},
        headers={"Authorization": f"Bearer {token.json()['access_token']}", "Idempotency-Key": str(uuid.uuid4())})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_claiming_a_provisioned_nhs_login_in_english_and_welsh(stack, browser):
    """A staff system provisions two patients over the real API; each claims from the emailed link: the start page,
    the code to the mobile on the PDS record (a wrong one first), the password (refused empty first), done. The
    English one creates an account and then logs in to the demo RP at P9 with the PDS record's NHS number; the Welsh
    one (the language link on the first page) uplifts the P0 account with that email. axe-core on every page,
    the problem pages included, in both languages."""
    private_pem, public_pem = rsa_key_pair()
    client_id = stack.add_provisioning_client(public_pem, "A12345")
    existing = new_person(stack)  # P0: the Welsh claim uplifts this account
    emails = {"en": f"claim.{uuid.uuid4().hex[:8]}@example.com", "cy": existing["email"]}
    passwords = {"en": "a browser claim passphrase " + uuid.uuid4().hex[:6], "cy": existing["password"]}
    for lang in ("en", "cy"):
        who = CLAIMANTS[lang]
        answer = provision_over_http(stack, client_id, private_pem, who, emails[lang])
        assert answer["code"] == ("create" if lang == "en" else "uplift")
        [link] = stack.links_sent(emails[lang], stack.idp_url + CLAIM + "/")

        journey = Journey(browser, stack, lang)
        try:
            journey.page.goto(link)
            journey.on_provider(CLAIM + "/start")  # in Welsh: the language link first, then checked in Welsh
            expect(journey.page.locator("main")).to_contain_text("A12345")
            expect(journey.page.locator("main")).to_contain_text(who["mobile"][-3:])
            journey.submit()
            journey.on_provider(CLAIM + "/security-code")
            code = stack.next_code(who["mobile"])
            journey.page.fill("#code", "000000" if code != "000000" else "111111")
            submit_with_errors(journey)
            journey.enter_code(code)
            journey.on_provider(CLAIM + "/password")
            expect(journey.page.locator("#password")).to_have_attribute(
                "autocomplete", "new-password" if lang == "en" else "current-password")
            submit_with_errors(journey)
            journey.page.fill("#password", passwords[lang])
            journey.submit()
            journey.on_provider(CLAIM + "/done")
            expect(journey.page.locator(".nhsuk-panel h1")).to_be_visible()
            assert stack.templates_sent(emails[lang])[-1] == "provisioning_claimed"
            assert provider_paths(journey) == [CLAIM + "/start", CLAIM + "/security-code", CLAIM + "/password",
                                               CLAIM + "/done"]

            if lang == "en":  # the new account logs in to the demo RP: P9, the NHS number of the PDS record
                journey.rp_login("P9.Cp.Cd")
                journey.log_in_with_password({"email": emails[lang], "password": passwords[lang]})
                journey.on_provider("/login/security-code")
                journey.enter_code(stack.next_code(who["mobile"]))
                journey.consent_if_asked()
                claims = journey.at_rp_logged_in()
                assert claims["vot"] == "P9.Cp.Cd" and claims["identity_proofing_level"] == "P9"
                assert claims["nhs_number"] == who["nhs_number"]

            journey.page.goto(link)  # used, by this browser: the done page again
            journey.on_provider(CLAIM + "/done")
            for problem in CLAIM_PROBLEMS:
                journey.page.goto(stack.idp_url + CLAIM + problem)
                journey.on_provider(CLAIM + problem)
                expect(journey.page.locator("main h1")).to_be_visible()
            journey.assert_accessible()
            assert {CLAIM + p for p in CLAIM_PROBLEMS} <= journey.checked
        finally:
            journey.close()
