"""Rules for registering a client (interface.md "Clients"), shared by the CLI, the declarative files in
``clients/`` and dynamic registration (RFC 7591, ``dynamic_registration.py``): relying parties, and the
provisioning clients of staff systems (kind ``provisioning``, which dynamic registration cannot make).
"""
from __future__ import annotations

import ipaddress
import json
from urllib.parse import urlsplit

from ..extensions import db
from ..levels import InvalidVectorError, parse_vector_list
from ..models import Client
from ..models.clients import AUTH_METHODS, CLIENT_ENVIRONMENTS, CLIENT_KINDS, ID_TOKEN_ALGS, PROVISIONING, RELYING_PARTY
from ..organisations import ODS_CODE
from .claims import SUPPORTED_SCOPES
from .client_auth import ASSERTION_ALGS
from .client_keys import ClientKeyError, key_set, pem_key, strength_problem
from .development_keys import forbidden_here, is_development_key
from .secrets import hash_client_secret, new_client_secret
from .subjects import SectorError, fetch_sector_redirect_uris, sector_host

MAX_REDIRECT_URIS = 10
MAX_ODS_CODES = 50
MAX_PEM_CHARS, MAX_JWKS_CHARS, MAX_JWKS_KEYS = 16 * 1024, 64 * 1024, 10
PROVISIONING_SCOPE = "provisioning"  # the account provisioning API (interface.md); never a relying party's


class RegistrationError(ValueError):
    """A registration field is not acceptable; the message says which and why."""


def _is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def check_uri(uri: str, field: str, allow_http_loopback: bool) -> str:
    """https only (http for loopback in development), absolute, no fragment, no query, no wildcard."""
    if not isinstance(uri, str) or not uri or len(uri) > 500:
        raise RegistrationError(f"{field}: each URI must be a non-empty string of at most 500 characters")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in uri):
        raise RegistrationError(f"{field}: {uri!r} contains spaces or control characters")
    parts = urlsplit(uri)
    if parts.scheme == "https":
        pass
    elif parts.scheme == "http" and allow_http_loopback and _is_loopback(parts.hostname):
        pass
    else:
        raise RegistrationError(f"{field}: {uri!r} must use https (http is allowed only for loopback in development)")
    if not parts.netloc or parts.fragment or parts.query or "*" in uri:
        raise RegistrationError(f"{field}: {uri!r} must be absolute, with no query, fragment or wildcard")
    return uri


def _uris(values, field: str, allow_http_loopback: bool, required: bool) -> list[str]:
    values = list(dict.fromkeys(values or []))
    if required and not values:
        raise RegistrationError(f"{field}: at least one is required")
    if len(values) > MAX_REDIRECT_URIS:
        raise RegistrationError(f"{field}: at most {MAX_REDIRECT_URIS} are allowed")
    return [check_uri(u, field, allow_http_loopback) for u in values]


