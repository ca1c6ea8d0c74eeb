"""Signed request objects (JAR, RFC 9101; OIDC Core 6.1) and pushed requests referenced at /authorize (RFC 9126 4).

``load_request_object`` runs as soon as the client is known. It swaps the query's parameters
for those of the client's signed request object or of the request it pushed to /par, so every
later step (the redirect URI first) reads only those (RFC 9101 6.3, RFC 9126 4). A request
object is never trusted before its signature is verified with the client's registered key.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jws import extract_compact

from ..clock import now
from . import pushed_requests
from .client_auth import ASSERTION_ALGS
from .client_keys import ClientKeyError, verification_keys

if TYPE_CHECKING:
    from .authorization import AuthorizationRequest

# Signed with the client's registered key, so the algs of its client assertions: never "none", never HMAC.
REQUEST_OBJECT_ALGS = ASSERTION_ALGS
REQUEST_OBJECT_TYPES = ("jwt", "oauth-authz-req+jwt")  # RFC 9101 4 and 10.8
MAX_REQUEST_OBJECT_LENGTH = 16384
JWT_CLAIMS = ("iss", "aud", "exp", "nbf", "iat", "jti")  # about the object itself, not authorization parameters
LEEWAY = 30


class RequestObjectError(Exception):
    """A request object or request_uri that cannot be used; ``error`` is the OAuth error code."""

    def __init__(self, error: str, description: str):
        super().__init__(description)
        self.error = error
        self.description = description


def load_request_object(req: AuthorizationRequest, settings) -> None:
    """Replace the query's parameters with a verified request object's or a pushed request's."""
    request_object, request_uri = req.get("request"), req.get("request_uri")
    try:
        if request_object and request_uri:
            # RFC 9101 5 / OIDC Core 6: one or the other, never both.
            raise RequestObjectError("invalid_request", "Send either 'request' or 'request_uri', not both.")
        if request_uri:
            req.params = _pushed_parameters(req, request_uri)
        elif request_object:
            req.params = request_object_parameters(request_object, req.client, req.params, settings)
        if req.client.require_pushed_authorization_requests and not req.pushed and req.interaction is None:
            # RFC 9126 6: this client's requests must come through /par (a resumed request already did).
            raise RequestObjectError("invalid_request", "This client must push its authorization requests to /par.")
    except RequestObjectError as error:
        _reject(req, error)


def _pushed_parameters(req: AuthorizationRequest, request_uri: str) -> dict:
    if req.pushed:
        # RFC 9126 2.1: "The client MUST NOT use the request_uri authorization request parameter" at /par.
        raise RequestObjectError("invalid_request", "request_uri cannot be pushed.")
    if not request_uri.startswith(pushed_requests.REQUEST_URI_PREFIX):
        # OIDC Core 6.2 (fetching a request object from the client's URL) is not offered; PAR is.
        raise RequestObjectError("request_uri_not_supported", "Only request_uri values issued by /par are supported.")
    # RFC 9126 4: single use, unexpired, and issued to this very client.
    params = pushed_requests.redeem(request_uri, req.client.client_id)
    if params is None:
        raise RequestObjectError("invalid_request_uri", "The request_uri is unknown, expired, already used, "
                                                        "or was not issued to this client.")
    req.pushed = True
    return dict(params)


def _reject(req: AuthorizationRequest, error: RequestObjectError):
    """RFC 6749 4.1.2.1: redirect only to a URI registered for the client, here the query's own redirect_uri.

    The request object's redirect_uri is never used for an object that failed verification
    (the conformance suite's oidcc-ensure-request-object-with-redirect-uri checks exactly this).
    """
    from .authorization import (  # that module imports this one for its STEPS
        ErrorPage,
        ErrorRedirect,
    )

    redirect_uri = req.get("redirect_uri")
    if redirect_uri is not None and req.client.check_redirect_uri(redirect_uri):
        req.redirect_uri = redirect_uri
        raise ErrorRedirect(error.error, error.description)
    raise ErrorPage(error.description, error=error.error)


