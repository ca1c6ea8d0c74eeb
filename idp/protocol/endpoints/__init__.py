"""The protocol surface: one blueprint, one module per endpoint group."""
from flask import Blueprint, current_app

bp = Blueprint("protocol", __name__)


def idp():
    """The provider's wiring for this app: settings, key store, token issuer, Authlib server."""
    return current_app.extensions["idp"]


from . import authorize, discovery, logout, par, register, token, userinfo  # noqa: E402,F401  (routes register on import)
