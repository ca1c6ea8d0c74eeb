"""``send`` queues a message in the caller's transaction; it goes out only after that commits."""
from __future__ import annotations

import pytest

from idp import notifications
from idp.extensions import db
from idp.models import Job, OutboundMessage
from support import last_code, outbox


def test_a_message_goes_out_after_the_commit_that_queued_it(notifier, run_jobs, audit):
    with notifier.app_context():
        notifications.send("login_code", "ana@example.com", "email", {"code": "123456"})
        assert run_jobs(notifier) == 0  # nothing is visible to the worker before the commit
        db.session.commit()
        job = Job.query.one()
        assert job.kind == "send_message" and set(job.payload) == {"message_id"}
    assert run_jobs(notifier) == 1
    [message] = outbox(notifier, "ana@example.com")
    assert message.subject == "Your NHS login security code"
    assert "Your NHS login security code is 123456." in message.body
    assert "expires in 5 minutes" in message.body
    [sent] = audit("message.sent")
    assert sent == {"event": "message.sent", "message_id": sent["message_id"], "template": "login_code",
                    "channel": "email", "adapter": "outbox"}


def test_a_rolled_back_change_sends_nothing(notifier, run_jobs):
    with notifier.app_context():
        notifications.send("password_changed", "ben@example.com", "email", {})
        db.session.rollback()
        assert OutboundMessage.query.count() == 0 and Job.query.count() == 0
    assert run_jobs(notifier) == 0
    assert outbox(notifier) == []


@pytest.mark.parametrize("template", sorted(notifications.templates.TEMPLATES))
@pytest.mark.parametrize("language", ["en", "cy"])
def test_every_template_renders_on_every_channel_it_offers_in_both_languages(template, language):
    from idp.notifications.templates import TEMPLATES, render

    # Each template gets exactly the personalisation it asks for; a placeholder left unfilled fails render.
    sample = {"code": "246810", "link": "https://idp.example/proofing", "reason": "the photo was blurred",
              "organisation": "A12345"}
    for channel in TEMPLATES[template].channels:
        rendered = render(template, channel, language, sample)
        assert rendered.body and "((" not in rendered.body
        assert bool(rendered.subject) == (channel == "email")
        if TEMPLATES[template].max_age:
            assert "246810" in rendered.body or "2 4 6 8 1 0" in rendered.body
            assert ("5 minutes" if language == "en" else "5 munud") in rendered.body


def test_welsh_messages_are_sent_in_welsh(notifier):
    with notifier.app_context():
        notifications.send("email_confirmation_code", "cerys@example.com", "email", {"code": "135790"}, language="cy")
        notifications.send("phone_confirmation_code", "+447700900456", "sms", {"code": "975310"}, language="cy")
        db.session.commit()
    [email] = outbox(notifier, "cerys@example.com")
    assert email.language == "cy" and email.subject == "Eich cod cadarnhau NHS login"
    assert "Eich cod cadarnhau NHS login yw 135790." in email.body and "ymhen 5 munud" in email.body
    assert last_code(notifier, "+447700900456") == "975310"


def test_voice_reads_the_code_digit_by_digit(notifier):
    with notifier.app_context():
        notifications.send("phone_confirmation_code", "+442079460000", "voice", {"code": "402913"})
        db.session.commit()
    [call] = outbox(notifier, "+442079460000")
    assert "Your confirmation code is 4 0 2 9 1 3." in call.body
    assert last_code(notifier, "+442079460000") == "402913"


def test_last_code_is_the_newest_one_to_that_address(notifier):
    with notifier.app_context():
        for code in ("111111", "222222"):
            notifications.send("login_code", "dai@example.com", "sms", {"code": code})
        notifications.send("login_code", "someone-else@example.com", "sms", {"code": "333333"})
        db.session.commit()
    assert last_code(notifier, "dai@example.com") == "222222"
    assert [m.to for m in outbox(notifier)] == ["dai@example.com", "dai@example.com", "someone-else@example.com"]


@pytest.mark.parametrize("template, channel, personalisation, error", [
    ("no_such_template", "email", {}, "no message template"),
    ("already_registered", "sms", {}, "cannot be sent by 'sms'"),
    ("login_code", "email", {}, "missing 'code'"),
    ("login_code", "fax", {"code": "123456"}, "not offered"),
])
def test_a_message_that_cannot_be_made_fails_in_the_request(notifier, template, channel, personalisation, error):
    with notifier.app_context(), pytest.raises(ValueError, match=error):
        notifications.send(template, "eve@example.com", channel, personalisation)


def test_an_unsupported_language_fails_in_the_request(notifier):
    with notifier.app_context(), pytest.raises(notifications.TemplateError, match="not 'fr'"):
        notifications.send("login_code", "eve@example.com", "email", {"code": "123456"}, language="fr")


def test_a_channel_this_deployment_does_not_offer_is_refused(make_notifier_app):
    app = make_notifier_app(IDP_VOICE_ADAPTER="none")
    with app.app_context():
        assert notifications.offers("sms") and not notifications.offers("voice")
        with pytest.raises(notifications.ChannelUnavailable):
            notifications.send("phone_confirmation_code", "+442079460000", "voice", {"code": "123456"})


def test_the_shared_app_delivers_from_its_worker_thread(app):
    """The ordinary test app runs jobs on its worker thread; ``last_code`` waits for it."""
    with app.app_context():
        notifications.send("password_reset_code", "fran@example.com", "email", {"code": "864200"})
        db.session.commit()
    assert last_code(app, "fran@example.com") == "864200"
