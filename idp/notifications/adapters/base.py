"""The one small interface every way of sending messages implements: ``deliver(message)``."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class Outgoing:
    """A rendered message, ready to go (subject is empty for SMS and voice)."""

    message_id: str
    channel: str
    to: str
    template: str
    language: str
    subject: str
    body: str


class DeliveryFailed(Exception):
    """The message did not go; ``permanent`` when trying again cannot help. The reason never holds the address or text."""

    def __init__(self, reason: str, permanent: bool = False):
        super().__init__(reason)
        self.permanent = permanent


class Adapter:
    """Delivers messages on the channels it names; built per delivery from the settings."""

    name: ClassVar[str]
    channels: ClassVar[frozenset[str]]
    keeps_text: ClassVar[bool] = False  # only the development outbox keeps what it "sent"

    def __init__(self, settings):
        self.settings = settings

    @classmethod
    def configuration_problems(cls, settings, channel: str) -> list[str]:
        """What is missing from the settings for this adapter to send on ``channel`` (checked at start-up)."""
        return []

    def deliver(self, message: Outgoing) -> None:
        raise NotImplementedError
