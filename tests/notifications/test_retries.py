"""A failed delivery is retried with the queue's backoff, and a final failure is logged and audited, never lost."""
from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from freezegun import freeze_time

from idp import notifications
from idp.extensions import db
from idp.jobs import RETRY_DELAYS
from idp.models import Job, OutboundMessage
from idp.notifications.adapters import REGISTRY, Adapter, DeliveryFailed


class FlakyAdapter(Adapter):
    """Fails the first ``failures`` deliveries (class-wide), then delivers into ``sent``."""

    name = "flaky"
    channels = frozenset({"email", "sms", "voice"})
    failures = 0
    permanent = False
    sent: list = []
    attempts = 0

    def deliver(self, message):
        type(self).attempts += 1
        if type(self).attempts <= type(self).failures:
            raise DeliveryFailed("relay down", permanent=type(self).permanent)
        type(self).sent.append(message)


@pytest.fixture
def flaky(monkeypatch, make_notifier_app):
    """``flaky(failures=2, permanent=False)``: an app whose email goes through FlakyAdapter."""
    monkeypatch.setitem(REGISTRY, "flaky", FlakyAdapter)

    def _make(failures: int, permanent: bool = False):
        monkeypatch.setattr(FlakyAdapter, "failures", failures)
        monkeypatch.setattr(FlakyAdapter, "permanent", permanent)
        monkeypatch.setattr(FlakyAdapter, "attempts", 0)
        monkeypatch.setattr(FlakyAdapter, "sent", [])
        return make_notifier_app(IDP_EMAIL_ADAPTER="flaky")

    return _make


def _send(app, template="password_changed", personalisation=None):
    with app.app_context():
        notifications.send(template, "gwen@example.com", "email", personalisation or {})
        db.session.commit()


def _message(app) -> OutboundMessage:
    with app.app_context():
        return OutboundMessage.query.one()


def test_a_failed_delivery_is_retried_after_the_backoff_and_then_sent(flaky, run_jobs, audit):
    app = flaky(failures=2)
    with freeze_time() as clock:
        _send(app)
        assert run_jobs(app) == 1 and _message(app).status == "pending"
        assert run_jobs(app) == 0  # not due again yet
        clock.tick(timedelta(seconds=RETRY_DELAYS[0]))
        assert run_jobs(app) == 1 and _message(app).status == "pending"
        clock.tick(timedelta(seconds=RETRY_DELAYS[1]))
        assert run_jobs(app) == 1
    message = _message(app)
    assert message.status == "sent" and message.adapter == "flaky" and message.personalisation_sealed is None
    assert FlakyAdapter.attempts == 3 and len(FlakyAdapter.sent) == 1
    assert len(audit("message.sent")) == 1 and audit("message.failed") == []


def test_the_final_failure_is_logged_and_audited(flaky, run_jobs, audit, caplog):
    app = flaky(failures=100)
    with freeze_time() as clock:
        _send(app)
        for delay in (0, *RETRY_DELAYS):
            clock.tick(timedelta(seconds=delay))
            assert run_jobs(app) == 1
        clock.tick(timedelta(days=1))
        assert run_jobs(app) == 0  # given up: never tried again
    message = _message(app)
    assert message.status == "failed" and message.personalisation_sealed is None
    assert FlakyAdapter.attempts == len(RETRY_DELAYS) + 1
    with app.app_context():
        assert Job.query.one().outcome == "failed"
    [failed] = audit("message.failed")
    assert failed == {"event": "message.failed", "message_id": message.id, "template": "password_changed",
                      "channel": "email"}
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(message.id in line and "could not be sent: relay down" in line for line in errors)
    assert not any("gwen@example.com" in line for line in errors)


def test_a_permanent_failure_gives_up_at_once(flaky, run_jobs, audit):
    app = flaky(failures=1, permanent=True)
    _send(app)
    assert run_jobs(app) == 1
    assert _message(app).status == "failed"
    assert FlakyAdapter.attempts == 1 and len(audit("message.failed")) == 1


def test_a_code_is_not_sent_once_it_has_expired(flaky, run_jobs, audit):
    """Retries go on for over an hour; a 5-minute code delivered after that would only confuse."""
    app = flaky(failures=100)
    with freeze_time() as clock:
        _send(app, "login_code", {"code": "123456"})
        elapsed = 0
        for delay in (0, *RETRY_DELAYS):
            clock.tick(timedelta(seconds=delay))
            elapsed += delay
            run_jobs(app)
            if _message(app).status == "failed":
                break
    assert elapsed > 300 and FlakyAdapter.attempts < len(RETRY_DELAYS) + 1
    [failed] = audit("message.failed")
    assert failed["template"] == "login_code"
    with app.app_context():
        assert Job.query.one().last_error == "too late: the code in it has expired"


def test_events_never_carry_the_code_address_or_text(flaky, run_jobs, audit):
    app = flaky(failures=0)
    _send(app, "login_code", {"code": "918273"})
    run_jobs(app)
    for event in audit():
        flat = repr(event)
        assert "918273" not in flat and "gwen@example.com" not in flat and "security code" not in flat
