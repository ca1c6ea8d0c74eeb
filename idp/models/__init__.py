"""Storage: one small module per domain record. Times are UTC epoch seconds."""
from .area_passkeys import AreaPasskey
from .authenticators import AuthenticatorApp, Passkey, WebAuthnUser
from .clients import Client
from .codes import FactorFailures, OneTimeCode, RememberedDevice
from .consent import ClientUserMetadata, Consent
from .developer import ClientRequest, DeveloperAuditEvent, Integrator, IntegratorSession, Organisation, Service
from .grants import AuthorizationCode, Grant, IssuedToken
from .jobs import Job
from .keys import SigningKey
from .messages import OutboundMessage
from .people import Person
from .provisioning import ProvisioningAuditEvent, ProvisioningIdempotency, ProvisioningRequest
from .proofing import Evidence, PhotoIdSubmission, ProofingMedia, SyntheticGpAccount, SyntheticPatient
from .registration import InitialAccessToken, PushedAuthorizationRequest
from .replay import UsedAssertion
from .sessions import BrowserSession
from .staff import StaffAuditEvent, StaffMember, StaffSession
from .throttle import FailedAttempt

__all__ = [
    "AreaPasskey",
    "AuthenticatorApp",
    "Passkey",
    "WebAuthnUser",
    "Client",
    "Person",
    "Evidence",
    "PhotoIdSubmission",
    "ProofingMedia",
    "SyntheticPatient",
    "SyntheticGpAccount",
    "BrowserSession",
    "AuthorizationCode",
    "Grant",
    "IssuedToken",
    "Consent",
    "ClientUserMetadata",
    "SigningKey",
    "UsedAssertion",
    "FailedAttempt",
    "Job",
    "OutboundMessage",
    "InitialAccessToken",
    "PushedAuthorizationRequest",
    "OneTimeCode",
    "RememberedDevice",
    "FactorFailures",
    "StaffMember",
    "StaffSession",
    "StaffAuditEvent",
    "ProvisioningRequest",
    "ProvisioningIdempotency",
    "ProvisioningAuditEvent",
    "Organisation",
    "Integrator",
    "IntegratorSession",
    "Service",
    "ClientRequest",
    "DeveloperAuditEvent",
]
