"""Proofing's answers to other domains' events: a login re-reads the person's PDS record (issue 8 claims)."""
from __future__ import annotations

from flask import current_app

from ..events import listen
from ..extensions import db
from ..models import Person
from . import person_record


def _refresh_at_login(sender, person_id: str, **_):
    person = db.session.get(Person, person_id)
    if person is not None:
        person_record.refresh(person, current_app.extensions["idp"].settings)


listen("login.succeeded", _refresh_at_login)
