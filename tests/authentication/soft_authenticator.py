"""A software passkey authenticator and browser for tests (WebAuthn Level 3 6.1 authenticator data, 6.5.4 "none").

soft-webauthn on PyPI cannot set the UV, BE and BS flags (it always sends UP only) and pins fido2 < 2,
so this small one is ours: ES256 keys, "none" attestation, CBOR by cbor2 (which webauthn depends on).
It answers the JSON options the provider makes with the JSON a browser would post back.
"""
from __future__ import annotations

import hashlib
import json
import os
import struct
from dataclasses import dataclass

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40  # L3 6.1 flags


@dataclass
class Credential:
    credential_id: bytes
    key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0


class SoftAuthenticator:
    """One authenticator (a phone, a security key) holding discoverable credentials."""

    def __init__(self, *, backup_eligible: bool = True, backed_up: bool = True, counter: bool = True):
        self.backup_eligible, self.backed_up, self.counter = backup_eligible, backed_up, counter
        self.credentials: list[Credential] = []

    # navigator.credentials.create()
    def create(self, options_json: str, origin: str, *, user_verified: bool = True, rp_id: str | None = None,
               ignore_exclude: bool = False) -> str:
        options = json.loads(options_json)
        rp_id = rp_id or options["rp"]["id"]
        excluded = {base64url_to_bytes(c["id"]) for c in options.get("excludeCredentials", [])}
        if not ignore_exclude and any(c.credential_id in excluded for c in self.credentials):
            raise ValueError("InvalidStateError: this authenticator already holds a credential in excludeCredentials")
        if not ignore_exclude or not self.credentials:
            credential = Credential(os.urandom(32), ec.generate_private_key(ec.SECP256R1()), rp_id,
                                    base64url_to_bytes(options["user"]["id"]))
            self.credentials.append(credential)
        else:
            credential = self.credentials[-1]  # the same credential again, as a client that skips the check would
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        public = credential.key.public_key().public_numbers()
        cose_key = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: public.x.to_bytes(32, "big"), -3: public.y.to_bytes(32, "big")})
        attested = bytes(16) + struct.pack(">H", len(credential.credential_id)) + credential.credential_id + cose_key
        auth_data = self._auth_data(rp_id, user_verified, credential.sign_count, AT) + attested
        attestation_object = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return json.dumps({
            "id": bytes_to_base64url(credential.credential_id), "rawId": bytes_to_base64url(credential.credential_id),
            "type": "public-key", "authenticatorAttachment": "platform", "clientExtensionResults": {},
            "response": {"clientDataJSON": bytes_to_base64url(client_data),
                         "attestationObject": bytes_to_base64url(attestation_object),
                         "transports": ["hybrid", "internal"]},
        })

    # navigator.credentials.get()
    def get(self, options_json: str, origin: str, *, user_verified: bool = True, rp_id: str | None = None,
            credential: Credential | None = None, sign_count: int | None = None, user_handle: bytes | None = None,
            backup_eligible: bool | None = None) -> str:
        options = json.loads(options_json)
        credential = credential or self.credentials[-1]
        if sign_count is not None:
            credential.sign_count = sign_count
        elif self.counter:
            credential.sign_count += 1
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        auth_data = self._auth_data(rp_id or options["rpId"], user_verified, credential.sign_count,
                                    backup_eligible=backup_eligible)
        signature = credential.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return json.dumps({
            "id": bytes_to_base64url(credential.credential_id), "rawId": bytes_to_base64url(credential.credential_id),
            "type": "public-key", "authenticatorAttachment": "platform", "clientExtensionResults": {},
            "response": {"clientDataJSON": bytes_to_base64url(client_data),
                         "authenticatorData": bytes_to_base64url(auth_data),
                         "signature": bytes_to_base64url(signature),
                         "userHandle": bytes_to_base64url(user_handle or credential.user_handle)},
        })

    def _auth_data(self, rp_id: str, user_verified: bool, sign_count: int, extra: int = 0,
                   backup_eligible: bool | None = None) -> bytes:
        eligible = self.backup_eligible if backup_eligible is None else backup_eligible
        flags = UP | extra | (UV if user_verified else 0) | (BE if eligible else 0)
        flags |= BS if eligible and self.backed_up else 0
        return hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + struct.pack(">I", sign_count)

    @staticmethod
    def _client_data(kind: str, challenge: str, origin: str) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}).encode()
