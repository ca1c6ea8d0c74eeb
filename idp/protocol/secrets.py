"""Client secrets for the opt-in ``client_secret_*`` methods: shown once, stored as a hash."""
import hashlib
import hmac
import secrets


def new_client_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_client_secret(secret: str) -> str:
    # A high-entropy random secret needs no slow hash; SHA-256 keeps /token fast.
    return "sha256$" + hashlib.sha256(secret.encode()).hexdigest()


def verify_client_secret(stored: str, candidate: str | None) -> bool:
    # Bad input is a mismatch, never a crash: metadata may carry any JSON value here.
    if not isinstance(candidate, str) or not candidate or not stored.startswith("sha256$"):
        return False
    return hmac.compare_digest(stored, hash_client_secret(candidate))
