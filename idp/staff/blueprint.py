"""The staff area's blueprint: its own surface (staff pages, their own session), never cached."""
from flask import Blueprint

from .. import surfaces
from ..surfaces import Surface

bp = surfaces.declare(Blueprint("staff", __name__, url_prefix="/staff"), Surface.STAFF_PAGE)


@bp.after_request
def never_cache(response):
    # Staff pages show people's details: no browser or proxy may keep a copy (RFC 9111 5.2.2.5; Pragma for HTTP/1.0).
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response
