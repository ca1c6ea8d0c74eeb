"""Dynamic client registration (RFC 7591) and its management (RFC 7592): the rules, no HTTP.

RFC 7591 metadata names map onto the fields of ``registration.py``, so a client registered here
meets exactly the rules of ``idp clients add``. Our own metadata: ``vtr`` (default ``["P0.Cp"]``),
``pkce`` and ``nonce`` (``"required"`` unless ``"optional"`` is asked, for tooling such as the
conformance suite) and ``prompt_none_error``. The environment is the initial access token's; the
secret methods (``client_secret_basic``, RFC 7591's default, and ``client_secret_post``) are
registered only with a sandpit token. Tokens are stored as SHA-256 hashes, never in clear.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..clock import now
from ..events import emit
from ..extensions import db
from ..models import Client, InitialAccessToken
from .client_auth import ASSERTION_ALGS
from .registration import RegistrationError, register_client, update_client
from .secrets import verify_client_secret

SECRET_METHODS = ("client_secret_basic", "client_secret_post")
GRANT_TYPES = ("authorization_code", "refresh_token")
# RFC 7591 2 name -> (registration field, JSON type).
FIELDS = {
    "client_name": ("name", str),
    "redirect_uris": ("redirect_uris", list),
    "post_logout_redirect_uris": ("post_logout_redirect_uris", list),
    "scope": ("scope", str),
    "token_endpoint_auth_method": ("token_endpoint_auth_method", str),
    "id_token_signed_response_alg": ("id_token_signed_response_alg", str),
    "backchannel_logout_uri": ("backchannel_logout_uri", str),
    "subject_type": ("subject_type", str),
    "sector_identifier_uri": ("sector_identifier_uri", str),
    "request_object_signing_alg": ("request_object_signing_alg", str),
    "require_pushed_authorization_requests": ("require_pushed_authorization_requests", bool),
    "vtr": ("vtr", (list, str)),
    "pkce": ("pkce", str),
    "nonce": ("nonce", str),
    "prompt_none_error": ("prompt_none_error", str),
}
# Metadata kept and returned as registered, but not acted on (auth_time and sid are always sent).
INFORMATIONAL = {
    "contacts": list, "logo_uri": str, "client_uri": str, "policy_uri": str, "tos_uri": str, "software_id": str,
    "software_version": str, "application_type": str, "backchannel_logout_session_required": bool,
    "require_auth_time": bool, "token_endpoint_auth_signing_alg": str,
}
# Asking for what this provider does not do: ignoring it would break the client, so it is refused.
UNSUPPORTED = (
    "id_token_encrypted_response_alg", "id_token_encrypted_response_enc", "userinfo_signed_response_alg",
    "userinfo_encrypted_response_alg", "userinfo_encrypted_response_enc", "request_object_encryption_alg",
    "request_object_encryption_enc",
)
MAX_TEXT = 500


class DynamicRegistrationError(ValueError):
    """RFC 7591 3.2.2: a registration refused with ``error`` and ``error_description``."""

    def __init__(self, error: str, description: str):
        super().__init__(description)
        self.error = error
        self.description = description


def invalid_metadata(description: str) -> DynamicRegistrationError:
    return DynamicRegistrationError("invalid_client_metadata", description)


@dataclass
class Registration:
    """A client as registered, with the credentials to hand over once (RFC 7591 3.2.1)."""

    client: Client
    registration_access_token: str
    client_secret: str | None = None


def token_hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# --- initial access tokens (RFC 7591 3) -------------------------------------------------------
TOKEN_DEFAULTS = ("pkce", "nonce")  # what an initial access token may relax for the clients it registers

def issue_initial_access_token(environment: str = "sandpit", description: str | None = None,
                               expires_in: int | None = None, client_defaults: dict | None = None) -> str:
    """A new initial access token; only its hash is kept, so it is shown once."""
    value = secrets.token_urlsafe(32)
    defaults = {k: v for k, v in (client_defaults or {}).items() if k in TOKEN_DEFAULTS and v in ("required", "optional")}
    db.session.add(InitialAccessToken(token_hash=token_hash(value), environment=environment, description=description,
                                      created_at=now(), expires_at=now() + expires_in if expires_in else None,
                                      client_defaults=defaults))
    db.session.commit()
    return value


def initial_access_token(value: str | None) -> InitialAccessToken | None:
    """The unexpired, unrevoked initial access token with this value, else None."""
    if not value or len(value) > 200:
        return None
    row = db.session.get(InitialAccessToken, token_hash(value))
    if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now()):
        return None
    return row


# --- metadata -> registration fields ----------------------------------------------------------
def _typed(metadata: dict, name: str, kind):
    value = metadata.get(name)
    if value is None:
        return None
    error = "invalid_redirect_uri" if name == "redirect_uris" else "invalid_client_metadata"
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise DynamicRegistrationError(error, f"{name}: wrong JSON type")
    if isinstance(value, list) and not all(isinstance(v, str) and len(v) <= MAX_TEXT for v in value):
        raise DynamicRegistrationError(error, f"{name}: must be an array of strings")
    if isinstance(value, str) and len(value) > MAX_TEXT * 4:
        raise DynamicRegistrationError(error, f"{name}: too long")
    return value


def fields_from_metadata(metadata: dict, environment: str) -> tuple[dict, dict]:
    """RFC 7591 2 client metadata -> (registration fields, key); unknown metadata is ignored (RFC 7591 2)."""
    refused = [name for name in UNSUPPORTED if metadata.get(name) is not None]
    if refused:
        raise invalid_metadata(f"{', '.join(refused)}: not supported by this provider")
    fields = {field: _typed(metadata, name, kind) for name, (field, kind) in FIELDS.items()}
    fields["environment"] = environment
    # OIDC Registration 2: id_token_signed_response_alg defaults to RS256 (onboarded clients default to RS512).
    fields["id_token_signed_response_alg"] = fields.get("id_token_signed_response_alg") or "RS256"
    fields["refresh_tokens"] = _grant_types(metadata)
    extra = {name: value for name, kind in INFORMATIONAL.items() if (value := _typed(metadata, name, kind)) is not None}
    if extra.get("token_endpoint_auth_signing_alg") not in (None, *ASSERTION_ALGS):
        raise invalid_metadata(f"token_endpoint_auth_signing_alg: one of {', '.join(ASSERTION_ALGS)}")
    if extra.get("application_type") not in (None, "web", "native"):
        raise invalid_metadata("application_type: web or native")
    fields["extra_metadata"] = extra
    if not fields["name"]:
        hosts = [urlsplit(uri).hostname for uri in fields["redirect_uris"] or []]
        fields["name"] = hosts[0] if hosts and hosts[0] else "Unnamed service"
    key = {}
    if metadata.get("jwks") is not None:
        if not isinstance(metadata["jwks"], dict):
            raise invalid_metadata("jwks: must be a JSON Web Key Set object")
        key["jwks"] = metadata["jwks"]
    if metadata.get("jwks_uri") is not None:
        key["jwks_uri"] = _typed(metadata, "jwks_uri", str)
    key = {name: value for name, value in key.items() if value}
    _assign_auth_method(fields, key, environment)
    return fields, key


def _grant_types(metadata: dict) -> bool:
    """RFC 7591 2.1: only the code flow; returns whether refresh tokens were asked for."""
    grant_types = _typed(metadata, "grant_types", list) or ["authorization_code"]
    response_types = _typed(metadata, "response_types", list) or ["code"]
    if set(response_types) != {"code"}:
        raise invalid_metadata("response_types: only code is supported")
    if "authorization_code" not in grant_types or not set(grant_types) <= set(GRANT_TYPES):
        raise invalid_metadata("grant_types: authorization_code, optionally with refresh_token")
    return "refresh_token" in grant_types


def _assign_auth_method(fields: dict, key: dict, environment: str) -> None:
    method = fields.get("token_endpoint_auth_method")
    if method is None:
        # RFC 7591 2: "If unspecified or omitted, the default is client_secret_basic"; keys sent mean private_key_jwt.
        method = "private_key_jwt" if key else "client_secret_basic"
        fields["token_endpoint_auth_method"] = method
    if method in SECRET_METHODS and environment != "sandpit":
        raise invalid_metadata("token_endpoint_auth_method: the client_secret methods are for sandpit; use private_key_jwt")
    if method == "private_key_jwt" and not key:
        raise invalid_metadata("token_endpoint_auth_method: private_key_jwt needs jwks or jwks_uri")


def _refusal(exc: RegistrationError) -> DynamicRegistrationError:
    """RFC 7591 3.2.2: invalid_redirect_uri for the redirect URIs, invalid_client_metadata for the rest."""
    message = str(exc)
    if message.startswith("redirect_uris"):
        return DynamicRegistrationError("invalid_redirect_uri", message)
    return invalid_metadata(message)


# --- register, read, update, delete ----------------------------------------------------------
def register(metadata: dict, token: InitialAccessToken, *, development: bool) -> Registration:
    """RFC 7591 3.1: register a client in the initial access token's environment."""
    fields, key = fields_from_metadata(metadata, token.environment)
    for name in TOKEN_DEFAULTS:
        if fields.get(name) is None and (token.client_defaults or {}).get(name):
            fields[name] = token.client_defaults[name]
    if "gp_integration_credentials" in (fields.get("scope") or "").split():
        raise invalid_metadata("scope: gp_integration_credentials needs an operator's approval (idp clients add)")
    registration_token = secrets.token_urlsafe(32)
    columns = {"registered_dynamically": True, "registration_access_token_hash": token_hash(registration_token)}
    try:
        client, secret = register_client(fields, development=development, key=key, columns=columns)
    except RegistrationError as exc:
        db.session.rollback()
        raise _refusal(exc) from None
    emit("client.registered", client_id=client.client_id, environment=client.environment, dynamically=True)
    return Registration(client, registration_token, secret)


