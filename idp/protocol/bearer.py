"""Reading access tokens presented back to us (userinfo, revocation, introspection)."""
from __future__ import annotations

from ..clock import now
from ..extensions import db
from ..models import IssuedToken

MAX_TOKEN_LENGTH = 4096


def read_access_token(value: str | None, keystore, issuer: str) -> IssuedToken | None:
    """The record of a valid, unexpired, unrevoked access token we issued; None for anything else."""
    if not value or len(value) > MAX_TOKEN_LENGTH or value.count(".") != 2:
        return None
    try:
        claims = keystore.read_own_jwt(value, typ=("at+jwt",))
    except ValueError:
        return None
    if claims.get("iss") != issuer or not isinstance(claims.get("exp"), int) or claims["exp"] <= now():
        return None
    jti = claims.get("jti")
    row = db.session.get(IssuedToken, jti) if isinstance(jti, str) else None
    if row is None or row.kind != "access" or not row.is_active():
        return None
    return row
