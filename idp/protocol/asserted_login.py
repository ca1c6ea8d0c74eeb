"""``asserted_login_identity``: single sign-on from one approved client to another (interface.md
"Authorization request"; NHS login "Single Sign On").

Client A hands client B a JWT signed with A's registered key: ``iss`` A's client_id, ``aud`` [issuer,
B's client_id], ``code`` the ``jti`` of an ID token we issued to A, ``iat``, ``jti``, ``exp`` at most 60 s
ahead; single use. When B lists A in its ``sso_partners``, the assertion names B, and the browser
session behind that ID token is still live, the person counts as logged in for B's request with the ID
token's ``auth_time`` and the components of its ``vot``; the usual checks (prompt, max_age,
id_token_hint, vtr, consent) then run on that login.

Choices:
- An assertion we cannot accept is ignored, as a missing session cookie is: NHS login documents
  the parameter as SSO "where cookie-based SSO is not available", with ``prompt`` deciding what
  happens without SSO (log in, or ``login_required`` for ``prompt=none``). An expired or replayed
  assertion (the person pressed back) then costs a login, not a dead end; the reason is audited.
- It never creates a login session in this browser: the assertion is spent on one authorization
  request, so a later request from any client here still needs a login. The accepted login is
  kept with the parked request only (its own field, never among the request's parameters), for the
  consent page and the resume, and only while A's browser session lasts.
- Whoever holds the browser is not necessarily the person, so consent given on an asserted login
  covers that one request and is not remembered (README "Single sign-on between services").
- B's grant carries the sid of the browser session A's login came from, so logging out there
  also notifies B (back-channel logout).
"""
from __future__ import annotations

import json

from flask import current_app
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jws import extract_compact

from ..authentication import Login, current_login, session_is_live
from ..clock import now
from ..events import emit
from ..extensions import db
from ..levels import InvalidVectorError, VectorOfTrust
from ..models import Client, IssuedToken, UsedAssertion
from .client_auth import ASSERTION_ALGS
from .client_keys import ClientKeyError, verification_keys
from .jwt_rules import numeric_dates_ok

PARAMETER = "asserted_login_identity"
MAX_LIFETIME = 60  # NHS login: "exp no longer than 60 seconds"
CLOCK_SKEW = 10
MAX_LENGTH = 8192
JTI_PREFIX = "ali:"  # shares the replay table with client assertions, in a namespace of its own


class AssertionRefused(Exception):
    """An asserted_login_identity we do not accept; the message is the audited reason."""


def accept(value: str, client: Client, settings) -> Login:
    """Verify an asserted_login_identity sent by ``client`` (B); returns the login it stands for."""
    partner, alg, kid = _partner(value, client)
    try:
        key = verification_keys(partner, kid, timeout=settings.outbound_timeout_seconds,
                                max_age=settings.jwks_uri_cache_seconds)
        claims = jwt.decode(value, key, algorithms=[alg]).claims
    except ClientKeyError as exc:
        raise AssertionRefused(f"partner key: {exc}") from None
    except (JoseError, ValueError, TypeError, OverflowError):
        raise AssertionRefused("signature does not verify with the partner's key") from None
    if not numeric_dates_ok(claims):
        raise AssertionRefused("iat and exp must be numeric dates")
    _check_claims(claims, partner, client, settings)
    token = db.session.get(IssuedToken, claims["code"])
    # The code names an ID token we issued to the partner itself, still live and not revoked.
    if token is None or token.kind != "id" or token.client_id != partner.client_id or not token.is_active():
        raise AssertionRefused("code is not a live ID token issued to the partner")
    sid = token.grant.sid if token.grant is not None else None
    # The person must still be logged in where the partner's ID token came from (logout ends it).
    if not session_is_live(sid):
        raise AssertionRefused("the browser session behind the ID token has ended")
    try:
        components = tuple(sorted(VectorOfTrust.parse(token.vot).components))
    except InvalidVectorError:
        raise AssertionRefused("the ID token has no usable vot") from None
    _spend(partner.client_id, claims["jti"], int(claims["exp"]))
    return Login.of(token.person_id, dict.fromkeys(components, int(token.auth_time)), sid)


