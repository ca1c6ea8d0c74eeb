"""The new-password rule (NIST SP 800-63B rev. 4, 3.1.1.2), called directly: no app, no database."""
from __future__ import annotations

import secrets

import pytest
from argon2 import PasswordHasher

from idp.authentication import passwords
from idp.authentication.password_policy import (
    MAX_LENGTH,
    MESSAGES,
    check_new_password,
    common_passwords,
    is_common,
)

# Not in any list: random words, so every run tries a passphrase nobody has used.
WORDS = ("lantern", "quarry", "meadow", "violet", "harbour", "cobalt", "thistle", "ember", "saffron", "glacier")


def passphrase(words: int = 6) -> str:
    return "-".join(secrets.choice(WORDS) for _ in range(words)) + f"-{secrets.randbelow(10**6):06d}"


def test_seven_characters_are_too_short_and_eight_are_enough():
    assert check_new_password("kq7vzrw") == ["too_short"]
    assert check_new_password("kq7vzrwm") == []


def test_length_is_counted_in_code_points_after_nfkc():
    # "ﬁ" (one code point) becomes "fi" under NFKC: seven code points typed are eight after it.
    assert check_new_password("ﬁkq7vzr") == []
    # Eight code points typed, but NFKC composes "e" + U+0301 into "é": seven, so too short.
    assert check_new_password("kq7vzre\u0301") == ["too_short"]
    # Characters outside the Basic Multilingual Plane count once each, not as UTF-16 pairs.
    assert check_new_password("🙂" * 7) == ["too_short"]
    assert check_new_password("🙂" * 8) == []


@pytest.mark.parametrize("length", [64, 200, MAX_LENGTH])
def test_long_passwords_are_accepted(length):
    password = (passphrase(30) * 20)[:length]
    assert len(password) == length
    assert check_new_password(password) == []


def test_above_the_cap_is_too_long_so_every_character_is_counted():
    assert check_new_password("x7" * (MAX_LENGTH // 2) + "q") == ["too_long"]
    assert MAX_LENGTH >= 64


def test_the_whole_password_is_compared_with_the_list():
    assert is_common("password")
    assert not is_common("password" + " and then the rest of a long sentence nobody else typed")


def test_the_whole_long_password_is_hashed_and_verified(monkeypatch):
    # 3.1.1.2: the entire submitted password is verified, never a truncated prefix (argon2 does not truncate).
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(**passwords.PROFILES["fast"]))
    password = passphrase(40)[:199] + "a"
    assert len(password) == 200
    stored = passwords.hash_password(password)
    assert passwords.verify_password(stored, password)
    assert not passwords.verify_password(stored, password[:-1] + "b")
    assert not passwords.verify_password(stored, password[:72])


@pytest.mark.parametrize("password", ["password", "Password1", "qwertyuiop", "iloveyou", "PASSWORD", "QwErTyUiOp", "ILoveYou"])
def test_common_passwords_are_refused_whatever_their_case(password):
    assert check_new_password(password) == ["common"]


def test_full_width_forms_of_a_common_password_are_refused():
    assert check_new_password("ｐａｓｓｗｏｒｄ") == ["common"]


def test_a_random_long_passphrase_is_accepted():
    assert check_new_password(passphrase()) == []


def test_the_list_ships_with_at_least_100000_entries_and_is_read_once():
    entries = common_passwords()
    assert isinstance(entries, frozenset)
    assert len(entries) >= 100_000
    assert common_passwords() is entries
    assert all(entry == entry.casefold() and entry.strip() == entry and entry for entry in entries)


def test_the_email_address_or_its_local_part_is_refused():
    email = "alice.smith@example.com"
    assert check_new_password("alice.smith@example.com", email=email) == ["contains_email"]
    assert check_new_password("Alice.Smith@Example.COM", email=email) == ["contains_email"]
    assert check_new_password("alice.smith", email=" Alice.Smith@example.com ") == ["contains_email"]
    assert check_new_password("alice.smith in the garden", email=email) == []
    assert check_new_password("alice.smith@example.com") == []


def test_several_reasons_are_given_together():
    assert check_new_password("iloveyou", email="iloveyou@example.com") == ["common", "contains_email"]
    assert check_new_password("bob", email="bob@example.com") == ["too_short", "contains_email"]


@pytest.mark.parametrize("password", [
    "saffron glacier thistle",  # lower-case letters and spaces only
    "40958213776104592",  # digits only
    "ЖЁЛТЫЙ ЛИМОН НА ЗАКАТЕ",  # no ASCII at all
    "   leading and trailing spaces are part of it   ",
])
def test_no_composition_rules(password):
    assert check_new_password(password) == []


def test_every_reason_has_a_message():
    reasons = {"too_short", "too_long", "common", "contains_email"}
    assert set(MESSAGES) == reasons
    assert MESSAGES["too_short"] == "Your password must be at least 8 characters"
    assert MESSAGES["common"] == "This password is too common or has appeared in a data breach. Choose a different one"
    assert all(message and not message.endswith(".") for message in MESSAGES.values())
