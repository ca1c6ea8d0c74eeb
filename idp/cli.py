"""The ``idp`` command: Flask's commands (``idp db upgrade``, ``idp routes``) plus keys, clients, users, demo.

Every command prints JSON or plain lines and never prints private keys; a
client secret, or an authenticator app key set up by `idp users add-totp`, is printed once.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
from datetime import datetime, timezone

import click
from flask import current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext

from .extensions import db


def _ctx():
    return current_app.extensions["idp"]


def _fail(message: str):
    raise click.ClickException(message)


# --- keys ---------------------------------------------------------------------------------
keys_cli = AppGroup("keys", help="The provider's signing keys.")


@keys_cli.command("init")
def keys_init():
    """Make sure every supported algorithm has a signing key (development keys in development)."""
    ctx = _ctx()
    created = ctx.keystore.ensure_keys(development=ctx.settings.is_development)
    for row in created:
        click.echo(f"created {row.alg} key {row.kid}{' (development)' if row.development else ''}")
    if not created:
        click.echo("signing keys present")


@keys_cli.command("rotate")
@click.option("--alg", default=None, help="Rotate one algorithm (default: all).")
@click.option("--promote-after", type=int, default=None, help="Seconds before the new key signs (default IDP_KEY_PROMOTE_AFTER).")
@click.option("--retire-now", is_flag=True, help="Sign with the new key at once and drop old keys from the JWKS now (going live).")
def keys_rotate(alg, promote_after, retire_now):
    """Publish new keys now; they sign after the delay; old keys leave the JWKS after the longest token lifetime."""
    from .protocol.keys import SUPPORTED_ALGS

    ctx = _ctx()
    algs = [alg] if alg else list(SUPPORTED_ALGS)
    for name in algs:
        if name not in SUPPORTED_ALGS:
            _fail(f"--alg must be one of {', '.join(SUPPORTED_ALGS)}")
        row = ctx.keystore.rotate(name, promote_after=promote_after, retire_now=retire_now,
                                  development=ctx.settings.is_development)
        click.echo(json.dumps({"alg": name, "kid": row.kid, "signs_from": row.activates_at}))


@keys_cli.command("list")
def keys_list():
    from .models import SigningKey

    for row in SigningKey.query.order_by(SigningKey.alg, SigningKey.activates_at).all():
        click.echo(json.dumps({
            "kid": row.kid, "alg": row.alg, "development": row.development, "activates_at": row.activates_at,
            "deactivated_at": row.deactivated_at, "retire_at": row.retire_at,
        }))


@keys_cli.command("prune")
def keys_prune():
    """Delete keys that have left the JWKS."""
    click.echo(f"deleted {_ctx().keystore.prune()} retired keys")


# --- clients ------------------------------------------------------------------------------
clients_cli = AppGroup("clients", help="Relying-party registrations.")


def _client_options(f):
    options = [
        click.option("--name"),
        click.option("--redirect-uri", "redirect_uris", multiple=True),
        click.option("--post-logout-redirect-uri", "post_logout_redirect_uris", multiple=True),
        click.option("--public-key", "public_key", type=click.Path(exists=True, dir_okay=False)),
        click.option("--jwks-file", type=click.Path(exists=True, dir_okay=False)),
        click.option("--jwks-uri"),
        click.option("--scope"),
        click.option("--vtr"),
        click.option("--backchannel-logout-uri"),
        click.option("--env", "environment", type=click.Choice(["sandpit", "integration", "live"])),
        click.option("--refresh-tokens/--no-refresh-tokens", default=None),
        click.option("--auth-method", type=click.Choice(["private_key_jwt", "client_secret_basic", "client_secret_post"])),
        click.option("--id-token-alg", type=click.Choice(["RS512", "RS256", "PS256", "ES256"])),
        click.option("--pkce", type=click.Choice(["required", "optional"])),
        click.option("--nonce", type=click.Choice(["required", "optional"])),
        click.option("--subject-type", type=click.Choice(["public", "pairwise"])),
        click.option("--sector-identifier-uri", help="Pairwise subjects: a JSON array of redirect URIs (OIDC Registration 5)."),
        click.option("--prompt-none-error", type=click.Choice(["login_required", "sso_login_required"])),
        click.option("--sso-partner", "sso_partners", multiple=True,
                     help="A client whose asserted_login_identity this one accepts (repeat for several)."),
        click.option("--provisioning", is_flag=True, default=False,
                     help="A staff system calling the account provisioning API (client_credentials, scope "
                          "provisioning); needs --public-key or --jwks-file and --ods-code."),
        click.option("--ods-code", "ods_codes", multiple=True,
                     help="Provisioning clients: an ODS code it may act for (repeat for several; replaces the list)."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _fields(kw) -> tuple[dict, dict]:
    fields = {
        "name": kw.get("name"),
        "redirect_uris": list(kw["redirect_uris"]) or None,
        "post_logout_redirect_uris": list(kw["post_logout_redirect_uris"]) or None,
        "scope": kw.get("scope"),
        "vtr": kw.get("vtr"),
        "backchannel_logout_uri": kw.get("backchannel_logout_uri"),
        "environment": kw.get("environment"),
        "refresh_tokens": kw.get("refresh_tokens"),
        "token_endpoint_auth_method": kw.get("auth_method"),
        "id_token_signed_response_alg": kw.get("id_token_alg"),
        "pkce": kw.get("pkce"),
        "nonce": kw.get("nonce"),
        "subject_type": kw.get("subject_type"),
        "sector_identifier_uri": kw.get("sector_identifier_uri"),
        "prompt_none_error": kw.get("prompt_none_error"),
        "sso_partners": list(kw["sso_partners"]) or None,
        "kind": "provisioning" if kw.get("provisioning") else None,
        "ods_codes": list(kw.get("ods_codes") or ()) or None,
    }
    key = {}
    if kw.get("public_key"):
        with open(kw["public_key"]) as fh:
            key["public_key_pem"] = fh.read()
    if kw.get("jwks_file"):
        with open(kw["jwks_file"]) as fh:
            try:
                key["jwks"] = json.load(fh)
            except ValueError:
                _fail("--jwks-file is not JSON")
    if kw.get("jwks_uri"):
        key["jwks_uri"] = kw["jwks_uri"]
    return fields, key


def _print_client(client, secret=None):
    data = client.to_dict()
    if secret:
        data["client_secret"] = secret
    click.echo(json.dumps(data, indent=2))


@clients_cli.command("add")
@click.option("--client-id", default=None, help="Choose the client_id (default: random).")
@_client_options
def clients_add(client_id, **kw):
    """Register a client; prints it as JSON (with the secret, once, for the secret methods)."""
    from .protocol.registration import RegistrationError, register_client

    fields, key = _fields(kw)
    try:
        client, secret = register_client(fields, development=_ctx().settings.is_development, client_id=client_id, key=key)
    except RegistrationError as exc:
        _fail(str(exc))
    _print_client(client, secret)


@clients_cli.command("update")
@click.argument("client_id")
@click.option("--new-secret", is_flag=True, help="Issue a new client secret (secret methods only).")
@_client_options
def clients_update(client_id, new_secret, **kw):
    from .models import Client
    from .protocol.registration import RegistrationError, update_client

    client = db.session.get(Client, client_id) or _fail(f"no client {client_id}")
    fields, key = _fields(kw)
    try:
        secret = update_client(client, fields, development=_ctx().settings.is_development, key=key, new_secret=new_secret)
    except RegistrationError as exc:
        _fail(str(exc))
    _print_client(client, secret)


@clients_cli.command("config")
@click.argument("client_id")
@click.option("--snippet", type=click.Choice(["python", "node", "dotnet", "java"]), default=None,
              help="Print the code for one relying-party library instead of the values.")
def clients_config(client_id, snippet):
    """The configuration to paste into a relying party: the values (JSON), or a library's snippet."""
    from .developer.configuration import for_client
    from .models import Client

    client = db.session.get(Client, client_id) or _fail(f"no client {client_id}")
    try:
        configuration = for_client(client, _ctx().settings)
    except ValueError as exc:
        _fail(str(exc))
    click.echo(configuration.snippet(snippet) if snippet else json.dumps(configuration.values(), indent=2))