def normalise(fields: dict, *, development: bool, existing: Client | None = None) -> dict:
    """Validate registration fields (CLI/file names) and return column values."""
    merged = dict(existing.to_dict() if existing else {})
    merged.update({k: v for k, v in fields.items() if v is not None})
    out: dict = {}
    name = merged.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200 or any(ord(c) < 32 for c in name):
        raise RegistrationError("name: required, at most 200 characters, no control characters")
    out["name"] = name.strip()
    environment = merged.get("environment") or "sandpit"
    if environment not in CLIENT_ENVIRONMENTS:
        raise RegistrationError(f"environment: one of {', '.join(CLIENT_ENVIRONMENTS)}")
    out["environment"] = environment
    loopback_ok = development  # http loopback URIs only on a development instance, whatever the client's environment
    kind = merged.get("kind") or RELYING_PARTY
    if kind not in CLIENT_KINDS:
        raise RegistrationError(f"kind: one of {', '.join(CLIENT_KINDS)}")
    if existing is not None and kind != (existing.kind or RELYING_PARTY):
        raise RegistrationError("kind: a relying party cannot become a provisioning client or back; register a new client")
    out["kind"] = kind
    if kind == PROVISIONING:
        return _provisioning_client(merged, out)
    if merged.get("ods_codes"):
        raise RegistrationError("ods_codes: only provisioning clients act for ODS codes")
    out["ods_codes"] = []
    out["redirect_uris"] = _uris(merged.get("redirect_uris"), "redirect_uris", loopback_ok, required=True)
    out["post_logout_redirect_uris"] = _uris(
        merged.get("post_logout_redirect_uris"), "post_logout_redirect_uris", loopback_ok, required=False
    )
    scope = merged.get("scope") or "openid"
    scopes = list(dict.fromkeys(scope.split() if isinstance(scope, str) else scope))
    if PROVISIONING_SCOPE in scopes:
        raise RegistrationError(f"scope: {PROVISIONING_SCOPE} is only for provisioning clients (kind provisioning)")
    unknown = [s for s in scopes if s not in SUPPORTED_SCOPES]
    if unknown or "openid" not in scopes:
        raise RegistrationError(f"scope: must include openid; unknown: {' '.join(unknown) or 'none'}")
    out["scopes"] = scopes
    vtr = merged.get("vtr") or ["P0.Cp"]
    if isinstance(vtr, str):
        try:
            vtr = json.loads(vtr)
        except ValueError:
            raise RegistrationError("vtr: a JSON array of strings, each a vector such as P9.Cp.Cd") from None
    try:
        out["vectors"] = [str(v) for v in parse_vector_list(vtr)]
    except (InvalidVectorError, TypeError) as exc:
        raise RegistrationError(f"vtr: {exc}") from None
    method = merged.get("token_endpoint_auth_method") or "private_key_jwt"
    if method not in AUTH_METHODS:
        raise RegistrationError(f"token_endpoint_auth_method: one of {', '.join(AUTH_METHODS)}")
    out["auth_method"] = method
    alg = merged.get("id_token_signed_response_alg") or "RS512"
    if alg not in ID_TOKEN_ALGS:
        raise RegistrationError(f"id_token_signed_response_alg: one of {', '.join(ID_TOKEN_ALGS)}")
    out["id_token_alg"] = alg
    for field, column in (("pkce", "pkce_required"), ("nonce", "nonce_required")):
        value = merged.get(field) or "required"
        if value not in ("required", "optional"):
            raise RegistrationError(f"{field}: required or optional")
        out[column] = value == "required"
    out["refresh_tokens"] = bool(merged.get("refresh_tokens"))
    backchannel = merged.get("backchannel_logout_uri")
    out["backchannel_logout_uri"] = check_uri(backchannel, "backchannel_logout_uri", loopback_ok) if backchannel else None
    _subject_type(merged, out, development)
    out["extra_metadata"] = dict(merged.get("extra_metadata") or {})
    prompt_none_error = merged.get("prompt_none_error") or "login_required"
    if prompt_none_error not in ("login_required", "sso_login_required"):
        raise RegistrationError("prompt_none_error: login_required or sso_login_required")
    out["prompt_none_error"] = prompt_none_error
    out["sso_partners"] = _sso_partners(merged.get("sso_partners"))
    # OIDC Registration 2 / RFC 9101: request objects then only with this alg; RFC 9126 6: PAR only.
    request_object_alg = merged.get("request_object_signing_alg") or None
    if request_object_alg is not None and request_object_alg not in ASSERTION_ALGS:
        raise RegistrationError(f"request_object_signing_alg: one of {', '.join(ASSERTION_ALGS)}")
    out["request_object_signing_alg"] = request_object_alg
    out["require_pushed_authorization_requests"] = bool(merged.get("require_pushed_authorization_requests"))
    return out


