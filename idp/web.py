"""Web glue shared by every surface: security headers, error pages, template context."""
from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

from flask import g, jsonify, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from .i18n import N_, current_language, language_toggle
from .protocol.errors import error_response
from .surfaces import Surface, surface_of



# Schemes a form submission may never end in, whatever a registration says.
_UNSAFE_SCHEMES = {"javascript", "data", "blob", "filesystem", "about", "file", "ws", "wss"}
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]{0,40}$")
_HOST = re.compile(r"^(?:[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?$")


def allow_form_target(uri: str | None) -> None:
    """Let this page's forms end in a redirect to ``uri``, a redirect or post-logout URI already checked
    against the client's registration. CSP ``form-action`` also governs the redirects that follow a form
    submission (login, consent and logout confirmation finish at the relying party), so otherwise only
    'self' is allowed."""
    source = _form_target_source(uri)
    if source:
        g.setdefault("form_targets", set()).add(source)


def _form_target_source(uri: str | None) -> str | None:
    """The CSP source for ``uri``: its origin for http(s) (paths are not compared after a redirect anyway),
    its scheme for an app's private-use scheme; None for anything that does not parse cleanly."""
    if not uri:
        return None
    parts = urlsplit(uri)
    if not _SCHEME.match(parts.scheme) or parts.scheme in _UNSAFE_SCHEMES:
        return None
    if parts.scheme in ("http", "https"):
        return f"{parts.scheme}://{parts.netloc}" if _HOST.match(parts.netloc) else None
    return parts.scheme + ":"


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def init_app(app, service_name: str) -> None:
    @app.context_processor
    def template_context():
        return {"csp_nonce": csp_nonce(), "service_name": service_name, "html_lang": current_language(),
                "language_toggle": language_toggle()}

    @app.before_request
    def refuse_nul_bytes():
        """No identifier, URI or text we store may contain NUL (PostgreSQL text cannot hold it).
        Documents that read no parameters (discovery, JWKS, trust mark, assets) ignore their query as before."""
        surface = surface_of(request.path)
        if surface is Surface.DOCUMENT:
            return None
        in_path = any(isinstance(v, str) and "\x00" in v for v in (request.view_args or {}).values())
        if in_path or any("\x00" in key or "\x00" in value for source in (request.args, _form_if_readable())
                          for key, value in source.items(multi=True)):
            if surface is Surface.API:
                return error_response(400, "invalid_request", "Parameters must not contain NUL.")
            return error_page(PROBLEM_WITH_THE_SERVICE, N_(
                "The link or form you used contains a character we cannot accept. "
                "Go back to the service you were using and try again."), 400,
                oauth_error="invalid_request", description="Parameters must not contain NUL.")

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        # same-origin: our own form posts keep their Referer (Flask-WTF checks it over https); others get none.
        headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html":
            nonce = csp_nonce()
            form_action = " ".join(["'self'", *sorted(g.get("form_targets", ()))])
            headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; "
                f"script-src 'self' 'nonce-{nonce}'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
                f"form-action {form_action}; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
            )
            headers.setdefault("X-Frame-Options", "DENY")
            headers.setdefault("Cache-Control", "no-store")
        if surface_of(request.path) is Surface.API:
            headers["Cache-Control"] = "no-store"
            headers["Pragma"] = "no-cache"
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        return error_page(N_("Your page has expired"), N_(
            "For your security, this form could not be sent. Go back, refresh the page and try again."), 400)

    @app.errorhandler(HTTPException)
    def http_error(error):
        if not surface_of(request.path).is_page:
            problem = {"type": "about:blank", "title": error.name, "status": error.code, "detail": error.description}
            if error.code and error.code < 500:
                response = error_response(error.code, "invalid_request", error.description or error.name, **problem)
            else:
                response = jsonify(problem)
                response.status_code = error.code or 500
            response.mimetype = "application/problem+json"
            if error.code == 405:
                response.headers["Allow"] = ", ".join(error.valid_methods or [])
            return response
        status = error.code or 500
        if status in _PAGES:
            return error_page(*_PAGES[status], status)
        # Werkzeug's own description is for developers; the person gets plain words and a way back.
        return error_page(PROBLEM_WITH_THE_SERVICE, N_("The link or form you used did not work."), status,
                          advice=GO_BACK, description=error.description)

    @app.errorhandler(Exception)
    def unexpected(error):
        app.logger.exception("unhandled error on %s %s", request.method, request.path[:200])
        # Whatever the failed view left pending is not kept: the session saved after this response commits.
        from .extensions import db

        db.session.rollback()
        from .operations.metrics import count_unhandled_error

        count_unhandled_error()
        if not surface_of(request.path).is_page:
            return error_response(500, "server_error", "Something went wrong on our side.")
        return error_page(PROBLEM_WITH_THE_SERVICE, N_("Try again later."), 500)


PROBLEM_WITH_THE_SERVICE = N_("Sorry, there is a problem with the service")
GO_BACK = N_("Go back to the service you were using and try again.")
# (heading, message) of the statuses a person meets most.
_PAGES = {404: (N_("Page not found"), N_("If you typed the web address, check it is correct.")),
          405: (PROBLEM_WITH_THE_SERVICE, N_("This page cannot be used in that way.")),
          413: (N_("Sorry, that was too much to send"),
                N_("The request was too large. Go back and try again with less information."))}


def error_page(heading: str, message: str, status: int, *, advice: str | None = None,
               oauth_error: str | None = None, description: str | None = None):
    """An error page that speaks to the person, in their language: ``heading``, ``message`` and ``advice`` are
    message ids (marked with N_ where they are written). ``oauth_error`` and ``description`` are for the
    service's developers: shown as they are, folded away under "Details for the service's developers"."""
    return render_template(
        "errors/error.html", heading=gettext(heading), message=gettext(message),
        advice=gettext(advice) if advice else None, oauth_error=oauth_error, description=description,
        status=status,
    ), status


def _form_if_readable():
    """The form, unless it is too large to read (the view's own 413 handles that)."""
    try:
        return request.form
    except RequestEntityTooLarge:
        return MultiDict()
