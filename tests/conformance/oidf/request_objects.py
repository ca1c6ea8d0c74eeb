"""Request objects as the suite builds them (OIDC Core 6.1, RFC 9101), signed with PyJWT or left unsigned,
and the two checks the request-object modules of both plans share.

ConvertAuthorizationEndpointRequestToRequestObject puts every authorization parameter in
the object; AddAudToRequestObject / AddIssToRequestObject add ``aud`` (the issuer) and
``iss`` (the client); the query then repeats what OIDC Core 6.1 requires outside the object.
"""
from __future__ import annotations

import time

import jwt

from . import checks
from .rp import AuthRequest, RelyingParty


def request_object(rp: RelyingParty, request: AuthRequest, *, signed: bool) -> str:
    claims = {**request.params, "iss": rp.client.client_id, "aud": rp.provider.issuer}
    if signed:
        now = int(time.time())
        claims.update(iat=now, exp=now + 300)
        headers = {"kid": rp.client.kid} if rp.client.kid else None
        return jwt.encode(claims, rp.client.key, algorithm="RS256", headers=headers)
    return jwt.encode(claims, None, algorithm="none")


def by_value(rp: RelyingParty, request: AuthRequest, request_jwt: str, **query) -> str:
    """OIDC Core 6.1: response_type, client_id and scope (with openid) stay in the query beside ``request``."""
    params = {"client_id": rp.client.client_id, "response_type": "code", "scope": request.params["scope"],
              "request": request_jwt, **query}
    return rp.url(AuthRequest(params))


def by_reference(rp: RelyingParty, request: AuthRequest, request_uri: str) -> str:
    params = {"client_id": rp.client.client_id, "response_type": "code", "scope": request.params["scope"],
              "request_uri": request_uri}
    return rp.url(AuthRequest(params))


def unsigned_refused(conformance, rp) -> str:
    """Send the suite's unsigned request object; it must be refused, not silently ignored (OIDC Core 6.1)."""
    request = rp.request()
    url = by_value(rp, request, request_object(rp, request, signed=False),
                   redirect_uri=rp.client.redirect_uri, state=request.state)
    visit = conformance.browser().open(url, log_in=False)
    return checks.check_authorization_error(rp.callback(visit, request), request.state, rp.provider.issuer,
                                            {"request_not_supported", "invalid_request_object"})


def redirect_uri_from_request_object(conformance, rp) -> None:
    """OIDCCEnsureRequestObjectWithRedirectUri: an invalid redirect_uri in the query, the registered one inside."""
    request = rp.request()
    request_jwt = request_object(rp, request, signed=True)
    bad = conformance.suite.receiver.url("invalid_redirect_uri")
    visit = conformance.browser().open(by_value(rp, request, request_jwt, redirect_uri=bad))
    # RFC 9101 6.3: only the request object's parameters count, so the registered redirect_uri is used.
    code = rp.code(visit, request)
    tokens = rp.tokens(rp.redeem(code, request))
    rp.id_token(tokens["id_token"], request, access_token=tokens["access_token"], code=code)
