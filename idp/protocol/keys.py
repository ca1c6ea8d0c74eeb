"""The provider's signing keys: generated, rotated and published as data.

The newest active key of an algorithm signs; older keys stay in the JWKS
until every token they signed has expired (Hydra's model). Private keys are
stored encrypted with a key derived from IDP_SECRET_KEY.
"""
from __future__ import annotations

import json
import threading
import time

from cryptography.fernet import Fernet, InvalidToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey
from joserfc.jws import extract_compact

from .. import sealing
from ..clock import now
from ..extensions import db
from ..models import SigningKey

SUPPORTED_ALGS = ("RS512", "RS256", "PS256", "ES256")
_CACHE_SECONDS = 30


def _fernet(secret_key: str) -> Fernet:
    return sealing.fernet(secret_key, b"idp-signing-keys")


def generate_key(alg: str):
    """A fresh key for ``alg``: RSA 2048 for RS*/PS*, P-256 for ES256."""
    if alg not in SUPPORTED_ALGS:
        raise ValueError(f"unsupported signing algorithm {alg}")
    if alg == "ES256":
        return ECKey.generate_key("P-256")
    return RSAKey.generate_key(2048)


class KeyStore:
    """Reads and writes signing keys; keeps decrypted keys in a short per-process cache."""

    def __init__(self, settings):
        self.settings = settings
        self._fernet = _fernet(settings.secret_key)
        self._lock = threading.Lock()
        self._cache: tuple[float, dict, dict] | None = None  # (loaded_at, signing by alg, jwks)

    # --- writing -------------------------------------------------------------
    def add_key(self, alg: str, *, activates_at: int | None = None, development: bool = False, key=None) -> SigningKey:
        key = key or generate_key(alg)
        kid = key.thumbprint()
        public = dict(key.as_dict(private=False))
        public.update({"kid": kid, "use": "sig", "alg": alg})
        private = dict(key.as_dict(private=True))
        row = SigningKey(
            kid=kid,
            alg=alg,
            private_jwk_encrypted=self._fernet.encrypt(json.dumps(private).encode()).decode(),
            public_jwk=public,
            development=development,
            activates_at=now() if activates_at is None else activates_at,
        )
        db.session.add(row)
        db.session.commit()
        self.invalidate()
        return row

    def ensure_keys(self, development: bool, pregenerated: dict | None = None) -> list[SigningKey]:
        """Make sure every supported algorithm has a key that signs now (first run)."""
        created = []
        current = now()
        for alg in SUPPORTED_ALGS:
            exists = SigningKey.query.filter(
                SigningKey.alg == alg, SigningKey.activates_at <= current, SigningKey.deactivated_at.is_(None)
            ).first()
            if not exists:
                key = (pregenerated or {}).get(alg)
                created.append(self.add_key(alg, development=development, key=key))
        return created

    def rotate(self, alg: str, promote_after: int | None = None, development: bool = False,
               retire_now: bool = False) -> SigningKey:
        """Publish a new key now, let it sign after ``promote_after`` seconds, and schedule the old one's retirement.

        The old key keeps signing until the new one is promoted, then stays published for the longest
        token lifetime, so relying parties that cached the JWKS never meet an unknown ``kid``.
        """
        promote_after = self.settings.key_promote_after if promote_after is None else promote_after
        if retire_now:
            promote_after = 0  # going live: old (development) keys must not verify anything any more
        activates_at = now() + promote_after
        new = self.add_key(alg, activates_at=activates_at, development=development)
        retire_at = activates_at if retire_now else activates_at + self.settings.longest_jwt_lifetime
        for old in SigningKey.query.filter(
            SigningKey.alg == alg, SigningKey.kid != new.kid, SigningKey.deactivated_at.is_(None)
        ):
            old.deactivated_at = activates_at
            old.retire_at = retire_at
        db.session.commit()
        self.invalidate()
        return new

    def prune(self) -> int:
        """Delete keys that have left the JWKS."""
        count = SigningKey.query.filter(SigningKey.retire_at.isnot(None), SigningKey.retire_at <= now()).delete()
        db.session.commit()
        self.invalidate()
        return count

    # --- reading -------------------------------------------------------------
    def invalidate(self) -> None:
        with self._lock:
            self._cache = None

    def _load(self):
        with self._lock:
            cached = self._cache
            if cached and time.monotonic() - cached[0] < _CACHE_SECONDS:
                return cached
        current = now()
        rows = SigningKey.query.filter(
            (SigningKey.retire_at.is_(None)) | (SigningKey.retire_at > current)
        ).order_by(SigningKey.activates_at.desc(), SigningKey.created_at.desc()).all()
        signing: dict[str, tuple[str, object]] = {}
        verifying: dict[str, object] = {}
        published = []
        for row in rows:
            published.append(row.public_jwk)
            signs_now = row.activates_at <= current and (row.deactivated_at is None or row.deactivated_at > current)
            key = None
            if signs_now and row.alg not in signing:
                key = self._import_private(row)
                signing[row.alg] = (row.kid, key)
            verifying[row.kid] = (key or _import_public(row.public_jwk), row.alg)
        # A key scheduled to start or stop signing invalidates the cache at that moment.
        boundaries = [r.activates_at for r in rows if r.activates_at > current]
        boundaries += [r.deactivated_at for r in rows if r.deactivated_at and r.deactivated_at > current]
        boundaries += [r.retire_at for r in rows if r.retire_at and r.retire_at > current]
        loaded_at = time.monotonic()
        if boundaries:
            loaded_at -= max(0, _CACHE_SECONDS - (min(boundaries) - current))
        cached = (loaded_at, signing, {"keys": published}, verifying)
        with self._lock:
            self._cache = cached
        return cached

    def _import_private(self, row: SigningKey):
        try:
            data = json.loads(self._fernet.decrypt(row.private_jwk_encrypted.encode()))
        except InvalidToken:
            raise RuntimeError(
                f"signing key {row.kid} cannot be decrypted: IDP_SECRET_KEY changed since it was made"
            ) from None
        data["kid"] = row.kid
        return _import_public(data)

    def signing_key(self, alg: str):
        """(kid, key) that signs ``alg`` now."""
        _, signing, _, _ = self._load()
        if alg not in signing:
            raise RuntimeError(f"no active signing key for {alg}: run `idp keys rotate --alg {alg}`")
        return signing[alg]

    def jwks(self) -> dict:
        return self._load()[2]

    def verification_key(self, kid: str):
        found = self._load()[3].get(kid)
        return found[0] if found else None

    def read_own_jwt(self, token: str, typ: tuple[str | None, ...]) -> dict:
        """Claims of a JWT this provider signed, verified with the key its ``kid`` names and ONLY that key's
        algorithm (never the header's word for it: no ``none``, no alg confusion), of an expected ``typ``.
        Expiry is the caller's business (an expired ID token is still a valid hint). Raises ValueError."""
        if not isinstance(token, str) or len(token) > 8192 or token.count(".") != 2:
            raise ValueError("not a compact JWS")
        try:
            header = extract_compact(token.encode()).headers()
        except (JoseError, ValueError, TypeError):
            raise ValueError("not a compact JWS") from None
        found = self._load()[3].get(header.get("kid")) if isinstance(header.get("kid"), str) else None
        if found is None or header.get("alg") != found[1] or header.get("typ") not in typ:
            raise ValueError("not signed by one of our keys, or not the expected kind of token")
        try:
            return jwt.decode(token, found[0], algorithms=[found[1]]).claims
        except (JoseError, ValueError, TypeError):
            raise ValueError("signature or claims invalid") from None

    def development_keys_in_use(self) -> bool:
        current = now()
        return (
            SigningKey.query.filter(
                SigningKey.development.is_(True),
                (SigningKey.retire_at.is_(None)) | (SigningKey.retire_at > current),
            ).first()
            is not None
        )


def _import_public(data: dict):
    if data.get("kty") == "EC":
        return ECKey.import_key(data)
    return RSAKey.import_key(data)
