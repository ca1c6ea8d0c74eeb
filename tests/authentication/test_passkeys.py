"""Passkeys (Cm): WebAuthn L3 registration (7.1) and usernameless authentication (7.2), with a software authenticator."""
from __future__ import annotations

import json
from contextlib import contextmanager

import pytest
from soft_authenticator import SoftAuthenticator
from support import ISSUER

ORIGIN = ISSUER  # http://idp.test


@pytest.fixture
def ctx(app, person):
    """An app context: ``(passkey module, make_person(), settings)``."""
    with app.app_context():
        from idp.authentication.factors import passkey
        from idp.models import Person

        def make_person():
            return Person.query.filter_by(email=person()).one()

        yield passkey, make_person, app.extensions["idp"].settings


def register(passkey, someone, settings, authenticator=None, name=None, **create):
    authenticator = authenticator or SoftAuthenticator()
    options, challenge = passkey.registration_options(someone, settings)
    response = authenticator.create(options, ORIGIN, **create)
    return passkey.register_passkey(someone, response, challenge, settings, name), authenticator


def log_in(passkey, settings, authenticator, **get):
    options, challenge = passkey.authentication_options(settings)
    return passkey.authenticate(authenticator.get(options, ORIGIN, **get), challenge, settings)


@contextmanager
def refused(passkey, kind: str):
    """The block raises PasskeyError of this ``kind``."""
    with pytest.raises(passkey.PasskeyError) as info:
        yield info
    assert info.value.kind == kind, info.value.detail


def test_register_then_log_in_without_a_username(ctx):
    passkey, make_person, settings = ctx
    someone = make_person()
    stored, authenticator = register(passkey, someone, settings)
    assert (stored.backup_eligible, stored.backed_up, stored.name) == (True, True, "Passkey 1")
    assert stored.transports == ["hybrid", "internal"] and stored.sign_count == 0
    assert passkey.is_set_up(someone)
    assert log_in(passkey, settings, authenticator).id == someone.id
    assert (stored.sign_count, stored.last_used_at is not None) == (1, True)


def test_options_require_a_resident_key_and_user_verification(ctx):
    passkey, make_person, settings = ctx
    someone = make_person()
    options = json.loads(passkey.registration_options(someone, settings)[0])
    assert options["rp"]["id"] == "idp.test"
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["attestation"] == "none"
    login = json.loads(passkey.authentication_options(settings)[0])
    assert login["allowCredentials"] == [] and login["userVerification"] == "required" and login["rpId"] == "idp.test"


def test_the_user_handle_is_random_opaque_and_the_same_for_one_person(ctx):
    passkey, make_person, settings = ctx
    someone, other = make_person(), make_person()
    handles = [json.loads(passkey.registration_options(someone, settings)[0])["user"]["id"] for _ in range(2)]
    assert handles[0] == handles[1]
    assert handles[0] != json.loads(passkey.registration_options(other, settings)[0])["user"]["id"]
    from webauthn.helpers import base64url_to_bytes

    raw = base64url_to_bytes(handles[0])
    assert len(raw) == 32 and someone.email.encode() not in raw and someone.id.encode() not in raw


def test_the_rp_id_and_origin_come_from_the_issuer(ctx):
    passkey, _, _ = ctx

    from idp.config import Settings

    def Issuer(issuer):  # noqa: N802 - the real settings, with only the issuer changed
        return Settings(issuer=issuer)

    assert passkey.relying_party(Issuer("https://Login.Example.org/idp")).id == "login.example.org"
    assert passkey.relying_party(Issuer("https://login.example.org:443")).origin == "https://login.example.org"
    assert passkey.relying_party(Issuer("http://localhost:5000")).origin == "http://localhost:5000"


@pytest.mark.parametrize("ceremony", ["registration", "authentication"])
def test_a_wrong_origin_is_refused(ctx, ceremony):
    passkey, make_person, settings = ctx
    someone = make_person()
    authenticator = SoftAuthenticator()
    if ceremony == "registration":
        options, challenge = passkey.registration_options(someone, settings)
        with refused(passkey, "invalid"):
            passkey.register_passkey(someone, authenticator.create(options, "https://idp.test.evil.example"),
                                     challenge, settings)
        assert not passkey.is_set_up(someone)
    else:
        register(passkey, someone, settings, authenticator)
        options, challenge = passkey.authentication_options(settings)
        with refused(passkey, "invalid"):
            passkey.authenticate(authenticator.get(options, "http://idp.test:8080"), challenge, settings)


