"""The rule for choosing a password: NIST SP 800-63B revision 4, 3.1.1.2 (password verifiers).

Length is counted in Unicode code points after NFKC normalisation; there are no composition rules
("SHALL NOT impose other composition rules"); the password is compared with a list of common and
breached passwords that ships with the project (``data/README.md``), so nothing is fetched at run time.

Eight characters is the journey spec's minimum and revision 4's minimum for a password used within
multi-factor authentication; revision 4 asks for 15 where the password is the only factor.
"""
from __future__ import annotations

import functools
import gzip
import unicodedata
from importlib.resources import files

from ..i18n import N_
from .email_address import normalise_email

MIN_LENGTH = 8  # 3.1.1.2, counting each Unicode code point as one character
# 3.1.1.2: "SHOULD permit a maximum password length of at least 64 characters", and "SHALL verify the
# entire submitted password". The cap only bounds the work of hashing; nothing is ever truncated.
MAX_LENGTH = 1024
COMMON_PASSWORDS = "data/common-passwords.txt.gz"

MESSAGES = {
    "too_short": N_("Your password must be at least 8 characters"),
    "too_long": N_("Your password must be 1,024 characters or fewer"),
    "common": N_("This password is too common or has appeared in a data breach. Choose a different one"),
    "contains_email": N_("Your password must not be your email address, or the part of it before the @"),
}


def normalise_password(password: str) -> str:
    """3.1.1.2: Unicode passwords are normalised as stabilized strings, here with NFKC (UAX 15)."""
    return unicodedata.normalize("NFKC", password)


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list, case-folded, read once on first use."""
    data = files(__package__).joinpath(COMMON_PASSWORDS).read_bytes()
    return frozenset(gzip.decompress(data).decode("utf-8").splitlines())


def is_common(password: str) -> bool:
    """3.1.1.2: the blocklist of commonly used, expected or compromised passwords, compared case-insensitively."""
    return normalise_password(password).casefold() in common_passwords()


def check_length(password: str, email: str | None) -> str | None:
    length = len(password)  # code points, already NFKC
    if length < MIN_LENGTH:
        return "too_short"
    if length > MAX_LENGTH:
        return "too_long"
    return None


def check_not_common(password: str, email: str | None) -> str | None:
    return "common" if is_common(password) else None


def check_not_email(password: str, email: str | None) -> str | None:
    """3.1.1.2 blocklist, context-specific words: the account's own email address, whole or its local part."""
    address = normalise_email(email)
    if not address:
        return None
    candidate = normalise_email(password)
    return "contains_email" if candidate in {address, address.rpartition("@")[0]} - {""} else None


CHECKS = (check_length, check_not_common, check_not_email)


def check_new_password(password: str, *, email: str | None = None) -> list[str]:
    """The reasons (keys of ``MESSAGES``) a new password is refused; an empty list accepts it."""
    normalised = normalise_password(password)
    return [reason for check in CHECKS if (reason := check(normalised, email))]
