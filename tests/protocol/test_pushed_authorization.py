"""Pushed authorization requests (PAR, RFC 9126) as a relying party uses them.

The client pushes its authorization parameters to /par with the same client authentication as
at /token, gets back a short-lived single-use ``request_uri``, and sends the browser to /authorize
with only ``client_id`` and that ``request_uri``. /par checks the request as /authorize would and
answers problems as JSON; /authorize uses only the pushed parameters.
"""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone
from urllib.parse import urlencode

import pytest
from freezegun import freeze_time
from joserfc import jwt

from support import assert_error_page, ISSUER, callback_params, follow_to_rp, private_jwk

URN = "urn:ietf:params:oauth:request_uri:"


# --- helpers -----------------------------------------------------------------------------------
def push(rp, auth=None, **params):
    """POST /par with rp's client authentication (aud = the issuer, RFC 9126 2) and its authorization parameters."""
    form, headers = auth if auth is not None else rp.auth(claims={"aud": ISSUER})
    body = dict(rp.authorize_params(**params))
    body = {k: v for k, v in body.items() if v is not None}
    form.update(body)
    return rp.http.post("/par", data=form, headers=headers)


def pushed_uri(rp, **params) -> str:
    response = push(rp, **params)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["request_uri"]


def authorize(rp, request_uri, **query):
    return rp.http.get("/authorize?" + urlencode({"client_id": rp.client_id, "request_uri": request_uri, **query}))


def finish(rp, response, email):
    return callback_params(follow_to_rp(rp.http, response, email=email, redirect_uri=rp.redirect_uri))


def assert_json_error(response, error, status=400):
    body = response.get_json()
    assert response.status_code == status, (response.status_code, body)
    assert body["error"] == error, body
    assert "no-store" in response.headers.get("Cache-Control", "")



def pushed_count(app) -> int:
    from idp.models import PushedAuthorizationRequest

    with app.app_context():
        return PushedAuthorizationRequest.query.count()


# --- the happy path ----------------------------------------------------------------------------
def test_push_then_authorize_completes_the_flow(rp, person):
    email = person("P0")
    response = push(rp, state="pushed-state", nonce="pushed-nonce")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == {"request_uri", "expires_in"}
    assert body["request_uri"].startswith(URN) and len(body["request_uri"]) > len(URN) + 30
    assert body["expires_in"] == 60
    assert "no-store" in response.headers["Cache-Control"]
    result = finish(rp, authorize(rp, body["request_uri"]), email)
    assert set(result) == {"code", "state", "iss"}, result
    assert result["state"] == "pushed-state"
    token = rp.token(result["code"])
    assert token.status_code == 200, token.get_json()
    assert rp.verify_id_token(token.get_json()["id_token"])["nonce"] == "pushed-nonce"


@pytest.mark.parametrize("aud", [ISSUER, ISSUER + "/token"])
def test_assertion_audience_may_be_the_issuer_or_the_token_endpoint(rp, aud):
    assert push(rp, auth=rp.auth(claims={"aud": aud})).status_code == 201


def test_assertion_audience_may_be_the_par_endpoint(rp):
    """RFC 9126 2: the /par URL is accepted as the client assertion's audience."""
    assert push(rp, auth=rp.auth(claims={"aud": ISSUER + "/par"})).status_code == 201


def test_secret_client_may_push(register, person):
    rp = register(auth_method="client_secret_basic")
    email = person("P0")
    request_uri = pushed_uri(rp, state="s")
    assert "code" in finish(rp, authorize(rp, request_uri), email)


def test_only_the_pushed_parameters_are_used(rp, person):
    """RFC 9126 4: the query's own parameters (even an unregistered redirect_uri) are ignored."""
    email = person("P0")
    request_uri = pushed_uri(rp, state="pushed")
    response = authorize(rp, request_uri, state="query", redirect_uri="https://evil.example/cb", scope="openid email")
    result = finish(rp, response, email)
    assert result["state"] == "pushed"
    token = rp.token(result["code"]).get_json()
    assert token["scope"] == "openid"


def test_a_signed_request_object_may_be_pushed(rp, person):
    email = person("P0")
    now = int(time.time())
    claims = {"iss": rp.client_id, "aud": ISSUER, "exp": now + 60, **rp.authorize_params(state="from-object")}
    signed = jwt.encode({"alg": "RS512"}, claims, private_jwk(rp.key), algorithms=["RS512"])
    form, headers = rp.auth(claims={"aud": ISSUER})
    form.update(client_id=rp.client_id, request=signed)
    response = rp.http.post("/par", data=form, headers=headers)
    assert response.status_code == 201, response.get_json()
    result = finish(rp, authorize(rp, response.get_json()["request_uri"]), email)
    assert result["state"] == "from-object"


def test_a_badly_signed_pushed_request_object_is_invalid_request_object(rp, other_rp_key):
    signed = jwt.encode({"alg": "RS512"}, rp.authorize_params(), private_jwk(other_rp_key), algorithms=["RS512"])
    form, headers = rp.auth(claims={"aud": ISSUER})
    form.update(client_id=rp.client_id, request=signed)
    assert_json_error(rp.http.post("/par", data=form, headers=headers), "invalid_request_object")


