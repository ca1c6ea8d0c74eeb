"""/provisioning/v1: the account provisioning API for staff systems (interface.md). The views read the bearer
token and the request, call the rules in requests.py, and write the answer as JSON (problem+json for errors)."""
from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from .. import surfaces
from ..extensions import csrf
from ..models import Client
from ..protocol.bearer import authorise, bearer_error
from ..protocol.registration import PROVISIONING_SCOPE
from ..surfaces import Surface
from . import requests as rules
from .openapi import document
from .validation import MAX_BODY_BYTES, invalid

bp = surfaces.declare(Blueprint("provisioning_api", __name__, url_prefix="/provisioning/v1"), Surface.API)
csrf.exempt(bp)


def _json(status: int, body: dict, headers: dict | None = None) -> Response:
    problem = status >= 400
    response = Response(json.dumps(body), status=status,
                        mimetype="application/problem+json" if problem else "application/json")
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _token_problem(status: int, error: str, description: str) -> Response:
    return _json(status, {"type": "about:blank", "title": error.replace("_", " ").capitalize(), "status": status,
                          "detail": description, "error": error, "error_description": description})


def _staff_system():
    """The provisioning client behind this request's token: ``(client, None)`` or ``(None, error response)``."""
    token, error = authorise(PROVISIONING_SCOPE, "provisioning", _token_problem)
    if error is not None:
        return None, error
    client = Client.find(token.client_id)
    if client is None or not client.is_provisioning:  # a token whose client is gone or changed kind since
        return None, bearer_error(401, "invalid_token", "The access token's client cannot call this API.",
                                  _token_problem)
    return client, None


def _answer(answer: rules.Answer) -> Response:
    return _json(answer.status, answer.body, answer.headers)


@bp.errorhandler(RequestEntityTooLarge)
def body_over_the_apps_limit(error):
    """A body over the app's MAX_CONTENT_LENGTH, met before the client is known (a form read for a token): 11010
    like any other body over MAX_BODY_BYTES, not the app's bare 413."""
    return _json(400, invalid(f"The body must be at most {MAX_BODY_BYTES} bytes.").body())


@bp.post("/provision-account")
def provision_account():
    client, error = _staff_system()
    if error is not None:
        return error
    try:
        raw = request.stream.read(MAX_BODY_BYTES + 1)  # never more than the rules look at
    except RequestEntityTooLarge:  # its Content-Length is over the app's MAX_CONTENT_LENGTH: too long for the rules
        raw = bytes(MAX_BODY_BYTES + 1)
    return _answer(rules.provision(client, raw, request.headers.get("Content-Type", ""),
                                   request.headers.get("Idempotency-Key"), current_app.extensions["idp"].settings))


@bp.get("/provision-account/<provisioning_id>")
def provisioning_status(provisioning_id):
    client, error = _staff_system()
    if error is not None:
        return error
    return _answer(rules.status(client, provisioning_id))


@bp.delete("/provision-account/<provisioning_id>")
def cancel_provisioning(provisioning_id):
    client, error = _staff_system()
    if error is not None:
        return error
    return _answer(rules.cancel(client, provisioning_id))


@bp.get("/openapi.json")
def openapi():
    response = _json(200, document(current_app.extensions["idp"].settings.issuer))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
