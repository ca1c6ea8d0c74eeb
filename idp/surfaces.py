"""Which surface a request belongs to, declared once per blueprint (or per view) and derived for paths.

A *page* is for people (browser session, CSRF, HTML errors in their language); an *API* is for
machines (no browser session, JSON errors, ``no-store``); a *document* is a public, parameterless
resource (discovery, JWKS, trust mark, static assets: no session, its query ignored). Sessions,
error handling and security headers all ask ``surface_of(path)``, so they cannot disagree.
The session is opened before Flask matches the URL, hence a path lookup built from the URL map.
"""
from __future__ import annotations

import enum
from functools import lru_cache


class Surface(str, enum.Enum):
    PAGE = "page"
    API = "api"
    DOCUMENT = "document"
    STAFF_PAGE = "staff_page"  # pages for staff: HTML like a page, but their own session (idp/staff)
    DEVELOPER_PAGE = "developer_page"  # the integrator portal: HTML, its own session (idp/developer)

    @property
    def is_page(self) -> bool:
        """For a person in a browser: HTML errors, CSRF."""
        return self in (Surface.PAGE, Surface.STAFF_PAGE, Surface.DEVELOPER_PAGE)

    @property
    def has_browser_session(self) -> bool:
        """The patients' browser session; staff and portal pages never read or write it."""
        return self is Surface.PAGE


_ATTRIBUTE = "_idp_surface"


def declare(target, surface: Surface):
    """Declare a blueprint's surface (the default for its views), or one view's."""
    setattr(target, _ATTRIBUTE, surface)
    return target


def view(surface: Surface):
    """Decorator for a view whose surface differs from its blueprint's."""
    return lambda function: declare(function, surface)


class SurfaceMap:
    """Path -> surface for one app, built from its URL map once every blueprint is registered."""

    def __init__(self, app):
        self.exact: dict[str, Surface] = {}
        prefixes = []
        for rule in app.url_map.iter_rules():
            function = app.view_functions.get(rule.endpoint)
            blueprint = app.blueprints.get(rule.endpoint.rpartition(".")[0])
            surface = (getattr(function, _ATTRIBUTE, None) or getattr(blueprint, _ATTRIBUTE, None)
                       or (Surface.DOCUMENT if rule.endpoint == "static" else Surface.PAGE))
            static_part = rule.rule.split("<", 1)[0]
            if static_part == rule.rule:
                self.exact[rule.rule] = surface
            elif len(static_part) > 1:
                prefixes.append((static_part, surface))
        # A blueprint that declares its surface owns its whole prefix: an unknown /provisioning/v1/x is the API's 404.
        for blueprint in app.blueprints.values():
            declared = getattr(blueprint, _ATTRIBUTE, None)
            if declared is not None and blueprint.url_prefix and len(blueprint.url_prefix) > 1:
                prefixes.append((blueprint.url_prefix.rstrip("/") + "/", declared))
        self.prefixes = sorted(prefixes, key=lambda entry: len(entry[0]), reverse=True)
        self._cached = lru_cache(maxsize=4096)(self._lookup)

    def __call__(self, path: str) -> Surface:
        # Unknown paths are pages (their 404 is for a person); a stranger's long paths are never cached.
        return self._cached(path) if len(path) <= 256 else self._lookup(path)

    def _lookup(self, path: str) -> Surface:
        if path in self.exact:
            return self.exact[path]
        for prefix, surface in self.prefixes:
            if path.startswith(prefix):
                return surface
        return Surface.PAGE


def install(app) -> None:
    app.extensions["idp.surfaces"] = SurfaceMap(app)


def surface_of(path: str, app=None) -> Surface:
    """The surface ``path`` belongs to in this app."""
    from flask import current_app

    return (app or current_app).extensions["idp.surfaces"](path)
