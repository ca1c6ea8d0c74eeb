"""``idp pds``: load the synthetic PDS set (development and sandpit only)."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

pds_cli = AppGroup("pds", help="The synthetic Personal Demographics Service (never in live).")


def live_refusal(settings) -> str | None:
    """Why loading is refused here, or None: live proofs people against the real PDS only."""
    if settings.env == "live":
        return "the synthetic PDS cannot be loaded when IDP_ENV is live (live uses the PDS FHIR API)"
    return None


@pds_cli.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def pds_load(file):
    """Replace the synthetic PDS set and its GP online accounts with FILE (NDJSON or a FHIR Bundle of
    Patients; the shipped set is idp/proofing/data/synthetic-pds.ndjson)."""
    from ..extensions import db
    from ..models import SyntheticPatient
    from .pds.synthetic import SyntheticSetError, load

    refusal = live_refusal(current_app.extensions["idp"].settings)
    if refusal:
        raise click.ClickException(refusal)  # stderr, exit status 1
    earlier = db.session.query(SyntheticPatient).count()
    try:
        result = load(file)
    except SyntheticSetError as exc:
        raise click.ClickException(f"{file}: {exc} (nothing was loaded)") from None
    click.echo(f"loaded {result.patients} patients and {result.gp_accounts} GP online accounts into the "
               f"synthetic PDS{' (replacing the earlier set)' if earlier else ''}")
