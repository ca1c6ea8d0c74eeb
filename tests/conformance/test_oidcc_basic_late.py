"""The basic plan's modules whose second half needs time to have passed since the first.

Each first half runs when the conformance run starts (conftest ``_first_halves``) and the
test, moved to the end of the run, does the second half, so the suite's waits (30 s for
code reuse, 2 s for ``max_age=1``, a person's pace for ``prompt=login``) pass while the
other modules run. A module run alone sleeps what is left of its wait.
"""
import time

import pytest

from oidf import checks
from oidf.plans import BASIC
from oidf.suite import ModuleRun

pytestmark = pytest.mark.conformance


def _logged_in_flow(suite, name: str) -> dict:
    run = ModuleRun.first_half(suite, name)
    rp, browser = run.rp(), run.browser()
    return {"flow": run.flow(rp, browser), "browser": browser, "at": time.time(), "run": run}


def first_login(suite):
    return _logged_in_flow(suite, "oidcc-prompt-login")


def first_login_again(suite):
    return _logged_in_flow(suite, "oidcc-max-age-1")


def first_redemption(suite):
    return _logged_in_flow(suite, "oidcc-codereuse-30seconds")


def _wait_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.time()))


@pytest.mark.oidf_module("oidcc-prompt-login", BASIC)
@pytest.mark.oidf_late(first_half=first_login, wait=1)
def test_oidcc_prompt_login(conformance):
    early = conformance.early(first_login)
    first = early["flow"]
    assert "auth_time" in first.id_claims, "an ID token without auth_time"  # ours always carry it (interface.md)
    _wait_until(first.id_claims["auth_time"] + 1.05)  # a new login gets a later auth_time
    rp = conformance.rp()
    # OIDC Core 3.1.2.1: prompt=login means authenticate again, although the browser has a session.
    second = conformance.flow(rp, early["browser"], prompt="login")
    assert second.visit.logged_in, "prompt=login did not show the login page"
    # CheckIdTokenAuthTimeClaimsDifferIfPresent, where it is always present.
    assert "auth_time" in second.id_claims, "an ID token without auth_time"
    assert second.id_claims["auth_time"] > first.id_claims["auth_time"], "auth_time did not change after prompt=login"
    assert second.id_claims["sub"] == first.id_claims["sub"]


@pytest.mark.oidf_module("oidcc-max-age-1", BASIC)
@pytest.mark.oidf_late(first_half=first_login_again, wait=2)
def test_oidcc_max_age_1(conformance):
    early = conformance.early(first_login_again)
    first = early["flow"]
    assert "auth_time" in first.id_claims, "an ID token without auth_time"
    auth_time = first.id_claims["auth_time"]
    _wait_until(auth_time + 2.05)  # the suite waits 2 s so that a 1 s max_age has surely passed
    conformance.note(f"second authorization {time.time() - auth_time:.0f} s after the first login")
    second = conformance.flow(conformance.rp(), early["browser"], max_age="1")
    # OIDC Core 3.1.2.1: the login is older than max_age, so the person logs in again (ExpectSecondLoginPage).
    assert second.visit.logged_in, "max_age=1 did not ask the person to log in again"
    # CheckIdTokenAuthTimeClaimPresentDueToMaxAge, CheckSecondIdTokenAuthTimeIsLaterIfPresent, ...IsRecentIfPresent.
    assert "auth_time" in second.id_claims, "max_age was asked, so auth_time is required"
    assert second.id_claims["auth_time"] > auth_time, "auth_time is not later than the first login's"
    assert abs(second.id_claims["auth_time"] - time.time()) < checks.SKEW, "auth_time is not recent"


@pytest.mark.oidf_module("oidcc-codereuse-30seconds", BASIC)
@pytest.mark.oidf_late(first_half=first_redemption, wait=30)
def test_oidcc_codereuse_30seconds(conformance):
    early = conformance.early(first_redemption)
    first = early["flow"]
    rp = conformance.rp()
    _wait_until(early["at"] + 30)  # WaitFor30Seconds: in a whole run the other modules have taken that long already
    conformance.note(f"code reused {time.time() - early['at']:.0f} s after its first use")
    checks.check_token_error(rp.redeem(first.code, first.request), "invalid_grant")
    # RFC 6749 4.1.2: the server SHOULD revoke the tokens issued from the code (our contract: it does).
    response = rp.userinfo(first.tokens["access_token"])
    assert response.status_code == 401, f"the access token from the reused code still works (HTTP {response.status_code})"
    # The suite's "client" is registered with refresh tokens (conftest), so the code's redemption gave one.
    assert "refresh_token" in first.tokens, "the first redemption gave no refresh token"
    checks.check_token_error(rp.refresh(first.tokens["refresh_token"]), "invalid_grant")
    conformance.note("the refresh token from the reused code is revoked too")
