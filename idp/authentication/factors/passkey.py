"""The passkey factor (``Cm``): a discoverable WebAuthn credential that verified the person (WebAuthn Level 3).

py_webauthn checks each ceremony (L3 7.1 registration, 7.2 authentication); this module holds our
policy: a resident key and user verification required, the RP ID and origin taken from the issuer,
a random user handle per person, each credential registered once, the signature counter and the
backup eligibility checked. A ceremony's challenge is single use: the caller keeps the one returned
with the options in its server-side interaction state, passes it back once, and deletes it.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from webauthn import (generate_authentication_options, generate_registration_options, options_to_json,
                      verify_authentication_response, verify_registration_response)
from webauthn.helpers import (base64url_to_bytes, bytes_to_base64url, parse_authentication_credential_json,
                              parse_registration_credential_json)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (AttestationConveyancePreference, AuthenticatorSelectionCriteria,
                                      AuthenticatorTransport, CredentialDeviceType, PublicKeyCredentialDescriptor,
                                      ResidentKeyRequirement, UserVerificationRequirement)

from ...clock import now
from ...events import emit
from ...extensions import db
from ...models import Passkey, Person, WebAuthnUser
from . import Factor

COMPONENT = "Cm"
TIMEOUT_MS = 300_000  # L3 15.1: 5 to 10 minutes when user verification is required
NAME_MAX_LENGTH = 60
MAX_CREDENTIAL_ID_BYTES = 1023  # L3 7.1: "Verify that the credentialId is <= 1023 bytes"
MAX_RESPONSE_CHARS = 64 * 1024  # a browser's response is a few KiB; refuse more before parsing
MIN_CHALLENGE_BYTES = 16  # L3 13.4.3: challenges at least 16 random bytes

# Reasons a person reads (str(error)), in English. Not marked with N_ yet: every marked message needs its
# Welsh in translations/cy (tests/test_welsh.py); the page that shows them marks and translates them,
# or maps ``PasskeyError.kind`` to its own text.
INVALID = "We could not check your passkey. Try again."
NOT_VERIFIED = "Your device did not check it was you. Use your fingerprint, face or screen lock when asked."
ALREADY_REGISTERED = "This passkey is already registered."
UNKNOWN = "We do not recognise this passkey. It may have been removed."
REFUSED = "This passkey cannot be used. Log in another way, remove it and add it again."


class PasskeyError(Exception):
    """A ceremony that failed. ``str(error)`` is for the person; ``kind`` and ``detail`` for code and logs."""

    def __init__(self, reason: str, kind: str, detail: str = ""):
        super().__init__(reason)
        self.reason, self.kind, self.detail = reason, kind, detail


@dataclass(frozen=True)
class RelyingParty:
    id: str  # L3 5.1.3 RP ID: the issuer's host
    origin: str  # scheme://host[:port], what the browser puts in clientDataJSON
    name: str


def relying_party(settings) -> RelyingParty:
    """Our RP ID and origin, from the issuer (L3 5.1.3, 13.4.9): passkeys work only on the issuer's own host."""
    parts = urlsplit(settings.issuer)
    host = parts.hostname or ""
    default_port = {"https": 443, "http": 80}.get(parts.scheme)
    port = f":{parts.port}" if parts.port and parts.port != default_port else ""  # browsers omit default ports
    return RelyingParty(id=host, origin=f"{parts.scheme}://{host}{port}", name=_service_name(settings))


# --- registration (L3 7.1) ----------------------------------------------------------------------
def registration_options(person: Person, settings) -> tuple[str, str]:
    """Options for navigator.credentials.create() as JSON, and their challenge (base64url) for the caller to keep."""
    rp = relying_party(settings)
    options = generate_registration_options(
        rp_id=rp.id, rp_name=rp.name, user_id=base64url_to_bytes(_user_handle(person)),
        user_name=person.email, user_display_name=person.email, timeout=TIMEOUT_MS,
        attestation=AttestationConveyancePreference.NONE,  # we trust no vendor list; none keeps the person private
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED, user_verification=UserVerificationRequirement.REQUIRED),
        # L3 5.4: the authenticator refuses to make a second credential for this account.
        exclude_credentials=[descriptor(passkey) for passkey in list_passkeys(person)],
    )
    return options_to_json(options), bytes_to_base64url(options.challenge)


