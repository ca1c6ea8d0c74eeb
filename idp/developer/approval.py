"""Approval where it matters (issue 11): which environments need an admin's approval, what carries more risk
and needs a reason, what an approved client may change on its own, and what differs from what is approved.

Pure functions of registration fields (``idp.protocol.registration`` names), so the portal, the staff queue
and the tests all ask the same questions.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..levels import ProofingLevel, parse_vector_list

SELF_SERVICE_ENVIRONMENTS = ("sandpit",)  # live at once, with synthetic data only (interface.md "Environments")
# Bounded by the approval: an approved client may narrow these, never widen them.
BOUNDED = ("scopes", "vectors", "redirect_uris", "post_logout_redirect_uris", "backchannel_logout_uri", "ods_codes")
FIELD_NAMES = {"scopes": "Scopes", "vectors": "Vectors of trust", "redirect_uris": "Redirect URIs",
               "post_logout_redirect_uris": "Post-logout redirect URIs",
               "backchannel_logout_uri": "Back-channel logout URI", "ods_codes": "ODS codes (provisioning)"}


def needs_approval(environment: str) -> bool:
    """Integration and live: an administrator of the staff area approves each client and anything beyond it."""
    return environment not in SELF_SERVICE_ENVIRONMENTS


def flags(fields: dict) -> list[str]:
    """What carries more risk and needs the integrator's reason and the admin's note (interface.md scopes)."""
    scopes, found = set(fields.get("scopes") or ()), []
    if "gp_integration_credentials" in scopes:
        found.append("gp_integration_credentials: credentials to act in the person's GP record")
    if "profile" in scopes and any(v.proofing is ProofingLevel.P9 for v in parse_vector_list(fields.get("vectors") or ())):
        found.append("profile at P9: the NHS number of people proved to a high level")
    if fields.get("kind") == "provisioning":
        found.append("provisioning: creating NHS logins for patients")
    return found


def bounds(fields: dict) -> dict:
    """What an approval of ``fields`` allows, as stored on the client (``Client.approved``)."""
    return {name: (list(fields.get(name) or ()) if name != "backchannel_logout_uri" else fields.get(name))
            for name in BOUNDED}


def _as_set(value) -> set:
    if value is None:
        return set()
    return {value} if isinstance(value, str) else set(value)


def beyond(approved: dict, fields: dict) -> list[str]:
    """What ``fields`` ask that ``approved`` does not allow; empty when the change is within the approval."""
    found = []
    for name in BOUNDED:
        extra = _as_set(fields.get(name)) - _as_set(approved.get(name))
        if extra:
            found.append(f"{FIELD_NAMES[name]}: {', '.join(sorted(extra))}")
    return found


@dataclass(frozen=True)
class Difference:
    """One field of a request against what is approved now (everything is added for a new client)."""

    field: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    kept: tuple[str, ...]


def difference(approved: dict | None, fields: dict) -> list[Difference]:
    now_allowed = approved or {}
    out = []
    for name in BOUNDED:
        asked, allowed = _as_set(fields.get(name)), _as_set(now_allowed.get(name))
        out.append(Difference(FIELD_NAMES[name], tuple(sorted(asked - allowed)), tuple(sorted(allowed - asked)),
                              tuple(sorted(asked & allowed))))
    return out
