"""Uplift inside a login (issue 8): a relying party asks for a P the person lacks; they prove who they
are inside the same authorization request and come back with the new vot, or with access_denied."""
from __future__ import annotations

import re

from journey_support import (case, details_by_name, details_by_number, finish_at_rp, gp_details, onward,
                             page_path, submit, to_proofing)
from support import ISSUER, callback_params

SCOPE = "openid profile profile_extended gp_registration_details"


def _person_record(app, email):
    with app.app_context():
        from idp.models import Person

        return Person.query.filter_by(email=email).one()


def test_p0_to_p9_through_p5_and_gp_online_details_ends_with_a_verified_p9_token(rp, person, app):
    bethan = case("gp_online_without_id_check")
    email = person("P0")
    page, interaction = to_proofing(rp, email, vtr='["P9.Cp.Cd"]', scope=SCOPE, state="up1")
    text = page.get_data(as_text=True)
    assert "Prove who you are" in text and "one more way" in text  # P5 first, and a P9 step announced

    response = submit(rp.http, page_path(interaction, "start"), {"route": "demographics"})
    assert response.headers["Location"].startswith("/prove-who-you-are/your-details")
    response = submit(rp.http, response.headers["Location"], details_by_number(bethan))
    assert _person_record(app, email).proofing_level == "P5"
    choice = onward(rp, response)
    assert "Choose how to prove who you are" in choice.get_data(as_text=True)
    assert "GP online services registration details" in choice.get_data(as_text=True)

    response = submit(rp.http, page_path(interaction, "start"), {"route": "gp_online"})
    assert response.headers["Location"].startswith("/prove-who-you-are/gp-online-details")
    response = submit(rp.http, response.headers["Location"], gp_details(bethan))
    result = finish_at_rp(rp, response)
    assert result["state"] == "up1" and "code" in result, result

    tokens = rp.token(result["code"]).get_json()
    claims = rp.verify_id_token(tokens["id_token"])
    assert claims["vot"] == "P9.Cp.Cd"
    assert claims["identity_proofing_level"] == "P9"
    assert claims["nhs_number"] == bethan["nhs_number"]
    assert claims["family_name"] == bethan["family_name"]
    assert claims["given_name"] == " ".join(bethan["given_names"])
    assert claims["birthdate"] == bethan["birthdate"]
    assert claims["gp_registration_details"] == {"gp_ods_code": bethan["gp_ods_code"]}


def test_p5_is_enough_when_p5_is_asked_and_the_name_route_matches(rp, person, app):
    zoe = case("accented_given_name_zoe")
    email = person("P0")
    page, interaction = to_proofing(rp, email, vtr='["P5.Cp"]', scope=SCOPE, state="up2")
    submit(rp.http, page_path(interaction, "start"), {"route": "demographics"})
    # Typed as a person would: no accent, lower case, a postcode without its space.
    response = submit(rp.http, page_path(interaction, "your-details", method="name"),
                      details_by_name(zoe, given_name="zoe", family_name="MARSH", postcode=zoe["postcode"].replace(" ", "").lower()))
    result = finish_at_rp(rp, response)
    claims = rp.verify_id_token(rp.token(result["code"]).get_json()["id_token"])
    assert claims["vot"] == "P5.Cp" and claims["identity_proofing_level"] == "P5"
    assert claims["given_name"] == "Zoë"  # from the record, not as typed


def test_a_refused_match_says_nothing_about_why_and_raises_nothing(rp, person, app):
    olivia = case("hyphenated_family_name")
    email = person("P0")
    page, interaction = to_proofing(rp, email, vtr='["P5.Cp"]', scope=SCOPE)
    wrong_postcode = submit(rp.http, page_path(interaction, "your-details"), details_by_number(olivia, postcode="ZZ1 1ZZ"))
    deceased = submit(rp.http, page_path(interaction, "your-details"), details_by_number(case("deceased")))
    unknown = submit(rp.http, page_path(interaction, "your-details"), details_by_number(olivia, nhs_number="9990900973"))
    summaries = set()
    for response in (wrong_postcode, deceased, unknown):
        assert response.status_code == 400
        body = response.get_data(as_text=True)
        assert "We could not find your details. Check what you entered and try again." in body
        summaries.add(re.search(r'<div class="nhsuk-error-summary.*?</ul>', body, re.S).group(0))
    assert len(summaries) == 1  # the same words whichever detail failed, or if the person has died
    assert _person_record(app, email).proofing_level == "P0"


