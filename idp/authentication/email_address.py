"""Email addresses: one spelling per mailbox, and a realistic check of the syntax.

Normalising is Unicode NFKC, surrounding white space and invisible characters removed, then case
folding, so full-width letters, ligatures and different cases of one address cannot open a second
account. The syntax check is the dot-atom form of RFC 5322 3.4.1 (no quoted local parts, no address
literals), with the non-ASCII characters of RFC 6531 3.3 and the length limits of RFC 5321 4.5.3.1;
the domain must be a valid IDNA 2008 name (RFC 5891) with at least two labels.
"""
from __future__ import annotations

import unicodedata

import idna

MIN_LENGTH = 7  # the journey spec: "more than 6 characters"
MAX_LENGTH = 320  # the person.email column
MAX_LOCAL_PART_OCTETS = 64  # RFC 5321 4.5.3.1.1
# RFC 5322 3.2.3 atext, plus "." between atoms (dot-atom); characters outside ASCII are allowed (RFC 6531 3.3).
_LOCAL_PART_ASCII = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~.")
# Control, format, surrogate, private-use and unassigned characters, and every kind of space or line break.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})


def _is_invisible(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) == "Cf"


def normalise_email(address: str | None) -> str:
    """The one spelling of an address that is stored and looked up: NFKC, trimmed, case-folded (UAX 15, Unicode 3.13)."""
    text = unicodedata.normalize("NFKC", address or "")
    start, end = 0, len(text)
    while start < end and _is_invisible(text[start]):
        start += 1
    while end > start and _is_invisible(text[end - 1]):
        end -= 1
    # Case folding can leave a string that is no longer NFKC (toNFKC_Casefold), hence the second pass.
    return unicodedata.normalize("NFKC", text[start:end].casefold())


def is_valid_email(address: str | None) -> bool:
    """Whether the address, once normalised, has a realistic syntax that mail can be delivered to."""
    if not isinstance(address, str):
        return False
    email = normalise_email(address)
    if not MIN_LENGTH <= len(email) <= MAX_LENGTH:
        return False
    if any(unicodedata.category(ch) in _REFUSED_CATEGORIES for ch in email):
        return False
    if email.count("@") != 1:  # quoted local parts, the only place a second "@" may go, are not accepted
        return False
    local_part, _, domain = email.partition("@")
    return _is_valid_local_part(local_part) and _is_valid_domain(domain)


def _is_valid_local_part(local_part: str) -> bool:
    if not local_part or len(local_part.encode("utf-8")) > MAX_LOCAL_PART_OCTETS:
        return False
    # RFC 5322 3.4.1 dot-atom: no leading, trailing or doubled dot.
    if local_part.startswith(".") or local_part.endswith(".") or ".." in local_part:
        return False
    return all(ch in _LOCAL_PART_ASCII or not ch.isascii() for ch in local_part)


def _is_valid_domain(domain: str) -> bool:
    labels = domain.split(".")
    # A dot in the domain, and a top-level label of letters: no single-label hosts, no IP addresses.
    if len(labels) < 2 or len(labels[-1]) < 2 or labels[-1].isdigit():
        return False
    try:
        idna.encode(domain)  # RFC 5891 5.4: each label a valid U-label or A-label, 63 octets, 253 in all
    except (idna.IDNAError, UnicodeError):
        return False
    return True
