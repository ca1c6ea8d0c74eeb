"""Message settings: the outbox is for development only; elsewhere a channel sends nothing until configured."""
from __future__ import annotations

import json
import uuid

import pytest

from idp import create_app
from idp.config import ConfigurationError, Settings

LIVE = {"IDP_ENV": "live", "IDP_ISSUER": "https://login.example.nhs.uk", "IDP_SECRET_KEY": "s3cure-" + "x" * 40,
        "IDP_PDS_ADAPTER": "fhir", "IDP_PDS_BASE_URL": "https://pds.example.nhs.uk/FHIR/R4"}
NOTIFY = {"IDP_NOTIFY_API_KEY": f"live-{uuid.uuid4()}-{uuid.uuid4()}",
          "IDP_NOTIFY_TEMPLATE_IDS": json.dumps({"sms": str(uuid.uuid4())})}


@pytest.fixture(autouse=True)
def instance_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("IDP_INSTANCE_PATH", str(tmp_path / "instance"))


def test_development_sends_everything_to_the_outbox():
    settings = Settings.from_env({})
    assert (settings.email_adapter, settings.sms_adapter, settings.voice_adapter) == ("outbox",) * 3


def test_outside_development_no_channel_sends_until_one_is_chosen():
    settings = Settings.from_env(LIVE)
    assert (settings.email_adapter, settings.sms_adapter, settings.voice_adapter) == ("none",) * 3


@pytest.mark.parametrize("channel", ["EMAIL", "SMS", "VOICE"])
@pytest.mark.parametrize("env", ["sandpit", "integration", "live"])
def test_the_outbox_refuses_to_start_outside_development(channel, env):
    settings = Settings.from_env({**LIVE, "IDP_ENV": env, f"IDP_{channel}_ADAPTER": "outbox"})
    with pytest.raises(ConfigurationError, match=f"IDP_{channel}_ADAPTER=outbox keeps messages"):
        create_app(settings=settings)


def test_live_starts_with_real_adapters_and_no_voice(tmp_path):
    settings = Settings.from_env({**LIVE, **NOTIFY, "IDP_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
                                  "IDP_EMAIL_ADAPTER": "smtp", "IDP_SMTP_HOST": "relay.example",
                                  "IDP_MAIL_FROM": "noreply@login.example", "IDP_SMS_ADAPTER": "govuk_notify",
                                  "IDP_VOICE_ADAPTER": "none"})
    app = create_app(settings=settings)
    assert app.extensions["idp"].settings.smtp_port == 587
    assert NOTIFY["IDP_NOTIFY_API_KEY"] not in repr(settings)  # secrets stay out of logs and tracebacks
    with app.app_context():
        from idp import notifications
        from idp.extensions import db

        assert notifications.offers("email") and notifications.offers("sms") and not notifications.offers("voice")
        db.engine.dispose()


@pytest.mark.parametrize("env, problem", [
    ({"IDP_EMAIL_ADAPTER": "carrier-pigeon"}, "IDP_EMAIL_ADAPTER must be one of outbox, smtp, govuk_notify, none"),
    ({"IDP_SMTP_PORT": "smtp"}, "IDP_SMTP_PORT must be a TCP port number"),
    ({"IDP_EMAIL_ADAPTER": "smtp", "IDP_SMTP_HOST": "relay", "IDP_MAIL_FROM": "a@b.example",
      "IDP_SMTP_USERNAME": "idp"}, "IDP_SMTP_USERNAME and IDP_SMTP_PASSWORD go together"),
])
def test_message_settings_that_cannot_work_are_refused(env, problem):
    with pytest.raises(ConfigurationError, match=problem):
        Settings.from_env(env)
