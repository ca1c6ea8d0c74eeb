"""POST /par: pushed authorization requests (RFC 9126), authenticated like /token.

A pushed request runs the authorization steps that do not need the person (``STEPS_WITHOUT_PERSON``),
so what /par accepts is what /authorize would; errors are JSON (RFC 9126 2.3), never redirects.
"""
from authlib.oauth2 import OAuth2Error
from flask import jsonify, request

from ...extensions import csrf
from ...models.clients import AUTH_METHODS
from .. import pushed_requests
from ..authorization import (
    STEPS_WITHOUT_PERSON,
    AuthorizationRequest,
    ErrorPage,
    ErrorRedirect,
)
from ..client_auth import malformed_authorization_header
from ..errors import error_response
from ... import surfaces
from . import bp, idp

_FORM = "application/x-www-form-urlencoded"
_CLIENT_AUTHENTICATION = ("client_assertion", "client_assertion_type", "client_secret")


@bp.post("/par")
@surfaces.view(surfaces.Surface.API)
@csrf.exempt
def par():
    # RFC 9126 2.1: form-encoded, like a token request (RFC 6749 3.2: no parameter twice).
    bad_header = malformed_authorization_header(request.headers.get("Authorization"))
    if bad_header is not None:
        return idp().server.handle_response(*bad_header())
    if request.mimetype != _FORM:
        return _error("invalid_request", f"The request body must be {_FORM}.")
    repeated = next((name for name, values in request.form.lists() if len(values) > 1), None)
    if repeated:
        return _error("invalid_request", f"The '{repeated}' parameter is repeated.")
    server = idp().server
    try:
        # RFC 9126 2.1: "the same rules for client authentication as ... for the token endpoint".
        client = server.authenticate_client(server.create_oauth2_request(request), list(AUTH_METHODS), endpoint="par")
    except OAuth2Error as error:
        return server.handle_response(*error())
    params = {k: v for k, v in request.form.to_dict().items() if k not in _CLIENT_AUTHENTICATION}
    # RFC 9126 2.1: the request's client_id, if given, must be the client that authenticated.
    if params.setdefault("client_id", client.client_id) != client.client_id:
        return _error("invalid_request", "client_id does not match the authenticated client.")
    req = AuthorizationRequest(params=params, pushed=True)
    try:
        for step in STEPS_WITHOUT_PERSON:
            step(req, idp().settings)
    except (ErrorPage, ErrorRedirect) as error:
        return _error(error.error, error.description)
    request_uri, expires_in = pushed_requests.store(client.client_id, req.params)
    return _no_store(jsonify(request_uri=request_uri, expires_in=expires_in), 201)


def _error(error: str, description: str):
    """RFC 9126 2.3: the token endpoint's error response (RFC 6749 5.2)."""
    return error_response(400, error, description)


def _no_store(response, status: int):
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response