@pytest.mark.parametrize("ceremony", ["registration", "authentication"])
def test_a_wrong_rp_id_is_refused(ctx, ceremony):
    passkey, make_person, settings = ctx
    someone = make_person()
    if ceremony == "registration":
        with refused(passkey, "invalid"):
            register(passkey, someone, settings, rp_id="evil.example")
    else:
        _, authenticator = register(passkey, someone, settings)
        with refused(passkey, "invalid"):
            log_in(passkey, settings, authenticator, rp_id="evil.example")


@pytest.mark.parametrize("ceremony", ["registration", "authentication"])
def test_without_user_verification_is_refused(ctx, ceremony):
    passkey, make_person, settings = ctx
    someone = make_person()
    if ceremony == "registration":
        with refused(passkey, "not_verified") as info:
            register(passkey, someone, settings, user_verified=False)
        assert "check it was you" in str(info.value)
        assert not passkey.is_set_up(someone)
    else:
        _, authenticator = register(passkey, someone, settings)
        with refused(passkey, "not_verified"):
            log_in(passkey, settings, authenticator, user_verified=False)


def test_a_challenge_from_another_ceremony_or_a_used_one_is_refused(ctx):
    passkey, make_person, settings = ctx
    someone = make_person()
    _, authenticator = register(passkey, someone, settings)
    options, challenge = passkey.authentication_options(settings)
    assertion = authenticator.get(options, ORIGIN)
    _, foreign = passkey.authentication_options(settings)
    with refused(passkey, "invalid"):
        passkey.authenticate(assertion, foreign, settings)  # another journey's challenge
    with refused(passkey, "invalid"):
        passkey.authenticate(assertion, "", settings)  # the caller deleted it after use: nothing to match
    with refused(passkey, "invalid"):
        passkey.authenticate(assertion, None, settings)
    assert passkey.authenticate(assertion, challenge, settings).id == someone.id
    # Replayed: the caller's next journey has a new challenge, which the captured assertion does not carry.
    _, next_challenge = passkey.authentication_options(settings)
    with refused(passkey, "invalid"):
        passkey.authenticate(assertion, next_challenge, settings)


def test_a_registration_challenge_is_not_an_authentication_one(ctx):
    passkey, make_person, settings = ctx
    someone = make_person()
    options, challenge = passkey.registration_options(someone, settings)
    authenticator = SoftAuthenticator()
    passkey.register_passkey(someone, authenticator.create(options, ORIGIN), challenge, settings)
    with refused(passkey, "invalid"):  # clientDataJSON type is webauthn.get, not webauthn.create
        assertion = authenticator.get(options.replace('"rp":', '"rpId": "idp.test", "rp":'), ORIGIN)
        passkey.register_passkey(someone, assertion, challenge, settings)


def test_a_sign_counter_that_does_not_increase_is_refused(ctx):
    passkey, make_person, settings = ctx
    someone = make_person()
    stored, authenticator = register(passkey, someone, settings)
    assert log_in(passkey, settings, authenticator, sign_count=5).id == someone.id
    with refused(passkey, "refused"):
        log_in(passkey, settings, authenticator, sign_count=5)  # a clone that signed with the same count
    with refused(passkey, "refused"):
        log_in(passkey, settings, authenticator, sign_count=3)
    with refused(passkey, "refused"):
        log_in(passkey, settings, authenticator, sign_count=0)
    assert stored.sign_count == 5
    assert log_in(passkey, settings, authenticator, sign_count=6).id == someone.id


def test_an_authenticator_without_a_counter_stays_usable(ctx):
    passkey, make_person, settings = ctx
    someone = make_person()
    _, authenticator = register(passkey, someone, settings, SoftAuthenticator(counter=False))
    for _ in range(3):
        assert log_in(passkey, settings, authenticator).id == someone.id


def test_backup_flags_are_recorded_and_eligibility_may_not_change(ctx):
    passkey, make_person, settings = ctx
    someone = make_person()
    stored, authenticator = register(passkey, someone, settings, SoftAuthenticator(backup_eligible=False))
    assert (stored.backup_eligible, stored.backed_up) == (False, False)
    with refused(passkey, "refused"):
        log_in(passkey, settings, authenticator, backup_eligible=True)
    synced, phone = register(passkey, someone, settings, SoftAuthenticator(backed_up=False))
    assert (synced.backup_eligible, synced.backed_up) == (True, False)
    phone.backed_up = True  # the provider synced it since
    log_in(passkey, settings, phone)
    assert synced.backed_up is True


