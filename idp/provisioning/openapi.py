"""The OpenAPI 3.1 document of /provisioning/v1, served at /provisioning/v1/openapi.json.

Written beside the rules it describes (validation.py, errors.py, requests.py) and checked against the served
API by schemathesis in the test suite, so the document and the endpoints cannot drift apart.
"""
from __future__ import annotations

from .errors import TITLES
from .validation import MAX_BODY_BYTES

_PROBLEM = {
    "type": "object",
    "description": "RFC 9457 problem details, with the code and description of interface.md beside them.",
    "required": ["code", "description", "status", "title"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "code": {"type": "string", "enum": sorted(TITLES)},
        "description": {"type": "string", "description": "For the calling system's developers, not the patient."},
    },
}
_TOKEN_PROBLEM = {
    "type": "object",
    "required": ["error", "error_description", "status"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"},
        "error": {"type": "string", "enum": ["invalid_token", "insufficient_scope", "invalid_request"]},
        "error_description": {"type": "string"},
    },
}
_STATUS = {
    "type": "object",
    "required": ["provisioning_id", "code", "status", "ods_code", "created_at", "expires_at"],
    "properties": {
        "provisioning_id": {"type": "string"},
        "code": {"type": "string", "enum": ["create", "uplift"]},
        "status": {"type": "string", "enum": ["pending", "claimed", "expired", "cancelled"]},
        "ods_code": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"},
        "expires_at": {"type": "string", "format": "date-time"},
        "claimed_at": {"type": "string", "format": "date-time"},
        "cancelled_at": {"type": "string", "format": "date-time"},
    },
}


def _problem(description: str, schema: str = "Problem") -> dict:
    return {"description": description,
            "content": {"application/problem+json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def _challenge() -> dict:
    return {"WWW-Authenticate": {"description": "RFC 6750 challenge", "schema": {"type": "string",
                                                                               "pattern": "^Bearer "}}}


_REPLAYED = {"Idempotent-Replayed": {
    "description": "`true` when this is the kept answer to an earlier call with the same Idempotency-Key.",
    "schema": {"type": "string", "enum": ["true"]}}}


def _token_errors() -> dict:
    challenge = _challenge()
    return {
        "401": {**_problem("No token, or an invalid, expired or revoked one.", "TokenProblem"), "headers": challenge},
        "403": {**_problem("The token lacks the provisioning scope, or is not a provisioning client's.",
                           "TokenProblem"), "headers": challenge},
    }


_ID = {"name": "provisioning_id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 64}}


def document(issuer: str) -> dict:
    codes = "; ".join(f"`{code}` {title}" for code, title in sorted(TITLES.items()))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "NHS login account provisioning API",
            "version": "1.0.0",
            "description": (
                "Healthcare staff systems create or uplift a patient's account to P9 on the patient's behalf; the "
                "patient claims it from an emailed link within 7 days. Authenticate with an access token from "
                f"{issuer}/token (grant_type=client_credentials, private_key_jwt, scope provisioning; 300 s). "
                f"Error codes: {codes}."),
        },
        "servers": [{"url": f"{issuer}/provisioning/v1"}],
        "security": [{"bearer": ["provisioning"]}],
        "paths": {
            "/provision-account": {
                "post": {
                    "operationId": "provisionAccount",
                    "summary": "Create or uplift a patient's account to P9",
                    "parameters": [{
                        "name": "Idempotency-Key", "in": "header", "required": False,
                        "description": "Makes a retry return the first answer; the same key with another body is "
                                       "refused (11010).",
                        # Printable ASCII; spaces inside it too (HTTP drops them at either end).
                        "schema": {"type": "string", "minLength": 1, "maxLength": 255,
                                   "pattern": "^[\\x21-\\x7e]([\\x20-\\x7e]*[\\x21-\\x7e])?$"},
                    }],
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/ProvisionAccount"}}}},
                    "responses": {
                        "200": {"description": "Recorded; the patient is emailed a single-use link valid 7 days.",
                                "content": {"application/json": {"schema": {
                                    "$ref": "#/components/schemas/Provisioned"}}},
                                "headers": _REPLAYED},
                        "400": {"description": "Refused: the code says why (interface.md). Or, with the error of "
                                               "RFC 6750 instead of a code, a token sent both in the Authorization "
                                               "header and in a form body.",
                                "content": {"application/problem+json": {"schema": {"anyOf": [
                                    {"$ref": "#/components/schemas/Problem"},
                                    {"$ref": "#/components/schemas/TokenProblem"}]}}},
                                "headers": {"Retry-After": {"description": "For 11000 and 11011: seconds to wait.",
                                                            "schema": {"type": "string", "pattern": "^[0-9]+$"}},
                                            **_REPLAYED, **_challenge()}},
                        **_token_errors(),
                    },
                },
            },
            "/provision-account/{provisioning_id}": {
                "parameters": [_ID],
                "get": {
                    "operationId": "provisioningStatus",
                    "summary": "The status of a request this client made",
                    "responses": {
                        "200": {"description": "The request's status.", "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/ProvisioningStatus"}}}},
                        "404": _problem("No request with that id was made by this client."),
                        **_token_errors(),
                    },
                },
                "delete": {
                    "operationId": "cancelProvisioning",
                    "summary": "Cancel a pending request; its link stops working",
                    "responses": {
                        "200": {"description": "Cancelled.", "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/ProvisioningStatus"}}}},
                        "404": _problem("No request with that id was made by this client."),
                        "409": _problem("The request is not pending (11012)."),
                        **_token_errors(),
                    },
                },
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "schemas": {
                "ProvisionAccount": {
                    "type": "object",
                    "description": f"All fields required, no others; at most {MAX_BODY_BYTES} bytes.",
                    "additionalProperties": False,
                    "required": ["nhs_number", "email_address", "date_of_birth", "phone_number", "ods_code"],
                    "properties": {
                        "nhs_number": {"type": "string", "pattern": "^[0-9]{10}$",
                                       "description": "10 digits with a valid modulus 11 check digit."},
                        "email_address": {"type": "string", "format": "email", "maxLength": 320},
                        "date_of_birth": {"type": "string", "format": "date", "description": "YYYY-MM-DD, not in the future."},
                        "phone_number": {"type": "string", "pattern": "^\\+447[0-9]{9}$",
                                         "description": "The UK mobile on the patient's PDS record, E.164."},
                        "ods_code": {"type": "string", "pattern": "^[A-Z0-9]{3,8}$",
                                     "description": "The organisation acting; the client must be registered for it."},
                    },
                },
                "Provisioned": {
                    "type": "object",
                    "required": ["code", "provisioning_id", "description"],
                    "properties": {
                        "code": {"type": "string", "enum": ["create", "uplift"]},
                        "provisioning_id": {"type": "string"},
                        "description": {"type": "string"},
                    },
                },
                "ProvisioningStatus": _STATUS,
                "Problem": _PROBLEM,
                "TokenProblem": _TOKEN_PROBLEM,
            },
        },
    }
