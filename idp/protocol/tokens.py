"""Minting the provider's JWTs: ID tokens, access tokens (RFC 9068) and logout tokens.

Every token carries ``jti``; access and ID tokens are also recorded (revocation; asserted_login_identity).
"""
from __future__ import annotations

import base64
import hashlib
import secrets
import uuid

from joserfc import jwt
from sqlalchemy import insert

from ..clock import now
from ..extensions import db
from ..models import IssuedToken, Person
from ..models.grants import token_hash
from .claims import claims_for_scopes, person_claims, requested_claim_names
from .subjects import session_id_for, subject_for

BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
_HASH_FOR_ALG = {"256": hashlib.sha256, "384": hashlib.sha384, "512": hashlib.sha512}


def half_hash(value: str, alg: str) -> str:
    """``at_hash``/``c_hash``: left half of the hash named by the alg, base64url (OIDC Core 3.1.3.6)."""
    digest = _HASH_FOR_ALG[alg[-3:]](value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


class TokenIssuer:
    def __init__(self, settings, keystore):
        self.settings = settings
        self.keystore = keystore

    @property
    def trustmark(self) -> str:
        return f"{self.settings.issuer}/trustmark"

    def sign(self, claims: dict, alg: str, typ: str = "JWT") -> str:
        kid, key = self.keystore.signing_key(alg)
        return jwt.encode({"alg": alg, "kid": kid, "typ": typ}, claims, key, algorithms=[alg])

    # --- ID token ------------------------------------------------------------
    def id_token(self, *, client, person: Person, scope: str, auth_time: int, vot: str, nonce=None,
                 sid=None, claims_request=None, access_token=None, acr_requested=False, grant_id=None) -> str:
        issued = now()
        claims = {
            "iss": self.settings.issuer,
            "sub": subject_for(person, client),
            "aud": client.client_id,
            "iat": issued,
            "exp": issued + self.settings.id_token_ttl,
            "jti": str(uuid.uuid4()),
            "auth_time": auth_time,
            "vot": vot,
            "vtm": self.trustmark,
        }
        if nonce:
            claims["nonce"] = nonce
        if sid:
            claims["sid"] = session_id_for(sid, client)
        if acr_requested:
            claims["acr"] = vot
        if access_token:
            claims["at_hash"] = half_hash(access_token, client.id_token_alg)
        names = claims_for_scopes(scope.split()) + requested_claim_names(claims_request, "id_token", client)
        names = [n for n in names if n != "gp_integration_credentials"]  # userinfo only (claims.py)
        claims.update(person_claims(person, client, names, vot=vot))
        # Recorded so an approved partner can name it in asserted_login_identity (protocol/asserted_login.py).
        _record(
            id=claims["jti"], kind="id", grant_id=grant_id, client_id=client.client_id, person_id=person.id,
            scope=scope, vot=vot, auth_time=auth_time, issued_at=issued, expires_at=claims["exp"],
        )
        return self.sign(claims, client.id_token_alg)

    # --- access and refresh tokens ------------------------------------------
    def access_token(self, *, client, person: Person | None, grant_id: str | None, scope: str, vot: str | None,
                     auth_time: int | None, claims_request=None, ttl: int | None = None) -> tuple[str, int]:
        issued = now()
        jti = str(uuid.uuid4())
        ttl = ttl or self.settings.access_token_ttl
        expires_at = issued + ttl
        claims = {
            "iss": self.settings.issuer,
            "sub": subject_for(person, client) if person else client.client_id,
            "aud": self.settings.issuer,
            "client_id": client.client_id,
            "iat": issued,
            "exp": expires_at,
            "jti": jti,
            "scope": scope,
        }
        if auth_time is not None:
            claims["auth_time"] = auth_time
        if vot:
            claims.update({"vot": vot, "vtm": self.trustmark})
        _record(
            id=jti, kind="access", grant_id=grant_id, client_id=client.client_id,
            person_id=person.id if person else None, scope=scope, vot=vot, auth_time=auth_time,
            claims_request=claims_request, issued_at=issued, expires_at=expires_at,
        )
        return self.sign(claims, self.settings.access_token_alg, typ="at+jwt"), ttl

    def refresh_token(self, *, client, person: Person, grant_id: str, scope: str, vot: str, auth_time: int,
                      claims_request=None, expires_at: int | None = None) -> str:
        """An opaque refresh token; ``expires_at`` carries a rotated token's lifetime on unchanged."""
        value = secrets.token_urlsafe(48)
        issued = now()
        _record(
            id=token_hash(value), kind="refresh", grant_id=grant_id, client_id=client.client_id,
            person_id=person.id, scope=scope, vot=vot, auth_time=auth_time, claims_request=claims_request,
            issued_at=issued, expires_at=expires_at or issued + self.settings.refresh_token_ttl,
        )
        return value

    # --- back-channel logout -------------------------------------------------
    def logout_token(self, *, client, person: Person | None, sid: str | None) -> str:
        """OIDC Back-Channel Logout 1.0 section 2.4."""
        issued = now()
        claims = {
            "iss": self.settings.issuer,
            "aud": client.client_id,
            "iat": issued,
            "exp": issued + 120,
            "jti": str(uuid.uuid4()),
            "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
        }
        if person is not None:
            claims["sub"] = subject_for(person, client)
        if sid:
            claims["sid"] = session_id_for(sid, client)
        return self.sign(claims, client.id_token_alg, typ="logout+jwt")


_INSERT_TOKEN = insert(IssuedToken.__table__)  # built once; executed with a parameter dict


def _record(**values) -> None:
    """Record an issued token (a Core insert: the token endpoint's hot path)."""
    values.setdefault("claims_request", None)
    values.setdefault("grant_id", None)
    db.session.execute(_INSERT_TOKEN, {"revoked_at": None, "rotated_at": None, **values})

