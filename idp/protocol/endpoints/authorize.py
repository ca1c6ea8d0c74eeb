"""GET/POST /authorize and the resume point the login surface sends people back to."""
from flask import redirect, request

from ...extensions import csrf
from ...i18n import N_
from ...web import GO_BACK, PROBLEM_WITH_THE_SERVICE, error_page
from .. import interactions
from ..asserted_login import parked
from ..authorization import (
    AuthorizationRequest,
    ErrorPage,
    ErrorRedirect,
    Interact,
    error_location,
    issue_code,
    run,
)
from . import bp, idp


@bp.route("/authorize", methods=["GET", "POST"])
@csrf.exempt
def authorize():
    source = request.args if request.method == "GET" else request.form
    return _respond(AuthorizationRequest(params=source.to_dict(flat=False)))


@bp.get("/authorize/resume/<interaction_id>")
def resume(interaction_id):
    record = interactions.load(interaction_id)
    if record is None:
        return error_page(PROBLEM_WITH_THE_SERVICE, N_(
            "This login has timed out or was already finished. Go back to the service you were using and try again."),
            400)
    return _respond(AuthorizationRequest(params=dict(record.params), interaction=record))


def _respond(req: AuthorizationRequest):
    settings = idp().settings
    try:
        run(req, settings)
        return redirect(issue_code(req, settings))
    except ErrorPage as error:
        return error_page(PROBLEM_WITH_THE_SERVICE, error.message, error.status, advice=GO_BACK,
                          oauth_error=error.error, description=error.description)
    except ErrorRedirect as error:
        return redirect(error_location(req, settings, error))
    except Interact as needed:
        if req.interaction is not None:
            interactions.ask(req.interaction, needed.kind, needed.needs)
            interaction = req.interaction
        else:
            asserted = parked(req.asserted_login) if req.asserted_login else None
            interaction = interactions.start(needed.kind, params=req.params, client_id=req.client.client_id,
                                             needs=needed.needs, asserted_login=asserted)
        return redirect(interactions.page_url(interaction))
