"""A member's passkey as their second factor after the password, in place of the authenticator app (issue 11:
"a password and an authenticator app or passkey"). WebAuthn Level 3 with the patients' policy
(``idp.authentication.factors.passkey``: resident key and user verification required, RP ID and origin from
the issuer, each credential once, the signature counter checked atomically); here the member is known from
the password, so authentication allows only their own credentials.
"""
from __future__ import annotations

import secrets

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from webauthn import (generate_authentication_options, generate_registration_options, options_to_json,
                      verify_authentication_response, verify_registration_response)
from webauthn.helpers import (base64url_to_bytes, bytes_to_base64url, parse_authentication_credential_json,
                              parse_registration_credential_json)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (AttestationConveyancePreference, AuthenticatorSelectionCriteria,
                                      CredentialDeviceType, ResidentKeyRequirement, UserVerificationRequirement)

from ..authentication.factors.passkey import (ALREADY_REGISTERED, INVALID, MAX_CREDENTIAL_ID_BYTES, NOT_VERIFIED,
                                              REFUSED, TIMEOUT_MS, UNKNOWN, PasskeyError, challenge_bytes,
                                              descriptor, parse_credential, relying_party)
from ..clock import now
from ..extensions import db
from ..models import AreaPasskey
from .area import Area

__all__ = ["PasskeyError", "has_passkey", "registration_options", "register", "authentication_options",
           "authenticate"]


def of(area: Area, member) -> list[AreaPasskey]:
    return AreaPasskey.query.filter_by(area=area.name, member_id=member.id).order_by(AreaPasskey.created_at).all()


def has_passkey(area: Area, member) -> bool:
    return AreaPasskey.query.filter_by(area=area.name, member_id=member.id).first() is not None


def _user_handle(area: Area, member) -> str:
    existing = AreaPasskey.query.filter_by(area=area.name, member_id=member.id).first()
    return existing.user_handle if existing else bytes_to_base64url(secrets.token_bytes(32))


def registration_options(area: Area, member, settings) -> tuple[str, str, str]:
    """Options for navigator.credentials.create(), their challenge, and the user handle, for the caller to keep."""
    rp, handle = relying_party(settings), _user_handle(area, member)
    options = generate_registration_options(
        rp_id=rp.id, rp_name=f"{rp.name} {area.authenticator_label}", user_id=base64url_to_bytes(handle),
        user_name=member.email, user_display_name=member.email, timeout=TIMEOUT_MS,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED, user_verification=UserVerificationRequirement.REQUIRED),
        exclude_credentials=[descriptor(p) for p in of(area, member)],
    )
    return options_to_json(options), bytes_to_base64url(options.challenge), handle


def register(area: Area, member, credential_json: str, challenge: str, handle: str, settings) -> AreaPasskey:
    """Verify a registration response (L3 7.1) and add the passkey to the caller's transaction (it commits)."""
    credential = parse_credential(parse_registration_credential_json, credential_json)
    rp = relying_party(settings)
    try:
        verified = verify_registration_response(credential=credential, expected_challenge=challenge_bytes(challenge),
                                                expected_rp_id=rp.id, expected_origin=rp.origin,
                                                require_user_verification=False)
    except (WebAuthnException, ValueError) as exc:
        raise PasskeyError(INVALID, "invalid", str(exc)) from exc
    if not verified.user_verified:
        raise PasskeyError(NOT_VERIFIED, "not_verified")
    if len(verified.credential_id) > MAX_CREDENTIAL_ID_BYTES:
        raise PasskeyError(INVALID, "invalid", "credential id too long")
    credential_id = bytes_to_base64url(verified.credential_id)
    if AreaPasskey.query.filter_by(credential_id=credential_id).first() is not None:
        raise PasskeyError(ALREADY_REGISTERED, "already_registered")
    passkey = AreaPasskey(
        id=secrets.token_hex(16), area=area.name, member_id=member.id, user_handle=handle,
        credential_id=credential_id, public_key=verified.credential_public_key, sign_count=verified.sign_count,
        transports=[t.value for t in credential.response.transports or []],
        backup_eligible=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
        backed_up=verified.credential_backed_up, name=f"Passkey {len(of(area, member)) + 1}", created_at=now())
    db.session.add(passkey)
    try:
        db.session.flush()
    except IntegrityError as exc:  # the same credential registered by a parallel request
        db.session.rollback()
        raise PasskeyError(ALREADY_REGISTERED, "already_registered") from exc
    return passkey


def authentication_options(area: Area, member, settings) -> tuple[str, str]:
    """Options for navigator.credentials.get() allowing only this member's passkeys, and their challenge."""
    options = generate_authentication_options(
        rp_id=relying_party(settings).id, timeout=TIMEOUT_MS, user_verification=UserVerificationRequirement.REQUIRED,
        allow_credentials=[descriptor(p) for p in of(area, member)])
    return options_to_json(options), bytes_to_base64url(options.challenge)


def authenticate(area: Area, member, credential_json: str, challenge: str, settings) -> AreaPasskey:
    """Verify an assertion (L3 7.2) by one of ``member``'s passkeys; raises PasskeyError."""
    credential = parse_credential(parse_authentication_credential_json, credential_json)
    expected_challenge = challenge_bytes(challenge)
    passkey = AreaPasskey.query.filter_by(credential_id=bytes_to_base64url(credential.raw_id), area=area.name,
                                          member_id=member.id).first()
    if passkey is None:
        raise PasskeyError(UNKNOWN, "unknown")
    handle = credential.response.user_handle
    if handle and bytes_to_base64url(handle) != passkey.user_handle:
        raise PasskeyError(INVALID, "invalid", "user handle is not the credential owner's")
    rp = relying_party(settings)
    try:
        verified = verify_authentication_response(
            credential=credential, expected_challenge=expected_challenge, expected_rp_id=rp.id,
            expected_origin=rp.origin, credential_public_key=passkey.public_key, credential_current_sign_count=0,
            require_user_verification=False)
    except (WebAuthnException, ValueError) as exc:
        raise PasskeyError(INVALID, "invalid", str(exc)) from exc
    if not verified.user_verified:
        raise PasskeyError(NOT_VERIFIED, "not_verified")
    if (verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE) != passkey.backup_eligible:
        raise PasskeyError(REFUSED, "refused", "backup eligibility changed")
    # L3 7.2 step 22, in the UPDATE itself: two parallel requests with one assertion cannot both win.
    sign_count = verified.new_sign_count
    moved_on = AreaPasskey.sign_count < sign_count if sign_count else AreaPasskey.sign_count == 0
    changed = db.session.execute(update(AreaPasskey).where(AreaPasskey.id == passkey.id, moved_on).values(
        sign_count=sign_count, backed_up=verified.credential_backed_up, last_used_at=now())).rowcount
    db.session.commit()
    if not changed:
        raise PasskeyError(REFUSED, "refused", "signature counter did not increase")
    return passkey