@clients_cli.command("list")
def clients_list():
    from .models import Client

    for client in Client.query.order_by(Client.name).all():
        click.echo(f"{client.client_id}\t{client.environment}\t{client.name}")


@clients_cli.command("show")
@click.argument("client_id")
def clients_show(client_id):
    from .models import Client

    _print_client(db.session.get(Client, client_id) or _fail(f"no client {client_id}"))


@clients_cli.command("remove")
@click.argument("client_id")
def clients_remove(client_id):
    from .models import Client

    client = db.session.get(Client, client_id) or _fail(f"no client {client_id}")
    db.session.delete(client)
    db.session.commit()
    client.forget_cached(client_id)
    click.echo(f"removed {client_id}")


@clients_cli.command("initial-access-token")
@click.option("--env", "environment", type=click.Choice(["sandpit", "integration", "live"]), default="sandpit",
              help="The environment clients registered with it belong to (secret methods: sandpit only).")
@click.option("--description", help="Who or what it is for.")
@click.option("--expires-in", type=click.IntRange(min=1), default=None, help="Seconds it is valid (default: until revoked).")
@click.option("--pkce", type=click.Choice(["required", "optional"]), default=None,
              help="PKCE for clients registered with it that do not say (default: required).")
@click.option("--nonce", type=click.Choice(["required", "optional"]), default=None,
              help="nonce for clients registered with it that do not say (default: required).")
