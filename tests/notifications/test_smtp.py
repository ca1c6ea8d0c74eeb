"""The smtp adapter against a real SMTP server on 127.0.0.1 (aiosmtpd) that requires STARTTLS and a login."""
from __future__ import annotations

import email
import socket
import ssl
from email import policy

import pytest

pytest.importorskip("aiosmtpd")
from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import AuthResult  # noqa: E402

from idp import notifications  # noqa: E402
from idp.devtls import ensure_dev_certificate  # noqa: E402
from idp.extensions import db  # noqa: E402
from idp.models import OutboundMessage  # noqa: E402


class Mailbox:
    """aiosmtpd handler: keeps what it receives; ``refuse_rcpt`` answers RCPT with that reply instead."""

    def __init__(self):
        self.received = []
        self.refuse_rcpt = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_rcpt:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append({"from": envelope.mail_from, "to": envelope.rcpt_tos, "tls": session.ssl is not None,
                              "login": session.authenticated,
                              "message": email.message_from_bytes(envelope.content, policy=policy.default)})
        return "250 Message accepted"


def _check_login(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=(auth_data.login, auth_data.password) == (b"idp", b"relay-password"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def relay(tmp_path):
    cert = ensure_dev_certificate(str(tmp_path / "tls"))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert.cert_path, cert.key_path)
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port(), tls_context=context,
                            require_starttls=True, auth_required=True, authenticator=_check_login)
    controller.start()
    mailbox.settings = {"IDP_EMAIL_ADAPTER": "smtp", "IDP_SMTP_HOST": "127.0.0.1", "IDP_SMTP_PORT": controller.port,
                        "IDP_SMTP_USERNAME": "idp", "IDP_SMTP_PASSWORD": "relay-password",
                        "IDP_SMTP_CA_FILE": cert.cert_path, "IDP_MAIL_FROM": "NHS login <noreply@login.example>"}
    yield mailbox
    controller.stop()


def _send(app, template="email_confirmation_code", language="en"):
    with app.app_context():
        notifications.send(template, "lowri@example.com", "email", {"code": "662607"}, language=language)
        db.session.commit()


def _status(app) -> str:
    with app.app_context():
        return OutboundMessage.query.one().status


def test_email_goes_through_the_relay_over_starttls_after_logging_in(make_notifier_app, relay, run_jobs, audit):
    app = make_notifier_app(**relay.settings)
    _send(app, language="cy")
    assert run_jobs(app) == 1
    [got] = relay.received
    assert got["tls"] and got["login"]
    assert got["from"] == "noreply@login.example" and got["to"] == ["lowri@example.com"]
    message = got["message"]
    assert message["Subject"] == "Eich cod cadarnhau NHS login" and message["Content-Language"] == "cy"
    assert "Eich cod cadarnhau NHS login yw 662607." in message.get_content()
    assert _status(app) == "sent"
    assert audit("message.sent")[0]["adapter"] == "smtp"


def test_a_relay_whose_certificate_is_not_trusted_gets_nothing(make_notifier_app, relay, run_jobs):
    settings = dict(relay.settings, IDP_SMTP_CA_FILE="")  # the system trust store does not know the test certificate
    app = make_notifier_app(**settings)
    _send(app)
    assert run_jobs(app) == 1
    assert relay.received == [] and _status(app) == "pending"  # retried later: it may be a passing fault
    with app.app_context():
        from idp.models import Job

        assert Job.query.one().last_error == "SMTP relay unreachable or unusable: SSLCertVerificationError"


def test_a_refused_recipient_fails_for_good_and_a_busy_relay_is_tried_again(make_notifier_app, relay, run_jobs, audit):
    app = make_notifier_app(**relay.settings)
    relay.refuse_rcpt = "451 4.3.0 Try again later"
    _send(app)
    run_jobs(app)
    assert _status(app) == "pending"
    with app.app_context():
        OutboundMessage.query.delete()
        db.session.commit()
    relay.refuse_rcpt = "550 5.1.1 No such mailbox"
    _send(app)
    run_jobs(app)
    assert _status(app) == "failed"
    assert len(audit("message.failed")) == 1 and relay.received == []


def test_smtp_cannot_send_sms(tmp_path):
    from idp.config import ConfigurationError, Settings

    with pytest.raises(ConfigurationError, match="IDP_SMS_ADAPTER=smtp: it cannot send sms"):
        Settings.from_env({"IDP_SMS_ADAPTER": "smtp", "IDP_SMTP_HOST": "relay", "IDP_MAIL_FROM": "a@b.example"})
    with pytest.raises(ConfigurationError, match="IDP_SMTP_HOST"):
        Settings.from_env({"IDP_EMAIL_ADAPTER": "smtp", "IDP_MAIL_FROM": "a@b.example"})
