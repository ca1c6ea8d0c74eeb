"""Phone numbers a person gives for security codes: parsed, normalised to E.164, and classed as mobile or landline.

A mobile gets codes by SMS, a landline by a voice call (journeys.md). Parsing and the numbering plan
are Google's libphonenumber (the ``phonenumbers`` package); numbers without a country code are read
as UK numbers. Ofcom's ranges reserved for drama (07700 900000 to 900999, 0113 496 0000 to 0999 and
the like) are accepted as the kind they look like: they reach nobody, so tests and demos use them.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from ..i18n import N_

MAX_INPUT = 40


class Kind(str, enum.Enum):
    MOBILE = "mobile"
    LANDLINE = "landline"

    @property
    def channel(self) -> str:
        return "sms" if self is Kind.MOBILE else "voice"


@dataclass(frozen=True)
class PhoneNumber:
    e164: str
    kind: Kind


class InvalidPhoneNumber(ValueError):
    """``str(error)`` is the message for the person (marked for translation)."""


NOT_A_NUMBER = N_("Enter a phone number, like 07700 900 982 or +44 7700 900 982")
NOT_REACHABLE = N_("Enter a mobile or landline number that can get a text message or a call")

_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
_LANDLINE_TYPES = {PhoneNumberType.FIXED_LINE}
_DRAMA = (("+447700900", Kind.MOBILE), ("+44113496", Kind.LANDLINE), ("+44114496", Kind.LANDLINE),
          ("+44115496", Kind.LANDLINE), ("+44116496", Kind.LANDLINE), ("+44117496", Kind.LANDLINE),
          ("+44118496", Kind.LANDLINE), ("+44121496", Kind.LANDLINE), ("+44131496", Kind.LANDLINE),
          ("+44141496", Kind.LANDLINE), ("+44151496", Kind.LANDLINE), ("+44161496", Kind.LANDLINE),
          ("+44191498", Kind.LANDLINE), ("+44207946", Kind.LANDLINE), ("+442890180", Kind.LANDLINE),
          ("+442920180", Kind.LANDLINE))


def parse_phone_number(text: str | None) -> PhoneNumber:
    """The number ``text`` names, or ``InvalidPhoneNumber`` saying what to fix."""
    text = (text or "").strip()
    if not text or len(text) > MAX_INPUT:
        raise InvalidPhoneNumber(NOT_A_NUMBER)
    try:
        number = phonenumbers.parse(text, "GB")
    except phonenumbers.NumberParseException:
        raise InvalidPhoneNumber(NOT_A_NUMBER) from None
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    for prefix, kind in _DRAMA:
        if e164.startswith(prefix) and len(e164) == 13:
            return PhoneNumber(e164, kind)
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(NOT_A_NUMBER)
    kind = phonenumbers.number_type(number)
    if kind in _MOBILE_TYPES:
        return PhoneNumber(e164, Kind.MOBILE)
    if kind in _LANDLINE_TYPES:
        return PhoneNumber(e164, Kind.LANDLINE)
    raise InvalidPhoneNumber(NOT_REACHABLE)  # premium rate, pagers, personal numbers...
