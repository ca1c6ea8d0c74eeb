"""A service an organisation connects: its purpose, who it serves and the level it believes it needs, chosen
with the DCB3051 guidance beside it (``GUIDANCE``)."""
from __future__ import annotations

from ..extensions import db
from ..levels import InvalidVectorError, parse_vector_list
from ..models import Service
from . import audit
from .organisations import PortalError, text_field

LEVELS = ("P0", "P5", "P9")
MAX_PER_ORGANISATION = 50
# The vectors a service may choose, strongest proof first (interface.md Levels).
VECTORS = {
    "P9": ("P9.Cp.Cd", "P9.Cp.Ck", "P9.Cm"),
    "P5": ("P5.Cp.Cd", "P5.Cp.Ck", "P5.Cm", "P5.Cp"),
    "P0": ("P0.Cp.Cd", "P0.Cp.Ck", "P0.Cm", "P0.Cp"),
}
# DCB3051 (Identity Verification and Authentication Standard for Digital Health and Care Services): match the
# level of verification and authentication to the harm that would follow if someone else got in.
GUIDANCE = {
    "P0": "Low: the service shows no personal or health information, and a stranger getting in would cause "
          "little harm (for example, saving preferences or booking a non-clinical slot).",
    "P5": "Medium: the service uses limited personal information, such as contact details or a booking, and "
          "harm from misuse would be limited and recoverable.",
    "P9": "High: the service shows or changes health records, prescriptions or results, or acts for the person "
          "in their GP record. DCB3051 expects high verification and 2-factor authentication (Cd, Ck or Cm).",
}


def check(form) -> dict:
    """The service form, checked: name, purpose, audience, level and its vectors."""
    level = form.get("proofing_level")
    if level not in LEVELS:
        raise PortalError("proofing_level", "Select the level of identity verification your service needs")
    chosen = [v for v in form.getlist("vectors") if v]
    if not chosen:
        raise PortalError("vectors", "Select at least one way people will log in (a vector of trust)")
    if any(v not in VECTORS[level] for v in chosen):
        raise PortalError("vectors", f"Select vectors at {level} only")
    try:
        vectors = [str(v) for v in parse_vector_list(chosen)]
    except InvalidVectorError as exc:
        raise PortalError("vectors", str(exc)) from None
    return {"name": text_field(form.get("name"), "name", "the name of the service"),
            "purpose": text_field(form.get("purpose"), "purpose", "what the service does", 2000, lines=True),
            "audience": text_field(form.get("audience"), "audience", "who the service is for", 1000, lines=True),
            "proofing_level": level, "vectors": vectors}


def create(member, values: dict) -> Service:
    if Service.query.filter_by(organisation_id=member.organisation_id).count() >= MAX_PER_ORGANISATION:
        raise PortalError(None, f"Your organisation has {MAX_PER_ORGANISATION} services, the most it can have")
    service = Service(organisation_id=member.organisation_id, **values)
    db.session.add(service)
    db.session.flush()
    audit.record("service.created", member=member, subject=service.id, level=values["proofing_level"])
    db.session.commit()
    return service


def of(organisation_id: str) -> list[Service]:
    return Service.query.filter_by(organisation_id=organisation_id).order_by(Service.created_at, Service.name).all()
