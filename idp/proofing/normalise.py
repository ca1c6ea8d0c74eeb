"""How names, postcodes and NHS numbers are compared: the one definition of "the same" in proofing.

Case, surrounding and inner spacing, accents (Zoë = Zoe), hyphens and curly or straight apostrophes
never decide a match (issue 8); postcodes compare without spaces or case.
"""
from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = "'\u2018\u2019\u02bc\u02bb\u0060\u00b4"
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2212"


def name_key(value: str | None) -> str:
    """``O’Brien-Smith`` and ``obrien smith`` have the same key; so have ``Zoë`` and ``ZOE``."""
    text = unicodedata.normalize("NFKD", value or "")
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.casefold()
    text = text.translate({ord(c): None for c in _APOSTROPHES})
    text = text.translate({ord(c): " " for c in _DASHES})
    return " ".join(text.split())


def family_key(value: str | None) -> str:
    """A family name compared run together: ``Smith-Jones``, ``Smith Jones`` and ``SmithJones`` are one."""
    return name_key(value).replace(" ", "")


def given_keys(values) -> tuple[str, ...]:
    """Each given name's key, several names in one string split apart (``Mary-Jane Ann`` -> 3 words)."""
    return tuple(word for v in values or () for word in name_key(v).split())


def postcode_key(value: str | None) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value or "")).upper()


def nhs_number_key(value: str | None) -> str:
    """NHS numbers are written in groups (``999 000 0018``) or with dashes; digits are what count."""
    return re.sub(r"[\s\-]", "", value or "")
