"""Scopes, the claims they release, and what a person's level allows (interface.md "Scopes and claims").

Claims not available are omitted, never null.
"""
from __future__ import annotations

import json

from flask_babel import gettext

from ..i18n import N_
from ..levels import ProofingLevel
from .jwt_rules import reject_constant

# scope -> (claims, lowest proofing level that may receive them)
SCOPE_CLAIMS: dict[str, tuple[tuple[str, ...], ProofingLevel]] = {
    "openid": (("sub",), ProofingLevel.P0),
    "profile": (("nhs_number", "family_name", "birthdate", "identity_proofing_level"), ProofingLevel.P5),
    "basic_demographics": (("family_name", "birthdate", "identity_proofing_level"), ProofingLevel.P5),
    "profile_extended": (("given_name",), ProofingLevel.P5),
    "email": (("email", "email_verified"), ProofingLevel.P0),
    "phone": (("phone_number", "phone_number_verified", "phone_number_pds_matched"), ProofingLevel.P0),
    "landline": (("landline_number", "landline_number_verified"), ProofingLevel.P0),
    "gp_registration_details": (("gp_registration_details",), ProofingLevel.P5),
    "gp_integration_credentials": (("gp_integration_credentials",), ProofingLevel.P9),
    "client_metadata": (("client_user_metadata",), ProofingLevel.P0),
}
SUPPORTED_SCOPES = tuple(SCOPE_CLAIMS)
SUPPORTED_CLAIMS = tuple(sorted({c for claims, _ in SCOPE_CLAIMS.values() for c in claims} | {
    "iss", "aud", "exp", "iat", "auth_time", "nonce", "jti", "vot", "vtm", "acr", "sid", "at_hash",
}))

# What the consent page says each claim is (translated where shown, by describe_claims).
CLAIM_DESCRIPTIONS = {
    "nhs_number": N_("Your NHS number"),
    "family_name": N_("Your last name"),
    "given_name": N_("Your first name"),
    "birthdate": N_("Your date of birth"),
    "identity_proofing_level": N_("How well you have proved who you are"),
    "email": N_("Your email address"),
    "phone_number": N_("Your mobile phone number"),
    "landline_number": N_("Your landline phone number"),
    "gp_registration_details": N_("Your GP surgery"),
    "gp_integration_credentials": N_("Your GP online services details"),
    "client_user_metadata": N_("Information this service keeps about your account"),
}

MUTUALLY_EXCLUSIVE_SCOPES = ({"profile", "basic_demographics"},)


class ClaimsRequestError(ValueError):
    """The ``claims`` request parameter is not valid JSON of the OIDC Core 5.5 shape."""


def known_scopes(requested: str) -> list[str]:
    """Requested scopes this provider knows, in order, duplicates dropped; unknown ones are ignored."""
    seen: list[str] = []
    for scope in (requested or "").split():
        if scope in SCOPE_CLAIMS and scope not in seen:
            seen.append(scope)
    return seen


def conflicting_scopes(scopes: list[str]) -> set[str] | None:
    for group in MUTUALLY_EXCLUSIVE_SCOPES:
        if group <= set(scopes):
            return group
    return None


def parse_claims_request(raw: str | None) -> dict | None:
    """OIDC Core 5.5: ``{"userinfo": {...}, "id_token": {...}}``, each member null or an object."""
    if raw in (None, ""):
        return None
    if len(raw) > 4096:
        raise ClaimsRequestError("claims parameter is too long")
    try:
        value = json.loads(raw, parse_constant=reject_constant)
    except ValueError:
        raise ClaimsRequestError("claims must be a JSON object") from None
    if not isinstance(value, dict):
        raise ClaimsRequestError("claims must be a JSON object")
    result = {}
    for target in ("userinfo", "id_token"):
        members = value.get(target)
        if members is None:
            continue
        if not isinstance(members, dict):
            raise ClaimsRequestError(f"claims.{target} must be an object")
        for name, spec in members.items():
            if spec is not None and not isinstance(spec, dict):
                raise ClaimsRequestError(f"claims.{target}.{name} must be null or an object")
        result[target] = members
    return result


