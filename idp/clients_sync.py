"""Declarative client registrations: JSON files in ``clients/`` created or updated by ``idp clients sync``.

A file holds the registration fields (as in RFC 7591 metadata) plus ``client_id``
and one of ``public_key_file`` (PEM, relative to the file), ``jwks`` or ``jwks_uri``.
"""
from __future__ import annotations

import glob
import json
import os

from .extensions import db
from .models import Client
from .protocol.registration import RegistrationError, register_client, update_client


def load_file(path: str) -> tuple[dict, dict]:
    with open(path) as fh:
        data = json.load(fh)
    if not isinstance(data, dict) or not data.get("client_id"):
        raise RegistrationError(f"{path}: needs a JSON object with client_id")
    key = {}
    if data.get("public_key_file"):
        key_path = os.path.join(os.path.dirname(path), data["public_key_file"])
        if not os.path.exists(key_path):
            raise RegistrationError(f"{path}: public_key_file {key_path} does not exist")
        with open(key_path) as fh:
            key["public_key_pem"] = fh.read()
    if data.get("jwks"):
        key["jwks"] = data["jwks"]
    if data.get("jwks_uri"):
        key["jwks_uri"] = data["jwks_uri"]
    return data, key


def sync_directory(directory: str, development: bool) -> list[str]:
    lines = []
    for path in sorted(glob.glob(os.path.join(directory, "*.json"))):
        try:
            data, key = load_file(path)
            client = db.session.get(Client, data["client_id"])
            if client is None:
                register_client(data, development=development, client_id=data["client_id"], key=key, source=path)
                lines.append(f"created {data['client_id']} from {os.path.basename(path)}")
            else:
                update_client(client, data, development=development, key=key)
                lines.append(f"updated {data['client_id']} from {os.path.basename(path)}")
        except (RegistrationError, ValueError, OSError) as exc:
            db.session.rollback()
            lines.append(f"skipped {os.path.basename(path)}: {exc}")
    return lines
