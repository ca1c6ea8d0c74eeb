"""OIDC Discovery 1.0, JWKS, and the trust mark: built from the routes so they cannot drift."""
from flask import jsonify, url_for

from ...authentication.factors import available_components, available_vectors
from ...levels import ProofingLevel
from ..claims import SUPPORTED_CLAIMS, SUPPORTED_SCOPES
from ..client_auth import ASSERTION_ALGS
from ..keys import SUPPORTED_ALGS
from ..request_objects import REQUEST_OBJECT_ALGS
from ... import surfaces
from . import bp, idp


def _url(endpoint: str) -> str:
    return idp().settings.issuer + url_for(endpoint)


@bp.get("/.well-known/openid-configuration")
@surfaces.view(surfaces.Surface.DOCUMENT)
def openid_configuration():
    issuer = idp().settings.issuer
    auth_methods = ["private_key_jwt", "client_secret_basic", "client_secret_post"]
    doc = {
        "issuer": issuer,
        "authorization_endpoint": _url("protocol.authorize"),
        "token_endpoint": _url("protocol.token"),
        "userinfo_endpoint": _url("protocol.userinfo"),
        "jwks_uri": _url("protocol.jwks"),
        "revocation_endpoint": _url("protocol.revoke"),
        "introspection_endpoint": _url("protocol.introspect"),
        "registration_endpoint": _url("protocol.register"),
        "end_session_endpoint": _url("protocol.logout"),
        "scopes_supported": list(SUPPORTED_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],  # the last for staff systems
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": list(SUPPORTED_ALGS),
        "userinfo_signing_alg_values_supported": [],
        "token_endpoint_auth_methods_supported": auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": list(ASSERTION_ALGS),
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": list(SUPPORTED_CLAIMS),
        "claims_parameter_supported": True,
        # JAR (RFC 9101) by value. request_uri only as issued by /par (RFC 9126), which needs no flag:
        # fetching a client's own request_uri (OIDC Core 6.2) is deliberately not offered, so not advertised.
        "request_parameter_supported": True,
        "request_uri_parameter_supported": False,
        "require_request_uri_registration": False,
        "request_object_signing_alg_values_supported": list(REQUEST_OBJECT_ALGS),
        "pushed_authorization_request_endpoint": _url("protocol.par"),
        "require_pushed_authorization_requests": False,
        "authorization_response_iss_parameter_supported": True,
        "ui_locales_supported": ["en-GB", "cy"],
        "claims_locales_supported": ["en-GB"],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "frontchannel_logout_supported": False,
        "vtr_supported": available_vectors(),
        "acr_values_supported": available_vectors(),
        "trustmark": _url("protocol.trustmark"),
        "service_documentation": issuer + "/",
    }
    response = jsonify(doc)
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


@bp.get("/.well-known/jwks.json")
@surfaces.view(surfaces.Surface.DOCUMENT)
def jwks():
    response = jsonify(idp().keystore.jwks())
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


@bp.get("/trustmark")
@surfaces.view(surfaces.Surface.DOCUMENT)
def trustmark():
    """The trust mark named in ``vtm``: the levels this provider can assert today."""
    components = available_components()
    return jsonify({
        "idp": idp().settings.issuer,
        "trustmark_provider": idp().settings.issuer,
        "P": [p.name for p in ProofingLevel],
        "C": components,
        "vectors": available_vectors(),
    })
