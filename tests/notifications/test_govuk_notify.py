"""The govuk_notify adapter through the real notifications-python-client, against a fake Notify API on 127.0.0.1."""
from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt as pyjwt
import pytest

from idp import notifications
from idp.config import ConfigurationError, Settings
from idp.extensions import db
from idp.models import Job, OutboundMessage

SERVICE_ID, SECRET = str(uuid.uuid4()), str(uuid.uuid4())
API_KEY = f"idp_test-{SERVICE_ID}-{SECRET}"
EMAIL_TEMPLATE, SMS_TEMPLATE, LOGIN_SMS_TEMPLATE = (str(uuid.uuid4()) for _ in range(3))


class FakeNotify(ThreadingHTTPServer):
    """Answers POST /v2/notifications/{email,sms} like Notify, checking the client's JWT; ``answer`` sets the status."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests, self.answer = [], 201

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's naming
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        claims = pyjwt.decode(token, SECRET, algorithms=["HS256"])  # Notify's authentication: iss is the service id
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append({"path": self.path, "iss": claims["iss"], "body": body})
        status = self.server.answer
        answer = {"id": str(uuid.uuid4())} if status == 201 else {"status_code": status, "errors": [
            {"error": "BadRequestError", "message": f"Can't send to this recipient {body.get('phone_number')}"}]}
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def notify():
    server = FakeNotify()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.settings = {
        "IDP_EMAIL_ADAPTER": "govuk_notify", "IDP_SMS_ADAPTER": "govuk_notify", "IDP_NOTIFY_API_KEY": API_KEY,
        "IDP_NOTIFY_BASE_URL": server.url,
        "IDP_NOTIFY_TEMPLATE_IDS": json.dumps({"email": EMAIL_TEMPLATE, "sms": SMS_TEMPLATE,
                                               "login_code.sms": LOGIN_SMS_TEMPLATE}),
    }
    yield server
    server.shutdown()
    server.server_close()


def _send(app, template, to, channel, language="en"):
    with app.app_context():
        notifications.send(template, to, channel, {"code": "141421"}, language=language)
        db.session.commit()


def test_email_goes_to_the_generic_template_with_our_subject_and_body(make_notifier_app, notify, run_jobs):
    app = make_notifier_app(**notify.settings)
    _send(app, "password_reset_code", "mair@example.com", "email", language="cy")
    assert run_jobs(app) == 1
    [request] = notify.requests
    assert request["path"] == "/v2/notifications/email" and request["iss"] == SERVICE_ID
    body = request["body"]
    assert body["email_address"] == "mair@example.com" and body["template_id"] == EMAIL_TEMPLATE
    assert body["personalisation"]["subject"] == "Eich cod ailosod cyfrinair NHS login"
    assert "Eich cod ailosod cyfrinair NHS login yw 141421." in body["personalisation"]["body"]
    with app.app_context():
        message = OutboundMessage.query.one()
        assert body["reference"] == message.id
        assert (message.status, message.adapter, message.personalisation_sealed) == ("sent", "govuk_notify", None)


def test_sms_uses_a_template_mapped_for_it_when_there_is_one(make_notifier_app, notify, run_jobs):
    app = make_notifier_app(**notify.settings)
    _send(app, "login_code", "+447700900321", "sms")
    _send(app, "phone_confirmation_code", "+447700900321", "sms")
    assert run_jobs(app) == 2
    assert [r["path"] for r in notify.requests] == ["/v2/notifications/sms"] * 2
    assert [r["body"]["template_id"] for r in notify.requests] == [LOGIN_SMS_TEMPLATE, SMS_TEMPLATE]
    assert notify.requests[0]["body"]["phone_number"] == "+447700900321"
    assert set(notify.requests[0]["body"]["personalisation"]) == {"body"}


def test_a_notify_outage_is_retried_and_a_bad_request_is_not(make_notifier_app, notify, run_jobs, audit):
    app = make_notifier_app(**notify.settings)
    notify.answer = 500
    _send(app, "login_code", "+447700900321", "sms")
    run_jobs(app)
    with app.app_context():
        assert OutboundMessage.query.one().status == "pending"
        assert Job.query.one().last_error == "GOV.UK Notify answered HTTP 500"
        OutboundMessage.query.delete()
        Job.query.delete()
        db.session.commit()
    notify.answer = 400
    _send(app, "login_code", "+447700900321", "sms")
    run_jobs(app)
    with app.app_context():
        assert OutboundMessage.query.one().status == "failed"
        assert "+447700900321" not in Job.query.one().last_error  # Notify's error text quotes the request
    assert len(audit("message.failed")) == 1


def test_notify_cannot_make_voice_calls_so_that_is_refused_at_start_up():
    with pytest.raises(ConfigurationError, match="IDP_VOICE_ADAPTER=govuk_notify: it cannot send voice"):
        Settings.from_env({"IDP_VOICE_ADAPTER": "govuk_notify", "IDP_NOTIFY_API_KEY": API_KEY,
                           "IDP_NOTIFY_TEMPLATE_IDS": json.dumps({"sms": SMS_TEMPLATE})})


@pytest.mark.parametrize("env, problem", [
    ({"IDP_NOTIFY_TEMPLATE_IDS": json.dumps({"email": EMAIL_TEMPLATE})}, "IDP_NOTIFY_API_KEY"),
    ({"IDP_NOTIFY_API_KEY": API_KEY}, "no Notify template for email messages"),
    ({"IDP_NOTIFY_API_KEY": API_KEY, "IDP_NOTIFY_TEMPLATE_IDS": "[1]"}, "IDP_NOTIFY_TEMPLATE_IDS must be a JSON object"),
])
def test_notify_without_a_key_or_templates_is_refused_at_start_up(env, problem):
    with pytest.raises(ConfigurationError, match=problem):
        Settings.from_env({"IDP_EMAIL_ADAPTER": "govuk_notify", **env})
