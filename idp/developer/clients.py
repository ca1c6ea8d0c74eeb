"""A service's clients in the portal, through the one registration module (``idp.protocol.registration``):
sandpit clients are live at once; integration and live clients, and anything beyond what is approved, become a
``ClientRequest`` for an admin (``approval``); keys rotate by adding a second key, then removing the first.
"""
from __future__ import annotations

import json
import re

from sqlalchemy import update

from .. import notifications
from ..clock import now
from ..extensions import db
from ..models import Client, ClientRequest, Integrator, Service
from ..models.clients import CLIENT_ENVIRONMENTS, PROVISIONING
from ..protocol import registration
from ..protocol.claims import SUPPORTED_SCOPES
from ..protocol.client_keys import ClientKeyError, key_set, pem_key
from ..protocol.registration import RegistrationError
from . import approval, audit
from .organisations import PortalError

SCOPES = tuple(s for s in SUPPORTED_SCOPES if s != registration.PROVISIONING_SCOPE)
KEY_KINDS = ("pem", "jwks", "jwks_uri")
KID = re.compile(r"[A-Za-z0-9._-]{1,128}")  # shown and used in a path: plain characters only
MAX_PER_SERVICE = 20  # clients and open requests of one service


def offered(settings) -> tuple[str, ...]:
    """The environments this instance registers clients for: a development instance all three, any other its
    own (environments do not share a database: interface.md "Environments")."""
    if settings.is_development:
        return CLIENT_ENVIRONMENTS
    return (settings.env,) if settings.env in CLIENT_ENVIRONMENTS else ()


def _lines(value) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


def form_fields(form, kind: str | None = None) -> dict:
    """The client form as registration fields (``registration.normalise`` names): a relying party's, or a staff
    system's (kind ``provisioning``: the ODS codes it acts for, nothing that logs a person in)."""
    if (kind or form.get("kind")) == PROVISIONING:
        return {"kind": PROVISIONING, "ods_codes": (form.get("ods_codes") or "").replace(",", " ").split()}
    return {"redirect_uris": _lines(form.get("redirect_uris")),
            "post_logout_redirect_uris": _lines(form.get("post_logout_redirect_uris")),
            # "" (not None) so that emptying the box removes the URI; registration makes "" None.
            "backchannel_logout_uri": (form.get("backchannel_logout_uri") or "").strip(),
            "scope": [s for s in form.getlist("scopes") if s], "vtr": [v for v in form.getlist("vectors") if v]}


def form_key(form) -> dict:
    """The key the form gives: ``{"public_key_pem"|"jwks"|"jwks_uri": value}``; ``PortalError`` if unreadable."""
    kind, text = form.get("key_kind"), (form.get("key") or "").strip()
    if kind not in KEY_KINDS:
        raise PortalError("key_kind", "Select how you will give your public key")
    if kind == "jwks_uri":
        uri = (form.get("jwks_uri") or "").strip()
        if not uri:
            raise PortalError("jwks_uri", "Enter the URL where your public keys are published")
        return {"jwks_uri": uri}
    if not text:
        raise PortalError("key", "Paste your public key")
    if kind == "pem":
        return {"public_key_pem": text}
    try:
        value = json.loads(text)
    except ValueError:
        raise PortalError("key", "Paste a JWKS as JSON, like {\"keys\": [...]}") from None
    return {"jwks": value if isinstance(value, dict) and "keys" in value else {"keys": [value]}}


def pasted_key(text) -> dict:
    """A key pasted on its own (adding a key): a JWK or JWKS if it is JSON, else a PEM."""
    kind = "jwks" if (text or "").lstrip().startswith("{") else "pem"
    return form_key({"key_kind": kind, "key": text})


def _field_of(message: str) -> str:
    name = message.split(":", 1)[0]
    return {"scope": "scopes", "vtr": "vectors", "public key": "key", "jwks": "key"}.get(name, name)


def _checked(fields: dict, key: dict | None, settings) -> dict:
    """Registration's own checks, without saving: the normalised values, or ``PortalError`` naming the field."""
    try:
        values = registration.normalise(fields, development=settings.is_development)
        if key is not None:
            registration.apply_key(dict(values), development=settings.is_development, **key)
    except RegistrationError as exc:
        raise PortalError(_field_of(str(exc)), str(exc)) from None
    return values


def _reason(values: dict, reason: str | None) -> str | None:
    reason = (reason or "").strip()[:2000] or None
    if approval.flags(values) and not reason:
        raise PortalError("reason", "Say why your service needs what is flagged: " + "; ".join(approval.flags(values)))
    return reason


