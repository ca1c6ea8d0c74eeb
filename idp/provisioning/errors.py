"""The provisioning API's answers to the calling system (interface.md): a code and a description for its
developers, never for the patient. Refusals about the person never say which detail did not match."""
from __future__ import annotations

from dataclasses import dataclass

SERVICE_UNAVAILABLE = "11000"
UNABLE_TO_PROVISION = "11001"  # PDS record not found, not active, deceased, date of birth or mobile not on it
ACCOUNT_WITH_OTHER_EMAIL = "11006"  # the person's account uses another email address
PENDING_REQUEST = "11003"
EMAIL_IN_USE = "11004"
ALREADY_P9 = "11005"
REQUEST_INVALID = "11010"
TOO_MANY_REQUESTS = "11011"
NOT_PENDING = "11012"  # only a pending request can be cancelled
ODS_CODE_NOT_SUPPORTED = "11021"

TITLES = {
    SERVICE_UNAVAILABLE: "Service unavailable",
    UNABLE_TO_PROVISION: "Unable to provision an account for this person",
    PENDING_REQUEST: "A request for this person is already pending",
    EMAIL_IN_USE: "Email address already used by another account",
    ALREADY_P9: "The person already has a P9 account",
    ACCOUNT_WITH_OTHER_EMAIL: "The person's account uses another email address",
    REQUEST_INVALID: "Request invalid",
    TOO_MANY_REQUESTS: "Too many requests from this ODS code",
    NOT_PENDING: "The request is not pending",
    ODS_CODE_NOT_SUPPORTED: "ODS code not supported",
}
DESCRIPTIONS = {
    SERVICE_UNAVAILABLE: "The Personal Demographics Service could not be reached; nothing was recorded. Try again later.",
    UNABLE_TO_PROVISION: "An account cannot be provisioned from these details: check them against the patient's "
                         "PDS record (NHS number, date of birth, mobile number) and that the record is active.",
    PENDING_REQUEST: "A request for this person was made in the last 7 days and has not been claimed, expired or "
                     "cancelled. Cancel it first to make a new one.",
    EMAIL_IN_USE: "The email address belongs to another person's NHS login account. Use the patient's own address.",
    ALREADY_P9: "The person already has an NHS login account proved to P9; they can log in with it.",
    ACCOUNT_WITH_OTHER_EMAIL: "The person already has an NHS login account with another email address. Provision "
                              "with the address of that account to uplift it.",
    TOO_MANY_REQUESTS: "Too many requests from this ODS code; slow down and retry after the time in Retry-After.",
    NOT_PENDING: "Only a pending request can be cancelled.",
    ODS_CODE_NOT_SUPPORTED: "This client is not registered to act for that ODS code.",
}


@dataclass(frozen=True)
class Refusal(Exception):
    """An answer other than success: the code, and what the calling system should do about it."""

    code: str
    description: str = ""
    status: int = 400
    retry_after: int | None = None

    @property
    def text(self) -> str:
        return self.description or DESCRIPTIONS.get(self.code, TITLES.get(self.code, ""))

    def body(self, instance: str | None = None) -> dict:
        """``code`` and ``description`` as interface.md names them, beside RFC 9457 problem details."""
        body = {"type": f"https://nhs-login.example/provisioning/problems/{self.code}",
                "title": TITLES.get(self.code, "Unable to provision"), "status": self.status, "detail": self.text,
                "code": self.code, "description": self.text}
        if instance:
            body["instance"] = instance
        return body