def clients_initial_access_token(environment, description, expires_in, pkce, nonce):
    """Print a new initial access token for POST /register (RFC 7591 3), once: only its hash is stored."""
    from .protocol.dynamic_registration import issue_initial_access_token

    if description is not None and len(description) > 200:
        _fail("--description: at most 200 characters")
    defaults = {k: v for k, v in (("pkce", pkce), ("nonce", nonce)) if v}
    click.echo(issue_initial_access_token(environment, description, expires_in, client_defaults=defaults))


@clients_cli.command("sync")
@click.option("--dir", "directory", default=None, help="Folder of client JSON files (default: clients/).")
def clients_sync(directory):
    """Create or update the clients described by JSON files in clients/ (declarative registrations)."""
    from . import ROOT
    from .clients_sync import sync_directory

    lines = sync_directory(directory or os.path.join(ROOT, "clients"), _ctx().settings.is_development)
    for line in lines:
        click.echo(line)
    if any(line.startswith("skipped") for line in lines):
        raise SystemExit(1)


# --- people -------------------------------------------------------------------------------
users_cli = AppGroup("users", help="Test people (never in live) and what a person can log in with.")


@users_cli.command("add")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--phone")
@click.option("--level", type=click.Choice(["P0", "P5", "P9"]), default="P0")
@click.option("--nhs-number")
@click.option("--given-name")
@click.option("--family-name")
@click.option("--birthdate")
@click.option("--postcode")
@click.option("--gp-ods-code")
def users_add(**kw):
    """Create a test person with verified email (and phone, if given)."""
    from .people import TestPersonError, add_test_person

    try:
        person = add_test_person(_ctx().settings, **kw)
    except TestPersonError as exc:
        _fail(str(exc))
    click.echo(json.dumps({"sub": person.id, "email": person.email, "level": person.proofing_level}))


@users_cli.command("explain")
@click.argument("email")
@click.option("--json", "as_json", is_flag=True, help="The evidence as JSON instead of plain words.")
def users_explain(email, as_json):
    """How the person reached their proofing level: each piece of evidence, in order."""
    from .people import TestPersonError, find_person
    from .proofing import evidence

    try:
        person = find_person(email)
    except TestPersonError as exc:
        _fail(str(exc))
    lines = evidence.explain(person)
    if as_json:
        click.echo(json.dumps({"sub": person.id, "proofing_level": person.proofing_level,
                               "evidenced_level": evidence.evidenced_level(person.id),
                               "evidence": [line.data for line in lines]}, indent=2))
        return
    click.echo(f"{person.email} is at {person.proofing_level}.")
    if not lines:
        click.echo("No evidence is recorded: the account has not proved who they are (P0).")
    for number, line in enumerate(lines, 1):
        click.echo(f"{number}. {line.text}")
    summary = evidence.level_summary(person.id)
    if summary:
        click.echo(summary)