def _provisioning_client(merged: dict, out: dict) -> dict:
    """A staff system calling the provisioning API: client_credentials with private_key_jwt, the scope
    ``provisioning`` only, the ODS codes it may act for, and nothing that logs a person in."""
    for field in ("redirect_uris", "post_logout_redirect_uris", "backchannel_logout_uri", "sso_partners",
                  "sector_identifier_uri", "request_object_signing_alg"):
        if merged.get(field):
            raise RegistrationError(f"{field}: a provisioning client logs nobody in, so it has none")
    if merged.get("refresh_tokens"):
        raise RegistrationError("refresh_tokens: a provisioning client gets a new access token with its key instead")
    if merged.get("require_pushed_authorization_requests"):
        raise RegistrationError("require_pushed_authorization_requests: a provisioning client makes no authorization requests")
    scope = merged.get("scope") or PROVISIONING_SCOPE
    scopes = list(dict.fromkeys(scope.split() if isinstance(scope, str) else scope))
    if scopes != [PROVISIONING_SCOPE]:
        raise RegistrationError(f"scope: a provisioning client has the scope {PROVISIONING_SCOPE} and no other")
    method = merged.get("token_endpoint_auth_method") or "private_key_jwt"
    if method != "private_key_jwt":
        raise RegistrationError("token_endpoint_auth_method: a provisioning client authenticates with private_key_jwt")
    codes = merged.get("ods_codes") or []
    codes = [codes] if isinstance(codes, str) else codes
    if not isinstance(codes, (list, tuple)) or not codes or len(codes) > MAX_ODS_CODES:
        raise RegistrationError(f"ods_codes: between 1 and {MAX_ODS_CODES} ODS codes the client may act for")
    normalised = []
    for code in codes:
        value = code.strip().upper() if isinstance(code, str) else ""
        if not ODS_CODE.fullmatch(value):
            raise RegistrationError(f"ods_codes: {str(code)[:20]!r} is not an ODS code (3 to 8 letters and digits, like A12345)")
        normalised.append(value)
    out.update(
        ods_codes=list(dict.fromkeys(normalised)), redirect_uris=[], post_logout_redirect_uris=[],
        scopes=[PROVISIONING_SCOPE], vectors=[], auth_method="private_key_jwt",
        id_token_alg=merged.get("id_token_signed_response_alg") or "RS512", pkce_required=True, nonce_required=True,
        refresh_tokens=False, backchannel_logout_uri=None, subject_type="public", sector_identifier_uri=None,
        extra_metadata=dict(merged.get("extra_metadata") or {}), prompt_none_error="login_required", sso_partners=[],
        request_object_signing_alg=None, require_pushed_authorization_requests=False,
    )
    return out


def _sso_partners(value) -> list[str]:
    """Clients whose asserted_login_identity this one accepts (interface.md): an approval, matched exactly."""
    partners = value.split() if isinstance(value, str) else list(value or [])
    if len(partners) > 20 or not all(isinstance(p, str) and 0 < len(p) <= 64 for p in partners):
        raise RegistrationError("sso_partners: at most 20 client_ids")
    return list(dict.fromkeys(partners))


def _subject_type(merged: dict, out: dict, development: bool) -> None:
    """OIDC Core 8: public or pairwise; OIDC Registration 5: a sector_identifier_uri must list every redirect URI."""
    subject_type = merged.get("subject_type") or "public"
    if subject_type not in ("public", "pairwise"):
        raise RegistrationError("subject_type: public or pairwise")
    sector_uri = merged.get("sector_identifier_uri")
    sector_uri = check_uri(sector_uri, "sector_identifier_uri", development) if sector_uri else None
    if sector_uri:
        try:
            listed = fetch_sector_redirect_uris(sector_uri)
        except SectorError as exc:
            raise RegistrationError(f"sector_identifier_uri: {exc}") from None
        # OIDC Registration 5: "The values of the registered redirect_uris MUST be included in the elements of the array."
        missing = [uri for uri in out["redirect_uris"] if uri not in listed]
        if missing:
            raise RegistrationError(f"sector_identifier_uri: its document does not list {', '.join(missing)}")
    if subject_type == "pairwise":
        try:
            sector_host(out["redirect_uris"], sector_uri)
        except SectorError as exc:
            raise RegistrationError(f"subject_type: pairwise with {exc}") from None
    out["subject_type"] = subject_type
    out["sector_identifier_uri"] = sector_uri


def serves(settings, client) -> bool:
    """Whether this instance serves ``client`` (interface.md "Environments": a client belongs to one environment
    and the instance says which it is). A development instance serves every environment's clients."""
    return settings.is_development or client.environment == settings.env


def _check_keys(keys, field: str, values: dict, development: bool) -> None:
    """Public, strong enough, and not a development key where real people's data is (interface.md: live has no
    dev keys; integration is its rehearsal)."""
    for key in keys:
        if key.is_private:
            raise RegistrationError(f"{field}: that is a private key; register only the public half")
        problem = strength_problem(key)
        if problem:
            raise RegistrationError(f"{field}: {problem}")
        if forbidden_here(development, values.get("environment")) and is_development_key(key):
            raise RegistrationError(f"{field}: that is a known development key (its private half is not secret); "
                                    "generate a key pair of your own")