def register(member: Integrator, service: Service, environment: str, fields: dict, key: dict, reason,
             settings) -> Client | ClientRequest:
    """A sandpit client now, or a request for an admin to approve an integration or live client."""
    if environment not in offered(settings):
        raise PortalError("environment", f"Select an environment this service registers clients for: "
                                         f"{', '.join(offered(settings)) or 'none'}")
    if Client.query.filter_by(service_id=service.id).count() + ClientRequest.query.filter_by(
            service_id=service.id, status="pending").count() >= MAX_PER_SERVICE:
        raise PortalError(None, f"This service has {MAX_PER_SERVICE} clients and requests, the most it can have")
    fields = {**fields, "environment": environment, "name": f"{service.name} ({environment})"}
    values = _checked(fields, key, settings)
    if not approval.needs_approval(environment):
        client_id = Client.new_client_id()
        # Recorded first: register_client's commit keeps the event exactly when it keeps the client.
        audit.record("client.registered", member=member, subject=client_id, environment=environment)
        client, _ = registration.register_client(fields, development=settings.is_development, key=key,
                                                 client_id=client_id, columns={"service_id": service.id})
        return client
    request = ClientRequest(service_id=service.id, environment=environment, fields=fields, key=key,
                            flags=approval.flags(values), reason=_reason(values, reason), requested_by=member.id)
    db.session.add(request)
    db.session.flush()
    audit.record("client.requested", member=member, subject=request.id, environment=environment,
                 flags=len(request.flags))
    db.session.commit()
    return request


def change(member: Integrator, client: Client, fields: dict, reason, settings) -> Client | ClientRequest:
    """Change a client: at once when within its approval (or in sandpit), else a new request for more."""
    fields = {**fields, "environment": client.environment, "name": client.name}
    values = _checked({**client.to_dict(), **fields}, None, settings)
    if client.approved is not None:
        extra = approval.beyond(client.approved, values)
        if extra:
            if ClientRequest.query.filter_by(client_id=client.client_id, status="pending").first() is not None:
                raise PortalError(None, "This client already has a request waiting for approval")
            request = ClientRequest(service_id=client.service_id, environment=client.environment,
                                    client_id=client.client_id, fields=fields, flags=approval.flags(values),
                                    reason=_reason(values, reason), requested_by=member.id)
            db.session.add(request)
            db.session.flush()
            audit.record("client.requested", member=member, subject=request.id, client_id=client.client_id,
                         beyond=extra)
            db.session.commit()
            return request
    # The event and the emails first: the registration's commit keeps them exactly when it keeps the change.
    audit.record("client.changed", member=member, subject=client.client_id, fields=sorted(fields))
    tell_organisation(client.service_id, "developer_client_changed",
                      {"reason": f"The settings of client {client.client_id} ({client.environment}) were changed "
                                 f"by {member.email}."}, settings)
    _update(client, fields, settings)
    return client


def _update(client: Client, fields: dict, settings, key: dict | None = None) -> None:
    try:
        registration.update_client(client, fields, development=settings.is_development, key=key)
    except RegistrationError as exc:
        db.session.rollback()
        raise PortalError(_field_of(str(exc)), str(exc)) from None


# --- keys ---------------------------------------------------------------------------------------------------
def keys_of(client: Client) -> list[dict]:
    """The client's registered public keys as JWKs, each with its kid (a PEM's is its RFC 7638 thumbprint)."""
    if client.public_key_pem:
        key = pem_key(client.public_key_pem)
        return [{**key.as_dict(private=False), "kid": key.thumbprint()}]
    if client.jwks:
        out = []
        for key in key_set(client.jwks).keys:
            out.append({**key.as_dict(private=False), "kid": key.kid or key.thumbprint()})
        return out
    return []


def describe(jwk: dict) -> str:
    if jwk.get("kty") == "RSA":
        from joserfc.jwk import RSAKey

        return f"RSA {RSAKey.import_key(jwk).public_key.key_size} bits"
    return f"EC {jwk.get('crv')}"


def _new_keys(key: dict) -> list[dict]:
    try:
        if "public_key_pem" in key:
            parsed = [pem_key(key["public_key_pem"])]
        elif "jwks" in key and isinstance(key["jwks"], dict):
            parsed = key_set(key["jwks"]).keys
        else:
            raise PortalError("key", "Paste a PEM public key or a JWK")
    except ClientKeyError as exc:
        raise PortalError("key", str(exc)) from None
    out = []
    for k in parsed:
        if k.is_private:
            raise PortalError("key", "That is a private key; paste only the public half")
        kid = k.kid or k.thumbprint()
        if not KID.fullmatch(kid):
            raise PortalError("key", "A key's kid must be 1 to 128 letters, digits, dots, hyphens or underscores")
        out.append({**k.as_dict(private=False), "kid": kid})
    return out


def add_key(member: Integrator, client: Client, key: dict, settings) -> str:
    """Rotation, step 1: the client holds both keys (assertions name theirs with ``kid``, OIDC Core 10.1)."""
    if client.jwks_uri:
        raise PortalError("key", "This client's keys are published at its jwks_uri: rotate them there")
    current, new = keys_of(client), _new_keys(key)
    kids = {k["kid"] for k in current}
    if any(k["kid"] in kids for k in new):
        raise PortalError("key", "That key is already registered for this client")
    audit.record("client.key_added", member=member, subject=client.client_id, kid=new[0]["kid"])
    tell_organisation(client.service_id, "developer_client_changed",
                      {"reason": f"A key ({new[0]['kid']}) was added to client {client.client_id} by {member.email}."},
                      settings)
    _update(client, {}, settings, key={"jwks": {"keys": current + new}})
    return new[0]["kid"]