def test_a_user_handle_of_someone_else_is_refused(ctx):
    passkey, make_person, settings = ctx
    someone, other = make_person(), make_person()
    _, authenticator = register(passkey, someone, settings)
    from webauthn.helpers import base64url_to_bytes

    others_handle = base64url_to_bytes(json.loads(passkey.registration_options(other, settings)[0])["user"]["id"])
    with refused(passkey, "invalid"):
        log_in(passkey, settings, authenticator, user_handle=others_handle)


def test_an_unknown_passkey_is_refused(ctx):
    passkey, make_person, settings = ctx
    someone = make_person()
    stranger = SoftAuthenticator()
    stranger.create(passkey.registration_options(someone, settings)[0], ORIGIN)  # never sent to us
    with refused(passkey, "unknown"):
        log_in(passkey, settings, stranger)


@pytest.mark.parametrize("junk", ["", "not json", "[]", json.dumps({"id": "x", "rawId": "y"}), "{" * 100_000, None])
def test_malformed_responses_are_refused(ctx, junk):
    passkey, make_person, settings = ctx
    someone = make_person()
    options, challenge = passkey.registration_options(someone, settings)
    with refused(passkey, "invalid"):
        passkey.register_passkey(someone, junk, challenge, settings)
    with refused(passkey, "invalid"):
        passkey.authenticate(junk, passkey.authentication_options(settings)[1], settings)


def test_two_passkeys_for_one_person(ctx):
    passkey, make_person, settings = ctx
    someone = make_person()
    first, laptop = register(passkey, someone, settings)
    second, phone = register(passkey, someone, settings, name="  My\x00 phone\n ")
    assert {p.name for p in passkey.list_passkeys(someone)} == {"Passkey 1", "My phone"}
    assert first.credential_id != second.credential_id
    assert log_in(passkey, settings, laptop).id == someone.id
    assert log_in(passkey, settings, phone).id == someone.id
    assert laptop.credentials[0].user_handle == phone.credentials[0].user_handle


def test_exclude_credentials_lists_the_existing_passkeys(ctx):
    passkey, make_person, settings = ctx
    someone = make_person()
    first, authenticator = register(passkey, someone, settings)
    second, _ = register(passkey, someone, settings)
    options = json.loads(passkey.registration_options(someone, settings)[0])
    assert {c["id"] for c in options["excludeCredentials"]} == {first.credential_id, second.credential_id}
    assert options["excludeCredentials"][0]["transports"] == ["hybrid", "internal"]
    with pytest.raises(ValueError, match="InvalidStateError"):  # the authenticator itself refuses
        register(passkey, someone, settings, authenticator)
    with refused(passkey, "already_registered"):  # and a client that ignores the list is refused by us
        register(passkey, someone, settings, authenticator, ignore_exclude=True)
    assert len(passkey.list_passkeys(someone)) == 2


def test_a_passkey_cannot_be_registered_to_a_second_person(ctx):
    passkey, make_person, settings = ctx
    someone, other = make_person(), make_person()
    _, authenticator = register(passkey, someone, settings)
    with refused(passkey, "already_registered"):
        register(passkey, other, settings, authenticator, ignore_exclude=True)
    assert not passkey.is_set_up(other)


def test_rename_and_remove(ctx):
    passkey, make_person, settings = ctx
    someone, other = make_person(), make_person()
    first, laptop = register(passkey, someone, settings)
    second, phone = register(passkey, someone, settings)
    assert passkey.rename(someone, first.id, "Work laptop") and first.name == "Work laptop"
    assert passkey.rename(someone, first.id, "   ") and first.name == "Passkey 1"
    assert not passkey.rename(other, first.id, "Mine now")
    assert not passkey.remove(other, first.id), "only the owner removes a passkey"
    assert passkey.remove(someone, first.id)
    assert [p.id for p in passkey.list_passkeys(someone)] == [second.id]
    with refused(passkey, "unknown"):
        log_in(passkey, settings, laptop)
    assert log_in(passkey, settings, phone).id == someone.id
    assert passkey.remove(someone, second.id) and not passkey.is_set_up(someone)
    third, _ = register(passkey, someone, settings)
    assert third.name == "Passkey 1"


def test_the_factor_proves_cm_once_set_up(ctx):
    passkey, make_person, settings = ctx
    someone = make_person()

    assert passkey.FACTOR.component == "Cm" and passkey.FACTOR.name == "passkey"
    assert not passkey.FACTOR.is_set_up(someone)
    register(passkey, someone, settings)
    assert passkey.FACTOR.is_set_up(someone)
