"""Domain events (``login.succeeded``, ``code.reused``...). Listeners feed the audit log; callers just emit.

Payloads never carry secrets: no passwords, codes, tokens or assertion values.
"""
from __future__ import annotations

import json
import logging

from blinker import Namespace

_signals = Namespace()
audit_log = logging.getLogger("idp.audit")


def emit(name: str, **data) -> None:
    _signals.signal(name).send(None, **data)
    audit_log.info(json.dumps({"event": name, **data}, default=str, sort_keys=True))


def listen(name: str, receiver) -> None:
    _signals.signal(name).connect(receiver, weak=False)