def remove_key(member: Integrator, client: Client, kid: str, settings) -> None:
    """Rotation, step 2: the old key goes once the service signs with the new one; the last key never goes."""
    current = keys_of(client)
    if kid not in {k["kid"] for k in current}:
        raise PortalError("key", "That key is not registered for this client")
    if len(current) == 1:
        raise PortalError("key", "A client needs at least one key: add the new key before removing this one")
    audit.record("client.key_removed", member=member, subject=client.client_id, kid=kid)
    tell_organisation(client.service_id, "developer_client_changed",
                      {"reason": f"A key ({kid}) was removed from client {client.client_id} by {member.email}."},
                      settings)
    _update(client, {}, settings, key={"jwks": {"keys": [k for k in current if k["kid"] != kid]}})


# --- decisions (the staff area's admins) -------------------------------------------------------------------
def pending_requests() -> list[ClientRequest]:
    return ClientRequest.query.filter_by(status="pending").order_by(ClientRequest.requested_at).all()


def decide(request: ClientRequest, approve: bool, note: str | None, staff_email: str, staff_id: str,
           settings) -> Client | None:
    """Approve (register or change the client, bounded by what was approved) or reject with a reason."""
    note = (note or "").strip()[:2000] or None
    if not approve and not note:
        raise PortalError("note", "Enter the reason for rejecting the request: the integrator will see it")
    if approve and request.flags and not note:
        raise PortalError("note", "Enter why the flagged scopes are appropriate for this service")
    # One decision per request, whoever clicks first: a conditional UPDATE, kept only if the registration is.
    claimed = db.session.execute(
        update(ClientRequest).where(ClientRequest.id == request.id, ClientRequest.status == "pending")
        .values(status="approved" if approve else "rejected", decided_by=staff_id, decided_at=now(),
                decision_note=note).execution_options(synchronize_session=False)).rowcount == 1
    if not claimed:
        db.session.rollback()
        raise PortalError(None, "This request has already been decided")
    service = db.session.get(Service, request.service_id)
    client_id = request.client_id or (Client.new_client_id() if approve else None)
    audit.record("client.approved" if approve else "client.rejected", member=None,
                 organisation_id=service.organisation_id, actor=f"staff:{staff_email}", subject=request.id,
                 client_id=client_id)
    template = "developer_request_approved" if approve else "developer_request_rejected"
    tell_organisation(service.id, template, {"reason": note or "No note was added.",
                                             "link": f"{settings.issuer}/developer/services/{service.id}"}, settings)
    if not approve:
        db.session.commit()
        return None
    # The registration's commit keeps the decision, the event and the emails with it, or none of them.
    client = _approve(request, client_id, settings)
    db.session.refresh(request)
    return client


def asked(request: ClientRequest, settings) -> dict:
    """What a request would register, normalised as registration will (the staff review compares it)."""
    current = db.session.get(Client, request.client_id) if request.client_id else None
    if request.client_id and current is None:
        raise PortalError(None, "The client this request changes has been removed")
    return _checked({**(current.to_dict() if current else {}), **request.fields}, None, settings)


def _approve(request: ClientRequest, client_id: str, settings) -> Client:
    development = settings.is_development
    try:
        if request.client_id is None:
            values = registration.normalise(request.fields, development=development)
            db.session.execute(update(ClientRequest).where(ClientRequest.id == request.id)
                               .values(client_id=client_id).execution_options(synchronize_session=False))
            client, _ = registration.register_client(
                request.fields, development=development, key=request.key, client_id=client_id,
                columns={"service_id": request.service_id, "approved": approval.bounds(values)})
            return client
        client = db.session.get(Client, request.client_id)
        if client is None:
            raise RegistrationError("the client this request changes has been removed")
        values = registration.normalise({**client.to_dict(), **request.fields}, development=development)
        registration.update_client(client, request.fields, development=development,
                                   columns={"approved": approval.bounds(values)})
        return client
    except RegistrationError as exc:
        db.session.rollback()
        raise PortalError(None, f"The request can no longer be registered: {exc}") from None


def tell_organisation(service_id: str | None, template: str, personalisation: dict, settings) -> None:
    """Email every active member of the service's organisation (queued with the caller's commit)."""
    service = db.session.get(Service, service_id) if service_id else None
    if service is None:
        return
    from ..models import Organisation

    organisation = db.session.get(Organisation, service.organisation_id)
    values = {"organisation": organisation.name, "link": f"{settings.issuer}/developer", **personalisation}
    for member in Integrator.query.filter_by(organisation_id=organisation.id, status="active"):
        notifications.send(template, member.email, "email", values)