def managed_client(client_id: str, presented: str | None) -> Client | None:
    """RFC 7592 2: the dynamically registered client that this registration access token manages, else None."""
    # Checked before the lookup: the id comes from the URL and may be anything (PostgreSQL refuses NUL).
    valid = isinstance(client_id, str) and 0 < len(client_id) <= 64 and "\x00" not in client_id
    client = db.session.get(Client, client_id) if valid else None
    if client is None or not client.registered_dynamically or not client.registration_access_token_hash:
        return None
    if not presented or not hmac.compare_digest(client.registration_access_token_hash, token_hash(presented)):
        return None
    return client


def _rotate_registration_token(client: Client) -> str:
    # RFC 7592 2.1/2.2: the server MAY issue a new registration access token; only its hash is kept, so it must.
    value = secrets.token_urlsafe(32)
    client.registration_access_token_hash = token_hash(value)
    return value


def read(client: Client) -> Registration:
    """RFC 7592 2.1: the registration as it stands, with a new registration access token."""
    value = _rotate_registration_token(client)
    db.session.commit()
    return Registration(client, value)


def update(client: Client, metadata: dict, *, development: bool) -> Registration:
    """RFC 7592 2.2: replace the metadata (omitted fields go back to their defaults), validated as at registration."""
    if metadata.get("client_id") != client.client_id:
        raise invalid_metadata("client_id: must be this client's client_id")
    if "client_secret" in metadata and not (
        client.secret_hash and verify_client_secret(client.secret_hash, metadata.get("client_secret"))
    ):
        raise invalid_metadata("client_secret: does not match the issued secret")
    fields, key = fields_from_metadata(metadata, client.environment)
    fields["sso_partners"] = list(client.sso_partners or [])  # an operator's approval, not client metadata
    if "gp_integration_credentials" in (fields.get("scope") or "").split() and "gp_integration_credentials" not in client.scopes:
        raise invalid_metadata("scope: gp_integration_credentials needs an operator's approval (idp clients update)")
    registration_token = secrets.token_urlsafe(32)
    try:
        secret = update_client(client, fields, development=development, key=key, replace=True,
                               columns={"registration_access_token_hash": token_hash(registration_token)})
    except RegistrationError as exc:
        db.session.rollback()
        raise _refusal(exc) from None
    emit("client.updated", client_id=client.client_id, dynamically=True)
    return Registration(client, registration_token, secret)