def test_leaving_the_journey_sends_access_denied_and_asserts_nothing(rp, person, app):
    email = person("P0")
    page, interaction = to_proofing(rp, email, vtr='["P9.Cp.Cd"]', scope=SCOPE, state="up3")
    response = submit(rp.http, page_path(interaction, "stop"), {})
    result = callback_params(onward(rp, response))
    assert result == {"error": "access_denied", "error_description": result.get("error_description"),
                      "state": "up3", "iss": ISSUER}
    assert _person_record(app, email).proofing_level == "P0"


def test_prompt_none_never_shows_a_proofing_page(rp, person, client):
    from support import log_in

    email = person("P0")
    log_in(rp.http, email)
    response = rp.authorize(vtr='["P5.Cp"]', prompt="none", state="up4")
    result = callback_params(response)
    assert result["error"] == "interaction_required" and result["state"] == "up4"


def test_fast_track_transfers_an_earlier_gp_id_check_when_the_mobile_is_on_the_record(rp, person, app):
    tariq = case("gp_online_fast_track")
    email = person("P0", phone=tariq["mobile"])
    page, interaction = to_proofing(rp, email, vtr='["P9.Cp.Cd"]', scope=SCOPE, state="up5")
    submit(rp.http, page_path(interaction, "start"), {"route": "demographics"})
    response = submit(rp.http, page_path(interaction, "your-details"), details_by_number(tariq))
    choice = onward(rp, response)
    assert "Use the ID check you did for GP online services" in choice.get_data(as_text=True)
    response = submit(rp.http, page_path(interaction, "fast-track"), {})
    result = finish_at_rp(rp, response)
    claims = rp.verify_id_token(rp.token(result["code"]).get_json()["id_token"])
    assert claims["vot"] == "P9.Cp.Cd" and claims["nhs_number"] == tariq["nhs_number"]


def test_fast_track_is_not_offered_when_the_accounts_mobile_is_not_on_the_record(rp, person, app):
    tariq = case("gp_online_fast_track")
    email = person("P0", phone="+447700900001" if tariq["mobile"] != "+447700900001" else "+447700900002")
    page, interaction = to_proofing(rp, email, vtr='["P9.Cp.Cd"]', scope=SCOPE)
    submit(rp.http, page_path(interaction, "start"), {"route": "demographics"})
    choice = onward(rp, submit(rp.http, page_path(interaction, "your-details"), details_by_number(tariq)))
    assert "Use the ID check you did for GP online services" not in choice.get_data(as_text=True)
    refused = rp.http.post(page_path(interaction, "fast-track"), data={"csrf_token": _csrf(rp, interaction)})
    assert refused.headers["Location"].startswith("/prove-who-you-are/start")
    assert _person_record(app, email).proofing_level == "P5"


def _csrf(rp, interaction):
    from support import csrf_from

    return csrf_from(rp.http.get(page_path(interaction, "start")).get_data(as_text=True))


def _no_p9_route(settings):
    # No GP system, no face-check vendor and no ID checking team: nothing reaches P9.
    settings.gp_system_adapter, settings.face_check_adapter, settings.photo_id_video_route = "none", "none", False


def test_p9_is_refused_at_once_when_no_route_could_reach_it(rp, person, app):
    _no_p9_route(app.extensions["idp"].settings)
    email = person("P5")
    response = rp.authorize(vtr='["P9.Cp"]', state="up6")
    result = finish_at_rp(rp, follow_to_login(rp, response, email))
    assert result["error"] == "access_denied" and result["state"] == "up6"


def test_a_person_who_can_reach_p5_but_not_p9_is_still_taken_to_p5_when_either_is_asked(rp, person, app):
    _no_p9_route(app.extensions["idp"].settings)
    email = person("P0")
    page, interaction = to_proofing(rp, email, vtr='["P9.Cp", "P5.Cp"]', scope=SCOPE)
    text = page.get_data(as_text=True)
    assert "Prove who you are" in text and "one more way" not in text  # P5 is the level this journey aims at