def _partner(value: str, client: Client) -> tuple[Client, str, str | None]:
    if not isinstance(value, str) or len(value) > MAX_LENGTH:
        raise AssertionRefused("not a compact JWS")
    try:
        compact = extract_compact(value.encode())
        header = compact.headers()
        issuer = json.loads(compact.payload).get("iss")
    except (JoseError, ValueError, TypeError, AttributeError):
        raise AssertionRefused("not a compact JWS") from None
    # Only a partner B was approved to trust may log people in to B.
    if not isinstance(issuer, str) or issuer not in (client.sso_partners or []):
        raise AssertionRefused("iss is not an SSO partner of this client")
    partner = Client.find(issuer)
    if partner is None:
        raise AssertionRefused("iss is not a registered client")
    alg, kid = header.get("alg"), header.get("kid")
    # Never "none" and never HMAC: only the partner's private key may sign (NHS login: "signed by RP1").
    if alg not in ASSERTION_ALGS:
        raise AssertionRefused(f"alg must be one of {', '.join(ASSERTION_ALGS)}")
    if kid is not None and not isinstance(kid, str):
        raise AssertionRefused("kid must be a string")
    return partner, alg, kid


def _check_claims(claims: dict, partner: Client, client: Client, settings) -> None:
    """RFC 7519 4.1 claims as interface.md requires them: iss, aud, code, jti, iat, exp at most 60 s ahead."""
    current = now()
    if claims.get("iss") != partner.client_id:
        raise AssertionRefused("iss changed")
    for name in ("code", "jti"):
        if not isinstance(claims.get(name), str) or not claims[name] or len(claims[name]) > 190:
            raise AssertionRefused(f"{name} must be a non-empty string")
    iat, exp = claims.get("iat"), claims.get("exp")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (iat, exp)):
        raise AssertionRefused("iat and exp must be numbers")
    # RFC 7519 4.1.4: not accepted on or after exp.
    if exp <= current - CLOCK_SKEW:
        raise AssertionRefused("expired")
    if exp - current > MAX_LIFETIME + CLOCK_SKEW or exp - iat > MAX_LIFETIME or iat > current + CLOCK_SKEW:
        raise AssertionRefused(f"exp must be at most {MAX_LIFETIME} seconds after iat and now")
    # aud binds the assertion to this provider and to the one client it was made for: nothing else.
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    ours = {settings.issuer, settings.issuer + "/"}
    if not any(a in ours for a in audiences if isinstance(a, str)) or client.client_id not in audiences:
        raise AssertionRefused("aud must name this provider and the receiving client")
    if any(not isinstance(a, str) or a not in ours | {client.client_id} for a in audiences):
        raise AssertionRefused("aud names someone other than this provider and the receiving client")


def _spend(partner_id: str, jti: str, exp: int) -> None:
    """Single use across every process: the (client_id, jti) key is the lock (as client_auth.validate_jti)."""
    if not UsedAssertion.spend(partner_id, JTI_PREFIX + jti, exp + CLOCK_SKEW):
        raise AssertionRefused("already used")


# --- the parked request ---------------------------------------------------------------------
def login_from_assertion(params: dict, interaction, client: Client) -> Login | None:
    """The login an assertion stands for in this request, or None (then the browser's own login applies).

    A fresh request verifies the parameter (and drops it: a spent credential is not parked); a
    resumed one reads the login parked with the request (``parked``), while its session lasts. A
    login the person finished inside the request wins over both.
    """
    if interaction:
        return parked_login(interaction)
    value = params.pop(PARAMETER, None)
    if not value:
        return None
    try:
        login = accept(value, client, current_app.extensions["idp"].settings)
    except AssertionRefused as refused:
        emit("asserted_login.refused", client_id=client.client_id, reason=str(refused))
        return None
    emit("asserted_login.accepted", client_id=client.client_id, person_id=login.person_id)
    return login


def parked(login: Login) -> dict:
    """What ``interactions.start`` keeps of an accepted assertion's login."""
    return {"person_id": login.person_id, "auth_time": login.auth_time, "components": list(login.components),
            "sid": login.sid}


def parked_login(interaction) -> Login | None:
    """The accepted assertion's login a parked request runs with, if any and its browser session is live."""
    value = interaction.asserted_login if interaction is not None else None
    if not isinstance(value, dict) or interaction.logged_in_as or not session_is_live(value.get("sid")):
        return None
    return Login.of(value["person_id"], dict.fromkeys(value["components"], value["auth_time"]), value["sid"])


def login_for_interaction(record) -> Login | None:
    """The login a parked request runs with: an accepted assertion's, else this browser's (consent page)."""
    return parked_login(record) or current_login()
