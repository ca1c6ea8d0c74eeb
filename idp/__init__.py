"""An OpenID Connect identity provider for health and care services.

``create_app`` wires one Flask app: configuration, storage, the protocol
blueprint (Authlib-based), the account journeys, and the shared web glue.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from flask import Flask
from jinja2 import (
    ChainableUndefined,
    ChoiceLoader,
    FileSystemLoader,
    PackageLoader,
    select_autoescape,
)

from .config import ConfigurationError, Settings
from .extensions import csrf, db, migrate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass
class Provider:
    """What the blueprints need from the app: ``current_app.extensions["idp"]``."""

    settings: Settings
    keystore: object
    tokens: object
    server: object


def create_app(test_config: dict | None = None, settings: Settings | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=os.environ.get("IDP_INSTANCE_PATH", os.path.join(ROOT, "instance")),
        static_folder="static",
    )
    settings = settings or Settings.from_env(instance_path=app.instance_path)
    settings.check_production_safety(development_keys_in_use=False)  # secret and issuer; keys: check_ready
    app.config.update(settings.flask_config())
    if test_config:
        app.config.update(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    # The nhsuk-frontend-jinja macros need ChainableUndefined, and are .jinja files that must be escaped too.
    app.jinja_options = {
        **app.jinja_options,
        "undefined": ChainableUndefined,
        "autoescape": select_autoescape(("html", "htm", "xml", "jinja"), default_for_string=True),
    }
    app.jinja_loader = ChoiceLoader([
        FileSystemLoader(os.path.join(ROOT, "templates")),
        PackageLoader("nhsuk_frontend_jinja", "templates"),
    ])
    logging.getLogger("idp").setLevel(logging.INFO)

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(ROOT, "migrations"))
    csrf.init_app(app)

    from .authentication import passwords
    from .authentication.sessions import ServerSideSessionInterface

    passwords.configure(settings.password_hash_profile)
    from .protocol.keys import KeyStore
    from .protocol.server import IdentityProviderServer
    from .protocol.tokens import TokenIssuer

    app.session_interface = ServerSideSessionInterface()
    keystore = KeyStore(settings)
    server = IdentityProviderServer()
    server.init_app(app)
    app.extensions["idp"] = Provider(settings, keystore, TokenIssuer(settings, keystore), server)
    from . import jobs, notifications  # noqa: F401 - notifications registers its send_message job handler

    jobs.init_app(app)

    from . import i18n, surfaces, web
    from .accounts import bp as accounts_bp
    from .proofing import listeners  # noqa: F401 - a login re-reads the person's PDS record
    from .proofing.pages import bp as proofing_bp
    from .protocol.endpoints import bp as protocol_bp
    from .staff import admin, id_checks, in_person, views as staff_views  # noqa: F401 - each module adds its views
    from .staff import provisioning as staff_provisioning  # noqa: F401
    from .staff import client_requests  # noqa: F401 - admins approve integrators' clients
    from .staff.blueprint import bp as staff_bp
    from .developer import views as developer_views  # noqa: F401 - the portal's pages
    from .developer.blueprint import bp as developer_bp
    from .operations import metrics as operations_metrics
    from .operations.views import bp as operations_bp
    from .provisioning.api import bp as provisioning_api_bp
    from .provisioning.pages import bp as provisioning_claim_bp

    web.init_app(app, service_name=settings.service_name)
    i18n.init_app(app, os.path.join(ROOT, "translations"))
    app.register_blueprint(protocol_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(proofing_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(developer_bp)
    app.register_blueprint(operations_bp)
    operations_metrics.install(app)
    app.register_blueprint(provisioning_api_bp)
    app.register_blueprint(provisioning_claim_bp)
    surfaces.install(app)  # after every blueprint: sessions, errors and headers read it

    proxies = int(os.environ.get("IDP_TRUSTED_PROXIES", "0") or 0)
    if proxies:
        # Behind a TLS-terminating proxy: trust its X-Forwarded-For/Proto, so throttling sees the real
        # source and request.is_secure is right. Only as many hops as are really ours.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=0)

    from .cli import register_commands

    register_commands(app)
    return app


def check_ready(app: Flask) -> None:
    """Refuse to serve outside development with dev secrets or dev keys (called by the server entry point)."""
    with app.app_context():
        ctx = app.extensions["idp"]
        ctx.settings.check_production_safety(ctx.keystore.development_keys_in_use())


__all__ = ["create_app", "check_ready", "ConfigurationError", "Settings"]
