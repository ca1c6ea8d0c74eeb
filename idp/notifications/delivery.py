"""The ``send_message`` job: render a queued message and hand it to the channel's adapter, at least once.

A failed delivery is retried with the queue's backoff (idp/jobs.RETRY_DELAYS); a message whose code has
expired by then, or that an adapter refused for good, fails. Either way the outcome is an audit event
(``message.sent`` / ``message.failed``) without the address, the code or the text, and the sealed
personalisation is erased.
"""
from __future__ import annotations

import logging

from flask import current_app

from .. import jobs
from ..clock import now
from ..events import emit
from ..extensions import db
from ..models import OutboundMessage, Person
from .adapters import DeliveryFailed, Outgoing, adapter_for
from .adapters.outbox import OutboxAdapter
from .sealed import InvalidToken, unseal
from .templates import TEMPLATES, render

SEND_JOB = "send_message"
log = logging.getLogger(__name__)


def report_failure(payload: dict, error: str) -> None:
    """The job gave up: the message is marked failed, its secrets erased, and the failure logged and audited."""
    message = db.session.get(OutboundMessage, payload["message_id"])
    if message is None or message.status != "pending":
        return
    message.status, message.personalisation_sealed = "failed", None
    log.error("message %s (%s by %s) could not be sent: %s", message.id, message.template, message.channel, error)
    emit("message.failed", message_id=message.id, template=message.template, channel=message.channel)


def _for_test_person(address: str) -> bool:
    """A sandpit test person made in the integrator portal: their messages stay in the outbox, where the portal
    shows them, whatever this deployment's adapter (their addresses are made up and never delivered)."""
    return Person.query.filter(Person.test_person_of.isnot(None),
                               (Person.email == address) | (Person.phone_number == address)).first() is not None


@jobs.handler(SEND_JOB, on_give_up=report_failure)
def deliver_message(payload: dict) -> None:
    """Render and deliver one queued message; raises RetryLater or GiveUp when it did not go."""
    message = db.session.get(OutboundMessage, payload["message_id"])
    if message is None or message.status != "pending":
        return  # already sent (a retry after a lost commit), or pruned by housekeeping
    template = TEMPLATES[message.template]
    if template.max_age is not None and now() > message.created_at + template.max_age:
        raise jobs.GiveUp("too late: the code in it has expired")
    settings = current_app.extensions["idp"].settings
    adapter = OutboxAdapter(settings) if _for_test_person(message.to_address) else adapter_for(settings, message.channel)
    if adapter is None:
        raise jobs.GiveUp(f"{message.channel} messages are no longer offered")
    try:
        personalisation = unseal(settings.secret_key, message.personalisation_sealed)
    except InvalidToken:
        raise jobs.GiveUp("its personalisation was sealed under another IDP_SECRET_KEY") from None
    rendered = render(message.template, message.channel, message.language, personalisation)
    try:
        adapter.deliver(Outgoing(message.id, message.channel, message.to_address, message.template,
                                 message.language, rendered.subject, rendered.body))
    except DeliveryFailed as exc:
        raise (jobs.GiveUp if exc.permanent else jobs.RetryLater)(str(exc)) from None
    message.status, message.sent_at, message.adapter = "sent", now(), adapter.name
    message.personalisation_sealed = None  # the code has gone out: nothing here needs it any more
    db.session.commit()
    emit("message.sent", message_id=message.id, template=message.template, channel=message.channel,
         adapter=adapter.name)