def register_passkey(person: Person, credential_json: str, challenge: str, settings,
                     name: str | None = None) -> Passkey:
    """Verify a registration response (L3 7.1) against the challenge the caller kept, and store the passkey."""
    credential = parse_credential(parse_registration_credential_json, credential_json)
    rp = relying_party(settings)
    try:
        verified = verify_registration_response(
            credential=credential, expected_challenge=challenge_bytes(challenge), expected_rp_id=rp.id,
            expected_origin=rp.origin,
            require_user_verification=False,  # checked just below, so the person is told why
        )
    except (WebAuthnException, ValueError) as exc:
        raise PasskeyError(INVALID, "invalid", str(exc)) from exc
    if not verified.user_verified:
        raise PasskeyError(NOT_VERIFIED, "not_verified")
    if len(verified.credential_id) > MAX_CREDENTIAL_ID_BYTES:
        raise PasskeyError(INVALID, "invalid", "credential id too long")
    credential_id = bytes_to_base64url(verified.credential_id)
    # L3 7.1: a credential already registered (to anyone) is refused rather than moved.
    if Passkey.query.filter_by(credential_id=credential_id).first() is not None:
        raise PasskeyError(ALREADY_REGISTERED, "already_registered")
    passkey = Passkey(
        id=secrets.token_hex(16), person_id=person.id, credential_id=credential_id,
        public_key=verified.credential_public_key, sign_count=verified.sign_count,
        transports=[t.value for t in credential.response.transports or []],
        backup_eligible=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
        backed_up=verified.credential_backed_up, aaguid=verified.aaguid,
        name=_clean_name(name) or _default_name(person), created_at=now(),
    )
    db.session.add(passkey)
    try:
        db.session.commit()
    except IntegrityError as exc:  # the same credential registered by a parallel request
        db.session.rollback()
        raise PasskeyError(ALREADY_REGISTERED, "already_registered") from exc
    emit("passkey.added", person_id=person.id, passkey_id=passkey.id)
    return passkey