# --- the request object itself --------------------------------------------------------------
def request_object_parameters(request_object: str, client, query: dict, settings) -> dict:
    """The authorization parameters of a verified request object, checked against the query (OIDC Core 6.1)."""
    claims = verified_claims(request_object, client, settings)
    for name in ("request", "request_uri"):
        if name in claims:
            # RFC 9101 4: "request and request_uri parameters MUST NOT be included in Request Objects."
            raise RequestObjectError("invalid_request_object", f"A request object cannot contain '{name}'.")
    params = {}
    for name, value in claims.items():
        if name in JWT_CLAIMS or value is None:
            continue
        params[name] = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    # RFC 9101 5: client_id outside must be the object's; OIDC Core 6.1: so must response_type.
    for name in ("client_id", "response_type"):
        outside = query.get(name)
        if name in params and outside not in (None, "") and params[name] != outside:
            raise RequestObjectError("invalid_request_object", f"'{name}' differs inside and outside the request object.")
        if name not in params and outside not in (None, ""):
            params[name] = outside
    return params


def verified_claims(request_object: str, client, settings) -> dict:
    """Verify the signature with the client's registered key, then ``iss``, ``aud``, ``exp``, ``nbf`` (RFC 9101 6.1)."""
    if len(request_object) > MAX_REQUEST_OBJECT_LENGTH:
        raise RequestObjectError("invalid_request_object", "The request object is too large.")
    try:
        header = extract_compact(request_object.encode()).headers()
    except (JoseError, ValueError, TypeError):
        raise RequestObjectError("invalid_request_object", "The request object is not a signed JWT.") from None
    alg, kid, typ = header.get("alg"), header.get("kid"), header.get("typ")
    allowed = allowed_request_object_algs(client)
    if alg not in allowed:
        raise RequestObjectError("invalid_request_object", f"Request objects must be signed with {', '.join(allowed)}.")
    if typ is not None and (not isinstance(typ, str) or typ.lower() not in REQUEST_OBJECT_TYPES):
        raise RequestObjectError("invalid_request_object", "The request object's typ is not a request object's.")
    if kid is not None and not isinstance(kid, str):
        raise RequestObjectError("invalid_request_object", "The request object's kid must be a string.")
    try:
        key = verification_keys(
            client, kid, timeout=settings.outbound_timeout_seconds, max_age=settings.jwks_uri_cache_seconds
        )
        claims = jwt.decode(request_object, key, algorithms=[alg]).claims
    except ClientKeyError as exc:
        raise RequestObjectError("invalid_request_object", f"The request object cannot be verified: {exc}.") from None
    except (JoseError, ValueError, TypeError):
        raise RequestObjectError("invalid_request_object", "The request object's signature is invalid.") from None
    _check_claims(claims, client, settings)
    return claims


def _check_claims(claims: dict, client, settings) -> None:
    current = now()
    if "iss" in claims and claims["iss"] != client.client_id:
        raise RequestObjectError("invalid_request_object", "The request object's iss must be the client_id.")
    if "aud" in claims:
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if settings.issuer not in audiences:
            raise RequestObjectError("invalid_request_object", "The request object's aud must be this provider's issuer.")
    exp, nbf = claims.get("exp"), claims.get("nbf")
    if exp is not None and (not _is_time(exp) or exp + LEEWAY <= current):
        raise RequestObjectError("invalid_request_object", "The request object has expired.")
    if nbf is not None and (not _is_time(nbf) or nbf - LEEWAY > current):
        raise RequestObjectError("invalid_request_object", "The request object is not valid yet.")


def _is_time(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def allowed_request_object_algs(client) -> list[str]:
    """The client's registered ``request_object_signing_alg`` only, if it registered one (OIDC Registration 2)."""
    registered = client.request_object_signing_alg
    if registered:
        return [registered] if registered in REQUEST_OBJECT_ALGS else []
    return list(REQUEST_OBJECT_ALGS)
