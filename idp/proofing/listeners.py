"""Proofing's answers to other domains' events: a login re-reads the person's PDS record (issue 8 claims)."""
from __future__ import annotations

import logging

from flask import current_app

from ..events import listen
from ..extensions import db
from ..models import Person
from . import person_record

log = logging.getLogger("idp.proofing")


def _refresh_at_login(sender, person_id: str, **_):
    person = db.session.get(Person, person_id)
    if person is None:
        return
    try:
        person_record.refresh(person, current_app.extensions["idp"].settings)
    except Exception:  # noqa: BLE001 - a re-read must never break the login it follows
        db.session.rollback()
        log.exception("the PDS record could not be read again at login; the claims stay as last proofed")


listen("login.succeeded", _refresh_at_login)