def follow_to_login(rp, response, email):
    from support import follow_to_rp

    return follow_to_rp(rp.http, response, email=email, redirect_uri=rp.redirect_uri)


def test_gp_integration_credentials_come_from_userinfo_only_at_p9_with_two_factors(register, person, app):
    bethan = case("gp_online_without_id_check")
    rp = register(scope="openid profile gp_integration_credentials", vtr=["P5.Cp.Cd", "P9.Cp.Cd"])
    email = person("P0")
    page, interaction = to_proofing(rp, email, vtr='["P9.Cp.Cd"]', scope="openid gp_integration_credentials")
    submit(rp.http, page_path(interaction, "start"), {"route": "demographics"})
    submit(rp.http, page_path(interaction, "your-details"), details_by_number(bethan))
    response = submit(rp.http, page_path(interaction, "gp-online-details"), gp_details(bethan))
    tokens = rp.token(finish_at_rp(rp, response)["code"]).get_json()
    assert "gp_integration_credentials" not in rp.verify_id_token(tokens["id_token"])  # it travels as id_token_hint
    info = rp.http.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}).get_json()
    account = bethan["gp_account"]
    assert info["gp_integration_credentials"] == {"gp_user_id": account["account_id"], "gp_ods_code": account["ods_code"],
                                                  "gp_linkage_key": account["linkage_key"]}

    # The same P9 person, but the service asked for P5 only: no GP keys.
    tokens = rp.tokens_for(email, vtr='["P5.Cp.Cd"]', scope="openid gp_integration_credentials", prompt="login")
    info = rp.http.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}).get_json()
    assert "gp_integration_credentials" not in info


def test_a_pds_change_reaches_the_claims_at_the_next_login_and_is_recorded(rp, person, app, tmp_path):
    import json as _json

    from idp.proofing.pds.synthetic import DEFAULT_SET, load
    from support import log_in

    olivia = case("hyphenated_family_name")
    email = person("P0")
    page, interaction = to_proofing(rp, email, vtr='["P5.Cp"]', scope=SCOPE)
    finish_at_rp(rp, submit(rp.http, page_path(interaction, "your-details"), details_by_number(olivia)))

    # PDS records her marriage: a new family name, a new version of the record.
    changed = tmp_path / "changed.ndjson"
    lines = []
    for line in DEFAULT_SET.read_text().splitlines():
        resource = _json.loads(line) if line.strip() else None
        if resource and resource["id"] == olivia["nhs_number"]:
            resource["name"][0]["family"] = "Okoro"
            resource["meta"]["versionId"] = str(int(resource["meta"].get("versionId", "1")) + 1)
        lines.append(_json.dumps(resource) if resource else line)
    changed.write_text("\n".join(lines) + "\n")
    with app.app_context():
        load(changed)

    rp.http.get("/logout")
    rp.http.delete_cookie("idp_session")
    log_in(rp.http, email)  # the next login re-reads the record
    tokens = rp.tokens_for(email, vtr='["P5.Cp"]', scope=SCOPE)
    assert rp.verify_id_token(tokens["id_token"])["family_name"] == "Okoro"
    with app.app_context():
        from idp.models import Evidence

        person_id = _person_record(app, email).id
        (row,) = Evidence.query.filter_by(person_id=person_id, route="pds_refresh").all()
        assert row.outcome == "changed" and "family_name" in row.detail["fields"]


def test_the_authorization_asks_the_services_once_per_level_not_once_per_vector(rp, person, app, monkeypatch):
    calls = []  # each fast-track offer reads PDS and the GP system
    monkeypatch.setattr("idp.proofing.routes.fast_track._earlier_check",
                        lambda person, settings: calls.append(person.id) or None)
    email = person("P5")
    page, interaction = to_proofing(rp, email, vtr='["P9.Cp.Cd", "P9.Cp"]', scope=SCOPE)
    assert "Choose how to prove who you are" in page.get_data(as_text=True)
    # Once for check_vot (two P9 vectors, one level) and once for the choice page.
    assert len(calls) == 2, calls
