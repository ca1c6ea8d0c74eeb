"""Reading access tokens presented back to us (userinfo, the provisioning API, revocation, introspection)."""
from __future__ import annotations

from flask import current_app, request

from ..clock import now
from ..extensions import db
from ..models import IssuedToken

MAX_TOKEN_LENGTH = 4096


def read_access_token(value: str | None, keystore, issuer: str) -> IssuedToken | None:
    """The record of a valid, unexpired, unrevoked access token we issued; None for anything else."""
    if not value or len(value) > MAX_TOKEN_LENGTH or value.count(".") != 2:
        return None
    try:
        claims = keystore.read_own_jwt(value, typ=("at+jwt",))
    except ValueError:
        return None
    if claims.get("iss") != issuer or not isinstance(claims.get("exp"), int) or claims["exp"] <= now():
        return None
    jti = claims.get("jti")
    row = db.session.get(IssuedToken, jti) if isinstance(jti, str) else None
    if row is None or row.kind != "access" or not row.is_active():
        return None
    return row


def bearer_error(status: int, error: str, description: str, respond):
    """RFC 6750 3: the error in the body (``respond`` makes it) and in the challenge (a quoted-string, so
    never a '"' inside)."""
    from .errors import describe

    response = respond(status, error, description)
    response.headers["WWW-Authenticate"] = f'Bearer error="{error}", error_description="{describe(description)}"'
    return response


def _presented_token():
    """RFC 6750 2.1 (header) or 2.2 (form body); exactly one method."""
    header = request.headers.get("Authorization", "")
    form_token = request.form.get("access_token") if request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded" else None
    if header and form_token:
        return None, "invalid_request"
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return None, "invalid_token"
        return value.strip(), None
    if form_token:
        return form_token, None
    return None, "missing"


def authorise(required_scope: str, realm: str, respond):
    """The access token of this request if it is valid and has ``required_scope``: ``(token, None)``, else
    ``(None, response)`` with the RFC 6750 status and challenge, its body made by ``respond``."""
    value, problem = _presented_token()
    if problem == "missing":
        response = respond(401, "invalid_token", "An access token is required.")
        response.headers["WWW-Authenticate"] = f'Bearer realm="{realm}"'
        return None, response
    if problem == "invalid_request":
        return None, bearer_error(400, "invalid_request", "Send the access token one way only.", respond)
    ctx = current_app.extensions["idp"]
    token = read_access_token(value, ctx.keystore, ctx.settings.issuer)
    if token is None:
        return None, bearer_error(401, "invalid_token", "The access token is invalid, expired or revoked.", respond)
    if required_scope not in token.scope.split():
        return None, bearer_error(403, "insufficient_scope", f"The access token lacks the '{required_scope}' scope.",
                                  respond)
    return token, None
