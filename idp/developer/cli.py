"""``idp developer``: what operators see of the integrator portal: organisations and their members, and the
client requests waiting for an admin (decided in the staff area, ``/staff/client-requests``)."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import click
from flask.cli import AppGroup

from ..extensions import db
from ..models import Client, ClientRequest, Integrator, Organisation, Service

developer_cli = AppGroup("developer", help="The integrator portal: organisations, members, client requests.")


def _when(at: int) -> str:
    return datetime.fromtimestamp(at, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@developer_cli.command("organisations")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line.")
def organisations(as_json):
    """Every organisation: identifier, members (active/all), services and clients."""
    for organisation in Organisation.query.order_by(Organisation.created_at):
        members = Integrator.query.filter_by(organisation_id=organisation.id).all()
        service_ids = [s.id for s in Service.query.filter_by(organisation_id=organisation.id)]
        clients = Client.query.filter(Client.service_id.in_(service_ids)).count() if service_ids else 0
        row = {"id": organisation.id, "name": organisation.name, organisation.identifier_kind: organisation.identifier,
               "members": len(members), "active_members": sum(m.status == "active" for m in members),
               "services": len(service_ids), "clients": clients, "since": _when(organisation.created_at)}
        if as_json:
            click.echo(json.dumps(row))
        else:
            click.echo(f"{row['since']}\t{organisation.name}\t{organisation.identifier}\t"
                       f"{row['active_members']}/{row['members']} members\t{row['services']} services\t"
                       f"{clients} clients")


@developer_cli.command("requests")
@click.option("--status", type=click.Choice(["pending", "approved", "rejected"]), default="pending")
def requests(status):
    """Client requests (default: those waiting), oldest first, with what is flagged."""
    for request in ClientRequest.query.filter_by(status=status).order_by(ClientRequest.requested_at):
        service = db.session.get(Service, request.service_id)
        flags = f"\tFLAGGED: {'; '.join(request.flags)}" if request.flags else ""
        what = (f"change of {request.client_id}" if request.client_id and status == "pending"
                else request.client_id or "new client")
        click.echo(f"{_when(request.requested_at)}\t{request.id}\t{request.environment}\t"
                   f"{service.name if service else '?'}\t{what}{flags}")
