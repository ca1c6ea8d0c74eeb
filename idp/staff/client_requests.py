"""Admins approve integrators' clients (issue 11): the queue of requests for integration and live, each shown
with its purpose, what it asks, what carries more risk, and the difference from what is approved now."""
from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, url_for

from ..developer import approval, clients
from ..developer.organisations import PortalError
from ..extensions import db
from ..i18n import N_
from ..models import Client, ClientRequest, Integrator, Organisation, Service
from . import audit
from .access import ADMIN, current_staff, register_area, requires_role
from .blueprint import bp

register_area(N_("Client requests"), "staff.client_requests", ADMIN,
              N_("Approve or reject integrators' clients for integration and live."))


@bp.route("/client-requests")
@requires_role(ADMIN)
def client_requests():
    pending = clients.pending_requests()
    services = {s.id: s for s in Service.query.filter(Service.id.in_([r.service_id for r in pending]))} if pending else {}
    return render_template("staff/client_requests.html", requests=pending, services=services,
                           decided=request.args.get("decided"))


def _review(found: ClientRequest, errors=(), status=200):
    service = db.session.get(Service, found.service_id)
    organisation = db.session.get(Organisation, service.organisation_id)
    current = db.session.get(Client, found.client_id) if found.client_id else None
    try:
        values = clients.asked(found, current_app.extensions["idp"].settings)
    except PortalError as exc:  # no longer registrable (a rule changed since): shown, and approval will say so
        values, errors = {}, [*errors, {"field": "decision", "message": str(exc)}]
    requester = db.session.get(Integrator, found.requested_by)
    return render_template("staff/client_request.html", found=found, service=service, organisation=organisation,
                           current=current, requester=requester,
                           differences=approval.difference(current.approved if current else None, values),
                           errors=list(errors)), status


@bp.route("/client-requests/<request_id>", methods=["GET", "POST"])
@requires_role(ADMIN)
def client_request(request_id):
    found = db.session.get(ClientRequest, request_id) if len(request_id) <= 36 else None
    if found is None:
        abort(404)
    if request.method == "GET":
        return _review(found)
    decision = request.form.get("decision")
    if decision not in ("approve", "reject"):
        return _review(found, [{"field": "decision", "message": "Select approve or reject"}], 400)
    member = current_staff()
    try:
        # The staff audit first: the decision's commit keeps it with the decision.
        audit.record(f"client_request.{'approved' if decision == 'approve' else 'rejected'}", subject=found.id)
        clients.decide(found, decision == "approve", request.form.get("note"), member.email, member.id,
                       current_app.extensions["idp"].settings)
    except PortalError as exc:
        db.session.rollback()
        return _review(found, [{"field": exc.field or "decision", "message": str(exc)}], 400)
    return redirect(url_for("staff.client_requests", decided=found.id))
