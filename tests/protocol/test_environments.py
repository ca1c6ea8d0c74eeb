"""A client belongs to one environment and an instance serves its own (interface.md "Environments"): a
sandpit client never works against an integration or live instance, and the reverse (issue 11)."""
from __future__ import annotations

import pytest


@pytest.fixture
def integration_instance(app, monkeypatch):
    monkeypatch.setattr(app.extensions["idp"].settings, "env", "integration")
    return app


def test_a_sandpit_client_is_unknown_to_an_integration_instance(integration_instance, register, person):
    sandpit = register(environment="sandpit")
    page = sandpit.authorize()
    assert page.status_code == 400 and "Location" not in page.headers
    assert "not registered with us" in page.get_data(as_text=True)
    token = sandpit.token("any-code")
    assert token.status_code == 401 and token.get_json()["error"] == "invalid_client"


def test_an_integration_client_works_on_its_own_instance(integration_instance, register, person):
    integration = register(environment="integration")
    redirect = integration.authorize()
    assert redirect.status_code == 302  # to the login page, not an error page
    login = integration.login_flow(person("P0"))
    assert integration.token(login["code"]).status_code == 200


def test_a_development_instance_serves_every_environment(register, person):
    for environment in ("sandpit", "integration", "live"):
        rp = register(environment=environment)
        assert rp.token(rp.login_flow(person("P0"))["code"]).status_code == 200