@users_cli.command("add-totp")
@click.argument("email")
def users_add_totp(email):
    """Set up an authenticator app (Ck) for a person; prints its base32 key and otpauth:// URI, once."""
    from .people import TestPersonError, add_authenticator_app

    try:
        person, enrolment, replaced = add_authenticator_app(_ctx().settings, email)
    except TestPersonError as exc:
        _fail(str(exc))
    click.echo(json.dumps({"sub": person.id, "email": person.email, "key": enrolment.secret,
                           "otpauth_uri": enrolment.provisioning_uri}))
    if replaced:
        click.echo("replaced the earlier authenticator app", err=True)
    # RFC 6238 5.2: the code that confirmed the app counts as used, as on the set-up page.
    click.echo("the current code confirmed the app: log in with the next one", err=True)


@users_cli.command("list-devices")
@click.argument("email")
def users_list_devices(email):
    """The person's phone (masked), authenticator app, passkeys and remembered devices, one line each."""
    from .people import TestPersonError, login_devices

    try:
        devices = login_devices(email)
    except TestPersonError as exc:
        _fail(str(exc))
    click.echo(f"phone: {devices.phone} ({devices.phone_channel})" if devices.phone else "phone: none")
    app = devices.authenticator_app
    click.echo(f"authenticator app: yes, added {_when(app.created_at)}, last used {_when(app.last_used_at)}"
               if app else "authenticator app: no")
    for passkey in devices.passkeys:
        click.echo(f"passkey: {passkey.name}, added {_when(passkey.created_at)}, "
                   f"last used {_when(passkey.last_used_at)}")
    if not devices.passkeys:
        click.echo("passkeys: none")
    for device in devices.remembered_devices:
        click.echo(f"remembered device: {device.label}, added {_when(device.created_at)}, "
                   f"last used {_when(device.last_used_at)}")
    if not devices.remembered_devices:
        click.echo("remembered devices: none")


def _when(epoch: int | None) -> str:
    if epoch is None:
        return "never"
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


# --- demo ---------------------------------------------------------------------------------
demo_cli = AppGroup("demo", help="Demo data for development and sandpit.")


@demo_cli.command("load")
def demo_load():
    """The demo relying party's key and registration (at DEMO_RP_BASE_URL or DEMO_RP_PORT), and a few test
    people (idempotent)."""
    from .demo import load_demo

    lines = load_demo(_ctx().settings)
    for line in lines:
        click.echo(line)
    if any(line.startswith("skipped") for line in lines):
        raise SystemExit(1)  # `make run` stops here rather than serving a tour whose first click fails


# --- conformance ----------------------------------------------------------------------------
conformance_cli = AppGroup("conformance", help="The OpenID Foundation conformance suite (conformance/README.md).")


@conformance_cli.command("setup")
@click.option("--suite-url", required=True, help="The suite's base URL, e.g. https://localhost.emobix.co.uk:8443.")
@click.option("--alias", default="idp", show_default=True, help="Prefix of the plans' aliases and client_ids.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Where the filled-in configurations go (default: conformance/out/, ignored by git).")
@click.option("--email", default=None, help="The suite's test person (default: conformance-tester@example.com).")
def conformance_setup(suite_url, alias, out_dir, email):
    """Register the suite's clients and test person and write every plan's configuration (idempotent)."""
    from .conformance import DEFAULT_EMAIL, ConformanceSetupError, setup

    try:
        result = setup(_ctx().settings, suite_url, alias=alias, out_dir=out_dir, email=email or DEFAULT_EMAIL)
    except ConformanceSetupError as exc:
        _fail(str(exc))
    for line in result.lines:
        click.echo(line)


