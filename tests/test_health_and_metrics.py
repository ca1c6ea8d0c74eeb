"""Health, readiness and metrics (issue 12): what a load balancer, a Kubernetes probe and Prometheus read."""
from __future__ import annotations

import re

import pytest
from sqlalchemy.exc import OperationalError


def _metric(text: str, name: str, **labels) -> float:
    """The value of one sample of the exposition, 0 if absent."""
    for line in text.splitlines():
        match = re.match(rf'^{re.escape(name)}(?:\{{(.*)\}})? (\S+)$', line)
        if match and all(f'{k}="{v}"' in (match.group(1) or "") for k, v in labels.items()):
            return float(match.group(2))
    return 0.0


def test_healthz_answers_without_a_session_and_is_never_cached(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store" and "Set-Cookie" not in response.headers


def test_readyz_checks_the_database_and_the_signing_keys(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "checks": {"database": "ok", "signing_keys": "ok"}}


def test_readyz_is_503_while_the_database_is_unreachable(app, client, monkeypatch):
    from idp.extensions import db

    def unreachable(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    with app.app_context():
        monkeypatch.setattr(db.session, "execute", unreachable)
        response = client.get("/readyz")
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.get_json()["checks"]["database"] == "unreachable"


def test_metrics_count_requests_logins_and_step_ups(app, client, rp, person):
    before = client.get("/metrics").get_data(as_text=True)
    email = person("P9")
    rp.login_flow(email, vtr='["P9.Cp"]')
    step_up = rp.authorize(vtr='["P9.Cp.Cd"]')  # logged in with the password alone, asked for a device: a step-up
    assert step_up.status_code == 302
    after = client.get("/metrics")
    assert after.headers["Content-Type"].startswith("text/plain")
    text = after.get_data(as_text=True)
    assert _metric(text, "idp_logins_total", outcome="succeeded") == _metric(
        before, "idp_logins_total", outcome="succeeded") + 1
    assert _metric(text, "idp_http_requests_total", endpoint="protocol.authorize", method="GET", status="302") >= 2
    assert _metric(text, "idp_step_ups_total", kind="step_up") >= _metric(before, "idp_step_ups_total", kind="step_up") + 1
    assert "idp_http_request_duration_seconds_bucket" in text


def test_metrics_count_proofing_outcomes(app, client, person):
    before = _metric(client.get("/metrics").get_data(as_text=True), "idp_proofing_outcomes_total",
                     route="operator", outcome="level_set")
    person("P5")
    after = _metric(client.get("/metrics").get_data(as_text=True), "idp_proofing_outcomes_total",
                    route="operator", outcome="level_set")
    assert after == before + 1


@pytest.mark.parametrize("token", ["", "a-long-metrics-token"])
def test_metrics_outside_development_need_the_token(app, client, monkeypatch, token):
    settings = app.extensions["idp"].settings
    monkeypatch.setattr(settings, "env", "live")
    monkeypatch.setattr(settings, "metrics_token", token)
    if not token:
        assert client.get("/metrics").status_code == 404
        return
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Bearer {token}"}).status_code == 200
