"""POST /token, /revoke and /introspect: Authlib's endpoints with our grants and client authentication."""
from authlib.oauth2.rfc6749 import InvalidRequestError
from flask import request

from ...extensions import csrf
from ..client_auth import malformed_authorization_header
from ..errors import describe
from ... import surfaces
from . import bp, idp

_FORM = "application/x-www-form-urlencoded"


def _reject_malformed():
    """RFC 6749 3.2: form-encoded body, no repeated parameters."""
    bad_header = malformed_authorization_header(request.headers.get("Authorization"))
    if bad_header is not None:
        return bad_header
    if request.mimetype != _FORM:
        return InvalidRequestError(f"The request body must be {_FORM}.")
    for name, values in request.form.lists():
        if len(values) > 1:
            # The name is the requester's: Authlib refuses (with a 500) a description outside RFC 6749's set.
            return InvalidRequestError(describe(f"The '{name}' parameter is repeated."))
    return None


def _oauth_error(error):
    server = idp().server
    return server.handle_response(*error())


@bp.post("/token")
@surfaces.view(surfaces.Surface.API)
@csrf.exempt
def token():
    error = _reject_malformed()
    if error is None and not request.form.get("grant_type"):
        error = InvalidRequestError("Missing 'grant_type'.")
    if error is not None:
        return _oauth_error(error)
    return idp().server.create_token_response()


@bp.post("/revoke")
@surfaces.view(surfaces.Surface.API)
@csrf.exempt
def revoke():
    error = _reject_malformed()
    if error is not None:
        return _oauth_error(error)
    return idp().server.create_endpoint_response("revocation")


@bp.post("/introspect")
@surfaces.view(surfaces.Surface.API)
@csrf.exempt
def introspect():
    error = _reject_malformed()
    if error is not None:
        return _oauth_error(error)
    return idp().server.create_endpoint_response("introspection")
