"""The development outbox: a message "sent" here is only kept, sealed, for ``idp outbox`` and the tests to read."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from ...extensions import db
from ...models import OutboundMessage
from ..sealed import InvalidToken, seal, unseal
from .base import Adapter, Outgoing


class OutboxAdapter(Adapter):
    name = "outbox"
    channels = frozenset({"email", "sms", "voice"})
    keeps_text = True

    def deliver(self, message: Outgoing) -> None:
        row = db.session.get(OutboundMessage, message.message_id)
        row.rendered_sealed = seal(self.settings.secret_key, {"subject": message.subject, "body": message.body})


@dataclass(frozen=True)
class OutboxEntry:
    """One message as the outbox shows it (subject and body are empty unless the outbox sent it)."""

    created_at: int
    channel: str
    to: str
    template: str
    language: str
    status: str
    adapter: str | None
    subject: str
    body: str

    @property
    def text(self) -> str:
        """Subject and body on one line, for a terminal."""
        if not self.body:
            return f"({self.status}{', sent by ' + self.adapter if self.adapter else ''}: text not kept)"
        lines = [self.subject, *self.body.splitlines()] if self.subject else self.body.splitlines()
        return " / ".join(line.strip() for line in lines if line.strip())

    def line(self) -> str:
        when = datetime.fromtimestamp(self.created_at, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return "\t".join((when, self.channel, self.to, self.template, self.text))


def read(secret_key: str, to: str | None = None, last: int | None = None) -> list[OutboxEntry]:
    """Messages, newest last: all of them, or the ``last`` few, to one address or any."""
    query = OutboundMessage.query
    if to is not None:
        query = query.filter(OutboundMessage.to_address == to)
    query = query.order_by(OutboundMessage.id.desc())  # ids are time-ordered (see new_message_id)
    rows = query.limit(last).all() if last else query.all()
    return [_entry(secret_key, row) for row in reversed(rows)]


def _entry(secret_key: str, row: OutboundMessage) -> OutboxEntry:
    rendered = {}
    if row.rendered_sealed:
        try:
            rendered = unseal(secret_key, row.rendered_sealed)
        except InvalidToken:
            rendered = {"body": "(sealed under another IDP_SECRET_KEY)"}
    return OutboxEntry(row.created_at, row.channel, row.to_address, row.template, row.language, row.status,
                       row.adapter, rendered.get("subject", ""), rendered.get("body", ""))
