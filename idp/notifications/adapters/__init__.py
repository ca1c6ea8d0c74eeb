"""The ways messages go out, chosen per channel by IDP_EMAIL_ADAPTER, IDP_SMS_ADAPTER and IDP_VOICE_ADAPTER.

``outbox`` (development: keeps the message for ``idp outbox``), ``smtp`` (email), ``govuk_notify``
(email and SMS; Notify has no voice calls), or ``none`` (the channel is not offered). Tests and new
providers add theirs to ``REGISTRY``.
"""
from __future__ import annotations

from .base import Adapter, DeliveryFailed, Outgoing
from .govuk_notify import GovukNotifyAdapter
from .outbox import OutboxAdapter
from .smtp import SmtpAdapter

NONE = "none"
CHANNELS = ("email", "sms", "voice")
REGISTRY: dict[str, type[Adapter]] = {a.name: a for a in (OutboxAdapter, SmtpAdapter, GovukNotifyAdapter)}

__all__ = ["Adapter", "DeliveryFailed", "Outgoing", "REGISTRY", "NONE", "adapter_for", "configuration_problems"]


def setting_name(channel: str) -> str:
    return f"IDP_{channel.upper()}_ADAPTER"


def adapter_for(settings, channel: str) -> Adapter | None:
    """The adapter that sends ``channel`` messages, or None when the channel is not offered."""
    name = getattr(settings, f"{channel}_adapter")
    return None if name == NONE else REGISTRY[name](settings)


def configuration_problems(settings) -> list[str]:
    """Why these settings cannot send what they say they send (an unknown adapter, voice by Notify, a missing key)."""
    problems = []
    for channel in CHANNELS:
        name = getattr(settings, f"{channel}_adapter")
        if name == NONE:
            continue
        adapter = REGISTRY.get(name)
        if adapter is None:
            problems.append(f"{setting_name(channel)} must be one of {', '.join([*REGISTRY, NONE])}, got {name!r}")
        elif channel not in adapter.channels:
            problems.append(f"{setting_name(channel)}={name}: it cannot send {channel} messages "
                            f"(only {', '.join(sorted(adapter.channels))}); choose another adapter or {NONE}")
        else:
            problems += adapter.configuration_problems(settings, channel)
    return list(dict.fromkeys(problems))  # one line per problem, though two channels share an adapter
