"""Storage: one small module per domain record. Times are UTC epoch seconds."""
from .clients import Client
from .consent import ClientUserMetadata, Consent
from .grants import AuthorizationCode, Grant, IssuedToken
from .jobs import Job
from .keys import SigningKey
from .people import Person
from .registration import InitialAccessToken, PushedAuthorizationRequest
from .replay import UsedAssertion
from .sessions import BrowserSession
from .throttle import FailedAttempt

__all__ = [
    "Client",
    "Person",
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
    "InitialAccessToken",
    "PushedAuthorizationRequest",
]