# --- the request_uri at /authorize -------------------------------------------------------------
def test_request_uri_is_single_use(rp, person):
    email = person("P0")
    request_uri = pushed_uri(rp)
    assert "code" in finish(rp, authorize(rp, request_uri), email)
    assert_error_page(authorize(rp, request_uri))
    again = authorize(rp, request_uri, redirect_uri=rp.redirect_uri, state="q")
    assert callback_params(again)["error"] == "invalid_request_uri"
    assert callback_params(again)["state"] == "q"


def test_request_uri_expires(rp, client):
    with freeze_time(datetime.now(timezone.utc)) as frozen:
        request_uri = pushed_uri(rp)
        frozen.tick(61)
        response = authorize(rp, request_uri, redirect_uri=rp.redirect_uri, state="q")
    assert callback_params(response)["error"] == "invalid_request_uri"


def test_request_uri_of_another_client_is_refused_and_not_spent(rp, register, person):
    """RFC 9126 4: the AS MUST make sure the request_uri was issued to the client that presents it."""
    other = register(name="Other service")
    email = person("P0")
    request_uri = pushed_uri(rp)
    response = other.http.get("/authorize?" + urlencode({"client_id": other.client_id, "request_uri": request_uri,
                                                          "redirect_uri": other.redirect_uri, "state": "q"}))
    assert callback_params(response)["error"] == "invalid_request_uri"
    assert "code" in finish(rp, authorize(rp, request_uri), email)


@pytest.mark.parametrize("request_uri", [URN, URN + "made-up", URN + "x" * 100])
def test_unknown_request_uri_is_refused(rp, client, request_uri):
    assert_error_page(authorize(rp, request_uri))


def test_client_that_requires_par_cannot_send_a_plain_request(register, person):
    rp = register(require_pushed_authorization_requests=True)
    response = rp.authorize(state="plain")
    assert callback_params(response)["error"] == "invalid_request"
    assert callback_params(response)["state"] == "plain"
    email = person("P0")
    assert "code" in finish(rp, authorize(rp, pushed_uri(rp)), email)


# --- refused pushes ----------------------------------------------------------------------------
def test_push_without_client_authentication_is_invalid_client(rp, app):
    assert_json_error(push(rp, auth=({}, {})), "invalid_client", status=401)
    assert pushed_count(app) == 0


def test_push_with_a_bad_assertion_is_invalid_client(rp, other_rp_key):
    bad = rp.auth(claims={"aud": ISSUER}, key=private_jwk(other_rp_key))
    assert_json_error(push(rp, auth=bad), "invalid_client", status=401)


@pytest.mark.parametrize("params,error", [
    ({"redirect_uri": "https://evil.example/callback"}, "invalid_request"),
    ({"redirect_uri": None}, "invalid_request"),
    ({"state": None}, "invalid_request"),
    ({"nonce": None}, "invalid_request"),
    ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
    ({"code_challenge_method": "plain"}, "invalid_request"),
    ({"scope": "profile"}, "invalid_scope"),
    ({"scope": "openid gp_integration_credentials"}, "invalid_scope"),
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"prompt": "none login"}, "invalid_request"),
    ({"max_age": "soon"}, "invalid_request"),
    ({"claims": "{not json"}, "invalid_request"),
    ({"vtr": '["P9.Cm"]'}, "invalid_request"),
    ({"request_uri": URN + "abc"}, "invalid_request"),
])
def test_push_is_checked_like_an_authorization_request(rp, app, params, error):
    assert_json_error(push(rp, **params), error)
    assert pushed_count(app) == 0


def test_client_id_must_be_the_authenticated_client(rp, register):
    other = register(name="Other service", auth_method="client_secret_basic")
    assert_json_error(push(other, client_id=rp.client_id), "invalid_request")


def test_push_must_be_form_encoded_without_repeats(rp):
    form, _ = rp.auth(claims={"aud": ISSUER})
    assert_json_error(rp.http.post("/par", json={**form, **rp.authorize_params()}), "invalid_request")
    form.update(rp.authorize_params())
    body = urlencode(form) + "&state=again"
    response = rp.http.post("/par", data=body, content_type="application/x-www-form-urlencoded")
    assert_json_error(response, "invalid_request")


def test_par_is_post_only(client):
    assert client.get("/par").status_code == 405


def test_discovery_advertises_par(client):
    doc = client.get("/.well-known/openid-configuration").get_json()
    assert doc["pushed_authorization_request_endpoint"] == ISSUER + "/par"
    assert doc["require_pushed_authorization_requests"] is False
    # By-reference request_uri (OIDC Core 6.2) is not offered, so not advertised; PAR needs no such flag.
    assert doc["request_uri_parameter_supported"] is False


def test_expired_pushed_requests_are_pruned(rp, app):
    from idp.protocol.pushed_requests import prune_pushed_requests

    with freeze_time(datetime.now(timezone.utc)) as frozen:
        pushed_uri(rp)
        with app.app_context():
            assert prune_pushed_requests() == 0
        frozen.tick(61)
        with app.app_context():
            assert prune_pushed_requests() == 1
    assert pushed_count(app) == 0


def test_jti_of_a_push_assertion_cannot_be_replayed(rp):
    auth = rp.auth(claims={"aud": ISSUER, "jti": str(uuid.uuid4())})
    assert push(rp, auth=({**auth[0]}, auth[1])).status_code == 201
    assert_json_error(push(rp, auth=({**auth[0]}, auth[1])), "invalid_client", status=401)
