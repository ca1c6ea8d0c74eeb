"""Authenticators a person registers: an authenticator app (``Ck``) and passkeys (``Cm``)."""
from __future__ import annotations

from ..clock import now
from ..extensions import db


class AuthenticatorApp(db.Model):
    """The one TOTP app of a person (RFC 6238); enrolling again replaces it."""

    __tablename__ = "authenticator_app"

    id = db.Column(db.String(32), primary_key=True)
    person_id = db.Column(db.String(36), db.ForeignKey("person.id", ondelete="CASCADE"), nullable=False, unique=True)
    secret_encrypted = db.Column(db.Text, nullable=False)  # Fernet token (factors/totp.py): never in clear
    created_at = db.Column(db.Integer, nullable=False, default=now)
    # RFC 6238 5.2: the highest time step accepted; a code for this step or an earlier one is refused.
    last_used_step = db.Column(db.BigInteger, nullable=False, default=0)
    last_used_at = db.Column(db.Integer)


class WebAuthnUser(db.Model):
    """A person's WebAuthn user handle (L3 5.4.3 ``user.id``): random and opaque, the same for all their passkeys."""

    __tablename__ = "webauthn_user"

    person_id = db.Column(db.String(36), db.ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    user_handle = db.Column(db.String(88), nullable=False, unique=True)  # base64url of 32 random bytes
    created_at = db.Column(db.Integer, nullable=False, default=now)


class Passkey(db.Model):
    """A discoverable WebAuthn credential (L3 "credential record", 4) registered by a person."""

    __tablename__ = "passkey"

    id = db.Column(db.String(32), primary_key=True)
    person_id = db.Column(db.String(36), db.ForeignKey("person.id", ondelete="CASCADE"), nullable=False, index=True)
    credential_id = db.Column(db.String(1400), nullable=False, unique=True)  # base64url; L3 7.1: at most 1023 bytes
    public_key = db.Column(db.LargeBinary, nullable=False)  # COSE_Key
    sign_count = db.Column(db.BigInteger, nullable=False, default=0)  # unsigned 32-bit on the authenticator
    transports = db.Column(db.JSON)  # hints for the browser, e.g. ["internal", "hybrid"]
    backup_eligible = db.Column(db.Boolean, nullable=False, default=False)  # BE: fixed for the credential's life
    backed_up = db.Column(db.Boolean, nullable=False, default=False)  # BS: as last reported
    aaguid = db.Column(db.String(36))  # the authenticator's model, with "none" attestation unverified
    name = db.Column(db.String(60), nullable=False)
    created_at = db.Column(db.Integer, nullable=False, default=now)
    last_used_at = db.Column(db.Integer)
