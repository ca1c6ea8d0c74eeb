"""The development outbox (``idp outbox``), sealing at rest, and housekeeping of old messages."""
from __future__ import annotations

from datetime import timedelta

from freezegun import freeze_time
from sqlalchemy import text

from idp import notifications
from idp.extensions import db
from idp.models import OutboundMessage
from support import outbox


def _send_all(app):
    with app.app_context():
        notifications.send("email_confirmation_code", "huw@example.com", "email", {"code": "314159"})
        notifications.send("phone_confirmation_code", "+447700900789", "sms", {"code": "271828"}, language="cy")
        notifications.send("already_registered", "huw@example.com", "email", {})
        db.session.commit()


def test_idp_outbox_prints_one_line_per_message_with_the_code(notifier):
    _send_all(notifier)
    outbox(notifier)  # deliver them
    result = notifier.test_cli_runner().invoke(args=["outbox"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 3
    when, channel, to, template, body = lines[0].split("\t")
    assert when.endswith("Z") and (channel, to, template) == ("email", "huw@example.com", "email_confirmation_code")
    assert body.startswith("Your NHS login confirmation code / Your NHS login confirmation code is 314159.")
    assert lines[1].split("\t")[1:4] == ["sms", "+447700900789", "phone_confirmation_code"]
    assert "Eich cod cadarnhau NHS login yw 271828." in lines[1]
    assert lines[2].split("\t")[3] == "already_registered"


def test_idp_outbox_filters_by_address_and_keeps_the_newest(notifier):
    _send_all(notifier)
    outbox(notifier)
    runner = notifier.test_cli_runner()
    to_huw = runner.invoke(args=["outbox", "--to", "huw@example.com"]).output.splitlines()
    assert [line.split("\t")[3] for line in to_huw] == ["email_confirmation_code", "already_registered"]
    newest = runner.invoke(args=["outbox", "--last", "1"]).output.splitlines()
    assert len(newest) == 1 and newest[0].split("\t")[3] == "already_registered"


def test_idp_outbox_shows_a_message_not_sent_yet_as_pending(notifier):
    with notifier.app_context():
        notifications.send("login_code", "iolo@example.com", "sms", {"code": "161803"})
        db.session.commit()
    output = notifier.test_cli_runner().invoke(args=["outbox"]).output
    assert "(pending: text not kept)" in output and "161803" not in output


def test_the_code_is_sealed_at_rest_and_erased_once_sent_by_a_real_adapter(make_notifier_app, monkeypatch, run_jobs):
    from idp.notifications.adapters import REGISTRY, Adapter

    class Relay(Adapter):
        name, channels = "relay", frozenset({"email"})

        def deliver(self, message):
            assert "577215" in message.body  # the adapter gets the real text

    monkeypatch.setitem(REGISTRY, "relay", Relay)
    app = make_notifier_app(IDP_EMAIL_ADAPTER="relay")
    with app.app_context():
        notifications.send("login_code", "jac@example.com", "email", {"code": "577215"})
        db.session.commit()
        pending = [tuple(row) for row in db.session.execute(text("SELECT * FROM outbound_message"))]
        assert "577215" not in repr(pending)
        assert db.session.execute(text("SELECT personalisation_sealed FROM outbound_message")).scalar()
    assert run_jobs(app) == 1
    with app.app_context():
        [row] = db.session.execute(text("SELECT * FROM outbound_message")).mappings().all()
        assert row["status"] == "sent" and row["adapter"] == "relay"
        assert row["personalisation_sealed"] is None and row["rendered_sealed"] is None
        assert "577215" not in repr(dict(row))
        jobs = [tuple(r) for r in db.session.execute(text("SELECT * FROM job"))]
        assert "577215" not in repr(jobs) and "jac@example.com" not in repr(jobs)
    assert outbox(app) == []  # a real adapter leaves nothing for the outbox to show


def test_the_outbox_keeps_its_text_sealed_too(notifier):
    _send_all(notifier)
    assert len(outbox(notifier)) == 3
    with notifier.app_context():
        rows = [tuple(row) for row in db.session.execute(text("SELECT * FROM outbound_message"))]
    assert "314159" not in repr(rows) and "271828" not in repr(rows)


def test_housekeeping_deletes_messages_older_than_a_week(notifier):
    with freeze_time() as clock:
        with notifier.app_context():
            notifications.send("password_changed", "kit@example.com", "email", {})
            db.session.commit()
        clock.tick(timedelta(days=6))
        with notifier.app_context():
            notifications.send("phone_changed", "kit@example.com", "email", {})
            db.session.commit()
        clock.tick(timedelta(days=1, seconds=1))
        result = notifier.test_cli_runner().invoke(args=["housekeeping"])
        assert result.exit_code == 0, result.output
        assert "messages: 1 deleted" in result.output
        with notifier.app_context():
            assert [m.template for m in OutboundMessage.query.all()] == ["phone_changed"]
