"""Storage: one small module per domain record. Times are UTC epoch seconds."""
from .clients import Client
from .people import Person
from .sessions import BrowserSession
from .grants import AuthorizationCode, Grant, IssuedToken
from .consent import Consent, ClientUserMetadata
from .keys import SigningKey
from .replay import UsedAssertion
from .throttle import FailedAttempt
from .registration import InitialAccessToken, PushedAuthorizationRequest

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
    "InitialAccessToken",
    "PushedAuthorizationRequest",
]
