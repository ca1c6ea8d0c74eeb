"""The integrator portal's blueprint: its own surface (portal pages, their own session), never cached."""
from flask import Blueprint

from .. import surfaces
from ..surfaces import Surface

bp = surfaces.declare(Blueprint("developer", __name__, url_prefix="/developer"), Surface.DEVELOPER_PAGE)


@bp.after_request
def never_cache(response):
    # Portal pages show keys, test people's codes and client settings: no browser or proxy keeps a copy.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response