@click.command("housekeeping")
@with_appcontext
def housekeeping():
    """Delete expired sessions, codes, tokens, replay records, pushed requests and retired keys."""
    from .housekeeping import prune_expired

    ctx = _ctx()
    for name, count in prune_expired(ctx.keystore, ctx.settings.login_lockout_seconds).items():
        click.echo(f"{name}: {count} deleted")


@click.group("jobs")
def jobs_cli():
    """The queue of work done after responses (back-channel logout notices)."""


@jobs_cli.command("run")
@with_appcontext
def jobs_run():
    """Run every job that is due now, then stop (for IDP_JOBS_WORKER=false, or to drain by hand)."""
    from . import jobs

    total = 0
    while ran := jobs.run_due():
        total += ran
    click.echo(f"{total} job(s) run")


@click.command("outbox")
@click.option("--to", "to", default=None, help="Only messages to this email address or phone number.")
@click.option("--last", type=click.IntRange(min=1), default=20, show_default=True, help="How many of the newest.")
@with_appcontext
def outbox(to, last):
    """Print the messages sent, newest last: time, channel, to, template and (development outbox) the text."""
    from .notifications.adapters.outbox import read

    for entry in read(_ctx().settings.secret_key, to=to, last=last):
        click.echo(entry.line())


# gunicorn's largest request line: a longer URL gets our own 404/414 page, not gunicorn's bare one.
GUNICORN_LIMITS = ("--limit-request-line", "8190")


@click.command("serve")
@click.option("--workers", type=int, default=None)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0 to be reachable from a container, e.g. the conformance suite).")
@click.option("--tls", is_flag=True, help="Serve https with a self-signed certificate made under instance/tls/ "
              "(development only; IDP_ISSUER must be https).")
@click.option("--tls-hostname", "tls_hostnames", multiple=True,
              help="Another name or address the certificate must cover (repeatable).")
@with_appcontext
def serve(workers, host, tls, tls_hostnames):
    """Serve the provider with gunicorn (what `make run` does)."""
    port = os.environ.get("PORT", "5000")
    workers = workers or int(os.environ.get("IDP_WORKERS", "0")) or (os.cpu_count() or 1) * 2
    args = [
        sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}", "--workers", str(workers),
        *GUNICORN_LIMITS, "--config", "python:idp.operations.gunicorn_hooks", "idp.wsgi:app",
    ]
    # /metrics sums every worker's counts (prometheus_client multiprocess mode): a fresh directory each start.
    metrics_dir = os.path.join(current_app.instance_path, "metrics")
    shutil.rmtree(metrics_dir, ignore_errors=True)
    os.makedirs(metrics_dir, exist_ok=True)
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": metrics_dir}  # gunicorn's only: never this process's
    if os.environ.get("IDP_ACCESS_LOG", "").lower() in ("1", "true", "yes"):
        args[-1:-1] = ["--access-logfile", "-"]
    if tls:
        from .devtls import DevTLSError, gunicorn_tls_arguments

        try:
            tls_args, cert = gunicorn_tls_arguments(_ctx().settings, current_app.instance_path, port, tls_hostnames)
        except DevTLSError as exc:
            _fail(str(exc))
        click.echo(f"https with the development certificate {cert.cert_path} for {', '.join(cert.hosts)}")
        args[-1:-1] = tls_args
    os.execve(sys.executable, args, env)


def register_commands(app) -> None:
    from .developer.cli import developer_cli
    from .proofing.cli import pds_cli
    from .provisioning.cli import provisioning_cli
    from .staff.cli import staff_cli

    for group in (keys_cli, clients_cli, users_cli, demo_cli, conformance_cli, jobs_cli, pds_cli, staff_cli,
                  provisioning_cli, developer_cli):
        app.cli.add_command(group)
    app.cli.add_command(serve)
    app.cli.add_command(housekeeping)
    app.cli.add_command(outbox)


def _create():
    from . import create_app

    return create_app()


def main():
    cli = FlaskGroup(create_app=_create, add_default_commands=True, add_version_option=False, load_dotenv=False)
    cli(prog_name="idp")
