"""``/healthz`` (the process answers), ``/readyz`` (it can serve: database and signing keys reachable) and
``/metrics`` (Prometheus text; a bearer ``IDP_METRICS_TOKEN`` when one is set). No session, never cached."""
from __future__ import annotations

import hmac
import logging

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import text

from .. import surfaces
from ..extensions import db
from ..surfaces import Surface
from . import metrics

bp = surfaces.declare(Blueprint("operations", __name__), Surface.API)
log = logging.getLogger(__name__)


@bp.after_request
def never_cache(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.route("/readyz")
def readyz():
    """Ready when a statement reaches the database and an ID token could be signed now."""
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any driver error: not ready, say which check failed, never why in detail
        db.session.rollback()
        log.warning("readiness: database unreachable: %s", type(exc).__name__)
        checks["database"] = "unreachable"
    try:
        current_app.extensions["idp"].keystore.signing_key("RS512")
        checks["signing_keys"] = "ok"
    except Exception as exc:
        db.session.rollback()
        log.warning("readiness: no signing key: %s", type(exc).__name__)
        checks["signing_keys"] = "unavailable"
    ready = all(value == "ok" for value in checks.values())
    response = jsonify(status="ready" if ready else "not_ready", checks=checks)
    response.status_code = 200 if ready else 503
    if not ready:
        response.headers["Retry-After"] = "5"
    return response


@bp.route("/metrics")
def prometheus_metrics():
    settings = current_app.extensions["idp"].settings
    token = settings.metrics_token
    if not token and not settings.is_development:
        # Counts of logins and errors are for the operators' scraper only: no token, no metrics here.
        return Response("", 404)
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return Response("", 401, {"WWW-Authenticate": 'Bearer realm="metrics"'})
    return Response(metrics.exposition(), 200, {"Content-Type": metrics.CONTENT_TYPE_LATEST})
