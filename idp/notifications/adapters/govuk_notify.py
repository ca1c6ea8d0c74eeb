"""Email and SMS through GOV.UK Notify (https://docs.notifications.service.gov.uk/python.html).

Notify's templates live in its dashboard; IDP_NOTIFY_TEMPLATE_IDS maps ours to theirs: ``"email"`` and
``"sms"`` name one generic template each (an email template whose subject is ``((subject))`` and body
``((body))``; an SMS template ``((body))``), and ``"<our template>.<channel>"`` overrides one message.
We send our own rendered text as that personalisation, so wording and Welsh stay in one place (templates.py).
Notify cannot make voice calls: voice needs another adapter.
"""
from __future__ import annotations

import uuid

from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient

from ..templates import TEMPLATES
from .base import Adapter, DeliveryFailed, Outgoing


def template_id(settings, template: str, channel: str) -> str | None:
    """The Notify template for our ``template`` on ``channel``: its own mapping, else the channel's generic one."""
    ids = settings.notify_template_ids
    return ids.get(f"{template}.{channel}") or ids.get(channel)


def _api_key_looks_right(key: str) -> bool:
    # A Notify key is "<name>-<service id>-<secret>", both UUIDs; the client slices them from the end.
    try:
        uuid.UUID(key[-73:-37])
        uuid.UUID(key[-36:])
    except ValueError:
        return False
    return len(key) >= 74 and key[-37] == "-"


class GovukNotifyAdapter(Adapter):
    name = "govuk_notify"
    channels = frozenset({"email", "sms"})

    @classmethod
    def configuration_problems(cls, settings, channel: str) -> list[str]:
        problems = []
        if not _api_key_looks_right(settings.notify_api_key):
            problems.append("IDP_NOTIFY_API_KEY must be a GOV.UK Notify API key to send by govuk_notify")
        unmapped = [name for name, template in TEMPLATES.items()
                    if channel in template.channels and not template_id(settings, name, channel)]
        if unmapped:
            problems.append(f"IDP_NOTIFY_TEMPLATE_IDS has no Notify template for {channel} messages "
                            f"({', '.join(unmapped)}): give \"{channel}\" a generic one")
        return problems

    def deliver(self, message: Outgoing) -> None:
        # The client is not thread-safe and cheap to make: one per message.
        client = NotificationsAPIClient(self.settings.notify_api_key, base_url=self.settings.notify_base_url,
                                        timeout=self.settings.outbound_timeout_seconds)
        client.request_session.trust_env = False  # as every outbound call here: no proxy settings from the environment
        notify_template = template_id(self.settings, message.template, message.channel)
        try:
            if message.channel == "email":
                client.send_email_notification(email_address=message.to, template_id=notify_template,
                                               personalisation={"subject": message.subject, "body": message.body},
                                               reference=message.message_id)
            else:
                client.send_sms_notification(phone_number=message.to, template_id=notify_template,
                                             personalisation={"body": message.body}, reference=message.message_id)
        except APIError as exc:
            # Notify: 400 and 403 are about this request or our key (sending again cannot help);
            # 429 and 5xx are worth another try. The error text may quote the request, so only the status.
            status = exc.status_code
            raise DeliveryFailed(f"GOV.UK Notify answered HTTP {status}", permanent=status in (400, 403)) from None
