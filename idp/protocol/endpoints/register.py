"""POST /register (RFC 7591) and GET/PUT/DELETE /register/<client_id> (RFC 7592); rules in dynamic_registration."""
import json

from flask import jsonify, request, url_for

from ...extensions import csrf
from .. import dynamic_registration as dcr
from ..errors import describe, error_response
from ..jwt_rules import reject_constant
from ... import surfaces
from . import bp, idp


def _json(body: dict, status: int):
    response = jsonify(body)
    response.status_code = status
    # RFC 7591 3.2.1: the response carries credentials.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def _bearer() -> str | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _unauthorised(description: str):
    """RFC 6750 3.1: no error code when no credentials were sent, invalid_token when they were wrong."""
    response = error_response(401, "invalid_token", description)
    if not request.headers.get("Authorization"):
        response.headers["WWW-Authenticate"] = 'Bearer realm="register"'
        return response
    response.headers["WWW-Authenticate"] = (
        f'Bearer realm="register", error="invalid_token", error_description="{describe(description)}"')
    return response


def _metadata() -> dict:
    """RFC 7591 3.1: the client metadata as a JSON object."""
    data = None
    if request.mimetype == "application/json":
        try:
            data = json.loads(request.get_data(), parse_constant=reject_constant)  # no NaN/Infinity (RFC 8259 6)
        except ValueError:
            data = None
    if not isinstance(data, dict):
        raise dcr.invalid_metadata("The request body must be a JSON object (application/json).")
    return data


def _answer(registration: dcr.Registration, status: int):
    client_uri = idp().settings.issuer + url_for("protocol.registered_client", client_id=registration.client.client_id)
    return _json(dcr.client_information(registration, client_uri), status)


@bp.post("/register")
@surfaces.view(surfaces.Surface.API)
@csrf.exempt
def register():
    token = dcr.initial_access_token(_bearer())
    if token is None:
        return _unauthorised("A valid initial access token is required.")
    try:
        registration = dcr.register(_metadata(), token, development=idp().settings.is_development)
    except dcr.DynamicRegistrationError as exc:
        return error_response(400, exc.error, exc.description)
    return _answer(registration, 201)


@bp.route("/register/<client_id>", methods=["GET", "PUT", "DELETE"])
@surfaces.view(surfaces.Surface.API)
@csrf.exempt
def registered_client(client_id):
    client = dcr.managed_client(client_id, _bearer())
    if client is None:
        # RFC 7592 2.1: an unknown client and a wrong registration access token both answer 401.
        return _unauthorised("A valid registration access token for this client is required.")
    if request.method == "DELETE":
        dcr.delete(client)
        return "", 204
    try:
        registration = dcr.read(client) if request.method == "GET" else dcr.update(
            client, _metadata(), development=idp().settings.is_development)
    except dcr.DynamicRegistrationError as exc:
        return error_response(400, exc.error, exc.description)
    return _answer(registration, 200)
