"""Demo data: the demo relying party's key pair and registration, and test people at P0, P5 and P9.

Idempotent, and refused in live. The demo RP's private key is generated under
keys/ (mode 0600, ignored by git), never committed.
"""
from __future__ import annotations

import os

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from . import ROOT
from .clients_sync import sync_directory
from .models import Person
from .people import add_test_person

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


def load_demo(settings) -> list[str]:
    if settings.env == "live":
        return ["demo data is never loaded in live"]
    lines = ensure_demo_rp_key(os.path.join(ROOT, "keys"))
    lines += sync_directory(os.path.join(ROOT, "clients"), settings.is_development)
    for person in DEMO_PEOPLE:
        if Person.query.filter_by(email=person["email"]).first() is None:
            add_test_person(settings, password=DEMO_PASSWORD, **person)
            lines.append(f"created test person {person['email']} ({person['level']}) password {DEMO_PASSWORD}")
    return lines
