"""Demo data: the demo relying party's key pair and registration, and test people at P0, P5 and P9.

Idempotent, and refused in live. The demo RP's private key is generated under
keys/ (mode 0600, ignored by git), never committed. Its registration is
clients/demo-rp.json with every URI moved to where scripts/serve.sh serves the
demo RP (``DEMO_RP_BASE_URL``, else ``http://localhost:$DEMO_RP_PORT``), so the
tour works on any port.
"""
from __future__ import annotations

import os
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from . import ROOT
from .clients_sync import load_file
from .extensions import db
from .models import Client, Person
from .people import add_test_person
from .protocol.registration import RegistrationError, register_client, update_client

DEMO_RP_FILE = "demo-rp.json"
DEMO_RP_DEFAULT_PORT = "5001"

DEMO_PASSWORD = "demo-password-123"
DEMO_PEOPLE = [
    dict(email="p0@example.com", level="P0", phone="+447700900000"),
    dict(email="p5@example.com", level="P5", phone="+447700900001", nhs_number="9990000018", given_name="Priya",
         family_name="Patel", birthdate="1985-04-12", postcode="LS1 4AP", gp_ods_code="B86001"),
    dict(email="p9@example.com", level="P9", phone="+447700900002", nhs_number="9990000026", given_name="Sam",
         family_name="Jones", birthdate="1970-01-31", postcode="SW1A 2AA", gp_ods_code="A12345"),
]


def ensure_demo_rp_key(keys_dir: str) -> list[str]:
    private_path = os.path.join(keys_dir, "demo-rp-private.pem")
    public_path = os.path.join(keys_dir, "demo-rp-public.pem")
    if os.path.exists(private_path) and os.path.exists(public_path):
        return []
    os.makedirs(keys_dir, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    with open(public_path, "wb") as fh:
        fh.write(key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return [f"created demo relying party key {private_path}"]


def demo_rp_base_url(environ=None) -> str:
    """Where the demo RP is served: the rule of scripts/serve.sh, which starts it."""
    environ = os.environ if environ is None else environ
    if environ.get("DEMO_RP_BASE_URL"):
        return environ["DEMO_RP_BASE_URL"].rstrip("/")
    port = environ.get("DEMO_RP_PORT") or DEMO_RP_DEFAULT_PORT
    if not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        raise ValueError(f"DEMO_RP_PORT must be a port number, not {port!r}")
    return f"http://localhost:{int(port)}"


def at_base_url(registration: dict, base_url: str) -> dict:
    """The registration with each redirect, post-logout and back-channel URI moved to ``base_url`` (paths kept)."""
    def move(uri: str) -> str:
        return base_url + urlsplit(uri).path

    moved = dict(registration)
    for field in ("redirect_uris", "post_logout_redirect_uris"):
        if moved.get(field):
            moved[field] = [move(uri) for uri in moved[field]]
    if moved.get("backchannel_logout_uri"):
        moved["backchannel_logout_uri"] = move(moved["backchannel_logout_uri"])
    return moved


def register_demo_rp(clients_dir: str, development: bool, environ=None) -> str:
    """Create or update the demo RP from its file, at the URL it is served on, in one write."""
    path = os.path.join(clients_dir, DEMO_RP_FILE)
    try:
        base_url = demo_rp_base_url(environ)
        data, key = load_file(path)
        data = at_base_url(data, base_url)
        client = db.session.get(Client, data["client_id"])
        if client is None:
            register_client(data, development=development, client_id=data["client_id"], key=key, source=path)
        else:
            update_client(client, data, development=development, key=key)
    except (RegistrationError, ValueError, OSError) as exc:
        db.session.rollback()
        return f"skipped {DEMO_RP_FILE}: {exc}"
    return f"{'created' if client is None else 'updated'} {data['client_id']} from {DEMO_RP_FILE} at {base_url}"


def load_demo(settings) -> list[str]:
    if settings.env == "live":
        return ["demo data is never loaded in live"]
    lines = ensure_demo_rp_key(os.path.join(ROOT, "keys"))
    lines.append(register_demo_rp(os.path.join(ROOT, "clients"), settings.is_development))
    for person in DEMO_PEOPLE:
        if Person.query.filter_by(email=person["email"]).first() is None:
            add_test_person(settings, password=DEMO_PASSWORD, **person)
            lines.append(f"created test person {person['email']} ({person['level']}) password {DEMO_PASSWORD}")
    return lines
