"""The registered-device factor (``Cd``) by a security code: 6 digits by SMS to a mobile, or by voice to a landline.

interface.md Levels: ``Cd`` is "a registered device: one-time code by SMS (or voice to a landline), or a
remembered browser" (remembered_device.py). The code rules live in one_time_codes.py; this module adds
the authenticator's own limit: never more than ``MAX_CONSECUTIVE_FAILURES`` wrong codes in a row
(NIST SP 800-63B 3.2.2), after which the phone is refused until the password is reset.
"""
from __future__ import annotations

from sqlalchemy import update

from ...events import emit
from ...extensions import db
from ...models import FactorFailures, Person
from .. import one_time_codes
from ..one_time_codes import CodeCheck
from . import Factor

MAX_CONSECUTIVE_FAILURES = 100
PURPOSE = "login"


def phone_of(person: Person) -> tuple[str, str] | None:
    """The verified number codes go to, and how: (number, "sms" | "voice")."""
    if person.phone_number and person.phone_number_verified:
        return person.phone_number, "sms"
    if person.landline_number and person.landline_number_verified:
        return person.landline_number, "voice"
    return None


def masked(number: str) -> str:
    """What a page may show of the number: its last 3 digits."""
    return "•" * max(0, len(number) - 3) + number[-3:]


def send_code(person: Person, journey: str, language: str) -> None:
    """Send a login code for this journey; raises one_time_codes.TooManyCodes at the hourly cap."""
    from ... import notifications

    number, channel = phone_of(person)
    code = one_time_codes.issue(PURPOSE, journey, number)
    notifications.send("login_code", number, channel, {"code": code}, language)
    db.session.commit()
    emit("security_code.sent", person_id=person.id, channel=channel)


def check_code(person: Person, journey: str, candidate: str, source: str, settings) -> CodeCheck:
    if _failures(person) >= MAX_CONSECUTIVE_FAILURES:
        emit("security_code.blocked", person_id=person.id)
        return CodeCheck.THROTTLED
    if one_time_codes.is_throttled(PURPOSE, journey, source, settings):
        return CodeCheck.THROTTLED  # refused unchecked: not a guess, so not counted
    destination = phone_of(person)
    # Bound to this person's number: a code sent to someone else in the same journey proves nothing here.
    outcome = one_time_codes.check(PURPOSE, journey, candidate, source, settings,
                                   destination=destination[0] if destination else "")
    if outcome is CodeCheck.OK:
        FactorFailures.query.filter_by(person_id=person.id, component="Cd").delete()
    else:  # a wrong guess, also the one that locks the journey (THROTTLED): each counts toward the cap
        _count_failure(person)
    db.session.commit()
    emit("login.failed" if outcome is not CodeCheck.OK else "security_code.accepted", person_id=person.id,
         component="Cd")
    return outcome


def reset_failures(person: Person) -> None:
    """A password reset proves the person again: the phone may be used afresh."""
    FactorFailures.query.filter_by(person_id=person.id, component="Cd").delete()


def _failures(person: Person) -> int:
    row = db.session.get(FactorFailures, (person.id, "Cd"))
    return row.count if row else 0


def _count_failure(person: Person) -> None:
    changed = db.session.execute(update(FactorFailures).where(
        FactorFailures.person_id == person.id, FactorFailures.component == "Cd",
    ).values(count=FactorFailures.count + 1)).rowcount
    if not changed:
        db.session.add(FactorFailures(person_id=person.id, component="Cd", count=1))


FACTOR = Factor(component="Cd", name="security_code", is_set_up=lambda p: phone_of(p) is not None, order=10)