def requested_acr_values(claims_request: dict | None) -> list[str]:
    """Vectors asked for through ``claims.id_token.acr`` (value/values), OIDC Core 5.5.1.1."""
    spec = ((claims_request or {}).get("id_token") or {}).get("acr") or {}
    values = []
    if isinstance(spec.get("value"), str):
        values.append(spec["value"])
    if isinstance(spec.get("values"), list):
        values += [v for v in spec["values"] if isinstance(v, str)]
    return values


def prune_claims_request(claims_request: dict | None, allowed: set[str]) -> dict | None:
    """Keep only the claims the client may have now, so the stored request never grows if its scopes do later."""
    if not claims_request:
        return claims_request
    return {target: {name: spec for name, spec in members.items() if name in allowed}
            for target, members in claims_request.items()}


def claims_for_scopes(scopes: list[str]) -> list[str]:
    names: list[str] = []
    for scope in scopes:
        for name in SCOPE_CLAIMS.get(scope, ((), None))[0]:
            if name not in names:
                names.append(name)
    return names


def claims_allowed_by_client(client_scopes: list[str]) -> set[str]:
    return set(claims_for_scopes(client_scopes))


def approved_scope(granted: str, client) -> str:
    """The part of a grant's scope the client is still approved for.

    Applied wherever a grant is used (token, refresh, ID token, userinfo, introspection), so taking a
    scope away from a client reaches the grants it already holds (issue 6, defect 5).
    """
    allowed = set(client.scopes)
    return " ".join(s for s in (granted or "").split() if s in allowed)


def requested_claim_names(claims_request: dict | None, target: str, client) -> list[str]:
    """Claims named in the ``claims`` parameter for ``target``, limited to what the client's scopes allow."""
    members = (claims_request or {}).get(target) or {}
    allowed = claims_allowed_by_client(list(client.scopes))
    return [name for name in members if name in allowed]


def describe_claims(names: list[str]) -> list[str]:
    """What the consent and account pages list, in the page's language."""
    out = []
    for name in names:
        text = gettext(CLAIM_DESCRIPTIONS[name]) if name in CLAIM_DESCRIPTIONS else None
        if text and text not in out:
            out.append(text)
    return out


def gp_integration_allowed(vot: str | None) -> bool:
    """interface.md: gp_integration_credentials only with a 2-factor vector (the scope is the approval).

    ``Cm`` alone counts: a passkey is only accepted with user verification, so it is two factors in one.
    Released from userinfo only (``tokens.id_token`` leaves it out): an ID token travels back through
    browsers as ``id_token_hint``, and the linkage key must not.
    """
    level, *components = (vot or "P0").split(".")
    # The P in vot too: a service that asked for less than P9 is not given a P9 person's GP keys.
    return level == "P9" and (len(components) >= 2 or "Cm" in components)


def person_claims(person, client, names: list[str], metadata: str | None = None, vot: str | None = None) -> dict:
    """The values of ``names`` for this person, gated by their proofing level; missing ones omitted."""
    from ..proofing.person_record import gp_credentials

    level = ProofingLevel[person.proofing_level]
    minimum = {c: lvl for claims, lvl in SCOPE_CLAIMS.values() for c in claims}
    values = {
        "nhs_number": person.nhs_number,
        "family_name": person.family_name,
        "given_name": person.given_name,
        "birthdate": person.birthdate,
        "identity_proofing_level": person.proofing_level,
        "email": person.email,
        "email_verified": bool(person.email_verified) if person.email else None,
        "phone_number": person.phone_number,
        "phone_number_verified": bool(person.phone_number_verified) if person.phone_number else None,
        "phone_number_pds_matched": bool(person.phone_number_pds_matched) if person.phone_number else None,
        "landline_number": person.landline_number,
        "landline_number_verified": bool(person.landline_number_verified) if person.landline_number else None,
        # A restricted record's GP is never kept (proofing.person_record), so it cannot be released.
        "gp_registration_details": {"gp_ods_code": person.gp_ods_code} if person.gp_ods_code else None,
        "gp_integration_credentials": (gp_credentials(person) if "gp_integration_credentials" in names
                                       and gp_integration_allowed(vot) else None),
        "client_user_metadata": metadata,
    }
    out = {}
    for name in names:
        if name == "sub" or name not in values:
            continue
        if name in minimum and not level.satisfies(minimum[name]):
            continue
        if values[name] is not None and values[name] != "":
            out[name] = values[name]
    return out
