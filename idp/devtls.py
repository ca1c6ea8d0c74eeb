"""A self-signed TLS certificate for serving the provider over https in development.

The OpenID Foundation conformance suite only talks to https providers, so ``idp serve --tls``
serves with this certificate. It is made once under ``instance/tls/`` (the key readable by its
owner only) and made again when it is about to expire or does not name a host it must name.
Development and testing only: nothing trusts it, and it must never front a live service.
"""
from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_HOSTS = ("localhost", "127.0.0.1", "::1")
VALID_DAYS = 90
RENEW_WITHIN_DAYS = 7


@dataclass(frozen=True)
class DevCertificate:
    cert_path: str
    key_path: str
    hosts: tuple[str, ...]
    created: bool


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def certificate_hosts(cert: x509.Certificate) -> set[str]:
    """The DNS names and IP addresses in the certificate's subjectAltName (RFC 5280 4.2.1.6)."""
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    return set(names.get_values_for_type(x509.DNSName)) | {str(ip) for ip in names.get_values_for_type(x509.IPAddress)}


def _normalise(host: str) -> str:
    host = host.strip().strip("[]").lower()
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host


def _still_good(cert_path: str, key_path: str, hosts: tuple[str, ...]) -> bool:
    if not (os.path.exists(cert_path) and os.path.exists(key_path)):
        return False
    try:
        with open(cert_path, "rb") as fh:
            cert = x509.load_pem_x509_certificate(fh.read())
    except ValueError:
        return False
    renew_at = cert.not_valid_after_utc - datetime.timedelta(days=RENEW_WITHIN_DAYS)
    return datetime.datetime.now(datetime.UTC) < renew_at and set(hosts) <= certificate_hosts(cert)


def _write_private(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, 0o600)  # also when the file already existed with wider permissions


class DevTLSError(ValueError):
    """``--tls`` cannot be used as asked; the message says what to do instead."""


def gunicorn_tls_arguments(settings, instance_path: str, port: str, extra_hosts=()) -> tuple[list[str], DevCertificate]:
    """gunicorn's ``--certfile``/``--keyfile`` for a development certificate naming the issuer's host too."""
    if not settings.is_development:
        raise DevTLSError("--tls makes a self-signed certificate for development only; elsewhere terminate TLS "
                          "with a real certificate (a reverse proxy, IDP_TRUSTED_PROXIES=1)")
    issuer = urlsplit(settings.issuer)
    if issuer.scheme != "https":
        raise DevTLSError(f"--tls serves https, so the issuer must be https too: "
                          f"IDP_ISSUER=https://127.0.0.1:{port} PORT={port} idp serve --tls")
    cert = ensure_dev_certificate(os.path.join(instance_path, "tls"), (issuer.hostname or "", *extra_hosts))
    return ["--certfile", cert.cert_path, "--keyfile", cert.key_path], cert


def ensure_dev_certificate(directory: str, extra_hosts=()) -> DevCertificate:
    """Make (once) a self-signed certificate for localhost, 127.0.0.1, ::1 and ``extra_hosts``."""
    hosts = tuple(dict.fromkeys(_normalise(h) for h in (*DEFAULT_HOSTS, *extra_hosts) if h and h.strip()))
    cert_path, key_path = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    if _still_good(cert_path, key_path, hosts):
        return DevCertificate(cert_path, key_path, hosts, created=False)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0]),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "idp development certificate")])
    start = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName([_general_name(h) for h in hosts]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=True, content_commitment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    with open(cert_path, "wb") as fh:
        fh.write(cert.public_bytes(serialization.Encoding.PEM))
    return DevCertificate(cert_path, key_path, hosts, created=True)
