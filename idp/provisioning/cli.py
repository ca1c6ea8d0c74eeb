"""``idp provisioning``: the requests staff systems have made, for operations (list, cancel)."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import click
from flask.cli import AppGroup

from ..clock import now
from ..models import ProvisioningRequest
from ..models.provisioning import REQUEST_STATUSES
from . import requests as rules

provisioning_cli = AppGroup("provisioning", help="Account provisioning requests made by staff systems.")
OPERATOR = "operator:cli"


def _when(value) -> str:
    return datetime.fromtimestamp(value, timezone.utc).strftime("%Y-%m-%d %H:%M") if value else "-"


@provisioning_cli.command("list")
@click.option("--ods-code", default=None, help="Only requests made for this ODS code.")
@click.option("--status", type=click.Choice(REQUEST_STATUSES), default=None)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def provisioning_list(ods_code, status, as_json):
    """Requests, newest first (times UTC). No personal data: ids, ODS codes, clients and statuses."""
    query = ProvisioningRequest.query.order_by(ProvisioningRequest.created_at.desc(), ProvisioningRequest.id)
    if ods_code:
        query = query.filter_by(ods_code=ods_code.strip().upper())
    current = now()
    for row in query.limit(10000):
        shown = row.status_at(current)
        if status and shown != status:
            continue
        if as_json:
            click.echo(json.dumps(rules.status_body(row) | {"client_id": row.client_id}))
        else:
            click.echo(f"{row.id}\t{shown}\t{row.code}\t{row.ods_code}\tclient {row.client_id}\t"
                       f"made {_when(row.created_at)}\texpires {_when(row.expires_at)}")


@provisioning_cli.command("cancel")
@click.argument("provisioning_id")
def provisioning_cancel(provisioning_id):
    """Cancel a pending request: its link stops working at once."""
    answer = rules.cancel(None, provisioning_id, by=OPERATOR)
    if answer.status == 404:
        raise click.ClickException(f"no provisioning request {provisioning_id}")
    if answer.status != 200:
        raise click.ClickException(f"{provisioning_id} is {answer.body.get('status') or 'not pending'}: "
                                   "only a pending request can be cancelled")
    click.echo(f"cancelled {provisioning_id}")
