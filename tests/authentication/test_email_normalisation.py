"""Email addresses: one spelling per mailbox, and a realistic syntax check. No app, no database."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from idp.authentication.email_address import is_valid_email, normalise_email
from idp.models.people import Person


def test_surrounding_space_and_case_do_not_make_a_different_address():
    assert Person.normalise_email(" Alice@Example.COM ") == "alice@example.com"
    assert Person.normalise_email("alice@example.com") == "alice@example.com"


def test_full_width_letters_normalise_to_ascii():
    assert Person.normalise_email("ａｌｉｃｅ@example.com") == "alice@example.com"
    assert Person.normalise_email("ＡＬＩＣＥ＠ＥＸＡＭＰＬＥ．ＣＯＭ") == "alice@example.com"


def test_ligatures_and_case_folding():
    assert normalise_email("ﬁona@example.com") == "fiona@example.com"
    assert normalise_email("STRAẞE@example.com") == normalise_email("strasse@example.com")
    assert normalise_email("ΣΟΦΙΑ@example.gr") == normalise_email("σοφια@example.gr")


@pytest.mark.parametrize("padding", [" ", "\t", "\n", "\u00a0", "\u3000", "\u2003", "\u200b", "\ufeff"])
def test_unicode_spaces_and_invisible_characters_around_the_address_are_removed(padding):
    assert normalise_email(f"{padding}alice@example.com{padding}") == "alice@example.com"


def test_nothing_normalises_to_nothing():
    assert Person.normalise_email(None) == ""
    assert Person.normalise_email("   ") == ""


@given(st.text())
def test_normalising_twice_changes_nothing(text):
    once = normalise_email(text)
    assert normalise_email(once) == once


@pytest.mark.parametrize("address", [
    "alice@example.com",
    "ab@c.de",  # seven characters, the shortest allowed
    "Alice.Smith+nhs@Example.CO.UK",
    "o'brien@example.com",
    "first_last-1@sub.example.org",
    "alice@bücher.de",  # IDN domain, U-labels
    "alice@xn--bcher-kva.de",  # the same domain as A-labels
    "用户@例子.广告",  # internationalised local part and domain (RFC 6531)
    "  alice@example.com  ",  # valid once normalised
    "ａｌｉｃｅ@example.com",
    "a" * 64 + "@example.com",
])
def test_realistic_addresses_are_accepted(address):
    assert is_valid_email(address)


@pytest.mark.parametrize("address", [
    "",
    None,
    42,
    "a@b",
    "a@b.cd",  # six characters: the journey asks for more than six
    "alice",
    "alice@example",  # no dot in the domain
    "alice.example.com",
    "@example.com",
    "alice@",
    "alice@@example.com",
    "alice@bob@example.com",
    "al ice@example.com",
    "alice@exa mple.com",
    "alice\u00a0smith@example.com",
    "ali\x00ce@example.com",
    "alice\n@example.com",
    "ali\u200bce@example.com",
    ".alice@example.com",
    "alice.@example.com",
    "al..ice@example.com",
    "alice@example..com",
    "alice@.example.com",
    "alice@example.com.",
    "alice@-example.com",
    "alice@example-.com",
    "alice@exam_ple.com",
    "alice@example.c",
    "alice@192.168.0.1",
    "alice@[192.168.0.1]",
    '"alice"@example.com',
    "alice(comment)@example.com",
    "<alice@example.com>",
    "alice,bob@example.com",
    "alice@xn--zzzz.de",  # not a valid A-label
    "a" * 65 + "@example.com",  # local part over 64 octets
    "é" * 33 + "@example.com",  # 33 characters but 66 octets
    "alice@" + "a" * 64 + ".com",  # a label over 63 octets
    "alice@" + ".".join(["a" * 63] * 5) + ".com",  # domain over 253 octets
    "a" * 64 + "@" + "b" * 256 + ".com",  # over 320 characters
])
def test_invalid_addresses_are_refused(address):
    assert not is_valid_email(address)
