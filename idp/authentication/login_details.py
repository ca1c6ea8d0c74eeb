"""Changing a person's login details, ending their sessions, and deleting their account.

Each change tells the person at the address they had (so a change they did not make is noticed),
and a new password ends every other session and token (NIST SP 800-63B 6.1.2.3 asks for no less).
A new email or phone is confirmed by a code sent to it first; an email that already has an account
gets a code that can never be confirmed, as in registration, so this page cannot test addresses.
Deleting an account removes the person's row, which takes their sessions, grants, tokens,
consents, devices, passkeys and app with it (foreign keys cascade); an audit event with the
``sub`` and no personal data stays.
"""
from __future__ import annotations

from .. import notifications
from ..events import emit
from ..extensions import db
from ..models import Person
from . import one_time_codes, registration, throttle
from .factors import remembered_device, security_code, totp
from .one_time_codes import CodeCheck
from .passwords import hash_password
from .phone_number import Kind, PhoneNumber

EMAIL_PURPOSE = "change_email"
EMAIL_TAKEN_PURPOSE = "change_email_taken"
PHONE_PURPOSE = "change_phone"


def change_password(person: Person, password: str, language: str, keep_sid: str | None,
                    keep_device: str | None = None) -> None:
    """The new password; every other session ends and other remembered browsers are forgotten (this one,
    where the person just proved the password, may stay)."""
    from ..protocol.logout import end_sessions_of

    person.password_hash = hash_password(password)
    remembered_device.forget_all_of(person.id, except_cookie=keep_device)
    security_code.reset_failures(person)
    totp.reset_failures(person)
    notifications.send("password_changed", person.email, "email", {}, language)
    db.session.commit()
    throttle.clear(throttle.subject("login-account", person.email))
    end_sessions_of(person.id, "password_changed", keep_sid=keep_sid)
    emit("account.password_changed", person_id=person.id)


def send_email_change_code(journey: str, new_email: str, language: str) -> None:
    registration.send_email_code(journey, new_email, language, purpose=EMAIL_PURPOSE, taken_purpose=EMAIL_TAKEN_PURPOSE)


def confirm_email_change(person: Person, journey: str, new_email: str, code: str, source: str, settings,
                         language: str) -> CodeCheck:
    outcome = one_time_codes.check(EMAIL_PURPOSE, journey, code, source, settings, destination=new_email)
    if outcome is not CodeCheck.OK:
        return outcome
    if Person.query.filter_by(email=new_email).first() is not None:  # registered meanwhile
        return CodeCheck.WRONG
    old = person.email
    person.email, person.email_verified = new_email, True
    notifications.send("email_changed", old, "email", {}, language)
    db.session.commit()
    emit("account.email_changed", person_id=person.id)
    return outcome


def send_phone_change_code(journey: str, phone: PhoneNumber, language: str) -> None:
    code = one_time_codes.issue(PHONE_PURPOSE, journey, phone.e164)
    notifications.send("phone_confirmation_code", phone.e164, phone.kind.channel, {"code": code}, language)
    db.session.commit()


def confirm_phone_change(person: Person, journey: str, phone: PhoneNumber, code: str, source: str, settings,
                         language: str) -> CodeCheck:
    outcome = one_time_codes.check(PHONE_PURPOSE, journey, code, source, settings, destination=phone.e164)
    if outcome is not CodeCheck.OK:
        return outcome
    mobile = phone.kind is Kind.MOBILE
    person.phone_number, person.phone_number_verified = (phone.e164, True) if mobile else (None, False)
    person.landline_number, person.landline_number_verified = (None, False) if mobile else (phone.e164, True)
    person.phone_number_pds_matched = False  # a new number has not been checked against the NHS record
    security_code.reset_failures(person)
    notifications.send("phone_changed", person.email, "email", {}, language)
    db.session.commit()
    emit("account.phone_changed", person_id=person.id)
    return outcome


def log_out_everywhere(person: Person) -> int:
    from ..protocol.logout import end_sessions_of

    return end_sessions_of(person.id, "logout_everywhere")


def delete_account(person: Person, language: str) -> None:
    from ..protocol.logout import end_sessions_of

    person_id, email = person.id, person.email
    end_sessions_of(person_id, "account_deleted")  # back-channel notices go out before the row does
    notifications.send("account_deleted", email, "email", {}, language)
    db.session.delete(person)
    db.session.commit()
    emit("account.deleted", person_id=person_id)