def apply_key(values: dict, *, public_key_pem=None, jwks=None, jwks_uri=None, development: bool) -> None:
    """Exactly one of a PEM public key, a JWKS, or a jwks_uri; keys checked by ``_check_keys``."""
    given = [x for x in (public_key_pem, jwks, jwks_uri) if x]
    if len(given) > 1:
        raise RegistrationError("key: give one of a PEM public key, a JWKS, or a jwks_uri")
    if public_key_pem:
        if not isinstance(public_key_pem, str) or len(public_key_pem) > MAX_PEM_CHARS:
            raise RegistrationError(f"public key: a PEM of at most {MAX_PEM_CHARS} characters")
        try:
            key = pem_key(public_key_pem)
        except ClientKeyError as exc:
            raise RegistrationError(f"public key: {exc}") from None
        _check_keys([key], "public key", values, development)
        values.update(public_key_pem=public_key_pem, jwks=None, jwks_uri=None)
    elif jwks:
        if not isinstance(jwks, dict) or len(json.dumps(jwks)) > MAX_JWKS_CHARS:
            raise RegistrationError(f"jwks: a JSON object of at most {MAX_JWKS_CHARS} characters")
        if not isinstance(jwks.get("keys"), list) or not 1 <= len(jwks["keys"]) <= MAX_JWKS_KEYS:
            raise RegistrationError(f"jwks: a \"keys\" array of 1 to {MAX_JWKS_KEYS} keys")
        try:
            keys = key_set(jwks)
        except ClientKeyError as exc:
            raise RegistrationError(f"jwks: {exc}") from None
        _check_keys(keys.keys, "jwks", values, development)
        values.update(jwks=jwks, public_key_pem=None, jwks_uri=None)
    elif jwks_uri:
        values.update(jwks_uri=check_uri(jwks_uri, "jwks_uri", development), public_key_pem=None, jwks=None)


def register_client(fields: dict, *, development: bool, client_id: str | None = None, key: dict | None = None,
                    source: str | None = None, columns: dict | None = None) -> tuple[Client, str | None]:
    """Create a client; returns it and, for the secret methods, the secret (shown once).

    ``columns`` are set as given, unchecked (dynamic registration's management token hash).
    """
    values = normalise(fields, development=development)
    apply_key(values, development=development, **(key or {}))
    values.update(columns or {})
    secret = None
    if values["auth_method"] == "private_key_jwt":
        if not any(values.get(k) for k in ("public_key_pem", "jwks", "jwks_uri")):
            raise RegistrationError("key: private_key_jwt needs --public-key, --jwks-file or --jwks-uri")
    else:
        secret = new_client_secret()
        values["secret_hash"] = hash_client_secret(secret)
    client_id = client_id or Client.new_client_id()
    if db.session.get(Client, client_id) is not None:
        raise RegistrationError(f"client_id: {client_id} is already registered")
    client = Client(client_id=client_id, source=source, **values)
    db.session.add(client)
    db.session.commit()
    return client, secret


def check_subjects_unchanged(client: Client, values: dict) -> None:
    """The `sub` a client sees never changes: no switching subject_type, no moving a pairwise client to
    another sector (it would then see another sector's identifiers, OIDC Core 8.1)."""
    from .subjects import SectorError, sector_host

    if values.get("subject_type", client.subject_type) != client.subject_type:
        raise RegistrationError("subject_type: cannot be changed once registered; register a new client")
    if client.subject_type != "pairwise":
        return
    try:
        before = sector_host(list(client.redirect_uris), client.sector_identifier_uri)
        after = sector_host(list(values.get("redirect_uris", client.redirect_uris)),
                            values.get("sector_identifier_uri", client.sector_identifier_uri))
    except SectorError as exc:
        raise RegistrationError(f"sector_identifier_uri: {exc}") from None
    if before != after:
        raise RegistrationError("redirect_uris: a pairwise client cannot move to another sector (host)")


def update_client(client: Client, fields: dict, *, development: bool, key: dict | None = None,
                  new_secret: bool = False, replace: bool = False, columns: dict | None = None) -> str | None:
    """Change a client: fields not given keep their value, or with ``replace`` (RFC 7592 2.2) go back to defaults."""
    values = normalise(fields, development=development, existing=None if replace else client)
    check_subjects_unchanged(client, values)
    if replace:
        values.update(public_key_pem=None, jwks=None, jwks_uri=None)
    if key or replace:
        apply_key(values, development=development, **(key or {}))
    values.update(columns or {})
    secret = None
    if values["auth_method"] != "private_key_jwt" and (new_secret or not client.secret_hash):
        secret = new_client_secret()
        values["secret_hash"] = hash_client_secret(secret)
    for name, value in values.items():
        setattr(client, name, value)
    Client.forget_cached(client.client_id)
    if client.auth_method == "private_key_jwt" and not client.has_key:
        db.session.rollback()
        raise RegistrationError("key: private_key_jwt needs a registered key")
    db.session.commit()
    return secret
