"""Creating an account (P0): an email address confirmed by a code, a password, a phone confirmed by a code.

journeys.md: "An address already registered does not reveal that it is: the journey continues and the
email tells the owner instead." So ``send_email_code`` does the same work for a taken address (the
password is hashed, a code is drawn and counted against the address's hourly cap) but the email tells
the owner someone tried; that journey's code can never be confirmed, and the person reads the same
"not correct" message as for any wrong code. The account is created only by ``create_account``, which
checks the address again (two journeys may race for one address).
"""
from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from .. import notifications
from ..events import emit
from ..extensions import db
from ..models import Person
from . import one_time_codes
from .one_time_codes import CodeCheck
from .passwords import hash_password
from .phone_number import PhoneNumber

EMAIL_PURPOSE = "registration_email"
PHONE_PURPOSE = "registration_phone"
TAKEN_PURPOSE = "registration_taken"  # drawn for a taken address: counts toward the cap, never confirmable


def send_email_code(journey: str, email: str, language: str, *, purpose: str = EMAIL_PURPOSE,
                    taken_purpose: str = TAKEN_PURPOSE) -> None:
    """Email a confirmation code (or, for a taken address, tell its owner); raises TooManyCodes at the cap.
    Also for a new address in the account settings, under that journey's own purposes."""
    taken = Person.query.filter_by(email=email).first() is not None
    code = one_time_codes.issue(taken_purpose if taken else purpose, journey, email)
    if taken:
        notifications.send("already_registered", email, "email", {}, language)
    else:
        notifications.send("email_confirmation_code", email, "email", {"code": code}, language)
    db.session.commit()
    emit("registration.email_code_sent")  # no address, and the same event either way


def check_email_code(journey: str, email: str, code: str, source: str, settings) -> CodeCheck:
    return one_time_codes.check(EMAIL_PURPOSE, journey, code, source, settings, destination=email)


def send_phone_code(journey: str, phone: PhoneNumber, language: str) -> None:
    code = one_time_codes.issue(PHONE_PURPOSE, journey, phone.e164)
    notifications.send("phone_confirmation_code", phone.e164, phone.kind.channel, {"code": code}, language)
    db.session.commit()
    emit("registration.phone_code_sent", channel=phone.kind.channel)


def check_phone_code(journey: str, phone: PhoneNumber, code: str, source: str, settings) -> CodeCheck:
    return one_time_codes.check(PHONE_PURPOSE, journey, code, source, settings, destination=phone.e164)


def hash_new_password(password: str) -> str:
    return hash_password(password)


def create_account(email: str, password_hash: str, phone: PhoneNumber) -> Person | None:
    """The account at P0 with both confirmed; None if the address was registered meanwhile."""
    person = Person(email=email, email_verified=True, password_hash=password_hash, proofing_level="P0")
    if phone.kind.value == "mobile":
        person.phone_number, person.phone_number_verified = phone.e164, True
    else:
        person.landline_number, person.landline_number_verified = phone.e164, True
    db.session.add(person)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    emit("account.created", person_id=person.id, proofing_level="P0")
    return person
