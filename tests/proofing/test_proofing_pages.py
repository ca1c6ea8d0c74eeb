"""The proofing pages outside a relying party's request (from the account page), and what they show
when a national service cannot answer or the record belongs to someone else."""
from __future__ import annotations

from journey_support import case, details_by_number, interaction_in, page_path, submit
from support import log_in


def _begin(client, email, level="P9", logged_in=False):
    if not logged_in:
        log_in(client, email)
    response = client.get(f"/prove-who-you-are/?level={level}")
    start = client.get(response.headers["Location"])
    assert start.status_code == 200
    return interaction_in(start)


def test_the_account_page_offers_proving_who_you_are_and_comes_back_to_it(client, person):
    olivia = case("hyphenated_family_name")
    email = person("P0")
    log_in(client, email)
    account = client.get("/account").get_data(as_text=True)
    assert "/prove-who-you-are/?level=P9" in account
    interaction = _begin(client, email, level="P5", logged_in=True)
    response = submit(client, page_path(interaction, "your-details"), details_by_number(olivia))
    assert response.headers["Location"].endswith("/account")
    page = client.get("/account").get_data(as_text=True)
    assert "You have proved who you are." in page
    assert "You have proved who you are to a medium level" in page
    assert olivia["nhs_number"] not in page  # journeys.md: the NHS number is not shown back at P5


def test_pds_out_of_reach_says_try_again_later_and_records_nothing(client, person, app, monkeypatch):
    from idp.proofing.pds import PdsUnavailable

    class Down:
        def get(self, nhs_number):
            raise PdsUnavailable("test: PDS is down")

        def search(self, **query):
            raise PdsUnavailable("test: PDS is down")

    monkeypatch.setattr("idp.proofing.routes.demographics.demographics_service", lambda settings: Down())
    email = person("P0")
    interaction = _begin(client, email, level="P5")
    response = submit(client, page_path(interaction, "your-details"), details_by_number(case("restricted")))
    assert response.status_code == 503
    assert "Try again later" in response.get_data(as_text=True)
    with app.app_context():
        from idp.models import Evidence, Person

        person_id = Person.query.filter_by(email=email).one().id
        assert Evidence.query.filter_by(person_id=person_id).count() == 0


def test_a_record_already_linked_to_another_account_is_refused_without_naming_it(client, person, app):
    leah = case("restricted")
    first = person("P0", email="first.owner@example.com")
    interaction = _begin(client, first, level="P5")
    submit(client, page_path(interaction, "your-details"), details_by_number(leah))
    client.get("/logout")
    client.delete_cookie("idp_session")

    second = person("P0")
    interaction = _begin(client, second, level="P5")
    response = submit(client, page_path(interaction, "your-details"), details_by_number(leah))
    body = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "You already have an NHS login" in body and "/forgotten-password" in body
    assert "first.owner" not in body
    with app.app_context():
        from idp.models import Person

        assert Person.query.filter_by(email=second).one().proofing_level == "P0"
        assert Person.query.filter_by(email=first).one().nhs_number == leah["nhs_number"]


def test_form_errors_say_how_to_fix_each_field(client, person):
    email = person("P0")
    interaction = _begin(client, email, level="P5")
    response = submit(client, page_path(interaction, "your-details"),
                      {"nhs_number": "999 000 1007", "birthdate-day": "31", "birthdate-month": "2",
                       "birthdate-year": "1990", "postcode": "not a postcode"})
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Check your NHS number: this is not a valid NHS number" in body
    assert "Date of birth must be a real date" in body
    assert "Enter a real postcode, like LS1 4AP" in body
    assert 'href="#nhs_number"' in body and 'href="#birthdate-day"' in body and 'href="#postcode"' in body
    # Digits of another script are not an NHS number (they would pass a \d check and int()).
    response = submit(client, page_path(interaction, "your-details"),
                      {"nhs_number": "\u0669\u0669\u0669\u0660\u0660\u0660\u0661\u0660\u0660\u0666"})
    assert "Your NHS number must be 10 numbers" in response.get_data(as_text=True)
    response = submit(client, page_path(interaction, "your-details", method="name"), {})
    body = response.get_data(as_text=True)
    for message in ("Enter your first name", "Enter your last name", "Enter your date of birth", "Enter your postcode"):
        assert message in body


def test_a_restricted_record_shows_and_releases_no_gp(rp, person, app):
    from journey_support import finish_at_rp, to_proofing

    leah = case("restricted")
    email = person("P0")
    page, interaction = to_proofing(rp, email, vtr='["P5.Cp"]', scope="openid profile gp_registration_details")
    response = submit(rp.http, page_path(interaction, "your-details"), details_by_number(leah))
    result = finish_at_rp(rp, response)
    claims = rp.verify_id_token(rp.token(result["code"]).get_json()["id_token"])
    assert claims["nhs_number"] == leah["nhs_number"]
    assert "gp_registration_details" not in claims
    with app.app_context():
        from idp.models import Person

        stored = Person.query.filter_by(email=email).one()
        assert stored.postcode is None and stored.gp_ods_code is None and stored.pds_restricted
