"""/userinfo (OIDC Core 5.3): GET and POST return claims; PATCH sets ``client_user_metadata``."""
from flask import jsonify, request

from ...extensions import csrf, db
from ...models import Client, ClientUserMetadata, Person
from ..bearer import authorise, bearer_error
from ..claims import approved_scope, claims_for_scopes, person_claims, requested_claim_names
from ..errors import error_response
from ..subjects import subject_for
from ... import surfaces
from . import bp

MAX_METADATA = 1024


def _bearer_error(status: int, error: str, description: str):
    return bearer_error(status, error, description, error_response)


def _authorised(required_scope: str):
    return authorise(required_scope, "userinfo", error_response)


@bp.route("/userinfo", methods=["GET", "POST"])
@surfaces.view(surfaces.Surface.API)
@csrf.exempt
def userinfo():
    token, error = _authorised("openid")
    if error is not None:
        return error
    person = db.session.get(Person, token.person_id)
    client = Client.find(token.client_id)
    if person is None or client is None:
        return _bearer_error(401, "invalid_token", "The access token is no longer valid.")
    scopes = approved_scope(token.scope, client).split()
    names = claims_for_scopes(scopes) + requested_claim_names(token.claims_request, "userinfo", client)
    metadata = None
    if "client_user_metadata" in names:
        row = db.session.get(ClientUserMetadata, (person.id, client.client_id))
        metadata = row.value if row else None
    body = {"sub": subject_for(person, client), **person_claims(person, client, names, metadata, vot=token.vot)}
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/userinfo", methods=["PATCH"])
@surfaces.view(surfaces.Surface.API)
@csrf.exempt
def set_client_user_metadata():
    token, error = _authorised("client_metadata")
    if error is not None:
        return error
    data = request.get_json(silent=True)
    value = data.get("client_user_metadata") if isinstance(data, dict) else None
    if not isinstance(value, str) or len(value) > MAX_METADATA or set(data) != {"client_user_metadata"}:
        return _problem(
            400,
            "Invalid client_user_metadata",
            f"Send a JSON object whose only member, client_user_metadata, is a string of at most {MAX_METADATA} "
            "characters.",
        )
    row = db.session.get(ClientUserMetadata, (token.person_id, token.client_id))
    if row is None:
        db.session.add(ClientUserMetadata(person_id=token.person_id, client_id=token.client_id, value=value))
    else:
        row.value = value
    db.session.commit()
    return "", 204


def _problem(status: int, title: str, detail: str):
    response = error_response(status, "invalid_request", detail, type="about:blank", title=title, status=status,
                              detail=detail)
    response.mimetype = "application/problem+json"
    return response