def delete(client: Client) -> None:
    """RFC 7592 2.3: deprovision the client; its grants and consents go with it."""
    client_id = client.client_id
    db.session.delete(client)
    db.session.commit()
    Client.forget_cached(client_id)
    emit("client.deleted", client_id=client_id, dynamically=True)


def client_information(registration: Registration, registration_client_uri: str) -> dict:
    """RFC 7591 3.2.1 and RFC 7592 3: the metadata as registered, with the credentials issued now."""
    client = registration.client
    info = {
        "client_id": client.client_id,
        "client_id_issued_at": client.created_at,
        "client_name": client.name,
        "redirect_uris": list(client.redirect_uris),
        "post_logout_redirect_uris": list(client.post_logout_redirect_uris),
        "grant_types": ["authorization_code", "refresh_token"] if client.refresh_tokens else ["authorization_code"],
        "response_types": ["code"],
        "scope": " ".join(client.scopes),
        "token_endpoint_auth_method": client.auth_method,
        "id_token_signed_response_alg": client.id_token_alg,
        "subject_type": client.subject_type,
        "vtr": list(client.vectors),
        "pkce": "required" if client.pkce_required else "optional",
        "nonce": "required" if client.nonce_required else "optional",
        "prompt_none_error": client.prompt_none_error,
        "environment": client.environment,
    }
    optional = {
        "jwks": client.jwks, "jwks_uri": client.jwks_uri, "backchannel_logout_uri": client.backchannel_logout_uri,
        "sector_identifier_uri": client.sector_identifier_uri,
        "request_object_signing_alg": client.request_object_signing_alg,
        "require_pushed_authorization_requests": client.require_pushed_authorization_requests or None,
    }
    info.update({name: value for name, value in optional.items() if value})
    info.update(client.extra_metadata or {})
    if client.auth_method in SECRET_METHODS:
        info["client_secret_expires_at"] = 0  # RFC 7591 3.2.1: 0 means it does not expire
        if registration.client_secret:
            info["client_secret"] = registration.client_secret
    info["registration_access_token"] = registration.registration_access_token
    info["registration_client_uri"] = registration_client_uri
    return info