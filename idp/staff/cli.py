"""``idp staff``: add staff members (a one-time set-up link), list, disable and reset them.

Other packages add their commands to ``staff_cli`` (``idp staff queue``). Every change is audited
with the actor ``operator:cli``.
"""
from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import AppGroup

from ..extensions import db
from . import audit, members
from .access import ROLES

staff_cli = AppGroup("staff", help="Staff area accounts (ID checking team, health professionals, admins).")
OPERATOR = "operator:cli"


def _settings():
    return current_app.extensions["idp"].settings


def _member(email: str):
    member = members.find(email)
    if member is None:
        raise click.ClickException(f"{email} is not a staff member")
    return member


@staff_cli.command("add")
@click.option("--email", required=True)
@click.option("--role", "roles", multiple=True, required=True, help=f"One of {', '.join(ROLES)} (repeat for several).")
@click.option("--ods-code", "ods_codes", multiple=True,
              help="An organisation they may provision accounts for from the staff area (repeat for several).")
def staff_add(email, roles, ods_codes):
    """Add a staff member and print their one-time set-up link (valid 72 hours)."""
    try:
        member, link = members.add(email, list(roles), _settings(), ods_codes=ods_codes)
    except members.StaffAccountError as error:
        raise click.ClickException(str(error)) from None
    db.session.flush()
    audit.record("member.added", member=None, actor=OPERATOR, subject=member.id, roles=member.roles,
                 ods_codes=member.ods_codes or None)
    db.session.commit()
    click.echo(f"added {member.email} ({', '.join(member.roles)})")
    click.echo(f"set-up link (valid 72 hours, once): {link}")


@staff_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def staff_list(as_json):
    """Every staff member with their roles and status."""
    from ..models import StaffMember

    for member in StaffMember.query.order_by(StaffMember.email).all():
        row = {"email": member.email, "roles": member.roles, "status": member.status,
               "ods_codes": list(member.ods_codes or []), "last_login_at": member.last_login_at}
        click.echo(json.dumps(row) if as_json else f"{member.email}\t{','.join(member.roles)}\t{member.status}")


@staff_cli.command("ods-codes")
@click.option("--email", required=True)
@click.option("--ods-code", "ods_codes", multiple=True, help="Repeat for several; none clears the list.")
def staff_ods_codes(email, ods_codes):
    """Set the organisations a member may provision accounts for (replaces the list)."""
    member = _member(email)
    try:
        member.ods_codes = members.ods_codes_of(ods_codes)
    except members.StaffAccountError as error:
        raise click.ClickException(str(error)) from None
    audit.record("member.ods_codes_set", member=None, actor=OPERATOR, subject=member.id, ods_codes=member.ods_codes)
    db.session.commit()
    click.echo(f"{member.email} may provision for: {', '.join(member.ods_codes) or 'no organisation'}")


@staff_cli.command("disable")
@click.option("--email", required=True)
def staff_disable(email):
    """Disable a member: they cannot log in, and their sessions end now."""
    member = _member(email)
    members.disable(member)
    audit.record("member.disabled", member=None, actor=OPERATOR, subject=member.id, via="cli")
    db.session.commit()
    click.echo(f"disabled {member.email}")


@staff_cli.command("reset")
@click.option("--email", required=True)
def staff_reset(email):
    """Clear a member's password and authenticator app and print a new set-up link."""
    member = _member(email)
    link = members.reset(member, _settings())
    audit.record("member.reset", member=None, actor=OPERATOR, subject=member.id)
    db.session.commit()
    click.echo(f"reset {member.email}: their password and authenticator app are cleared")
    click.echo(f"set-up link (valid 72 hours, once): {link}")


@staff_cli.command("queue")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def staff_queue(as_json):
    """The ID checking team's queue, most urgent first, with due times (UTC) and who holds each."""
    from datetime import datetime, timezone

    from ..proofing.photo_id import submissions

    def when(seconds):
        return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%d %H:%M") if seconds else "-"

    from ..models import StaffMember

    entries = submissions.queue()
    holders = {m.id: m.email for m in StaffMember.query.filter(
        StaffMember.id.in_({e.claimed_by for e in entries if e.claimed_by})).all()}
    if as_json:
        for entry in entries:
            row = entry.submission
            click.echo(json.dumps({"id": row.id, "route": row.route, "document_type": row.document_type,
                                   "submitted_at": row.submitted_at, "due_at": row.due_at,
                                   "overdue": entry.overdue, "claimed_by": entry.claimed_by}))
        return
    click.echo(f"{len(entries)} waiting for review (times UTC)")
    for entry in entries:
        row = entry.submission
        marks = ["OVERDUE"] if entry.overdue else []
        if entry.claimed_by:
            marks.append(f"being reviewed by {holders.get(entry.claimed_by, entry.claimed_by)}")
        click.echo(f"{row.id}\tdue {when(row.due_at)}\tsent {when(row.submitted_at)}\t{row.document_type}"
                   f"\t{' '.join(marks)}".rstrip())
