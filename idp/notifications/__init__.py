"""Messages to people: confirmation and security codes, and notices of changes (email, SMS, voice).

``send`` records the message and queues its delivery in the caller's transaction, so a message goes
only after the commit that makes it true, never for a change that rolled back (idp/jobs.py). The
``send_message`` job renders it (templates.py, English and Welsh) and hands it to the adapter chosen
for its channel (adapters/). The personalisation, which holds codes, is sealed at rest and erased once
the message has gone.
"""
from __future__ import annotations

import secrets
import threading
import time

from flask import current_app

from .. import jobs
from ..clock import now
from ..extensions import db
from ..models import OutboundMessage
from .adapters import NONE, DeliveryFailed
from .delivery import SEND_JOB
from .sealed import seal
from .templates import CHANNELS, TemplateError, render

__all__ = ["send", "offers", "prune_messages", "ChannelUnavailable", "DeliveryFailed", "TemplateError", "SEND_JOB"]

MAX_ADDRESS_LENGTH = 320  # RFC 5321 4.5.3.1: 64 for the local part, @, 255 for the domain
_last_id_ns = 0
_id_lock = threading.Lock()


class ChannelUnavailable(ValueError):
    """This deployment sends no messages on that channel (its adapter is ``none``): offer another way."""


def offers(channel: str) -> bool:
    """Whether messages can be sent on ``channel`` here (e.g. voice calls to landlines)."""
    return channel in CHANNELS and getattr(current_app.extensions["idp"].settings, f"{channel}_adapter") != NONE


def send(template: str, to: str, channel: str, personalisation: dict, language: str = "en") -> None:
    """Queue message ``template`` to ``to`` by ``channel``; it goes out only if the caller's transaction commits."""
    if not offers(channel):
        raise ChannelUnavailable(f"{channel} messages are not offered here")
    if not isinstance(to, str) or not to.strip() or len(to) > MAX_ADDRESS_LENGTH:
        raise ValueError("a message needs an address of at most 320 characters")
    render(template, channel, language, personalisation)  # a wrong name or a missing value fails here, in the request
    settings = current_app.extensions["idp"].settings
    message = OutboundMessage(id=new_message_id(), channel=channel, to_address=to.strip(), template=template,
                              language=language, status="pending",
                              personalisation_sealed=seal(settings.secret_key, personalisation))
    db.session.add(message)
    jobs.enqueue(SEND_JOB, {"message_id": message.id})


def new_message_id() -> str:
    """A unique id that sorts by time, so the outbox lists messages in the order they were sent."""
    global _last_id_ns
    with _id_lock:
        # Strictly increasing in this process, even when the clock stands still (a frozen test clock).
        _last_id_ns = max(time.time_ns(), _last_id_ns + 1)
        return f"{_last_id_ns:016x}-{secrets.token_hex(9)}"


def prune_messages(older_than: int) -> int:
    """Delete messages created more than ``older_than`` seconds ago (housekeeping)."""
    return OutboundMessage.query.filter(OutboundMessage.created_at < now() - older_than).delete()