# --- authentication (L3 7.2) --------------------------------------------------------------------
def authentication_options(settings) -> tuple[str, str]:
    """Options for navigator.credentials.get() as JSON, and their challenge: usernameless, any of our passkeys."""
    options = generate_authentication_options(
        rp_id=relying_party(settings).id, timeout=TIMEOUT_MS, allow_credentials=[],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return options_to_json(options), bytes_to_base64url(options.challenge)


def authenticate(credential_json: str, challenge: str, settings) -> Person:
    """The person whose passkey made this assertion (L3 7.2); raises PasskeyError."""
    try:
        return _authenticate(credential_json, challenge, settings)
    except PasskeyError as error:
        emit("login.failed", component=COMPONENT, reason=error.kind)
        raise


def _authenticate(credential_json: str, challenge: str, settings) -> Person:
    credential = parse_credential(parse_authentication_credential_json, credential_json)
    expected_challenge = challenge_bytes(challenge)
    passkey = Passkey.query.filter_by(credential_id=bytes_to_base64url(credential.raw_id)).first()
    if passkey is None:
        raise PasskeyError(UNKNOWN, "unknown")
    # L3 7.2 step 6: nobody was identified first, so userHandle must be present and be the owner's.
    owner = db.session.get(WebAuthnUser, passkey.person_id)
    handle = credential.response.user_handle
    if not handle or owner is None or bytes_to_base64url(handle) != owner.user_handle:
        raise PasskeyError(INVALID, "invalid", "user handle is not the credential owner's")
    rp = relying_party(settings)
    try:
        verified = verify_authentication_response(
            credential=credential, expected_challenge=expected_challenge, expected_rp_id=rp.id,
            expected_origin=rp.origin, credential_public_key=passkey.public_key,
            # The counter is checked below, atomically with its update; 0 keeps the library's
            # own (non-atomic) comparison from answering first.
            credential_current_sign_count=0,
            require_user_verification=False,  # checked just below, so the person is told why
        )
    except (WebAuthnException, ValueError) as exc:
        raise PasskeyError(INVALID, "invalid", str(exc)) from exc
    if not verified.user_verified:
        raise PasskeyError(NOT_VERIFIED, "not_verified")
    # L3 7.2: backup eligibility is fixed when the credential is made; a change means another authenticator.
    if (verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE) != passkey.backup_eligible:
        emit("passkey.refused", person_id=passkey.person_id, passkey_id=passkey.id, why="backup_eligibility")
        raise PasskeyError(REFUSED, "refused", "backup eligibility changed")
    _record_use(passkey, verified.new_sign_count, verified.credential_backed_up)
    return db.session.get(Person, passkey.person_id)


def _record_use(passkey: Passkey, sign_count: int, backed_up: bool) -> None:
    # L3 7.2 step 22: a non-zero counter that did not increase signals a possibly cloned authenticator.
    # Compared in the UPDATE itself, so two parallel requests with one assertion cannot both win.
    counter_moved_on = Passkey.sign_count < sign_count if sign_count else Passkey.sign_count == 0
    changed = db.session.execute(
        update(Passkey).where(Passkey.id == passkey.id, counter_moved_on)
        .values(sign_count=sign_count, backed_up=backed_up, last_used_at=now())
    ).rowcount
    db.session.commit()
    if not changed:
        emit("passkey.refused", person_id=passkey.person_id, passkey_id=passkey.id, why="sign_count")
        raise PasskeyError(REFUSED, "refused", "signature counter did not increase")


# --- managing a person's passkeys -----------------------------------------------------------------
def list_passkeys(person: Person) -> list[Passkey]:
    return Passkey.query.filter_by(person_id=person.id).order_by(Passkey.created_at, Passkey.id).all()


def rename(person: Person, passkey_id: str, name: str) -> bool:
    """Give one of the person's passkeys a new name (blank: a default one); False if it is not theirs."""
    passkey = Passkey.query.filter_by(id=passkey_id, person_id=person.id).first()
    if passkey is None:
        return False
    passkey.name = _clean_name(name) or _default_name(person)
    db.session.commit()
    return True


def remove(person: Person, passkey_id: str) -> bool:
    """Remove one of the person's passkeys; False if it is not theirs."""
    removed = db.session.execute(
        delete(Passkey).where(Passkey.id == passkey_id, Passkey.person_id == person.id)).rowcount
    db.session.commit()
    if removed:
        emit("passkey.removed", person_id=person.id, passkey_id=passkey_id)
    return bool(removed)


def is_set_up(person: Person) -> bool:
    return Passkey.query.filter_by(person_id=person.id).first() is not None


# --- helpers ------------------------------------------------------------------------------------
def _user_handle(person: Person) -> str:
    """The person's user handle (L3 14.6.1: random, not the email or ``sub``), made on first use."""
    row = db.session.get(WebAuthnUser, person.id)
    if row is None:
        db.session.add(WebAuthnUser(person_id=person.id, user_handle=bytes_to_base64url(secrets.token_bytes(32)),
                                    created_at=now()))
        try:
            db.session.commit()
        except IntegrityError:  # a parallel request made it first: use theirs
            db.session.rollback()
        row = db.session.get(WebAuthnUser, person.id)
    return row.user_handle


def descriptor(passkey) -> PublicKeyCredentialDescriptor:
    known = {t.value for t in AuthenticatorTransport}
    transports = [AuthenticatorTransport(t) for t in passkey.transports or [] if t in known]
    return PublicKeyCredentialDescriptor(id=base64url_to_bytes(passkey.credential_id), transports=transports or None)


def parse_credential(parser, credential_json):
    if not isinstance(credential_json, str) or len(credential_json) > MAX_RESPONSE_CHARS:
        raise PasskeyError(INVALID, "invalid", "not a credential")
    try:
        return parser(credential_json)
    except (WebAuthnException, ValueError) as exc:
        raise PasskeyError(INVALID, "invalid", str(exc)) from exc


def challenge_bytes(challenge: str) -> bytes:
    # An empty or missing challenge is a caller bug (state lost or already used): never compare against it.
    try:
        value = base64url_to_bytes(challenge) if isinstance(challenge, str) else b""
    except ValueError:
        value = b""
    if len(value) < MIN_CHALLENGE_BYTES:
        raise PasskeyError(INVALID, "invalid", "no challenge for this ceremony")
    return value


def _clean_name(name: str | None) -> str:
    printable = "".join(c for c in name or "" if c.isprintable())
    return " ".join(printable.split())[:NAME_MAX_LENGTH]


def _default_name(person: Person) -> str:
    taken = {p.name for p in list_passkeys(person)}
    number = 1
    while f"Passkey {number}" in taken:
        number += 1
    return f"Passkey {number}"


def _service_name(settings) -> str:
    return settings.service_name  # rp.name


FACTOR = Factor(component=COMPONENT, name="passkey", is_set_up=is_set_up, order=10)
